import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '../src/core/rng.js';
import { FimkitError } from '../src/core/errors.js';
import { Tensor } from '../src/core/tensor.js';
import { noGrad } from '../src/autodiff/tape.js';
import { makeSyntheticSplit, type Dataset } from '../src/data/index.js';
import { makeLikelihood } from '../src/likelihoods/index.js';
import { buildModel, mlpSpec, parseArchitecture, type Sequential } from '../src/nn/index.js';
import type { OptimizerConfig } from '../src/optim/index.js';
import { train, MemoryCheckpointStore, ProgressReporter, evaluate, type TrainOptions } from '../src/train/index.js';
import { FileCheckpointStore } from '../src/train/checkpoint-file.js';
import { getBackend, setBackend } from '../src/core/backends/index.js';
import { BACKENDS } from './helpers.js';

function isCode(code: string): (e: unknown) => boolean {
  return (e: unknown) => e instanceof FimkitError && e.code === code;
}

function sigmoid(t: number): number {
  return t >= 0 ? 1 / (1 + Math.exp(-t)) : Math.exp(t) / (1 + Math.exp(t));
}

test('logistic regression trained by the trainer approaches the true conditional (KL bound from the MLE asymptotics)', async () => {
  const theta = [1.5, -1];
  const bias = 0.5;
  const n = 4000;
  const { train: tr, test: te } = makeSyntheticSplit('logistic', { n, nTest: 2000, theta, bias, seed: 11 });
  // Two logits: p(y=1|x) = σ(h1 − h0) spans exactly the true family (3 identifiable parameters).
  const model = buildModel(parseArchitecture('2', 'identity', tr.inputShape), new Rng(3).derive('init'), 'float64');
  const likelihood = makeLikelihood('categorical');
  const steps = 20 * Math.ceil(n / 100);
  const result = await train({
    model, likelihood, train: tr, test: te,
    optimizer: { name: 'adam', lr: 0.05 },
    schedule: { kind: 'cosine' },
    epochs: 20, batchSize: 100, seed: 5,
  });
  assert.equal(result.status, 'completed');
  assert.equal(result.globalStep, steps);
  assert.equal(result.epochs.length, 20);

  // Mean KL(p_true(·|x) ‖ q_model(·|x)) over the test inputs, computed from the model's logits.
  const h = noGrad(() => model.forward(new Tensor(te.inputs as Float64Array, [te.length, 2]))).data;
  let kl = 0;
  let nll = 0;
  let correct = 0;
  const labels = te.targets as Int32Array;
  for (let i = 0; i < te.length; i++) {
    const eta = bias + theta[0]! * te.inputs[2 * i]! + theta[1]! * te.inputs[2 * i + 1]!;
    const p = sigmoid(eta);
    const q = sigmoid(h[2 * i + 1]! - h[2 * i]!);
    kl += p * Math.log(p / q) + (1 - p) * Math.log((1 - p) / (1 - q));
    nll -= Math.log(labels[i] === 1 ? q : 1 - q);
    if ((h[2 * i + 1]! > h[2 * i]! ? 1 : 0) === labels[i]) correct++;
  }
  kl /= te.length;
  // For the MLE, 2n·KL → χ²_3 in distribution; P(χ²_3 > 16.3) = 0.001. Optimisation error is
  // the only other term, so a trainer that converges stays under 16.3 / (2n).
  const bound = 16.3 / (2 * n);
  assert.ok(kl < bound, `mean KL ${kl.toExponential(3)} ≥ ${bound.toExponential(3)}`);
  // The trainer's reported test metrics are the model's mean NLL and accuracy on the test set.
  assert.ok(Math.abs(result.finalTestLoss! - nll / te.length) < 1e-12, `${result.finalTestLoss} vs ${nll / te.length}`);
  assert.equal(result.finalTestAccuracy, correct / te.length);
  // Training loss decreased from the first epoch to the last.
  assert.ok(result.epochs[19]!.trainLoss < result.epochs[0]!.trainLoss);
});

function blobs(n: number, nTest: number, seed = 2): { train: Dataset; test: Dataset } {
  return makeSyntheticSplit('blobs', { n, nTest, k: 3, dim: 4, separation: 2, seed, dtype: 'float32' });
}

function tinyModel(seed: number, dropout = 0.2): Sequential {
  return buildModel(mlpSpec([4, 12, 8, 3], 'tanh', { dropout }), new Rng(seed).derive('init'), 'float32');
}

