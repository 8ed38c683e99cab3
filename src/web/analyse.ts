/**
 * What the explorer page computes, as plain functions over the library (browser-safe: the Web
 * Worker runs them on the wasm backend, and the Playwright test runs them in Node to check the
 * numbers the page shows). Per layer: the exact Fisher diagonal (shaped like the weights, for the
 * heatmaps), the KFAC factor spectra, and at one input the single-label variances V1, V2 with
 * their lower/upper bounds and the estimator recommendation for an accuracy (ε, δ).
 */
import { fail } from '../core/errors.js';
import { Tensor, sizeOf } from '../core/tensor.js';
import { batchOf, type Dataset } from '../data/dataset.js';
import { parseIdx } from '../data/idx.js';
import { parseCsv } from '../data/tabular.js';
import { computeFisher } from '../fisher/compute.js';
import type { KfacFisher } from '../fisher/kfac.js';
import { symmetricEigen } from '../fisher/linalg.js';
import { layoutOf } from '../fisher/layout.js';
import { makeLikelihood, likelihoodNameFor, type Likelihood } from '../likelihoods/index.js';
import type { Sequential } from '../nn/sequential.js';
import type { ImportedModel } from '../nn/import/common.js';
import { varianceBounds } from '../variance/bounds.js';
import { inputVariances } from '../variance/conditional.js';
import { statsFromInputs, type SampleStats } from '../variance/complexity.js';
import { recommendEstimators } from '../variance/recommend.js';

export const FASHION_MNIST_CLASSES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];

/** A Fashion-MNIST split from its (decompressed) IDX image and label bytes: pixels / 255, [1, 28, 28]. */
export function datasetFromIdx(images: Uint8Array, labels: Uint8Array, name = 'embedded-fashion-mnist/test'): Dataset {
  const img = parseIdx(images, { source: `${name} images` });
  const lab = parseIdx(labels, { source: `${name} labels` });
  if (img.type !== 'uint8' || img.dims.length !== 3 || lab.type !== 'uint8' || lab.dims[0] !== img.dims[0]) {
    fail('SHAPE', `${name}: expected uint8 images [N, rows, cols] and N uint8 labels, got [${img.dims.join(', ')}] and [${lab.dims.join(', ')}]`);
  }
  const n = img.dims[0]!;
  const inputs = new Float32Array(img.data.length);
  for (let i = 0; i < inputs.length; i++) inputs[i] = (img.data[i] as number) / 255;
  const targets = Int32Array.from(lab.data as ArrayLike<number>);
  return { name, length: n, inputShape: [1, img.dims[1]!, img.dims[2]!], inputs, targetKind: 'class', targets, targetDim: 1, numClasses: 10, classNames: FASHION_MNIST_CLASSES };
}

/** A CSV data set (header row; the last column, or one named label/class/target, holds the class). */
export function datasetFromCsv(text: string, name = 'csv'): Dataset {
  return parseCsv(text, {}, name);
}

/** The data with the model's per-sample shape (same feature count, else a SHAPE error naming both). */
export function dataForModel(imp: ImportedModel, data: Dataset): Dataset {
  const per = sizeOf(imp.model.inputShape);
  const have = sizeOf(data.inputShape);
  if (per !== have) {
    fail('SHAPE', `the data has ${have} features per sample (shape [${data.inputShape.join(', ')}]) but the model expects ${per} (shape [${imp.model.inputShape.join(', ')}])`);
  }
  return { ...data, inputShape: imp.model.inputShape };
}

export interface LayerResult {
  label: string;
  type: string;
  /** The exact Fisher diagonal per parameter, in the parameter's shape. */
  params: { name: string; shape: number[]; diag: number[] }[];
  /** Eigenvalues (descending) of the KFAC factors A (inputs) and G (output gradients). */
  kfac: { a: number[]; g: number[] } | null;
  /** Means over the layer at the chosen input (single label): FIM, V1, V2 and their bounds. */
  variance: { fim: number; v1: number; v2: number; v1Lower: number; v1Upper: number; v2Lower: number; v2Upper: number } | null;
  recommendation: { recommended: string; labelsI1: number; labelsI2: number; reason: string } | null;
}

export interface AnalysisRequest {
  inputs: number;
  batchSize?: number;
  kfac?: boolean;
  variance?: boolean;
  inputIndex?: number;
  epsilon?: number;
  delta?: number;
}

export interface AnalysisResult {
  likelihood: string;
  numInputs: number;
  numParams: number;
  seconds: { diag: number; kfac: number; variance: number };
  layers: LayerResult[];
}

function likelihoodFor(imp: ImportedModel, data: Dataset): Likelihood {
  return makeLikelihood(imp.likelihood ?? likelihoodNameFor(data.targetKind));
}

function firstN(data: Dataset, n: number): Dataset {
  if (n >= data.length) return data;
  const per = sizeOf(data.inputShape);
  return { ...data, length: n, inputs: data.inputs.subarray(0, n * per), targets: data.targets.subarray(0, n * data.targetDim) };
}

/** The exact Fisher diagonal over the first `inputs` samples (mean scaling), per parameter. */
export function exactDiagonal(model: Sequential, lik: Likelihood, data: Dataset, inputs: number, batchSize = 128, onProgress?: (done: number, total: number) => void): Float64Array {
  const f = computeFisher(model, lik, firstN(data, inputs), { estimator: 'exact', representation: 'diag', batchSize, ...(onProgress ? { onProgress } : {}) });
  return f.diag();
}

