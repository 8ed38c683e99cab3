/**
 * Every estimator × raw representation × likelihood against brute force, in float64 on small
 * networks: per-sample Jacobians by finite differences, output-space covariances by exact
 * enumeration over labels (categorical, Bernoulli; closed forms for Gaussian and Poisson), and
 * loss Hessians by finite differences of the (separately verified) autodiff gradient.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../src/core/rng.js';
import { drawLabels, inputStreams } from '../src/fisher/labels.js';
import { Tensor } from '../src/core/tensor.js';
import * as F from '../src/autodiff/ops.js';
import { grad } from '../src/autodiff/grad.js';
import { numericalDirectional } from '../src/autodiff/check.js';
import { buildModel, mlpSpec, parseArchitecture, type ModelSpec, type Sequential } from '../src/nn/index.js';
import { makeLikelihood, type Likelihood } from '../src/likelihoods/index.js';
import { computeFisherRaw } from '../src/fisher/compute.js';
import type { Dataset } from '../src/data/dataset.js';
import type { EstimatorName } from '../src/fisher/matrix.js';

const TOL = 1e-8;

function flatParams(model: Sequential): Float64Array[] {
  return model.parameters().map((p) => p.data as Float64Array);
}

/** Per-sample Jacobians J_b [T, P] by the fourth-order stencil along each parameter. */
function jacobians(model: Sequential, x: Tensor): Float64Array[] {
  const ps = flatParams(model);
  const P = ps.reduce((s, p) => s + p.length, 0);
  const B = x.shape[0]!;
  const T = model.outputDim;
  const J = Array.from({ length: B }, () => new Float64Array(T * P));
  let col = 0;
  ps.forEach((p, pi) => {
    for (let i = 0; i < p.length; i++, col++) {
      const vs = ps.map((q, qi) => { const v = new Float64Array(q.length); if (qi === pi) v[i] = 1; return v; });
      const d = numericalDirectional(() => model.forward(x).data, ps, vs);
      for (let b = 0; b < B; b++) for (let a = 0; a < T; a++) J[b]![a * P + col] = d[b * T + a]!;
    }
  });
  return J;
}

/** Σ_y p(y) (t−η)(t−η)ᵀ by enumeration over labels (categorical, Bernoulli) or closed form. */
function outputCovariance(lik: Likelihood, hRow: Float64Array, T: number): Float64Array {
  const cov = new Float64Array(T * T);
  const labels: { t: number[]; p: number }[] = [];
  if (lik.name === 'categorical') {
    const m = Math.max(...hRow);
    const z = hRow.reduce((s, v) => s + Math.exp(v - m), 0);
    for (let c = 0; c < T; c++) labels.push({ t: Array.from({ length: T }, (_, a) => (a === c ? 1 : 0)), p: Math.exp(hRow[c]! - m) / z });
  } else if (lik.name === 'bernoulli') {
    for (let mask = 0; mask < 1 << T; mask++) {
      const t = Array.from({ length: T }, (_, a) => (mask >> a) & 1);
      labels.push({ t, p: t.reduce((s, y, a) => s * (y ? 1 / (1 + Math.exp(-hRow[a]!)) : 1 / (1 + Math.exp(hRow[a]!))), 1) });
    }
  } else {
    // Gaussian (h = μ, t = y/σ², σ² = 1 here): Cov = I. Poisson: Cov = diag(e^h).
    for (let a = 0; a < T; a++) cov[a * T + a] = lik.name === 'poisson' ? Math.exp(hRow[a]!) : 1;
    return cov;
  }
  const eta = new Array<number>(T).fill(0);
  for (const { t, p } of labels) t.forEach((v, a) => (eta[a]! += p * v));
  for (const { t, p } of labels) for (let a = 0; a < T; a++) for (let c = 0; c < T; c++) cov[a * T + c]! += p * (t[a]! - eta[a]!) * (t[c]! - eta[c]!);
  return cov;
}

/** (1/B) Σ_b J_bᵀ M_b J_b for per-sample T×T matrices M_b. */
function sandwich(J: Float64Array[], Ms: Float64Array[], T: number, P: number): Float64Array {
  const out = new Float64Array(P * P);
  J.forEach((Jb, b) => {
    const M = Ms[b]!;
    for (let i = 0; i < P; i++) for (let j = 0; j < P; j++) {
      let s = 0;
      for (let a = 0; a < T; a++) for (let c = 0; c < T; c++) s += Jb[a * P + i]! * M[a * T + c]! * Jb[c * P + j]!;
      out[i * P + j]! += s / J.length;
    }
  });
  return out;
}

