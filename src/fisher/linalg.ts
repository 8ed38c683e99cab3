/**
 * Dense float64 linear algebra for the Fisher representations: Cholesky factorisation and
 * triangular solves, the inverse of a symmetric positive-definite matrix, the symmetric
 * eigendecomposition, conjugate gradients, and small vector helpers. Matrices are row-major
 * Float64Arrays. The O(n³) parts hand their matrix–matrix products to the active backend's gemm.
 *
 * Nothing here adds jitter: a matrix that is not positive definite is an error that says so and
 * how far from positive definite it is, so the caller can choose the damping.
 */
import { getBackend } from '../core/backends/index.js';
import { fail } from '../core/errors.js';

/** Block size of the blocked Cholesky: panels this wide go through gemm. */
const CHOL_BLOCK = 64;

export function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

export function norm2(a: Float64Array): number {
  // Scaled so that huge or tiny entries do not overflow or underflow the sum of squares.
  let scale = 0;
  for (let i = 0; i < a.length; i++) scale = Math.max(scale, Math.abs(a[i]!));
  if (scale === 0 || !Number.isFinite(scale)) return scale;
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    const t = a[i]! / scale;
    s += t * t;
  }
  return scale * Math.sqrt(s);
}

/** y = M x for a row-major n×n M (through gemm). */
export function matVec(m: Float64Array, n: number, x: Float64Array, out = new Float64Array(n)): Float64Array {
  if (n === 0) return out;
  getBackend().gemm(false, false, n, 1, n, 1, m, 0, n, x, 0, 1, 0, out, 0, 1);
  return out;
}

/** C = A·B for row-major A (m×k), B (k×n). */
export function matMul(a: Float64Array, b: Float64Array, m: number, k: number, n: number, transA = false, transB = false): Float64Array {
  const c = new Float64Array(m * n);
  if (m === 0 || n === 0) return c;
  getBackend().gemm(transA, transB, m, n, k, 1, a, 0, transA ? m : k, b, 0, transB ? k : n, 0, c, 0, n);
  return c;
}

/** Largest |M[i,j] − M[j,i]| relative to the largest |M[i,j]|; 0 for an exactly symmetric matrix. */
export function asymmetry(m: Float64Array, n: number): number {
  let maxAbs = 0;
  let maxDiff = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const v = m[i * n + j]!;
      maxAbs = Math.max(maxAbs, Math.abs(v));
      if (j > i) maxDiff = Math.max(maxDiff, Math.abs(v - m[j * n + i]!));
    }
  }
  return maxAbs === 0 ? 0 : maxDiff / maxAbs;
}

/**
 * Checks that `m` is finite and symmetric up to rounding (relative asymmetry ≤ `tol`), then makes
 * it exactly symmetric in place by averaging the two triangles (accumulated Gram matrices are
 * symmetric only up to the summation order of the gemm that built them).
 */
export function checkSymmetric(m: Float64Array, n: number, what: string, tol = 1e-8): void {
  if (m.length !== n * n) fail('SHAPE', `${what}: expected ${n}×${n} = ${n * n} values, got ${m.length}`);
  for (let i = 0; i < m.length; i++) {
    if (!Number.isFinite(m[i]!)) fail('NON_FINITE', `${what}: entry [${Math.floor(i / n)}, ${i % n}] is ${m[i]}`);
  }
  const asym = asymmetry(m, n);
  if (asym > tol) fail('INVALID_ARGUMENT', `${what} is not symmetric: largest |M[i,j] − M[j,i]| is ${asym.toExponential(3)} of the largest entry (tolerance ${tol})`);
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const avg = 0.5 * (m[i * n + j]! + m[j * n + i]!);
      m[i * n + j] = avg;
      m[j * n + i] = avg;
    }
  }
}

/** Adds `damping` to the diagonal of a copy of `m`. */
export function withDamping(m: Float64Array, n: number, damping: number): Float64Array {
  const a = Float64Array.from(m);
  if (damping !== 0) for (let i = 0; i < n; i++) a[i * n + i]! += damping;
  return a;
}

export function checkDamping(damping: number): void {
  if (typeof damping !== 'number' || !Number.isFinite(damping) || damping < 0) {
    fail('INVALID_ARGUMENT', `damping must be a finite number ≥ 0, got ${damping}`);
  }
}

