// Policies (categorical and diagonal-Gaussian heads), their scores and Fisher, GAE, and rollout
// bootstrapping on truncation versus termination.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../src/core/rng.js';
import { FimkitError } from '../src/core/errors.js';
import { noGrad } from '../src/autodiff/tape.js';
import { grad } from '../src/autodiff/grad.js';
import { GaussianLikelihood, gaussianLogProbWithLogStd } from '../src/likelihoods/gaussian.js';
import { Tensor } from '../src/core/tensor.js';
import { ActorCritic, flatten } from '../src/rl/policy.js';
import { computeGae } from '../src/rl/gae.js';
import { collectRollout } from '../src/rl/rollout.js';
import type { Space, VecEnv, VecStepResult } from '../src/rl/envs/types.js';

const box = (n: number, lo = -Infinity, hi = Infinity): Space => ({ kind: 'box', shape: [n], low: new Float64Array(n).fill(lo), high: new Float64Array(n).fill(hi) });

function makePolicy(kind: 'categorical' | 'gaussian', seed = 0): ActorCritic {
  const p = new ActorCritic(box(3), kind === 'categorical' ? { kind: 'discrete', n: 4 } : box(2, -1, 1), new Rng(seed), { actorHidden: [5], criticHidden: [4] });
  // Move away from the small-last-layer initialisation so every parameter matters.
  const rng = new Rng(seed + 100);
  for (const t of p.actorParams()) rng.fillNormal(t.data as Float64Array, 0, 0.5);
  return p;
}

function logProbAt(p: ActorCritic, theta: Float64Array, obs: Float64Array, acts: Int32Array | Float64Array, n: number): Float64Array {
  const keep = p.getFlat();
  p.setFlat(theta);
  const lp = noGrad(() => Float64Array.from(p.logProb(p.obsTensor(obs, n), acts).data));
  p.setFlat(keep);
  return lp;
}

for (const kind of ['categorical', 'gaussian'] as const) {
  test(`${kind} head: per-sample scores equal central finite differences of log π(a|s) and the autodiff gradient`, () => {
    const p = makePolicy(kind);
    const n = 4;
    const rng = new Rng(7);
    const obs = new Float64Array(n * 3);
    rng.fillNormal(obs);
    const { actions } = p.act(obs, n, rng);
    const S = p.scores(obs, actions, n);
    const P = p.numActorParams;
    assert.equal(S.length, n * P);
    const theta = p.getFlat();
    const h = 1e-6;
    let worst = 0;
    for (let i = 0; i < P; i++) {
      const tp = Float64Array.from(theta); tp[i]! += h;
      const tm = Float64Array.from(theta); tm[i]! -= h;
      const lp = logProbAt(p, tp, obs, actions, n);
      const lm = logProbAt(p, tm, obs, actions, n);
      for (let b = 0; b < n; b++) {
        const fd = (lp[b]! - lm[b]!) / (2 * h);
        worst = Math.max(worst, Math.abs(fd - S[b * P + i]!) / Math.max(1, Math.abs(fd)));
      }
    }
    assert.ok(worst < 1e-6, `max FD error ${worst}`);
    // Row b equals grad of log π(a_b|s_b) by autodiff.
    const lp = p.logProb(p.obsTensor(obs, n), actions);
    const g1 = flatten(grad(lp, p.actorParams(), { gradOutputs: [new Tensor(Float64Array.from({ length: n }, (_, b) => (b === 1 ? 1 : 0)), [n])] }));
    for (let i = 0; i < P; i++) assert.ok(Math.abs(g1[i]! - S[P + i]!) < 1e-10);
  });
}

