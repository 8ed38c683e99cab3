/**
 * Variances of every entry of the full FIM estimators at one input, for small networks
 * ("On the Variance of the Fisher Information for Deep Learning", its covariance theorems, here
 * specialised to each entry's own variance): with δ = t(y) − η, J_i = ∂h/∂θ_i and
 * ∂²_ij h = ∂²h/∂θ_i∂θ_j,
 *
 *   Var(Î1_ij | x) = (1/N) (K(J_i, J_j, J_i, J_j) − (J_iᵀ Cov J_j)²)
 *   Var(Î2_ij | x) = (1/N) (∂²_ij h)ᵀ Cov (∂²_ij h)
 *
 * K is the likelihood's fourth central moment tensor (T⁴ entries: small T), the mixed second
 * derivatives come from P Hessian–vector products per output unit (small P). P×P results.
 */
import { fail } from '../core/errors.js';
import { Tensor } from '../core/tensor.js';
import * as F from '../autodiff/ops.js';
import { hvp } from '../autodiff/grad.js';
import type { Likelihood } from '../likelihoods/likelihood.js';
import type { Sequential } from '../nn/sequential.js';
import { checkDenseSize } from '../fisher/dense.js';
import { perSampleJacobians } from '../fisher/persample.js';

export interface EntryVariances {
  P: number;
  /** Var(Î1_ij|x) and Var(Î2_ij|x), P×P row-major, for N labels. */
  v1: Float64Array;
  v2: Float64Array;
  /** The exact conditional FIM I(θ|x), P×P. */
  fim: Float64Array;
}

export function entryVariances(model: Sequential, lik: Likelihood, x: Tensor, N = 1): EntryVariances {
  if (x.shape[0] !== 1) fail('SHAPE', `entry variances are for one input, got a batch of ${x.shape[0]}`);
  if (!Number.isInteger(N) || N < 1) fail('INVALID_ARGUMENT', `labels per input must be a positive integer, got ${N}`);
  const params = model.parameters();
  const P = params.reduce((s, p) => s + p.size, 0);
  checkDenseSize(P, 'entry variances of the full FIM estimators');
  const h = Float64Array.from(model.forward(x).data);
  const T = h.length;
  const J = perSampleJacobians(model, x); // [1, T, P]
  const cov = lik.covariance(h, 1, T);
  const K = lik.fourthMoment(h, T);
  // Mixed second derivatives: D[a][i·P + j] = ∂²h_a/∂θ_i∂θ_j, column j from one HVP per (a, j).
  const D = Array.from({ length: T }, () => new Float64Array(P * P));
  const unit = params.map((p) => Tensor.zeros(p.shape, p.dtype));
  for (let a = 0; a < T; a++) {
    const sel = Tensor.zeros([1, T], model.dtype);
    sel.data[a] = 1;
    const ha = (): Tensor => F.sum(F.mul(model.forward(x), sel));
    let col = 0;
    params.forEach((p, pi) => {
      for (let k = 0; k < p.size; k++, col++) {
        unit[pi]!.data[k] = 1;
        const hv = hvp(ha, params, unit);
        unit[pi]!.data[k] = 0;
        let row = 0;
        for (const g of hv) for (let m = 0; m < g.size; m++, row++) D[a]![row * P + col] = g.data[m]!;
      }
    });
  }
  const v1 = new Float64Array(P * P);
  const v2 = new Float64Array(P * P);
  const fim = new Float64Array(P * P);
  const Ji = new Float64Array(T);
  const Jj = new Float64Array(T);
  const Hij = new Float64Array(T);
  for (let i = 0; i < P; i++) {
    for (let a = 0; a < T; a++) Ji[a] = J[a * P + i]!;
    for (let j = 0; j < P; j++) {
      for (let a = 0; a < T; a++) { Jj[a] = J[a * P + j]!; Hij[a] = D[a]![i * P + j]!; }
      let iij = 0, q2 = 0, k4 = 0;
      for (let a = 0; a < T; a++) for (let b = 0; b < T; b++) {
        iij += Ji[a]! * cov[a * T + b]! * Jj[b]!;
        q2 += Hij[a]! * cov[a * T + b]! * Hij[b]!;
        const jab = Ji[a]! * Jj[b]!;
        if (jab === 0) continue;
        for (let c = 0; c < T; c++) for (let d = 0; d < T; d++) k4 += jab * Ji[c]! * Jj[d]! * K[((a * T + b) * T + c) * T + d]!;
      }
      fim[i * P + j] = iij;
      v1[i * P + j] = Math.max(0, k4 - iij * iij) / N;
      v2[i * P + j] = q2 / N;
    }
  }
  return { P, v1, v2, fim };
}
