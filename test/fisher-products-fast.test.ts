/**
 * The fast Fisher–vector products (explicit tangent and reverse rules, src/fisher/tangent.ts)
 * against the autodiff reference path, the dense exact FIM, finite differences and the
 * adjoint identity, on MLPs of every activation kind and a small CNN, on every backend.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DType, FloatArray } from '../src/core/dtype.js';
import { FimkitError } from '../src/core/errors.js';
import { BufferScope } from '../src/core/pool.js';
import { Rng } from '../src/core/rng.js';
import { Tensor } from '../src/core/tensor.js';
import * as F from '../src/autodiff/ops.js';
import { noGrad } from '../src/autodiff/tape.js';
import type { Dataset } from '../src/data/dataset.js';
import { Activation, AvgPool2d, Conv2d, Dense, Dropout, Flatten, Layer, MaxPool2d, type LayerSpec } from '../src/nn/layers.js';
import { Sequential, buildModel, mlpSpec } from '../src/nn/sequential.js';
import { makeLikelihood, type Likelihood, type LikelihoodName } from '../src/likelihoods/index.js';
import { computeFisher, type FisherOptions } from '../src/fisher/compute.js';
import { fisherProduct } from '../src/fisher/products.js';
import { TangentPlan } from '../src/fisher/tangent.js';
import { explicitRulesCover } from '../src/fisher/rules.js';
import { forEachBackend, randomData } from './helpers.js';

const LIKELIHOODS: LikelihoodName[] = ['categorical', 'gaussian', 'bernoulli', 'poisson'];
const FIRST_ORDER = ['exact', 'i1', 'empirical'] as const;
const T = 3;
const N = 9;

/** max |got − want| / max |want|. */
function relErr(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let num = 0, den = 0;
  for (let i = 0; i < want.length; i++) { num = Math.max(num, Math.abs(got[i]! - want[i]!)); den = Math.max(den, Math.abs(want[i]!)); }
  return num / den;
}

function randomBiases(model: Sequential, rng: Rng): void {
  for (const p of model.parameters()) if (p.name!.endsWith('bias')) rng.fillUniform(p.data, -0.5, 0.5);
}

function mlp(act: 'relu' | 'sigmoid' | 'tanh', dtype: DType): Sequential {
  const rng = new Rng(11);
  const model = buildModel(mlpSpec([4, 6, 5, T], act), rng.derive('init'), dtype);
  randomBiases(model, rng);
  return model;
}

/**
 * conv (first layer: zero input tangent) → tanh → maxpool with padding → conv without bias
 * (non-first: both tangent terms) → relu → avgpool with padding → dropout → flatten → dense.
 */
function cnn(dtype: DType): Sequential {
  const rng = new Rng(12);
  const layers: Layer[] = [
    new Conv2d(2, 3, { kernel: 3, padding: 1, rng: rng.derive('c1'), dtype }),
    new Activation('tanh'),
    new MaxPool2d(3, 2, 1),
    new Conv2d(3, 4, { kernel: 2, bias: false, rng: rng.derive('c2'), dtype }),
    new Activation('relu'),
    new AvgPool2d(2, 1, 1),
    new Dropout(0.3),
    new Flatten(),
    new Dense(36, T, { rng: rng.derive('d'), dtype }),
  ];
  const model = new Sequential(layers, [2, 6, 6], dtype);
  randomBiases(model, rng);
  return model;
}

const MODELS: { name: string; make: (dtype: DType) => Sequential }[] = [
  { name: 'mlp relu', make: (d) => mlp('relu', d) },
  { name: 'mlp sigmoid', make: (d) => mlp('sigmoid', d) },
  { name: 'mlp tanh', make: (d) => mlp('tanh', d) },
  { name: 'cnn', make: cnn },
];

/** N inputs for `model` with targets of the likelihood's kind. */
function dataFor(model: Sequential, lik: Likelihood, seed: number): Dataset {
  return randomData(model, lik, { seed, count: N, outputs: T, name: 'fast-products' });
}

function vectorFor(model: Sequential, seed: number): Float64Array {
  const rng = new Rng(seed);
  return new Float64Array(model.numParams()).map(() => rng.normal());
}

