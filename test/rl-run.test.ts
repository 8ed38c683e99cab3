// The RL runner and algorithms on CartPole with tiny budgets: every algorithm updates, seeded
// runs are bit-identical, checkpoints resume, SMAC's Fisher-fidelity figures are consistent, and
// bad input is a named error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FimkitError } from '../src/core/errors.js';
import { Rng } from '../src/core/rng.js';
import { ALGO_NAMES, makeAlgorithm, makeBatch, type AlgoName } from '../src/rl/algorithms/index.js';
import { defaultHyper } from '../src/rl/defaults.js';
import { makeVecEnv } from '../src/rl/envs/vector.js';
import { ActorCritic } from '../src/rl/policy.js';
import { collectRollout } from '../src/rl/rollout.js';
import { MemoryRlCheckpointStore, runTraining } from '../src/rl/run.js';

const tiny = (algo: AlgoName) => ({ ...defaultHyper('CartPole-v1', algo), nEnvs: 4, nSteps: 16, epochs: 2, minibatchSize: 32, criticEpochs: 1, criticMinibatches: 2, cgIters: 5, fidelityEvery: 1 });

for (const algo of ALGO_NAMES) {
  test(`${algo}: one update on a CartPole rollout changes θ and reports finite figures`, async () => {
    const h = tiny(algo);
    const env = await makeVecEnv('CartPole-v1', h.nEnvs);
    const policy = new ActorCritic(env.observationSpace, env.actionSpace, new Rng(1));
    const a = makeAlgorithm(algo, policy, h);
    const rng = new Rng(2);
    const c = { env, obs: env.reset(3) };
    const before = policy.getFlat();
    const stats = a.update(makeBatch(collectRollout(c, policy, h.nSteps, rng), h), rng);
    const after = policy.getFlat();
    assert.ok(Number.isFinite(stats.valueLoss) && Number.isFinite(stats.gradNorm));
    if (stats.lineSearch !== -1) assert.ok(after.some((x, i) => x !== before[i]), 'θ moved');
    if (algo === 'trpo' && stats.lineSearch! >= 0) assert.ok(stats.kl <= h.maxKl * (1 + 1e-9), `TRPO KL ${stats.kl} within δ`);
    if (algo === 'smac') {
      const f = stats.fidelity!;
      assert.ok(f && f.quadLowRank > 0 && f.quadExact > 0 && Math.abs(f.cosine) <= 1 + 1e-12);
      // With λ → large, the rank-1 direction tends to g and so does (F + λI)⁻¹g: cosine → 1.
    }
  });
}

test('SMAC with a huge λ: the direction turns into the gradient, and agrees with (F + λI)⁻¹g', async () => {
  const h = { ...tiny('smac'), smLambda: 1e6 };
  const env = await makeVecEnv('CartPole-v1', h.nEnvs);
  const policy = new ActorCritic(env.observationSpace, env.actionSpace, new Rng(1));
  const a = makeAlgorithm('smac', policy, h);
  const rng = new Rng(2);
  const stats = a.update(makeBatch(collectRollout({ env, obs: env.reset(3) }, policy, h.nSteps, rng), h), rng);
  const f = stats.fidelity!;
  assert.ok(f.cosineToGradient > 1 - 1e-6 && f.cosine > 1 - 1e-6 && f.exactCosineToGradient > 1 - 1e-6, JSON.stringify(f));
  assert.ok(Math.abs(f.quadExact / f.quadLowRank - 1) < 1e-3);
});

test('rank-k SMAC (Woodbury) and the u sources run', async () => {
  for (const extra of [{ smRank: 4 }, { smUSource: 'first' as const }, { smUSource: 'mean' as const, smRank: 8 }, { smStep: 'fixed' as const, smClip: 0.1 }, { smStep: 'adam' as const, smMinibatches: 2 }]) {
    const h = { ...tiny('smac'), ...extra };
    const env = await makeVecEnv('CartPole-v1', h.nEnvs);
    const policy = new ActorCritic(env.observationSpace, env.actionSpace, new Rng(1));
    const a = makeAlgorithm('smac', policy, h);
    const rng = new Rng(2);
    const before = policy.getFlat();
    const stats = a.update(makeBatch(collectRollout({ env, obs: env.reset(3) }, policy, h.nSteps, rng), h), rng);
    const after = policy.getFlat();
    assert.ok(after.some((x, i) => x !== before[i]), JSON.stringify(extra));
    if (extra.smClip) assert.ok(stats.stepNorm <= 0.1 + 1e-12);
  }
});

