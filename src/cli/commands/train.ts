/**
 * `fimkit train`: trains a model on a dataset and writes model.json, metrics.json and a
 * checkpoint to the output directory; `--resume` continues an interrupted run bit-identically.
 */
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { getBackend, setBackend } from '../../core/backends/index.js';
import type { BackendName } from '../../core/backend.js';
import type { DType } from '../../core/dtype.js';
import { FimkitError } from '../../core/errors.js';
import { Rng } from '../../core/rng.js';
import { resolveDataset, subset, type Dataset } from '../../data/index.js';
import { writeJsonAtomic } from '../../io/atomic.js';
import { likelihoodNameFor, makeLikelihood, LIKELIHOOD_NAMES } from '../../likelihoods/index.js';
import { loadModelFile } from '../../nn/import/files.js';
import { ACTIVATIONS, buildModel, parseArchitecture, saveModel, zeroOutputLayer, type ActivationName, type Sequential } from '../../nn/index.js';
import { OPTIMIZER_NAMES, SCHEDULE_KINDS, describeSchedule, type OptimizerConfig, type OptimizerName, type ScheduleKind } from '../../optim/index.js';
import { FileCheckpointStore } from '../../train/checkpoint-file.js';
import { CHECKPOINT_FILE, type EpochMetrics, type RunConfig } from '../../train/checkpoint.js';
import { formatDuration, formatRate } from '../../train/progress.js';
import { train, validateTrainingSetup, type ScheduleOptions, type TrainResult } from '../../train/trainer.js';
import { UsageError, flagNumber, flagString, type FlagSpec, type ParsedArgs } from '../args.js';
import { EXIT_INTERRUPTED, EXIT_OK, stderrNotes, timestampForPath, type CliIO, type Command } from '../command.js';
import { BACKEND_FLAG, DATA_FLAG, DOWNLOAD_FLAG, DTYPE_FLAG, FORCE_FLAG, SIGMA2_FLAG, SPLIT_SEED_FLAG, likelihoodFromFlags, parseSplitFlag, splitFractionFlag, JSON_FLAG, QUIET_FLAG, SEED_FLAG } from '../common-flags.js';
import { checkOutDir, dataInputs } from '../model-data.js';
import { fimkitVersion } from '../version.js';

const DEFAULT_LR: Record<OptimizerName, number> = { adam: 1e-3, adamw: 1e-3, sgd: 1e-2 };
const DEFAULT_HIDDEN = [256, 256];
const DEFAULT_CHECKPOINT_EVERY = 500;

