/**
 * Explicit forward-mode (tangent) and reverse-mode rules for the layers of a Sequential, for
 * matrix-free Fisher–vector products at about the cost of two gradient passes.
 *
 * The forward pass is the engine's capture (no autodiff graph; each layer's input and conv
 * columns kept). One sweep carries a parameter-space tangent v alongside it to the output (J·v).
 * The reverse sweep takes one output cotangent per sample and returns Jᵀ·cotangent summed over
 * the batch, accumulated in float64: parameter gradients per layer here, input cotangents by the
 * engine's backward rules (rules.ts, layerVjp with one column). Products run in the model dtype.
 *
 * Tangent rules, with a the layer input and da its tangent:
 *   dense  z = a·Wᵀ + b           dz = da·Wᵀ + a·dWᵀ + db
 *   conv   the same on im2col columns of a (and of da), output permuted to NCHW
 *   activation z = φ(a)           dz = φ'(a) ⊙ da
 *   maxpool gather at the forward's argmax;  avgpool the (linear) window mean
 *   flatten, dropout (evaluation: the identity) pass tangents through
 * Parameter gradients: dense ∂W = δᵀa, ∂b = Σ_b δ; conv the same on the columns.
 * The first parametric layer has a zero input tangent (that gemm is skipped) and the reverse
 * sweep stops there (the input needs no cotangent).
 *
 * Every scratch array comes from the active BufferScope: the caller runs each batch inside one
 * and must not use a Linearization after recycling it.
 */
import { Binary } from '../core/backend.js';
import { getBackend } from '../core/backends/index.js';
import { allocArray, type FloatArray } from '../core/dtype.js';
import { fail } from '../core/errors.js';
import { allocScratch, allocTensorData } from '../core/pool.js';
import { Tensor, sizeOf } from '../core/tensor.js';
import { convGeometry, poolWindows } from '../autodiff/ops.js';
import { Activation, AvgPool2d, Conv2d, Dense, MaxPool2d } from '../nn/layers.js';
import type { Sequential } from '../nn/sequential.js';
import { capture, type Capture } from './engine.js';
import { activationDerivative, hasExplicitRule, layerInput, layerVjp, maxPoolArgmax } from './rules.js';

/** The forward pass of one batch with its output tangent; `accumulateVjp` runs the reverse sweep. */
export interface Linearization {
  readonly batch: number;
  /** Network output h [B, T] (model dtype). */
  readonly output: FloatArray;
  /** J·v at the output [B, T] (model dtype). */
  readonly tangent: FloatArray;
  /** out += scale · Σ_b J_bᵀ cot_b, with cot [B, T] in the model dtype; out is in parameter order. */
  accumulateVjp(cot: FloatArray, out: Float64Array, scale: number): void;
}

/** Where each layer's parameters sit in the flat parameter vector (weight, then bias). */
interface ParamSlots {
  weight: number;
  bias: number | null;
}

/** Per-model plan: parameter offsets and the first parametric layer. */
export class TangentPlan {
  private readonly slots: (ParamSlots | null)[] = [];
  private readonly firstParamLayer: number;
  readonly numParams: number;

  constructor(readonly model: Sequential) {
    const bad = model.layers.findIndex((l) => !hasExplicitRule(l));
    if (bad >= 0) {
      fail('INVALID_ARGUMENT', `layer ${bad} (${model.layers[bad]!.type}) has no explicit tangent rule`);
    }
    let off = 0;
    for (const layer of model.layers) {
      if (layer instanceof Dense || layer instanceof Conv2d) {
        const weight = off;
        off += layer.weight.size;
        const bias = layer.bias ? off : null;
        if (layer.bias) off += layer.bias.size;
        this.slots.push({ weight, bias });
      } else {
        this.slots.push(null);
      }
    }
    this.numParams = off;
    this.firstParamLayer = this.slots.findIndex((s) => s !== null);
  }

