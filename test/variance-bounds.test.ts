/**
 * The papers' bounds on I(θ_i|x), V1 and V2 ("Trade-Offs of Diagonal Fisher Information Matrix
 * Estimators"; "On the Variance of the Fisher Information for Deep Learning") and the quartic-form
 * extremes they rest on.
 *
 * - tensor-eig: extremes of u^{⊗4}:A against dense grids on the sphere (T = 2, 3), closed forms
 *   (Gaussian M ≡ 2/σ⁴, Bernoulli T = 1: v(1 − 4v), categorical minimum 0 at 1/√C), and the
 *   biquadratic sup against a grid over pairs of circles.
 * - bounds: for many random (h, J, H) per likelihood, every lower bound ≤ the closed form ≤ every
 *   upper bound, with the closed forms computed here from primitives: I = J_iᵀ Cov J_i and the
 *   label moments E[(J_iᵀδ)⁴], E[(J_iᵀδ)²(J_jᵀδ)²] by exact enumeration over labels
 *   (categorical, Bernoulli), from the 1-D Poisson pmf summed to a negligible tail (Poisson) and
 *   by Isserlis' theorem (Gaussian). Only rounding slack is allowed: 1e-10 relative to the size
 *   of the terms the quantity is computed from (for V1, ‖J_i‖⁴(‖K‖_F + ‖Cov‖²_F)/N, which bounds
 *   both E[s⁴] and I², whose difference V1 is).
 * - Gaussian: every Theorem 4.1 bound equals the closed form to 1e-12.
 * The tightness log(UB/V) of each bound is printed (median over parameters).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../src/core/rng.js';
import { FimkitError } from '../src/core/errors.js';
import { Tensor } from '../src/core/tensor.js';
import { buildModel, mlpSpec } from '../src/nn/index.js';
import { perSampleJacobians, perSampleOutputHessianDiag } from '../src/fisher/persample.js';
import { makeLikelihood, type Likelihood, type LikelihoodName } from '../src/likelihoods/index.js';
import { biquadraticForm, biquadraticMax, quarticForm, symmetrize4, zEigenExtremes } from '../src/variance/tensor-eig.js';
import {
  diagonalBounds,
  inputVarianceBound,
  jointVarianceBounds,
  offDiagonalBounds,
  outputSpectrum,
  tightness,
  tightnessSummary,
  traceBounds,
} from '../src/variance/bounds.js';

const SLACK = 1e-10;

function frob(x: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i]! * x[i]!;
  return Math.sqrt(s);
}

function leq(a: number, b: number, scale: number, what: string): void {
  assert.ok(a <= b + SLACK * scale, `${what}: ${a} > ${b} (slack ${SLACK * scale})`);
}

// -------------------------------------------------------------------------------------------
// Label moments from primitives

/**
 * The label distribution of one input as a list of (probability, δ = t(y) − η) outcomes, or, for
 * Gaussian and Poisson, the per-coordinate central moments (independent coordinates).
 */
type LabelModel =
  | { kind: 'enumerated'; outcomes: { p: number; delta: Float64Array }[] }
  | { kind: 'independent'; variance: Float64Array; fourth: Float64Array };

function sigmoid(x: number): number {
  return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
}

/** Central moments of a Poisson(λ) from its pmf, summed until the tail is below 1e-18 of the mass. */
function poissonMoments(lambda: number): { variance: number; fourth: number } {
  let p = Math.exp(-lambda);
  let m2 = 0, m4 = 0, mass = 0;
  for (let k = 0; k < 10000; k++) {
    if (k > 0) p *= lambda / k;
    const d = k - lambda;
    m2 += p * d * d;
    m4 += p * d ** 4;
    mass += p;
    if (k > lambda && p < 1e-18 * mass && p * (k + 1) ** 4 < 1e-18 * (m4 + 1e-300)) break;
  }
  return { variance: m2, fourth: m4 };
}

function labelModel(lik: Likelihood, h: Float64Array, gaussVariance: number): LabelModel {
  const T = h.length;
  if (lik.name === 'categorical') {
    const mx = Math.max(...h);
    const e = Array.from(h, (v) => Math.exp(v - mx));
    const z = e.reduce((a, b) => a + b, 0);
    const sigma = e.map((v) => v / z);
    // 1 − σ_y summed from the other classes, not subtracted (σ_y can be within 1e-7 of 1).
    const rest = sigma.map((_, y) => sigma.reduce((acc, s, c) => (c === y ? acc : acc + s), 0));
    return {
      kind: 'enumerated',
      outcomes: sigma.map((p, y) => ({ p, delta: Float64Array.from(sigma, (s, c) => (c === y ? rest[y]! : -s)) })),
    };
  }
  if (lik.name === 'bernoulli') {
    // 1 − p as σ(−h), not by subtraction, which would lose digits for saturated logits.
    const pr = Array.from(h, sigmoid);
    const qr = Array.from(h, (v) => sigmoid(-v));
    const outcomes: { p: number; delta: Float64Array }[] = [];
    for (let m = 0; m < 1 << T; m++) {
      let p = 1;
      const delta = new Float64Array(T);
      for (let a = 0; a < T; a++) {
        const y = (m >> a) & 1;
        p *= y ? pr[a]! : qr[a]!;
        delta[a] = y ? qr[a]! : -pr[a]!;
      }
      outcomes.push({ p, delta });
    }
    return { kind: 'enumerated', outcomes };
  }
  if (lik.name === 'gaussian') {
    // t = y/σ², so Var(t_a) = 1/σ² and E[δ_a⁴] = 3/σ⁴.
    const v = 1 / gaussVariance;
    return { kind: 'independent', variance: new Float64Array(T).fill(v), fourth: new Float64Array(T).fill(3 * v * v) };
  }
  const variance = new Float64Array(T);
  const fourth = new Float64Array(T);
  for (let a = 0; a < T; a++) {
    const m = poissonMoments(Math.exp(h[a]!));
    variance[a] = m.variance;
    fourth[a] = m.fourth;
  }
  return { kind: 'independent', variance, fourth };
}

