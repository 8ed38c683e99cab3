// MuJoCo environments against Gymnasium's own v5 env classes. The fixtures
// (test/fixtures/rl/mujoco-*.json, made by scripts/fixtures/rl_mujoco.py) hold trajectories that
// Gymnasium computed on fimkit's very MJCF (loaded through xml_file=), from fixed start states
// under fixed action sequences, plus structural facts of Gymnasium's bundled model files.
//
// Tolerance. Both sides simulate the same XML but with different MuJoCo builds: the WebAssembly
// build in mujoco-js embeds MuJoCo 3.3.8, the Python wheel on this machine's mirror is 3.14.0.
// Floating-point order differs between the builds (wasm vs native SIMD), which costs ~1e-16 per
// step; contacts amplify it, and after 100 env steps (400–500 physics steps) the measured gap
// is at most ~2e-13 (Walker2d), 0 for InvertedPendulum. We compare every recorded step (up to
// 100) at 1e-9 absolute on observations and rewards, and termination exactly: ~4 orders of
// magnitude of headroom over the build noise, while any modelling error (a mass, gear, joint
// range, reward weight or frame skip off) shows at ≥ 1e-4 within the first steps.
//
// One exception, measured and explained rather than loosened: Hopper's geoms have a 1 mm
// contact margin (Ant's 1 cm), and the two builds resolve margin contacts differently (with the
// margin removed from the same XML they agree to ~1e-14 over 100 steps; with it they part by
// ~1e-2 in velocity at the first foot contact). So the stock Hopper and Ant are compared at 1e-9
// up to their first contact, and their contact dynamics at 1e-9 through the margin-free variant
// of the same XML. Humanoid (margin 1 mm too) also runs an iterative solver stopped early (PGS,
// 50 iterations); its tolerances are set and justified at HUMANOID_PRE below.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { FimkitError } from '../src/core/errors.js';
import { Rng } from '../src/core/rng.js';
import { envSpec, makeEnv } from '../src/rl/envs/registry.js';
import { makeVecEnv } from '../src/rl/envs/vector.js';
import { MUJOCO_ENV_SPECS, makeMujocoEnv, mujocoUnavailableReason, type MujocoEnv, type MujocoEnvOptions } from '../src/rl/envs/mujoco/index.js';
import { ANT_XML } from '../src/rl/envs/mujoco/assets/ant.js';
import { HOPPER_XML } from '../src/rl/envs/mujoco/assets/hopper.js';
import { HUMANOID_XML } from '../src/rl/envs/mujoco/assets/humanoid.js';
import { PUSHER_XML } from '../src/rl/envs/mujoco/assets/pusher.js';

/** The models with a contact margin (see the header), whose variants the fixtures also replay. */
const MARGIN_XML: Record<string, string> = { 'Hopper-v5': HOPPER_XML, 'Ant-v5': ANT_XML, 'Humanoid-v5': HUMANOID_XML, 'Pusher-v5': PUSHER_XML };

const unavailable = await mujocoUnavailableReason();
const skip = unavailable ?? false;

interface ModelFacts {
  nq: number;
  nv: number;
  nu: number;
  nbody: number;
  timestep: number;
  integrator: number;
  body_mass: number[];
  body_inertia_sorted: number[][];
  qpos0: number[];
  jnt_type: number[];
  jnt_range: number[][];
  jnt_limited: number[];
  dof_damping: number[];
  dof_armature: number[];
  jnt_stiffness: number[];
  actuator_gear0: number[];
  actuator_ctrlrange: number[][];
}

interface Rollout {
  name: string;
  options: Record<string, unknown>;
  variant: { replace: [string, string] } | null;
  qpos: number[];
  qvel: number[];
  actions: number[][];
  observations: number[][];
  rewards: number[];
  terminated: boolean[];
  bundled_xml: { steps_compared: number; max_abs_obs_diff?: number };
}

interface Fixture {
  env: keyof MujocoEnvOptions;
  mujoco: string;
  frame_skip: number;
  obs_dim: number;
  model_ours: ModelFacts;
  model_bundled: ModelFacts;
  rollouts: Rollout[];
}

