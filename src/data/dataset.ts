/**
 * The in-memory dataset every trainer and Fisher estimator consumes, and the small helpers that
 * act on it. Browser-safe: no Node imports here.
 *
 * Layout: `inputs` holds N samples back to back (sample-major, each sample row-major in
 * `inputShape`); `targets` holds one Int32 class label per sample for 'class', otherwise
 * N * targetDim floats.
 */
import { type DType, type FloatArray, allocArray, checkDType } from '../core/dtype.js';
import { FimkitError, shapeStr } from '../core/errors.js';
import type { Rng } from '../core/rng.js';

export type TargetKind = 'class' | 'real' | 'count' | 'multilabel';

export interface Dataset {
  readonly name: string;
  /** N samples. */
  readonly length: number;
  /** Per-sample shape, e.g. [784] or [1, 28, 28]. */
  readonly inputShape: readonly number[];
  /** N * prod(inputShape), row-major, sample-major. */
  readonly inputs: Float32Array | Float64Array;
  readonly targetKind: TargetKind;
  /** class: Int32Array[N]; real/count/multilabel: N * targetDim. */
  readonly targets: Int32Array | Float32Array | Float64Array;
  /** 1 for class labels. */
  readonly targetDim: number;
  /** For 'class'. */
  readonly numClasses?: number;
  readonly classNames?: readonly string[];
}

export interface DatasetSplit {
  train: Dataset;
  test: Dataset;
}

export const TARGET_KINDS: readonly TargetKind[] = ['class', 'real', 'count', 'multilabel'];

/**
 * Public entry points taking a dataset start with this structural check (O(1), unlike
 * validateDataset's scan of every value): a plain `{}` or a tensor gets an error naming the
 * missing field instead of a TypeError deep inside.
 */
export function checkDatasetArg(who: string, ds: unknown, what = 'data'): asserts ds is Dataset {
  const shape = 'a Dataset { name, length, inputShape, inputs, targetKind, targets, targetDim }';
  if (ds === null || typeof ds !== 'object' || Array.isArray(ds)) {
    throw new FimkitError('INVALID_ARGUMENT', `${who}: ${what} must be ${shape}, got ${ds === null ? 'null' : Array.isArray(ds) ? 'an array' : typeof ds}`);
  }
  const d = ds as Record<string, unknown>;
  const bad = (field: string, want: string): never => {
    throw new FimkitError('INVALID_ARGUMENT', `${who}: ${what} is not ${shape}: '${field}' ${d[field] === undefined ? 'is missing' : `must be ${want}`}`);
  };
  if (!Number.isSafeInteger(d['length']) || (d['length'] as number) < 0) bad('length', 'an integer ≥ 0');
  if (!Array.isArray(d['inputShape'])) bad('inputShape', 'an array of positive integers');
  if (!(d['inputs'] instanceof Float32Array || d['inputs'] instanceof Float64Array)) bad('inputs', 'a Float32Array or Float64Array');
  if (!TARGET_KINDS.includes(d['targetKind'] as TargetKind)) bad('targetKind', `one of ${TARGET_KINDS.join(', ')}`);
  if (!(d['targets'] instanceof Int32Array || d['targets'] instanceof Float32Array || d['targets'] instanceof Float64Array)) bad('targets', 'an Int32Array, Float32Array or Float64Array');
  if (!Number.isSafeInteger(d['targetDim']) || (d['targetDim'] as number) < 1) bad('targetDim', 'a positive integer');
}

/** Largest finite float32. */
const FLOAT32_MAX = 3.4028234663852886e38;

/**
 * Inputs that overflow the model's dtype (|x| > 3.4e38 for float32) would become ±Infinity in
 * every batch and look like divergence: refused before work, naming the sample, the feature,
 * the value and the dtype.
 */
export function checkInputsFitDType(ds: Dataset, dtype: DType): void {
  if (dtype !== 'float32' || ds.inputs instanceof Float32Array) return;
  const D = featureCount(ds);
  const x = ds.inputs;
  for (let i = 0; i < x.length; i++) {
    if (Math.abs(x[i]!) > FLOAT32_MAX) {
      throw new FimkitError('NON_FINITE', `dataset '${ds.name}': sample ${Math.floor(i / D)}, ${describeFeature(ds.inputShape, i % D)} is ${x[i]}, which overflows float32 (largest ${FLOAT32_MAX.toExponential(4)}); rescale the data or use --dtype float64`);
    }
  }
}

