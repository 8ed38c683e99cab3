/**
 * The fast Fisher engine path (explicit layer rules on stacked columns, products in the model
 * dtype, the squared walk for the Î2/Hessian curvature) against the autodiff reference path
 * (one autodiff backward per column, products in float64), against itself through a different route (squared walk
 * vs unit columns), and against a brute force that shares no code with either (per-sample
 * Jacobians by central differences of the network output).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DType } from '../src/core/dtype.js';
import { FimkitError } from '../src/core/errors.js';
import { Rng } from '../src/core/rng.js';
import { Tensor } from '../src/core/tensor.js';
import { noGrad } from '../src/autodiff/tape.js';
import type { Dataset } from '../src/data/dataset.js';
import type { ActivationName, LayerSpec } from '../src/nn/layers.js';
import { buildModel, mlpSpec, type ModelSpec, type Sequential } from '../src/nn/sequential.js';
import { makeLikelihood, type Likelihood, type LikelihoodName } from '../src/likelihoods/index.js';
import { computeFisher, computeFisherRaw, type FisherOptions } from '../src/fisher/compute.js';
import type { RawAccumulator } from '../src/fisher/accumulate.js';
import type { EstimatorName, Representation } from '../src/fisher/matrix.js';
import { singlePath } from '../src/fisher/rules.js';
import { getBackend } from '../src/core/backends/index.js';
import { forEachBackend, randomData } from './helpers.js';

const ESTIMATORS: EstimatorName[] = ['exact', 'i1', 'empirical', 'i2', 'hessian'];
const FIRST_ORDER: EstimatorName[] = ['exact', 'i1', 'empirical'];
/** The contract of the fast path for float64 models. */
const F64_TOL = 1e-12;
/** float32 models, relative to the largest entry: see the float32 test for the rounding bound. */
const F32_TOL = 1e-4;
const T = 3;
/** 11 inputs in batches of 4: two full batches and a partial one, each with its own labels. */
const N = 11;
const BATCH = 4;

/** max |got − want| / max |want|; when want is all zero, max |got| (so a spurious value fails). */
function relErr(got: ArrayLike<number>, want: ArrayLike<number>): number {
  assert.equal(got.length, want.length, 'compared arrays differ in length');
  let num = 0, den = 0;
  for (let i = 0; i < want.length; i++) { num = Math.max(num, Math.abs(got[i]! - want[i]!)); den = Math.max(den, Math.abs(want[i]!)); }
  return den === 0 ? num : num / den;
}

/** The backend the tests outside forEachBackend run on (the fastest available, or FIMKIT_BACKEND). */
function defaultBackend(): string {
  return `default backend (${getBackend().name})`;
}

function randomBiases(model: Sequential, rng: Rng): void {
  for (const p of model.parameters()) if (p.name!.endsWith('bias')) rng.fillUniform(p.data, -0.5, 0.5);
}

function mlp(act: ActivationName, sizes: number[], dtype: DType, seed = 21): Sequential {
  const rng = new Rng(seed);
  const model = buildModel(mlpSpec(sizes, act), rng.derive('init'), dtype);
  randomBiases(model, rng);
  return model;
}

/**
 * conv (k3, stride 2, padding 1) → tanh → maxpool (k2, stride 1) → conv (k2, padding 1, no bias)
 * → relu → avgpool (k2) → dropout (evaluation mode: identity) → flatten → dense → sigmoid → dense.
 * For Î2: conv 0 sits directly below tanh (diagonal curvature), but conv 0 and conv 3 reach the
 * sigmoid through several mixing layers and are not dense, so those pairs take unit columns.
 */
