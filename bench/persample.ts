/**
 * Per-sample gradients and their reductions against a plain gradient pass, measured in one run:
 *   per-sample   perSampleGradients: the [B, P] float64 array
 *   norms        perSampleGradientNorms: ||g_b|| per sample, O(B) memory for dense layers
 *   clipped      clippedGradientSum: DP-SGD Σ_b min(1, C/||g_b||) g_b, O(B + P) memory
 * each as a ratio to one gradient pass of the summed loss over the same batch (timed before and
 * after each quantity, the faster median taken) and, for per-sample, in GB/s of output written.
 *
 *   node dist/bench/persample.js [--model mlp|cnn] [--batch 256,1024] [--dtype float32,float64]
 *     [--backend native,wasm] [--reps 3] [--json bench-results/persample.json]
 *
 * Not part of npm test; bench/pytorch_persample.py times the same with PyTorch and
 * bench/persample-compare.mjs prints the fimkit/PyTorch ratios.
 */
import { withBackend, availableBackends } from '../src/core/backends/index.js';
import type { BackendName } from '../src/core/backend.js';
import type { DType } from '../src/core/dtype.js';
import { BufferScope } from '../src/core/pool.js';
import { Rng } from '../src/core/rng.js';
import { Tensor, sizeOf } from '../src/core/tensor.js';
import { grad } from '../src/autodiff/grad.js';
import { makeLikelihood } from '../src/likelihoods/index.js';
import { buildModel } from '../src/nn/index.js';
import { clippedGradientSum, perSampleGradientNorms, perSampleGradients } from '../src/fisher/persample.js';
import { writeJsonAtomic } from '../src/io/atomic.js';
import { loadavg } from 'node:os';
import { modelSpecFor, type BenchModel } from './fisher.js';
import { median, medianMs } from './timing.js';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : def;
}

export interface PerSampleRow {
  backend: BackendName; dtype: DType; model: BenchModel; batch: number; params: number;
  passMs: number; perSampleMs: number; perSampleIntoMs: number; perSampleIntoRatio: number; perSampleIntoGBps: number; normsMs: number; clippedMs: number;
  perSampleRatio: number; normsRatio: number; clippedRatio: number; perSampleGBps: number;
}

function benchOne(backend: BackendName, dtype: DType, modelName: BenchModel, B: number, reps: number): PerSampleRow {
  return withBackend(backend, () => {
    const rng = new Rng(`bench-persample:${modelName}`);
    const model = buildModel(modelSpecFor(modelName, 'relu'), rng.derive('init'), dtype);
    const lik = makeLikelihood('categorical');
    const D = sizeOf(model.inputShape);
    const x = Tensor.uniform([B, D], rng.derive('inputs'), 0, 1, dtype);
    const labels = rng.derive('labels');
    const y = new Int32Array(B).map(() => labels.int(10));
    const params = model.parameters();
    const P = model.numParams();
    const scope = new BufferScope();
    const pass = (): void => { scope.run(() => grad(lik.nll(model.forward(x), y), params)); scope.recycle(); };
    const passBefore = medianMs(pass, Math.max(reps, 5), 1);
    const perSampleMs = medianMs(() => { perSampleGradients(model, lik, x, y); }, reps, 1);
    // Into one reused output, as a stream of batches runs: no fresh pages per call.
    const into = new Float64Array(B * P);
    const perSampleIntoMs = medianMs(() => { perSampleGradients(model, lik, x, y, 'fast', into); }, reps, 1);
    const normsMs = medianMs(() => { perSampleGradientNorms(model, lik, x, y); }, reps, 1);
    const clippedMs = medianMs(() => { clippedGradientSum(model, lik, x, y, 1); }, reps, 1);
    const passMs = Math.min(passBefore, medianMs(pass, Math.max(reps, 5), 1));
    return {
      backend, dtype, model: modelName, batch: B, params: P, passMs, perSampleMs, perSampleIntoMs, normsMs, clippedMs,
      perSampleRatio: perSampleMs / passMs, normsRatio: normsMs / passMs, clippedRatio: clippedMs / passMs,
      perSampleGBps: (B * P * 8) / (perSampleMs / 1000) / 1e9,
      perSampleIntoRatio: perSampleIntoMs / passMs, perSampleIntoGBps: (B * P * 8) / (perSampleIntoMs / 1000) / 1e9,
    };
  });
}

const modelName = arg('model', 'mlp') as BenchModel;
const batches = arg('batch', '256,1024').split(',').map(Number);
const dtypes = arg('dtype', 'float32,float64').split(',') as DType[];
const backends = arg('backend', 'native,wasm').split(',').filter((b) => availableBackends().includes(b as BackendName)) as BackendName[];
const reps = Number(arg('reps', '3'));
const rows: PerSampleRow[] = [];
console.log(`per-sample gradients, ${modelName}; load average ${loadavg()[0]!.toFixed(2)} at start`);
console.log('backend dtype    batch   pass ms  per-sample ms (×pass, GB/s)   norms ms (×pass)   clipped ms (×pass)');
for (const backend of backends) for (const dtype of dtypes) for (const B of batches) {
  const r = benchOne(backend, dtype, modelName, B, reps);
  rows.push(r);
  console.log(`${backend.padEnd(7)} ${dtype.padEnd(8)} ${String(B).padStart(5)} ${r.passMs.toFixed(1).padStart(9)}  ${r.perSampleMs.toFixed(1).padStart(9)} (${r.perSampleRatio.toFixed(1)}×, ${r.perSampleGBps.toFixed(2)})` +
    `  reused output ${r.perSampleIntoMs.toFixed(1)} ms (${r.perSampleIntoRatio.toFixed(1)}×, ${r.perSampleIntoGBps.toFixed(2)} GB/s)` +
    `  ${r.normsMs.toFixed(1).padStart(9)} (${r.normsRatio.toFixed(2)}×)  ${r.clippedMs.toFixed(1).padStart(9)} (${r.clippedRatio.toFixed(2)}×)`);
}
console.log(`load average ${loadavg()[0]!.toFixed(2)} at end`);
const json = arg('json', '');
if (json !== '') writeJsonAtomic(json, { loadAverage: loadavg()[0], rows });
