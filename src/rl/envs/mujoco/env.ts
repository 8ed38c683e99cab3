// What every MuJoCo environment shares, written to Gymnasium's MujocoEnv semantics (v5): the
// action is written to ctrl, the model is stepped `frameSkip` times with mj_step, then
// mj_rnePostConstraint fills the contact-force quantities (cfrc_ext) that mj_step leaves stale;
// reset clears the data (mj_resetData: time, controls and solver warm start) and adds the env's
// reset noise to the initial qpos/qvel; the TimeLimit truncates at the registered step count.
// Each env owns one MjModel/MjData pair in the shared WebAssembly module; close() frees them.
import { fail } from '../../../core/errors.js';
import { Rng } from '../../../core/rng.js';
import { boxSpace, checkAction } from '../spaces.js';
import type { Action, Env, ResetResult, Space, StepResult } from '../types.js';
import { MJ_DSBL_AUTORESET, MJ_MAXVAL, compileModel, type MjDataLike, type MjModelLike, type MujocoModule } from './wasm.js';

/** Options every MuJoCo env takes (Gymnasium's constructor arguments of the same names). */
export interface MujocoCommonOptions {
  /** Physics steps per env step (Gymnasium's frame_skip). */
  frameSkip?: number;
  /** Scale of the reset noise added to the initial qpos and qvel (Gymnasium's reset_noise_scale). */
  resetNoiseScale?: number;
  /** TimeLimit; null for none. */
  maxEpisodeSteps?: number | null;
  /**
   * An MJCF model to simulate instead of the built-in one (Gymnasium's xml_file): a variant with
   * the same joint order and actuators (other masses, frictions, a margin removed, …).
   */
  xml?: string;
}

/** The defaults of the common options (the model's XML is the env's own). */
export type MujocoCommonDefaults = Required<Omit<MujocoCommonOptions, 'xml'>>;

/**
 * Frees the MuJoCo model and data of an env that was dropped without close() (or whose
 * constructor threw after compiling, e.g. on a bad option), when the env is garbage-collected:
 * the WebAssembly heap is not collected by JavaScript's GC on its own.
 */
const finalizer = new FinalizationRegistry<{ model: MjModelLike; data: MjDataLike }>((held) => {
  held.data.delete();
  held.model.delete();
});

export interface StepOutcome {
  reward: number;
  terminated: boolean;
  info: Record<string, unknown>;
}

export abstract class MujocoEnv implements Env {
  readonly id: string;
  readonly observationSpace: Space;
  readonly actionSpace: Space;
  readonly maxEpisodeSteps: number | null;
  readonly frameSkip: number;
  readonly resetNoiseScale: number;
  /** Seconds of simulated time per env step: timestep × frameSkip (Gymnasium's dt). */
  readonly dt: number;
  readonly nq: number;
  readonly nv: number;
  readonly nu: number;
  /** Steps taken in the current episode (Gymnasium's TimeLimit._elapsed_steps). */
  elapsedSteps = 0;
  protected readonly mj: MujocoModule;
  protected model: MjModelLike | null;
  protected data: MjDataLike | null;
  protected rng: Rng;
  /** The model's initial qpos and qvel (qpos0 and zeros), as Gymnasium's init_qpos/init_qvel. */
  protected readonly initQpos: Float64Array;
  protected readonly initQvel: Float64Array;
  private started = false;
  private ended = false;

