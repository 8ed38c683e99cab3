/**
 * Closed-form variances of the diagonal FIM estimators, per parameter
 * ("Trade-Offs of Diagonal Fisher Information Matrix Estimators", Lemma 3.1 and Theorem 4.7):
 *
 *   I(θ_i|x)  = J_iᵀ Cov(t|x) J_i                                   J_i = ∂h/∂θ_i ∈ R^T
 *   V1(θ_i|x) = (1/N) (E[(J_iᵀ(t−η))⁴] − I(θ_i|x)²)                  the quartic form of K − I⊗I
 *   V2(θ_i|x) = (1/N) H_iᵀ Cov(t|x) H_i                              H_i = ∂²h/∂θ_i² ∈ R^T
 *
 * for N labels drawn at one input x, and jointly over N_x inputs drawn from q with N labels each
 * (law of total variance):
 *
 *   V_j(θ_i) = (1/N_x) (Var_q I(θ_i|x) + E_q V_j(θ_i|x))
 *
 * Here q is the empirical distribution of the inputs given: Var_q and E_q are population
 * moments over them. Everything streams over the inputs with O(P) state; the reference path
 * materialises one batch's Jacobians and Hessian diagonals (T·P per input), the fast path
 * (fast.ts) only per-unit quantities (T per unit and input) except for conv layers.
 */
import { fail } from '../core/errors.js';
import { checkArgument, checkOptions, type OptionSchema } from '../core/options.js';
import { FISHER_PATHS } from '../fisher/accumulate.js';
import { checkDatasetArg, checkInputsFitDType } from '../data/dataset.js';
import { checkLikelihoodArg } from '../likelihoods/index.js';
import { checkModelArg } from '../nn/sequential.js';
import { Tensor, sizeOf } from '../core/tensor.js';
import { batchOf, type Dataset } from '../data/dataset.js';
import type { Likelihood } from '../likelihoods/likelihood.js';
import { checkLikelihoodFits } from '../likelihoods/index.js';
import type { Sequential } from '../nn/sequential.js';
import { perSampleJacobians, perSampleOutputHessianDiag } from '../fisher/persample.js';
import type { FisherPath } from '../fisher/accumulate.js';
import { withPersistentScope } from '../core/pool.js';
import { explicitRulesCover } from '../fisher/rules.js';
import { addJointSums, newJointSums, type JointSums } from './fast.js';
import { shardRange, type ShardSpec } from '../fisher/shard-range.js';

export interface InputVariance {
  /** I(θ_i|x) */
  fim: Float64Array;
  /** V1(θ_i|x) for one label (divide by N for N labels). */
  v1: Float64Array;
  /** V2(θ_i|x) for one label. */
  v2: Float64Array;
  /** ‖J_i‖² and ‖H_i‖², which the bounds need. */
  jNorm2: Float64Array;
  hNorm2: Float64Array;
  /** The network output at x. */
  h: Float64Array;
  /** J [T, P] and H [T, P] at x (row a, column i). */
  J: Float64Array;
  H: Float64Array;
}

/** Closed forms at each input of `x` ([B, ...]), per single label. */
/** `path` selects the per-sample Jacobian/Hessian route ('reference': autodiff per column, the oracle). */
export function inputVariances(model: Sequential, lik: Likelihood, x: Tensor, path: FisherPath = 'fast'): InputVariance[] {
  checkModelArg('inputVariances', model);
  checkLikelihoodArg('inputVariances', lik);
  if (!(x instanceof Tensor)) fail('INVALID_ARGUMENT', `inputVariances: x must be a Tensor of inputs [B, ...inputShape], got ${x === null ? 'null' : typeof x}`);
  checkArgument('inputVariances', 'path', path, { kind: 'enum', values: FISHER_PATHS });
  if (x.shape.length < 2 || sizeOf(x.shape.slice(1)) !== sizeOf(model.inputShape)) fail('SHAPE', `inputVariances: x has shape [${x.shape.join(', ')}]; expected [B, ${model.inputShape.join(', ')}]`);
  const B = x.shape[0]!;
  const h = Float64Array.from(model.forward(x).data);
  const T = h.length / B;
  const Jall = perSampleJacobians(model, x, path);
  const Hall = perSampleOutputHessianDiag(model, x, path);
  const P = Jall.length / (B * T);
  const out: InputVariance[] = [];
  for (let b = 0; b < B; b++) {
    const hRow = h.subarray(b * T, (b + 1) * T);
    const J = Jall.subarray(b * T * P, (b + 1) * T * P);
    const H = Hall.subarray(b * T * P, (b + 1) * T * P);
    // Directions as [P, T] rows for the likelihood's batched moments.
    const dirJ = new Float64Array(P * T);
    const dirH = new Float64Array(P * T);
    for (let a = 0; a < T; a++) for (let i = 0; i < P; i++) { dirJ[i * T + a] = J[a * P + i]!; dirH[i * T + a] = H[a * P + i]!; }
    const mJ = lik.projectedMoments(hRow, T, dirJ, P);
    const mH = lik.projectedMoments(hRow, T, dirH, P);
    const fim = mJ.second;
    const v1 = new Float64Array(P);
    const jNorm2 = new Float64Array(P);
    const hNorm2 = new Float64Array(P);
    for (let i = 0; i < P; i++) {
      // E[s⁴] − (E[s²])² ≥ 0 exactly; rounding can leave a tiny negative, which is clamped.
      v1[i] = Math.max(0, mJ.fourth[i]! - fim[i]! * fim[i]!);
      let sj = 0, sh = 0;
      for (let a = 0; a < T; a++) { sj += dirJ[i * T + a]! ** 2; sh += dirH[i * T + a]! ** 2; }
      jNorm2[i] = sj;
      hNorm2[i] = sh;
    }
    out.push({ fim: Float64Array.from(fim), v1, v2: Float64Array.from(mH.second), jNorm2, hNorm2, h: Float64Array.from(hRow), J: Float64Array.from(J), H: Float64Array.from(H) });
  }
  return out;
}

