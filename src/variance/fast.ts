/**
 * The per-batch sums behind `jointVariances` without per-sample Jacobians (the fast path).
 *
 * Per input x and parameter θ_i the closed forms need I = J_iᵀ Cov J_i, I², V1 = E[(J_iᵀ(t−η))⁴] − I²
 * and V2 = H_iᵀ Cov H_i (see conditional.ts). For a dense layer z = a·Wᵀ + b every one of them
 * factors over the weight W_jk: J_i = a_k δ_j, where δ_j ∈ R^T is column j of ∂h/∂z (the T unit
 * output cotangents backpropagated to z), and H_i = a_k² E_j, where E_{a,j} = [∇²_z h_a]_jj. So
 *
 *   I = a_k² m2_j,   I² = a_k⁴ m2_j²,   V1 = a_k⁴ (m4_j − m2_j²),   V2 = a_k⁴ E_jᵀ Cov E_j
 *
 * with m2_j = δ_jᵀ Cov δ_j and m4_j = E[(δ_jᵀ(t−η))⁴], the projected moments once per (input,
 * unit); the sums over the inputs of a batch are then gemms of those with a² and a⁴
 * ([out, B]·[B, in]), the bias entries taking a = 1. The T columns (T − 1 for the categorical,
 * whose covariance has rank T − 1) share one stacked backward pass (explicit layer rules, one
 * gemm per layer), which also yields the cotangents at the curved activations that the Hessian
 * diagonals E are built from (for piecewise-linear networks E = 0 and none of that work is done).
 *
 * The moments are read straight from the stacked columns. Categorical: the columns are the
 * centred e_a − p (all but the most probable class), whose pullbacks are u_a − ū; independent
 * coordinates (Gaussian, Bernoulli, Poisson): the per-coordinate variance and fourth moment
 * weight the unit columns. Both evaluate the same expressions as the likelihoods'
 * projectedMoments; any other likelihood gets its directions gathered and projectedMoments called.
 *
 * Conv layers do not factor (a weight's Jacobian sums over positions): they take per-sample
 * Jacobians (one per column, C·B·size values per walk block) and Hessian diagonals, built from
 * the same D_m = φ''(u_m) ⊙ ∂h/∂φ(u_m). Pairs (layer, curved activation) whose Hessian diagonal
 * the layer rules do not give exactly (more than one mixing layer between, or a conv layer not
 * directly below the activation) are added by unit columns at the activation, as the Fisher
 * engine's Î₂ does.
 *
 * Products are in the model dtype and the per-batch results are added to float64 sums. In
 * float32, I², V1 and V2 per input and their sums within a batch are float32: Var_q I =
 * E I² − (E I)² is then good to about 1e-7 of E_q I² (relative to Var_q I the error grows with
 * E I² / Var I, as it does from the reference's float32 Jacobians), and contributions below
 * float32's range (about 1e-38, i.e. |I(θ_i|x)| ≲ 1e-19) are lost.
 */
import { getBackend } from '../core/backends/index.js';
import { Binary } from '../core/backend.js';
import type { FloatArray } from '../core/dtype.js';
import { BufferScope, allocTensorData } from '../core/pool.js';
import { Tensor } from '../core/tensor.js';
import type { Likelihood } from '../likelihoods/likelihood.js';
import { CategoricalLikelihood } from '../likelihoods/categorical.js';
import { IndependentCoordinates } from '../likelihoods/independent.js';
import { Activation, Dense } from '../nn/layers.js';
import type { Sequential } from '../nn/sequential.js';
import {
  capture, curvedActivations, paramLayers, unitOutputColumns, perSampleGrads, squaredInput, type Capture, type ParamLayerInfo,
} from '../fisher/engine.js';
import { activationDerivative, backpropStacked } from '../fisher/rules.js';
import { outputCurvature } from '../fisher/curvature.js';

