/** The study's upper bounds: Theorem 4.1 (8)–(9) per parameter, for one label. */
import type { Likelihood } from '../likelihoods/likelihood.js';
import { diagonalBounds, outputSpectrum } from '../variance/bounds.js';
import type { InputVariance } from '../variance/conditional.js';

export function theorem41Bounds(r: InputVariance, lik: Likelihood): { ub1: Float64Array; ub2: Float64Array } {
  const d = diagonalBounds(outputSpectrum(lik, r.h), r.J, r.H, 1);
  return { ub1: d.v1Upper, ub2: d.v2Upper };
}