/** E[(uᵀδ)²(vᵀδ)²] and E[(uᵀδ)(vᵀδ)] under the label model. */
function mixedMoments(model: LabelModel, u: Float64Array, v: Float64Array): { m22: number; m11: number } {
  if (model.kind === 'enumerated') {
    let m22 = 0, m11 = 0;
    for (const { p, delta } of model.outcomes) {
      let su = 0, sv = 0;
      for (let a = 0; a < delta.length; a++) { su += u[a]! * delta[a]!; sv += v[a]! * delta[a]!; }
      m22 += p * su * su * sv * sv;
      m11 += p * su * sv;
    }
    return { m22, m11 };
  }
  // Independent coordinates: E[δ_aδ_bδ_cδ_d] is μ4_a when all four indices agree and v_a v_c
  // for two distinct pairs; grouping the pairings of u,u,v,v gives the three sums below.
  const { variance: s2, fourth: m4 } = model;
  const T = u.length;
  let m22 = 0, m11 = 0;
  for (let a = 0; a < T; a++) {
    m22 += u[a]! ** 2 * v[a]! ** 2 * m4[a]!;
    m11 += u[a]! * v[a]! * s2[a]!;
    for (let b = 0; b < T; b++) {
      if (b === a) continue;
      m22 += (u[a]! ** 2 * v[b]! ** 2 + 2 * u[a]! * v[a]! * u[b]! * v[b]!) * s2[a]! * s2[b]!;
    }
  }
  return { m22, m11 };
}

function column(X: Float64Array, T: number, P: number, i: number): Float64Array {
  return Float64Array.from({ length: T }, (_, a) => X[a * P + i]!);
}

function quadForm(C: Float64Array, x: Float64Array): number {
  const T = x.length;
  let s = 0;
  for (let a = 0; a < T; a++) for (let b = 0; b < T; b++) s += x[a]! * C[a * T + b]! * x[b]!;
  return s;
}

// -------------------------------------------------------------------------------------------
// tensor-eig

function randomSymmetric(T: number, rng: Rng): Float64Array {
  return symmetrize4(rng.fillNormal(new Float64Array(T ** 4)), T);
}

/** M = K − I⊗I of a likelihood at h. */
function mTensorOf(lik: Likelihood, h: Float64Array): Float64Array {
  const T = h.length;
  const K = lik.fourthMoment(h, T);
  const C = lik.covariance(h, 1, T);
  return K.map((k, i) => k - C[Math.floor(i / (T * T))]! * C[i % (T * T)]!);
}

test('symmetrize4 keeps the quartic form, is symmetric and idempotent', () => {
  const rng = new Rng(1);
  for (const T of [1, 2, 3, 4]) {
    const A = rng.fillNormal(new Float64Array(T ** 4));
    const S = symmetrize4(A, T);
    for (let k = 0; k < 5; k++) {
      const u = rng.fillNormal(new Float64Array(T));
      const a = quarticForm(A, T, u);
      assert.ok(Math.abs(a - quarticForm(S, T, u)) <= 1e-12 * (1 + Math.abs(a)) * frob(A) * frob(u) ** 4);
    }
    const idx = (a: number, b: number, c: number, d: number): number => ((a * T + b) * T + c) * T + d;
    for (let a = 0; a < T; a++) for (let b = 0; b < T; b++) for (let c = 0; c < T; c++) for (let d = 0; d < T; d++) {
      const v = S[idx(a, b, c, d)]!;
      for (const w of [S[idx(b, a, c, d)]!, S[idx(a, c, b, d)]!, S[idx(d, b, c, a)]!, S[idx(c, d, a, b)]!]) assert.equal(w, v);
    }
    const S2 = symmetrize4(S, T);
    for (let i = 0; i < S.length; i++) assert.ok(Math.abs(S2[i]! - S[i]!) <= 1e-15 * frob(S));
  }
});

/** Checks an extremes result against grid extremes whose covering radius is r (geodesic). */
function checkAgainstGrid(A: Float64Array, T: number, gridMin: number, gridMax: number, r: number, label: string): void {
  const res = zEigenExtremes(A, T);
  const S = symmetrize4(A, T);
  const scale = frob(S);
  assert.ok(res.converged, `${label}: not converged (residuals ${res.minResidual}, ${res.maxResidual}, scale ${scale})`);
  // The solver's values are attained at unit vectors, so they lie inside [true min, true max];
  // the grid's extremes lie inside too. Beating the grid is what a global search must do; and
  // by second-order Taylor at the true extremiser, the grid is within 8‖A‖_F r² of it.
  assert.ok(res.max >= gridMax - 1e-12 * scale, `${label}: max ${res.max} below the grid's ${gridMax}`);
  assert.ok(res.min <= gridMin + 1e-12 * scale, `${label}: min ${res.min} above the grid's ${gridMin}`);
  assert.ok(res.max <= gridMax + 8 * scale * r * r, `${label}: max ${res.max} exceeds grid max + curvature bound`);
  assert.ok(res.min >= gridMin - 8 * scale * r * r, `${label}: min ${res.min} below grid min − curvature bound`);
  for (const [u, v] of [[res.argmax, res.max], [res.argmin, res.min]] as const) {
    assert.ok(Math.abs(frob(u) - 1) < 1e-12, `${label}: extremiser not unit`);
    assert.ok(Math.abs(quarticForm(A, T, u) - v) <= 1e-12 * scale, `${label}: value is not the form at the extremiser`);
  }
}

test('zEigenExtremes, T = 2: matches a dense circle grid (random tensors and M, K of every likelihood)', () => {
  const rng = new Rng(2);
  const n = 20000;
  const tensors: [string, Float64Array][] = [];
  for (let k = 0; k < 15; k++) tensors.push([`random ${k}`, randomSymmetric(2, rng)]);
  for (let k = 0; k < 15; k++) tensors.push([`nonsymmetric ${k}`, rng.fillNormal(new Float64Array(16))]);
  for (const name of ['categorical', 'bernoulli', 'poisson', 'gaussian'] as const) {
    const lik = makeLikelihood(name);
    for (let k = 0; k < 4; k++) {
      const h = Float64Array.from({ length: 2 }, () => (name === 'poisson' ? rng.uniform() * 5 - 3 : 3 * rng.normal()));
      tensors.push([`${name} M`, mTensorOf(lik, h)], [`${name} K`, lik.fourthMoment(h, 2)]);
    }
  }
  for (const [label, A] of tensors) {
    let lo = Infinity, hi = -Infinity;
    // u and −u give the same value: half a circle suffices.
    for (let k = 0; k < n; k++) {
      const t = (Math.PI * k) / n;
      const f = quarticForm(A, 2, [Math.cos(t), Math.sin(t)]);
      lo = Math.min(lo, f);
      hi = Math.max(hi, f);
    }
    checkAgainstGrid(A, 2, lo, hi, Math.PI / n / 2, label);
  }
});