/** Float64 running sums over inputs, one entry per parameter (the reference path keeps the same). */
export interface JointSums {
  /** Σ_x I(θ_i|x) */
  fim: Float64Array;
  /** Σ_x I(θ_i|x)² */
  fimSquared: Float64Array;
  /** Σ_x V1(θ_i|x) and Σ_x V2(θ_i|x), one label. */
  v1: Float64Array;
  v2: Float64Array;
}

export function newJointSums(P: number): JointSums {
  return { fim: new Float64Array(P), fimSquared: new Float64Array(P), v1: new Float64Array(P), v2: new Float64Array(P) };
}

/** Inputs per stacked walk: its C·B-row cotangents are the largest scratch arrays. */
const WALK_BLOCK = 256;

/**
 * One dense layer's weight sums over the batch, in the model dtype: Σ_b m2 a² [out, in] and
 * Σ_b (m2², max(0, m4 − m2²), EᵀCov E) a⁴ [parts·out, in], added to the float64 sums once per batch.
 */
interface DenseProducts {
  fim: FloatArray;
  quartic: FloatArray;
  parts: number;
}

/**
 * Adds one batch (`x`, [B, ...]) to the sums. The caller runs it inside a BufferScope (the
 * per-batch products come from it); the walks over blocks of `walkBlock` inputs take their
 * scratch from `blockScope`, recycled after each block so that a large batch touches little
 * fresh memory (fresh pages cost more than the arithmetic here).
 */
export function addJointSums(model: Sequential, lik: Likelihood, x: Tensor, sums: JointSums, blockScope = new BufferScope(), walkBlock = WALK_BLOCK): void {
  const B = x.shape[0]!;
  const prec = model.dtype;
  const curved = curvedActivations(model);
  const products = new Map<number, DenseProducts>();
  for (const info of paramLayers(model)) {
    if (!(info.layer instanceof Dense)) continue;
    const nw = info.layer.nout * info.layer.nin;
    // Every dense layer below a curved activation has a Hessian diagonal E (V2's third part).
    const parts = curved.some((m) => m > info.index) ? 3 : 2;
    products.set(info.index, { fim: allocTensorData(prec, nw), quartic: allocTensorData(prec, parts * nw), parts });
  }
  const per = x.size / B;
  for (let s = 0; s < B; s += walkBlock) {
    const n = Math.min(walkBlock, B - s);
    const block = new Tensor(x.data.subarray(s * per, (s + n) * per), [n, ...x.shape.slice(1)]);
    blockScope.run(() => addBlock(model, lik, block, curved, products, sums));
    blockScope.recycle();
  }
  for (const info of paramLayers(model)) {
    const prod = products.get(info.index);
    if (!prod) continue;
    const nw = prod.fim.length;
    const off = info.offset;
    for (let i = 0; i < nw; i++) sums.fim[off + i]! += prod.fim[i]!;
    const targets = [sums.fimSquared, sums.v1, sums.v2];
    for (let p = 0; p < prod.parts; p++) {
      const dst = targets[p]!;
      for (let i = 0; i < nw; i++) dst[off + i]! += prod.quartic[p * nw + i]!;
    }
  }
}

