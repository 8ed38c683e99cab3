// What the five classic-control environments share: seeding, Gymnasium's TimeLimit (truncation
// once the step count reaches the registered limit, independently of termination, so both flags
// can be set on the same step, as in Gymnasium), action validation, and the order checks (no
// step before reset, none after the episode ended).
//
// Observations: Gymnasium's classic-control observation spaces are float32, so its observations
// are the float64 state rounded to float32. We return the same values (Math.fround) in a
// Float64Array, so that they agree bit for bit with Gymnasium's.
import { fail } from '../../../core/errors.js';
import { Rng } from '../../../core/rng.js';
import { checkAction } from '../spaces.js';
import type { Action, Env, ResetResult, Space, StepResult } from '../types.js';

export interface Transition {
  reward: number;
  terminated: boolean;
}

export abstract class ClassicEnv implements Env {
  abstract readonly id: string;
  abstract readonly observationSpace: Space;
  abstract readonly actionSpace: Space;
  readonly maxEpisodeSteps: number | null;
  /** Steps taken in the current episode (Gymnasium's TimeLimit._elapsed_steps); settable for tests. */
  elapsedSteps = 0;
  protected rng: Rng;
  private started = false;
  private ended = false;

  constructor(maxEpisodeSteps: number | null) {
    this.maxEpisodeSteps = maxEpisodeSteps;
    // Unseeded, Gymnasium draws its generator's seed from OS entropy; so do we.
    this.rng = new Rng(entropySeed());
  }

  /** Draws the initial state of an episode from `this.rng`. */
  protected abstract resetState(): void;
  /** Applies a validated action to the state; returns reward and termination. */
  protected abstract advance(action: Action): Transition;
  /** The observation of the current state, float32-rounded values. */
  protected abstract observe(): Float64Array;
  protected abstract stateVector(): Float64Array;
  protected abstract loadStateVector(state: Float64Array): void;
  protected abstract readonly stateSize: number;

  reset(seed?: number): ResetResult {
    if (seed !== undefined) {
      if (!Number.isSafeInteger(seed)) fail('INVALID_ARGUMENT', `${this.id}: reset seed must be a safe integer, got ${seed}`);
      this.rng = new Rng(seed);
    }
    this.resetState();
    this.elapsedSteps = 0;
    this.started = true;
    this.ended = false;
    return { observation: this.observe(), info: {} };
  }

  step(action: Action): StepResult {
    if (!this.started) fail('INVALID_ARGUMENT', `${this.id}: step() called before reset()`);
    if (this.ended) fail('INVALID_ARGUMENT', `${this.id}: step() called after the episode ended (terminated or truncated); call reset() first`);
    checkAction(this.actionSpace, action, this.id);
    const { reward, terminated } = this.advance(action);
    this.elapsedSteps++;
    const truncated = this.maxEpisodeSteps !== null && this.elapsedSteps >= this.maxEpisodeSteps;
    this.ended = terminated || truncated;
    return { observation: this.observe(), reward, terminated, truncated, info: {} };
  }

  /** A uniform draw in [lo, hi), written as numpy's Generator.uniform computes it. */
  protected uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.rng.uniform();
  }

  getState(): Float64Array {
    return this.stateVector();
  }

  /** Sets the simulator state (as a reset would leave it) and counts it as a started episode. */
  setState(state: Float64Array): void {
    if (state.length !== this.stateSize) fail('SHAPE', `${this.id}: state has length ${state.length}, expected ${this.stateSize}`);
    for (let i = 0; i < state.length; i++) if (!Number.isFinite(state[i]!)) fail('NON_FINITE', `${this.id}: state[${i}] is ${state[i]}`);
    this.loadStateVector(state);
    this.started = true;
    this.ended = false;
  }

  /** The observation of the current state (no step). */
  observation(): Float64Array {
    return this.observe();
  }

  close(): void {}
}

function entropySeed(): number {
  const c = (globalThis as { crypto?: { getRandomValues(a: Uint32Array): Uint32Array } }).crypto;
  if (c) {
    const w = c.getRandomValues(new Uint32Array(2));
    return w[0]! * 2097152 + (w[1]! >>> 11); // 53 bits
  }
  return Math.floor(Math.random() * Number.MAX_SAFE_INTEGER);
}

/** Float32 copies of float64 values (Gymnasium's float32 observation/space arrays). */
export function f32(values: readonly number[]): Float64Array {
  const out = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = Math.fround(values[i]!);
  return out;
}
