// N copies of an environment stepped together, with Stable-Baselines3's same-step auto-reset:
// when copy i ends (terminated or truncated), the returned observation row i is already the
// first observation of its next episode, and finalObservations[i] keeps the last observation of
// the ended one, so that a truncated episode can be bootstrapped from V(final observation).
// Episode returns and lengths are accumulated here (raw rewards, before any normalisation
// wrapper) and reported on the step an episode ends.
import { FimkitError, fail } from '../../core/errors.js';
import { makeEnv } from './registry.js';
import { spaceSize } from './spaces.js';
import type { Env, Space, VecEnv, VecStepResult } from './types.js';

export class SyncVecEnv implements VecEnv {
  readonly id: string;
  readonly num: number;
  readonly observationSpace: Space;
  readonly actionSpace: Space;
  readonly obsDim: number;
  /** The copies, in order (e.g. for getState/setState in tests). */
  readonly envs: readonly Env[];
  private readonly actDim: number;
  private readonly returns: Float64Array;
  private readonly lengths: Int32Array;
  private started = false;

  constructor(envs: readonly Env[]) {
    if (envs.length === 0) fail('INVALID_ARGUMENT', 'a vectorised env needs at least one copy');
    const first = envs[0]!;
    for (const e of envs) {
      if (e.id !== first.id) fail('INVALID_ARGUMENT', `vectorised env copies must share one id, got '${first.id}' and '${e.id}'`);
    }
    this.envs = envs;
    this.id = first.id;
    this.num = envs.length;
    this.observationSpace = first.observationSpace;
    this.actionSpace = first.actionSpace;
    this.obsDim = spaceSize(first.observationSpace);
    this.actDim = spaceSize(first.actionSpace);
    this.returns = new Float64Array(this.num);
    this.lengths = new Int32Array(this.num);
  }

  reset(seed?: number): Float64Array {
    if (seed !== undefined && !Number.isSafeInteger(seed)) fail('INVALID_ARGUMENT', `${this.id}: reset seed must be a safe integer, got ${seed}`);
    const obs = new Float64Array(this.num * this.obsDim);
    for (let i = 0; i < this.num; i++) {
      const r = this.envs[i]!.reset(seed === undefined ? undefined : seed + i);
      obs.set(r.observation, i * this.obsDim);
    }
    this.returns.fill(0);
    this.lengths.fill(0);
    this.started = true;
    return obs;
  }

  step(actions: Int32Array | Float64Array): VecStepResult {
    if (!this.started) fail('INVALID_ARGUMENT', `${this.id}: vectorised step() called before reset()`);
    const discrete = this.actionSpace.kind === 'discrete';
    const want = discrete ? this.num : this.num * this.actDim;
    if (actions.length !== want) {
      fail('SHAPE', `${this.id}: ${this.num} copies need ${want} action values (${discrete ? 'one integer per copy' : `${this.actDim} per copy`}), got ${actions.length}`);
    }
    if (!discrete && !(actions instanceof Float64Array)) fail('SHAPE', `${this.id}: continuous actions must be a Float64Array[num·actDim]`);
    const observations = new Float64Array(this.num * this.obsDim);
    const rewards = new Float64Array(this.num);
    const terminated = new Uint8Array(this.num);
    const truncated = new Uint8Array(this.num);
    const finalObservations: (Float64Array | null)[] = new Array(this.num).fill(null);
    const episodes: { index: number; return: number; length: number }[] = [];
    for (let i = 0; i < this.num; i++) {
      const env = this.envs[i]!;
      const action = discrete ? actions[i]! : (actions as Float64Array).subarray(i * this.actDim, (i + 1) * this.actDim);
      let r;
      try {
        r = env.step(action);
      } catch (e) {
        if (e instanceof FimkitError) throw new FimkitError(e.code, `copy ${i}: ${e.message}`);
        throw e;
      }
      rewards[i] = r.reward;
      this.returns[i]! += r.reward;
      this.lengths[i]!++;
      if (r.terminated || r.truncated) {
        terminated[i] = r.terminated ? 1 : 0;
        truncated[i] = r.truncated ? 1 : 0;
        finalObservations[i] = r.observation;
        episodes.push({ index: i, return: this.returns[i]!, length: this.lengths[i]! });
        this.returns[i] = 0;
        this.lengths[i] = 0;
        observations.set(env.reset().observation, i * this.obsDim);
      } else {
        observations.set(r.observation, i * this.obsDim);
      }
    }
    return { observations, rewards, terminated, truncated, finalObservations, episodes };
  }

  close(): void {
    for (const e of this.envs) e.close();
  }
}

/** `num` copies of the registered env `id` (unknown ids fail with the list of known ones). */
export async function makeVecEnv(id: string, num: number): Promise<SyncVecEnv> {
  if (!Number.isInteger(num) || num < 1) fail('INVALID_ARGUMENT', `number of env copies must be an integer ≥ 1, got ${num}`);
  const envs: Env[] = [];
  for (let i = 0; i < num; i++) envs.push(await makeEnv(id));
  return new SyncVecEnv(envs);
}
