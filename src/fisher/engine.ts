/**
 * The per-sample engine every Fisher estimator is built on.
 *
 * One forward pass over a batch captures each layer's input and output. A "column" is a
 * cotangent injected at some point of the network, one vector per sample (a square-root factor
 * column of the output-space Fisher, a sampled score direction t(y) − η, or a unit direction at
 * an activation for the second-derivative terms of Î₂). One backward pass per column gives
 * δ_l = ∂(cotangentᵀ · point)/∂z_l at the output z_l of every parametric layer below the point,
 * per sample. Per-layer rules turn (layer input a_l, δ_l) into per-sample parameter gradients,
 * or directly into their weighted squared sums (for a dense layer (w⊙δ²)ᵀ(a²), one gemm) and
 * into KFAC factors, without materialising per-sample gradients unless asked.
 *
 * All accumulation is in float64 whatever the model dtype.
 */
import { getBackend } from '../core/backends/index.js';
import type { FloatArray } from '../core/dtype.js';
import { fail } from '../core/errors.js';
import { gemmStridedBatched } from '../core/linalg.js';
import { Tensor, sizeOf } from '../core/tensor.js';
import { grad } from '../autodiff/grad.js';
import { convGeometry } from '../autodiff/ops.js';
import type { Conv2dGeometry } from '../core/backend.js';
import { Conv2d, Dense, type Layer } from '../nn/layers.js';
import type { Sequential } from '../nn/sequential.js';

/** A parametric layer of the model as the engine sees it. */
export interface ParamLayerInfo {
  /** Index of the layer in the Sequential. */
  index: number;
  layer: Dense | Conv2d;
  /** Number of parameters (weight, then bias). */
  size: number;
  /** Offset of the layer's parameters in the flat parameter vector. */
  offset: number;
}

export function paramLayers(model: Sequential): ParamLayerInfo[] {
  const out: ParamLayerInfo[] = [];
  let offset = 0;
  model.layers.forEach((layer, index) => {
    const ps = layer.params();
    if (ps.length === 0) return;
    if (!(layer instanceof Dense || layer instanceof Conv2d)) fail('INVALID_ARGUMENT', `layer ${index} (${layer.type}) has parameters but no Fisher rule`);
    const size = ps.reduce((s, p) => s + p.tensor.size, 0);
    out.push({ index, layer, size, offset });
    offset += size;
  });
  return out;
}

/** What one forward pass captured. outs[i] is the input of layer i; outs[L] the network output. */
export interface Capture {
  model: Sequential;
  batch: number;
  outs: Tensor[];
  layers: ParamLayerInfo[];
  /** Output h [B, T]. */
  h: Tensor;
  /** Float64 copies of each parametric layer's input, and its im2col columns for conv layers. */
  inputs64: Map<number, Float64Array>;
  cols64: Map<number, { cols: Float64Array; geom: Conv2dGeometry }>;
}

/** Forward pass recording every layer's input and output (gradients enabled). */
export function capture(model: Sequential, x: Tensor): Capture {
  const outs = model.forwardAll(x, { training: false });
  const batch = x.shape[0]!;
  const layers = paramLayers(model);
  const inputs64 = new Map<number, Float64Array>();
  const cols64 = new Map<number, { cols: Float64Array; geom: Conv2dGeometry }>();
  for (const info of layers) {
    const a = outs[info.index]!;
    const a64 = Float64Array.from(a.data);
    inputs64.set(info.index, a64);
    if (info.layer instanceof Conv2d) {
      const l = info.layer;
      const geom = convGeometry(a.shape, l.kernel[0], l.kernel[1], { stride: l.stride, padding: l.padding });
      const cols = new Float64Array(geom.batch * geom.outH * geom.outW * geom.channels * geom.kernelH * geom.kernelW);
      getBackend().im2col(a64, geom, cols);
      cols64.set(info.index, { cols, geom });
    }
  }
  const last = outs[outs.length - 1]!;
  const h = new Tensor(last.data, [batch, last.size / batch], last.requiresGrad, last.node);
  return { model, batch, outs, layers, h: last.rank === 2 ? last : h, inputs64, cols64 };
}

/**
 * δ_l for every parametric layer below the injection point: the cotangent `cot` (shaped like
 * outs[at], per sample) pulled back to each layer's output z_l. `at` = outs.length − 1 injects at
 * the network output.
 */
