// The MuJoCo tasks, each written to Gymnasium's v5 definition: observation layout, reward terms,
// health and termination rules, reset noise and defaults. Every constructor argument of the v5
// class is an option here under its camelCase name, with v5's default.
import { fail } from '../../../core/errors.js';
import { MujocoEnv, checkRange, sumSquares, type MujocoCommonDefaults, type MujocoCommonOptions, type StepOutcome } from './env.js';
import type { MjModelLike, MujocoModule } from './wasm.js';
import { ANT_XML } from './assets/ant.js';
import { HALF_CHEETAH_XML } from './assets/half-cheetah.js';
import { HOPPER_XML } from './assets/hopper.js';
import { HUMANOID_XML } from './assets/humanoid.js';
import { INVERTED_DOUBLE_PENDULUM_XML } from './assets/inverted-double-pendulum.js';
import { INVERTED_PENDULUM_XML } from './assets/inverted-pendulum.js';
import { PUSHER_XML } from './assets/pusher.js';
import { REACHER_XML } from './assets/reacher.js';
import { SWIMMER_XML } from './assets/swimmer.js';
import { WALKER2D_XML } from './assets/walker2d.js';

type Range = readonly [number, number];

function checkWeight(id: string, name: string, w: number): number {
  if (!Number.isFinite(w)) fail('INVALID_ARGUMENT', `${id}: ${name} must be a finite number, got ${w}`);
  return w;
}

/** qpos without its first `skip` entries, then qvel (clipped to ±clip where given). */
function positionsAndVelocities(qpos: Float64Array, qvel: Float64Array, skip: number, clip: number | null): Float64Array {
  const nq = qpos.length - skip;
  const o = new Float64Array(nq + qvel.length);
  for (let i = 0; i < nq; i++) o[i] = qpos[skip + i]!;
  for (let i = 0; i < qvel.length; i++) {
    const v = qvel[i]!;
    o[nq + i] = clip === null ? v : v < -clip ? -clip : v > clip ? clip : v;
  }
  return o;
}

// ---------------------------------------------------------------------------------------------
// Forward-moving planar robots: Hopper, Walker2d, HalfCheetah (and Swimmer below).

export interface ForwardOptions extends MujocoCommonOptions {
  forwardRewardWeight?: number;
  ctrlCostWeight?: number;
  /** Drop the root x position from the observation (v5 default true). */
  excludeCurrentPositionsFromObservation?: boolean;
}

export interface HealthyOptions extends ForwardOptions {
  healthyReward?: number;
  terminateWhenUnhealthy?: boolean;
  healthyZRange?: Range;
  healthyAngleRange?: Range;
}

type Defaults<T extends MujocoCommonOptions> = Required<Omit<T, 'xml'>>;
type HealthyDefaults = Defaults<HealthyOptions>;

export interface HopperOptions extends HealthyOptions {
  /** Bounds on every entry of (qpos, qvel) after the first two (v5: (−100, 100)). */
  healthyStateRange?: Range;
}

/** Hopper and Walker2d: forward velocity + healthy reward − control cost; unhealthy ends the episode. */
abstract class HealthyWalker extends MujocoEnv {
  readonly forwardRewardWeight: number;
  readonly ctrlCostWeight: number;
  readonly healthyReward: number;
  readonly terminateWhenUnhealthy: boolean;
  readonly healthyZRange: Range;
  readonly healthyAngleRange: Range;
  protected readonly skip: number;

  constructor(mj: MujocoModule, id: string, xml: string, defaults: HealthyDefaults, options: HealthyOptions) {
    const exclude = options.excludeCurrentPositionsFromObservation ?? defaults.excludeCurrentPositionsFromObservation;
    super(mj, id, xml, (nq, nv) => nq + nv - (exclude ? 1 : 0), defaults, options);
    this.skip = exclude ? 1 : 0;
    this.forwardRewardWeight = checkWeight(id, 'forwardRewardWeight', options.forwardRewardWeight ?? defaults.forwardRewardWeight);
    this.ctrlCostWeight = checkWeight(id, 'ctrlCostWeight', options.ctrlCostWeight ?? defaults.ctrlCostWeight);
    this.healthyReward = checkWeight(id, 'healthyReward', options.healthyReward ?? defaults.healthyReward);
    this.terminateWhenUnhealthy = options.terminateWhenUnhealthy ?? defaults.terminateWhenUnhealthy;
    this.healthyZRange = checkRange(id, 'healthyZRange', options.healthyZRange ?? defaults.healthyZRange);
    this.healthyAngleRange = checkRange(id, 'healthyAngleRange', options.healthyAngleRange ?? defaults.healthyAngleRange);
  }

  /** Strict inequalities, as v5 writes them: z and the torso angle are qpos[1] and qpos[2]. */
  isHealthy(): boolean {
    const q = this.qpos;
    const z = q[1]!;
    const angle = q[2]!;
    return this.healthyZRange[0] < z && z < this.healthyZRange[1] && this.healthyAngleRange[0] < angle && angle < this.healthyAngleRange[1];
  }

  protected observe(): Float64Array {
    return positionsAndVelocities(this.qpos, this.qvel, this.skip, 10);
  }

