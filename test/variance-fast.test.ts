/**
 * The fast joint variances (src/variance/fast.ts: per-unit projected moments and gemms, the
 * stacked layer rules, unit columns for the pairs they leave over) against the reference path
 * (per-input Jacobians and Hessian diagonals by autodiff): every output array within 1e-12
 * relative in float64, on MLPs of every activation kind (one deep enough to need unit columns),
 * small CNNs with a piecewise-linear and a curved activation, every likelihood and backend. In
 * float32 the fast path forms its products (cotangents, gemms, the per-input I², V1 and V2
 * terms) in float32 while the reference takes float32 autodiff and float64 moments: the
 * tolerance is 1e-4 relative; the largest difference seen is about 1.3e-5, on Var_q I, where
 * E I² − (E I)² cancels (about 100 float32 ulps).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DType } from '../src/core/dtype.js';
import { Rng } from '../src/core/rng.js';
import { Tensor } from '../src/core/tensor.js';
import type { Dataset } from '../src/data/dataset.js';
import { Activation, Conv2d, Dense, Flatten, Layer, MaxPool2d } from '../src/nn/layers.js';
import { Sequential, buildModel, mlpSpec, type ActivationName } from '../src/nn/index.js';
import { makeLikelihood, type Likelihood, type LikelihoodName } from '../src/likelihoods/index.js';
import { jointVariances, type JointVariance } from '../src/variance/conditional.js';
import { addJointSums, newJointSums, type JointSums } from '../src/variance/fast.js';
import { BufferScope } from '../src/core/pool.js';
import { forEachBackend, randomData } from './helpers.js';

const LIKELIHOODS: LikelihoodName[] = ['categorical', 'gaussian', 'bernoulli', 'poisson'];
const T = 3;
const N = 7;
const OUTPUTS = ['fim', 'fimVarOverInputs', 'meanV1', 'meanV2', 'v1', 'v2'] as const;

/** max |got − want| / max |want|. */
function relErr(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let num = 0, den = 0;
  for (let i = 0; i < want.length; i++) { num = Math.max(num, Math.abs(got[i]! - want[i]!)); den = Math.max(den, Math.abs(want[i]!)); }
  return den === 0 ? num : num / den;
}

function randomBiases(model: Sequential, rng: Rng): void {
  for (const p of model.parameters()) if (p.name!.endsWith('bias')) rng.fillUniform(p.data, -0.5, 0.5);
}

function mlp(sizes: number[], act: ActivationName, dtype: DType): Sequential {
  const rng = new Rng(21);
  const model = buildModel(mlpSpec(sizes, act), rng.derive('init'), dtype);
  randomBiases(model, rng);
  return model;
}

/** conv → activation → maxpool → conv → activation → flatten → dense. */
function cnn(act: ActivationName, dtype: DType): Sequential {
  const rng = new Rng(22);
  const layers: Layer[] = [
    new Conv2d(2, 3, { kernel: 3, padding: 1, rng: rng.derive('c1'), dtype }),
    new Activation(act),
    new MaxPool2d(2, 2, 0),
    new Conv2d(3, 2, { kernel: 2, rng: rng.derive('c2'), dtype }),
    new Activation(act),
    new Flatten(),
    new Dense(8, T, { rng: rng.derive('d'), dtype }),
  ];
  const model = new Sequential(layers, [2, 6, 6], dtype);
  randomBiases(model, rng);
  return model;
}

interface ModelCase { name: string; make: (dtype: DType) => Sequential; curved: boolean }

const MODELS: ModelCase[] = [
  ...(['relu', 'tanh', 'sigmoid', 'softplus'] as ActivationName[]).map((act) => ({ name: `mlp ${act}`, make: (d: DType) => mlp([4, 6, 5, T], act, d), curved: act !== 'relu' })),
  // Three hidden layers: the first layer is two mixing layers below the last tanh (unit columns).
  { name: 'mlp tanh 3 hidden', make: (d) => mlp([4, 5, 6, 4, T], 'tanh', d), curved: true },
  { name: 'cnn relu', make: (d) => cnn('relu', d), curved: false },
  { name: 'cnn tanh', make: (d) => cnn('tanh', d), curved: true },
];