/** "a damping above about X" (or "any positive damping") for a smallest eigenvalue. */
export function dampingAdvice(smallest: number, threshold: number): string {
  const needed = Math.max(0, -smallest) + threshold;
  return needed > 0 ? `a damping above about ${needed.toExponential(2)}` : 'any positive damping';
}

/**
 * The error for a matrix that is not (numerically) positive definite. For moderate sizes the
 * smallest eigenvalue is computed so that the message can say how much damping would suffice.
 */
function notPositiveDefinite(a: Float64Array, n: number, what: string, pivotIndex: number, pivot: number, threshold: number): never {
  let detail = '';
  if (n <= 1000) { // `a` is the unfactorised matrix only for these sizes
    const { values } = symmetricEigen(a, n);
    const smallest = values[0]!;
    detail = `; its smallest eigenvalue is ${smallest.toExponential(3)}, so ${dampingAdvice(smallest, threshold)} makes it positive definite`;
  }
  fail(
    'INVALID_ARGUMENT',
    `${what} is not positive definite: Cholesky pivot ${pivotIndex} of ${n} is ${pivot.toExponential(3)} ` +
      `(pivots must exceed ${threshold.toExponential(2)}, n·ε times the largest diagonal entry)${detail}. ` +
      'Use more damping (the matrix used is M + damping·I).',
  );
}

/**
 * Cholesky factor L (lower, row-major, zeros above the diagonal) with L·Lᵀ = A, for a symmetric A
 * of which only the lower triangle is read. Blocked right-looking: each 64-wide panel is
 * factorised in plain loops and the trailing lower triangle is updated by gemm, block column by
 * block column. A pivot ≤ n·ε·max(diag A) (zero or negative, or so small that the factor is
 * meaningless) is an error naming the pivot and, for n ≤ 1000, the smallest eigenvalue.
 */
export function cholesky(a: Float64Array, n: number, what = 'matrix'): Float64Array {
  return choleskyInPlace(Float64Array.from(a), n, what);
}

/** cholesky() overwriting `a` with L (no second P² buffer: dense Fishers can be most of memory). */
export function choleskyInPlace(l: Float64Array, n: number, what = 'matrix'): Float64Array {
  if (l.length !== n * n) fail('SHAPE', `${what}: Cholesky needs ${n}×${n} = ${n * n} values, got ${l.length}`);
  // Kept (small matrices only) so a failure can report the smallest eigenvalue.
  const a = n <= 1000 ? Float64Array.from(l) : l;
  let maxDiag = 0;
  for (let i = 0; i < n; i++) maxDiag = Math.max(maxDiag, Math.abs(l[i * n + i]!));
  const threshold = n * Number.EPSILON * maxDiag;
  const be = getBackend();
  for (let k0 = 0; k0 < n; k0 += CHOL_BLOCK) {
    const kb = Math.min(CHOL_BLOCK, n - k0);
    const k1 = k0 + kb;
    // Unblocked factorisation of the diagonal block and of the panel below it (column by column).
    for (let j = k0; j < k1; j++) {
      let d = l[j * n + j]!;
      for (let p = k0; p < j; p++) d -= l[j * n + p]! * l[j * n + p]!;
      if (!(d > threshold)) notPositiveDefinite(a, n, what, j, d, threshold);
      const ljj = Math.sqrt(d);
      l[j * n + j] = ljj;
      const inv = 1 / ljj;
      for (let i = j + 1; i < n; i++) {
        let s = l[i * n + j]!;
        const ri = i * n;
        const rj = j * n;
        for (let p = k0; p < j; p++) s -= l[ri + p]! * l[rj + p]!;
        l[ri + j] = s * inv;
      }
    }
    // Trailing update of the lower triangle, A22 −= L21·L21ᵀ, one block column at a time so
    // only blocks on or below the diagonal are computed. The panel L21 and each product go
    // through compact buffers: a backend that copies its operands (wasm) then copies only what
    // it multiplies, not whole rows of the big matrix.
    const rows = n - k1;
    if (rows === 0) continue;
    const panel = new Float64Array(rows * kb);
    for (let r = 0; r < rows; r++) panel.set(l.subarray((k1 + r) * n + k0, (k1 + r) * n + k1), r * kb);
    const prod = new Float64Array(rows * Math.min(CHOL_BLOCK, rows));
    for (let j0 = k1; j0 < n; j0 += CHOL_BLOCK) {
      const jb = Math.min(CHOL_BLOCK, n - j0);
      const below = n - j0;
      const p0 = (j0 - k1) * kb;
      be.gemm(false, true, below, jb, kb, 1, panel, p0, kb, panel, p0, kb, 0, prod, 0, jb);
      for (let r = 0; r < below; r++) {
        const dst = (j0 + r) * n + j0;
        const src = r * jb;
        const cols = Math.min(jb, r + 1); // lower triangle only (the diagonal block's upper part is never read)
        for (let c = 0; c < cols; c++) l[dst + c] = l[dst + c]! - prod[src + c]!;
      }
    }
  }
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) l[i * n + j] = 0;
  return l;
}

