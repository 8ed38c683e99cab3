/**
 * Per-sample quantities, materialised on request (they are O(samples × parameters)):
 *   perSampleGradients       ∂ log p(y_b|x_b)/∂θ            [B, P]
 *   perSampleJacobians       ∂h_a(x_b)/∂θ_i                  [B, T, P]
 *   perSampleOutputHessianDiag  ∂²h_a(x_b)/∂θ_i²             [B, T, P]
 * The last is the Hessian backpropagation of the engine, kept per sample: for a layer below a
 * curved activation m, ∂²h_a/∂θ_i² = Σ_k D_{m,k} (∂u_{m,k}/∂θ_i)² with D_m = φ''(u_m) ⊙ ∂h_a/∂φ(u_m);
 * zero for piecewise-linear networks.
 */
import { getBackend } from '../core/backends/index.js';
import { Unary } from '../core/backend.js';
import type { FloatArray } from '../core/dtype.js';
import { fail } from '../core/errors.js';
import { allocTensorData } from '../core/pool.js';
import { Tensor } from '../core/tensor.js';
import { grad } from '../autodiff/grad.js';
import type { Likelihood } from '../likelihoods/likelihood.js';
import { Dense, activationOp, type Activation } from '../nn/layers.js';
import type { Sequential } from '../nn/sequential.js';
import { FISHER_PATHS, type FisherPath } from './accumulate.js';
import { outputCurvature } from './curvature.js';
import { addPerSampleSquaredNorms, addScaledGradientSum, capture, columnDeltas, curvedActivations, perSampleGrads, squaredInput, unitOutputColumns, type Capture, type ParamLayerInfo } from './engine.js';
import { explicitRulesCover } from './rules.js';

/**
 * Per-sample results are float64 whatever the model dtype. 'fast' (default): explicit layer
 * rules, all columns stacked; 'reference': one autodiff backward per column (the oracle).
 */
function captureFor(model: Sequential, x: Tensor, path: FisherPath): Capture {
  if (!(FISHER_PATHS as readonly string[]).includes(path)) fail('INVALID_ARGUMENT', `unknown path '${String(path)}': expected 'fast' or 'reference'`);
  const fast = path === 'fast' && explicitRulesCover(model.layers);
  return capture(model, x, { precision: 'float64', record: !fast });
}

/** Writes each layer's per-sample gradients for column r of `deltas` into rows rowOf(b) of out [rows, P]. */
function scatterLayers(cap: Capture, deltas: Map<number, FloatArray>, R: number, r: number, P: number, out: Float64Array, rowOf: (b: number) => number): void {
  for (const l of cap.layers) {
    const d = deltas.get(l.index);
    if (!d) continue;
    const n = d.length / R;
    const delta = d.subarray(r * n, (r + 1) * n);
    // Rows rowOf(b) = rowOf(0) + b·step: written in place, one batched product per layer.
    const step = cap.batch > 1 ? rowOf(1) - rowOf(0) : 1;
    perSampleGrads(cap, l, delta, { out, off: rowOf(0) * P + l.offset, stride: step * P });
  }
}

function numParams(cap: Capture): number {
  return cap.layers.reduce((s, l) => s + l.size, 0);
}

/**
 * ∂ log p(y_b | x_b)/∂θ for each sample: Jᵀ(t(y_b) − η_b), [B, P], each layer's block written
 * straight into the output (engine.perSampleGrads with a destination), or into `into`.
 */
export function perSampleGradients(model: Sequential, lik: Likelihood, x: Tensor, targets: Int32Array | Float32Array | Float64Array, path: FisherPath = 'fast', into?: Float64Array): Float64Array {
  const { cap, deltas } = scoreColumns(model, lik, x, targets, path);
  const P = numParams(cap);
  // `into` (reused across batches) skips the fresh [B, P] array, whose first-touch page faults
  // can cost more than writing the gradients. Every entry is overwritten.
  if (into && into.length !== cap.batch * P) fail('SHAPE', `per-sample gradient output has ${into.length} entries, expected ${cap.batch} × ${P}`);
  const out = into ?? new Float64Array(cap.batch * P);
  scatterLayers(cap, deltas, 1, 0, P, out, (b) => b);
  return out;
}