test('gaussianLogProbWithLogStd equals the per-coordinate-variance Gaussian likelihood', () => {
  const mean = new Tensor(Float64Array.from([0.1, -0.3, 2, 0.5]), [2, 2]);
  const s = Float64Array.from([-0.5, 0.7]);
  const y = Float64Array.from([0.4, 0.1, 1.2, -0.2]);
  const a = gaussianLogProbWithLogStd(mean, new Tensor(Float64Array.from(s), [2]), y).data;
  const lik = new GaussianLikelihood({ variance: Array.from(s, (v) => Math.exp(2 * v)) });
  const b = lik.logProbValues(mean.data, y, 2, 2);
  const c = lik.logProb(mean, y).data;
  for (let i = 0; i < 2; i++) {
    assert.ok(Math.abs(a[i]! - b[i]!) < 1e-12);
    assert.ok(Math.abs(c[i]! - b[i]!) < 1e-12);
  }
  // Covariance of t is Σ⁻¹ per coordinate.
  const cov = lik.covarianceDiagonal(mean.data, 2, 2);
  assert.ok(Math.abs(cov[0]! - Math.exp(1)) < 1e-12 && Math.abs(cov[1]! - Math.exp(-1.4)) < 1e-12);
  assert.throws(() => new GaussianLikelihood({ variance: [1, 0] }), (e: unknown) => e instanceof FimkitError && e.code === 'INVALID_ARGUMENT');
  assert.throws(() => new GaussianLikelihood({ variance: [1, 2, 3] }).logProb(mean, y), (e: unknown) => e instanceof FimkitError && e.code === 'SHAPE');
});

test('categorical policy Fisher (fimkit matrix-free, KFAC and diagonal) against enumeration of the actions', () => {
  const p = makePolicy('categorical', 3);
  const n = 5;
  const rng = new Rng(9);
  const obs = new Float64Array(n * 3);
  rng.fillNormal(obs);
  const { actions } = p.act(obs, n, rng);
  const P = p.numActorParams;
  // F = (1/n) Σ_b Σ_a π(a|s_b) s_ba s_baᵀ by enumerating the 4 actions.
  const logits = p.distParams(obs, n);
  const F = new Float64Array(P * P);
  for (let a = 0; a < 4; a++) {
    const S = p.scores(obs, new Int32Array(n).fill(a), n);
    for (let b = 0; b < n; b++) {
      let z = 0;
      for (let c = 0; c < 4; c++) z += Math.exp(logits[b * 4 + c]!);
      const w = Math.exp(logits[b * 4 + a]!) / z / n;
      for (let i = 0; i < P; i++) for (let j = 0; j < P; j++) F[i * P + j]! += w * S[b * P + i]! * S[b * P + j]!;
    }
  }
  const v = new Float64Array(P);
  rng.fillNormal(v);
  const ref = new Float64Array(P);
  for (let i = 0; i < P; i++) for (let j = 0; j < P; j++) ref[i]! += F[i * P + j]! * v[j]!;
  const mv = p.fisher(obs, actions, n, 'matfree').mv(v);
  let err = 0, scale = 0;
  for (let i = 0; i < P; i++) { err = Math.max(err, Math.abs(mv[i]! - ref[i]!)); scale = Math.max(scale, Math.abs(ref[i]!)); }
  assert.ok(err / scale < 1e-10, `matfree F·v rel err ${err / scale}`);
  const diag = p.fisher(obs, actions, n, 'diag').network.diag();
  for (let i = 0; i < P; i++) assert.ok(Math.abs(diag[i]! - F[i * P + i]!) < 1e-10 * Math.max(1, F[i * P + i]!));
  // KFAC solve is an SPD preconditioner: gᵀ(F̃ + λI)⁻¹g > 0.
  const x = p.fisher(obs, actions, n, 'kfac').solve(v, 0.01);
  assert.ok(x.reduce((s, xi, i) => s + xi * v[i]!, 0) > 0);
});

