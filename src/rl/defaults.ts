/**
 * Default hyperparameters, in one place: a base record, then per-environment and
 * per-(environment, algorithm) overrides close to the RL Baselines3 Zoo's tuned values where the
 * Zoo has them (PPO, A2C, TRPO on classic control; PPO on MuJoCo). Differences from the Zoo,
 * by design: separate actor and critic networks ([64, 64] tanh) with separate Adam optimisers
 * (the Zoo's A2C uses RMSprop on a shared loss), and no state-dependent exploration (gSDE). The
 * README's table is generated from this file's contents (`fimkit rl --show-defaults`).
 */
import type { AlgoName, RlHyper } from './algorithms/config.js';

export const BASE_HYPER: RlHyper = {
  nEnvs: 8,
  nSteps: 5,
  gamma: 0.99,
  gaeLambda: 1.0,
  normalizeAdvantage: false,
  entCoef: 0,
  actorLr: 7e-4,
  criticLr: 7e-4,
  lrSchedule: 'constant',
  criticEpochs: 1,
  criticMinibatches: 1,
  maxGradNorm: 0.5,
  normalizeObs: false,
  normalizeReward: false,
  epochs: 10,
  minibatchSize: 64,
  clipRange: 0.2,
  clipRangeVf: 0,
  damping: 0.1,
  maxKl: 0.01,
  cgIters: 15,
  lineSearchSteps: 10,
  backtrackRatio: 0.8,
  smLambda: 1,
  smStep: 'kl',
  smEta: 0.01,
  smUSource: 'random',
  smRank: 1,
  smMinibatches: 1,
  smClip: 0,
  fidelityEvery: 10,
};

type Partial2 = Partial<RlHyper>;

/** Per algorithm, whatever the environment (the Zoo's / SB3's algorithm defaults). */
const ALGO: Record<AlgoName, Partial2> = {
  a2c: {},
  ppo: { nSteps: 2048, minibatchSize: 64, epochs: 10, gaeLambda: 0.95, actorLr: 3e-4, criticLr: 3e-4, normalizeAdvantage: true },
  // Trust-region family: SB3-contrib TRPO's defaults (critic: 10 passes, minibatches of 128).
  trpo: { nSteps: 256, gaeLambda: 0.95, criticLr: 1e-3, criticEpochs: 10, criticMinibatches: 16, normalizeAdvantage: true, damping: 0.1, maxKl: 0.01 },
  npg: { nSteps: 256, gaeLambda: 0.95, criticLr: 1e-3, criticEpochs: 10, criticMinibatches: 16, normalizeAdvantage: true, damping: 0.1, maxKl: 0.01 },
  'kfac-npg': { nSteps: 256, gaeLambda: 0.95, criticLr: 1e-3, criticEpochs: 10, criticMinibatches: 16, normalizeAdvantage: true, damping: 0.01, maxKl: 0.01 },
  'diag-npg': { nSteps: 256, gaeLambda: 0.95, criticLr: 1e-3, criticEpochs: 10, criticMinibatches: 16, normalizeAdvantage: true, damping: 0.01, maxKl: 0.01 },
  // SMAC: the actor-critic setting of A2C-style runs (spec §A.6.3) with the natural-gradient
  // critic; the [U] choices: u from one uniformly drawn sample, λ = 1, KL-radius step δ = 0.01.
  // (With λ ≪ the Fisher's curvature along g, the KL-radius step measured by λI + uuᵀ
  // overshoots the true KL by about gᵀFg/(λ‖g‖²): λ = 1 keeps it near δ on CartPole.)
  smac: { nSteps: 256, gaeLambda: 0.95, criticLr: 1e-3, criticEpochs: 10, criticMinibatches: 16, normalizeAdvantage: true, maxKl: 0.01 },
};

