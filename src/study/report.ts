/**
 * The study's HTML report: per experiment, one log-scale chart per layer (as in the paper's
 * figures) of the FIM, the standard deviations of Î1 and Î2 (closed form, sampled, upper
 * bound), a row of log(UB/V) charts, per-epoch tables, the toy curves, and the findings.
 */
import { htmlReport, lineChart, smallMultiples, type ReportSection } from '../report/index.js';
import type { StudyResult } from './study.js';
import { criterionText } from './verdicts.js';
import type { LogSigmoidRow, WidthRow } from './investigate.js';

const sqrtOrNull = (v: number | null): number | null => (v === null || !(v > 0) ? null : Math.sqrt(v));

/**
 * What `fimkit study --investigate logsigmoid` and `--investigate widths` found (their tables are
 * in README.md, with the commands and wall times); shown in every study report beside the run's
 * own numbers.
 */
export const LOGSIGMOID_NOTES: readonly string[] = [
  'What the runs behind this report found (seed 0; the commands, tables and wall times are in README.md):',
  '(1) The full study on MNIST (`fimkit study --data mnist-test`, 20 epochs) agrees at its one input, and the quick one (3 epochs) does not. At that input the FIM and both variances first jump in epoch 1 (layer-1 V1 1.5e-9 → 2.0e-7), then fall steadily while p(y|x) saturates there (max p 0.90 after epoch 1, 1.000 from epoch 11): after 20 epochs layer-1 FIM is 1/700 and V1 1/90 of their epoch-1 peak, 9 of 14 (layer, quantity) cases are below 0.1 × their initial value and all 14 below 0.1 × their peak. After 3 epochs the fall has only begun. The full study on the Fashion-MNIST subset differs (0 of 14): its measured input never saturates (max p 0.80 after 20 epochs) and layer-1 V1 grows 3.4e-10 → 3.6e-7.',
  '(2) Averaged over 16 test inputs it differs in every run, the 20-epoch one included (layer-1 V1 2.4e-9 → 4.0e-6): the mean is dominated by the inputs where the network is not confident (mean max p over the test split 0.96 after 20 epochs, i.e. some inputs far from saturated).',
  '(3) `fimkit study --investigate logsigmoid` (3 epochs, one change at a time from Adam 1e-3, 128-64-32-16, dropout 0.2): in every setting in which the network learns (test accuracy 56–93 %: Adam 1e-3 and 1e-2, SGD 0.1, 12 epochs, narrow and wide layers, no dropout), layer-1 V1 is 10² to 10⁴ times its initial value after training, at the one input and on average. The FIM at the one input stays about the same (9.2e-6 → 1.1e-5 in the base setting) while p saturates: the squared Jacobian grows about as much as the output covariance shrinks, and V1 scales with the Jacobian to the fourth power but with the output moments only to the first order (Theorem 4.1 with Theorem 5.2: V1 ≤ ‖∂h‖⁴·2m(x)). Two settings agree: Fashion-MNIST, whose measured input saturated (max p 1.000; it still differs on the 16-input average), and SGD with lr 1, which kills the network (uniform output, 9.7 % accuracy, V1 1e-15). Too small a step (SGD 0.01, Adam 1e-4) leaves the network near initialisation.',
  'So the finding depends on the input at which it is measured and on how saturated p(y|x) is there, which takes training time (20 epochs here; the paper trains 20 epochs on 60 000 images), and on reading "vanish" against the epoch-1 peak rather than the initial value. It does not depend on the optimiser, width or dropout as such. It holds at one saturated input, as in the paper\'s figures, not for the input-averaged FIM.',
];
export const WIDTH_NOTES: readonly string[] = [
  'The paper reports layer-1 log(UB/V1) ≈ 3.9 and log(UB/V2) ≈ 2.3 for a sigmoid MLP of unknown widths on MNIST. What `fimkit study --investigate widths` found (hidden widths w-w/2-w/4 for w = 16 … 1024, 3 epochs of Adam 1e-3 on the MNIST test set split 8000/2000, the one test input, seed 0; 380 s wall; the table is in README.md):',
  'At initialisation layer-1 log(UB/V1) is 1.7–2.4 and log(UB/V2) 0.4–1.2, whatever the width. After training both grow with the width: 1.7–2.3 and 0.3–1.0 up to 128-64-32 (the study\'s widths), 2.6–2.9 and 1.7–1.8 at 256-128-64 and 512-256-128, and 3.23 and 2.02 at 1024-512-256, within a factor 2 of the paper\'s 3.9 and 2.3. In 3 epochs the wider networks also train further (mean max p 0.13 at 16-8-4, 0.87 at 1024-512-256; accuracy 40 % and 90 %), so width and confidence go together here. At the fixed widths 128-64-32 the full study (20 epochs) separates them: layer-1 log(UB/V1) rises from 1.84 to 2.6–2.8 and log(UB/V2) from 0.25 to 1.4–1.7 as max p at the input rises from 0.12 to 0.98; the log-sigmoid MLP, saturated at its input (max p 1.000), reaches 3.7–6.0 and 2.3–3.6 after epoch 1. The tightness follows the confidence at the measured input.',
  'So the study\'s smaller ratios come from a network that is less confident at the measured input (fewer training images and steps, narrower layers) than the paper\'s presumably was, not from a different bound or variance: the Theorem 4.1 bounds hold in every case, and a wide, trained network gets the paper\'s tightness. The absolute layer-1 variances here (V1 1e-11 to 1e-10, V2 4e-8 to 5e-7 after training) are far below the paper\'s e^-10; they scale with the input scaling and the initialisation, which the paper does not give.',
];

