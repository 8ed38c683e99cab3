/**
 * One training run of one algorithm on one environment with one seed: rollouts on a vectorised
 * env, updates, periodic deterministic evaluation (the mode of π over several episodes on a
 * separate env), progress, and checkpoints at update boundaries that a later call resumes from.
 *
 * Determinism: everything random derives from the seed (network initialisation, action
 * sampling, minibatch shuffles, the sampled score of SMAC, env reset seeds), so the same seed
 * gives the same learning curve bit for bit. A resumed run restores the networks, optimisers,
 * RNG, normalisation statistics and curves exactly; the env copies are reset at the resume
 * point with a seed derived from the update count (the episodes in progress at the checkpoint
 * are dropped), so a resumed run is a faithful continuation, not a bitwise replay.
 *
 * Browser-safe: checkpoints go through a store interface (files in ./run-file.ts).
 */
import { fail } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import { checkConfigMatches, type RunConfig } from '../train/checkpoint.js';
import { makeAlgorithm, makeBatch, type AlgoState, type UpdateStats } from './algorithms/index.js';
import type { AlgoName, RlHyper } from './algorithms/config.js';
import type { FisherFidelity } from './algorithms/common.js';
import { makeVecEnv } from './envs/vector.js';
import { VecNormalize, type VecNormalizeState } from './envs/normalize.js';
import type { VecEnv } from './envs/types.js';
import { ActorCritic, type PolicyConfig } from './policy.js';
import { checkObservations, collectRollout } from './rollout.js';

export const RL_CHECKPOINT_FORMAT = 'fimkit-rl-checkpoint';
export const RL_CHECKPOINT_VERSION = 1;

export interface EvalPoint {
  step: number;
  mean: number;
  std: number;
  episodes: number;
}

export interface RunOptions {
  env: string;
  algo: AlgoName;
  seed: number;
  totalSteps: number;
  hyper: RlHyper;
  policy?: PolicyConfig;
  /** Evaluate every this many env steps (and at the end). */
  evalEvery: number;
  evalEpisodes: number;
  /** Save a checkpoint every this many updates (0: only at the end); needs a store. */
  checkpointEvery?: number;
  store?: RlCheckpointStore;
  onProgress?: (p: Progress) => void;
  /** Stop (after checkpointing) when this returns true, e.g. on Ctrl-C. */
  shouldStop?: () => boolean;
}

export interface Progress {
  step: number;
  totalSteps: number;
  updates: number;
  stepsPerSecond: number;
  /** Mean raw return of the last (up to) 20 finished training episodes. */
  recentReturn: number | null;
  lastEval: EvalPoint | null;
  stats: UpdateStats;
}

export interface RunResult {
  env: string;
  algo: AlgoName;
  seed: number;
  steps: number;
  updates: number;
  evals: EvalPoint[];
  /** Finished training episodes: (step at the end, raw return). */
  trainEpisodes: { step: number; return: number }[];
  fidelity: FisherFidelity[];
  wallSeconds: number;
  /** Env steps per second of wall time (rollouts plus updates). */
  stepsPerSecond: number;
  /** Mean seconds per update (update only). */
  updateSeconds: number;
  numActorParams: number;
  hyper: RlHyper;
  completed: boolean;
}

export interface RlCheckpoint {
  format: typeof RL_CHECKPOINT_FORMAT;
  version: number;
  createdAt: string;
  config: RunConfig;
  steps: number;
  updates: number;
  rng: number[];
  policy: { actor: number[]; critic: number[] };
  algo: AlgoState;
  normalize: VecNormalizeState | null;
  evals: EvalPoint[];
  trainEpisodes: { step: number; return: number }[];
  fidelity: FisherFidelity[];
  wallSeconds: number;
  updateSecondsTotal: number;
}

export interface RlCheckpointStore {
  readonly location: string;
  load(): RlCheckpoint | null;
  save(c: RlCheckpoint): void;
}

export class MemoryRlCheckpointStore implements RlCheckpointStore {
  readonly location = 'memory';
  private text: string | null = null;
  saves = 0;
  load(): RlCheckpoint | null {
    return this.text === null ? null : parseRlCheckpoint(this.text, this.location);
  }
  save(c: RlCheckpoint): void {
    this.text = JSON.stringify(c);
    this.saves++;
  }
}