function dataFor(model: Sequential, lik: Likelihood, seed: number): Dataset {
  // The variances ignore the targets; inputs span ±1.5 so activations reach their curved parts.
  return randomData(model, lik, { seed, count: N, outputs: T, range: 1.5, name: 'fast-variances' });
}

function compare(where: string, fast: JointVariance, ref: JointVariance, tol: number, curved: boolean): void {
  assert.equal(fast.P, ref.P);
  assert.equal(fast.inputs, ref.inputs);
  for (const k of OUTPUTS) {
    const want = ref[k];
    const err = relErr(fast[k], want);
    assert.ok(err <= tol, `${where} ${k}: relative error ${err} > ${tol}`);
  }
  for (const k of ['fim', 'fimVarOverInputs', 'meanV1'] as const) assert.ok(ref[k].some((v) => v > 0), `${where}: the reference ${k} is zero`);
  // V2 vanishes exactly for piecewise-linear networks, on both paths; otherwise it must be exercised.
  if (curved) assert.ok(ref.meanV2.some((v) => v > 0), `${where}: the reference V2 is zero`);
  else assert.ok(fast.meanV2.every((v) => v === 0) && ref.meanV2.every((v) => v === 0), `${where}: V2 of a piecewise-linear network is not 0`);
}

test('fast and reference joint variances agree: every model, likelihood and backend, float64 within 1e-12', () => {
  forEachBackend((backend) => {
    for (const { name, make, curved } of MODELS) {
      const model = make('float64');
      for (const lname of LIKELIHOODS) {
        const lik = makeLikelihood(lname, lname === 'gaussian' ? { variance: 0.7 } : {});
        const data = dataFor(model, lik, 5);
        // Batches of 3 over 7 inputs (two full and a partial one); N = 2 labels, N_x = 4.
        const opts = { labelsPerInput: 2, inputsPerEstimate: 4, batchSize: 3 };
        const fast = jointVariances(model, lik, data, { ...opts, path: 'fast' });
        const ref = jointVariances(model, lik, data, { ...opts, path: 'reference' });
        compare(`${backend} float64 ${name} ${lname}`, fast, ref, 1e-12, curved);
        // The batch size only regroups the sums.
        const whole = jointVariances(model, lik, data, { ...opts, batchSize: N });
        for (const k of OUTPUTS) assert.ok(relErr(whole[k], fast[k]) <= 1e-12, `${backend} ${name} ${lname} ${k}: depends on the batch size`);
      }
    }
  });
});

test('fast and reference joint variances agree in float32 within 1e-4, every backend', () => {
  forEachBackend((backend) => {
    for (const { name, make, curved } of MODELS) {
      const model = make('float32');
      for (const lname of LIKELIHOODS) {
        const lik = makeLikelihood(lname);
        const data = dataFor(model, lik, 6);
        const opts = { labelsPerInput: 1, batchSize: 4 };
        const fast = jointVariances(model, lik, data, { ...opts, path: 'fast' });
        const ref = jointVariances(model, lik, data, { ...opts, path: 'reference' });
        compare(`${backend} float32 ${name} ${lname}`, fast, ref, 1e-4, curved);
      }
    }
  });
});

/**
 * The likelihood behind a plain delegating object: not an instance of any family class, so the
 * fast path takes its generic route (gathered directions, the likelihood's projectedMoments).
 */
function opaque(lik: Likelihood): Likelihood {
  return new Proxy({} as Likelihood, {
    get: (_, key) => {
      const v = (lik as unknown as Record<string | symbol, unknown>)[key];
      return typeof v === 'function' ? v.bind(lik) : v;
    },
  });
}

test('the generic moment route (a likelihood the fast path has no kernel for) agrees with the reference, float64 within 1e-12', () => {
  forEachBackend((backend) => {
    for (const { name, make, curved } of MODELS.filter((m) => ['mlp tanh 3 hidden', 'cnn tanh', 'mlp relu'].includes(m.name))) {
      const model = make('float64');
      for (const lname of LIKELIHOODS) {
        const lik = makeLikelihood(lname);
        const data = dataFor(model, lik, 8);
        const opts = { labelsPerInput: 3, batchSize: 4 };
        const fast = jointVariances(model, opaque(lik), data, { ...opts, path: 'fast' });
        const ref = jointVariances(model, lik, data, { ...opts, path: 'reference' });
        compare(`${backend} generic ${name} ${lname}`, fast, ref, 1e-12, curved);
      }
    }
  });
});

