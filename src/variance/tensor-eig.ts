/**
 * Extreme values of quartic forms on the unit sphere, for the variance bounds of the FIM
 * estimators ("Trade-Offs of Diagonal Fisher Information Matrix Estimators", Eq. 10):
 *
 *     λ̃_min(A) = inf_{‖u‖=1} u^a u^b u^c u^d A_abcd,    λ̃_max(A) = sup_{‖u‖=1} u^a u^b u^c u^d A_abcd,
 *
 * and the biquadratic sup over pairs of unit vectors used by the off-diagonal bounds (the same
 * paper, Theorem C.1):
 *
 *     γ̃_max(A) = sup_{‖u‖=‖v‖=1} u^a v^b u^c v^d A_abcd.
 *
 * A is a dense T⁴ row-major tensor, A[((a·T + b)·T + c)·T + d]. The quartic form only sees the
 * symmetric part, u^{⊗4}:A = u^{⊗4}:Sym(A), so A is symmetrised first (M = K − I⊗I is not
 * symmetric: its I⊗I part pairs (ab)(cd) only); for a supersymmetric A these extremes are the
 * extreme Z-eigenvalues (A u³ = λ u, ‖u‖ = 1).
 *
 * Method: the shifted symmetric higher-order power method (SS-HOPM) of Kolda & Mayo, "Shifted
 * power method for computing tensor eigenpairs" (2011),
 *
 *     u ← (A u³ + α u) / ‖A u³ + α u‖,
 *
 * on A for the maximum and on −A for the minimum. With α ≥ 3·‖Ā‖₂ (Ā: A unfolded to T²×T²,
 * whose spectral norm bounds that of every matrix A u², and is itself at most ‖A‖_F) the function
 * f̂(u) = A u⁴ + α‖u‖⁴ is convex on R^T (its Hessian 12·A u² + α(4‖u‖²I + 8uuᵀ) ⪰
 * (4α − 12‖Ā‖₂)‖u‖² I), and maximising a convex function over the sphere by u ← ∇f̂/‖∇f̂‖
 * increases f̂, hence A u⁴, at every step: f̂(u⁺) ≥ f̂(u) + ∇f̂(u)ᵀ(u⁺ − u) ≥ f̂(u). That shift is
 * conservative (the rate is linear, with a factor near 1 − gap/α, and crawls on badly scaled
 * tensors), so each iteration first tries a damped Riemannian Newton step and keeps it only when
 * it increases the objective; the SS-HOPM step is the fallback, so the objective still increases
 * monotonically along every run (a Newton step that leaves it unchanged to rounding is also kept
 * when it reduces the eigen-residual). A run stops at a Z-eigenvector to the residual tolerance,
 * or says that it did not (`converged`); the global extremes are taken over many starts (random unit vectors from a seeded Rng, the coordinate vectors, and
 * caller-supplied directions such as the eigenvectors of I(h|x)).
 *
 * The value returned is always A u⁴ at the returned unit vector u, so the reported maximum can
 * only under-estimate the true maximum (and the minimum over-estimate the true minimum); the
 * multi-start is what makes that gap vanish in practice, and the tests check it against dense
 * grids on the sphere.
 */
import { fail } from '../core/errors.js';
import { checkOptions, type OptionSchema } from '../core/options.js';

const EIGEN_OPTION_SCHEMA: OptionSchema = {
  restarts: { kind: 'int', min: 0 }, seed: { kind: 'seed' }, tol: { kind: 'number', min: 0, exclusiveMin: true }, maxIterations: { kind: 'int', min: 1 }, starts: { kind: 'float64array' },
};
import { Rng } from '../core/rng.js';
import { symmetricEigen } from '../fisher/linalg.js';

/** All 24 permutations of (0, 1, 2, 3). */
const PERMS4: readonly (readonly [number, number, number, number])[] = (() => {
  const out: [number, number, number, number][] = [];
  for (let a = 0; a < 4; a++) {
    for (let b = 0; b < 4; b++) {
      if (b === a) continue;
      for (let c = 0; c < 4; c++) {
        if (c === a || c === b) continue;
        out.push([a, b, c, 6 - a - b - c]);
      }
    }
  }
  return out;
})();