const FILES: Record<string, string> = {
  'InvertedPendulum-v5': 'invertedpendulum',
  'Hopper-v5': 'hopper',
  'HalfCheetah-v5': 'halfcheetah',
  'Walker2d-v5': 'walker2d',
  'Swimmer-v5': 'swimmer',
  'InvertedDoublePendulum-v5': 'inverteddoublependulum',
  'Reacher-v5': 'reacher',
  'Ant-v5': 'ant',
  'Humanoid-v5': 'humanoid',
  'Pusher-v5': 'pusher',
};

/** Gymnasium's registered TimeLimits. */
const LIMITS: Record<string, number> = { 'Reacher-v5': 50, 'Pusher-v5': 100 };

function fixture(id: string): Fixture {
  return JSON.parse(readFileSync(`test/fixtures/rl/mujoco-${FILES[id]}.json`, 'utf8')) as Fixture;
}

/** Gymnasium's snake_case constructor arguments → fimkit's camelCase options. */
function camel(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase()), v]));
}

const TOL = 1e-9;

function close(a: number, b: number, tol: number, what: string): void {
  assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs ${b} (|Δ| ${Math.abs(a - b)} > ${tol})`);
}

function throwsCode(fn: () => unknown, code: string, re?: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof FimkitError, `expected a FimkitError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    if (re) assert.match(e.message, re);
    return true;
  });
}

interface Tol {
  tol: number;
  /** Scale the tolerance by max(1, |expected|). */
  relative: boolean;
}

/**
 * How a rollout is compared: with `before` up to the first contact (or throughout where
 * `splitAtContact` is false) and with `after` from it on; `after` null means the gap after
 * contact is measured and reported but not asserted.
 */
interface Plan {
  splitAtContact: boolean;
  before: Tol;
  after: Tol | null;
}

const TIGHT: Tol = { tol: TOL, relative: false };
// Humanoid solves its joint-limit constraints (active from the first step: the knees rest at a
// limit) with PGS stopped after 50 iterations or at the solver tolerance 1e-8, so the two builds
// stop at slightly different iterates: measured ≤ 3.5e-8 relative before any contact. With
// contacts the truncated PGS solve leaves differences of ≤ 3.3e-4 relative in the contact forces
// of the margin-free variant (measured over its 7 contact steps).
const HUMANOID_PRE: Tol = { tol: 1e-7, relative: true };
const HUMANOID_CONTACT: Tol = { tol: 1e-3, relative: true };

function planFor(id: string, r: Rollout): Plan {
  const margin = id in MARGIN_XML;
  if (id === 'Humanoid-v5') return { splitAtContact: true, before: HUMANOID_PRE, after: r.variant ? HUMANOID_CONTACT : null };
  if (margin && r.variant === null) return { splitAtContact: true, before: TIGHT, after: null };
  return { splitAtContact: false, before: TIGHT, after: null };
}

interface ReplayStats {
  beforeSteps: number;
  afterSteps: number;
  maxBefore: number;
  maxAfter: number;
}