test('the walk blocks within a batch only regroup the sums', () => {
  forEachBackend((backend) => {
    for (const { name, make } of MODELS.filter((m) => ['mlp tanh 3 hidden', 'cnn tanh'].includes(m.name))) {
      const model = make('float64');
      for (const lname of ['categorical', 'poisson'] as LikelihoodName[]) {
        const lik = makeLikelihood(lname);
        const data = dataFor(model, lik, 11);
        const x = new Tensor(data.inputs, [N, ...model.inputShape]);
        const sums = (walkBlock: number): JointSums => {
          const s = newJointSums(model.numParams());
          new BufferScope().run(() => addJointSums(model, lik, x, s, new BufferScope(), walkBlock));
          return s;
        };
        const whole = sums(N);
        // Blocks of 2 over 7 inputs: three full blocks and a partial one.
        const split = sums(2);
        for (const k of ['fim', 'fimSquared', 'v1', 'v2'] as const) {
          assert.ok(whole[k].some((v) => v > 0), `${backend} ${name} ${lname} ${k}: zero`);
          assert.ok(relErr(split[k], whole[k]) <= 1e-12, `${backend} ${name} ${lname} ${k}: depends on the walk block`);
        }
      }
    }
  });
});

test('categorical with two classes (a single column per input) and with the most probable class varying over inputs', () => {
  forEachBackend((backend) => {
    for (const classes of [2, 5]) {
      const model = mlp([4, 6, classes], 'tanh', 'float64');
      const lik = makeLikelihood('categorical');
      const rng = new Rng(12);
      const inputs = Tensor.uniform([N, 4], rng, -2, 2, 'float64').data;
      const data: Dataset = { name: 'two', length: N, inputShape: [4], inputs, targetKind: 'class', targets: new Int32Array(N), targetDim: 1, numClasses: classes };
      // The fast path leaves out each input's most probable class: make sure that class differs.
      const h = model.forward(new Tensor(inputs, [N, 4])).data;
      const argmax = Array.from({ length: N }, (_, b) => { let k = 0; for (let c = 1; c < classes; c++) if (h[b * classes + c]! > h[b * classes + k]!) k = c; return k; });
      assert.ok(new Set(argmax).size > 1, `${classes} classes: the most probable class is the same for every input`);
      const fast = jointVariances(model, lik, data, { path: 'fast', batchSize: 4 });
      const ref = jointVariances(model, lik, data, { path: 'reference' });
      compare(`${backend} categorical ${classes} classes`, fast, ref, 1e-12, true);
    }
  });
});

test('the default path is the fast one and is repeatable', () => {
  const model = mlp([4, 6, 5, T], 'tanh', 'float64');
  const lik = makeLikelihood('categorical');
  const data = dataFor(model, lik, 9);
  const a = jointVariances(model, lik, data);
  const b = jointVariances(model, lik, data, { path: 'fast' });
  for (const k of OUTPUTS) assert.deepEqual(a[k], b[k]);
  // Recycled scratch carries nothing from one call to the next.
  const c = jointVariances(model, lik, data);
  for (const k of OUTPUTS) assert.deepEqual(c[k], a[k]);
});

test('a dense layer without bias and a curved output activation', () => {
  forEachBackend((backend) => {
    const rng = new Rng(23);
    const layers: Layer[] = [
      new Dense(4, 5, { rng: rng.derive('a'), dtype: 'float64', bias: false }),
      new Activation('tanh'),
      new Dense(5, T, { rng: rng.derive('b'), dtype: 'float64' }),
      new Activation('sigmoid'),
    ];
    const model = new Sequential(layers, [4], 'float64');
    randomBiases(model, rng);
    for (const lname of LIKELIHOODS) {
      const lik = makeLikelihood(lname);
      const data = dataFor(model, lik, 10);
      const fast = jointVariances(model, lik, data, { path: 'fast', batchSize: 4 });
      const ref = jointVariances(model, lik, data, { path: 'reference' });
      compare(`${backend} no-bias sigmoid-output ${lname}`, fast, ref, 1e-12, true);
    }
  });
});
