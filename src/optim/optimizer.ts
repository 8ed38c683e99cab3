/**
 * The interface every optimiser implements, plus the checks they share.
 *
 * An optimiser updates parameter data in place, outside any autodiff graph. Its learning rate is
 * a plain field that the trainer sets from the schedule before each step, so schedules stay pure
 * functions of the step number (which keeps a resumed run identical to an uninterrupted one).
 */
import type { FloatArray } from '../core/dtype.js';
import { fail, shapeStr } from '../core/errors.js';
import type { Tensor } from '../core/tensor.js';
import { decodeFloatArray, encodeFloatArray, type EncodedArray } from '../io/base64.js';

export type OptimizerName = 'sgd' | 'adam' | 'adamw';
export const OPTIMIZER_NAMES: readonly OptimizerName[] = ['sgd', 'adam', 'adamw'];

/** Per-parameter buffers of a checkpointed optimiser (moments, momentum), exact bit for bit. */
export interface SlotState {
  readonly name: string | null;
  readonly shape: readonly number[];
  readonly buffers: Record<string, EncodedArray>;
}

/** Everything needed to continue an optimiser exactly where it stopped. JSON-serialisable. */
export interface OptimizerState {
  readonly optimizer: OptimizerName;
  /** Updates applied so far (Adam's bias correction depends on it). */
  readonly step: number;
  readonly hyper: Record<string, number | boolean>;
  /** One entry per parameter, in `params` order; empty before the first step. */
  readonly slots: readonly SlotState[];
}

export interface Optimizer {
  readonly name: OptimizerName;
  /** Learning rate used by the next `step`; the trainer sets it from the schedule. */
  lr: number;
  /** Updates applied so far. */
  readonly stepCount: number;
  /** Applies one update: params[i].data changes in place using grads[i]. */
  step(params: readonly Tensor[], grads: readonly Tensor[]): void;
  state(): OptimizerState;
  /** Restores `state()` output; throws naming the mismatch when it does not fit this optimiser. */
  loadState(state: OptimizerState): void;
}

export function checkLearningRate(lr: number): void {
  if (!(Number.isFinite(lr) && lr >= 0)) fail('INVALID_ARGUMENT', `learning rate must be a finite number ≥ 0, got ${lr}`);
}

export function checkHyper(what: string, v: number, lo: number, hi: number, hiInclusive: boolean): void {
  const ok = Number.isFinite(v) && v >= lo && (hiInclusive ? v <= hi : v < hi);
  if (!ok) fail('INVALID_ARGUMENT', `${what} must be in [${lo}, ${hi}${hiInclusive ? ']' : ')'}, got ${v}`);
}

function paramLabel(p: Tensor, i: number): string {
  return p.name !== undefined ? `parameter ${i} ('${p.name}')` : `parameter ${i}`;
}

/** Params and grads must pair up one to one in shape and dtype. */
export function checkStepArgs(who: string, params: readonly Tensor[], grads: readonly Tensor[]): void {
  if (params.length !== grads.length) fail('SHAPE', `${who}: ${params.length} parameters but ${grads.length} gradients`);
  for (let i = 0; i < params.length; i++) {
    const p = params[i]!;
    const g = grads[i]!;
    if (g.size !== p.size) fail('SHAPE', `${who}: gradient ${shapeStr(g.shape)} does not match ${paramLabel(p, i)} ${shapeStr(p.shape)}`);
    if (g.dtype !== p.dtype) fail('DTYPE', `${who}: gradient is ${g.dtype} but ${paramLabel(p, i)} is ${p.dtype}`);
  }
}

/**
 * Per-parameter buffers, created lazily on the first step (so the optimiser need not know the
 * model up front) and checked against the parameters on every later step.
 */
export class Slots {
  private slots: { name: string | null; shape: readonly number[]; buffers: Record<string, FloatArray> }[] | null = null;

  constructor(
    private readonly who: string,
    private readonly bufferNames: readonly string[],
  ) {}

  get initialised(): boolean {
    return this.slots !== null;
  }

  /** Buffers for `params`, allocating zeros on first use. */
  forParams(params: readonly Tensor[]): Record<string, FloatArray>[] {
    if (this.slots === null) {
      this.slots = params.map((p) => {
        const buffers: Record<string, FloatArray> = {};
        for (const b of this.bufferNames) buffers[b] = p.dtype === 'float32' ? new Float32Array(p.size) : new Float64Array(p.size);
        return { name: p.name ?? null, shape: [...p.shape], buffers };
      });
    }
    const slots = this.slots;
    if (slots.length !== params.length) fail('SHAPE', `${this.who}: state holds ${slots.length} parameters but step got ${params.length}`);
    params.forEach((p, i) => {
      const s = slots[i]!;
      const first = s.buffers[this.bufferNames[0]!]!;
      if (first.length !== p.size) fail('SHAPE', `${this.who}: state for ${paramLabel(p, i)} has shape ${shapeStr(s.shape)}, parameter is ${shapeStr(p.shape)}`);
      if ((first instanceof Float32Array ? 'float32' : 'float64') !== p.dtype) fail('DTYPE', `${this.who}: state for ${paramLabel(p, i)} is not ${p.dtype}`);
    });
    return slots.map((s) => s.buffers);
  }

  toState(): SlotState[] {
    if (this.slots === null) return [];
    return this.slots.map((s) => {
      const buffers: Record<string, EncodedArray> = {};
      for (const b of this.bufferNames) buffers[b] = encodeFloatArray(s.buffers[b]!);
      return { name: s.name, shape: [...s.shape], buffers };
    });
  }

  fromState(state: readonly SlotState[]): void {
    if (!Array.isArray(state)) fail('CORRUPT_FILE', `${this.who}: optimiser state has no slot list`);
    if (state.length === 0) {
      this.slots = null;
      return;
    }
    this.slots = state.map((s, i) => {
      const buffers: Record<string, FloatArray> = {};
      const size = (s.shape as readonly number[]).reduce((a: number, d: number) => a * d, 1);
      for (const b of this.bufferNames) {
        const enc = s.buffers?.[b];
        if (enc === undefined) fail('CORRUPT_FILE', `${this.who}: optimiser state of parameter ${i} lacks its '${b}' buffer`);
        const arr = decodeFloatArray(enc, `${this.who} state '${b}' of parameter ${i}`);
        if (arr.length !== size) fail('CORRUPT_FILE', `${this.who}: '${b}' buffer of parameter ${i} holds ${arr.length} values, shape ${shapeStr(s.shape)} needs ${size}`);
        buffers[b] = arr;
      }
      return { name: s.name, shape: [...s.shape], buffers };
    });
  }
}

/** Checks a loaded state belongs to this optimiser with the same hyperparameters. */
export function checkStateMatches(name: OptimizerName, hyper: Record<string, number | boolean>, state: OptimizerState): void {
  if (state === null || typeof state !== 'object') fail('CORRUPT_FILE', `optimiser state is not an object`);
  if (state.optimizer !== name) fail('INVALID_ARGUMENT', `optimiser state is for '${String(state.optimizer)}', this optimiser is '${name}'`);
  if (!Number.isInteger(state.step) || state.step < 0) fail('CORRUPT_FILE', `optimiser state has invalid step count ${String(state.step)}`);
  for (const [k, v] of Object.entries(hyper)) {
    const got = state.hyper?.[k];
    // Compare serialised forms: numbers round-trip exactly through JSON.
    if (got !== v) fail('INVALID_ARGUMENT', `optimiser state has ${k} = ${String(got)}, this ${name} optimiser has ${k} = ${String(v)}`);
  }
}
