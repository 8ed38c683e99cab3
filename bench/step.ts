/**
 * Cost of one training step (forward + backward, no optimiser) of an MLP, against the time of
 * the same gemms called directly on the backend: the ratio shows what everything around the
 * matrix products (elementwise kernels, autodiff bookkeeping, allocation) costs.
 */
import type { BackendName } from '../src/core/backend.js';
import { loadBackend, withBackend } from '../src/core/backends/index.js';
import { allocArray, type DType } from '../src/core/dtype.js';
import { BufferScope } from '../src/core/pool.js';
import { Rng } from '../src/core/rng.js';
import { Tensor } from '../src/core/tensor.js';
import { grad } from '../src/autodiff/grad.js';
import { buildModel, mlpSpec } from '../src/nn/index.js';
import { makeLikelihood } from '../src/likelihoods/index.js';
import { median, medianMs } from './timing.js';

export interface StepRow {
  backend: BackendName;
  dtype: DType;
  sizes: number[];
  batch: number;
  stepMs: number;
  gemmMs: number;
  ratio: number;
  gemmGflop: number;
  stepGflops: number;
}

export function benchStep(backend: BackendName, dtype: DType, sizes: number[], batch: number, reps = 15): StepRow {
  return withBackend(backend, () => {
    const be = loadBackend(backend);
    const rng = new Rng(0);
    const model = buildModel(mlpSpec(sizes, 'relu'), rng.derive('init'), dtype);
    const lik = makeLikelihood('categorical');
    const x = Tensor.uniform([batch, sizes[0]!], rng, 0, 1, dtype);
    const y = new Int32Array(batch).map(() => rng.int(sizes[sizes.length - 1]!));
    const params = model.parameters();
    // As the trainer runs it: intermediate buffers are recycled between steps.
    const scope = new BufferScope();
    const step = (): void => {
      scope.run(() => grad(lik.nll(model.forward(x), y), params));
      scope.recycle();
    };
    const stepMs = medianMs(step, reps, 3);

    // The same gemms: per layer forward x·Wᵀ, backward gW = gᵀx, and gx = g·W except layer 0.
    const bufs = sizes.map((n) => allocArray(dtype, batch * n));
    const gbufs = sizes.map((n) => allocArray(dtype, batch * n));
    const ws = sizes.slice(1).map((n, i) => allocArray(dtype, n * sizes[i]!));
    const gws = ws.map((w) => allocArray(dtype, w.length));
    rng.fillUniform(bufs[0]!, 0, 1);
    ws.forEach((w) => rng.fillUniform(w, -0.05, 0.05));
    let flop = 0;
    const gemms = (): void => {
      flop = 0;
      for (let l = 0; l + 1 < sizes.length; l++) {
        const [nin, nout] = [sizes[l]!, sizes[l + 1]!];
        be.gemm(false, true, batch, nout, nin, 1, bufs[l]!, 0, nin, ws[l]!, 0, nin, 0, bufs[l + 1]!, 0, nout);
        flop += 2 * batch * nin * nout;
      }
      for (let l = sizes.length - 2; l >= 0; l--) {
        const [nin, nout] = [sizes[l]!, sizes[l + 1]!];
        be.gemm(true, false, nout, nin, batch, 1, gbufs[l + 1]!, 0, nout, bufs[l]!, 0, nin, 0, gws[l]!, 0, nin);
        flop += 2 * batch * nin * nout;
        if (l > 0) {
          be.gemm(false, false, batch, nin, nout, 1, gbufs[l + 1]!, 0, nout, ws[l]!, 0, nin, 0, gbufs[l]!, 0, nin);
          flop += 2 * batch * nin * nout;
        }
      }
    };
    const gemmMs = medianMs(gemms, reps, 3);
    return {
      backend, dtype, sizes, batch, stepMs, gemmMs, ratio: stepMs / gemmMs,
      gemmGflop: flop / 1e9, stepGflops: flop / 1e9 / (stepMs / 1000),
    };
  });
}
