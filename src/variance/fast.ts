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
 * The moments are read straight from the stacked columns by the backend's stackedMoments kernel
 * (one call per layer and walk block, all inputs and units at once). Categorical: the columns are the
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
import { dtypeOfArray, type FloatArray } from '../core/dtype.js';
import { writeMoments } from '../core/backends/ts.js';
import { BufferScope, allocScratch } from '../core/pool.js';
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
  /** Whether a block has written them yet: the first one's gemms overwrite (no zeroing needed). */
  started: boolean;
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
    products.set(info.index, { fim: allocScratch(prec, nw), quartic: allocScratch(prec, parts * nw), parts, started: false });
  }
  const per = x.size / B;
  for (let s = 0; s < B; s += walkBlock) {
    const n = Math.min(walkBlock, B - s);
    const block = new Tensor(x.data.subarray(s * per, (s + n) * per), [n, ...x.shape.slice(1)]);
    blockScope.run(() => addBlock(model, lik, block, curved, products, sums));
    blockScope.recycle();
  }
  const be = getBackend();
  const targets = [sums.fimSquared, sums.v1, sums.v2];
  for (const info of paramLayers(model)) {
    const prod = products.get(info.index);
    if (!prod) continue;
    const nw = prod.fim.length;
    be.accumulate(prod.fim, sums.fim, info.offset);
    for (let p = 0; p < prod.parts; p++) be.accumulate(prod.quartic.subarray(p * nw, (p + 1) * nw), targets[p]!, info.offset);
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
 * input b) by the backend's `stackedMoments` kernel, without gathering them into per-input
 * [count, T] arrays.
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
   * For the `count` directions per input in `src` [C·B, count], each scaled by scale[b·count + j]
   * when a scale is given, row b of `out` (row stride ld, from off) receives m2 at column j and,
   * when `fourth`, m2² at count + j and max(0, m4 − m2²) at 2·count + j (the layout of the
   * backend's stackedMoments).
   */
  write(src: FloatArray, count: number, scale: FloatArray | null, fourth: boolean, out: FloatArray, off: number, ld: number): void;
}

function directionMoments(lik: Likelihood, h64: Float64Array, B: number, T: number, cap: Capture): DirectionMoments {
  if (lik instanceof CategoricalLikelihood) return categoricalMoments(lik.meanStat(h64, B, T), B, T, cap);
  if (lik instanceof IndependentCoordinates) return independentMoments(lik, h64, B, T, cap);
  return gatheredMoments(lik, h64, B, T, cap);
}

/** Per input, the slot weights w, q, ρ and γ of stackedMoments: [B, 3·slots + 1]. */
function momentCoefficients(B: number, slots: number): Float64Array {
  return new Float64Array(B * (3 * slots + 1));
}

/**
 * Categorical: uᵀ(t − η) = u_y − ū with y ~ p, ū = Σ p_a u_a. The centred columns e_a − p pull back
 * to d_a = u_a − ū directly, and m2 = Σ p_a d_a², m4 = Σ p_a d_a⁴ (as projectedMoments). They
 * satisfy Σ p_a (e_a − p) = 0, so one of them is redundant: per input the class of largest
 * probability a* is left out (C = T − 1 columns, slot r holding class σ(r)) and its pullback
 * restored as d_a* = −Σ_r (p_σ(r) / p_a*) d_σ(r), well conditioned since p_a* ≥ 1/T. In
 * stackedMoments' terms: w_r = q_r = p_σ(r), ρ_r = p_σ(r) / p_a*, γ = p_a* and κ = 0.
 */
function categoricalMoments(p: Float64Array, B: number, T: number, cap: Capture): DirectionMoments {
  const C = T - 1;
  const columns = allocScratch(cap.precision, C * B * T); // every entry is written below
  const coef = momentCoefficients(B, C);
  const stride = 3 * C + 1;
  for (let b = 0; b < B; b++) {
    let star = 0;
    for (let c = 1; c < T; c++) if (p[b * T + c]! > p[b * T + star]!) star = c;
    const ps = p[b * T + star]!;
    const cb = b * stride;
    coef[cb + 3 * C] = ps;
    for (let r = 0; r < C; r++) {
      const cls = r < star ? r : r + 1;
      coef[cb + r] = p[b * T + cls]!;
      coef[cb + C + r] = p[b * T + cls]!;
      coef[cb + 2 * C + r] = p[b * T + cls]! / ps;
      const o = (r * B + b) * T;
      for (let c = 0; c < T; c++) columns[o + c] = (c === cls ? 1 : 0) - p[b * T + c]!;
    }
  }
  return {
    stacked: C,
    columns,
    write(src, count, scale, fourth, out, off, ld) {
      getBackend().stackedMoments(src, B, C, count, coef, 0, scale, fourth, out, off, ld);
    },
  };
}

/**
 * Independent coordinates (Gaussian, Bernoulli, Poisson) with variances v_a and fourth central
 * moments k_a of the unit directions: m2 = Σ w_a with w_a = v_a u_a², and
 * m4 = Σ k_a u_a⁴ + 3 max(0, (Σ w)² − Σ w²), the expression projectedMoments evaluates. In
 * stackedMoments' terms: w_a = v_a, q_a = k_a, ρ = γ = 0 and κ = 3.
 */
