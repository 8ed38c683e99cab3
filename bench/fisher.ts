/**
 * Cost of each Fisher quantity as a ratio to a plain gradient pass (forward + backward of the
 * mean NLL) measured in the same run: `node dist/bench/fisher.js [--batch 256] [--dtype float32]
 * [--act relu|sigmoid] [--json out.json]`. MLP 784-512-256-10 on random inputs.
 */
import { availableBackends, withBackend } from '../src/core/backends/index.js';
import type { BackendName } from '../src/core/backend.js';
import type { DType } from '../src/core/dtype.js';
import { BufferScope } from '../src/core/pool.js';
import { Rng } from '../src/core/rng.js';
import { Tensor } from '../src/core/tensor.js';
import { grad } from '../src/autodiff/grad.js';
import { buildModel, mlpSpec, type ActivationName } from '../src/nn/index.js';
import { makeLikelihood } from '../src/likelihoods/index.js';
import { computeFisherRaw } from '../src/fisher/compute.js';
import { fisherProduct } from '../src/fisher/products.js';
import { perSampleGradients } from '../src/fisher/persample.js';
import { writeJsonAtomic } from '../src/io/atomic.js';
import type { Dataset } from '../src/data/dataset.js';

const args = process.argv.slice(2);
const opt = (name: string, dflt: string): string => { const i = args.indexOf(`--${name}`); return i >= 0 ? args[i + 1]! : dflt; };
const batch = Number(opt('batch', '256'));
const dtype = opt('dtype', 'float32') as DType;
const act = opt('act', 'relu') as ActivationName;

function time(fn: () => void, reps = 5): number {
  fn();
  const ts: number[] = [];
  for (let i = 0; i < reps; i++) { const t0 = performance.now(); fn(); ts.push(performance.now() - t0); }
  return ts.sort((a, b) => a - b)[Math.floor(reps / 2)]!;
}

const rows: Record<string, unknown>[] = [];
for (const backend of availableBackends().filter((b) => b !== 'ts') as BackendName[]) {
  withBackend(backend, () => {
    const rng = new Rng(0);
    const model = buildModel(mlpSpec([784, 512, 256, 10], act), rng.derive('init'), dtype);
    const lik = makeLikelihood('categorical');
    const x = Tensor.uniform([batch, 784], rng, 0, 1, dtype);
    const y = new Int32Array(batch).map(() => rng.int(10));
    const data: Dataset = { name: 'bench', length: batch, inputShape: [784], inputs: x.data, targetKind: 'class', targets: y, targetDim: 1, numClasses: 10 };
    const params = model.parameters();
    const scope = new BufferScope();
    const gradMs = time(() => { scope.run(() => grad(lik.nll(model.forward(x), y), params)); scope.recycle(); });
    const o = { batchSize: batch, labelsPerInput: 1 };
    const q = (estimator: 'exact' | 'i1' | 'i2', representation: 'diag' | 'kfac'): (() => void) => () => { computeFisherRaw(model, lik, data, { ...o, estimator, representation }); };
    const v = new Float64Array(model.numParams()).map(() => rng.normal());
    const mv = fisherProduct(model, lik, data, { ...o, estimator: 'exact', representation: 'matfree' });
    const r: Record<string, unknown> = { backend, dtype, batch, activation: act, gradPassMs: +gradMs.toFixed(2) };
    const ratio = (name: string, fn: () => void, reps = 3): void => { r[name] = +(time(fn, reps) / gradMs).toFixed(2); };
    ratio('i1Diag', q('i1', 'diag'));
    ratio('exactDiag', q('exact', 'diag'));
    if (act !== 'relu') ratio('i2Diag', q('i2', 'diag'), 1);
    ratio('kfacFactors', q('exact', 'kfac'));
    ratio('fisherVectorProduct', () => { mv(v); });
    ratio('perSampleGradients', () => { perSampleGradients(model, lik, x, y); }, 1);
    rows.push(r);
    console.log(JSON.stringify(r));
  });
}
const out = opt('json', '');
if (out) writeJsonAtomic(out, rows);
