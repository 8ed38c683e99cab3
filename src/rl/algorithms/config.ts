/**
 * The algorithms' names and their one hyperparameter record. Every algorithm reads the subset
 * it needs; the per-environment defaults live in ../defaults.ts and every field is a flag of
 * `fimkit rl`. The options of SMAC that its paper leaves unknown (which sample gives the score u,
 * damping, step rule, clipping) are fields here with documented defaults.
 */
import { fail } from '../../core/errors.js';

export const ALGO_NAMES = ['a2c', 'ppo', 'trpo', 'npg', 'smac', 'kfac-npg', 'diag-npg'] as const;
export type AlgoName = (typeof ALGO_NAMES)[number];

export function checkAlgoName(name: string): AlgoName {
  if (!(ALGO_NAMES as readonly string[]).includes(name)) fail('INVALID_ARGUMENT', `unknown RL algorithm '${name}'; known: ${ALGO_NAMES.join(', ')}`);
  return name as AlgoName;
}

export type SmStepRule = 'fixed' | 'kl' | 'adam';
export type SmUSource = 'random' | 'first' | 'mean';

export interface RlHyper {
  /** Environment copies stepped together. */
  nEnvs: number;
  /** Steps per copy per rollout (the batch is nEnvs·nSteps). */
  nSteps: number;
  gamma: number;
  gaeLambda: number;
  /** Normalise advantages over the batch (minibatch for PPO) to mean 0, std 1. */
  normalizeAdvantage: boolean;
  entCoef: number;
  /** Actor Adam learning rate (A2C, PPO, SMAC with step rule 'adam'). */
  actorLr: number;
  criticLr: number;
  /** 'linear' anneals both learning rates (and PPO's clip range) to 0 over the run. */
  lrSchedule: 'constant' | 'linear';
  /** Passes over the batch for the critic of A2C and the natural-gradient methods. */
  criticEpochs: number;
  criticMinibatches: number;
  /** Max global gradient norm (actor and critic separately); 0 disables. */
  maxGradNorm: number;
  /** Observation / reward normalisation (running mean and variance), when the env wrapper exists. */
  normalizeObs: boolean;
  normalizeReward: boolean;
  // PPO
  epochs: number;
  minibatchSize: number;
  clipRange: number;
  /** Value clipping radius around the rollout's values; 0 disables. */
  clipRangeVf: number;
  // TRPO / NPG / KFAC-NPG / diag-NPG
  /** Damping added to the Fisher before solving (CG, KFAC, diagonal). */
  damping: number;
  /** KL radius δ: step η = √(2δ / gᵀd). */
  maxKl: number;
  cgIters: number;
  lineSearchSteps: number;
  backtrackRatio: number;
  // SMAC
  /** λ of λI + uuᵀ. */
  smLambda: number;
  /** 'kl': η = √(2δ/gᵀd) with δ = maxKl; 'fixed': η = smEta; 'adam': d replaces the gradient in Adam (lr actorLr). */
  smStep: SmStepRule;
  smEta: number;
  /** Which sample gives u: a uniformly drawn one, the first of the batch, or the mean of smRank scores (≈ 0 in expectation). */
  smUSource: SmUSource;
  /** Number of sampled scores: 1 is Sherman–Morrison, k > 1 the Woodbury rank-k variant. */
  smRank: number;
  /** Actor updates per rollout, each on its own minibatch with its own sampled u. */
  smMinibatches: number;
  /** Max norm of the actor step η·d; 0 disables. */
  smClip: number;
  /** Compare the rank-1 Fisher with the exact one every this many updates (0: never). */
  fidelityEvery: number;
}

export function validateHyper(h: RlHyper): void {
  const pos = (k: keyof RlHyper, integer = false): void => {
    const v = h[k] as number;
    if (!(Number.isFinite(v) && v > 0) || (integer && !Number.isInteger(v))) fail('INVALID_ARGUMENT', `${k} must be a ${integer ? 'positive integer' : 'finite number > 0'}, got ${v}`);
  };
  const nonneg = (k: keyof RlHyper): void => {
    const v = h[k] as number;
    if (!(Number.isFinite(v) && v >= 0)) fail('INVALID_ARGUMENT', `${k} must be a finite number ≥ 0, got ${v}`);
  };
  const unit = (k: keyof RlHyper): void => {
    const v = h[k] as number;
    if (!(v >= 0 && v <= 1)) fail('INVALID_ARGUMENT', `${k} must be in [0, 1], got ${v}`);
  };
  (['nEnvs', 'nSteps', 'criticEpochs', 'criticMinibatches', 'epochs', 'minibatchSize', 'cgIters', 'lineSearchSteps', 'smRank', 'smMinibatches'] as const).forEach((k) => pos(k, true));
  (['actorLr', 'criticLr', 'clipRange', 'maxKl', 'smEta'] as const).forEach((k) => pos(k));
  (['entCoef', 'maxGradNorm', 'clipRangeVf', 'damping', 'smClip', 'fidelityEvery'] as const).forEach((k) => nonneg(k));
  (['gamma', 'gaeLambda'] as const).forEach((k) => unit(k));
  if (!(h.backtrackRatio > 0 && h.backtrackRatio < 1)) fail('INVALID_ARGUMENT', `backtrackRatio must be in (0, 1), got ${h.backtrackRatio}`);
  if (!(Number.isFinite(h.smLambda) && h.smLambda > 0)) fail('INVALID_ARGUMENT', `SMAC damping λ (smLambda) must be a finite number > 0, got ${h.smLambda}`);
  if (!['fixed', 'kl', 'adam'].includes(h.smStep)) fail('INVALID_ARGUMENT', `smStep must be fixed, kl or adam, got '${h.smStep}'`);
  if (!['random', 'first', 'mean'].includes(h.smUSource)) fail('INVALID_ARGUMENT', `smUSource must be random, first or mean, got '${h.smUSource}'`);
  if (!['constant', 'linear'].includes(h.lrSchedule)) fail('INVALID_ARGUMENT', `lrSchedule must be constant or linear, got '${h.lrSchedule}'`);
  if (h.smRank > h.nEnvs * h.nSteps) fail('INVALID_ARGUMENT', `smRank ${h.smRank} exceeds the batch of ${h.nEnvs * h.nSteps} samples`);
}