  /**
   * `obsDim(nq, nv)` gives the observation length for the compiled model's sizes; `onModel`,
   * where given, sees the compiled model before obsDim is asked (Ant and Humanoid count bodies).
   */
  constructor(
    mj: MujocoModule,
    id: string,
    xml: string,
    obsDim: (nq: number, nv: number) => number,
    defaults: MujocoCommonDefaults,
    options: MujocoCommonOptions,
    onModel?: (model: MjModelLike) => void,
  ) {
    this.mj = mj;
    this.id = id;
    // Every option is checked here, before the model is compiled, so that a bad one costs no
    // WebAssembly memory (subclasses read the values after super()).
    checkOptions(id, options, defaults);
    this.frameSkip = options.frameSkip ?? defaults.frameSkip;
    this.resetNoiseScale = options.resetNoiseScale ?? defaults.resetNoiseScale;
    this.maxEpisodeSteps = options.maxEpisodeSteps === undefined ? defaults.maxEpisodeSteps : options.maxEpisodeSteps;
    if (!Number.isInteger(this.frameSkip) || this.frameSkip < 1) fail('INVALID_ARGUMENT', `${id}: frameSkip must be an integer ≥ 1, got ${this.frameSkip}`);
    if (!(this.resetNoiseScale >= 0) || !Number.isFinite(this.resetNoiseScale)) fail('INVALID_ARGUMENT', `${id}: resetNoiseScale must be finite and ≥ 0, got ${this.resetNoiseScale}`);
    if (this.maxEpisodeSteps !== null && (!Number.isInteger(this.maxEpisodeSteps) || this.maxEpisodeSteps < 1)) {
      fail('INVALID_ARGUMENT', `${id}: maxEpisodeSteps must be an integer ≥ 1 or null, got ${this.maxEpisodeSteps}`);
    }
    const model = compileModel(mj, options.xml ?? xml, id);
    // Where the state goes bad (NaN, or beyond 1e10), MuJoCo by default resets the data to the
    // model's initial state and goes on, printing a warning: an episode would silently jump back
    // to its start. With that reset disabled the bad values stay, and step() stops with a named
    // error instead. Nothing else changes: the reset only ever acts on such states.
    model.opt.disableflags = model.opt.disableflags | MJ_DSBL_AUTORESET;
    this.model = model;
    this.data = new mj.MjData(model);
    finalizer.register(this, { model, data: this.data }, this);
    onModel?.(model);
    this.nq = model.nq;
    this.nv = model.nv;
    this.nu = model.nu;
    this.dt = model.opt.timestep * this.frameSkip;
    this.initQpos = Float64Array.from(model.qpos0);
    this.initQvel = new Float64Array(this.nv);
    // Gymnasium's action space: the actuators' control ranges as float32 bounds.
    const range = model.actuator_ctrlrange;
    const low = new Float64Array(this.nu);
    const high = new Float64Array(this.nu);
    for (let i = 0; i < this.nu; i++) {
      low[i] = Math.fround(range[2 * i]!);
      high[i] = Math.fround(range[2 * i + 1]!);
    }
    this.actionSpace = boxSpace(low, high);
    const dim = obsDim(this.nq, this.nv);
    this.observationSpace = boxSpace(new Float64Array(dim).fill(-Infinity), new Float64Array(dim).fill(Infinity));
    this.rng = new Rng(entropySeed());
  }

  /** The observation of the current state. */
  protected abstract observe(): Float64Array;
  /** Reward, termination and info of the step just simulated; `before` is positionBefore()'s value. */
  protected abstract outcome(before: Float64Array, action: Float64Array): StepOutcome;
  /** What outcome() receives as `before`: qpos before the step (Ant: the torso's frame position). */
  protected positionBefore(): Float64Array {
    return Float64Array.from(this.live.data.qpos);
  }

  /** Info returned by reset (Gymnasium's _get_reset_info). */
  protected resetInfo(): Record<string, unknown> {
    return {};
  }

  /**
   * Gymnasium's reset_model for most envs: qpos = init + U(−s, s), qvel = init + U(−s, s), drawn
   * in that order. Envs with other noise override it.
   */
  protected resetModel(qpos: Float64Array, qvel: Float64Array): void {
    const s = this.resetNoiseScale;
    for (let i = 0; i < this.nq; i++) qpos[i] = this.initQpos[i]! + this.uniform(-s, s);
    for (let i = 0; i < this.nv; i++) qvel[i] = this.initQvel[i]! + this.uniform(-s, s);
  }

