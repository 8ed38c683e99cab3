/**
 * Issue 10, items 5-11: bounded memory for any labels per input, no leaked temporaries, the
 * inferred target kind said out loud, FIMKIT_THREADS checked, float32 overflow and NaN inputs
 * named, dtypes checked, and the conventions (csv/json split, joint variance, σ²) chosen by the
 * user and independent of how a path is spelled.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FimkitError } from '../src/core/errors.js';
import { allocArray } from '../src/core/dtype.js';
import { Rng } from '../src/core/rng.js';
import { Tensor } from '../src/core/tensor.js';
import { makeSyntheticSplit } from '../src/data/synthetic.js';
import { subset, toDType, type Dataset } from '../src/data/dataset.js';
import { resolveDataset } from '../src/data/resolve.js';
import { computeFisher, computeFisherRaw } from '../src/fisher/compute.js';
import { makeLikelihood } from '../src/likelihoods/index.js';
import { buildModel, mlpSpec, saveModel } from '../src/nn/index.js';
import { train } from '../src/train/trainer.js';
import { jointVariances } from '../src/variance/conditional.js';
import { removeStaleTemporaries, writeFileAtomic } from '../src/io/atomic.js';
import { runCli } from '../src/cli/main.js';
import type { CliIO } from '../src/cli/command.js';

let dir: string;
before(() => { dir = mkdtempSync(join(tmpdir(), 'fimkit-misc-')); });
after(() => rmSync(dir, { recursive: true, force: true }));

async function cli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: CliIO = { stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s), isTTY: false }, env: {} };
  return { code: await runCli(argv, io), out, err };
}

const blobs = makeSyntheticSplit('blobs', { n: 40, k: 3, dim: 2, seed: 3 }).train;
const model = buildModel(mlpSpec([2, 5, 3], 'tanh'), new Rng(2), 'float64');
const cat = makeLikelihood('categorical');

test('item 5: any labels per input runs in bounded memory, in label chunks, with progress within the batch', () => {
  // 1e9 labels for one input: the old code drew them all at once (4 GB of labels, then 24 GB of
  // columns). Now the first chunk reports progress; the sentinel stops the run there.
  const sentinel = new Error('stopped after the first label chunk');
  const before = process.memoryUsage().rss;
  assert.throws(() => computeFisherRaw(model, cat, subset(blobs, [0]), {
    estimator: 'i1', representation: 'diag', labelsPerInput: 1_000_000_000,
    onProgress: () => { throw sentinel; },
  }), (e: unknown) => e === sentinel);
  assert.ok(process.memoryUsage().rss - before < 512 * 2 ** 20, 'well under the GBs the labels would take');
  // Several chunks still estimate the FIM: 20 000 labels per input (4 chunks here) vs exact.
  const data = subset(blobs, Array.from({ length: 30 }, (_, i) => i));
  const exact = computeFisherRaw(model, cat, data, { estimator: 'exact', representation: 'diag' }).acc.diag!;
  for (const estimator of ['i1', 'i2'] as const) {
    let calls = 0;
    const est = computeFisherRaw(model, cat, data, { estimator, representation: 'diag', labelsPerInput: 20_000, seed: 5, onProgress: () => { calls++; } }).acc.diag!;
    assert.ok(calls > 1, `${estimator}: progress within the one batch (${calls} calls)`);
    let num = 0, den = 0;
    for (let i = 0; i < exact.length; i++) { num += (est[i]! - exact[i]!) ** 2; den += exact[i]! ** 2; }
    // 600 000 labels in all: the relative error is O(1/√(labels)) ≈ 1e-3 times the estimator's spread.
    assert.ok(Math.sqrt(num / den) < 0.05, `${estimator} with chunked labels vs exact: ${Math.sqrt(num / den)}`);
  }
});

test('item 6: stale temporaries of a target are removed on its next write; a failed rename leaves none', () => {
  const target = join(dir, 'checkpoint.json');
  // A pid that is certainly dead: a child that has exited.
  const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  const deadPid = Number(dead.stdout);
  const stale = join(dir, `.checkpoint.json.${deadPid}.1700000000000.tmp`);
  const alive = join(dir, `.checkpoint.json.${process.ppid}.1700000000000.tmp`);
  const other = join(dir, `.other.json.${deadPid}.1700000000000.tmp`);
  for (const p of [stale, alive, other]) writeFileSync(p, 'x'.repeat(1000));
  writeFileAtomic(target, '{"ok":true}\n');
  assert.ok(!existsSync(stale), 'the dead process\'s temporary is gone');
  assert.ok(existsSync(alive), 'a live process\'s temporary is left alone');
  assert.ok(existsSync(other), 'another target\'s temporary is left alone');
  assert.deepEqual(removeStaleTemporaries(join(dir, 'other.json')), [`.other.json.${deadPid}.1700000000000.tmp`]);
  // A rename onto a non-empty directory fails: the new temporary is removed, the error surfaces.
  const blocked = join(dir, 'blocked');
  mkdirSync(blocked);
  writeFileSync(join(blocked, 'x'), 'x');
  assert.throws(() => writeFileAtomic(blocked, 'data'));
  assert.deepEqual(readdirSync(dir).filter((n) => n.startsWith('.blocked.')), []);
});

test('item 7: the inferred target kind is said, and the row that ruled out class labels is named', async () => {
  const csv = join(dir, 'labels.csv');
  writeFileSync(csv, 'a,b,label\n' + Array.from({ length: 20 }, (_, i) => `${i / 10},${1 - i / 10},${i === 13 ? -1 : i % 3}`).join('\n') + '\n');
  const notes: string[] = [];
  const split = await resolveDataset(`csv:${csv}`, { log: (m) => notes.push(m) });
  assert.equal(split.train.targetKind, 'real');
  assert.match(notes.join('\n'), /read as real values \(gaussian likelihood, regression\): row 14 \(line 15\), column 'label' has -1, which is not a class label/);
  const good = join(dir, 'good.csv');
  writeFileSync(good, 'a,label\n1,0\n2,1\n3,2\n4,1\n5,0\n');
  const notes2: string[] = [];
  await resolveDataset(`csv:${good}`, { log: (m) => notes2.push(m) });
  assert.match(notes2.join('\n'), /read as class labels .* categorical/);
  const json = join(dir, 'd.json');
  writeFileSync(json, JSON.stringify({ inputs: [[1], [2], [3], [4]], targets: [0, 1, 1.5, 0] }));
  const notes3: string[] = [];
  await resolveDataset(`json:${json}`, { log: (m) => notes3.push(m) });
  assert.match(notes3.join('\n'), /targets\[2\] has 1\.5/);
});

test('item 8: an invalid FIMKIT_THREADS is an error, not a silent drop to the ts backend', () => {
  const mod = new URL('../src/core/backends/index.js', import.meta.url).href;
  for (const bad of ['abc', '0', '-2', '1.5']) {
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', `const m = await import(${JSON.stringify(mod)}); console.log(m.getBackend().name);`], {
      encoding: 'utf8', env: { ...process.env, FIMKIT_THREADS: bad, FIMKIT_BACKEND: '' },
    });
    assert.notEqual(r.status, 0, `FIMKIT_THREADS=${bad} gave backend ${r.stdout.trim()}`);
    assert.match(r.stderr, new RegExp(`FIMKIT_THREADS must be an integer between 1 and 1024, got '${bad.replace('.', '\\.')}'`));
  }
  const ok = spawnSync(process.execPath, ['--input-type=module', '-e', `const m = await import(${JSON.stringify(mod)}); console.log(m.getBackend().name);`], { encoding: 'utf8', env: { ...process.env, FIMKIT_THREADS: '1', FIMKIT_BACKEND: '' } });
  assert.equal(ok.status, 0, ok.stderr);
});

test('item 9: an input that overflows float32 is named with its dtype, not reported as divergence', async () => {
  const inputs = Float64Array.from(blobs.inputs);
  inputs[2 * 7 + 1] = 1.7e308;
  const bad: Dataset = { ...blobs, inputs };
  const m32 = buildModel(mlpSpec([2, 5, 3], 'relu'), new Rng(1), 'float32');
  const re = /sample 7, feature 1 is 1\.7e\+308, which overflows float32/;
  await assert.rejects(train({ model: m32, likelihood: cat, train: bad, optimizer: { name: 'sgd', lr: 0.1 }, epochs: 1, batchSize: 8, seed: 0 }),
    (e: unknown) => e instanceof FimkitError && e.code === 'NON_FINITE' && re.test(e.message));
  assert.throws(() => computeFisher(m32, cat, bad, { estimator: 'exact', representation: 'diag' }), re);
  // float64 holds it: no overflow error (the model is simply evaluated).
  const m64 = buildModel(mlpSpec([2, 5, 3], 'tanh'), new Rng(1), 'float64');
  assert.doesNotThrow(() => computeFisher(m64, cat, subset(bad, [0, 1]), { estimator: 'exact', representation: 'diag' }));
});

test('item 10: NaN inputs are refused by forward; unknown dtypes by Tensor, allocArray and toDType', () => {
  const m = buildModel(mlpSpec([2, 4, 3], 'relu'), new Rng(1), 'float64');
  const x = new Tensor(Float64Array.of(0.5, NaN, 1, 2), [2, 2]);
  assert.throws(() => m.forward(x), (e: unknown) => e instanceof FimkitError && e.code === 'NON_FINITE' && /input sample 0, feature 1 is NaN/.test(e.message));
  assert.throws(() => new Tensor(Int32Array.of(1, 2) as never, [2]), (e: unknown) => e instanceof FimkitError && e.code === 'DTYPE' && /Int32Array/.test(e.message));
  assert.throws(() => allocArray('float16' as never, 3), /dtype must be 'float32' or 'float64', got 'float16'/);
  assert.throws(() => toDType(blobs, 'float16' as never), (e: unknown) => e instanceof FimkitError && e.code === 'DTYPE' && /toDType: dtype .* 'float16'/.test(e.message));
  assert.equal(toDType(blobs, 'float32').inputs.constructor, Float32Array);
});

test('item 11: the csv split depends on the content and the seed, not on the path; --split none|F', async () => {
  const sub = join(dir, 'sub');
  mkdirSync(sub);
  const csv = join(sub, 'rows.csv');
  writeFileSync(csv, 'x,label\n' + Array.from({ length: 50 }, (_, i) => `${i},${i % 2}`).join('\n') + '\n');
  symlinkSync(csv, join(dir, 'link.csv'));
  const spellings = [csv, join(sub, '.', 'rows.csv'), join(dir, 'sub', '..', 'sub', 'rows.csv'), join(dir, 'link.csv')];
  const firsts = await Promise.all(spellings.map(async (p) => Array.from((await resolveDataset(`csv:${p}`)).train.inputs).join(',')));
  for (const f of firsts) assert.equal(f, firsts[0]);
  // A copy elsewhere: the same content, the same rows.
  const copy = join(dir, 'copy.csv');
  writeFileSync(copy, 'x,label\n' + Array.from({ length: 50 }, (_, i) => `${i},${i % 2}`).join('\n') + '\n');
  assert.equal(Array.from((await resolveDataset(`csv:${copy}`)).train.inputs).join(','), firsts[0]);
  const other = Array.from((await resolveDataset(`csv:${csv}`, { seed: 1 })).train.inputs).join(',');
  assert.notEqual(other, firsts[0]);
  const none = await resolveDataset(`csv:${csv}`, { split: 'none' });
  assert.deepEqual(Array.from(none.train.inputs), Array.from({ length: 50 }, (_, i) => i));
  assert.equal(none.test.length, 50);
  const half = await resolveDataset(`csv:${csv}`, { split: 0.5 });
  assert.equal(half.train.length, 25);
  await assert.rejects(resolveDataset(`csv:${csv}`, { split: 1.2 }), /option 'split' must be 'none' or a training fraction/);
  // The CLI flags reach it.
  const r = await cli(['train', '--data', `csv:${csv}`, '--arch', '1-2', '--epochs', '1', '--split', 'none', '--out', join(dir, 'run-none'), '--json', '--quiet']);
  assert.equal(r.code, 0, r.err);
  assert.match(r.err + r.out, /50 train, 50 test|"test-data": ".* \(50 samples\)"/);
  const badSplit = await cli(['train', '--data', `csv:${csv}`, '--split', '1.5', '--out', join(dir, 'x')]);
  assert.equal(badSplit.code, 2);
  assert.match(badSplit.err, /--split takes 'none' or a training fraction in \(0, 1\), got '1\.5'/);
});

test("item 11: joint variance conventions: 'sampled' (inputs drawn with replacement) and 'fixed' (fisher --mode joint), against Monte Carlo", () => {
  const data = subset(blobs, Array.from({ length: 12 }, (_, i) => i));
  const sampled = jointVariances(model, cat, data, { labelsPerInput: 2 });
  const fixed = jointVariances(model, cat, data, { labelsPerInput: 2, inputs: 'fixed' });
  assert.equal(sampled.convention, 'sampled');
  assert.equal(fixed.convention, 'fixed');
  for (let i = 0; i < fixed.P; i++) {
    assert.ok(Math.abs(fixed.v1[i]! - sampled.meanV1[i]! / 12) <= 1e-12 * Math.abs(fixed.v1[i]!) + 1e-300);
    assert.ok(Math.abs(sampled.v1[i]! - (sampled.fimVarOverInputs[i]! + sampled.meanV1[i]!) / 12) <= 1e-12 * sampled.v1[i]! + 1e-300);
  }
  // Monte Carlo: Î1 over these 12 fixed inputs, M seeds: its variance is the 'fixed' one.
  const M = 300;
  const reps: Float64Array[] = [];
  for (let m = 0; m < M; m++) reps.push(computeFisherRaw(model, cat, data, { estimator: 'i1', representation: 'diag', labelsPerInput: 2, seed: 1000 + m }).acc.diag!);
  let sv = 0, cf = 0, cs = 0;
  for (let i = 0; i < fixed.P; i++) {
    let mu = 0;
    for (const r of reps) mu += r[i]! / M;
    let v = 0;
    for (const r of reps) v += (r[i]! - mu) ** 2 / (M - 1);
    sv += v; cf += fixed.v1[i]!; cs += sampled.v1[i]!;
  }
  // Summed over parameters the sample variance's relative s.e. is below √(2/(M−1)) ≈ 0.08.
  assert.ok(Math.abs(sv / cf - 1) < 0.25, `fixed: sample ${sv} vs closed form ${cf}`);
  assert.ok(cs > cf, 'the sampled convention adds Var_q I');
  assert.throws(() => jointVariances(model, cat, data, { inputs: 'fixed', inputsPerEstimate: 5 }), /inputsPerEstimate 5 does not apply/);
});

test('item 11: fimkit variance states its convention; --joint-inputs fixed; --sigma2 sets the Gaussian σ²', async () => {
  const mpath = join(dir, 'm.json');
  saveModel(mpath, buildModel(mlpSpec([4, 5, 3], 'tanh'), new Rng(1), 'float64'));
  const DATA = 'synthetic:blobs?k=3&dim=4&n=30';
  const s = await cli(['variance', '--model', mpath, '--data', DATA, '--mode', 'joint', '--out', join(dir, 'vs.json'), '--quiet']);
  assert.equal(s.code, 0, s.err);
  assert.match(s.out, /V1, V2: joint variance of an estimate over N_x inputs drawn from the data with replacement/);
  const f = await cli(['variance', '--model', mpath, '--data', DATA, '--mode', 'joint', '--joint-inputs', 'fixed', '--out', join(dir, 'vf.json'), '--json', '--quiet']);
  assert.equal(f.code, 0, f.err);
  assert.equal(JSON.parse(f.out).meta.convention, 'fixed');
  // σ²: the Gaussian FIM is Jᵀ J / σ², so σ² = 4 quarters the trace.
  const gpath = join(dir, 'g.json');
  saveModel(gpath, buildModel(mlpSpec([2, 4, 1], 'tanh'), new Rng(1), 'float64'));
  const G = 'synthetic:linear-gaussian?n=20';
  const one = await cli(['fisher', '--model', gpath, '--data', G, '--out', join(dir, 'g1.json'), '--json', '--quiet']);
  const four = await cli(['fisher', '--model', gpath, '--data', G, '--sigma2', '4', '--out', join(dir, 'g4.json'), '--json', '--quiet']);
  assert.equal(one.code, 0, one.err);
  assert.equal(four.code, 0, four.err);
  const t1 = JSON.parse(one.out).summary.total.trace as number, t4 = JSON.parse(four.out).summary.total.trace as number;
  assert.ok(Math.abs(t4 * 4 - t1) <= 1e-10 * t1, `${t1} vs 4·${t4}`);
  const wrong = await cli(['fisher', '--model', mpath, '--data', DATA, '--sigma2', '2', '--out', join(dir, 'x.json')]);
  assert.equal(wrong.code, 2);
  assert.match(wrong.err, /--sigma2 sets the Gaussian likelihood's variance; the likelihood here is categorical/);
});