  /** v split into one array per parameter tensor, converted to the model dtype. */
  splitTangent(v: Float64Array): FloatArray[] {
    if (v.length !== this.numParams) fail('SHAPE', `vector has ${v.length} entries, the model has ${this.numParams} parameters`);
    let off = 0;
    return this.model.parameters().map((p) => {
      const t = allocArray(p.dtype, p.size);
      t.set(v.subarray(off, off + p.size));
      off += p.size;
      return t;
    });
  }

  /**
   * Forward pass of x [B, ...inputShape] (model dtype) carrying the parameter tangent `dParams`
   * (splitTangent's arrays, parameter order) to the output.
   */
  linearize(x: FloatArray, batch: number, dParams: readonly FloatArray[]): Linearization {
    const model = this.model;
    const dtype = model.dtype;
    const be = getBackend();
    if (x.length !== batch * sizeOf(model.inputShape)) fail('SHAPE', `input has ${x.length} values, batch ${batch} needs ${batch * sizeOf(model.inputShape)}`);
    const cap = capture(model, new Tensor(x, [batch, ...model.inputShape]), { precision: dtype, record: false });
    let da: FloatArray | null = null;
    let pi = 0; // index into dParams
    model.layers.forEach((layer, i) => {
      const a = layerInput(cap, i);
      const zSize = cap.outs[i + 1]!.size;
      if (layer instanceof Dense) {
        const { nin, nout } = layer;
        const dW = dParams[pi++]!;
        const db = layer.bias ? dParams[pi++]! : null;
        const dz = allocTensorData(dtype, batch * nout);
        affineRows(dz, a, dW, db, batch, nout, nin);
        if (da) be.gemm(false, true, batch, nout, nin, 1, da, 0, nin, layer.weight.data, 0, nin, 1, dz, 0, nout);
        da = dz;
      } else if (layer instanceof Conv2d) {
        const { cols, geom: g } = cap.cols.get(i)!;
        const co = layer.outChannels;
        const K = g.channels * g.kernelH * g.kernelW;
        const N = g.batch * g.outH * g.outW;
        const dW = dParams[pi++]!;
        const db = layer.bias ? dParams[pi++]! : null;
        // Columns of a against dW, plus columns of da against W, as rows [N, Co]; then NCHW.
        const y = allocTensorData(dtype, N * co);
        affineRows(y, cols, dW, db, N, co, K);
        if (da) {
          const dcols = allocScratch(dtype, N * K);
          be.im2col(da, g, dcols);
          be.gemm(false, true, N, co, K, 1, dcols, 0, K, layer.weight.data, 0, K, 1, y, 0, co);
        }
        const dz = allocScratch(dtype, N * co);
        rowsToNCHW(y, dz, g.batch, g.outH * g.outW, co);
        da = dz;
      } else if (!da) {
        // Below the first parametric layer the tangent is zero.
      } else if (layer instanceof Activation) {
        const dz = allocScratch(dtype, zSize);
        be.binary(Binary.mul, activationDerivative(cap, i, 1), da, dz);
        da = dz;
      } else if (layer instanceof MaxPool2d) {
        const arg = maxPoolArgmax(cap, i, layer);
        const dz = allocScratch(dtype, zSize);
        for (let o = 0; o < arg.length; o++) { const j = arg[o]!; dz[o] = j < 0 ? 0 : da[j]!; }
        da = dz;
      } else if (layer instanceof AvgPool2d) {
        const win = poolWindows(convGeometry(cap.outs[i]!.shape, layer.kernel, layer.kernel, { stride: layer.stride, padding: layer.padding }, 'avgPool2d'));
        const k = layer.kernel * layer.kernel;
        const dz = allocScratch(dtype, zSize);
        for (let o = 0; o < zSize; o++) {
          let s = 0;
          for (let j = 0; j < k; j++) { const t = win[o * k + j]!; if (t >= 0) s += da[t]!; }
          dz[o] = s / k;
        }
        da = dz;
      }
      // Flatten and dropout (evaluation mode): the tangent passes unchanged.
    });
    const output = cap.h.data;
    const tangent = da ?? allocTensorData(dtype, output.length);
    return { batch, output, tangent, accumulateVjp: (cot, out, scale) => this.reverse(cap, cot, out, scale) };
  }

