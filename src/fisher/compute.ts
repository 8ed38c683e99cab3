/**
 * computeFisher: an estimator of the Fisher information (or the loss Hessian, for contrast)
 * over a dataset streamed in batches, in the requested representation.
 *
 * Scaling convention (stated in every result's meta.scaling):
 *   'mean' (default): the average over inputs of the per-input quantity, the estimate of
 *          I(θ) = E_q[I(θ|x)]. For the Monte Carlo estimators the n labels of each input are
 *          averaged first, so Î1 = (1/(N_x n)) Σ_k Σ_s s_ks s_ksᵀ.
 *   'sum':  N_x times that: the information in the whole dataset (as a Laplace posterior uses).
 * Joint mode takes the inputs from the data; conditional mode fixes one input (the data must
 * hold exactly one, or `inputIndex` picks it) and draws the labels for it.
 */
import { getBackend } from '../core/backends/index.js';
import type { DType } from '../core/dtype.js';
import { fail } from '../core/errors.js';
import { withPersistentScope } from '../core/pool.js';
import { Rng } from '../core/rng.js';
import { Tensor, sizeOf } from '../core/tensor.js';
import { batchOf, checkInputsFitDType, type Dataset } from '../data/dataset.js';
import type { Likelihood } from '../likelihoods/likelihood.js';
import { checkLikelihoodFits } from '../likelihoods/index.js';
import type { Sequential } from '../nn/sequential.js';
import { FISHER_PATHS, accumulateBatch, newAccumulator, type FisherPath, type RawAccumulator, type RawKind } from './accumulate.js';
import { isPiecewiseLinear, paramLayers } from './engine.js';
import { ESTIMATORS, REPRESENTATIONS, type EstimatorName, type FisherMatrix, type FisherMeta, type ParamLayout, type Representation } from './matrix.js';
import { BlockFisher, checkBlockSizes } from './block.js';
import { DenseFisher, checkDenseSize } from './dense.js';
import { DiagFisher } from './diag.js';
import { KfacFisher } from './kfac.js';
import { layoutOf } from './layout.js';
import { MatrixFreeFisher } from './matfree.js';
import { fisherProduct } from './products.js';
import { checkFisherArgs } from './options.js';
import { inputStreams } from './labels.js';
import { shardRange, type ShardSpec } from './shard-range.js';

export interface FisherOptions {
  estimator: EstimatorName;
  representation: Representation;
  /** Labels drawn per input for i1 and i2 (default 1). */
  labelsPerInput?: number;
  /** Inputs per batch (default 128). */
  batchSize?: number;
  seed?: number;
  mode?: 'joint' | 'conditional';
  /** Conditional mode: which input of the data to fix (default 0). */
  inputIndex?: number;
  /** Use only the first N inputs (default all). */
  maxInputs?: number;
  scaling?: 'mean' | 'sum';
  /** Inputs done so far (a fraction within a batch when it draws many labels per input). */
  onProgress?: (inputsDone: number, inputsTotal: number) => void;
  /**
   * 'fast' (default): explicit layer rules applied to all columns at once, products in the model
   * dtype. 'reference': one autodiff backward per column in float64 — the oracle the fast path
   * is tested against (float64 models: equal within 1e-12 relative).
   */
  path?: FisherPath;
}

export interface RawFisherResult {
  acc: RawAccumulator;
  meta: FisherMeta;
}

function validate(model: Sequential, lik: Likelihood, data: Dataset, o: FisherOptions, who: string): void {
  checkFisherArgs(who, model, lik, data, o);
  if (!ESTIMATORS.includes(o.estimator)) fail('INVALID_ARGUMENT', `unknown estimator '${o.estimator}': expected one of ${ESTIMATORS.join(', ')}`);
  if (!REPRESENTATIONS.includes(o.representation)) fail('INVALID_ARGUMENT', `unknown representation '${o.representation}': expected one of ${REPRESENTATIONS.join(', ')}`);
  // Any other value would silently take the reference path (accumulateBatch tests for 'fast').
  if (o.representation === 'kfac' && (o.estimator === 'i2' || o.estimator === 'hessian')) {
    fail('INVALID_ARGUMENT', `KFAC is defined for the exact, i1 and empirical estimators (its factors are Gram matrices); ${o.estimator} has signed second-derivative terms`);
  }
  if (o.path !== undefined && !(FISHER_PATHS as readonly string[]).includes(o.path)) fail('INVALID_ARGUMENT', `unknown Fisher path '${String(o.path)}': expected 'fast' or 'reference'`);
  const n = o.labelsPerInput ?? 1;
  if (!Number.isInteger(n) || n < 1) fail('INVALID_ARGUMENT', `labels per input must be a positive integer, got ${n}`);
  checkLikelihoodFits(lik, model.outputDim, data);
  const features = sizeOf(model.inputShape);
  const dataFeatures = sizeOf(data.inputShape);
  if (features !== dataFeatures) {
    fail('SHAPE', `the data has ${dataFeatures} features per sample (shape [${data.inputShape.join(', ')}]) but the model expects ${features} (shape [${model.inputShape.join(', ')}])`);
  }
  if (data.length === 0) fail('SHAPE', 'the data has no samples');
  checkInputsFitDType(data, model.dtype);
}

