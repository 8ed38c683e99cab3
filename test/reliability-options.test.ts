/**
 * Issue 10, item 3: the library validates options as strictly as the CLI, in one place
 * (src/core/options.ts). Unknown keys, bad enum values, non-positive counts, null options and
 * objects that are not datasets give a FimkitError naming the function, the option and what is
 * allowed, before any work.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FimkitError } from '../src/core/errors.js';
import { Rng } from '../src/core/rng.js';
import { Tensor } from '../src/core/tensor.js';
import { checkOptions, describeRule } from '../src/core/options.js';
import { makeSyntheticSplit } from '../src/data/synthetic.js';
import { computeFisher, computeFisherRaw } from '../src/fisher/compute.js';
import { fisherProduct } from '../src/fisher/products.js';
import { makeLikelihood } from '../src/likelihoods/index.js';
import { buildModel, mlpSpec } from '../src/nn/index.js';
import { inputVariances, jointVariances } from '../src/variance/conditional.js';
import { jointBudget } from '../src/variance/complexity.js';
import { makeOptimizer, makeSchedule } from '../src/optim/index.js';
import { train } from '../src/train/trainer.js';
import { resolveDataset } from '../src/data/resolve.js';
import { parseFlagValue, UsageError } from '../src/cli/args.js';

const data = makeSyntheticSplit('blobs', { n: 64, k: 3, dim: 2, seed: 1 }).train;
const model = buildModel(mlpSpec([2, 4, 3], 'tanh'), new Rng(1), 'float64');
const lik = makeLikelihood('categorical');

/** Asserts fn throws a FimkitError INVALID_ARGUMENT whose message matches every pattern. */
function rejects(fn: () => unknown, ...patterns: RegExp[]): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof FimkitError, `expected a FimkitError, got ${String(e)}`);
    assert.equal(e.code, 'INVALID_ARGUMENT', e.message);
    for (const p of patterns) assert.match(e.message, p);
    return true;
  });
}

test("computeFisher: scaling 'foo' is refused (it used to return the sum-scaled result and record 'foo')", () => {
  rejects(() => computeFisher(model, lik, data, { estimator: 'exact', representation: 'diag', scaling: 'foo' as 'mean' }), /computeFisher/, /'scaling'/, /'mean', 'sum'/, /'foo'/);
  // The good values still give mean = sum / N_x.
  const mean = computeFisher(model, lik, data, { estimator: 'exact', representation: 'diag', scaling: 'mean' });
  const sum = computeFisher(model, lik, data, { estimator: 'exact', representation: 'diag', scaling: 'sum' });
  const m = mean.diag(), s = sum.diag();
  for (let i = 0; i < m.length; i++) assert.ok(Math.abs(s[i]! - 64 * m[i]!) <= 1e-9 * Math.abs(s[i]!) + 1e-15);
  assert.equal(mean.meta.scaling, 'mean');
});

test("computeFisher: mode 'foo', a misspelt key, zero counts, null options, {} as a dataset", () => {
  const base = { estimator: 'exact', representation: 'diag' } as const;
  rejects(() => computeFisher(model, lik, data, { ...base, mode: 'foo' as 'joint' }), /'mode'/, /'joint', 'conditional'/);
  rejects(() => computeFisher(model, lik, data, { ...base, estimatr: 'i1' } as never), /unknown option 'estimatr'/, /did you mean 'estimator'/);
  rejects(() => computeFisher(model, lik, data, { ...base, batchSize: 0 }), /'batchSize'/, /integer ≥ 1/, /got 0/);
  rejects(() => computeFisher(model, lik, data, { ...base, maxInputs: 0 }), /'maxInputs'/, /integer ≥ 1/);
  rejects(() => computeFisher(model, lik, data, { ...base, labelsPerInput: 1.5 }), /'labelsPerInput'/);
  rejects(() => computeFisher(model, lik, data, null as never), /computeFisher: options must be an object/, /got null/);
  rejects(() => computeFisher(model, lik, data, undefined as never), /options must be an object with 'estimator', 'representation'/);
  rejects(() => computeFisher(model, lik, {} as never, base), /computeFisher: data is not a Dataset/, /'length' is missing/);
  rejects(() => computeFisher(model, lik, null as never, base), /data must be a Dataset/);
  rejects(() => computeFisher({} as never, lik, data, base), /model must be a Sequential/);
  rejects(() => computeFisher(model, 'categorical' as never, data, base), /likelihood must be a Likelihood/);
  rejects(() => computeFisherRaw(model, lik, data, { ...base, path: 'slow' as 'fast' }), /computeFisherRaw/, /'path'/, /'fast', 'reference'/);
  rejects(() => fisherProduct(model, lik, data, { ...base, scaling: 'total' as 'sum' }), /fisherProduct/, /'scaling'/);
});

