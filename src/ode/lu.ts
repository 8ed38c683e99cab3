// Dense LU with partial pivoting for the stiff solver's (I/(hγ) − J) systems and the
// Levenberg–Marquardt normal equations' fallback. fimkit's other dense solvers are Cholesky
// (symmetric positive definite); the Rosenbrock matrix is neither symmetric nor definite.

export interface LuFactors {
  readonly n: number;
  /** Row-major, L (unit lower, below the diagonal) and U overwritten in place. */
  readonly lu: Float64Array;
  readonly piv: Int32Array;
  /** False when a pivot is exactly zero or not finite (the matrix is singular to working precision). */
  readonly ok: boolean;
}

export function luFactor(a: Float64Array, n: number): LuFactors {
  const lu = a;
  const piv = new Int32Array(n);
  let ok = true;
  for (let k = 0; k < n; k++) {
    let p = k;
    let best = Math.abs(lu[k * n + k]!);
    for (let i = k + 1; i < n; i++) {
      const v = Math.abs(lu[i * n + k]!);
      if (v > best) { best = v; p = i; }
    }
    piv[k] = p;
    if (!(best > 0) || !Number.isFinite(best)) { ok = false; continue; }
    if (p !== k) {
      for (let j = 0; j < n; j++) {
        const t = lu[k * n + j]!;
        lu[k * n + j] = lu[p * n + j]!;
        lu[p * n + j] = t;
      }
    }
    const inv = 1 / lu[k * n + k]!;
    for (let i = k + 1; i < n; i++) {
      const l = (lu[i * n + k]! *= inv);
      if (l !== 0) for (let j = k + 1; j < n; j++) lu[i * n + j]! -= l * lu[k * n + j]!;
    }
  }
  return { n, lu, piv, ok };
}

/** Solves A x = b in place (b becomes x). */
export function luSolve(f: LuFactors, b: Float64Array): Float64Array {
  const { n, lu, piv } = f;
  for (let k = 0; k < n; k++) {
    const p = piv[k]!;
    if (p !== k) { const t = b[k]!; b[k] = b[p]!; b[p] = t; }
  }
  for (let i = 1; i < n; i++) {
    let s = b[i]!;
    for (let j = 0; j < i; j++) s -= lu[i * n + j]! * b[j]!;
    b[i] = s;
  }
  for (let i = n - 1; i >= 0; i--) {
    let s = b[i]!;
    for (let j = i + 1; j < n; j++) s -= lu[i * n + j]! * b[j]!;
    b[i] = s / lu[i * n + i]!;
  }
  return b;
}
