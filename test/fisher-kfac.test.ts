/**
 * KFAC factors against their definition built explicitly: A = mean ā āᵀ from each layer's
 * input (ā = (a, 1)), G = mean Σ_r δ_r δ_rᵀ with δ_r = (∂h/∂z)ᵀ s_r, where ∂h/∂z is taken by
 * finite differences through the layers above and s_r are columns of a square root of Cov(t).
 * For a single input A ⊗ G is the exact FIM block of a dense layer (ā does not depend on y).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../src/core/rng.js';
import { Tensor } from '../src/core/tensor.js';
import { numericalDirectional } from '../src/autodiff/check.js';
import { buildModel, mlpSpec, Sequential } from '../src/nn/index.js';
import { makeLikelihood } from '../src/likelihoods/index.js';
import { computeFisherRaw } from '../src/fisher/compute.js';
import type { Dataset } from '../src/data/dataset.js';

function relErr(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let num = 0, den = 0;
  for (let i = 0; i < want.length; i++) { num = Math.max(num, Math.abs(got[i]! - want[i]!)); den = Math.max(den, Math.abs(want[i]!)); }
  return num / den;
}

test('KFAC factors equal their explicit definition; one input gives the exact FIM blocks', () => {
  const rng = new Rng(8);
  const lik = makeLikelihood('categorical');
  const model = buildModel(mlpSpec([3, 4, 5, 3], 'tanh'), rng.derive('init'), 'float64');
  for (const p of model.parameters()) if (p.name!.endsWith('bias')) rng.fillUniform(p.data, -0.5, 0.5);
  for (const B of [4, 1]) {
    const x = Tensor.uniform([B, 3], rng, -1, 1, 'float64');
    const data: Dataset = { name: 'k', length: B, inputShape: [3], inputs: x.data, targetKind: 'class', targets: new Int32Array(B), targetDim: 1, numClasses: 3 };
    const kfac = computeFisherRaw(model, lik, data, { estimator: 'exact', representation: 'kfac' }).acc.kfac!;
    const outs = model.forwardAll(x);
    const h = Float64Array.from(outs[outs.length - 1]!.data);
    const T = 3;
    const S = lik.sqrtFactor(h, B, T);
    const R = lik.factorRank(T);
    model.paramGroups().forEach((g, li) => {
      const a = outs[g.index]!;
      const nin = a.shape[1]!;
      const z = outs[g.index + 1]!;
      const nout = z.shape[1]!;
      const Aw = new Float64Array((nin + 1) ** 2);
      for (let b = 0; b < B; b++) {
        const abar = [...Array.from(a.data.subarray(b * nin, (b + 1) * nin)), 1];
        for (let i = 0; i <= nin; i++) for (let j = 0; j <= nin; j++) Aw[i * (nin + 1) + j]! += (abar[i]! * abar[j]!) / B;
      }
      // ∂h/∂z by finite differences through the layers above, per sample.
      const above = new Sequential(model.layers.slice(g.index + 1), [nout], 'float64');
      const Gw = new Float64Array(nout * nout);
      for (let b = 0; b < B; b++) {
        const zb = Float64Array.from(z.data.subarray(b * nout, (b + 1) * nout));
        const Jz = new Float64Array(T * nout);
        for (let k = 0; k < nout; k++) {
          const e = new Float64Array(nout); e[k] = 1;
          const d = numericalDirectional(() => above.forward(new Tensor(zb, [1, nout])).data, [zb], [e]);
          for (let c = 0; c < T; c++) Jz[c * nout + k] = d[c]!;
        }
        for (let r = 0; r < R; r++) {
          const delta = new Float64Array(nout);
          for (let k = 0; k < nout; k++) for (let c = 0; c < T; c++) delta[k]! += Jz[c * nout + k]! * S[(b * T + c) * R + r]!;
          for (let i = 0; i < nout; i++) for (let j = 0; j < nout; j++) Gw[i * nout + j]! += (delta[i]! * delta[j]!) / B;
        }
      }
      assert.ok(relErr(kfac[li]!.A, Aw) < 1e-12, `A of layer ${g.label}`);
      assert.ok(relErr(kfac[li]!.G, Gw) < 1e-8, `G of layer ${g.label}: ${relErr(kfac[li]!.G, Gw).toExponential(2)}`);
      assert.equal(kfac[li]!.positions, 1);
    });
    if (B === 1) {
      // A ⊗ G in the layer's (vec W row-major, b) order equals the exact block.
      const blocks = computeFisherRaw(model, lik, data, { estimator: 'exact', representation: 'block' }).acc.blocks!;
      model.paramGroups().forEach((g, li) => {
        const { A, G } = kfac[li]!;
        const nin = Math.sqrt(A.length) - 1;
        const nout = Math.sqrt(G.length);
        const idx = (p: number): [number, number] => (p < nout * nin ? [Math.floor(p / nin), p % nin] : [p - nout * nin, nin]);
        const size = nout * (nin + 1);
        const kron = new Float64Array(size * size);
        for (let p = 0; p < size; p++) for (let q = 0; q < size; q++) {
          const [j, k] = idx(p);
          const [j2, k2] = idx(q);
          kron[p * size + q] = G[j * nout + j2]! * A[k * (nin + 1) + k2]!;
        }
        assert.ok(relErr(kron, blocks[li]!) < 1e-12, `one input: A⊗G is the exact block of ${g.label}`);
      });
    }
  }
});

test('KFAC refuses the estimators with signed curvature terms', () => {
  const model = buildModel(mlpSpec([2, 3, 2], 'tanh'), new Rng(1), 'float64');
  const x = Tensor.uniform([2, 2], new Rng(2), -1, 1, 'float64');
  const data: Dataset = { name: 'k', length: 2, inputShape: [2], inputs: x.data, targetKind: 'class', targets: new Int32Array(2), targetDim: 1, numClasses: 2 };
  assert.throws(() => computeFisherRaw(model, makeLikelihood('categorical'), data, { estimator: 'i2', representation: 'kfac' }), /KFAC is defined for the exact, i1 and empirical/);
});
