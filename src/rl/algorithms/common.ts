/**
 * What every algorithm shares: the one Algorithm interface, the training batch built from a
 * rollout (GAE advantages and returns), the actor's policy-gradient vector g, the critic's
 * regression to the returns (a separate Adam), and gradient-norm clipping.
 */
import { fail } from '../../core/errors.js';
import type { Rng } from '../../core/rng.js';
import { Tensor } from '../../core/tensor.js';
import * as F from '../../autodiff/ops.js';
import { grad } from '../../autodiff/grad.js';
import { noGrad } from '../../autodiff/tape.js';
import type { Optimizer, OptimizerState } from '../../optim/optimizer.js';
import { computeGae } from '../gae.js';
import { flatten, type ActorCritic } from '../policy.js';
import type { Rollout } from '../rollout.js';
import type { AlgoName, RlHyper } from './config.js';

/** One update's figures (what the runner logs and reports). */
export interface UpdateStats {
  valueLoss: number;
  entropy: number;
  /** Mean KL(π_old ‖ π_new) on the batch after the update (NaN where not computed). */
  kl: number;
  /** Norm of the policy gradient g. */
  gradNorm: number;
  /** Norm of the actor step actually taken. */
  stepNorm: number;
  /** Line-search steps taken (TRPO), or −1 when the line search rejected every step. */
  lineSearch?: number;
  /** PPO: fraction of samples whose ratio was clipped. */
  clipFraction?: number;
  /** SMAC: how the rank-k Fisher compares with the policy's exact Fisher on the batch. */
  fidelity?: FisherFidelity;
  /** Seconds spent in the update (not in the rollout). */
  seconds: number;
}

export interface FisherFidelity {
  update: number;
  /** dᵀF̂d with F̂ = λI + UᵀU/k (equals gᵀd). */
  quadLowRank: number;
  /** dᵀ(F + λI)d with F the exact Fisher on the batch. */
  quadExact: number;
  /** cos(F̂⁻¹g, (F + λI)⁻¹g). */
  cosine: number;
  /** cos(F̂⁻¹g, g): how far the rank-k direction turns from the plain gradient. */
  cosineToGradient: number;
  /** cos((F + λI)⁻¹g, g). */
  exactCosineToGradient: number;
  /** Relative residual of the CG solve of (F + λI)x = g. */
  cgResidual: number;
}

export interface Batch {
  rollout: Rollout;
  size: number;
  advantages: Float64Array;
  returns: Float64Array;
}

export interface Algorithm {
  readonly name: AlgoName;
  /** One update from a collected rollout. */
  update(batch: Batch, rng: Rng): UpdateStats;
  /** Fraction of the run done, in [0, 1] (for linear schedules). */
  setProgress(fraction: number): void;
  state(): AlgoState;
  loadState(s: AlgoState): void;
}

export interface AlgoState {
  name: AlgoName;
  updates: number;
  optimizers: Record<string, OptimizerState>;
}

export function makeBatch(rollout: Rollout, h: RlHyper): Batch {
  const { advantages, returns } = computeGae(rollout, h.gamma, h.gaeLambda);
  return { rollout, size: rollout.nSteps * rollout.nEnvs, advantages, returns };
}

/** (a − mean)/(std + 1e-8) over the indices given. */
export function normalized(a: Float64Array, idx?: ArrayLike<number>): Float64Array {
  const n = idx ? idx.length : a.length;
  const at = (i: number): number => (idx ? a[idx[i]!]! : a[i]!);
  let m = 0;
  for (let i = 0; i < n; i++) m += at(i);
  m /= n;
  let v = 0;
  for (let i = 0; i < n; i++) v += (at(i) - m) ** 2;
  const sd = Math.sqrt(v / Math.max(1, n - 1)) + 1e-8;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = (at(i) - m) / sd;
  return out;
}

/** Rows `idx` of a row-major [*, width] array. */
export function gatherRows<T extends Float64Array | Int32Array>(a: T, width: number, idx: ArrayLike<number>): T {
  const out = new (a.constructor as { new (n: number): T })(idx.length * width);
  for (let i = 0; i < idx.length; i++) out.set(a.subarray(idx[i]! * width, (idx[i]! + 1) * width), i * width);
  return out;
}

export function allIndices(n: number): Uint32Array {
  return new Uint32Array(n).map((_, i) => i);
}

export function shuffledChunks(n: number, chunks: number, rng: Rng): Uint32Array[] {
  const perm = rng.permutation(n);
  const out: Uint32Array[] = [];
  const size = Math.ceil(n / chunks);
  for (let s = 0; s < n; s += size) out.push(perm.subarray(s, Math.min(n, s + size)));
  return out;
}

function constOf(policy: ActorCritic, v: ArrayLike<number>, shape: number[]): Tensor {
  const d = policy.dtype === 'float64' ? Float64Array.from(v) : Float32Array.from(v);
  return new Tensor(d, shape);
}

/**
 * The policy-gradient (ascent) vector g = ∇θ [ mean_b log π(a_b|s_b)·Â_b + c_ent·mean_b H(π(·|s_b)) ]
 * on the samples `idx`, flat in θ order, with the batch's mean entropy.
 */
