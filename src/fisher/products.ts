/**
 * Matrix-free products M·v for every estimator, streaming over the data, never forming M:
 *   exact        Σ_b J_bᵀ Cov_b (J_b v)            (jvp → output-space Fisher → vjp)
 *   i1/empirical Σ_b J_bᵀ Σ_s d_bs d_bsᵀ (J_b v)   with d = t(y) − η (sampled / data labels)
 *   i2/hessian   Hessian–vector product of the (sampled / data-label) negative log-likelihood
 * with the same label draws and scaling as computeFisherRaw, so the product equals the dense
 * estimate's. Vectors are flat Float64Arrays in parameter order.
 *
 * Two paths for exact, i1 and empirical: 'fast' (the default) runs one forward sweep carrying
 * the tangent and one explicit reverse sweep (tangent.ts), about two gradient passes; 'reference'
 * uses the autodiff jvp (double-vjp) and a fresh forward and backward. Both draw the same labels
 * (same per-batch seeds, bit-identical network outputs), so they give the same matrix. Models
 * with a layer that has no explicit rule take the reference path.
 */
import { allocArray, type FloatArray } from '../core/dtype.js';
import { fail } from '../core/errors.js';
import { BufferScope, allocTensorData } from '../core/pool.js';
import { Rng } from '../core/rng.js';
import { Tensor, sizeOf } from '../core/tensor.js';
import * as F from '../autodiff/ops.js';
import { grad, hvp, jvp } from '../autodiff/grad.js';
import { batchOf, type BatchBuffers, type Dataset } from '../data/dataset.js';
import type { Likelihood, Targets } from '../likelihoods/likelihood.js';
import type { Sequential } from '../nn/sequential.js';
import { FISHER_PATHS } from './accumulate.js';
import type { FisherOptions } from './compute.js';
import { checkFisherArgs } from './options.js';
import type { EstimatorName } from './matrix.js';
import { explicitRulesCover } from './rules.js';
import { TangentPlan } from './tangent.js';
import { drawLabels, inputStreams } from './labels.js';

function split(model: Sequential, v: Float64Array): Tensor[] {
  let off = 0;
  return model.parameters().map((p) => {
    const t = Tensor.zeros(p.shape, p.dtype);
    t.data.set(v.subarray(off, off + p.size));
    off += p.size;
    return t;
  });
}

/** What the output-space step of one batch needs. */
interface OutputSpace {
  estimator: EstimatorName;
  lik: Likelihood;
  /** Network output [B, T] in float64. */
  h64: Float64Array;
  batch: number;
  outputDim: number;
  targets: Targets | undefined;
  rng: Rng | readonly Rng[];
  labelsPerInput: number;
}

/**
 * w [B, T] (model dtype, zero on entry) ← the output-space matrix of the estimator times u = J·v
 * per sample: Cov_b u_b (exact) or the mean over labels of d (dᵀu_b), d = t(y) − η.
 */
function fillOutputCotangent(o: OutputSpace, u: FloatArray, w: FloatArray): void {
  const { lik, h64, batch: B, outputDim: T } = o;
  if (o.estimator === 'exact') {
    const cov = lik.covariance(h64, B, T);
    for (let b = 0; b < B; b++) for (let a = 0; a < T; a++) {
      let s = 0;
      for (let c = 0; c < T; c++) s += cov[(b * T + a) * T + c]! * u[b * T + c]!;
      w[b * T + a] = s;
    }
    return;
  }
  const eta = lik.meanStat(h64, B, T);
  let t: Float64Array;
  let per: number;
  if (o.estimator === 'i1') {
    per = o.labelsPerInput;
    t = lik.sufficientStat(drawLabels(lik, h64, B, T, o.rng, per), B * per, T);
  } else {
    if (!o.targets) fail('INVALID_ARGUMENT', 'the empirical Fisher needs targets');
    t = lik.sufficientStat(o.targets, B, T);
    per = 1;
  }
  for (let b = 0; b < B; b++) for (let s = 0; s < per; s++) {
    const r = b * per + s;
    let dot = 0;
    for (let a = 0; a < T; a++) dot += (t[r * T + a]! - eta[b * T + a]!) * u[b * T + a]!;
    for (let a = 0; a < T; a++) w[b * T + a]! += ((t[r * T + a]! - eta[b * T + a]!) * dot) / per;
  }
}

/** Memory the sampled labels of one batch of a matrix-free product may take. */
export const MAX_PRODUCT_LABEL_BYTES = 2 ** 31;

