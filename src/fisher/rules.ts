/**
 * Explicit backward rules per layer type, applied to many cotangent columns at once.
 *
 * The Fisher quantities need the same backward pass repeated for many cotangents per sample:
 * the R columns of a square-root factor of the output-space Fisher, n sampled score
 * directions, unit directions for second-derivative terms. Instead of one autodiff backward
 * per column, the columns are stacked as rows r·B + b of one matrix and each layer's
 * vector–Jacobian product is applied to all of them together: one gemm per dense or conv layer
 * (so the BLAS sees R·B rows), one fused elementwise kernel per activation. The reference path
 * (autodiff, one column at a time, float64) stays in engine.ts as the oracle these rules are
 * tested against.
 *
 * With `squared`, every local derivative is squared: the walker then propagates Σ_k D_k J_kj²
 * instead of Σ_k g_k J_kj. That equals the diagonal of Jᵀ diag(D) J only when each (k, j)
 * pair is joined by a single path, i.e. at most one mixing layer (dense, conv, average pool)
 * lies between; `singlePath` checks that, and callers fall back to unit columns otherwise.
 */
import { getBackend } from '../core/backends/index.js';
import { Binary, Unary, type Conv2dGeometry } from '../core/backend.js';
import type { FloatArray } from '../core/dtype.js';
import { castArray } from '../core/dtype.js';
import { fail } from '../core/errors.js';
import { allocScratch, allocTensorData } from '../core/pool.js';
import { convGeometry, poolArgmax, poolWindows } from '../autodiff/ops.js';
import { transposeBatched } from '../core/linalg.js';
import { Activation, AvgPool2d, Conv2d, Dense, Dropout, Flatten, MaxPool2d, activationOp, type Layer } from '../nn/layers.js';
import { allocPerBatch, type Capture } from './engine.js';

/** Layers the stacked walker has a rule for (by class: a custom Layer may reuse a type name). */
export function hasExplicitRule(layer: Layer): boolean {
  return layer instanceof Dense || layer instanceof Conv2d || layer instanceof Activation || layer instanceof Flatten
    || layer instanceof Dropout || layer instanceof MaxPool2d || layer instanceof AvgPool2d;
}

/** Whether every layer of the model has an explicit rule (else the reference path is used). */
export function explicitRulesCover(layers: readonly Layer[]): boolean {
  return layers.every(hasExplicitRule);
}

const MIXING = new Set(['dense', 'conv2d', 'avgpool2d']);

/** Scratch cap (elements) for a conv layer's column gradients in one stacked backward step. */
const CONV_CHUNK_ELEMENTS = 1 << 21;

/** At most one mixing layer among layers [from, to): the squared walk is exact there. */
export function singlePath(layers: readonly Layer[], from: number, to: number): boolean {
  let mixing = 0;
  for (let i = from; i < to; i++) if (MIXING.has(layers[i]!.type)) mixing++;
  return mixing <= 1;
}

/** Input of layer i (outs[i]) in the capture's precision, converted once per batch. */
export function layerInput(cap: Capture, i: number): FloatArray {
  const key = `in:${i}`;
  const hit = cap.cache.get(key) as FloatArray | undefined;
  if (hit) return hit;
  const d = cap.outs[i]!.data;
  const v = (d instanceof Float64Array) === (cap.precision === 'float64') ? d : castArray(d, cap.precision);
  cap.cache.set(key, v);
  return v;
}

/** A parameter tensor's data in the capture's precision (squared entrywise with `squared`). */
export function weightData(cap: Capture, layer: Dense | Conv2d, squared: boolean): FloatArray {
  const key = `w:${cap.model.layers.indexOf(layer)}:${squared ? 2 : 1}`;
  const hit = cap.cache.get(key) as FloatArray | undefined;
  if (hit) return hit;
  const d = layer.weight.data;
  let v = (d instanceof Float64Array) === (cap.precision === 'float64') ? d : castArray(d, cap.precision);
  if (squared) {
    const sq = allocPerBatch(cap, v.length);
    getBackend().binary(Binary.mul, v, v, sq);
    v = sq;
  }
  cap.cache.set(key, v);
  return v;
}

