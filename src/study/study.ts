/**
 * `fimkit study`: reproduces the experiments of "Trade-Offs of Diagonal Fisher Information Matrix
 * Estimators":
 *   - a 4-layer sigmoid MLP with a dropout layer trained on (Fashion-)MNIST; after every epoch,
 *     at one test input, per layer: the mean FIM diagonal, the standard deviations of Î1 and Î2
 *     (closed form and from sampled labels), the Theorem 4.1 upper bounds and log(UB/V);
 *   - the 5-layer log-sigmoid variant;
 *   - the 2-D natural-gradient toy (linear and logistic regression, Î1 vs Î2).
 * and checks each of the paper's stated findings against the run.
 *
 * The paper does not give the widths, dropout rate, optimiser or learning rate; the choices here
 * are in `STUDY_ARCHITECTURES` and the options (default Adam, lr 1e-3, batch 128, dropout 0.2
 * after the first hidden layer), and are recorded in the results. Besides the paper's one-input
 * measurement, every epoch also records the layer means averaged over several test inputs and the
 * mean largest softmax probability on the test split (how confident the network is), because the
 * variances vanish only where p(y|x) saturates. The verdicts and their criteria are in verdicts.ts.
 */
import { fail } from '../core/errors.js';
import { checkOptions } from '../core/options.js';
import { Rng } from '../core/rng.js';
import { Tensor, sizeOf } from '../core/tensor.js';
import { subset, type Dataset, type DatasetSplit } from '../data/dataset.js';
import { makeLikelihood } from '../likelihoods/index.js';
import type { OptimizerConfig } from '../optim/index.js';
import { noGrad } from '../autodiff/tape.js';
import type { ActivationName, LayerSpec } from '../nn/layers.js';
import { buildModel, type ModelSpec, type Sequential } from '../nn/sequential.js';
import type { Likelihood } from '../likelihoods/likelihood.js';
import { layoutOf } from '../fisher/layout.js';
import { inputVariances } from '../variance/conditional.js';
import { train } from '../train/trainer.js';
import { layerStatistics, type LayerStat, type UpperBounds } from './layer-stats.js';
import { runToy, type ToyCurve } from './toy-ngd.js';
import {
  boundsHold, earlyDynamics, firstLayersV1BelowV2, lastLayerLargestV1, lastLayerV2Zero, layer1BoundTightness,
  logSigmoidVanishes, toyI1LessStable, toyLowerVariance, verdict, type Finding,
} from './verdicts.js';

export type { Finding } from './verdicts.js';

export interface StudyOptions {
  quick?: boolean;
  /** Epochs of MNIST training (default 20, quick 3). */
  epochs?: number;
  /** Training samples used (default all, quick 6000). */
  trainLimit?: number;
  /** Labels sampled at the test input for the measured variances (default 5000, quick 1000). */
  sampledLabels?: number;
  /** Toy epochs (default 256, quick 32). */
  toyEpochs?: number;
  seed?: number;
  /** Per-parameter upper bounds (Theorem 4.1). */
  bounds?: UpperBounds;
  /** Override the MLPs (tests use small ones). */
  architectures?: typeof STUDY_ARCHITECTURES;
  /** Optimiser of the MLPs (default Adam, lr 1e-3). */
  optimizer?: OptimizerConfig;
  /** Dropout after the first hidden layer (default 0.2; 0: none). */
  dropout?: number;
  /** Minibatch size (default 128). */
  batchSize?: number;
  /** Test inputs the input-averaged layer statistics are taken over (default 16, quick 8; 0: none). */
  averageInputs?: number;
  /** Describes the data in the report (which data, how it relates to the paper's). */
  dataNote?: string;
  /** Progress messages. */
  log?: (line: string) => void;
}

/** Per-layer means averaged over several test inputs (the layer means at each, then their mean). */
export interface AveragedLayerStat {
  label: string;
  fim: number;
  v1: number;
  v2: number;
}

export interface EpochRecord {
  epoch: number;
  testAccuracy: number | null;
  testLoss: number | null;
  /** Statistics at the one measured test input (as the paper). */
  layers: LayerStat[];
  /** The same means averaged over `averageInputs` test inputs; empty when none. */
  averaged: AveragedLayerStat[];
  /** Mean over the test split of max_y p(y|x): 0.1 is uniform over 10 classes, 1 saturated. */
  meanMaxSoftmax: number;
  /** max_y p(y|x) at the measured test input. */
  maxSoftmaxAtInput: number;
}

