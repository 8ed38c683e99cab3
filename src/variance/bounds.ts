/**
 * Bounds on the Fisher information and on the variances of its two diagonal estimators at one
 * input x, from "Trade-Offs of Diagonal Fisher Information Matrix Estimators" (cited below as
 * TO) and "On the Variance of the Fisher Information for Deep Learning" (cited as VF).
 *
 * Everything works on plain arrays for ONE input x:
 *   h  [T]      the natural parameters (network output) at x,
 *   J  [T, P]   J[a·P + i] = ∂h_a/∂θ_i            (column i is J_i = ∂_i h),
 *   H  [T, P]   H[a·P + i] = ∂²h_a/∂θ_i²          (column i is H_i = ∂²_i h),
 *   N           labels drawn per input; every variance (and variance bound) carries a 1/N.
 *
 * The quantities bounded (TO Lemma 3.1, from VF's Eq. 6 and Theorems 4 and 6), with δ = t(y) − η:
 *   I(θ_i|x)  = J_iᵀ I(h|x) J_i                       I(h|x) = Cov(t|x)
 *   V1(θ_i|x) = (1/N) J_i^{⊗4} : M,                    M = K − I⊗I, K = E[δ^{⊗4}]
 *   V2(θ_i|x) = (1/N) H_iᵀ I(h|x) H_i.
 * u^{⊗4}:M = E[(uᵀδ)⁴] − (uᵀ I u)² = Var((uᵀδ)²) ≥ 0.
 *
 * The spectral quantities are computed once per input (`outputSpectrum`): the eigenvalues of
 * I(h|x), the extreme quartic-form values λ̃_min/λ̃_max (TO Eq. 10) of M and of K on the unit
 * sphere (tensor-eig.ts), and the spectrum of M reshaped to T²×T². The bound functions then cost
 * O(T·P) per parameter (plus O(T⁴·P) for the vJac spectrum of the trace bounds).
 *
 * Numerical note: λ̃_max is found by a multi-start local method; the value reported is attained at
 * a unit vector, so it can only err low. The tests compare against dense sphere grids.
 */
import { fail } from '../core/errors.js';
import { checkOptions, type OptionSchema } from '../core/options.js';

/** The rules SpectrumOptions (and the tensor eigen-solvers' options) are checked against. */
export const SPECTRUM_OPTION_SCHEMA: OptionSchema = {
  restarts: { kind: 'int', min: 0 }, seed: { kind: 'seed' }, tol: { kind: 'number', min: 0, exclusiveMin: true }, maxIterations: { kind: 'int', min: 1 },
};
import { sigmoid } from '../core/scalar.js';
import { matMul, symmetricEigen } from '../fisher/linalg.js';
import { softmaxRow } from '../likelihoods/categorical.js';
import { checkRow, type Likelihood, type LikelihoodName } from '../likelihoods/likelihood.js';
import { biquadraticMax, zEigenExtremes, type BiquadraticMax, type ZEigenExtremes } from './tensor-eig.js';

// -------------------------------------------------------------------------------------------
// Validation

function checkLabels(N: number): void {
  if (!Number.isInteger(N) || N < 1) fail('INVALID_ARGUMENT', `labels per input N must be a positive integer, got ${N}`);
}

function checkFinite(what: string, x: ArrayLike<number>): void {
  for (let k = 0; k < x.length; k++) if (!Number.isFinite(x[k]!)) fail('NON_FINITE', `${what}: entry ${k} is ${x[k]}`);
}

/** P from a [T, P] array, checking the size. */
function columnsOf(what: string, X: ArrayLike<number>, T: number): number {
  if (X.length % T !== 0) fail('SHAPE', `${what} must be [T, P] with T = ${T}, but it holds ${X.length} values (not a multiple of ${T})`);
  checkFinite(what, X);
  return X.length / T;
}

function checkDerivatives(spec: OutputSpectrum, J: ArrayLike<number>, H: ArrayLike<number> | null): number {
  const P = columnsOf('Jacobian J', J, spec.T);
  if (H !== null) {
    const PH = columnsOf('Hessian diagonal H', H, spec.T);
    if (PH !== P) fail('SHAPE', `Hessian diagonal H has ${PH} columns but the Jacobian J has ${P} (both must be [T, P], T = ${spec.T})`);
  }
  return P;
}

/** ‖column i‖² of a [T, P] array, for every i. */
function columnNorms2(X: ArrayLike<number>, T: number, P: number): Float64Array {
  const out = new Float64Array(P);
  for (let a = 0; a < T; a++) for (let i = 0; i < P; i++) out[i]! += X[a * P + i]! ** 2;
  return out;
}

/** Eigenvalues of a symmetric n×n matrix, descending. */
function eigenvaluesDescending(A: Float64Array, n: number): Float64Array {
  if (n === 0) return new Float64Array(0);
  return symmetricEigen(A, n).values.reverse();
}

/** `x` (descending) padded with zeros, or cut, to length n. */
function padTo(x: Float64Array, n: number): Float64Array {
  const out = new Float64Array(n);
  out.set(x.subarray(0, Math.min(n, x.length)));
  return out;
}

// -------------------------------------------------------------------------------------------
// Spectral summary of the output distribution at x

/** Proposition 4.3 of TO. */
export type Proposition43 =
  | {
      applicable: true;
      /** B = max_y ‖t(y) − η‖² (exact for one-hot and binary statistics). */
      B: number;
      /** λ̃_max(K) ≤ B·λ_max(I(h|x)) ≤ B². */
      kTildeMaxUpper: number;
      kTildeMaxUpperLoose: number;
      /** λ̃_min(K) ≥ λ²_min(I(h|x)) (Jensen; the "trivial" companion). */
      kTildeMinLower: number;
      /** λ̃_max(M) ≤ B·λ_max − λ²_min, chaining with Corollary 4.2 (12). */
      mTildeMaxUpper: number;
    }
  | { applicable: false; reason: string };