test('jointVariances and inputVariances: the same validator', () => {
  rejects(() => jointVariances(model, lik, data, { labelsPerInput: 0 }), /jointVariances/, /'labelsPerInput'/, /≥ 1/);
  rejects(() => jointVariances(model, lik, data, { maxInputs: 0 }), /'maxInputs'/);
  rejects(() => jointVariances(model, lik, data, { batchSize: -3 }), /'batchSize'/);
  rejects(() => jointVariances(model, lik, data, { inputPerEstimate: 3 } as never), /unknown option 'inputPerEstimate'/, /did you mean 'inputsPerEstimate'/);
  rejects(() => jointVariances(model, lik, data, null as never), /options must be an object/);
  rejects(() => jointVariances(model, lik, {} as never), /jointVariances: data is not a Dataset/);
  const x = new Tensor(Float64Array.from(data.inputs.subarray(0, 4)), [2, 2]);
  rejects(() => inputVariances(model, lik, x, 'quick' as 'fast'), /inputVariances: path must be one of 'fast', 'reference'/);
  rejects(() => inputVariances(model, lik, {} as never), /inputVariances: x must be a Tensor/);
  assert.equal(inputVariances(model, lik, x).length, 2);
});

test('other entry points with options: jointBudget, makeOptimizer, makeSchedule, train, resolveDataset', async () => {
  const acc = { epsilon: 0.1, delta: 0.05 };
  rejects(() => jointBudget(1, 1, 1, acc, { labelsPerinput: 3 } as never), /jointBudget/, /did you mean 'labelsPerInput'/);
  rejects(() => jointBudget(1, 1, 1, { epsilon: 0.1, delta: 0.05, eps: 1 } as never), /unknown option 'eps'/);
  rejects(() => makeOptimizer({ name: 'adagrad' as 'sgd', lr: 0.1 }), /makeOptimizer/, /'name'/, /'sgd', 'adam', 'adamw'/);
  rejects(() => makeOptimizer({ name: 'sgd', lr: 0.1, momentun: 0.9 } as never), /did you mean 'momentum'/);
  rejects(() => makeSchedule({ kind: 'cosine', lr: 0.1, totalSteps: 0 }), /'totalSteps'/);
  await assert.rejects(train({ model, likelihood: lik, train: data, optimizer: { name: 'sgd', lr: 0.1 }, epochs: 1, batchSize: 0, seed: 1 }), /train: option 'batchSize' must be an integer ≥ 1/);
  await assert.rejects(train({ model, likelihood: lik, train: data, optimizer: { name: 'sgd', lr: 0.1 }, epochs: 1, batchSize: 8, seed: 1, epoch: 3 } as never), /unknown option 'epoch'.*did you mean 'epochs'/);
  await assert.rejects(train({ model, likelihood: lik, train: {} as never, optimizer: { name: 'sgd', lr: 0.1 }, epochs: 1, batchSize: 8, seed: 1 }), /train: train is not a Dataset/);
  await assert.rejects(resolveDataset('synthetic:blobs', { testFraction: 1.5 }), /resolveDataset: option 'testFraction'/);
  await assert.rejects(resolveDataset('synthetic:blobs', { downlaod: true } as never), /did you mean 'download'/);
});

test('the CLI flag parser and the library share the rules', () => {
  // The same range check and the same description of it.
  assert.equal(describeRule({ kind: 'int', min: 1 }), 'an integer ≥ 1');
  assert.throws(() => parseFlagValue({ name: 'batch-size', type: 'int', min: 1, description: '' }, '0'), (e: unknown) => e instanceof UsageError && /--batch-size must be ≥ 1, got 0/.test(e.message));
  assert.throws(() => checkOptions('f', { batchSize: 0 }, { batchSize: { kind: 'int', min: 1 } }), /f: option 'batchSize' must be an integer ≥ 1, got 0/);
});
