/**
 * Explicit forward-mode (tangent) and reverse-mode rules for the layers of a Sequential, for
 * matrix-free Fisher–vector products at about the cost of two gradient passes.
 *
 * One sweep runs the forward pass with backend kernels (no autodiff graph), keeping each
 * layer's input, and carries a parameter-space tangent v alongside: J·v at the output. A second
 * sweep takes one output cotangent per sample and returns Jᵀ·cotangent summed over the batch,
 * accumulated in float64. The matrix products run in the model dtype.
 *
 * Rules, with a the layer input, da its tangent, δ the cotangent at the layer output:
 *   dense  z = a·Wᵀ + b           dz = da·Wᵀ + a·dWᵀ + db      ∂W = δᵀa, ∂b = Σ_b δ, δ_in = δ·W
 *   conv   the same on im2col columns of a (and of da), output permuted to NCHW; δ_in by col2im
 *   activation z = φ(a)           dz = φ'(a) ⊙ da              δ_in = φ'(a) ⊙ δ
 *   maxpool gather at the forward's argmax, scatter back;  avgpool the (linear) window mean
 *   flatten, dropout (evaluation: the identity) pass values, tangents and cotangents through
 * The first parametric layer has a zero input tangent (that gemm is skipped) and the backward
 * sweep stops there (the input needs no cotangent).
 *
 * The forward mirrors the kernel sequence of the autodiff ops (linear: bias rows then one gemm
 * accumulating onto them; avgpool: gathered windows, row sums, one scaling), so the output equals
 * model.forward's bit for bit and labels sampled from it are the ones the reference path draws.
 *
 * Every scratch array comes from allocTensorData: the caller runs each batch inside a
 * BufferScope and recycles it afterwards, and must not use a Linearization after that, nor after
 * the plan has linearized another batch of the same size (the maxpool argmax arrays are reused).
 */
import { Unary, type Conv2dGeometry, type UnaryCode } from '../core/backend.js';
import { getBackend } from '../core/backends/index.js';
import { allocArray, type FloatArray } from '../core/dtype.js';
import { fail } from '../core/errors.js';
import { allocTensorData } from '../core/pool.js';
import { sizeOf } from '../core/tensor.js';
import { convGeometry, poolWindows } from '../autodiff/ops.js';
import { Activation, AvgPool2d, Conv2d, Dense, Dropout, Flatten, MaxPool2d, activationOp, type Layer } from '../nn/layers.js';
import type { Sequential } from '../nn/sequential.js';

function hasRule(l: Layer): boolean {
  return l instanceof Dense || l instanceof Conv2d || l instanceof MaxPool2d || l instanceof AvgPool2d
    || l instanceof Flatten || l instanceof Dropout || l instanceof Activation;
}

/** Whether every layer of the model has an explicit tangent rule here. */
export function hasTangentRules(model: Sequential): boolean {
  return model.layers.every(hasRule);
}

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

/**
 * Per-model plan: parameter offsets, activation codes and the pooling windows of each batch
 * size (integer index arrays, built once and reused by every batch and every product).
 */
export class TangentPlan {
  private readonly slots: (ParamSlots | null)[] = [];
  private readonly firstParamLayer: number;
  private readonly indexCache = new Map<string, Int32Array>();
  readonly numParams: number;