/** Number of input features per sample: the product of `inputShape`. */
export function featureCount(ds: Pick<Dataset, 'inputShape'>): number {
  let p = 1;
  for (const d of ds.inputShape) p *= d;
  return p;
}

/** Position of flat feature `j` inside `shape`, e.g. [0, 3, 17] for an image pixel. */
function featureCoords(shape: readonly number[], j: number): number[] {
  const coords = new Array<number>(shape.length).fill(0);
  for (let a = shape.length - 1; a >= 0; a--) {
    const d = shape[a]!;
    coords[a] = j % d;
    j = Math.floor(j / d);
  }
  return coords;
}

function describeFeature(shape: readonly number[], j: number): string {
  return shape.length <= 1 ? `feature ${j}` : `feature ${j} (position ${shapeStr(featureCoords(shape, j))})`;
}

/**
 * Checks every invariant of the contract and throws a FimkitError naming the first violation:
 * SHAPE for inconsistent lengths, NON_FINITE for a NaN/Inf input or target, LABEL_RANGE for a
 * class label, count or multilabel value outside its domain. Returns `ds` so calls can chain.
 */
export function validateDataset<T extends Dataset>(ds: T): T {
  const where = `dataset '${ds.name}'`;
  if (!Number.isInteger(ds.length) || ds.length < 0) {
    throw new FimkitError('SHAPE', `${where}: length must be a non-negative integer, got ${ds.length}`);
  }
  if (ds.inputShape.length === 0 || ds.inputShape.some((d) => !Number.isInteger(d) || d < 1)) {
    throw new FimkitError('SHAPE', `${where}: inputShape must be a non-empty list of positive integers, got ${shapeStr(ds.inputShape)}`);
  }
  if (!(ds.inputs instanceof Float32Array || ds.inputs instanceof Float64Array)) {
    throw new FimkitError('DTYPE', `${where}: inputs must be a Float32Array or Float64Array`);
  }
  const D = featureCount(ds);
  if (ds.inputs.length !== ds.length * D) {
    throw new FimkitError(
      'SHAPE',
      `${where}: inputs has ${ds.inputs.length} values but length ${ds.length} × inputShape ${shapeStr(ds.inputShape)} needs ${ds.length * D}`,
    );
  }
  if (!TARGET_KINDS.includes(ds.targetKind)) {
    throw new FimkitError('INVALID_ARGUMENT', `${where}: targetKind must be one of ${TARGET_KINDS.join(', ')}, got '${String(ds.targetKind)}'`);
  }
  if (!Number.isInteger(ds.targetDim) || ds.targetDim < 1) {
    throw new FimkitError('SHAPE', `${where}: targetDim must be a positive integer, got ${ds.targetDim}`);
  }

  const x = ds.inputs;
  for (let k = 0; k < x.length; k++) {
    const v = x[k]!;
    // v - v is NaN exactly for NaN and ±Inf; cheaper than Number.isFinite in this hot loop.
    if (v - v !== 0) {
      const i = Math.floor(k / D);
      throw new FimkitError('NON_FINITE', `${where}: input of sample ${i}, ${describeFeature(ds.inputShape, k - i * D)} is ${v}`);
    }
  }

  const t = ds.targets;
  if (ds.targetKind === 'class') {
    if (!(t instanceof Int32Array)) {
      throw new FimkitError('DTYPE', `${where}: class targets must be an Int32Array, got ${t.constructor.name}`);
    }
    if (ds.targetDim !== 1) throw new FimkitError('SHAPE', `${where}: class targets need targetDim 1, got ${ds.targetDim}`);
    if (t.length !== ds.length) {
      throw new FimkitError('SHAPE', `${where}: ${t.length} class labels for ${ds.length} samples`);
    }
    const C = ds.numClasses;
    if (C === undefined || !Number.isInteger(C) || C < 1) {
      throw new FimkitError('INVALID_ARGUMENT', `${where}: class targets need numClasses ≥ 1, got ${C}`);
    }
    if (ds.classNames !== undefined && ds.classNames.length !== C) {
      throw new FimkitError('SHAPE', `${where}: ${ds.classNames.length} class names for numClasses ${C}`);
    }
    for (let i = 0; i < t.length; i++) {
      const c = t[i]!;
      if (c < 0 || c >= C) {
        throw new FimkitError('LABEL_RANGE', `${where}: label of sample ${i} is ${c}, outside [0, ${C})`);
      }
    }
    return ds;
  }

  if (!(t instanceof Float32Array || t instanceof Float64Array)) {
    throw new FimkitError('DTYPE', `${where}: ${ds.targetKind} targets must be a Float32Array or Float64Array, got ${t.constructor.name}`);
  }
  if (t.length !== ds.length * ds.targetDim) {
    throw new FimkitError(
      'SHAPE',
      `${where}: targets has ${t.length} values but length ${ds.length} × targetDim ${ds.targetDim} needs ${ds.length * ds.targetDim}`,
    );
  }
  const K = ds.targetDim;
  for (let k = 0; k < t.length; k++) {
    const v = t[k]!;
    const i = Math.floor(k / K);
    const comp = K === 1 ? '' : `, component ${k - i * K}`;
    if (v - v !== 0) throw new FimkitError('NON_FINITE', `${where}: target of sample ${i}${comp} is ${v}`);
    if (ds.targetKind === 'count' && (v < 0 || !Number.isInteger(v))) {
      throw new FimkitError('LABEL_RANGE', `${where}: count target of sample ${i}${comp} is ${v}, not a non-negative integer`);
    }
    if (ds.targetKind === 'multilabel' && v !== 0 && v !== 1) {
      throw new FimkitError('LABEL_RANGE', `${where}: multilabel target of sample ${i}${comp} is ${v}, not 0 or 1`);
    }
  }
  return ds;
}

