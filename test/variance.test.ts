/**
 * Closed-form V1 and V2 against Monte Carlo: M independent replications of the estimator give a
 * sample variance per parameter; the closed form must lie within 5 standard errors of it, the
 * standard error of a sample variance being √((m₄ − s⁴)/M) with m₄ the replications' fourth
 * central moment. Conditional (one input, N labels) and joint (N_x inputs drawn from the data,
 * N labels each), every likelihood, on relu, sigmoid and tanh networks.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../src/core/rng.js';
import { Tensor } from '../src/core/tensor.js';
import { buildModel, mlpSpec, type ActivationName } from '../src/nn/index.js';
import { makeLikelihood, type LikelihoodName } from '../src/likelihoods/index.js';
import { computeFisherRaw } from '../src/fisher/compute.js';
import { subset, type Dataset } from '../src/data/dataset.js';
import { inputVariances, jointVariances } from '../src/variance/conditional.js';

function moments(xs: Float64Array[], P: number): { s2: Float64Array; se: Float64Array; floor: Float64Array } {
  const M = xs.length;
  const s2 = new Float64Array(P);
  const se = new Float64Array(P);
  const floor = new Float64Array(P);
  for (let i = 0; i < P; i++) {
    let m = 0;
    for (const x of xs) m += x[i]!;
    m /= M;
    // Identical replications still give a sample variance of up to (M·ε·|mean|)²: the naive
    // mean of M terms carries that much rounding error.
    floor[i] = (M * 2.220446049250313e-16 * Math.abs(m)) ** 2;
    let c2 = 0, c4 = 0;
    for (const x of xs) { const d = x[i]! - m; c2 += d * d; c4 += d ** 4; }
    s2[i] = c2 / (M - 1);
    se[i] = Math.sqrt(Math.max(0, c4 / M - (c2 / M) ** 2) / M);
  }
  return { s2, se, floor };
}

function check(label: string, closed: Float64Array, mc: { s2: Float64Array; se: Float64Array; floor: Float64Array }): void {
  for (let i = 0; i < closed.length; i++) {
    const tol = 5 * mc.se[i]! + 1e-12 * Math.max(closed[i]!, mc.s2[i]!) + mc.floor[i]!;
    assert.ok(Math.abs(closed[i]! - mc.s2[i]!) <= tol, `${label} param ${i}: closed form ${closed[i]} vs sample variance ${mc.s2[i]} (5 s.e. ${5 * mc.se[i]!})`);
  }
}

/** Every likelihood on relu, sigmoid and tanh networks. */
const CASES: [LikelihoodName, ActivationName, number][] = (['categorical', 'bernoulli', 'gaussian', 'poisson'] as LikelihoodName[]).flatMap((l) =>
  (['relu', 'sigmoid', 'tanh'] as ActivationName[]).map((a): [LikelihoodName, ActivationName, number] => [l, a, l === 'categorical' ? 3 : 2]));

function setup(lname: LikelihoodName, act: ActivationName, T: number, n: number): { model: ReturnType<typeof buildModel>; data: Dataset } {
  const rng = new Rng(31);
  const model = buildModel(mlpSpec([3, 4, T], act), rng.derive('init'), 'float64');
  for (const p of model.parameters()) if (p.name!.endsWith('bias')) rng.fillUniform(p.data, -0.5, 0.5);
  const x = Tensor.uniform([n, 3], rng, -1.5, 1.5, 'float64');
  const lik = makeLikelihood(lname);
  const data: Dataset = {
    name: 'v', length: n, inputShape: [3], inputs: x.data, targetKind: lik.targetKind,
    targets: lname === 'categorical' ? new Int32Array(n) : new Float64Array(n * T), targetDim: lname === 'categorical' ? 1 : T,
    ...(lname === 'categorical' ? { numClasses: T } : {}),
  };
  return { model, data };
}