  protected outcome(before: Float64Array, action: Float64Array): StepOutcome {
    const q = this.qpos;
    const xVelocity = (q[0]! - before[0]!) / this.dt;
    const healthy = this.isHealthy();
    const forward = this.forwardRewardWeight * xVelocity;
    // v5 pays the healthy reward only while healthy (v4 paid it on every step).
    const survive = healthy ? this.healthyReward : 0;
    const ctrl = this.ctrlCostWeight * sumSquares(action);
    return {
      reward: forward + survive - ctrl,
      terminated: !healthy && this.terminateWhenUnhealthy,
      info: { x_position: q[0]!, z_distance_from_origin: q[1]! - this.initQpos[1]!, x_velocity: xVelocity, reward_forward: forward, reward_ctrl: -ctrl, reward_survive: survive },
    };
  }

  protected override resetInfo(): Record<string, unknown> {
    const q = this.qpos;
    return { x_position: q[0]!, z_distance_from_origin: q[1]! - this.initQpos[1]! };
  }
}

const HOPPER_DEFAULTS: Defaults<HopperOptions> = {
  frameSkip: 4,
  resetNoiseScale: 5e-3,
  maxEpisodeSteps: 1000,
  forwardRewardWeight: 1,
  ctrlCostWeight: 1e-3,
  healthyReward: 1,
  terminateWhenUnhealthy: true,
  healthyStateRange: [-100, 100],
  healthyZRange: [0.7, Infinity],
  healthyAngleRange: [-0.2, 0.2],
  excludeCurrentPositionsFromObservation: true,
};

/** Hopper-v5: obs qpos[1:] (5) ++ clip(qvel, ±10) (6) = 11; action 3 in [−1, 1]. */
export class HopperEnv extends HealthyWalker {
  readonly healthyStateRange: Range;
  constructor(mj: MujocoModule, options: HopperOptions = {}) {
    super(mj, 'Hopper-v5', HOPPER_XML, HOPPER_DEFAULTS, options);
    this.healthyStateRange = checkRange(this.id, 'healthyStateRange', options.healthyStateRange ?? HOPPER_DEFAULTS.healthyStateRange);
  }

  /** Also every entry of (qpos, qvel) from index 2 on strictly inside healthyStateRange. */
  override isHealthy(): boolean {
    const [lo, hi] = this.healthyStateRange;
    const q = this.qpos;
    const v = this.qvel;
    for (let i = 2; i < q.length; i++) if (!(lo < q[i]! && q[i]! < hi)) return false;
    for (let i = 0; i < v.length; i++) if (!(lo < v[i]! && v[i]! < hi)) return false;
    return super.isHealthy();
  }
}

const WALKER_DEFAULTS: HealthyDefaults = {
  frameSkip: 4,
  resetNoiseScale: 5e-3,
  maxEpisodeSteps: 1000,
  forwardRewardWeight: 1,
  ctrlCostWeight: 1e-3,
  healthyReward: 1,
  terminateWhenUnhealthy: true,
  healthyZRange: [0.8, 2],
  healthyAngleRange: [-1, 1],
  excludeCurrentPositionsFromObservation: true,
};

/** Walker2d-v5: obs qpos[1:] (8) ++ clip(qvel, ±10) (9) = 17; action 6 in [−1, 1]. */
export class Walker2dEnv extends HealthyWalker {
  constructor(mj: MujocoModule, options: HealthyOptions = {}) {
    super(mj, 'Walker2d-v5', WALKER2D_XML, WALKER_DEFAULTS, options);
  }
}

const CHEETAH_DEFAULTS: Defaults<ForwardOptions> = {
  frameSkip: 5,
  resetNoiseScale: 0.1,
  maxEpisodeSteps: 1000,
  forwardRewardWeight: 1,
  ctrlCostWeight: 0.1,
  excludeCurrentPositionsFromObservation: true,
};

/**
 * HalfCheetah-v5: obs qpos[1:] (8) ++ qvel (9, unclipped) = 17; action 6 in [−1, 1]; reward
 * forward velocity − 0.1·|a|²; never terminates. Reset: qpos + U(−s, s), qvel + s·N(0, 1).
 */
export class HalfCheetahEnv extends MujocoEnv {
  readonly forwardRewardWeight: number;
  readonly ctrlCostWeight: number;
  private readonly skip: number;
  constructor(mj: MujocoModule, options: ForwardOptions = {}) {
    const exclude = options.excludeCurrentPositionsFromObservation ?? CHEETAH_DEFAULTS.excludeCurrentPositionsFromObservation;
    super(mj, 'HalfCheetah-v5', HALF_CHEETAH_XML, (nq, nv) => nq + nv - (exclude ? 1 : 0), CHEETAH_DEFAULTS, options);
    this.skip = exclude ? 1 : 0;
    this.forwardRewardWeight = checkWeight(this.id, 'forwardRewardWeight', options.forwardRewardWeight ?? CHEETAH_DEFAULTS.forwardRewardWeight);
    this.ctrlCostWeight = checkWeight(this.id, 'ctrlCostWeight', options.ctrlCostWeight ?? CHEETAH_DEFAULTS.ctrlCostWeight);
  }

