// MountainCarContinuous-v0 as in Gymnasium: force = clip(a, −1, 1), v += force·0.0015 −
// 0.0025·cos(3x), v clipped to ±0.07, x += v clipped to [−1.2, 0.6], a car at the left wall loses
// its leftward speed; terminated when x ≥ 0.45 and v ≥ 0; reward −0.1·a² per step (+100 on the
// terminating step); reset x ~ U(−0.6, −0.4), v = 0; TimeLimit 999.
//
// Precision: Gymnasium keeps this env's state as float32 after each step, and under NumPy 2's
// promotion rules (a float32 scalar combined with a Python float stays float32) the velocity and
// position updates are float32 operations, while the first step after a reset runs on the
// float64 reset state. Plain float64 arithmetic drifts from Gymnasium's states by up to 2.2e-7
// over the conformance fixture's 345 steps (and the drift grows with episode length), so the
// rounding is reproduced here with Math.fround at the same places; the fixture then agrees bit
// for bit.
// (Each float32 operation is emulated by a float64 operation on float32 inputs followed by one
// rounding to float32, which is exact for +, −, × by the double-rounding theorem.) Actions are
// float32 in Gymnasium's action space and are rounded to float32 here too.
import type { Action, Space } from '../types.js';
import { boxSpace } from '../spaces.js';
import { ClassicEnv, f32, type Transition } from './base.js';

const MIN_ACTION = -1.0;
const MAX_ACTION = 1.0;
const MIN_POSITION = -1.2;
const MAX_POSITION = 0.6;
const MAX_SPEED = 0.07;
const GOAL_POSITION = 0.45;
const GOAL_VELOCITY = 0;
const POWER = 0.0015;
const fr = Math.fround;

export class MountainCarContinuousEnv extends ClassicEnv {
  readonly id = 'MountainCarContinuous-v0';
  readonly observationSpace: Space = boxSpace(f32([MIN_POSITION, -MAX_SPEED]), f32([MAX_POSITION, MAX_SPEED]));
  readonly actionSpace: Space = boxSpace([MIN_ACTION], [MAX_ACTION]);
  protected readonly stateSize = 2;
  private position = 0;
  private velocity = 0;
  /** Whether the state is Gymnasium's float32 array (after a step) or its float64 one (after reset). */
  private stateIsF32 = false;

  constructor(maxEpisodeSteps: number | null = 999) {
    super(maxEpisodeSteps);
  }

  protected resetState(): void {
    this.position = this.uniform(-0.6, -0.4);
    this.velocity = 0;
    this.stateIsF32 = false;
  }

  protected advance(action: Action): Transition {
    const a = fr((action as Float64Array)[0]!);
    const f32State = this.stateIsF32;
    // The action was validated to lie in [−1, 1], so clipping keeps the float32 value itself.
    const force = Math.min(Math.max(a, MIN_ACTION), MAX_ACTION);
    const push = fr(force * fr(POWER));
    const slope = 0.0025 * Math.cos(f32State ? fr(3 * this.position) : 3 * this.position);
    const dv = fr(push - fr(slope));
    let velocity = f32State ? fr(this.velocity + dv) : this.velocity + dv;
    // vF32: the velocity is a float32 scalar (else a double: float64 or a Python float), which
    // decides both its comparisons (Python floats are rounded to float32 to compare with one)
    // and the type of position + velocity.
    let vF32 = f32State;
    if (vF32 ? velocity > fr(MAX_SPEED) : velocity > MAX_SPEED) {
      velocity = MAX_SPEED;
      vF32 = false;
    }
    if (vF32 ? velocity < fr(-MAX_SPEED) : velocity < -MAX_SPEED) {
      velocity = -MAX_SPEED;
      vF32 = false;
    }
    let position = f32State ? fr(this.position + (vF32 ? velocity : fr(velocity))) : this.position + velocity;
    let pF32 = f32State;
    if (pF32 ? position > fr(MAX_POSITION) : position > MAX_POSITION) {
      position = MAX_POSITION;
      pF32 = false;
    }
    if (pF32 ? position < fr(MIN_POSITION) : position < MIN_POSITION) {
      position = MIN_POSITION;
      pF32 = false;
    }
    if ((pF32 ? position === fr(MIN_POSITION) : position === MIN_POSITION) && velocity < 0) velocity = 0;
    const terminated = (pF32 ? position >= fr(GOAL_POSITION) : position >= GOAL_POSITION) && velocity >= GOAL_VELOCITY;
    // The reward uses the action as given (before clipping), squared in float64.
    const reward = (terminated ? 100.0 : 0) - a * a * 0.1;
    this.position = fr(position);
    this.velocity = fr(velocity);
    this.stateIsF32 = true;
    return { reward, terminated };
  }

  protected observe(): Float64Array {
    return f32([this.position, this.velocity]);
  }

  protected stateVector(): Float64Array {
    return Float64Array.from([this.position, this.velocity]);
  }

  /** Loads a state as a reset leaves it (float64; the next step runs in float64). */
  protected loadStateVector(s: Float64Array): void {
    this.position = s[0]!;
    this.velocity = s[1]!;
    this.stateIsF32 = false;
  }
}