/** Solves L·y = b (L lower triangular, row-major). */
export function forwardSubstitute(l: Float64Array, n: number, b: Float64Array, out = new Float64Array(n)): Float64Array {
  for (let i = 0; i < n; i++) {
    let s = b[i]!;
    const r = i * n;
    for (let p = 0; p < i; p++) s -= l[r + p]! * out[p]!;
    out[i] = s / l[r + i]!;
  }
  return out;
}

/** Solves Lᵀ·x = y (L lower triangular, row-major). */
export function backSubstituteTransposed(l: Float64Array, n: number, y: Float64Array, out = new Float64Array(n)): Float64Array {
  out.set(y);
  // Column-oriented so the inner loop walks a row of L (contiguous).
  for (let i = n - 1; i >= 0; i--) {
    const xi = out[i]! / l[i * n + i]!;
    out[i] = xi;
    const r = i * n;
    for (let p = 0; p < i; p++) out[p]! -= l[r + p]! * xi;
  }
  return out;
}

/** Solves (L·Lᵀ)·x = b given the Cholesky factor L. */
export function choleskySolve(l: Float64Array, n: number, b: Float64Array): Float64Array {
  return backSubstituteTransposed(l, n, forwardSubstitute(l, n, b));
}

/**
 * Overwrites the lower-triangular n×n block of `l` at `off` (row stride ld) with its inverse.
 * Recursive: [L11 0; L21 L22]⁻¹ = [X11 0; −X22·L21·X11  X22], the off-diagonal block by two gemms.
 */
function lowerInverseInPlace(l: Float64Array, off: number, ld: number, n: number): void {
  if (n <= CHOL_BLOCK) {
    // Row i of X = L⁻¹ satisfies Σ_p L[i,p] X[p,:] = e_i: solved top to bottom, each row built
    // in `row` from the rows of X above it before it replaces row i of L.
    const row = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const ri = off + i * ld;
      row.fill(0, 0, i + 1);
      for (let p = 0; p < i; p++) {
        const lip = l[ri + p]!;
        if (lip === 0) continue;
        const xp = off + p * ld;
        for (let c = 0; c <= p; c++) row[c] = row[c]! - lip * l[xp + c]!;
      }
      const inv = 1 / l[ri + i]!;
      for (let c = 0; c < i; c++) l[ri + c] = row[c]! * inv;
      l[ri + i] = inv;
    }
    return;
  }
  const h = Math.floor(n / 2);
  const m = n - h;
  lowerInverseInPlace(l, off, ld, h);
  lowerInverseInPlace(l, off + h * ld + h, ld, m);
  const be = getBackend();
  const t = new Float64Array(m * h);
  be.gemm(false, false, m, h, h, 1, l, off + h * ld, ld, l, off, ld, 0, t, 0, h); // L21·X11
  be.gemm(false, false, m, h, m, -1, l, off + h * ld + h, ld, t, 0, h, 0, l, off + h * ld, ld); // −X22·(L21·X11)
}

/** L⁻¹ for a lower-triangular L (row-major, lower-triangular result; L is left unchanged). */
export function lowerTriangularInverse(l: Float64Array, n: number): Float64Array {
  const x = Float64Array.from(l);
  lowerInverseInPlace(x, 0, n, n);
  return x;
}

/** A⁻¹ of a symmetric positive-definite A from its Cholesky factor: L⁻ᵀ·L⁻¹ (one gemm). */
export function inverseFromCholesky(l: Float64Array, n: number, overwrite = false): Float64Array {
  const li = overwrite ? l : Float64Array.from(l);
  lowerInverseInPlace(li, 0, n, n);
  const inv = matMul(li, li, n, n, n, true, false);
  // Exact symmetry (the gemm's two triangles can differ in the last bit).
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) inv[j * n + i] = inv[i * n + j]!;
  return inv;
}