test('Gaussian policy Fisher: network block from fimkit, log-std block 2·I, against Gauss–Hermite quadrature over actions', () => {
  const p = makePolicy('gaussian', 4);
  const n = 3;
  const rng = new Rng(10);
  const obs = new Float64Array(n * 3);
  rng.fillNormal(obs);
  const { actions } = p.act(obs, n, rng);
  const P = p.numActorParams;
  const mu = p.distParams(obs, n);
  const sd = Array.from(p.logStd!.data, (s) => Math.exp(s));
  // 5-point Gauss–Hermite (probabilists'): exact for polynomials of degree ≤ 9; the score is a
  // polynomial of degree 2 in a, so the outer product (degree 4) is integrated exactly.
  const nodes = [-2.856970013872806, -1.355626179974266, 0, 1.355626179974266, 2.856970013872806];
  const weights = [0.011257411327721, 0.222075922005613, 0.533333333333333, 0.222075922005613, 0.011257411327721];
  const F = new Float64Array(P * P);
  for (let i1 = 0; i1 < 5; i1++) for (let i2 = 0; i2 < 5; i2++) {
    const acts = new Float64Array(n * 2);
    for (let b = 0; b < n; b++) { acts[b * 2] = mu[b * 2]! + sd[0]! * nodes[i1]!; acts[b * 2 + 1] = mu[b * 2 + 1]! + sd[1]! * nodes[i2]!; }
    const S = p.scores(obs, acts, n);
    const w = (weights[i1]! * weights[i2]!) / n;
    for (let b = 0; b < n; b++) for (let i = 0; i < P; i++) for (let j = 0; j < P; j++) F[i * P + j]! += w * S[b * P + i]! * S[b * P + j]!;
  }
  const v = new Float64Array(P);
  rng.fillNormal(v);
  const mv = p.fisher(obs, actions, n, 'matfree').mv(v);
  let err = 0, scale = 0;
  for (let i = 0; i < P; i++) {
    let r = 0;
    for (let j = 0; j < P; j++) r += F[i * P + j]! * v[j]!;
    err = Math.max(err, Math.abs(mv[i]! - r));
    scale = Math.max(scale, Math.abs(r));
  }
  assert.ok(err / scale < 1e-8, `Gaussian F·v rel err ${err / scale}`);
});

test('policy KL: zero at the same parameters, positive after a change, equal to the closed forms', () => {
  for (const kind of ['categorical', 'gaussian'] as const) {
    const p = makePolicy(kind, 5);
    const obs = Float64Array.from({ length: 9 }, (_, i) => Math.sin(i));
    const old = p.distParams(obs, 3);
    const oldS = p.logStd ? Float64Array.from(p.logStd.data) : null;
    assert.ok(Math.abs(p.meanKl(obs, 3, old, oldS)) < 1e-14);
    const th = p.getFlat();
    p.setFlat(th.map((x, i) => x + 0.01 * Math.cos(i)));
    const kl = p.meanKl(obs, 3, old, oldS);
    assert.ok(kl > 0);
    // Second order: KL ≈ ½ ΔθᵀFΔθ for a small step.
    const dth = th.map((_, i) => 0.01 * Math.cos(i));
    p.setFlat(th);
    const { actions } = p.act(obs, 3, new Rng(1));
    const quad = 0.5 * p.fisher(obs, actions, 3, 'matfree').mv(dth).reduce((s, x, i) => s + x * dth[i]!, 0);
    assert.ok(Math.abs(kl - quad) / quad < 0.05, `${kind}: KL ${kl} vs ½ΔθᵀFΔθ ${quad}`);
  }
});

test('GAE by hand: continuing, terminated (no bootstrap), truncated (bootstrap from the final observation)', () => {
  // One copy, 3 steps. γ = 0.9, λ = 0.5.
  const g = 0.9, l = 0.5;
  const base = { nSteps: 3, nEnvs: 1, rewards: Float64Array.from([1, 2, 3]), values: Float64Array.from([0.5, 1, 1.5]), nextValues: Float64Array.from([1, 1.5, 4]) };
  // Continuing throughout, last step bootstraps from V(s_3) = 4.
  let r = computeGae({ ...base, terminated: new Uint8Array(3), truncated: new Uint8Array(3) }, g, l);
  const d2 = 3 + g * 4 - 1.5, d1 = 2 + g * 1.5 - 1, d0 = 1 + g * 1 - 0.5;
  const A2 = d2, A1 = d1 + g * l * A2, A0 = d0 + g * l * A1;
  assert.deepEqual(Array.from(r.advantages).map((x) => +x.toFixed(12)), [A0, A1, A2].map((x) => +x.toFixed(12)));
  assert.ok(Math.abs(r.returns[0]! - (A0 + 0.5)) < 1e-12);
  // Terminated at step 1: δ1 = r1 − V(s1), and step 0 keeps accumulating through step 1 but not past it.
  r = computeGae({ ...base, terminated: Uint8Array.from([0, 1, 0]), truncated: new Uint8Array(3) }, g, l);
  const t1 = 2 - 1, t0 = d0 + g * l * t1;
  assert.ok(Math.abs(r.advantages[1]! - t1) < 1e-12 && Math.abs(r.advantages[0]! - t0) < 1e-12 && Math.abs(r.advantages[2]! - d2) < 1e-12);
  // Truncated at step 1 with V(final obs) = nextValues[1] = 1.5: δ1 = r1 + γ·1.5 − V(s1), no GAE carry from step 2.
  r = computeGae({ ...base, terminated: new Uint8Array(3), truncated: Uint8Array.from([0, 1, 0]) }, g, l);
  assert.ok(Math.abs(r.advantages[1]! - d1) < 1e-12 && Math.abs(r.advantages[0]! - (d0 + g * l * d1)) < 1e-12);
  // Both flags: termination wins (no bootstrap).
  r = computeGae({ ...base, terminated: Uint8Array.from([0, 1, 0]), truncated: Uint8Array.from([0, 1, 0]) }, g, l);
  assert.ok(Math.abs(r.advantages[1]! - t1) < 1e-12);
  assert.throws(() => computeGae({ ...base, terminated: new Uint8Array(2), truncated: new Uint8Array(3) }, g, l), (e: unknown) => e instanceof FimkitError && e.code === 'SHAPE');
});

