/**
 * Shared machinery for families whose T output coordinates are independent given h (Gaussian
 * with fixed variance, multi-label Bernoulli, Poisson): every moment factorises over the
 * coordinates, Cov(t) is diagonal, and the central-moment tensors are sparse:
 *
 *   third:  E[δ_a δ_b δ_c]     = m3_a            if a = b = c, else 0
 *   fourth: E[δ_a δ_b δ_c δ_d] = m4_a            if a = b = c = d
 *                              = v_a v_c         if the indices form two distinct pairs
 *                              = 0               otherwise
 *
 * with v, m3, m4 the per-coordinate central moments of t_a.
 */
import { allocArray, type FloatArray } from '../core/dtype.js';
import { fail, shapeStr } from '../core/errors.js';
import type { Rng } from '../core/rng.js';
import type { Tensor } from '../core/tensor.js';
import type { TargetKind } from '../data/dataset.js';
import { constant, scale, sum } from '../autodiff/ops.js';
import {
  checkDirections,
  checkNaturalParams,
  checkPositiveInt,
  checkRow,
  checkSampleCount,
  checkTensorSize,
  factorBuffer,
  type Likelihood,
  type LikelihoodName,
  type ProjectedMoments,
  type Targets,
} from './likelihood.js';

export abstract class IndependentCoordinates implements Likelihood {
  abstract readonly name: LikelihoodName;
  abstract readonly targetKind: TargetKind;
  readonly diagonalCovariance = true;

  // Every per-coordinate function also receives the coordinate's index `col` (0 ≤ col < T):
  // families whose coordinates share one law ignore it; a Gaussian with a per-coordinate
  // variance reads its σ²_col from it.
  /** E[t_a] as a function of h_a. */
  protected abstract coordMean(h: number, col: number): number;
  /** Var(t_a) = F_a''(h_a). */
  protected abstract coordVariance(h: number, col: number): number;
  /** E[(t_a − η_a)³]. */
  protected abstract coordThird(h: number, col: number): number;
  /** E[(t_a − η_a)⁴]. */
  protected abstract coordFourth(h: number, col: number): number;
  /** The per-coordinate log-partition F_a(h_a) (F is their sum). */
  protected abstract coordLogPartition(h: number, col: number): number;
  /** log p(y_a | h_a). */
  protected abstract coordLogProb(h: number, y: number, col: number): number;
  /** t(y) for one coordinate. */
  protected abstract coordStat(y: number, col: number): number;
  /** One draw of y_a given h_a (the target value, not t). */
  protected abstract coordSample(h: number, rng: Rng, row: number, col: number): number;
  /** Throws LABEL_RANGE / NON_FINITE naming the flat index when y is not a valid target. */
  protected abstract checkTargetValue(y: number, index: number, outputDim: number): void;
  /** The differentiable per-row log-probability; h is [B, T], targets already validated. */
  protected abstract buildLogProb(h: Tensor, targets: Targets, batch: number, outputDim: number): Tensor;

  checkOutput(outputDim: number, numClasses?: number): void {
    checkPositiveInt(`${this.name}: network output size`, outputDim);
    // Only multi-label targets carry a label count that must equal T; real and count targets
    // have no class count to compare with.
    if (this.targetKind === 'multilabel' && numClasses !== undefined && numClasses !== outputDim) {
      fail('SHAPE', `${this.name}: network output size ${outputDim} does not match the ${numClasses} labels of the data`);
    }
  }

  checkTargets(targets: Targets, batch: number, outputDim: number): void {
    checkPositiveInt(`${this.name}: output size`, outputDim);
    if (targets.length !== batch * outputDim) {
      fail('SHAPE', `${this.name}: ${targets.length} target values but batch ${batch} × output size ${outputDim} needs ${batch * outputDim}`);
    }
    for (let i = 0; i < targets.length; i++) this.checkTargetValue(targets[i]!, i, outputDim);
  }

  logProb(h: Tensor, targets: Targets): Tensor {
    if (h.rank !== 2) fail('SHAPE', `${this.name}: logProb needs h as [batch, outputs], got ${shapeStr(h.shape)}`);
    const [batch, outputDim] = h.shape as [number, number];
    this.checkOutput(outputDim);
    this.checkTargets(targets, batch, outputDim);
    return this.buildLogProb(h, targets, batch, outputDim);
  }

  nll(h: Tensor, targets: Targets): Tensor {
    const lp = this.logProb(h, targets);
    if (lp.size === 0) fail('SHAPE', `${this.name}: the loss of an empty batch is undefined`);
    return scale(sum(lp), -1 / lp.size);
  }

  logProbValues(h: FloatArray, targets: Targets, batch: number, outputDim: number): Float64Array {
    checkNaturalParams(this.name, h, batch, outputDim);
    this.checkTargets(targets, batch, outputDim);
    const out = new Float64Array(batch);
    for (let b = 0; b < batch; b++) {
      let s = 0;
      for (let a = 0; a < outputDim; a++) s += this.coordLogProb(h[b * outputDim + a]!, targets[b * outputDim + a]!, a);
      out[b] = s;
    }
    return out;
  }

  logPartition(hRow: ArrayLike<number>, outputDim: number): number {
    checkRow(this.name, hRow, outputDim);
    let s = 0;
    for (let a = 0; a < outputDim; a++) s += this.coordLogPartition(hRow[a]!, a);
    return s;
  }

  sample(h: FloatArray, batch: number, outputDim: number, rng: Rng, n: number): Float64Array {
    checkNaturalParams(this.name, h, batch, outputDim);
    checkSampleCount(this.name, n);
    const out = new Float64Array(batch * n * outputDim);
    for (let b = 0; b < batch; b++) {
      for (let s = 0; s < n; s++) {
        const o = (b * n + s) * outputDim;
        for (let a = 0; a < outputDim; a++) out[o + a] = this.coordSample(h[b * outputDim + a]!, rng, b, a);
      }
    }
    return out;
  }

