/**
 * Streams a dataset through the engine and accumulates one estimator in one raw representation
 * (diagonal, per-layer blocks, dense, or KFAC factors). Memory: O(parameters + one batch), or
 * O(P²) for dense, O(Σ layer size²) for blocks.
 *
 * Columns per estimator, for a batch with outputs h and η = E[t(y)]:
 *   exact      S[:, :, r], r < R, with S Sᵀ = Cov(t|x)                      (Jᵀ Cov J)
 *   i1         t(y_s) − η for n labels y_s drawn from the model, each /n     (mean of squared scores)
 *   empirical  t(y_data) − η                                                 (data labels)
 *   i2         exact's columns + the second-derivative term with c = mean_s(η − t(y_s))
 *   hessian    exact's columns + the second-derivative term with c = η − t(y_data)
 * The second-derivative term of −∇²log p is Σ_a c_a ∇²h_a. Within a layer it equals
 * Σ_m Σ_k D_{m,k} g⁽ᵐᵏ⁾g⁽ᵐᵏ⁾ᵀ over curved activations m above the layer, with
 * D_m = φ''(u_m) ⊙ ∂(cᵀh)/∂φ(u_m) and g⁽ᵐᵏ⁾ the parameter gradient of the k-th unit of u_m.
 * Cross-layer blocks (dense representation) come from Hessian–vector products instead.
 */
import { getBackend } from '../core/backends/index.js';
import { Unary } from '../core/backend.js';
import type { FloatArray } from '../core/dtype.js';
import { fail } from '../core/errors.js';
import type { Rng } from '../core/rng.js';
import { Tensor } from '../core/tensor.js';
import * as F from '../autodiff/ops.js';
import { grad, hvp } from '../autodiff/grad.js';
import type { Likelihood } from '../likelihoods/likelihood.js';
import { activationOp, type Activation } from '../nn/layers.js';
import type { Sequential } from '../nn/sequential.js';
import {
  accumulateGram, accumulateKfacA, accumulateKfacG, accumulateSquares, backpropColumn, capture,
  curvedActivations, perSampleGrads, spatialSize, type Capture, type ParamLayerInfo,
} from './engine.js';
import type { EstimatorName } from './matrix.js';

export type RawKind = 'diag' | 'block' | 'dense' | 'kfac';

export interface KfacFactors {
  /** ((in+1)×(in+1) with a bias, row-major) Σ ā āᵀ over samples (and positions). */
  A: Float64Array;
  /** (out×out) Σ g gᵀ over samples, labels (and positions). */
  G: Float64Array;
  /** Samples behind A (inputs × positions) and behind G (terms × positions), for normalising. */
  countA: number;
  countG: number;
  /** Spatial positions of a conv layer (1 for dense). */
  positions: number;
}

export interface RawAccumulator {
  kind: RawKind;
  layers: ParamLayerInfo[];
  size: number;
  diag?: Float64Array;
  blocks?: Float64Array[];
  dense?: Float64Array;
  kfac?: KfacFactors[];
  /** Inputs seen. */
  inputs: number;
}

export function newAccumulator(kind: RawKind, layers: ParamLayerInfo[]): RawAccumulator {
  const size = layers.reduce((s, l) => s + l.size, 0);
  const acc: RawAccumulator = { kind, layers, size, inputs: 0 };
  if (kind === 'diag') acc.diag = new Float64Array(size);
  else if (kind === 'block') acc.blocks = layers.map((l) => new Float64Array(l.size * l.size));
  else if (kind === 'dense') acc.dense = new Float64Array(size * size);
  else {
    acc.kfac = layers.map((l) => {
      const dims = kfacDims(l);
      return { A: new Float64Array(dims.a * dims.a), G: new Float64Array(dims.g * dims.g), countA: 0, countG: 0, positions: 1 };
    });
  }
  return acc;
}

export function kfacDims(info: ParamLayerInfo): { a: number; g: number } {
  const l = info.layer;
  const hasBias = l.bias !== null;
  if (l.type === 'dense') return { a: (l as { nin: number }).nin + (hasBias ? 1 : 0), g: (l as { nout: number }).nout };
  const c = l as { inChannels: number; outChannels: number; kernel: [number, number] };
  return { a: c.inChannels * c.kernel[0] * c.kernel[1] + (hasBias ? 1 : 0), g: c.outChannels };
}

/** Per-batch inputs the estimators need. */
export interface BatchSpec {
  x: Tensor;
  /** Data targets (empirical, hessian). */
  targets?: Int32Array | Float32Array | Float64Array;
  /** Source of sampled labels for this batch (i1, i2). */
  rng?: Rng;
}

function columnTensor(src: Float64Array, B: number, T: number, stride: number, offset: number, dtype: 'float32' | 'float64', scale = 1): Tensor {
  const t = Tensor.zeros([B, T], dtype);
  for (let b = 0; b < B; b++) for (let a = 0; a < T; a++) t.data[b * T + a] = scale * src[b * stride + a * (stride / T) + offset]!;
  return t;
}