const CNN_SPEC: ModelSpec = {
  inputShape: [2, 7, 7],
  layers: [
    { type: 'conv2d', inChannels: 2, outChannels: 3, kernel: 3, stride: 2, padding: 1 },
    { type: 'activation', fn: 'tanh' },
    { type: 'maxpool2d', kernel: 2, stride: 1 },
    { type: 'conv2d', inChannels: 3, outChannels: 4, kernel: 2, padding: 1, bias: false },
    { type: 'activation', fn: 'relu' },
    { type: 'avgpool2d', kernel: 2 },
    { type: 'dropout', p: 0.25 },
    { type: 'flatten' },
    { type: 'dense', in: 16, out: 5 },
    { type: 'activation', fn: 'sigmoid' },
    { type: 'dense', in: 5, out: T },
  ] satisfies LayerSpec[],
};

function cnn(dtype: DType): Sequential {
  const rng = new Rng(22);
  const model = buildModel(CNN_SPEC, rng.derive('init'), dtype);
  randomBiases(model, rng);
  return model;
}

interface ModelCase { name: string; make: (dtype: DType) => Sequential }

const mlp2 = (act: ActivationName): ModelCase => ({ name: `mlp 4-6-5-3 ${act}`, make: (d) => mlp(act, [4, 6, 5, T], d) });
const MLP3_TANH: ModelCase = { name: 'mlp 4-5-5-4-3 tanh', make: (d) => mlp('tanh', [4, 5, 5, 4, T], d) };
const CNN: ModelCase = { name: 'cnn', make: cnn };

/** Likelihoods by a label that includes their options. */
interface LikCase { name: string; make: () => Likelihood }
const LIK: Record<string, LikCase> = {
  categorical: { name: 'categorical', make: () => makeLikelihood('categorical') },
  gaussian: { name: 'gaussian', make: () => makeLikelihood('gaussian') },
  // A variance other than 1 scales Cov(t) and t(y) = y/σ²: both paths must carry it.
  gaussianVar: { name: 'gaussian σ²=0.5', make: () => makeLikelihood('gaussian', { variance: 0.5 }) },
  bernoulli: { name: 'bernoulli', make: () => makeLikelihood('bernoulli') },
  poisson: { name: 'poisson', make: () => makeLikelihood('poisson') },
};

/** `count` inputs for `model` with targets of the likelihood's kind. */
function dataFor(model: Sequential, lik: Likelihood, seed: number, count = N): Dataset {
  return randomData(model, lik, { seed, count, outputs: T, name: 'fisher-fast' });
}

/** Named parts of a raw result: per layer (diag slice, block, dense diagonal block, KFAC A and G) and the whole. */
function partsOf(acc: RawAccumulator): { name: string; values: Float64Array }[] {
  const parts: { name: string; values: Float64Array }[] = [];
  const P = acc.size;
  acc.layers.forEach((l, i) => {
    const label = `layer ${l.index} (${l.layer.type})`;
    if (acc.kind === 'diag') parts.push({ name: label, values: acc.diag!.subarray(l.offset, l.offset + l.size) });
    else if (acc.kind === 'block') parts.push({ name: label, values: acc.blocks![i]! });
    else if (acc.kind === 'dense') {
      const blk = new Float64Array(l.size * l.size);
      for (let r = 0; r < l.size; r++) blk.set(acc.dense!.subarray((l.offset + r) * P + l.offset, (l.offset + r) * P + l.offset + l.size), r * l.size);
      parts.push({ name: label, values: blk });
    } else {
      parts.push({ name: `${label} KFAC A`, values: acc.kfac![i]!.A }, { name: `${label} KFAC G`, values: acc.kfac![i]!.G });
    }
  });
  const whole = acc.kind === 'dense' ? acc.dense! : Float64Array.from(parts.flatMap((p) => Array.from(p.values)));
  parts.push({ name: 'whole', values: whole });
  return parts;
}

