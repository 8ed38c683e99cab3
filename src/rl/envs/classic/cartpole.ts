// CartPole-v1, Gymnasium's cart-pole (Barto, Sutton & Anderson's "Neuronlike adaptive elements
// that can solve difficult learning control problems"): same constants, explicit Euler
// integrator, thresholds (|x| > 2.4, |θ| > 12°), reward +1 on every step including the
// terminating one, reset U(−0.05, 0.05)⁴, TimeLimit 500. Arithmetic is written in the same
// order as Gymnasium's so that trajectories agree to the last bits (up to libm's cos/sin).
import type { Action, Space } from '../types.js';
import { boxSpace, discreteSpace } from '../spaces.js';
import { ClassicEnv, f32, type Transition } from './base.js';

const GRAVITY = 9.8;
const MASS_CART = 1.0;
const MASS_POLE = 0.1;
const TOTAL_MASS = MASS_POLE + MASS_CART;
/** Half the pole's length. */
const LENGTH = 0.5;
const POLEMASS_LENGTH = MASS_POLE * LENGTH;
const FORCE_MAG = 10.0;
const TAU = 0.02;
const THETA_THRESHOLD = (12 * 2 * Math.PI) / 360;
const X_THRESHOLD = 2.4;

export class CartPoleEnv extends ClassicEnv {
  readonly id = 'CartPole-v1';
  readonly observationSpace: Space;
  readonly actionSpace: Space = discreteSpace(2);
  protected readonly stateSize = 4;
  private x = 0;
  private xDot = 0;
  private theta = 0;
  private thetaDot = 0;

  constructor(maxEpisodeSteps: number | null = 500) {
    super(maxEpisodeSteps);
    const high = f32([X_THRESHOLD * 2, Infinity, THETA_THRESHOLD * 2, Infinity]);
    this.observationSpace = boxSpace(high.map((v) => -v), high);
  }

  protected resetState(): void {
    this.x = this.uniform(-0.05, 0.05);
    this.xDot = this.uniform(-0.05, 0.05);
    this.theta = this.uniform(-0.05, 0.05);
    this.thetaDot = this.uniform(-0.05, 0.05);
  }

  protected advance(action: Action): Transition {
    const force = action === 1 ? FORCE_MAG : -FORCE_MAG;
    const { x, xDot, theta, thetaDot } = this;
    const cosT = Math.cos(theta);
    const sinT = Math.sin(theta);
    const temp = (force + POLEMASS_LENGTH * (thetaDot * thetaDot) * sinT) / TOTAL_MASS;
    const thetaAcc = (GRAVITY * sinT - cosT * temp) / (LENGTH * (4.0 / 3.0 - (MASS_POLE * (cosT * cosT)) / TOTAL_MASS));
    const xAcc = temp - (POLEMASS_LENGTH * thetaAcc * cosT) / TOTAL_MASS;
    // Explicit Euler: positions advance with the old velocities.
    this.x = x + TAU * xDot;
    this.xDot = xDot + TAU * xAcc;
    this.theta = theta + TAU * thetaDot;
    this.thetaDot = thetaDot + TAU * thetaAcc;
    const terminated = this.x < -X_THRESHOLD || this.x > X_THRESHOLD || this.theta < -THETA_THRESHOLD || this.theta > THETA_THRESHOLD;
    return { reward: 1.0, terminated };
  }

  protected observe(): Float64Array {
    return f32([this.x, this.xDot, this.theta, this.thetaDot]);
  }

  protected stateVector(): Float64Array {
    return Float64Array.from([this.x, this.xDot, this.theta, this.thetaDot]);
  }

  protected loadStateVector(s: Float64Array): void {
    [this.x, this.xDot, this.theta, this.thetaDot] = [s[0]!, s[1]!, s[2]!, s[3]!];
  }
}
