// Observation and reward normalisation for a vectorised env, with Stable-Baselines3's VecNormalize
// semantics, so that hyperparameters tuned there (the RL Baselines3 Zoo's `normalize: true`)
// carry over:
//   - observations: running mean/variance over every observation the copies return (reset and
//     step, after auto-reset), obs ← clip((obs − mean)/√(var + ε), ±clipObs);
//   - rewards: divided by the running standard deviation of the discounted return
//     R ← γ·R + r (per copy, zeroed when an episode ends), reward ← clip(r/√(var_R + ε), ±clipReward);
//     the mean is not subtracted;
//   - statistics start at mean 0, variance 1 with a pseudo-count of 1e-4 and are merged batch by
//     batch with the parallel (Chan et al.) update, which equals a weighted pooled mean/variance;
//   - in evaluation mode (training = false) the statistics are frozen; final observations are
//     normalised with the current statistics but never update them;
//   - episode returns/lengths pass through raw, for logging.
// The statistics serialise to JSON (getState/setState; files in ./normalize-file.ts) so a
// checkpoint resumes with the same normalisation. No Node imports here: it runs in a browser.
import { fail } from '../../core/errors.js';
import { spaceSize } from './spaces.js';
import type { Space, VecEnv, VecStepResult } from './types.js';

/** Running mean and (population) variance of vectors of a fixed size. */
export class RunningMeanStd {
  mean: Float64Array;
  var: Float64Array;
  count: number;

  constructor(readonly size: number, epsilon = 1e-4) {
    this.mean = new Float64Array(size);
    this.var = new Float64Array(size).fill(1);
    this.count = epsilon;
  }

  /** Merges a batch of `rows` vectors (row-major, rows·size values). */
  update(batch: ArrayLike<number>, rows = batch.length / this.size): void {
    const n = this.size;
    if (!Number.isInteger(rows) || rows < 1 || rows * n !== batch.length) {
      fail('SHAPE', `running statistics of size ${n} got a batch of ${batch.length} values`);
    }
    const bMean = new Float64Array(n);
    const bVar = new Float64Array(n);
    for (let r = 0; r < rows; r++) for (let j = 0; j < n; j++) bMean[j]! += batch[r * n + j]!;
    for (let j = 0; j < n; j++) bMean[j]! /= rows;
    for (let r = 0; r < rows; r++) {
      for (let j = 0; j < n; j++) {
        const d = batch[r * n + j]! - bMean[j]!;
        bVar[j]! += d * d;
      }
    }
    for (let j = 0; j < n; j++) bVar[j]! /= rows;
    this.updateFromMoments(bMean, bVar, rows);
  }

  updateFromMoments(bMean: ArrayLike<number>, bVar: ArrayLike<number>, bCount: number): void {
    const tot = this.count + bCount;
    for (let j = 0; j < this.size; j++) {
      const delta = bMean[j]! - this.mean[j]!;
      const m2 = this.var[j]! * this.count + bVar[j]! * bCount + ((delta * delta * this.count) * bCount) / tot;
      this.mean[j] = this.mean[j]! + (delta * bCount) / tot;
      this.var[j] = m2 / tot;
    }
    this.count = tot;
  }
}

export interface VecNormalizeOptions {
  /** Normalise observations (default true). */
  normObs?: boolean;
  /** Scale rewards by the running std of the discounted return (default true). */
  normReward?: boolean;
  /** Observation clip after normalising (default 10). */
  clipObs?: number;
  /** Reward clip after scaling (default 10). */
  clipReward?: number;
  /** Discount of the return whose variance scales rewards (default 0.99; use the agent's γ). */
  gamma?: number;
  /** Added to variances before the square root (default 1e-8). */
  epsilon?: number;
  /** Update the statistics (default true); false for evaluation. */
  training?: boolean;
}

/** What getState returns: plain JSON numbers and booleans. */
export interface VecNormalizeState {
  readonly format: 'fimkit-vecnormalize-1';
  readonly obsRms: { mean: number[]; var: number[]; count: number };
  readonly retRms: { mean: number[]; var: number[]; count: number };
  readonly normObs: boolean;
  readonly normReward: boolean;
  readonly clipObs: number;
  readonly clipReward: number;
  readonly gamma: number;
  readonly epsilon: number;
  /** The per-copy discounted returns in progress (restored when the copy count matches). */
  readonly returns: number[];
}