const FLAGS: FlagSpec[] = [
  DATA_FLAG,
  DOWNLOAD_FLAG,
  splitFractionFlag('split'),
  SPLIT_SEED_FLAG,
  { name: 'train-limit', type: 'int', min: 0, default: 0, description: 'Use only the first N training samples (0: all).', group: 'Data' },
  { name: 'test-limit', type: 'int', min: 0, default: 0, description: 'Evaluate on only the first N test samples (0: all).', group: 'Data' },

  {
    name: 'arch',
    type: 'string',
    metavar: 'ARCH',
    description:
      "Architecture: sizes joined by '-' (dense layers; a leading size equal to the data's feature count just states the input, so '256-256-10' and '784-256-256-10' are the same on 28×28 data), plus cN[kK][sS][pP] conv, mK/aK pooling, dP dropout tokens for image data, e.g. 'c8k5-m2-64-10'.",
    defaultText: `<features>-${DEFAULT_HIDDEN.join('-')}-<outputs> (784-256-256-10 on 28×28, 10-class data)`,
    group: 'Model',
  },
  { name: 'activation', type: 'enum', choices: ACTIVATIONS, default: 'relu', description: 'Activation after every hidden layer.', group: 'Model' },
  { name: 'dropout', type: 'number', min: 0, max: 1, exclusiveMax: true, default: 0, description: 'Dropout probability after every hidden activation of an MLP architecture.', group: 'Model' },
  {
    name: 'likelihood',
    type: 'enum',
    choices: LIKELIHOOD_NAMES,
    description: 'Output distribution whose negative log-likelihood is the loss.',
    defaultText: 'from the data: categorical for classes, gaussian for reals, bernoulli for multilabel, poisson for counts',
    group: 'Model',
  },
  SIGMA2_FLAG,
  {
    name: 'output-init',
    type: 'enum',
    choices: ['zero', 'random'],
    default: 'zero',
    description: "Initial weights of the output layer: 'zero' (every input starts at the same prediction, uniform over classes, so training starts from chance, not from a random confident mapping; the hidden layers are random) or 'random' (the same scheme as the hidden layers).",
    group: 'Model',
  },
  { name: 'init-model', type: 'path', description: 'Start from the weights of this model instead of a random initialisation (the architecture comes from the file): a fimkit model.json, an ONNX file or a TF.js Layers model.json.', group: 'Model' },

  { name: 'optimizer', type: 'enum', choices: OPTIMIZER_NAMES, default: 'adam', description: 'Optimiser.', group: 'Optimisation' },
  { name: 'lr', type: 'number', min: 0, exclusiveMin: true, description: 'Peak learning rate.', defaultText: '0.001 for adam and adamw, 0.01 for sgd', group: 'Optimisation' },
  { name: 'momentum', type: 'number', min: 0, max: 1, exclusiveMax: true, description: 'SGD momentum.', defaultText: '0.9 (sgd only)', group: 'Optimisation' },
  { name: 'nesterov', type: 'boolean', description: 'Nesterov momentum (sgd only).', group: 'Optimisation' },
  {
    name: 'weight-decay',
    type: 'number',
    min: 0,
    description: 'L2 penalty in the gradient for sgd and adam; decoupled decay rate for adamw.',
    defaultText: '0 (sgd, adam), 0.01 (adamw)',
    group: 'Optimisation',
  },
  { name: 'beta1', type: 'number', min: 0, max: 1, exclusiveMax: true, default: 0.9, description: 'Adam first-moment decay.', group: 'Optimisation' },
  { name: 'beta2', type: 'number', min: 0, max: 1, exclusiveMax: true, default: 0.999, description: 'Adam second-moment decay.', group: 'Optimisation' },
  {
    name: 'schedule',
    type: 'enum',
    choices: SCHEDULE_KINDS,
    default: 'cosine',
    description: 'Learning-rate schedule, applied per step. The default anneals --lr to --min-lr along a half cosine over the run, so the last epochs average out minibatch noise.',
    group: 'Optimisation',
  },
  { name: 'warmup-steps', type: 'int', min: 0, description: 'Linear warm-up length (warmup-cosine).', defaultText: '5% of all steps', group: 'Optimisation' },
  { name: 'lr-step', type: 'int', min: 1, description: 'Steps per decay by --lr-gamma (step, exponential).', defaultText: 'one epoch', group: 'Optimisation' },
  { name: 'lr-gamma', type: 'number', min: 0, exclusiveMin: true, description: 'Decay factor per --lr-step steps (step, exponential).', defaultText: '0.1 (step), 0.5 (exponential)', group: 'Optimisation' },
  { name: 'min-lr', type: 'number', min: 0, description: 'Final learning rate (cosine, warmup-cosine).', defaultText: '0', group: 'Optimisation' },
  { name: 'epochs', type: 'int', min: 1, default: 5, description: 'Passes over the training data.', group: 'Optimisation' },
  { name: 'batch-size', type: 'int', min: 1, default: 128, description: 'Samples per step.', group: 'Optimisation' },

  SEED_FLAG,
  DTYPE_FLAG,
  BACKEND_FLAG,

  {
    name: 'out',
    type: 'path',
    metavar: 'DIR',
    description: 'Output directory for model.json, metrics.json and checkpoint.json (created if needed).',
    defaultText: 'runs/train-<YYYYMMDD-HHMMSS> under the current directory',
    group: 'Run',
  },
  {
    name: 'checkpoint-every',
    type: 'int',
    min: 0,
    default: DEFAULT_CHECKPOINT_EVERY,
    description: 'Also checkpoint every N steps within an epoch (0: only at epoch ends). Checkpoints are written atomically.',
    group: 'Run',
  },
  { ...FORCE_FLAG, description: 'Start a new run in an --out that already holds one (replacing its model.json, metrics.json and checkpoint). The --init-model and data files are never overwritten.', group: 'Run' },
  { name: 'resume', type: 'boolean', description: 'Continue the run in --out from its checkpoint; refuses if any setting differs (the backend included: kernels round differently).', group: 'Run' },
  QUIET_FLAG,
  JSON_FLAG,
];