export function parseRlCheckpoint(text: string, location: string): RlCheckpoint {
  let o: Partial<RlCheckpoint>;
  try {
    o = JSON.parse(text) as Partial<RlCheckpoint>;
  } catch (e) {
    const truncated = text.trim().length === 0 || /end of (JSON )?input|Unterminated/i.test((e as Error).message);
    return fail(truncated ? 'TRUNCATED_FILE' : 'CORRUPT_FILE', `RL checkpoint ${location} is not valid JSON (${(e as Error).message})`);
  }
  const bad = (why: string): never => fail('CORRUPT_FILE', `RL checkpoint ${location}: ${why}`);
  if (!o || typeof o !== 'object') bad('not a JSON object');
  if (o.format !== RL_CHECKPOINT_FORMAT) bad(`format is ${JSON.stringify(o.format)}, expected "${RL_CHECKPOINT_FORMAT}"`);
  if (o.version !== RL_CHECKPOINT_VERSION) bad(`version ${String(o.version)} is not supported`);
  if (!o.config || typeof o.config !== 'object') bad('missing config');
  if (!Number.isInteger(o.steps) || !Number.isInteger(o.updates)) bad('missing step/update counts');
  if (!Array.isArray(o.rng) || !o.policy || !o.algo || !Array.isArray(o.evals)) bad('missing rng, policy, algorithm state or curves');
  return o as RlCheckpoint;
}

/** The fields that identify a run: a resume must match them all. */
export function runConfig(o: RunOptions): RunConfig {
  return { env: o.env, algo: o.algo, seed: o.seed, totalSteps: o.totalSteps, hyper: { ...o.hyper }, policy: { ...(o.policy ?? {}) }, evalEvery: o.evalEvery, evalEpisodes: o.evalEpisodes };
}

/** Deterministic evaluation: the mode of π for `episodes` episodes on fresh copies. */
export async function evaluatePolicy(policy: ActorCritic, envId: string, episodes: number, seed: number, normalize: VecNormalize | null): Promise<{ mean: number; std: number; returns: number[] }> {
  const copies = Math.min(episodes, 5);
  const env = await makeVecEnv(envId, copies);
  try {
    let obs = env.reset(seed);
    const returns: number[] = [];
    const rng = new Rng(seed).derive('eval');
    // Each copy runs episodes until `episodes` are done in total (copies started later are not counted).
    let guard = 0;
    const limit = 1e7;
    while (returns.length < episodes) {
      const o = normalize ? normalize.normalizeObs(obs) : obs;
      checkObservations(o, policy.obsDim, `${envId} evaluation`);
      const { envActions } = policy.act(o, copies, rng, true);
      const r = env.step(envActions);
      for (const e of r.episodes) if (returns.length < episodes) returns.push(e.return);
      obs = r.observations;
      if (++guard > limit) fail('INVALID_ARGUMENT', `${envId}: evaluation did not finish ${episodes} episodes within ${limit} steps (an env without a time limit?)`);
    }
    const mean = returns.reduce((a, b) => a + b, 0) / returns.length;
    const std = Math.sqrt(returns.reduce((a, b) => a + (b - mean) ** 2, 0) / returns.length);
    return { mean, std, returns };
  } finally {
    env.close();
  }
}