test('zEigenExtremes, T = 3: matches a fine sphere grid', () => {
  const rng = new Rng(3);
  const nTheta = 240;
  const nPhi = 480;
  // Points (sin θ cos φ, sin θ sin φ, cos θ) on a half-open grid over the upper hemisphere (u ~ −u):
  // neighbouring points are at most Δθ apart in θ and sin θ·Δφ ≤ Δφ/2·2 in φ, so every point of
  // the sphere is within √((Δθ/2)² + (Δφ/2)²) of the grid.
  const dTheta = Math.PI / 2 / nTheta;
  const dPhi = (2 * Math.PI) / nPhi;
  const r = Math.hypot(dTheta / 2, dPhi / 2);
  const pts: number[][] = [];
  for (let i = 0; i <= nTheta; i++) {
    const th = i * dTheta;
    for (let j = 0; j < nPhi; j++) pts.push([Math.sin(th) * Math.cos(j * dPhi), Math.sin(th) * Math.sin(j * dPhi), Math.cos(th)]);
  }
  const tensors: [string, Float64Array][] = [];
  for (let k = 0; k < 4; k++) tensors.push([`random ${k}`, randomSymmetric(3, rng)]);
  for (const name of ['categorical', 'bernoulli', 'poisson'] as const) {
    const lik = makeLikelihood(name);
    for (let k = 0; k < 2; k++) {
      const h = Float64Array.from({ length: 3 }, () => (name === 'poisson' ? rng.uniform() * 5 - 3 : 2.5 * rng.normal()));
      tensors.push([`${name} M`, mTensorOf(lik, h)]);
    }
  }
  for (const [label, A] of tensors) {
    const S = symmetrize4(A, 3);
    let lo = Infinity, hi = -Infinity;
    for (const p of pts) {
      const f = quarticForm(S, 3, p);
      if (f < lo) lo = f;
      if (f > hi) hi = f;
    }
    checkAgainstGrid(A, 3, lo, hi, r, label);
  }
});

test('zEigenExtremes closed forms: Gaussian M ≡ 2/σ⁴, Bernoulli T = 1 gives v(1 − 4v), categorical minimum 0', () => {
  for (const variance of [1, 0.5, 3]) {
    const lik = makeLikelihood('gaussian', { variance });
    for (let T = 1; T <= 6; T++) {
      const h = Float64Array.from({ length: T }, (_, a) => a - 2);
      const res = zEigenExtremes(mTensorOf(lik, h), T);
      const expected = 2 / variance ** 2;
      assert.ok(Math.abs(res.min - expected) <= 1e-12 * expected, `gaussian σ²=${variance} T=${T}: min ${res.min}`);
      assert.ok(Math.abs(res.max - expected) <= 1e-12 * expected, `gaussian σ²=${variance} T=${T}: max ${res.max}`);
    }
  }
  const bern = makeLikelihood('bernoulli');
  for (const h of [0, 0.3, -1.7, 4, 8, -8]) {
    const p = sigmoid(h);
    const v = p * (1 - p);
    const res = zEigenExtremes(mTensorOf(bern, Float64Array.of(h)), 1);
    assert.ok(Math.abs(res.max - v * (1 - 4 * v)) <= 1e-15, `bernoulli h=${h}: ${res.max} vs ${v * (1 - 4 * v)}`);
    assert.equal(res.min, res.max);
  }
  // One-hot statistics: (1/√C)ᵀδ = 0 for every label, so the forms of M and K vanish there and
  // are ≥ 0 elsewhere (M: a variance; K: a fourth moment).
  const cat = makeLikelihood('categorical');
  const rng = new Rng(4);
  for (let C = 2; C <= 6; C++) {
    const h = rng.fillNormal(new Float64Array(C), 0, 2);
    for (const A of [mTensorOf(cat, h), cat.fourthMoment(h, C)]) {
      const res = zEigenExtremes(A, C);
      assert.ok(res.min >= -1e-15 * res.scale && res.min <= 1e-12 * res.scale, `categorical C=${C}: min ${res.min} (scale ${res.scale})`);
    }
  }
});

test('biquadraticMax: matches a grid over pairs of circles, and lies between λ̃_max and λ_max of the unfolding', () => {
  const rng = new Rng(5);
  const n = 400;
  for (let k = 0; k < 12; k++) {
    const A = k < 6 ? rng.fillNormal(new Float64Array(16)) : mTensorOf(makeLikelihood(k < 9 ? 'categorical' : 'bernoulli'), rng.fillNormal(new Float64Array(2), 0, 2));
    let hi = -Infinity;
    const c = Array.from({ length: n }, (_, i) => [Math.cos((Math.PI * i) / n), Math.sin((Math.PI * i) / n)]);
    for (const u of c) for (const v of c) hi = Math.max(hi, biquadraticForm(A, 2, u, v));
    const res = biquadraticMax(A, 2);
    const scale = frob(A);
    assert.ok(res.max >= hi - 1e-12 * scale, `case ${k}: ${res.max} below grid ${hi}`);
    // Grid spacing π/n in each angle: within 2·(8‖A‖_F)(π/2n)² of the sup (second order, two blocks).
    assert.ok(res.max <= hi + 16 * scale * (Math.PI / (2 * n)) ** 2, `case ${k}: ${res.max} above grid ${hi} + curvature bound`);
    assert.ok(Math.abs(biquadraticForm(A, 2, res.u, res.v) - res.max) <= 1e-14 * scale);
    // u = v is allowed, so γ̃_max ≥ λ̃_max.
    assert.ok(res.max >= zEigenExtremes(A, 2).max - 1e-12 * scale);
  }
});

