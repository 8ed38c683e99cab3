import { test } from 'node:test';
import assert from 'node:assert/strict';
import { availableBackends } from '../src/core/backends/index.js';
import { buildModel } from '../src/nn/index.js';
import {
  FISHER_QUANTITIES, benchFisher, checkTargets, fisherConfigs, fisherOptionsFromArgs, gradientPassFlop, isSkipped, kfacExactGFlop,
  measureQuantity, modelSpecFor, type FisherBenchRow,
} from '../bench/fisher.js';

const backend = availableBackends().includes('native') ? 'native' : 'ts';

test('Fisher bench: a tiny run fills every column with a positive time ratio or an explicit skip', async () => {
  const rows = await benchFisher({
    quick: true, backends: [backend], models: ['mlp'], batches: [8], dtypes: ['float32'], activations: ['relu', 'sigmoid'],
    gemmSize: 64, budgetMs: 20, maxReps: 2, repLimitSeconds: 2,
  });
  assert.equal(rows.length, 2);
  for (const r of rows) {
    assert.equal(r.backend, backend);
    assert.equal(r.batch, 8);
    assert.equal(r.params, 784 * 512 + 512 + 512 * 256 + 256 + 256 * 10 + 10);
    for (const k of ['gradPassMs', 'gradGflop', 'gradGflops', 'gemmPeakGflops', 'passOfPeak'] as const) {
      assert.ok(Number.isFinite(r[k]) && r[k] > 0, `${r.activation} ${k} = ${r[k]}`);
    }
    assert.ok(Math.abs(r.passOfPeak - r.gradGflops / r.gemmPeakGflops) < 1e-2 * r.passOfPeak);
    assert.equal(r.gradPassMs, Math.min(...r.gradPassMedians));
    for (const q of FISHER_QUANTITIES) {
      const v = r[q];
      if (isSkipped(v)) {
        assert.ok(v.skipped.length > 0, `${r.activation} ${q}: empty skip reason`);
        assert.equal(r.timings[q], undefined);
      } else {
        assert.ok(Number.isFinite(v) && v > 0, `${r.activation} ${q} = ${v}`);
        const t = r.timings[q]!;
        assert.ok(t.ms > 0 && t.reps >= 1);
        // The ratio is the quantity's time over that of the pass timed right after it (both rounded to 4 digits).
        const pass = r.passNearMs[q]!;
        assert.ok(pass > 0, `${q}: no pass timed after it`);
        assert.ok(Math.abs(v - t.ms / pass) <= 1e-3 + 1e-2 * v, `${q}: ratio ${v} vs ${t.ms} / ${pass}`);
      }
    }
  }
  const [relu, sigmoid] = rows as [FisherBenchRow, FisherBenchRow];
  assert.ok(isSkipped(relu.i2Diag) && relu.i2Diag.reason === 'not-applicable');
  assert.ok(!isSkipped(sigmoid.i2Diag) || sigmoid.i2Diag.reason !== 'not-applicable');
});

test('gradient-pass FLOPs: forward, weight gradient and input gradient of every layer but the first', () => {
  const B = 32;
  const mlp = buildModel(modelSpecFor('mlp', 'relu'), null);
  const dense = (i: number, o: number): number => 2 * B * i * o;
  assert.equal(gradientPassFlop(mlp, B), 2 * dense(784, 512) + 3 * (dense(512, 256) + dense(256, 10)));
  // c8k5 on 28×28 → 8×24×24, pool → 12×12, c16k5 → 16×8×8, pool → 4×4, 256 → 64 → 10.
  const cnn = buildModel(modelSpecFor('cnn', 'relu'), null);
  const conv1 = 2 * B * 24 * 24 * 8 * 1 * 5 * 5;
  const conv2 = 2 * B * 8 * 8 * 16 * 8 * 5 * 5;
  assert.equal(gradientPassFlop(cnn, B), 2 * conv1 + 3 * (conv2 + dense(256, 64) + dense(64, 10)));
});

test('exact-G KFAC FLOPs: forward, the A and G Gram matrices, and the C − 1 columns pulled back above the first layer', () => {
  const B = 1024;
  const mlp = buildModel(modelSpecFor('mlp', 'relu'), null);
  const forward = 2 * B * (784 * 512 + 512 * 256 + 256 * 10);
  const A = B * (784 ** 2 + 512 ** 2 + 256 ** 2);
  const G = 9 * B * (512 ** 2 + 256 ** 2 + 10 ** 2);
  const columns = 9 * 2 * B * (512 * 256 + 256 * 10);
  assert.equal(kfacExactGFlop(mlp, B, 10), forward + A + G + columns);
  // About 3.06 gradient passes' worth of products at this size.
  const ratio = kfacExactGFlop(mlp, B, 10) / gradientPassFlop(mlp, B);
  assert.ok(ratio > 3.05 && ratio < 3.07, String(ratio));
  // Conv layers count their A and G over every output position: c8k5 gives 24·24 rows per input.
  const cnn = buildModel(modelSpecFor('cnn', 'relu'), null);
  const layer = (rows: number, inW: number, out: number, first: boolean): number =>
    (first ? 1 : 10) * 2 * rows * inW * out + inW * inW * rows + 9 * out * out * rows;
  assert.equal(kfacExactGFlop(cnn, 32, 10),
    layer(32 * 576, 25, 8, true) + layer(32 * 64, 200, 16, false) + layer(32, 256, 64, false) + layer(32, 64, 10, false));
});

