/**
 * Matrix-free products M·v for every estimator, streaming over the data, never forming M:
 *   exact        Σ_b J_bᵀ Cov_b (J_b v)            (jvp → output-space Fisher → vjp)
 *   i1/empirical Σ_b J_bᵀ Σ_s d_bs d_bsᵀ (J_b v)   with d = t(y) − η (sampled / data labels)
 *   i2/hessian   Hessian–vector product of the (sampled / data-label) negative log-likelihood
 * with the same label draws and scaling as computeFisherRaw, so the product equals the dense
 * estimate's. Vectors are flat Float64Arrays in parameter order.
 */
import { fail } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import { Tensor, sizeOf } from '../core/tensor.js';
import * as F from '../autodiff/ops.js';
import { grad, hvp, jvp } from '../autodiff/grad.js';
import { batchOf, type Dataset } from '../data/dataset.js';
import type { Likelihood } from '../likelihoods/likelihood.js';
import type { Sequential } from '../nn/sequential.js';
import type { FisherOptions } from './compute.js';

function split(model: Sequential, v: Float64Array): Tensor[] {
  let off = 0;
  return model.parameters().map((p) => {
    const t = Tensor.zeros(p.shape, p.dtype);
    t.data.set(v.subarray(off, off + p.size));
    off += p.size;
    return t;
  });
}

/** A function v ↦ M·v for the estimator in `opts` over `data` (mean or sum scaling as in opts). */
export function fisherProduct(model: Sequential, lik: Likelihood, data: Dataset, opts: FisherOptions): (v: Float64Array) => Float64Array {
  const params = model.parameters();
  const P = params.reduce((s, p) => s + p.size, 0);
  const n = opts.labelsPerInput ?? 1;
  const Bsz = opts.batchSize ?? 128;
  const mode = opts.mode ?? 'joint';
  const indices = mode === 'conditional'
    ? Uint32Array.of(opts.inputIndex ?? 0)
    : new Uint32Array(Math.min(data.length, opts.maxInputs ?? data.length)).map((_, i) => i);
  const total = indices.length;
  const D = sizeOf(model.inputShape);
  const root = new Rng(opts.seed ?? 0).derive('fisher-labels');
  const scale = (opts.scaling ?? 'mean') === 'mean' ? 1 / total : 1;
  return (v: Float64Array): Float64Array => {
    if (v.length !== P) fail('SHAPE', `vector has ${v.length} entries, the model has ${P} parameters`);
    const vs = split(model, v);
    const out = new Float64Array(P);
    const add = (gs: Tensor[], w: number): void => {
      let off = 0;
      for (const g of gs) { for (let i = 0; i < g.size; i++) out[off + i]! += w * g.data[i]!; off += g.size; }
    };
    for (let start = 0, bi = 0; start < total; start += Bsz, bi++) {
      const idx = indices.subarray(start, Math.min(total, start + Bsz));
      const B = idx.length;
      const batch = batchOf(data, idx, model.dtype);
      const x = new Tensor(batch.inputs, [B, D]);
      const rng = root.derive(bi);
      const h = model.forward(x);
      const T = h.shape[1]!;
      const h64 = Float64Array.from(h.data);
      const eta = lik.meanStat(h64, B, T);
      const sampled = (): { t: Float64Array; ys: Int32Array | Float64Array } => {
        const ys = lik.sample(h64, B, T, rng, n);
        return { t: lik.sufficientStat(ys, B * n, T), ys };
      };
      if (opts.estimator === 'i2' || opts.estimator === 'hessian') {
        let loss: () => Tensor;
        if (opts.estimator === 'i2') {
          const { ys } = sampled();
          const rows = new Int32Array(B * n * T);
          for (let r = 0; r < B * n; r++) for (let a = 0; a < T; a++) rows[r * T + a] = Math.floor(r / n) * T + a;
          loss = () => lik.nll(F.gather(model.forward(x), rows, [B * n, T]), ys);
        } else {
          if (!batch.targets) fail('INVALID_ARGUMENT', 'the Hessian with data labels needs targets');
          loss = () => lik.nll(model.forward(x), batch.targets);
        }
        // nll is a mean over the batch's rows: ×B turns it into the per-input sum.
        add(hvp(loss, params, vs), B * scale);
        continue;
      }
      const { tangent } = jvp(() => model.forward(x), params, vs);
      const u = tangent.data;
      const w = Tensor.zeros([B, T], model.dtype);
      if (opts.estimator === 'exact') {
        const cov = lik.covariance(h64, B, T);
        for (let b = 0; b < B; b++) for (let a = 0; a < T; a++) {
          let s = 0;
          for (let c = 0; c < T; c++) s += cov[(b * T + a) * T + c]! * u[b * T + c]!;
          w.data[b * T + a] = s;
        }
      } else {
        let t: Float64Array;
        let per: number;
        if (opts.estimator === 'i1') { t = sampled().t; per = n; }
        else {
          if (!batch.targets) fail('INVALID_ARGUMENT', 'the empirical Fisher needs targets');
          t = lik.sufficientStat(batch.targets, B, T);
          per = 1;
        }
        for (let b = 0; b < B; b++) for (let s = 0; s < per; s++) {
          const r = b * per + s;
          let dot = 0;
          for (let a = 0; a < T; a++) dot += (t[r * T + a]! - eta[b * T + a]!) * u[b * T + a]!;
          for (let a = 0; a < T; a++) w.data[b * T + a]! += ((t[r * T + a]! - eta[b * T + a]!) * dot) / per;
        }
      }
      add(grad(model.forward(x), params, { gradOutputs: [w] }), scale);
    }
    return out;
  };
}