/** The per-sample score columns t(y_b) − η_b of a batch, and its capture. */
function scoreColumns(model: Sequential, lik: Likelihood, x: Tensor, targets: Int32Array | Float32Array | Float64Array, path: FisherPath): { cap: Capture; deltas: Map<number, FloatArray> } {
  const cap = captureFor(model, x, path);
  const B = cap.batch;
  const T = cap.h.shape[1]!;
  const h64 = Float64Array.from(cap.h.data);
  lik.checkTargets(targets, B, T);
  const t = lik.sufficientStat(targets, B, T);
  const eta = lik.meanStat(h64, B, T);
  const cot = new Float64Array(B * T);
  for (let i = 0; i < B * T; i++) cot[i] = t[i]! - eta[i]!;
  return { cap, deltas: columnDeltas(cap, cap.outs.length - 1, cot, 1) };
}

export interface PerSampleNorms {
  /** ||∂ log p(y_b|x_b)/∂θ||₂ per sample [B]. */
  norms: Float64Array;
  /** Squared norms per layer and sample: [layers, B], layer order of the model. */
  layerSquares: Float64Array;
}

/**
 * Per-sample gradient norms without materialising the gradients: O(B) memory per dense layer
 * (||δ_b a_bᵀ||² = ||δ_b||²·||a_b||²); a conv layer forms its own [B, layer size] gradients.
 */
export function perSampleGradientNorms(model: Sequential, lik: Likelihood, x: Tensor, targets: Int32Array | Float32Array | Float64Array, path: FisherPath = 'fast'): PerSampleNorms {
  const { cap, deltas } = scoreColumns(model, lik, x, targets, path);
  const B = cap.batch;
  const layerSquares = new Float64Array(cap.layers.length * B);
  cap.layers.forEach((l, li) => addPerSampleSquaredNorms(cap, l, deltas.get(l.index)!, layerSquares.subarray(li * B, (li + 1) * B)));
  const norms = new Float64Array(B);
  for (let li = 0; li < cap.layers.length; li++) for (let b = 0; b < B; b++) norms[b]! += layerSquares[li * B + b]!;
  for (let b = 0; b < B; b++) norms[b] = Math.sqrt(norms[b]!);
  return { norms, layerSquares };
}

/**
 * The DP-SGD clipped sum Σ_b min(1, C/||g_b||) g_b of the per-sample log-likelihood gradients
 * g_b (the loss gradients are −g_b: same norms, negated sum) [P], with the norms [B]: O(B + P)
 * memory, the norms as in perSampleGradientNorms, then per layer one gemm with per-sample scales.
 * A zero gradient has scale 1 (it adds nothing).
 */
export function clippedGradientSum(model: Sequential, lik: Likelihood, x: Tensor, targets: Int32Array | Float32Array | Float64Array, clip: number, path: FisherPath = 'fast'): { sum: Float64Array; norms: Float64Array; scales: Float64Array } {
  if (!(clip > 0) || !Number.isFinite(clip)) fail('INVALID_ARGUMENT', `clipping norm must be a positive finite number, got ${clip}`);
  const { cap, deltas } = scoreColumns(model, lik, x, targets, path);
  const B = cap.batch;
  const sq = new Float64Array(B);
  for (const l of cap.layers) addPerSampleSquaredNorms(cap, l, deltas.get(l.index)!, sq);
  const norms = sq.map(Math.sqrt);
  const scales = norms.map((n) => (n > clip ? clip / n : 1));
  const sum = new Float64Array(numParams(cap));
  for (const l of cap.layers) addScaledGradientSum(cap, l, deltas.get(l.index)!, scales, sum.subarray(l.offset, l.offset + l.size));
  return { sum, norms, scales };
}

/** ∂h_a(x_b)/∂θ_i as [B, T, P]: the T unit output columns, stacked. */
export function perSampleJacobians(model: Sequential, x: Tensor, path: FisherPath = 'fast'): Float64Array {
  const cap = captureFor(model, x, path);
  const B = cap.batch;
  const T = cap.h.shape[1]!;
  const P = numParams(cap);
  const out = new Float64Array(B * T * P);
  const deltas = columnDeltas(cap, cap.outs.length - 1, unitOutputColumns(cap, T), T);
  for (let a = 0; a < T; a++) scatterLayers(cap, deltas, T, a, P, out, (b) => b * T + a);
  return out;
}