test('Fisher bench: configs, flags and target marks', () => {
  const full = fisherConfigs({ backends: ['native'] });
  // MLP: 2 batches × 2 dtypes × relu/sigmoid; CNN: 2 batches × 2 dtypes × relu.
  assert.equal(full.filter((c) => c.model === 'mlp').length, 8);
  assert.equal(full.filter((c) => c.model === 'cnn').length, 4);
  assert.ok(full.some((c) => c.model === 'mlp' && c.batch === 1024 && c.dtype === 'float32' && c.activation === 'sigmoid'));
  assert.ok(!fisherConfigs({}).some((c) => c.backend === 'ts'));

  const o = fisherOptionsFromArgs(['--quick', '--backend', 'wasm', '--model=cnn', '--batch', '64,128', '--dtype', 'float64', '--act', 'tanh']);
  assert.deepEqual([o.quick, o.backends, o.models, o.batches, o.dtypes, o.activations, o.json],
    [true, ['wasm'], ['cnn'], [64, 128], ['float64'], ['tanh'], 'bench-results/fisher.json']);
  assert.throws(() => fisherOptionsFromArgs(['--batchsize', '8']), /unknown flag --batchsize/);
  assert.throws(() => fisherOptionsFromArgs(['--model', 'rnn']), /expected one of mlp, cnn/);

  const base = {
    backend: 'native', model: 'mlp', dtype: 'float32', batch: 1024, architecture: '784-512-256-10', inputShape: [784], params: 1,
    gradPassMs: 10, gradPassReps: 5, gradPassMedians: [10, 11], gradGflop: 1, gradGflops: 100, gemmPeakGflops: 250, gemmPeakSize: 1024, passOfPeak: 0.4, timings: {}, passNearMs: {},
    i1Diag: 1.5, exactDiag: 3.2, exactDiagV1V2: { skipped: 'too slow', reason: 'too-slow' }, kfacFactors: 2, kfacFactorsExactG: 2.6, kfacExactGFlopRatio: 3.06, fisherVectorProduct: 2.5, perSampleGradients: 100,
  } as const;
  const rows = [
    { ...base, activation: 'relu', i2Diag: { skipped: 'n/a', reason: 'not-applicable' } },
    { ...base, activation: 'sigmoid', i2Diag: 4.1 },
  ] as unknown as FisherBenchRow[];
  const marks = Object.fromEntries(checkTargets(rows).map((c) => [c.name, c.pass]));
  assert.deepEqual(marks, {
    'Î1 diag (relu)': true, 'exact diag (relu)': false, 'exact+V1+V2 (relu)': false, 'Î2 diag (sigmoid)': false,
    'KFAC (relu)': true, 'KFAC exact G (relu)': null, 'F·v (relu)': true, 'gradient pass of gemm peak': false,
  });
  assert.ok(checkTargets(rows.map((r) => ({ ...r, batch: 256 }))).every((c) => c.pass === null));
});

test('Fisher bench: pilot calls on a few inputs keep a call predicted over the limit from running at the full batch', () => {
  // A virtual clock that the fake quantities advance: the decisions do not depend on machine load.
  let clock = 0;
  const now = (): number => clock;
  const calledWith: number[] = [];
  const fake = (msPerCall: number, msPerInput: number) => (n: number) => {
    calledWith.push(n);
    return () => { clock += msPerCall + msPerInput * n; };
  };
  // 2 ms per input: about 2 s at batch 1024, over a 0.5 s limit; stopped by the pilot on 16 inputs
  // (affine estimate 2 s, over 4× the limit), so nothing larger ever runs.
  const slow = measureQuantity(fake(0, 2), 1024, 500, 50, 3, 1, now);
  assert.ok(isSkipped(slow) && slow.reason === 'too-slow', JSON.stringify(slow));
  assert.deepEqual(calledWith, [4, 16]);
  // 1 ms per input: 1 s at batch 1024, over the limit but under 4×; runs up to the pilot on 256
  // (≥ 1/8 of the batch), whose estimate decides alone.
  calledWith.length = 0;
  const borderline = measureQuantity(fake(0, 1), 1024, 500, 50, 3, 1, now);
  assert.ok(isSkipped(borderline) && borderline.reason === 'too-slow');
  assert.deepEqual(calledWith, [4, 16, 64, 256]);
  // A fixed 5 ms per call plus 1 µs per input: the first pilot scaled linearly predicts 1.3 s,
  // over the limit, but the affine fit to the next pilot sees the small slope: the full batch runs.
  calledWith.length = 0;
  const fast = measureQuantity(fake(5, 0.001), 1024, 500, 50, 3, 1, now);
  assert.ok(!isSkipped(fast), JSON.stringify(fast));
  assert.ok(Math.abs(fast.ms - (5 + 1.024)) < 1e-9, `${fast.ms}`);
  assert.ok(fast.reps >= 1 && fast.reps <= 3);
  assert.deepEqual(calledWith, [4, 16, 64, 256, 1024]);
  // One call slower than the limit on a few inputs: skipped at once.
  calledWith.length = 0;
  assert.ok(isSkipped(measureQuantity(fake(600, 0), 1024, 500, 50, 3, 1, now)));
  assert.deepEqual(calledWith, [4]);
  const failing = measureQuantity(() => () => { throw new Error('no such path'); }, 64, 500, 50, 3, 1, now);
  assert.deepEqual(failing, { skipped: 'error: no such path', reason: 'error' });
});