/** Replays a fixture rollout under `plan`; returns the steps compared and the largest gaps. */
async function replay(fx: Fixture, r: Rollout, plan: Plan): Promise<ReplayStats> {
  const options = camel(r.options);
  if (r.variant) {
    const xml = MARGIN_XML[fx.env]!;
    assert.ok(xml.includes(r.variant.replace[0]), `variant ${r.name}: the XML lost '${r.variant.replace[0]}'`);
    options.xml = xml.split(r.variant.replace[0]).join(r.variant.replace[1]);
  }
  const env = await makeMujocoEnv(fx.env, options);
  const stats: ReplayStats = { beforeSteps: 0, afterSteps: 0, maxBefore: 0, maxAfter: 0 };
  try {
    env.setState(Float64Array.from([...r.qpos, ...r.qvel]));
    let contact = false;
    for (let t = 0; t < r.actions.length; t++) {
      const s = env.step(Float64Array.from(r.actions[t]!));
      if (plan.splitAtContact && env.mjData.ncon > 0) contact = true;
      const want = r.observations[t]!;
      assert.equal(s.observation.length, want.length, `${fx.env}/${r.name} step ${t}: obs length`);
      // The gap, in the units of the tolerance that applies (relative where it is relative).
      const tol = contact ? plan.after : plan.before;
      const scale = (x: number): number => (tol?.relative ? Math.max(1, Math.abs(x)) : 1);
      let gap = Math.abs(s.reward - r.rewards[t]!) / scale(r.rewards[t]!);
      for (let i = 0; i < want.length; i++) gap = Math.max(gap, Math.abs(s.observation[i]! - want[i]!) / scale(want[i]!));
      if (tol) {
        for (let i = 0; i < want.length; i++) close(s.observation[i]!, want[i]!, tol.tol * scale(want[i]!), `${fx.env}/${r.name} step ${t} obs[${i}]`);
        close(s.reward, r.rewards[t]!, tol.tol * scale(r.rewards[t]!), `${fx.env}/${r.name} step ${t} reward`);
        assert.equal(s.terminated, r.terminated[t], `${fx.env}/${r.name} step ${t} terminated`);
      }
      if (contact) {
        stats.afterSteps++;
        stats.maxAfter = Math.max(stats.maxAfter, gap);
      } else {
        stats.beforeSteps++;
        stats.maxBefore = Math.max(stats.maxBefore, gap);
      }
      // The fixtures step Gymnasium's unwrapped env; fimkit's carries the TimeLimit (Reacher: 50).
      assert.equal(s.truncated, env.maxEpisodeSteps !== null && t + 1 >= env.maxEpisodeSteps, `${fx.env}/${r.name} step ${t} truncated`);
      if (s.terminated || s.truncated) break;
    }
    return stats;
  } finally {
    env.close();
  }
}

test('mujoco: every v5 env is registered with family mujoco and its TimeLimit (1000; Reacher 50)', () => {
  const ids = MUJOCO_ENV_SPECS.map((s) => s.id);
  for (const id of Object.keys(FILES)) {
    assert.ok(ids.includes(id), `${id} registered`);
    const spec = envSpec(id);
    assert.equal(spec.family, 'mujoco');
    assert.equal(spec.maxEpisodeSteps, LIMITS[id] ?? 1000);
  }
});