test('tensor-eig rejects bad input', () => {
  const code = (fn: () => unknown, c: string): void => {
    assert.throws(fn, (e: unknown) => e instanceof FimkitError && e.code === c);
  };
  code(() => zEigenExtremes(new Float64Array(15), 2), 'SHAPE');
  code(() => zEigenExtremes(Float64Array.of(1, 2, 3, NaN, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0), 2), 'NON_FINITE');
  code(() => zEigenExtremes(new Float64Array(16), 2, { restarts: -1 }), 'INVALID_ARGUMENT');
  code(() => zEigenExtremes(new Float64Array(16), 2, { tol: 0 }), 'INVALID_ARGUMENT');
  code(() => zEigenExtremes(new Float64Array(16), 2, { starts: new Float64Array(3) }), 'SHAPE');
  code(() => biquadraticMax(new Float64Array(80), 3), 'SHAPE');
  // The zero form: min = max = 0.
  const z = zEigenExtremes(new Float64Array(81), 3);
  assert.equal(z.min, 0);
  assert.equal(z.max, 0);
});

// -------------------------------------------------------------------------------------------
// bounds: property tests

interface Case {
  lik: Likelihood;
  gaussVariance: number;
  h: Float64Array;
  J: Float64Array;
  H: Float64Array;
  T: number;
  P: number;
  N: number;
}

function randomCase(name: LikelihoodName, rng: Rng): Case {
  const T = name === 'categorical' ? 2 + rng.int(5) : name === 'bernoulli' ? 1 + rng.int(4) : 1 + rng.int(name === 'gaussian' ? 6 : 5);
  const gaussVariance = name === 'gaussian' && rng.uniform() < 0.3 ? [0.25, 4][rng.int(2)]! : 1;
  const lik = makeLikelihood(name, { variance: gaussVariance });
  let h: Float64Array;
  if (name === 'poisson') h = Float64Array.from({ length: T }, () => rng.uniform() * 6.5 - 4);
  else {
    const s = [0.3, 1, 3][rng.int(3)]!;
    h = rng.fillNormal(new Float64Array(T), 0, s);
    // Near-saturated logits.
    if (rng.uniform() < 0.3) for (let a = 0; a < T; a++) if (rng.uniform() < 0.5) h[a] = rng.uniform() < 0.5 ? 8 : -8;
  }
  const P = 3 + rng.int(8);
  const J = new Float64Array(T * P);
  const H = new Float64Array(T * P);
  for (let i = 0; i < P; i++) {
    const js = 10 ** (4 * rng.uniform() - 2);
    const hs = 10 ** (4 * rng.uniform() - 2);
    const jKind = rng.uniform();
    for (let a = 0; a < T; a++) {
      // Some parameters do not touch the output (J_i = 0), and for softmax some shift every
      // logit equally (J_i ∝ 1, so I(θ_i|x) = V1 = 0 exactly); H_i = 0 is a last-layer parameter.
      J[a * P + i] = jKind < 0.08 ? 0 : jKind < 0.16 && name === 'categorical' ? js : js * rng.normal();
      H[a * P + i] = rng.uniform() < 0.1 ? 0 : hs * rng.normal();
    }
  }
  const N = [1, 7, 5000][rng.int(3)]!;
  return { lik, gaussVariance, h, J, H, T, P, N };
}

interface ClosedForms {
  fim: Float64Array;
  v1: Float64Array;
  v2: Float64Array;
  /** Magnitude scales for the rounding slack. */
  fimScale: Float64Array;
  v1Scale: Float64Array;
  v2Scale: Float64Array;
}

function closedForms(c: Case, model: LabelModel): ClosedForms {
  const { T, P, N } = c;
  const C = c.lik.covariance(c.h, 1, T);
  const K = c.lik.fourthMoment(c.h, T);
  const cF = frob(C);
  const kF = frob(K);
  const out: ClosedForms = {
    fim: new Float64Array(P), v1: new Float64Array(P), v2: new Float64Array(P),
    fimScale: new Float64Array(P), v1Scale: new Float64Array(P), v2Scale: new Float64Array(P),
  };
  for (let i = 0; i < P; i++) {
    const Ji = column(c.J, T, P, i);
    const Hi = column(c.H, T, P, i);
    const fim = quadForm(C, Ji);
    const { m22, m11 } = mixedMoments(model, Ji, Ji);
    // The enumerated second moment is the same I(θ_i|x) by another route.
    assert.ok(Math.abs(m11 - fim) <= 1e-12 * frob(Ji) ** 2 * cF + 1e-300, `${c.lik.name} h=[${Array.from(c.h)}]: I(θ_i|x) two ways: ${m11} vs ${fim}`);
    out.fim[i] = fim;
    out.v1[i] = (m22 - fim * fim) / N;
    out.v2[i] = quadForm(C, Hi) / N;
    const j2 = frob(Ji) ** 2;
    out.fimScale[i] = j2 * cF;
    out.v1Scale[i] = (j2 * j2 * (kF + cF * cF)) / N;
    out.v2Scale[i] = (frob(Hi) ** 2 * cF) / N;
  }
  return out;
}

const sum = (x: ArrayLike<number>): number => Array.from(x).reduce((a, b) => a + b, 0);

class Tally {
  private readonly ratios = new Map<string, number[]>();
  private readonly undefinedCounts = new Map<string, number>();
  add(key: string, bounds: ArrayLike<number>, values: ArrayLike<number>, kind: 'upper' | 'lower' = 'upper'): void {
    const t = tightnessSummary(bounds, values, kind);
    const list = this.ratios.get(key) ?? [];
    for (const r of t.logRatios) if (!Number.isNaN(r)) list.push(r);
    this.ratios.set(key, list);
    this.undefinedCounts.set(key, (this.undefinedCounts.get(key) ?? 0) + bounds.length - t.defined);
  }
  report(title: string): void {
    const lines = [...this.ratios.entries()].map(([k, list]) => {
      const s = [...list].sort((a, b) => a - b);
      const med = s.length ? s[Math.floor(s.length / 2)]! : NaN;
      return `  ${k.padEnd(34)} median log ratio ${med.toFixed(3).padStart(8)}   (n = ${s.length}, undefined ${this.undefinedCounts.get(k)})`;
    });
    console.log(`${title}\n${lines.join('\n')}`);
  }
}