function independentMoments(lik: IndependentCoordinates, h64: Float64Array, B: number, T: number, cap: Capture): DirectionMoments {
  const identity = new Float64Array(T * T);
  for (let a = 0; a < T; a++) identity[a * T + a] = 1;
  const coef = momentCoefficients(B, T);
  const stride = 3 * T + 1;
  for (let b = 0; b < B; b++) {
    const mom = lik.projectedMoments(h64.subarray(b * T, (b + 1) * T), T, identity, T);
    coef.set(mom.second, b * stride);
    coef.set(mom.fourth, b * stride + T);
  }
  return {
    stacked: T,
    columns: unitOutputColumns(cap, T),
    write(src, count, scale, fourth, out, off, ld) {
      getBackend().stackedMoments(src, B, T, count, coef, 3, scale, fourth, out, off, ld);
    },
  };
}

/** Any other likelihood: each input's directions gathered as [count, T] and projectedMoments asked. */
function gatheredMoments(lik: Likelihood, h64: Float64Array, B: number, T: number, cap: Capture): DirectionMoments {
  let dirs = new Float64Array(0);
  return {
    stacked: T,
    columns: unitOutputColumns(cap, T),
    write(src, count, scale, fourth, out, off, ld) {
      if (dirs.length < count * T) dirs = new Float64Array(count * T);
      for (let b = 0; b < B; b++) {
        for (let a = 0; a < T; a++) {
          const o = (a * B + b) * count;
          for (let j = 0; j < count; j++) dirs[j * T + a] = src[o + j]!;
        }
        const mom = lik.projectedMoments(h64.subarray(b * T, (b + 1) * T), T, dirs.subarray(0, count * T), count);
        const o = off + b * ld;
        for (let j = 0; j < count; j++) {
          writeMoments(out, o, count, j, mom.second[j]!, mom.fourth[j]!, scale ? scale[b * count + j]! * scale[b * count + j]! : 1, fourth);
        }
      }
    },
  };
}

/**
 * A dense layer: per (input, unit) the projected moments of δ_j (the columns of `delta` scaled
 * per unit by `scale` when given) and E_j, then one gemm with a² for the FIM and one with a⁴ for
 * I², V1 and V2 stacked; the bias entries (a = 1) are their column sums.
 */
function addDenseLayer(
  cap: Capture, moments: DirectionMoments, info: ParamLayerInfo, delta: FloatArray, scale: FloatArray | null, E: FloatArray | null, prod: DenseProducts, sums: JointSums,
): void {
  const B = cap.batch;
  const layer = info.layer as Dense;
  const out = layer.nout;
  const inW = layer.nin;
  const prec = cap.precision;
  const parts = prod.parts;
  // An internal invariant (the plan in addJointSums and unitCurvature agree), not a user error.
  if ((parts === 3) !== (E !== null)) throw new Error(`dense layer ${info.index}: Hessian diagonal ${E ? 'present' : 'missing'} against the plan`);
  // Per input one row [m2 | m2² | max(0, m4 − m2²) | EᵀCov E (with E)]: the FIM gemm reads the
  // first block, the quartic gemm the others.
  const width = (1 + parts) * out;
  // Every column is written below (m2, m2², V1 part, and the E part when parts = 3): no zeroing.
  const moms = allocScratch(prec, B * width);
  moments.write(delta, out, scale, true, moms, 0, width);
  if (E) moments.write(E, out, null, false, moms, 3 * out, width);
  const a2 = squaredInput(cap, info);
  const be = getBackend();
  const a4 = allocScratch(prec, a2.length);
  be.binary(Binary.mul, a2, a2, a4);
  const beta = prod.started ? 1 : 0;
  prod.started = true;
  be.gemm(true, false, out, inW, B, 1, moms, 0, width, a2, 0, inW, beta, prod.fim, 0, inW);
  be.gemm(true, false, parts * out, inW, B, 1, moms, out, width, a4, 0, inW, beta, prod.quartic, 0, inW);
  if (layer.bias !== null) addColumnSums(moms, B, out, 1 + parts, sums, info.offset + out * inW);
}

/**
 * The column sums of per-input moment rows [B, parts·count] (blocks m2, m2², V1-part, V2-part in
 * that order) added to the float64 sums of `count` parameters from `off`.
 */
function addColumnSums(moms: FloatArray, B: number, count: number, parts: number, sums: JointSums, off: number): void {
  const be = getBackend();
  const col = allocScratch(dtypeOfArray(moms), parts * count);
  be.sumRows(moms, B, parts * count, 0, col);
  const targets = [sums.fim, sums.fimSquared, sums.v1, sums.v2];
  for (let p = 0; p < parts; p++) be.accumulate(col.subarray(p * count, (p + 1) * count), targets[p]!, off);
}

/** A conv layer: per-sample Jacobians (C columns) and Hessian diagonals, moments per parameter. */
function addConvLayer(cap: Capture, moments: DirectionMoments, C: number, info: ParamLayerInfo, delta: FloatArray, H: FloatArray | null, sums: JointSums): void {
  const B = cap.batch;
  const size = info.size;
  const n = delta.length / C;
  const J = allocScratch(cap.precision, C * B * size); // every column block is set below
  for (let a = 0; a < C; a++) J.set(perSampleGrads(cap, info, delta.subarray(a * n, (a + 1) * n)), a * B * size);
  // Per input [m2 | m2² | max(0, m4 − m2²) | HᵀCov H (with H)], summed over the inputs.
  const parts = H ? 4 : 3;
  const width = parts * size;
  const moms = allocScratch(cap.precision, B * width);
  moments.write(J, size, null, true, moms, 0, width);
  if (H) moments.write(H, size, null, false, moms, 3 * size, width);
  addColumnSums(moms, B, size, parts, sums, info.offset);
}