/** Asserts fast ≈ reference over the whole result and per layer; returns the largest error seen. */
function assertClose(fast: RawAccumulator, ref: RawAccumulator, tol: number, where: string): number {
  assert.equal(fast.kind, ref.kind, `${where}: kinds differ`);
  assert.equal(fast.inputs, ref.inputs, `${where}: input counts differ`);
  if (fast.kfac) {
    fast.kfac.forEach((k, i) => {
      const r = ref.kfac![i]!;
      assert.deepEqual([k.countA, k.countG, k.positions], [r.countA, r.countG, r.positions], `${where}: KFAC counts of layer ${i} differ`);
    });
  }
  const got = partsOf(fast);
  const want = partsOf(ref);
  assert.ok(want[want.length - 1]!.values.some((v) => v !== 0), `${where}: the reference result is all zero`);
  let worst = 0;
  got.forEach((g, i) => {
    const w = want[i]!;
    assert.ok(g.values.every(Number.isFinite), `${where} ${g.name}: non-finite entries on the fast path`);
    const err = relErr(g.values, w.values);
    worst = Math.max(worst, err);
    assert.ok(err <= tol, `${where} ${g.name}: fast vs reference relative error ${err.toExponential(2)} > ${tol}`);
  });
  return worst;
}

function bothPaths(model: Sequential, lik: Likelihood, data: Dataset, opts: FisherOptions): { fast: RawAccumulator; ref: RawAccumulator } {
  return {
    fast: computeFisherRaw(model, lik, data, { ...opts, path: 'fast' }).acc,
    ref: computeFisherRaw(model, lik, data, { ...opts, path: 'reference' }).acc,
  };
}

function representationsFor(estimator: EstimatorName): Representation[] {
  return FIRST_ORDER.includes(estimator) ? ['diag', 'block', 'kfac'] : ['diag', 'block'];
}

/** Runs every estimator × representation on both paths and asserts agreement within `tol`. */
function checkAllEstimators(
  model: Sequential, modelName: string, likCase: LikCase, backend: string, tol: number, extra: Partial<FisherOptions> & { labelsPerInput: number }, dataSeed: number,
): number {
  const lik = likCase.make();
  const data = dataFor(model, lik, dataSeed);
  let worst = 0;
  for (const estimator of ESTIMATORS) {
    for (const representation of representationsFor(estimator)) {
      const opts: FisherOptions = { estimator, representation, batchSize: BATCH, seed: 7, ...extra };
      const where = `[${backend} ${model.dtype} ${modelName} ${likCase.name} ${estimator} ${representation} n=${extra.labelsPerInput}${extra.mode ? ` ${extra.mode}` : ''}]`;
      const { fast, ref } = bothPaths(model, lik, data, opts);
      worst = Math.max(worst, assertClose(fast, ref, tol, where));
    }
  }
  return worst;
}

/**
 * Which model goes with which likelihood: every 2-hidden-layer activation appears (each with
 * i2 and the Hessian), every likelihood appears with a curved activation, the 3-hidden-layer
 * tanh net exercises the unit-column fallback, and labelsPerInput alternates 1 and 3.
 */
const FLOAT64_CASES: { model: ModelCase; lik: LikCase; n: number }[] = [
  { model: mlp2('tanh'), lik: LIK.categorical!, n: 3 },
  { model: mlp2('relu'), lik: LIK.poisson!, n: 1 },
  { model: mlp2('sigmoid'), lik: LIK.gaussianVar!, n: 3 },
  { model: mlp2('softplus'), lik: LIK.poisson!, n: 3 },
  { model: mlp2('gelu'), lik: LIK.bernoulli!, n: 1 },
  { model: mlp2('leaky-relu'), lik: LIK.gaussian!, n: 3 },
  { model: mlp2('log-sigmoid'), lik: LIK.categorical!, n: 1 },
  { model: MLP3_TANH, lik: LIK.bernoulli!, n: 3 },
  { model: MLP3_TANH, lik: LIK.gaussianVar!, n: 1 },
  { model: CNN, lik: LIK.categorical!, n: 3 },
  { model: CNN, lik: LIK.poisson!, n: 1 },
];

test('float64: fast equals reference within 1e-12 for every estimator × diag/block/kfac on MLPs of every activation, a 3-hidden-layer MLP and a CNN', () => {
  FLOAT64_CASES.forEach(({ model, lik, n }, i) => {
    checkAllEstimators(model.make('float64'), model.name, lik, defaultBackend(), F64_TOL, { labelsPerInput: n }, 30 + i);
  });
});