function propertyTest(name: LikelihoodName, cases: number, seed: number): void {
  test(`bounds hold for ${cases} random (h, J, H): ${name}`, () => {
    const rng = new Rng(seed);
    const tally = new Tally();
    for (let k = 0; k < cases; k++) {
      const c = randomCase(name, rng);
      const { T, P, N } = c;
      const label = `${name} case ${k} (T=${T}, P=${P}, N=${N}, h=[${Array.from(c.h, (v) => v.toFixed(2))}])`;
      const model = labelModel(c.lik, c.h, c.gaussVariance);
      const cf = closedForms(c, model);
      const spec = outputSpectrum(c.lik, c.h, { seed: k });
      assert.ok(spec.converged, `${label}: tensor eigen-solver did not converge`);
      const d = diagonalBounds(spec, c.J, c.H, N);
      const lmaxScale = frob(spec.covariance);

      // λ̃ of M and K are ordered and consistent with the matrix spectrum.
      const kScale = spec.kTilde.scale;
      leq(0, spec.mTilde.min, kScale, `${label}: λ̃_min(M) ≥ 0`);
      leq(spec.lambdaMin ** 2, spec.kTilde.min, kScale, `${label}: λ̃_min(K) ≥ λ²_min (Prop. 4.3)`);
      leq(spec.corollary42.mTildeMinLower, spec.mTilde.min, kScale, `${label}: Cor. 4.2 (11)`);
      leq(spec.mTilde.max, spec.corollary42.mTildeMaxUpper, kScale, `${label}: Cor. 4.2 (12)`);

      for (let i = 0; i < P; i++) {
        const at = `${label} param ${i}`;
        // Theorem 4.1 (7)–(9).
        leq(d.fimLower[i]!, cf.fim[i]!, cf.fimScale[i]!, `${at}: (7) lower`);
        leq(cf.fim[i]!, d.fimUpper[i]!, cf.fimScale[i]!, `${at}: (7) upper`);
        leq(d.v1Lower[i]!, cf.v1[i]!, cf.v1Scale[i]!, `${at}: (8) lower`);
        leq(cf.v1[i]!, d.v1Upper[i]!, cf.v1Scale[i]!, `${at}: (8) upper`);
        leq(d.v1Upper[i]!, d.v1UpperCertified[i]!, cf.v1Scale[i]!, `${at}: λ̃_max(M) ≤ λ_max(M̄)`);
        leq(d.v2Lower[i]!, cf.v2[i]!, cf.v2Scale[i]!, `${at}: (9) lower`);
        leq(cf.v2[i]!, d.v2Upper[i]!, cf.v2Scale[i]!, `${at}: (9) upper`);
        // Corollary 4.2: valid, and no tighter than (8).
        leq(d.corollary42.v1Lower[i]!, cf.v1[i]!, cf.v1Scale[i]!, `${at}: Cor. 4.2 lower`);
        leq(cf.v1[i]!, d.corollary42.v1Upper[i]!, cf.v1Scale[i]!, `${at}: Cor. 4.2 upper`);
        leq(d.corollary42.v1Lower[i]!, d.v1Lower[i]!, cf.v1Scale[i]!, `${at}: Cor. 4.2 lower is looser`);
        leq(d.v1Upper[i]!, d.corollary42.v1Upper[i]!, cf.v1Scale[i]!, `${at}: Cor. 4.2 upper is looser`);
        if (d.proposition43) {
          leq(cf.v1[i]!, d.proposition43.v1Upper[i]!, cf.v1Scale[i]!, `${at}: Prop. 4.3 upper`);
          leq(d.corollary42.v1Upper[i]!, d.proposition43.v1Upper[i]!, cf.v1Scale[i]!, `${at}: Prop. 4.3 is looser than Cor. 4.2`);
        }
        if (d.categorical) {
          leq(cf.fim[i]!, d.categorical.fimUpper[i]!, cf.fimScale[i]!, `${at}: Thm 5.2 I`);
          leq(cf.v1[i]!, d.categorical.v1Upper[i]!, cf.v1Scale[i]!, `${at}: Thm 5.2 V1`);
          leq(cf.v2[i]!, d.categorical.v2Upper[i]!, cf.v2Scale[i]!, `${at}: Thm 5.2 V2`);
        }
      }

      const prop = spec.proposition43;
      if (name === 'categorical' || name === 'bernoulli') {
        assert.ok(prop.applicable, `${label}: Prop. 4.3 applies to bounded statistics`);
        if (prop.applicable) {
          // B = max_y ‖δ(y)‖², recomputed by enumeration.
          const B = Math.max(...(model.kind === 'enumerated' ? model.outcomes.map((o) => frob(o.delta) ** 2) : [NaN]));
          assert.ok(Math.abs(prop.B - B) <= 1e-14 * B, `${label}: B ${prop.B} vs enumerated ${B}`);
          // ‖e_y − σ‖² ≤ 2 for one-hot statistics (the B of Theorem 5.2's proof); ≤ T for binary ones.
          assert.ok(prop.B <= (name === 'categorical' ? 2 : T), `${label}: B = ${prop.B}`);
          leq(spec.kTilde.max, prop.kTildeMaxUpper, kScale, `${label}: λ̃_max(K) ≤ Bλ_max`);
          leq(prop.kTildeMaxUpper, prop.kTildeMaxUpperLoose, kScale, `${label}: Bλ_max ≤ B²`);
        }
      } else {
        assert.ok(!prop.applicable && /unbounded|no finite bound/.test(prop.reason), `${label}: Prop. 4.3 must say it does not apply`);
      }
      if (name === 'categorical') {
        const cat = spec.categorical!;
        leq(spec.lambdaMax, cat.m, lmaxScale, `${label}: λ_max ≤ m(x)`);
        leq(spec.mTilde.max, 2 * cat.m, kScale, `${label}: λ̃_max(M) ≤ 2m(x)`);
        // Cov·1 = 0: λ_min = 0, λ̃_min(M) = 0, so every lower bound is 0.
        assert.ok(spec.lambdaMin <= 1e-14 * lmaxScale, `${label}: λ_min ${spec.lambdaMin}`);
        assert.ok(spec.mTilde.min <= 1e-12 * kScale, `${label}: λ̃_min(M) ${spec.mTilde.min}`);
      }
      if (name === 'gaussian') {
        // Proposition 5.1: both sides of (7)–(9) equal the closed forms.
        const g = d.gaussian!;
        const eq = (a: number, b: number, what: string): void => assert.ok(Math.abs(a - b) <= 1e-12 * Math.abs(b) + 1e-300, `${label}: ${what}: ${a} vs ${b}`);
        for (let i = 0; i < P; i++) {
          for (const [lo, hi, ex, cfv, what] of [
            [d.fimLower, d.fimUpper, g.fim, cf.fim, 'I'],
            [d.v1Lower, d.v1Upper, g.v1, cf.v1, 'V1'],
            [d.v2Lower, d.v2Upper, g.v2, cf.v2, 'V2'],
          ] as const) {
            eq(ex[i]!, cfv[i]!, `${what} closed form`);
            eq(lo[i]!, cfv[i]!, `${what} lower bound = closed form`);
            eq(hi[i]!, cfv[i]!, `${what} upper bound = closed form`);
          }
        }
      }

      // Traces.
      const tb = traceBounds(spec, c.J, c.H, N);
      const trI = sum(cf.fim), trV1 = sum(cf.v1), trV2 = sum(cf.v2);
      const sI = sum(cf.fimScale), s1 = sum(cf.v1Scale), s2 = sum(cf.v2Scale);
      for (const [lo, hi, v, s, what] of [
        [tb.sumTheorem41.fimLower, tb.sumTheorem41.fimUpper, trI, sI, 'Σ Thm 4.1 tr I'],
        [tb.sumTheorem41.v1Lower, tb.sumTheorem41.v1Upper, trV1, s1, 'Σ Thm 4.1 V1'],
        [tb.sumTheorem41.v2Lower, tb.sumTheorem41.v2Upper, trV2, s2, 'Σ Thm 4.1 V2'],
        [tb.theoremD1.fimLower, tb.theoremD1.fimUpper, trI, sI, 'Thm D.1 tr I'],
        [tb.theoremD1.v1Lower, tb.theoremD1.v1Upper, trV1, s1, 'Thm D.1 V1'],
        [tb.theoremD1.v1LowerSymmetric, tb.theoremD1.v1Upper, trV1, s1, 'Thm D.1 V1 (symmetric subspace)'],
        [tb.theoremD1.v2Lower, tb.theoremD1.v2Upper, trV2, s2, 'Thm D.1 V2'],
        [-Infinity, tb.corollary46.fimUpper, trI, sI, 'Cor 4.6 tr I'],
        [-Infinity, tb.corollary46.v1Upper, trV1, s1, 'Cor 4.6 V1'],
        [-Infinity, tb.corollary46.v2Upper, trV2, s2, 'Cor 4.6 V2'],
      ] as const) {
        leq(lo, v, s, `${label}: ${what} lower`);
        leq(v, hi, s, `${label}: ${what} upper`);
      }
      // Ruhe's upper bound Σ s²_t λ_t is below both arguments of the safe Corollary 4.6 minimum
      // for tr I and V2 (s_t ≤ s_max; λ_t ≤ λ_max with Σ s²_t = ‖·‖²_F). For V1 only below the
      // first: the second uses λ̃_max(M), the sup over rank-one uuᵀ, which can be smaller than
      // λ_max(M̄), the sup over all symmetric matrices.
      leq(tb.theoremD1.fimUpper, tb.corollary46.fimUpper, sI, `${label}: D.1 ≤ Cor 4.6 (tr I)`);
      leq(tb.theoremD1.v2Upper, tb.corollary46.v2Upper, s2, `${label}: D.1 ≤ Cor 4.6 (V2)`);
      leq(tb.theoremD1.v1Upper, (tb.vJacSquaredSingularValues[0]! * spec.mBar.trace) / N, s1, `${label}: D.1 ≤ s²_max(vJac) tr M̄ (V1)`);
      leq(tb.theoremD1.v1Lower, tb.theoremD1.v1LowerSymmetric, s1, `${label}: symmetric-subspace D.1 lower is tighter`);

      // Off-diagonal bounds on every 4th case (the biquadratic search is the costly part).
      if (k % 4 === 0 && P >= 2) {
        const pairs: [number, number][] = [];
        for (let q = 0; q < 4; q++) {
          const i = rng.int(P);
          let j = rng.int(P - 1);
          if (j >= i) j++;
          pairs.push([i, j]);
        }
        const mixed = rng.fillNormal(new Float64Array(T * pairs.length), 0, 10 ** (2 * rng.uniform() - 1));
        const od = offDiagonalBounds(spec, c.J, pairs, mixed, N, { seed: k });
        leq(spec.mTilde.max, od.gammaMax.max, kScale, `${label}: γ̃_max ≥ λ̃_max(M)`);
        leq(od.gammaMax.max, od.gammaMaxCertificate, kScale, `${label}: γ̃_max ≤ λ_max(M̄)`);
        const v1 = new Float64Array(pairs.length);
        const v2 = new Float64Array(pairs.length);
        const C = c.lik.covariance(c.h, 1, T);
        pairs.forEach(([i, j], q) => {
          const Ji = column(c.J, T, P, i);
          const Jj = column(c.J, T, P, j);
          const { m22, m11 } = mixedMoments(model, Ji, Jj);
          v1[q] = (m22 - m11 * m11) / N;
          const Hm = column(mixed, T, pairs.length, q);
          v2[q] = quadForm(C, Hm) / N;
          const s = ((frob(Ji) * frob(Jj)) ** 2 * (frob(spec.fourthMoment) + lmaxScale ** 2)) / N;
          leq(v1[q]!, od.v1Upper[q]!, s, `${label}: Thm C.1 pair (${i}, ${j})`);
          leq(od.v1Upper[q]!, od.v1UpperCertified[q]!, s, `${label}: certified C.1 is looser`);
          leq(v2[q]!, od.v2Upper![q]!, (frob(Hm) ** 2 * lmaxScale) / N, `${label}: Cor C.3 pair (${i}, ${j})`);
        });
        tally.add('Thm C.1 Var(Î1_ij)', od.v1Upper, v1);
        tally.add('Cor C.3 Var(Î2_ij)', od.v2Upper!, v2);
      }

      tally.add('Thm 4.1 (7) I upper', d.fimUpper, cf.fim);
      tally.add('Thm 4.1 (8) V1 upper', d.v1Upper, cf.v1);
      tally.add('Thm 4.1 (9) V2 upper', d.v2Upper, cf.v2);
      if (name !== 'categorical') {
        tally.add('Thm 4.1 (7) I lower', d.fimLower, cf.fim, 'lower');
        tally.add('Thm 4.1 (8) V1 lower', d.v1Lower, cf.v1, 'lower');
        tally.add('Thm 4.1 (9) V2 lower', d.v2Lower, cf.v2, 'lower');
      }
      tally.add('Cor 4.2 V1 upper', d.corollary42.v1Upper, cf.v1);
      tally.add('λ_max(M̄) V1 upper (certified)', d.v1UpperCertified, cf.v1);
      if (d.proposition43) tally.add('Prop 4.3 V1 upper', d.proposition43.v1Upper, cf.v1);
      if (d.categorical) {
        tally.add('Thm 5.2 I upper (m)', d.categorical.fimUpper, cf.fim);
        tally.add('Thm 5.2 V1 upper (2m)', d.categorical.v1Upper, cf.v1);
      }
      tally.add('Thm D.1 tr I upper', [tb.theoremD1.fimUpper], [trI]);
      tally.add('Thm D.1 V1(θ|x) upper', [tb.theoremD1.v1Upper], [trV1]);
      tally.add('Thm D.1 V2(θ|x) upper', [tb.theoremD1.v2Upper], [trV2]);
      tally.add('Cor 4.6 (safe) V1(θ|x) upper', [tb.corollary46.v1Upper], [trV1]);
    }
    tally.report(`tightness log(UB/V) [log(V/LB) for lower bounds], ${name}:`);
  });
}