export function studyReportHtml(r: StudyResult): string {
  const sections: ReportSection[] = [];
  sections.push({
    heading: 'What was run',
    paragraphs: [
      `Data: ${r.data.name} (${r.data.train} training, ${r.data.test} test samples).${r.data.note ? ` ${r.data.note}` : ''} ${r.config['quick'] ? 'Quick mode (fewer epochs, samples and labels); the full study is `fimkit study` without --quick.' : 'Full study.'}`,
      `Per epoch, at one fixed test input, the per-layer arithmetic means over the layer's parameters of: the FIM diagonal I(θ_i|x); the variances V1, V2 of the single-label estimators Î1, Î2 in closed form; the same variances measured from ${String(r.config['sampledLabels'])} labels sampled from the model; and the Theorem 4.1 upper bounds. Standard deviations are the square roots of those means; log(UB/V) = log(mean UB / mean V).`,
      `Choices the paper leaves open: ${String(r.config['optimizer'])}, dropout ${String(r.config['dropout'])} after the first hidden layer, widths ${r.experiments.map((e) => e.widths.join('-')).join(' and ')}, float64, seed ${String(r.config['seed'])}. Wall time ${r.seconds.toFixed(1)} s.`,
    ],
  });
  sections.push({
    heading: 'Findings of the paper, checked against this run',
    paragraphs: ['Each finding is checked by an explicit criterion: what is compared, the threshold (the paper\'s own number where it gives one), the cases it is evaluated on, and how many must pass. Claims the paper states without qualification must hold in every case; values read off its figures in 3 of 4 epochs; claims it qualifies ("in general", "in most of the cases") in more than half; Monte Carlo estimates in 9 of 10 points.'],
    findings: r.findings.map((f) => ({ claim: f.claim, status: f.status, detail: `${f.detail}. ${criterionText(f.criterion)}` })),
    tables: [{
      caption: 'The criteria behind the verdicts',
      columns: ['finding', 'verdict', 'compared', 'threshold', 'cases', 'passing', 'required'],
      rows: r.findings.map((f) => [f.id, f.status, f.criterion.compared, f.criterion.threshold, `${f.criterion.cases} ${f.criterion.caseUnit}`, f.criterion.passed, f.criterion.minPassed]),
    }],
  });
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
      paragraphs: [`Test input #${e.testInputIndex}; optimiser ${e.optimizer.name} lr ${e.optimizer.lr}, dropout ${e.dropout}. ${e.seconds.toFixed(1)} s. Where V2 = 0 (the last layer) its curve and ratio are absent: nothing to bound. "max p" is the largest softmax probability at the measured input, "mean max p" its mean over the test split (0.1: uniform, 1: saturated); the "averaged" columns are the layer means averaged over ${e.averagedInputIndices.length} test inputs instead of the one.`],
      charts: [
        { svg: smallMultiples(stdCharts, Math.min(4, stdCharts.length), { title: `${e.name}: FIM and standard deviations per layer (log scale)` }) },
        { svg: smallMultiples(ratioCharts, Math.min(4, ratioCharts.length), { title: `${e.name}: tightness of the upper bounds` }) },
      ],
      tables: [{
        caption: `${e.name}: per epoch and layer`,
        columns: ['epoch', 'test acc.', 'max p', 'mean max p', 'layer', 'FIM', 'sd Î1', 'sd Î1 sampled', 'sd Î2', 'sd Î2 sampled', 'log(UB/V1)', 'log(UB/V2)', 'V1 averaged', 'V2 averaged'],
        rows: e.epochs.flatMap((x) => x.layers.map((l, li) => [
          x.epoch, x.testAccuracy === null ? null : `${(100 * x.testAccuracy).toFixed(2)}%`, x.maxSoftmaxAtInput.toFixed(3), x.meanMaxSoftmax.toFixed(3), l.label, l.fim.toExponential(3),
          Math.sqrt(l.v1).toExponential(3), Math.sqrt(l.v1Sampled).toExponential(3), Math.sqrt(l.v2).toExponential(3), Math.sqrt(l.v2Sampled).toExponential(3),
          l.logRatio1 === null ? null : l.logRatio1.toFixed(2), l.logRatio2 === null ? null : l.logRatio2.toFixed(2),
          x.averaged[li] ? x.averaged[li]!.v1.toExponential(3) : null, x.averaged[li] ? x.averaged[li]!.v2.toExponential(3) : null,
        ])),
      }],
    });
  }
  const logSig = r.experiments.find((e) => e.activation === 'log-sigmoid');
  if (logSig) {
    sections.push({
      heading: 'The log-sigmoid finding: what it depends on',
      paragraphs: [
        'The paper reports that the FIM and its variances of the log-sigmoid MLP vanish once training starts. Its criterion above asks the layer means at the one measured input to fall tenfold. The table follows layer 1 through this run: its mean V1 at the one input and averaged over several test inputs, and how confident the network is (the largest softmax probability, at the input and averaged over the test split). The variances are moments of p(y|x), so they can only vanish where p(y|x) saturates.',
        ...LOGSIGMOID_NOTES,
      ],
      tables: [{
        caption: `${logSig.name}: layer 1 and softmax confidence per epoch`,
        columns: ['epoch', 'test acc.', 'max p at input', 'mean max p (test)', 'layer-1 FIM', 'layer-1 V1 (one input)', `layer-1 V1 (averaged over ${logSig.averagedInputIndices.length})`, 'layer-1 V2 (one input)'],
        rows: logSig.epochs.map((x) => [
          x.epoch, x.testAccuracy === null ? null : `${(100 * x.testAccuracy).toFixed(2)}%`, x.maxSoftmaxAtInput.toFixed(3), x.meanMaxSoftmax.toFixed(3),
          x.layers[0]!.fim.toExponential(2), x.layers[0]!.v1.toExponential(2), x.averaged[0] ? x.averaged[0].v1.toExponential(2) : null, x.layers[0]!.v2.toExponential(2),
        ]),
      }],
    });
  }
  const sig = r.experiments.find((e) => e.activation === 'sigmoid');
  if (sig) {
    sections.push({ heading: 'Bound tightness and the hidden widths', paragraphs: WIDTH_NOTES });
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

const e2 = (v: number): string => (Number.isFinite(v) ? v.toExponential(2) : '—');
const f2 = (v: number | null): string => (v === null ? '—' : v.toFixed(2));

/** The log-sigmoid investigation as a plain-text (Markdown) table. */
export function logSigmoidTable(rows: readonly LogSigmoidRow[]): string {
  const head = ['setting', 'layer-1 V1: init / peak / end (one input)', 'V1 averaged: init → end', 'mean max p: init → end', 'max p at input (end)', 'test acc.', 'verdict vs init (one input)', 'vs peak (one input)', 'vs init (averaged)'];
  const lines = rows.map((r) => [
    `${r.setting.name} (${r.setting.data === 'mnist' ? 'MNIST' : 'Fashion-MNIST'}, ${r.setting.optimizer.name} ${r.setting.optimizer.lr}, ${r.setting.epochs} ep., ${r.setting.hidden.join('-')}${r.setting.dropout ? '' : ', no dropout'})`,
    `${e2(r.v1Init)} / ${e2(r.v1Peak)} / ${e2(r.v1End)}`, `${e2(r.v1AvgInit)} → ${e2(r.v1AvgEnd)}`, `${r.confidenceInit.toFixed(3)} → ${r.confidenceEnd.toFixed(3)}`, r.confidenceAtInputEnd.toFixed(3),
    r.testAccuracy === null ? '—' : `${(100 * r.testAccuracy).toFixed(1)}%`, r.verdict, r.verdictFromPeak, r.verdictAveraged,
  ]);
  return markdown(head, lines);
}

/** The width sweep as a plain-text (Markdown) table. */
export function widthTable(rows: readonly WidthRow[]): string {
  const head = ['hidden', 'parameters', 'log(UB/V1) init', 'log(UB/V1) trained', 'log(UB/V2) init', 'log(UB/V2) trained', 'layer-1 V1 end', 'layer-1 V2 end', 'mean max p end', 'test acc.'];
  const lines = rows.map((r) => [
    r.hidden.join('-'), String(r.params), f2(r.logRatio1Init), f2(r.logRatio1Trained), f2(r.logRatio2Init), f2(r.logRatio2Trained),
    e2(r.v1End), e2(r.v2End), r.confidenceEnd.toFixed(3), r.testAccuracy === null ? '—' : `${(100 * r.testAccuracy).toFixed(1)}%`,
  ]);
  return markdown(head, lines);
}

function markdown(head: readonly string[], rows: readonly (readonly string[])[]): string {
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n') + '\n';
}

const INVESTIGATION_TEXT: Record<'logsigmoid' | 'widths', { title: string; paragraphs: string[] }> = {
  logsigmoid: {
    title: 'What the log-sigmoid finding depends on',
    paragraphs: [
      'The 5-layer log-sigmoid MLP of the study, trained from the same initialisation under single changes of its setting. Per setting: layer 1\'s mean V1 at initialisation and after the last epoch, at the study\'s one test input and averaged over 16 test inputs; the mean over the test split of the largest softmax probability (0.1: uniform over the 10 classes, 1: saturated), and at the one input; the test accuracy; and the verdict of the study\'s criterion (the mean FIM, V1 and V2 of each layer after training at most 0.1 × their initial value in more than half of the (layer, quantity) cases), at the one input and on the input average.',
    ],
  },
  widths: {
    title: 'Bound tightness against hidden widths',
    paragraphs: [
      'The 4-layer sigmoid MLP of the study (dropout 0.2 after the first hidden layer) for several hidden widths, on the MNIST test set split 8000/2000. Layer 1\'s log(mean UB / mean V) of the Theorem 4.1 upper bounds, for V1 and V2, at initialisation and as the median over the trained epochs, at the study\'s one test input. The paper reports 3.9 (V1) and 2.3 (V2) for a sigmoid MLP of unknown widths on MNIST.',
    ],
  },
};

/** The report of one investigation: its table (as rows) and the JSON behind it. */
export function investigationReportHtml(what: 'logsigmoid' | 'widths', table: string, data: unknown, seconds: number): string {
  const t = INVESTIGATION_TEXT[what];
  const lines = table.trim().split('\n').filter((_, i) => i !== 1).map((l) => l.slice(2, -2).split(' | '));
  return htmlReport({
    title: `fimkit study --investigate ${what}`,
    subtitle: t.title,
    sections: [{ heading: t.title, paragraphs: [...t.paragraphs, `Wall time ${seconds.toFixed(0)} s.`], tables: [{ caption: t.title, columns: lines[0]!, rows: lines.slice(1) }] }],
    data,
  });
}
