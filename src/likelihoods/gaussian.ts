/**
 * Gaussian regression with fixed variance σ² and independent output coordinates.
 *
 * Parameterisation: the network output is the mean, h = μ ∈ R^T, and
 *
 *     t(y) = y / σ²,   F(h) = ‖h‖² / (2σ²),   π(y) = N(y; 0, σ² I),
 *
 * so p(y | h) = π(y) exp(t(y)ᵀh − F(h)) = N(y; h, σ² I). Then
 *
 *     η = E[t] = h / σ²,   Cov(t) = I / σ²   (the output-space Fisher information),
 *     E[δ_a³] = 0,         E[δ_a⁴] = 3 / σ⁴  (δ = t − η),
 *
 * and the fourth cumulant vanishes, so K_abcd is the three pairings of I/σ². The loss is the
 * squared error (y − h)² / (2σ²) plus the constant ½ log(2πσ²) per coordinate; its gradient in
 * h is (h − y)/σ² = η − t(y). Targets are the raw y values [B, T] (not t).
 */
import { fail } from '../core/errors.js';
import type { Rng } from '../core/rng.js';
import type { Tensor } from '../core/tensor.js';
import { affine, square, sub, sumAxis } from '../autodiff/ops.js';
import { IndependentCoordinates, constantLike } from './independent.js';
import type { Targets } from './likelihood.js';

export interface GaussianOptions {
  /** The fixed observation variance σ² (default 1). */
  variance?: number;
}

export class GaussianLikelihood extends IndependentCoordinates {
  readonly name = 'gaussian' as const;
  readonly targetKind = 'real' as const;
  /** σ². */
  readonly variance: number;
  private readonly precision: number;
  private readonly std: number;
  private readonly logNormaliser: number;

  constructor(opts: GaussianOptions = {}) {
    super();
    const variance = opts.variance ?? 1;
    if (!Number.isFinite(variance) || variance <= 0) {
      fail('INVALID_ARGUMENT', `gaussian: variance must be a finite positive number, got ${variance}`);
    }
    this.variance = variance;
    this.precision = 1 / variance;
    this.std = Math.sqrt(variance);
    this.logNormaliser = 0.5 * Math.log(2 * Math.PI * variance);
  }

  protected coordMean(h: number): number {
    return h * this.precision;
  }
  protected coordVariance(_h: number): number {
    return this.precision;
  }
  protected coordThird(_h: number): number {
    return 0;
  }
  protected coordFourth(_h: number): number {
    return 3 * this.precision * this.precision;
  }
  protected coordLogPartition(h: number): number {
    return 0.5 * h * h * this.precision;
  }
  protected coordLogProb(h: number, y: number): number {
    const d = y - h;
    return -0.5 * d * d * this.precision - this.logNormaliser;
  }
  protected coordStat(y: number): number {
    return y * this.precision;
  }
  protected coordSample(h: number, rng: Rng): number {
    return h + this.std * rng.normal();
  }
  protected checkTargetValue(y: number, index: number, outputDim: number): void {
    if (!Number.isFinite(y)) {
      fail('NON_FINITE', `gaussian: target y[${Math.floor(index / outputDim)}, ${index % outputDim}] (flat index ${index}) is ${y}`);
    }
  }
  protected buildLogProb(h: Tensor, targets: Targets, batch: number, outputDim: number): Tensor {
    const residual = sub(h, constantLike(h, targets, [batch, outputDim]));
    return affine(sumAxis(square(residual), 1), -0.5 * this.precision, -outputDim * this.logNormaliser);
  }
}