propertyTest('categorical', 200, 11);
propertyTest('bernoulli', 200, 12);
propertyTest('gaussian', 200, 13);
propertyTest('poisson', 200, 14);

test('bounds on a sigmoid MLP\'s Jacobians and Hessian diagonals; V2 = 0 in the last layer (Remark 4.4)', () => {
  const rng = new Rng(31);
  for (const [name, T] of [['categorical', 3], ['bernoulli', 2], ['poisson', 2]] as const) {
    const model = buildModel(mlpSpec([3, 4, T], 'sigmoid'), rng.derive(name), 'float64');
    const B = 3;
    const x = Tensor.uniform([B, 3], rng, -2, 2, 'float64');
    const h = Float64Array.from(model.forward(x).data);
    const Jall = perSampleJacobians(model, x);
    const Hall = perSampleOutputHessianDiag(model, x);
    const P = model.numParams();
    const lik = makeLikelihood(name);
    for (let b = 0; b < B; b++) {
      const c: Case = {
        lik, gaussVariance: 1, T, P, N: 10,
        h: h.slice(b * T, (b + 1) * T), J: Jall.slice(b * T * P, (b + 1) * T * P), H: Hall.slice(b * T * P, (b + 1) * T * P),
      };
      const cf = closedForms(c, labelModel(lik, c.h, 1));
      const spec = outputSpectrum(lik, c.h);
      const d = diagonalBounds(spec, c.J, c.H, c.N);
      let lastLayer = 0;
      for (let i = 0; i < P; i++) {
        leq(cf.fim[i]!, d.fimUpper[i]!, cf.fimScale[i]!, `${name} input ${b} param ${i}: I upper`);
        leq(d.v1Lower[i]!, cf.v1[i]!, cf.v1Scale[i]!, `${name} input ${b} param ${i}: V1 lower`);
        leq(cf.v1[i]!, d.v1Upper[i]!, cf.v1Scale[i]!, `${name} input ${b} param ${i}: V1 upper`);
        leq(cf.v2[i]!, d.v2Upper[i]!, cf.v2Scale[i]!, `${name} input ${b} param ${i}: V2 upper`);
        if (d.hNorm2[i] === 0) {
          // A last-layer weight or bias: h is linear in it, so V2 = 0 and log(UB/V2) is undefined.
          lastLayer++;
          assert.equal(cf.v2[i], 0);
          assert.equal(d.v2Upper[i], 0);
          assert.equal(tightness(d.v2Upper[i]!, cf.v2[i]!).logRatio, null);
        }
      }
      assert.equal(lastLayer, 4 * T + T, `${name}: ${lastLayer} parameters with ∂²h/∂θ_i² = 0, expected the ${5 * T} of the last layer`);
    }
  }
});