test('fast and reference products agree: every model, likelihood and first-order estimator, float64 within 1e-12 and float32 within 1e-4, every backend', () => {
  forEachBackend((backend) => {
    for (const dtype of ['float64', 'float32'] as DType[]) {
      const tol = dtype === 'float64' ? 1e-12 : 1e-4;
      for (const { name, make } of MODELS) {
        const model = make(dtype);
        assert.ok(explicitRulesCover(model.layers));
        const v = vectorFor(model, 3);
        for (const lname of LIKELIHOODS) {
          const lik = makeLikelihood(lname);
          const data = dataFor(model, lik, 5);
          for (const estimator of FIRST_ORDER) {
            // Batches of 4 over 9 inputs: two full batches and a partial one, each with its own labels.
            const opts: FisherOptions = { estimator, representation: 'matfree', batchSize: 4, labelsPerInput: 3, seed: 7 };
            const fast = fisherProduct(model, lik, data, { ...opts, path: 'fast' });
            const ref = fisherProduct(model, lik, data, { ...opts, path: 'reference' });
            const got = fast(v);
            const want = ref(v);
            const err = relErr(got, want);
            const where = `${backend} ${dtype} ${name} ${lname} ${estimator}`;
            assert.ok(want.some((x) => x !== 0), `${where}: the reference product is zero`);
            assert.ok(err <= tol, `${where}: relative error ${err} > ${tol}`);
            // Products are repeatable (recycled buffers carry nothing over between calls).
            assert.deepEqual(fast(v), got, `${where}: a second product differs`);
          }
        }
      }
    }
  });
});

test('the fast exact product equals the dense exact FIM times v (MLP and CNN; mean and sum scaling; conditional mode)', () => {
  forEachBackend((backend) => {
    for (const { name, make } of [MODELS[2]!, MODELS[3]!]) {
      const model = make('float64');
      const v = vectorFor(model, 4);
      for (const lname of LIKELIHOODS) {
        const lik = makeLikelihood(lname);
        const data = dataFor(model, lik, 6);
        for (const extra of [{ scaling: 'mean' }, { scaling: 'sum' }, { mode: 'conditional', inputIndex: 5 }] as const) {
          const opts = { estimator: 'exact', batchSize: 4, ...extra } as const;
          const dense = computeFisher(model, lik, data, { ...opts, representation: 'dense' });
          const P = dense.layout.size;
          const M = dense.toDense();
          const want = new Float64Array(P);
          for (let i = 0; i < P; i++) { let s = 0; for (let j = 0; j < P; j++) s += M[i * P + j]! * v[j]!; want[i] = s; }
          const got = fisherProduct(model, lik, data, { ...opts, representation: 'matfree', path: 'fast' })(v);
          const err = relErr(got, want);
          assert.ok(err <= 1e-12, `${backend} ${name} ${lname} ${JSON.stringify(extra)}: relative error ${err}`);
          // Through the public matrix-free result as well.
          const mf = computeFisher(model, lik, data, { ...opts, representation: 'matfree' });
          assert.ok(relErr(mf.mv(v), want) <= 1e-12, `${backend} ${name} ${lname} matfree mv`);
        }
      }
    }
  });
});

test('linearize: the output is model.forward bit for bit, J·v matches central differences, and ⟨J v, w⟩ = ⟨v, Jᵀ w⟩', () => {
  forEachBackend((backend) => {
    for (const dtype of ['float64', 'float32'] as DType[]) {
      for (const { name, make } of MODELS) {
        const model = make(dtype);
        const rng = new Rng(8);
        const B = 5;
        const D = model.inputShape.reduce((p, d) => p * d, 1);
        const x = Tensor.uniform([B, D], rng, -1, 1, dtype);
        const v = vectorFor(model, 9);
        const plan = new TangentPlan(model);
        const scope = new BufferScope();
        scope.run(() => {
          const lin = plan.linearize(x.data, B, plan.splitTangent(v));
          const h = noGrad(() => model.forward(x));
          assert.deepEqual(Array.from(lin.output), Array.from(h.data), `${backend} ${dtype} ${name}: output differs from model.forward`);
          const w = new Float64Array(lin.tangent.length).map(() => rng.normal());
          const wm: FloatArray = dtype === 'float64' ? Float64Array.from(w) : Float32Array.from(w);
          const jtw = new Float64Array(model.numParams());
          lin.accumulateVjp(wm, jtw, 1);
          let lhs = 0, rhs = 0, mag = 0;
          for (let i = 0; i < w.length; i++) { lhs += lin.tangent[i]! * wm[i]!; mag += Math.abs(lin.tangent[i]! * wm[i]!); }
          for (let i = 0; i < v.length; i++) { rhs += v[i]! * jtw[i]!; mag += Math.abs(v[i]! * jtw[i]!); }
          const tol = dtype === 'float64' ? 1e-13 : 1e-5;
          assert.ok(Math.abs(lhs - rhs) <= tol * mag, `${backend} ${dtype} ${name}: ⟨Jv, w⟩ = ${lhs} but ⟨v, Jᵀw⟩ = ${rhs}`);
          if (dtype === 'float64' && name !== 'cnn' && name !== 'mlp relu') {
            // Smooth networks: (f(θ + εv) − f(θ − εv)) / 2ε has error O(ε²).
            const eps = 1e-5;
            const shifted = (sign: number): FloatArray => {
              const m = model.clone();
              let off = 0;
              for (const p of m.parameters()) { for (let i = 0; i < p.size; i++) p.data[i]! += sign * eps * v[off + i]!; off += p.size; }
              return noGrad(() => m.forward(x)).data;
            };
            const up = shifted(1), down = shifted(-1);
            const fd = Array.from(up, (u, i) => (u - down[i]!) / (2 * eps));
            const err = relErr(lin.tangent, fd);
            assert.ok(err < 1e-8, `${backend} ${name}: J·v vs central differences ${err}`);
          }
        });
        scope.recycle();
      }
    }
  });
});