/** One block of inputs: the stacked walk, the curvature, the moments, the products. */
function addBlock(model: Sequential, lik: Likelihood, x: Tensor, curved: number[], products: Map<number, DenseProducts>, sums: JointSums): void {
  const cap = capture(model, x, { precision: model.dtype, record: false });
  const T = cap.h.shape[1]!;
  const h64 = Float64Array.from(cap.h.data);
  const at = cap.outs.length - 1;
  const moments = directionMoments(lik, h64, cap.batch, T, cap);
  // The lowest layer, when dense and followed by an activation, needs δ = φ'(z) ⊙ g only for its
  // moments, and φ'(z) is per unit: the walk stops at g and the moments scale by φ'² and φ'⁴
  // (saving a T-column pass and its scratch at the widest layer).
  const lowest = cap.layers[0]!;
  const fused = lowest.layer instanceof Dense && model.layers[lowest.index + 1] instanceof Activation ? lowest : null;
  // One walk gives the δ of every parametric layer and the cotangents at the curved activations.
  const keep = new Set([...cap.layers.map((l) => (l === fused ? l.index + 2 : l.index + 1)), ...curved.map((m) => m + 1)]);
  const C = moments.stacked;
  const cots = backpropStacked(cap, at, moments.columns, C, { keep, stop: Math.min(...keep) });
  // Piecewise-linear networks have H = 0: no second-derivative work at all.
  const curvature = curved.length > 0 ? outputCurvature(cap, cap.layers, null, C, { cots, convPerSample: true }) : null;
  for (const info of cap.layers) {
    if (info.layer instanceof Dense) {
      const delta = info === fused ? cots.get(info.index + 2)! : cots.get(info.index + 1)!;
      const scale = info === fused ? activationDerivative(cap, info.index + 1, 1) : null;
      addDenseLayer(cap, moments, info, delta, scale, curvature?.E.get(info.index) ?? null, products.get(info.index)!, sums);
    } else {
      addConvLayer(cap, moments, C, info, cots.get(info.index + 1)!, curvature?.H.get(info.index) ?? null, sums);
    }
  }
}

/**
 * The projected moments m2 = uᵀ Cov u and m4 = E[(uᵀ(t−η))⁴] of many directions u per input,
 * read straight from the stacked columns (row a·B + b holds coordinate a of every direction of
 * input b), without gathering them into per-input [count, T] arrays. Direction j's coordinates
 * sit at stride B·count: T strided reads per direction keep the sums in registers, four
 * directions per pass for instruction-level parallelism.
 */
interface DirectionMoments {
  /** Columns per input C (T, or T − 1 where the likelihood's covariance has rank T − 1). */
  stacked: number;
  /**
   * The C cotangent columns injected at the output ([C·B, T], rows r·B + b). The directions are
   * their pullbacks, stacked the same way.
   */
  columns: FloatArray;
  /**
   * For input b and the `count` directions in `src` [C·B, count], each scaled by
   * scale[sOff + j] when a scale is given: m2 into m2Out[m2Off + j], and m2² and max(0, m4 − m2²)
   * (≥ 0 exactly; rounding can leave a tiny negative, which is clamped) into quartic[qOff + j]
   * and quartic[qOff + count + j].
   */
  fourth(src: FloatArray, b: number, count: number, m2Out: FloatArray, m2Off: number, quartic: FloatArray, qOff: number, scale: FloatArray | null, sOff: number): void;
  /** m2 only, into out[off + j]. */
  second(src: FloatArray, b: number, count: number, out: FloatArray, off: number): void;
}

function directionMoments(lik: Likelihood, h64: Float64Array, B: number, T: number, cap: Capture): DirectionMoments {
  if (lik instanceof CategoricalLikelihood) return categoricalMoments(lik.meanStat(h64, B, T), B, T, cap);
  if (lik instanceof IndependentCoordinates) {
    // The per-coordinate variance v_a and fourth central moment k_a are the projected moments
    // of the unit directions.
    const identity = new Float64Array(T * T);
    for (let a = 0; a < T; a++) identity[a * T + a] = 1;
    const v = new Float64Array(B * T);
    const k = new Float64Array(B * T);
    for (let b = 0; b < B; b++) {
      const mom = lik.projectedMoments(h64.subarray(b * T, (b + 1) * T), T, identity, T);
      v.set(mom.second, b * T);
      k.set(mom.fourth, b * T);
    }
    return independentMoments(v, k, B, T, cap);
  }
  return gatheredMoments(lik, h64, B, T, cap);
}

/**
 * Per-direction m2 and m4 of one input land in float64 scratch first, then `finishFourth` writes
 * the operands; the kernels are plain functions of numbers and arrays (no per-call closures or
 * views: boxed temporaries would cost a young-generation collection every few inputs).
 */