export function backpropColumn(cap: Capture, at: number, cot: Tensor): Map<number, Float64Array> {
  const below = cap.layers.filter((l) => l.index < at);
  const point = cap.outs[at]!;
  const zs = below.map((l) => cap.outs[l.index + 1]!);
  const res = new Map<number, Float64Array>();
  if (zs.length === 0) return res;
  const cotShaped = cot.size === point.size ? new Tensor(cot.data, point.shape) : fail('SHAPE', 'cotangent does not match the injection point');
  const gs = grad([point], zs, { gradOutputs: [cotShaped] });
  below.forEach((l, i) => res.set(l.index, Float64Array.from(gs[i]!.data)));
  return res;
}

function layerDims(info: ParamLayerInfo): { out: number; inW: number; hasBias: boolean } {
  const l = info.layer;
  if (l instanceof Dense) return { out: l.nout, inW: l.nin, hasBias: l.bias !== null };
  const [kh, kw] = l.kernel;
  return { out: l.outChannels, inW: l.inChannels * kh * kw, hasBias: l.bias !== null };
}

/**
 * Per-sample gradients of the layer's parameters for one column: [B, size] row-major, weight
 * entries W[j, k] at j·inW + k, then the bias.
 */
export function perSampleGrads(cap: Capture, info: ParamLayerInfo, delta: Float64Array): Float64Array {
  const B = cap.batch;
  const { out, inW, hasBias } = layerDims(info);
  const g = new Float64Array(B * info.size);
  if (info.layer instanceof Dense) {
    const a = cap.inputs64.get(info.index)!;
    for (let b = 0; b < B; b++) {
      const go = b * info.size;
      for (let j = 0; j < out; j++) {
        const d = delta[b * out + j]!;
        if (d === 0) continue;
        const row = go + j * inW;
        for (let k = 0; k < inW; k++) g[row + k] = d * a[b * inW + k]!;
      }
      if (hasBias) for (let j = 0; j < out; j++) g[go + out * inW + j] = delta[b * out + j]!;
    }
    return g;
  }
  const { cols, geom } = cap.cols64.get(info.index)!;
  const P = geom.outH * geom.outW;
  // delta is [B, Co, P]; per sample G_b = δ_b · cols_b  ([Co, P]·[P, inW]).
  const G = new Float64Array(B * out * inW);
  gemmStridedBatched(getBackend(), false, false, out, inW, P, 1, delta, 0, P, cols, 0, inW, 0, G, 0, inW,
    { count: B, strideA: out * P, strideB: P * inW, strideC: out * inW });
  for (let b = 0; b < B; b++) {
    g.set(G.subarray(b * out * inW, (b + 1) * out * inW), b * info.size);
    if (hasBias) {
      for (let j = 0; j < out; j++) {
        let s = 0;
        const o = (b * out + j) * P;
        for (let p = 0; p < P; p++) s += delta[o + p]!;
        g[b * info.size + out * inW + j] = s;
      }
    }
  }
  return g;
}

/**
 * acc[i] += Σ_b w_b · g_{b,i}² for the layer's parameters (w = null means all ones). For a
 * dense layer this is (w⊙δ²)ᵀ(a²) and Σ_b w_b δ_b², without forming per-sample gradients.
 */
export function accumulateSquares(cap: Capture, info: ParamLayerInfo, delta: Float64Array, w: Float64Array | null, acc: Float64Array): void {
  const B = cap.batch;
  const { out, inW, hasBias } = layerDims(info);
  if (info.layer instanceof Dense) {
    const a = cap.inputs64.get(info.index)!;
    const d2 = new Float64Array(B * out);
    for (let b = 0; b < B; b++) {
      const wb = w ? w[b]! : 1;
      for (let j = 0; j < out; j++) { const d = delta[b * out + j]!; d2[b * out + j] = wb * d * d; }
    }
    const a2 = new Float64Array(B * inW);
    for (let i = 0; i < a2.length; i++) a2[i] = a[i]! * a[i]!;
    getBackend().gemm(true, false, out, inW, B, 1, d2, 0, out, a2, 0, inW, 1, acc, 0, inW);
    if (hasBias) {
      const o = out * inW;
      for (let b = 0; b < B; b++) for (let j = 0; j < out; j++) acc[o + j]! += d2[b * out + j]!;
    }
    return;
  }
  const g = perSampleGrads(cap, info, delta);
  for (let b = 0; b < B; b++) {
    const wb = w ? w[b]! : 1;
    if (wb === 0) continue;
    const o = b * info.size;
    for (let i = 0; i < info.size; i++) { const v = g[o + i]!; acc[i]! += wb * v * v; }
  }
}

