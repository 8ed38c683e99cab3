import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FimkitError } from '../src/core/errors.js';
import { Rng } from '../src/core/rng.js';
import { RunningMeanStd, VecNormalize } from '../src/rl/envs/normalize.js';
import { loadNormalizeState, saveNormalizeState } from '../src/rl/envs/normalize-file.js';
import { boxSpace, discreteSpace } from '../src/rl/envs/spaces.js';
import type { VecEnv, VecStepResult } from '../src/rl/envs/types.js';
import { makeVecEnv } from '../src/rl/envs/vector.js';

const PRIOR = 1e-4;

/**
 * The statistics RunningMeanStd must hold after seeing `rows` (any batching): the weighted pooled
 * mean and variance of the data together with its prior (weight 1e-4, mean 0, variance 1).
 */
function pooled(rows: number[][], dim: number): { mean: number[]; var: number[] } {
  const n = rows.length + PRIOR;
  const mean: number[] = [];
  const v: number[] = [];
  for (let j = 0; j < dim; j++) {
    const m = rows.reduce((s, r) => s + r[j]!, 0) / n;
    const ss = rows.reduce((s, r) => s + (r[j]! - m) ** 2, 0);
    mean.push(m);
    v.push((PRIOR * (1 + m * m) + ss) / n);
  }
  return { mean, var: v };
}

function close(a: number, b: number, tol: number, what: string): void {
  assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);
}

