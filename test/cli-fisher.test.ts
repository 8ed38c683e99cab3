import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '../src/core/rng.js';
import { resolveDataset, subset, type Dataset } from '../src/data/index.js';
import { computeFisher, type FisherOptions } from '../src/fisher/compute.js';
import { loadFisher } from '../src/fisher/files.js';
import { makeLayout } from '../src/fisher/layout.js';
import type { EstimatorName, Representation } from '../src/fisher/matrix.js';
import { summarizeDiagonal, type FisherSummary } from '../src/fisher/summary.js';
import { makeLikelihood } from '../src/likelihoods/index.js';
import { buildModel, loadModel, mlpSpec, saveModel, type ActivationName } from '../src/nn/index.js';
import { runCli } from '../src/cli/main.js';
import type { CliIO } from '../src/cli/command.js';

// Small enough that every CLI run below takes milliseconds.
const DATA = 'synthetic:blobs?k=3&n=24&seed=5';
const N = 24;

function capture(opts: { tty?: boolean } = {}): { io: CliIO; out: () => string; err: () => string } {
  let out = '';
  let err = '';
  return {
    io: { stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s), isTTY: opts.tty === true }, env: {} },
    out: () => out,
    err: () => err,
  };
}

async function cli(argv: string[], opts: { tty?: boolean } = {}): Promise<{ code: number; out: string; err: string }> {
  const c = capture(opts);
  const code = await runCli(argv, c.io);
  return { code, out: c.out(), err: c.err() };
}

/** Largest |a − b| relative to the largest |b|. */
function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length, 'vector lengths');
  let num = 0;
  let den = 0;
  for (let i = 0; i < b.length; i++) {
    num = Math.max(num, Math.abs(a[i]! - b[i]!));
    den = Math.max(den, Math.abs(b[i]!));
  }
  return den === 0 ? num : num / den;
}

let dir: string;
let data: Dataset;

function writeModel(name: string, sizes: number[], activation: ActivationName, seed: number): string {
  const path = join(dir, name);
  saveModel(path, buildModel(mlpSpec(sizes, activation), new Rng(seed).derive('init'), 'float64'));
  return path;
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fimkit-cli-fisher-'));
  data = (await resolveDataset(DATA)).train;
  assert.equal(data.length, N);
});

after(() => rmSync(dir, { recursive: true, force: true }));

/** The library's own estimate, for the CLI's file to be compared with. */
function libraryDiag(modelPath: string, opts: FisherOptions, ds: Dataset = data): Float64Array {
  return computeFisher(loadModel(modelPath), makeLikelihood('categorical'), ds, opts).diag();
}

/** Checks a summary against the diagonal it describes, entry by entry. */
function checkSummary(s: FisherSummary, diag: Float64Array, groups: { label: string; offset: number; size: number }[]): void {
  assert.deepEqual(s.groups.map((g) => g.label), groups.map((g) => g.label));
  let traceSum = 0;
  s.groups.forEach((g, i) => {
    const slice = Array.from(diag.subarray(groups[i]!.offset, groups[i]!.offset + groups[i]!.size));
    const sliceSum = slice.reduce((a, b) => a + b, 0);
    assert.equal(g.params, slice.length, `${g.label} params`);
    assert.ok(Math.abs(g.trace - sliceSum) <= 1e-12 * Math.abs(sliceSum), `${g.label}: trace ${g.trace} vs slice sum ${sliceSum}`);
    assert.ok(Math.abs(g.mean - sliceSum / slice.length) <= 1e-12 * Math.abs(g.mean), `${g.label} mean`);
    assert.equal(g.max, Math.max(...slice), `${g.label} max`);
    assert.equal(g.min, Math.min(...slice), `${g.label} min`);
    traceSum += g.trace;
  });
  const all = Array.from(diag);
  assert.equal(s.total.params, diag.length);
  assert.ok(Math.abs(s.total.trace - traceSum) <= 1e-12 * Math.abs(traceSum), `layer traces ${traceSum} sum to the total ${s.total.trace}`);
  assert.equal(s.total.max, Math.max(...all));
  assert.equal(s.total.min, Math.min(...all));
}

