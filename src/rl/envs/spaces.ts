// Building, describing and checking observation/action spaces. Every env validates its action
// here so that a policy bug (wrong shape, NaN, out of range, a fractional discrete action) stops
// with a named FimkitError at the step that received it, instead of silently simulating garbage.
import { fail } from '../../core/errors.js';
import type { Action, Space } from './types.js';

export function discreteSpace(n: number): Space {
  if (!Number.isInteger(n) || n < 1) fail('INVALID_ARGUMENT', `discrete space size must be an integer ≥ 1, got ${n}`);
  return { kind: 'discrete', n };
}

/** A box space; bounds are copied. */
export function boxSpace(low: ArrayLike<number>, high: ArrayLike<number>, shape: readonly number[] = [low.length]): Space {
  const size = shape.reduce((a, b) => a * b, 1);
  if (low.length !== size || high.length !== size) {
    fail('SHAPE', `box bounds have lengths ${low.length}/${high.length}, shape [${shape.join(', ')}] needs ${size}`);
  }
  return { kind: 'box', shape: [...shape], low: Float64Array.from(low), high: Float64Array.from(high) };
}

/** Number of scalars in one element of the space (1 for a discrete space: one integer). */
export function spaceSize(space: Space): number {
  return space.kind === 'discrete' ? 1 : space.shape.reduce((a, b) => a * b, 1);
}

export function describeSpace(space: Space): string {
  if (space.kind === 'discrete') return `Discrete(${space.n})`;
  const fmt = (a: Float64Array): string => `[${Array.from(a, (v) => (Number.isFinite(v) ? String(+v.toPrecision(6)) : v > 0 ? 'inf' : '-inf')).join(', ')}]`;
  return `Box(${fmt(space.low)}, ${fmt(space.high)}, shape [${space.shape.join(', ')}])`;
}

/**
 * Throws a named error unless `action` is a member of `space`: for a discrete space a plain
 * integer number in [0, n); for a box a Float64Array of the box's size, finite, within
 * [low, high]. `who` names the env in the message.
 */
export function checkAction(space: Space, action: Action, who: string): void {
  if (space.kind === 'discrete') {
    if (typeof action !== 'number') {
      fail('SHAPE', `${who}: action must be an integer in [0, ${space.n}) for Discrete(${space.n}), got an array of length ${(action as ArrayLike<number>).length}`);
    }
    if (!Number.isFinite(action)) fail('NON_FINITE', `${who}: action is ${action}; Discrete(${space.n}) needs an integer in [0, ${space.n})`);
    if (!Number.isInteger(action)) fail('INVALID_ARGUMENT', `${who}: action ${action} is not an integer; Discrete(${space.n}) needs one in [0, ${space.n})`);
    if (action < 0 || action >= space.n) fail('INVALID_ARGUMENT', `${who}: action ${action} is out of range for Discrete(${space.n})`);
    return;
  }
  const size = spaceSize(space);
  if (typeof action === 'number' || !(action instanceof Float64Array)) {
    fail('SHAPE', `${who}: action must be a Float64Array of length ${size} for ${describeSpace(space)}, got ${typeof action === 'number' ? `the number ${action}` : 'another array type'}`);
  }
  if (action.length !== size) fail('SHAPE', `${who}: action has length ${action.length}, ${describeSpace(space)} needs ${size}`);
  for (let i = 0; i < size; i++) {
    const a = action[i]!;
    if (!Number.isFinite(a)) fail('NON_FINITE', `${who}: action[${i}] is ${a}`);
    if (a < space.low[i]! || a > space.high[i]!) {
      fail('INVALID_ARGUMENT', `${who}: action[${i}] = ${a} is outside [${space.low[i]}, ${space.high[i]}]; clip continuous actions to the action space (clipAction) before stepping`);
    }
  }
}

/** Clips a continuous action into a box (the step every Gaussian policy needs before env.step). */
export function clipAction(space: Space, action: Float64Array, out: Float64Array = new Float64Array(action.length)): Float64Array {
  if (space.kind !== 'box') fail('INVALID_ARGUMENT', 'clipAction needs a box space');
  for (let i = 0; i < action.length; i++) {
    const a = action[i]!;
    out[i] = a < space.low[i]! ? space.low[i]! : a > space.high[i]! ? space.high[i]! : a;
  }
  return out;
}