export class VecNormalize implements VecEnv {
  readonly id: string;
  readonly num: number;
  readonly observationSpace: Space;
  readonly actionSpace: Space;
  readonly obsDim: number;
  readonly obsRms: RunningMeanStd;
  readonly retRms: RunningMeanStd;
  training: boolean;
  normObs: boolean;
  normReward: boolean;
  clipObs: number;
  clipReward: number;
  gamma: number;
  epsilon: number;
  /** Discounted return of each copy's current episode. */
  readonly returns: Float64Array;
  private oldObs: Float64Array | null = null;
  private oldRewards: Float64Array | null = null;

  constructor(readonly venv: VecEnv, opts: VecNormalizeOptions = {}) {
    this.id = venv.id;
    this.num = venv.num;
    this.observationSpace = venv.observationSpace;
    this.actionSpace = venv.actionSpace;
    if (venv.observationSpace.kind !== 'box') fail('INVALID_ARGUMENT', `${venv.id}: observation normalisation needs a box observation space`);
    this.obsDim = spaceSize(venv.observationSpace);
    this.training = opts.training ?? true;
    this.normObs = opts.normObs ?? true;
    this.normReward = opts.normReward ?? true;
    this.clipObs = positive('clipObs', opts.clipObs ?? 10);
    this.clipReward = positive('clipReward', opts.clipReward ?? 10);
    this.gamma = opts.gamma ?? 0.99;
    if (!(this.gamma >= 0 && this.gamma <= 1)) fail('INVALID_ARGUMENT', `VecNormalize gamma must be in [0, 1], got ${this.gamma}`);
    this.epsilon = positive('epsilon', opts.epsilon ?? 1e-8);
    this.obsRms = new RunningMeanStd(this.obsDim);
    this.retRms = new RunningMeanStd(1);
    this.returns = new Float64Array(this.num);
  }

  reset(seed?: number): Float64Array {
    const obs = this.venv.reset(seed);
    this.checkFinite(obs, 'reset');
    this.oldObs = obs;
    this.returns.fill(0);
    if (this.training && this.normObs) this.obsRms.update(obs);
    return this.normalizeObs(obs);
  }

  step(actions: Int32Array | Float64Array): VecStepResult {
    const r = this.venv.step(actions);
    this.checkFinite(r.observations, 'step');
    for (let i = 0; i < this.num; i++) {
      if (!Number.isFinite(r.rewards[i]!)) fail('NON_FINITE', `${this.id}: copy ${i} returned reward ${r.rewards[i]}`);
    }
    this.oldObs = r.observations;
    this.oldRewards = r.rewards;
    if (this.training && this.normObs) this.obsRms.update(r.observations);
    const observations = this.normalizeObs(r.observations);
    if (this.training) {
      for (let i = 0; i < this.num; i++) this.returns[i] = this.returns[i]! * this.gamma + r.rewards[i]!;
      this.retRms.update(this.returns);
    }
    const rewards = this.normalizeReward(r.rewards);
    const finalObservations = r.finalObservations.map((f) => (f === null ? null : this.normalizeObs(f)));
    for (let i = 0; i < this.num; i++) if (r.terminated[i] || r.truncated[i]) this.returns[i] = 0;
    return { observations, rewards, terminated: r.terminated, truncated: r.truncated, finalObservations, episodes: r.episodes };
  }

  /** Normalises any number of observation rows with the current statistics (no update). */
  normalizeObs(obs: Float64Array): Float64Array {
    if (!this.normObs) return Float64Array.from(obs);
    const n = this.obsDim;
    if (obs.length % n !== 0) fail('SHAPE', `${this.id}: observations of ${obs.length} values are not rows of ${n}`);
    const out = new Float64Array(obs.length);
    const { mean, var: v } = this.obsRms;
    const c = this.clipObs;
    for (let k = 0; k < obs.length; k++) {
      const j = k % n;
      const z = (obs[k]! - mean[j]!) / Math.sqrt(v[j]! + this.epsilon);
      out[k] = z < -c ? -c : z > c ? c : z;
    }
    return out;
  }

  /** Scales rewards by the running std of the discounted return (no update). */
  normalizeReward(rewards: Float64Array): Float64Array {
    if (!this.normReward) return Float64Array.from(rewards);
    const s = Math.sqrt(this.retRms.var[0]! + this.epsilon);
    const c = this.clipReward;
    return rewards.map((r) => {
      const z = r / s;
      return z < -c ? -c : z > c ? c : z;
    });
  }