for (const id of Object.keys(FILES)) {
  test(`mujoco ${id}: model structure equals Gymnasium's bundled model (masses, inertias, joints, actuators, timestep)`, { skip }, async () => {
    const fx = fixture(id);
    const b = fx.model_bundled;
    const env = (await makeEnv(id)) as MujocoEnv;
    try {
      const m = env.mjModel;
      assert.equal(m.nq, b.nq);
      assert.equal(m.nv, b.nv);
      assert.equal(m.nu, b.nu);
      assert.equal(m.nbody, b.nbody);
      assert.equal(m.opt.timestep, b.timestep);
      assert.equal(m.opt.integrator, b.integrator);
      assert.equal(env.frameSkip, fx.frame_skip);
      assert.equal(env.observationSpace.kind === 'box' && env.observationSpace.shape[0], fx.obs_dim);
      // Relative 1e-12: both compilers integrate the same capsules (frames differ, sums reorder).
      const rel = (a: number, c: number, what: string): void => close(a, c, 1e-12 * Math.max(1, Math.abs(c)), what);
      for (let i = 0; i < b.nbody; i++) {
        rel(m.body_mass[i]!, b.body_mass[i]!, `${id} body_mass[${i}]`);
        const inertia = [m.body_inertia[3 * i]!, m.body_inertia[3 * i + 1]!, m.body_inertia[3 * i + 2]!].sort((x, y) => x - y);
        for (let k = 0; k < 3; k++) rel(inertia[k]!, b.body_inertia_sorted[i]![k]!, `${id} body_inertia[${i}]`);
      }
      for (let i = 0; i < b.nq; i++) rel(m.qpos0[i]!, b.qpos0[i]!, `${id} qpos0[${i}]`);
      for (let j = 0; j < b.jnt_type.length; j++) {
        assert.equal(m.jnt_type[j], b.jnt_type[j], `${id} jnt_type[${j}]`);
        assert.equal(Number(m.jnt_limited[j]), Number(b.jnt_limited[j]), `${id} jnt_limited[${j}]`);
        rel(m.jnt_range[2 * j]!, b.jnt_range[j]![0]!, `${id} jnt_range[${j}]`);
        rel(m.jnt_range[2 * j + 1]!, b.jnt_range[j]![1]!, `${id} jnt_range[${j}]`);
        rel(m.jnt_stiffness[j]!, b.jnt_stiffness[j]!, `${id} jnt_stiffness[${j}]`);
      }
      for (let i = 0; i < b.nv; i++) {
        rel(m.dof_damping[i]!, b.dof_damping[i]!, `${id} dof_damping[${i}]`);
        rel(m.dof_armature[i]!, b.dof_armature[i]!, `${id} dof_armature[${i}]`);
      }
      for (let i = 0; i < b.nu; i++) {
        rel(m.actuator_gear[6 * i]!, b.actuator_gear0[i]!, `${id} gear[${i}]`);
        assert.ok(env.actionSpace.kind === 'box');
        assert.equal(env.actionSpace.low[i], Math.fround(b.actuator_ctrlrange[i]![0]!));
        assert.equal(env.actionSpace.high[i], Math.fround(b.actuator_ctrlrange[i]![1]!));
      }
    } finally {
      env.close();
    }
  });

  test(`mujoco ${id}: trajectories match Gymnasium v5 on the same XML (obs, reward, terminated)`, { skip }, async (t) => {
    const fx = fixture(id);
    for (const r of fx.rollouts) {
      const plan = planFor(id, r);
      const res = await replay(fx, r, plan);
      const fmt = (t: Tol | null): string => (t ? `${t.tol}${t.relative ? ' rel' : ''}` : 'not asserted');
      t.diagnostic(
        `${id} [${r.name}]: ` +
          (plan.splitAtContact
            ? `${res.beforeSteps} steps before the first contact within ${fmt(plan.before)} (max ${res.maxBefore.toExponential(2)}), ${res.afterSteps} after it: ${fmt(plan.after)} (max ${res.maxAfter.toExponential(2)})`
            : `${res.beforeSteps}/${r.actions.length} steps within ${fmt(plan.before)} (max ${res.maxBefore.toExponential(2)})`) +
          `; fimkit XML vs Gymnasium's bundled XML (same MuJoCo): ${r.bundled_xml.max_abs_obs_diff ?? 'n/a'}`,
      );
      // Every recorded step was compared, except after contact in the stock margin models, whose
      // first contact comes early (Hopper's foot after ~9 steps, Humanoid's after 9, Ant's legs
      // after 1; Pusher's object rests on the table within the margin from the start).
      if (plan.after !== null || !plan.splitAtContact) assert.equal(res.beforeSteps + res.afterSteps, r.observations.length);
      else if (id !== 'Pusher-v5') assert.ok(res.beforeSteps >= 1, `${id}/${r.name}: no step compared before contact`);
      if (plan.after !== null) assert.ok(res.afterSteps > 0, `${id}/${r.name}: the contact phase was not reached`);
      // Gymnasium's bundled model and fimkit's XML agree under the same MuJoCo (recorded by the generator).
      if (r.bundled_xml.steps_compared > 0) assert.ok(r.bundled_xml.max_abs_obs_diff! < 1e-9, `${id}/${r.name}: written model differs from the bundled one by ${r.bundled_xml.max_abs_obs_diff}`);
    }
  });
}

test('mujoco Hopper-v5: the fixtures exercise termination and v5 healthy reward (none while unhealthy)', { skip }, async () => {
  const fx = fixture('Hopper-v5');
  const random = fx.rollouts.find((r) => r.name === 'random')!;
  assert.ok(random.terminated.at(-1), 'the random rollout ends in a fall');
  const noTerm = fx.rollouts.find((r) => r.name === 'no-margin')!;
  const env = await makeMujocoEnv('Hopper-v5', { terminateWhenUnhealthy: false, xml: HOPPER_XML.replace(noTerm.variant!.replace[0], noTerm.variant!.replace[1]) });
  env.setState(Float64Array.from([...noTerm.qpos, ...noTerm.qvel]));
  let unhealthySteps = 0;
  for (const a of noTerm.actions) {
    const s = env.step(Float64Array.from(a));
    const info = s.info as { reward_forward: number; reward_ctrl: number; reward_survive: number };
    close(s.reward, info.reward_forward + info.reward_ctrl + info.reward_survive, 1e-12, 'reward = forward + ctrl + survive');
    assert.equal(s.terminated, false);
    if (info.reward_survive === 0) unhealthySteps++;
  }
  assert.ok(unhealthySteps > 0, 'the rollout visits unhealthy states, where v5 pays no healthy reward');
  env.close();
});