export interface VarianceOptions {
  /** Labels per input N (default 1). */
  labelsPerInput?: number;
  /** Inputs per estimate N_x for the joint variance (default: the number of inputs given). */
  inputsPerEstimate?: number;
  /** Use only the first inputs (default all). */
  maxInputs?: number;
  /** Inputs per batch (default 1024 on the fast path, 32 on the reference path). */
  batchSize?: number;
  onProgress?: (done: number, total: number) => void;
  /**
   * Which estimate v1/v2 are the variance of. 'sampled' (default): an estimate over N_x inputs
   * drawn from the data (q, their empirical distribution) with replacement, N labels each,
   * (Var_q I + E_q V/N)/N_x, the law of total variance. 'fixed': `computeFisher` in joint mode
   * over these very inputs, only the labels random, E_q V/(N·N_x) with N_x the inputs used
   * (inputsPerEstimate must then be absent or equal to it).
   */
  inputs?: 'sampled' | 'fixed';
  /**
   * 'fast' (default): the sums over inputs as gemms of per-(input, unit) projected moments
   * (src/variance/fast.ts), products in the model dtype; models with a layer the explicit rules
   * do not cover take the reference. 'reference': per-input Jacobians J and Hessian diagonals H
   * (inputVariances), float64 moments; the oracle the fast path is tested against.
   */
  path?: FisherPath;
}

/** The rules VarianceOptions are checked against. */
export const VARIANCE_OPTION_SCHEMA: OptionSchema = {
  labelsPerInput: { kind: 'int', min: 1 },
  inputsPerEstimate: { kind: 'int', min: 1 },
  maxInputs: { kind: 'int', min: 1 },
  batchSize: { kind: 'int', min: 1 },
  onProgress: { kind: 'function' },
  path: { kind: 'enum', values: FISHER_PATHS },
  inputs: { kind: 'enum', values: ['sampled', 'fixed'] },
};

export interface JointVariance {
  /** Parameters, inputs averaged over, N and N_x. */
  P: number;
  inputs: number;
  labelsPerInput: number;
  inputsPerEstimate: number;
  /** E_q I(θ_i|x): the FIM diagonal over the inputs. */
  fim: Float64Array;
  /** Var_q I(θ_i|x) (population variance over the inputs). */
  fimVarOverInputs: Float64Array;
  /** E_q V_j(θ_i|x) for N labels. */
  meanV1: Float64Array;
  meanV2: Float64Array;
  /** Which convention v1/v2 follow (VarianceOptions.inputs). */
  convention: 'sampled' | 'fixed';
  /** V_j(θ_i) = (Var_q I + E_q V_j(·|x)) / N_x ('sampled'), or E_q V_j(·|x) / N_x ('fixed'). */
  v1: Float64Array;
  v2: Float64Array;
}

/** Joint variances over the inputs of `data` (q = their empirical distribution). */
export function jointVariances(model: Sequential, lik: Likelihood, data: Dataset, opts: VarianceOptions = {}): JointVariance {
  checkModelArg('jointVariances', model);
  checkLikelihoodArg('jointVariances', lik);
  checkDatasetArg('jointVariances', data);
  checkOptions('jointVariances', opts, VARIANCE_OPTION_SCHEMA);
  const r = jointVarianceSums(model, lik, data, opts);
  return finishJointVariances(r.sums, r.total, r.labelsPerInput, r.inputsPerEstimate, r.fixed);
}

/** The float64 sums behind jointVariances over all inputs, or over shard `shard` of them (shard.ts). */
export interface JointVarianceSums {
  sums: JointSums;
  /** Inputs summed (the shard's), and inputs of the whole estimate. */
  inputs: number;
  total: number;
  labelsPerInput: number;
  inputsPerEstimate: number;
  batchSize: number;
  fast: boolean;
  /** The inputs are the estimate's fixed inputs (opts.inputs 'fixed'), not drawn from q. */
  fixed: boolean;
}