test('same seed → bit-identical learning curve and parameters; a different seed differs', async () => {
  const opts = (seed: number) => ({ env: 'CartPole-v1', algo: 'smac' as const, seed, totalSteps: 192, hyper: tiny('smac'), evalEvery: 64, evalEpisodes: 2 });
  const a = await runTraining(opts(5));
  const b = await runTraining(opts(5));
  const c = await runTraining(opts(6));
  assert.deepEqual(a.evals, b.evals);
  assert.deepEqual(a.trainEpisodes, b.trainEpisodes);
  assert.deepEqual(a.fidelity, b.fidelity);
  assert.notDeepEqual(a.trainEpisodes, c.trainEpisodes);
  assert.equal(a.steps, 192);
  assert.equal(a.evals.length, 4);
});

test('checkpoint and resume: a stopped run continues to the end; a different config is refused; nothing is lost on a failure', async () => {
  const store = new MemoryRlCheckpointStore();
  const opts = { env: 'CartPole-v1', algo: 'ppo' as const, seed: 1, totalSteps: 256, hyper: tiny('ppo'), evalEvery: 128, evalEpisodes: 1, store, checkpointEvery: 1 };
  let updates = 0;
  const first = await runTraining({ ...opts, shouldStop: () => ++updates >= 2 });
  assert.equal(first.completed, false);
  assert.equal(first.steps, 128);
  const saved = store.load()!;
  assert.equal(saved.updates, 2);
  const second = await runTraining(opts);
  assert.equal(second.completed, true);
  assert.equal(second.steps, 256);
  assert.equal(second.updates, 4);
  assert.deepEqual(second.evals.slice(0, first.evals.length), first.evals);
  await assert.rejects(runTraining({ ...opts, seed: 2 }), (e: unknown) => e instanceof FimkitError && e.code === 'INVALID_ARGUMENT' && /seed/.test(e.message));
  // λ ≤ 0 is refused before anything runs, and the stored checkpoint is untouched.
  const savesBefore = store.saves;
  await assert.rejects(runTraining({ ...opts, algo: 'smac', hyper: { ...tiny('smac'), smLambda: 0 } }), (e: unknown) => e instanceof FimkitError && e.code === 'INVALID_ARGUMENT' && /λ/.test(e.message));
  assert.equal(store.saves, savesBefore);
});

test('unknown environment or algorithm: named errors listing the known ones', async () => {
  await assert.rejects(runTraining({ env: 'NoSuchEnv-v0', algo: 'ppo', seed: 0, totalSteps: 10, hyper: tiny('ppo'), evalEvery: 10, evalEpisodes: 1 }), (e: unknown) => e instanceof FimkitError && e.code === 'INVALID_ARGUMENT' && /CartPole-v1/.test(e.message));
  const env = await makeVecEnv('CartPole-v1', 1);
  const policy = new ActorCritic(env.observationSpace, env.actionSpace, new Rng(1));
  assert.throws(() => makeAlgorithm('sac', policy, tiny('ppo')), (e: unknown) => e instanceof FimkitError && e.code === 'INVALID_ARGUMENT' && /smac/.test(e.message));
});

test('Gaussian head end to end: every algorithm trains a few updates on Pendulum-v1 with observation and reward normalisation', async () => {
  for (const algo of ALGO_NAMES) {
    const hyper = { ...defaultHyper('Pendulum-v1', algo), nEnvs: 2, nSteps: 16, epochs: 1, minibatchSize: 16, criticEpochs: 1, criticMinibatches: 1, cgIters: 4, fidelityEvery: 1, normalizeObs: true, normalizeReward: true };
    const store = new MemoryRlCheckpointStore();
    const r = await runTraining({ env: 'Pendulum-v1', algo, seed: 3, totalSteps: 64, hyper, evalEvery: 64, evalEpisodes: 1, store, checkpointEvery: 1 });
    assert.equal(r.steps, 64);
    assert.ok(r.evals.every((e) => Number.isFinite(e.mean) && e.mean < 0), `${algo}: ${JSON.stringify(r.evals)}`);
    const saved = store.load()!;
    assert.ok(saved.normalize !== null && saved.policy.actor.length === r.numActorParams);
    if (algo === 'smac') assert.ok(r.fidelity.length === 2 && r.fidelity.every((f) => f.quadExact > 0 && Number.isFinite(f.cosine)));
  }
});
