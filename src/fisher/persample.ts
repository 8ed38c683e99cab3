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
import { Tensor } from '../core/tensor.js';
import { grad } from '../autodiff/grad.js';
import type { Likelihood } from '../likelihoods/likelihood.js';
import { activationOp, type Activation } from '../nn/layers.js';
import type { Sequential } from '../nn/sequential.js';
import { backpropColumn, capture, curvedActivations, perSampleGrads, type Capture } from './engine.js';

function scatterLayers(cap: Capture, deltas: Map<number, Float64Array>, P: number, out: Float64Array, rowOf: (b: number) => number, only?: number): void {
  for (const l of cap.layers) {
    if (!deltas.has(l.index) || (only !== undefined && l.index !== only)) continue;
    const g = perSampleGrads(cap, l, deltas.get(l.index)!);
    for (let b = 0; b < cap.batch; b++) out.set(g.subarray(b * l.size, (b + 1) * l.size), rowOf(b) * P + l.offset);
  }
}

function numParams(cap: Capture): number {
  return cap.layers.reduce((s, l) => s + l.size, 0);
}

/** ∂ log p(y_b | x_b)/∂θ for each sample: Jᵀ(t(y_b) − η_b). */
export function perSampleGradients(model: Sequential, lik: Likelihood, x: Tensor, targets: Int32Array | Float32Array | Float64Array): Float64Array {
  const cap = capture(model, x);
  const B = cap.batch;
  const T = cap.h.shape[1]!;
  const h64 = Float64Array.from(cap.h.data);
  lik.checkTargets(targets, B, T);
  const t = lik.sufficientStat(targets, B, T);
  const eta = lik.meanStat(h64, B, T);
  const cot = Tensor.zeros([B, T], model.dtype);
  for (let i = 0; i < B * T; i++) cot.data[i] = t[i]! - eta[i]!;
  const P = numParams(cap);
  const out = new Float64Array(B * P);
  scatterLayers(cap, backpropColumn(cap, cap.outs.length - 1, cot), P, out, (b) => b);
  return out;
}

/** ∂h_a(x_b)/∂θ_i as [B, T, P]: one backward pass per output unit. */
export function perSampleJacobians(model: Sequential, x: Tensor): Float64Array {
  const cap = capture(model, x);
  const B = cap.batch;
  const T = cap.h.shape[1]!;
  const P = numParams(cap);
  const out = new Float64Array(B * T * P);
  for (let a = 0; a < T; a++) {
    const cot = Tensor.zeros([B, T], model.dtype);
    for (let b = 0; b < B; b++) cot.data[b * T + a] = 1;
    scatterLayers(cap, backpropColumn(cap, cap.outs.length - 1, cot), P, out, (b) => b * T + a);
  }
  return out;
}

/** ∂²h_a(x_b)/∂θ_i² as [B, T, P]. */
export function perSampleOutputHessianDiag(model: Sequential, x: Tensor): Float64Array {
  const cap = capture(model, x);
  const B = cap.batch;
  const T = cap.h.shape[1]!;
  const P = numParams(cap);
  const out = new Float64Array(B * T * P);
  const curved = curvedActivations(model);
  if (curved.length === 0) return out;
  const actOuts = curved.map((m) => cap.outs[m + 1]!);
  for (let a = 0; a < T; a++) {
    const c = Tensor.zeros([B, T], model.dtype);
    for (let b = 0; b < B; b++) c.data[b * T + a] = 1;
    const gs = grad([cap.h], actOuts, { gradOutputs: [c] });
    curved.forEach((m, mi) => {
      const u = cap.outs[m]!;
      const layer = model.layers[m] as Activation;
      const units = u.size / B;
      const D = new Float64Array(u.size);
      getBackend().unaryMul(Unary[activationOp(layer.fn)], 2, layer.slope, Float64Array.from(u.data), Float64Array.from(gs[mi]!.data), D);
      for (let k = 0; k < units; k++) {
        let any = false;
        for (let b = 0; b < B; b++) if (D[b * units + k] !== 0) { any = true; break; }
        if (!any) continue;
        const cot = Tensor.zeros(u.shape, u.dtype);
        for (let b = 0; b < B; b++) cot.data[b * units + k] = 1;
        const deltas = backpropColumn(cap, m, cot);
        for (const l of cap.layers) {
          if (!deltas.has(l.index)) continue;
          const g = perSampleGrads(cap, l, deltas.get(l.index)!);
          for (let b = 0; b < B; b++) {
            const d = D[b * units + k]!;
            if (d === 0) continue;
            const o = (b * T + a) * P + l.offset;
            for (let i = 0; i < l.size; i++) { const v = g[b * l.size + i]!; out[o + i]! += d * v * v; }
          }
        }
      }
    });
  }
  return out;
}