test('Lemma 4.8 and the joint bounds over sets of inputs', () => {
  const rng = new Rng(21);
  for (const name of ['categorical', 'bernoulli', 'gaussian', 'poisson'] as const) {
    for (let g = 0; g < 12; g++) {
      const base = randomCase(name, rng);
      const { T, P, lik } = base;
      const count = 2 + rng.int(7);
      // Every input of a set shares the first case's T and P.
      const inputs = Array.from({ length: count }, () => {
        const h = name === 'poisson' ? Float64Array.from({ length: T }, () => rng.uniform() * 6.5 - 4) : rng.fillNormal(new Float64Array(T), 0, [0.5, 2, 5][rng.int(3)]!);
        const js = 10 ** (2 * rng.uniform() - 1);
        const hs = 10 ** (2 * rng.uniform() - 1);
        return { h, J: rng.fillNormal(new Float64Array(T * P), 0, js), H: rng.fillNormal(new Float64Array(T * P), 0, hs) };
      });
      const weights = g % 2 ? Float64Array.from({ length: count }, () => rng.uniform() + 0.1) : undefined;
      const wsum = weights ? sum(weights) : count;
      const w = (k: number): number => (weights ? weights[k]! : 1) / wsum;
      const N = base.N;
      const Nx = 1 + rng.int(4);
      // Per-input closed forms, then Var_q I(θ_i|x) and Theorem 4.7's V_j(θ_i).
      const per = inputs.map((inp) => closedForms({ ...base, h: inp.h, J: inp.J, H: inp.H, N }, labelModel(lik, inp.h, base.gaussVariance)));
      const lemma = inputVarianceBound(lik, inputs, weights);
      const joint = jointVarianceBounds(lik, inputs, { labelsPerInput: N, inputsPerEstimate: Nx, weights });
      for (let i = 0; i < P; i++) {
        let m = 0, m2 = 0, ev1 = 0, ev2 = 0, sc = 0, s1 = 0, s2 = 0;
        per.forEach((cf, k) => {
          m += w(k) * cf.fim[i]!;
          m2 += w(k) * cf.fim[i]! ** 2;
          ev1 += w(k) * cf.v1[i]!;
          ev2 += w(k) * cf.v2[i]!;
          sc += w(k) * cf.fimScale[i]! ** 2;
          s1 += w(k) * cf.v1Scale[i]!;
          s2 += w(k) * cf.v2Scale[i]!;
        });
        const varq = m2 - m * m;
        const at = `${name} set ${g} param ${i}`;
        assert.ok(Math.abs(lemma.meanFim[i]! - m) <= 1e-12 * Math.sqrt(sc), `${at}: E_q I`);
        assert.ok(Math.abs(lemma.variance[i]! - Math.max(0, varq)) <= 1e-12 * sc, `${at}: Var_q I ${lemma.variance[i]} vs ${varq}`);
        leq(varq, lemma.bound[i]!, sc, `${at}: Lemma 4.8`);
        const V1 = (varq + ev1) / Nx;
        const V2 = (varq + ev2) / Nx;
        leq(joint.v1Lower[i]!, V1, (sc + s1) / Nx, `${at}: joint V1 lower`);
        leq(V1, joint.v1Upper[i]!, (sc + s1) / Nx, `${at}: joint V1 upper`);
        leq(joint.v2Lower[i]!, V2, (sc + s2) / Nx, `${at}: joint V2 lower`);
        leq(V2, joint.v2Upper[i]!, (sc + s2) / Nx, `${at}: joint V2 upper`);
      }
    }
  }
});

