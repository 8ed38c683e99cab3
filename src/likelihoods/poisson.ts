/**
 * Poisson counts with log link: rate λ = exp(h), T independent counts.
 *
 *     t(y) = y,   F(h) = Σ_a exp(h_a),   π(y) = 1 / Π y_a!,
 *     η = λ,   Cov(t) = diag(λ),   E[δ³] = λ,   E[δ⁴] = λ + 3λ²,   every cumulant = λ.
 *
 * Range: exp(h) overflows for h > log(Number.MAX_VALUE) ≈ 709.78, where the log-probability is
 * −∞ in floating point; the closed-form methods throw NON_FINITE there instead of returning ∞.
 * Very negative h (λ → 0) is fine everywhere.
 */
import { fail } from '../core/errors.js';
import { logFactorial, type Rng } from '../core/rng.js';
import type { Tensor } from '../core/tensor.js';
import { add, exp, mul, sub, sumAxis } from '../autodiff/ops.js';
import { IndependentCoordinates, constantLike } from './independent.js';
import type { Targets } from './likelihood.js';

/** log(Number.MAX_VALUE): the largest natural parameter whose rate is finite. */
export const POISSON_MAX_LOG_RATE = Math.log(Number.MAX_VALUE);

export class PoissonLikelihood extends IndependentCoordinates {
  readonly name = 'poisson' as const;
  readonly targetKind = 'count' as const;

  private rate(h: number): number {
    const lambda = Math.exp(h);
    if (!Number.isFinite(lambda)) {
      fail('NON_FINITE', `poisson: rate exp(h) overflows for h = ${h} (h must be at most ${POISSON_MAX_LOG_RATE.toFixed(2)})`);
    }
    return lambda;
  }

  protected coordMean(h: number): number {
    return this.rate(h);
  }
  protected coordVariance(h: number): number {
    return this.rate(h);
  }
  protected coordThird(h: number): number {
    return this.rate(h);
  }
  protected coordFourth(h: number): number {
    const lambda = this.rate(h);
    return lambda * (1 + 3 * lambda);
  }
  protected coordLogPartition(h: number): number {
    return this.rate(h);
  }
  protected coordLogProb(h: number, y: number): number {
    // y·h with y = 0 is 0 even for very negative h.
    return (y === 0 ? 0 : y * h) - Math.exp(h) - logFactorial(y);
  }
  protected coordStat(y: number): number {
    return y;
  }
  protected coordSample(h: number, rng: Rng): number {
    return rng.poisson(this.rate(h));
  }
  protected checkTargetValue(y: number, index: number, outputDim: number): void {
    if (Number.isInteger(y) && y >= 0) return;
    const where = `y[${Math.floor(index / outputDim)}, ${index % outputDim}] (flat index ${index})`;
    if (!Number.isFinite(y)) fail('NON_FINITE', `poisson: count target ${where} is ${y}`);
    fail('LABEL_RANGE', `poisson: count target ${where} is ${y}; counts must be non-negative integers`);
  }
  protected buildLogProb(h: Tensor, targets: Targets, batch: number, outputDim: number): Tensor {
    const logBase = new Float64Array(batch);
    for (let b = 0; b < batch; b++) {
      let s = 0;
      for (let a = 0; a < outputDim; a++) s -= logFactorial(targets[b * outputDim + a]!);
      logBase[b] = s;
    }
    const linear = mul(constantLike(h, targets, [batch, outputDim]), h);
    return add(sumAxis(sub(linear, exp(h)), 1), constantLike(h, logBase, [batch]));
  }
}