function checkIndex(ds: Dataset, idx: number, pos: number): void {
  if (!Number.isInteger(idx) || idx < 0 || idx >= ds.length) {
    throw new FimkitError('INVALID_ARGUMENT', `dataset '${ds.name}': index ${idx} at position ${pos} is outside [0, ${ds.length})`);
  }
}

function sameKindTargets(t: Dataset['targets'], n: number): Dataset['targets'] {
  if (t instanceof Int32Array) return new Int32Array(n);
  if (t instanceof Float32Array) return new Float32Array(n);
  return new Float64Array(n);
}

/** A new dataset holding copies of the samples at `indices`, in that order (repeats allowed). */
export function subset(ds: Dataset, indices: ArrayLike<number>, name = ds.name): Dataset {
  const n = indices.length;
  const D = featureCount(ds);
  const K = ds.targetDim;
  const inputs = allocArray(ds.inputs instanceof Float32Array ? 'float32' : 'float64', n * D);
  const targets = sameKindTargets(ds.targets, n * K);
  for (let r = 0; r < n; r++) {
    const i = indices[r]!;
    checkIndex(ds, i, r);
    inputs.set(ds.inputs.subarray(i * D, (i + 1) * D), r * D);
    targets.set(ds.targets.subarray(i * K, (i + 1) * K), r * K);
  }
  return { ...ds, name, length: n, inputs, targets };
}

/**
 * The dataset with inputs (and real/count/multilabel targets) stored in `dtype`. Class labels
 * stay Int32. Returns `ds` itself when nothing needs converting.
 */
export function toDType(ds: Dataset, dtype: DType): Dataset {
  checkDType(dtype, 'toDType: dtype');
  const want = dtype === 'float32' ? Float32Array : Float64Array;
  const inputsOk = ds.inputs instanceof want;
  const targetsOk = ds.targets instanceof Int32Array || ds.targets instanceof want;
  if (inputsOk && targetsOk) return ds;
  const inputs = inputsOk ? ds.inputs : allocArray(dtype, ds.inputs.length);
  if (!inputsOk) inputs.set(ds.inputs);
  let targets = ds.targets;
  if (!targetsOk) {
    targets = allocArray(dtype, ds.targets.length);
    targets.set(ds.targets);
  }
  return { ...ds, inputs, targets };
}

