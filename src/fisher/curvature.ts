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
 * `outputCurvature` computes, for R stacked weight columns c (rows r·B + b):
 *   - D_m at every curved activation;
 *   - for every dense layer, E_l = diag ∇²_{z_l}(c_rᵀh) per sample: D_m itself directly below m,
 *     the squared walk of rules.ts where a single path joins them, otherwise by unit columns
 *     (E_j += Σ_k D_k δ⁽ᵏ⁾_j², δ⁽ᵏ⁾ = ∂u_{m,k}/∂z_l);
 *   - for every conv layer, either E_l = D_m for the activation directly above (diagonal over
 *     units and positions, enough for a sum over samples) plus the per-sample parameter
 *     Hessian diagonal H_l [R·B, size] of the pairs further up (unit columns), or, with
 *     `convPerSample`, everything as per-sample H_l.
 */
import { getBackend } from '../core/backends/index.js';
import { Binary } from '../core/backend.js';
import type { FloatArray } from '../core/dtype.js';
import { allocTensorData } from '../core/pool.js';
import { Dense } from '../nn/layers.js';
import { gemmStridedBatched } from '../core/linalg.js';
import { COLUMN_CHUNK_ELEMENTS, columnDeltas, curvedActivations, perSampleGrads, spatialSize, squaredInput, type Capture, type ParamLayerInfo } from './engine.js';
import { activationDerivative, backpropStacked, layerInput, singlePath } from './rules.js';

export interface OutputCurvature {
  /** Curved activation indices m, and D_m [R·B, units of u_m] for each. */
  curved: number[];
  D: Map<number, FloatArray>;
  /** E_l [R·B, size of z_l per sample] (dense layers; conv layers directly below an activation unless convPerSample). */
  E: Map<number, FloatArray>;
  /** Conv layers: the per-sample parameter Hessian diagonal [R·B, layer size] of the pairs E does not hold. */
  H: Map<number, FloatArray>;
}

/**
 * The second-derivative data of R stacked weight columns c ([R·B, T]; fast path only). `cots`,
 * when given, holds the cotangents of c at every curved activation's output (from a walk the
 * caller made anyway); otherwise they are computed here.
 */
export function outputCurvature(
  cap: Capture, layers: readonly ParamLayerInfo[], c: FloatArray | null, R: number,
  opts: { cots?: Map<number, FloatArray>; convPerSample?: boolean } = {},
): OutputCurvature {
  const model = cap.model;
  const curved = curvedActivations(model);
  const B = cap.batch;
  const res: OutputCurvature = { curved, D: new Map(), E: new Map(), H: new Map() };
  if (curved.length === 0) return res;
  const keep = new Set(curved.map((m) => m + 1));
  const cots = opts.cots ?? backpropStacked(cap, cap.outs.length - 1, c!, R, { keep, stop: Math.min(...keep) });
  const be = getBackend();
  const addTo = (map: Map<number, FloatArray>, l: number, n: number): FloatArray => {
    let t = map.get(l);
    if (!t) map.set(l, (t = allocTensorData(cap.precision, n)));
    return t;
  };
  for (const m of curved) {
    const u = layerInput(cap, m);
    const g = cots.get(m + 1)!;
    const D = allocTensorData(cap.precision, R * u.length);
    const d2 = activationDerivative(cap, m, 2);
    for (let r = 0; r < R; r++) be.binary(Binary.mul, d2, g.subarray(r * u.length, (r + 1) * u.length), D.subarray(r * u.length, (r + 1) * u.length));
    res.D.set(m, D);
    for (const l of layers) {
      if (l.index >= m) continue;
      const width = cap.outs[l.index + 1]!.size / B;
      if (l.layer instanceof Dense) {
        const E = addTo(res.E, l.index, R * B * width);
        if (l.index + 1 === m) be.axpby(1, E, 1, D, E);
        else if (singlePath(model.layers, l.index + 1, m)) {
          const add = backpropStacked(cap, m, D, R, { keep: new Set([l.index + 1]), stop: l.index + 1, squared: true }).get(l.index + 1)!;
          be.axpby(1, E, 1, add, E);
        } else addUnitColumns(cap, l, m, D, R, E);
        continue;
      }
      if (l.index + 1 === m && !opts.convPerSample) {
        const E = addTo(res.E, l.index, R * B * width);
        be.axpby(1, E, 1, D, E);
        continue;
      }
      const H = addTo(res.H, l.index, R * B * l.size);
      if (l.index + 1 === m) addConvDirect(cap, l, D, R, H);
      else addUnitColumns(cap, l, m, D, R, H);
    }
  }
  return res;
}