  sufficientStat(targets: Targets, batch: number, outputDim: number): Float64Array {
    this.checkTargets(targets, batch, outputDim);
    const out = new Float64Array(batch * outputDim);
    for (let i = 0; i < out.length; i++) out[i] = this.coordStat(targets[i]!, i % outputDim);
    return out;
  }

  meanStat(h: FloatArray, batch: number, outputDim: number): Float64Array {
    checkNaturalParams(this.name, h, batch, outputDim);
    const out = new Float64Array(batch * outputDim);
    for (let i = 0; i < out.length; i++) out[i] = this.coordMean(h[i]!, i % outputDim);
    return out;
  }

  covarianceDiagonal(h: FloatArray, batch: number, outputDim: number): Float64Array {
    checkNaturalParams(this.name, h, batch, outputDim);
    const out = new Float64Array(batch * outputDim);
    for (let i = 0; i < out.length; i++) out[i] = this.coordVariance(h[i]!, i % outputDim);
    return out;
  }

  covariance(h: FloatArray, batch: number, outputDim: number): Float64Array {
    checkNaturalParams(this.name, h, batch, outputDim);
    const T = outputDim;
    const out = new Float64Array(batch * T * T);
    for (let b = 0; b < batch; b++) {
      for (let a = 0; a < T; a++) out[(b * T + a) * T + a] = this.coordVariance(h[b * T + a]!, a);
    }
    return out;
  }

  factorRank(outputDim: number): number {
    checkPositiveInt(`${this.name}: output size`, outputDim);
    return outputDim;
  }

  /** diag(√v): the factor of a diagonal covariance, stored dense as [B, T, T]. */
  sqrtFactor(h: FloatArray, batch: number, outputDim: number, into?: Float64Array): Float64Array {
    checkNaturalParams(this.name, h, batch, outputDim);
    const T = outputDim;
    const out = factorBuffer(this.name, batch * T * T, into);
    for (let b = 0; b < batch; b++) {
      for (let a = 0; a < T; a++) out[(b * T + a) * T + a] = Math.sqrt(this.coordVariance(h[b * T + a]!, a));
    }
    return out;
  }

  fourthMomentQuartic(hRow: ArrayLike<number>, outputDim: number, u: ArrayLike<number>): number {
    return this.projectedMoments(hRow, outputDim, u, 1).fourth[0]!;
  }

  /**
   * For independent coordinates, E[(Σ u_a δ_a)⁴] = Σ_a u_a⁴ m4_a + 6 Σ_{a<b} u_a² v_a u_b² v_b,
   * written as Σ u⁴m4 + 3[(Σ w)² − Σ w²] with w_a = u_a² v_a: every term is non-negative.
   */
  projectedMoments(hRow: ArrayLike<number>, outputDim: number, directions: ArrayLike<number>, count: number): ProjectedMoments {
    checkRow(this.name, hRow, outputDim);
    checkDirections(this.name, directions, outputDim, count);
    const T = outputDim;
    const v = new Float64Array(T);
    const m4 = new Float64Array(T);
    for (let a = 0; a < T; a++) {
      v[a] = this.coordVariance(hRow[a]!, a);
      m4[a] = this.coordFourth(hRow[a]!, a);
    }
    const second = new Float64Array(count);
    const fourth = new Float64Array(count);
    for (let k = 0; k < count; k++) {
      let sumW = 0;
      let sumW2 = 0;
      let diag = 0;
      for (let a = 0; a < T; a++) {
        const u2 = directions[k * T + a]! ** 2;
        const w = u2 * v[a]!;
        sumW += w;
        sumW2 += w * w;
        diag += u2 * u2 * m4[a]!;
      }
      second[k] = sumW;
      fourth[k] = diag + 3 * Math.max(0, sumW * sumW - sumW2);
    }
    return { second, fourth };
  }

  thirdMoment(hRow: ArrayLike<number>, outputDim: number): Float64Array {
    checkRow(this.name, hRow, outputDim);
    checkTensorSize(this.name, outputDim, 3);
    const T = outputDim;
    const out = new Float64Array(T * T * T);
    for (let a = 0; a < T; a++) out[(a * T + a) * T + a] = this.coordThird(hRow[a]!, a);
    return out;
  }

  fourthMoment(hRow: ArrayLike<number>, outputDim: number): Float64Array {
    checkRow(this.name, hRow, outputDim);
    checkTensorSize(this.name, outputDim, 4);
    const T = outputDim;
    const v = new Float64Array(T);
    for (let a = 0; a < T; a++) v[a] = this.coordVariance(hRow[a]!, a);
    const out = new Float64Array(T * T * T * T);
    const at = (a: number, b: number, c: number, d: number): number => ((a * T + b) * T + c) * T + d;
    for (let a = 0; a < T; a++) {
      out[at(a, a, a, a)] = this.coordFourth(hRow[a]!, a);
      for (let c = 0; c < T; c++) {
        if (c === a) continue;
        const vv = v[a]! * v[c]!;
        out[at(a, a, c, c)] = vv; // pairing (ab)(cd)
        out[at(a, c, a, c)] = vv; // pairing (ac)(bd)
        out[at(a, c, c, a)] = vv; // pairing (ad)(bc)
      }
    }
    return out;
  }
}

/** A constant tensor of h's dtype holding `values`. */
export function constantLike(h: Tensor, values: ArrayLike<number>, shape: readonly number[]): Tensor {
  const data = allocArray(h.dtype, values.length);
  data.set(values);
  return constant(data, shape);
}