function paramsOf(m: Sequential): number[][] {
  return m.parameters().map((p) => Array.from(p.data));
}

const OPTIMIZERS: OptimizerConfig[] = [
  { name: 'sgd', lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 1e-3 },
  { name: 'adam', lr: 0.01 },
  { name: 'adamw', lr: 0.01, weightDecay: 0.05 },
];

test('a run stopped mid-epoch and resumed ends bit-identical to an uninterrupted run (every backend)', async () => {
  const { train: tr, test: te } = blobs(203, 60); // 203 = 12·16 + 11: a partial last batch
  const previous = getBackend();
  try {
    for (const backend of BACKENDS) {
      setBackend(backend);
      await resumeEquivalence(tr, te);
    }
  } finally {
    setBackend(previous);
  }
  // Resuming on another backend is refused: its kernels round differently.
  if (BACKENDS.length > 1) {
    const store = new MemoryCheckpointStore();
    const opts: TrainOptions = {
      model: tinyModel(1), likelihood: makeLikelihood('categorical'), train: tr, optimizer: { name: 'adam', lr: 0.01 },
      epochs: 1, batchSize: 16, seed: 0, checkpoint: store,
    };
    try {
      setBackend(BACKENDS[0]!);
      await train({ ...opts, stopAfterSteps: 2 });
      setBackend(BACKENDS[1]!);
      await assert.rejects(train({ ...opts, resume: true }), new RegExp(`backend: checkpoint has "${BACKENDS[0]}", this run has "${BACKENDS[1]}"`));
    } finally {
      setBackend(previous);
    }
  }
});

async function resumeEquivalence(tr: Dataset, te: Dataset): Promise<void> {
  for (const optimizer of OPTIMIZERS) {
    const base = (model: Sequential): TrainOptions => ({
      model, likelihood: makeLikelihood('categorical'), train: tr, test: te, optimizer,
      schedule: { kind: 'warmup-cosine', warmupSteps: 5 }, epochs: 3, batchSize: 16, seed: 9, checkpointEvery: 4,
    });
    const full = tinyModel(1);
    const fullStore = new MemoryCheckpointStore();
    const a = await train({ ...base(full), checkpoint: fullStore });
    assert.equal(a.status, 'completed');
    // 13 steps per epoch: checkpoints at steps 4, 8, 12 | 16, 20, 24 | 28, 32, 36 plus 3 epoch ends.
    assert.equal(fullStore.saves, 12);

    for (const stopAt of [18, 13, 1]) {
      const store = new MemoryCheckpointStore();
      const first = tinyModel(1);
      const b1 = await train({ ...base(first), checkpoint: store, stopAfterSteps: stopAt });
      assert.equal(b1.status, 'stopped');
      assert.equal(b1.globalStep, stopAt);
      const ck = store.load()!;
      assert.equal(ck.position.globalStep, stopAt);
      // Resume into a model initialised differently: the checkpoint's weights must win.
      const resumed = tinyModel(777);
      const b2 = await train({ ...base(resumed), checkpoint: store, resume: true });
      assert.equal(b2.status, 'completed');
      assert.deepEqual(b2.resumedFrom, { epoch: Math.floor(stopAt / 13), stepInEpoch: stopAt % 13, globalStep: stopAt });
      assert.deepEqual(paramsOf(resumed), paramsOf(full), `${optimizer.name}: parameters after resuming at step ${stopAt}`);
      const strip = (r: typeof a): unknown => r.epochs.map(({ seconds: _s, ...rest }) => rest);
      assert.deepEqual(strip(b2), strip(a), `${optimizer.name}: per-epoch metrics after resuming at step ${stopAt}`);
    }
  }
}

test('resuming a finished run changes nothing; the same seed reproduces, another seed differs', async () => {
  const { train: tr, test: te } = blobs(96, 30);
  const opts = (model: Sequential, seed: number): TrainOptions => ({
    model, likelihood: makeLikelihood('categorical'), train: tr, test: te,
    optimizer: { name: 'adam', lr: 0.02 }, epochs: 2, batchSize: 10, seed,
  });
  const store = new MemoryCheckpointStore();
  const m1 = tinyModel(4);
  await train({ ...opts(m1, 1), checkpoint: store });
  const saves = store.saves;
  const again = tinyModel(5);
  const r = await train({ ...opts(again, 1), checkpoint: store, resume: true });
  assert.equal(r.status, 'completed');
  assert.equal(store.saves, saves, 'no new checkpoint');
  assert.deepEqual(paramsOf(again), paramsOf(m1));

  const m2 = tinyModel(4);
  await train(opts(m2, 1));
  assert.deepEqual(paramsOf(m2), paramsOf(m1));
  const m3 = tinyModel(4);
  await train(opts(m3, 2));
  assert.notDeepEqual(paramsOf(m3), paramsOf(m1), 'the seed drives shuffling and dropout');
});

