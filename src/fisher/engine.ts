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
import { Binary } from '../core/backend.js';
import { allocArray, castArray, dtypeOfArray, type DType, type FloatArray } from '../core/dtype.js';
import { BufferScope, allocScratch, allocTensorData, currentScope } from '../core/pool.js';
import { noGrad } from '../autodiff/tape.js';
import { fail } from '../core/errors.js';
import { gemmStridedBatched, transposeBatched } from '../core/linalg.js';
import { Tensor, sizeOf } from '../core/tensor.js';
import { grad } from '../autodiff/grad.js';
import { convGeometry } from '../autodiff/ops.js';
import type { Conv2dGeometry } from '../core/backend.js';
import { Conv2d, Dense, type Layer } from '../nn/layers.js';
import type { Sequential } from '../nn/sequential.js';
import { backpropStacked, layerInput } from './rules.js';

/**
 * Scratch budget (elements) for the stacked cotangents of one chunk of columns (summed over the
 * layers they are kept for), shared by every place that stacks columns: factor and sampled-score
 * columns, and the unit columns of second-derivative terms. Bounds the memory of many columns
 * (C − 1 for a C-class softmax, one per unit for curvature) at large batches.
 */
export const COLUMN_CHUNK_ELEMENTS = 1 << 19;

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
  /**
   * Precision of the per-batch products: float64 on the reference path (everything in double),
   * the model's dtype on the fast path (float32 gemms for float32 models; the sums across
   * batches are still kept in float64).
   */
  precision: DType;
  /** Whether the forward pass was recorded for autodiff (the reference column backprop). */
  recorded: boolean;
  /** Each parametric layer's input, and its im2col columns for conv layers, in `precision`. */
  inputs: Map<number, FloatArray>;
  cols: Map<number, { cols: FloatArray; geom: Conv2dGeometry }>;
  /** Per-batch derived arrays (converted weights, squared inputs, pooling winners). */
  cache: Map<string, unknown>;
  /** The buffer scope of the batch: cached arrays come from it even when a nested scope is active. */
  scope: BufferScope | null;
}

/** Zeroed storage that lives as long as the batch (for cap.cache), whatever scope is active. */
export function allocPerBatch(cap: Capture, n: number): FloatArray {
  return cap.scope ? cap.scope.alloc(cap.precision, n) : allocArray(cap.precision, n);
}

export interface CaptureOptions {
  precision?: DType;
  /** Record the forward pass for autodiff (default true; the fast path does not need it). */
  record?: boolean;
}

/** Forward pass recording every layer's input and output. */
export function capture(model: Sequential, x: Tensor, opts: CaptureOptions = {}): Capture {
  const record = opts.record ?? true;
  const precision = opts.precision ?? 'float64';
  const outs = record ? model.forwardAll(x, { training: false }) : noGrad(() => model.forwardAll(x, { training: false }));
  const batch = x.shape[0]!;
  const layers = paramLayers(model);
  const inputs = new Map<number, FloatArray>();
  const cols = new Map<number, { cols: FloatArray; geom: Conv2dGeometry }>();
  const last = outs[outs.length - 1]!;
  const h = last.rank === 2 ? last : new Tensor(last.data, [batch, last.size / batch], last.requiresGrad, last.node);
  const cap: Capture = { model, batch, outs, layers, h, precision, recorded: record, inputs, cols, cache: new Map(), scope: currentScope() };
  for (const info of layers) {
    const a = layerInput(cap, info.index);
    inputs.set(info.index, a);
    if (info.layer instanceof Conv2d) {
      const l = info.layer;
      const geom = convGeometry(outs[info.index]!.shape, l.kernel[0], l.kernel[1], { stride: l.stride, padding: l.padding });
      const c = allocScratch(precision, geom.batch * geom.outH * geom.outW * geom.channels * geom.kernelH * geom.kernelW);
      getBackend().im2col(a, geom, c);
      cols.set(info.index, { cols: c, geom });
    }
  }
  return cap;
}