class MomentScratch {
  m2 = new Float64Array(0);
  m4 = new Float64Array(0);
  fit(count: number): void {
    if (this.m2.length < count) {
      this.m2 = new Float64Array(count);
      this.m4 = new Float64Array(count);
    }
  }
}

function finishFourth(r2: Float64Array, r4: Float64Array, count: number, m2Out: FloatArray, m2Off: number, quartic: FloatArray, qOff: number, scale: FloatArray | null, sOff: number): void {
  for (let j = 0; j < count; j++) {
    let s2 = r2[j]!;
    let s4 = r4[j]!;
    if (scale) {
      const c2 = scale[sOff + j]! * scale[sOff + j]!;
      s2 *= c2;
      s4 *= c2 * c2;
    }
    m2Out[m2Off + j] = s2;
    quartic[qOff + j] = s2 * s2;
    quartic[qOff + count + j] = Math.max(0, s4 - s2 * s2);
  }
}

/**
 * Σ_a w_a d_a² and Σ_a w_a d_a⁴ over the T coordinates d_a = src[base + j + a·stride] of each
 * direction j, with weights w = weights[wOff + a]; four directions per pass.
 */
function weightedPowers(src: FloatArray, base: number, stride: number, count: number, T: number, weights: Float64Array, wOff: number, r2: Float64Array, r4: Float64Array | null): void {
  let j = 0;
  for (; j + 3 < count; j += 4) {
    let s2 = 0, s4 = 0, t2 = 0, t4 = 0, u2 = 0, u4 = 0, v2 = 0, v4 = 0;
    for (let a = 0, o = base + j; a < T; a++, o += stride) {
      const w = weights[wOff + a]!;
      const d = src[o]! * src[o]!, e = src[o + 1]! * src[o + 1]!, f = src[o + 2]! * src[o + 2]!, g = src[o + 3]! * src[o + 3]!;
      const pd = w * d, pe = w * e, pf = w * f, pg = w * g;
      s2 += pd; s4 += pd * d; t2 += pe; t4 += pe * e; u2 += pf; u4 += pf * f; v2 += pg; v4 += pg * g;
    }
    r2[j] = s2; r2[j + 1] = t2; r2[j + 2] = u2; r2[j + 3] = v2;
    if (r4) { r4[j] = s4; r4[j + 1] = t4; r4[j + 2] = u4; r4[j + 3] = v4; }
  }
  for (; j < count; j++) {
    let s2 = 0, s4 = 0;
    for (let a = 0, o = base + j; a < T; a++, o += stride) { const d = src[o]! * src[o]!; const pd = weights[wOff + a]! * d; s2 += pd; s4 += pd * d; }
    r2[j] = s2;
    if (r4) r4[j] = s4;
  }
}

/**
 * Categorical: uᵀ(t − η) = u_y − ū with y ~ p, ū = Σ p_a u_a. The centred columns e_a − p pull back
 * to d_a = u_a − ū directly, and m2 = Σ p_a d_a², m4 = Σ p_a d_a⁴ (as projectedMoments). They
 * satisfy Σ p_a (e_a − p) = 0, so one of them is redundant: per input the class of largest
 * probability a* is left out (C = T − 1 columns, slot r holding class σ(r)) and its pullback
 * restored as d_a* = −Σ_r (p_σ(r) / p_a*) d_σ(r), well conditioned since p_a* ≥ 1/T.
 */