test('float64: fast equals reference in conditional mode (one input, many labels) and with sum scaling', () => {
  for (const [i, { model, lik }] of [{ model: mlp2('tanh'), lik: LIK.bernoulli! }, { model: CNN, lik: LIK.gaussian! }].entries()) {
    checkAllEstimators(model.make('float64'), model.name, lik, defaultBackend(), F64_TOL, { labelsPerInput: 5, mode: 'conditional', inputIndex: 6 }, 40 + i);
    checkAllEstimators(model.make('float64'), model.name, lik, defaultBackend(), F64_TOL, { labelsPerInput: 2, scaling: 'sum' }, 42 + i);
  }
});

test('float64: fast equals reference in the dense representation on a tiny net, every estimator and likelihood', () => {
  const model = mlp('softplus', [3, 4, T], 'float64', 23);
  for (const likCase of [LIK.categorical!, LIK.gaussianVar!, LIK.bernoulli!, LIK.poisson!]) {
    const lik = likCase.make();
    const data = dataFor(model, lik, 50);
    for (const estimator of ESTIMATORS) {
      const opts: FisherOptions = { estimator, representation: 'dense', batchSize: BATCH, labelsPerInput: 3, seed: 8 };
      const { fast, ref } = bothPaths(model, lik, data, opts);
      assertClose(fast, ref, F64_TOL, `[${defaultBackend()} float64 mlp 3-4-3 softplus ${likCase.name} ${estimator} dense n=3]`);
    }
  }
});

test('every backend: float64 fast equals reference on an MLP and the CNN', () => {
  forEachBackend((backend) => {
    checkAllEstimators(mlp2('sigmoid').make('float64'), mlp2('sigmoid').name, LIK.categorical!, backend, F64_TOL, { labelsPerInput: 3 }, 60);
    checkAllEstimators(cnn('float64'), CNN.name, LIK.bernoulli!, backend, F64_TOL, { labelsPerInput: 1 }, 61);
  });
});

test('float32 models: fast (float32 products) matches reference (float64 products) within 1e-4 in diag and kfac', () => {
  // Both paths share the float32 forward pass, and both pull the cotangents back in float32 (the
  // reference's autodiff runs on the float32 graph; only its δ and the products after it are
  // float64). The fast path also forms the accumulation products and their partial sums in
  // float32 (unit roundoff u = 2⁻²⁴ ≈ 6e-8) before the float64 sum across batches. One batch's
  // entry is a sum of k ≤ 192 products (KFAC G of the first conv: R·B·positions = 3·4·16 rows;
  // the other sums are shorter), so the worst-case rounding bound is about k·u ≈ 1.2e-5 of
  // Σ|terms|. For exact, i1 and empirical the terms are squares or Gram entries, so Σ|terms| is
  // at most the largest entry; the signed second-derivative terms of Î2 and the Hessian may
  // cancel, which the remaining factor of 8 allows for. Measured: at most 4e-7 on every backend.
  // A wrong rule gives O(1) errors.
  forEachBackend((backend) => {
    let worst = 0;
    for (const [i, { model, lik }] of [
      { model: mlp2('relu'), lik: LIK.categorical! },
      { model: mlp2('sigmoid'), lik: LIK.gaussian! },
      { model: CNN, lik: LIK.bernoulli! },
    ].entries()) {
      const m = model.make('float32');
      const l = lik.make();
      const data = dataFor(m, l, 70 + i);
      for (const estimator of ESTIMATORS) {
        for (const representation of ['diag', 'kfac'] as Representation[]) {
          if (representation === 'kfac' && !FIRST_ORDER.includes(estimator)) continue;
          const opts: FisherOptions = { estimator, representation, batchSize: BATCH, labelsPerInput: 3, seed: 9 };
          const { fast, ref } = bothPaths(m, l, data, opts);
          worst = Math.max(worst, assertClose(fast, ref, F32_TOL, `[${backend} float32 ${model.name} ${lik.name} ${estimator} ${representation} n=3]`));
        }
      }
    }
    // The float32 products really are float32: the paths are not bit-identical.
    assert.ok(worst > 0, `[${backend} float32] fast and reference agree exactly: the fast path did not use float32 products`);
  });
});