  protected override resetModel(qpos: Float64Array, qvel: Float64Array): void {
    const s = this.resetNoiseScale;
    for (let i = 0; i < this.nq; i++) qpos[i] = this.initQpos[i]! + this.uniform(-s, s);
    for (let i = 0; i < this.nv; i++) qvel[i] = this.initQvel[i]! + s * this.rng.normal();
  }

  protected observe(): Float64Array {
    return positionsAndVelocities(this.qpos, this.qvel, this.skip, null);
  }

  protected outcome(before: Float64Array, action: Float64Array): StepOutcome {
    const x = this.qpos[0]!;
    const xVelocity = (x - before[0]!) / this.dt;
    const forward = this.forwardRewardWeight * xVelocity;
    const ctrl = this.ctrlCostWeight * sumSquares(action);
    return { reward: forward - ctrl, terminated: false, info: { x_position: x, x_velocity: xVelocity, reward_forward: forward, reward_ctrl: -ctrl } };
  }

  protected override resetInfo(): Record<string, unknown> {
    return { x_position: this.qpos[0]! };
  }
}

const SWIMMER_DEFAULTS: Defaults<ForwardOptions> = {
  frameSkip: 4,
  resetNoiseScale: 0.1,
  maxEpisodeSteps: 1000,
  forwardRewardWeight: 1,
  ctrlCostWeight: 1e-4,
  excludeCurrentPositionsFromObservation: true,
};

/** Swimmer-v5: obs qpos[2:] (3) ++ qvel (5) = 8; action 2 in [−1, 1]; reward x velocity − 1e-4·|a|². */
export class SwimmerEnv extends MujocoEnv {
  readonly forwardRewardWeight: number;
  readonly ctrlCostWeight: number;
  private readonly skip: number;
  constructor(mj: MujocoModule, options: ForwardOptions = {}) {
    const exclude = options.excludeCurrentPositionsFromObservation ?? SWIMMER_DEFAULTS.excludeCurrentPositionsFromObservation;
    super(mj, 'Swimmer-v5', SWIMMER_XML, (nq, nv) => nq + nv - (exclude ? 2 : 0), SWIMMER_DEFAULTS, options);
    this.skip = exclude ? 2 : 0;
    this.forwardRewardWeight = checkWeight(this.id, 'forwardRewardWeight', options.forwardRewardWeight ?? SWIMMER_DEFAULTS.forwardRewardWeight);
    this.ctrlCostWeight = checkWeight(this.id, 'ctrlCostWeight', options.ctrlCostWeight ?? SWIMMER_DEFAULTS.ctrlCostWeight);
  }

  protected observe(): Float64Array {
    return positionsAndVelocities(this.qpos, this.qvel, this.skip, null);
  }

  protected outcome(before: Float64Array, action: Float64Array): StepOutcome {
    const q = this.qpos;
    const xVelocity = (q[0]! - before[0]!) / this.dt;
    const yVelocity = (q[1]! - before[1]!) / this.dt;
    const forward = this.forwardRewardWeight * xVelocity;
    const ctrl = this.ctrlCostWeight * sumSquares(action);
    return {
      reward: forward - ctrl,
      terminated: false,
      info: { x_position: q[0]!, y_position: q[1]!, distance_from_origin: Math.hypot(q[0]!, q[1]!), x_velocity: xVelocity, y_velocity: yVelocity, reward_forward: forward, reward_ctrl: -ctrl },
    };
  }

  protected override resetInfo(): Record<string, unknown> {
    const q = this.qpos;
    return { x_position: q[0]!, y_position: q[1]!, distance_from_origin: Math.hypot(q[0]!, q[1]!) };
  }
}

// ---------------------------------------------------------------------------------------------
// Balancing.

const PENDULUM_DEFAULTS: MujocoCommonDefaults = { frameSkip: 2, resetNoiseScale: 0.01, maxEpisodeSteps: 1000 };

/**
 * InvertedPendulum-v5: obs qpos ++ qvel = [x, θ, ẋ, θ̇]; action 1 in [−3, 3]; reward 1 while
 * |θ| ≤ 0.2 and the observation is finite, else 0 and terminated.
 */
export class InvertedPendulumEnv extends MujocoEnv {
  constructor(mj: MujocoModule, options: MujocoCommonOptions = {}) {
    super(mj, 'InvertedPendulum-v5', INVERTED_PENDULUM_XML, (nq, nv) => nq + nv, PENDULUM_DEFAULTS, options);
  }

  protected observe(): Float64Array {
    return positionsAndVelocities(this.qpos, this.qvel, 0, null);
  }

  protected outcome(): StepOutcome {
    const o = this.observe();
    const terminated = !o.every(Number.isFinite) || Math.abs(o[1]!) > 0.2;
    const reward = terminated ? 0 : 1;
    return { reward, terminated, info: { reward_survive: reward } };
  }
}

const DOUBLE_PENDULUM_DEFAULTS: Defaults<DoublePendulumOptions> = { frameSkip: 5, resetNoiseScale: 0.1, maxEpisodeSteps: 1000, healthyReward: 10 };

export interface DoublePendulumOptions extends MujocoCommonOptions {
  /** Alive bonus per non-terminal step (v5 default 10). */
  healthyReward?: number;
}

