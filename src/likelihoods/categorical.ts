/**
 * Categorical (softmax) likelihood over C = T logits.
 *
 *     t(y) = one-hot(y) ∈ {0,1}^C,   F(h) = log Σ_c exp h_c,   η = p = softmax(h),
 *     Cov(t) = diag(p) − p pᵀ   (rank C − 1: the logits are over-parameterised, Cov·1 = 0).
 *
 * Central moments of the one-hot vector (a multinomial with one trial), δ = t − p: for an index
 * tuple (i_1..i_k) with distinct values D,
 *
 *     E[Π_j δ_{i_j}] = Σ_{y ∈ D} p_y Π_j ([i_j = y] − p_{i_j})  +  r_D · Π_j (−p_{i_j}),
 *     r_D = Σ_{c ∉ D} p_c,
 *
 * (labels outside D contribute −p to every factor). The quartic form along u needs only O(C):
 * uᵀδ = u_y − ū with ū = Σ_c p_c u_c, so K(u,u,u,u) = Σ_c p_c (u_c − ū)⁴.
 *
 * Stability: probabilities come from exp(h − max h); the complements 1 − p_c are summed from
 * the other classes rather than subtracted, so tiny and near-one probabilities keep their
 * relative precision; log p(y|h) = h_y − logsumexp(h) is finite for any finite logits.
 */
import { fail, shapeStr } from '../core/errors.js';
import type { FloatArray } from '../core/dtype.js';
import type { Rng } from '../core/rng.js';
import type { Tensor } from '../core/tensor.js';
import { logSumExp, pick, scale, sub, sum } from '../autodiff/ops.js';
import {
  checkDirections,
  checkNaturalParams,
  checkSampleCount,
  checkTensorSize,
  factorBuffer,
  type Likelihood,
  type ProjectedMoments,
  type Targets,
} from './likelihood.js';

/**
 * Softmax of h[off .. off+C) into p, and (when q is given) the complements q_c = 1 − p_c
 * computed as Σ_{c' ≠ c} p_c' from prefix and suffix sums. Returns log Σ exp h (= F(h)).
 */
export function softmaxRow(h: ArrayLike<number>, off: number, C: number, p: Float64Array, q: Float64Array | null): number {
  let mx = -Infinity;
  for (let c = 0; c < C; c++) mx = Math.max(mx, h[off + c]!);
  let z = 0;
  for (let c = 0; c < C; c++) {
    const e = Math.exp(h[off + c]! - mx);
    p[c] = e;
    z += e;
  }
  if (q) {
    // q[c] ← Σ_{c' > c} e_c', then add the prefix Σ_{c' < c} e_c' on the way forward.
    let suffix = 0;
    for (let c = C - 1; c >= 0; c--) {
      q[c] = suffix;
      suffix += p[c]!;
    }
    let prefix = 0;
    for (let c = 0; c < C; c++) {
      const e = p[c]!;
      q[c] = (q[c]! + prefix) / z;
      prefix += e;
    }
  }
  for (let c = 0; c < C; c++) p[c] = p[c]! / z;
  return mx + Math.log(z);
}

/**
 * E[Π_j δ_{idx[j]}] for the one-hot statistic (see the file comment). `p`, `q` from softmaxRow.
 */
export function oneHotCentralMoment(p: Float64Array, q: Float64Array, idx: ArrayLike<number>): number {
  const k = idx.length;
  let total = 0;
  let massD = 0;
  let distinct = 0;
  let first = -1;
  for (let j = 0; j < k; j++) {
    const y = idx[j]!;
    let seen = false;
    for (let i = 0; i < j; i++) if (idx[i] === y) seen = true;
    if (seen) continue;
    distinct++;
    if (first < 0) first = y;
    massD += p[y]!;
    let prod = p[y]!;
    for (let i = 0; i < k; i++) {
      const c = idx[i]!;
      prod *= c === y ? q[c]! : -p[c]!;
    }
    total += prod;
  }
  // r_D: for one distinct label it is q; otherwise 1 − mass(D), summed directly when that
  // difference would cancel (mass(D) above ½).
  let rest: number;
  if (distinct === 1) rest = q[first]!;
  else if (massD <= 0.5) rest = 1 - massD;
  else {
    rest = 0;
    for (let c = 0; c < p.length; c++) {
      let inD = false;
      for (let i = 0; i < k; i++) if (idx[i] === c) inD = true;
      if (!inD) rest += p[c]!;
    }
  }
  let prodAll = rest;
  for (let i = 0; i < k; i++) prodAll *= -p[idx[i]!]!;
  return total + prodAll;
}