test('mujoco: seeded reset is reproducible and draws v5 noise (uniform; HalfCheetah qvel normal)', { skip }, async () => {
  const a = await makeMujocoEnv('Hopper-v5');
  const b = await makeMujocoEnv('Hopper-v5');
  const oa = a.reset(3).observation;
  assert.deepEqual(b.reset(3).observation, oa);
  assert.notDeepEqual(b.reset(4).observation, oa);
  assert.equal(oa.length, 11);
  // qpos = qpos0 + U(−0.005, 0.005): obs[0] is z = 1.25 ± 0.005, the rest within ±0.005.
  for (let k = 0; k < 200; k++) {
    const s = a.reset().observation;
    assert.ok(Math.abs(s[0]! - 1.25) <= 0.005);
    for (let i = 1; i < s.length; i++) assert.ok(Math.abs(s[i]!) <= 0.005, `obs[${i}] = ${s[i]}`);
  }
  a.close();
  b.close();
  // HalfCheetah: qvel = 0.1·N(0, 1), so its sample std over many resets is 0.1 (±5 s.e.).
  const c = await makeMujocoEnv('HalfCheetah-v5');
  let s1 = 0;
  let s2 = 0;
  let n = 0;
  let maxQpos = 0;
  for (let k = 0; k < 400; k++) {
    const o = c.reset(k).observation;
    for (let i = 0; i < 8; i++) maxQpos = Math.max(maxQpos, Math.abs(o[i]!)); // qpos0 is all zeros
    for (let i = 8; i < 17; i++) {
      s1 += o[i]!;
      s2 += o[i]! * o[i]!;
      n++;
    }
  }
  const sd = Math.sqrt(s2 / n - (s1 / n) ** 2);
  assert.ok(Math.abs(sd - 0.1) < 5 * (0.1 / Math.sqrt(2 * n)), `HalfCheetah qvel std ${sd}`);
  assert.ok(maxQpos <= 0.1, `HalfCheetah qpos noise ${maxQpos}`);
  c.close();
});

test('mujoco: TimeLimit truncates at 1000 steps, independently of termination', { skip }, async () => {
  const env = await makeMujocoEnv('Swimmer-v5');
  env.reset(0);
  env.elapsedSteps = 998;
  const zero = new Float64Array(2);
  assert.equal(env.step(zero).truncated, false);
  const last = env.step(zero);
  assert.equal(last.truncated, true);
  assert.equal(last.terminated, false);
  throwsCode(() => env.step(zero), 'INVALID_ARGUMENT', /after the episode ended/);
  env.close();
  const short = await makeMujocoEnv('InvertedPendulum-v5', { maxEpisodeSteps: 2 });
  short.reset(0);
  short.step(new Float64Array(1));
  assert.equal(short.step(new Float64Array(1)).truncated, true);
  short.close();
});