/** ∂²h_a(x_b)/∂θ_i² as [B, T, P]. */
export function perSampleOutputHessianDiag(model: Sequential, x: Tensor, path: FisherPath = 'fast'): Float64Array {
  const cap = captureFor(model, x, path);
  const B = cap.batch;
  const T = cap.h.shape[1]!;
  const P = numParams(cap);
  const out = new Float64Array(B * T * P);
  const curved = curvedActivations(model);
  if (curved.length === 0) return out;
  if (cap.recorded) {
    // Reference: D by autodiff per output a, every (layer, activation) pair by unit columns.
    const actOuts = curved.map((m) => cap.outs[m + 1]!);
    for (let a = 0; a < T; a++) {
      const c = Tensor.zeros([B, T], model.dtype);
      for (let b = 0; b < B; b++) c.data[b * T + a] = 1;
      const gs = grad([cap.h], actOuts, { gradOutputs: [c] });
      curved.forEach((m, mi) => {
        const u = cap.outs[m]!;
        const layer = model.layers[m] as Activation;
        const D = new Float64Array(u.size);
        getBackend().unaryMul(Unary[activationOp(layer.fn)], 2, layer.slope, Float64Array.from(u.data), Float64Array.from(gs[mi]!.data), D);
        for (const l of cap.layers) if (l.index < m) addUnitColumnSquares(cap, l, m, D, a, P, T, out);
      });
    }
    return out;
  }
  // Fast: D_m and the exact z-Hessian diagonals for all T outputs at once; the per-sample entry
  // of a dense weight is E[a·B + b, j] · a_bk², of a conv weight Σ_p E[a·B + b, j, p] · cols_bpk².
  const oc = outputCurvature(cap, cap.layers, unitOutputColumns(cap, T), T, { convPerSample: true });
  for (const l of cap.layers) {
    const E = oc.E.get(l.index);
    if (E) addSquaredInputTerms(cap, l, E, T, P, out);
    const H = oc.H.get(l.index);
    if (!H) continue;
    for (let a = 0; a < T; a++) {
      for (let b = 0; b < B; b++) {
        const o = (b * T + a) * P + l.offset;
        const src = (a * B + b) * l.size;
        for (let i = 0; i < l.size; i++) out[o + i]! += H[src + i]!;
      }
    }
  }
  return out;
}

/** out[b, a, θ of dense layer l] += E[a·B + b, j] · a_bk² (bias: E) for the T stacked columns of E. */
function addSquaredInputTerms(cap: Capture, l: ParamLayerInfo, E: FloatArray, T: number, P: number, out: Float64Array): void {
  const B = cap.batch;
  const a2 = squaredInput(cap, l);
  const hasBias = l.layer.bias !== null;
  const { nin, nout } = l.layer as Dense;
  for (let a = 0; a < T; a++) {
    for (let b = 0; b < B; b++) {
      const o = (b * T + a) * P + l.offset;
      const e = (a * B + b) * nout;
      for (let j = 0; j < nout; j++) {
        const v = E[e + j]!;
        if (v === 0) continue;
        const row = o + j * nin;
        for (let k = 0; k < nin; k++) out[row + k]! += v * a2[b * nin + k]!;
        if (hasBias) out[o + nout * nin + j]! += v;
      }
    }
  }
}

/**
 * Reference: out[b, a, θ of l] += Σ_k D[b, k] (∂u_{m,k}/∂θ)² for output a, by one autodiff column
 * per unit k of u_m (D = D^(a), [B, units]).
 */
function addUnitColumnSquares(cap: Capture, l: ParamLayerInfo, m: number, D: FloatArray, a: number, P: number, T: number, out: Float64Array): void {
  const B = cap.batch;
  const units = cap.outs[m]!.size / B;
  for (let k = 0; k < units; k++) {
    const cot = allocTensorData(cap.precision, B * units);
    for (let b = 0; b < B; b++) cot[b * units + k] = 1;
    const g = perSampleGrads(cap, l, columnDeltas(cap, m, cot, 1, l).get(l.index)!);
    for (let b = 0; b < B; b++) {
      const d = D[b * units + k]!;
      if (d === 0) continue;
      const o = (b * T + a) * P + l.offset;
      for (let i = 0; i < l.size; i++) { const v = g[b * l.size + i]!; out[o + i]! += d * v * v; }
    }
  }
}
