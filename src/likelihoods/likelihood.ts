/**
 * Output likelihoods: exponential families over the network output h (one row per input, T
 * columns, the natural parameters):
 *
 *     p(y | x) = π(y) · exp( t(y)ᵀ h − F(h) ).
 *
 * A likelihood supplies the training loss (a differentiable −log p built from autodiff ops) and
 * the closed-form moments of the sufficient statistic t(y) that the Fisher-information code
 * needs: η = E[t] = ∇F, Cov(t) = ∇²F (the Fisher information in output space), the third and
 * fourth central moments, and a square-root factor of Cov(t).
 *
 * Layouts (all row-major):
 *   h                      [B, T]
 *   class targets          [B]       integer labels in [0, T)
 *   other targets          [B, T]    reals / 0-1 values / counts
 *   sufficientStat, η      [B, T]
 *   covariance             [B, T, T]
 *   sqrtFactor             [B, T, R], R = factorRank(T)
 *   thirdMoment (one row)  [T, T, T]
 *   fourthMoment (one row) [T, T, T, T]
 */
import type { FloatArray } from '../core/dtype.js';
import { fail } from '../core/errors.js';
import type { Rng } from '../core/rng.js';
import type { Tensor } from '../core/tensor.js';
import type { TargetKind } from '../data/dataset.js';

export type LikelihoodName = 'gaussian' | 'categorical' | 'bernoulli' | 'poisson';
/** Targets as datasets hold them: Int32Array labels for classes, float arrays otherwise
 *  (float arrays holding integer labels and Int32Array counts are accepted too). */
export type Targets = Int32Array | Float32Array | Float64Array;

/** E[(uᵀ(t−η))²] and E[(uᵀ(t−η))⁴] for many directions u sharing one row of h. */
export interface ProjectedMoments {
  /** uᵀ Cov(t) u, one per direction. */
  readonly second: Float64Array;
  /** K(u, u, u, u) = E[(uᵀ(t−η))⁴], one per direction. */
  readonly fourth: Float64Array;
}

export interface Likelihood {
  readonly name: LikelihoodName;
  /** Matches Dataset.targetKind. */
  readonly targetKind: TargetKind;
  /** Whether Cov(t) is diagonal (gaussian, bernoulli, poisson): Fisher code may take O(T) paths. */
  readonly diagonalCovariance: boolean;

  /** Checks the network output width T fits; throws FimkitError('SHAPE') naming both. */
  checkOutput(outputDim: number, numClasses?: number): void;
  /** Validates targets (layout and values): SHAPE / LABEL_RANGE / NON_FINITE errors naming index and value. */
  checkTargets(targets: Targets, batch: number, outputDim: number): void;

  /** Differentiable log p(y_b | h_b) per row: a Tensor [B]. Validates the targets. */
  logProb(h: Tensor, targets: Targets): Tensor;
  /** Differentiable mean negative log-likelihood over the batch (scalar): the training loss. */
  nll(h: Tensor, targets: Targets): Tensor;
  /** log p(y_b | h_b) per row without building a graph (evaluation): Float64Array [B]. */
  logProbValues(h: FloatArray, targets: Targets, batch: number, outputDim: number): Float64Array;
  /** The log-partition function F(h) of one row. */
  logPartition(hRow: ArrayLike<number>, outputDim: number): number;

  /**
   * n samples of y per row of h, seeded. Same layout as data targets: Int32Array [B·n] for
   * class labels (index b·n + s), Float64Array [B·n·T] otherwise (index (b·n + s)·T + a).
   */
  sample(h: FloatArray, batch: number, outputDim: number, rng: Rng, n: number): Int32Array | Float64Array;

  /** Sufficient statistic t(y): [B, T] (one-hot for categorical). */
  sufficientStat(targets: Targets, batch: number, outputDim: number): Float64Array;
  /** η = E[t(y)] = ∇F(h) per row: [B, T]. */
  meanStat(h: FloatArray, batch: number, outputDim: number): Float64Array;
  /** Cov(t) = ∇²F(h) per row, the Fisher information in output space: [B, T, T]. */
  covariance(h: FloatArray, batch: number, outputDim: number): Float64Array;
  /** The diagonal of Cov(t) per row: [B, T] (O(T) per row for every family). */
  covarianceDiagonal(h: FloatArray, batch: number, outputDim: number): Float64Array;
  /**
   * S per row with S Sᵀ = Cov(t): [B, T, R], R = factorRank(T). When `out` is given (at least
   * B·T·R long) it is overwritten with S and returned: a streaming caller reuses one buffer.
   */
  sqrtFactor(h: FloatArray, batch: number, outputDim: number, out?: Float64Array): Float64Array;
  /** Columns of the square-root factor: C − 1 for softmax (its rank), T for diagonal families. */
  factorRank(outputDim: number): number;