function categoricalMoments(p: Float64Array, B: number, T: number, cap: Capture): DirectionMoments {
  const C = T - 1;
  const columns = allocTensorData(cap.precision, C * B * T);
  // Per input and slot: the class probability and its ratio to p_a*; per input p_a*.
  const weight = new Float64Array(B * C);
  const ratio = new Float64Array(B * C);
  const top = new Float64Array(B);
  for (let b = 0; b < B; b++) {
    let star = 0;
    for (let c = 1; c < T; c++) if (p[b * T + c]! > p[b * T + star]!) star = c;
    const ps = p[b * T + star]!;
    top[b] = ps;
    for (let r = 0; r < C; r++) {
      const cls = r < star ? r : r + 1;
      weight[b * C + r] = p[b * T + cls]!;
      ratio[b * C + r] = p[b * T + cls]! / ps;
      const o = (r * B + b) * T;
      for (let c = 0; c < T; c++) columns[o + c] = (c === cls ? 1 : 0) - p[b * T + c]!;
    }
  }
  const scratch = new MomentScratch();
  return {
    stacked: C,
    columns,
    fourth(src, b, count, m2Out, m2Off, quartic, qOff, scale, sOff) {
      scratch.fit(count);
      categoricalPowers(src, b * count, B * count, count, C, weight, ratio, b * C, top[b]!, scratch.m2, scratch.m4);
      finishFourth(scratch.m2, scratch.m4, count, m2Out, m2Off, quartic, qOff, scale, sOff);
    },
    second(src, b, count, out, off) {
      scratch.fit(count);
      categoricalPowers(src, b * count, B * count, count, C, weight, ratio, b * C, top[b]!, scratch.m2, null);
      for (let j = 0; j < count; j++) out[off + j] = scratch.m2[j]!;
    },
  };
}

/**
 * m2 = Σ_r w_r d_r² + p* d*² and m4 = Σ_r w_r d_r⁴ + p* d*⁴ with d* = −Σ_r ρ_r d_r over the C
 * slots d_r = src[base + j + r·stride] of each direction j (w = weight, ρ = ratio at wOff + r);
 * four directions per pass.
 */
function categoricalPowers(
  src: FloatArray, base: number, stride: number, count: number, C: number, weight: Float64Array, ratio: Float64Array, wOff: number, top: number,
  r2: Float64Array, r4: Float64Array | null,
): void {
  let j = 0;
  for (; j + 3 < count; j += 4) {
    let s1 = 0, s2 = 0, s4 = 0, t1 = 0, t2 = 0, t4 = 0, u1 = 0, u2 = 0, u4 = 0, v1 = 0, v2 = 0, v4 = 0;
    for (let r = 0, o = base + j; r < C; r++, o += stride) {
      const w = weight[wOff + r]!;
      const q = ratio[wOff + r]!;
      const d = src[o]!, e = src[o + 1]!, f = src[o + 2]!, g = src[o + 3]!;
      s1 += q * d; t1 += q * e; u1 += q * f; v1 += q * g;
      const d2 = d * d, e2 = e * e, f2 = f * f, g2 = g * g;
      const pd = w * d2, pe = w * e2, pf = w * f2, pg = w * g2;
      s2 += pd; s4 += pd * d2; t2 += pe; t4 += pe * e2; u2 += pf; u4 += pf * f2; v2 += pg; v4 += pg * g2;
    }
    const a2 = s1 * s1, b2 = t1 * t1, c2 = u1 * u1, e2 = v1 * v1;
    r2[j] = s2 + top * a2; r2[j + 1] = t2 + top * b2; r2[j + 2] = u2 + top * c2; r2[j + 3] = v2 + top * e2;
    if (r4) { r4[j] = s4 + top * a2 * a2; r4[j + 1] = t4 + top * b2 * b2; r4[j + 2] = u4 + top * c2 * c2; r4[j + 3] = v4 + top * e2 * e2; }
  }
  for (; j < count; j++) {
    let s1 = 0, s2 = 0, s4 = 0;
    for (let r = 0, o = base + j; r < C; r++, o += stride) {
      const d = src[o]!;
      s1 += ratio[wOff + r]! * d;
      const d2 = d * d;
      const pd = weight[wOff + r]! * d2;
      s2 += pd;
      s4 += pd * d2;
    }
    const a2 = s1 * s1;
    r2[j] = s2 + top * a2;
    if (r4) r4[j] = s4 + top * a2 * a2;
  }
}