test('mujoco: bad input gets named errors', { skip }, async () => {
  const env = await makeMujocoEnv('Hopper-v5');
  throwsCode(() => env.step(new Float64Array(3)), 'INVALID_ARGUMENT', /before reset/);
  env.reset(0);
  throwsCode(() => env.step(new Float64Array(2)), 'SHAPE', /length 2/);
  throwsCode(() => env.step(1), 'SHAPE');
  throwsCode(() => env.step(Float64Array.of(0, 1.5, 0)), 'INVALID_ARGUMENT', /outside \[-1, 1\]/);
  throwsCode(() => env.step(Float64Array.of(0, NaN, 0)), 'NON_FINITE');
  throwsCode(() => env.setState(new Float64Array(5)), 'SHAPE');
  throwsCode(() => env.setState(new Float64Array(13).fill(NaN)), 'NON_FINITE');
  // A diverged simulation (here a velocity of 1e12, beyond MuJoCo's 1e10 bound) stops with a
  // named error, where MuJoCo by default would silently reset the episode to its start.
  const blown = env.getState();
  blown[8] = 1e12;
  env.setState(blown);
  throwsCode(() => env.step(new Float64Array(3)), 'NON_FINITE', /diverged/);
  throwsCode(() => env.step(new Float64Array(3)), 'INVALID_ARGUMENT', /ended/);
  env.reset(0);
  assert.equal(env.step(new Float64Array(3)).terminated, false);
  env.close();
  throwsCode(() => env.reset(0), 'INVALID_ARGUMENT', /closed/);
  await assert.rejects(makeMujocoEnv('Hopper-v5', { frameSkip: 0 }), (e: unknown) => e instanceof FimkitError && e.code === 'INVALID_ARGUMENT');
  await assert.rejects(makeMujocoEnv('Hopper-v5', { healthyZRange: [2, 1] }), (e: unknown) => e instanceof FimkitError && /healthyZRange/.test(e.message));
  await assert.rejects(makeMujocoEnv('Walker2d-v5', { resetNoiseScale: -1 }), (e: unknown) => e instanceof FimkitError && /resetNoiseScale/.test(e.message));
  // Unknown names and wrong types are refused before anything is compiled (v5's Walker2d has
  // no healthy_state_range; Hopper's has).
  await assert.rejects(makeMujocoEnv('Walker2d-v5', { healthyStateRange: [-1, 1] } as never), (e: unknown) => e instanceof FimkitError && /unknown option 'healthyStateRange'/.test(e.message));
  await assert.rejects(makeMujocoEnv('Hopper-v5', { terminateWhenUnhealthy: 'no' } as never), (e: unknown) => e instanceof FimkitError && /terminateWhenUnhealthy must be true or false/.test(e.message));
  await assert.rejects(makeMujocoEnv('Ant-v5', { ctrlCostWeight: NaN }), (e: unknown) => e instanceof FimkitError && /ctrlCostWeight must be a finite number/.test(e.message));
  await assert.rejects(makeMujocoEnv('Hopper-v5', { xml: '<mujoco><worldbody><body><geom type="nonsense"/></body></worldbody></mujoco>' }), (e: unknown) => e instanceof FimkitError && e.code === 'MODEL_FORMAT');
});

test('mujoco: without WebAssembly, make() rejects with a named BACKEND error (no crash at import)', () => {
  const code = `
    globalThis.WebAssembly = undefined;
    const { makeEnv } = await import('./dist/src/rl/envs/registry.js');
    try { await makeEnv('Hopper-v5'); console.log('LOADED'); }
    catch (e) { console.log(e.name, e.code, e.message); }`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^FimkitError BACKEND MuJoCo environments are unavailable: this JavaScript runtime has no WebAssembly/);
});

test('mujoco Reacher-v5: reset puts the goal in the disc of radius 0.2, arm near zero, goal at rest', { skip }, async () => {
  const env = await makeMujocoEnv('Reacher-v5');
  let maxR = 0;
  for (let k = 0; k < 300; k++) {
    const o = env.reset(k).observation;
    const q = env.getState();
    // qpos: θ0, θ1 within ±0.1; goal (q[2], q[3]) inside the disc; qvel: arm ±0.005, goal 0.
    assert.ok(Math.abs(q[0]!) <= 0.1 && Math.abs(q[1]!) <= 0.1);
    const r = Math.hypot(q[2]!, q[3]!);
    assert.ok(r < 0.2, `goal radius ${r}`);
    maxR = Math.max(maxR, r);
    assert.ok(Math.abs(q[4]!) <= 0.005 && Math.abs(q[5]!) <= 0.005);
    assert.equal(q[6], 0);
    assert.equal(q[7], 0);
    assert.equal(o[4], q[2]);
    assert.equal(o[5], q[3]);
    // The target body sits at the goal: fingertip − target = arm tip (0.21 from the base) − goal.
    close(o[8]!, 0.1 * Math.cos(q[0]!) + 0.11 * Math.cos(q[0]! + q[1]!) - q[2]!, 1e-12, 'fingertip − target, x');
  }
  assert.ok(maxR > 0.18, `goals cover the disc (max radius ${maxR})`);
  env.close();
});

