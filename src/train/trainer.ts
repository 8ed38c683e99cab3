/**
 * Minibatch training of a Sequential model on a likelihood's negative log-likelihood.
 *
 * Reproducibility is designed in: every random choice is a pure function of the seed and the
 * position in the run, never of how many draws came before.
 *   - the order of epoch e is the permutation drawn from rng.derive('shuffle').derive(e);
 *   - the dropout masks of global step s come from rng.derive('dropout').derive(s);
 *   - the learning rate of step s is schedule(s).
 * With the model, optimiser state and position restored from a checkpoint, a resumed run
 * therefore performs exactly the same floating-point operations as an uninterrupted one, and ends
 * with bit-identical parameters (on the same backend).
 *
 * Browser-safe: checkpoints go through a CheckpointStore, progress through a ProgressSink.
 */
import { grad } from '../autodiff/grad.js';
import { getBackend } from '../core/backends/index.js';
import { allocArray } from '../core/dtype.js';
import { fail, FimkitError } from '../core/errors.js';
import { checkOptions, type OptionSchema } from '../core/options.js';
import { checkDatasetArg } from '../data/dataset.js';
import { checkLikelihoodArg } from '../likelihoods/index.js';
import { checkModelArg } from '../nn/sequential.js';
import { SCHEDULE_KINDS } from '../optim/schedule.js';
import { Rng } from '../core/rng.js';
import { Tensor, sizeOf } from '../core/tensor.js';
import { batchOf, checkInputsFitDType, validateDataset, type Dataset } from '../data/dataset.js';
import { BufferScope } from '../core/pool.js';
import type { Likelihood } from '../likelihoods/likelihood.js';
import { checkLikelihoodFits } from '../likelihoods/index.js';
import { modelFromJSON, modelToJSON } from '../nn/format.js';
import type { Sequential } from '../nn/sequential.js';
import { makeOptimizer, type OptimizerConfig } from '../optim/index.js';
import type { Optimizer } from '../optim/optimizer.js';
import { makeSchedule, type ScheduleKind, type ScheduleSpec } from '../optim/schedule.js';
import {
  CHECKPOINT_FORMAT, CHECKPOINT_VERSION, checkConfigMatches,
  type Checkpoint, type CheckpointStore, type EpochMetrics, type RunConfig, type TrainingPosition,
} from './checkpoint.js';
import { checkInputShape, evaluate } from './evaluate.js';
import { ProgressReporter, type ProgressOptions, type ProgressSink } from './progress.js';

/** A schedule without the parts the trainer supplies (peak rate from the optimiser, run length). */
export type ScheduleOptions = { kind: ScheduleKind } & Omit<ScheduleSpec, 'kind' | 'lr' | 'totalSteps'>;

export interface StepInfo {
  epoch: number; // 0-based
  stepInEpoch: number; // steps done in this epoch, after this one
  globalStep: number; // steps done in the run, after this one
  loss: number;
  lr: number;
  /** Whether a checkpoint was written after this step. */
  checkpointed: boolean;
}

export interface TrainOptions {
  model: Sequential;
  likelihood: Likelihood;
  train: Dataset;
  /** Evaluated after every epoch (loss, and accuracy for class targets). */
  test?: Dataset;
  optimizer: OptimizerConfig;
  /** Default: constant at optimizer.lr. */
  schedule?: ScheduleOptions;
  epochs: number;
  batchSize: number;
  seed: number | string;
  /** Forward-pass chunk for evaluation (default 1000). */
  evalBatchSize?: number;
  /** Where checkpoints go; none are written without one. */
  checkpoint?: CheckpointStore;
  /** Also checkpoint every this many global steps (0: only at epoch ends; default 0). */
  checkpointEvery?: number;
  /** Continue from the store's checkpoint (an error when there is none). */
  resume?: boolean;
  /**
   * Extra fields identifying the run (e.g. the CLI's data spec and architecture string); merged
   * over the trainer's own and compared on resume.
   */
  config?: RunConfig;
  /** Progress sink; null or omitted: silent. */
  progress?: ProgressSink | null;
  progressOptions?: ProgressOptions;
  /** Return (status 'stopped') after this many global steps, checkpointing there first. */
  stopAfterSteps?: number;
  /** Polled after every step; returning true checkpoints and returns (status 'interrupted'). */
  shouldStop?: () => boolean;
  /** Called after every step (and after its checkpoint, if any). */
  onStep?: (info: StepInfo) => void;
  /**
   * Called after each epoch's evaluation and checkpoint, with the model as it is then (studies
   * measure it here). Awaited; its time is not counted in the epoch's seconds.
   */
  onEpochEnd?: (metrics: EpochMetrics, model: Sequential) => void | Promise<void>;
}

