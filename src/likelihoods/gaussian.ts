/**
 * Gaussian regression with fixed variance and independent output coordinates: one σ² shared by
 * every coordinate, or one σ²_a per coordinate (the diagonal Gaussian of a policy whose
 * log-standard deviations are state-independent parameters).
 *
 * Parameterisation: the network output is the mean, h = μ ∈ R^T, and with Σ = diag(σ²_a)
 *
 *     t(y)_a = y_a / σ²_a,   F(h) = Σ_a h_a² / (2σ²_a),   π(y) = N(y; 0, Σ),
 *
 * so p(y | h) = π(y) exp(t(y)ᵀh − F(h)) = N(y; h, Σ). Then
 *
 *     η_a = h_a / σ²_a,   Cov(t) = Σ⁻¹   (the output-space Fisher information),
 *     E[δ_a³] = 0,        E[δ_a⁴] = 3 / σ⁴_a  (δ = t − η),
 *
 * and the fourth cumulant vanishes, so K_abcd is the three pairings of Σ⁻¹. The loss is the
 * squared error Σ_a (y_a − h_a)² / (2σ²_a) plus the constant ½ log(2πσ²_a) per coordinate; its
 * gradient in h is Σ⁻¹(h − y) = η − t(y). Targets are the raw y values [B, T] (not t).
 *
 * The variance is fixed: it is not a function of h, so the moments above (and hence every Fisher
 * estimate built on them) are those of the mean parameters only. A policy that trains its
 * log-standard deviations s as parameters gets the log-density differentiable in both μ and s
 * from `gaussianLogProbWithLogStd`; the Fisher block of s is the closed form 2·I per sample
 * (E[(δ²/σ² − 1)²] = 2 for δ ~ N(0, σ²), and the μ–s cross block is E[δ(δ² − σ²)] = 0).
 */
import { fail } from '../core/errors.js';
import type { Rng } from '../core/rng.js';
import { affine, exp, mul, neg, reshape, square, sub, sum, sumAxis } from '../autodiff/ops.js';
import type { Tensor } from '../core/tensor.js';
import { IndependentCoordinates, constantLike } from './independent.js';
import type { Targets } from './likelihood.js';

export interface GaussianOptions {
  /**
   * The fixed observation variance σ² (default 1): one number for every coordinate, or one per
   * output coordinate (its length must then equal the network output size T).
   */
  variance?: number | ArrayLike<number>;
}

export class GaussianLikelihood extends IndependentCoordinates {
  readonly name = 'gaussian' as const;
  readonly targetKind = 'real' as const;
  /** σ² when it is shared by every coordinate; NaN when it is per coordinate (see `variances`). */
  readonly variance: number;
  /** σ²_a per coordinate, or null when one σ² is shared. */
  readonly variances: Float64Array | null;
  private readonly precision: Float64Array;
  private readonly std: Float64Array;
  private readonly logNormaliser: Float64Array;

  constructor(opts: GaussianOptions = {}) {
    super();
    const given = opts.variance ?? 1;
    const list = typeof given === 'number' ? [given] : Array.from(given);
    if (list.length === 0) fail('INVALID_ARGUMENT', 'gaussian: the per-coordinate variance list is empty');
    list.forEach((v, i) => {
      if (!Number.isFinite(v) || v <= 0) {
        fail('INVALID_ARGUMENT', `gaussian: variance${typeof given === 'number' ? '' : `[${i}]`} must be a finite positive number, got ${v}`);
      }
    });
    this.variance = typeof given === 'number' ? given : NaN;
    this.variances = typeof given === 'number' ? null : Float64Array.from(list);
    this.precision = Float64Array.from(list, (v) => 1 / v);
    this.std = Float64Array.from(list, (v) => Math.sqrt(v));
    this.logNormaliser = Float64Array.from(list, (v) => 0.5 * Math.log(2 * Math.PI * v));
  }

  /** Index into the per-coordinate arrays (0 when one σ² is shared). */
  private k(col: number): number {
    return this.variances === null ? 0 : col;
  }