/** Adds one column's contribution (the layers below `at`, or only `only`) with per-sample weights w. */
function addColumn(acc: RawAccumulator, cap: Capture, at: number, cot: Tensor, w: Float64Array | null, only?: ParamLayerInfo): void {
  const deltas = backpropColumn(cap, at, cot);
  const below = acc.layers.filter((l) => deltas.has(l.index) && (only === undefined || l === only));
  if (acc.kind === 'diag') {
    for (const l of below) accumulateSquares(cap, l, deltas.get(l.index)!, w, acc.diag!.subarray(l.offset, l.offset + l.size));
  } else if (acc.kind === 'block') {
    for (const l of below) accumulateGram(perSampleGrads(cap, l, deltas.get(l.index)!), cap.batch, l.size, w, acc.blocks![acc.layers.indexOf(l)]!);
  } else if (acc.kind === 'dense') {
    const B = cap.batch;
    const all = new Float64Array(B * acc.size);
    for (const l of below) {
      const g = perSampleGrads(cap, l, deltas.get(l.index)!);
      for (let b = 0; b < B; b++) all.set(g.subarray(b * l.size, (b + 1) * l.size), b * acc.size + l.offset);
    }
    accumulateGram(all, B, acc.size, w, acc.dense!);
  } else {
    below.forEach((l) => {
      const k = acc.kfac![acc.layers.indexOf(l)]!;
      accumulateKfacG(cap, l, deltas.get(l.index)!, w, k.G);
    });
  }
}

/** Σ_a c_a ∇²h_a restricted to layer blocks / the diagonal (see the header), c per sample [B, T]. */
function addSecondDerivativeTerm(acc: RawAccumulator, cap: Capture, c: Tensor): void {
  const model = cap.model;
  const curved = curvedActivations(model);
  const B = cap.batch;
  if (acc.kind === 'dense') {
    // Full Hessian of Σ_b c_bᵀ h_b w.r.t. all parameters, cross-layer blocks included, by P
    // Hessian–vector products (dense is for small networks).
    const params = model.parameters();
    const x = cap.outs[0]!;
    const g = (): Tensor => F.sum(F.mul(model.forward(x), c));
    const P = acc.size;
    const unit = params.map((p) => Tensor.zeros(p.shape, p.dtype));
    let col = 0;
    params.forEach((p, pi) => {
      for (let i = 0; i < p.size; i++, col++) {
        unit[pi]!.data[i] = 1;
        const hv = hvp(g, params, unit);
        unit[pi]!.data[i] = 0;
        let row = 0;
        for (const h of hv) for (let j = 0; j < h.size; j++, row++) acc.dense![row * P + col]! += h.data[j]!;
      }
    });
    return;
  }
  // Within a layer only curved activations contribute (h is linear in each layer's parameters).
  if (curved.length === 0) return;
  if (acc.kind === 'kfac') fail('INVALID_ARGUMENT', 'KFAC is defined for the exact, i1 and empirical estimators (its factors are Gram matrices); Î2 and the Hessian have signed second-derivative terms');
  // Cotangent of cᵀh at every curved activation's output, then D = φ''(u) ⊙ that.
  const actOuts = curved.map((m) => cap.outs[m + 1]!);
  const gs = grad([cap.h], actOuts, { gradOutputs: [c] });
  curved.forEach((m, i) => {
    const u = cap.outs[m]!;
    const layer = model.layers[m] as Activation;
    const D = new Float64Array(u.size);
    const u64 = Float64Array.from(u.data);
    getBackend().unaryMul(Unary[activationOp(layer.fn)], 2, layer.slope, u64, Float64Array.from(gs[i]!.data), D);
    const units = u.size / B;
    for (const l of acc.layers) {
      if (l.index >= m) continue;
      if (l.index + 1 === m && acc.kind === 'diag') {
        addDiagonalCurvature(cap, l, D, acc.diag!.subarray(l.offset, l.offset + l.size));
        continue;
      }
      // One backward pass per unit k of u_m, weighted by D[:, k].
      const w = new Float64Array(B);
      for (let k = 0; k < units; k++) {
        let any = false;
        for (let b = 0; b < B; b++) { w[b] = D[b * units + k]!; if (w[b] !== 0) any = true; }
        if (!any) continue;
        const cot = Tensor.zeros(u.shape, u.dtype);
        for (let b = 0; b < B; b++) cot.data[b * units + k] = 1;
        addColumn(acc, cap, m, cot, w, l);
      }
    }
  });
}