/** (A + damping·I)⁻¹ for symmetric A; throws (naming the pivot) when not positive definite. */
export function spdInverse(a: Float64Array, n: number, damping: number, what: string): Float64Array {
  return inverseFromCholesky(choleskyInPlace(withDamping(a, n, damping), n, what), n, true);
}

export interface SymmetricEigen {
  /** Eigenvalues in ascending order. */
  values: Float64Array;
  /** n×n row-major; column j is the unit eigenvector of values[j] (Q·diag(values)·Qᵀ = A). */
  vectors: Float64Array;
}

/**
 * Symmetric eigendecomposition A = Q·diag(λ)·Qᵀ (only the lower triangle of A is read):
 * Householder reduction to tridiagonal form, then the implicit QL iteration with Wilkinson-type
 * shifts, accumulating the rotations into Q. About 9n³ flops, backward stable; for n ≤ 1000 this
 * takes seconds at most. Eigenvalues come out ascending.
 */
export function symmetricEigen(a: Float64Array, n: number): SymmetricEigen {
  if (a.length !== n * n) fail('SHAPE', `eigendecomposition needs ${n}×${n} = ${n * n} values, got ${a.length}`);
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i]!)) fail('NON_FINITE', `eigendecomposition: entry [${Math.floor(i / n)}, ${i % n}] is ${a[i]}`);
  const d = new Float64Array(n);
  const e = new Float64Array(n);
  // zt holds Qᵀ (row r of zt is column r of Q) so both the reduction and the QL rotations touch
  // contiguous rows.
  const zt = tridiagonalize(a, n, d, e);
  tridiagonalQL(d, e, zt, n);
  // Sort ascending and write Q row-major.
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => d[i]! - d[j]!);
  const values = new Float64Array(n);
  const vectors = new Float64Array(n * n);
  order.forEach((src, col) => {
    values[col] = d[src]!;
    const r = src * n;
    for (let i = 0; i < n; i++) vectors[i * n + col] = zt[r + i]!;
  });
  return { values, vectors };
}

/**
 * Householder tridiagonalisation of the symmetric A: Qᵀ·A·Q = T with diagonal d and
 * sub-diagonal e (e[i] couples i and i+1, e[n−1] = 0). Returns Qᵀ row-major.
 *
 * Step k zeroes A[k+2.., k] with the reflector H = I − β·v·vᵀ acting on rows/columns k+1..n−1;
 * the trailing block becomes H·A22·H = A22 − v·wᵀ − w·vᵀ with p = β·A22·v, w = p − (β/2)(pᵀv)·v.
 */