/** A fresh default output directory (suffixed when the second is already taken). */
function defaultOutDir(): string {
  const base = join('runs', `train-${timestampForPath()}`);
  let dir = base;
  for (let i = 2; existsSync(dir); i++) dir = `${base}-${i}`;
  return dir;
}

/** Usage errors for flags that do not apply to the chosen optimiser or schedule. */
function checkFlagCombinations(args: ParsedArgs): void {
  const f = args.flags;
  const opt = flagString(f, 'optimizer') as OptimizerName;
  const sched = flagString(f, 'schedule') as ScheduleKind;
  const onlyFor = (flag: string, ok: boolean, what: string): void => {
    if (args.given.has(flag) && !ok) throw new UsageError(`--${flag} applies only to ${what}`);
  };
  onlyFor('momentum', opt === 'sgd', '--optimizer sgd');
  onlyFor('nesterov', opt === 'sgd', '--optimizer sgd');
  onlyFor('beta1', opt !== 'sgd', '--optimizer adam or adamw');
  onlyFor('beta2', opt !== 'sgd', '--optimizer adam or adamw');
  onlyFor('warmup-steps', sched === 'warmup-cosine', '--schedule warmup-cosine');
  onlyFor('lr-step', sched === 'step' || sched === 'exponential', '--schedule step or exponential');
  onlyFor('lr-gamma', sched === 'step' || sched === 'exponential', '--schedule step or exponential');
  onlyFor('min-lr', sched === 'cosine' || sched === 'warmup-cosine', '--schedule cosine or warmup-cosine');
  if (f['nesterov'] === true && f['momentum'] === 0) throw new UsageError('--nesterov needs --momentum > 0');
  if (args.given.has('init-model') && (args.given.has('arch') || args.given.has('dropout') || args.given.has('activation') || args.given.has('output-init'))) {
    throw new UsageError('--init-model takes the architecture from the model file; drop --arch, --activation, --dropout and --output-init');
  }
  if (f['resume'] === true && !args.given.has('out')) throw new UsageError('--resume needs --out DIR, the directory of the run to continue');
}

function firstN(ds: Dataset, n: number): Dataset {
  if (n === 0 || n >= ds.length) return ds;
  return subset(ds, Array.from({ length: n }, (_, i) => i), ds.name);
}

function outputWidth(ds: Dataset): number {
  return ds.targetKind === 'class' ? ds.numClasses ?? 1 : ds.targetDim;
}

function featureCount(shape: readonly number[]): number {
  return shape.reduce((a, d) => a * d, 1);
}

/** A compact architecture description for the report ("784-256-256-10" for MLPs). */
function describeModel(model: Sequential): string {
  const spec = model.spec();
  const dense = spec.layers.filter((l) => l.type === 'dense') as { in: number; out: number }[];
  const onlyDense = spec.layers.every((l) => l.type === 'dense' || l.type === 'activation' || l.type === 'flatten' || l.type === 'dropout');
  if (onlyDense && dense.length > 0) return [dense[0]!.in, ...dense.map((d) => d.out)].join('-');
  return spec.layers.map((l) => l.type).join(' → ');
}

function pct(x: number | null): string {
  return x === null ? '-' : `${(100 * x).toFixed(2)}%`;
}