test('tightness: log(UB/V), with null and a reason where it is undefined', () => {
  assert.equal(tightness(Math.E, 1).logRatio, 1);
  assert.equal(tightness(2, 2).logRatio, 0);
  assert.ok(Math.abs(tightness(1, Math.E, 'lower').logRatio! - 1) < 1e-15);
  const zeroV = tightness(3, 0);
  assert.equal(zeroV.logRatio, null);
  assert.match(zeroV.reason!, /zero variance/);
  assert.equal(tightness(0, 0).logRatio, null);
  assert.match(tightness(0, 0).reason!, /0\/0/);
  assert.equal(tightness(0, 1, 'lower').logRatio, null);
  assert.equal(tightness(-1, 1).logRatio, null);
  assert.match(tightness(-1, 1).reason!, /violated/);
  assert.ok(tightness(1, 2).logRatio! < 0, 'a violated bound shows as a negative log ratio');
  assert.equal(tightness(NaN, 1).logRatio, null);
  const s = tightnessSummary([1, 2, 4, 5], [1, 1, 0, 5]);
  assert.equal(s.defined, 3);
  assert.equal(s.median, 0);
  assert.ok(Math.abs(s.max! - Math.log(2)) < 1e-15);
  assert.ok(Number.isNaN(s.logRatios[2]!));
});

test('bounds reject bad input with the quantity named', () => {
  const lik = makeLikelihood('categorical');
  const spec = outputSpectrum(lik, Float64Array.of(0.1, -0.3, 0.5));
  const code = (fn: () => unknown, c: string, re: RegExp): void => {
    assert.throws(fn, (e: unknown) => e instanceof FimkitError && e.code === c && re.test(e.message));
  };
  code(() => diagonalBounds(spec, new Float64Array(7), new Float64Array(6)), 'SHAPE', /Jacobian/);
  code(() => diagonalBounds(spec, new Float64Array(6), new Float64Array(9)), 'SHAPE', /Hessian diagonal H has 3 columns/);
  code(() => diagonalBounds(spec, new Float64Array(6), new Float64Array(6), 0), 'INVALID_ARGUMENT', /labels per input/);
  code(() => diagonalBounds(spec, Float64Array.of(0, 0, NaN, 0, 0, 0), new Float64Array(6)), 'NON_FINITE', /Jacobian/);
  code(() => outputSpectrum(lik, Float64Array.of(0, Infinity)), 'NON_FINITE', /h\[0, 1\]/);
  code(() => outputSpectrum(lik, Float64Array.of(0)), 'SHAPE', /≥ 2/);
  code(() => offDiagonalBounds(spec, new Float64Array(6), [[0, 2]]), 'SHAPE', /pair 0/);
  code(() => offDiagonalBounds(spec, new Float64Array(6), [[0, 1]], new Float64Array(2)), 'SHAPE', /mixed second derivatives/);
  code(() => inputVarianceBound(lik, []), 'SHAPE', /no inputs/);
  code(() => inputVarianceBound(lik, [{ h: [0, 0, 0], J: new Float64Array(6) }, { h: [0, 0, 0], J: new Float64Array(9) }]), 'SHAPE', /input 1 has 3 parameters/);
  code(() => inputVarianceBound(lik, [{ h: [0, 0, 0], J: new Float64Array(6) }], [-1]), 'INVALID_ARGUMENT', /weight/);
  code(() => jointVarianceBounds(lik, [{ h: [0, 0, 0], J: new Float64Array(6) }]), 'SHAPE', /no Hessian diagonal/);
});