export async function runTraining(o: RunOptions): Promise<RunResult> {
  if (!Number.isInteger(o.totalSteps) || o.totalSteps < 1) fail('INVALID_ARGUMENT', `total steps must be a positive integer, got ${o.totalSteps}`);
  if (!Number.isInteger(o.evalEpisodes) || o.evalEpisodes < 1) fail('INVALID_ARGUMENT', `evaluation episodes must be a positive integer, got ${o.evalEpisodes}`);
  if (!Number.isInteger(o.evalEvery) || o.evalEvery < 1) fail('INVALID_ARGUMENT', `evaluation interval must be a positive integer, got ${o.evalEvery}`);
  const h = o.hyper;
  const root = new Rng(o.seed);
  const raw = await makeVecEnv(o.env, h.nEnvs);
  const normalize = h.normalizeObs || h.normalizeReward ? new VecNormalize(raw, { normObs: h.normalizeObs, normReward: h.normalizeReward, gamma: h.gamma }) : null;
  const env: VecEnv = normalize ?? raw;
  const policy = new ActorCritic(env.observationSpace, env.actionSpace, root.derive('init'), o.policy ?? {});
  const algo = makeAlgorithm(o.algo, policy, h);
  const rng = root.derive('train');
  const config = runConfig(o);
  let steps = 0;
  let updates = 0;
  let evals: EvalPoint[] = [];
  let trainEpisodes: { step: number; return: number }[] = [];
  let fidelity: FisherFidelity[] = [];
  let wallBefore = 0;
  let updateSecondsTotal = 0;
  const saved = o.store?.load() ?? null;
  if (saved) {
    checkConfigMatches(saved.config, config, o.store!.location);
    policy.loadState(saved.policy);
    algo.loadState(saved.algo);
    rng.setState(saved.rng);
    if (normalize && saved.normalize) normalize.setState(saved.normalize);
    steps = saved.steps;
    updates = saved.updates;
    evals = saved.evals;
    trainEpisodes = saved.trainEpisodes;
    fidelity = saved.fidelity ?? [];
    wallBefore = saved.wallSeconds;
    updateSecondsTotal = saved.updateSecondsTotal;
  }
  const perRollout = h.nEnvs * h.nSteps;
  const collector = { env, obs: env.reset(o.seed * 1000 + updates) };
  const t0 = performance.now();
  const wall = (): number => wallBefore + (performance.now() - t0) / 1000;
  const save = (): void => {
    if (!o.store) return;
    o.store.save({
      format: RL_CHECKPOINT_FORMAT, version: RL_CHECKPOINT_VERSION, createdAt: new Date().toISOString(), config,
      steps, updates, rng: rng.getState(), policy: policy.state(), algo: algo.state(), normalize: normalize ? normalize.getState() : null,
      evals, trainEpisodes, fidelity, wallSeconds: wall(), updateSecondsTotal,
    });
  };
  const evaluate = async (): Promise<void> => {
    const e = await evaluatePolicy(policy, o.env, o.evalEpisodes, o.seed * 7919 + 100_003 + evals.length, normalize);
    evals.push({ step: steps, mean: e.mean, std: e.std, episodes: e.returns.length });
  };
  if (evals.length === 0 && steps === 0) await evaluate();
  let stopped = false;
  try {
    while (steps < o.totalSteps) {
      algo.setProgress(steps / o.totalSteps);
      const rollout = collectRollout(collector, policy, h.nSteps, rng);
      const before = steps;
      steps += perRollout;
      for (let k = 0; k < rollout.episodes.length; k++) trainEpisodes.push({ step: steps, return: rollout.episodes[k]!.return });
      const stats = algo.update(makeBatch(rollout, h), rng);
      updates++;
      updateSecondsTotal += stats.seconds;
      if (stats.fidelity) fidelity.push(stats.fidelity);
      if (Math.floor(steps / o.evalEvery) > Math.floor(before / o.evalEvery) || steps >= o.totalSteps) await evaluate();
      const recent = trainEpisodes.slice(-20);
      o.onProgress?.({
        step: steps, totalSteps: o.totalSteps, updates,
        stepsPerSecond: (steps - (saved?.steps ?? 0)) / Math.max(1e-9, (performance.now() - t0) / 1000),
        recentReturn: recent.length ? recent.reduce((a, b) => a + b.return, 0) / recent.length : null,
        lastEval: evals[evals.length - 1] ?? null,
        stats,
      });
      if (o.checkpointEvery && updates % o.checkpointEvery === 0) save();
      if (o.shouldStop?.()) {
        stopped = true;
        break;
      }
    }
  } finally {
    env.close();
  }
  save();
  const w = wall();
  return {
    env: o.env, algo: o.algo, seed: o.seed, steps, updates, evals, trainEpisodes, fidelity,
    wallSeconds: w, stepsPerSecond: steps / Math.max(1e-9, w), updateSeconds: updates ? updateSecondsTotal / updates : 0,
    numActorParams: policy.numActorParams, hyper: h, completed: !stopped && steps >= o.totalSteps,
  };
}