/** A function v ↦ M·v for the estimator in `opts` over `data` (mean or sum scaling as in opts). */
export function fisherProduct(model: Sequential, lik: Likelihood, data: Dataset, opts: FisherOptions): (v: Float64Array) => Float64Array {
  checkFisherArgs('fisherProduct', model, lik, data, opts);
  const params = model.parameters();
  const P = params.reduce((s, p) => s + p.size, 0);
  const n = opts.labelsPerInput ?? 1;
  const Bsz = opts.batchSize ?? 128;
  const mode = opts.mode ?? 'joint';
  const path = opts.path ?? 'fast';
  if (!(FISHER_PATHS as readonly string[]).includes(path)) fail('INVALID_ARGUMENT', `unknown product path '${String(path)}': expected one of ${FISHER_PATHS.join(', ')}`);
  const indices = mode === 'conditional'
    ? Uint32Array.of(opts.inputIndex ?? 0)
    : new Uint32Array(Math.min(data.length, opts.maxInputs ?? data.length)).map((_, i) => i);
  const total = indices.length;
  const D = sizeOf(model.inputShape);
  // Each product draws all labels of a batch at once (labels × inputs × outputs float64 values,
  // several arrays of that size): refused, with the bytes it would need, past a budget.
  if (opts.estimator === 'i1' || opts.estimator === 'i2') {
    const values = n * Math.min(Bsz, total) * model.outputDim;
    const bytes = 4 * 8 * values;
    if (bytes > MAX_PRODUCT_LABEL_BYTES) {
      fail('TOO_LARGE', `fisherProduct: ${n} labels per input for batches of ${Math.min(Bsz, total)} inputs would need about ${(bytes / 2 ** 30).toFixed(1)} GiB per batch (limit ${MAX_PRODUCT_LABEL_BYTES / 2 ** 30} GiB); lower labelsPerInput or batchSize`);
    }
  }
  const root = new Rng(opts.seed ?? 0).derive('fisher-labels');
  const scale = (opts.scaling ?? 'mean') === 'mean' ? 1 / total : 1;
  const firstOrder = opts.estimator === 'exact' || opts.estimator === 'i1' || opts.estimator === 'empirical';
  const plan = path === 'fast' && firstOrder && explicitRulesCover(model.layers) ? new TangentPlan(model) : null;
  // One scope and one pair of minibatch arrays for every product of this function: the buffers
  // of a batch are reused by the next.
  const scope = new BufferScope();
  const maxBatch = Math.min(Bsz, total);
  let buffers: BatchBuffers | undefined;
  return (v: Float64Array): Float64Array => {
    if (v.length !== P) fail('SHAPE', `vector has ${v.length} entries, the model has ${P} parameters`);
    const dParams = plan ? plan.splitTangent(v) : null;
    const vs = plan ? null : split(model, v);
    const out = new Float64Array(P);
    const add = (gs: Tensor[], w: number): void => {
      let off = 0;
      for (const g of gs) { for (let i = 0; i < g.size; i++) out[off + i]! += w * g.data[i]!; off += g.size; }
    };
    for (let start = 0; start < total; start += Bsz) {
      const idx = indices.subarray(start, Math.min(total, start + Bsz));
      const B = idx.length;
      buffers ??= {
        inputs: allocArray(model.dtype, maxBatch * D),
        targets: data.targetKind === 'class' ? new Int32Array(maxBatch) : allocArray(model.dtype, maxBatch * data.targetDim),
      };
      const batch = batchOf(data, idx, model.dtype, buffers);
      const rng = inputStreams(root, idx);
      scope.run(() => {
        if (plan) {
          const lin = plan.linearize(batch.inputs, B, dParams!);
          const T = lin.output.length / B;
          const w = allocTensorData(model.dtype, B * T);
          const o: OutputSpace = { estimator: opts.estimator, lik, h64: Float64Array.from(lin.output), batch: B, outputDim: T, targets: batch.targets, rng, labelsPerInput: n };
          fillOutputCotangent(o, lin.tangent, w);
          lin.accumulateVjp(w, out, scale);
          return;
        }
        const x = new Tensor(batch.inputs, [B, D]);
        const h = model.forward(x);
        const T = h.shape[1]!;
        const h64 = Float64Array.from(h.data);
        if (opts.estimator === 'i2' || opts.estimator === 'hessian') {
          let loss: () => Tensor;
          if (opts.estimator === 'i2') {
            const ys = drawLabels(lik, h64, B, T, rng, n);
            const rows = new Int32Array(B * n * T);
            for (let r = 0; r < B * n; r++) for (let a = 0; a < T; a++) rows[r * T + a] = Math.floor(r / n) * T + a;
            loss = () => lik.nll(F.gather(model.forward(x), rows, [B * n, T]), ys);
          } else {
            if (!batch.targets) fail('INVALID_ARGUMENT', 'the Hessian with data labels needs targets');
            const targets = batch.targets;
            loss = () => lik.nll(model.forward(x), targets);
          }
          // nll is a mean over the batch's rows: ×B turns it into the per-input sum.
          add(hvp(loss, params, vs!), B * scale);
          return;
        }
        const { tangent } = jvp(() => model.forward(x), params, vs!);
        const w = Tensor.zeros([B, T], model.dtype);
        fillOutputCotangent({ estimator: opts.estimator, lik, h64, batch: B, outputDim: T, targets: batch.targets, rng, labelsPerInput: n }, tangent.data, w.data);
        add(grad(model.forward(x), params, { gradOutputs: [w] }), scale);
      });
      scope.recycle();
    }
    return out;
  };
}
