/**
 * `fimkit study`: reproduces the experiments of "Trade-Offs of Diagonal Fisher Information Matrix
 * Estimators" and writes an HTML report with SVG plots (report.html) and the JSON behind it
 * (report.json), stating where the run agrees or differs with the paper's findings.
 */
import { join } from 'node:path';
import { setBackend } from '../../core/backends/index.js';
import type { BackendName } from '../../core/backend.js';
import { resolveDataset } from '../../data/index.js';
import type { DatasetSplit } from '../../data/dataset.js';
import { writeReport } from '../../report/files.js';
import { runStudy } from '../../study/study.js';
import { studyReportHtml, investigationReportHtml, logSigmoidTable, widthTable } from '../../study/report.js';
import { theorem41Bounds } from '../../study/bounds.js';
import { resolveStudyData } from '../../study/data.js';
import { investigateLogSigmoid, logSigmoidGrid, widthSweep } from '../../study/investigate.js';
import { criterionText } from '../../study/verdicts.js';
import type { OptimizerConfig } from '../../optim/index.js';
import type { FlagSpec, ParsedArgs } from '../args.js';
import { EXIT_OK, stderrNotes, timestampForPath, type CliIO, type Command } from '../command.js';
import { BACKEND_FLAG, DATA_FLAG, DOWNLOAD_FLAG, FORCE_FLAG, JSON_FLAG, QUIET_FLAG, SEED_FLAG } from '../common-flags.js';
import { checkOutDir, dataInputs } from '../model-data.js';

const FLAGS: readonly FlagSpec[] = [
  { ...DATA_FLAG, default: 'auto', description: `${DATA_FLAG.description} Must be class-labelled images or vectors (the MNIST-style experiments). auto: the MNIST test set (mnist-test) when its files are found, else the embedded Fashion-MNIST subset.` },
  DOWNLOAD_FLAG,
  { name: 'quick', type: 'boolean', description: 'A short run (3 epochs on 6000 training samples, 1000 sampled labels, 32 toy epochs): about a minute on 2 cores.', group: 'Study' },
  { name: 'epochs', type: 'int', min: 1, max: 1000, metavar: 'N', description: 'Training epochs of each MLP.', defaultText: '20 (quick: 3)', group: 'Study' },
  { name: 'train-limit', type: 'int', min: 1, metavar: 'N', description: 'Use only the first N training samples.', defaultText: 'all (quick: 6000)', group: 'Study' },
  { name: 'sampled-labels', type: 'int', min: 2, metavar: 'N', description: 'Labels sampled from the model at the test input to measure the variances.', defaultText: '5000 (quick: 1000)', group: 'Study' },
  { name: 'toy-epochs', type: 'int', min: 1, metavar: 'N', description: 'Epochs of the 2-D natural-gradient toy.', defaultText: '256 (quick: 32)', group: 'Study' },
  { name: 'optimizer', type: 'enum', choices: ['adam', 'sgd'], default: 'adam', description: 'Optimiser of the MLPs (the paper does not say which it used).', group: 'Study' },
  { name: 'lr', type: 'number', exclusiveMin: true, min: 0, metavar: 'LR', description: 'Learning rate of the MLPs.', defaultText: '1e-3 (adam), 0.1 (sgd)', group: 'Study' },
  { name: 'investigate', type: 'enum', choices: ['logsigmoid', 'widths'], description: 'Instead of the study, run one investigation grid on the MNIST test set and write its table: logsigmoid (what the log-sigmoid finding depends on: data, optimiser, learning rate, epochs, widths, dropout, input) or widths (layer-1 bound tightness of the sigmoid MLP against hidden widths). Each run trains --epochs (default 3) on --train-limit (default 8000) images; --data picks the MNIST folder (default: mnist-test).', group: 'Study' },
  { name: 'out', type: 'string', metavar: 'DIR', description: 'Directory for report.html and report.json.', defaultText: 'runs/study-<YYYYMMDD-HHMMSS> (quick: runs/study-quick-<...>)', group: 'Output' },
  FORCE_FLAG,
  SEED_FLAG,
  BACKEND_FLAG,
  QUIET_FLAG,
  JSON_FLAG,
];

function optimizerFrom(f: ParsedArgs['flags']): OptimizerConfig {
  const name = f['optimizer'] === 'sgd' ? 'sgd' : 'adam';
  return { name, lr: (f['lr'] as number | undefined) ?? (name === 'sgd' ? 0.1 : 1e-3) };
}

