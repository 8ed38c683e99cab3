/**
 * Two investigations behind the study's report (`fimkit study --investigate logsigmoid|widths`):
 *
 * - logsigmoid: on what the finding "the FIM and its variances of the log-sigmoid MLP vanish once
 *   training starts" depends. A grid of single changes from a base setting (data, optimiser and
 *   learning rate, epochs, widths, dropout); per setting, layer 1's mean V1 at initialisation
 *   and after training, at the study's one test input and averaged over several test inputs,
 *   the mean largest softmax probability on the test split, test accuracy, and the verdict of
 *   the study's criterion (verdicts.ts) at the one input and on the input average.
 * - widths: the tightness log(UB/V) of the Theorem 4.1 bounds in layer 1 of the sigmoid MLP as a
 *   function of the hidden widths (the paper's are not given; it reports 3.9 for V1, 2.3 for V2).
 *
 * Each row is one training run of runMlp, so a row costs what one MLP of the study costs.
 */
import type { DatasetSplit } from '../data/dataset.js';
import { subset } from '../data/dataset.js';
import type { ActivationName } from '../nn/layers.js';
import type { OptimizerConfig } from '../optim/index.js';
import type { UpperBounds } from './layer-stats.js';
import { runMlp, type MlpExperiment } from './study.js';
import { logSigmoidVanishes, type Verdict } from './verdicts.js';

export interface InvestigationSetting {
  /** Short description of what differs from the base setting. */
  name: string;
  /** Key of the data split to use (the caller supplies the splits). */
  data: string;
  optimizer: OptimizerConfig;
  epochs: number;
  hidden: number[];
  dropout: number;
}

export interface LogSigmoidRow {
  setting: InvestigationSetting;
  /** Layer 1 mean V1 at the one test input, at initialisation and after the last epoch. */
  v1Init: number;
  v1End: number;
  /** The same averaged over the test inputs. */
  v1AvgInit: number;
  v1AvgEnd: number;
  fimInit: number;
  fimEnd: number;
  /** Mean over the test split of max_y p(y|x), at initialisation and at the end; and at the one input. */
  confidenceInit: number;
  confidenceEnd: number;
  confidenceAtInputEnd: number;
  testAccuracy: number | null;
  /** Largest layer-1 mean V1 at the one input over the epochs before the last. */
  v1Peak: number;
  /** The study's criterion (all layers; FIM, V1, V2) at the one input and on the input average. */
  verdict: Verdict;
  verdictAveraged: Verdict;
  /** The same criterion against the peak over the earlier epochs instead of initialisation (one input). */
  verdictFromPeak: Verdict;
  /** Layer 1 and the confidence per epoch (epoch 0 = initialisation). */
  trajectory: { epoch: number; fim: number; v1: number; v1Averaged: number; maxPAtInput: number; meanMaxP: number; testAccuracy: number | null }[];
  seconds: number;
}

const BASE_HIDDEN_LOGSIG = [128, 64, 32, 16];

/** The log-sigmoid grid: the study's setting (Adam 1e-3, 3 epochs, dropout 0.2) on MNIST, and one change at a time. */
export function logSigmoidGrid(opts: { epochs?: number; longEpochs?: number; fashion?: boolean } = {}): InvestigationSetting[] {
  const E = opts.epochs ?? 3;
  const base: InvestigationSetting = { name: 'base: MNIST, Adam 1e-3', data: 'mnist', optimizer: { name: 'adam', lr: 1e-3 }, epochs: E, hidden: BASE_HIDDEN_LOGSIG, dropout: 0.2 };
  const grid: InvestigationSetting[] = [base];
  if (opts.fashion ?? true) grid.push({ ...base, name: 'Fashion-MNIST instead of MNIST', data: 'fashion' });
  grid.push(
    { ...base, name: 'SGD lr 0.01', optimizer: { name: 'sgd', lr: 0.01 } },
    { ...base, name: 'SGD lr 0.1', optimizer: { name: 'sgd', lr: 0.1 } },
    { ...base, name: 'SGD lr 1', optimizer: { name: 'sgd', lr: 1 } },
    { ...base, name: 'Adam lr 1e-4', optimizer: { name: 'adam', lr: 1e-4 } },
    { ...base, name: 'Adam lr 1e-2', optimizer: { name: 'adam', lr: 1e-2 } },
    { ...base, name: `${opts.longEpochs ?? 4 * E} epochs`, epochs: opts.longEpochs ?? 4 * E },
    { ...base, name: 'narrow (32-16-8-4)', hidden: [32, 16, 8, 4] },
    { ...base, name: 'wide (512-256-128-64)', hidden: [512, 256, 128, 64] },
    { ...base, name: 'no dropout', dropout: 0 },
  );
  return grid;
}

export interface InvestigationOptions {
  seed?: number;
  /** Training samples per run (default: all of the split). */
  trainLimit?: number;
  /** Test inputs averaged over (default 16). */
  averageInputs?: number;
  /** Labels sampled at the one input (default 200: the sampled variances are not what is studied here). */
  sampledLabels?: number;
  bounds?: UpperBounds;
  log?: (line: string) => void;
}

function limited(split: DatasetSplit, n: number | undefined): DatasetSplit {
  if (n === undefined || n >= split.train.length) return split;
  return { train: subset(split.train, Array.from({ length: n }, (_, i) => i)), test: split.test };
}