export interface MlpExperiment {
  name: string;
  activation: ActivationName;
  widths: number[];
  dropout: number;
  optimizer: OptimizerConfig;
  testInputIndex: number;
  averagedInputIndices: number[];
  epochs: EpochRecord[];
  seconds: number;
}

export interface StudyResult {
  config: Record<string, unknown>;
  data: { name: string; train: number; test: number; note: string };
  experiments: MlpExperiment[];
  toy: ToyCurve[];
  findings: Finding[];
  seconds: number;
}

export const STUDY_ARCHITECTURES: { name: string; activation: ActivationName; hidden: number[] }[] = [
  { name: '4-layer sigmoid MLP', activation: 'sigmoid', hidden: [128, 64, 32] },
  { name: '5-layer log-sigmoid MLP', activation: 'log-sigmoid', hidden: [128, 64, 32, 16] },
];

function mlpWithDropout(inputShape: number[], hidden: number[], classes: number, act: ActivationName, p: number): ModelSpec {
  const layers: LayerSpec[] = [];
  if (inputShape.length > 1) layers.push({ type: 'flatten' });
  let nin = sizeOf(inputShape);
  hidden.forEach((n, i) => {
    layers.push({ type: 'dense', in: nin, out: n }, { type: 'activation', fn: act });
    if (i === 0 && p > 0) layers.push({ type: 'dropout', p });
    nin = n;
  });
  layers.push({ type: 'dense', in: nin, out: classes });
  return { inputShape, layers };
}

/** Inputs i of ds as a [n, ...inputShape] float64 tensor. */
function inputsOf(ds: Dataset, indices: readonly number[]): Tensor {
  const D = sizeOf(ds.inputShape);
  const out = new Float64Array(indices.length * D);
  indices.forEach((i, r) => out.set(ds.inputs.subarray(i * D, (i + 1) * D), r * D));
  return new Tensor(out, [indices.length, ...ds.inputShape]);
}

/** Mean over the dataset of max_y softmax(h(x))_y, in eval mode (dropout off). */
export function meanMaxSoftmax(model: Sequential, ds: Dataset, chunk = 500): number {
  let sum = 0;
  for (let s = 0; s < ds.length; s += chunk) {
    const idx = Array.from({ length: Math.min(chunk, ds.length - s) }, (_, k) => s + k);
    const h = noGrad(() => model.forward(inputsOf(ds, idx)).data);
    const C = h.length / idx.length;
    for (let r = 0; r < idx.length; r++) sum += maxSoftmax(h, r * C, C);
  }
  return sum / ds.length;
}

function maxSoftmax(h: ArrayLike<number>, off: number, C: number): number {
  let m = -Infinity;
  for (let c = 0; c < C; c++) m = Math.max(m, h[off + c]!);
  let z = 0;
  for (let c = 0; c < C; c++) z += Math.exp(h[off + c]! - m);
  return 1 / z;
}

/** Per-layer means of I(θ_i|x), V1, V2 at each input, averaged over the inputs (a few at a time: J and H are [C, P] each). */
export function averagedLayerStatistics(model: Sequential, lik: Likelihood, ds: Dataset, indices: readonly number[]): AveragedLayerStat[] {
  const groups = layoutOf(model).groups;
  const acc = groups.map((g) => ({ label: g.label, fim: 0, v1: 0, v2: 0 }));
  if (indices.length === 0) return [];
  const chunk = 4;
  for (let s = 0; s < indices.length; s += chunk) {
    for (const r of inputVariances(model, lik, inputsOf(ds, indices.slice(s, s + chunk)))) {
      groups.forEach((g, gi) => {
        let f = 0, a = 0, b = 0;
        for (let i = g.offset; i < g.offset + g.size; i++) { f += r.fim[i]!; a += r.v1[i]!; b += r.v2[i]!; }
        acc[gi]!.fim += f / g.size; acc[gi]!.v1 += a / g.size; acc[gi]!.v2 += b / g.size;
      });
    }
  }
  for (const a of acc) { a.fim /= indices.length; a.v1 /= indices.length; a.v2 /= indices.length; }
  return acc;
}