/** Hessian of the loss θ ↦ f() by finite differences of its autodiff gradient. */
function lossHessian(model: Sequential, f: () => Tensor): Float64Array {
  const params = model.parameters();
  const ps = flatParams(model);
  const P = ps.reduce((s, p) => s + p.length, 0);
  const H = new Float64Array(P * P);
  const gradFlat = (): Float64Array => Float64Array.from(grad(f(), params).flatMap((g) => Array.from(g.data)));
  let col = 0;
  ps.forEach((p, pi) => {
    for (let i = 0; i < p.length; i++, col++) {
      const vs = ps.map((q, qi) => { const v = new Float64Array(q.length); if (qi === pi) v[i] = 1; return v; });
      const d = numericalDirectional(gradFlat, ps, vs);
      for (let r = 0; r < P; r++) H[r * P + col] = d[r]!;
    }
  });
  return H;
}

/** The sampled labels the estimator draws for inputs 0..B−1 (one stream per input, as computeFisherRaw derives them). */
function replayLabels(lik: Likelihood, h: Float64Array, B: number, T: number, seed: number, n: number): Int32Array | Float64Array {
  return drawLabels(lik, h, B, T, inputStreams(new Rng(seed).derive('fisher-labels'), Array.from({ length: B }, (_, i) => i)), n);
}

function relErr(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < want.length; i++) { num = Math.max(num, Math.abs(got[i]! - want[i]!)); den = Math.max(den, Math.abs(want[i]!)); }
  return num / den;
}

function dataset(x: Tensor, targets: Int32Array | Float64Array, kind: Dataset['targetKind'], T: number, inputShape: number[]): Dataset {
  return {
    name: 'brute', length: x.shape[0]!, inputShape, inputs: x.data, targetKind: kind, targets, targetDim: kind === 'class' ? 1 : T,
    ...(kind === 'class' ? { numClasses: T } : {}),
  };
}

interface Case { name: string; spec: ModelSpec; lik: Likelihood; T: number }

function cases(): Case[] {
  const T = 3;
  return [
    { name: 'categorical mlp tanh', spec: mlpSpec([3, 4, T], 'tanh'), lik: makeLikelihood('categorical'), T },
    { name: 'bernoulli mlp sigmoid', spec: mlpSpec([3, 4, 2], 'sigmoid'), lik: makeLikelihood('bernoulli'), T: 2 },
    { name: 'gaussian mlp softplus', spec: mlpSpec([2, 3, 3, 2], 'softplus'), lik: makeLikelihood('gaussian'), T: 2 },
    { name: 'poisson mlp gelu', spec: mlpSpec([3, 4, 2], 'gelu'), lik: makeLikelihood('poisson'), T: 2 },
    { name: 'categorical cnn log-sigmoid', spec: parseArchitecture('c2k3-3', 'log-sigmoid', [1, 4, 4]), lik: makeLikelihood('categorical'), T: 3 },
    { name: 'categorical mlp relu', spec: mlpSpec([3, 4, 3], 'relu'), lik: makeLikelihood('categorical'), T: 3 },
  ];
}

function targetsFor(lik: Likelihood, h: Float64Array, B: number, T: number, rng: Rng): Int32Array | Float64Array {
  return lik.sample(h, B, T, rng, 1);
}