  override checkOutput(outputDim: number, numClasses?: number): void {
    super.checkOutput(outputDim, numClasses);
    if (this.variances !== null && this.variances.length !== outputDim) {
      fail('SHAPE', `gaussian: ${this.variances.length} per-coordinate variances but the network output size is ${outputDim}`);
    }
  }

  protected coordMean(h: number, col: number): number {
    return h * this.precision[this.k(col)]!;
  }
  protected coordVariance(_h: number, col: number): number {
    return this.precision[this.k(col)]!;
  }
  protected coordThird(_h: number, _col: number): number {
    return 0;
  }
  protected coordFourth(_h: number, col: number): number {
    const p = this.precision[this.k(col)]!;
    return 3 * p * p;
  }
  protected coordLogPartition(h: number, col: number): number {
    return 0.5 * h * h * this.precision[this.k(col)]!;
  }
  protected coordLogProb(h: number, y: number, col: number): number {
    const d = y - h;
    const k = this.k(col);
    return -0.5 * d * d * this.precision[k]! - this.logNormaliser[k]!;
  }
  protected coordStat(y: number, col: number): number {
    return y * this.precision[this.k(col)]!;
  }
  protected coordSample(h: number, rng: Rng, _row: number, col: number): number {
    return h + this.std[this.k(col)]! * rng.normal();
  }
  protected checkTargetValue(y: number, index: number, outputDim: number): void {
    if (!Number.isFinite(y)) {
      fail('NON_FINITE', `gaussian: target y[${Math.floor(index / outputDim)}, ${index % outputDim}] (flat index ${index}) is ${y}`);
    }
  }
  protected buildLogProb(h: Tensor, targets: Targets, batch: number, outputDim: number): Tensor {
    const residual = sub(h, constantLike(h, targets, [batch, outputDim]));
    if (this.variances === null) {
      return affine(sumAxis(square(residual), 1), -0.5 * this.precision[0]!, -outputDim * this.logNormaliser[0]!);
    }
    if (this.variances.length !== outputDim) this.checkOutput(outputDim);
    const negHalfPrecision = constantLike(h, Array.from(this.precision, (p) => -0.5 * p), [1, outputDim]);
    const logZ = this.logNormaliser.reduce((s, v) => s + v, 0);
    return affine(sumAxis(mul(square(residual), negHalfPrecision), 1), 1, -logZ);
  }
}

/**
 * log N(y_b; μ_b, diag(exp(2s))) per row [B], differentiable in both the mean μ [B, T] and the
 * log-standard deviations s [T] (a trainable parameter of a diagonal-Gaussian policy):
 *
 *     log p = Σ_a [ −½ (y_a − μ_a)² e^{−2 s_a} − s_a − ½ log 2π ].
 *
 * The values equal `new GaussianLikelihood({ variance: exp(2s) }).logProb(μ, y)`; this form also
 * carries the derivative in s, which a fixed-variance likelihood cannot.
 */
export function gaussianLogProbWithLogStd(mean: Tensor, logStd: Tensor, targets: ArrayLike<number>): Tensor {
  if (mean.rank !== 2) fail('SHAPE', `gaussian: mean must be [batch, T], got [${mean.shape.join(', ')}]`);
  const [batch, T] = mean.shape as [number, number];
  if (logStd.size !== T) fail('SHAPE', `gaussian: ${logStd.size} log-standard deviations for an output of size ${T}`);
  if (targets.length !== batch * T) fail('SHAPE', `gaussian: ${targets.length} target values but batch ${batch} × output size ${T} needs ${batch * T}`);
  for (let i = 0; i < targets.length; i++) {
    if (!Number.isFinite(targets[i]!)) fail('NON_FINITE', `gaussian: target y[${Math.floor(i / T)}, ${i % T}] is ${targets[i]}`);
  }
  const s = reshape(logStd, [1, T]);
  const z = mul(sub(mean, constantLike(mean, targets, [batch, T])), exp(neg(s)));
  const perRow = affine(sumAxis(square(z), 1), -0.5, -0.5 * T * Math.log(2 * Math.PI));
  return sub(perRow, sum(s));
}
