import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tensor } from '../src/core/tensor.js';
import { Rng } from '../src/core/rng.js';
import { withBackend } from '../src/core/backends/index.js';
import * as F from '../src/autodiff/ops.js';
import { grad } from '../src/autodiff/grad.js';
import { numericalGradient, maxRelativeError } from '../src/autodiff/check.js';
import { ACTIVATIONS, buildModel, mlpSpec, parseArchitecture, modelToJSON, modelFromJSON, saveModel, loadModel, type ModelSpec } from '../src/nn/index.js';
import { BACKENDS } from './helpers.js';

const TOL = 1e-6;

/** d/dθ of sum(model(x) ⊙ R) for every parameter, against the fourth-order stencil. */
function checkModelGradients(label: string, spec: ModelSpec, batch: number, seed: number): void {
  const rng = new Rng(seed);
  const model = buildModel(spec, rng.derive('init'), 'float64');
  // Biases are zero after init; randomise them so their gradients are exercised off zero.
  for (const p of model.parameters()) if (p.name!.endsWith('bias')) rng.fillUniform(p.data, -0.5, 0.5);
  const per = spec.inputShape.reduce((a, b) => a * b, 1);
  const x = Tensor.uniform([batch, per], rng, -1, 1, 'float64');
  const R = Tensor.uniform([batch, model.outputDim], rng, -1, 1, 'float64');
  const loss = (): Tensor => F.sum(F.mul(model.forward(x), R));
  const params = model.parameters();
  const gs = grad(loss(), params);
  let skipped = 0;
  let total = 0;
  params.forEach((p, i) => {
    const num = numericalGradient(() => loss().item(), p.data);
    const smooth = smoothEntries(() => loss().item(), p.data);
    const got = gs[i]!.data.filter((_, k) => smooth[k]);
    const want = num.filter((_, k) => smooth[k]);
    skipped += p.size - got.length;
    total += p.size;
    const err = maxRelativeError(got, want, 1e-7);
    assert.ok(err < TOL, `${label}: ${p.name} relative error ${err.toExponential(2)}`);
  });
  assert.ok(skipped <= 0.02 * total, `${label}: ${skipped} of ${total} entries sit at a kink`);
}

/**
 * Entries where finite differences are valid: the two-point slopes over ±h and ±2h agree as a
 * smooth function's must (they differ by O(h²)). A max-pool winner that switches inside the
 * stencil makes them differ by O(1); those entries are excluded (and counted) rather than
 * letting the oracle, not the gradient, fail.
 */
function smoothEntries(f: () => number, x: Float32Array | Float64Array, h = 1e-3): boolean[] {
  const ok: boolean[] = [];
  for (let i = 0; i < x.length; i++) {
    const o = x[i]!;
    const at = (d: number): number => { x[i] = o + d; const v = f(); x[i] = o; return v; };
    const d1 = (at(h) - at(-h)) / (2 * h);
    const d2 = (at(2 * h) - at(-2 * h)) / (4 * h);
    ok.push(Math.abs(d1 - d2) <= 1e-4 * Math.max(Math.abs(d1), 1e-2));
  }
  return ok;
}

for (const backend of BACKENDS) {
  test(`[${backend}] gradients of every layer and activation match finite differences (float64)`, () => {
    withBackend(backend, () => {
      for (const act of ACTIVATIONS) checkModelGradients(`mlp ${act}`, mlpSpec([5, 7, 6, 3], act), 4, 1);
      checkModelGradients('cnn', parseArchitecture('c3k3p1-m2-c4k2s2-a2-6-3', 'tanh', [2, 8, 8]), 2, 2);
      checkModelGradients('cnn gelu avgpool', parseArchitecture('c2k3s2p1-a2-4', 'gelu', [1, 7, 7]), 3, 3);
    });
  });
}

test('model JSON round-trips exactly (array and base64 weights), across dtypes', () => {
  const spec = parseArchitecture('c2k3-m2-d0.25-5-3', 'relu', [1, 6, 6]);
  for (const dtype of ['float32', 'float64'] as const) {
    const m = buildModel(spec, new Rng(5), dtype);
    for (const enc of ['array', 'base64'] as const) {
      const json = JSON.parse(JSON.stringify(modelToJSON(m, { note: 'x' }, enc)));
      const back = modelFromJSON(json);
      assert.equal(back.dtype, dtype);
      back.parameters().forEach((p, i) => assert.deepEqual(p.data, m.parameters()[i]!.data, `${dtype} ${enc} ${p.name}`));
      const x = Tensor.uniform([2, 36], new Rng(1), 0, 1, dtype);
      assert.deepEqual(back.forward(x).data, m.forward(x).data);
    }
  }
  const dir = mkdtempSync(join(tmpdir(), 'fimkit-nn-'));
  const m = buildModel(mlpSpec([4, 3, 2], 'sigmoid'), new Rng(1), 'float64');
  saveModel(join(dir, 'm.json'), m);
  assert.deepEqual(loadModel(join(dir, 'm.json')).parameters()[0]!.data, m.parameters()[0]!.data);
});

