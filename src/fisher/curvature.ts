/**
 * Second-derivative terms of the network output, by explicit layer rules.
 *
 * For weights c per sample, ∇²_θ (cᵀh) within one layer comes only from the curved activations
 * m above it (h is linear in each layer's own parameters): with
 *   D_m = φ''(u_m) ⊙ ∂(cᵀh)/∂φ(u_m)        (per sample, per unit of u_m)
 * the Hessian of cᵀh w.r.t. the layer output z_l is Σ_m J_mᵀ diag(D_m) J_m, J_m = ∂u_m/∂z_l.
 * A parameter's diagonal entry needs only the diagonal of that Hessian for a dense layer
 * (∂²/∂W_jk² = a_k² [∇²_z]_jj) and, for a conv layer, only when the activation follows it
 * directly (the Hessian is then diagonal over units and positions).
 *
 * `outputCurvature` computes D_m for R stacked weight columns c (rows r·B + b), and the diagonal
 * E_l of ∇²_{z_l} for every layer where it is exact: directly below the activation, or a dense
 * layer joined to it by a single path (the squared walk of rules.ts). The pairs (l, m) left
 * over need the per-unit columns; the caller handles them with D_m.
 */
import { getBackend } from '../core/backends/index.js';
import { Binary } from '../core/backend.js';
import type { FloatArray } from '../core/dtype.js';
import { allocTensorData } from '../core/pool.js';
import { Dense } from '../nn/layers.js';
import { curvedActivations, type Capture, type ParamLayerInfo } from './engine.js';
import { activationDerivative, backpropStacked, layerInput, singlePath } from './rules.js';

export interface OutputCurvature {
  /** Curved activation indices m, and D_m [R·B, units of u_m] for each. */
  curved: number[];
  D: Map<number, FloatArray>;
  /** E_l [R·B, size of z_l per sample]: the part of diag ∇²_{z_l}(c_rᵀh) the rules give exactly. */
  E: Map<number, FloatArray>;
  /** (layer, activation) pairs E_l does not include: the caller adds them by unit columns. */
  leftover: { layer: ParamLayerInfo; activation: number }[];
}

/** D_m and the exact diagonal z-Hessians for R stacked columns c ([R·B, T]) (fast path only). */
export function outputCurvature(cap: Capture, layers: readonly ParamLayerInfo[], c: FloatArray, R: number): OutputCurvature {
  const model = cap.model;
  const curved = curvedActivations(model);
  const B = cap.batch;
  const res: OutputCurvature = { curved, D: new Map(), E: new Map(), leftover: [] };
  if (curved.length === 0) return res;
  const at = cap.outs.length - 1;
  const keep = new Set(curved.map((m) => m + 1));
  const cots = backpropStacked(cap, at, c, R, { keep, stop: Math.min(...keep) });
  const be = getBackend();
  for (const m of curved) {
    const u = layerInput(cap, m);
    const g = cots.get(m + 1)!;
    const D = allocTensorData(cap.precision, R * u.length);
    const d2 = activationDerivative(cap, m, 2);
    for (let r = 0; r < R; r++) be.binary(Binary.mul, d2, g.subarray(r * u.length, (r + 1) * u.length), D.subarray(r * u.length, (r + 1) * u.length));
    res.D.set(m, D);
    for (const l of layers) {
      if (l.index >= m) continue;
      let add: FloatArray | null = null;
      if (l.index + 1 === m) add = D;
      else if (l.layer instanceof Dense && singlePath(model.layers, l.index + 1, m)) {
        add = backpropStacked(cap, m, D, R, { keep: new Set([l.index + 1]), stop: l.index + 1, squared: true }).get(l.index + 1)!;
      }
      if (!add) { res.leftover.push({ layer: l, activation: m }); continue; }
      const prev = res.E.get(l.index);
      if (!prev) { res.E.set(l.index, add === D ? copyOf(D, cap) : add); continue; }
      for (let i = 0; i < prev.length; i++) prev[i]! += add[i]!;
    }
  }
  return res;
}

/** A private copy of D (E_l accumulates in place and must not alias D). */
function copyOf(D: FloatArray, cap: Capture): FloatArray {
  const copy = allocTensorData(cap.precision, D.length);
  copy.set(D);
  return copy;
}
