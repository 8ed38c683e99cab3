// Acrobot-v1, Gymnasium's two-link underactuated pendulum (Sutton's swing-up task; "book"
// dynamics, i.e. the equations of Sutton & Barto's book and the Java implementation, not the
// NIPS paper's), integrated by one classical RK4 step over dt = 0.2, angles wrapped to [−π, π],
// velocities clipped to ±4π and ±9π, torque noise 0. Reward −1 per step and 0 on the step that
// reaches the goal height (−cos θ1 − cos(θ1+θ2) > 1); TimeLimit 500. Expressions keep
// Gymnasium's operation order so that results agree to rounding.
import type { Action, Space } from '../types.js';
import { boxSpace, discreteSpace } from '../spaces.js';
import { ClassicEnv, f32, type Transition } from './base.js';

const DT = 0.2;
const LINK_LENGTH_1 = 1.0;
const LINK_MASS_1 = 1.0;
const LINK_MASS_2 = 1.0;
const LINK_COM_POS_1 = 0.5;
const LINK_COM_POS_2 = 0.5;
const LINK_MOI = 1.0;
const G = 9.8;
const MAX_VEL_1 = 4 * Math.PI;
const MAX_VEL_2 = 9 * Math.PI;
const AVAIL_TORQUE = [-1.0, 0.0, 1.0];

/** dθ1, dθ2, ddθ1, ddθ2 of the book dynamics at state s under torque a, written into out. */
function dsdt(s: Float64Array, a: number, out: Float64Array): void {
  const m1 = LINK_MASS_1;
  const m2 = LINK_MASS_2;
  const l1 = LINK_LENGTH_1;
  const lc1 = LINK_COM_POS_1;
  const lc2 = LINK_COM_POS_2;
  const I1 = LINK_MOI;
  const I2 = LINK_MOI;
  const theta1 = s[0]!;
  const theta2 = s[1]!;
  const dtheta1 = s[2]!;
  const dtheta2 = s[3]!;
  const d1 = m1 * (lc1 * lc1) + m2 * (l1 * l1 + lc2 * lc2 + 2 * l1 * lc2 * Math.cos(theta2)) + I1 + I2;
  const d2 = m2 * (lc2 * lc2 + l1 * lc2 * Math.cos(theta2)) + I2;
  const phi2 = m2 * lc2 * G * Math.cos(theta1 + theta2 - Math.PI / 2.0);
  const phi1 =
    -m2 * l1 * lc2 * (dtheta2 * dtheta2) * Math.sin(theta2) -
    2 * m2 * l1 * lc2 * dtheta2 * dtheta1 * Math.sin(theta2) +
    (m1 * lc1 + m2 * l1) * G * Math.cos(theta1 - Math.PI / 2) +
    phi2;
  const ddtheta2 =
    (a + (d2 / d1) * phi1 - m2 * l1 * lc2 * (dtheta1 * dtheta1) * Math.sin(theta2) - phi2) /
    (m2 * (lc2 * lc2) + I2 - (d2 * d2) / d1);
  const ddtheta1 = -(d2 * ddtheta2 + phi1) / d1;
  out[0] = dtheta1;
  out[1] = dtheta2;
  out[2] = ddtheta1;
  out[3] = ddtheta2;
}

/** Wraps x into [m, M] by whole turns (Gymnasium's `wrap`). */
function wrap(x: number, m: number, M: number): number {
  const diff = M - m;
  // A finite state needs few turns; the bound keeps a corrupted state from looping forever.
  for (let k = 0; x > M && k < 1e6; k++) x = x - diff;
  for (let k = 0; x < m && k < 1e6; k++) x = x + diff;
  return x;
}

function bound(x: number, m: number, M: number): number {
  return Math.min(Math.max(x, m), M);
}

export class AcrobotEnv extends ClassicEnv {
  readonly id = 'Acrobot-v1';
  readonly observationSpace: Space;
  readonly actionSpace: Space = discreteSpace(3);
  protected readonly stateSize = 4;
  private readonly s = new Float64Array(4);
  private readonly k1 = new Float64Array(4);
  private readonly k2 = new Float64Array(4);
  private readonly k3 = new Float64Array(4);
  private readonly k4 = new Float64Array(4);
  private readonly y = new Float64Array(4);

  constructor(maxEpisodeSteps: number | null = 500) {
    super(maxEpisodeSteps);
    const high = f32([1, 1, 1, 1, MAX_VEL_1, MAX_VEL_2]);
    this.observationSpace = boxSpace(high.map((v) => -v), high);
  }

  protected resetState(): void {
    // Gymnasium stores the reset draw as float32 (later states are float64).
    for (let i = 0; i < 4; i++) this.s[i] = Math.fround(this.uniform(-0.1, 0.1));
  }

  protected advance(action: Action): Transition {
    const torque = AVAIL_TORQUE[action as number]!;
    const { s, k1, k2, k3, k4, y } = this;
    const dt = DT - 0;
    const dt2 = dt / 2.0;
    dsdt(s, torque, k1);
    for (let i = 0; i < 4; i++) y[i] = s[i]! + dt2 * k1[i]!;
    dsdt(y, torque, k2);
    for (let i = 0; i < 4; i++) y[i] = s[i]! + dt2 * k2[i]!;
    dsdt(y, torque, k3);
    for (let i = 0; i < 4; i++) y[i] = s[i]! + dt * k3[i]!;
    dsdt(y, torque, k4);
    for (let i = 0; i < 4; i++) s[i] = s[i]! + (dt / 6.0) * (k1[i]! + 2 * k2[i]! + 2 * k3[i]! + k4[i]!);
    s[0] = wrap(s[0]!, -Math.PI, Math.PI);
    s[1] = wrap(s[1]!, -Math.PI, Math.PI);
    s[2] = bound(s[2]!, -MAX_VEL_1, MAX_VEL_1);
    s[3] = bound(s[3]!, -MAX_VEL_2, MAX_VEL_2);
    const terminated = -Math.cos(s[0]!) - Math.cos(s[1]! + s[0]!) > 1.0;
    return { reward: terminated ? 0.0 : -1.0, terminated };
  }

  protected observe(): Float64Array {
    const s = this.s;
    return f32([Math.cos(s[0]!), Math.sin(s[0]!), Math.cos(s[1]!), Math.sin(s[1]!), s[2]!, s[3]!]);
  }

  protected stateVector(): Float64Array {
    return Float64Array.from(this.s);
  }

  protected loadStateVector(state: Float64Array): void {
    this.s.set(state);
  }
}