/** Theorem 5.2 of TO (categorical outputs). */
export interface CategoricalSpectrumBounds {
  /** σ = softmax(h), its largest entry, 1 − ‖σ‖² (= Σ σ_c(1 − σ_c), summed without cancellation). */
  sigma: Float64Array;
  sigmaMax: number;
  oneMinusNormSq: number;
  /** m(x) = min(σ_max, 1 − ‖σ‖²). */
  m: number;
  /** λ_max(I(h|x)) ≤ m(x). */
  lambdaMaxUpper: number;
  /** λ̃_max(K − I⊗I) ≤ 2 m(x). */
  mTildeMaxUpper: number;
}

/** Proposition 5.1 of TO: isotropic Gaussian, where every Theorem 4.1 bound is an equality. */
export interface GaussianExact {
  /** λ_min = λ_max = 1/σ² (the covariance of t = y/σ²). */
  lambda: number;
  /** λ̃_min = λ̃_max of M: 2/σ⁴ (K is the three pairings of I, so u^{⊗4}:M = 2(uᵀIu)²). */
  mTilde: number;
  /** λ̃_min = λ̃_max of K: 3/σ⁴. */
  kTilde: number;
}

export interface OutputSpectrum {
  likelihood: LikelihoodName;
  T: number;
  h: Float64Array;
  /** I(h|x) = Cov(t|x), [T, T]. */
  covariance: Float64Array;
  /** Eigenvalues of I(h|x), descending; row k of `eigenvectors` ([T, T]) is the unit eigenvector of eigenvalues[k]. */
  eigenvalues: Float64Array;
  eigenvectors: Float64Array;
  /** λ_min, λ_max of I(h|x). I(h|x) is PSD, so λ_min is clamped at 0 against rounding. */
  lambdaMin: number;
  lambdaMax: number;
  /** K = E[δ^{⊗4}] and M = K − I⊗I (M_abcd = K_abcd − I_ab I_cd, not symmetrised), [T⁴]. */
  fourthMoment: Float64Array;
  mTensor: Float64Array;
  /** λ̃_min/λ̃_max of M and of K (TO Eq. 10) with their minimisers, residuals and convergence. */
  mTilde: ZEigenExtremes;
  kTilde: ZEigenExtremes;
  /** Whether the tensor eigen-solver met its residual tolerance for all four extremes. */
  converged: boolean;
  /** TO Corollary 4.2: (11) λ̃_min(M) ≥ max{0, λ̃_min(K) − λ²_max}, (12) λ̃_max(M) ≤ λ̃_max(K) − λ²_min. */
  corollary42: { mTildeMinLower: number; mTildeMaxUpper: number };
  proposition43: Proposition43;
  /** Theorem 5.2 quantities; null unless the likelihood is categorical. */
  categorical: CategoricalSpectrumBounds | null;
  /** Proposition 5.1 closed forms; null unless the likelihood is Gaussian. */
  gaussian: GaussianExact | null;
  /**
   * M̄, M reshaped to T²×T² (M̄_(ab),(cd) = M_abcd): symmetric and PSD, since for a T×T matrix A,
   * vec(A)ᵀM̄ vec(A) = Var(δᵀAδ). Its eigenvalues (length T², descending); the T(T−1)/2 of the
   * antisymmetric matrices are exactly 0 (M_abcd = M_bacd), so they are computed on the
   * T(T+1)/2-dimensional space of symmetric matrices (`symmetricEigenvalues`) and padded.
   * trace = Σ_ab K_aabb − ‖I(h|x)‖²_F.
   */
  mBar: { eigenvalues: Float64Array; symmetricEigenvalues: Float64Array; trace: number };
}

export interface SpectrumOptions {
  /** Options of the tensor eigen-solver (restarts, seed, tolerance). */
  restarts?: number;
  seed?: number | string;
  tol?: number;
  maxIterations?: number;
}

/** Index pairs (a ≤ b) spanning the symmetric T×T matrices; weight 2 for off-diagonal pairs. */
function symmetricPairs(T: number): { a: Int32Array; b: Int32Array; weight: Float64Array } {
  const n = (T * (T + 1)) / 2;
  const a = new Int32Array(n);
  const b = new Int32Array(n);
  const weight = new Float64Array(n);
  let k = 0;
  for (let i = 0; i < T; i++) {
    for (let j = i; j < T; j++) {
      a[k] = i;
      b[k] = j;
      weight[k] = i === j ? 1 : 2;
      k++;
    }
  }
  return { a, b, weight };
}

/**
 * The spectral summary of the output distribution p(y|x) at natural parameters h: everything the
 * per-parameter bounds need. Needs the fourth-moment tensor, so T is limited to the likelihood's
 * tensor limit (48).
 */
