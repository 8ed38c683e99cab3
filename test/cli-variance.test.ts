import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '../src/core/rng.js';
import { Tensor } from '../src/core/tensor.js';
import { batchOf, resolveDataset, subset, type Dataset } from '../src/data/index.js';
import { layoutOf } from '../src/fisher/layout.js';
import { makeLikelihood } from '../src/likelihoods/index.js';
import { buildModel, loadModel, mlpSpec, saveModel, type ActivationName } from '../src/nn/index.js';
import { inputVariances, jointVariances } from '../src/variance/conditional.js';
import { runCli } from '../src/cli/main.js';
import type { CliIO } from '../src/cli/command.js';

const DATA = 'synthetic:blobs?k=3&dim=4&n=60';

async function cli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: CliIO = { stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s), isTTY: false }, env: {} };
  const code = await runCli(argv, io);
  return { code, out, err };
}

let dir: string;
let data: Dataset;
let tanhPath: string;
let reluPath: string;

function writeModel(name: string, activation: ActivationName, seed: number): string {
  const path = join(dir, name);
  saveModel(path, buildModel(mlpSpec([4, 5, 3], activation), new Rng(seed).derive('init'), 'float64'));
  return path;
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fimkit-cli-variance-'));
  data = (await resolveDataset(DATA)).train;
  tanhPath = writeModel('tanh.json', 'tanh', 1);
  reluPath = writeModel('relu.json', 'relu', 2);
});

after(() => rmSync(dir, { recursive: true, force: true }));

/** |a − b| ≤ tol·max(|b|, tiny) entry by entry (JSON null stands for a non-finite value). */
function assertClose(actual: (number | null)[], expected: ArrayLike<number>, what: string, tol = 1e-12): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  let scale = 0;
  for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i]!));
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    assert.ok(a !== null && Math.abs(a - expected[i]!) <= tol * Math.max(scale, 1e-300), `${what}[${i}]: ${a} vs ${expected[i]}`);
  }
}

const mean = (v: (number | null)[], offset: number, size: number): number => v.slice(offset, offset + size).reduce<number>((s, x) => s + x!, 0) / size;

interface FileJson {
  format: string;
  meta: Record<string, unknown>;
  layout: { label: string; offset: number; size: number }[];
  layers: Record<string, unknown>[];
  perParameter: Record<string, (number | null)[]>;
  check: { repetitions: number; rows: { layer: string; estimator: string; closedForm: number; sampleVariance: number; halfWidth: number; inside: boolean }[] } | null;
}

const readJson = (path: string): FileJson => JSON.parse(readFileSync(path, 'utf8')) as FileJson;

test('conditional: per-parameter V1, V2 are the library closed forms / N, layer means are means, UB ≥ V ≥ LB', async () => {
  const N = 4;
  const index = 7;
  const out = join(dir, 'cond.json');
  const r = await cli(['variance', '--model', tanhPath, '--data', DATA, '--input-index', String(index), '--labels-per-input', String(N), '--out', out, '--json', '--quiet']);
  assert.equal(r.code, 0, r.err);
  assert.equal(r.err, '', '--quiet leaves stderr empty');
  const doc = JSON.parse(r.out) as { command: string; layers: Record<string, unknown>[]; output: { path: string }; meta: Record<string, unknown> };
  assert.equal(doc.command, 'variance');
  assert.equal(doc.output.path, out);
  assert.equal(doc.meta['inputIndex'], index);
  assert.ok(!('perParameter' in doc), '--json leaves the per-parameter arrays to the file');

  const file = readJson(out);
  assert.equal(file.format, 'fimkit-variance');
  const model = loadModel(tanhPath);
  const x = new Tensor(batchOf(data, Uint32Array.of(index), 'float64').inputs, [1, 4]);
  const iv = inputVariances(model, makeLikelihood('categorical'), x)[0]!;
  const pp = file.perParameter;
  assertClose(pp['fim']!, iv.fim, 'fim');
  assertClose(pp['v1']!, iv.v1.map((v) => v / N), 'v1');
  assertClose(pp['v2']!, iv.v2.map((v) => v / N), 'v2');

  const P = model.numParams();
  for (const k of ['v1', 'v2'] as const) {
    const lo = pp[`${k}Lower`]!, hi = pp[`${k}Upper`]!, v = pp[k]!;
    for (let i = 0; i < P; i++) {
      // The bounds come from eigenvalues found iteratively: allow rounding relative to the bound.
      const slack = 1e-9 * Math.abs(hi[i]!);
      assert.ok(hi[i]! >= v[i]! - slack, `${k} UB ${hi[i]} < V ${v[i]} at ${i}`);
      assert.ok(lo[i]! <= v[i]! + slack, `${k} LB ${lo[i]} > V ${v[i]} at ${i}`);
    }
  }

  const layout = layoutOf(model);
  assert.deepEqual(file.layers, doc.layers, 'the file and --json hold the same per-layer rows');
  assert.equal(file.layers.length, layout.groups.length);
  layout.groups.forEach((g, gi) => {
    const row = file.layers[gi]!;
    assert.equal(row['layer'], g.label);
    assert.equal(row['params'], g.size);
    for (const [col, arr] of [['fimMean', 'fim'], ['v1Mean', 'v1'], ['v2Mean', 'v2'], ['ub1Mean', 'v1Upper'], ['ub2Mean', 'v2Upper']] as const) {
      const m = mean(pp[arr]!, g.offset, g.size);
      assert.ok(Math.abs((row[col] as number) - m) <= 1e-12 * Math.abs(m), `${g.label} ${col}: ${row[col]} vs ${m}`);
    }
    // Labels needed: median/p90 of the per-parameter figures (nearest rank).
    for (const [col, arr] of [['labelsI1', 'labelsI1'], ['labelsI2', 'labelsI2']] as const) {
      const vals = pp[arr]!.slice(g.offset, g.offset + g.size).map((v) => (v === null ? Infinity : v)).sort((a, b) => a - b);
      const q = (p: number): number | null => { const v = vals[Math.max(0, Math.ceil(p * vals.length) - 1)]!; return Number.isFinite(v) ? v : null; };
      assert.deepEqual(row[col], { median: q(0.5), p90: q(0.9) }, `${g.label} ${col}`);
    }
  });
  // Output layer of a tanh net: h is linear in its weights, so V2 = 0 there and Î2 is advised.
  const last = file.layers[file.layers.length - 1]!;
  assert.equal(last['v2Mean'], 0);
  assert.equal(last['recommended'], 'i2');
  assert.ok((file.layers[0]!['v2Mean'] as number) > 0, 'the first tanh layer has curvature, so V2 > 0');
});