/** Every view of the page, computed in order with progress (fraction of the whole job). */
export function analyse(imp: ImportedModel, dataIn: Dataset, req: AnalysisRequest, progress: (fraction: number, stage: string) => void = () => {}): AnalysisResult {
  const data = dataForModel(imp, dataIn);
  const model = imp.model;
  const lik = likelihoodFor(imp, data);
  const n = Math.min(req.inputs, data.length);
  if (!(n >= 1)) fail('INVALID_ARGUMENT', `number of inputs must be at least 1, got ${req.inputs}`);
  const layout = layoutOf(model);
  const share = { diag: 0.6, kfac: req.kfac === false ? 0 : 0.3, variance: req.variance === false ? 0 : 0.1 };
  const t0 = performance.now();
  const diag = exactDiagonal(model, lik, data, n, req.batchSize, (d, t) => progress(share.diag * (d / t), `exact diagonal: ${d}/${t} inputs`));
  const t1 = performance.now();
  let kfac: KfacFisher | null = null;
  if (req.kfac !== false) {
    kfac = computeFisher(model, lik, firstN(data, n), {
      estimator: 'exact', representation: 'kfac', batchSize: req.batchSize ?? 128,
      onProgress: (d, t) => progress(share.diag + share.kfac * (d / t), `KFAC factors: ${d}/${t} inputs`),
    }) as KfacFisher;
  }
  const t2 = performance.now();
  let variance: { stats: SampleStats; bounds: ReturnType<typeof varianceBounds>['diagonal']; iv: ReturnType<typeof inputVariances>[number] } | null = null;
  if (req.variance !== false) {
    progress(share.diag + share.kfac, 'variances at one input');
    const idx = req.inputIndex ?? 0;
    if (!(idx >= 0 && idx < data.length)) fail('INVALID_ARGUMENT', `input index ${idx} is outside the data (${data.length} samples)`);
    const batch = batchOf(data, Uint32Array.of(idx), model.dtype);
    const iv = inputVariances(model, lik, new Tensor(batch.inputs, [1, sizeOf(model.inputShape)]))[0]!;
    variance = { stats: statsFromInputs([iv], lik), bounds: varianceBounds(lik, iv.h, iv.J, iv.H, 1).diagonal, iv };
  }
  const rec = variance ? recommendEstimators(model, lik, variance.stats, { accuracy: { epsilon: req.epsilon ?? 0.1, delta: req.delta ?? 0.05 } }) : null;
  const t3 = performance.now();
  const mean = (a: ArrayLike<number>, off: number, len: number): number => {
    let s = 0;
    for (let i = off; i < off + len; i++) s += a[i]!;
    return s / len;
  };
  const layers: LayerResult[] = layout.groups.map((g, gi) => {
    let off = g.offset;
    const params = g.params.map((p) => {
      const size = p.shape.reduce((a, b) => a * b, 1);
      const out = { name: p.name, shape: [...p.shape], diag: Array.from(diag.subarray(off, off + size)) };
      off += size;
      return out;
    });
    let k: LayerResult['kfac'] = null;
    if (kfac) {
      const f = kfac.factors(gi);
      if (f.form !== 'eigen') {
        const na = Math.round(Math.sqrt(f.A.length));
        const no = Math.round(Math.sqrt(f.G.length));
        const s = f.scale ?? 1;
        k = { a: Array.from(symmetricEigen(f.A, na).values).reverse().map((v) => v * s), g: Array.from(symmetricEigen(f.G, no).values).reverse() };
      }
    }
    let v: LayerResult['variance'] = null;
    let r: LayerResult['recommendation'] = null;
    if (variance) {
      const b = variance.bounds;
      v = {
        fim: mean(variance.iv.fim, g.offset, g.size), v1: mean(variance.iv.v1, g.offset, g.size), v2: mean(variance.iv.v2, g.offset, g.size),
        v1Lower: mean(b.v1Lower, g.offset, g.size), v1Upper: mean(b.v1Upper, g.offset, g.size),
        v2Lower: mean(b.v2Lower, g.offset, g.size), v2Upper: mean(b.v2Upper, g.offset, g.size),
      };
    }
    if (rec) {
      const l = rec.layers[gi]!;
      r = { recommended: l.recommended, labelsI1: l.labels.i1, labelsI2: l.labels.i2, reason: l.reason };
    }
    return { label: g.label, type: g.type, params, kfac: k, variance: v, recommendation: r };
  });
  progress(1, 'done');
  return {
    likelihood: lik.name, numInputs: n, numParams: model.numParams(),
    seconds: { diag: (t1 - t0) / 1000, kfac: (t2 - t1) / 1000, variance: (t3 - t2) / 1000 },
    layers,
  };
}

/** Labels per input each estimator needs for (ε, δ), per layer, from the statistics at one input. */
export function sampleSizes(imp: ImportedModel, dataIn: Dataset, inputIndex: number, epsilon: number, delta: number): { label: string; i1: number; i2: number; recommended: string }[] {
  const data = dataForModel(imp, dataIn);
  const lik = likelihoodFor(imp, data);
  const batch = batchOf(data, Uint32Array.of(inputIndex), imp.model.dtype);
  const iv = inputVariances(imp.model, lik, new Tensor(batch.inputs, [1, sizeOf(imp.model.inputShape)]))[0]!;
  const rec = recommendEstimators(imp.model, lik, statsFromInputs([iv], lik), { accuracy: { epsilon, delta } });
  return rec.layers.map((l) => ({ label: l.label, i1: l.labels.i1, i2: l.labels.i2, recommended: l.recommended }));
}