/** Streams the data through the estimator; returns the raw accumulator (scaled) and metadata. */
export function computeFisherRaw(model: Sequential, lik: Likelihood, data: Dataset, opts: FisherOptions): RawFisherResult {
  const { acc, meta } = computeFisherSums(model, lik, data, opts);
  const factor = (opts.scaling ?? 'mean') === 'mean' ? 1 / acc.inputs : 1;
  scaleAccumulator(acc, factor);
  return { acc, meta };
}

/**
 * The unscaled float64 sums over the inputs (of `shard` only, when given: a batch-aligned part of
 * the inputs, see shard.ts) with their counts; meta.numInputs counts the inputs summed.
 */
export function computeFisherSums(model: Sequential, lik: Likelihood, data: Dataset, opts: FisherOptions, shard?: ShardSpec): RawFisherResult {
  const t0 = performance.now();
  validate(model, lik, data, opts, 'computeFisherRaw');
  const mode = opts.mode ?? 'joint';
  const n = opts.labelsPerInput ?? 1;
  const B = opts.batchSize ?? 128;
  const seed = opts.seed ?? 0;
  const kind: RawKind = opts.representation === 'matfree' ? 'diag' : opts.representation;
  const layers = paramLayers(model);
  const acc = newAccumulator(kind, layers);
  // One label stream per input, keyed by its index in the data (labels.ts): the draws do not
  // depend on the batch size or on a shard split.
  const root = new Rng(seed).derive('fisher-labels');
  const mc = opts.estimator === 'i1' || opts.estimator === 'i2';
  let indices: Uint32Array;
  if (mode === 'conditional') {
    if (shard) fail('INVALID_ARGUMENT', 'shards split the inputs of joint mode; conditional mode has one input');
    const i = opts.inputIndex ?? 0;
    if (!Number.isInteger(i) || i < 0 || i >= data.length) fail('INVALID_ARGUMENT', `input index ${i} is outside the data (${data.length} samples)`);
    indices = Uint32Array.of(i);
  } else {
    const all = Math.min(data.length, opts.maxInputs ?? data.length);
    const { start, end } = shard ? shardRange(all, B, shard) : { start: 0, end: all };
    indices = new Uint32Array(end - start).map((_, i) => start + i);
  }
  const total = indices.length;
  const D = sizeOf(model.inputShape);
  withPersistentScope('fisher', (scope) => {
    for (let start = 0; start < total; start += B) {
      const idx = indices.subarray(start, Math.min(total, start + B));
      // Read-only: consecutive rows already in the model dtype are viewed, not copied.
      const batch = batchOf(data, idx, model.dtype, undefined, true);
      const x = new Tensor(batch.inputs, [idx.length, D]);
      // Many labels per input: progress within the batch too, in fractions of its inputs (the
      // labels are drawn in chunks).
      const onLabels = opts.onProgress && n * idx.length > 1 << 16 ? (f: number): void => opts.onProgress!(start + f * idx.length, total) : undefined;
      const rng = mc ? inputStreams(root, idx) : undefined;
      scope.run(() => accumulateBatch(acc, model, lik, opts.estimator, { x, targets: batch.targets, ...(rng ? { rng } : {}), ...(onLabels ? { onLabels } : {}) }, n, opts.path));
      scope.recycle();
      opts.onProgress?.(Math.min(total, start + B), total);
    }
  });
  const notes: string[] = [];
  if (isPiecewiseLinear(model) && (opts.estimator === 'i2' || opts.estimator === 'hessian')) {
    notes.push('piecewise-linear activations: ∂²h/∂θ_i² = 0 almost everywhere, so within each layer (diagonal and layer blocks) the second-derivative term vanishes and Î2 equals the exact FIM');
  }
  if (opts.representation === 'kfac') notes.push('KFAC: per layer E[ā āᵀ] ⊗ E[g gᵀ] (conv: positions · mean-over-positions factors)');
  const meta: FisherMeta = {
    estimator: opts.estimator,
    representation: opts.representation,
    likelihood: lik.name,
    labelsPerInput: mc ? n : null,
    numInputs: acc.inputs,
    mode,
    seed: mc ? seed : null,
    dtype: model.dtype as DType,
    backend: getBackend().name,
    wallSeconds: (performance.now() - t0) / 1000,
    scaling: opts.scaling ?? 'mean',
    notes,
  };
  return { acc, meta };
}

