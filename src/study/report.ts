/**
 * The study's HTML report: per experiment, one log-scale chart per layer (as in the paper's
 * figures) of the FIM, the standard deviations of Î1 and Î2 (closed form, sampled, upper
 * bound), a row of log(UB/V) charts, per-epoch tables, the toy curves, and the findings.
 */
import { htmlReport, lineChart, smallMultiples, type ReportSection } from '../report/index.js';
import type { StudyResult } from './study.js';

const sqrtOrNull = (v: number | null): number | null => (v === null || !(v > 0) ? null : Math.sqrt(v));

export function studyReportHtml(r: StudyResult): string {
  const sections: ReportSection[] = [];
  sections.push({
    heading: 'What was run',
    paragraphs: [
      `Data: ${r.data.name} (${r.data.train} training, ${r.data.test} test samples). ${r.config['quick'] ? 'Quick mode (fewer epochs, samples and labels); the full study is `fimkit study` without --quick.' : 'Full study.'}`,
      `Per epoch, at one fixed test input, the per-layer arithmetic means over the layer's parameters of: the FIM diagonal I(θ_i|x); the variances V1, V2 of the single-label estimators Î1, Î2 in closed form; the same variances measured from ${String(r.config['sampledLabels'])} labels sampled from the model; and the Theorem 4.1 upper bounds. Standard deviations are the square roots of those means; log(UB/V) = log(mean UB / mean V).`,
      `Choices the paper leaves open: ${String(r.config['optimizer'])}, dropout ${String(r.config['dropout'])} after the first hidden layer, widths ${r.experiments.map((e) => e.widths.join('-')).join(' and ')}, float64, seed ${String(r.config['seed'])}. Wall time ${r.seconds.toFixed(1)} s.`,
    ],
  });
  sections.push({ heading: 'Findings of the paper, checked against this run', findings: r.findings });
  for (const e of r.experiments) {
    const epochs = e.epochs.map((x) => x.epoch);
    const layers = e.epochs[0]!.layers.map((l) => l.label);
    const stdCharts = layers.map((label, li) => lineChart({
      title: `layer ${label}`,
      xLabel: 'epoch',
      yLabel: 'value',
      logY: true,
      width: 360,
      height: 260,
      legend: li === layers.length - 1 ? 'bottom' : 'none',
      series: [
        { name: 'FIM (mean diagonal)', x: epochs, y: e.epochs.map((x) => x.layers[li]!.fim) },
        { name: 'sd Î1 (closed form)', x: epochs, y: e.epochs.map((x) => sqrtOrNull(x.layers[li]!.v1)) },
        { name: 'sd Î1 (sampled labels)', x: epochs, y: e.epochs.map((x) => sqrtOrNull(x.layers[li]!.v1Sampled)), dash: '2 3' },
        { name: 'sd Î1 upper bound', x: epochs, y: e.epochs.map((x) => sqrtOrNull(x.layers[li]!.ub1)), dash: '6 3' },
        { name: 'sd Î2 (closed form)', x: epochs, y: e.epochs.map((x) => sqrtOrNull(x.layers[li]!.v2)) },
        { name: 'sd Î2 (sampled labels)', x: epochs, y: e.epochs.map((x) => sqrtOrNull(x.layers[li]!.v2Sampled)), dash: '2 3' },
        { name: 'sd Î2 upper bound', x: epochs, y: e.epochs.map((x) => sqrtOrNull(x.layers[li]!.ub2)), dash: '6 3' },
      ],
    }));
    const ratioCharts = layers.map((label, li) => lineChart({
      title: `layer ${label}: log(UB / V)`,
      xLabel: 'epoch',
      yLabel: 'log(UB/V)',
      width: 360,
      height: 220,
      legend: li === layers.length - 1 ? 'bottom' : 'none',
      series: [
        { name: 'Î1', x: epochs, y: e.epochs.map((x) => x.layers[li]!.logRatio1) },
        { name: 'Î2', x: epochs, y: e.epochs.map((x) => x.layers[li]!.logRatio2) },
      ],
    }));
    sections.push({
      heading: `${e.name} (${e.widths.join('-')}, ${e.activation})`,
      paragraphs: [`Test input #${e.testInputIndex}. ${e.seconds.toFixed(1)} s. Where V2 = 0 (the last layer) its curve and ratio are absent: nothing to bound.`],
      charts: [
        { svg: smallMultiples(stdCharts, Math.min(4, stdCharts.length), { title: `${e.name}: FIM and standard deviations per layer (log scale)` }) },
        { svg: smallMultiples(ratioCharts, Math.min(4, ratioCharts.length), { title: `${e.name}: tightness of the upper bounds` }) },
      ],
      tables: [{
        caption: `${e.name}: per epoch and layer`,
        columns: ['epoch', 'test acc.', 'layer', 'FIM', 'sd Î1', 'sd Î1 sampled', 'sd Î2', 'sd Î2 sampled', 'log(UB/V1)', 'log(UB/V2)'],
        rows: e.epochs.flatMap((x) => x.layers.map((l) => [
          x.epoch, x.testAccuracy === null ? null : `${(100 * x.testAccuracy).toFixed(2)}%`, l.label, l.fim.toExponential(3),
          Math.sqrt(l.v1).toExponential(3), Math.sqrt(l.v1Sampled).toExponential(3), Math.sqrt(l.v2).toExponential(3), Math.sqrt(l.v2Sampled).toExponential(3),
          l.logRatio1 === null ? null : l.logRatio1.toFixed(2), l.logRatio2 === null ? null : l.logRatio2.toFixed(2),
        ])),
      }],
    });
  }
  const toyCharts: string[] = [];
  for (const task of ['regression', 'classification'] as const) {
    const curves = r.toy.filter((c) => c.task === task);
    if (curves.length === 0) continue;
    toyCharts.push(lineChart({
      title: `${task}: test loss`, xLabel: 'epoch', yLabel: 'test NLL', width: 420, height: 280, legend: 'bottom',
      series: curves.map((c) => ({ name: `NGD with ${c.estimator === 'i1' ? 'Î1' : 'Î2'}`, x: c.epochs, y: c.testLoss })),
    }));
    toyCharts.push(lineChart({
      title: `${task}: variance sum of the Fisher estimate`, xLabel: 'epoch', yLabel: 'Σ Var(Î_jk)', logY: true, width: 420, height: 280, legend: 'bottom',
      series: curves.map((c) => ({ name: c.estimator === 'i1' ? 'Î1' : 'Î2', x: c.epochs, y: c.varianceSum })),
    }));
  }
  if (toyCharts.length > 0) {
    sections.push({
      heading: '2-D toy: natural gradient with Î1 or Î2',
      paragraphs: ['Linear regression (Gaussian, σ = 1) and logistic regression with h(x) = θᵀx, x ~ N(0, I₂), θ_true = (1, 1); 256 training and 4096 test points; natural-gradient steps with lr 0.01 on 4 points, the Fisher from one label per input sampled from the model, damping 1e-4. The variance sum is Σ over the 2×2 entries of the sample variance of the 4-point estimate over fresh joint draws.'],
      charts: [{ svg: smallMultiples(toyCharts, 2, { title: 'Toy experiments' }) }],
    });
  }
  return htmlReport({ title: 'fimkit study: trade-offs of diagonal Fisher estimators', subtitle: 'A reproduction of the experiments of "Trade-Offs of Diagonal Fisher Information Matrix Estimators"', sections, data: r });
}
