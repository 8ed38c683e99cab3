// MountainCar-v0 (Moore's mountain car as in Gymnasium): v += (a−1)·0.001 − 0.0025·cos(3x),
// v clipped to ±0.07, x += v clipped to [−1.2, 0.6], a car at the left wall loses its leftward
// speed; terminated when x ≥ 0.5 (and v ≥ 0, the goal velocity); reward −1 per step; reset
// x ~ U(−0.6, −0.4), v = 0; TimeLimit 200. Computed in float64 as Gymnasium does for this env.
import type { Action, Space } from '../types.js';
import { boxSpace, discreteSpace } from '../spaces.js';
import { ClassicEnv, f32, type Transition } from './base.js';

const MIN_POSITION = -1.2;
const MAX_POSITION = 0.6;
const MAX_SPEED = 0.07;
const GOAL_POSITION = 0.5;
const GOAL_VELOCITY = 0;
const FORCE = 0.001;
const GRAVITY = 0.0025;

export class MountainCarEnv extends ClassicEnv {
  readonly id = 'MountainCar-v0';
  readonly observationSpace: Space = boxSpace(f32([MIN_POSITION, -MAX_SPEED]), f32([MAX_POSITION, MAX_SPEED]));
  readonly actionSpace: Space = discreteSpace(3);
  protected readonly stateSize = 2;
  private position = 0;
  private velocity = 0;

  constructor(maxEpisodeSteps: number | null = 200) {
    super(maxEpisodeSteps);
  }

  protected resetState(): void {
    this.position = this.uniform(-0.6, -0.4);
    this.velocity = 0;
  }

  protected advance(action: Action): Transition {
    let velocity = this.velocity + (((action as number) - 1) * FORCE + Math.cos(3 * this.position) * -GRAVITY);
    velocity = Math.min(Math.max(velocity, -MAX_SPEED), MAX_SPEED);
    let position = this.position + velocity;
    position = Math.min(Math.max(position, MIN_POSITION), MAX_POSITION);
    if (position === MIN_POSITION && velocity < 0) velocity = 0;
    this.position = position;
    this.velocity = velocity;
    const terminated = position >= GOAL_POSITION && velocity >= GOAL_VELOCITY;
    return { reward: -1.0, terminated };
  }

  protected observe(): Float64Array {
    return f32([this.position, this.velocity]);
  }

  protected stateVector(): Float64Array {
    return Float64Array.from([this.position, this.velocity]);
  }

  protected loadStateVector(s: Float64Array): void {
    this.position = s[0]!;
    this.velocity = s[1]!;
  }
}
