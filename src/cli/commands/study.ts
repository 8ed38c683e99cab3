/**
 * `fimkit study`: reproduces the experiments of "Trade-Offs of Diagonal Fisher Information Matrix
 * Estimators" and writes an HTML report with SVG plots (report.html) and the JSON behind it
 * (report.json), stating where the run agrees or differs with the paper's findings.
 */
import { join } from 'node:path';
import { setBackend } from '../../core/backends/index.js';
import type { BackendName } from '../../core/backend.js';
import { resolveDataset } from '../../data/index.js';
import { writeReport } from '../../report/files.js';
import { runStudy } from '../../study/study.js';
import { studyReportHtml } from '../../study/report.js';
import { theorem41Bounds } from '../../study/bounds.js';
import type { FlagSpec, ParsedArgs } from '../args.js';
import { EXIT_OK, stderrNotes, timestampForPath, type CliIO, type Command } from '../command.js';
import { BACKEND_FLAG, DATA_FLAG, DOWNLOAD_FLAG, FORCE_FLAG, JSON_FLAG, QUIET_FLAG, SEED_FLAG } from '../common-flags.js';
import { checkOutDir, dataInputs } from '../model-data.js';

const FLAGS: readonly FlagSpec[] = [
  { ...DATA_FLAG, description: `${DATA_FLAG.description} Must be class-labelled images or vectors (the MNIST-style experiments).` },
  DOWNLOAD_FLAG,
  { name: 'quick', type: 'boolean', description: 'A short run (3 epochs on 6000 training samples, 1000 sampled labels, 32 toy epochs): a few minutes on 2 cores.', group: 'Study' },
  { name: 'epochs', type: 'int', min: 1, max: 1000, metavar: 'N', description: 'Training epochs of each MLP.', defaultText: '20 (quick: 3)', group: 'Study' },
  { name: 'train-limit', type: 'int', min: 1, metavar: 'N', description: 'Use only the first N training samples.', defaultText: 'all (quick: 6000)', group: 'Study' },
  { name: 'sampled-labels', type: 'int', min: 2, metavar: 'N', description: 'Labels sampled from the model at the test input to measure the variances.', defaultText: '5000 (quick: 1000)', group: 'Study' },
  { name: 'toy-epochs', type: 'int', min: 1, metavar: 'N', description: 'Epochs of the 2-D natural-gradient toy.', defaultText: '256 (quick: 32)', group: 'Study' },
  { name: 'out', type: 'string', metavar: 'DIR', description: 'Directory for report.html and report.json.', defaultText: 'runs/study-<YYYYMMDD-HHMMSS> (quick: runs/study-quick-<...>)', group: 'Output' },
  FORCE_FLAG,
  SEED_FLAG,
  BACKEND_FLAG,
  QUIET_FLAG,
  JSON_FLAG,
];

async function run(args: ParsedArgs, io: CliIO): Promise<number> {
  const f = args.flags;
  const quiet = f['quiet'] === true;
  const log = stderrNotes(io, quiet);
  if (f['backend'] !== undefined) setBackend(f['backend'] as BackendName);
  const quick = f['quick'] === true;
  // The report's place is checked (and created) before the study runs: a bad --out fails now.
  const out = checkOutDir(
    (f['out'] as string | undefined) ?? join('runs', `study-${quick ? 'quick-' : ''}${timestampForPath()}`),
    ['report.html', 'report.json'], f, dataInputs(f['data'] as string | undefined),
  );
  const split = await resolveDataset(String(f['data']), { download: f['download'] === true, ...(quiet ? {} : { log }) });
  log(`fimkit study${quick ? ' --quick' : ''}: ${split.train.name}; report → ${join(out, 'report.html')}`);
  const result = await runStudy(split, {
    quick,
    epochs: f['epochs'] as number | undefined,
    trainLimit: f['train-limit'] as number | undefined,
    sampledLabels: f['sampled-labels'] as number | undefined,
    toyEpochs: f['toy-epochs'] as number | undefined,
    seed: f['seed'] as number,
    bounds: theorem41Bounds,
    log,
  });
  const paths = writeReport(out, studyReportHtml(result), result);
  if (f['json'] === true) {
    io.stdout.write(JSON.stringify({ report: paths, seconds: result.seconds, findings: result.findings }, null, 2) + '\n');
  } else {
    io.stdout.write(`\nFindings of "Trade-Offs of Diagonal Fisher Information Matrix Estimators", checked against this run:\n`);
    for (const fi of result.findings) io.stdout.write(`  [${fi.status}] ${fi.claim}\n      ${fi.detail}\n`);
    io.stdout.write(`\nwall time ${result.seconds.toFixed(1)} s\nwrote ${paths.html} (open it in a browser) and ${paths.json}\n`);
  }
  return EXIT_OK;
}

export const studyCommand: Command = {
  name: 'study',
  summary: 'Reproduce the experiments on the trade-offs of diagonal Fisher estimators; HTML report',
  description:
    'Trains a 4-layer sigmoid MLP (with dropout) and a 5-layer log-sigmoid MLP, and after every epoch measures, at one test input and per layer, the FIM diagonal, the standard deviations of Î1 and Î2 (closed form and from sampled labels), the Theorem 4.1 upper bounds and log(UB/V); runs the 2-D natural-gradient toy (linear and logistic regression with Î1 or Î2); and checks each of the paper\'s findings against the run. Writes report.html (SVG plots) and report.json.',
  epilog: 'Examples:\n  fimkit study --quick                       # embedded data, a few minutes\n  fimkit study --data fashion-mnist          # the full study',
  flags: FLAGS,
  run,
};
