/**
 * `fimkit fisher`: estimates the Fisher information (or the loss Hessian) of a trained model over
 * a dataset, in a chosen representation; writes it as a fimkit Fisher file and prints a per-layer
 * summary of its diagonal with the estimate's metadata.
 */
import { existsSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { getBackend, setBackend } from '../../core/backends/index.js';
import type { BackendName } from '../../core/backend.js';
import { FimkitError } from '../../core/errors.js';
import type { Dataset } from '../../data/index.js';
import { computeFisher, type FisherOptions } from '../../fisher/compute.js';
import { FISHER_MODES, FISHER_SCALINGS } from '../../fisher/options.js';
import { DiagFisher } from '../../fisher/diag.js';
import { saveFisher } from '../../fisher/files.js';
import { ESTIMATORS, REPRESENTATIONS, type EstimatorName, type FisherMatrix, type FisherMeta, type Representation } from '../../fisher/matrix.js';
import { formatSummaryTable, summarizeFisher, type FisherSummary } from '../../fisher/summary.js';
import { LIKELIHOOD_NAMES } from '../../likelihoods/index.js';
import { readModelMeta, type Sequential } from '../../nn/index.js';
import { StatusLine, formatDuration, formatRate } from '../../train/progress.js';
import { UsageError, flagNumber, flagString, wrap, type FlagSpec, type ParsedArgs } from '../args.js';
import { checkOutFile, loadModelAndData, modelDataInputs } from '../model-data.js';
import { EXIT_OK, stderrNotes, type CliIO, type Command } from '../command.js';
import type { FisherPath } from '../../fisher/accumulate.js';
import { BACKEND_FLAG, DATA_FLAG, DOWNLOAD_FLAG, DTYPE_FLAG, FORCE_FLAG, SIGMA2_FLAG, SPLIT_SEED_FLAG, splitFractionFlag, JSON_FLAG, PATH_FLAG, QUIET_FLAG, SEED_FLAG } from '../common-flags.js';
import { fimkitVersion } from '../version.js';
import { SHARD_FLAG, shardFlag, shardPath, writeShard } from '../shards.js';
import { computeFisherShard } from '../../fisher/shard.js';

/** One line per estimator: the help text and the report use the same words. */
export const ESTIMATOR_DESCRIPTIONS: Record<EstimatorName, string> = {
  exact: 'Jᵀ Cov J in closed form: the output-space Fisher of the likelihood pulled back through the network Jacobian (no sampling)',
  i1: 'Î1, the squared score with labels sampled from the model (Monte Carlo; --labels-per-input labels per input)',
  i2: 'Î2, the negative Hessian of log p with labels sampled from the model (Monte Carlo)',
  empirical: "the squared score with the data's labels (the 'empirical Fisher'; biased: not the Fisher unless the model fits the data)",
  hessian: "the Hessian of the loss (negative log-likelihood) with the data's labels; not positive semi-definite in general",
};

export const REPRESENTATION_DESCRIPTIONS: Record<Representation, string> = {
  diag: 'the P diagonal entries (cheapest; exact diagonal of the estimate)',
  block: 'one dense block per layer; the cross-layer terms are dropped',
  kfac: 'per layer a Kronecker product A ⊗ G of input and output-gradient factors (exact, i1, empirical only)',
  dense: 'the full P×P matrix: 8·P² bytes, refused above FIMKIT_MAX_DENSE_BYTES (default 2 GiB)',
  matfree: 'no matrix held: products stream the data on demand; the file stores its exact diagonal',
};

const MC_ESTIMATORS: readonly EstimatorName[] = ['i1', 'i2'];
const DATA_LABEL_ESTIMATORS: readonly EstimatorName[] = ['empirical', 'hessian'];
/** KFAC factors are Gram matrices: only the estimators that are sums of outer products have them. */
const KFAC_ESTIMATORS: readonly EstimatorName[] = ['exact', 'i1', 'empirical'];

const FLAGS: FlagSpec[] = [
  { name: 'model', type: 'path', metavar: 'PATH', description: 'The model to analyse: a fimkit model.json (as fimkit train writes), an ONNX file (torch.onnx.export) or a TF.js Layers model.json with its shards beside it; the format is read from the content. Required.', group: 'Model' },
  {
    name: 'likelihood',
    type: 'enum',
    choices: LIKELIHOOD_NAMES,
    description: "Output distribution p(y|x) of the model; the Fisher is that of this distribution.",
    defaultText: 'from the data: categorical for classes, gaussian for reals, bernoulli for multilabel, poisson for counts',
    group: 'Model',
  },
  SIGMA2_FLAG,

  DATA_FLAG,
  DOWNLOAD_FLAG,
  splitFractionFlag('split-fraction'),
  SPLIT_SEED_FLAG,
  { name: 'split', type: 'enum', choices: ['train', 'test'], default: 'train', description: 'Which split of the dataset supplies the inputs.', group: 'Data' },

  { name: 'estimator', type: 'enum', choices: ESTIMATORS, default: 'exact', description: 'What to estimate (see Estimators below).', group: 'Estimate' },
  { name: 'repr', type: 'enum', choices: REPRESENTATIONS, default: 'diag', description: 'How to represent the matrix (see Representations below).', group: 'Estimate' },
  {
    name: 'labels-per-input',
    type: 'int',
    min: 1,
    default: 1,
    metavar: 'N',
    description: 'Labels sampled from the model per input (i1 and i2 only); at least 1.',
    group: 'Estimate',
  },
  {
    name: 'mode',
    type: 'enum',
    choices: FISHER_MODES,
    default: 'joint',
    description: "joint: average over the data's inputs (the Fisher I(θ)); conditional: one fixed input (I(θ|x)), chosen by --input-index.",
    group: 'Estimate',
  },
  { name: 'input-index', type: 'int', min: 0, metavar: 'I', description: 'The input of --mode conditional (0-based index into the split).', defaultText: '0', group: 'Estimate' },
  { name: 'max-inputs', type: 'int', min: 1, metavar: 'N', description: 'Use only the first N inputs of the split (joint mode).', defaultText: 'all', group: 'Estimate' },
  SHARD_FLAG,
  {
    name: 'scaling',
    type: 'enum',
    choices: FISHER_SCALINGS,
    default: 'mean',
    description: "mean: the average over inputs of the per-input quantity (the labels of one input averaged first); sum: N_x times that, the information in the whole data set.",
    group: 'Estimate',
  },

  { name: 'batch-size', type: 'int', min: 1, default: 128, description: 'Inputs per batch (memory versus speed; the result does not depend on it).', group: 'Compute' },
  { ...SEED_FLAG, description: 'Seed of the label draws of i1 and i2; the same seed gives the same estimate.' },
  { ...DTYPE_FLAG, default: undefined, defaultText: "the model file's dtype", description: 'Floating-point type of the forward and backward passes (accumulation is always float64).' } as FlagSpec,
  BACKEND_FLAG,
  PATH_FLAG,

  {
    name: 'out',
    type: 'path',
    metavar: 'PATH',
    description: 'Where to write the Fisher file (written atomically; a directory receives the default file name).',
    defaultText: 'fisher-<estimator>-<repr>.json next to the model file',
    group: 'Output',
  },
  FORCE_FLAG,
  QUIET_FLAG,
  JSON_FLAG,
];



/** Usage errors for a missing model and for flags that do not apply to the chosen estimate. */
function checkFlagCombinations(args: ParsedArgs): void {
  const f = args.flags;
  if (flagString(f, 'model') === undefined) {
    throw new UsageError('missing --model PATH: the model.json whose Fisher information to compute (e.g. the one fimkit train wrote)');
  }
  const estimator = flagString(f, 'estimator') as EstimatorName;
  const repr = flagString(f, 'repr') as Representation;
  const mode = flagString(f, 'mode');
  if (args.given.has('labels-per-input') && !MC_ESTIMATORS.includes(estimator)) {
    throw new UsageError(`--labels-per-input applies only to --estimator i1 or i2 (${estimator} draws no labels)`);
  }
  if (args.given.has('input-index') && mode !== 'conditional') throw new UsageError('--input-index applies only to --mode conditional');
  if (args.given.has('max-inputs') && mode === 'conditional') throw new UsageError('--max-inputs applies only to --mode joint (conditional mode uses one input)');
  if (repr === 'kfac' && !KFAC_ESTIMATORS.includes(estimator)) {
    throw new UsageError(`--repr kfac is defined for --estimator ${KFAC_ESTIMATORS.join(', ')} (its factors are Gram matrices); ${estimator} has signed second-derivative terms: use diag, block, dense or matfree`);
  }
}

/** Where the file goes: --out (a directory receives the default name), else next to the model. */
function outputPath(f: ParsedArgs['flags'], modelPath: string, estimator: EstimatorName, repr: Representation): string {
  const name = `fisher-${estimator}-${repr}.json`;
  const out = flagString(f, 'out');
  if (out === undefined) return join(dirname(modelPath), name);
  if (existsSync(out) && statSync(out).isDirectory()) return join(out, name);
  return out;
}

/** A compact architecture description ("2-5-3" for MLPs, the layer types otherwise). */
function describeModel(model: Sequential): string {
  const spec = model.spec();
  const dense = spec.layers.filter((l) => l.type === 'dense') as { in: number; out: number }[];
  const onlyDense = spec.layers.every((l) => l.type === 'dense' || l.type === 'activation' || l.type === 'flatten' || l.type === 'dropout');
  if (onlyDense && dense.length > 0) return [dense[0]!.in, ...dense.map((d) => d.out)].join('-');
  return spec.layers.map((l) => l.type).join(' → ');
}

/**
 * Progress of the pass over the inputs on stderr: on a terminal one line rewritten in place
 * (at most every 0.1 s); on a pipe or file a plain line every 10 s, so logs stay readable.
 */
class InputProgress {
  private readonly start = performance.now() / 1000;
  private last: number;
  private readonly status: StatusLine;

  constructor(sink: CliIO['stderr'] | null, private readonly label: string) {
    this.status = new StatusLine(sink);
    this.last = this.status.tty ? -Infinity : this.start;
  }

  update(done: number, total: number): void {
    const now = performance.now() / 1000;
    const finished = done >= total;
    if (!finished && now - this.last < (this.status.tty ? 0.1 : 10)) return;
    if (finished && !this.status.tty) return; // the completion line says it for pipes
    this.last = now;
    const elapsed = now - this.start;
    const rate = elapsed > 0 ? done / elapsed : NaN;
    const eta = rate > 0 ? (total - done) / rate : NaN;
    const width = String(total).length;
    const shown = Number.isInteger(done) ? String(done) : done < 1 ? done.toPrecision(2) : done.toFixed(1);
    this.status.show(`${this.label}: ${shown.padStart(width)}/${total} inputs  ${formatRate(rate).replace('samples', 'inputs')}  ETA ${formatDuration(eta)}`);
  }

  /** Removes the in-place status line. */
  clear(): void {
    this.status.clear();
  }
}

/** The likelihood the model was trained with, when its file records it. */
function trainedWith(modelPath: string): { likelihood?: string; data?: string } {
  try {
    const t = readModelMeta(modelPath)?.['trainedWith'] as Record<string, unknown> | undefined;
    return {
      ...(typeof t?.['likelihood'] === 'string' ? { likelihood: t['likelihood'] } : {}),
      ...(typeof t?.['data'] === 'string' ? { data: t['data'] } : {}),
    };
  } catch {
    return {}; // metadata is optional: loadModel has already checked what is required
  }
}

function metaRows(meta: FisherMeta, wallSeconds: number, data: Dataset, split: string): [string, string][] {
  const mc = meta.labelsPerInput !== null;
  return [
    ['estimator', `${meta.estimator}: ${ESTIMATOR_DESCRIPTIONS[meta.estimator]}`],
    ['representation', meta.representation],
    ['likelihood', meta.likelihood],
    ['labels per input', mc ? String(meta.labelsPerInput) : '- (no labels sampled)'],
    ['inputs', `${meta.numInputs} (${meta.mode} mode, ${split} split of ${data.name}, ${data.length} samples)`],
    ['seed', meta.seed === null ? '- (nothing random)' : String(meta.seed)],
    ['dtype', meta.dtype],
    ['backend', meta.backend],
    ['wall time', `${formatDuration(wallSeconds)} (${wallSeconds.toFixed(2)} s)`],
    ['scaling', meta.scaling === 'mean' ? 'mean (average over inputs of the per-input quantity)' : `sum (${meta.numInputs} inputs × the mean)`],
    ...meta.notes.map((n, i): [string, string] => [i === 0 ? 'notes' : '', n]),
  ];
}

async function run(args: ParsedArgs, io: CliIO): Promise<number> {
  checkFlagCombinations(args);
  const f = args.flags;
  const json = f['json'] === true;
  const quiet = f['quiet'] === true;
  const note = stderrNotes(io, quiet);

  if (f['backend'] !== undefined) setBackend(f['backend'] as BackendName);
  const backend = getBackend();

  // The output is checked (and its directory created) before anything is loaded or computed:
  // the shard file with --shard, else the result file.
  const shard = shardFlag(args);
  const out = checkOutFile(
    shard
      ? shardPath(flagString(f, 'out'), flagString(f, 'model')!, `fisher-${flagString(f, 'estimator')}-${flagString(f, 'repr')}`, shard)
      : outputPath(f, flagString(f, 'model')!, flagString(f, 'estimator') as EstimatorName, flagString(f, 'repr') as Representation),
    f, modelDataInputs(f),
  );
  const { modelPath, model, data, likelihood } = await loadModelAndData(f, quiet, note);
  const history = trainedWith(modelPath);
  const dataSpec = flagString(f, 'data')!;
  const split = flagString(f, 'split') as 'train' | 'test';
  const estimator = flagString(f, 'estimator') as EstimatorName;
  const repr = flagString(f, 'repr') as Representation;
  if (DATA_LABEL_ESTIMATORS.includes(estimator) && likelihood.targetKind !== data.targetKind) {
    throw new FimkitError(
      'INVALID_ARGUMENT',
      `the ${estimator} estimator scores the data's labels, but the ${likelihood.name} likelihood models ${likelihood.targetKind} targets and dataset '${data.name}' has ${data.targetKind} targets`,
    );
  }
  if (history.likelihood !== undefined && history.likelihood !== likelihood.name) {
    note(`note: ${modelPath} was trained with the ${history.likelihood} likelihood; this is the Fisher of the ${likelihood.name} likelihood (--likelihood chooses)`);
  }

  const mode = flagString(f, 'mode') as 'joint' | 'conditional';
  const labelsPerInput = flagNumber(f, 'labels-per-input')!;
  const progress = new InputProgress(quiet ? null : io.stderr, `fisher ${estimator} ${repr}`);
  // The header waits until the library has accepted model, likelihood and data (its checks run
  // before the first batch), so a rejected setup prints only the error, as in fimkit train.
  let announced = false;
  const announce = (): void => {
    if (announced) return;
    announced = true;
    note(header);
  };
  const opts: FisherOptions = {
    estimator,
    representation: repr,
    labelsPerInput,
    batchSize: flagNumber(f, 'batch-size')!,
    seed: flagNumber(f, 'seed')!,
    mode,
    scaling: flagString(f, 'scaling') as 'mean' | 'sum',
    path: flagString(f, 'path') as FisherPath,
    onProgress: (done, total) => {
      announce();
      progress.update(done, total);
    },
    ...(mode === 'conditional' ? { inputIndex: flagNumber(f, 'input-index') ?? 0 } : {}),
    ...(flagNumber(f, 'max-inputs') !== undefined ? { maxInputs: flagNumber(f, 'max-inputs')! } : {}),
  };

  const inputs = mode === 'conditional' ? 1 : Math.min(data.length, opts.maxInputs ?? data.length);
  const header = (
    `fimkit fisher: ${estimator} estimator, ${repr} representation, ${likelihood.name} likelihood\n` +
      `  model ${modelPath} (${describeModel(model)}, ${model.numParams().toLocaleString('en-US')} parameters, ${model.dtype})\n` +
      `  ${inputs} input${inputs === 1 ? '' : 's'} of ${data.name} (${split} split, ${mode} mode)${MC_ESTIMATORS.includes(estimator) ? `, ${labelsPerInput} label${labelsPerInput === 1 ? '' : 's'} per input, seed ${opts.seed}` : ''}\n` +
      `  backend ${backend.name} (${backend.threads} thread${backend.threads === 1 ? '' : 's'}); output ${out}`
  );

  if (shard) {
    if (mode !== 'joint') throw new UsageError('--shard splits the inputs of --mode joint; conditional mode has one input');
    if (repr === 'matfree') throw new UsageError('--shard needs sums to store: --repr matfree holds none (use diag for its exact diagonal, block, dense or kfac)');
    const path = out;
    const t0 = performance.now();
    let doc;
    try {
      doc = computeFisherShard(model, likelihood, data, opts, shard, { dataId: `${dataSpec} (${split})` });
      announce();
    } finally {
      progress.clear();
    }
    writeShard(path, doc);
    const secs = (performance.now() - t0) / 1000;
    note(`shard ${shard.index}/${shard.count}: inputs ${doc.range.start}..${doc.range.end} in ${secs.toFixed(2)} s; wrote ${path}`);
    if (json) io.stdout.write(JSON.stringify({ command: 'fisher', shard, range: doc.range, key: doc.key, wallSeconds: secs, output: { path } }, null, 2) + '\n');
    else io.stdout.write(`fisher shard ${shard.index}/${shard.count} (inputs ${doc.range.start}..${doc.range.end}) written to ${path}; combine all ${shard.count} with fimkit merge\n`);
    return EXIT_OK;
  }

  const t0 = performance.now();
  let m: FisherMatrix;
  let summary: FisherSummary;
  try {
    try {
      m = computeFisher(model, likelihood, data, opts);
      announce();
    } catch (e) {
      throw explainShapeError(e, dataSpec, args.given.has('data'), history.data);
    }
    // A matrix-free result computes its diagonal (one more pass over the data) on first use.
    summary = summarizeFisher(m);
  } finally {
    progress.clear();
  }
  const wallSeconds = (performance.now() - t0) / 1000;

  // Matrix-free results hold functions; what can be stored is their exact diagonal.
  const stored: FisherMatrix =
    m.representation === 'matfree'
      ? new DiagFisher(m.diag(), m.layout, {
          ...m.meta,
          representation: 'diag',
          wallSeconds,
          notes: [...m.meta.notes, 'stored from a matrix-free estimate: the file holds its exact diagonal (products need the model and the data)'],
        })
      : m;
  saveFisher(out, stored);
  note(`computed in ${formatDuration(wallSeconds)} (${wallSeconds.toFixed(2)} s); wrote ${out}${stored !== m ? ' (the diagonal of the matrix-free estimate)' : ''}`);

  if (json) {
    const report = {
      command: 'fisher',
      fimkit: fimkitVersion(),
      model: { path: modelPath, architecture: describeModel(model), parameters: model.numParams(), dtype: model.dtype },
      data: { spec: dataSpec, split, name: data.name, samples: data.length },
      meta: m.meta,
      wallSeconds,
      summary,
      output: { path: out, representation: stored.representation },
    };
    io.stdout.write(JSON.stringify(report, null, 2) + '\n');
  } else {
    const rows = metaRows(m.meta, wallSeconds, data, split);
    const w = Math.max(...rows.map(([k]) => k.length));
    const lines = [
      `Fisher ${m.meta.estimator} (${m.meta.representation}) of ${basename(modelPath)}: per-layer diagonal`,
      '',
      formatSummaryTable(summary),
      '',
      ...rows.map(([k, v]) => `${k.padEnd(w)}  ${v}`),
      '',
      `wrote ${out}${stored !== m ? ' (the exact diagonal; a matrix-free estimate holds no matrix to store)' : ''}`,
    ];
    io.stdout.write(lines.join('\n') + '\n');
  }
  return EXIT_OK;
}

/**
 * The library's shape errors (feature count, output size against the classes) name both sizes;
 * when --data was left at its default and the model file records other training data, say so,
 * since passing that data is the likely fix.
 */
function explainShapeError(e: unknown, dataSpec: string, dataGiven: boolean, trainedOn: string | undefined): unknown {
  if (!(e instanceof FimkitError) || e.code !== 'SHAPE') return e;
  if (dataGiven || trainedOn === undefined || trainedOn === dataSpec) return e;
  return new FimkitError('SHAPE', `${e.message} (the model was trained on --data ${trainedOn}; --data defaults to ${dataSpec})`);
}

const HELP_WIDTH = 100;

/** '  name       text' with the text wrapped under itself. */
function helpItem(name: string, text: string): string {
  const head = `  ${name.padEnd(10)} `;
  return head + wrap(text, HELP_WIDTH, head.length);
}

export const fisherCommand: Command = {
  name: 'fisher',
  summary: 'Estimate the Fisher information of a trained model; per-layer summary',
  description:
    'Streams the inputs of a dataset through the chosen estimator of the Fisher information matrix (or of the loss Hessian, for contrast) ' +
    'and stores the result in the chosen representation as a fimkit Fisher file (format fimkit-fisher, read back with loadFisher). ' +
    'stdout receives a per-layer table of the diagonal (parameters, trace, mean, max, min) and the metadata of the estimate; ' +
    'with --json, one JSON document (metadata, summary, output path). Progress goes to stderr.',
  epilog: [
    'Estimators (--estimator):',
    ...ESTIMATORS.map((e) => helpItem(e, ESTIMATOR_DESCRIPTIONS[e])),
    '',
    'Representations (--repr):',
    ...REPRESENTATIONS.map((r) => helpItem(r, REPRESENTATION_DESCRIPTIONS[r])),
    '',
    'Scaling (--scaling):',
    helpItem('mean', 'the average over inputs of the per-input quantity; the n labels drawn for one input are averaged first, so Î1 = (1/(N_x·n)) Σ_x Σ_s s sᵀ. Estimates I(θ) = E_x[I(θ|x)].'),
    helpItem('sum', 'N_x times that: the information in the whole data set (as a Laplace posterior uses).'),
    '',
    wrap(
      'For piecewise-linear networks (relu, leaky-relu, identity) Î2 equals the exact FIM within each layer: the second derivatives of the network output with respect to one layer\'s parameters vanish almost everywhere. The report notes it.',
      HELP_WIDTH,
      0,
    ),
    '',
    'Examples:',
    "  fimkit train --data 'synthetic:blobs?k=3' --arch 2-16-3 --out runs/blobs",
    "  fimkit fisher --model runs/blobs/model.json --data 'synthetic:blobs?k=3'            # exact, diag",
    "  fimkit fisher --model runs/blobs/model.json --data 'synthetic:blobs?k=3' \\",
    '      --estimator i1 --labels-per-input 8 --repr block',
    "  fimkit fisher --model runs/blobs/model.json --data 'synthetic:blobs?k=3' \\",
    '      --mode conditional --input-index 5 --repr dense --json',
    '',
    'Exit codes: 0 done, 1 error (bad model, data or likelihood; matrix too large), 2 bad usage.',
  ].join('\n'),
  flags: FLAGS,
  run,
};
