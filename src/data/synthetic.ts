/**
 * Seeded synthetic datasets whose generating distribution is known in closed form, so Fisher
 * estimators can be checked against exact values. Browser-safe. Every generator draws from the
 * project Rng, so a seed gives the same samples on every backend and platform.
 *
 * Regression-type sets share the design x ~ N(0, I_d) with d = theta.length (default
 * theta = (1, 1)) and the linear predictor η = bias + θᵀx (bias default 0):
 * - linear-gaussian: y = η + σ ε, ε ~ N(0, 1), σ = noiseStd (default 1). Target kind 'real'.
 *   Its Fisher information for θ (per sample) is E[x xᵀ] / σ² = I / σ².
 * - logistic: y ~ Bernoulli(σ(η)), σ(t) = 1 / (1 + e^{-t}). Target kind 'class' with two
 *   classes (label 1 is the event). Fisher: E[σ(η)(1 - σ(η)) x xᵀ].
 * - poisson: y ~ Poisson(exp(η)). Target kind 'count'. Fisher: E[exp(η) x xᵀ]; for bias 0,
 *   E[y] = E[exp(θᵀx)] = exp(|θ|² / 2).
 * - blobs: k-class Gaussian blobs, x = μ_c + std · z with z ~ N(0, I_dim). The class of sample
 *   i is i mod k before a random shuffle, so classes are exactly balanced (up to n mod k). The
 *   centres are fixed, not random: μ_c = separation · (cos 2πc/k, sin 2πc/k, 0, ...) for
 *   dim ≥ 2, and μ_c = separation · (c - (k - 1)/2) for dim = 1.
 */
import { type DType, allocArray } from '../core/dtype.js';
import { FimkitError } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import { type Dataset, type DatasetSplit, validateDataset } from './dataset.js';

export interface RegressionSetOptions {
  /** Number of samples (default 1000). */
  n?: number;
  /** True parameter θ (default [1, 1]); its length is the input dimension. */
  theta?: readonly number[];
  /** Intercept added to θᵀx (default 0). */
  bias?: number;
  /** Seed used when no rng is given (default 0). */
  seed?: number | string;
  rng?: Rng;
  /** Inputs and float targets dtype (default 'float64': these sets back closed-form checks). */
  dtype?: DType;
  name?: string;
}

export interface LinearGaussianOptions extends RegressionSetOptions {
  /** Noise standard deviation σ (default 1). */
  noiseStd?: number;
}

export interface BlobsOptions {
  n?: number;
  /** Number of classes (default 3). */
  k?: number;
  /** Input dimension (default 2). */
  dim?: number;
  /** Distance of every centre from the origin (default 3). */
  separation?: number;
  /** Within-class standard deviation (default 1). */
  std?: number;
  seed?: number | string;
  rng?: Rng;
  dtype?: DType;
  name?: string;
}

function positiveInt(v: number, what: string): number {
  if (!Number.isInteger(v) || v < 1) throw new FimkitError('INVALID_ARGUMENT', `${what} must be a positive integer, got ${v}`);
  return v;
}

function finite(v: number, what: string): number {
  if (!Number.isFinite(v)) throw new FimkitError('INVALID_ARGUMENT', `${what} must be finite, got ${v}`);
  return v;
}

/** Draws x ~ N(0, I_d) for each sample, then its target as `target(rng, η)` with η = bias + θᵀx. */
function regressionInputs(
  opts: RegressionSetOptions,
  target: (rng: Rng, eta: number) => number,
  kind: 'real' | 'count' | 'class',
  defaultName: string,
): Dataset {
  const n = positiveInt(opts.n ?? 1000, 'n');
  const theta = [...(opts.theta ?? [1, 1])];
  if (theta.length === 0) throw new FimkitError('INVALID_ARGUMENT', 'theta must have at least one component');
  theta.forEach((t, j) => finite(t, `theta[${j}]`));
  const bias = finite(opts.bias ?? 0, 'bias');
  const d = theta.length;
  const dtype = opts.dtype ?? 'float64';
  const rng = opts.rng ?? new Rng(opts.seed ?? 0);
  const inputs = allocArray(dtype, n * d);
  const targets = kind === 'class' ? new Int32Array(n) : allocArray(dtype, n);
  for (let i = 0; i < n; i++) {
    let eta = bias;
    for (let j = 0; j < d; j++) {
      const x = rng.normal();
      inputs[i * d + j] = x;
      // η uses the stored value so that float32 data is exactly consistent with its targets' law.
      eta += theta[j]! * inputs[i * d + j]!;
    }
    targets[i] = target(rng, eta);
  }
  const base = { name: opts.name ?? defaultName, length: n, inputShape: [d], inputs, targetDim: 1 };
  const ds: Dataset =
    kind === 'class'
      ? { ...base, targetKind: 'class', targets, numClasses: 2, classNames: ['0', '1'] }
      : { ...base, targetKind: kind, targets };
  return validateDataset(ds);
}

