// Pendulum-v1 as in Gymnasium: g = 10, m = l = 1, dt = 0.05, torque clipped to ±2, angular
// speed clipped to ±8; θ̇' = clip(θ̇ + (3g/(2l)·sin θ + 3/(m l²)·u)·dt, ±8), θ' = θ + θ̇'·dt
// (semi-implicit Euler); reward −(norm(θ)² + 0.1·θ̇² + 0.001·u²) with norm(θ) the angle wrapped to
// [−π, π); never terminates; reset θ ~ U(−π, π), θ̇ ~ U(−1, 1); TimeLimit 200.
//
// Precision: the action is float32 (Gymnasium's action space), and NumPy 2 keeps float32 the
// products of a float32 scalar with Python floats, so 3·u and 0.001·u² are rounded to float32
// before joining the float64 state; reproduced with Math.fround.
import type { Action, Space } from '../types.js';
import { boxSpace } from '../spaces.js';
import { ClassicEnv, f32, type Transition } from './base.js';

const MAX_SPEED = 8;
const MAX_TORQUE = 2.0;
const DT = 0.05;
const G = 10.0;
const M = 1.0;
const L = 1.0;
const fr = Math.fround;

/** ((x + π) mod 2π) − π with a floor modulo (Python's and NumPy's %), into [−π, π). */
export function angleNormalize(x: number): number {
  const b = 2 * Math.PI;
  let r = (x + Math.PI) % b;
  if (r !== 0 && r < 0 !== b < 0) r += b;
  return r - Math.PI;
}

export class PendulumEnv extends ClassicEnv {
  readonly id = 'Pendulum-v1';
  readonly observationSpace: Space = boxSpace(f32([-1, -1, -MAX_SPEED]), f32([1, 1, MAX_SPEED]));
  readonly actionSpace: Space = boxSpace([-MAX_TORQUE], [MAX_TORQUE]);
  protected readonly stateSize = 2;
  private theta = 0;
  private thetaDot = 0;

  constructor(maxEpisodeSteps: number | null = 200) {
    super(maxEpisodeSteps);
  }

  protected resetState(): void {
    this.theta = this.uniform(-Math.PI, Math.PI);
    this.thetaDot = this.uniform(-1, 1);
  }

  protected advance(action: Action): Transition {
    const th = this.theta;
    const thdot = this.thetaDot;
    const u = fr(Math.min(Math.max(fr((action as Float64Array)[0]!), -MAX_TORQUE), MAX_TORQUE));
    const an = angleNormalize(th);
    const costs = an * an + 0.1 * (thdot * thdot) + fr(fr(0.001) * fr(u * u));
    let newthdot = thdot + (((3 * G) / (2 * L)) * Math.sin(th) + fr((3.0 / (M * L * L)) * u)) * DT;
    newthdot = Math.min(Math.max(newthdot, -MAX_SPEED), MAX_SPEED);
    this.theta = th + newthdot * DT;
    this.thetaDot = newthdot;
    return { reward: -costs, terminated: false };
  }

  protected observe(): Float64Array {
    return f32([Math.cos(this.theta), Math.sin(this.theta), this.thetaDot]);
  }

  protected stateVector(): Float64Array {
    return Float64Array.from([this.theta, this.thetaDot]);
  }

  protected loadStateVector(s: Float64Array): void {
    this.theta = s[0]!;
    this.thetaDot = s[1]!;
  }
}