function tridiagonalize(a0: Float64Array, n: number, d: Float64Array, e: Float64Array): Float64Array {
  const a = new Float64Array(n * n);
  // Work on the full symmetric matrix built from the lower triangle.
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      const v = a0[i * n + j]!;
      a[i * n + j] = v;
      a[j * n + i] = v;
    }
  }
  const betas = new Float64Array(n);
  // Reflector vectors: row k of vs holds v for step k in positions k+1..n−1.
  const vs = new Float64Array(n * n);
  const p = new Float64Array(n);
  const x2 = new Float64Array(2 * n);
  const y2 = new Float64Array(2 * n);
  const be = getBackend();
  for (let k = 0; k + 2 < n; k++) {
    const s = k + 1;
    // x = A[s.., k]
    let scale = 0;
    for (let i = s; i < n; i++) scale = Math.max(scale, Math.abs(a[i * n + k]!));
    if (scale === 0) {
      betas[k] = 0;
      continue;
    }
    let sigma = 0;
    for (let i = s + 1; i < n; i++) {
      const t = a[i * n + k]! / scale;
      sigma += t * t;
    }
    const x0 = a[s * n + k]! / scale;
    if (sigma === 0) {
      betas[k] = 0; // already tridiagonal in this column
      continue;
    }
    const mu = Math.sqrt(x0 * x0 + sigma);
    // v = x − α e1 with α = −sign(x0)·‖x‖ (no cancellation), normalised so v[s] = 1.
    const alpha = x0 <= 0 ? mu : -mu;
    const v0 = x0 - alpha;
    const rv = k * n;
    vs[rv + s] = 1;
    for (let i = s + 1; i < n; i++) vs[rv + i] = a[i * n + k]! / scale / v0;
    const beta = (-v0) / alpha; // = 2/(vᵀv) for this normalisation
    betas[k] = beta;
    // p = β·A22·v, then w = p − (β/2)(pᵀv)·v, then A22 −= [v w]·[w v]ᵀ (gemm: memory-bound
    // level-2 work, but the backend's kernels beat scalar loops several times over).
    const m = n - s;
    be.gemm(false, false, m, 1, m, beta, a, s * n + s, n, vs, rv + s, 1, 0, p, s, 1);
    let pv = 0;
    for (let i = s; i < n; i++) pv += p[i]! * vs[rv + i]!;
    const half = 0.5 * beta * pv;
    for (let i = 0; i < m; i++) {
      const vi = vs[rv + s + i]!;
      const wi = p[s + i]! - half * vi;
      x2[2 * i] = vi;
      x2[2 * i + 1] = wi;
      y2[2 * i] = wi;
      y2[2 * i + 1] = vi;
    }
    be.gemm(false, true, m, m, 2, -1, x2, 0, 2, y2, 0, 2, 1, a, s * n + s, n);
    // Column k below the sub-diagonal is now (α·scale, 0, …).
    a[s * n + k] = alpha * scale;
    a[k * n + s] = alpha * scale;
    for (let i = s + 1; i < n; i++) {
      a[i * n + k] = 0;
      a[k * n + i] = 0;
    }
  }
  for (let i = 0; i < n; i++) {
    d[i] = a[i * n + i]!;
    e[i] = i + 1 < n ? a[(i + 1) * n + i]! : 0;
  }
  // Q = H_0·H_1·…·H_{n−3}, built from I by left-multiplying with H_k for k descending (each
  // H_k only touches rows and columns k+1..); the caller wants Qᵀ.
  const q = new Float64Array(n * n);
  for (let i = 0; i < n; i++) q[i * n + i] = 1;
  const tmp = new Float64Array(n);
  for (let k = n - 3; k >= 0; k--) {
    const beta = betas[k]!;
    if (beta === 0) continue;
    const s = k + 1;
    const rv = k * n;
    // Q ← (I − β v vᵀ)·Q, restricted to rows and columns s.. (v is zero above s, and those
    // rows of Q are still zero left of column s): tmp = vᵀ·Q, then Q −= β·v·tmp.
    const m = n - s;
    be.gemm(true, false, 1, m, m, 1, vs, rv + s, 1, q, s * n + s, n, 0, tmp, s, m);
    be.gemm(false, false, m, m, 1, -beta, vs, rv + s, 1, tmp, s, m, 1, q, s * n + s, n);
  }
  // Return Qᵀ.
  const qt = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) qt[j * n + i] = q[i * n + j]!;
  return qt;
}

/**
 * Implicit QL on the symmetric tridiagonal (d, e) with shifts from the leading 2×2 block;
 * eigenvalues overwrite d, and each rotation of columns (i, i+1) of Q is applied to rows
 * (i, i+1) of zt = Qᵀ.
 */
function tridiagonalQL(d: Float64Array, e: Float64Array, zt: Float64Array, n: number): void {
  // Deflation is judged against the norm of the whole matrix as well as the local diagonal: a
  // purely relative test never deflates between two (numerically) zero eigenvalues, which
  // rank-deficient matrices such as the categorical M̄ have in numbers. ε·‖T‖ is the absolute
  // accuracy a symmetric eigensolver guarantees anyway.
  let anorm = 0;
  for (let i = 0; i < n; i++) anorm = Math.max(anorm, Math.abs(d[i]!) + Math.abs(e[i]!));
  for (let l = 0; l < n; l++) {
    let iter = 0;
    for (;;) {
      let m = l;
      for (; m < n - 1; m++) {
        const dd = Math.abs(d[m]!) + Math.abs(d[m + 1]!);
        if (Math.abs(e[m]!) <= Number.EPSILON * Math.max(dd, anorm)) break;
      }
      if (m === l) break;
      if (++iter > 60) fail('INVALID_ARGUMENT', `eigendecomposition did not converge (eigenvalue ${l} of ${n} after 60 QL iterations)`);
      let g = (d[l + 1]! - d[l]!) / (2 * e[l]!);
      let r = Math.hypot(g, 1);
      g = d[m]! - d[l]! + e[l]! / (g + (g >= 0 ? r : -r));
      let s = 1;
      let c = 1;
      let p = 0;
      let i = m - 1;
      let deflated = false;
      for (; i >= l; i--) {
        const f = s * e[i]!;
        const b = c * e[i]!;
        r = Math.hypot(f, g);
        e[i + 1] = r;
        if (r === 0) {
          d[i + 1] = d[i + 1]! - p;
          e[m] = 0;
          deflated = true;
          break;
        }
        s = f / r;
        c = g / r;
        g = d[i + 1]! - p;
        r = (d[i]! - g) * s + 2 * c * b;
        p = s * r;
        d[i + 1] = g + p;
        g = c * r - b;
        const r0 = i * n;
        const r1 = (i + 1) * n;
        for (let k = 0; k < n; k++) {
          const z1 = zt[r1 + k]!;
          const z0 = zt[r0 + k]!;
          zt[r1 + k] = s * z0 + c * z1;
          zt[r0 + k] = c * z0 - s * z1;
        }
      }
      if (deflated) continue;
      d[l] = d[l]! - p;
      e[l] = g;
      e[m] = 0;
    }
  }
}

