import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../src/core/rng.js';
import { Tensor } from '../src/core/tensor.js';
import { numericalDirectional, maxRelativeError } from '../src/autodiff/check.js';
import { grad } from '../src/autodiff/grad.js';
import { buildModel, mlpSpec, parseArchitecture, type Sequential } from '../src/nn/index.js';
import { makeLikelihood } from '../src/likelihoods/index.js';
import { clippedGradientSum, perSampleGradientNorms, perSampleGradients, perSampleJacobians, perSampleOutputHessianDiag } from '../src/fisher/persample.js';

/** max |a − b| / max |b|: finite differences of exactly-zero entries leave ~1e-14 of noise. */
function normwise(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0, den = 0;
  for (let i = 0; i < b.length; i++) { num = Math.max(num, Math.abs(a[i]! - b[i]!)); den = Math.max(den, Math.abs(b[i]!)); }
  return num / den;
}

function setup(spec: ReturnType<typeof mlpSpec>, seed: number): { model: Sequential; x: Tensor; B: number } {
  const rng = new Rng(seed);
  const model = buildModel(spec, rng.derive('init'), 'float64');
  for (const p of model.parameters()) if (p.name!.endsWith('bias')) rng.fillUniform(p.data, -0.5, 0.5);
  const B = 3;
  const x = Tensor.uniform([B, spec.inputShape.reduce((a, b) => a * b, 1)], rng, -1, 1, 'float64');
  return { model, x, B };
}

/** Entry (b, a, i) of ∂ʳh/∂θ_iʳ by finite differences along θ_i, r = 1 or 2. */
function fdAlong(model: Sequential, x: Tensor, order: 1 | 2): Float64Array {
  const ps = model.parameters().map((p) => p.data as Float64Array);
  const P = ps.reduce((s, p) => s + p.length, 0);
  const B = x.shape[0]!;
  const T = model.outputDim;
  const out = new Float64Array(B * T * P);
  let col = 0;
  ps.forEach((p, pi) => {
    for (let i = 0; i < p.length; i++, col++) {
      const h = 1e-2;
      const o = p[i]!;
      const at = (d: number): Float64Array => { p[i] = o + d; const v = Float64Array.from(model.forward(x).data); p[i] = o; return v; };
      let d: Float64Array;
      if (order === 1) {
        const vs = ps.map((q, qi) => { const v = new Float64Array(q.length); if (qi === pi) v[i] = 1; return v; });
        d = numericalDirectional(() => model.forward(x).data, ps, vs);
      } else {
        // Fourth-order second difference: (−f(2h) + 16f(h) − 30f(0) + 16f(−h) − f(−2h)) / 12h².
        const [f2, f1, f0, fm1, fm2] = [at(2 * h), at(h), at(0), at(-h), at(-2 * h)];
        d = f0.map((_, k) => (-f2[k]! + 16 * f1[k]! - 30 * f0[k]! + 16 * fm1[k]! - fm2[k]!) / (12 * h * h));
      }
      for (let b = 0; b < B; b++) for (let a = 0; a < T; a++) out[(b * T + a) * P + col] = d[b * T + a]!;
    }
  });
  return out;
}

test('per-sample Jacobians and output-Hessian diagonals match finite differences (mlp, cnn)', () => {
  for (const [label, spec] of [
    ['mlp sigmoid', mlpSpec([3, 4, 3, 2], 'sigmoid')],
    ['mlp tanh', mlpSpec([2, 5, 3], 'tanh')],
    // Three hidden layers: layer 0 and the last tanh are two dense layers apart (unit columns).
    ['mlp tanh 3 hidden', mlpSpec([2, 4, 3, 3, 2], 'tanh')],
    ['cnn softplus', parseArchitecture('c2k3-c2k2-3', 'softplus', [1, 5, 5])],
  ] as const) {
    const { model, x } = setup(spec, 4);
    const eJ = normwise(perSampleJacobians(model, x), fdAlong(model, x, 1));
    assert.ok(eJ < 1e-8, `${label} Jacobian: ${eJ.toExponential(2)}`);
    // The second difference with h = 1e-2 is accurate to ~h⁴·f⁽⁶⁾ ≈ 1e-8 relative.
    const eH = normwise(perSampleOutputHessianDiag(model, x), fdAlong(model, x, 2));
    assert.ok(eH < 1e-6, `${label} output-Hessian diagonal: ${eH.toExponential(2)}`);
  }
  const relu = setup(mlpSpec([3, 4, 2], 'relu'), 2);
  assert.ok(perSampleOutputHessianDiag(relu.model, relu.x).every((v) => v === 0), 'zero for a relu network');
});

test('per-sample gradients sum to the gradient of the summed log-likelihood', () => {
  const { model, x, B } = setup(mlpSpec([3, 4, 3], 'gelu'), 6);
  const lik = makeLikelihood('categorical');
  const y = Int32Array.from([0, 2, 1]);
  const g = perSampleGradients(model, lik, x, y);
  const P = model.numParams();
  const total = grad(lik.nll(model.forward(x), y), model.parameters()).flatMap((t) => Array.from(t.data));
  const sum = new Float64Array(P);
  for (let b = 0; b < B; b++) for (let i = 0; i < P; i++) sum[i]! -= g[b * P + i]! / B; // nll is the mean of −log p
  assert.ok(maxRelativeError(sum, total, 1e-9) < 1e-10);
  // And each row alone is the gradient for that sample.
  const one = grad(lik.nll(model.forward(new Tensor(x.data.slice(3, 6), [1, 3])), y.subarray(1, 2)), model.parameters()).flatMap((t) => Array.from(t.data));
  assert.ok(maxRelativeError(g.subarray(P, 2 * P).map((v) => -v), one, 1e-9) < 1e-10);
});

