/**
 * The inverse of a damped low-rank empirical Fisher applied to a gradient, without forming any
 * d×d matrix ("Rank-1 Approximation of Inverse Fisher for Natural Policy Gradients in Deep
 * Reinforcement Learning").
 *
 * Rank 1 (Sherman–Morrison), F̂ = λI + u uᵀ:
 *     F̂⁻¹ g = (1/λ) [ g − u (uᵀg) / (λ + ‖u‖²) ]                          O(d)
 * Rank k (Woodbury), F̂ = λI + (1/k) Σ_j u_j u_jᵀ = λI + UᵀU/k with U [k, d]:
 *     F̂⁻¹ g = (1/λ) [ g − Uᵀ (λk I_k + U Uᵀ)⁻¹ U g ]                       O(k²d + k³)
 * (for k = 1 the two agree). Every eigenvalue of F̂⁻¹ lies in [1/(λ + ‖U‖²/k), 1/λ], so the
 * direction is always an ascent direction of g (gᵀF̂⁻¹g > 0 for g ≠ 0), and λ·F̂⁻¹g → g as λ → ∞.
 */
import { fail } from '../core/errors.js';
import { cholesky, choleskySolve } from '../fisher/linalg.js';

export function checkLambda(lambda: number): void {
  if (!(Number.isFinite(lambda) && lambda > 0)) fail('INVALID_ARGUMENT', `SMAC damping λ must be a finite number > 0, got ${lambda}`);
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>, n = a.length, offA = 0, offB = 0): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += a[offA + i]! * b[offB + i]!;
  return s;
}

/** (λI + u uᵀ)⁻¹ g by Sherman–Morrison. */
export function smDirection(g: Float64Array, u: Float64Array, lambda: number): Float64Array {
  checkLambda(lambda);
  if (u.length !== g.length) fail('SHAPE', `Sherman–Morrison: score has ${u.length} entries, gradient ${g.length}`);
  const c = dot(u, g) / (lambda + dot(u, u));
  const d = new Float64Array(g.length);
  for (let i = 0; i < g.length; i++) d[i] = (g[i]! - c * u[i]!) / lambda;
  return d;
}

/**
 * (λI + UᵀU/k)⁻¹ g by the Woodbury identity; U holds k scores as rows [k, d]. The k×k system
 * (λk I + U Uᵀ) is symmetric positive definite and solved by fimkit's Cholesky.
 */
export function woodburyDirection(g: Float64Array, U: Float64Array, k: number, lambda: number): Float64Array {
  checkLambda(lambda);
  const d = g.length;
  if (!Number.isInteger(k) || k < 1) fail('INVALID_ARGUMENT', `Woodbury: rank must be a positive integer, got ${k}`);
  if (U.length !== k * d) fail('SHAPE', `Woodbury: ${U.length} score values, ${k} scores × ${d} parameters need ${k * d}`);
  const M = new Float64Array(k * k);
  for (let i = 0; i < k; i++) {
    for (let j = 0; j <= i; j++) {
      const v = dot(U, U, d, i * d, j * d) + (i === j ? lambda * k : 0);
      M[i * k + j] = v;
      M[j * k + i] = v;
    }
  }
  const ug = new Float64Array(k);
  for (let i = 0; i < k; i++) ug[i] = dot(U, g, d, i * d, 0);
  const y = choleskySolve(cholesky(M, k, `Woodbury capacitance matrix λk·I + UUᵀ (${k}×${k})`), k, ug);
  const out = Float64Array.from(g);
  for (let i = 0; i < k; i++) {
    const yi = y[i]!;
    for (let p = 0; p < d; p++) out[p]! -= yi * U[i * d + p]!;
  }
  for (let p = 0; p < d; p++) out[p]! /= lambda;
  return out;
}

/** (λI + UᵀU/k)·v, the damped low-rank Fisher itself (for fidelity checks and tests). */
export function lowRankFisherMv(v: Float64Array, U: Float64Array, k: number, lambda: number): Float64Array {
  const d = v.length;
  const out = new Float64Array(d);
  for (let p = 0; p < d; p++) out[p] = lambda * v[p]!;
  for (let i = 0; i < k; i++) {
    const c = dot(U, v, d, i * d, 0) / k;
    for (let p = 0; p < d; p++) out[p]! += c * U[i * d + p]!;
  }
  return out;
}