  constructor(readonly model: Sequential) {
    const bad = model.layers.findIndex((l) => !hasRule(l));
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

  private cached(key: string, make: () => Int32Array): Int32Array {
    let a = this.indexCache.get(key);
    if (!a) this.indexCache.set(key, (a = make()));
    return a;
  }

  /**
   * Forward pass of x [B, ...inputShape] (model dtype) carrying the parameter tangent `dParams`
   * (splitTangent's arrays, parameter order) to the output.
   */
  linearize(x: FloatArray, batch: number, dParams: readonly FloatArray[]): Linearization {
    const model = this.model;
    const dtype = model.dtype;
    const be = getBackend();
    const L = model.layers.length;
    if (x.length !== batch * sizeOf(model.inputShape)) fail('SHAPE', `input has ${x.length} values, batch ${batch} needs ${batch * sizeOf(model.inputShape)}`);
    // Layer inputs (inputs[L] is the output), per-layer saved state for the reverse sweep.
    const inputs: FloatArray[] = [x];
    const saved: (LayerSaved | null)[] = [];
    let a = x;
    let da: FloatArray | null = null;
    let pi = 0; // index into dParams
    for (let i = 0; i < L; i++) {
      const layer = model.layers[i]!;
      const inShape = model.shapes[i]!;
      let z: FloatArray;
      let dz: FloatArray | null;
      let s: LayerSaved | null = null;
      if (layer instanceof Dense) {
        const { nin, nout } = layer;
        const W = layer.weight.data;
        const dW = dParams[pi++]!;
        const db = layer.bias ? dParams[pi++]! : null;
        z = allocTensorData(dtype, batch * nout);
        dz = allocTensorData(dtype, batch * nout);
        affineRows(z, a, W, layer.bias?.data ?? null, batch, nout, nin);
        affineRows(dz, a, dW, db, batch, nout, nin);
        if (da) be.gemm(false, true, batch, nout, nin, 1, da, 0, nin, W, 0, nin, 1, dz, 0, nout);
      } else if (layer instanceof Conv2d) {
        const g = convGeometry([batch, ...inShape], layer.kernel[0], layer.kernel[1], { stride: layer.stride, padding: layer.padding });
        const co = layer.outChannels;
        const K = g.channels * g.kernelH * g.kernelW;
        const N = g.batch * g.outH * g.outW;
        const W = layer.weight.data;
        const dW = dParams[pi++]!;
        const db = layer.bias ? dParams[pi++]! : null;
        const cols = allocTensorData(dtype, N * K);
        be.im2col(a, g, cols);
        const y = allocTensorData(dtype, N * co);
        affineRows(y, cols, W, layer.bias?.data ?? null, N, co, K);
        z = allocTensorData(dtype, N * co);
        rowsToNCHW(y, z, g.batch, g.outH * g.outW, co);
        // The tangent reuses y: columns of a against dW, plus columns of da against W.
        affineRows(y, cols, dW, db, N, co, K);
        if (da) {
          const dcols = allocTensorData(dtype, N * K);
          be.im2col(da, g, dcols);
          be.gemm(false, true, N, co, K, 1, dcols, 0, K, W, 0, K, 1, y, 0, co);
        }
        dz = allocTensorData(dtype, N * co);
        rowsToNCHW(y, dz, g.batch, g.outH * g.outW, co);
        s = { geom: g, cols };
      } else if (layer instanceof Activation) {
        if (layer.fn === 'identity') {
          z = a;
          dz = da;
        } else {
          const code = Unary[activationOp(layer.fn)] as UnaryCode;
          z = allocTensorData(dtype, a.length);
          be.unary(code, 0, layer.slope, a, z);
          dz = null;
          if (da) {
            dz = allocTensorData(dtype, a.length);
            be.unaryMul(code, 1, layer.slope, a, da, dz);
          }
        }
      } else if (layer instanceof MaxPool2d) {
        const g = convGeometry([batch, ...inShape], layer.kernel, layer.kernel, { stride: layer.stride, padding: layer.padding }, 'maxPool2d');
        const k = layer.kernel * layer.kernel;
        const win = this.cached(`win:${i}:${batch}`, () => poolWindows(g));
        const nOut = win.length / k;
        const arg = this.cached(`arg:${i}:${batch}`, () => new Int32Array(nOut));
        argmaxWindows(a, win, k, arg);
        z = allocTensorData(dtype, nOut);
        gatherInto(a, arg, z);
        dz = null;
        if (da) {
          dz = allocTensorData(dtype, nOut);
          gatherInto(da, arg, dz);
        }
        s = { argmax: arg };
      } else if (layer instanceof AvgPool2d) {
        const g = convGeometry([batch, ...inShape], layer.kernel, layer.kernel, { stride: layer.stride, padding: layer.padding }, 'avgPool2d');
        const k = layer.kernel * layer.kernel;
        const win = this.cached(`win:${i}:${batch}`, () => poolWindows(g));
        const nOut = win.length / k;
        const windows = allocTensorData(dtype, win.length);
        const sums = allocTensorData(dtype, nOut);
        z = allocTensorData(dtype, nOut);
        windowMean(a, win, k, windows, sums, z);
        dz = null;
        if (da) {
          dz = allocTensorData(dtype, nOut);
          windowMean(da, win, k, windows, sums, dz);
        }
        s = { windows: win, kernelArea: k };
      } else if (layer instanceof Flatten || layer instanceof Dropout) {
        // Dropout is the identity in evaluation mode, the mode Fisher products use.
        z = a;
        dz = da;
      } else {
        fail('INVALID_ARGUMENT', `layer ${i} (${(layer as Layer).type}) has no explicit tangent rule`);
      }
      saved.push(s);
      inputs.push(z);
      a = z;
      da = dz;
    }
    const output = a;
    const tangent = da ?? allocTensorData(dtype, output.length);
    return {
      batch,
      output,
      tangent,
      accumulateVjp: (cot, out, scale) => this.reverse(inputs, saved, batch, cot, out, scale),
    };
  }

  private reverse(inputs: readonly FloatArray[], saved: readonly (LayerSaved | null)[], batch: number, cot: FloatArray, out: Float64Array, scale: number): void {
    const model = this.model;
    const dtype = model.dtype;
    const be = getBackend();
    if (cot.length !== inputs[inputs.length - 1]!.length) fail('SHAPE', `cotangent has ${cot.length} values, the output ${inputs[inputs.length - 1]!.length}`);
    if (out.length !== this.numParams) fail('SHAPE', `gradient accumulator has ${out.length} entries, the model has ${this.numParams} parameters`);
    let delta = cot;
    for (let i = model.layers.length - 1; i >= this.firstParamLayer && i >= 0; i--) {
      const layer = model.layers[i]!;
      const a = inputs[i]!;
      const needInput = i > this.firstParamLayer;
      if (layer instanceof Dense) {
        const { nin, nout } = layer;
        const slot = this.slots[i]!;
        const gW = allocTensorData(dtype, nout * nin);
        be.gemm(true, false, nout, nin, batch, 1, delta, 0, nout, a, 0, nin, 0, gW, 0, nin);
        addScaled(out, slot.weight, gW, scale);
        if (slot.bias !== null) {
          const gb = allocTensorData(dtype, nout);
          be.sumRows(delta, batch, nout, 0, gb);
          addScaled(out, slot.bias, gb, scale);
        }
        if (needInput) {
          const din = allocTensorData(dtype, batch * nin);
          be.gemm(false, false, batch, nin, nout, 1, delta, 0, nout, layer.weight.data, 0, nin, 0, din, 0, nin);
          delta = din;
        }
      } else if (layer instanceof Conv2d) {
        const { geom: g, cols } = saved[i] as ConvSaved;
        const slot = this.slots[i]!;
        const co = layer.outChannels;
        const K = g.channels * g.kernelH * g.kernelW;
        const N = g.batch * g.outH * g.outW;
        const drows = allocTensorData(dtype, N * co);
        nchwToRows(delta, drows, g.batch, g.outH * g.outW, co);
        const gW = allocTensorData(dtype, co * K);
        be.gemm(true, false, co, K, N, 1, drows, 0, co, cols, 0, K, 0, gW, 0, K);
        addScaled(out, slot.weight, gW, scale);
        if (slot.bias !== null) {
          const gb = allocTensorData(dtype, co);
          be.sumRows(drows, N, co, 0, gb);
          addScaled(out, slot.bias, gb, scale);
        }
        if (needInput) {
          const dcols = allocTensorData(dtype, N * K);
          be.gemm(false, false, N, K, co, 1, drows, 0, co, layer.weight.data, 0, K, 0, dcols, 0, K);
          const din = allocTensorData(dtype, a.length);
          be.col2im(dcols, g, din);
          delta = din;
        }
      } else if (layer instanceof Activation) {
        if (layer.fn !== 'identity') {
          const din = allocTensorData(dtype, a.length);
          be.unaryMul(Unary[activationOp(layer.fn)] as UnaryCode, 1, layer.slope, a, delta, din);
          delta = din;
        }
      } else if (layer instanceof MaxPool2d) {
        const { argmax } = saved[i] as MaxPoolSaved;
        const din = allocTensorData(dtype, a.length);
        for (let o = 0; o < argmax.length; o++) {
          const j = argmax[o]!;
          if (j >= 0) din[j]! += delta[o]!;
        }
        delta = din;
      } else if (layer instanceof AvgPool2d) {
        const { windows, kernelArea: k } = saved[i] as AvgPoolSaved;
        const din = allocTensorData(dtype, a.length);
        const inv = 1 / k;
        for (let o = 0; o < delta.length; o++) {
          const d = inv * delta[o]!;
          for (let j = 0; j < k; j++) {
            const t = windows[o * k + j]!;
            if (t >= 0) din[t]! += d;
          }
        }
        delta = din;
      }
      // Flatten and dropout (evaluation): the cotangent passes unchanged.
    }
  }
}

interface ConvSaved {
  geom: Conv2dGeometry;
  /** im2col columns of the layer input [B·OH·OW, Ci·kH·kW]. */
  cols: FloatArray;
}

interface MaxPoolSaved {
  /** Flat input index of each output's maximum. */
  argmax: Int32Array;
}

interface AvgPoolSaved {
  /** Flat input indices of each window [nOut, k], −1 where padded. */
  windows: Int32Array;
  kernelArea: number;
}

type LayerSaved = ConvSaved | MaxPoolSaved | AvgPoolSaved;

/** out[r, :] = x[r, :]·Wᵀ + b for x [rows, k], W [n, k]: bias rows first, the gemm accumulates (as F.linear). */
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

/** arg[o] = flat index of the largest input in window o (the first on ties, as F.maxPool2d). */
function argmaxWindows(d: FloatArray, win: Int32Array, k: number, arg: Int32Array): void {
  for (let o = 0; o < arg.length; o++) {
    let best = -1;
    let bv = -Infinity;
    for (let j = 0; j < k; j++) {
      const i = win[o * k + j]!;
      if (i >= 0 && (best < 0 || d[i]! > bv)) {
        best = i;
        bv = d[i]!;
      }
    }
    arg[o] = best;
  }
}

function gatherInto(src: FloatArray, idx: Int32Array, dst: FloatArray): void {
  for (let i = 0; i < idx.length; i++) {
    const j = idx[i]!;
    dst[i] = j < 0 ? 0 : src[j]!;
  }
}

/** Window means as F.avgPool2d computes them: gathered windows, row sums, one scaling by 1/k. */
function windowMean(src: FloatArray, win: Int32Array, k: number, windows: FloatArray, sums: FloatArray, out: FloatArray): void {
  const be = getBackend();
  gatherInto(src, win, windows);
  be.sumCols(windows, out.length, k, sums);
  be.axpby(1 / k, sums, 0, null, out);
}

function addScaled(out: Float64Array, off: number, g: FloatArray, scale: number): void {
  for (let i = 0; i < g.length; i++) out[off + i]! += scale * g[i]!;
}