test('fast and reference paths agree within 1e-12 (gradients, Jacobians, output-Hessian diagonals; mlp, deep mlp, cnn)', () => {
  const lik = makeLikelihood('categorical');
  for (const [label, spec] of [
    ['mlp sigmoid', mlpSpec([3, 4, 3, 2], 'sigmoid')],
    ['mlp tanh 3 hidden', mlpSpec([2, 4, 3, 3, 2], 'tanh')],
    ['cnn softplus', parseArchitecture('c2k3-m2-c2k2-4-2', 'softplus', [1, 7, 7])],
  ] as const) {
    const { model, x, B } = setup(spec, 9);
    const y = new Int32Array(B).map((_, b) => b % 2);
    const pairs: [string, Float64Array, Float64Array][] = [
      ['gradients', perSampleGradients(model, lik, x, y, 'fast'), perSampleGradients(model, lik, x, y, 'reference')],
      ['Jacobians', perSampleJacobians(model, x, 'fast'), perSampleJacobians(model, x, 'reference')],
      ['output-Hessian diagonals', perSampleOutputHessianDiag(model, x, 'fast'), perSampleOutputHessianDiag(model, x, 'reference')],
    ];
    for (const [what, fast, ref] of pairs) {
      assert.ok(ref.some((v) => v !== 0), `${label} ${what}: reference all zero`);
      const e = normwise(fast, ref);
      assert.ok(e < 1e-12, `${label} ${what}: fast vs reference ${e.toExponential(2)}`);
    }
  }
});

test('per-sample gradients, their norms and DP clipped sums match per-sample autodiff (mlp, cnn; float64, 1e-12)', () => {
  for (const [name, spec] of [
    ['mlp tanh', mlpSpec([4, 7, 5, 3], 'tanh')],
    ['cnn softplus', parseArchitecture('c2k3-m2-c3k2-4-3', 'softplus', [2, 7, 7])],
  ] as const) {
    const rng = new Rng(31);
    const model = buildModel(spec, rng.derive('init'), 'float64');
    for (const p of model.parameters()) if (p.name!.endsWith('bias')) rng.fillUniform(p.data, -0.5, 0.5);
    const B = 5;
    const D = spec.inputShape.reduce((a, b) => a * b, 1);
    const x = Tensor.uniform([B, D], rng, -1, 1, 'float64');
    const lik = makeLikelihood('categorical');
    const y = new Int32Array(B).map(() => rng.int(3));
    const params = model.parameters();
    const P = params.reduce((s, p) => s + p.size, 0);
    // Brute force: one autodiff gradient of log p(y_b|x_b) per sample.
    const brute = new Float64Array(B * P);
    for (let b = 0; b < B; b++) {
      const xb = new Tensor(x.data.slice(b * D, (b + 1) * D), [1, D]);
      const gs = grad([lik.nll(model.forward(xb), y.subarray(b, b + 1))], params);
      let off = 0;
      for (const g of gs) { for (let i = 0; i < g.size; i++) brute[b * P + off + i] = -g.data[i]!; off += g.size; }
    }
    const fast = perSampleGradients(model, lik, x, y);
    assert.ok(normwise(fast, brute) <= 1e-12, `${name}: per-sample gradients ${normwise(fast, brute)}`);
    const norms = new Float64Array(B).map((_, b) => Math.hypot(...brute.subarray(b * P, (b + 1) * P)));
    const got = perSampleGradientNorms(model, lik, x, y);
    assert.ok(normwise(got.norms, norms) <= 1e-12, `${name}: norms ${normwise(got.norms, norms)}`);
    assert.equal(got.layerSquares.length, B * model.layers.filter((l) => l.params().length > 0).length);
    // A clipping norm between the smallest and largest per-sample norm: some samples are clipped.
    const sorted = Array.from(norms).sort((a, b) => a - b);
    const C = (sorted[1]! + sorted[B - 2]!) / 2;
    const want = new Float64Array(P);
    for (let b = 0; b < B; b++) { const s = Math.min(1, C / norms[b]!); for (let i = 0; i < P; i++) want[i]! += s * brute[b * P + i]!; }
    const clipped = clippedGradientSum(model, lik, x, y, C);
    assert.ok(clipped.scales.some((s) => s < 1) && clipped.scales.some((s) => s === 1), `${name}: the clip binds for some samples only`);
    assert.ok(normwise(clipped.sum, want) <= 1e-12, `${name}: clipped sum ${normwise(clipped.sum, want)}`);
    assert.throws(() => clippedGradientSum(model, lik, x, y, 0), /clipping norm/);
  }
});

test('per-sample gradients into a reused output equal a fresh one; a wrong size is a SHAPE error', () => {
  const rng = new Rng(8);
  const model = buildModel(mlpSpec([3, 4, 2], 'tanh'), rng.derive('init'), 'float64');
  const x = Tensor.uniform([4, 3], rng, -1, 1, 'float64');
  const y = Int32Array.of(0, 1, 1, 0);
  const lik = makeLikelihood('categorical');
  const fresh = perSampleGradients(model, lik, x, y);
  const into = new Float64Array(fresh.length).fill(NaN);
  assert.equal(perSampleGradients(model, lik, x, y, 'fast', into), into);
  assert.deepEqual(Array.from(into), Array.from(fresh));
  assert.throws(() => perSampleGradients(model, lik, x, y, 'fast', new Float64Array(3)), /expected 4 × /);
});