/** Squared entries of a layer's input (dense) or im2col columns (conv), once per batch. */
export function squaredInput(cap: Capture, info: ParamLayerInfo): FloatArray {
  const key = `sq:${info.index}`;
  const hit = cap.cache.get(key) as FloatArray | undefined;
  if (hit) return hit;
  const src = info.layer instanceof Dense ? cap.inputs.get(info.index)! : cap.cols.get(info.index)!.cols;
  const sq = allocPerBatch(cap, src.length);
  getBackend().binary(Binary.mul, src, src, sq);
  cap.cache.set(key, sq);
  return sq;
}

/** T stacked output cotangents, column a the unit vector e_a at every input ([T·B, T], capture precision). */
export function unitOutputColumns(cap: Capture, T: number): FloatArray {
  const B = cap.batch;
  const c = allocTensorData(cap.precision, T * B * T);
  for (let a = 0; a < T; a++) for (let b = 0; b < B; b++) c[(a * B + b) * T + a] = 1;
  return c;
}

/**
 * δ_l at the output of every parametric layer below `at` for R cotangent columns stacked as
 * rows r·B + b of `cot` (shaped like outs[at] per sample): [R·B, layer output size] each, in
 * the capture's precision. The fast path applies the explicit layer rules to all columns at
 * once; the reference path runs one autodiff backward per column.
 */