export function sigmoid(t: number): number {
  return t >= 0 ? 1 / (1 + Math.exp(-t)) : Math.exp(t) / (1 + Math.exp(t));
}

/** y = bias + θᵀx + σ ε. */
export function linearGaussian(opts: LinearGaussianOptions = {}): Dataset {
  const sd = finite(opts.noiseStd ?? 1, 'noiseStd');
  if (sd < 0) throw new FimkitError('INVALID_ARGUMENT', `noiseStd must be ≥ 0, got ${sd}`);
  return regressionInputs(opts, (rng, eta) => eta + sd * rng.normal(), 'real', 'linear-gaussian');
}

/** y ~ Bernoulli(σ(bias + θᵀx)), as two-class labels. */
export function logistic(opts: RegressionSetOptions = {}): Dataset {
  return regressionInputs(opts, (rng, eta) => rng.bernoulli(sigmoid(eta)), 'class', 'logistic');
}

/** y ~ Poisson(exp(bias + θᵀx)). */
export function poissonCounts(opts: RegressionSetOptions = {}): Dataset {
  return regressionInputs(opts, (rng, eta) => rng.poisson(Math.exp(eta)), 'count', 'poisson');
}

/** Centre of class c (see the module comment). */
export function blobCenter(c: number, k: number, dim: number, separation: number): number[] {
  const mu = new Array<number>(dim).fill(0);
  if (dim === 1) mu[0] = separation * (c - (k - 1) / 2);
  else {
    mu[0] = separation * Math.cos((2 * Math.PI * c) / k);
    mu[1] = separation * Math.sin((2 * Math.PI * c) / k);
  }
  return mu;
}

/** k-class Gaussian blobs with balanced classes. */
export function gaussianBlobs(opts: BlobsOptions = {}): Dataset {
  const n = positiveInt(opts.n ?? 1000, 'n');
  const k = positiveInt(opts.k ?? 3, 'k');
  const dim = positiveInt(opts.dim ?? 2, 'dim');
  const separation = finite(opts.separation ?? 3, 'separation');
  const std = finite(opts.std ?? 1, 'std');
  if (std < 0) throw new FimkitError('INVALID_ARGUMENT', `std must be ≥ 0, got ${std}`);
  const dtype = opts.dtype ?? 'float64';
  const rng = opts.rng ?? new Rng(opts.seed ?? 0);
  const centers = Array.from({ length: k }, (_, c) => blobCenter(c, k, dim, separation));
  const order = rng.permutation(n);
  const inputs = allocArray(dtype, n * dim);
  const targets = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = order[i]! % k;
    targets[i] = c;
    const mu = centers[c]!;
    for (let j = 0; j < dim; j++) inputs[i * dim + j] = mu[j]! + std * rng.normal();
  }
  return validateDataset({
    name: opts.name ?? 'blobs',
    length: n,
    inputShape: [dim],
    inputs,
    targetKind: 'class',
    targets,
    targetDim: 1,
    numClasses: k,
    classNames: Array.from({ length: k }, (_, c) => `blob ${c}`),
  });
}

export const SYNTHETIC_NAMES = ['linear-gaussian', 'logistic', 'poisson', 'blobs'] as const;
export type SyntheticName = (typeof SYNTHETIC_NAMES)[number];

export interface SyntheticSplitOptions extends LinearGaussianOptions {
  /** Test samples (default: n). */
  nTest?: number;
  k?: number;
  dim?: number;
  separation?: number;
  std?: number;
}

/**
 * Train and test sets of a named generator, drawn from independent streams derived from one
 * seed ('train' and 'test'), so the test set does not change when n changes.
 */
export function makeSyntheticSplit(name: string, opts: SyntheticSplitOptions = {}): DatasetSplit {
  const root = opts.rng ?? new Rng(opts.seed ?? 0);
  const n = opts.n ?? 1000;
  const nTest = opts.nTest ?? n;
  const make = (part: 'train' | 'test', count: number): Dataset => {
    const common = { ...opts, n: count, rng: root.derive(part), name: `${name}/${part}` };
    switch (name as SyntheticName) {
      case 'linear-gaussian':
        return linearGaussian(common);
      case 'logistic':
        return logistic(common);
      case 'poisson':
        return poissonCounts(common);
      case 'blobs':
        return gaussianBlobs(common);
      default:
        throw new FimkitError('INVALID_ARGUMENT', `unknown synthetic dataset '${name}' (valid: ${SYNTHETIC_NAMES.join(', ')})`);
    }
  };
  return { train: make('train', n), test: make('test', nTest) };
}