/**
 * φ^(order)(u) at the input u of activation layer i, computed once per batch. For sigmoid and
 * tanh the second derivative comes from φ' and the forward output y = φ(u) — σ'' = σ'(1 − 2y),
 * tanh'' = −2y·tanh' — two cheap passes instead of the transcendental kernel; the factor tends
 * to ±1 in the tails, so nothing cancels and the result is as accurate as φ'.
 */
export function activationDerivative(cap: Capture, i: number, order: number): FloatArray {
  const key = `d${order}:${i}`;
  const hit = cap.cache.get(key) as FloatArray | undefined;
  if (hit) return hit;
  const act = cap.model.layers[i] as Activation;
  const u = layerInput(cap, i);
  const d = allocPerBatch(cap, u.length);
  const be = getBackend();
  if (order === 2 && (act.fn === 'sigmoid' || act.fn === 'tanh')) {
    const y = layerInput(cap, i + 1);
    const factor = allocScratch(cap.precision, u.length);
    be.axpby(-2, y, act.fn === 'sigmoid' ? 1 : 0, null, factor);
    be.binary(Binary.mul, activationDerivative(cap, i, 1), factor, d);
  } else {
    be.unary(Unary[activationOp(act.fn)], order, act.slope, u, d);
  }
  cap.cache.set(key, d);
  return d;
}

/** φ'(u)² for the squared walk, once per batch. */
function activationDerivativeSquared(cap: Capture, i: number): FloatArray {
  const key = `d1sq:${i}`;
  const hit = cap.cache.get(key) as FloatArray | undefined;
  if (hit) return hit;
  const d1 = activationDerivative(cap, i, 1);
  const sq = allocPerBatch(cap, d1.length);
  getBackend().binary(Binary.mul, d1, d1, sq);
  cap.cache.set(key, sq);
  return sq;
}

function perSample(cap: Capture, i: number): number {
  return cap.outs[i]!.size / cap.batch;
}

function poolGeometry(cap: Capture, i: number, layer: MaxPool2d | AvgPool2d): Conv2dGeometry {
  return convGeometry(cap.outs[i]!.shape, layer.kernel, layer.kernel, { stride: layer.stride, padding: layer.padding }, layer.type);
}

/** For each pooled output (over the whole batch) the flat input index that won the max. */
export function maxPoolArgmax(cap: Capture, i: number, layer: MaxPool2d): Int32Array {
  const key = `argmax:${i}`;
  const hit = cap.cache.get(key) as Int32Array | undefined;
  if (hit) return hit;
  // The autodiff op's own winner selection (first maximal cell), so both paths pick one winner.
  const arg = poolArgmax(cap.outs[i]!.data, poolGeometry(cap, i, layer));
  cap.cache.set(key, arg);
  return arg;
}

/**
 * Cotangent of the input of layer i for R stacked cotangents `g` of its output
 * ([R·B, outSize] rows, r-major). `squared` squares each local derivative (see the header);
 * `inPlace` lets elementwise rules overwrite g (a scratch array nobody else holds).
 */
