import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { FimkitError } from '../src/core/errors.js';
import { Rng } from '../src/core/rng.js';
import {
  AcrobotEnv,
  CartPoleEnv,
  ClassicEnv,
  MountainCarContinuousEnv,
  MountainCarEnv,
  PendulumEnv,
} from '../src/rl/envs/classic/index.js';
import { CLASSIC_ENV_SPECS } from '../src/rl/envs/classic/index.js';
import { envSpec, makeEnv } from '../src/rl/envs/registry.js';
import { clipAction } from '../src/rl/envs/spaces.js';
import { makeVecEnv } from '../src/rl/envs/vector.js';
import { ENV_BENCH_CASES, runEnvBench, type EnvBenchRow } from '../bench/rl-envs.js';

function throwsCode(fn: () => unknown, code: string, re?: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof FimkitError, `expected a FimkitError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    if (re) assert.match(e.message, re);
    return true;
  });
}

test('cartpole: one step from rest matches the hand-derived closed form', () => {
  // From (0,0,0,0) pushing right: temp = 10/1.1, θ̈ = −600/41, ẍ = 400/41 (exact algebra), so
  // Euler gives x = 0, ẋ = 0.02·400/41, θ = 0, θ̇ = −0.02·600/41.
  const env = new CartPoleEnv();
  env.setState(new Float64Array(4));
  const r = env.step(1);
  const s = env.getState();
  const want = [0, (0.02 * 400) / 41, 0, (-0.02 * 600) / 41];
  for (let i = 0; i < 4; i++) assert.ok(Math.abs(s[i]! - want[i]!) < 1e-15, `state[${i}] ${s[i]} vs ${want[i]}`);
  for (let i = 0; i < 4; i++) assert.equal(r.observation[i], Math.fround(s[i]!));
  assert.equal(r.reward, 1);
  assert.equal(r.terminated, false);
  assert.equal(r.truncated, false);
});

test('cartpole: seeded reset is reproducible, within U(-0.05, 0.05), and continues its stream unseeded', () => {
  const a = new CartPoleEnv();
  const b = new CartPoleEnv();
  const oa = a.reset(7).observation;
  assert.deepEqual(b.reset(7).observation, oa);
  assert.notDeepEqual(new CartPoleEnv().reset(8).observation, oa);
  assert.deepEqual(a.reset().observation, b.reset().observation);
  const c = new CartPoleEnv();
  let sum = 0, sum2 = 0;
  const n = 4000;
  c.reset(1);
  for (let k = 0; k < n; k++) {
    const s = c.reset().observation;
    for (const v of s) {
      assert.ok(v >= -0.05 && v <= 0.05, `reset value ${v}`);
      sum += v;
      sum2 += v * v;
    }
  }
  const m = 4 * n;
  // U(−0.05, 0.05): mean 0, variance 0.1²/12; 5 standard errors.
  assert.ok(Math.abs(sum / m) < 5 * Math.sqrt(0.01 / 12 / m));
  assert.ok(Math.abs(sum2 / m - 0.01 / 12) < 5 * Math.sqrt((0.1 ** 4 / 80 - (0.01 / 12) ** 2) / m));
});

test('cartpole: terminates past 12°, truncates at 500 steps, refuses stepping an ended episode', () => {
  const env = new CartPoleEnv();
  env.setState(Float64Array.from([0, 0, 0.2, 0.5]));
  const r = env.step(1);
  assert.equal(r.terminated, true);
  assert.equal(r.reward, 1);
  throwsCode(() => env.step(0), 'INVALID_ARGUMENT', /after the episode ended/);
  env.reset(0);
  env.elapsedSteps = 499;
  const t = env.step(0);
  assert.equal(t.truncated, true);
  assert.equal(t.terminated, false);
  throwsCode(() => new CartPoleEnv().step(0), 'INVALID_ARGUMENT', /before reset/);
});

test('cartpole: bad actions are named FimkitErrors', () => {
  const env = new CartPoleEnv();
  env.reset(0);
  throwsCode(() => env.step(2), 'INVALID_ARGUMENT', /out of range/);
  throwsCode(() => env.step(-1), 'INVALID_ARGUMENT', /out of range/);
  throwsCode(() => env.step(0.5), 'INVALID_ARGUMENT', /not an integer/);
  throwsCode(() => env.step(NaN), 'NON_FINITE');
  throwsCode(() => env.step(Float64Array.from([1])), 'SHAPE');
  // The env is still usable after a refused action.
  assert.equal(env.step(1).reward, 1);
});

test('registry: CartPole-v1 is registered; unknown ids are named', async () => {
  assert.equal(envSpec('CartPole-v1').maxEpisodeSteps, 500);
  const env = await makeEnv('CartPole-v1');
  assert.equal(env.id, 'CartPole-v1');
  assert.throws(() => envSpec('CartPole-v9'), (e: unknown) => e instanceof FimkitError && /unknown environment 'CartPole-v9'/.test(e.message));
});

test('vector: same-step auto-reset keeps the final observation; episode returns and lengths', async () => {
  const n = 3;
  const vec = await makeVecEnv('CartPole-v1', n);
  const obs0 = vec.reset(10);
  // Copy i is seeded with 10 + i.
  for (let i = 0; i < n; i++) assert.deepEqual(obs0.subarray(i * 4, i * 4 + 4), new CartPoleEnv().reset(10 + i).observation);
  // Always push right: every copy falls within a few dozen steps.
  const ended = new Map<number, { final: Float64Array; len: number; ret: number; next: Float64Array }>();
  let steps = 0;
  let lastState: Float64Array[] = vec.envs.map((e) => e.getState());
  while (ended.size < n && steps < 200) {
    const r = vec.step(Int32Array.from({ length: n }, () => 1));
    steps++;
    for (let i = 0; i < n; i++) {
      if (r.terminated[i] || r.truncated[i]) {
        assert.equal(r.terminated[i], 1);
        const final = r.finalObservations[i]!;
        assert.ok(final, 'final observation present');
        // The final observation is the step from the last state, not the reset observation.
        const replay = new CartPoleEnv();
        replay.setState(lastState[i]!);
        assert.deepEqual(final, replay.step(1).observation);
        assert.ok(Math.abs(final[2]!) > (12 * Math.PI) / 180 || Math.abs(final[0]!) > 2.4);
        const next = r.observations.subarray(i * 4, i * 4 + 4);
        for (const v of next) assert.ok(Math.abs(v) <= 0.05, 'auto-reset observation');
        const ep = r.episodes.find((e) => e.index === i)!;
        assert.equal(ep.return, ep.length);
        if (!ended.has(i)) ended.set(i, { final, len: ep.length, ret: ep.return, next: Float64Array.from(next) });
      } else {
        assert.equal(r.finalObservations[i], null);
      }
    }
    lastState = vec.envs.map((e) => e.getState());
  }
  assert.equal(ended.size, n);
  throwsCode(() => vec.step(Int32Array.from([1, 1])), 'SHAPE');
  throwsCode(() => vec.step(Int32Array.from([1, 3, 0])), 'INVALID_ARGUMENT', /copy 1/);
});

// ---------------------------------------------------------------------------------------------
// Conformance with Gymnasium: test/fixtures/rl/classic.json, written by
// scripts/fixtures/rl_classic.py from Gymnasium itself. Every observation, reward, flag and the
// float64 simulator state must agree to 1e-6 at every step.

interface FixtureStep {
  obs: number[];
  reward: number;
  terminated: boolean;
  truncated: boolean;
  state: number[];
}
interface FixtureSegment {
  name: string;
  state: number[];
  elapsed: number;
  actions: number[];
  steps: FixtureStep[];
}
type Bound = number | 'inf' | '-inf';
interface FixtureSpaces {
  maxEpisodeSteps: number;
  observation: { low: Bound[]; high: Bound[] };
  action: { n?: number; low?: Bound[]; high?: Bound[] };
}
const FIXTURE = JSON.parse(readFileSync(new URL('../../test/fixtures/rl/classic.json', import.meta.url), 'utf8')) as {
  gymnasium: string;
  envs: Record<string, FixtureSegment[]>;
  spaces: Record<string, FixtureSpaces>;
};
const bound = (b: Bound): number => (b === 'inf' ? Infinity : b === '-inf' ? -Infinity : b);
const CLASSES: Record<string, () => ClassicEnv> = {
  'CartPole-v1': () => new CartPoleEnv(),
  'Acrobot-v1': () => new AcrobotEnv(),
  'MountainCar-v0': () => new MountainCarEnv(),
  'MountainCarContinuous-v0': () => new MountainCarContinuousEnv(),
  'Pendulum-v1': () => new PendulumEnv(),
};

for (const [id, segments] of Object.entries(FIXTURE.envs)) {
  test(`conformance: ${id} agrees with Gymnasium ${FIXTURE.gymnasium} to 1e-6 at every step`, (t) => {
    let maxObs = 0;
    let maxState = 0;
    let maxReward = 0;
    let steps = 0;
    let sawTerminated = false;
    let sawTruncated = false;
    for (const seg of segments) {
      const env = CLASSES[id]!();
      env.setState(Float64Array.from(seg.state));
      env.elapsedSteps = seg.elapsed;
      const continuous = env.actionSpace.kind === 'box';
      seg.steps.forEach((want, k) => {
        const a = seg.actions[k]!;
        const r = env.step(continuous ? Float64Array.from([a]) : a);
        const where = `${id} ${seg.name} step ${k}`;
        assert.equal(r.observation.length, want.obs.length, where);
        for (let i = 0; i < want.obs.length; i++) maxObs = Math.max(maxObs, Math.abs(r.observation[i]! - Math.fround(want.obs[i]!)));
        const s = env.getState();
        for (let i = 0; i < want.state.length; i++) maxState = Math.max(maxState, Math.abs(s[i]! - want.state[i]!));
        maxReward = Math.max(maxReward, Math.abs(r.reward - want.reward));
        assert.equal(r.terminated, want.terminated, `${where}: terminated`);
        assert.equal(r.truncated, want.truncated, `${where}: truncated`);
        assert.ok(maxObs <= 1e-6 && maxState <= 1e-6 && maxReward <= 1e-6, `${where}: obs ${maxObs}, state ${maxState}, reward ${maxReward}`);
        sawTerminated ||= want.terminated;
        sawTruncated ||= want.truncated;
        steps++;
      });
    }
    assert.ok(sawTruncated, 'the fixture covers truncation');
    if (id !== 'Pendulum-v1') assert.ok(sawTerminated, 'the fixture covers termination');
    t.diagnostic(`${id}: ${steps} steps, max |Δobs| ${maxObs.toExponential(2)}, max |Δstate| ${maxState.toExponential(2)}, max |Δreward| ${maxReward.toExponential(2)}`);
  });
}

test('bench: the env bench times vectorised CartPole and names envs it cannot make', async () => {
  const rows = await runEnvBench({ quick: true, cases: [{ env: 'CartPole-v1', copies: 4 }, { env: 'NoSuchEnv-v0', copies: 2 }] });
  assert.equal(rows.length, 2);
  const [cp, missing] = rows as [EnvBenchRow, EnvBenchRow];
  assert.equal(cp.skipped, undefined);
  assert.ok(cp.stepsPerSec > 0 && cp.steps > 0 && cp.steps % 4 === 0, JSON.stringify(cp));
  assert.ok(cp.episodes > 0, 'random actions end CartPole episodes');
  assert.match(missing.skipped ?? '', /unknown environment 'NoSuchEnv-v0'/);
  assert.ok(ENV_BENCH_CASES.some((c) => c.env === 'CartPole-v1' && c.copies === 8));
  assert.ok(ENV_BENCH_CASES.some((c) => c.env === 'CartPole-v1' && c.copies === 64));
});

test('spaces and time limits equal Gymnasium\'s registered ones, for every classic env', async () => {
  assert.deepEqual(Object.keys(FIXTURE.spaces).sort(), CLASSIC_ENV_SPECS.map((s) => s.id).sort());
  for (const spec of CLASSIC_ENV_SPECS) {
    const want = FIXTURE.spaces[spec.id]!;
    const env = await spec.make();
    assert.equal(spec.maxEpisodeSteps, want.maxEpisodeSteps, spec.id);
    assert.equal(env.maxEpisodeSteps, want.maxEpisodeSteps, spec.id);
    const obs = env.observationSpace;
    assert.equal(obs.kind, 'box');
    if (obs.kind === 'box') {
      assert.deepEqual(Array.from(obs.low), want.observation.low.map(bound), `${spec.id} obs low`);
      assert.deepEqual(Array.from(obs.high), want.observation.high.map(bound), `${spec.id} obs high`);
      assert.deepEqual(obs.shape, [want.observation.low.length]);
    }
    const act = env.actionSpace;
    if (want.action.n !== undefined) assert.deepEqual(act, { kind: 'discrete', n: want.action.n }, spec.id);
    else {
      assert.equal(act.kind, 'box', spec.id);
      if (act.kind === 'box') {
        assert.deepEqual(Array.from(act.low), want.action.low!.map(bound));
        assert.deepEqual(Array.from(act.high), want.action.high!.map(bound));
      }
    }
  }
});

test('every classic env: seeded resets are reproducible and drawn from Gymnasium\'s reset ranges', async () => {
  // [low, high] per state coordinate of the reset distribution, and whether Gymnasium stores it as float32.
  const ranges: Record<string, [number, number][]> = {
    'CartPole-v1': Array(4).fill([-0.05, 0.05]),
    'Acrobot-v1': Array(4).fill([-0.1, 0.1]),
    'MountainCar-v0': [[-0.6, -0.4], [0, 0]],
    'MountainCarContinuous-v0': [[-0.6, -0.4], [0, 0]],
    'Pendulum-v1': [[-Math.PI, Math.PI], [-1, 1]],
  };
  for (const spec of CLASSIC_ENV_SPECS) {
    const a = await spec.make();
    const b = await spec.make();
    const first = a.reset(123).observation;
    assert.deepEqual(b.reset(123).observation, first, spec.id);
    assert.deepEqual(a.getState(), b.getState(), spec.id);
    assert.notDeepEqual(Array.from((await spec.make()).reset(124).observation), Array.from(first), spec.id);
    const r = ranges[spec.id]!;
    const sum = new Float64Array(r.length);
    const n = 500;
    for (let k = 0; k < n; k++) {
      a.reset();
      const s = a.getState();
      for (let i = 0; i < r.length; i++) {
        const [lo, hi] = r[i]!;
        assert.ok(s[i]! >= lo && s[i]! <= hi, `${spec.id} reset state[${i}] = ${s[i]}`);
        if (spec.id === 'Acrobot-v1') assert.equal(s[i], Math.fround(s[i]!), 'Acrobot stores its reset draw as float32');
        sum[i]! += s[i]!;
      }
    }
    // Uniform means within 5 standard errors ((hi − lo)/√12/√n).
    for (let i = 0; i < r.length; i++) {
      const [lo, hi] = r[i]!;
      assert.ok(Math.abs(sum[i]! / n - (lo + hi) / 2) <= 5 * ((hi - lo) / Math.sqrt(12 * n)) + 1e-15, `${spec.id} reset mean[${i}]`);
    }
  }
});

test('continuous envs: wrong shape, NaN and out-of-range actions are named errors; clipAction fixes range', () => {
  for (const env of [new PendulumEnv(), new MountainCarContinuousEnv()]) {
    env.reset(0);
    const hi = env.actionSpace.kind === 'box' ? env.actionSpace.high[0]! : 0;
    throwsCode(() => env.step(1), 'SHAPE', /Float64Array of length 1/);
    throwsCode(() => env.step(Float64Array.from([0, 0])), 'SHAPE', /length 2/);
    throwsCode(() => env.step(Float32Array.from([0]) as unknown as Float64Array), 'SHAPE');
    throwsCode(() => env.step(Float64Array.from([NaN])), 'NON_FINITE');
    throwsCode(() => env.step(Float64Array.from([hi * 1.5])), 'INVALID_ARGUMENT', /outside/);
    throwsCode(() => env.step(Float64Array.from([-hi - 1e-9])), 'INVALID_ARGUMENT', /outside/);
    const clipped = clipAction(env.actionSpace, Float64Array.from([hi * 3]));
    assert.equal(clipped[0], hi);
    assert.equal(env.step(clipped).terminated, false);
  }
  for (const env of [new AcrobotEnv(), new MountainCarEnv()]) {
    env.reset(0);
    throwsCode(() => env.step(3), 'INVALID_ARGUMENT', /out of range/);
    throwsCode(() => env.step(1.5), 'INVALID_ARGUMENT', /not an integer/);
    throwsCode(() => env.step(Infinity), 'NON_FINITE');
  }
  throwsCode(() => new PendulumEnv().setState(Float64Array.from([0, 0, 0])), 'SHAPE');
  throwsCode(() => new PendulumEnv().setState(Float64Array.from([0, NaN])), 'NON_FINITE');
});

test('vector: Pendulum truncates every copy at 200 steps with bootstrap information and auto-resets', async () => {
  const vec = await makeVecEnv('Pendulum-v1', 2);
  vec.reset(5);
  const act = Float64Array.from([0.5, -0.5]);
  for (let t = 1; t <= 200; t++) {
    const r = vec.step(act);
    if (t < 200) {
      assert.deepEqual(Array.from(r.truncated), [0, 0]);
      assert.equal(r.episodes.length, 0);
      continue;
    }
    assert.deepEqual(Array.from(r.truncated), [1, 1]);
    assert.deepEqual(Array.from(r.terminated), [0, 0]);
    assert.equal(r.episodes.length, 2);
    for (let i = 0; i < 2; i++) {
      const f = r.finalObservations[i]!;
      assert.equal(f.length, 3);
      // A fresh episode starts with |θ̇| ≤ 1; the final observation is the 200th step's, not it.
      assert.notDeepEqual(Array.from(f), Array.from(r.observations.subarray(i * 3, i * 3 + 3)));
      assert.ok(Math.abs(r.observations[i * 3 + 2]!) <= 1);
      assert.equal(r.episodes[i]!.length, 200);
      assert.ok(r.episodes[i]!.return < 0);
    }
  }
  throwsCode(() => vec.step(Int32Array.from([0, 0])), 'SHAPE', /Float64Array/);
  throwsCode(() => vec.step(Float64Array.from([0.5])), 'SHAPE', /2 action values/);
  throwsCode(() => vec.step(Float64Array.from([0.5, 9])), 'INVALID_ARGUMENT', /copy 1/);
});

test('vector: seeded runs are bit-for-bit reproducible across auto-resets; copy i is the env seeded with seed + i', async () => {
  const run = async (): Promise<number[]> => {
    const vec = await makeVecEnv('Acrobot-v1', 3);
    const out = Array.from(vec.reset(42));
    const rng = new Rng(1);
    for (let t = 0; t < 1100; t++) {
      const r = vec.step(Int32Array.from({ length: 3 }, () => rng.int(3)));
      out.push(...r.observations, ...r.rewards, ...r.terminated, ...r.truncated);
    }
    return out;
  };
  const a = await run();
  assert.deepEqual(await run(), a);
  // Copy 2 replayed alone: seeded 44, reset unseeded whenever its episode ends.
  const vec = await makeVecEnv('CartPole-v1', 3);
  const single = new CartPoleEnv();
  let obs = vec.reset(42);
  let solo = single.reset(44).observation;
  const rng = new Rng(2);
  let ends = 0;
  for (let t = 0; t < 300; t++) {
    assert.deepEqual(obs.subarray(8, 12), solo, `step ${t}`);
    const acts = Int32Array.from({ length: 3 }, () => rng.int(2));
    const r = vec.step(acts);
    const s = single.step(acts[2]!);
    solo = s.terminated || s.truncated ? (ends++, single.reset().observation) : s.observation;
    obs = r.observations;
  }
  assert.ok(ends >= 5, `episodes ended: ${ends}`);
});