/**
 * InvertedDoublePendulum-v5: obs [x, sin θ1, sin θ2, cos θ1, cos θ2, clip(qvel, ±10) (3),
 * clip(qfrc_constraint[0], ±10)] = 9; action 1 in [−1, 1]; with (x, y) the tip's position,
 * reward = 10·[not terminated] − (0.01x² + (y − 2)²) − (1e-3 θ̇1² + 5e-3 θ̇2²); terminated when
 * y ≤ 1. Reset: qpos + U(−s, s), qvel + s·N(0, 1).
 */
export class InvertedDoublePendulumEnv extends MujocoEnv {
  readonly healthyReward: number;
  constructor(mj: MujocoModule, options: DoublePendulumOptions = {}) {
    super(mj, 'InvertedDoublePendulum-v5', INVERTED_DOUBLE_PENDULUM_XML, () => 9, DOUBLE_PENDULUM_DEFAULTS, options);
    this.healthyReward = checkWeight(this.id, 'healthyReward', options.healthyReward ?? DOUBLE_PENDULUM_DEFAULTS.healthyReward);
  }

  protected override resetModel(qpos: Float64Array, qvel: Float64Array): void {
    const s = this.resetNoiseScale;
    for (let i = 0; i < this.nq; i++) qpos[i] = this.initQpos[i]! + this.uniform(-s, s);
    for (let i = 0; i < this.nv; i++) qvel[i] = this.initQvel[i]! + this.rng.normal() * s;
  }

  protected observe(): Float64Array {
    const q = this.qpos;
    const v = this.qvel;
    const c = this.live.data.qfrc_constraint[0]!;
    const clip = (x: number): number => (x < -10 ? -10 : x > 10 ? 10 : x);
    return Float64Array.of(q[0]!, Math.sin(q[1]!), Math.sin(q[2]!), Math.cos(q[1]!), Math.cos(q[2]!), clip(v[0]!), clip(v[1]!), clip(v[2]!), clip(c));
  }

  protected outcome(): StepOutcome {
    const tip = this.live.data.site_xpos;
    const x = tip[0]!;
    const y = tip[2]!;
    const terminated = y <= 1;
    const v = this.qvel;
    const dist = 0.01 * x ** 2 + (y - 2) ** 2;
    const vel = 1e-3 * v[1]! ** 2 + 5e-3 * v[2]! ** 2;
    const alive = terminated ? 0 : this.healthyReward;
    return { reward: alive - dist - vel, terminated, info: { reward_survive: alive, distance_penalty: -dist, velocity_penalty: -vel } };
  }
}

export interface ReacherOptions extends MujocoCommonOptions {
  rewardDistWeight?: number;
  rewardControlWeight?: number;
}

const REACHER_DEFAULTS: Defaults<ReacherOptions> = { frameSkip: 2, resetNoiseScale: 0.1, maxEpisodeSteps: 50, rewardDistWeight: 1, rewardControlWeight: 1 };

/** Body ids are looked up by name in the compiled model (mjOBJ_BODY = 1). */
const MJ_OBJ_BODY = 1;

/**
 * Reacher-v5: obs [cos θ (2), sin θ (2), goal (2), θ̇ (2), (fingertip − target)_xy (2)] = 10;
 * action 2 in [−1, 1]; reward −|fingertip − target|·w_dist − |a|²·w_ctrl; TimeLimit 50, never
 * terminates. Reset: arm angles U(−0.1, 0.1) around zero, goal uniform in the disc of radius 0.2
 * (rejection from the square), arm velocities U(−0.005, 0.005), goal velocity 0. v5's reset draws
 * these ranges as constants, so resetNoiseScale does not enter.
 */
export class ReacherEnv extends MujocoEnv {
  readonly rewardDistWeight: number;
  readonly rewardControlWeight: number;
  private readonly fingertip: number;
  private readonly target: number;
  constructor(mj: MujocoModule, options: ReacherOptions = {}) {
    super(mj, 'Reacher-v5', REACHER_XML, () => 10, REACHER_DEFAULTS, options);
    this.rewardDistWeight = checkWeight(this.id, 'rewardDistWeight', options.rewardDistWeight ?? REACHER_DEFAULTS.rewardDistWeight);
    this.rewardControlWeight = checkWeight(this.id, 'rewardControlWeight', options.rewardControlWeight ?? REACHER_DEFAULTS.rewardControlWeight);
    this.fingertip = mj.mj_name2id(this.mjModel, MJ_OBJ_BODY, 'fingertip');
    this.target = mj.mj_name2id(this.mjModel, MJ_OBJ_BODY, 'target');
    if (this.fingertip < 0 || this.target < 0) fail('MODEL_FORMAT', `${this.id}: the model needs bodies named 'fingertip' and 'target'`);
  }

  protected override resetModel(qpos: Float64Array, qvel: Float64Array): void {
    for (let i = 0; i < this.nq; i++) qpos[i] = this.uniform(-0.1, 0.1) + this.initQpos[i]!;
    // Rejection sampling accepts with probability π/4 per draw; 1000 failures in a row (chance
    // 0.2146^1000) would mean a broken generator, so the loop is bounded and says so.
    let gx = 0;
    let gy = 0;
    for (let k = 0; ; k++) {
      if (k === 1000) fail('INVALID_ARGUMENT', `${this.id}: goal rejection sampling did not accept in 1000 draws`);
      gx = this.uniform(-0.2, 0.2);
      gy = this.uniform(-0.2, 0.2);
      if (Math.hypot(gx, gy) < 0.2) break;
    }
    qpos[this.nq - 2] = gx;
    qpos[this.nq - 1] = gy;
    for (let i = 0; i < this.nv; i++) qvel[i] = this.initQvel[i]! + this.uniform(-0.005, 0.005);
    qvel[this.nv - 2] = 0;
    qvel[this.nv - 1] = 0;
  }

