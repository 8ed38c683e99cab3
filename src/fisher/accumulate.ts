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
import { castArray, type DType, type FloatArray } from '../core/dtype.js';
import { fail } from '../core/errors.js';
import { BufferScope, allocScratch, allocTensorData, currentScope } from '../core/pool.js';
import type { Rng } from '../core/rng.js';
import { drawLabels } from './labels.js';
import { Tensor } from '../core/tensor.js';
import * as F from '../autodiff/ops.js';
import { grad, hvp } from '../autodiff/grad.js';
import type { Likelihood } from '../likelihoods/likelihood.js';
import { Dense, activationOp, type Activation } from '../nn/layers.js';
import type { Sequential } from '../nn/sequential.js';
import {
  COLUMN_CHUNK_ELEMENTS, accumulateGram, accumulateKfacA, accumulateKfacG, accumulateSquares, addSquaredColumns, addWeightedSquaredInputs, capture, columnDeltas,
  curvedActivations, perSampleGrads, spatialSize, type Capture, type ParamLayerInfo,
} from './engine.js';
import { explicitRulesCover, layerInput } from './rules.js';
import { outputCurvature } from './curvature.js';
import type { EstimatorName } from './matrix.js';

export type RawKind = 'diag' | 'block' | 'dense' | 'kfac';

/**
 * 'fast': explicit layer rules on stacked columns, products in the model dtype.
 * 'reference': one autodiff backward per column, everything in float64 (the tested oracle).
 */
export const FISHER_PATHS = ['fast', 'reference'] as const;
export type FisherPath = (typeof FISHER_PATHS)[number];

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
  /** Source of sampled labels for this batch (i1, i2): one stream per input (see labels.ts) or one for the batch. */
  rng?: Rng | readonly Rng[];
  /** Called after each chunk of sampled labels with the fraction of this batch's labels done. */
  onLabels?: (fractionDone: number) => void;
}

/**
 * Sampled labels are drawn and turned into columns in chunks of at most this many values
 * (labels × inputs × outputs), so any labels-per-input runs in bounded memory, as the columns
 * are (COLUMN_CHUNK_ELEMENTS). A batch that fits in one chunk draws from the batch's rng as it
 * always did; with several chunks, chunk k draws from rng.derive('labels', k).
 */
export const LABEL_CHUNK_ELEMENTS = 1 << 19;

/** Label chunks [s0, s1) of n labels for B inputs with T outputs. */
function labelChunks(n: number, B: number, T: number): [number, number][] {
  const per = Math.max(1, Math.floor(LABEL_CHUNK_ELEMENTS / Math.max(1, B * T)));
  const out: [number, number][] = [];
  for (let s0 = 0; s0 < n; s0 += per) out.push([s0, Math.min(n, s0 + per)]);
  return out;
}

/**
 * Adds R stacked columns' contributions (the layers below `at`, or only `only`) with per-row
 * weights w [R·B], in chunks of columns that fit COLUMN_CHUNK_ELEMENTS; each chunk's scratch is
 * recycled before the next.
 */
function addColumns(acc: RawAccumulator, cap: Capture, at: number, cot: FloatArray, R: number, w: FloatArray | null, only?: ParamLayerInfo): void {
  const B = cap.batch;
  const layers = acc.layers.filter((l) => l.index < at && (only === undefined || l.index === only.index));
  if (layers.length === 0 || R === 0) return;
  const per = cot.length / R;
  const kept = layers.reduce((s, l) => s + cap.outs[l.index + 1]!.size, 0);
  const chunks = Math.ceil(R / Math.max(1, Math.floor(COLUMN_CHUNK_ELEMENTS / kept)));
  const Rc = Math.ceil(R / chunks);
  // Partial sums over the chunks in the capture's precision, added to the float64 result once:
  // dense layers' diagonal Σ w·δ² (then one gemm with a²), and KFAC's G.
  const sums = new Map<number, FloatArray>();
  if (acc.kind === 'diag') for (const l of layers) if (l.layer instanceof Dense) sums.set(l.index, allocTensorData(cap.precision, cap.outs[l.index + 1]!.size));
  if (acc.kind === 'kfac') for (const l of layers) sums.set(l.index, allocTensorData(cap.precision, acc.kfac![acc.layers.indexOf(l)]!.G.length));
  const scope = chunks > 1 ? (currentScope()?.child('fisher-columns') ?? new BufferScope()) : null;
  for (let r0 = 0; r0 < R; r0 += Rc) {
    const n = Math.min(Rc, R - r0);
    const wc = w ? w.subarray(r0 * B, (r0 + n) * B) : null;
    const run = (): void => addColumnChunk(acc, cap, at, cot.subarray(r0 * per, (r0 + n) * per), n, wc, sums, only);
    if (scope) { scope.run(run); scope.recycle(); } else run();
  }
  for (const l of layers) {
    const S = sums.get(l.index);
    if (!S) continue;
    if (acc.kind === 'diag') addWeightedSquaredInputs(cap, l, S, acc.diag!.subarray(l.offset, l.offset + l.size));
    else getBackend().accumulate(S, acc.kfac![acc.layers.indexOf(l)]!.G, 0);
  }
}