/** The activation directly follows layer l, so ∇²_{z_l} = diag(D): Σ_b D_bj a_bk² (conv: over positions). */
function addDiagonalCurvature(cap: Capture, l: ParamLayerInfo, D: Float64Array, acc: Float64Array): void {
  const B = cap.batch;
  const layer = l.layer;
  const hasBias = layer.bias !== null;
  if (layer.type === 'dense') {
    const a = cap.inputs64.get(l.index)!;
    const nin = (layer as { nin: number }).nin;
    const nout = (layer as { nout: number }).nout;
    const a2 = a.map((v) => v * v);
    getBackend().gemm(true, false, nout, nin, B, 1, D, 0, nout, a2, 0, nin, 1, acc, 0, nin);
    if (hasBias) for (let b = 0; b < B; b++) for (let j = 0; j < nout; j++) acc[nout * nin + j]! += D[b * nout + j]!;
    return;
  }
  const { cols, geom } = cap.cols64.get(l.index)!;
  const P = geom.outH * geom.outW;
  const co = (layer as { outChannels: number }).outChannels;
  const inW = cols.length / (B * P);
  const c2 = cols.map((v) => v * v);
  for (let b = 0; b < B; b++) getBackend().gemm(false, false, co, inW, P, 1, D, b * co * P, P, c2, b * P * inW, inW, 1, acc, 0, inW);
  if (hasBias) for (let b = 0; b < B; b++) for (let j = 0; j < co; j++) for (let p = 0; p < P; p++) acc[co * inW + j]! += D[(b * co + j) * P + p]!;
}

/**
 * Adds one batch's contribution of `estimator` to `acc`. Returns the number of terms added
 * (inputs; the per-input label average is taken inside).
 */
export function accumulateBatch(
  acc: RawAccumulator, model: Sequential, lik: Likelihood, estimator: EstimatorName, batch: BatchSpec, labelsPerInput: number,
): void {
  const cap = capture(model, batch.x);
  const B = cap.batch;
  const T = cap.h.shape[1]!;
  const dtype = model.dtype;
  const h64 = Float64Array.from(cap.h.data);
  const at = cap.outs.length - 1;
  const eta = lik.meanStat(h64, B, T);
  if (acc.kind === 'kfac') {
    acc.layers.forEach((l, i) => {
      const k = acc.kfac![i]!;
      accumulateKfacA(cap, l, k.A);
      k.positions = spatialSize(cap, l);
      k.countA += B * k.positions;
    });
  }
  const kfacCount = (terms: number): void => {
    if (acc.kind === 'kfac') acc.kfac!.forEach((k) => (k.countG += terms * k.positions));
  };

  const addExactColumns = (): void => {
    const S = lik.sqrtFactor(h64, B, T);
    const R = lik.factorRank(T);
    for (let r = 0; r < R; r++) addColumn(acc, cap, at, columnTensor(S, B, T, T * R, r, dtype), null);
    kfacCount(B);
  };
  const sampledStats = (): Float64Array => {
    if (!batch.rng) fail('INVALID_ARGUMENT', `estimator ${estimator} samples labels and needs an rng`);
    const ys = lik.sample(h64, B, T, batch.rng, labelsPerInput);
    return lik.sufficientStat(ys, B * labelsPerInput, T);
  };
  const dataStats = (): Float64Array => {
    if (!batch.targets) fail('INVALID_ARGUMENT', `estimator ${estimator} uses the data labels, but the data has no targets`);
    lik.checkTargets(batch.targets, B, T);
    return lik.sufficientStat(batch.targets, B, T);
  };

  switch (estimator) {
    case 'exact':
      addExactColumns();
      break;
    case 'i1': {
      const t = sampledStats();
      const n = labelsPerInput;
      // Column s: (t(y_{b,s}) − η_b)/√n, so the sum of squares is the per-input label mean.
      const scale = 1 / Math.sqrt(n);
      for (let s = 0; s < n; s++) {
        const cot = Tensor.zeros([B, T], dtype);
        for (let b = 0; b < B; b++) for (let a = 0; a < T; a++) cot.data[b * T + a] = scale * (t[(b * n + s) * T + a]! - eta[b * T + a]!);
        addColumn(acc, cap, at, cot, null);
      }
      kfacCount(B);
      break;
    }
    case 'empirical': {
      const t = dataStats();
      const cot = Tensor.zeros([B, T], dtype);
      for (let i = 0; i < B * T; i++) cot.data[i] = t[i]! - eta[i]!;
      addColumn(acc, cap, at, cot, null);
      kfacCount(B);
      break;
    }
    case 'i2':
    case 'hessian': {
      addExactColumns();
      const n = estimator === 'i2' ? labelsPerInput : 1;
      const t = estimator === 'i2' ? sampledStats() : dataStats();
      const c = Tensor.zeros([B, T], 'float64');
      for (let b = 0; b < B; b++) for (let s = 0; s < n; s++) for (let a = 0; a < T; a++) c.data[b * T + a]! += (eta[b * T + a]! - t[(b * n + s) * T + a]!) / n;
      addSecondDerivativeTerm(acc, cap, dtype === 'float64' ? c : c.toDType(dtype));
      break;
    }
    default:
      fail('INVALID_ARGUMENT', `unknown estimator '${String(estimator)}'`);
  }
  acc.inputs += B;
}

export type { FloatArray };