export function outputSpectrum(lik: Likelihood, h: ArrayLike<number>, opts: SpectrumOptions = {}): OutputSpectrum {
  checkOptions('outputSpectrum', opts, SPECTRUM_OPTION_SCHEMA);
  const T = h.length;
  checkRow(lik.name, h, T);
  lik.checkOutput(T);
  const hRow = Float64Array.from(h);
  const covariance = lik.covariance(hRow, 1, T);
  const eig = symmetricEigen(covariance, T);
  const eigenvalues = new Float64Array(T);
  const eigenvectors = new Float64Array(T * T);
  for (let k = 0; k < T; k++) {
    const src = T - 1 - k;
    eigenvalues[k] = eig.values[src]!;
    for (let a = 0; a < T; a++) eigenvectors[k * T + a] = eig.vectors[a * T + src]!;
  }
  const lambdaMax = Math.max(0, eigenvalues[0]!);
  const lambdaMin = Math.max(0, eigenvalues[T - 1]!);

  const K = lik.fourthMoment(hRow, T);
  const T2 = T * T;
  const M = new Float64Array(T2 * T2);
  for (let ab = 0; ab < T2; ab++) {
    for (let cd = 0; cd < T2; cd++) M[ab * T2 + cd] = K[ab * T2 + cd]! - covariance[ab]! * covariance[cd]!;
  }
  const eigenOpts = { restarts: opts.restarts, seed: opts.seed, tol: opts.tol, maxIterations: opts.maxIterations, starts: eigenvectors };
  const mTilde = zEigenExtremes(M, T, eigenOpts);
  const kTilde = zEigenExtremes(K, T, eigenOpts);

  const corollary42 = {
    mTildeMinLower: Math.max(0, kTilde.min - lambdaMax * lambdaMax),
    mTildeMaxUpper: kTilde.max - lambdaMin * lambdaMin,
  };

  // M̄ on the symmetric matrices: with the orthonormal basis e_aa and (e_ab + e_ba)/√2, its
  // matrix is D^{1/2} M̄_p D^{1/2} with M̄_p[(ab),(cd)] = M_abcd (a ≤ b, c ≤ d) and D the pair
  // weights (1 on the diagonal, 2 off it). Entries are averaged over the index symmetries
  // a↔b, c↔d, (ab)↔(cd) that M has exactly, so rounding cannot make it asymmetric.
  const pairs = symmetricPairs(T);
  const Tp = pairs.a.length;
  const Mp = new Float64Array(Tp * Tp);
  const at = (a: number, b: number, c: number, d: number): number => M[((a * T + b) * T + c) * T + d]!;
  for (let p = 0; p < Tp; p++) {
    const a = pairs.a[p]!, b = pairs.b[p]!;
    for (let q = 0; q < Tp; q++) {
      const c = pairs.a[q]!, d = pairs.b[q]!;
      const avg = (at(a, b, c, d) + at(b, a, c, d) + at(a, b, d, c) + at(b, a, d, c)
        + at(c, d, a, b) + at(d, c, a, b) + at(c, d, b, a) + at(d, c, b, a)) / 8;
      Mp[p * Tp + q] = Math.sqrt(pairs.weight[p]! * pairs.weight[q]!) * avg;
    }
  }
  const symmetricEigenvalues = eigenvaluesDescending(Mp, Tp);
  let mBarTrace = 0;
  for (let a = 0; a < T; a++) for (let b = 0; b < T; b++) mBarTrace += at(a, b, a, b);

  let categorical: CategoricalSpectrumBounds | null = null;
  let proposition43: Proposition43;
  if (lik.name === 'categorical') {
    const sigma = new Float64Array(T);
    const comp = new Float64Array(T);
    softmaxRow(hRow, 0, T, sigma, comp);
    let sigmaMax = 0, oneMinusNormSq = 0;
    for (let c = 0; c < T; c++) {
      sigmaMax = Math.max(sigmaMax, sigma[c]!);
      oneMinusNormSq += sigma[c]! * comp[c]!;
    }
    const m = Math.min(sigmaMax, oneMinusNormSq);
    categorical = { sigma, sigmaMax, oneMinusNormSq, m, lambdaMaxUpper: m, mTildeMaxUpper: 2 * m };
    // ‖e_y − σ‖² = (1 − σ_y)² + Σ_{c≠y} σ_c², largest over y; the sum over c ≠ y is taken
    // directly (not ‖σ‖² − σ_y², which cancels when σ_y is near 1).
    let B = 0;
    for (let y = 0; y < T; y++) {
      let rest = 0;
      for (let c = 0; c < T; c++) if (c !== y) rest += sigma[c]! ** 2;
      B = Math.max(B, comp[y]! ** 2 + rest);
    }
    proposition43 = prop43(B, lambdaMin, lambdaMax);
  } else if (lik.name === 'bernoulli') {
    // t(y) ∈ {0,1}^T: ‖t − p‖² is largest when every y_a is the less likely value.
    let B = 0;
    for (let a = 0; a < T; a++) B += Math.max(sigmoid(hRow[a]!) ** 2, sigmoid(-hRow[a]!) ** 2);
    proposition43 = prop43(B, lambdaMin, lambdaMax);
  } else {
    proposition43 = {
      applicable: false,
      reason: lik.name === 'gaussian'
        ? 'gaussian: t(y) = y/σ² ranges over all of R^T, so ‖t(y) − η‖² has no finite bound B'
        : `${lik.name}: the counts t(y) = y are unbounded, so ‖t(y) − η‖² has no finite bound B`,
    };
  }
  let gaussian: GaussianExact | null = null;
  if (lik.name === 'gaussian') {
    const lambda = covariance[0]!;
    gaussian = { lambda, mTilde: 2 * lambda * lambda, kTilde: 3 * lambda * lambda };
  }
  return {
    likelihood: lik.name, T, h: hRow, covariance, eigenvalues, eigenvectors, lambdaMin, lambdaMax,
    fourthMoment: K, mTensor: M, mTilde, kTilde, converged: mTilde.converged && kTilde.converged, corollary42, proposition43, categorical, gaussian,
    mBar: { eigenvalues: padTo(symmetricEigenvalues, T2), symmetricEigenvalues, trace: mBarTrace },
  };
}

/**
 * TO Proposition 4.3: if ‖t(y) − η‖² ≤ B for all y then
 *   u^{⊗4}:K = E[(uᵀδ)⁴] ≤ E[(uᵀδ)²‖δ‖²] ≤ B·uᵀIu ≤ B·λ_max,  and  λ_max ≤ tr I = E‖δ‖² ≤ B.
 */
function prop43(B: number, lambdaMin: number, lambdaMax: number): Proposition43 {
  return {
    applicable: true, B,
    kTildeMaxUpper: B * lambdaMax,
    kTildeMaxUpperLoose: B * B,
    kTildeMinLower: lambdaMin * lambdaMin,
    mTildeMaxUpper: B * lambdaMax - lambdaMin * lambdaMin,
  };
}

// -------------------------------------------------------------------------------------------
// Per-parameter (diagonal) bounds

