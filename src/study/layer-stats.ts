/**
 * Per-layer statistics of the diagonal FIM estimators at one input, as plotted in "Trade-Offs of
 * Diagonal Fisher Information Matrix Estimators" (its Figure 2): per parameter group (layer),
 * the arithmetic means over the group's parameters of the FIM diagonal I(θ_i|x), of the
 * single-label variances V1, V2 (closed form), of the same variances measured from S labels
 * sampled from the model, and of the Theorem 4.1 upper bounds, with log(mean UB / mean V).
 *
 * The sampled-label variances are the sample variances of the single-label estimators
 * Î1(y)_i = (J_iᵀ(t(y) − η))² and Î2(y)_i = I(θ_i|x) + (η − t(y))ᵀH_i over the S draws. For a
 * categorical output the draws take only C distinct values, so the sample variance follows
 * exactly from the label counts in O(C·P) instead of O(S·P).
 */
import { fail } from '../core/errors.js';
import type { Rng } from '../core/rng.js';
import { Tensor } from '../core/tensor.js';
import type { Likelihood } from '../likelihoods/likelihood.js';
import type { Sequential } from '../nn/sequential.js';
import { layoutOf } from '../fisher/layout.js';
import { inputVariances, type InputVariance } from '../variance/conditional.js';

export interface LayerStat {
  label: string;
  params: number;
  fim: number;
  v1: number;
  v2: number;
  v1Sampled: number;
  v2Sampled: number;
  ub1: number | null;
  ub2: number | null;
  /** log(mean UB / mean V); null where V = 0 (nothing to bound) or no bound was given. */
  logRatio1: number | null;
  logRatio2: number | null;
}

/** Per-parameter upper bounds on V1 and V2 (single label), e.g. Theorem 4.1's. */
export type UpperBounds = (r: InputVariance, lik: Likelihood) => { ub1: Float64Array; ub2: Float64Array };

/** Sample variances over S sampled labels of the single-label Î1 and Î2 (categorical: exact from counts). */
export function sampledVariances(r: InputVariance, lik: Likelihood, rng: Rng, S: number): { v1: Float64Array; v2: Float64Array } {
  if (lik.name !== 'categorical') fail('INVALID_ARGUMENT', `sampled-label variances are implemented for the categorical likelihood, not ${lik.name}`);
  if (!Number.isInteger(S) || S < 2) fail('INVALID_ARGUMENT', `need at least 2 sampled labels, got ${S}`);
  const T = r.h.length;
  const P = r.fim.length;
  const ys = lik.sample(r.h, 1, T, rng, S) as Int32Array;
  const counts = new Float64Array(T);
  for (const y of ys) counts[y]!++;
  const eta = lik.meanStat(r.h, 1, T);
  const v1 = new Float64Array(P);
  const v2 = new Float64Array(P);
  const unbiased = S / (S - 1);
  for (let i = 0; i < P; i++) {
    let m1 = 0, q1 = 0, m2 = 0, q2 = 0;
    // Σ_a J[a,i] η_a and Σ_a H[a,i] η_a, then label c changes only coordinate c.
    let jEta = 0, hEta = 0;
    for (let a = 0; a < T; a++) { jEta += r.J[a * P + i]! * eta[a]!; hEta += r.H[a * P + i]! * eta[a]!; }
    const e1 = (c: number): number => (r.J[c * P + i]! - jEta) ** 2; // (J_iᵀ(e_c − η))²
    const e2 = (c: number): number => r.fim[i]! + hEta - r.H[c * P + i]!; // I + (η − e_c)ᵀH_i
    // Two passes (mean, then central sum): one pass would cancel catastrophically when V ≈ 0.
    for (let c = 0; c < T; c++) { const w = counts[c]! / S; m1 += w * e1(c); m2 += w * e2(c); }
    for (let c = 0; c < T; c++) { const w = counts[c]! / S; q1 += w * (e1(c) - m1) ** 2; q2 += w * (e2(c) - m2) ** 2; }
    // Below the rounding floor of the values themselves a variance is noise: report 0.
    const floor = (m: number): number => (T * 2.220446049250313e-16 * Math.abs(m)) ** 2;
    v1[i] = q1 > floor(m1) ? q1 * unbiased : 0;
    v2[i] = q2 > floor(m2) ? q2 * unbiased : 0;
  }
  return { v1, v2 };
}

/** The per-layer means at the single input x ([1, ...]). */
export function layerStatistics(model: Sequential, lik: Likelihood, x: Tensor, rng: Rng, sampledLabels: number, bounds?: UpperBounds): LayerStat[] {
  const r = inputVariances(model, lik, x)[0]!;
  const sampled = sampledVariances(r, lik, rng, sampledLabels);
  const ub = bounds?.(r, lik);
  const mean = (a: Float64Array, off: number, n: number): number => {
    let s = 0;
    for (let i = off; i < off + n; i++) s += a[i]!;
    return s / n;
  };
  return layoutOf(model).groups.map((g) => {
    const v1 = mean(r.v1, g.offset, g.size);
    const v2 = mean(r.v2, g.offset, g.size);
    const ub1 = ub ? mean(ub.ub1, g.offset, g.size) : null;
    const ub2 = ub ? mean(ub.ub2, g.offset, g.size) : null;
    return {
      label: g.label,
      params: g.size,
      fim: mean(r.fim, g.offset, g.size),
      v1, v2,
      v1Sampled: mean(sampled.v1, g.offset, g.size),
      v2Sampled: mean(sampled.v2, g.offset, g.size),
      ub1, ub2,
      logRatio1: ub1 !== null && v1 > 0 ? Math.log(ub1 / v1) : null,
      logRatio2: ub2 !== null && v2 > 0 ? Math.log(ub2 / v2) : null,
    };
  });
}