/** Per environment (all algorithms), then per (environment, algorithm). */
const ENV: Record<string, { all?: Partial2; algo?: Partial<Record<AlgoName, Partial2>> }> = {
  'CartPole-v1': {
    algo: {
      ppo: { nEnvs: 8, nSteps: 32, minibatchSize: 256, gaeLambda: 0.8, gamma: 0.98, epochs: 20, actorLr: 1e-3, criticLr: 1e-3, lrSchedule: 'linear', clipRange: 0.2 },
      a2c: { nEnvs: 8, nSteps: 5 },
      // The natural-gradient family: batches of 1024 (as the Zoo's TRPO: 2 × 512), gathered
      // from 8 copies so each rollout step is one batched forward pass over more states.
      trpo: { nEnvs: 8, nSteps: 128, gaeLambda: 0.98, criticEpochs: 5, criticMinibatches: 4 },
      npg: { nEnvs: 8, nSteps: 128, gaeLambda: 0.98, criticEpochs: 5, criticMinibatches: 4 },
      'kfac-npg': { nEnvs: 8, nSteps: 128, gaeLambda: 0.98, criticEpochs: 5, criticMinibatches: 4 },
      'diag-npg': { nEnvs: 8, nSteps: 128, gaeLambda: 0.98, criticEpochs: 5, criticMinibatches: 4 },
      smac: { nEnvs: 8, nSteps: 128, gaeLambda: 0.98, criticEpochs: 5, criticMinibatches: 4 },
    },
  },
  'Acrobot-v1': {
    all: { normalizeObs: true },
    algo: {
      ppo: { nEnvs: 16, nSteps: 256, gaeLambda: 0.94, epochs: 4 },
      a2c: { nEnvs: 16 },
      trpo: { nEnvs: 8, nSteps: 256 },
      npg: { nEnvs: 8, nSteps: 256 },
      'kfac-npg': { nEnvs: 8, nSteps: 256 },
      'diag-npg': { nEnvs: 8, nSteps: 256 },
      smac: { nEnvs: 8, nSteps: 256 },
    },
  },
  'MountainCar-v0': { all: { normalizeObs: true } },
  'MountainCarContinuous-v0': { all: { normalizeObs: true } },
  'Pendulum-v1': {
    all: { gamma: 0.9, normalizeObs: false },
    algo: {
      ppo: { nEnvs: 4, nSteps: 1024, gaeLambda: 0.95, epochs: 10, actorLr: 1e-3, criticLr: 1e-3 },
      a2c: { nEnvs: 8, nSteps: 8, gaeLambda: 0.9, normalizeObs: true },
      trpo: { nEnvs: 2, nSteps: 1024, criticEpochs: 20 },
      npg: { nEnvs: 2, nSteps: 1024, criticEpochs: 20 },
      'kfac-npg': { nEnvs: 2, nSteps: 1024, criticEpochs: 20 },
      'diag-npg': { nEnvs: 2, nSteps: 1024, criticEpochs: 20 },
      smac: { nEnvs: 2, nSteps: 1024, criticEpochs: 20 },
    },
  },
};

/** MuJoCo locomotion: observation and reward normalisation; PPO as in its paper's MuJoCo setting. */
const MUJOCO: { all: Partial2; algo: Partial<Record<AlgoName, Partial2>> } = {
  all: { normalizeObs: true, normalizeReward: true },
  algo: {
    ppo: { nEnvs: 1, nSteps: 2048, minibatchSize: 64, epochs: 10, gaeLambda: 0.95, actorLr: 3e-4, criticLr: 3e-4 },
    a2c: { nEnvs: 8, nSteps: 256, normalizeAdvantage: true, actorLr: 3e-4, criticLr: 3e-4 },
    trpo: { nEnvs: 8, nSteps: 256 },
    npg: { nEnvs: 8, nSteps: 256 },
    'kfac-npg': { nEnvs: 8, nSteps: 256 },
    'diag-npg': { nEnvs: 8, nSteps: 256 },
    smac: { nEnvs: 8, nSteps: 256 },
  },
};

const MUJOCO_IDS = /^(InvertedPendulum|InvertedDoublePendulum|Hopper|HalfCheetah|Walker2d|Swimmer|Ant|Humanoid|Reacher|Pusher)-v\d+$/;

/** The defaults for one (environment, algorithm): base, then algorithm, environment and pair overrides. */
export function defaultHyper(envId: string, algo: AlgoName): RlHyper {
  const e = MUJOCO_IDS.test(envId) ? MUJOCO : ENV[envId] ?? {};
  return { ...BASE_HYPER, ...ALGO[algo], ...(e.all ?? {}), ...(e.algo?.[algo] ?? {}) };
}

/** Environments with their own rows in the table. */
export function tunedEnvironments(): string[] {
  return [...Object.keys(ENV), 'MuJoCo (Hopper, HalfCheetah, Walker2d, Swimmer, InvertedPendulum)'];
}