test('Î2 and Hessian diagonals three ways agree: squared walk or direct diagonal (fast diag), unit columns (fast block), Hessian–vector products (reference dense)', () => {
  const tanhMlp = mlp('tanh', [4, 6, 5, T], 'float64');
  // Layer 0 reaches the tanh at index 3 through one mixing layer (dense 2): the squared walk is
  // exact there and the fast diagonal takes it; in the 3-hidden-layer net it is not.
  assert.equal(singlePath(tanhMlp.layers, 1, 3), true);
  assert.equal(singlePath(MLP3_TANH.make('float64').layers, 1, 5), false);
  // In the CNN, conv 0 sits directly below the tanh: the fast diagonal (and the reference diag)
  // weight its squared im2col columns by D directly, a code path the two share — the block
  // (unit columns) and dense (autodiff Hessian–vector products) routes do not use it.
  const setups = [
    { name: 'mlp 4-6-5-3 tanh', model: tanhMlp, liks: [LIK.categorical!, LIK.poisson!], count: N },
    { name: 'cnn', model: cnn('float64'), liks: [LIK.categorical!], count: 6 },
  ];
  for (const { name, model, liks, count } of setups) {
    const slices = layerSlices(model);
    for (const likCase of liks) {
      const lik = likCase.make();
      const data = dataFor(model, lik, 80, count);
      for (const estimator of ['i2', 'hessian'] as EstimatorName[]) {
        const opts: FisherOptions = { estimator, representation: 'diag', batchSize: BATCH, labelsPerInput: 3, seed: 10 };
        const where = `[${defaultBackend()} float64 ${name} ${likCase.name} ${estimator}]`;
        const ways = {
          'fast diag': computeFisher(model, lik, data, { ...opts, representation: 'diag', path: 'fast' }).diag(),
          'fast block (unit columns)': computeFisher(model, lik, data, { ...opts, representation: 'block', path: 'fast' }).diag(),
          'reference dense (Hessian–vector products)': computeFisher(model, lik, data, { ...opts, representation: 'dense', path: 'reference' }).diag(),
        };
        const want = ways['reference dense (Hessian–vector products)'];
        // The second-derivative term is really there: the result differs from the exact diagonal on layer 0.
        const exact = computeFisher(model, lik, data, { ...opts, estimator: 'exact', path: 'reference' }).diag();
        const first = slices[0]!;
        assert.ok(relErr(want.subarray(first.offset, first.offset + first.size), exact.subarray(first.offset, first.offset + first.size)) > 1e-3, `${where}: no second-derivative term on layer 0`);
        for (const [way, got] of Object.entries(ways)) {
          assert.equal(got.length, model.numParams(), `${where} ${way}: length`);
          for (const { label, offset, size } of [...slices, { label: 'whole', offset: 0, size: want.length }]) {
            const err = relErr(got.subarray(offset, offset + size), want.subarray(offset, offset + size));
            assert.ok(err <= F64_TOL, `${where} ${label}: ${way} vs reference dense ${err.toExponential(2)} > ${F64_TOL}`);
          }
        }
      }
    }
  }
});

/** Offsets of each parametric layer's parameters in the flat vector. */
function layerSlices(model: Sequential): { label: string; offset: number; size: number }[] {
  let offset = 0;
  return model.paramGroups().map((g) => {
    const size = g.params.reduce((s, p) => s + p.tensor.size, 0);
    const slice = { label: `layer ${g.label}`, offset, size };
    offset += size;
    return slice;
  });
}