export function policyGradient(policy: ActorCritic, batch: Batch, idx: ArrayLike<number>, adv: Float64Array, entCoef: number): { g: Float64Array; entropy: number } {
  const r = batch.rollout;
  const n = idx.length;
  const obs = policy.obsTensor(gatherRows(r.obs, r.obsDim, idx), n);
  const acts = gatherRows(r.actions, r.actDim, idx);
  const params = policy.actorParams();
  const { logProb, entropy } = policy.logProbAndEntropy(obs, acts);
  let obj = F.scale(F.sum(F.mul(logProb, constOf(policy, adv, [n]))), 1 / n);
  const H = F.scale(F.sum(entropy), 1 / n);
  if (entCoef > 0) obj = F.add(obj, F.scale(H, entCoef));
  const gs = grad(obj, params);
  return { g: flatten(gs), entropy: H.item() };
}

/** Scales the vectors in place so their joint norm is at most maxNorm (0: no clipping); returns the norm before. */
export function clipGlobalNorm(vs: readonly (Float64Array | Float32Array)[], maxNorm: number): number {
  let s = 0;
  for (const v of vs) for (let i = 0; i < v.length; i++) s += v[i]! * v[i]!;
  const norm = Math.sqrt(s);
  if (maxNorm > 0 && norm > maxNorm) {
    const f = maxNorm / (norm + 1e-12);
    for (const v of vs) for (let i = 0; i < v.length; i++) v[i] = v[i]! * f;
  }
  return norm;
}

/**
 * Regresses V on the returns (mean squared error) with the critic's own optimiser, for `epochs`
 * passes over the batch in `minibatches` shuffled minibatches. Optional value clipping around
 * the rollout's values (PPO's clip_range_vf). Returns the last pass's mean loss.
 */
export function fitCritic(policy: ActorCritic, opt: Optimizer, batch: Batch, epochs: number, minibatches: number, maxGradNorm: number, rng: Rng, clipVf = 0): number {
  const r = batch.rollout;
  let last = 0;
  for (let e = 0; e < epochs; e++) {
    let total = 0;
    let count = 0;
    for (const idx of minibatches === 1 ? [allIndices(batch.size)] : shuffledChunks(batch.size, minibatches, rng)) {
      total += criticStep(policy, opt, r.obs, r.obsDim, batch.returns, r.values, idx, maxGradNorm, clipVf) * idx.length;
      count += idx.length;
    }
    last = total / count;
  }
  return last;
}

export function criticStep(policy: ActorCritic, opt: Optimizer, obsAll: Float64Array, obsDim: number, returnsAll: Float64Array, oldValuesAll: Float64Array, idx: ArrayLike<number>, maxGradNorm: number, clipVf: number): number {
  const n = idx.length;
  const obs = policy.obsTensor(gatherRows(obsAll, obsDim, idx), n);
  const ret = constOf(policy, Array.from(idx, (i) => returnsAll[i]!), [n]);
  const params = policy.criticParams();
  const v = policy.valueTensor(obs);
  let loss: Tensor;
  if (clipVf > 0) {
    // max((v − R)², (v_old + clip(v − v_old) − R)²): the clipped branch is linear in v where unclipped.
    const old = Array.from(idx, (i) => oldValuesAll[i]!);
    const vd = v.data;
    const mask = new Float64Array(n);
    const shift = new Float64Array(n);
    for (let b = 0; b < n; b++) {
      const diff = vd[b]! - old[b]!;
      const clipped = old[b]! + Math.max(-clipVf, Math.min(clipVf, diff));
      const R = ret.data[b]!;
      if ((clipped - R) ** 2 > (vd[b]! - R) ** 2) {
        // Use the clipped value: constant where clipped (no gradient), v itself inside the radius.
        if (Math.abs(diff) > clipVf) { mask[b] = 0; shift[b] = clipped; } else { mask[b] = 1; shift[b] = 0; }
      } else { mask[b] = 1; shift[b] = 0; }
    }
    const vEff = F.add(F.mul(v, constOf(policy, mask, [n])), constOf(policy, shift, [n]));
    loss = F.mean(F.square(F.sub(vEff, ret)));
  } else {
    loss = F.mean(F.square(F.sub(v, ret)));
  }
  const gs = grad(loss, params);
  clipGlobalNorm(gs.map((g) => g.data), maxGradNorm);
  opt.step(params, gs);
  return loss.item();
}

/** Mean of log π over the samples, no graph (TRPO's surrogate uses exp(logπ − logπ_old)). */
export function surrogate(policy: ActorCritic, obs: Float64Array, acts: Int32Array | Float64Array, oldLogProbs: Float64Array, adv: Float64Array, n: number): number {
  return noGrad(() => {
    const lp = policy.logProb(policy.obsTensor(obs, n), acts).data;
    let s = 0;
    for (let b = 0; b < n; b++) s += Math.exp(lp[b]! - oldLogProbs[b]!) * adv[b]!;
    return s / n;
  });
}

export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) fail('SHAPE', `dot of ${a.length} and ${b.length} values`);
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

export function norm(a: ArrayLike<number>): number {
  return Math.sqrt(dot(a, a));
}

/** The linear schedule's factor for a run `fraction` done. */
export function scheduleFactor(kind: 'constant' | 'linear', fraction: number): number {
  return kind === 'linear' ? Math.max(0, 1 - fraction) : 1;
}