  /** A uniform draw in [lo, hi), as numpy's Generator.uniform computes it. */
  protected uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.rng.uniform();
  }

  protected get live(): { model: MjModelLike; data: MjDataLike } {
    if (!this.model || !this.data) fail('INVALID_ARGUMENT', `${this.id}: the env was closed`);
    return { model: this.model, data: this.data };
  }

  /** qpos (a fresh view: heap growth in the shared module detaches old ones). */
  protected get qpos(): Float64Array {
    return this.live.data.qpos;
  }

  protected get qvel(): Float64Array {
    return this.live.data.qvel;
  }

  reset(seed?: number): ResetResult {
    if (seed !== undefined) {
      if (!Number.isSafeInteger(seed)) fail('INVALID_ARGUMENT', `${this.id}: reset seed must be a safe integer, got ${seed}`);
      this.rng = new Rng(seed);
    }
    const { model, data } = this.live;
    this.mj.mj_resetData(model, data);
    const qpos = new Float64Array(this.nq);
    const qvel = new Float64Array(this.nv);
    this.resetModel(qpos, qvel);
    this.writeState(qpos, qvel, 0);
    this.elapsedSteps = 0;
    this.started = true;
    this.ended = false;
    return { observation: this.observe(), info: this.resetInfo() };
  }

  step(action: Action): StepResult {
    if (!this.started) fail('INVALID_ARGUMENT', `${this.id}: step() called before reset()`);
    if (this.ended) fail('INVALID_ARGUMENT', `${this.id}: step() called after the episode ended (terminated or truncated); call reset() first`);
    checkAction(this.actionSpace, action, this.id);
    const a = action as Float64Array;
    const { model, data } = this.live;
    const before = this.positionBefore();
    data.ctrl.set(a);
    for (let k = 0; k < this.frameSkip; k++) this.mj.mj_step(model, data);
    this.mj.mj_rnePostConstraint(model, data);
    try {
      this.checkFinite();
    } catch (e) {
      this.ended = true;
      throw e;
    }
    const { reward, terminated, info } = this.outcome(before, a);
    this.elapsedSteps++;
    const truncated = this.maxEpisodeSteps !== null && this.elapsedSteps >= this.maxEpisodeSteps;
    this.ended = terminated || truncated;
    return { observation: this.observe(), reward, terminated, truncated, info };
  }

  /**
   * A simulation that blew up stops with a named error instead of returning garbage: MuJoCo's own
   * test (mj_checkPos/Vel), a NaN or an entry beyond 1e10 in qpos or qvel.
   */
  private checkFinite(): void {
    const { data } = this.live;
    const bad = (x: number): boolean => !(Math.abs(x) <= MJ_MAXVAL);
    const q = data.qpos;
    const v = data.qvel;
    for (let i = 0; i < q.length; i++) if (bad(q[i]!)) fail('NON_FINITE', `${this.id}: the simulation diverged (qpos[${i}] = ${q[i]}) at episode step ${this.elapsedSteps + 1}; reset() to start over`);
    for (let i = 0; i < v.length; i++) if (bad(v[i]!)) fail('NON_FINITE', `${this.id}: the simulation diverged (qvel[${i}] = ${v[i]}) at episode step ${this.elapsedSteps + 1}; reset() to start over`);
  }

  /** qpos ++ qvel ++ [time]. */
  getState(): Float64Array {
    const { data } = this.live;
    const s = new Float64Array(this.nq + this.nv + 1);
    s.set(data.qpos, 0);
    s.set(data.qvel, this.nq);
    s[this.nq + this.nv] = data.time;
    return s;
  }

  /**
   * Starts from a given state, as Gymnasium's reset followed by set_state(qpos, qvel) does: the
   * data is cleared (zero controls and solver warm start), qpos/qvel (and the time, where given)
   * written, and mj_forward run. Accepts qpos ++ qvel or qpos ++ qvel ++ [time].
   */
  setState(state: Float64Array): void {
    const n = this.nq + this.nv;
    if (state.length !== n && state.length !== n + 1) fail('SHAPE', `${this.id}: state has length ${state.length}, expected ${n} (qpos ++ qvel) or ${n + 1} (with the time)`);
    for (let i = 0; i < state.length; i++) if (!Number.isFinite(state[i]!)) fail('NON_FINITE', `${this.id}: state[${i}] is ${state[i]}`);
    const { model, data } = this.live;
    this.mj.mj_resetData(model, data);
    this.writeState(state.subarray(0, this.nq), state.subarray(this.nq, n), state.length > n ? state[n]! : 0);
    this.started = true;
    this.ended = false;
  }

  private writeState(qpos: Float64Array, qvel: Float64Array, time: number): void {
    const { model, data } = this.live;
    data.qpos.set(qpos);
    data.qvel.set(qvel);
    data.time = time;
    this.mj.mj_forward(model, data);
  }

  /** The observation of the current state (no step). */
  observation(): Float64Array {
    return this.observe();
  }

  /** The compiled model (for structural checks); throws after close(). */
  get mjModel(): MjModelLike {
    return this.live.model;
  }

  get mjData(): MjDataLike {
    return this.live.data;
  }

  close(): void {
    finalizer.unregister(this);
    this.data?.delete();
    this.model?.delete();
    this.data = null;
    this.model = null;
  }
}