export interface CgOptions {
  /** Stop when the true residual ‖b − A·x‖ ≤ tol·‖b‖ (default 1e-8). */
  tol?: number;
  /** Most products with A (default min(max(2n, 50), 2000)). */
  maxIter?: number;
  x0?: Float64Array;
}

export interface CgResult {
  x: Float64Array;
  /** Products with A spent on CG steps. */
  iterations: number;
  /** ‖b − A·x‖ / ‖b‖ recomputed from the returned x (not the recursively updated residual). */
  relResidual: number;
  converged: boolean;
}

export function defaultCgMaxIter(n: number): number {
  return Math.min(Math.max(2 * n, 50), 2000);
}

/**
 * Conjugate gradients for A·x = b with A symmetric positive definite, given only x ↦ A·x.
 * Convergence is judged on the true residual b − A·x: when the recursively updated residual
 * says "done" but the true one (which drifts from it through rounding) does not, CG restarts
 * from the current x. A direction with pᵀAp ≤ 0 proves A is not positive definite and is an
 * error. Non-convergence within maxIter is reported in the result (converged = false), not
 * thrown; callers decide.
 */
export function conjugateGradient(apply: (v: Float64Array) => Float64Array, b: Float64Array, opts: CgOptions = {}, what = 'matrix'): CgResult {
  const n = b.length;
  const tol = opts.tol ?? 1e-8;
  const maxIter = opts.maxIter ?? defaultCgMaxIter(n);
  if (!(tol > 0) || !Number.isFinite(tol)) fail('INVALID_ARGUMENT', `CG tolerance must be a positive number, got ${tol}`);
  if (!Number.isInteger(maxIter) || maxIter < 1) fail('INVALID_ARGUMENT', `CG maxIter must be a positive integer, got ${maxIter}`);
  const bNorm = norm2(b);
  if (bNorm === 0) return { x: new Float64Array(n), iterations: 0, relResidual: 0, converged: true };
  const x = opts.x0 ? Float64Array.from(opts.x0) : new Float64Array(n);
  const target = tol * bNorm;
  const trueResidual = (): Float64Array => {
    const r = Float64Array.from(b);
    if (opts.x0 || it > 0) {
      const ax = apply(x);
      for (let i = 0; i < n; i++) r[i] = r[i]! - ax[i]!;
    }
    return r;
  };
  let it = 0;
  let r = trueResidual();
  let rNorm = norm2(r);
  let bestNorm = Infinity;
  while (rNorm > target && it < maxIter && rNorm < bestNorm) {
    bestNorm = rNorm;
    const p = Float64Array.from(r);
    let rr = dot(r, r);
    while (it < maxIter && Math.sqrt(rr) > target) {
      const ap = apply(p);
      const pap = dot(p, ap);
      if (!(pap > 0)) {
        fail('INVALID_ARGUMENT', `${what} is not positive definite: conjugate gradients found a direction with pᵀ(M + damping·I)p = ${pap.toExponential(3)} ≤ 0 at iteration ${it}. Use more damping.`);
      }
      const alpha = rr / pap;
      for (let i = 0; i < n; i++) {
        x[i] = x[i]! + alpha * p[i]!;
        r[i] = r[i]! - alpha * ap[i]!;
      }
      const rrNew = dot(r, r);
      const beta = rrNew / rr;
      rr = rrNew;
      for (let i = 0; i < n; i++) p[i] = r[i]! + beta * p[i]!;
      it++;
    }
    r = trueResidual();
    rNorm = norm2(r);
  }
  return { x, iterations: it, relResidual: rNorm / bNorm, converged: rNorm <= target };
}
