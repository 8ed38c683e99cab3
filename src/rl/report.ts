/**
 * Aggregation of RL runs over seeds and the report built from it (browser-safe: strings only).
 * Per (environment, algorithm): the evaluation curve's mean and standard error over seeds at each
 * evaluation step, the final evaluation return (mean ± s.e. over seeds), wall time, steps/s and
 * seconds per update; for SMAC, the Fisher-fidelity figures of its rank-k curvature against the
 * policy's exact Fisher along the update direction. Output: an HTML report (learning curves with
 * a ±1 s.e. band, final-return table, comparison table, fidelity figure), its JSON, and a CSV.
 */
import { htmlReport, type ReportSection, type ReportTable } from '../report/html.js';
import { lineChart, SERIES_COLORS, type ChartSeries } from '../report/svg.js';
import type { RunResult } from './run.js';

export interface CurvePoint {
  step: number;
  mean: number;
  se: number;
  seeds: number;
}

export interface GroupSummary {
  env: string;
  algo: string;
  seeds: number[];
  finalMean: number;
  finalSe: number;
  /** Final evaluation return of each seed. */
  finals: number[];
  curve: CurvePoint[];
  wallSeconds: number;
  stepsPerSecond: number;
  updateSeconds: number;
  steps: number;
  /** SMAC only: per seed, the fidelity points, flattened with the seed. */
  fidelity: { seed: number; update: number; quadRatio: number; cosine: number; cosineToGradient: number; exactCosineToGradient: number }[];
}

function meanSe(xs: number[]): { mean: number; se: number } {
  const n = xs.length;
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  if (n < 2) return { mean, se: NaN };
  const v = xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1);
  return { mean, se: Math.sqrt(v / n) };
}

export function summarise(results: readonly RunResult[]): GroupSummary[] {
  const groups = new Map<string, RunResult[]>();
  for (const r of results) {
    const k = `${r.env}\u0000${r.algo}`;
    if (!groups.has(k)) groups.set(k, []);
    groups.get(k)!.push(r);
  }
  const out: GroupSummary[] = [];
  for (const rs of groups.values()) {
    rs.sort((a, b) => a.seed - b.seed);
    const finals = rs.map((r) => r.evals[r.evals.length - 1]!.mean);
    const f = meanSe(finals);
    // Curve: evaluation i of every seed (same schedule for the same settings).
    const len = Math.min(...rs.map((r) => r.evals.length));
    const curve: CurvePoint[] = [];
    for (let i = 0; i < len; i++) {
      const ys = rs.map((r) => r.evals[i]!.mean);
      const m = meanSe(ys);
      curve.push({ step: rs[0]!.evals[i]!.step, mean: m.mean, se: m.se, seeds: ys.length });
    }
    out.push({
      env: rs[0]!.env, algo: rs[0]!.algo, seeds: rs.map((r) => r.seed), finalMean: f.mean, finalSe: f.se, finals, curve,
      wallSeconds: rs.reduce((a, r) => a + r.wallSeconds, 0) / rs.length,
      stepsPerSecond: rs.reduce((a, r) => a + r.stepsPerSecond, 0) / rs.length,
      updateSeconds: rs.reduce((a, r) => a + r.updateSeconds, 0) / rs.length,
      steps: rs[0]!.steps,
      fidelity: rs.flatMap((r) => r.fidelity.map((p) => ({ seed: r.seed, update: p.update, quadRatio: p.quadLowRank / p.quadExact, cosine: p.cosine, cosineToGradient: p.cosineToGradient, exactCosineToGradient: p.exactCosineToGradient }))),
    });
  }
  return out.sort((a, b) => (a.env === b.env ? a.algo.localeCompare(b.algo) : a.env.localeCompare(b.env)));
}

/** The value of the mean evaluation curve at the evaluation nearest to `step` (at or after it). */
export function curveAt(g: GroupSummary, step: number): CurvePoint | null {
  return g.curve.find((p) => p.step >= step) ?? null;
}

export function summaryCsv(groups: readonly GroupSummary[]): string {
  const lines = ['env,algo,step,mean_return,se_return,seeds'];
  for (const g of groups) for (const p of g.curve) lines.push(`${g.env},${g.algo},${p.step},${p.mean},${Number.isFinite(p.se) ? p.se : ''},${p.seeds}`);
  return lines.join('\n') + '\n';
}

const fmt = (m: number, se: number): string => (Number.isFinite(se) ? `${m.toFixed(1)} ± ${se.toFixed(1)}` : m.toFixed(1));

export function comparisonTable(groups: readonly GroupSummary[]): ReportTable {
  const envs = [...new Set(groups.map((g) => g.env))];
  const algos = [...new Set(groups.map((g) => g.algo))];
  return {
    caption: 'Final deterministic evaluation return, mean ± s.e. over seeds (rows: algorithm; columns: environment)',
    columns: ['algorithm', ...envs],
    rows: algos.map((a) => [a, ...envs.map((e) => {
      const g = groups.find((x) => x.env === e && x.algo === a);
      return g ? `${fmt(g.finalMean, g.finalSe)} (${g.seeds.length} seeds, ${g.steps} steps)` : null;
    })]),
  };
}