export interface DiagonalBounds {
  P: number;
  N: number;
  /** ‖J_i‖², ‖H_i‖². */
  jNorm2: Float64Array;
  hNorm2: Float64Array;
  /**
   * TO Theorem 4.1:
   *   (7) ‖J_i‖² λ_min ≤ I(θ_i|x) ≤ ‖J_i‖² λ_max
   *   (8) (1/N)‖J_i‖⁴ λ̃_min(M) ≤ V1(θ_i|x) ≤ (1/N)‖J_i‖⁴ λ̃_max(M)
   *   (9) (1/N)‖H_i‖² λ_min ≤ V2(θ_i|x) ≤ (1/N)‖H_i‖² λ_max
   * (λ, λ̃ of I(h|x) and M = K − I⊗I; Courant–Fischer on the unit vectors J_i/‖J_i‖, H_i/‖H_i‖.)
   */
  fimLower: Float64Array;
  fimUpper: Float64Array;
  v1Lower: Float64Array;
  v1Upper: Float64Array;
  v2Lower: Float64Array;
  v2Upper: Float64Array;
  /**
   * (8)'s upper bound with λ_max(M̄) in place of λ̃_max(M): u^{⊗4}:M = vec(uuᵀ)ᵀ M̄ vec(uuᵀ) with
   * ‖vec(uuᵀ)‖ = 1, so λ̃_max(M) ≤ λ_max(M̄). Looser, but certified: it needs no global search
   * on the sphere, only a symmetric eigensolve.
   */
  v1UpperCertified: Float64Array;
  /** (8) with λ̃(M) replaced by the Corollary 4.2 bounds (11)–(12) from λ̃(K) and λ(I): looser. */
  corollary42: { v1Lower: Float64Array; v1Upper: Float64Array };
  /** (8) with λ̃_max(M) ≤ B·λ_max − λ²_min (Proposition 4.3 + Corollary 4.2); null when B is infinite. */
  proposition43: { v1Upper: Float64Array } | null;
  /** Categorical (Theorem 5.2): I ≤ ‖J_i‖² m, V1 ≤ (1/N)‖J_i‖⁴ 2m, V2 ≤ (1/N)‖H_i‖² m. */
  categorical: { fimUpper: Float64Array; v1Upper: Float64Array; v2Upper: Float64Array } | null;
  /**
   * Gaussian (Proposition 5.1): the closed forms ‖J_i‖²/σ², (2/N)‖J_i‖⁴/σ⁴, (1/N)‖H_i‖²/σ², which
   * both sides of (7)–(9) equal.
   */
  gaussian: { fim: Float64Array; v1: Float64Array; v2: Float64Array } | null;
}

export function diagonalBounds(spec: OutputSpectrum, J: ArrayLike<number>, H: ArrayLike<number>, N = 1): DiagonalBounds {
  checkLabels(N);
  const T = spec.T;
  const P = checkDerivatives(spec, J, H);
  const jNorm2 = columnNorms2(J, T, P);
  const hNorm2 = columnNorms2(H, T, P);
  const j4 = jNorm2.map((v) => v * v);
  const scaled = (x: Float64Array, c: number): Float64Array => x.map((v) => v * c);
  const { lambdaMin, lambdaMax } = spec;
  const out: DiagonalBounds = {
    P, N, jNorm2, hNorm2,
    fimLower: scaled(jNorm2, lambdaMin),
    fimUpper: scaled(jNorm2, lambdaMax),
    // u^{⊗4}:M = Var((uᵀδ)²) ≥ 0, so a negative computed minimum is rounding: clamp it.
    v1Lower: scaled(j4, Math.max(0, spec.mTilde.min) / N),
    v1Upper: scaled(j4, spec.mTilde.max / N),
    v2Lower: scaled(hNorm2, lambdaMin / N),
    v2Upper: scaled(hNorm2, lambdaMax / N),
    v1UpperCertified: scaled(j4, spec.mBar.eigenvalues[0]! / N),
    corollary42: {
      v1Lower: scaled(j4, spec.corollary42.mTildeMinLower / N),
      v1Upper: scaled(j4, spec.corollary42.mTildeMaxUpper / N),
    },
    proposition43: spec.proposition43.applicable ? { v1Upper: scaled(j4, spec.proposition43.mTildeMaxUpper / N) } : null,
    categorical: null,
    gaussian: null,
  };
  if (spec.categorical) {
    const m = spec.categorical.m;
    out.categorical = { fimUpper: scaled(jNorm2, m), v1Upper: scaled(j4, (2 * m) / N), v2Upper: scaled(hNorm2, m / N) };
  }
  if (spec.gaussian) {
    const g = spec.gaussian;
    out.gaussian = { fim: scaled(jNorm2, g.lambda), v1: scaled(j4, g.mTilde / N), v2: scaled(hNorm2, g.lambda / N) };
  }
  return out;
}

// -------------------------------------------------------------------------------------------
// Trace bounds: tr I(θ|x) = Σ_i I(θ_i|x), V_j(θ|x) = Σ_i V_j(θ_i|x)

/**
 * Generalised Ruhe trace inequality for symmetric A (eigenvalues a) and B (eigenvalues b), both
 * descending and of the same length n: Σ_t a_t b_{n−t+1} ≤ tr(AB) ≤ Σ_t a_t b_t.
 */
export function ruheBounds(a: Float64Array, b: Float64Array): { lower: number; upper: number } {
  if (a.length !== b.length) fail('SHAPE', `Ruhe bounds need two spectra of the same length, got ${a.length} and ${b.length}`);
  const n = a.length;
  let lower = 0, upper = 0;
  for (let t = 0; t < n; t++) {
    upper += a[t]! * b[t]!;
    lower += a[t]! * b[n - 1 - t]!;
  }
  return { lower, upper };
}