export class CategoricalLikelihood implements Likelihood {
  readonly name = 'categorical' as const;
  readonly targetKind = 'class' as const;
  readonly diagonalCovariance = false;

  checkOutput(outputDim: number, numClasses?: number): void {
    if (!Number.isInteger(outputDim) || outputDim < 2) {
      fail('SHAPE', `categorical: network output size must be an integer ≥ 2 (one logit per class), got ${outputDim}`);
    }
    if (numClasses !== undefined && numClasses !== outputDim) {
      fail('SHAPE', `categorical: network output size ${outputDim} does not match the ${numClasses} classes of the data`);
    }
  }

  checkTargets(targets: Targets, batch: number, outputDim: number): void {
    this.checkOutput(outputDim);
    if (targets.length !== batch) fail('SHAPE', `categorical: ${targets.length} labels for a batch of ${batch} (one class label per row)`);
    for (let i = 0; i < targets.length; i++) {
      const y = targets[i]!;
      if (Number.isInteger(y) && y >= 0 && y < outputDim) continue;
      if (!Number.isFinite(y)) fail('NON_FINITE', `categorical: label at index ${i} is ${y}`);
      fail('LABEL_RANGE', `categorical: label ${y} at index ${i} is outside [0, ${outputDim})`);
    }
  }

  /** h holds batch rows of C ≥ 2 finite logits. */
  private checkLogits(h: ArrayLike<number>, batch: number, outputDim: number): void {
    this.checkOutput(outputDim);
    checkNaturalParams(this.name, h, batch, outputDim);
  }

  private labels(targets: Targets): Int32Array {
    return targets instanceof Int32Array ? targets : Int32Array.from(targets);
  }

  /** log p(y|h) = h_y − logsumexp(h): two ops on the graph. */
  logProb(h: Tensor, targets: Targets): Tensor {
    if (h.rank !== 2) fail('SHAPE', `categorical: logProb needs h as [batch, classes], got ${shapeStr(h.shape)}`);
    const [batch, outputDim] = h.shape as [number, number];
    this.checkTargets(targets, batch, outputDim);
    return sub(pick(h, this.labels(targets)), logSumExp(h));
  }

  nll(h: Tensor, targets: Targets): Tensor {
    const lp = this.logProb(h, targets);
    if (lp.size === 0) fail('SHAPE', 'categorical: the loss of an empty batch is undefined');
    return scale(sum(lp), -1 / lp.size);
  }

  logProbValues(h: FloatArray, targets: Targets, batch: number, outputDim: number): Float64Array {
    this.checkLogits(h, batch, outputDim);
    this.checkTargets(targets, batch, outputDim);
    const out = new Float64Array(batch);
    const p = new Float64Array(outputDim);
    for (let b = 0; b < batch; b++) {
      const lse = softmaxRow(h, b * outputDim, outputDim, p, null);
      out[b] = h[b * outputDim + targets[b]!]! - lse;
    }
    return out;
  }

  logPartition(hRow: ArrayLike<number>, outputDim: number): number {
    this.checkLogits(hRow, 1, outputDim);
    return softmaxRow(hRow, 0, outputDim, new Float64Array(outputDim), null);
  }

  /** Inverse-CDF draws: O(C) per row to build the CDF, then O(log C) per sample. */
  sample(h: FloatArray, batch: number, outputDim: number, rng: Rng, n: number): Int32Array {
    this.checkLogits(h, batch, outputDim);
    checkSampleCount(this.name, n);
    const C = outputDim;
    const out = new Int32Array(batch * n);
    const cdf = new Float64Array(C);
    for (let b = 0; b < batch; b++) {
      const off = b * C;
      let mx = -Infinity;
      for (let c = 0; c < C; c++) mx = Math.max(mx, h[off + c]!);
      let acc = 0;
      for (let c = 0; c < C; c++) {
        acc += Math.exp(h[off + c]! - mx);
        cdf[c] = acc;
      }
      for (let s = 0; s < n; s++) {
        const u = rng.uniform() * acc;
        // First class whose cumulative weight exceeds u: zero-probability classes (flat CDF
        // steps) are never chosen.
        let lo = 0;
        let hi = C - 1;
        while (lo < hi) {
          const mid = (lo + hi) >>> 1;
          if (cdf[mid]! > u) hi = mid;
          else lo = mid + 1;
        }
        out[b * n + s] = lo;
      }
    }
    return out;
  }