export interface TrainResult {
  status: 'completed' | 'stopped' | 'interrupted';
  epochs: EpochMetrics[];
  /** Training time summed over all sessions of the run (excludes loading data). */
  wallSeconds: number;
  /** Time spent in this call. */
  sessionSeconds: number;
  finalTestLoss: number | null;
  finalTestAccuracy: number | null;
  globalStep: number;
  stepsPerEpoch: number;
  totalSteps: number;
  /** Training throughput in this session (samples per second, excluding evaluation). */
  samplesPerSecond: number;
  resumedFrom: TrainingPosition | null;
  backend: string;
  threads: number;
  config: RunConfig;
}

function positiveInt(what: string, v: number): void {
  if (!Number.isInteger(v) || v < 1) fail('INVALID_ARGUMENT', `${what} must be a positive integer, got ${v}`);
}

/**
 * Checks, before any training, that data, model and likelihood fit together: input shapes,
 * output width, target kind and values, finite inputs. Errors name what does not fit.
 */
export function validateTrainingSetup(model: Sequential, likelihood: Likelihood, train: Dataset, test?: Dataset): void {
  for (const ds of test ? [train, test] : [train]) {
    validateDataset(ds);
    checkInputShape(model, ds);
    checkInputsFitDType(ds, model.dtype);
    if (ds.targetKind !== likelihood.targetKind) {
      fail(
        'INVALID_ARGUMENT',
        `the ${likelihood.name} likelihood models ${likelihood.targetKind} targets, but dataset '${ds.name}' has ${ds.targetKind} targets`,
      );
    }
    checkLikelihoodFits(likelihood, model.outputDim, ds);
    likelihood.checkTargets(ds.targets, ds.length, model.outputDim);
  }
  if (train.length === 0) fail('SHAPE', `training set '${train.name}' is empty`);
}

/** The trainer's identity fields of a run (named like the CLI flags that set them). */
function runConfig(o: TrainOptions): RunConfig {
  const opt = o.optimizer;
  const s = o.schedule ?? { kind: 'constant' as const };
  const cfg: RunConfig = {
    model: o.model.spec(),
    dtype: o.model.dtype,
    likelihood: o.likelihood.name,
    'train-data': `${o.train.name} (${o.train.length} samples)`,
    'test-data': o.test ? `${o.test.name} (${o.test.length} samples)` : null,
    optimizer: opt.name,
    lr: opt.lr,
    momentum: opt.momentum,
    nesterov: opt.nesterov,
    'weight-decay': opt.weightDecay,
    beta1: opt.beta1,
    beta2: opt.beta2,
    eps: opt.eps,
    schedule: s.kind,
    'warmup-steps': s.warmupSteps,
    'lr-step': s.stepSize,
    'lr-gamma': s.gamma,
    'min-lr': s.minLr,
    epochs: o.epochs,
    'batch-size': o.batchSize,
    seed: o.seed,
    backend: getBackend().name,
    ...(o.config ?? {}),
  };
  // Drop unset fields so a checkpoint's JSON (which cannot hold undefined) compares equal.
  for (const k of Object.keys(cfg)) if (cfg[k] === undefined) delete cfg[k];
  return cfg;
}

const now = (): number => performance.now() / 1000;

/** Lets the event loop run (signals, timers, UI) without changing any computation. */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

function restoreWeights(model: Sequential, ckpt: Checkpoint, location: string): void {
  let saved: Sequential;
  try {
    saved = modelFromJSON(ckpt.model, model.dtype);
  } catch (e) {
    if (e instanceof FimkitError) throw new FimkitError('CORRUPT_FILE', `checkpoint ${location}: model: ${e.message}`);
    throw e;
  }
  const src = saved.parameters();
  const dst = model.parameters();
  if (src.length !== dst.length) fail('CORRUPT_FILE', `checkpoint ${location} holds ${src.length} parameter tensors, the model has ${dst.length}`);
  dst.forEach((p, i) => {
    if (src[i]!.size !== p.size) fail('CORRUPT_FILE', `checkpoint ${location}: parameter '${p.name}' has ${src[i]!.size} values, the model needs ${p.size}`);
    p.data.set(src[i]!.data);
  });
}