function addColumnChunk(acc: RawAccumulator, cap: Capture, at: number, cot: FloatArray, R: number, w: FloatArray | null, sums: Map<number, FloatArray>, only?: ParamLayerInfo): void {
  const deltas = columnDeltas(cap, at, cot, R, only);
  const below = acc.layers.filter((l) => deltas.has(l.index));
  const B = cap.batch;
  if (acc.kind === 'diag') {
    for (const l of below) {
      const S = sums.get(l.index);
      if (S) addSquaredColumns(cap, l, deltas.get(l.index)!, R, w, S);
      else accumulateSquares(cap, l, deltas.get(l.index)!, R, w, acc.diag!.subarray(l.offset, l.offset + l.size));
    }
  } else if (acc.kind === 'kfac') {
    // KFAC columns are never weighted: Î2 and the Hessian are refused for KFAC up front.
    for (const l of below) accumulateKfacG(cap, l, deltas.get(l.index)!, R, sums.get(l.index)!);
  } else {
    for (let r = 0; r < R; r++) {
      const wr = w ? w.subarray(r * B, (r + 1) * B) : null;
      const column = (l: ParamLayerInfo): FloatArray => {
        const d = deltas.get(l.index)!;
        const n = d.length / R;
        return perSampleGrads(cap, l, d.subarray(r * n, (r + 1) * n));
      };
      if (acc.kind === 'block') {
        for (const l of below) accumulateGram(column(l), B, l.size, wr, acc.blocks![acc.layers.indexOf(l)]!);
      } else {
        const all = allocTensorData(cap.precision, B * acc.size);
        for (const l of below) {
          const g = column(l);
          for (let b = 0; b < B; b++) all.set(g.subarray(b * l.size, (b + 1) * l.size), b * acc.size + l.offset);
        }
        accumulateGram(all, B, acc.size, wr, acc.dense!);
      }
    }
  }
}

/** Columns stacked r-major: out[(r·B + b)·T + a] = scale · src[(b·T + a)·R + r] (src is [B, T, R]). */
function stackFactorColumns(src: Float64Array, B: number, T: number, R: number, precision: DType): FloatArray {
  const out = allocTensorData(precision, R * B * T);
  for (let r = 0; r < R; r++) for (let b = 0; b < B; b++) for (let a = 0; a < T; a++) out[(r * B + b) * T + a] = src[(b * T + a) * R + r]!;
  return out;
}