/** Squared singular values (descending, length T) of a [T, P] matrix, via the smaller Gram matrix. */
function squaredSingularValues(X: ArrayLike<number>, T: number, P: number): Float64Array {
  const Xf = Float64Array.from(X);
  if (P === 0) return new Float64Array(T);
  const gram = P <= T ? matMul(Xf, Xf, P, T, P, true, false) : matMul(Xf, Xf, T, P, T, false, true);
  const n = Math.min(P, T);
  return padTo(eigenvaluesDescending(gram, n), T).map((v) => Math.max(0, v));
}

/**
 * Squared singular values (descending, length T²) of vJac = (vec(J_1J_1ᵀ), …, vec(J_PJ_Pᵀ)), i.e.
 * the eigenvalues of G = vJac vJacᵀ. Its columns are symmetric matrices, so G vanishes on the
 * antisymmetric ones and on the symmetric ones it is D^{1/2} W Wᵀ D^{1/2} (W[(ab), i] = J_ai J_bi,
 * a ≤ b, D the pair weights); when P is smaller, the P×P Gram vJacᵀvJac, whose (i, j) entry is
 * (J_iᵀJ_j)², has the same nonzero eigenvalues.
 */
function vJacSquaredSingularValues(J: ArrayLike<number>, T: number, P: number): Float64Array {
  const T2 = T * T;
  if (P === 0) return new Float64Array(T2);
  const pairs = symmetricPairs(T);
  const Tp = pairs.a.length;
  let values: Float64Array;
  if (P <= Tp) {
    const Jf = Float64Array.from(J);
    const gram = matMul(Jf, Jf, P, T, P, true, false);
    for (let k = 0; k < gram.length; k++) gram[k] = gram[k]! * gram[k]!;
    values = eigenvaluesDescending(gram, P);
  } else {
    const W = new Float64Array(Tp * P);
    for (let p = 0; p < Tp; p++) {
      const a = pairs.a[p]!, b = pairs.b[p]!;
      const s = Math.sqrt(pairs.weight[p]!);
      for (let i = 0; i < P; i++) W[p * P + i] = s * J[a * P + i]! * J[b * P + i]!;
    }
    values = eigenvaluesDescending(matMul(W, W, Tp, P, Tp, false, true), Tp);
  }
  return padTo(values, T2).map((v) => Math.max(0, v));
}

export interface TraceBounds {
  P: number;
  N: number;
  /** Squared singular values, descending: s²(J) and s²(dHes) (length T), s²(vJac) (length T²). */
  jSquaredSingularValues: Float64Array;
  vJacSquaredSingularValues: Float64Array;
  hSquaredSingularValues: Float64Array;
  /** Σ_i of Theorem 4.1: ‖J‖²_F λ_min ≤ tr I ≤ ‖J‖²_F λ_max; (1/N)λ̃(M)Σ_i‖J_i‖⁴ around V1; (1/N)‖H‖²_F λ around V2. */
  sumTheorem41: { fimLower: number; fimUpper: number; v1Lower: number; v1Upper: number; v2Lower: number; v2Upper: number };
  /**
   * TO Corollary 4.6, the safe form. As printed (in the text available), Eq. (13) reads
   * tr I ≤ ‖∂h‖_F·min{tr I(h|x), ‖∂h‖_F λ_max}, whose first argument does not scale like the
   * second (an exponent was evidently lost in extraction; likewise in (14) and (15)). Implemented
   * instead are the versions derivable from Theorem D.1 with s_t ≤ s_max and from summing
   * Theorem 4.1 (tr(AB) ≤ λ_max(A)·tr(B) for PSD A, B):
   *   tr I(θ|x) ≤ min{ s²_max(J)·tr I(h|x),   ‖J‖²_F·λ_max(I(h|x)) }
   *   V1(θ|x)   ≤ (1/N) min{ s²_max(vJac)·(Σ_ab K_aabb − ‖I(h|x)‖²_F),   λ̃_max(M)·Σ_i‖J_i‖⁴ }
   *   V2(θ|x)   ≤ (1/N) min{ s²_max(dHes)·tr I(h|x),   ‖dHes‖²_F·λ_max(I(h|x)) }
   * (Σ_ab K_aabb − ‖I‖²_F = tr M̄, valid because M̄ is PSD; Σ_i‖J_i‖⁴ ≤ ‖J‖⁴_F.)
   */
  corollary46: { fimUpper: number; v1Upper: number; v2Upper: number };
  /**
   * TO Theorem D.1 (Ruhe's trace inequality on tr I = tr(JJᵀ·I(h|x)), N·V1 = tr(vJac vJacᵀ·M̄),
   * N·V2 = tr(H Hᵀ·I(h|x))):
   *   Σ_t s²_t(J) λ_{T−t+1}(I) ≤ tr I(θ|x) ≤ Σ_t s²_t(J) λ_t(I)
   *   (1/N) Σ_t s²_t(vJac) λ_{T²−t+1}(M̄) ≤ V1(θ|x) ≤ (1/N) Σ_t s²_t(vJac) λ_t(M̄)
   *   and the same for V2 with dHes and I(h|x).
   * `v1LowerSymmetric` is the same inequality on the T(T+1)/2-dimensional space of symmetric
   * matrices, where both vJac vJacᵀ and M̄ live (both vanish on antisymmetric matrices): it pairs
   * the large s² with the small eigenvalues of M̄ there instead of with the T(T−1)/2 zeros of
   * the antisymmetric part, so it is never below `v1Lower`. (The upper bounds coincide.)
   */
  theoremD1: { fimLower: number; fimUpper: number; v1Lower: number; v1Upper: number; v1LowerSymmetric: number; v2Lower: number; v2Upper: number };
}