/** A view of the same data under another per-sample shape with the same number of features. */
export function reshapeInputs(ds: Dataset, inputShape: readonly number[]): Dataset {
  const next = { ...ds, inputShape: [...inputShape] };
  if (featureCount(next) !== featureCount(ds)) {
    throw new FimkitError('SHAPE', `dataset '${ds.name}': cannot reshape samples of ${shapeStr(ds.inputShape)} to ${shapeStr(inputShape)}`);
  }
  return next;
}

export interface Batch {
  /** batchSize * prod(inputShape) values in the requested dtype. */
  inputs: FloatArray;
  /** Int32 class labels, or batchSize * targetDim floats in the requested dtype. */
  targets: Int32Array | FloatArray;
  batchSize: number;
}

/** Reusable output arrays for `batchOf`; a longer array is used through a view of its front. */
export interface BatchBuffers {
  inputs?: FloatArray;
  targets?: Int32Array | FloatArray;
}

/**
 * Gathers the samples at `indices` into a minibatch. Pass `out` (arrays of the right dtype and
 * at least the needed length, e.g. from a previous call) to gather without allocating the data
 * arrays; the trainer calls this once per step. With `readOnly`, consecutive rows already stored
 * in `dtype` come back as views into the data set (the caller must not write to them).
 */
export function batchOf(ds: Dataset, indices: ArrayLike<number>, dtype: DType, out?: BatchBuffers, readOnly = false): Batch {
  const B = indices.length;
  const D = featureCount(ds);
  const K = ds.targetDim;
  const isClass = ds.targetKind === 'class';
  if (readOnly && !out) {
    const view = contiguousView(ds, indices, dtype, D, K);
    if (view) return view;
  }
  const inputs = takeBuffer(out?.inputs, dtype, B * D, 'inputs');
  const targets = isClass ? takeLabelBuffer(out?.targets, B) : takeBuffer(out?.targets, dtype, B * K, 'targets');
  const src = ds.inputs;
  const tsrc = ds.targets;
  for (let r = 0; r < B; r++) {
    const i = indices[r]!;
    if (!(i >= 0 && i < ds.length) || (i | 0) !== i) checkIndex(ds, i, r);
    // Per-element copy: it converts between dtypes and avoids the view objects `set(subarray)` allocates.
    const so = i * D;
    const dofs = r * D;
    for (let j = 0; j < D; j++) inputs[dofs + j] = src[so + j]!;
    const to = i * K;
    const tofs = r * K;
    for (let j = 0; j < K; j++) targets[tofs + j] = tsrc[to + j]!;
  }
  return { inputs, targets, batchSize: B };
}

/**
 * Views into the data set (no copy) when the rows are consecutive, in range, and already stored
 * in the requested dtype (class labels as Int32Array): only for callers that do not write.
 */
function contiguousView(ds: Dataset, indices: ArrayLike<number>, dtype: DType, D: number, K: number): Batch | null {
  const B = indices.length;
  if (B === 0) return null;
  const first = indices[0]!;
  if (!Number.isInteger(first) || first < 0 || first + B > ds.length) return null;
  for (let r = 1; r < B; r++) if (indices[r] !== first + r) return null;
  const want = dtype === 'float32' ? Float32Array : Float64Array;
  if (!(ds.inputs instanceof want)) return null;
  const labelsOk = ds.targetKind === 'class' ? ds.targets instanceof Int32Array : ds.targets instanceof want;
  if (!labelsOk) return null;
  return {
    inputs: (ds.inputs as FloatArray).subarray(first * D, (first + B) * D),
    targets: (ds.targets as Int32Array | FloatArray).subarray(first * K, (first + B) * K),
    batchSize: B,
  };
}