async function investigate(args: ParsedArgs, io: CliIO, log: (m: string) => void): Promise<number> {
  const f = args.flags;
  const what = String(f['investigate']);
  // As for the study: the report's place is checked before the grid runs.
  const out = checkOutDir(
    (f['out'] as string | undefined) ?? join('runs', `investigate-${what}-${timestampForPath()}`),
    ['report.html', 'report.json'], f, dataInputs(f['data'] as string | undefined),
  );
  const seed = f['seed'] as number;
  const epochs = (f['epochs'] as number | undefined) ?? 3;
  const trainLimit = (f['train-limit'] as number | undefined) ?? 8000;
  const quiet = f['quiet'] === true;
  const mnist = (await resolveStudyData(String(f['data']) === 'auto' ? 'mnist-test' : String(f['data']), quiet ? {} : { log })).split;
  const t0 = performance.now();
  let html: string;
  let data: unknown;
  let table: string;
  if (what === 'logsigmoid') {
    const splits: Record<string, DatasetSplit> = { mnist, fashion: await resolveDataset('embedded') };
    const grid = logSigmoidGrid({ epochs });
    log(`investigate logsigmoid: ${grid.length} settings, ${epochs} epochs on ${trainLimit} training images each; report → ${join(out, 'report.html')}`);
    const rows = await investigateLogSigmoid(splits, grid, { seed, trainLimit, log });
    const seconds = (performance.now() - t0) / 1000;
    data = { what, seed, epochs, trainLimit, rows, seconds };
    table = logSigmoidTable(rows);
    html = investigationReportHtml('logsigmoid', table, data, seconds);
  } else {
    const widths = [[16, 8, 4], [32, 16, 8], [64, 32, 16], [128, 64, 32], [256, 128, 64], [512, 256, 128], [1024, 512, 256]];
    log(`investigate widths: ${widths.length} sigmoid MLPs, ${epochs} epochs on ${trainLimit} training images each; report → ${join(out, 'report.html')}`);
    const rows = await widthSweep(mnist, widths, { seed, trainLimit, epochs, optimizer: optimizerFrom(f), bounds: theorem41Bounds, log });
    const seconds = (performance.now() - t0) / 1000;
    data = { what, seed, epochs, trainLimit, rows, seconds };
    table = widthTable(rows);
    html = investigationReportHtml('widths', table, data, seconds);
  }
  const paths = writeReport(out, html, data);
  if (f['json'] === true) io.stdout.write(JSON.stringify({ report: paths, ...(data as object) }, null, 2) + '\n');
  else io.stdout.write(`\n${table}\nwall time ${((performance.now() - t0) / 1000).toFixed(1)} s\nwrote ${paths.html} and ${paths.json}\n`);
  return EXIT_OK;
}

async function run(args: ParsedArgs, io: CliIO): Promise<number> {
  const f = args.flags;
  const quiet = f['quiet'] === true;
  const log = stderrNotes(io, quiet);
  if (f['backend'] !== undefined) setBackend(f['backend'] as BackendName);
  if (f['investigate'] !== undefined) return investigate(args, io, log);
  const quick = f['quick'] === true;
  // The report's place is checked (and created) before the study runs: a bad --out fails now.
  const out = checkOutDir(
    (f['out'] as string | undefined) ?? join('runs', `study-${quick ? 'quick-' : ''}${timestampForPath()}`),
    ['report.html', 'report.json'], f, dataInputs(f['data'] as string | undefined),
  );
  const data = await resolveStudyData(String(f['data']), { download: f['download'] === true, ...(quiet ? {} : { log }) });
  const split = data.split;
  log(`fimkit study${quick ? ' --quick' : ''}: ${data.spec} (${split.train.name}); report → ${join(out, 'report.html')}`);
  const result = await runStudy(split, {
    quick,
    epochs: f['epochs'] as number | undefined,
    trainLimit: f['train-limit'] as number | undefined,
    sampledLabels: f['sampled-labels'] as number | undefined,
    toyEpochs: f['toy-epochs'] as number | undefined,
    seed: f['seed'] as number,
    optimizer: optimizerFrom(f),
    bounds: theorem41Bounds,
    dataNote: data.note,
    log,
  });
  const paths = writeReport(out, studyReportHtml(result), result);
  if (f['json'] === true) {
    io.stdout.write(JSON.stringify({ report: paths, data: result.data, seconds: result.seconds, findings: result.findings }, null, 2) + '\n');
  } else {
    io.stdout.write(`\nData: ${data.spec}. ${data.note}\n`);
    io.stdout.write(`\nFindings of "Trade-Offs of Diagonal Fisher Information Matrix Estimators", checked against this run:\n`);
    for (const fi of result.findings) io.stdout.write(`  [${fi.status}] ${fi.claim}\n      ${fi.detail}\n      ${criterionText(fi.criterion)}\n`);
    io.stdout.write(`\nwall time ${result.seconds.toFixed(1)} s\nwrote ${paths.html} (open it in a browser) and ${paths.json}\n`);
  }
  return EXIT_OK;
}

export const studyCommand: Command = {
  name: 'study',
  summary: 'Reproduce the experiments on the trade-offs of diagonal Fisher estimators; HTML report',
  description:
    'Trains a 4-layer sigmoid MLP (with dropout) and a 5-layer log-sigmoid MLP, and after every epoch measures, at one test input and per layer, the FIM diagonal, the standard deviations of Î1 and Î2 (closed form and from sampled labels), the Theorem 4.1 upper bounds and log(UB/V); runs the 2-D natural-gradient toy (linear and logistic regression with Î1 or Î2); and checks each of the paper\'s findings against the run. Writes report.html (SVG plots) and report.json.',
  epilog: 'Examples:\n  fimkit study --quick                       # MNIST test set if found, else the embedded subset; about a minute\n  fimkit study --data mnist-test             # the full study on MNIST (its test set split 8000/2000)\n  fimkit study --data embedded               # the full study on the embedded Fashion-MNIST subset\n  fimkit study --investigate logsigmoid      # what the log-sigmoid finding depends on (a grid; minutes)\n  fimkit study --investigate widths          # layer-1 bound tightness against hidden widths',
  flags: FLAGS,
  run,
};