test('every representation: the written file loads back, its diagonal is the library estimate, the summary adds up', async () => {
  const modelPath = writeModel('tanh.json', [2, 5, 3], 'tanh', 1);
  const cases: [EstimatorName, Representation][] = [
    ['exact', 'diag'],
    ['exact', 'block'],
    ['exact', 'kfac'],
    ['exact', 'dense'],
    ['exact', 'matfree'],
    ['i1', 'block'],
    ['i2', 'dense'],
    ['empirical', 'kfac'],
    ['hessian', 'diag'],
  ];
  for (const [estimator, repr] of cases) {
    const out = join(dir, `tanh-${estimator}-${repr}.json`);
    const mc = estimator === 'i1' || estimator === 'i2';
    const argv = ['fisher', '--model', modelPath, '--data', DATA, '--estimator', estimator, '--repr', repr, '--batch-size', '7', '--out', out, '--json', '--quiet'];
    if (mc) argv.push('--labels-per-input', '3', '--seed', '11');
    const r = await cli(argv);
    const what = `${estimator} ${repr}`;
    assert.equal(r.code, 0, `${what}: ${r.err}`);
    assert.equal(r.err, '', `${what}: --quiet leaves stderr empty`);

    const loaded = loadFisher(out);
    // A matrix-free estimate holds functions; its exact diagonal is what the file can keep.
    assert.equal(loaded.representation, repr === 'matfree' ? 'diag' : repr, what);
    assert.equal(loaded.meta.estimator, estimator);
    assert.equal(loaded.meta.numInputs, N);
    assert.equal(loaded.meta.labelsPerInput, mc ? 3 : null);
    assert.equal(loaded.meta.seed, mc ? 11 : null);
    assert.equal(loaded.meta.dtype, 'float64');
    const want = libraryDiag(modelPath, { estimator, representation: repr, batchSize: 7, ...(mc ? { labelsPerInput: 3, seed: 11 } : {}) });
    assert.ok(relErr(loaded.diag(), want) < 1e-12, `${what}: file diagonal vs computeFisher: ${relErr(loaded.diag(), want)}`);

    const report = JSON.parse(r.out) as { meta: { estimator: string; representation: string }; summary: FisherSummary; output: { path: string; representation: string } };
    assert.equal(report.meta.estimator, estimator);
    assert.equal(report.meta.representation, repr);
    assert.equal(report.output.path, out);
    assert.equal(report.output.representation, loaded.representation);
    checkSummary(report.summary, loaded.diag(), loaded.layout.groups);
  }
});