export function checkTensor4(what: string, A: ArrayLike<number>, T: number): void {
  if (!Number.isInteger(T) || T < 1) fail('SHAPE', `${what}: dimension T must be a positive integer, got ${T}`);
  if (A.length !== T ** 4) fail('SHAPE', `${what}: a ${T}⁴ tensor needs ${T ** 4} values, got ${A.length}`);
  for (let i = 0; i < A.length; i++) {
    if (!Number.isFinite(A[i]!)) fail('NON_FINITE', `${what}: tensor entry ${i} is ${A[i]}`);
  }
}

/** Sym(A)_abcd = (1/24) Σ_π A_π(abcd): the fully symmetric part, which carries the quartic form. */
export function symmetrize4(A: ArrayLike<number>, T: number): Float64Array {
  checkTensor4('symmetrize4', A, T);
  const out = new Float64Array(T ** 4);
  const idx = [0, 0, 0, 0];
  const strides = [T * T * T, T * T, T, 1];
  for (let a = 0; a < T; a++) {
    for (let b = a; b < T; b++) {
      for (let c = b; c < T; c++) {
        for (let d = c; d < T; d++) {
          // Average over all 24 orderings of the sorted tuple, then write the average to each.
          const tuple = [a, b, c, d];
          let s = 0;
          for (const p of PERMS4) {
            s += A[tuple[p[0]]! * strides[0]! + tuple[p[1]]! * strides[1]! + tuple[p[2]]! * strides[2]! + tuple[p[3]]! * strides[3]!]!;
          }
          s /= 24;
          for (const p of PERMS4) {
            idx[0] = tuple[p[0]]!; idx[1] = tuple[p[1]]!; idx[2] = tuple[p[2]]!; idx[3] = tuple[p[3]]!;
            out[idx[0] * strides[0]! + idx[1] * strides[1]! + idx[2] * strides[2]! + idx[3]] = s;
          }
        }
      }
    }
  }
  return out;
}

/** u^a u^b u^c u^d A_abcd (any A, symmetric or not). */
export function quarticForm(A: ArrayLike<number>, T: number, u: ArrayLike<number>): number {
  const T2 = T * T;
  let s = 0;
  for (let ab = 0; ab < T2; ab++) {
    const uab = u[Math.floor(ab / T)]! * u[ab % T]!;
    if (uab === 0) continue;
    let inner = 0;
    const off = ab * T2;
    for (let c = 0; c < T; c++) {
      const uc = u[c]!;
      for (let d = 0; d < T; d++) inner += A[off + c * T + d]! * uc * u[d]!;
    }
    s += uab * inner;
  }
  return s;
}

/** u^a v^b u^c v^d A_abcd. */
export function biquadraticForm(A: ArrayLike<number>, T: number, u: ArrayLike<number>, v: ArrayLike<number>): number {
  let s = 0;
  for (let a = 0; a < T; a++) {
    for (let b = 0; b < T; b++) {
      const w = u[a]! * v[b]!;
      if (w === 0) continue;
      const off = (a * T + b) * T * T;
      let inner = 0;
      for (let c = 0; c < T; c++) for (let d = 0; d < T; d++) inner += A[off + c * T + d]! * u[c]! * v[d]!;
      s += w * inner;
    }
  }
  return s;
}

function frobenius(A: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < A.length; i++) s += A[i]! * A[i]!;
  return Math.sqrt(s);
}

/** ‖Ā‖₂ for a symmetric T⁴ tensor unfolded to the symmetric T²×T² matrix Ā_(ab),(cd) = A_abcd. */
function unfoldedNorm(S: Float64Array, T: number): number {
  const values = symmetricEigen(S, T * T).values;
  return Math.max(Math.abs(values[0]!), Math.abs(values[values.length - 1]!));
}

function normalizeInPlace(x: Float64Array): boolean {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i]! * x[i]!;
  const n = Math.sqrt(s);
  if (!(n > 0) || !Number.isFinite(n)) return false;
  for (let i = 0; i < x.length; i++) x[i] = x[i]! / n;
  return true;
}

/**
 * W = A u² (W_ab = Σ_cd A_abcd u_c u_d), scaled by `sign`, for a symmetric A (so W is symmetric
 * and only a ≤ b is computed). Then A u³ = W u and A u⁴ = uᵀ W u.
 */
function contract2(A: Float64Array, T: number, u: Float64Array, sign: number, uu: Float64Array, W: Float64Array): void {
  const T2 = T * T;
  for (let c = 0; c < T; c++) for (let d = 0; d < T; d++) uu[c * T + d] = u[c]! * u[d]!;
  for (let a = 0; a < T; a++) {
    for (let b = a; b < T; b++) {
      const off = (a * T + b) * T2;
      let s = 0;
      for (let k = 0; k < T2; k++) s += A[off + k]! * uu[k]!;
      W[a * T + b] = sign * s;
      W[b * T + a] = sign * s;
    }
  }
}