  private reverse(cap: Capture, cot: FloatArray, out: Float64Array, scale: number): void {
    const model = this.model;
    const dtype = model.dtype;
    const be = getBackend();
    const batch = cap.batch;
    if (cot.length !== cap.h.size) fail('SHAPE', `cotangent has ${cot.length} values, the output ${cap.h.size}`);
    if (out.length !== this.numParams) fail('SHAPE', `gradient accumulator has ${out.length} entries, the model has ${this.numParams} parameters`);
    let delta = cot;
    for (let i = model.layers.length - 1; i >= this.firstParamLayer && i >= 0; i--) {
      const layer = model.layers[i]!;
      const slot = this.slots[i];
      if (layer instanceof Dense && slot) {
        const { nin, nout } = layer;
        const gW = allocScratch(dtype, nout * nin);
        be.gemm(true, false, nout, nin, batch, 1, delta, 0, nout, layerInput(cap, i), 0, nin, 0, gW, 0, nin);
        addScaled(out, slot.weight, gW, scale);
        if (slot.bias !== null) {
          const gb = allocScratch(dtype, nout);
          be.sumRows(delta, batch, nout, 0, gb);
          addScaled(out, slot.bias, gb, scale);
        }
      } else if (layer instanceof Conv2d && slot) {
        const { geom: g, cols } = cap.cols.get(i)!;
        const co = layer.outChannels;
        const K = g.channels * g.kernelH * g.kernelW;
        const N = g.batch * g.outH * g.outW;
        const drows = allocScratch(dtype, N * co);
        nchwToRows(delta, drows, g.batch, g.outH * g.outW, co);
        const gW = allocScratch(dtype, co * K);
        be.gemm(true, false, co, K, N, 1, drows, 0, co, cols, 0, K, 0, gW, 0, K);
        addScaled(out, slot.weight, gW, scale);
        if (slot.bias !== null) {
          const gb = allocScratch(dtype, co);
          be.sumRows(drows, N, co, 0, gb);
          addScaled(out, slot.bias, gb, scale);
        }
      }
      if (i > this.firstParamLayer) delta = layerVjp(cap, i, delta, 1, false);
    }
  }
}

/** out[r, :] = x[r, :]·Wᵀ + b for x [rows, k], W [n, k]: bias rows first, then the gemm accumulates. */
function affineRows(out: FloatArray, x: FloatArray, W: FloatArray, b: FloatArray | null, rows: number, n: number, k: number): void {
  if (b) for (let r = 0; r < rows; r++) out.set(b, r * n);
  getBackend().gemm(false, true, rows, n, k, 1, x, 0, k, W, 0, k, b ? 1 : 0, out, 0, n);
}

/** [B, P, C] (rows of channels per position) → [B, C, P] (NCHW). */
function rowsToNCHW(src: FloatArray, dst: FloatArray, batch: number, positions: number, channels: number): void {
  for (let b = 0; b < batch; b++) {
    const base = b * positions * channels;
    for (let c = 0; c < channels; c++) {
      const o = base + c * positions;
      for (let p = 0; p < positions; p++) dst[o + p] = src[base + p * channels + c]!;
    }
  }
}

/** [B, C, P] (NCHW) → [B, P, C]. */
function nchwToRows(src: FloatArray, dst: FloatArray, batch: number, positions: number, channels: number): void {
  for (let b = 0; b < batch; b++) {
    const base = b * positions * channels;
    for (let c = 0; c < channels; c++) {
      const o = base + c * positions;
      for (let p = 0; p < positions; p++) dst[base + p * channels + c] = src[o + p]!;
    }
  }
}

function addScaled(out: Float64Array, off: number, g: FloatArray, scale: number): void {
  for (let i = 0; i < g.length; i++) out[off + i]! += scale * g[i]!;
}