/**
 * A conv layer directly below the activation, per sample: its output Hessian is diag(D) over
 * units and positions, so H_b[j, k] += Σ_p D_b[j, p] cols_b[p, k]² (bias: Σ_p D_b[j, p]).
 */
function addConvDirect(cap: Capture, l: ParamLayerInfo, D: FloatArray, R: number, H: FloatArray): void {
  const B = cap.batch;
  const layer = l.layer as { outChannels: number; inChannels: number; kernel: [number, number]; bias: unknown };
  const out = layer.outChannels;
  const inW = layer.inChannels * layer.kernel[0] * layer.kernel[1];
  const P = spatialSize(cap, l);
  const cols2 = squaredInput(cap, l);
  const be = getBackend();
  for (let r = 0; r < R; r++) {
    gemmStridedBatched(be, false, false, out, inW, P, 1, D, r * B * out * P, P, cols2, 0, inW, 1, H, r * B * l.size, inW,
      { count: B, strideA: out * P, strideB: P * inW, strideC: l.size });
    if (layer.bias === null) continue;
    for (let b = 0; b < B; b++) {
      const src = (r * B + b) * out * P;
      const dst = (r * B + b) * l.size + out * inW;
      for (let j = 0; j < out; j++) {
        let s = 0;
        for (let p = 0; p < P; p++) s += D[src + j * P + p]!;
        H[dst + j]! += s;
      }
    }
  }
}

/**
 * The pairs no exact rule covers: Σ_k D_{m,k} g_k ⊙ g_k with g_k the per-sample gradient of
 * unit k of u_m, by unit cotangents at u_m (chunks of them stacked; shared by the R columns,
 * only D depends on them). For a dense layer g_k = a ⊗ δ⁽ᵏ⁾, so δ⁽ᵏ⁾² goes to E [R·B, out];
 * for a conv layer g_k² to H [R·B, size].
 */
function addUnitColumns(cap: Capture, l: ParamLayerInfo, m: number, D: FloatArray, R: number, target: FloatArray): void {
  const B = cap.batch;
  const units = D.length / (R * B);
  const widest = Math.max(...cap.outs.slice(l.index + 1, m + 1).map((t) => t.size / B));
  const chunk = Math.max(1, Math.floor(COLUMN_CHUNK_ELEMENTS / (B * widest)));
  const dense = l.layer instanceof Dense;
  const width = cap.outs[l.index + 1]!.size / B;
  const n = dense ? width : l.size;
  for (let k0 = 0; k0 < units; k0 += chunk) {
    const K = Math.min(chunk, units - k0);
    let any = false;
    for (let s = 0; s < R * B && !any; s++) for (let k = 0; k < K; k++) if (D[s * units + k0 + k] !== 0) { any = true; break; }
    if (!any) continue;
    const cot = allocTensorData(cap.precision, K * B * units);
    for (let k = 0; k < K; k++) for (let b = 0; b < B; b++) cot[(k * B + b) * units + k0 + k] = 1;
    const delta = columnDeltas(cap, m, cot, K, l).get(l.index)!;
    for (let k = 0; k < K; k++) {
      const col = delta.subarray(k * B * width, (k + 1) * B * width);
      const g = dense ? col : perSampleGrads(cap, l, col);
      for (let r = 0; r < R; r++) {
        for (let b = 0; b < B; b++) {
          const d = D[(r * B + b) * units + k0 + k]!;
          if (d === 0) continue;
          const src = b * n;
          const dst = (r * B + b) * n;
          for (let i = 0; i < n; i++) { const v = g[src + i]!; target[dst + i]! += d * v * v; }
        }
      }
    }
  }
}
