/**
 * Evaluation of a model on a dataset: mean negative log-likelihood and, for class targets,
 * accuracy. Runs in chunks under noGrad, so memory stays bounded and no graph is recorded.
 */
import { noGrad } from '../autodiff/tape.js';
import { allocArray, type DType } from '../core/dtype.js';
import { fail, shapeStr } from '../core/errors.js';
import { Tensor, sizeOf } from '../core/tensor.js';
import { batchOf, type Dataset } from '../data/dataset.js';
import { BufferScope } from '../core/pool.js';
import type { Likelihood } from '../likelihoods/likelihood.js';
import type { Sequential } from '../nn/sequential.js';

export interface Evaluation {
  /** Mean negative log-likelihood per sample. */
  loss: number;
  /** Fraction of samples whose arg-max output is the label (class targets only, else null). */
  accuracy: number | null;
  count: number;
}

export interface EvaluateOptions {
  /** Samples per forward pass (default 1000). */
  batchSize?: number;
}

/**
 * Whether data of per-sample shape `dataShape` can feed a model expecting `modelShape`: the same
 * shape, or the same number of features when either side is flat (a flattened image).
 */
export function inputShapesCompatible(dataShape: readonly number[], modelShape: readonly number[]): boolean {
  if (dataShape.length === modelShape.length && dataShape.every((d, i) => d === modelShape[i])) return true;
  return (dataShape.length === 1 || modelShape.length === 1) && sizeOf(dataShape) === sizeOf(modelShape);
}

/** Throws a SHAPE error naming both shapes when `ds` cannot feed `model`. */
export function checkInputShape(model: Sequential, ds: Dataset): void {
  if (!inputShapesCompatible(ds.inputShape, model.inputShape)) {
    fail(
      'SHAPE',
      `dataset '${ds.name}' has per-sample input shape ${shapeStr(ds.inputShape)} (${sizeOf(ds.inputShape)} features) ` +
        `but the model expects ${shapeStr(model.inputShape)} (${sizeOf(model.inputShape)} features)`,
    );
  }
}

/** Index of the largest value in row r of a [rows, cols] array (first one on ties). */
function argmaxRow(h: ArrayLike<number>, r: number, cols: number): number {
  let best = 0;
  let bestV = h[r * cols]!;
  for (let c = 1; c < cols; c++) {
    const v = h[r * cols + c]!;
    if (v > bestV) {
      bestV = v;
      best = c;
    }
  }
  return best;
}

export function evaluate(model: Sequential, likelihood: Likelihood, ds: Dataset, opts: EvaluateOptions = {}): Evaluation {
  checkInputShape(model, ds);
  const chunk = opts.batchSize ?? 1000;
  if (!Number.isInteger(chunk) || chunk < 1) fail('INVALID_ARGUMENT', `evaluation batch size must be a positive integer, got ${chunk}`);
  const n = ds.length;
  if (n === 0) return { loss: NaN, accuracy: null, count: 0 };
  const T = model.outputDim;
  const dtype: DType = model.dtype;
  const isClass = ds.targetKind === 'class';
  const cap = Math.min(chunk, n);
  const idx = new Uint32Array(cap);
  const buffers = {
    inputs: allocArray(dtype, cap * sizeOf(ds.inputShape)),
    targets: isClass ? new Int32Array(cap) : allocArray(dtype, cap * ds.targetDim),
  };
  let nllSum = 0;
  let correct = 0;
  const scope = new BufferScope();
  noGrad(() => {
    for (let start = 0; start < n; start += chunk, scope.recycle()) {
      const b = Math.min(chunk, n - start);
      const ids = idx.subarray(0, b);
      for (let r = 0; r < b; r++) ids[r] = start + r;
      const batch = batchOf(ds, ids, dtype, buffers);
      const x = new Tensor(batch.inputs, [b, sizeOf(ds.inputShape)]);
      const h = scope.run(() => model.forward(x, { training: false }));
      const logp = likelihood.logProbValues(h.data, batch.targets, b, T);
      for (let r = 0; r < b; r++) nllSum -= logp[r]!;
      if (isClass) {
        const labels = batch.targets as Int32Array;
        for (let r = 0; r < b; r++) if (argmaxRow(h.data, r, T) === labels[r]) correct++;
      }
    }
  });
  return { loss: nllSum / n, accuracy: isClass ? correct / n : null, count: n };
}