/**
 * Adds Σ_b w_b g_b g_bᵀ (the layer's block, or with `all` the whole-model Gram over the
 * concatenated per-sample gradients) into `acc` (row-major, size²).
 */
export function accumulateGram(grads: Float64Array, rows: number, size: number, w: Float64Array | null, acc: Float64Array): void {
  let src = grads;
  if (w) {
    src = new Float64Array(grads.length);
    for (let b = 0; b < rows; b++) for (let i = 0; i < size; i++) src[b * size + i] = grads[b * size + i]! * w[b]!;
  }
  getBackend().gemm(true, false, size, size, rows, 1, src, 0, size, grads, 0, size, 1, acc, 0, size);
}

/**
 * KFAC factors of one layer for this batch: `A` += Σ over samples (and, for conv, positions) of
 * ā āᵀ with ā = (a, 1) when the layer has a bias; `G` += Σ_b w_b Σ_positions δ δᵀ for a column.
 */
export function accumulateKfacA(cap: Capture, info: ParamLayerInfo, A: Float64Array): void {
  const { inW, hasBias } = layerDims(info);
  const n = inW + (hasBias ? 1 : 0);
  let rows: number;
  let src: Float64Array;
  if (info.layer instanceof Dense) {
    rows = cap.batch;
    src = cap.inputs64.get(info.index)!;
  } else {
    const c = cap.cols64.get(info.index)!;
    rows = c.geom.batch * c.geom.outH * c.geom.outW;
    src = c.cols;
  }
  const aug = hasBias ? new Float64Array(rows * n) : src;
  if (hasBias) for (let r = 0; r < rows; r++) { aug.set(src.subarray(r * inW, (r + 1) * inW), r * n); aug[r * n + inW] = 1; }
  getBackend().gemm(true, false, n, n, rows, 1, aug, 0, n, aug, 0, n, 1, A, 0, n);
}

export function accumulateKfacG(cap: Capture, info: ParamLayerInfo, delta: Float64Array, w: Float64Array | null, G: Float64Array): void {
  const { out } = layerDims(info);
  let rows: Float64Array;
  let count: number;
  if (info.layer instanceof Dense) {
    rows = delta;
    count = cap.batch;
  } else {
    // [B, Co, P] → rows (b, p) of length Co.
    const P = cap.cols64.get(info.index)!.geom.outH * cap.cols64.get(info.index)!.geom.outW;
    count = cap.batch * P;
    rows = new Float64Array(count * out);
    for (let b = 0; b < cap.batch; b++) for (let j = 0; j < out; j++) for (let p = 0; p < P; p++) rows[(b * P + p) * out + j] = delta[(b * out + j) * P + p]!;
  }
  const per = info.layer instanceof Dense ? 1 : count / cap.batch;
  let weighted = rows;
  if (w) {
    weighted = new Float64Array(rows.length);
    for (let r = 0; r < count; r++) { const wb = w[Math.floor(r / per)]!; for (let j = 0; j < out; j++) weighted[r * out + j] = rows[r * out + j]! * wb; }
  }
  getBackend().gemm(true, false, out, out, count, 1, weighted, 0, out, rows, 0, out, 1, G, 0, out);
}

/** Number of spatial positions of a conv layer's output (1 for dense): the KFC scaling. */
export function spatialSize(cap: Capture, info: ParamLayerInfo): number {
  if (info.layer instanceof Dense) return 1;
  const g = cap.cols64.get(info.index)!.geom;
  return g.outH * g.outW;
}

/** Activation layers whose second derivative is not identically zero: the Î₂ curvature sources. */
export function curvedActivations(model: Sequential): number[] {
  return model.layers.flatMap((l: Layer, i) => (l.type === 'activation' && !['relu', 'leaky-relu', 'identity'].includes((l as unknown as { fn: string }).fn) ? [i] : []));
}

export function isPiecewiseLinear(model: Sequential): boolean {
  return curvedActivations(model).length === 0;
}

export { sizeOf, type FloatArray };
