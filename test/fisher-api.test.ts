import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../src/core/rng.js';
import { Tensor } from '../src/core/tensor.js';
import { FimkitError } from '../src/core/errors.js';
import { buildModel, mlpSpec } from '../src/nn/index.js';
import { makeLikelihood } from '../src/likelihoods/index.js';
import { computeFisher } from '../src/fisher/compute.js';
import type { Dataset } from '../src/data/dataset.js';
import type { EstimatorName, Representation } from '../src/fisher/matrix.js';

function relErr(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let num = 0, den = 0;
  for (let i = 0; i < want.length; i++) { num = Math.max(num, Math.abs(got[i]! - want[i]!)); den = Math.max(den, Math.abs(want[i]!)); }
  return num / den;
}

function setup(act: 'tanh' | 'relu' = 'tanh'): { model: ReturnType<typeof buildModel>; data: Dataset } {
  const rng = new Rng(4);
  const model = buildModel(mlpSpec([3, 6, 4], act), rng.derive('init'), 'float64');
  const x = Tensor.uniform([9, 3], rng, -1, 1, 'float64');
  const targets = new Int32Array(9).map(() => rng.int(4));
  return { model, data: { name: 't', length: 9, inputShape: [3], inputs: x.data, targetKind: 'class', targets, targetDim: 1, numClasses: 4 } };
}

test('every representation of one estimate agrees with the dense one where it should; results carry their metadata', () => {
  const { model, data } = setup();
  const lik = makeLikelihood('categorical');
  for (const estimator of ['exact', 'i1', 'empirical', 'i2', 'hessian'] as EstimatorName[]) {
    const opts = { estimator, labelsPerInput: 3, seed: 9, batchSize: 4 };
    const dense = computeFisher(model, lik, data, { ...opts, representation: 'dense' });
    const P = dense.layout.size;
    const v = new Float64Array(P).map((_, i) => Math.sin(i + 1));
    const Md = dense.toDense();
    for (const repr of ['diag', 'block', 'matfree'] as Representation[]) {
      const m = computeFisher(model, lik, data, { ...opts, representation: repr });
      assert.equal(m.meta.representation, repr);
      assert.equal(m.meta.estimator, estimator);
      assert.equal(m.meta.numInputs, 9);
      assert.equal(m.meta.scaling, 'mean');
      assert.equal(m.meta.labelsPerInput, estimator === 'i1' || estimator === 'i2' ? 3 : null);
      assert.ok(m.meta.backend.length > 0 && m.meta.wallSeconds >= 0 && m.meta.dtype === 'float64');
      assert.ok(relErr(m.diag(), dense.diag()) < 1e-10, `${estimator} ${repr} diag`);
      assert.ok(Math.abs(m.trace() - dense.trace()) < 1e-10 * Math.abs(dense.trace()), `${estimator} ${repr} trace`);
      if (repr === 'matfree') assert.ok(relErr(m.mv(v), dense.mv(v)) < 1e-10, `${estimator} matfree mv`);
      if (repr === 'block') {
        // Block equals the dense matrix with the cross-layer blocks removed.
        const masked = Md.slice();
        const groups = dense.layout.groups;
        const groupOf = (i: number): number => groups.findIndex((g) => i >= g.offset && i < g.offset + g.size);
        for (let i = 0; i < P; i++) for (let j = 0; j < P; j++) if (groupOf(i) !== groupOf(j)) masked[i * P + j] = 0;
        assert.ok(relErr(m.toDense(), masked) < 1e-10, `${estimator} block`);
      }
    }
    if (estimator === 'exact' || estimator === 'i1' || estimator === 'empirical') {
      const k = computeFisher(model, lik, data, { ...opts, representation: 'kfac' });
      assert.equal(k.layout.groups.length, 2);
      assert.ok(k.trace() > 0);
    }
  }
});

test('for a relu network Î2 equals the exact FIM on the diagonal, and the result says so', () => {
  const { model, data } = setup('relu');
  const lik = makeLikelihood('categorical');
  const exact = computeFisher(model, lik, data, { estimator: 'exact', representation: 'diag' });
  for (const n of [1, 5]) {
    const i2 = computeFisher(model, lik, data, { estimator: 'i2', representation: 'diag', labelsPerInput: n, seed: n });
    assert.ok(relErr(i2.diag(), exact.diag()) < 1e-13);
    assert.ok(i2.meta.notes.some((s) => /piecewise-linear/.test(s)));
    // Conditional: per single input too.
    const c = computeFisher(model, lik, data, { estimator: 'i2', representation: 'diag', mode: 'conditional', inputIndex: 4, labelsPerInput: n });
    const ce = computeFisher(model, lik, data, { estimator: 'exact', representation: 'diag', mode: 'conditional', inputIndex: 4 });
    assert.ok(relErr(c.diag(), ce.diag()) < 1e-13);
    assert.equal(c.meta.mode, 'conditional');
    assert.equal(c.meta.numInputs, 1);
  }
});

test('bad input: likelihood vs output size, feature count, dense too large, zero labels, input index', () => {
  const { model, data } = setup();
  const code = (fn: () => unknown, c: string, re: RegExp): void => {
    assert.throws(fn, (e: unknown) => e instanceof FimkitError && e.code === c && re.test(e.message));
  };
  code(() => computeFisher(model, makeLikelihood('categorical'), { ...data, numClasses: 5 }, { estimator: 'exact', representation: 'diag' }), 'SHAPE', /4|5/);
  code(() => computeFisher(model, makeLikelihood('categorical'), { ...data, inputShape: [4], inputs: new Float64Array(36) }, { estimator: 'exact', representation: 'diag' }), 'SHAPE', /4 features per sample.*expects 3/);
  code(() => computeFisher(model, makeLikelihood('categorical'), data, { estimator: 'i1', representation: 'diag', labelsPerInput: 0 }), 'INVALID_ARGUMENT', /computeFisher: option 'labelsPerInput' must be an integer ≥ 1, got 0/);
  code(() => computeFisher(model, makeLikelihood('categorical'), data, { estimator: 'exact', representation: 'diag', mode: 'conditional', inputIndex: 9 }), 'INVALID_ARGUMENT', /input index 9 is outside the data \(9 samples\)/);
  const big = buildModel(mlpSpec([784, 512, 256, 10], 'relu'), null, 'float32');
  const bigData: Dataset = { name: 'b', length: 1, inputShape: [784], inputs: new Float32Array(784), targetKind: 'class', targets: new Int32Array(1), targetDim: 1, numClasses: 10 };
  code(() => computeFisher(big, makeLikelihood('categorical'), bigData, { estimator: 'exact', representation: 'dense' }), 'TOO_LARGE', /GiB|TiB.*(diag|block|kfac|matfree)/);
});