/** A scripted 2-copy env: observation = [step, copy, marker]; copy 0 truncates at t = 1, copy 1 terminates at t = 2. */
class ScriptedVecEnv implements VecEnv {
  readonly id = 'Scripted-v0';
  readonly num = 2;
  readonly observationSpace = box(3);
  readonly actionSpace: Space = { kind: 'discrete', n: 4 };
  t = 0;
  nanAt = -1;
  reset(): Float64Array { this.t = 0; return this.obs(0); }
  obs(t: number): Float64Array { return Float64Array.from([t, 0, 0, t, 1, 0]); }
  step(): VecStepResult {
    this.t++;
    const o = this.obs(this.t);
    if (this.t === this.nanAt) o[5] = NaN;
    const fin: (Float64Array | null)[] = [null, null];
    const term = new Uint8Array(2), trunc = new Uint8Array(2);
    if (this.t === 2) { trunc[0] = 1; fin[0] = Float64Array.from([9, 9, 9]); o.set([0, 0, 0], 0); }
    if (this.t === 3) { term[1] = 1; fin[1] = Float64Array.from([8, 8, 8]); o.set([0, 1, 0], 3); }
    return { observations: o, rewards: Float64Array.from([1, 1]), terminated: term, truncated: trunc, finalObservations: fin, episodes: [] };
  }
  close(): void {}
}

test('rollout: next values bootstrap from the final observation on truncation, from the next observation otherwise', () => {
  const p = makePolicy('categorical', 6);
  const env = new ScriptedVecEnv();
  const c = { env, obs: env.reset() };
  const r = collectRollout(c, p, 4, new Rng(0));
  const V = (o: number[]): number => p.values(Float64Array.from(o), 1)[0]!;
  // Step index t·2 + i. Copy 0 truncated at step 1 (t=1 → env t=2): bootstrap from V([9,9,9]).
  assert.equal(r.truncated[1 * 2 + 0], 1);
  assert.ok(Math.abs(r.nextValues[1 * 2 + 0]! - V([9, 9, 9])) < 1e-12);
  // Copy 1 terminated at step 2: its next value is not used by GAE; a continuing step uses V(next obs).
  assert.equal(r.terminated[2 * 2 + 1], 1);
  assert.ok(Math.abs(r.nextValues[0 * 2 + 1]! - V([1, 1, 0])) < 1e-12);
  assert.ok(Math.abs(r.nextValues[0 * 2 + 0]! - r.values[1 * 2 + 0]!) < 1e-15);
  // Last step bootstraps from the values of the observations after the rollout.
  assert.ok(Math.abs(r.nextValues[3 * 2 + 1]! - V([4, 1, 0])) < 1e-12);
});

test('NaN observations from a diverged policy/env are a named error', () => {
  const p = makePolicy('categorical', 6);
  const env = new ScriptedVecEnv();
  env.nanAt = 2;
  const c = { env, obs: env.reset() };
  assert.throws(() => collectRollout(c, p, 4, new Rng(0)), (e: unknown) => e instanceof FimkitError && e.code === 'NON_FINITE' && /diverged/.test(e.message));
});