/**
 * Eigen-decomposition of a small symmetric n×n matrix by cyclic Jacobi rotations (in place on a
 * copy): values[j] and column j of `vectors` (row-major n×n). Quadratically convergent and
 * allocation-free, which matters here because it runs on a T×T matrix at every half-step of the
 * biquadratic alternation.
 */
function jacobiEigen(S: Float64Array, n: number, values: Float64Array, vectors: Float64Array, work: Float64Array): void {
  const a = work;
  a.set(S.subarray(0, n * n));
  vectors.fill(0);
  for (let i = 0; i < n; i++) vectors[i * n + i] = 1;
  for (let sweep = 0; sweep < 60; sweep++) {
    let off = 0;
    let diag = 0;
    for (let p = 0; p < n; p++) {
      diag += a[p * n + p]! ** 2;
      for (let q = p + 1; q < n; q++) off += a[p * n + q]! ** 2;
    }
    // Off-diagonal mass below (1e-15)² of the total: rotations would only move rounding noise.
    if (off <= 1e-30 * (diag + off)) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q]!;
        if (apq === 0) continue;
        const app = a[p * n + p]!;
        const aqq = a[q * n + q]!;
        const theta = (aqq - app) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = a[k * n + p]!;
          const akq = a[k * n + q]!;
          a[k * n + p] = c * akp - s * akq;
          a[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p * n + k]!;
          const aqk = a[q * n + k]!;
          a[p * n + k] = c * apk - s * aqk;
          a[q * n + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = vectors[k * n + p]!;
          const vkq = vectors[k * n + q]!;
          vectors[k * n + p] = c * vkp - s * vkq;
          vectors[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  for (let i = 0; i < n; i++) values[i] = a[i * n + i]!;
}

export interface ZEigenOptions {
  /** Random unit starting vectors (default 2T + 8), on top of the coordinate vectors. */
  restarts?: number;
  /** Seed of the random starts (default 0): results are reproducible. */
  seed?: number | string;
  /**
   * Convergence: a start has converged when the eigen-residual ‖A u³ − λu‖ is at most
   * tol·‖Sym(A)‖_F (default 1e-10).
   */
  tol?: number;
  /** Iterations per start at most (default 500). */
  maxIterations?: number;
  /** Extra starting directions, `count × T` row-major (e.g. the eigenvectors of I(h|x)). */
  starts?: Float64Array;
  /** Set when A is already supersymmetric, to skip the symmetrisation. */
  symmetric?: boolean;
}

export interface ZEigenExtremes {
  /** inf / sup of u^{⊗4}:A over unit u (attained at argmin / argmax). */
  min: number;
  max: number;
  argmin: Float64Array;
  argmax: Float64Array;
  /** ‖Sym(A) u³ − λu‖ at argmin / argmax: how well they satisfy the Z-eigen equations. */
  minResidual: number;
  maxResidual: number;
  /** Whether the best start for each extreme reached the residual tolerance. */
  converged: boolean;
  /** Starts run per extreme, and how many of all the runs converged. */
  starts: number;
  startsConverged: number;
  /** Iterations (each one Newton or SS-HOPM step) over all starts, both extremes. */
  iterations: number;
  /** ‖Sym(A)‖_F, the scale the tolerances refer to (an upper bound on |u^{⊗4}:A|). */
  scale: number;
}

interface LocalResult {
  value: number;
  u: Float64Array;
  residual: number;
  iterations: number;
}

/** One point on the sphere with the quantities every step needs. */
interface AscentState {
  u: Float64Array;
  /** W = sign·A u² (T×T, symmetric). */
  W: Float64Array;
  /** g = W u = sign·A u³. */
  g: Float64Array;
  /** F = uᵀ g = sign·A u⁴, the objective being maximised. */
  f: number;
  /** ‖g − F u‖: the Riemannian gradient's norm over 4; zero exactly at Z-eigenvectors. */
  r: number;
}

/** In-place Cholesky of a symmetric n×n matrix (lower triangle); false if not positive definite. */
function choleskyInPlace(L: Float64Array, n: number): boolean {
  for (let j = 0; j < n; j++) {
    let d = L[j * n + j]!;
    for (let k = 0; k < j; k++) d -= L[j * n + k]! ** 2;
    if (!(d > 0)) return false;
    const ljj = Math.sqrt(d);
    L[j * n + j] = ljj;
    for (let i = j + 1; i < n; i++) {
      let s = L[i * n + j]!;
      for (let k = 0; k < j; k++) s -= L[i * n + k]! * L[j * n + k]!;
      L[i * n + j] = s / ljj;
    }
  }
  return true;
}

/** Solves L Lᵀ x = b in place (L from choleskyInPlace). */
function choleskySolveInPlace(L: Float64Array, n: number, b: Float64Array): void {
  for (let i = 0; i < n; i++) {
    let s = b[i]!;
    for (let k = 0; k < i; k++) s -= L[i * n + k]! * b[k]!;
    b[i] = s / L[i * n + i]!;
  }
  for (let i = n - 1; i >= 0; i--) {
    let s = b[i]!;
    for (let k = i + 1; k < n; k++) s -= L[k * n + i]! * b[k]!;
    b[i] = s / L[i * n + i]!;
  }
}

/**
 * Maximises F(u) = sign·(u^{⊗4}:A) over the unit sphere from u0. Each iteration first tries
 * damped Newton steps (below) and keeps one only if it increases F; otherwise it takes the
 * SS-HOPM step u ← (g + αu)/‖g + αu‖, which never decreases F (convexity of F + α‖u‖⁴, see the
 * file comment). F therefore increases monotonically whichever step is taken; the Newton steps
 * give quadratic convergence near non-degenerate extrema and cope with badly scaled tensors
 * (eigenvalues of very different sizes), where the conservative shift alone crawls.
 *
 * Newton step: on the sphere, the Riemannian gradient of F is 4r, r = g − F u, and its Hessian
 * is 4·P(3W − F I)P with P = I − uuᵀ. The step d ⟂ u solves (P(3W − F I)P − μI) d = −r on the
 * tangent space, for a shift μ ≥ 0 that makes the tangent matrix negative definite, so that d is
 * an ascent direction (rᵀd > 0). It is computed as the solution of the positive-definite system
 *     (P(μI − 3W + F I)P + σ uuᵀ) d = r,   σ > 0,
 * (block-diagonal in span{u} and its complement, so d ⟂ u), whose Cholesky factorisation
 * succeeds exactly when μ is large enough. μ = 0 (pure Newton) when F is locally concave;
 * otherwise μ is a Levenberg–Marquardt damping, relative to σ = ‖3W − F I‖_F (an upper bound on
 * the tangent spectrum, so μ > σ always works), that grows tenfold after a failed factorisation
 * or a rejected trial and shrinks tenfold after an accepted one. The step is capped at length 1
 * and retracted by normalising u + d.
 */
function ascendFrom(A: Float64Array, T: number, sign: number, alpha: number, scale: number, u0: Float64Array, tol: number, maxIterations: number): LocalResult {
  const uu = new Float64Array(T * T);
  const N = new Float64Array(T * T);
  const Hu = new Float64Array(T);
  const d = new Float64Array(T);
  const makeState = (): AscentState => ({ u: new Float64Array(T), W: new Float64Array(T * T), g: new Float64Array(T), f: 0, r: 0 });
  const evaluate = (st: AscentState): void => {
    contract2(A, T, st.u, sign, uu, st.W);
    let f = 0;
    for (let a = 0; a < T; a++) {
      let s = 0;
      for (let b = 0; b < T; b++) s += st.W[a * T + b]! * st.u[b]!;
      st.g[a] = s;
      f += s * st.u[a]!;
    }
    let r = 0;
    for (let a = 0; a < T; a++) r += (st.g[a]! - f * st.u[a]!) ** 2;
    st.f = f;
    st.r = Math.sqrt(r);
  };
  let cur = makeState();
  let trial = makeState();
  cur.u.set(u0);
  normalizeInPlace(cur.u);
  evaluate(cur);
  const target = tol * scale;
  // Rounding in F = sign·A u⁴ is a few ulps of ‖A‖_F.
  const roundoff = 1e-15 * scale;
  let iterations = 0;
  // Levenberg–Marquardt damping, relative to σ.
  let damping = 0;
  const MAX_TRIALS = 10;

  /**
   * Factorises (P(μI − 3W + F I)P + σ uuᵀ) at `st` into N; false when it is not positive
   * definite (μ too small).
   */
  const factor = (st: AscentState, mu: number, sigma: number): boolean => {
    // G = μI − 3W + F I; N = P G P + σ uuᵀ = G − u(Gu)ᵀ − (Gu)uᵀ + (uᵀGu + σ) uuᵀ.
    let uGu = 0;
    for (let a = 0; a < T; a++) {
      let s = 0;
      for (let b = 0; b < T; b++) s += ((a === b ? mu + st.f : 0) - 3 * st.W[a * T + b]!) * st.u[b]!;
      Hu[a] = s;
      uGu += s * st.u[a]!;
    }
    for (let a = 0; a < T; a++) {
      for (let b = 0; b <= a; b++) {
        N[a * T + b] = (a === b ? mu + st.f : 0) - 3 * st.W[a * T + b]! - st.u[a]! * Hu[b]! - Hu[a]! * st.u[b]! + (uGu + sigma) * st.u[a]! * st.u[b]!;
      }
    }
    return choleskyInPlace(N, T);
  };

  while (cur.r > target && iterations < maxIterations) {
    iterations++;
    let accepted = false;
    if (T > 1) {
      let sigma = 0;
      for (let a = 0; a < T; a++) for (let b = 0; b < T; b++) sigma += (3 * cur.W[a * T + b]! - (a === b ? cur.f : 0)) ** 2;
      sigma = Math.sqrt(sigma) + 1e-300;
      for (let t = 0; t < MAX_TRIALS && !accepted; t++) {
        if (!factor(cur, damping * sigma, sigma)) {
          damping = damping === 0 ? 1e-3 : damping * 10;
          continue;
        }
        for (let a = 0; a < T; a++) d[a] = cur.g[a]! - cur.f * cur.u[a]!;
        choleskySolveInPlace(N, T, d);
        let dn = 0;
        for (let a = 0; a < T; a++) dn += d[a]! * d[a]!;
        dn = Math.sqrt(dn);
        if (!(dn > 0) || !Number.isFinite(dn)) break;
        const cap = dn > 1 ? 1 / dn : 1;
        for (let a = 0; a < T; a++) trial.u[a] = cur.u[a]! + cap * d[a]!;
        if (!normalizeInPlace(trial.u)) break;
        evaluate(trial);
        // Keep a step that raises F, or that leaves F unchanged to rounding (F is flat to second
        // order at an extremum) while reducing the residual.
        if (trial.f > cur.f || (trial.f >= cur.f - roundoff && trial.r < cur.r)) {
          [cur, trial] = [trial, cur];
          accepted = true;
          damping = damping < 1e-6 ? 0 : damping / 10;
        } else {
          damping = damping === 0 ? 1e-3 : damping * 10;
        }
      }
    }
    if (accepted) continue;
    // SS-HOPM step. uᵀ(g + αu) = F + α > 0 since |F| ≤ ‖A‖_F < α, so it cannot vanish.
    for (let a = 0; a < T; a++) trial.u[a] = cur.g[a]! + alpha * cur.u[a]!;
    if (!normalizeInPlace(trial.u)) break;
    evaluate(trial);
    const gain = trial.f - cur.f;
    // In exact arithmetic gain ≥ 0; a non-positive gain means F has stalled at rounding level.
    if (gain <= 0) break;
    [cur, trial] = [trial, cur];
  }
  return { value: sign * cur.f, u: cur.u, residual: cur.r, iterations };
}

function validateOptions(what: string, opts: { restarts?: number; tol?: number; maxIterations?: number }): void {
  if (opts.restarts !== undefined && (!Number.isInteger(opts.restarts) || opts.restarts < 0)) {
    fail('INVALID_ARGUMENT', `${what}: restarts must be a non-negative integer, got ${opts.restarts}`);
  }
  if (opts.tol !== undefined && !(opts.tol > 0 && Number.isFinite(opts.tol))) {
    fail('INVALID_ARGUMENT', `${what}: tol must be a positive number, got ${opts.tol}`);
  }
  if (opts.maxIterations !== undefined && (!Number.isInteger(opts.maxIterations) || opts.maxIterations < 1)) {
    fail('INVALID_ARGUMENT', `${what}: maxIterations must be a positive integer, got ${opts.maxIterations}`);
  }
}

/** Starting unit vectors: coordinate vectors, the caller's directions, then seeded random ones. */
function startingPoints(what: string, T: number, restarts: number, seed: number | string, extra?: Float64Array): Float64Array[] {
  const starts: Float64Array[] = [];
  for (let a = 0; a < T; a++) {
    const e = new Float64Array(T);
    e[a] = 1;
    starts.push(e);
  }
  if (extra) {
    if (extra.length % T !== 0) fail('SHAPE', `${what}: extra starts hold ${extra.length} values, not a multiple of T = ${T}`);
    for (let k = 0; k < extra.length / T; k++) {
      const s = Float64Array.from(extra.subarray(k * T, (k + 1) * T));
      for (let a = 0; a < T; a++) if (!Number.isFinite(s[a]!)) fail('NON_FINITE', `${what}: extra start ${k} has entry ${a} = ${s[a]}`);
      if (normalizeInPlace(s)) starts.push(s);
    }
  }
  const rng = new Rng(seed);
  for (let k = 0; k < restarts; k++) {
    const s = new Float64Array(T);
    do rng.fillNormal(s); while (!normalizeInPlace(s));
    starts.push(s);
  }
  return starts;
}

/**
 * min and max of u^{⊗4}:A over the unit sphere (A: T⁴ row-major, symmetrised internally), by
 * multi-start SS-HOPM with Newton polishing. See the file comment.
 */
export function zEigenExtremes(A: ArrayLike<number>, T: number, opts: ZEigenOptions = {}): ZEigenExtremes {
  checkOptions('zEigenExtremes', opts, EIGEN_OPTION_SCHEMA);
  checkTensor4('zEigenExtremes', A, T);
  validateOptions('zEigenExtremes', opts);
  const S = opts.symmetric ? Float64Array.from(A) : symmetrize4(A, T);
  const scale = frobenius(S);
  const tol = opts.tol ?? 1e-10;
  const maxIterations = opts.maxIterations ?? 500;
  const restarts = opts.restarts ?? 2 * T + 8;
  const starts = startingPoints('zEigenExtremes', T, restarts, opts.seed ?? 0, opts.starts);
  if (scale === 0) {
    // The zero form: every unit vector is a Z-eigenvector with eigenvalue 0.
    return {
      min: 0, max: 0, argmin: starts[0]!, argmax: Float64Array.from(starts[0]!), minResidual: 0, maxResidual: 0,
      converged: true, starts: starts.length, startsConverged: 2 * starts.length, iterations: 0, scale,
    };
  }
  // α ≥ β(A) = 3·max_u ρ(A u²), Kolda & Mayo's convexity threshold for order 4. The spectral
  // norm of the matrix A u² is at most ‖Ā‖₂, the spectral norm of A unfolded to T²×T²
  // (yᵀ(A u²)y = (y⊗y)ᵀ Ā (u⊗u) with unit y⊗y, u⊗u), itself at most ‖A‖_F; the small margin
  // keeps the inequality strict.
  const alpha = 3 * unfoldedNorm(S, T) * (1 + 1e-8) + 1e-300;
  let best: [LocalResult | null, LocalResult | null] = [null, null];
  let iterations = 0;
  let startsConverged = 0;
  for (const [k, sign] of [[0, -1], [1, 1]] as const) {
    for (const s of starts) {
      const res = ascendFrom(S, T, sign, alpha, scale, s, tol, maxIterations);
      iterations += res.iterations;
      if (res.residual <= tol * scale) startsConverged++;
      const cur = best[k];
      // Prefer the larger objective; among values equal to rounding, the smaller residual.
      const gain = cur === null ? Infinity : sign * (res.value - cur.value);
      if (cur === null || gain > 1e-15 * scale || (gain >= -1e-15 * scale && res.residual < cur.residual)) best[k] = res;
    }
  }
  const lo = best[0]!;
  const hi = best[1]!;
  return {
    min: lo.value, max: hi.value, argmin: lo.u, argmax: hi.u,
    minResidual: lo.residual, maxResidual: hi.residual,
    converged: lo.residual <= tol * scale && hi.residual <= tol * scale,
    starts: starts.length, startsConverged, iterations, scale,
  };
}

export interface BiquadraticOptions {
  /** Random unit starting vectors for v (default 2T + 4), on top of the coordinate vectors. */
  restarts?: number;
  seed?: number | string;
  /** Stop a start when an alternation raises the value by at most tol·‖A‖_F (default 1e-14). */
  tol?: number;
  /** Alternations per start at most (default 500). */
  maxIterations?: number;
  /** Extra starting directions for v, `count × T` (e.g. the eigenvectors of I(h|x)). */
  starts?: Float64Array;
}

export interface BiquadraticMax {
  /** sup over unit u, v of u^a v^b u^c v^d A_abcd, attained at (u, v). */
  max: number;
  u: Float64Array;
  v: Float64Array;
  /** Whether the best start stopped by the tolerance rather than the iteration cap. */
  converged: boolean;
  starts: number;
  iterations: number;
}

/**
 * γ̃_max(A) = sup_{‖u‖=‖v‖=1} u^a v^b u^c v^d A_abcd (A as given, not symmetrised: the pairing
 * of u with indices a, c and v with b, d matters), by alternating maximisation: for fixed v the
 * form is the quadratic uᵀ B(v) u with B(v)_ac = Σ_bd A_abcd v_b v_d, maximised over unit u by
 * the top eigenvector of the symmetric part of B(v); then likewise v for fixed u. Each half-step
 * maximises exactly in one block, so the value never decreases; the best of several starts is
 * returned (coordinate vectors, caller directions, seeded random vectors).
 */
export function biquadraticMax(A: ArrayLike<number>, T: number, opts: BiquadraticOptions = {}): BiquadraticMax {
  checkOptions('biquadraticMax', opts, EIGEN_OPTION_SCHEMA);
  checkTensor4('biquadraticMax', A, T);
  validateOptions('biquadraticMax', opts);
  const At = Float64Array.from(A);
  const scale = frobenius(At);
  const tol = opts.tol ?? 1e-14;
  const maxIterations = opts.maxIterations ?? 500;
  const starts = startingPoints('biquadraticMax', T, opts.restarts ?? 2 * T + 4, opts.seed ?? 0, opts.starts);
  const B = new Float64Array(T * T);
  const eigValues = new Float64Array(T);
  const eigVectors = new Float64Array(T * T);
  const eigWork = new Float64Array(T * T);
  // Top eigenvector of the symmetric part of the matrix contracting `x` into slots (s1, s2).
  const topVector = (x: Float64Array, uSlots: boolean): { value: number; vec: Float64Array } => {
    for (let p = 0; p < T; p++) {
      for (let q = 0; q < T; q++) {
        let s = 0;
        for (let r = 0; r < T; r++) {
          for (let t = 0; t < T; t++) {
            // uSlots: B_ac = Σ_bd A_abcd x_b x_d (x = v);  else C_bd = Σ_ac A_abcd x_a x_c (x = u).
            const idx = uSlots ? ((p * T + r) * T + q) * T + t : ((r * T + p) * T + t) * T + q;
            s += At[idx]! * x[r]! * x[t]!;
          }
        }
        B[p * T + q] = s;
      }
    }
    for (let p = 0; p < T; p++) {
      for (let q = p + 1; q < T; q++) {
        const m = 0.5 * (B[p * T + q]! + B[q * T + p]!);
        B[p * T + q] = m;
        B[q * T + p] = m;
      }
    }
    jacobiEigen(B, T, eigValues, eigVectors, eigWork);
    let top = 0;
    for (let j = 1; j < T; j++) if (eigValues[j]! > eigValues[top]!) top = j;
    const vec = new Float64Array(T);
    for (let p = 0; p < T; p++) vec[p] = eigVectors[p * T + top]!;
    normalizeInPlace(vec);
    return { value: eigValues[top]!, vec };
  };
  let best: { value: number; u: Float64Array; v: Float64Array; converged: boolean } | null = null;
  let iterations = 0;
  for (const s of starts) {
    let v: Float64Array = Float64Array.from(s);
    let u: Float64Array = topVector(v, true).vec;
    let value = biquadraticForm(At, T, u, v);
    let converged = false;
    for (let it = 0; it < maxIterations; it++) {
      iterations++;
      v = topVector(u, false).vec;
      u = topVector(v, true).vec;
      const nv = biquadraticForm(At, T, u, v);
      const gain = nv - value;
      if (nv > value) value = nv;
      if (gain <= tol * scale) { converged = true; break; }
    }
    // The eigen-solver's value and the form can differ by rounding: report the form itself.
    value = biquadraticForm(At, T, u, v);
    if (best === null || value > best.value) best = { value, u, v, converged };
  }
  return { max: best!.value, u: best!.u, v: best!.v, converged: best!.converged, starts: starts.length, iterations };
}
