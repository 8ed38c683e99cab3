/**
 * Monte Carlo: Î1 and Î2 are unbiased, so the mean of M independent replications must lie within
 * 5 standard errors (the replications' own standard deviation / √M) of the exact FIM, for every
 * parameter, in conditional and joint mode.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../src/core/rng.js';
import { Tensor } from '../src/core/tensor.js';
import { buildModel, mlpSpec } from '../src/nn/index.js';
import { makeLikelihood } from '../src/likelihoods/index.js';
import { computeFisherRaw } from '../src/fisher/compute.js';
import type { Dataset } from '../src/data/dataset.js';

function data(x: Tensor, D: number): Dataset {
  return { name: 'mc', length: x.shape[0]!, inputShape: [D], inputs: x.data, targetKind: 'class', targets: new Int32Array(x.shape[0]!), targetDim: 1, numClasses: 3 };
}

for (const [lname, act, T] of [['categorical', 'tanh', 3], ['bernoulli', 'sigmoid', 2], ['poisson', 'softplus', 2], ['gaussian', 'gelu', 2]] as const) {
  for (const mode of ['conditional', 'joint'] as const) {
    test(`Monte Carlo: mean of Î1 and Î2 replications converges to the exact FIM (${lname}, ${act}, ${mode})`, () => {
      const rng = new Rng(21);
      const model = buildModel(mlpSpec([3, 5, T], act), rng.derive('init'), 'float64');
      for (const p of model.parameters()) if (p.name!.endsWith('bias')) rng.fillUniform(p.data, -0.5, 0.5);
      const x = Tensor.uniform([mode === 'joint' ? 3 : 1, 3], rng, -1.5, 1.5, 'float64');
      const lik = makeLikelihood(lname);
      const ds = { ...data(x, 3), targetKind: lik.targetKind, numClasses: lname === 'categorical' ? 3 : undefined, targetDim: lname === 'categorical' ? 1 : T } as Dataset;
      const exact = computeFisherRaw(model, lik, ds, { estimator: 'exact', representation: 'diag', mode }).acc.diag!;
      const P = exact.length;
      const M = 300;
      for (const estimator of ['i1', 'i2'] as const) {
        const sum = new Float64Array(P);
        const sumSq = new Float64Array(P);
        for (let m = 0; m < M; m++) {
          const d = computeFisherRaw(model, lik, ds, { estimator, representation: 'diag', mode, labelsPerInput: 4, seed: 1000 + m }).acc.diag!;
          for (let i = 0; i < P; i++) { sum[i]! += d[i]!; sumSq[i]! += d[i]! * d[i]!; }
        }
        let random = 0;
        for (let i = 0; i < P; i++) {
          const mean = sum[i]! / M;
          const sd = Math.sqrt(Math.max(0, (sumSq[i]! - M * mean * mean) / (M - 1)));
          if (sd > 1e-12 * Math.abs(mean)) random++;
          const tol = 5 * sd / Math.sqrt(M) + 1e-12 * Math.abs(exact[i]!);
          assert.ok(Math.abs(mean - exact[i]!) <= tol, `${estimator} param ${i}: mean ${mean} vs exact ${exact[i]} (5 s.e. ${tol})`);
        }
        // The check must not pass trivially: most entries are genuinely random.
        if (estimator === 'i1') assert.ok(random > P / 2, `${estimator}: only ${random} of ${P} entries vary`);
      }
    });
  }
}