export function jointVarianceSums(model: Sequential, lik: Likelihood, data: Dataset, opts: VarianceOptions = {}, shard?: ShardSpec): JointVarianceSums {
  const N = opts.labelsPerInput ?? 1;
  if (!Number.isInteger(N) || N < 1) fail('INVALID_ARGUMENT', `labels per input must be a positive integer, got ${N}`);
  const total = Math.min(data.length, opts.maxInputs ?? data.length);
  if (total === 0) fail('SHAPE', 'the data has no samples');
  const fixed = opts.inputs === 'fixed';
  if (fixed && opts.inputsPerEstimate !== undefined && opts.inputsPerEstimate !== total) {
    fail('INVALID_ARGUMENT', `jointVariances: with inputs 'fixed' the estimate uses the ${total} inputs given; inputsPerEstimate ${opts.inputsPerEstimate} does not apply`);
  }
  const Nx = opts.inputsPerEstimate ?? total;
  if (!Number.isInteger(Nx) || Nx < 1) fail('INVALID_ARGUMENT', `inputs per estimate must be a positive integer, got ${Nx}`);
  const D = sizeOf(model.inputShape);
  if (sizeOf(data.inputShape) !== D) fail('SHAPE', `the data has ${sizeOf(data.inputShape)} features per sample but the model expects ${D}`);
  checkLikelihoodFits(lik, model.outputDim, data);
  checkInputsFitDType(data, model.dtype);
  const P = model.numParams();
  const sums = newJointSums(P);
  const fast = (opts.path ?? 'fast') === 'fast' && explicitRulesCover(model.layers);
  const Bsz = opts.batchSize ?? (fast ? 1024 : 32);
  // A shard is a batch-aligned run of the inputs, so its batches are the single run's.
  const range = shard ? shardRange(total, Bsz, shard) : { start: 0, end: total };
  withPersistentScope('variance', (scope) => {
    const blockScope = scope.child('variance-blocks');
    for (let start = range.start; start < range.end; start += Bsz) {
      const idx = new Uint32Array(Math.min(Bsz, range.end - start)).map((_, k) => start + k);
      const batch = batchOf(data, idx, model.dtype, undefined, true);
      const x = new Tensor(batch.inputs, [idx.length, ...model.inputShape]);
      if (fast) {
        scope.run(() => addJointSums(model, lik, x, sums, blockScope));
        scope.recycle();
      } else {
        for (const r of inputVariances(model, lik, new Tensor(batch.inputs, [idx.length, D]), 'reference')) {
          for (let i = 0; i < P; i++) {
            const f = r.fim[i]!;
            sums.fim[i]! += f;
            sums.fimSquared[i]! += f * f;
            sums.v1[i]! += r.v1[i]!;
            sums.v2[i]! += r.v2[i]!;
          }
        }
      }
      opts.onProgress?.(start + idx.length - range.start, range.end - range.start);
    }
  });
  return { sums, inputs: range.end - range.start, total, labelsPerInput: N, inputsPerEstimate: Nx, batchSize: Bsz, fast, fixed };
}

/**
 * Turns the sums over `total` inputs into the joint variances (consumes `sums`: its arrays become
 * the means); `fixed`: the variance of an estimate over these fixed inputs, E_q V/(N·N_x).
 */
export function finishJointVariances(sums: JointSums, total: number, N: number, Nx: number, fixed = false): JointVariance {
  const P = sums.fim.length;
  // The sums become the means in place (P-sized arrays are the bulk of the memory touched).
  const fim = sums.fim;
  const fimVar = sums.fimSquared;
  const meanV1 = sums.v1;
  const meanV2 = sums.v2;
  const v1 = new Float64Array(P);
  const v2 = new Float64Array(P);
  // Reciprocals once: a division per entry and array costs more than the rest of the loop.
  const perInput = 1 / total;
  const perLabel = 1 / (total * N);
  const perEstimate = 1 / Nx;
  for (let i = 0; i < P; i++) {
    const f = fim[i]! * perInput;
    const vx = Math.max(0, fimVar[i]! * perInput - f * f);
    const m1 = meanV1[i]! * perLabel;
    const m2 = meanV2[i]! * perLabel;
    fim[i] = f;
    fimVar[i] = vx;
    meanV1[i] = m1;
    meanV2[i] = m2;
    v1[i] = ((fixed ? 0 : vx) + m1) * perEstimate;
    v2[i] = ((fixed ? 0 : vx) + m2) * perEstimate;
  }
  return { P, inputs: total, labelsPerInput: N, inputsPerEstimate: Nx, convention: fixed ? 'fixed' : 'sampled', fim, fimVarOverInputs: fimVar, meanV1, meanV2, v1, v2 };
}