  /** fingertip − target in world coordinates (body frame positions, Gymnasium's get_body_com). */
  private delta(): [number, number, number] {
    const x = this.live.data.xpos;
    const f = 3 * this.fingertip;
    const t = 3 * this.target;
    return [x[f]! - x[t]!, x[f + 1]! - x[t + 1]!, x[f + 2]! - x[t + 2]!];
  }

  protected observe(): Float64Array {
    const q = this.qpos;
    const v = this.qvel;
    const [dx, dy] = this.delta();
    return Float64Array.of(Math.cos(q[0]!), Math.cos(q[1]!), Math.sin(q[0]!), Math.sin(q[1]!), q[2]!, q[3]!, v[0]!, v[1]!, dx, dy);
  }

  protected outcome(_before: Float64Array, action: Float64Array): StepOutcome {
    const [dx, dy, dz] = this.delta();
    const rewardDist = -Math.hypot(dx, dy, dz) * this.rewardDistWeight;
    const rewardCtrl = -sumSquares(action) * this.rewardControlWeight;
    return { reward: rewardDist + rewardCtrl, terminated: false, info: { reward_dist: rewardDist, reward_ctrl: rewardCtrl } };
  }
}

export interface AntOptions extends ForwardOptions {
  contactCostWeight?: number;
  healthyReward?: number;
  terminateWhenUnhealthy?: boolean;
  /** Healthy while z (qpos[2]) lies in this closed range and the state is finite (v5: [0.2, 1]). */
  healthyZRange?: Range;
  /** Each cfrc_ext entry is clipped to this range, in the observation and the contact cost. */
  contactForceRange?: Range;
  /** Append clip(cfrc_ext[1:]) (13 bodies × 6) to the observation (v5 default true). */
  includeCfrcExtInObservation?: boolean;
}

const ANT_DEFAULTS: Defaults<AntOptions> = {
  frameSkip: 5,
  resetNoiseScale: 0.1,
  maxEpisodeSteps: 1000,
  forwardRewardWeight: 1,
  ctrlCostWeight: 0.5,
  contactCostWeight: 5e-4,
  healthyReward: 1,
  terminateWhenUnhealthy: true,
  healthyZRange: [0.2, 1],
  contactForceRange: [-1, 1],
  excludeCurrentPositionsFromObservation: true,
  includeCfrcExtInObservation: true,
};

/**
 * Ant-v5: obs qpos[2:] (13) ++ qvel (14) ++ clip(cfrc_ext[1:], ±1) (78) = 105; action 8 in [−1, 1];
 * reward = x velocity of the torso frame + 1·[healthy] − 0.5|a|² − 5e-4·Σ clip(cfrc_ext)²;
 * unhealthy (z outside [0.2, 1] or a non-finite state) terminates. Reset: qpos + U(−s, s),
 * qvel + s·N(0, 1). The main body is the torso (v5's main_body = 1).
 */
export class AntEnv extends MujocoEnv {
  readonly forwardRewardWeight: number;
  readonly ctrlCostWeight: number;
  readonly contactCostWeight: number;
  readonly healthyReward: number;
  readonly terminateWhenUnhealthy: boolean;
  readonly healthyZRange: Range;
  readonly contactForceRange: Range;
  private readonly skip: number;
  private readonly withForces: boolean;
  private readonly nbody: number;

  constructor(mj: MujocoModule, options: AntOptions = {}) {
    const exclude = options.excludeCurrentPositionsFromObservation ?? ANT_DEFAULTS.excludeCurrentPositionsFromObservation;
    const withForces = options.includeCfrcExtInObservation ?? ANT_DEFAULTS.includeCfrcExtInObservation;
    let nbody = 0;
    super(mj, 'Ant-v5', ANT_XML, (nq, nv) => nq + nv - (exclude ? 2 : 0) + (withForces ? 6 * (nbody - 1) : 0), ANT_DEFAULTS, options, (m) => {
      nbody = m.nbody;
    });
    this.nbody = nbody;
    this.skip = exclude ? 2 : 0;
    this.withForces = withForces;
    const id = this.id;
    this.forwardRewardWeight = checkWeight(id, 'forwardRewardWeight', options.forwardRewardWeight ?? ANT_DEFAULTS.forwardRewardWeight);
    this.ctrlCostWeight = checkWeight(id, 'ctrlCostWeight', options.ctrlCostWeight ?? ANT_DEFAULTS.ctrlCostWeight);
    this.contactCostWeight = checkWeight(id, 'contactCostWeight', options.contactCostWeight ?? ANT_DEFAULTS.contactCostWeight);
    this.healthyReward = checkWeight(id, 'healthyReward', options.healthyReward ?? ANT_DEFAULTS.healthyReward);
    this.terminateWhenUnhealthy = options.terminateWhenUnhealthy ?? ANT_DEFAULTS.terminateWhenUnhealthy;
    this.healthyZRange = checkRange(id, 'healthyZRange', options.healthyZRange ?? ANT_DEFAULTS.healthyZRange);
    this.contactForceRange = checkRange(id, 'contactForceRange', options.contactForceRange ?? ANT_DEFAULTS.contactForceRange);
  }