test('model files with problems are rejected with messages naming them', () => {
  const m = buildModel(mlpSpec([4, 3, 2], 'tanh'), new Rng(1), 'float32');
  const good = (): Record<string, any> => JSON.parse(JSON.stringify(modelToJSON(m)));
  let j = good();
  j.layers[1].type = 'bogus';
  assert.throws(() => modelFromJSON(j), /unknown layer type "bogus"/);
  j = good();
  delete j.weights['2.bias'];
  assert.throws(() => modelFromJSON(j), /missing weight '2.bias'/);
  j = good();
  j.weights['0.weight'].shape = [4, 3];
  assert.throws(() => modelFromJSON(j), /weight '0.weight' has shape \[4, 3\], the architecture needs \[3, 4\]/);
  j = good();
  j.weights['0.weight'].data[2] = 'x';
  assert.throws(() => modelFromJSON(j), /entry 2 is "x"/);
  j = good();
  j.weights.extra = { shape: [1], data: [0] };
  assert.throws(() => modelFromJSON(j), /weights no layer declares: extra/);
  j = good();
  j.layers[1].fn = 'swish';
  assert.throws(() => modelFromJSON(j), /unknown activation 'swish'/);
  j = good();
  j.format = 'other';
  assert.throws(() => modelFromJSON(j), /not a fimkit model/);
  j = good();
  j.layers[0].in = 5;
  assert.throws(() => modelFromJSON(j), /invalid architecture/);
  const dir = mkdtempSync(join(tmpdir(), 'fimkit-nn-'));
  writeFileSync(join(dir, 'bad.json'), '{"format": ');
  assert.throws(() => loadModel(join(dir, 'bad.json')), /not valid JSON/);
  assert.throws(() => loadModel(join(dir, 'none.json')), /cannot read model file/);
});

test('a data shape that does not fit the model is a clear error', () => {
  const m = buildModel(mlpSpec([784, 10], 'relu'), new Rng(1), 'float32');
  assert.throws(() => m.forward(Tensor.zeros([2, 100], 'float32')), /expects inputs of shape \[batch, 784\].*got \[2, 100\]/);
  assert.throws(() => m.forward(Tensor.zeros([2, 784], 'float64')), /model is float32 but the input is float64/);
  assert.throws(() => parseArchitecture('784-c8', 'relu', [784]), /needs image input/);
  assert.throws(() => parseArchitecture('784-x2', 'relu', [784]), /cannot parse architecture token 'x2'/);
});

test('initialisers have the documented scale; dropout acts only in training', () => {
  const m = buildModel(mlpSpec([400, 300, 10], 'relu'), new Rng(9), 'float64');
  const w = m.parameters()[0]!.data;
  let s2 = 0;
  for (const v of w) s2 += v * v;
  const std = Math.sqrt(s2 / w.length);
  const want = Math.sqrt(2 / 400); // He normal
  // The sample std of n normals has relative standard error ≈ 1/√(2n); allow 5 of them.
  assert.ok(Math.abs(std / want - 1) < 5 / Math.sqrt(2 * w.length), `He std ${std} vs ${want}`);
  const t = buildModel(mlpSpec([400, 300, 10], 'tanh'), new Rng(9), 'float64').parameters()[0]!.data;
  const lim = Math.sqrt(6 / 700); // Glorot uniform
  assert.ok(Math.max(...t) <= lim && Math.min(...t) >= -lim && Math.max(...t) > 0.99 * lim);

  const d = buildModel({ inputShape: [1000], layers: [{ type: 'dropout', p: 0.3 }] }, new Rng(1), 'float64');
  const x = Tensor.full([1, 1000], 1, 'float64');
  assert.deepEqual(d.forward(x).data, x.data);
  const y = d.forward(x, { training: true, rng: new Rng(2) }).data;
  const zeros = y.filter((v) => v === 0).length;
  // Binomial(1000, 0.3): 5 standard deviations ≈ 72.
  assert.ok(Math.abs(zeros - 300) < 5 * Math.sqrt(1000 * 0.3 * 0.7), `dropped ${zeros}`);
  assert.ok(y.every((v) => v === 0 || Math.abs(v - 1 / 0.7) < 1e-12));
});