function takeBuffer(buf: Int32Array | FloatArray | undefined, dtype: DType, n: number, what: string): FloatArray {
  if (buf === undefined) return allocArray(dtype, n);
  const want = dtype === 'float32' ? Float32Array : Float64Array;
  if (!(buf instanceof want)) {
    throw new FimkitError('DTYPE', `batchOf: preallocated ${what} is a ${buf.constructor.name}, expected ${want.name} for dtype ${dtype}`);
  }
  if (buf.length < n) throw new FimkitError('SHAPE', `batchOf: preallocated ${what} holds ${buf.length} values, the batch needs ${n}`);
  return buf.length === n ? buf : buf.subarray(0, n);
}

function takeLabelBuffer(buf: Int32Array | FloatArray | undefined, n: number): Int32Array {
  if (buf === undefined) return new Int32Array(n);
  if (!(buf instanceof Int32Array)) {
    throw new FimkitError('DTYPE', `batchOf: preallocated class targets must be an Int32Array, got ${buf.constructor.name}`);
  }
  if (buf.length < n) throw new FimkitError('SHAPE', `batchOf: preallocated targets hold ${buf.length} labels, the batch needs ${n}`);
  return buf.length === n ? buf : buf.subarray(0, n);
}

/**
 * Random train/test split: a uniformly random `testFraction` of the samples (rounded to the
 * nearest count, at least one of each when N ≥ 2) goes to test. Each part keeps the original
 * sample order, so the split is a reproducible function of the rng's seed.
 */
export function splitTrainTest(ds: Dataset, testFraction: number, rng: Rng): DatasetSplit {
  if (!(testFraction > 0 && testFraction < 1)) {
    throw new FimkitError('INVALID_ARGUMENT', `splitTrainTest: testFraction must be in (0, 1), got ${testFraction}`);
  }
  if (ds.length < 2) throw new FimkitError('SHAPE', `splitTrainTest: dataset '${ds.name}' has ${ds.length} samples, need at least 2`);
  const nTest = Math.min(ds.length - 1, Math.max(1, Math.round(ds.length * testFraction)));
  const perm = rng.permutation(ds.length);
  const testIdx = perm.slice(0, nTest).sort();
  const trainIdx = perm.slice(nTest).sort();
  return { train: subset(ds, trainIdx, `${ds.name}/train`), test: subset(ds, testIdx, `${ds.name}/test`) };
}

/** Number of samples of each class (class datasets only). */
export function classCounts(ds: Dataset): number[] {
  if (ds.targetKind !== 'class' || ds.numClasses === undefined) {
    throw new FimkitError('INVALID_ARGUMENT', `classCounts: dataset '${ds.name}' has ${ds.targetKind} targets, not class labels`);
  }
  const counts = new Array<number>(ds.numClasses).fill(0);
  for (let i = 0; i < ds.length; i++) counts[ds.targets[i]!]!++;
  return counts;
}

export interface InputStats {
  mean: number;
  std: number;
}

/** Mean and standard deviation over all input values (one scalar pair, as for images). */
export function inputStats(ds: Dataset): InputStats {
  const x = ds.inputs;
  if (x.length === 0) throw new FimkitError('SHAPE', `inputStats: dataset '${ds.name}' is empty`);
  let s = 0;
  for (let k = 0; k < x.length; k++) s += x[k]!;
  const mean = s / x.length;
  // Second pass on centred values: the one-pass formula loses digits when |mean| ≫ std.
  let ss = 0;
  for (let k = 0; k < x.length; k++) {
    const d = x[k]! - mean;
    ss += d * d;
  }
  return { mean, std: Math.sqrt(ss / x.length) };
}

/** The dataset with inputs replaced by (x - mean) / std, in the same dtype. */
export function standardizeInputs(ds: Dataset, stats: InputStats): Dataset {
  if (!(stats.std > 0) || !Number.isFinite(stats.mean)) {
    throw new FimkitError('INVALID_ARGUMENT', `standardizeInputs: need finite mean and std > 0, got mean ${stats.mean}, std ${stats.std}`);
  }
  const inputs = allocArray(ds.inputs instanceof Float32Array ? 'float32' : 'float64', ds.inputs.length);
  const inv = 1 / stats.std;
  for (let k = 0; k < inputs.length; k++) inputs[k] = (ds.inputs[k]! - stats.mean) * inv;
  return { ...ds, inputs };
}