  protected override resetModel(qpos: Float64Array, qvel: Float64Array): void {
    const s = this.resetNoiseScale;
    for (let i = 0; i < this.nq; i++) qpos[i] = this.initQpos[i]! + this.uniform(-s, s);
    for (let i = 0; i < this.nv; i++) qvel[i] = this.initQvel[i]! + s * this.rng.normal();
  }

  /** The torso's frame position (x, y), as v5 reads data.body(main_body).xpos before stepping. */
  protected override positionBefore(): Float64Array {
    const x = this.live.data.xpos;
    return Float64Array.of(x[3]!, x[4]!);
  }

  /** Inclusive bounds on z, as v5 writes them, and a finite state. */
  isHealthy(): boolean {
    const q = this.qpos;
    const v = this.qvel;
    for (let i = 0; i < q.length; i++) if (!Number.isFinite(q[i]!)) return false;
    for (let i = 0; i < v.length; i++) if (!Number.isFinite(v[i]!)) return false;
    return this.healthyZRange[0] <= q[2]! && q[2]! <= this.healthyZRange[1];
  }

  private clippedForce(x: number): number {
    const [lo, hi] = this.contactForceRange;
    return x < lo ? lo : x > hi ? hi : x;
  }

  protected observe(): Float64Array {
    const base = positionsAndVelocities(this.qpos, this.qvel, this.skip, null);
    if (!this.withForces) return base;
    const f = this.live.data.cfrc_ext;
    const o = new Float64Array(base.length + 6 * (this.nbody - 1));
    o.set(base);
    for (let i = 6; i < 6 * this.nbody; i++) o[base.length + i - 6] = this.clippedForce(f[i]!);
    return o;
  }

  protected outcome(before: Float64Array, action: Float64Array): StepOutcome {
    const x = this.live.data.xpos;
    const xVelocity = (x[3]! - before[0]!) / this.dt;
    const yVelocity = (x[4]! - before[1]!) / this.dt;
    const healthy = this.isHealthy();
    const forward = xVelocity * this.forwardRewardWeight;
    const survive = healthy ? this.healthyReward : 0;
    const ctrl = this.ctrlCostWeight * sumSquares(action);
    const f = this.live.data.cfrc_ext;
    let contact = 0;
    for (let i = 0; i < 6 * this.nbody; i++) contact += this.clippedForce(f[i]!) ** 2;
    contact *= this.contactCostWeight;
    const q = this.qpos;
    return {
      reward: forward + survive - ctrl - contact,
      terminated: !healthy && this.terminateWhenUnhealthy,
      info: { x_position: q[0]!, y_position: q[1]!, distance_from_origin: Math.hypot(q[0]!, q[1]!), x_velocity: xVelocity, y_velocity: yVelocity, reward_forward: forward, reward_ctrl: -ctrl, reward_contact: -contact, reward_survive: survive },
    };
  }
}

export interface HumanoidOptions extends ForwardOptions {
  contactCostWeight?: number;
  /** The contact cost is clipped to this range (v5: (−∞, 10)). */
  contactCostRange?: Range;
  healthyReward?: number;
  terminateWhenUnhealthy?: boolean;
  /** Healthy while z (qpos[2]) lies strictly inside this range (v5: (1, 2)). */
  healthyZRange?: Range;
  includeCinertInObservation?: boolean;
  includeCvelInObservation?: boolean;
  includeQfrcActuatorInObservation?: boolean;
  includeCfrcExtInObservation?: boolean;
}

const HUMANOID_DEFAULTS: Defaults<HumanoidOptions> = {
  frameSkip: 5,
  resetNoiseScale: 1e-2,
  maxEpisodeSteps: 1000,
  forwardRewardWeight: 1.25,
  ctrlCostWeight: 0.1,
  contactCostWeight: 5e-7,
  contactCostRange: [-Infinity, 10],
  healthyReward: 5,
  terminateWhenUnhealthy: true,
  healthyZRange: [1, 2],
  excludeCurrentPositionsFromObservation: true,
  includeCinertInObservation: true,
  includeCvelInObservation: true,
  includeQfrcActuatorInObservation: true,
  includeCfrcExtInObservation: true,
};

/**
 * Humanoid-v5: obs qpos[2:] (22) ++ qvel (23) ++ cinert[1:] (13 × 10) ++ cvel[1:] (13 × 6) ++
 * qfrc_actuator[6:] (17) ++ cfrc_ext[1:] (13 × 6) = 348; action 17 in [−0.4, 0.4]; reward =
 * 1.25 · x velocity of the centre of mass + 5·[healthy] − 0.1|ctrl|² − clip(5e-7 Σ cfrc_ext², ≤ 10);
 * unhealthy (z ∉ (1, 2)) terminates. Reset: qpos and qvel + U(±0.01).
 */