  sufficientStat(targets: Targets, batch: number, outputDim: number): Float64Array {
    this.checkTargets(targets, batch, outputDim);
    const out = new Float64Array(batch * outputDim);
    for (let b = 0; b < batch; b++) out[b * outputDim + targets[b]!] = 1;
    return out;
  }

  meanStat(h: FloatArray, batch: number, outputDim: number): Float64Array {
    this.checkLogits(h, batch, outputDim);
    const out = new Float64Array(batch * outputDim);
    for (let b = 0; b < batch; b++) {
      softmaxRow(h, b * outputDim, outputDim, out.subarray(b * outputDim, (b + 1) * outputDim), null);
    }
    return out;
  }

  covariance(h: FloatArray, batch: number, outputDim: number): Float64Array {
    this.checkLogits(h, batch, outputDim);
    const C = outputDim;
    const out = new Float64Array(batch * C * C);
    const p = new Float64Array(C);
    const q = new Float64Array(C);
    for (let b = 0; b < batch; b++) {
      softmaxRow(h, b * C, C, p, q);
      const o = b * C * C;
      for (let i = 0; i < C; i++) {
        for (let j = 0; j < C; j++) out[o + i * C + j] = i === j ? p[i]! * q[i]! : -p[i]! * p[j]!;
      }
    }
    return out;
  }

  covarianceDiagonal(h: FloatArray, batch: number, outputDim: number): Float64Array {
    this.checkLogits(h, batch, outputDim);
    const C = outputDim;
    const out = new Float64Array(batch * C);
    const q = new Float64Array(C);
    for (let b = 0; b < batch; b++) {
      const p = out.subarray(b * C, (b + 1) * C);
      softmaxRow(h, b * C, C, p, q);
      for (let c = 0; c < C; c++) p[c] = p[c]! * q[c]!;
    }
    return out;
  }

  factorRank(outputDim: number): number {
    this.checkOutput(outputDim);
    return outputDim - 1;
  }

  /**
   * The Cholesky factor of diag(p) − ppᵀ, which has a closed form: with the classes in an order
   * π and tail masses s_j = Σ_{k ≥ j} p_π(k),
   *
   *     L_jj = √(p_j s_{j+1} / s_j),   L_ij = −p_i √(p_j / s_j) / √s_{j+1}   (i > j),
   *
   * and the last column is zero, so C − 1 columns suffice. (Check: Σ_{j<a} p_j/(s_j s_{j+1})
   * telescopes to 1/s_a − 1, which gives (L Lᵀ)_ab = −p_a p_b off the diagonal.) The most
   * probable class is put last so every s_j with j < C − 1 is at least max p ≥ 1/C: the tail
   * sums never become tiny divisors, and the reconstruction keeps precision for confident rows.
   * Tail sums are accumulated from the small end, so they are exact to rounding.
   */
  sqrtFactor(h: FloatArray, batch: number, outputDim: number, into?: Float64Array): Float64Array {
    this.checkLogits(h, batch, outputDim);
    const C = outputDim;
    const R = C - 1;
    const out = factorBuffer(this.name, batch * C * R, into);
    const p = new Float64Array(C);
    const order = new Int32Array(C);
    const pOrdered = new Float64Array(C);
    const tail = new Float64Array(C + 1);
    for (let b = 0; b < batch; b++) {
      softmaxRow(h, b * C, C, p, null);
      let top = 0;
      for (let c = 1; c < C; c++) if (p[c]! > p[top]!) top = c;
      let k = 0;
      for (let c = 0; c < C; c++) if (c !== top) order[k++] = c;
      order[C - 1] = top;
      for (let j = 0; j < C; j++) pOrdered[j] = p[order[j]!]!;
      tail[C] = 0;
      for (let j = C - 1; j >= 0; j--) tail[j] = tail[j + 1]! + pOrdered[j]!;
      const o = b * C * R;
      for (let j = 0; j < R; j++) {
        const sj = tail[j]!;
        const sNext = tail[j + 1]!;
        const pj = pOrdered[j]!;
        if (pj === 0) continue; // a zero-probability class contributes a zero column
        out[o + order[j]! * R + j] = Math.sqrt((pj * sNext) / sj);
        if (sNext === 0) continue; // every later class has p = 0
        const coef = Math.sqrt(pj / sj) / Math.sqrt(sNext);
        for (let i = j + 1; i < C; i++) out[o + order[i]! * R + j] = -pOrdered[i]! * coef;
      }
    }
    return out;
  }