for (const [lname, act, T] of CASES) {
  test(`closed-form V1, V2 match Monte Carlo: conditional and joint (${lname}, ${act})`, () => {
    const { model, data } = setup(lname, act, T, 6);
    const lik = makeLikelihood(lname);
    const P = model.numParams();
    const N = 3;
    const M = 400;
    // Conditional at input 2.
    const x2 = new Tensor(data.inputs.slice(6, 9), [1, 3]);
    const cf = inputVariances(model, lik, x2)[0]!;
    for (const [est, closed] of [['i1', cf.v1], ['i2', cf.v2]] as const) {
      const reps = Array.from({ length: M }, (_, m) =>
        computeFisherRaw(model, lik, data, { estimator: est, representation: 'diag', mode: 'conditional', inputIndex: 2, labelsPerInput: N, seed: 7000 + m }).acc.diag!);
      check(`conditional ${est}`, closed.map((v) => v / N), moments(reps, P));
    }
    if (act === 'relu') assert.ok(cf.v2.every((v) => v === 0), 'V2 = 0 for a relu network');
    // The last layer (linear in its weights) has V2 = 0 for any activation.
    const lastLayer = model.paramGroups().at(-1)!;
    const lastSize = lastLayer.params.reduce((s, p) => s + p.tensor.size, 0);
    assert.ok(cf.v2.subarray(P - lastSize).every((v) => v === 0), 'V2 = 0 in the last layer');

    // Joint: N_x inputs drawn with replacement from the data, N labels each. A mixture over inputs
    // with Poisson-tailed labels is heavy-tailed; its sample variance needs more replications
    // before the standard-error band is trustworthy.
    const Mj = 2000;
    const Nx = 4;
    const jv = jointVariances(model, lik, data, { labelsPerInput: N, inputsPerEstimate: Nx });
    const rng = new Rng(99);
    for (const [est, closed] of [['i1', jv.v1], ['i2', jv.v2]] as const) {
      const reps = Array.from({ length: Mj }, (_, m) => {
        const idx = Array.from({ length: Nx }, () => rng.int(data.length));
        return computeFisherRaw(model, lik, subset(data, idx), { estimator: est, representation: 'diag', labelsPerInput: N, seed: 9000 + m }).acc.diag!;
      });
      check(`joint ${est}`, closed, moments(reps, P));
    }
  });
}

/**
 * Exact conditional variances by enumeration over labels (categorical, Bernoulli): for each
 * label y, the single-label Î1(y) = (∂ log p(y|x)/∂θ_i)² from autodiff gradients and
 * Î2(y) = −∂² log p(y|x)/∂θ_i² from finite differences of them; Var_y is then exact.
 */
import { grad } from '../src/autodiff/grad.js';
import { numericalDirectional } from '../src/autodiff/check.js';

for (const [lname, act, T] of [['categorical', 'sigmoid', 3], ['categorical', 'tanh', 4], ['bernoulli', 'softplus', 2]] as [LikelihoodName, ActivationName, number][]) {
  test(`closed-form V1, V2 equal the exact variances by enumeration over labels (${lname}, ${act})`, () => {
    const { model, data } = setup(lname, act, T, 2);
    const lik = makeLikelihood(lname);
    const x = new Tensor(data.inputs.slice(0, 3), [1, 3]);
    const cf = inputVariances(model, lik, x)[0]!;
    const P = model.numParams();
    const params = model.parameters();
    const ps = params.map((p) => p.data as Float64Array);
    const labels: (Int32Array | Float64Array)[] = lname === 'categorical'
      ? Array.from({ length: T }, (_, c) => Int32Array.of(c))
      : Array.from({ length: 1 << T }, (_, mask) => Float64Array.from({ length: T }, (_, a) => (mask >> a) & 1));
    const logp = (y: Int32Array | Float64Array): number => -lik.nll(model.forward(x), y).item();
    const gradOf = (y: Int32Array | Float64Array): Float64Array => Float64Array.from(grad(lik.nll(model.forward(x), y), params).flatMap((g) => Array.from(g.data)));
    const probs = labels.map((y) => Math.exp(logp(y)));
    assert.ok(Math.abs(probs.reduce((a, b) => a + b, 0) - 1) < 1e-12);
    const i1 = labels.map((y) => gradOf(y).map((g) => g * g));
    const i2 = labels.map((y) => {
      const d = new Float64Array(P);
      let col = 0;
      ps.forEach((p, pi) => {
        for (let i = 0; i < p.length; i++, col++) {
          const vs = ps.map((q, qi) => { const v = new Float64Array(q.length); if (qi === pi) v[i] = 1; return v; });
          d[col] = numericalDirectional(() => gradOf(y), ps, vs)[col]!;
        }
      });
      return d;
    });
    const exactVar = (vals: Float64Array[]): Float64Array => {
      const out = new Float64Array(P);
      for (let i = 0; i < P; i++) {
        const mean = vals.reduce((s, v, k) => s + probs[k]! * v[i]!, 0);
        out[i] = vals.reduce((s, v, k) => s + probs[k]! * (v[i]! - mean) ** 2, 0);
      }
      return out;
    };
    const rel = (a: Float64Array, b: Float64Array): number => {
      let num = 0, den = 0;
      for (let i = 0; i < a.length; i++) { num = Math.max(num, Math.abs(a[i]! - b[i]!)); den = Math.max(den, Math.abs(b[i]!)); }
      return num / den;
    };
    assert.ok(rel(cf.v1, exactVar(i1)) < 1e-10, `V1: ${rel(cf.v1, exactVar(i1)).toExponential(2)}`);
    assert.ok(rel(cf.v2, exactVar(i2)) < 1e-7, `V2: ${rel(cf.v2, exactVar(i2)).toExponential(2)}`);
    // The exact FIM is the mean of Î1 over labels.
    const fim = new Float64Array(P).map((_, i) => i1.reduce((s, v, k) => s + probs[k]! * v[i]!, 0));
    assert.ok(rel(cf.fim, fim) < 1e-12);
  });
}