test('mujoco: vectorised Hopper auto-resets fallen copies, seeded runs repeat bit for bit', { skip }, async () => {
  const run = async (): Promise<{ obs: Float64Array[]; ends: number }> => {
    const vec = await makeVecEnv('Hopper-v5', 3);
    const rng = new Rng(5);
    vec.reset(11);
    const obs: Float64Array[] = [];
    let ends = 0;
    for (let t = 0; t < 120; t++) {
      const a = new Float64Array(9);
      for (let i = 0; i < 9; i++) a[i] = 2 * rng.uniform() - 1;
      const r = vec.step(a);
      obs.push(Float64Array.from(r.observations));
      for (let i = 0; i < 3; i++) {
        if (r.terminated[i]) {
          ends++;
          const fin = r.finalObservations[i]!;
          // The fallen state: unhealthy z, angle or state (obs[0] = z, obs[1] = torso angle).
          assert.ok(fin[0]! <= 0.7 || Math.abs(fin[1]!) >= 0.2 || fin.some((v) => Math.abs(v) >= 100), 'a terminated copy ended unhealthy');
          // The row is already the next episode's first observation: z = 1.25 ± 0.005.
          assert.ok(Math.abs(r.observations[11 * i]! - 1.25) <= 0.005);
        }
      }
    }
    vec.close();
    return { obs, ends };
  };
  const a = await run();
  const b = await run();
  assert.ok(a.ends > 0, 'random actions topple Hopper within 120 steps');
  assert.equal(a.ends, b.ends);
  for (let t = 0; t < a.obs.length; t++) assert.deepEqual(a.obs[t], b.obs[t]);
});

test('mujoco: without the optional package, make() rejects with a named BACKEND error', () => {
  // A module-resolution hook makes 'mujoco-js' unresolvable, as on an install without it.
  const code = `
    import { register } from 'node:module';
    const hook = "export async function resolve(s, c, next) { if (s === 'mujoco-js') throw new Error(\\"Cannot find package 'mujoco-js'\\"); return next(s, c); }";
    register('data:text/javascript,' + encodeURIComponent(hook));
    const { makeEnv } = await import('./dist/src/rl/envs/registry.js');
    const { mujocoUnavailableReason } = await import('./dist/src/rl/envs/mujoco/index.js');
    try { await makeEnv('Hopper-v5'); console.log('LOADED'); }
    catch (e) { console.log(e.name, e.code, e.message); }
    console.log('reason:', await mujocoUnavailableReason());
    const cp = await makeEnv('CartPole-v1');
    console.log('classic ok', cp.reset(0).observation.length);`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^FimkitError BACKEND MuJoCo environments are unavailable: the optional package mujoco-js is not installed/m);
  assert.match(r.stdout, /^reason: MuJoCo environments are unavailable/m);
  assert.match(r.stdout, /^classic ok 4$/m);
});

test('mujoco Pusher-v5: reset places the object 0.17+ from the goal in its box, arm at rest pose', { skip }, async () => {
  const env = await makeMujocoEnv('Pusher-v5');
  for (let k = 0; k < 200; k++) {
    const o = env.reset(k).observation;
    const s = env.getState();
    // qpos: 7 arm joints at 0, object (x, y) ∈ [−0.3, 0) × [−0.2, 0.2) with norm > 0.17, goal 0.
    for (let i = 0; i < 7; i++) assert.equal(s[i], 0);
    assert.ok(s[7]! >= -0.3 && s[7]! < 0 && s[8]! >= -0.2 && s[8]! < 0.2);
    assert.ok(Math.hypot(s[7]!, s[8]!) > 0.17);
    assert.equal(s[9], 0);
    assert.equal(s[10], 0);
    for (let i = 11; i < 18; i++) assert.ok(Math.abs(s[i]!) <= 0.005);
    for (let i = 18; i < 22; i++) assert.equal(s[i], 0);
    // The goal body sits at its frame (0.45, −0.05, −0.323); the object's frame moves with its
    // slides, whose order is y then x: x = 0.45 + qpos[8], y = −0.05 + qpos[7].
    close(o[20]!, 0.45, 1e-12, 'goal x');
    close(o[17]!, 0.45 + s[8]!, 1e-12, 'object x');
    close(o[18]!, -0.05 + s[7]!, 1e-12, 'object y');
  }
  env.close();
});