async function runSetting(splits: Readonly<Record<string, DatasetSplit>>, s: InvestigationSetting, activation: ActivationName, o: InvestigationOptions): Promise<MlpExperiment> {
  const split = splits[s.data];
  if (!split) throw new Error(`investigation setting '${s.name}' needs data '${s.data}', which was not loaded`);
  return runMlp(limited(split, o.trainLimit), { name: `${activation} MLP`, activation, hidden: s.hidden }, {
    epochs: s.epochs, sampledLabels: o.sampledLabels ?? 200, seed: o.seed ?? 0, optimizer: s.optimizer, dropout: s.dropout,
    batchSize: 128, averageInputs: o.averageInputs ?? 16, ...(o.bounds ? { bounds: o.bounds } : {}),
  });
}

export async function investigateLogSigmoid(splits: Readonly<Record<string, DatasetSplit>>, grid: readonly InvestigationSetting[], o: InvestigationOptions = {}): Promise<LogSigmoidRow[]> {
  const rows: LogSigmoidRow[] = [];
  for (const s of grid) {
    const e = await runSetting(splits, s, 'log-sigmoid', o);
    const first = e.epochs[0]!;
    const last = e.epochs[e.epochs.length - 1]!;
    const row: LogSigmoidRow = {
      setting: s,
      v1Init: first.layers[0]!.v1, v1End: last.layers[0]!.v1,
      v1AvgInit: first.averaged[0]?.v1 ?? NaN, v1AvgEnd: last.averaged[0]?.v1 ?? NaN,
      fimInit: first.layers[0]!.fim, fimEnd: last.layers[0]!.fim,
      confidenceInit: first.meanMaxSoftmax, confidenceEnd: last.meanMaxSoftmax, confidenceAtInputEnd: last.maxSoftmaxAtInput,
      testAccuracy: last.testAccuracy,
      v1Peak: Math.max(...e.epochs.slice(0, -1).map((x) => x.layers[0]!.v1)),
      verdict: logSigmoidVanishes(e.epochs.map((x) => x.layers)).status,
      verdictAveraged: logSigmoidVanishes(e.epochs.map((x) => x.averaged)).status,
      verdictFromPeak: logSigmoidVanishes(e.epochs.map((x) => x.layers), 'peak').status,
      trajectory: e.epochs.map((x) => ({ epoch: x.epoch, fim: x.layers[0]!.fim, v1: x.layers[0]!.v1, v1Averaged: x.averaged[0]?.v1 ?? NaN, maxPAtInput: x.maxSoftmaxAtInput, meanMaxP: x.meanMaxSoftmax, testAccuracy: x.testAccuracy })),
      seconds: e.seconds,
    };
    rows.push(row);
    o.log?.(`  ${s.name}: layer-1 V1 ${row.v1Init.toExponential(2)} → ${row.v1End.toExponential(2)} (averaged ${row.v1AvgInit.toExponential(2)} → ${row.v1AvgEnd.toExponential(2)}), mean max p ${row.confidenceEnd.toFixed(3)}, max p at input ${row.confidenceAtInputEnd.toFixed(3)}; ${row.verdict} (init) / ${row.verdictFromPeak} (peak) / ${row.verdictAveraged} (averaged) (${row.seconds.toFixed(0)} s)`);
  }
  return rows;
}

export interface WidthRow {
  hidden: number[];
  params: number;
  /** Layer 1 log(UB/V1), log(UB/V2) at initialisation, and their medians over the trained epochs. */
  logRatio1Init: number | null;
  logRatio2Init: number | null;
  logRatio1Trained: number | null;
  logRatio2Trained: number | null;
  /** Layer 1 mean V1 and V2 at the one input after the last epoch. */
  v1End: number;
  v2End: number;
  confidenceEnd: number;
  testAccuracy: number | null;
  seconds: number;
}

const median = (a: number[]): number | null => {
  if (a.length === 0) return null;
  const s = [...a].sort((p, q) => p - q);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

export async function widthSweep(split: DatasetSplit, widths: readonly number[][], o: InvestigationOptions & { epochs?: number; optimizer?: OptimizerConfig } = {}): Promise<WidthRow[]> {
  const rows: WidthRow[] = [];
  for (const hidden of widths) {
    const s: InvestigationSetting = { name: hidden.join('-'), data: 'd', optimizer: o.optimizer ?? { name: 'adam', lr: 1e-3 }, epochs: o.epochs ?? 3, hidden, dropout: 0.2 };
    const e = await runSetting({ d: split }, s, 'sigmoid', { ...o, averageInputs: 0 });
    const l1 = e.epochs.map((x) => x.layers[0]!);
    const trained = l1.slice(1);
    const last = e.epochs[e.epochs.length - 1]!;
    const row: WidthRow = {
      hidden, params: e.epochs[0]!.layers.reduce((n, l) => n + l.params, 0),
      logRatio1Init: l1[0]!.logRatio1, logRatio2Init: l1[0]!.logRatio2,
      logRatio1Trained: median(trained.map((l) => l.logRatio1).filter((r): r is number => r !== null)),
      logRatio2Trained: median(trained.map((l) => l.logRatio2).filter((r): r is number => r !== null)),
      v1End: last.layers[0]!.v1, v2End: last.layers[0]!.v2, confidenceEnd: last.meanMaxSoftmax, testAccuracy: last.testAccuracy, seconds: e.seconds,
    };
    rows.push(row);
    const f = (v: number | null): string => (v === null ? '—' : v.toFixed(2));
    o.log?.(`  ${hidden.join('-')}: layer-1 log(UB/V1) ${f(row.logRatio1Init)} at init, ${f(row.logRatio1Trained)} trained; log(UB/V2) ${f(row.logRatio2Init)}, ${f(row.logRatio2Trained)} (${row.seconds.toFixed(0)} s)`);
  }
  return rows;
}