export function rlReportHtml(groups: readonly GroupSummary[], title = 'fimkit rl: learning curves and comparison'): string {
  const sections: ReportSection[] = [];
  for (const env of [...new Set(groups.map((g) => g.env))]) {
    const gs = groups.filter((g) => g.env === env);
    const series: ChartSeries[] = [];
    gs.forEach((g, i) => {
      const color = SERIES_COLORS[i % SERIES_COLORS.length];
      const x = g.curve.map((p) => p.step);
      series.push({ name: `${g.algo} (${g.seeds.length} seeds)`, x, y: g.curve.map((p) => p.mean), color });
      series.push({ name: `${g.algo} + s.e.`, x, y: g.curve.map((p) => (Number.isFinite(p.se) ? p.mean + p.se : null)), color, dash: '3 3' });
      series.push({ name: `${g.algo} − s.e.`, x, y: g.curve.map((p) => (Number.isFinite(p.se) ? p.mean - p.se : null)), color, dash: '3 3' });
    });
    sections.push({
      heading: `${env}: learning curves`,
      paragraphs: ['Deterministic evaluation (the mode of the policy) over several episodes at regular intervals; solid: mean over seeds, dashed: mean ± one standard error.'],
      charts: [lineChart({ title: `${env}: evaluation return`, xLabel: 'environment steps', yLabel: 'return', series, legend: 'bottom' })],
      tables: [{
        caption: `${env}: final evaluation return and cost`,
        columns: ['algorithm', 'seeds', 'steps', 'final return (mean ± s.e.)', 'per-seed finals', 'wall time per seed (s)', 'steps/s', 'seconds per update'],
        rows: gs.map((g) => [g.algo, g.seeds.length, g.steps, fmt(g.finalMean, g.finalSe), g.finals.map((v) => v.toFixed(1)).join(', '), +g.wallSeconds.toFixed(1), +g.stepsPerSecond.toFixed(0), +g.updateSeconds.toFixed(4)]),
      }],
    });
  }
  sections.push({ heading: 'Comparison', tables: [comparisonTable(groups)] });
  const fid = groups.filter((g) => g.fidelity.length > 0);
  if (fid.length > 0) {
    const charts: string[] = [];
    const rows: (string | number)[][] = [];
    for (const g of fid) {
      const seeds = [...new Set(g.fidelity.map((p) => p.seed))];
      const s1: ChartSeries[] = seeds.map((s, i) => {
        const pts = g.fidelity.filter((p) => p.seed === s);
        return { name: `seed ${s}`, x: pts.map((p) => p.update), y: pts.map((p) => p.quadRatio), color: SERIES_COLORS[i % SERIES_COLORS.length] };
      });
      const s2: ChartSeries[] = seeds.map((s, i) => {
        const pts = g.fidelity.filter((p) => p.seed === s);
        return { name: `seed ${s}`, x: pts.map((p) => p.update), y: pts.map((p) => p.cosine), color: SERIES_COLORS[i % SERIES_COLORS.length] };
      });
      charts.push(lineChart({ title: `${g.env} ${g.algo}: dᵀF̂d / dᵀ(F+λI)d along the update`, xLabel: 'update', yLabel: 'ratio', series: s1, logY: true }));
      charts.push(lineChart({ title: `${g.env} ${g.algo}: cos(F̂⁻¹g, (F+λI)⁻¹g)`, xLabel: 'update', yLabel: 'cosine', series: s2 }));
      const med = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]!; };
      rows.push([g.env, g.algo, g.fidelity.length, +med(g.fidelity.map((p) => p.quadRatio)).toPrecision(4), +med(g.fidelity.map((p) => p.cosine)).toPrecision(4), +med(g.fidelity.map((p) => p.cosineToGradient)).toPrecision(4), +med(g.fidelity.map((p) => p.exactCosineToGradient)).toPrecision(4)]);
    }
    sections.push({
      heading: 'SMAC: how far the rank-1 Fisher is from the exact Fisher',
      paragraphs: [
        'At regular updates the rank-k damped curvature F̂ = λI + UᵀU/k that SMAC inverts is compared with the policy\'s exact Fisher F on the same batch (fimkit\'s matrix-free F·v, averaged over the batch\'s states, the expectation over actions in closed form), damped by the same λ.',
        'Ratio dᵀF̂d / dᵀ(F+λI)d: below 1 the rank-1 curvature underestimates the curvature along the step it takes (so a KL-radius step measured with F̂ overshoots the true KL by about its inverse). Cosine: the angle between SMAC\'s direction F̂⁻¹g and the damped natural gradient (F+λI)⁻¹g (conjugate gradients).',
      ],
      charts,
      tables: [{ caption: 'Medians over all measured updates and seeds', columns: ['env', 'algorithm', 'points', 'dᵀF̂d / dᵀ(F+λI)d', 'cos(F̂⁻¹g, (F+λI)⁻¹g)', 'cos(F̂⁻¹g, g)', 'cos((F+λI)⁻¹g, g)'], rows }],
    });
  }
  return htmlReport({ title, sections, data: { groups } });
}