/** Per-sample Jacobians J_b [T, P] of the network output by central differences (step ε, error O(ε²)). */
function finiteDifferenceJacobians(model: Sequential, x: Tensor, eps: number): Float64Array[] {
  const params = model.parameters();
  const P = model.numParams();
  const B = x.shape[0]!;
  const J = Array.from({ length: B }, () => new Float64Array(T * P));
  const out = (): Float64Array => Float64Array.from(noGrad(() => model.forward(x)).data);
  let col = 0;
  for (const p of params) {
    for (let i = 0; i < p.size; i++, col++) {
      const keep = p.data[i]!;
      p.data[i] = keep + eps;
      const up = out();
      p.data[i] = keep - eps;
      const down = out();
      p.data[i] = keep;
      for (let b = 0; b < B; b++) for (let a = 0; a < T; a++) J[b]![a * P + col] = (up[b * T + a]! - down[b * T + a]!) / (2 * eps);
    }
  }
  return J;
}

test('brute force: the exact diagonal equals mean_x diag(J_xᵀ Cov J_x) with J by central differences (both paths)', () => {
  const model = mlp('tanh', [3, 4, T], 'float64', 24);
  const P = model.numParams();
  for (const likName of ['categorical', 'gaussian'] as LikelihoodName[]) {
    const variance = 0.5;
    const lik = likName === 'gaussian' ? makeLikelihood('gaussian', { variance }) : makeLikelihood('categorical');
    const data = dataFor(model, lik, 90, 7);
    const x = new Tensor(data.inputs, [data.length, 3]);
    const h = Float64Array.from(noGrad(() => model.forward(x)).data);
    const J = finiteDifferenceJacobians(model, x, 1e-5);
    const want = new Float64Array(P);
    for (let b = 0; b < data.length; b++) {
      // Output-space Fisher Cov(t|x): softmax p gives diag(p) − ppᵀ; the Gaussian gives I/σ².
      const cov = new Float64Array(T * T);
      if (likName === 'categorical') {
        const row = h.subarray(b * T, (b + 1) * T);
        const m = Math.max(...row);
        const e = row.map((v) => Math.exp(v - m));
        const z = e.reduce((s, v) => s + v, 0);
        const p = e.map((v) => v / z);
        for (let a = 0; a < T; a++) for (let c = 0; c < T; c++) cov[a * T + c] = (a === c ? p[a]! : 0) - p[a]! * p[c]!;
      } else {
        for (let a = 0; a < T; a++) cov[a * T + a] = 1 / variance;
      }
      for (let i = 0; i < P; i++) {
        let s = 0;
        for (let a = 0; a < T; a++) for (let c = 0; c < T; c++) s += J[b]![a * P + i]! * cov[a * T + c]! * J[b]![c * P + i]!;
        want[i]! += s / data.length;
      }
    }
    for (const path of ['fast', 'reference'] as const) {
      const got = computeFisherRaw(model, lik, data, { estimator: 'exact', representation: 'diag', batchSize: BATCH, path }).acc.diag!;
      const err = relErr(got, want);
      // Central differences with ε = 1e-5: truncation O(ε²)·|f'''| ≈ 1e-10 and rounding ≈ 1e-16/ε ≈ 1e-11, relative.
      assert.ok(err <= 1e-6, `[${defaultBackend()} float64 mlp 3-4-3 tanh ${lik.name} exact diag ${path}] vs finite differences: ${err.toExponential(2)}`);
    }
  }
});