  fourthMomentQuartic(hRow: ArrayLike<number>, outputDim: number, u: ArrayLike<number>): number {
    return this.projectedMoments(hRow, outputDim, u, 1).fourth[0]!;
  }

  /** O(C) per direction: uᵀδ = u_y − ū, so the moments are those of u_y under y ~ p. */
  projectedMoments(hRow: ArrayLike<number>, outputDim: number, directions: ArrayLike<number>, count: number): ProjectedMoments {
    this.checkLogits(hRow, 1, outputDim);
    checkDirections(this.name, directions, outputDim, count);
    const C = outputDim;
    const p = new Float64Array(C);
    softmaxRow(hRow, 0, C, p, null);
    const second = new Float64Array(count);
    const fourth = new Float64Array(count);
    for (let k = 0; k < count; k++) {
      const o = k * C;
      let ubar = 0;
      for (let c = 0; c < C; c++) ubar += p[c]! * directions[o + c]!;
      let m2 = 0;
      let m4 = 0;
      for (let c = 0; c < C; c++) {
        const d = directions[o + c]! - ubar;
        const pd2 = p[c]! * d * d;
        m2 += pd2;
        m4 += pd2 * d * d;
      }
      second[k] = m2;
      fourth[k] = m4;
    }
    return { second, fourth };
  }

  thirdMoment(hRow: ArrayLike<number>, outputDim: number): Float64Array {
    this.checkLogits(hRow, 1, outputDim);
    checkTensorSize(this.name, outputDim, 3);
    const C = outputDim;
    const p = new Float64Array(C);
    const q = new Float64Array(C);
    softmaxRow(hRow, 0, C, p, q);
    const out = new Float64Array(C * C * C);
    const idx = new Int32Array(3);
    let n = 0;
    for (let a = 0; a < C; a++) {
      for (let b = 0; b < C; b++) {
        for (let c = 0; c < C; c++) {
          idx[0] = a;
          idx[1] = b;
          idx[2] = c;
          out[n++] = oneHotCentralMoment(p, q, idx);
        }
      }
    }
    return out;
  }

  fourthMoment(hRow: ArrayLike<number>, outputDim: number): Float64Array {
    this.checkLogits(hRow, 1, outputDim);
    checkTensorSize(this.name, outputDim, 4);
    const C = outputDim;
    const p = new Float64Array(C);
    const q = new Float64Array(C);
    softmaxRow(hRow, 0, C, p, q);
    const out = new Float64Array(C * C * C * C);
    const idx = new Int32Array(4);
    // K is symmetric under index permutations: compute a ≤ b ≤ c ≤ d and copy to the others.
    for (let a = 0; a < C; a++) {
      for (let b = a; b < C; b++) {
        for (let c = b; c < C; c++) {
          for (let d = c; d < C; d++) {
            idx[0] = a;
            idx[1] = b;
            idx[2] = c;
            idx[3] = d;
            const v = oneHotCentralMoment(p, q, idx);
            forEachPermutation4(a, b, c, d, (i, j, k, l) => {
              out[((i * C + j) * C + k) * C + l] = v;
            });
          }
        }
      }
    }
    return out;
  }
}

/** Calls f on every ordering of (a, b, c, d) (repeats allowed: duplicate writes are harmless). */
function forEachPermutation4(a: number, b: number, c: number, d: number, f: (i: number, j: number, k: number, l: number) => void): void {
  const v = [a, b, c, d];
  for (let i = 0; i < 4; i++) {
    for (let j = 0; j < 4; j++) {
      if (j === i) continue;
      for (let k = 0; k < 4; k++) {
        if (k === i || k === j) continue;
        const l = 6 - i - j - k;
        f(v[i]!, v[j]!, v[k]!, v[l]!);
      }
    }
  }
}
