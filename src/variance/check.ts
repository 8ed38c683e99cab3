/**
 * The built-in check of the closed forms (`fimkit variance --check M`): M independent Monte
 * Carlo repetitions of Î1 and Î2 (diagonal), each with the same N labels per input (and, jointly,
 * N_x inputs drawn from the data with replacement), give a sample variance per parameter. Per
 * layer the mean closed form is set beside the mean sample variance and a confidence interval
 * for it: the standard error of a sample variance is √((m₄ − s⁴)/M) (m₄ the fourth central
 * moment of the repetitions), averaged over the layer assuming independent parameters — a
 * statement about the check's resolution, not a proof.
 */
import { Rng } from '../core/rng.js';
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
      let s2Sum = 0, seVar = 0, cfSum = 0;
      for (let i = g.offset; i < g.offset + g.size; i++) {
        let mean = 0;
        for (const r of reps) mean += r[i]!;
        mean /= M;
        let c2 = 0, c4 = 0;
        for (const r of reps) { const d = r[i]! - mean; c2 += d * d; c4 += d ** 4; }
        s2Sum += c2 / (M - 1);
        seVar += Math.max(0, c4 / M - (c2 / M) ** 2) / M;
        cfSum += closed[est][i]!;
      }
      const closedForm = cfSum / g.size;
      const sampleVariance = s2Sum / g.size;
      const halfWidth = (1.96 * Math.sqrt(seVar)) / g.size;
      const inside = Math.abs(closedForm - sampleVariance) <= halfWidth || (closedForm === 0 && sampleVariance <= 1e-28 * Math.max(1, ...reps.map((r) => Math.abs(r[g.offset]!))));
      rows.push({ layer: g.label, estimator: est, closedForm, sampleVariance, halfWidth, inside });
    }
  }
  return rows;
}