test('joint: V1, V2 and Var_q I are jointVariances over the first --max-inputs inputs with N_x', async () => {
  const out = join(dir, 'joint.json');
  const r = await cli(['variance', '--model', tanhPath, '--data', DATA, '--mode', 'joint', '--max-inputs', '40', '--labels-per-input', '3', '--inputs-per-estimate', '10', '--out', out, '--quiet']);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /N_x Î1 med\/p90/);
  const file = readJson(out);
  const model = loadModel(tanhPath);
  const jv = jointVariances(model, makeLikelihood('categorical'), subset(data, Array.from({ length: 40 }, (_, i) => i)), { labelsPerInput: 3, inputsPerEstimate: 10 });
  const pp = file.perParameter;
  assertClose(pp['fim']!, jv.fim, 'fim');
  assertClose(pp['fimVarOverInputs']!, jv.fimVarOverInputs, 'Var_q I');
  assertClose(pp['v1']!, jv.v1, 'V1');
  assertClose(pp['v2']!, jv.v2, 'V2');
  // The law of total variance, from the file's own arrays.
  for (let i = 0; i < jv.P; i++) assert.ok(Math.abs(pp['v1']![i]! - (pp['fimVarOverInputs']![i]! + pp['meanV1']![i]!) / 10) <= 1e-12 * pp['v1']![i]!);
  assert.equal(file.meta['inputs'], 40);
  assert.equal(file.meta['inputsPerEstimate'], 10);
  layoutOf(model).groups.forEach((g, gi) => {
    const row = file.layers[gi]!;
    for (const [col, arr] of [['fimMean', 'fim'], ['inputVarianceMean', 'fimVarOverInputs'], ['v1Mean', 'v1'], ['v2Mean', 'v2']] as const) {
      const m = mean(pp[arr]!, g.offset, g.size);
      assert.ok(Math.abs((row[col] as number) - m) <= 1e-12 * Math.abs(m), `${g.label} ${col}`);
    }
    const i1 = row['inputsI1'] as { median: number; p90: number };
    assert.ok(i1.median >= 1 && i1.p90 >= i1.median, `${g.label}: inputs needed ${JSON.stringify(i1)}`);
  });
});