export function columnDeltas(cap: Capture, at: number, cot: FloatArray, R: number, only?: ParamLayerInfo): Map<number, FloatArray> {
  const below = cap.layers.filter((l) => l.index < at && (only === undefined || l.index === only.index));
  const res = new Map<number, FloatArray>();
  if (below.length === 0 || R === 0) return res;
  if (!cap.recorded) {
    const keep = new Set(below.map((l) => l.index + 1));
    const stop = Math.min(...keep);
    const got = backpropStacked(cap, at, cot, R, { keep, stop });
    for (const l of below) res.set(l.index, got.get(l.index + 1)!);
    return res;
  }
  const point = cap.outs[at]!;
  const per = point.size;
  for (const l of below) res.set(l.index, allocTensorData(cap.precision, R * cap.outs[l.index + 1]!.size));
  for (let r = 0; r < R; r++) {
    const col = new Tensor(castArray(cot.subarray(r * per, (r + 1) * per), point.dtype), point.shape);
    const deltas = backpropColumn(cap, at, col);
    for (const l of below) res.get(l.index)!.set(deltas.get(l.index)!, r * cap.outs[l.index + 1]!.size);
  }
  return res;
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

/** Where per-sample gradients are written: sample b's layer parameters at off + b·stride of out. */
export interface PerSampleDest {
  out: FloatArray;
  off: number;
  stride: number;
}

/**
 * Per-sample gradients of the layer's parameters for one column (δ [B, layer output]): [B, size]
 * row-major in the capture's precision, weight entries W[j, k] at j·inW + k, then the bias. With
 * `dest` they are written straight into dest.out (sample b at dest.off + b·dest.stride; same
 * dtype as the capture) and no [B, size] array is formed: a dense layer's weight gradient of
 * sample b is the outer product δ_b a_bᵀ, all B of them one strided batched gemm with k = 1; a
 * conv layer's is δ_b · cols_b ([Co, P]·[P, inW]), one strided batched gemm.
 */
export function perSampleGrads(cap: Capture, info: ParamLayerInfo, delta: FloatArray, dest?: PerSampleDest): FloatArray {
  const B = cap.batch;
  const { out, inW, hasBias } = layerDims(info);
  const g = dest ? dest.out : allocTensorData(cap.precision, B * info.size);
  const off = dest ? dest.off : 0;
  const stride = dest ? dest.stride : info.size;
  const be = getBackend();
  // The native backend reads and writes the caller's arrays in place; the wasm backend stages
  // each product's operands through its own memory, which for a window of a [B, P] output costs
  // more than the product, so there the outer products are a plain loop and conv products go
  // through a layer-sized scratch.
  const inPlace = be.name === 'native';
  if (info.layer instanceof Dense) {
    const a = cap.inputs.get(info.index)!;
    if (inPlace) {
      // C_b [out, inW] = δ_b [out, 1] · a_b [1, inW].
      gemmStridedBatched(be, false, false, out, inW, 1, 1, delta, 0, 1, a, 0, inW, 0, g, off, inW,
        { count: B, strideA: out, strideB: inW, strideC: stride });
    } else {
      for (let b = 0; b < B; b++) {
        const ao = b * inW;
        for (let j = 0; j < out; j++) {
          const d = delta[b * out + j]!;
          const row = off + b * stride + j * inW;
          if (d === 0) { g.fill(0, row, row + inW); continue; }
          for (let k = 0; k < inW; k++) g[row + k] = d * a[ao + k]!;
        }
      }
    }
    if (hasBias) for (let b = 0; b < B; b++) g.set(delta.subarray(b * out, (b + 1) * out), off + b * stride + out * inW);
    return g;
  }
  const { cols, geom } = cap.cols.get(info.index)!;
  const P = geom.outH * geom.outW;
  // delta is [B, Co, P]; per sample G_b = δ_b · cols_b  ([Co, P]·[P, inW]).
  if (inPlace || !dest) {
    gemmStridedBatched(be, false, false, out, inW, P, 1, delta, 0, P, cols, 0, inW, 0, g, off, inW,
      { count: B, strideA: out * P, strideB: P * inW, strideC: stride });
  } else {
    const tmp = allocScratch(cap.precision, B * info.size);
    gemmStridedBatched(be, false, false, out, inW, P, 1, delta, 0, P, cols, 0, inW, 0, tmp, 0, inW,
      { count: B, strideA: out * P, strideB: P * inW, strideC: info.size });
    for (let b = 0; b < B; b++) g.set(tmp.subarray(b * info.size, b * info.size + out * inW), off + b * stride);
  }
  if (hasBias) {
    for (let b = 0; b < B; b++) {
      for (let j = 0; j < out; j++) {
        let s = 0;
        const o = (b * out + j) * P;
        for (let p = 0; p < P; p++) s += delta[o + p]!;
        g[off + b * stride + out * inW + j] = s;
      }
    }
  }
  return g;
}

/**
 * ||g_b||² of each sample's gradient of this layer, added into sq [B], without forming the
 * gradients of a dense layer: ||δ_b a_bᵀ||² = ||δ_b||²·||a_b||², plus ||δ_b||² for the bias.
 * A conv layer's are formed one layer at a time ([B, layer size] scratch) and squared.
 */
export function addPerSampleSquaredNorms(cap: Capture, info: ParamLayerInfo, delta: FloatArray, sq: Float64Array): void {
  const B = cap.batch;
  const { out, inW, hasBias } = layerDims(info);
  if (info.layer instanceof Dense) {
    const a = cap.inputs.get(info.index)!;
    for (let b = 0; b < B; b++) {
      let d2 = 0, a2 = 0;
      for (let j = 0; j < out; j++) { const v = delta[b * out + j]!; d2 += v * v; }
      for (let k = 0; k < inW; k++) { const v = a[b * inW + k]!; a2 += v * v; }
      sq[b]! += d2 * (a2 + (hasBias ? 1 : 0));
    }
    return;
  }
  const g = allocScratch(cap.precision, B * info.size);
  perSampleGrads(cap, info, delta, { out: g, off: 0, stride: info.size });
  for (let b = 0; b < B; b++) {
    let s = 0;
    for (let i = b * info.size; i < (b + 1) * info.size; i++) { const v = g[i]!; s += v * v; }
    sq[b]! += s;
  }
}

/**
 * acc[i] += Σ_b s_b g_{b,i} for one layer (acc: its `size` entries): the weighted sum of the
 * per-sample gradients without forming them. The scales go into δ (s_b δ_b), then a dense
 * layer's weight sum is one gemm (s⊙δ)ᵀ a, a conv layer's one gemm over samples and positions.
 */
export function addScaledGradientSum(cap: Capture, info: ParamLayerInfo, delta: FloatArray, s: ArrayLike<number>, acc: Float64Array): void {
  const B = cap.batch;
  const { out, inW, hasBias } = layerDims(info);
  const P = spatialSize(cap, info);
  const per = out * P;
  const sd = allocScratch(cap.precision, B * per);
  for (let b = 0; b < B; b++) { const w = s[b]!; for (let i = 0; i < per; i++) sd[b * per + i] = w * delta[b * per + i]!; }
  if (info.layer instanceof Dense) {
    gemmInto(true, false, out, inW, B, sd, out, cap.inputs.get(info.index)!, inW, acc);
    if (hasBias) for (let b = 0; b < B; b++) for (let j = 0; j < out; j++) acc[out * inW + j]! += sd[b * out + j]!;
    return;
  }
  // [B, Co, P] → [Co, B·P], then one gemm with the columns [B·P, inW].
  const St = allocScratch(cap.precision, out * B * P);
  for (let b = 0; b < B; b++) for (let j = 0; j < out; j++) St.set(sd.subarray((b * out + j) * P, (b * out + j + 1) * P), j * B * P + b * P);
  gemmInto(false, false, out, inW, B * P, St, B * P, cap.cols.get(info.index)!.cols, inW, acc);
  if (hasBias) for (let j = 0; j < out; j++) { let t = 0; for (let i = 0; i < B * P; i++) t += St[j * B * P + i]!; acc[out * inW + j]! += t; }
}

/**
 * Float32 products bound for float64 sums pass through one scratch of this many elements, a band
 * of C's rows at a time. One size for every layer means one pooled buffer, not a weight-sized
 * one per layer (the largest per-batch scratch of a streamed diagonal); at 2^18 the bands cost
 * no measurable time.
 */
const PRODUCT_BAND_ELEMENTS = 1 << 18;

/** acc += C, where C = op(A)·op(B) is computed in the arrays' precision (float64 acc). */
function gemmInto(transA: boolean, transB: boolean, m: number, n: number, k: number, a: FloatArray, lda: number, b: FloatArray, ldb: number, acc: Float64Array): void {
  const be = getBackend();
  if (a instanceof Float64Array) {
    be.gemm(transA, transB, m, n, k, 1, a, 0, lda, b, 0, ldb, 1, acc, 0, n);
    return;
  }
  const band = Math.max(1, Math.min(m, Math.floor(PRODUCT_BAND_ELEMENTS / Math.max(1, n))));
  const tmp = allocScratch('float32', Math.max(PRODUCT_BAND_ELEMENTS, band * n));
  for (let r0 = 0; r0 < m; r0 += band) {
    const rows = Math.min(band, m - r0);
    // Rows r0.. of op(A): column r0 of A stored k×m when transposed, row r0 otherwise.
    be.gemm(transA, transB, rows, n, k, 1, a, transA ? r0 : r0 * lda, lda, b, 0, ldb, 0, tmp, 0, n);
    be.accumulate(tmp.subarray(0, rows * n), acc, r0 * n);
  }
}

/**
 * acc += AᵀA for A stored k×n into an n×n window of acc with row stride ldc (symmetric kernel:
 * half the multiply-adds of gemm). acc may be float64 or A's own dtype (a per-batch partial sum).
 */
export function gramInto(n: number, k: number, a: FloatArray, lda: number, acc: FloatArray, ldc = n): void {
  const be = getBackend();
  if ((a instanceof Float64Array) === (acc instanceof Float64Array)) {
    be.syrk(n, k, 1, a, 0, lda, 1, acc, 0, ldc);
    return;
  }
  // The mixed case: a float32 product added to float64 sums.
  const sums = acc as Float64Array;
  const tmp = allocScratch('float32', n * n);
  be.syrk(n, k, 1, a, 0, lda, 0, tmp, 0, n);
  if (ldc === n) be.accumulate(tmp.subarray(0, n * n), sums, 0);
  else for (let i = 0; i < n; i++) be.accumulate(tmp.subarray(i * n, (i + 1) * n), sums, i * ldc);
}

/**
 * acc[i] += Σ_r Σ_b w_rb · g_{rb,i}² over R stacked columns δ ([R·B, layer output]); w (length
 * R·B) null means all ones. For a dense layer the column sum comes first, S_bj = Σ_r w_rb δ_rbj²,
 * then one gemm Sᵀ(a²) — per-sample gradients are never formed.
 */
export function accumulateSquares(cap: Capture, info: ParamLayerInfo, delta: FloatArray, R: number, w: FloatArray | null, acc: Float64Array): void {
  const B = cap.batch;
  const { out } = layerDims(info);
  if (info.layer instanceof Dense) {
    const S = allocTensorData(cap.precision, B * out);
    addSquaredColumns(cap, info, delta, R, w, S);
    addWeightedSquaredInputs(cap, info, S, acc);
    return;
  }
  // Conv: a weight's per-sample gradient sums over positions, so it is formed (one small gemm
  // per sample and column) and squared.
  const n = B * out * spatialSize(cap, info);
  const sums = w ? null : allocTensorData(cap.precision, info.size);
  for (let r = 0; r < R; r++) {
    const g = perSampleGrads(cap, info, delta.subarray(r * n, (r + 1) * n));
    if (sums) {
      getBackend().sumSquaredRows(g, B, info.size, 1, sums);
      continue;
    }
    for (let b = 0; b < B; b++) {
      const wb = w![r * B + b]!;
      if (wb === 0) continue;
      const o = b * info.size;
      for (let i = 0; i < info.size; i++) { const v = g[o + i]!; acc[i]! += wb * v * v; }
    }
  }
  if (sums) getBackend().accumulate(sums, acc, 0);
}

/** S_bj += Σ_r w_rb δ_rbj² for a dense layer (S is [B, out]; w null means all ones). */
export function addSquaredColumns(cap: Capture, info: ParamLayerInfo, delta: FloatArray, R: number, w: FloatArray | null, S: FloatArray): void {
  const B = cap.batch;
  const out = (info.layer as Dense).nout;
  const n = B * out;
  if (!w) {
    // The R column blocks are the rows of an [R, B·out] matrix: one pass sums their squares.
    getBackend().sumSquaredRows(delta.subarray(0, R * n), R, n, 1, S);
    return;
  }
  for (let r = 0; r < R; r++) {
    const o = r * n;
    for (let b = 0; b < B; b++) {
      const wb = w[r * B + b]!;
      if (wb === 0) continue;
      for (let j = 0; j < out; j++) { const d = delta[o + b * out + j]!; S[b * out + j]! += wb * d * d; }
    }
  }
}

/**
 * acc[j·inW + k] += Σ_b S_bj a_bk² (and the bias entries Σ_b S_bj) for a dense layer; for a conv
 * layer S is [B, Co, P] and the sum also runs over positions: Σ_b Σ_p S_bjp cols_bpk². This is
 * the diagonal of Σ_b J_bᵀ diag(S_b) J_b when the Hessian w.r.t. the layer output is diagonal.
 */
export function addWeightedSquaredInputs(cap: Capture, info: ParamLayerInfo, S: FloatArray, acc: Float64Array): void {
  const B = cap.batch;
  const { out, inW, hasBias } = layerDims(info);
  const a2 = squaredInput(cap, info);
  if (info.layer instanceof Dense) {
    gemmInto(true, false, out, inW, B, S, out, a2, inW, acc);
    if (hasBias) {
      const sums = allocScratch(cap.precision, out);
      getBackend().sumRows(S, B, out, 0, sums);
      const o = out * inW;
      for (let j = 0; j < out; j++) acc[o + j]! += sums[j]!;
    }
    return;
  }
  const P = spatialSize(cap, info);
  // [B, Co, P] → [Co, B·P] so the sum over samples and positions is one gemm with cols² [B·P, inW].
  const St = allocScratch(cap.precision, out * B * P);
  for (let b = 0; b < B; b++) for (let j = 0; j < out; j++) St.set(S.subarray((b * out + j) * P, (b * out + j + 1) * P), j * B * P + b * P);
  gemmInto(false, false, out, inW, B * P, St, B * P, a2, inW, acc);
  if (hasBias) {
    const o = out * inW;
    for (let j = 0; j < out; j++) { let s = 0; for (let i = 0; i < B * P; i++) s += St[j * B * P + i]!; acc[o + j]! += s; }
  }
}

/**
 * Adds Σ_b w_b g_b g_bᵀ (the layer's block, or with `all` the whole-model Gram over the
 * concatenated per-sample gradients) into `acc` (row-major, size²).
 */
export function accumulateGram(grads: FloatArray, rows: number, size: number, w: FloatArray | null, acc: Float64Array): void {
  let src = grads;
  if (w) {
    src = allocScratch(dtypeOfArray(grads), grads.length);
    for (let b = 0; b < rows; b++) for (let i = 0; i < size; i++) src[b * size + i] = grads[b * size + i]! * w[b]!;
  }
  if (w) gemmInto(true, false, size, size, rows, src, size, grads, size, acc);
  else gramInto(size, rows, grads, size, acc);
}

/**
 * KFAC factors of one layer for this batch: `A` += Σ over samples (and, for conv, positions) of
 * ā āᵀ with ā = (a, 1) when the layer has a bias; `G` += Σ_r Σ_b Σ_positions δ δᵀ over R
 * stacked columns (G float64, or a partial sum in the capture's precision).
 */
export function accumulateKfacA(cap: Capture, info: ParamLayerInfo, A: Float64Array): void {
  const { inW, hasBias } = layerDims(info);
  const n = inW + (hasBias ? 1 : 0);
  let rows: number;
  let src: FloatArray;
  if (info.layer instanceof Dense) {
    rows = cap.batch;
    src = cap.inputs.get(info.index)!;
  } else {
    const c = cap.cols.get(info.index)!;
    rows = c.geom.batch * c.geom.outH * c.geom.outW;
    src = c.cols;
  }
  // ā = (a, 1): the a·aᵀ block by syrk into A's leading inW×inW window, the bias row and
  // column are the column sums of a, the corner the row count (no augmented copy of a).
  gramInto(inW, rows, src, inW, A, n);
  if (hasBias) {
    const sums = allocScratch(cap.precision, inW);
    getBackend().sumRows(src, rows, inW, 0, sums);
    for (let k = 0; k < inW; k++) { A[k * n + inW]! += sums[k]!; A[inW * n + k]! += sums[k]!; }
    A[inW * n + inW]! += rows;
  }
}

export function accumulateKfacG(cap: Capture, info: ParamLayerInfo, delta: FloatArray, R: number, G: FloatArray): void {
  const { out } = layerDims(info);
  const P = spatialSize(cap, info);
  const count = R * cap.batch * P;
  let rows = delta;
  if (P > 1) {
    // [R·B, Co, P] → rows (rb, p) of length Co.
    rows = allocScratch(cap.precision, count * out);
    transposeBatched(delta, 0, rows, 0, R * cap.batch, out, P);
  }
  gramInto(out, count, rows, out, G);
}

/** Number of spatial positions of a conv layer's output (1 for dense): the KFC scaling. */
export function spatialSize(cap: Capture, info: ParamLayerInfo): number {
  if (info.layer instanceof Dense) return 1;
  const g = cap.cols.get(info.index)!.geom;
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