test('the text report shows the per-layer table and the metadata; progress goes to stderr', async () => {
  const modelPath = writeModel('relu.json', [2, 4, 3], 'relu', 2);
  const out = join(dir, 'relu-i2.json');
  // A terminal gets the in-place progress line.
  const r = await cli(['fisher', '--model', modelPath, '--data', DATA, '--estimator', 'i2', '--labels-per-input', '2', '--batch-size', '8', '--out', out], { tty: true });
  assert.equal(r.code, 0, r.err);
  assert.match(r.err, /fimkit fisher: i2 estimator, diag representation, categorical likelihood/);
  assert.match(r.err, /\rfisher i2 diag: +\d+\/24 inputs/);
  const m = loadFisher(out);
  const lines = r.out.split('\n');
  for (const g of m.layout.groups) {
    const row = lines.find((l) => l.startsWith(g.label + ' '));
    assert.ok(row !== undefined, `a row for layer ${g.label}`);
    assert.match(row, new RegExp(`^${g.label} +dense +${g.size} `));
  }
  assert.ok(lines.some((l) => /^total +model +\d+ /.test(l)), 'a total row');
  assert.match(r.out, /^estimator +i2: Î2, the negative Hessian of log p/m);
  assert.match(r.out, /^labels per input +2$/m);
  assert.match(r.out, /^inputs +24 \(joint mode, train split/m);
  assert.match(r.out, /^seed +0$/m);
  assert.match(r.out, /^dtype +float64$/m);
  assert.match(r.out, /^backend +\S+/m);
  assert.match(r.out, /^wall time +/m);
  assert.match(r.out, /^scaling +mean/m);
  assert.match(r.out, /^notes +piecewise-linear activations/m);
  assert.ok(r.out.includes(`wrote ${out}`));
  // What the note claims: for a relu net Î2's diagonal equals the exact FIM's, whatever labels were drawn.
  const exact = libraryDiag(modelPath, { estimator: 'exact', representation: 'diag' });
  assert.ok(relErr(m.diag(), exact) < 1e-10, `relu Î2 vs exact: ${relErr(m.diag(), exact)}`);

  // On a pipe there is no '\r' line; a short run prints the header and the completion line only.
  const piped = await cli(['fisher', '--model', modelPath, '--data', DATA, '--out', out, '--force']);
  assert.equal(piped.code, 0);
  assert.ok(!piped.err.includes('\r'));
  assert.match(piped.err, /computed in .*; wrote /);
});

test('scaling, input limits and conditional mode reach the estimate', async () => {
  const modelPath = writeModel('scale.json', [2, 3, 3], 'tanh', 3);
  const run = async (extra: string[]): Promise<{ diag: Float64Array; meta: ReturnType<typeof loadFisher>['meta'] }> => {
    const out = join(dir, `scale-${extra.join('_')}.json`);
    const r = await cli(['fisher', '--model', modelPath, '--data', DATA, '--out', out, '--quiet', ...extra]);
    assert.equal(r.code, 0, `${extra.join(' ')}: ${r.err}`);
    const m = loadFisher(out);
    return { diag: m.diag(), meta: m.meta };
  };
  const mean = await run([]);
  const sum = await run(['--scaling', 'sum']);
  assert.equal(sum.meta.scaling, 'sum');
  assert.ok(relErr(sum.diag, mean.diag.map((v) => N * v)) < 1e-12, "'sum' is N_x times 'mean'");

  const first10 = await run(['--max-inputs', '10']);
  assert.equal(first10.meta.numInputs, 10);
  const want10 = libraryDiag(modelPath, { estimator: 'exact', representation: 'diag' }, subset(data, Array.from({ length: 10 }, (_, i) => i)));
  assert.ok(relErr(first10.diag, want10) < 1e-12, '--max-inputs 10 is the estimate over the first 10 inputs');

  const cond = await run(['--mode', 'conditional', '--input-index', '7']);
  assert.equal(cond.meta.mode, 'conditional');
  assert.equal(cond.meta.numInputs, 1);
  const want7 = libraryDiag(modelPath, { estimator: 'exact', representation: 'diag' }, subset(data, [7]));
  assert.ok(relErr(cond.diag, want7) < 1e-12, 'conditional on input 7 is the estimate over that input alone');

  const f32 = await run(['--dtype', 'float32']);
  assert.equal(f32.meta.dtype, 'float32');
  // float32 passes round the per-sample Jacobians to ~1e-7 relative; the accumulation is float64.
  assert.ok(relErr(f32.diag, mean.diag) < 1e-4, `float32 vs float64: ${relErr(f32.diag, mean.diag)}`);
});

test('the default output goes next to the model: train, then fisher on the trained model', async () => {
  const runDir = join(dir, 'trained');
  const t = await cli(['train', '--data', DATA, '--arch', '2-5-3', '--epochs', '1', '--batch-size', '8', '--out', runDir, '--quiet']);
  assert.equal(t.code, 0, t.err);
  const r = await cli(['fisher', '--model', join(runDir, 'model.json'), '--data', DATA, '--repr', 'block', '--quiet']);
  assert.equal(r.code, 0, r.err);
  const path = join(runDir, 'fisher-exact-block.json');
  assert.ok(r.out.includes(`wrote ${path}`));
  const m = loadFisher(path);
  assert.equal(m.representation, 'block');
  assert.equal(m.meta.dtype, 'float32', "the model file's dtype by default");
  // --out naming an existing directory receives the default file name.
  const intoDir = await cli(['fisher', '--model', join(runDir, 'model.json'), '--data', DATA, '--estimator', 'empirical', '--out', dir, '--quiet']);
  assert.equal(intoDir.code, 0, intoDir.err);
  assert.equal(loadFisher(join(dir, 'fisher-empirical-diag.json')).meta.estimator, 'empirical');
  // Without --data, the default (embedded, 784 features, 10 classes) does not fit: the error names the training data.
  const noData = await cli(['fisher', '--model', join(runDir, 'model.json'), '--quiet']);
  assert.equal(noData.code, 1);
  assert.match(noData.err, /error \[SHAPE\]: .*\(the model was trained on --data synthetic:blobs\?k=3&n=24&seed=5; --data defaults to embedded\)/);
});

test('bad usage exits 2 with a message naming the flag and the problem', async () => {
  const modelPath = writeModel('usage.json', [2, 3, 3], 'tanh', 4);
  const base = ['fisher', '--model', modelPath, '--data', DATA];
  const cases: [string[], RegExp][] = [
    [[...base, '--estimator', 'fisherx'], /--estimator: unknown value 'fisherx'; allowed: exact, i1, i2, empirical, hessian/],
    [[...base, '--repr', 'full'], /--repr: unknown value 'full'; allowed: dense, diag, block, kfac, matfree/],
    [[...base, '--estimator', 'i1', '--labels-per-input', '0'], /--labels-per-input must be ≥ 1, got 0/],
    [[...base, '--estimator', 'i1', '--labels-per-input', '-2'], /--labels-per-input must be ≥ 1, got -2/],
    [[...base, '--labels-per-input', '4'], /--labels-per-input applies only to --estimator i1 or i2 \(exact draws no labels\)/],
    [['fisher', '--data', DATA], /missing --model PATH/],
    [[...base, '--input-index', '3'], /--input-index applies only to --mode conditional/],
    [[...base, '--max-inputs', '3', '--mode', 'conditional'], /--max-inputs applies only to --mode joint/],
    [[...base, '--estimator', 'hessian', '--repr', 'kfac'], /--repr kfac is defined for --estimator exact, i1, empirical/],
    [[...base, '--scaling', 'total'], /--scaling: unknown value 'total'; allowed: mean, sum/],
    [[...base, '--max-inputs', '0'], /--max-inputs must be ≥ 1, got 0/],
  ];
  for (const [argv, pattern] of cases) {
    const r = await cli(argv);
    assert.equal(r.code, 2, `${argv.slice(1).join(' ')}: exit code (${r.err})`);
    assert.match(r.err, pattern, argv.join(' '));
    assert.match(r.err, /^fimkit fisher: /);
    assert.equal(r.out, '');
  }
});

test('bad inputs exit 1 with the library error; nothing is written', async () => {
  const modelPath = writeModel('errors.json', [2, 3, 3], 'tanh', 5);
  const wide = writeModel('wide.json', [4, 3, 3], 'tanh', 6);
  const single = writeModel('single.json', [2, 3, 1], 'tanh', 7);
  const out = join(dir, 'never-written.json');
  const base = ['--data', DATA, '--out', out];
  const cases: [string[], RegExp][] = [
    [['--model', modelPath, ...base, '--mode', 'conditional', '--input-index', '24'], /error \[INVALID_ARGUMENT\]: input index 24 is outside the data \(24 samples\)/],
    [['--model', wide, ...base], /error \[SHAPE\]: the data has 2 features per sample \(shape \[2\]\) but the model expects 4/],
    [['--model', single, ...base], /error \[SHAPE\]: categorical: network output size must be an integer ≥ 2/],
    [['--model', modelPath, '--data', 'synthetic:blobs?k=4&n=8', '--out', out], /error \[SHAPE\]: categorical: network output size 3 does not match the 4 classes of the data/],
    [['--model', modelPath, ...base, '--likelihood', 'bernoulli', '--estimator', 'empirical'], /error \[INVALID_ARGUMENT\]: the empirical estimator scores the data's labels, but the bernoulli likelihood models multilabel targets and dataset 'blobs\/train' has class targets/],
    [['--model', join(dir, 'missing.json'), ...base], /error \[IO\]: cannot read model file .*missing\.json/],
    [['--model', modelPath, '--data', 'synthetic:spirals', '--out', out], /error \[INVALID_ARGUMENT\]: dataset spec 'synthetic:spirals': unknown synthetic dataset/],
  ];
  for (const [argv, pattern] of cases) {
    const r = await cli(['fisher', ...argv]);
    assert.equal(r.code, 1, `${argv.join(' ')}: exit code (${r.err})`);
    assert.match(r.err, pattern, argv.join(' '));
    assert.ok(!r.err.includes('fimkit fisher: exact estimator'), 'a rejected setup prints no header');
    assert.equal(r.out, '');
    assert.ok(!existsSync(out), `${argv.join(' ')}: no file written`);
  }

  // Dense matrices above the memory limit are refused before any work, with the size and the alternatives.
  const saved = process.env['FIMKIT_MAX_DENSE_BYTES'];
  process.env['FIMKIT_MAX_DENSE_BYTES'] = '1000';
  try {
    const r = await cli(['fisher', '--model', modelPath, ...base, '--repr', 'dense', '--json']);
    assert.equal(r.code, 1);
    // 2-3-3 has 9 + 12 = 21 parameters: 21² float64 values.
    assert.match(r.err, /error \[TOO_LARGE\]: .*21×21 matrix would need 3\.4 KiB \(3528 bytes\).*above the limit of 1000 bytes.*use the diag, block, kfac or matfree representation/);
    const doc = JSON.parse(r.out) as { error: { kind: string; code: string } };
    assert.deepEqual([doc.error.kind, doc.error.code], ['fimkit', 'TOO_LARGE']);
    assert.ok(!existsSync(out));
    const diag = await cli(['fisher', '--model', modelPath, ...base, '--repr', 'diag', '--quiet']);
    assert.equal(diag.code, 0, 'the diagonal needs no dense memory');
  } finally {
    if (saved === undefined) delete process.env['FIMKIT_MAX_DENSE_BYTES'];
    else process.env['FIMKIT_MAX_DENSE_BYTES'] = saved;
  }
});

test('fimkit help fisher describes every estimator, representation and the scaling convention', async () => {
  const r = await cli(['help', 'fisher']);
  assert.equal(r.code, 0);
  const h = r.out;
  assert.match(h, /^Usage: fimkit fisher \[flags\]/);
  assert.match(h, /^ {2}exact +Jᵀ Cov J in closed form/m);
  assert.match(h, /^ {2}i1 +Î1, the squared score with labels sampled from the model/m);
  assert.match(h, /^ {2}i2 +Î2, the negative Hessian of log p with labels sampled from the model/m);
  assert.match(h, /^ {2}empirical +the squared score with the data's labels .*biased/m);
  assert.match(h, /^ {2}hessian +the Hessian of the loss/m);
  for (const repr of ['dense', 'diag', 'block', 'kfac', 'matfree']) assert.match(h, new RegExp(`^ {2}${repr} {2,}\\S`, 'm'), repr);
  assert.match(h, /^ {2}mean +the average over inputs of the per-input quantity; the n labels drawn for one input are/m);
  assert.match(h, /^ {2}sum +N_x times that/m);
  for (const flag of ['model', 'data', 'split', 'estimator', 'repr', 'labels-per-input', 'mode', 'input-index', 'max-inputs', 'batch-size', 'scaling', 'seed', 'dtype', 'backend', 'out', 'json', 'quiet']) {
    assert.match(h, new RegExp(`^ {2}--${flag}\\b`, 'm'), `--${flag} in the help`);
  }
  const top = await cli(['help']);
  assert.match(top.out, /^ {2}fisher +Estimate the Fisher information/m);
});

test('summarizeDiagonal: hand-checked groups, NaN kept visible, length mismatch refused', () => {
  const layout = makeLayout([
    { label: 'a', type: 'dense', params: [{ name: 'w', shape: [2] }, { name: 'b', shape: [1] }] },
    { label: 'b', type: 'dense', params: [{ name: 'w', shape: [2] }] },
  ]);
  const s = summarizeDiagonal(Float64Array.of(1, 4, -2, 0.5, 3), layout);
  assert.deepEqual(s.groups[0], { label: 'a', type: 'dense', params: 3, trace: 3, mean: 1, max: 4, min: -2 });
  assert.deepEqual(s.groups[1], { label: 'b', type: 'dense', params: 2, trace: 3.5, mean: 1.75, max: 3, min: 0.5 });
  assert.deepEqual(s.total, { label: 'total', type: 'model', params: 5, trace: 6.5, mean: 1.3, max: 4, min: -2 });
  const withNaN = summarizeDiagonal(Float64Array.of(1, NaN, 2, 0.5, 3), layout);
  assert.ok(Number.isNaN(withNaN.groups[0]!.max) && Number.isNaN(withNaN.groups[0]!.trace) && Number.isNaN(withNaN.total.min));
  assert.equal(withNaN.groups[1]!.max, 3);
  assert.throws(() => summarizeDiagonal(new Float64Array(4), layout), /diagonal has 4 entries but the layout describes 5 parameters/);
});

test('--path reference computes the same estimate as the default fast path; an unknown path is a usage error', async () => {
  const modelPath = writeModel('path.json', [2, 5, 3], 'sigmoid', 4);
  const run = async (extra: string[], name: string): Promise<Float64Array> => {
    const out = join(dir, name);
    const r = await cli(['fisher', '--model', modelPath, '--data', DATA, '--estimator', 'i2', '--repr', 'diag', '--batch-size', '7', '--seed', '5', '--out', out, '--quiet', ...extra]);
    assert.equal(r.code, 0, r.err);
    return loadFisher(out).diag();
  };
  const fast = await run([], 'path-fast.json');
  const reference = await run(['--path', 'reference'], 'path-reference.json');
  assert.ok(relErr(fast, reference) <= 1e-12, `fast vs reference ${relErr(fast, reference)}`);
  assert.deepEqual(fast, libraryDiag(modelPath, { estimator: 'i2', representation: 'diag', batchSize: 7, seed: 5 }));
  const bad = await cli(['fisher', '--model', modelPath, '--data', DATA, '--path', 'quick']);
  assert.equal(bad.code, 2, 'usage error exit code');
  assert.match(bad.err, /path/);
});