/**
 * Checks options against the env's defaults: no unknown names; booleans, finite numbers and
 * [low, high] ranges (low < high) where the default has that type; `xml` a string;
 * `maxEpisodeSteps` may be null.
 */
function checkOptions(id: string, options: object, defaults: object): void {
  if (typeof options !== 'object' || options === null) fail('INVALID_ARGUMENT', `${id}: options must be an object`);
  const known = Object.keys(defaults);
  for (const [k, v] of Object.entries(options)) {
    if (v === undefined) continue;
    if (k === 'xml') {
      if (typeof v !== 'string') fail('INVALID_ARGUMENT', `${id}: xml must be an MJCF string`);
      continue;
    }
    if (!known.includes(k)) fail('INVALID_ARGUMENT', `${id}: unknown option '${k}'; known: ${[...known, 'xml'].join(', ')}`);
    const d = (defaults as Record<string, unknown>)[k];
    if (k === 'maxEpisodeSteps' && v === null) continue;
    if (typeof d === 'boolean' && typeof v !== 'boolean') fail('INVALID_ARGUMENT', `${id}: ${k} must be true or false, got ${JSON.stringify(v)}`);
    if (typeof d === 'number' && (typeof v !== 'number' || !Number.isFinite(v))) fail('INVALID_ARGUMENT', `${id}: ${k} must be a finite number, got ${String(v)}`);
    if (Array.isArray(d)) checkRange(id, k, v as Range);
  }
}

type Range = readonly [number, number];

/** A [low, high] pair with low < high (either end may be infinite). */
export function checkRange(id: string, name: string, r: Range): Range {
  if (!Array.isArray(r) || r.length !== 2 || typeof r[0] !== 'number' || typeof r[1] !== 'number' || Number.isNaN(r[0]) || Number.isNaN(r[1]) || !(r[0] < r[1])) {
    fail('INVALID_ARGUMENT', `${id}: ${name} must be [low, high] with low < high, got ${JSON.stringify(r)}`);
  }
  return r;
}

/** Σ action², the control cost every locomotion env charges (times its weight). */
export function sumSquares(a: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * a[i]!;
  return s;
}

/** Unseeded, Gymnasium seeds its generator from OS entropy; so does an unseeded fimkit env. */
function entropySeed(): number {
  const c = (globalThis as { crypto?: { getRandomValues(a: Uint32Array): Uint32Array } }).crypto;
  if (c) {
    const w = c.getRandomValues(new Uint32Array(2));
    return w[0]! * 2097152 + (w[1]! >>> 11);
  }
  return Math.floor(Math.random() * Number.MAX_SAFE_INTEGER);
}
