/**
 * The built-in check of the closed forms (`fimkit variance --check M`): M independent Monte
 * Carlo repetitions of Î1 and Î2 (diagonal), each with the same N labels per input (and, jointly,
 * N_x inputs drawn from the data with replacement), give a sample variance per parameter. Per
 * layer the mean closed form is set beside the mean sample variance and a confidence interval
 * for it, from the spread over the (independent) repetitions of the layer-mean squared deviation,
 * which holds whatever the correlation between a layer's parameters.
 */
import { Rng } from '../core/rng.js';
import { checkOptions } from '../core/options.js';
import { subset, type Dataset } from '../data/dataset.js';
import type { Likelihood } from '../likelihoods/likelihood.js';
import type { Sequential } from '../nn/sequential.js';
import { computeFisherRaw } from '../fisher/compute.js';
import { layoutOf } from '../fisher/layout.js';

export interface CheckRow {
  layer: string;
  estimator: 'i1' | 'i2';
  closedForm: number;
  sampleVariance: number;
  /** z·standard error of the layer's mean sample variance (z = 1.96: a 95% interval). */
  halfWidth: number;
  /** Whether the closed form lies in the interval (or both are 0). */
  inside: boolean;
}

export interface CheckOptions {
  repetitions: number;
  labelsPerInput: number;
  mode: 'conditional' | 'joint';
  inputIndex?: number;
  inputsPerEstimate?: number;
  seed?: number;
}

/** `closed` maps estimator → per-parameter closed-form variance of the estimate (N and N_x included). */
export function monteCarloCheck(model: Sequential, lik: Likelihood, data: Dataset, closed: { i1: Float64Array; i2: Float64Array }, o: CheckOptions): CheckRow[] {
  checkOptions('monteCarloCheck', o, {
    repetitions: { kind: 'int', min: 2, required: true }, labelsPerInput: { kind: 'int', min: 1, required: true },
    mode: { kind: 'enum', values: ['conditional', 'joint'], required: true }, inputIndex: { kind: 'int', min: 0 },
    inputsPerEstimate: { kind: 'int', min: 1 }, seed: { kind: 'seed' },
  });
  checkOptions('monteCarloCheck', closed, { i1: { kind: 'float64array', required: true }, i2: { kind: 'float64array', required: true } }, 'closed');
  const M = o.repetitions;
  const rng = new Rng(o.seed ?? 0).derive('variance-check');
  const layout = layoutOf(model);
  const rows: CheckRow[] = [];
  for (const est of ['i1', 'i2'] as const) {
    const reps: Float64Array[] = [];
    for (let m = 0; m < M; m++) {
      const seed = rng.nextU32();
      if (o.mode === 'conditional') {
        reps.push(computeFisherRaw(model, lik, data, { estimator: est, representation: 'diag', mode: 'conditional', inputIndex: o.inputIndex ?? 0, labelsPerInput: o.labelsPerInput, seed }).acc.diag!);
      } else {
        const Nx = o.inputsPerEstimate ?? data.length;
        const pts = subset(data, Array.from({ length: Nx }, () => rng.int(data.length)));
        reps.push(computeFisherRaw(model, lik, pts, { estimator: est, representation: 'diag', labelsPerInput: o.labelsPerInput, seed }).acc.diag!);
      }
    }
    for (const g of layout.groups) {
      // Per repetition, the layer mean of squared deviations from the per-parameter means: the
      // repetitions are independent, so the spread of these M numbers gives the standard error
      // of their mean whatever the correlation between the layer's parameters.
      const means = new Float64Array(g.size);
      for (const r of reps) for (let i = 0; i < g.size; i++) means[i]! += r[g.offset + i]! / M;
      const d = reps.map((r) => {
        let s = 0;
        for (let i = 0; i < g.size; i++) s += (r[g.offset + i]! - means[i]!) ** 2;
        return s / g.size;
      });
      let cfSum = 0;
      for (let i = g.offset; i < g.offset + g.size; i++) cfSum += closed[est][i]!;
      const closedForm = cfSum / g.size;
      const dMean = d.reduce((s, v) => s + v, 0) / M;
      const sampleVariance = (dMean * M) / (M - 1);
      const dVar = d.reduce((s, v) => s + (v - dMean) ** 2, 0) / (M - 1);
      const halfWidth = (1.96 * Math.sqrt(dVar / M) * M) / (M - 1);
      const scale = Math.max(...means.map(Math.abs), 1e-300);
      // Identical repetitions leave only rounding: (M·ε·scale)² (the rounding of a mean of M terms).
      const inside = Math.abs(closedForm - sampleVariance) <= halfWidth + (M * 2.220446049250313e-16 * scale) ** 2;
      rows.push({ layer: g.label, estimator: est, closedForm, sampleVariance, halfWidth, inside });
    }
  }
  return rows;
}