export function traceBounds(spec: OutputSpectrum, J: ArrayLike<number>, H: ArrayLike<number>, N = 1): TraceBounds {
  checkLabels(N);
  const T = spec.T;
  const P = checkDerivatives(spec, J, H);
  const jNorm2 = columnNorms2(J, T, P);
  const hNorm2 = columnNorms2(H, T, P);
  let jF2 = 0, hF2 = 0, j4 = 0;
  for (let i = 0; i < P; i++) {
    jF2 += jNorm2[i]!;
    hF2 += hNorm2[i]!;
    j4 += jNorm2[i]! ** 2;
  }
  const sJ = squaredSingularValues(J, T, P);
  const sH = squaredSingularValues(H, T, P);
  const sV = vJacSquaredSingularValues(J, T, P);
  let trI = 0;
  for (let a = 0; a < T; a++) trI += spec.covariance[a * T + a]!;
  const { lambdaMin, lambdaMax } = spec;
  const fimD1 = ruheBounds(sJ, spec.eigenvalues);
  const v2D1 = ruheBounds(sH, spec.eigenvalues);
  const v1D1 = ruheBounds(sV, spec.mBar.eigenvalues);
  const Tp = spec.mBar.symmetricEigenvalues.length;
  const v1Sym = ruheBounds(sV.subarray(0, Tp), spec.mBar.symmetricEigenvalues);
  return {
    P, N,
    jSquaredSingularValues: sJ, vJacSquaredSingularValues: sV, hSquaredSingularValues: sH,
    sumTheorem41: {
      fimLower: jF2 * lambdaMin, fimUpper: jF2 * lambdaMax,
      v1Lower: (j4 * Math.max(0, spec.mTilde.min)) / N, v1Upper: (j4 * spec.mTilde.max) / N,
      v2Lower: (hF2 * lambdaMin) / N, v2Upper: (hF2 * lambdaMax) / N,
    },
    corollary46: {
      fimUpper: Math.min(sJ[0]! * trI, jF2 * lambdaMax),
      v1Upper: Math.min(sV[0]! * spec.mBar.trace, spec.mTilde.max * j4) / N,
      v2Upper: Math.min(sH[0]! * trI, hF2 * lambdaMax) / N,
    },
    theoremD1: {
      fimLower: fimD1.lower, fimUpper: fimD1.upper,
      v1Lower: v1D1.lower / N, v1Upper: v1D1.upper / N, v1LowerSymmetric: v1Sym.lower / N,
      v2Lower: v2D1.lower / N, v2Upper: v2D1.upper / N,
    },
  };
}

// -------------------------------------------------------------------------------------------
// Off-diagonal bounds

export interface OffDiagonalBounds {
  /** The pairs as given, [count, 2]. */
  pairs: Int32Array;
  N: number;
  /** γ̃_max(M) = sup_{‖u‖=‖v‖=1} u^a v^b u^c v^d M_abcd (alternating maximisation). */
  gammaMax: BiquadraticMax;
  /**
   * λ_max(M̄) ≥ γ̃_max(M): u^a v^b u^c v^d M_abcd = vec(uvᵀ)ᵀ M̄ vec(uvᵀ) with ‖vec(uvᵀ)‖ = 1, so
   * this is a certified (looser) stand-in for γ̃_max that needs no global search.
   */
  gammaMaxCertificate: number;
  /** TO Theorem C.1: Var(Î1(θ|x)_ij) ≤ (1/N)‖J_i‖²‖J_j‖² γ̃_max(M), one per pair. */
  v1Upper: Float64Array;
  /** The same with λ_max(M̄) in place of γ̃_max(M). */
  v1UpperCertified: Float64Array;
  /**
   * TO Corollary C.3: Var(Î2(θ|x)_ij) ≤ (1/N)‖∂²_ij h‖² s_max(I(h|x)) (s_max = λ_max for the PSD
   * I(h|x)); null when no mixed second derivatives were given.
   */
  v2Upper: Float64Array | null;
}

/**
 * Off-diagonal bounds for the parameter pairs (i, j). `mixedHessian` (optional) is [T, count]:
 * mixedHessian[a·count + k] = ∂²h_a/∂θ_i∂θ_j for the k-th pair.
 */
export function offDiagonalBounds(
  spec: OutputSpectrum,
  J: ArrayLike<number>,
  pairs: ReadonlyArray<readonly [number, number]>,
  mixedHessian: ArrayLike<number> | null = null,
  N = 1,
  opts: { restarts?: number; seed?: number | string } = {},
): OffDiagonalBounds {
  checkLabels(N);
  const T = spec.T;
  const P = checkDerivatives(spec, J, null);
  const count = pairs.length;
  const pairArr = new Int32Array(2 * count);
  pairs.forEach(([i, j], k) => {
    for (const x of [i, j]) {
      if (!Number.isInteger(x) || x < 0 || x >= P) fail('SHAPE', `parameter pair ${k} = (${i}, ${j}) is outside [0, ${P})`);
    }
    pairArr[2 * k] = i;
    pairArr[2 * k + 1] = j;
  });
  if (mixedHessian !== null) {
    if (mixedHessian.length !== T * count) {
      fail('SHAPE', `mixed second derivatives must be [T, pairs] = [${T}, ${count}] (${T * count} values), got ${mixedHessian.length}`);
    }
    checkFinite('mixed second derivatives', mixedHessian);
  }
  const jNorm2 = columnNorms2(J, T, P);
  // Start the alternation from the λ̃_max(M) maximiser too (u = v there gives λ̃_max ≤ γ̃_max).
  const extra = new Float64Array(spec.eigenvectors.length + T);
  extra.set(spec.eigenvectors);
  extra.set(spec.mTilde.argmax, spec.eigenvectors.length);
  const gammaMax = biquadraticMax(spec.mTensor, T, { restarts: opts.restarts, seed: opts.seed, starts: extra });
  const certificate = spec.mBar.eigenvalues[0]!;
  const v1Upper = new Float64Array(count);
  const v1UpperCertified = new Float64Array(count);
  let v2Upper: Float64Array | null = null;
  for (let k = 0; k < count; k++) {
    const w = jNorm2[pairArr[2 * k]!]! * jNorm2[pairArr[2 * k + 1]!]!;
    v1Upper[k] = (w * gammaMax.max) / N;
    v1UpperCertified[k] = (w * certificate) / N;
  }
  if (mixedHessian !== null) {
    v2Upper = new Float64Array(count);
    for (let k = 0; k < count; k++) {
      let s = 0;
      for (let a = 0; a < T; a++) s += mixedHessian[a * count + k]! ** 2;
      v2Upper[k] = (s * spec.lambdaMax) / N;
    }
  }
  return { pairs: pairArr, N, gammaMax, gammaMaxCertificate: certificate, v1Upper, v1UpperCertified, v2Upper };
}

