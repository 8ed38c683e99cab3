/**
 * Multi-label Bernoulli: T independent binary outputs with logits h, p = sigmoid(h).
 *
 *     t(y) = y ∈ {0,1}^T,   F(h) = Σ_a softplus(h_a),   η = p,   Cov(t) = diag(v), v = p(1 − p),
 *     E[δ³] = v(1 − 2p),    E[δ⁴] = v(1 − 3v)   (= p(1−p)(1 − 3p + 3p²)),   κ4 = v(1 − 6v).
 *
 * Stability: v is computed as sigmoid(h)·sigmoid(−h) and 1 − 2p as −tanh(h/2), so both keep full
 * relative precision when p is near 0 or 1; log p(y|h) = −Σ softplus((1 − 2y)·h), finite for any
 * finite logit.
 */
import { fail } from '../core/errors.js';
import type { Rng } from '../core/rng.js';
import { sigmoid as sigmoidScalar, softplus as softplusScalar } from '../core/scalar.js';
import type { Tensor } from '../core/tensor.js';
import { mul, scale, softplus, sumAxis } from '../autodiff/ops.js';
import { IndependentCoordinates, constantLike } from './independent.js';
import type { Targets } from './likelihood.js';

export class BernoulliLikelihood extends IndependentCoordinates {
  readonly name = 'bernoulli' as const;
  readonly targetKind = 'multilabel' as const;

  protected coordMean(h: number): number {
    return sigmoidScalar(h);
  }
  protected coordVariance(h: number): number {
    return sigmoidScalar(h) * sigmoidScalar(-h);
  }
  protected coordThird(h: number): number {
    return -this.coordVariance(h) * Math.tanh(0.5 * h);
  }
  protected coordFourth(h: number): number {
    const v = this.coordVariance(h);
    return v * (1 - 3 * v);
  }
  protected coordLogPartition(h: number): number {
    return softplusScalar(h);
  }
  protected coordLogProb(h: number, y: number): number {
    return -softplusScalar((1 - 2 * y) * h);
  }
  protected coordStat(y: number): number {
    return y;
  }
  protected coordSample(h: number, rng: Rng): number {
    return rng.uniform() < sigmoidScalar(h) ? 1 : 0;
  }
  protected checkTargetValue(y: number, index: number, outputDim: number): void {
    if (y === 0 || y === 1) return;
    const where = `y[${Math.floor(index / outputDim)}, ${index % outputDim}] (flat index ${index})`;
    if (!Number.isFinite(y)) fail('NON_FINITE', `bernoulli: target ${where} is ${y}`);
    fail('LABEL_RANGE', `bernoulli: multi-label target ${where} is ${y}; it must be 0 or 1`);
  }
  protected buildLogProb(h: Tensor, targets: Targets, batch: number, outputDim: number): Tensor {
    // y·h − softplus(h) = −softplus((1 − 2y)·h) for y ∈ {0, 1}: one softplus, no cancellation.
    const signs = new Float64Array(targets.length);
    for (let i = 0; i < signs.length; i++) signs[i] = 1 - 2 * targets[i]!;
    return scale(sumAxis(softplus(mul(constantLike(h, signs, [batch, outputDim]), h)), 1), -1);
  }
}