  /** K(u, u, u, u) = E[(uᵀ(t−η))⁴] for one row h and one direction u (O(T)). */
  fourthMomentQuartic(hRow: ArrayLike<number>, outputDim: number, u: ArrayLike<number>): number;
  /** uᵀCov u and K(u,u,u,u) for `count` directions stored as [count, T], one row h (O(T) each). */
  projectedMoments(hRow: ArrayLike<number>, outputDim: number, directions: ArrayLike<number>, count: number): ProjectedMoments;
  /** The fourth central moment tensor K_abcd of one row: [T, T, T, T] (small T only). */
  fourthMoment(hRow: ArrayLike<number>, outputDim: number): Float64Array;
  /** The third central moment tensor E[δ_a δ_b δ_c] of one row: [T, T, T]. */
  thirdMoment(hRow: ArrayLike<number>, outputDim: number): Float64Array;
}

// -------------------------------------------------------------------------------------------
// Shared validation

/** Largest T for which moment tensors are materialised (T⁴ = 5.3 M doubles, 42 MB, at T = 48). */
export const MAX_TENSOR_OUTPUT_DIM = 48;

export function checkPositiveInt(what: string, n: number): void {
  if (!Number.isInteger(n) || n < 1) fail('SHAPE', `${what} must be a positive integer, got ${n}`);
}

/** Checks h holds batch·T finite values. */
export function checkNaturalParams(family: string, h: ArrayLike<number>, batch: number, outputDim: number): void {
  checkPositiveInt(`${family}: output size`, outputDim);
  if (!Number.isInteger(batch) || batch < 0) fail('SHAPE', `${family}: batch must be a non-negative integer, got ${batch}`);
  if (h.length !== batch * outputDim) {
    fail('SHAPE', `${family}: network output has ${h.length} values but batch ${batch} × output size ${outputDim} needs ${batch * outputDim}`);
  }
  for (let i = 0; i < h.length; i++) {
    const v = h[i]!;
    if (!Number.isFinite(v)) {
      fail('NON_FINITE', `${family}: network output h[${Math.floor(i / outputDim)}, ${i % outputDim}] is ${v}`);
    }
  }
}

export function checkRow(family: string, hRow: ArrayLike<number>, outputDim: number): void {
  checkNaturalParams(family, hRow, 1, outputDim);
}

export function checkDirections(family: string, u: ArrayLike<number>, outputDim: number, count: number): void {
  if (!Number.isInteger(count) || count < 0) fail('SHAPE', `${family}: direction count must be a non-negative integer, got ${count}`);
  if (u.length !== count * outputDim) {
    fail('SHAPE', `${family}: ${u.length} direction values but ${count} directions × output size ${outputDim} need ${count * outputDim}`);
  }
}

export function checkTensorSize(family: string, outputDim: number, order: number): void {
  if (outputDim > MAX_TENSOR_OUTPUT_DIM) {
    fail('TOO_LARGE', `${family}: the order-${order} moment tensor has ${outputDim}^${order} entries; output size ${outputDim} exceeds ${MAX_TENSOR_OUTPUT_DIM} (use fourthMomentQuartic / projectedMoments instead)`);
  }
}

/** The buffer a square-root factor of n entries is written into: `into` zeroed, or a new array. */
export function factorBuffer(family: string, n: number, into?: Float64Array): Float64Array {
  if (into === undefined) return new Float64Array(n);
  if (!(into instanceof Float64Array) || into.length < n) fail('SHAPE', `${family}: sqrtFactor output must be a Float64Array of at least ${n} entries`);
  return into.fill(0, 0, n);
}

export function checkSampleCount(family: string, n: number): void {
  if (!Number.isInteger(n) || n < 1) fail('INVALID_ARGUMENT', `${family}: sample count must be a positive integer, got ${n}`);
}