/**
 * Independent coordinates (Gaussian, Bernoulli, Poisson) with variances v_a and fourth central
 * moments k_a: m2 = Σ w_a with w_a = v_a u_a², and m4 = Σ k_a u_a⁴ + 3 max(0, (Σ w)² − Σ w²), the
 * expression projectedMoments evaluates.
 */
function independentFourth(src: FloatArray, base: number, stride: number, count: number, T: number, v: Float64Array, k: Float64Array, wOff: number, r2: Float64Array, r4: Float64Array): void {
  let j = 0;
  for (; j + 1 < count; j += 2) {
    let w1 = 0, q1 = 0, d1 = 0, w2 = 0, q2 = 0, d2 = 0;
    for (let a = 0, o = base + j; a < T; a++, o += stride) {
      const va = v[wOff + a]!, ka = k[wOff + a]!;
      const x = src[o]! * src[o]!, y = src[o + 1]! * src[o + 1]!;
      const wx = x * va, wy = y * va;
      w1 += wx; q1 += wx * wx; d1 += x * x * ka;
      w2 += wy; q2 += wy * wy; d2 += y * y * ka;
    }
    r2[j] = w1; r4[j] = d1 + 3 * Math.max(0, w1 * w1 - q1);
    r2[j + 1] = w2; r4[j + 1] = d2 + 3 * Math.max(0, w2 * w2 - q2);
  }
  for (; j < count; j++) {
    let w1 = 0, q1 = 0, d1 = 0;
    for (let a = 0, o = base + j; a < T; a++, o += stride) { const x = src[o]! * src[o]!; const wx = x * v[wOff + a]!; w1 += wx; q1 += wx * wx; d1 += x * x * k[wOff + a]!; }
    r2[j] = w1; r4[j] = d1 + 3 * Math.max(0, w1 * w1 - q1);
  }
}

function independentMoments(v: Float64Array, k: Float64Array, B: number, T: number, cap: Capture): DirectionMoments {
  const scratch = new MomentScratch();
  return {
    stacked: T,
    columns: unitOutputColumns(cap, T),
    fourth(src, b, count, m2Out, m2Off, quartic, qOff, scale, sOff) {
      scratch.fit(count);
      independentFourth(src, b * count, B * count, count, T, v, k, b * T, scratch.m2, scratch.m4);
      finishFourth(scratch.m2, scratch.m4, count, m2Out, m2Off, quartic, qOff, scale, sOff);
    },
    second(src, b, count, out, off) {
      // m2 = Σ v_a u_a²: the weighted squares with the variances as weights.
      scratch.fit(count);
      weightedPowers(src, b * count, B * count, count, T, v, b * T, scratch.m2, null);
      for (let j = 0; j < count; j++) out[off + j] = scratch.m2[j]!;
    },
  };
}

/** Any other likelihood: each input's directions gathered as [count, T] and projectedMoments asked. */
function gatheredMoments(lik: Likelihood, h64: Float64Array, B: number, T: number, cap: Capture): DirectionMoments {
  let dirs = new Float64Array(0);
  const ask = (src: FloatArray, b: number, count: number) => {
    if (dirs.length < count * T) dirs = new Float64Array(count * T);
    for (let a = 0; a < T; a++) {
      const o = (a * B + b) * count;
      for (let j = 0; j < count; j++) dirs[j * T + a] = src[o + j]!;
    }
    return lik.projectedMoments(h64.subarray(b * T, (b + 1) * T), T, dirs.subarray(0, count * T), count);
  };
  return {
    stacked: T,
    columns: unitOutputColumns(cap, T),
    fourth(src, b, count, m2Out, m2Off, quartic, qOff, scale, sOff) {
      const mom = ask(src, b, count);
      finishFourth(mom.second, mom.fourth, count, m2Out, m2Off, quartic, qOff, scale, sOff);
    },
    second(src, b, count, out, off) {
      const m = ask(src, b, count).second;
      for (let j = 0; j < count; j++) out[off + j] = m[j]!;
    },
  };
}