function throwsCode(fn: () => unknown, code: string, re?: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof FimkitError, `expected a FimkitError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    if (re) assert.match(e.message, re);
    return true;
  });
}

test('RunningMeanStd: any batching gives the pooled mean/variance with the 1e-4 prior', () => {
  const rng = new Rng(3);
  const dim = 3;
  const rows = Array.from({ length: 57 }, () => [rng.normal() * 2 + 5, rng.uniform() - 3, rng.normal() * 1e-3]);
  const want = pooled(rows, dim);
  for (const sizes of [[57], [1, 56], [10, 20, 27], Array(57).fill(1)]) {
    const rms = new RunningMeanStd(dim);
    let at = 0;
    for (const b of sizes) {
      rms.update(rows.slice(at, at + b).flat());
      at += b;
    }
    close(rms.count, 57 + PRIOR, 1e-15, 'count');
    for (let j = 0; j < dim; j++) {
      close(rms.mean[j]!, want.mean[j]!, 1e-12, `mean[${j}] batches ${sizes.length}`);
      close(rms.var[j]!, want.var[j]!, 1e-10, `var[${j}] batches ${sizes.length}`);
    }
  }
  throwsCode(() => new RunningMeanStd(3).update([1, 2]), 'SHAPE');
});

/** A scripted two-copy env: obs, rewards and episode ends given per step. */
class ScriptedVec implements VecEnv {
  readonly id = 'Scripted-v0';
  readonly num = 2;
  readonly observationSpace = boxSpace([-Infinity, -Infinity], [Infinity, Infinity]);
  readonly actionSpace = discreteSpace(2);
  t = 0;
  constructor(
    readonly resetObs: number[],
    readonly script: { obs: number[]; rew: number[]; done: number[]; final?: (number[] | null)[] }[],
  ) {}
  reset(): Float64Array {
    this.t = 0;
    return Float64Array.from(this.resetObs);
  }
  step(): VecStepResult {
    const s = this.script[this.t++]!;
    return {
      observations: Float64Array.from(s.obs),
      rewards: Float64Array.from(s.rew),
      terminated: Uint8Array.from(s.done),
      truncated: new Uint8Array(2),
      finalObservations: (s.final ?? [null, null]).map((f) => (f ? Float64Array.from(f) : null)),
      episodes: [],
    };
  }
  close(): void {}
}

test('VecNormalize: observations and rewards match a hand computation step by step (SB3 semantics)', () => {
  const script = [
    { obs: [1, 10, 3, -10], rew: [1, 2], done: [0, 0] },
    { obs: [2, 12, 5, -8], rew: [0.5, -1], done: [0, 1], final: [null, [4, -6]] },
    { obs: [-1, 11, 0, 0], rew: [3, 1], done: [0, 0] },
    { obs: [0, 9, 1, 1], rew: [-2, 0], done: [1, 0], final: [[7, 7], null] },
  ];
  const gamma = 0.9;
  const norm = new VecNormalize(new ScriptedVec([0, 10, 2, -12], script), { gamma });
  const seen: number[][] = [[0, 10], [2, -12]];
  const returnsSeen: number[][] = [];
  const ret = [0, 0];
  const eps = 1e-8;
  const first = norm.reset();
  let st = pooled(seen, 2);
  for (let k = 0; k < 4; k++) close(first[k]!, (seen[k >> 1]![k & 1]! - st.mean[k & 1]!) / Math.sqrt(st.var[k & 1]! + eps), 1e-12, `reset obs ${k}`);
  for (const s of script) {
    const r = norm.step(new Int32Array(2));
    seen.push(s.obs.slice(0, 2), s.obs.slice(2, 4));
    st = pooled(seen, 2);
    const z = (x: number, j: number): number => Math.max(-10, Math.min(10, (x - st.mean[j]!) / Math.sqrt(st.var[j]! + eps)));
    for (let k = 0; k < 4; k++) close(r.observations[k]!, z(s.obs[k]!, k & 1), 1e-12, `obs ${k}`);
    for (let i = 0; i < 2; i++) {
      const f = s.final?.[i];
      if (f) {
        close(r.finalObservations[i]![0]!, z(f[0]!, 0), 1e-12, 'final obs 0');
        close(r.finalObservations[i]![1]!, z(f[1]!, 1), 1e-12, 'final obs 1');
      } else assert.equal(r.finalObservations[i], null);
    }
    for (let i = 0; i < 2; i++) ret[i] = ret[i]! * gamma + s.rew[i]!;
    returnsSeen.push([ret[0]!], [ret[1]!]);
    const rs = pooled(returnsSeen, 1);
    for (let i = 0; i < 2; i++) close(r.rewards[i]!, Math.max(-10, Math.min(10, s.rew[i]! / Math.sqrt(rs.var[0]! + eps))), 1e-12, `reward ${i}`);
    for (let i = 0; i < 2; i++) if (s.done[i]) ret[i] = 0;
    assert.deepEqual(Array.from(norm.returns), ret);
    assert.deepEqual(Array.from(norm.getOriginalObs()!), s.obs);
    assert.deepEqual(Array.from(norm.getOriginalRewards()!), s.rew);
  }
});

test('VecNormalize: clipping at ±clipObs / ±clipReward; evaluation mode freezes the statistics', () => {
  // 40 ordinary steps, then an outlier: among n ≈ 80 rows one outlier sits ≈ √n ≈ 9 standard
  // deviations out (its own weight included), past the clips of 3.
  const rng = new Rng(5);
  const script: { obs: number[]; rew: number[]; done: number[] }[] = [];
  for (let t = 0; t < 40; t++) script.push({ obs: [rng.normal(), rng.normal(), rng.normal(), rng.normal()], rew: [rng.normal(), rng.normal()], done: [0, 0] });
  script.push({ obs: [1e6, 0, -1e6, 0], rew: [1e6, -1e6], done: [0, 0] }, { obs: [1, 1, 1, 1], rew: [1, 1], done: [0, 0] });
  const norm = new VecNormalize(new ScriptedVec([0, 0, 0, 0], script), { clipObs: 3, clipReward: 3 });
  norm.reset();
  for (let t = 0; t < 40; t++) norm.step(new Int32Array(2));
  const r = norm.step(new Int32Array(2));
  assert.equal(r.observations[0], 3);
  assert.equal(r.observations[2], -3);
  assert.equal(r.rewards[0], 3);
  assert.equal(r.rewards[1], -3);
  assert.ok(Math.abs(r.observations[1]!) < 3);
  norm.training = false;
  const before = JSON.stringify(norm.getState());
  const r2 = norm.step(new Int32Array(2));
  const after = norm.getState();
  assert.deepEqual(after.obsRms, JSON.parse(before).obsRms);
  assert.deepEqual(after.retRms, JSON.parse(before).retRms);
  assert.deepEqual(r2.observations, norm.normalizeObs(Float64Array.from([1, 1, 1, 1])));
});

test('VecNormalize: state round-trips through JSON and files; corrupt states are named errors', async () => {
  const vec = await makeVecEnv('CartPole-v1', 4);
  const norm = new VecNormalize(vec, { gamma: 0.95 });
  norm.reset(1);
  const rng = new Rng(9);
  for (let t = 0; t < 50; t++) norm.step(Int32Array.from({ length: 4 }, () => rng.int(2)));
  const state = JSON.parse(JSON.stringify(norm.getState()));
  const other = new VecNormalize(await makeVecEnv('CartPole-v1', 4));
  other.setState(state);
  assert.deepEqual(other.getState(), norm.getState());
  const probe = Float64Array.from([0.1, -0.2, 0.03, 0.5, 1, 1, 1, 1]);
  assert.deepEqual(other.normalizeObs(probe), norm.normalizeObs(probe));
  assert.deepEqual(other.normalizeReward(Float64Array.from([1, 0.5])), norm.normalizeReward(Float64Array.from([1, 0.5])));
  const dir = mkdtempSync(join(tmpdir(), 'fimkit-vecnorm-'));
  try {
    const path = join(dir, 'norm.json');
    saveNormalizeState(path, norm);
    const third = new VecNormalize(await makeVecEnv('CartPole-v1', 4));
    loadNormalizeState(path, third);
    assert.deepEqual(third.getState(), norm.getState());
    writeFileSync(path, '{"format": "fimkit-vecnormalize-1", "obsRms": ');
    throwsCode(() => loadNormalizeState(path, third), 'CORRUPT_FILE', /not valid JSON/);
    throwsCode(() => loadNormalizeState(join(dir, 'absent.json'), third), 'IO');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  throwsCode(() => other.setState({ ...state, format: 'x' }), 'CORRUPT_FILE');
  throwsCode(() => other.setState({ ...state, obsRms: { ...state.obsRms, var: [1, -1, 1, 1] } }), 'CORRUPT_FILE', /var/);
  throwsCode(() => other.setState({ ...state, obsRms: { ...state.obsRms, mean: [0, 0] } }), 'SHAPE');
  throwsCode(() => other.setState({ ...state, gamma: 2 }), 'CORRUPT_FILE', /gamma/);
  throwsCode(() => new VecNormalize(vec, { clipObs: 0 }), 'INVALID_ARGUMENT', /clipObs/);
});

test('VecNormalize: a NaN observation is a named error and leaves the statistics untouched', () => {
  const script = [
    { obs: [1, 2, 3, 4], rew: [0, 0], done: [0, 0] },
    { obs: [1, NaN, 3, 4], rew: [0, 0], done: [0, 0] },
  ];
  const norm = new VecNormalize(new ScriptedVec([0, 0, 0, 0], script));
  norm.reset();
  norm.step(new Int32Array(2));
  const before = JSON.stringify(norm.getState());
  throwsCode(() => norm.step(new Int32Array(2)), 'NON_FINITE', /copy 0, coordinate 1/);
  assert.equal(JSON.stringify(norm.getState()), before);
});