test('--check 200: the Monte Carlo sample variances agree with the closed forms', async () => {
  for (const mode of ['conditional', 'joint']) {
    const out = join(dir, `check-${mode}.json`);
    const argv = ['variance', '--model', tanhPath, '--data', DATA, '--mode', mode, '--labels-per-input', '2', '--check', '200', '--out', out, '--quiet'];
    if (mode === 'joint') argv.push('--max-inputs', '30', '--inputs-per-estimate', '5');
    const r = await cli(argv);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /Monte Carlo check \(200 repetitions/);
    const file = readJson(out);
    const rows = file.check!.rows;
    assert.equal(rows.length, 2 * file.layout.length);
    const inside = rows.filter((x) => x.inside).length;
    assert.ok(inside >= rows.length / 2, `${mode}: only ${inside}/${rows.length} closed forms inside their intervals: ${JSON.stringify(rows)}`);
    for (const row of rows) {
      // The check's half-width treats a layer's parameters as independent; with any correlation
      // the layer mean's standard error is at most √size times it (Cauchy–Schwarz). Beyond that
      // the closed form is wrong.
      const size = file.layout.find((g) => g.label === row.layer)!.size;
      assert.ok(
        Math.abs(row.closedForm - row.sampleVariance) <= Math.sqrt(size) * row.halfWidth + 1e-25,
        `${mode} ${row.layer} ${row.estimator}: closed ${row.closedForm}, sample ${row.sampleVariance} ± ${row.halfWidth}`,
      );
    }
  }
});

test('relu network: V2 = 0 in every layer and Î2 recommended everywhere', async () => {
  const out = join(dir, 'relu.json.out');
  const r = await cli(['variance', '--model', reluPath, '--data', DATA, '--labels-per-input', '2', '--out', out, '--quiet']);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /piecewise-linear/);
  const file = readJson(out);
  assert.ok(file.perParameter['v2']!.every((v) => v === 0), 'V2 = 0 for every parameter');
  assert.ok(file.perParameter['v1']!.some((v) => v! > 0), 'V1 > 0 somewhere');
  for (const row of file.layers) assert.equal(row['recommended'], 'i2', `layer ${row['layer']}`);
});

test('default output path is variance-<mode>.json next to the model; help explains the formulas', async () => {
  const r = await cli(['variance', '--model', tanhPath, '--data', DATA, '--quiet']);
  assert.equal(r.code, 0, r.err);
  assert.ok(existsSync(join(dir, 'variance-conditional.json')));
  assert.match(r.out, /Recommendation per layer/);
  const h = await cli(['help', 'variance']);
  assert.equal(h.code, 0);
  for (const s of ['J_iᵀ Cov(t|x) J_i', 'E[(J_iᵀδ)⁴]', 'H_iᵀ Cov(t|x) H_i / N', 'Var_q I(θ_i|x) + E_q V(θ_i|x)) / N_x', 'P(|Î − I| ≥ ε I) ≤ δ', '--labels-per-input']) {
    assert.ok(h.out.includes(s), `help mentions ${s}`);
  }
});

test('usage errors exit 2, library errors exit 1, each with a clear message', async () => {
  // --force: the default output exists from the tests above (the output is checked first).
  const base = ['variance', '--model', tanhPath, '--data', DATA, '--quiet', '--force'];
  const usage: [string[], RegExp][] = [
    [['--labels-per-input', '0'], /--labels-per-input must be ≥ 1/],
    [['--eps', '0'], /--eps must be > 0 and ≤ 1/],
    [['--eps', '1.5'], /--eps must be > 0 and ≤ 1/],
    [['--delta', '1'], /--delta must be > 0 and < 1/],
    [['--check', '1'], /--check must be ≥ 2/],
    [['--mode', 'joint', '--input-index', '3'], /--input-index applies only to --mode conditional/],
    [['--inputs-per-estimate', '3'], /--inputs-per-estimate applies only to --mode joint/],
  ];
  for (const [extra, msg] of usage) {
    const r = await cli([...base, ...extra]);
    assert.equal(r.code, 2, `${extra.join(' ')}: ${r.err}`);
    assert.match(r.err, msg);
  }
  const noModel = await cli(['variance', '--data', DATA]);
  assert.equal(noModel.code, 2);
  assert.match(noModel.err, /missing --model/);

  const wrongFeatures = await cli([...base.slice(0, 4), 'synthetic:blobs?k=3&dim=2&n=20', '--quiet', '--force']);
  assert.equal(wrongFeatures.code, 1, wrongFeatures.err);
  assert.match(wrongFeatures.err, /error \[SHAPE\]: .*2 features.*expects 4/);
  // A categorical likelihood needs one logit per class: 3 outputs cannot model 4 classes.
  const wrongLik = await cli([...base.slice(0, 4), 'synthetic:blobs?k=4&dim=4&n=20', '--likelihood', 'categorical', '--mode', 'joint', '--quiet', '--force']);
  assert.equal(wrongLik.code, 1, wrongLik.err);
  assert.match(wrongLik.err, /error \[SHAPE\]: categorical: network output size 3 does not match the 4 classes/);
  const outside = await cli([...base, '--input-index', '60']);
  assert.equal(outside.code, 1);
  assert.match(outside.err, /input index 60 is outside the data \(60 samples\)/);
});