test('resume refuses a checkpoint of a different configuration, naming the field', async () => {
  const { train: tr, test: te } = blobs(64, 20);
  const store = new MemoryCheckpointStore();
  const base: Omit<TrainOptions, 'model'> = {
    likelihood: makeLikelihood('categorical'), train: tr, test: te, optimizer: { name: 'adam', lr: 0.01 },
    epochs: 2, batchSize: 8, seed: 3, checkpoint: store, config: { data: 'blobs' },
  };
  await train({ ...base, model: tinyModel(1), stopAfterSteps: 3 });
  await assert.rejects(train({ ...base, model: tinyModel(1), optimizer: { name: 'adam', lr: 0.02 }, resume: true }), /lr: checkpoint has 0\.01, this run has 0\.02/);
  await assert.rejects(train({ ...base, model: tinyModel(1), batchSize: 16, resume: true }), /batch-size: checkpoint has 8, this run has 16/);
  await assert.rejects(train({ ...base, model: tinyModel(1), config: { data: 'other' }, resume: true }), /data: checkpoint has "blobs", this run has "other"/);
  await assert.rejects(train({ ...base, model: tinyModel(1), checkpoint: new MemoryCheckpointStore(), resume: true }), /no checkpoint at memory/);
  // The matching configuration resumes.
  const ok = await train({ ...base, model: tinyModel(1), resume: true });
  assert.equal(ok.status, 'completed');
});