test('variances of every entry of the full Î1 and Î2 equal exact enumeration over labels (small net)', async () => {
  const { entryVariances } = await import('../src/variance/offdiag.js');
  for (const [lname, act, T] of [['categorical', 'tanh', 3], ['bernoulli', 'sigmoid', 2]] as [LikelihoodName, ActivationName, number][]) {
    const { model, data } = setup(lname, act, T, 1);
    const lik = makeLikelihood(lname);
    const x = new Tensor(data.inputs.slice(0, 3), [1, 3]);
    const N = 2;
    const ev = entryVariances(model, lik, x, N);
    const P = ev.P;
    const params = model.parameters();
    const ps = params.map((p) => p.data as Float64Array);
    const labels: (Int32Array | Float64Array)[] = lname === 'categorical'
      ? Array.from({ length: T }, (_, c) => Int32Array.of(c))
      : Array.from({ length: 1 << T }, (_, mask) => Float64Array.from({ length: T }, (_, a) => (mask >> a) & 1));
    const gradOf = (y: Int32Array | Float64Array): Float64Array => Float64Array.from(grad(lik.nll(model.forward(x), y), params).flatMap((g) => Array.from(g.data)));
    const probs = labels.map((y) => Math.exp(-lik.nll(model.forward(x), y).item()));
    const i1 = labels.map((y) => { const g = gradOf(y); return Float64Array.from({ length: P * P }, (_, k) => g[Math.floor(k / P)]! * g[k % P]!); });
    const i2 = labels.map((y) => {
      const H = new Float64Array(P * P);
      let col = 0;
      ps.forEach((p, pi) => {
        for (let i = 0; i < p.length; i++, col++) {
          const vs = ps.map((q, qi) => { const v = new Float64Array(q.length); if (qi === pi) v[i] = 1; return v; });
          const d = numericalDirectional(() => gradOf(y), ps, vs);
          for (let r = 0; r < P; r++) H[r * P + col] = d[r]!;
        }
      });
      return H;
    });
    const exactVar = (vals: Float64Array[]): Float64Array => Float64Array.from({ length: P * P }, (_, k) => {
      const mean = vals.reduce((s, v, l) => s + probs[l]! * v[k]!, 0);
      return vals.reduce((s, v, l) => s + probs[l]! * (v[k]! - mean) ** 2, 0) / N;
    });
    const rel = (a: Float64Array, b: Float64Array): number => {
      let num = 0, den = 0;
      for (let i = 0; i < a.length; i++) { num = Math.max(num, Math.abs(a[i]! - b[i]!)); den = Math.max(den, Math.abs(b[i]!)); }
      return num / den;
    };
    assert.ok(rel(ev.v1, exactVar(i1)) < 1e-10, `${lname} Var(Î1_ij): ${rel(ev.v1, exactVar(i1)).toExponential(2)}`);
    assert.ok(rel(ev.v2, exactVar(i2)) < 1e-7, `${lname} Var(Î2_ij): ${rel(ev.v2, exactVar(i2)).toExponential(2)}`);
    // The diagonal agrees with the per-parameter closed forms.
    const cf = inputVariances(model, lik, x)[0]!;
    assert.ok(rel(Float64Array.from({ length: P }, (_, i) => ev.v1[i * P + i]!), cf.v1.map((v) => v / N)) < 1e-12);
    assert.ok(rel(Float64Array.from({ length: P }, (_, i) => ev.v2[i * P + i]!), cf.v2.map((v) => v / N)) < 1e-10);
  }
});