for (const c of cases()) {
  test(`brute force: ${c.name} — exact, i1, empirical, i2, hessian in diag, block and dense`, () => {
    const rng = new Rng(11);
    const model = buildModel(c.spec, rng.derive('init'), 'float64');
    for (const p of model.parameters()) if (p.name!.endsWith('bias')) rng.fillUniform(p.data, -0.5, 0.5);
    const B = 3;
    const D = c.spec.inputShape.reduce((a, b) => a * b, 1);
    const x = Tensor.uniform([B, D], rng, -1, 1, 'float64');
    const T = model.outputDim;
    const h = Float64Array.from(model.forward(x).data);
    const y = targetsFor(c.lik, h, B, T, rng.derive('data'));
    const kind: Dataset['targetKind'] = c.lik.targetKind;
    const data = dataset(x, y, kind, T, c.spec.inputShape);
    const P = model.numParams();
    const J = jacobians(model, x);
    const eta = c.lik.meanStat(h, B, T);
    const covs = Array.from({ length: B }, (_, b) => outputCovariance(c.lik, h.subarray(b * T, (b + 1) * T), T));
    const scoreOuter = (t: Float64Array, rows: number, per: number): Float64Array[] =>
      Array.from({ length: B }, (_, b) => {
        const M = new Float64Array(T * T);
        for (let s = 0; s < per; s++) {
          const r = b * per + s;
          for (let a = 0; a < T; a++) for (let d = 0; d < T; d++) M[a * T + d]! += ((t[r * T + a]! - eta[b * T + a]!) * (t[r * T + d]! - eta[b * T + d]!)) / per;
        }
        void rows;
        return M;
      });
    const n = 3;
    const seed = 5;
    const sampled = replayLabels(c.lik, h, B, T, seed, n);
    const rep = new Int32Array(B * n).map((_, i) => Math.floor(i / n));
    const brute: Record<EstimatorName, Float64Array> = {
      exact: sandwich(J, covs, T, P),
      empirical: sandwich(J, scoreOuter(c.lik.sufficientStat(y, B, T), B, 1), T, P),
      i1: sandwich(J, scoreOuter(c.lik.sufficientStat(sampled, B * n, T), B * n, n), T, P),
      hessian: lossHessian(model, () => c.lik.nll(model.forward(x), y)),
      i2: lossHessian(model, () => c.lik.nll(F.gather(model.forward(x), expandRows(rep, T), [B * n, T]), sampled)),
    };
    const layers = model.paramGroups().map((g) => g.params.reduce((s, p) => s + p.tensor.size, 0));
    for (const estimator of ['exact', 'i1', 'empirical', 'i2', 'hessian'] as EstimatorName[]) {
      const want = brute[estimator];
      const opts = { estimator, labelsPerInput: n, seed, batchSize: 8 };
      const diag = computeFisherRaw(model, c.lik, data, { ...opts, representation: 'diag' }).acc.diag!;
      assert.ok(relErr(diag, Array.from({ length: P }, (_, i) => want[i * P + i]!)) < TOL, `${estimator} diag: ${relErr(diag, Array.from({ length: P }, (_, i) => want[i * P + i]!)).toExponential(2)}`);
      const blocks = computeFisherRaw(model, c.lik, data, { ...opts, representation: 'block' }).acc.blocks!;
      let off = 0;
      layers.forEach((size, li) => {
        const wb = new Float64Array(size * size);
        for (let i = 0; i < size; i++) for (let j = 0; j < size; j++) wb[i * size + j] = want[(off + i) * P + off + j]!;
        assert.ok(relErr(blocks[li]!, wb) < TOL, `${estimator} block ${li}: ${relErr(blocks[li]!, wb).toExponential(2)}`);
        off += size;
      });
      const dense = computeFisherRaw(model, c.lik, data, { ...opts, representation: 'dense' }).acc.dense!;
      assert.ok(relErr(dense, want) < TOL, `${estimator} dense: ${relErr(dense, want).toExponential(2)}`);
    }
  });
}

/** Flat indices of rows `rep[i]` of a [B, T] matrix, as a [rep.length, T] gather. */
function expandRows(rep: Int32Array, T: number): Int32Array {
  const idx = new Int32Array(rep.length * T);
  rep.forEach((r, i) => { for (let a = 0; a < T; a++) idx[i * T + a] = r * T + a; });
  return idx;
}

test('matrix-free products equal the dense estimate times v, for every estimator', async () => {
  const { fisherProduct } = await import('../src/fisher/products.js');
  for (const c of cases().slice(0, 5)) {
    const rng = new Rng(13);
    const model = buildModel(c.spec, rng.derive('init'), 'float64');
    const D = c.spec.inputShape.reduce((a, b) => a * b, 1);
    const B = 5;
    const x = Tensor.uniform([B, D], rng, -1, 1, 'float64');
    const T = model.outputDim;
    const h = Float64Array.from(model.forward(x).data);
    const data = dataset(x, targetsFor(c.lik, h, B, T, rng.derive('y')), c.lik.targetKind, T, c.spec.inputShape);
    const P = model.numParams();
    const v = new Float64Array(P).map(() => rng.normal());
    for (const estimator of ['exact', 'i1', 'empirical', 'i2', 'hessian'] as EstimatorName[]) {
      for (const scaling of ['mean', 'sum'] as const) {
        const opts = { estimator, labelsPerInput: 2, seed: 3, batchSize: 2, scaling };
        const M = computeFisherRaw(model, c.lik, data, { ...opts, representation: 'dense' }).acc.dense!;
        const want = new Float64Array(P);
        for (let i = 0; i < P; i++) for (let j = 0; j < P; j++) want[i]! += M[i * P + j]! * v[j]!;
        const got = fisherProduct(model, c.lik, data, { ...opts, representation: 'matfree' })(v);
        assert.ok(relErr(got, want) < 1e-10, `${c.name} ${estimator} ${scaling}: ${relErr(got, want).toExponential(2)}`);
      }
    }
  }
});

test('scaling: sum equals N_x times mean', () => {
  const c = cases()[0]!;
  const rng = new Rng(2);
  const model = buildModel(c.spec, rng.derive('init'), 'float64');
  const x = Tensor.uniform([7, 3], rng, -1, 1, 'float64');
  const data = dataset(x, new Int32Array(7), 'class', 3, [3]);
  const mean = computeFisherRaw(model, c.lik, data, { estimator: 'i1', representation: 'diag', labelsPerInput: 2, batchSize: 3 }).acc.diag!;
  const sum = computeFisherRaw(model, c.lik, data, { estimator: 'i1', representation: 'diag', labelsPerInput: 2, batchSize: 3, scaling: 'sum' });
  assert.equal(sum.meta.scaling, 'sum');
  assert.ok(relErr(sum.acc.diag!, mean.map((v) => 7 * v)) < 1e-14);
});