export function formatEpochTable(epochs: readonly EpochMetrics[]): string {
  const header = ['epoch', 'train loss', 'test loss', 'test acc', 'lr', 'seconds'];
  const rows = epochs.map((e) => [
    String(e.epoch),
    e.trainLoss.toFixed(4),
    e.testLoss === null ? '-' : e.testLoss.toFixed(4),
    pct(e.testAccuracy),
    e.lr.toPrecision(3),
    e.seconds.toFixed(1),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const fmt = (r: string[]): string => r.map((c, i) => c.padStart(widths[i]!)).join('  ');
  return [fmt(header), ...rows.map(fmt)].join('\n');
}

/** Blocks forever after the given step's checkpoint: lets tests SIGKILL a run at a known point. */
function debugHangHook(io: CliIO): ((step: number, checkpointed: boolean) => void) | null {
  const raw = io.env?.['FIMKIT_DEBUG_HANG_AFTER_CHECKPOINT_STEP'];
  if (raw === undefined || raw === '') return null;
  const at = Number(raw);
  return (step, checkpointed) => {
    if (step !== at || !checkpointed) return;
    io.stderr.write(`debug: checkpoint after step ${step} written; hanging until killed\n`);
    const cell = new Int32Array(new SharedArrayBuffer(4));
    for (;;) Atomics.wait(cell, 0, 0, 60_000);
  };
}

async function run(args: ParsedArgs, io: CliIO): Promise<number> {
  checkFlagCombinations(args);
  const f = args.flags;
  const json = f['json'] === true;
  const quiet = f['quiet'] === true;
  const note = stderrNotes(io, quiet);

  // Backend first: it decides the kernels every later step runs on.
  if (f['backend'] !== undefined) setBackend(f['backend'] as BackendName);
  const backend = getBackend();

  // Output directory: checked (a file or dangling link where the directory should be, /proc,
  // an unwritable place, an input inside it) before anything is loaded. A fresh run refuses to
  // overwrite another run's checkpoint or results unless --force; --resume continues it.
  const outDir = flagString(f, 'out') ?? defaultOutDir();
  const resume = f['resume'] === true;
  const force = f['force'] === true;
  const inputs = [...dataInputs(flagString(f, 'data')), ...(flagString(f, 'init-model') !== undefined ? [{ path: flagString(f, 'init-model')!, flag: '--init-model' }] : [])];
  checkOutDir(outDir, resume ? [] : ['model.json', 'metrics.json', CHECKPOINT_FILE], { ...f, force: true }, inputs);
  const store = new FileCheckpointStore(outDir);
  if (resume && !store.exists()) {
    throw new FimkitError('IO', `--resume: no ${CHECKPOINT_FILE} in ${outDir} to continue from`);
  }
  if (!resume && !force && store.exists()) {
    throw new UsageError(`--out ${outDir} already holds a run (${CHECKPOINT_FILE}); add --resume to continue it, --force to start over, or choose another --out`);
  }
  if (!resume && !force && existsSync(outDir) && readdirSync(outDir).some((n) => n === 'model.json' || n === 'metrics.json')) {
    throw new UsageError(`--out ${outDir} already holds results (model.json / metrics.json); add --force to replace them, or choose another --out`);
  }
  if (resume && force) throw new UsageError('--force starts a new run over the old one; it cannot be combined with --resume');

  // Data.
  const dataSpec = flagString(f, 'data')!;
  const split = await resolveDataset(dataSpec, {
    download: f['download'] === true, ...(quiet ? {} : { log: note }),
    split: parseSplitFlag(flagString(f, 'split'), 'split'), seed: flagNumber(f, 'split-seed')!,
  });
  const trainSet = firstN(split.train, flagNumber(f, 'train-limit')!);
  const testSet = firstN(split.test, flagNumber(f, 'test-limit')!);

  // Model.
  const dtype = flagString(f, 'dtype') as DType;
  const seed = flagNumber(f, 'seed')!;
  const activation = flagString(f, 'activation') as ActivationName;
  const dropout = flagNumber(f, 'dropout')!;
  let model: Sequential;
  let arch: string;
  const initModel = flagString(f, 'init-model');
  if (initModel !== undefined) {
    model = loadModelFile(initModel, dtype).model; // fimkit JSON, ONNX or TF.js
    arch = `from ${initModel}`;
  } else {
    arch = flagString(f, 'arch') ?? [featureCount(trainSet.inputShape), ...DEFAULT_HIDDEN, outputWidth(trainSet)].join('-');
    let spec = parseArchitecture(arch, activation, trainSet.inputShape);
    if (dropout > 0) {
      // Dropout after every hidden activation, as the flag promises.
      const layers = spec.layers.flatMap((l, i) =>
        l.type === 'activation' && i < spec.layers.length - 1 ? [l, { type: 'dropout' as const, p: dropout }] : [l],
      );
      spec = { ...spec, layers };
    }
    model = buildModel(spec, new Rng(seed).derive('init'), dtype);
    if (flagString(f, 'output-init') === 'zero') zeroOutputLayer(model);
  }

  const lk = likelihoodFromFlags(f, likelihoodNameFor(trainSet.targetKind));
  const likelihood = makeLikelihood(lk.name, lk.opts);

  // Optimiser and schedule.
  const optName = flagString(f, 'optimizer') as OptimizerName;
  const lr = flagNumber(f, 'lr') ?? DEFAULT_LR[optName];
  const optimizer: OptimizerConfig = {
    name: optName,
    lr,
    ...(optName === 'sgd'
      ? { momentum: flagNumber(f, 'momentum') ?? 0.9, nesterov: f['nesterov'] === true }
      : { beta1: flagNumber(f, 'beta1')!, beta2: flagNumber(f, 'beta2')! }),
    weightDecay: flagNumber(f, 'weight-decay') ?? (optName === 'adamw' ? 0.01 : 0),
  };
  const batchSize = flagNumber(f, 'batch-size')!;
  const epochs = flagNumber(f, 'epochs')!;
  const stepsPerEpoch = Math.ceil(trainSet.length / batchSize);
  const totalSteps = stepsPerEpoch * epochs;
  const kind = flagString(f, 'schedule') as ScheduleKind;
  const schedule: ScheduleOptions = { kind };
  if (kind === 'warmup-cosine') {
    schedule.warmupSteps = flagNumber(f, 'warmup-steps') ?? Math.min(totalSteps - 1, Math.round(0.05 * totalSteps));
    if (schedule.warmupSteps >= totalSteps) throw new UsageError(`--warmup-steps must be below the run's ${totalSteps} steps, got ${schedule.warmupSteps}`);
  }
  if (kind === 'step' || kind === 'exponential') {
    schedule.stepSize = flagNumber(f, 'lr-step') ?? stepsPerEpoch;
    schedule.gamma = flagNumber(f, 'lr-gamma') ?? (kind === 'step' ? 0.1 : 0.5);
  }
  if (kind === 'cosine' || kind === 'warmup-cosine') {
    schedule.minLr = flagNumber(f, 'min-lr') ?? 0;
    if (schedule.minLr > lr) throw new UsageError(`--min-lr (${schedule.minLr}) must not exceed --lr (${lr})`);
  }

  // Identity of the run: a resume must match every one of these (named as the flags).
  const config: RunConfig = {
    data: dataSpec,
    split: flagString(f, 'split')!,
    'split-seed': flagNumber(f, 'split-seed')!,
    sigma2: flagNumber(f, 'sigma2') ?? null,
    'train-limit': flagNumber(f, 'train-limit'),
    'test-limit': flagNumber(f, 'test-limit'),
    arch: initModel === undefined ? arch : null,
    activation: initModel === undefined ? activation : null,
    dropout: initModel === undefined ? dropout : null,
    'output-init': initModel === undefined ? flagString(f, 'output-init')! : null,
    'init-model': initModel ?? null,
  };

  // Fail on data that does not fit before anything is printed or created.
  validateTrainingSetup(model, likelihood, trainSet, testSet);

  const checkpointEvery = flagNumber(f, 'checkpoint-every')!;
  const header =
    `fimkit train: ${trainSet.name} (${trainSet.length} train, ${testSet.length} test samples)\n` +
    `  model ${describeModel(model)}${initModel === undefined ? ` ${activation}` : ` from ${initModel}`} (${model.numParams().toLocaleString('en-US')} parameters, ${dtype}), ${likelihood.name} likelihood\n` +
    `  ${optName} lr ${lr} (${describeSchedule({ ...schedule, lr, totalSteps } as Parameters<typeof describeSchedule>[0])}), batch ${batchSize}, ${epochs} epoch${epochs === 1 ? "" : "s"} of ${stepsPerEpoch} steps, seed ${seed}\n` +
    `  backend ${backend.name} (${backend.threads} thread${backend.threads === 1 ? '' : 's'}); output ${outDir}`;
  note(header);

  mkdirSync(outDir, { recursive: true });
  let interrupted = false;
  const unregister = io.onInterrupt?.(() => {
    interrupted = true;
    io.stderr.write('\ninterrupt: finishing the current step and writing a checkpoint (Ctrl-C again to abort)\n');
  });
  const hang = debugHangHook(io);
  const metricsPath = join(outDir, 'metrics.json');
  let result: TrainResult;
  try {
    result = await train({
      model,
      likelihood,
      train: trainSet,
      test: testSet,
      optimizer,
      schedule,
      epochs,
      batchSize,
      seed,
      checkpoint: store,
      checkpointEvery,
      resume,
      config,
      progress: quiet ? null : io.stderr,
      shouldStop: () => interrupted,
      onStep: hang ? (s) => hang(s.globalStep, s.checkpointed) : undefined,
    });
  } finally {
    unregister?.();
  }

  const files = { model: join(outDir, 'model.json'), metrics: metricsPath, checkpoint: store.path };
  const report = {
    command: 'train',
    fimkit: fimkitVersion(),
    status: result.status,
    data: { spec: dataSpec, train: trainSet.name, trainSamples: trainSet.length, test: testSet.name, testSamples: testSet.length },
    model: { architecture: describeModel(model), parameters: model.numParams(), dtype, likelihood: likelihood.name },
    optimizer,
    schedule,
    epochs: result.epochs,
    finalTestAccuracy: result.finalTestAccuracy,
    finalTestLoss: result.finalTestLoss,
    wallSeconds: result.wallSeconds,
    sessionSeconds: result.sessionSeconds,
    samplesPerSecond: result.samplesPerSecond,
    globalStep: result.globalStep,
    totalSteps: result.totalSteps,
    resumedFrom: result.resumedFrom,
    backend: { name: result.backend, threads: result.threads },
    config: result.config,
    files: result.status === 'completed' ? files : { checkpoint: store.path },
  };

  if (result.status !== 'completed') {
    const where = `epoch ${Math.min(epochs, Math.floor(result.globalStep / stepsPerEpoch) + 1)}, global step ${result.globalStep} of ${result.totalSteps}`;
    io.stderr.write(`stopped at ${where}; checkpoint saved in ${store.path}\nresume with the same flags plus: --resume --out ${outDir}\n`);
    if (json) io.stdout.write(JSON.stringify(report, null, 2) + '\n');
    return EXIT_INTERRUPTED;
  }

  saveModel(files.model, model, {
    fimkit: fimkitVersion(),
    trainedWith: result.config,
    finalTestAccuracy: result.finalTestAccuracy,
    finalTestLoss: result.finalTestLoss,
  });
  writeJsonAtomic(metricsPath, report);

  if (json) {
    io.stdout.write(JSON.stringify(report, null, 2) + '\n');
  } else {
    const lines = [
      formatEpochTable(result.epochs),
      '',
      result.finalTestAccuracy !== null
        ? `final test accuracy ${pct(result.finalTestAccuracy)} on ${testSet.length} samples (test loss ${result.finalTestLoss?.toFixed(4)})`
        : `final test loss ${result.finalTestLoss?.toFixed(4) ?? '-'} on ${testSet.length} samples`,
      `wall time ${formatDuration(result.wallSeconds)} (${result.wallSeconds.toFixed(1)} s${result.resumedFrom ? ', all sessions' : ''}); training ${formatRate(result.samplesPerSecond)}; backend ${result.backend} (${result.threads} thread${result.threads === 1 ? '' : 's'}), ${dtype}`,
      `wrote ${files.model}, ${files.metrics}, ${files.checkpoint}`,
    ];
    io.stdout.write(lines.join('\n') + '\n');
  }
  return EXIT_OK;
}

export const trainCommand: Command = {
  name: 'train',
  summary: 'Train a model on a dataset (checkpointed; resumable)',
  description:
    'Trains a network by minibatch optimisation of the negative log-likelihood, evaluating on the test split after every epoch. ' +
    'Progress goes to stderr; the summary (or, with --json, one JSON document) to stdout. The run directory receives model.json ' +
    '(the fimkit model format), metrics.json (per-epoch metrics and the full configuration) and checkpoint.json. ' +
    'A run stopped at any point (Ctrl-C, kill, power loss) continues with --resume and ends with exactly the parameters an uninterrupted run would have.',
  epilog: [
    'Examples:',
    '  fimkit train                                   # embedded Fashion-MNIST subset, 784-256-256-10, Adam',
    '  fimkit train --data fashion-mnist --epochs 5 --out runs/fmnist',
    "  fimkit train --data 'synthetic:blobs?k=3' --arch 2-16-3 --epochs 2 --seed 1   # 3 Gaussian blobs, seconds",
    "  fimkit train --data 'synthetic:blobs?k=3' --arch 16-3 --optimizer sgd --lr 0.1 --schedule step",
    '  fimkit train --resume --out runs/fmnist --data fashion-mnist --epochs 5',
    '',
    'Exit codes: 0 done, 1 error, 2 bad usage, 130 interrupted (checkpoint saved).',
  ].join('\n'),
  flags: FLAGS,
  run,
};