/** Multiplies an accumulator by `f` (KFAC: normalises the factors by their sample counts). */
export function scaleAccumulator(acc: Pick<RawAccumulator, 'diag' | 'blocks' | 'dense' | 'kfac'>, f: number): void {
  const mul = (a: Float64Array, s: number): void => { for (let i = 0; i < a.length; i++) a[i]! *= s; };
  if (acc.diag) mul(acc.diag, f);
  acc.blocks?.forEach((b) => mul(b, f));
  if (acc.dense) mul(acc.dense, f);
  acc.kfac?.forEach((k) => {
    // A and G become means over their samples; the block is positions · A ⊗ G, times N_x for 'sum'.
    mul(k.A, 1 / k.countA);
    mul(k.G, 1 / k.countG);
  });
}

/**
 * The estimator in the requested representation, as a FisherMatrix. Matrix-free results keep a
 * reference to the model and data: each mat-vec streams the data again (labels redrawn from the
 * same seeds, so every product is of the same matrix); their diagonal and trace come from the
 * diagonal engine, computed once on first use.
 */
export function computeFisher(model: Sequential, lik: Likelihood, data: Dataset, opts: FisherOptions): FisherMatrix {
  validate(model, lik, data, opts, 'computeFisher');
  const layout = layoutOf(model);
  if (opts.representation === 'dense') checkDenseSize(layout.size, `a dense ${opts.estimator} FIM of this ${layout.size}-parameter network`);
  if (opts.representation === 'block') checkBlockSizes(layout.groups.map((g) => g.size), `a block-diagonal ${opts.estimator} FIM`);
  if (opts.representation === 'matfree') {
    const t0 = performance.now();
    let diagCache: Float64Array | null = null;
    const diag = (): Float64Array => (diagCache ??= computeFisherRaw(model, lik, data, { ...opts, representation: 'diag' }).acc.diag!);
    const meta: FisherMeta = {
      ...computeMetaOnly(model, lik, data, opts),
      wallSeconds: (performance.now() - t0) / 1000,
      notes: ['matrix-free: each product streams the data; diagonal and trace are exact (diagonal engine)'],
    };
    return new MatrixFreeFisher({ mv: fisherProduct(model, lik, data, opts), diag, trace: () => diag().reduce((s, v) => s + v, 0) }, layout, meta);
  }
  const { acc, meta } = computeFisherRaw(model, lik, data, opts);
  return fisherFromAccumulator(acc, layout, meta);
}

/** The FisherMatrix of a scaled accumulator (computeFisher's, or merged shards'). */
export function fisherFromAccumulator(acc: Pick<RawAccumulator, 'diag' | 'blocks' | 'dense' | 'kfac' | 'inputs'>, layout: ParamLayout, meta: FisherMeta): FisherMatrix {
  switch (meta.representation) {
    case 'diag': case 'matfree': return new DiagFisher(acc.diag!, layout, meta);
    case 'block': return new BlockFisher(acc.blocks!, layout, meta);
    case 'dense': return new DenseFisher(acc.dense!, layout, meta);
    default: {
      const sum = meta.scaling === 'sum';
      return new KfacFisher(acc.kfac!.map((k) => ({ form: 'factors' as const, A: k.A, G: k.G, scale: k.positions * (sum ? acc.inputs : 1) })), layout, meta);
    }
  }
}

function computeMetaOnly(model: Sequential, lik: Likelihood, data: Dataset, opts: FisherOptions): FisherMeta {
  const mc = opts.estimator === 'i1' || opts.estimator === 'i2';
  const mode = opts.mode ?? 'joint';
  return {
    estimator: opts.estimator,
    representation: opts.representation,
    likelihood: lik.name,
    labelsPerInput: mc ? opts.labelsPerInput ?? 1 : null,
    numInputs: mode === 'conditional' ? 1 : Math.min(data.length, opts.maxInputs ?? data.length),
    mode,
    seed: mc ? opts.seed ?? 0 : null,
    dtype: model.dtype,
    backend: getBackend().name,
    wallSeconds: 0,
    scaling: opts.scaling ?? 'mean',
    notes: [],
  };
}