// -------------------------------------------------------------------------------------------
// Over several inputs (joint sampling)

export interface InputDerivatives {
  /** h(x) [T], J(x) [T, P], and (for the joint variance bounds) H(x) [T, P]. */
  h: ArrayLike<number>;
  J: ArrayLike<number>;
  H?: ArrayLike<number>;
}

export interface InputVarianceBound {
  P: number;
  inputs: number;
  /** E_q I(θ_i|x) and Var_q I(θ_i|x) over the inputs (q = the weighted empirical distribution). */
  meanFim: Float64Array;
  variance: Float64Array;
  /** TO Lemma 4.8: Var_q I(θ_i|x) ≤ E_q[‖J_i(x)‖⁴ λ²_max(I(h|x))] (via Var ≤ E[I²] and (7)). */
  bound: Float64Array;
}

function normalisedWeights(count: number, weights?: ArrayLike<number>): Float64Array {
  if (count === 0) fail('SHAPE', 'no inputs given');
  if (weights === undefined) return new Float64Array(count).fill(1 / count);
  if (weights.length !== count) fail('SHAPE', `${weights.length} weights for ${count} inputs`);
  let s = 0;
  for (let k = 0; k < count; k++) {
    const w = weights[k]!;
    if (!Number.isFinite(w) || w < 0) fail('INVALID_ARGUMENT', `input weight ${k} is ${w}; weights must be finite and non-negative`);
    s += w;
  }
  if (!(s > 0)) fail('INVALID_ARGUMENT', 'input weights sum to 0');
  return Float64Array.from(weights, (w) => w / s);
}

/** Lemma 4.8 of TO over the given inputs (optionally weighted). */
export function inputVarianceBound(lik: Likelihood, inputs: ReadonlyArray<InputDerivatives>, weights?: ArrayLike<number>): InputVarianceBound {
  const w = normalisedWeights(inputs.length, weights);
  const T = inputs[0]!.h.length;
  let P = -1;
  let mean: Float64Array | null = null;
  let second: Float64Array | null = null;
  let bound: Float64Array | null = null;
  inputs.forEach((inp, k) => {
    if (inp.h.length !== T) fail('SHAPE', `input ${k} has ${inp.h.length} outputs but input 0 has ${T}`);
    checkRow(lik.name, inp.h, T);
    const Pk = columnsOf(`Jacobian J of input ${k}`, inp.J, T);
    if (P < 0) {
      P = Pk;
      mean = new Float64Array(P);
      second = new Float64Array(P);
      bound = new Float64Array(P);
    } else if (Pk !== P) fail('SHAPE', `input ${k} has ${Pk} parameters but input 0 has ${P}`);
    const cov = lik.covariance(Float64Array.from(inp.h), 1, T);
    const lmax = Math.max(0, symmetricEigen(cov, T).values[T - 1]!);
    const jn = columnNorms2(inp.J, T, P);
    for (let i = 0; i < P; i++) {
      let fim = 0;
      for (let a = 0; a < T; a++) {
        let s = 0;
        for (let b = 0; b < T; b++) s += cov[a * T + b]! * inp.J[b * P + i]!;
        fim += inp.J[a * P + i]! * s;
      }
      mean![i]! += w[k]! * fim;
      second![i]! += w[k]! * fim * fim;
      bound![i]! += w[k]! * jn[i]! * jn[i]! * lmax * lmax;
    }
  });
  const m = mean!;
  const variance = second!.map((v, i) => Math.max(0, v - m[i]! * m[i]!));
  return { P, inputs: inputs.length, meanFim: m, variance, bound: bound! };
}

export interface JointVarianceBounds {
  lemma48: InputVarianceBound;
  labelsPerInput: number;
  inputsPerEstimate: number;
  /**
   * TO Theorem 4.7 (V_j(θ_i) = (1/N_x)[Var_q I(θ_i|x) + E_q V_j(θ_i|x)]) with Lemma 4.8 for the
   * first term and Theorem 4.1 inside the expectation:
   *   V_j(θ_i) ≤ (1/N_x)[E_q ‖J_i‖⁴λ²_max + E_q UB_j(θ_i|x)],   V_j(θ_i) ≥ (1/N_x) E_q LB_j(θ_i|x).
   */
  v1Lower: Float64Array;
  v1Upper: Float64Array;
  v2Lower: Float64Array;
  v2Upper: Float64Array;
}