  /** The last raw observations returned by the wrapped env. */
  getOriginalObs(): Float64Array | null {
    return this.oldObs;
  }

  /** The last raw rewards returned by the wrapped env. */
  getOriginalRewards(): Float64Array | null {
    return this.oldRewards;
  }

  getState(): VecNormalizeState {
    const rms = (r: RunningMeanStd): { mean: number[]; var: number[]; count: number } => ({ mean: Array.from(r.mean), var: Array.from(r.var), count: r.count });
    return {
      format: 'fimkit-vecnormalize-1',
      obsRms: rms(this.obsRms),
      retRms: rms(this.retRms),
      normObs: this.normObs,
      normReward: this.normReward,
      clipObs: this.clipObs,
      clipReward: this.clipReward,
      gamma: this.gamma,
      epsilon: this.epsilon,
      returns: Array.from(this.returns),
    };
  }

  /** Restores statistics and settings saved by getState (validated; the training flag is kept). */
  setState(state: unknown): void {
    const s = state as Partial<VecNormalizeState> | null;
    const bad = (what: string): never => fail('CORRUPT_FILE', `VecNormalize state: ${what}`);
    if (!s || typeof s !== 'object' || s.format !== 'fimkit-vecnormalize-1') bad(`format must be 'fimkit-vecnormalize-1'`);
    const st = s as VecNormalizeState;
    const loadRms = (name: string, r: VecNormalizeState['obsRms'] | undefined, into: RunningMeanStd): void => {
      if (!r || !Array.isArray(r.mean) || !Array.isArray(r.var)) bad(`${name} is missing`);
      const rr = r!;
      if (rr.mean.length !== into.size || rr.var.length !== into.size) {
        fail('SHAPE', `VecNormalize state: ${name} has size ${rr.mean.length}, this env needs ${into.size}`);
      }
      if (!rr.mean.every((x) => typeof x === 'number' && Number.isFinite(x))) bad(`${name}.mean has non-finite values`);
      if (!rr.var.every((x) => typeof x === 'number' && Number.isFinite(x) && x >= 0)) bad(`${name}.var must be finite and ≥ 0`);
      if (!(typeof rr.count === 'number' && Number.isFinite(rr.count) && rr.count > 0)) bad(`${name}.count must be > 0`);
      into.mean = Float64Array.from(rr.mean);
      into.var = Float64Array.from(rr.var);
      into.count = rr.count;
    };
    for (const k of ['clipObs', 'clipReward', 'epsilon'] as const) {
      if (!(typeof st[k] === 'number' && st[k] > 0 && Number.isFinite(st[k]))) bad(`${k} must be a positive number`);
    }
    if (!(typeof st.gamma === 'number' && st.gamma >= 0 && st.gamma <= 1)) bad('gamma must be in [0, 1]');
    if (typeof st.normObs !== 'boolean' || typeof st.normReward !== 'boolean') bad('normObs/normReward must be booleans');
    loadRms('obsRms', st.obsRms, this.obsRms);
    loadRms('retRms', st.retRms, this.retRms);
    this.normObs = st.normObs;
    this.normReward = st.normReward;
    this.clipObs = st.clipObs;
    this.clipReward = st.clipReward;
    this.gamma = st.gamma;
    this.epsilon = st.epsilon;
    if (Array.isArray(st.returns) && st.returns.length === this.num && st.returns.every((x) => Number.isFinite(x))) this.returns.set(st.returns);
    else this.returns.fill(0);
  }

  close(): void {
    this.venv.close();
  }

  private checkFinite(obs: Float64Array, where: string): void {
    for (let k = 0; k < obs.length; k++) {
      if (!Number.isFinite(obs[k]!)) {
        fail('NON_FINITE', `${this.id}: ${where} returned observation ${obs[k]} (copy ${Math.floor(k / this.obsDim)}, coordinate ${k % this.obsDim}); refusing to fold it into the running statistics`);
      }
    }
  }
}

function positive(name: string, v: number): number {
  if (!(typeof v === 'number' && v > 0 && Number.isFinite(v))) fail('INVALID_ARGUMENT', `VecNormalize ${name} must be a positive number, got ${v}`);
  return v;
}