/** The rules TrainOptions are checked against. */
export const TRAIN_OPTION_SCHEMA: OptionSchema = {
  model: { kind: 'object', required: true },
  likelihood: { kind: 'object', required: true },
  train: { kind: 'object', required: true },
  test: { kind: 'object' },
  optimizer: { kind: 'object', required: true },
  schedule: { kind: 'object' },
  epochs: { kind: 'int', min: 1, required: true },
  batchSize: { kind: 'int', min: 1, required: true },
  seed: { kind: 'seed', required: true },
  evalBatchSize: { kind: 'int', min: 1 },
  checkpoint: { kind: 'object' },
  checkpointEvery: { kind: 'int', min: 0 },
  resume: { kind: 'boolean' },
  config: { kind: 'object' },
  progress: { kind: 'object', nullable: true },
  progressOptions: { kind: 'object' },
  stopAfterSteps: { kind: 'int', min: 1 },
  shouldStop: { kind: 'function' },
  onStep: { kind: 'function' },
  onEpochEnd: { kind: 'function' },
};

export async function train(o: TrainOptions): Promise<TrainResult> {
  const t0 = now();
  checkOptions('train', o, TRAIN_OPTION_SCHEMA);
  checkModelArg('train', o.model);
  checkLikelihoodArg('train', o.likelihood);
  checkDatasetArg('train', o.train, 'train');
  if (o.test !== undefined) checkDatasetArg('train', o.test, 'test');
  if (o.schedule !== undefined) {
    checkOptions('train', o.schedule, {
      kind: { kind: 'enum', values: SCHEDULE_KINDS, required: true }, stepSize: { kind: 'int', min: 1 }, gamma: { kind: 'number', min: 0, exclusiveMin: true },
      warmupSteps: { kind: 'int', min: 0 }, minLr: { kind: 'number', min: 0 },
    }, 'schedule');
  }
  const { model, likelihood, train: ds, test } = o;
  positiveInt('epochs', o.epochs);
  positiveInt('batch size', o.batchSize);
  const checkpointEvery = o.checkpointEvery ?? 0;
  if (!Number.isInteger(checkpointEvery) || checkpointEvery < 0) fail('INVALID_ARGUMENT', `checkpointEvery must be a non-negative integer, got ${checkpointEvery}`);
  if (o.stopAfterSteps !== undefined) positiveInt('stopAfterSteps', o.stopAfterSteps);
  validateTrainingSetup(model, likelihood, ds, test);

  const N = ds.length;
  const B = o.batchSize;
  const stepsPerEpoch = Math.ceil(N / B);
  const totalSteps = stepsPerEpoch * o.epochs;
  const sched = o.schedule ?? { kind: 'constant' as const };
  const schedule = makeSchedule({ ...sched, lr: o.optimizer.lr, totalSteps });
  const optimizer: Optimizer = makeOptimizer(o.optimizer);
  const config = runConfig(o);
  const backend = getBackend();
  const root = new Rng(o.seed);
  const shuffleRoot = root.derive('shuffle');
  const dropoutRoot = root.derive('dropout');
  const params = model.parameters();

  // Run state (restored from a checkpoint when resuming).
  const pos: TrainingPosition = { epoch: 0, stepInEpoch: 0, globalStep: 0 };
  let epochs: EpochMetrics[] = [];
  let epochLossSum = 0;
  let epochSamples = 0;
  /** Seconds the epoch in progress took in earlier sessions (from the checkpoint). */
  let epochSecondsBefore = 0;
  let wallBefore = 0;
  let resumedFrom: TrainingPosition | null = null;

  if (o.resume) {
    if (!o.checkpoint) fail('INVALID_ARGUMENT', 'resume needs a checkpoint store');
    const ckpt = o.checkpoint.load();
    if (ckpt === null) fail('IO', `no checkpoint at ${o.checkpoint.location} to resume from`);
    checkConfigMatches(ckpt.config, config, o.checkpoint.location);
    const p = ckpt.position;
    if (p.epoch > o.epochs || (p.epoch < o.epochs && p.stepInEpoch > stepsPerEpoch) || p.globalStep !== p.epoch * stepsPerEpoch + p.stepInEpoch) {
      fail('CORRUPT_FILE', `checkpoint ${o.checkpoint.location}: position ${JSON.stringify(p)} does not fit ${o.epochs} epochs of ${stepsPerEpoch} steps`);
    }
    restoreWeights(model, ckpt, o.checkpoint.location);
    optimizer.loadState(ckpt.optimizer);
    if (optimizer.stepCount !== p.globalStep) fail('CORRUPT_FILE', `checkpoint ${o.checkpoint.location}: optimiser has taken ${optimizer.stepCount} steps but the position says ${p.globalStep}`);
    Object.assign(pos, p);
    epochs = ckpt.metrics.epochs.map((e) => ({ ...e }));
    epochLossSum = ckpt.metrics.epochLossSum;
    epochSamples = ckpt.metrics.epochSamples;
    epochSecondsBefore = ckpt.metrics.epochSeconds;
    wallBefore = ckpt.metrics.wallSeconds;
    resumedFrom = { ...p };
  }

  const progress = new ProgressReporter(o.progress ?? null, o.progressOptions);
  if (resumedFrom && (resumedFrom.epoch < o.epochs)) {
    progress.line(`resuming at epoch ${resumedFrom.epoch + 1}, step ${resumedFrom.stepInEpoch}/${stepsPerEpoch} (global step ${resumedFrom.globalStep}) from ${o.checkpoint!.location}`);
  }

  const sessionStart = now();
  /** When this session started working on the epoch in progress. */
  let epochStart = sessionStart;
  let sessionTrainSeconds = 0;
  let sessionSamples = 0;

  const saveCheckpoint = (epochSeconds: number): void => {
    if (!o.checkpoint) return;
    const wallSeconds = wallBefore + (now() - sessionStart);
    const ckpt: Checkpoint = {
      format: CHECKPOINT_FORMAT,
      version: CHECKPOINT_VERSION,
      createdAt: new Date().toISOString(),
      config,
      position: { ...pos },
      rng: { seed: o.seed, state: root.getState() },
      optimizer: optimizer.state(),
      metrics: { epochs, epochLossSum, epochSamples, epochSeconds, wallSeconds },
      model: modelToJSON(model, undefined, 'base64'),
    };
    o.checkpoint.save(ckpt);
  };

  // Reused minibatch buffers: the data arrays are allocated once.
  const D = sizeOf(ds.inputShape);
  const isClass = ds.targetKind === 'class';
  const buffers = {
    inputs: allocArray(model.dtype, B * D),
    targets: isClass ? new Int32Array(B) : allocArray(model.dtype, B * ds.targetDim),
  };
  const remainingSamples = (): number => (totalSteps - pos.globalStep) * B;
  let lastYield = now();
  let status: TrainResult['status'] = 'completed';

  const stepScope = new BufferScope();
  outer: while (pos.epoch < o.epochs) {
    const e = pos.epoch;
    const order = shuffleRoot.derive(e).permutation(N);
    let lr = schedule(Math.max(0, pos.globalStep - 1));
    while (pos.stepInEpoch < stepsPerEpoch) {
      const tStep = now();
      const start = pos.stepInEpoch * B;
      const idx = order.subarray(start, Math.min(N, start + B));
      const b = idx.length;
      const batch = batchOf(ds, idx, model.dtype, buffers);
      const x = new Tensor(batch.inputs, [b, D]);
      lr = schedule(pos.globalStep);
      optimizer.lr = lr;
      // The step's intermediate buffers are recycled for the next step (nothing escapes it).
      const lossValue = stepScope.run(() => {
        const h = model.forward(x, { training: true, rng: dropoutRoot.derive(pos.globalStep) });
        const loss = likelihood.nll(h, batch.targets);
        const value = loss.item();
        if (!Number.isFinite(value)) {
          fail('NON_FINITE', `training diverged: the loss is ${value} at epoch ${e + 1}, step ${pos.stepInEpoch + 1} (learning rate ${lr}); try a smaller --lr`);
        }
        optimizer.step(params, grad(loss, params));
        return value;
      });
      stepScope.recycle();
      epochLossSum += lossValue * b;
      epochSamples += b;
      pos.stepInEpoch++;
      pos.globalStep++;
      sessionSamples += b;
      sessionTrainSeconds += now() - tStep;

      const reachedStop = o.stopAfterSteps !== undefined && pos.globalStep >= o.stopAfterSteps;
      const stopHere = reachedStop || (o.shouldStop?.() ?? false);
      const endOfEpoch = pos.stepInEpoch === stepsPerEpoch;
      // The epoch-end checkpoint is written after evaluation; a mid-epoch one here.
      const checkpointed = !endOfEpoch && o.checkpoint !== undefined && (stopHere || (checkpointEvery > 0 && pos.globalStep % checkpointEvery === 0));
      if (checkpointed) saveCheckpoint(epochSecondsBefore + (now() - epochStart));
      o.onStep?.({ epoch: e, stepInEpoch: pos.stepInEpoch, globalStep: pos.globalStep, loss: lossValue, lr, checkpointed });

      const rate = sessionTrainSeconds > 0 ? sessionSamples / sessionTrainSeconds : 0;
      progress.update({
        epoch: e + 1,
        epochs: o.epochs,
        step: pos.stepInEpoch,
        stepsPerEpoch,
        loss: epochLossSum / epochSamples,
        samplesPerSecond: rate,
        etaSeconds: rate > 0 ? remainingSamples() / rate : NaN,
      });
      if (stopHere) {
        status = reachedStop ? 'stopped' : 'interrupted';
        // Mid-epoch the checkpoint is written; at an epoch end, evaluate and checkpoint first.
        if (!endOfEpoch) break outer;
      }
      if (now() - lastYield > 0.2) {
        await yieldToEventLoop();
        lastYield = now();
      }
    }

    const ev = test ? evaluate(model, likelihood, test, { batchSize: o.evalBatchSize }) : null;
    const t = now();
    const metrics: EpochMetrics = {
      epoch: e + 1,
      trainLoss: epochLossSum / epochSamples,
      testLoss: ev ? ev.loss : null,
      testAccuracy: ev ? ev.accuracy : null,
      lr,
      steps: stepsPerEpoch,
      seconds: epochSecondsBefore + (t - epochStart),
    };
    epochs.push(metrics);
    progress.line(formatEpochLine(metrics, o.epochs));
    pos.epoch++;
    pos.stepInEpoch = 0;
    epochLossSum = 0;
    epochSamples = 0;
    epochSecondsBefore = 0;
    saveCheckpoint(0);
    if (o.onEpochEnd) await o.onEpochEnd(metrics, model);
    epochStart = now(); // the epoch-end checkpoint write (and the hook) belong to no epoch
    if (status !== 'completed') break;
  }
  progress.clear();
  if (pos.epoch >= o.epochs) status = 'completed'; // a stop request on the very last step came too late

  const last = epochs[epochs.length - 1];
  const sessionSeconds = now() - t0;
  return {
    status,
    epochs,
    wallSeconds: wallBefore + (now() - sessionStart),
    sessionSeconds,
    finalTestLoss: last?.testLoss ?? null,
    finalTestAccuracy: last?.testAccuracy ?? null,
    globalStep: pos.globalStep,
    stepsPerEpoch,
    totalSteps,
    samplesPerSecond: sessionTrainSeconds > 0 ? sessionSamples / sessionTrainSeconds : 0,
    resumedFrom,
    backend: backend.name,
    threads: backend.threads,
    config,
  };
}

export function formatEpochLine(m: EpochMetrics, epochs: number): string {
  const parts = [`epoch ${m.epoch}/${epochs}`, `train loss ${m.trainLoss.toFixed(4)}`];
  if (m.testLoss !== null) parts.push(`test loss ${m.testLoss.toFixed(4)}`);
  if (m.testAccuracy !== null) parts.push(`test accuracy ${(100 * m.testAccuracy).toFixed(2)}%`);
  parts.push(`${m.seconds.toFixed(1)} s`);
  return parts.join('  ');
}