test('an unknown path is refused with INVALID_ARGUMENT (not silently run as one of the two)', () => {
  const model = mlp('tanh', [3, 4, T], 'float64');
  const lik = makeLikelihood('categorical');
  const data = dataFor(model, lik, 100);
  for (const representation of ['diag', 'block', 'matfree'] as Representation[]) {
    const opts = { estimator: 'exact', representation, path: 'quick' as 'fast' } as const;
    const isInvalid = (e: unknown): boolean => e instanceof FimkitError && e.code === 'INVALID_ARGUMENT' && /option 'path' must be one of 'fast', 'reference', got 'quick'/.test(e.message);
    assert.throws(() => computeFisher(model, lik, data, opts), isInvalid, `computeFisher ${representation}`);
    if (representation !== 'matfree') assert.throws(() => computeFisherRaw(model, lik, data, opts), isInvalid, `computeFisherRaw ${representation}`);
  }
  // The two valid values (and the default, 'fast') still run.
  const fastDefault = computeFisherRaw(model, lik, data, { estimator: 'exact', representation: 'diag' }).acc.diag!;
  assert.deepEqual(fastDefault, computeFisherRaw(model, lik, data, { estimator: 'exact', representation: 'diag', path: 'fast' }).acc.diag!);
});

test('a conv layer whose stacked column gradients exceed one scratch chunk (2^21 elements) gives the same result as the reference', () => {
  // The second conv (2 channels in, 5×5, padding 2 on 26×26) has 676 positions × 50 = 33 800
  // column-gradient entries per sample and column: 62 rows per chunk, and 20 inputs × 9
  // categorical factor columns = 180 rows, so three chunks (the last one partial).
  const rng = new Rng(31);
  const spec: ModelSpec = {
    inputShape: [1, 28, 28],
    layers: [
      { type: 'conv2d', inChannels: 1, outChannels: 2, kernel: 3 },
      { type: 'activation', fn: 'tanh' },
      { type: 'conv2d', inChannels: 2, outChannels: 2, kernel: 5, padding: 2 },
      { type: 'activation', fn: 'relu' },
      { type: 'maxpool2d', kernel: 13 },
      { type: 'flatten' },
      { type: 'dense', in: 8, out: 10 },
    ] satisfies LayerSpec[],
  };
  const model = buildModel(spec, rng.derive('init'), 'float64');
  randomBiases(model, rng);
  const lik = makeLikelihood('categorical');
  const inputs = Tensor.uniform([20, 784], rng, -1, 1, 'float64').data;
  const data: Dataset = { name: 'chunks', length: 20, inputShape: [1, 28, 28], inputs, targetKind: 'class', targets: new Int32Array(20).map(() => rng.int(10)), targetDim: 1, numClasses: 10 };
  for (const representation of ['diag', 'kfac'] as Representation[]) {
    const { fast, ref } = bothPaths(model, lik, data, { estimator: 'exact', representation, batchSize: 20 });
    assertClose(fast, ref, F64_TOL, `[${defaultBackend()} chunked conv exact ${representation}]`);
  }
});

test('KFAC with Î2 or the Hessian is refused before any work, also for piecewise-linear networks', () => {
  for (const act of ['relu', 'tanh'] as ActivationName[]) {
    const model = mlp(act, [3, 4, T], 'float64');
    const lik = makeLikelihood('categorical');
    const data = dataFor(model, lik, 101);
    for (const estimator of ['i2', 'hessian'] as EstimatorName[]) {
      for (const path of ['fast', 'reference'] as const) {
        assert.throws(() => computeFisherRaw(model, lik, data, { estimator, representation: 'kfac', path }),
          (e: unknown) => e instanceof FimkitError && e.code === 'INVALID_ARGUMENT' && /KFAC/.test(e.message), `${act} ${estimator} ${path}`);
      }
    }
  }
});

test('unit columns of the second-derivative terms across several scratch chunks equal the reference', () => {
  // Layer 0 reaches the last tanh through two dense layers: unit columns. With 160 inputs and
  // 64-wide layers a chunk holds 2^19 / (160 · 64) = 51 of the 64 units, so two chunks.
  const model = mlp('tanh', [4, 64, 64, 64, T], 'float64', 33);
  const lik = makeLikelihood('categorical');
  const data = dataFor(model, lik, 102, 160);
  const { fast, ref } = bothPaths(model, lik, data, { estimator: 'hessian', representation: 'diag', batchSize: 160 });
  assertClose(fast, ref, F64_TOL, `[${defaultBackend()} unit columns in chunks hessian diag]`);
});