export class HumanoidEnv extends MujocoEnv {
  readonly forwardRewardWeight: number;
  readonly ctrlCostWeight: number;
  readonly contactCostWeight: number;
  readonly contactCostRange: Range;
  readonly healthyReward: number;
  readonly terminateWhenUnhealthy: boolean;
  readonly healthyZRange: Range;
  private readonly skip: number;
  private readonly parts: { cinert: boolean; cvel: boolean; qfrc: boolean; cfrc: boolean };
  private readonly nbody: number;
  private readonly bodyMass: Float64Array;
  private readonly totalMass: number;

  constructor(mj: MujocoModule, options: HumanoidOptions = {}) {
    const d = HUMANOID_DEFAULTS;
    const exclude = options.excludeCurrentPositionsFromObservation ?? d.excludeCurrentPositionsFromObservation;
    const parts = {
      cinert: options.includeCinertInObservation ?? d.includeCinertInObservation,
      cvel: options.includeCvelInObservation ?? d.includeCvelInObservation,
      qfrc: options.includeQfrcActuatorInObservation ?? d.includeQfrcActuatorInObservation,
      cfrc: options.includeCfrcExtInObservation ?? d.includeCfrcExtInObservation,
    };
    let nbody = 0;
    super(
      mj,
      'Humanoid-v5',
      HUMANOID_XML,
      (nq, nv) => nq + nv - (exclude ? 2 : 0) + (nbody - 1) * ((parts.cinert ? 10 : 0) + (parts.cvel ? 6 : 0) + (parts.cfrc ? 6 : 0)) + (parts.qfrc ? nv - 6 : 0),
      d,
      options,
      (m) => {
        nbody = m.nbody;
      },
    );
    this.nbody = nbody;
    this.skip = exclude ? 2 : 0;
    this.parts = parts;
    const id = this.id;
    this.forwardRewardWeight = checkWeight(id, 'forwardRewardWeight', options.forwardRewardWeight ?? d.forwardRewardWeight);
    this.ctrlCostWeight = checkWeight(id, 'ctrlCostWeight', options.ctrlCostWeight ?? d.ctrlCostWeight);
    this.contactCostWeight = checkWeight(id, 'contactCostWeight', options.contactCostWeight ?? d.contactCostWeight);
    this.contactCostRange = checkRange(id, 'contactCostRange', options.contactCostRange ?? d.contactCostRange);
    this.healthyReward = checkWeight(id, 'healthyReward', options.healthyReward ?? d.healthyReward);
    this.terminateWhenUnhealthy = options.terminateWhenUnhealthy ?? d.terminateWhenUnhealthy;
    this.healthyZRange = checkRange(id, 'healthyZRange', options.healthyZRange ?? d.healthyZRange);
    this.bodyMass = Float64Array.from(this.mjModel.body_mass);
    let total = 0;
    for (let b = 0; b < this.nbody; b++) total += this.bodyMass[b]!;
    this.totalMass = total;
  }

  /** The (x, y) of the centre of mass: Σ mass·xipos / Σ mass over all bodies. */
  protected override positionBefore(): Float64Array {
    const xi = this.live.data.xipos;
    let x = 0;
    let y = 0;
    for (let b = 0; b < this.nbody; b++) {
      x += this.bodyMass[b]! * xi[3 * b]!;
      y += this.bodyMass[b]! * xi[3 * b + 1]!;
    }
    return Float64Array.of(x / this.totalMass, y / this.totalMass);
  }

  isHealthy(): boolean {
    const z = this.qpos[2]!;
    return this.healthyZRange[0] < z && z < this.healthyZRange[1];
  }

  protected observe(): Float64Array {
    const data = this.live.data;
    const chunks: Float64Array[] = [positionsAndVelocities(this.qpos, this.qvel, this.skip, null)];
    if (this.parts.cinert) chunks.push(Float64Array.from(data.cinert.subarray(10)));
    if (this.parts.cvel) chunks.push(Float64Array.from(data.cvel.subarray(6)));
    if (this.parts.qfrc) chunks.push(Float64Array.from(data.qfrc_actuator.subarray(6)));
    if (this.parts.cfrc) chunks.push(Float64Array.from(data.cfrc_ext.subarray(6)));
    const o = new Float64Array(chunks.reduce((n, c) => n + c.length, 0));
    let off = 0;
    for (const c of chunks) {
      o.set(c, off);
      off += c.length;
    }
    return o;
  }

  protected outcome(before: Float64Array): StepOutcome {
    const after = this.positionBefore();
    const xVelocity = (after[0]! - before[0]!) / this.dt;
    const yVelocity = (after[1]! - before[1]!) / this.dt;
    const healthy = this.isHealthy();
    const forward = this.forwardRewardWeight * xVelocity;
    const survive = healthy ? this.healthyReward : 0;
    // v5 charges the control actually written to the simulator (data.ctrl, equal to the action).
    const ctrl = this.ctrlCostWeight * sumSquares(this.live.data.ctrl);
    let contact = this.contactCostWeight * sumSquares(this.live.data.cfrc_ext);
    contact = Math.min(Math.max(contact, this.contactCostRange[0]), this.contactCostRange[1]);
    const q = this.qpos;
    return {
      reward: forward + survive - ctrl - contact,
      terminated: !healthy && this.terminateWhenUnhealthy,
      info: { x_position: q[0]!, y_position: q[1]!, distance_from_origin: Math.hypot(q[0]!, q[1]!), x_velocity: xVelocity, y_velocity: yVelocity, reward_survive: survive, reward_forward: forward, reward_ctrl: -ctrl, reward_contact: -contact },
    };
  }
}