export function layerVjp(cap: Capture, i: number, g: FloatArray, R: number, squared: boolean, inPlace = false): FloatArray {
  const layer = cap.model.layers[i]!;
  const B = cap.batch;
  const RB = R * B;
  const be = getBackend();
  const prec = cap.precision;
  const inSz = perSample(cap, i);
  const outSz = perSample(cap, i + 1);
  switch (layer.type) {
    case 'flatten':
    case 'dropout': // evaluation mode: the identity
      return g;
    case 'activation': {
      // Elementwise kernels read g[i] before writing out[i], so a scratch g can be overwritten.
      const out = inPlace ? g : allocScratch(prec, RB * inSz);
      // φ'(u) (or φ'(u)² for the squared rule) once per batch, then one multiply per column.
      const d = squared ? activationDerivativeSquared(cap, i) : activationDerivative(cap, i, 1);
      const n = B * inSz;
      for (let r = 0; r < R; r++) be.binary(Binary.mul, d, g.subarray(r * n, (r + 1) * n), out.subarray(r * n, (r + 1) * n));
      return out;
    }
    case 'dense': {
      const l = layer as Dense;
      const out = allocScratch(prec, RB * l.nin);
      if (RB > 0) be.gemm(false, false, RB, l.nin, l.nout, 1, g, 0, l.nout, weightData(cap, l, squared), 0, l.nin, 0, out, 0, l.nin);
      return out;
    }
    case 'conv2d': {
      const l = layer as Conv2d;
      const geom = convGeometry(cap.outs[i]!.shape, l.kernel[0], l.kernel[1], { stride: l.stride, padding: l.padding });
      const P = geom.outH * geom.outW;
      const co = l.outChannels;
      const inW = l.inChannels * l.kernel[0] * l.kernel[1];
      // [S, Co, P] → [S·P, Co] so the products of S samples·columns are one gemm; S is capped
      // so the column gradients (P·inW per sample, inW = Ci·kh·kw times the input's size for
      // overlapping windows) stay within CONV_CHUNK_ELEMENTS.
      if (squared) noSquaredRule(layer.type);
      const w = weightData(cap, l, false);
      const out = allocScratch(prec, RB * inSz);
      const S = Math.max(1, Math.min(RB, Math.floor(CONV_CHUNK_ELEMENTS / (P * inW))));
      const gt = allocScratch(prec, S * P * co);
      const colsG = allocScratch(prec, S * P * inW);
      for (let s0 = 0; s0 < RB; s0 += S) {
        const n = Math.min(S, RB - s0);
        transposeBatched(g, s0 * co * P, gt, 0, n, co, P);
        be.gemm(false, false, n * P, inW, co, 1, gt, 0, co, w, 0, inW, 0, colsG, 0, inW);
        be.col2im(colsG.subarray(0, n * P * inW), { ...geom, batch: n }, out.subarray(s0 * inSz, (s0 + n) * inSz));
      }
      return out;
    }
    case 'maxpool2d': {
      if (squared) noSquaredRule(layer.type);
      // The derivative is the indicator of the winning cell.
      const arg = maxPoolArgmax(cap, i, layer as MaxPool2d);
      const out = allocTensorData(prec, RB * inSz);
      for (let r = 0; r < R; r++) {
        const oi = r * B * inSz;
        const og = r * B * outSz;
        for (let o = 0; o < arg.length; o++) out[oi + arg[o]!]! += g[og + o]!;
      }
      return out;
    }
    case 'avgpool2d': {
      const l = layer as AvgPool2d;
      const win = poolWindows(poolGeometry(cap, i, l));
      const k = l.kernel * l.kernel;
      if (squared) noSquaredRule(layer.type);
      const w = 1 / k;
      const n = win.length / k;
      const out = allocTensorData(prec, RB * inSz);
      for (let r = 0; r < R; r++) {
        const oi = r * B * inSz;
        const og = r * B * outSz;
        for (let o = 0; o < n; o++) {
          const v = g[og + o]! * w;
          for (let j = 0; j < k; j++) { const idx = win[o * k + j]!; if (idx >= 0) out[oi + idx]! += v; }
        }
      }
      return out;
    }
    default:
      return fail('INVALID_ARGUMENT', `layer ${i} (${layer.type}) has no explicit backward rule`);
  }
}

/**
 * The squared walk starts below a dense layer, so in a Sequential it only ever meets dense,
 * activation, flatten and dropout layers (a dense output cannot feed a conv or a pool).
 */
function noSquaredRule(type: string): never {
  return fail('INVALID_ARGUMENT', `no squared backward rule for a ${type} layer (the squared walk is for dense layers)`);
}

/**
 * Pulls R stacked cotangents `cot` of outs[at] ([R·B, size of outs[at] per sample]) down to
 * outs[stop], returning the cotangents of the outs indices in `keep`.
 */
export function backpropStacked(
  cap: Capture, at: number, cot: FloatArray, R: number, opts: { keep: ReadonlySet<number>; stop: number; squared?: boolean },
): Map<number, FloatArray> {
  const expected = R * cap.batch * perSample(cap, at);
  if (cot.length !== expected) fail('SHAPE', `stacked cotangent has ${cot.length} entries, expected ${expected} (${R} columns)`);
  const res = new Map<number, FloatArray>();
  let g = cot;
  let owned = false;
  if (opts.keep.has(at)) res.set(at, g);
  for (let i = at - 1; i >= opts.stop; i--) {
    const next = layerVjp(cap, i, g, R, opts.squared ?? false, owned && !opts.keep.has(i + 1));
    owned = next !== cot;
    g = next;
    if (opts.keep.has(i)) res.set(i, g);
  }
  return res;
}