export const DEFAULT_STUDY_OPTIMIZER: OptimizerConfig = { name: 'adam', lr: 1e-3 };

type MlpOptions = Required<Pick<StudyOptions, 'epochs' | 'sampledLabels' | 'seed' | 'optimizer' | 'dropout' | 'batchSize' | 'averageInputs'>> & StudyOptions;

/** Trains one MLP of the study, measuring at initialisation and after every epoch. */
export async function runMlp(split: DatasetSplit, arch: (typeof STUDY_ARCHITECTURES)[number], o: MlpOptions): Promise<MlpExperiment> {
  const t0 = performance.now();
  const { train: tr, test } = split;
  const classes = tr.numClasses ?? fail('INVALID_ARGUMENT', 'the study needs class-labelled data');
  const dropout = o.dropout;
  const spec = mlpWithDropout([...tr.inputShape], arch.hidden, classes, arch.activation, dropout);
  const root = new Rng(o.seed).derive(arch.name);
  const model = buildModel(spec, root.derive('init'), 'float64');
  const lik = makeLikelihood('categorical');
  const testInputIndex = root.derive('test-input').int(test.length);
  const averagedInputIndices = Array.from(root.derive('averaged-inputs').permutation(test.length).subarray(0, Math.min(o.averageInputs, test.length)));
  const x = inputsOf(test, [testInputIndex]);
  const epochs: EpochRecord[] = [];
  const measure = (epoch: number, acc: number | null, loss: number | null): void => {
    const layers = layerStatistics(model, lik, x, root.derive(`labels-${epoch}`), o.sampledLabels, o.bounds);
    const averaged = averagedLayerStatistics(model, lik, test, averagedInputIndices);
    const h = noGrad(() => model.forward(x).data);
    const rec: EpochRecord = { epoch, testAccuracy: acc, testLoss: loss, layers, averaged, meanMaxSoftmax: meanMaxSoftmax(model, test), maxSoftmaxAtInput: maxSoftmax(h, 0, h.length) };
    epochs.push(rec);
    o.log?.(`  ${arch.name}: epoch ${epoch}${acc !== null ? `, test accuracy ${(100 * acc).toFixed(2)}%` : ''}, mean max softmax ${rec.meanMaxSoftmax.toFixed(3)}; ` +
      layers.map((l) => `${l.label} FIM ${l.fim.toExponential(1)} sd1 ${Math.sqrt(l.v1).toExponential(1)} sd2 ${Math.sqrt(l.v2).toExponential(1)}`).join('; '));
  };
  measure(0, null, null);
  await train({
    model, likelihood: lik, train: tr, test, epochs: o.epochs, batchSize: o.batchSize, seed: o.seed,
    optimizer: o.optimizer, progress: null,
    onEpochEnd: (m) => measure(m.epoch, m.testAccuracy, m.testLoss),
  });
  return { name: arch.name, activation: arch.activation, widths: [sizeOf(tr.inputShape), ...arch.hidden, classes], dropout, optimizer: o.optimizer, testInputIndex, averagedInputIndices, epochs, seconds: (performance.now() - t0) / 1000 };
}

/** Checks the paper's statements against the run (criteria in verdicts.ts); always the same 11, in order. */
export function studyFindings(experiments: MlpExperiment[], toy: ToyCurve[]): Finding[] {
  const out: Finding[] = [];
  const missing = (id: string, claim: string, why: string): Finding =>
    verdict(id, claim, why, { compared: '—', threshold: '—', caseUnit: '', rule: 'all' }, []);
  const sig = experiments.find((e) => e.activation === 'sigmoid');
  const t = sig ? sig.epochs.map((e) => e.layers) : [];
  out.push(lastLayerV2Zero(t), firstLayersV1BelowV2(t), lastLayerLargestV1(t), layer1BoundTightness(t), boundsHold(t), earlyDynamics(t));
  if (!sig) for (const f of out) f.detail = 'no sigmoid MLP in this run';
  const logSig = experiments.find((e) => e.activation === 'log-sigmoid');
  out.push(logSigmoidVanishes(logSig ? logSig.epochs.map((e) => e.layers) : []));
  for (const task of ['regression', 'classification'] as const) {
    const c1 = toy.find((c) => c.task === task && c.estimator === 'i1');
    const c2 = toy.find((c) => c.task === task && c.estimator === 'i2');
    if (c1 && c2) out.push(toyLowerVariance(task, c1, c2), toyI1LessStable(task, c1, c2));
    else out.push(missing(`toy-${task}-variance`, `Toy ${task}: Î2 has the lower variance`, 'toy not run'), missing(`toy-${task}-stability`, `Toy ${task}: natural gradient with Î1 is less stable than with Î2`, 'toy not run'));
  }
  return out;
}