export interface PusherOptions extends MujocoCommonOptions {
  rewardNearWeight?: number;
  rewardDistWeight?: number;
  rewardControlWeight?: number;
}

const PUSHER_DEFAULTS: Defaults<PusherOptions> = { frameSkip: 5, resetNoiseScale: 0, maxEpisodeSteps: 100, rewardNearWeight: 0.5, rewardDistWeight: 1, rewardControlWeight: 0.1 };

/**
 * Pusher-v5: obs qpos[:7] ++ qvel[:7] ++ tips_arm, object and goal positions (3 each) = 23;
 * action 7 in [−2, 2]; reward −0.5|object − tips| − |object − goal| − 0.1|a|²; TimeLimit 100,
 * never terminates. Reset: the arm at qpos0, the goal at the origin of its slides, the object
 * at x ∈ U(−0.3, 0), y ∈ U(−0.2, 0.2) redrawn until farther than 0.17 from the goal; arm
 * velocities U(±0.005), object and goal at rest (v5 draws these ranges as constants, so
 * resetNoiseScale does not enter).
 */
export class PusherEnv extends MujocoEnv {
  readonly rewardNearWeight: number;
  readonly rewardDistWeight: number;
  readonly rewardControlWeight: number;
  private readonly tips: number;
  private readonly object: number;
  private readonly goal: number;
  constructor(mj: MujocoModule, options: PusherOptions = {}) {
    super(mj, 'Pusher-v5', PUSHER_XML, () => 23, PUSHER_DEFAULTS, options);
    const id = this.id;
    this.rewardNearWeight = checkWeight(id, 'rewardNearWeight', options.rewardNearWeight ?? PUSHER_DEFAULTS.rewardNearWeight);
    this.rewardDistWeight = checkWeight(id, 'rewardDistWeight', options.rewardDistWeight ?? PUSHER_DEFAULTS.rewardDistWeight);
    this.rewardControlWeight = checkWeight(id, 'rewardControlWeight', options.rewardControlWeight ?? PUSHER_DEFAULTS.rewardControlWeight);
    const m = this.mjModel;
    this.tips = mj.mj_name2id(m, MJ_OBJ_BODY, 'tips_arm');
    this.object = mj.mj_name2id(m, MJ_OBJ_BODY, 'object');
    this.goal = mj.mj_name2id(m, MJ_OBJ_BODY, 'goal');
    if (this.tips < 0 || this.object < 0 || this.goal < 0) fail('MODEL_FORMAT', `${id}: the model needs bodies named 'tips_arm', 'object' and 'goal'`);
  }

  protected override resetModel(qpos: Float64Array, qvel: Float64Array): void {
    qpos.set(this.initQpos);
    // Rejection sampling: the object must start more than 0.17 from the goal (accepted with
    // probability ≈ 0.71 per draw); bounded, as every search loop here is.
    let cx = 0;
    let cy = 0;
    for (let k = 0; ; k++) {
      if (k === 1000) fail('INVALID_ARGUMENT', `${this.id}: object placement did not accept in 1000 draws`);
      cx = this.uniform(-0.3, 0);
      cy = this.uniform(-0.2, 0.2);
      if (Math.hypot(cx, cy) > 0.17) break;
    }
    const n = this.nq;
    qpos[n - 4] = cx;
    qpos[n - 3] = cy;
    qpos[n - 2] = 0;
    qpos[n - 1] = 0;
    for (let i = 0; i < this.nv; i++) qvel[i] = this.initQvel[i]! + this.uniform(-0.005, 0.005);
    for (let i = this.nv - 4; i < this.nv; i++) qvel[i] = 0;
  }

  private com(body: number): [number, number, number] {
    const x = this.live.data.xpos;
    return [x[3 * body]!, x[3 * body + 1]!, x[3 * body + 2]!];
  }

  protected observe(): Float64Array {
    const q = this.qpos;
    const v = this.qvel;
    const o = new Float64Array(23);
    for (let i = 0; i < 7; i++) {
      o[i] = q[i]!;
      o[7 + i] = v[i]!;
    }
    o.set(this.com(this.tips), 14);
    o.set(this.com(this.object), 17);
    o.set(this.com(this.goal), 20);
    return o;
  }

  protected outcome(_before: Float64Array, action: Float64Array): StepOutcome {
    const [ox, oy, oz] = this.com(this.object);
    const [tx, ty, tz] = this.com(this.tips);
    const [gx, gy, gz] = this.com(this.goal);
    const near = -Math.hypot(ox - tx, oy - ty, oz - tz) * this.rewardNearWeight;
    const dist = -Math.hypot(ox - gx, oy - gy, oz - gz) * this.rewardDistWeight;
    const ctrl = -sumSquares(action) * this.rewardControlWeight;
    return { reward: dist + ctrl + near, terminated: false, info: { reward_dist: dist, reward_ctrl: ctrl, reward_near: near } };
  }
}