/** Joint-sampling bounds over the given inputs (each needs H); N labels per input, N_x inputs per estimate. */
export function jointVarianceBounds(
  lik: Likelihood,
  inputs: ReadonlyArray<InputDerivatives>,
  opts: { labelsPerInput?: number; inputsPerEstimate?: number; weights?: ArrayLike<number> } & SpectrumOptions = {},
): JointVarianceBounds {
  checkOptions('jointVarianceBounds', opts, { ...SPECTRUM_OPTION_SCHEMA, labelsPerInput: { kind: 'any' }, inputsPerEstimate: { kind: 'any' }, weights: { kind: 'any' } });
  const { labelsPerInput: _n, inputsPerEstimate: _nx, weights: _w, ...spectrumOpts } = opts;
  const N = opts.labelsPerInput ?? 1;
  checkLabels(N);
  const Nx = opts.inputsPerEstimate ?? inputs.length;
  if (!Number.isInteger(Nx) || Nx < 1) fail('INVALID_ARGUMENT', `inputs per estimate must be a positive integer, got ${Nx}`);
  const lemma48 = inputVarianceBound(lik, inputs, opts.weights);
  const w = normalisedWeights(inputs.length, opts.weights);
  const P = lemma48.P;
  const acc = { v1Lower: new Float64Array(P), v1Upper: new Float64Array(P), v2Lower: new Float64Array(P), v2Upper: new Float64Array(P) };
  inputs.forEach((inp, k) => {
    if (inp.H === undefined) fail('SHAPE', `input ${k} has no Hessian diagonal H, which the V2 bounds need`);
    const spec = outputSpectrum(lik, inp.h, spectrumOpts);
    const d = diagonalBounds(spec, inp.J, inp.H, N);
    for (let i = 0; i < P; i++) {
      acc.v1Lower[i]! += w[k]! * d.v1Lower[i]!;
      acc.v1Upper[i]! += w[k]! * d.v1Upper[i]!;
      acc.v2Lower[i]! += w[k]! * d.v2Lower[i]!;
      acc.v2Upper[i]! += w[k]! * d.v2Upper[i]!;
    }
  });
  return {
    lemma48, labelsPerInput: N, inputsPerEstimate: Nx,
    v1Lower: acc.v1Lower.map((v) => v / Nx),
    v1Upper: acc.v1Upper.map((v, i) => (lemma48.bound[i]! + v) / Nx),
    v2Lower: acc.v2Lower.map((v) => v / Nx),
    v2Upper: acc.v2Upper.map((v, i) => (lemma48.bound[i]! + v) / Nx),
  };
}

// -------------------------------------------------------------------------------------------
// Everything at one input

export interface VarianceBounds {
  spectrum: OutputSpectrum;
  diagonal: DiagonalBounds;
  trace: TraceBounds;
}

/** The spectral summary, the per-parameter bounds and the trace bounds at one input. */
export function varianceBounds(lik: Likelihood, h: ArrayLike<number>, J: ArrayLike<number>, H: ArrayLike<number>, N = 1, opts: SpectrumOptions = {}): VarianceBounds {
  checkOptions('varianceBounds', opts, SPECTRUM_OPTION_SCHEMA);
  checkLabels(N);
  const spectrum = outputSpectrum(lik, h, opts);
  return { spectrum, diagonal: diagonalBounds(spectrum, J, H, N), trace: traceBounds(spectrum, J, H, N) };
}

// -------------------------------------------------------------------------------------------
// Tightness

export interface Tightness {
  /** log(UB/V) for an upper bound (log(V/LB) for a lower bound); ≥ 0 when the bound holds, 0 when exact. */
  logRatio: number | null;
  /** Why logRatio is null; null when it is a number. */
  reason: string | null;
}

/**
 * The papers' tightness metric log(UB/V) (TO Fig. 2, bottom row; 0 is exact). With kind 'lower'
 * it is log(V/LB). Undefined (null, with the reason) when a ratio of non-positive quantities
 * would be taken: V = 0 (e.g. V2 of a last-layer weight, TO Remark 4.4) makes log(UB/V) infinite,
 * a zero lower bound makes log(V/LB) infinite, and 0/0 says nothing about tightness.
 */
export function tightness(bound: number, value: number, kind: 'upper' | 'lower' = 'upper'): Tightness {
  if (!Number.isFinite(bound) || !Number.isFinite(value)) return { logRatio: null, reason: `not finite (bound ${bound}, value ${value})` };
  if (value < 0) return { logRatio: null, reason: `the value ${value} is negative, so it is not a variance or Fisher information` };
  const [num, den] = kind === 'upper' ? [bound, value] : [value, bound];
  if (num === 0 && den === 0) return { logRatio: null, reason: 'bound and value are both 0: the bound is exact but the ratio 0/0 is undefined' };
  if (den <= 0) {
    return {
      logRatio: null,
      reason: kind === 'upper'
        ? `the value is 0 (an estimator with zero variance), so log(UB/0) is infinite`
        : `the lower bound is ${bound} ≤ 0, so log(V/LB) is undefined (a non-positive lower bound is trivially valid)`,
    };
  }
  if (num <= 0) return { logRatio: null, reason: `the ${kind} bound ${bound} is violated by the value ${value} (ratio ≤ 0)` };
  return { logRatio: Math.log(num / den), reason: null };
}

export interface TightnessSummary {
  /** log ratios per entry; NaN where undefined. */
  logRatios: Float64Array;
  /** Median and maximum of the defined log ratios (null when none is defined). */
  median: number | null;
  max: number | null;
  defined: number;
  /** Entries with an undefined ratio, by reason. */
  undefinedReasons: Record<string, number>;
}

/** tightness() over vectors of bounds and values. */
export function tightnessSummary(bounds: ArrayLike<number>, values: ArrayLike<number>, kind: 'upper' | 'lower' = 'upper'): TightnessSummary {
  if (bounds.length !== values.length) fail('SHAPE', `${bounds.length} bounds for ${values.length} values`);
  const logRatios = new Float64Array(bounds.length);
  const reasons: Record<string, number> = {};
  const defined: number[] = [];
  for (let k = 0; k < bounds.length; k++) {
    const t = tightness(bounds[k]!, values[k]!, kind);
    if (t.logRatio === null) {
      logRatios[k] = NaN;
      // Group by the reason's wording without the numbers.
      const key = t.reason!.replace(/-?\d[\d.e+-]*/g, '#');
      reasons[key] = (reasons[key] ?? 0) + 1;
    } else {
      logRatios[k] = t.logRatio;
      defined.push(t.logRatio);
    }
  }
  defined.sort((a, b) => a - b);
  const n = defined.length;
  const median = n === 0 ? null : n % 2 ? defined[(n - 1) / 2]! : 0.5 * (defined[n / 2 - 1]! + defined[n / 2]!);
  return { logRatios, median, max: n === 0 ? null : defined[n - 1]!, defined: n, undefinedReasons: reasons };
}
