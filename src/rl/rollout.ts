/**
 * On-policy rollout collection on a vectorised environment. Each step runs one batched forward
 * pass of the actor and one of the critic over all N copies, then steps the copies together.
 * The values of the states that follow each step (what GAE bootstraps from) are the next step's
 * values, except where a copy ended: a truncated episode's final observation (kept by the
 * VecEnv before its auto-reset) is evaluated by the critic in one batch per step.
 */
import { fail } from '../core/errors.js';
import type { Rng } from '../core/rng.js';
import type { VecEnv } from './envs/types.js';
import type { ActorCritic } from './policy.js';

export interface Rollout {
  nSteps: number;
  nEnvs: number;
  obsDim: number;
  /** Actions per step per copy: 1 (discrete) or the action dimension. */
  actDim: number;
  /** [n·N, obsDim], time-major (row t·N + i). */
  obs: Float64Array;
  /** Int32Array [n·N] (discrete) or Float64Array [n·N·A] (the unclipped Gaussian samples). */
  actions: Int32Array | Float64Array;
  logProbs: Float64Array;
  rewards: Float64Array;
  values: Float64Array;
  nextValues: Float64Array;
  terminated: Uint8Array;
  truncated: Uint8Array;
  /** Episodes that ended during the rollout (raw returns as the VecEnv reports them). */
  episodes: { return: number; length: number }[];
}

/** The running state of collection between rollouts: the current observations. */
export interface Collector {
  env: VecEnv;
  obs: Float64Array;
}

export function checkObservations(obs: Float64Array, obsDim: number, what: string): void {
  for (let k = 0; k < obs.length; k++) {
    if (!Number.isFinite(obs[k]!)) {
      fail('NON_FINITE', `${what}: observation of copy ${Math.floor(k / obsDim)}, coordinate ${k % obsDim} is ${obs[k]} (the environment or the policy diverged)`);
    }
  }
}

export function collectRollout(c: Collector, policy: ActorCritic, nSteps: number, rng: Rng): Rollout {
  const env = c.env;
  const N = env.num;
  const D = policy.obsDim;
  const A = policy.head === 'categorical' ? 1 : policy.outDim;
  const total = nSteps * N;
  const r: Rollout = {
    nSteps, nEnvs: N, obsDim: D, actDim: A,
    obs: new Float64Array(total * D),
    actions: policy.head === 'categorical' ? new Int32Array(total) : new Float64Array(total * A),
    logProbs: new Float64Array(total),
    rewards: new Float64Array(total),
    values: new Float64Array(total),
    nextValues: new Float64Array(total),
    terminated: new Uint8Array(total),
    truncated: new Uint8Array(total),
    episodes: [],
  };
  let obs = c.obs;
  for (let t = 0; t < nSteps; t++) {
    checkObservations(obs, D, `${env.id} rollout step ${t}`);
    r.obs.set(obs, t * N * D);
    const { actions, envActions, logProbs } = policy.act(obs, N, rng);
    r.actions.set(actions, t * N * A);
    r.logProbs.set(logProbs, t * N);
    r.values.set(policy.values(obs, N), t * N);
    const res = env.step(envActions);
    r.rewards.set(res.rewards, t * N);
    r.terminated.set(res.terminated, t * N);
    r.truncated.set(res.truncated, t * N);
    for (const e of res.episodes) r.episodes.push({ return: e.return, length: e.length });
    // Truncated (not terminated) copies bootstrap from their final observation.
    const cut: number[] = [];
    for (let i = 0; i < N; i++) if (res.truncated[i] && !res.terminated[i]) cut.push(i);
    if (cut.length > 0) {
      const fo = new Float64Array(cut.length * D);
      cut.forEach((i, j) => {
        const f = res.finalObservations[i];
        if (!f) fail('INVALID_ARGUMENT', `${env.id}: copy ${i} was truncated but the VecEnv gave no final observation`);
        fo.set(f, j * D);
      });
      checkObservations(fo, D, `${env.id} final observation at rollout step ${t}`);
      const v = policy.values(fo, cut.length);
      cut.forEach((i, j) => (r.nextValues[t * N + i] = v[j]!));
    }
    obs = res.observations;
    if (t > 0) {
      // Not-ended copies of step t−1 bootstrap from this step's values.
      for (let i = 0; i < N; i++) {
        const k = (t - 1) * N + i;
        if (!r.terminated[k] && !r.truncated[k]) r.nextValues[k] = r.values[t * N + i]!;
      }
    }
  }
  checkObservations(obs, D, `${env.id} rollout end`);
  const last = policy.values(obs, N);
  for (let i = 0; i < N; i++) {
    const k = (nSteps - 1) * N + i;
    if (!r.terminated[k] && !r.truncated[k]) r.nextValues[k] = last[i]!;
  }
  c.obs = obs;
  return r;
}