/** A layer the tangent code has no rule for: y = 2x. */
class Double extends Layer {
  readonly type = 'activation' as const;
  outputShape(inShape: readonly number[]): number[] { return [...inShape]; }
  forward(x: Tensor): Tensor { return F.scale(x, 2); }
  spec(): LayerSpec { return { type: 'activation', fn: 'identity' }; }
}

test('a layer without an explicit rule falls back to the reference path; i2 and the Hessian ignore the path; unknown paths are refused', () => {
  const rng = new Rng(13);
  const model = new Sequential([new Dense(4, 5, { rng, dtype: 'float64' }), new Double(), new Activation('tanh'), new Dense(5, T, { rng, dtype: 'float64' })], [4], 'float64');
  assert.equal(explicitRulesCover(model.layers), false);
  assert.throws(() => new TangentPlan(model), (e: unknown) => e instanceof FimkitError && /layer 1 .*no explicit tangent rule/.test(e.message));
  const lik = makeLikelihood('categorical');
  const data = dataFor(model, lik, 14);
  const v = vectorFor(model, 15);
  const opts: FisherOptions = { estimator: 'i1', representation: 'matfree', batchSize: 4, labelsPerInput: 2, seed: 3 };
  const fast = fisherProduct(model, lik, data, { ...opts, path: 'fast' })(v);
  assert.deepEqual(fast, fisherProduct(model, lik, data, { ...opts, path: 'reference' })(v));
  // The fallback computes the right thing: the same network with the doubling folded into the
  // first layer (W' = 2W, b' = 2b) has M = D M' D, D = 2 on the first layer's parameters, and
  // takes the fast path.
  const first = model.layers[0] as Dense;
  const folded = new Sequential([new Dense(4, 5, { dtype: 'float64' }), new Activation('tanh'), new Dense(5, T, { dtype: 'float64' })], [4], 'float64');
  folded.parameters().forEach((p, i) => p.data.set(model.parameters()[i]!.data.map((x) => (i < 2 ? 2 * x : x))));
  const firstSize = first.weight.size + first.bias!.size;
  const D = (u: Float64Array): Float64Array => u.map((x, i) => (i < firstSize ? 2 * x : x));
  assert.ok(relErr(fast, D(fisherProduct(folded, lik, data, { ...opts, path: 'fast' })(D(v)))) <= 1e-12);

  const plain = mlp('tanh', 'float64');
  const pdata = dataFor(plain, lik, 16);
  const pv = vectorFor(plain, 17);
  for (const estimator of ['i2', 'hessian'] as const) {
    const o: FisherOptions = { estimator, representation: 'matfree', batchSize: 4, labelsPerInput: 2, seed: 3 };
    assert.deepEqual(fisherProduct(plain, lik, pdata, { ...o, path: 'fast' })(pv), fisherProduct(plain, lik, pdata, { ...o, path: 'reference' })(pv));
  }
  assert.throws(
    () => fisherProduct(plain, lik, pdata, { estimator: 'exact', representation: 'matfree', path: 'quick' as 'fast' }),
    (e: unknown) => e instanceof FimkitError && e.code === 'INVALID_ARGUMENT' && /fisherProduct: option 'path' must be one of 'fast', 'reference', got 'quick'/.test(e.message),
  );
});