/**
 * A dense layer: per (input, unit) the projected moments of δ_j (the columns of `delta` scaled
 * per unit by `scale` when given) and E_j, then one gemm with a² for the FIM and one with a⁴ for
 * I², V1 and V2 stacked.
 */
function addDenseLayer(
  cap: Capture, moments: DirectionMoments, info: ParamLayerInfo, delta: FloatArray, scale: FloatArray | null, E: FloatArray | null, prod: DenseProducts, sums: JointSums,
): void {
  const B = cap.batch;
  const layer = info.layer as Dense;
  const out = layer.nout;
  const inW = layer.nin;
  const prec = cap.precision;
  // Per input: m2 [B, out]; quartic [B, parts·out] holds m2², max(0, m4 − m2²) and, with E, EᵀCov E.
  const parts = prod.parts;
  // An internal invariant (the plan in addJointSums and unitCurvature agree), not a user error.
  if ((parts === 3) !== (E !== null)) throw new Error(`dense layer ${info.index}: Hessian diagonal ${E ? 'present' : 'missing'} against the plan`);
  const width = parts * out;
  const m2 = allocTensorData(prec, B * out);
  const quartic = allocTensorData(prec, B * width);
  for (let b = 0; b < B; b++) {
    moments.fourth(delta, b, out, m2, b * out, quartic, b * width, scale, b * out);
    if (E) moments.second(E, b, out, quartic, b * width + 2 * out);
  }
  const a2 = squaredInput(cap, info);
  const be = getBackend();
  const a4 = allocTensorData(prec, a2.length);
  be.binary(Binary.mul, a2, a2, a4);
  be.gemm(true, false, out, inW, B, 1, m2, 0, out, a2, 0, inW, 1, prod.fim, 0, inW);
  be.gemm(true, false, width, inW, B, 1, quartic, 0, width, a4, 0, inW, 1, prod.quartic, 0, inW);
  if (layer.bias === null) return;
  // The bias entries (a = 1) go straight into the float64 sums.
  const off = info.offset;
  const nw = out * inW;
  const targets = [sums.fimSquared, sums.v1, sums.v2];
  for (let b = 0; b < B; b++) {
    for (let j = 0; j < out; j++) {
      sums.fim[off + nw + j]! += m2[b * out + j]!;
      for (let p = 0; p < parts; p++) targets[p]![off + nw + j]! += quartic[b * width + p * out + j]!;
    }
  }
}

/** A conv layer: per-sample Jacobians (C columns) and Hessian diagonals, moments per parameter. */
function addConvLayer(cap: Capture, moments: DirectionMoments, C: number, info: ParamLayerInfo, delta: FloatArray, H: FloatArray | null, sums: JointSums): void {
  const B = cap.batch;
  const size = info.size;
  const n = delta.length / C;
  const J = allocTensorData(cap.precision, C * B * size);
  for (let a = 0; a < C; a++) J.set(perSampleGrads(cap, info, delta.subarray(a * n, (a + 1) * n)), a * B * size);
  // Per input: m2, then m2² and max(0, m4 − m2²), and H's second moment, straight into the float64 sums.
  const m2 = new Float64Array(size);
  const quartic = new Float64Array(2 * size);
  const v2 = new Float64Array(size);
  const off = info.offset;
  for (let b = 0; b < B; b++) {
    moments.fourth(J, b, size, m2, 0, quartic, 0, null, 0);
    for (let i = 0; i < size; i++) {
      sums.fim[off + i]! += m2[i]!;
      sums.fimSquared[off + i]! += quartic[i]!;
      sums.v1[off + i]! += quartic[size + i]!;
    }
    if (H) {
      moments.second(H, b, size, v2, 0);
      for (let i = 0; i < size; i++) sums.v2[off + i]! += v2[i]!;
    }
  }
}