/** Σ_a c_a ∇²h_a restricted to layer blocks / the diagonal (see the header), c per sample [B, T]. */
function addSecondDerivativeTerm(acc: RawAccumulator, cap: Capture, c: FloatArray): void {
  const model = cap.model;
  const curved = curvedActivations(model);
  const B = cap.batch;
  const cT = new Tensor(castArray(c, model.dtype), [B, c.length / B]);
  if (acc.kind === 'dense') {
    // Full Hessian of Σ_b c_bᵀ h_b w.r.t. all parameters, cross-layer blocks included, by P
    // Hessian–vector products (dense is for small networks).
    const params = model.parameters();
    const x = cap.outs[0]!;
    const g = (): Tensor => F.sum(F.mul(model.forward(x), cT));
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
  // Refused even for piecewise-linear networks (where the term vanishes) so that the same
  // request does not succeed or fail depending on the activation.
  if (acc.kind === 'kfac') fail('INVALID_ARGUMENT', 'KFAC is defined for the exact, i1 and empirical estimators (its factors are Gram matrices); Î2 and the Hessian have signed second-derivative terms');
  // Within a layer only curved activations contribute (h is linear in each layer's parameters).
  if (curved.length === 0) return;
  if (!cap.recorded) {
    const oc = outputCurvature(cap, acc.layers, c, 1);
    if (acc.kind === 'diag') {
      for (const l of acc.layers) {
        const slice = acc.diag!.subarray(l.offset, l.offset + l.size);
        const E = oc.E.get(l.index);
        if (E) addWeightedSquaredInputs(cap, l, E, slice);
        const H = oc.H.get(l.index);
        if (H) for (let b = 0; b < B; b++) for (let i = 0; i < l.size; i++) slice[i]! += H[b * l.size + i]!;
      }
    } else {
      for (const m of curved) for (const l of acc.layers) if (l.index < m) addUnitColumns(acc, cap, l, m, oc.D.get(m)!);
    }
    return;
  }
  // Reference path: D by autodiff, the diagonal directly below each activation,
  // every other pair by unit columns.
  const grads = grad([cap.h], curved.map((m) => cap.outs[m + 1]!), { gradOutputs: [cT] });
  const be = getBackend();
  curved.forEach((m, i) => {
    // D = φ''(u) ⊙ ∂(cᵀh)/∂φ(u): the curvature of cᵀh w.r.t. u_m is diag(D).
    const u = layerInput(cap, m);
    const layer = model.layers[m] as Activation;
    const D = allocTensorData(cap.precision, u.length);
    be.unaryMul(Unary[activationOp(layer.fn)], 2, layer.slope, u, castArray(grads[i]!.data, cap.precision), D);
    for (const l of acc.layers) {
      if (l.index >= m) continue;
      if (acc.kind === 'diag' && l.index + 1 === m) addWeightedSquaredInputs(cap, l, D, acc.diag!.subarray(l.offset, l.offset + l.size));
      else addUnitColumns(acc, cap, l, m, D);
    }
  });
}

/**
 * Adds Σ_b Σ_k D_bk g_bk g_bkᵀ (diagonal or block) for layer l, g_bk the parameter gradient of
 * unit k of u_m: one column per unit, stacked in chunks on the fast path.
 */
function addUnitColumns(acc: RawAccumulator, cap: Capture, l: ParamLayerInfo, m: number, D: FloatArray): void {
  const B = cap.batch;
  const units = D.length / B;
  const widest = Math.max(...cap.outs.slice(l.index + 1, m + 1).map((t) => t.size / B));
  const chunk = cap.recorded ? 1 : Math.max(1, Math.floor(COLUMN_CHUNK_ELEMENTS / (B * widest)));
  for (let k0 = 0; k0 < units; k0 += chunk) {
    const R = Math.min(chunk, units - k0);
    const cot = allocTensorData(cap.precision, R * B * units);
    const w = allocTensorData(cap.precision, R * B);
    let any = false;
    for (let r = 0; r < R; r++) {
      for (let b = 0; b < B; b++) {
        cot[(r * B + b) * units + k0 + r] = 1;
        const d = D[b * units + k0 + r]!;
        w[r * B + b] = d;
        if (d !== 0) any = true;
      }
    }
    if (any) addColumns(acc, cap, m, cot, R, w, l);
  }
}

/**
 * Adds one batch's contribution of `estimator` to `acc`. Returns the number of terms added
 * (inputs; the per-input label average is taken inside).
 */
export function accumulateBatch(
  acc: RawAccumulator, model: Sequential, lik: Likelihood, estimator: EstimatorName, batch: BatchSpec, labelsPerInput: number,
  path: FisherPath = 'fast',
): void {
  const fast = path === 'fast' && explicitRulesCover(model.layers);
  // Blocks and dense matrices (small networks) keep float64 products: their symmetry and
  // positive semi-definiteness are checked downstream to 1e-8.
  const precision = fast && (acc.kind === 'diag' || acc.kind === 'kfac') ? model.dtype : 'float64';
  const cap = capture(model, batch.x, { precision, record: !fast });
  const B = cap.batch;
  const T = cap.h.shape[1]!;
  const prec = cap.precision;
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
    const R = lik.factorRank(T);
    // Into pooled scratch: a fresh [B, T, R] array per batch was the largest garbage of a stream.
    const S = lik.sqrtFactor(h64, B, T, allocScratch('float64', B * T * R) as Float64Array);
    addColumns(acc, cap, at, stackFactorColumns(S, B, T, R, prec), R, null);
    kfacCount(B);
  };
  /** Sufficient statistics of `count` labels per input, [B, count, T], from `rng`. */
  const sampledStats = (rng: Rng | readonly Rng[] | undefined, count: number): Float64Array => {
    if (!rng) fail('INVALID_ARGUMENT', `estimator ${estimator} samples labels and needs an rng`);
    const ys = drawLabels(lik, h64, B, T, rng, count);
    return lik.sufficientStat(ys, B * count, T);
  };
  const chunks = labelChunks(labelsPerInput, B, T);
  // Per-input streams (the estimators') simply continue from chunk to chunk; one batch stream
  // gives each chunk after the first a stream of its own.
  const chunkRng = (k: number): Rng | readonly Rng[] | undefined => {
    const r = batch.rng;
    if (r === undefined || Array.isArray(r) || chunks.length === 1) return r;
    return (r as Rng).derive(`labels:${k}`);
  };
  // Several chunks: each one's pooled buffers (columns, partial sums) are recycled before the
  // next, or the batch's scope would hold all of them until the batch ends.
  const labelScope = chunks.length > 1 ? (currentScope()?.child('fisher-labels') ?? new BufferScope()) : null;
  const eachChunk = (fn: (s0: number, s1: number, k: number) => void): void => {
    chunks.forEach(([s0, s1], k) => {
      if (labelScope) { labelScope.run(() => fn(s0, s1, k)); labelScope.recycle(); } else fn(s0, s1, k);
      batch.onLabels?.(s1 / labelsPerInput);
    });
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
      const n = labelsPerInput;
      // Column s: (t(y_{b,s}) − η_b)/√n, so the sum of squares is the per-input label mean.
      const scale = 1 / Math.sqrt(n);
      eachChunk((s0, s1, k) => {
        const m = s1 - s0;
        const t = sampledStats(chunkRng(k), m);
        const cot = allocTensorData(prec, m * B * T);
        for (let s = 0; s < m; s++) for (let b = 0; b < B; b++) for (let a = 0; a < T; a++) cot[(s * B + b) * T + a] = scale * (t[(b * m + s) * T + a]! - eta[b * T + a]!);
        addColumns(acc, cap, at, cot, m, null);
      });
      kfacCount(B);
      break;
    }
    case 'empirical': {
      const t = dataStats();
      const cot = allocTensorData(prec, B * T);
      for (let i = 0; i < B * T; i++) cot[i] = t[i]! - eta[i]!;
      addColumns(acc, cap, at, cot, 1, null);
      kfacCount(B);
      break;
    }
    case 'i2':
    case 'hessian': {
      addExactColumns();
      const n = estimator === 'i2' ? labelsPerInput : 1;
      const c = new Float64Array(B * T);
      const addLabels = (t: Float64Array, m: number): void => {
        for (let b = 0; b < B; b++) for (let s = 0; s < m; s++) for (let a = 0; a < T; a++) c[b * T + a]! += (eta[b * T + a]! - t[(b * m + s) * T + a]!) / n;
      };
      if (estimator === 'i2') {
        eachChunk((s0, s1, k) => addLabels(sampledStats(chunkRng(k), s1 - s0), s1 - s0));
      } else addLabels(dataStats(), 1);
      // The reference path rounds c to the model dtype as its autodiff graph does; so does the fast one.
      addSecondDerivativeTerm(acc, cap, castArray(castArray(c, model.dtype), prec));
      break;
    }
    default:
      fail('INVALID_ARGUMENT', `unknown estimator '${String(estimator)}'`);
  }
  acc.inputs += B;
}

export type { FloatArray };