test('a truncated or corrupt checkpoint file is reported as such', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fimkit-ckpt-'));
  try {
    const { train: tr } = blobs(40, 10);
    const store = new FileCheckpointStore(dir);
    const base: TrainOptions = {
      model: tinyModel(1), likelihood: makeLikelihood('categorical'), train: tr,
      optimizer: { name: 'sgd', lr: 0.1 }, epochs: 1, batchSize: 8, seed: 0, checkpoint: store,
    };
    await train({ ...base, stopAfterSteps: 2 });
    const text = readFileSync(store.path, 'utf8');
    writeFileSync(store.path, text.slice(0, Math.floor(text.length / 2)));
    await assert.rejects(train({ ...base, model: tinyModel(1), resume: true }), (e: unknown) => e instanceof FimkitError && e.code === 'TRUNCATED_FILE' && e.message.includes(store.path));
    const ck = JSON.parse(text);
    ck.format = 'something-else';
    writeFileSync(store.path, JSON.stringify(ck));
    await assert.rejects(train({ ...base, model: tinyModel(1), resume: true }), /format is "something-else"/);
    ck.format = 'fimkit-checkpoint';
    ck.model.weights['0.weight'].base64 = 'AAAA';
    writeFileSync(store.path, JSON.stringify(ck));
    await assert.rejects(train({ ...base, model: tinyModel(1), resume: true }), isCode('CORRUPT_FILE'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('training validates data, model and likelihood before the first step', async () => {
  const { train: tr, test: te } = blobs(40, 10);
  const base: TrainOptions = {
    model: tinyModel(1), likelihood: makeLikelihood('categorical'), train: tr, test: te,
    optimizer: { name: 'adam', lr: 0.01 }, epochs: 1, batchSize: 8, seed: 0,
  };
  // Input shape: a model for 5 features on 4-feature data.
  const wide = buildModel(mlpSpec([5, 3], 'relu'), new Rng(0), 'float32');
  await assert.rejects(train({ ...base, model: wide }), (e: unknown) =>
    e instanceof FimkitError && e.code === 'SHAPE' && e.message.includes('[4]') && e.message.includes('[5]'));
  // Output width: 2 logits for 3 classes (the likelihood's error).
  const narrow = buildModel(mlpSpec([4, 2], 'relu'), new Rng(0), 'float32');
  await assert.rejects(train({ ...base, model: narrow }), isCode('SHAPE'));
  // Likelihood of another target kind.
  await assert.rejects(train({ ...base, likelihood: makeLikelihood('gaussian') }), /gaussian likelihood models real targets, but dataset '.*' has class targets/);
  // A NaN input.
  const bad = { ...tr, inputs: (tr.inputs as Float32Array).slice() };
  bad.inputs[7] = NaN;
  await assert.rejects(train({ ...base, train: bad }), (e: unknown) => e instanceof FimkitError && e.code === 'NON_FINITE' && /sample 1/.test(e.message));
  // A label out of range.
  const badLabels = { ...tr, targets: (tr.targets as Int32Array).slice() };
  badLabels.targets[3] = 7;
  await assert.rejects(train({ ...base, train: badLabels }), isCode('LABEL_RANGE'));
  await assert.rejects(train({ ...base, batchSize: 0 }), /train: option 'batchSize' must be an integer ≥ 1, got 0/);
  // Divergence is reported, not trained through: least squares with lr ≫ 2/λ_max(E[xxᵀ]) = 2
  // grows the weights geometrically (×~9 per step) until float32 overflows.
  const reg = makeSyntheticSplit('linear-gaussian', { n: 400, nTest: 10, dtype: 'float32', seed: 1 });
  const linear = buildModel(mlpSpec([2, 1], 'identity'), new Rng(0), 'float32');
  await assert.rejects(
    train({ model: linear, likelihood: makeLikelihood('gaussian'), train: reg.train, optimizer: { name: 'sgd', lr: 10 }, epochs: 3, batchSize: 8, seed: 0 }),
    (e: unknown) => e instanceof FimkitError && e.code === 'NON_FINITE' && /diverged/.test(e.message),
  );
});

test('evaluate matches a per-sample computation and accepts flat data for an image model and back', () => {
  const { train: tr } = blobs(37, 5);
  const model = tinyModel(2, 0);
  const lik = makeLikelihood('categorical');
  const ev = evaluate(model, lik, tr, { batchSize: 8 }); // 37 = 4·8 + 5: a partial last chunk
  let nll = 0;
  let correct = 0;
  for (let i = 0; i < tr.length; i++) {
    const x = new Tensor(tr.inputs.slice(4 * i, 4 * i + 4) as Float32Array, [1, 4]);
    const h = noGrad(() => model.forward(x)).data;
    const y = (tr.targets as Int32Array)[i]!;
    const lse = Math.log(Math.exp(h[0]!) + Math.exp(h[1]!) + Math.exp(h[2]!));
    nll += lse - h[y]!;
    const am = h.indexOf(Math.max(h[0]!, h[1]!, h[2]!));
    if (am === y) correct++;
  }
  assert.ok(Math.abs(ev.loss - nll / tr.length) < 1e-5, `${ev.loss} vs ${nll / tr.length}`);
  assert.equal(ev.accuracy, correct / tr.length);
  assert.equal(ev.count, 37);
});

test('progress: rewritten in place on a terminal, periodic plain lines otherwise, nothing when silent', () => {
  let clock = 0;
  const now = (): number => clock;
  const state = { epoch: 1, epochs: 2, step: 5, stepsPerEpoch: 50, loss: 0.5, samplesPerSecond: 1234, etaSeconds: 75 };
  const tty: string[] = [];
  const p = new ProgressReporter({ write: (s: string) => tty.push(s), isTTY: true }, { now });
  p.update(state);
  clock = 0.05;
  p.update({ ...state, step: 6 }); // throttled (< 0.1 s)
  clock = 0.2;
  p.update({ ...state, step: 7 });
  p.line('epoch 1/2 done');
  assert.equal(tty.length, 4); // two updates, one clear, one line
  assert.ok(tty[0]!.startsWith('\repoch 1/2  step  5/50  loss 0.5000  1234 samples/s  ETA 1:15'), tty[0]);
  assert.ok(tty[1]!.startsWith('\repoch 1/2  step  7/50'));
  assert.match(tty[2]!, /^\r +\r$/);
  assert.equal(tty[3], 'epoch 1/2 done\n');
  assert.ok(!tty.join('').includes('\n\r'));

  const plain: string[] = [];
  clock = 0;
  const q = new ProgressReporter({ write: (s: string) => plain.push(s), isTTY: false }, { now, plainIntervalSeconds: 10 });
  for (let t = 1; t <= 25; t++) {
    clock = t;
    q.update({ ...state, step: t });
  }
  assert.deepEqual(plain.map((l) => l.match(/step +(\d+)/)![1]), ['10', '20']);
  assert.ok(plain.every((l) => l.endsWith('\n') && !l.includes('\r')));

  const silent = new ProgressReporter(null);
  silent.update(state, true);
  silent.line('x');
});