export async function runStudy(split: DatasetSplit, opts: StudyOptions = {}): Promise<StudyResult> {
  checkOptions('runStudy', opts, {
    quick: { kind: 'boolean' }, epochs: { kind: 'int', min: 1 }, trainLimit: { kind: 'int', min: 1 }, sampledLabels: { kind: 'int', min: 2 },
    toyEpochs: { kind: 'int', min: 0 }, seed: { kind: 'int', min: 0 }, bounds: { kind: 'function' }, architectures: { kind: 'object' }, log: { kind: 'function' },
    optimizer: { kind: 'object' }, dropout: { kind: 'number', min: 0, max: 1, exclusiveMax: true }, batchSize: { kind: 'int', min: 1 },
    averageInputs: { kind: 'int', min: 0 }, dataNote: { kind: 'string' },
  });
  checkOptions('runStudy', split, { train: { kind: 'object', required: true }, test: { kind: 'object', required: true } }, 'split');
  const t0 = performance.now();
  const quick = opts.quick ?? false;
  const o: MlpOptions = {
    ...opts,
    epochs: opts.epochs ?? (quick ? 3 : 20),
    sampledLabels: opts.sampledLabels ?? (quick ? 1000 : 5000),
    seed: opts.seed ?? 0,
    optimizer: opts.optimizer ?? DEFAULT_STUDY_OPTIMIZER,
    dropout: opts.dropout ?? 0.2,
    batchSize: opts.batchSize ?? 128,
    averageInputs: opts.averageInputs ?? (quick ? 8 : 16),
  };
  const trainLimit = Math.min(opts.trainLimit ?? (quick ? 6000 : split.train.length), split.train.length);
  const trainSet: Dataset = trainLimit < split.train.length ? subset(split.train, Array.from({ length: trainLimit }, (_, i) => i)) : split.train;
  const data = { train: trainSet, test: split.test };
  const architectures = opts.architectures ?? STUDY_ARCHITECTURES;
  const experiments: MlpExperiment[] = [];
  for (const arch of architectures) {
    opts.log?.(`${arch.name} on ${split.train.name}: ${o.epochs} epochs`);
    experiments.push(await runMlp(data, arch, o));
  }
  const toyEpochs = opts.toyEpochs ?? (quick ? 32 : 256);
  const toy: ToyCurve[] = [];
  if (toyEpochs > 0) {
    for (const task of ['regression', 'classification'] as const) {
      for (const estimator of ['i1', 'i2'] as const) {
        opts.log?.(`toy ${task} with ${estimator}: ${toyEpochs} epochs`);
        toy.push(runToy({ task, estimator, epochs: toyEpochs, seed: o.seed, recordEvery: quick ? 2 : 4, varianceDraws: quick ? 64 : 128 }));
      }
    }
  }
  const opt = o.optimizer;
  return {
    config: {
      quick, epochs: o.epochs, trainLimit, sampledLabels: o.sampledLabels, averageInputs: o.averageInputs, toyEpochs, seed: o.seed,
      optimizer: `${opt.name} lr ${opt.lr}${opt.momentum ? ` momentum ${opt.momentum}` : ''}, batch ${o.batchSize}`, dropout: o.dropout, architectures,
    },
    data: { name: split.train.name, train: trainSet.length, test: split.test.length, note: opts.dataNote ?? '' },
    experiments,
    toy,
    findings: studyFindings(experiments, toy),
    seconds: (performance.now() - t0) / 1000,
  };
}
