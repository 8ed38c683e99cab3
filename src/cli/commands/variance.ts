/**
 * `fimkit variance`: the closed-form variances of the diagonal FIM estimators Î1 (squared
 * scores) and Î2 (negative Hessian diagonal) of a trained model, per parameter and per layer.
 *
 *   conditional (one input x): I(θ_i|x), V1, V2 for N labels, the Theorem 4.1 bounds, the labels
 *     each estimator needs for relative error ε with probability ≥ 1 − δ, and a per-layer
 *     recommendation of estimator;
 *   joint (inputs drawn from the data): V_j(θ_i) = (Var_q I + E_q V_j(·|x)) / N_x and the inputs
 *     needed per layer.
 *
 * Writes the per-parameter arrays and the per-layer table to a JSON file and prints the table;
 * `--check M` sets a Monte Carlo estimate of the variances beside the closed forms.
 */
import { basename, dirname, join } from 'node:path';
import { getBackend, setBackend } from '../../core/backends/index.js';
import type { BackendName } from '../../core/backend.js';
import { FimkitError } from '../../core/errors.js';
import { Tensor, sizeOf } from '../../core/tensor.js';
import { batchOf, subset, type Dataset } from '../../data/index.js';
import { layoutOf } from '../../fisher/layout.js';
import type { ParamLayout } from '../../fisher/matrix.js';
import { checkLikelihoodFits, LIKELIHOOD_NAMES } from '../../likelihoods/index.js';
import type { Likelihood } from '../../likelihoods/likelihood.js';
import type { Sequential } from '../../nn/index.js';
import { writeJsonAtomic } from '../../io/atomic.js';
import { formatDuration } from '../../train/progress.js';
import { inputVariances, jointVariances } from '../../variance/conditional.js';
import { varianceBounds, tightnessSummary } from '../../variance/bounds.js';
import { jointLayerBudget, parameterComplexity, statsFromInputs, type Accuracy } from '../../variance/complexity.js';
import { recommendEstimators } from '../../variance/recommend.js';
import { monteCarloCheck, type CheckRow } from '../../variance/check.js';
import { UsageError, flagNumber, flagString, wrap, type FlagSpec, type ParsedArgs } from '../args.js';
import { checkOutFile, loadModelAndData, modelDataInputs } from '../model-data.js';
import { EXIT_OK, stderrNotes, type CliIO, type Command } from '../command.js';
import type { FisherPath } from '../../fisher/accumulate.js';
import { BACKEND_FLAG, DATA_FLAG, DOWNLOAD_FLAG, DTYPE_FLAG, FORCE_FLAG, SIGMA2_FLAG, SPLIT_SEED_FLAG, splitFractionFlag, JSON_FLAG, PATH_FLAG, QUIET_FLAG, SEED_FLAG } from '../common-flags.js';
import { fimkitVersion } from '../version.js';
import { SHARD_FLAG, shardFlag, shardPath, writeShard } from '../shards.js';
import { computeVarianceShard } from '../../fisher/shard.js';

const DEFAULT_MAX_INPUTS = 1000;

const FLAGS: FlagSpec[] = [
  { name: 'model', type: 'path', metavar: 'PATH', description: 'The model to analyse: a fimkit model.json (as fimkit train writes), an ONNX file (torch.onnx.export) or a TF.js Layers model.json with its shards beside it; the format is read from the content. Required.', group: 'Model' },
  {
    name: 'likelihood',
    type: 'enum',
    choices: LIKELIHOOD_NAMES,
    description: 'Output distribution p(y|x) of the model; the labels of Î1 and Î2 are drawn from it.',
    defaultText: 'from the data: categorical for classes, gaussian for reals, bernoulli for multilabel, poisson for counts',
    group: 'Model',
  },
  SIGMA2_FLAG,
  DATA_FLAG,
  DOWNLOAD_FLAG,
  splitFractionFlag('split-fraction'),
  SPLIT_SEED_FLAG,
  { name: 'split', type: 'enum', choices: ['train', 'test'], default: 'train', description: 'Which split of the dataset supplies the inputs.', group: 'Data' },
  {
    name: 'mode',
    type: 'enum',
    choices: ['conditional', 'joint'],
    default: 'conditional',
    description: 'conditional: the variances at one fixed input (--input-index); joint: inputs drawn from the data (the first --max-inputs), N labels each.',
    group: 'Variance',
  },
  { name: 'input-index', type: 'int', min: 0, metavar: 'I', description: 'The input of --mode conditional (0-based index into the split).', defaultText: '0', group: 'Variance' },
  { name: 'max-inputs', type: 'int', min: 1, metavar: 'N', description: 'Joint mode: use the first N inputs of the split as the input distribution q.', defaultText: `${DEFAULT_MAX_INPUTS}, or all if fewer`, group: 'Variance' },
  { ...SHARD_FLAG, description: 'Joint mode: compute only shard I of N (0-based) of the inputs and write its float64 sums instead of the analysis; `fimkit merge` combines the N shard files into the joint variances one process gives.' },
  { name: 'labels-per-input', type: 'int', min: 1, default: 1, metavar: 'N', description: 'Labels N sampled per input by the estimators whose variance is reported; at least 1.', group: 'Variance' },
  {
    name: 'joint-inputs',
    type: 'enum',
    choices: ['sampled', 'fixed'],
    default: 'sampled',
    description:
      "Joint mode: what the variance is of. 'sampled': an estimate over N_x inputs drawn from the data with replacement, N labels each, (Var_q I + E_q V/N)/N_x. 'fixed': the estimate of the fisher command in joint mode over exactly these inputs, only the labels random, E_q V/(N·N_x).",
    group: 'Variance',
  },
  { name: 'inputs-per-estimate', type: 'int', min: 1, metavar: 'Nx', description: 'Joint mode: inputs N_x averaged by one estimate.', defaultText: 'the number of inputs used', group: 'Variance' },
  { name: 'eps', type: 'number', min: 0, exclusiveMin: true, max: 1, default: 0.1, description: 'Relative error ε of the samples-needed figures, in (0, 1].', group: 'Variance' },
  { name: 'delta', type: 'number', min: 0, exclusiveMin: true, max: 1, exclusiveMax: true, default: 0.05, description: 'Failure probability δ of the samples-needed figures, in (0, 1).', group: 'Variance' },
  { name: 'check', type: 'int', min: 2, metavar: 'M', description: 'Monte Carlo check: M repetitions of Î1 and Î2 give sample variances to set beside the closed forms (M ≥ 2).', group: 'Variance' },
  { ...SEED_FLAG, description: 'Seed of the Monte Carlo check (--check); the closed forms are deterministic.' },
  { ...DTYPE_FLAG, default: undefined, defaultText: "the model file's dtype", description: 'Floating-point type of the forward and backward passes (moments are always float64).' } as FlagSpec,
  BACKEND_FLAG,
  PATH_FLAG,
  {
    name: 'out',
    type: 'path',
    metavar: 'PATH',
    description: 'Where to write the JSON file with the per-parameter arrays and the per-layer table (written atomically).',
    defaultText: 'variance-<mode>.json next to the model file',
    group: 'Output',
  },
  FORCE_FLAG,
  QUIET_FLAG,
  JSON_FLAG,
];

type Mode = 'conditional' | 'joint';


function checkFlagCombinations(args: ParsedArgs): void {
  const f = args.flags;
  if (flagString(f, 'model') === undefined) throw new UsageError('missing --model PATH: the model.json whose estimator variances to compute');
  const mode = flagString(f, 'mode') as Mode;
  if (args.given.has('input-index') && mode !== 'conditional') throw new UsageError('--input-index applies only to --mode conditional');
  if (mode === 'conditional') {
    if (args.given.has('max-inputs')) throw new UsageError('--max-inputs applies only to --mode joint (conditional mode uses one input)');
    if (args.given.has('inputs-per-estimate')) throw new UsageError('--inputs-per-estimate applies only to --mode joint (conditional mode uses one input)');
    if (args.given.has('joint-inputs')) throw new UsageError('--joint-inputs applies only to --mode joint');
  }
  if (flagString(f, 'joint-inputs') === 'fixed') {
    if (args.given.has('inputs-per-estimate')) throw new UsageError('--joint-inputs fixed estimates over the inputs used (--max-inputs); --inputs-per-estimate does not apply');
    if (args.given.has('check')) throw new UsageError('--check draws inputs with replacement (--joint-inputs sampled); it does not check --joint-inputs fixed');
  }
  jointConvention = flagString(f, 'joint-inputs') as 'sampled' | 'fixed';
}

/** Per-parameter mean over a layer. */
function groupMean(v: ArrayLike<number>, g: { offset: number; size: number }): number {
  let s = 0;
  for (let i = g.offset; i < g.offset + g.size; i++) s += v[i]!;
  return s / g.size;
}

/** Plain number arrays for JSON (Infinity, which JSON cannot hold, becomes null). */
const plain = (v: ArrayLike<number>): (number | null)[] => Array.from(v, (x) => (Number.isFinite(x) ? x : null));
const finiteOrNull = (x: number | null): number | null => (x !== null && Number.isFinite(x) ? x : null);

export interface ConditionalLayerRow {
  layer: string;
  type: string;
  params: number;
  fimMean: number;
  v1Mean: number;
  v2Mean: number;
  lb1Mean: number;
  ub1Mean: number;
  lb2Mean: number;
  ub2Mean: number;
  /** Median over the layer of log(UB/V) (null where undefined for every parameter, e.g. V2 = 0). */
  logUb1OverV1: number | null;
  logUb2OverV2: number | null;
  /** Labels per input for (ε, δ): median and 90th percentile over the layer's parameters (null: unattainable). */
  labelsI1: { median: number | null; p90: number | null };
  labelsI2: { median: number | null; p90: number | null };
  recommended: string;
  reason: string;
}

export interface JointLayerRow {
  layer: string;
  type: string;
  params: number;
  fimMean: number;
  /** Mean over the layer of Var_q I(θ_i|x). */
  inputVarianceMean: number;
  v1Mean: number;
  v2Mean: number;
  /** Inputs N_x needed for (ε, δ) at N labels per input: median and 90th percentile (null: unattainable). */
  inputsI1: { median: number | null; p90: number | null };
  inputsI2: { median: number | null; p90: number | null };
  /** The 90th-percentile floor on N_x that no number of labels removes. */
  minInputsP90: number | null;
}

interface Analysis {
  layers: ConditionalLayerRow[] | JointLayerRow[];
  perParameter: Record<string, (number | null)[]>;
  closed: { i1: Float64Array; i2: Float64Array };
  extra: Record<string, unknown>;
}

function checkFits(model: Sequential, lik: Likelihood, data: Dataset): void {
  const D = sizeOf(model.inputShape);
  if (sizeOf(data.inputShape) !== D) throw new FimkitError('SHAPE', `the data has ${sizeOf(data.inputShape)} features per sample but the model expects ${D}`);
  checkLikelihoodFits(lik, model.outputDim, data);
}

function analyseConditional(model: Sequential, lik: Likelihood, data: Dataset, layout: ParamLayout, index: number, N: number, acc: Accuracy, path: FisherPath): Analysis {
  if (index >= data.length) throw new FimkitError('INVALID_ARGUMENT', `input index ${index} is outside the data (${data.length} samples)`);
  checkFits(model, lik, data);
  const D = sizeOf(model.inputShape);
  const batch = batchOf(data, Uint32Array.of(index), model.dtype);
  const iv = inputVariances(model, lik, new Tensor(batch.inputs, [1, D]), path)[0]!;
  const v1 = iv.v1.map((v) => v / N);
  const v2 = iv.v2.map((v) => v / N);
  const b = varianceBounds(lik, iv.h, iv.J, iv.H, N).diagonal;
  const stats = statsFromInputs([iv], lik);
  const pc1 = parameterComplexity(stats, 'i1', acc);
  const pc2 = parameterComplexity(stats, 'i2', acc);
  const rec = recommendEstimators(model, lik, stats, { accuracy: acc });
  const layers: ConditionalLayerRow[] = layout.groups.map((g, gi) => {
    const r = rec.layers[gi]!;
    const sl = (v: Float64Array): Float64Array => v.subarray(g.offset, g.offset + g.size);
    return {
      layer: g.label, type: g.type, params: g.size,
      fimMean: groupMean(iv.fim, g), v1Mean: groupMean(v1, g), v2Mean: groupMean(v2, g),
      lb1Mean: groupMean(b.v1Lower, g), ub1Mean: groupMean(b.v1Upper, g),
      lb2Mean: groupMean(b.v2Lower, g), ub2Mean: groupMean(b.v2Upper, g),
      logUb1OverV1: tightnessSummary(sl(b.v1Upper), sl(v1)).median,
      logUb2OverV2: tightnessSummary(sl(b.v2Upper), sl(v2)).median,
      labelsI1: { median: finiteOrNull(r.complexity.i1.median), p90: finiteOrNull(r.complexity.i1.p90) },
      labelsI2: { median: finiteOrNull(r.complexity.i2.median), p90: finiteOrNull(r.complexity.i2.p90) },
      recommended: r.recommended, reason: r.reason,
    };
  });
  return {
    layers,
    perParameter: {
      fim: plain(iv.fim), v1: plain(v1), v2: plain(v2),
      fimLower: plain(b.fimLower), fimUpper: plain(b.fimUpper),
      v1Lower: plain(b.v1Lower), v1Upper: plain(b.v1Upper), v2Lower: plain(b.v2Lower), v2Upper: plain(b.v2Upper),
      labelsI1: plain(pc1.labels), labelsI2: plain(pc2.labels),
    },
    closed: { i1: v1, i2: v2 },
    extra: { recommendationNotes: rec.notes, ...(pc1.notApplicable ? { boundsNote: pc1.notApplicable } : {}) },
  };
}

/** The joint convention of this run (set from --joint-inputs when the flags are checked). */
let jointConvention: 'sampled' | 'fixed' = 'sampled';

/** One line stating what the joint variance is of, for the text output and the JSON meta. */
export function jointConventionText(c: 'sampled' | 'fixed'): string {
  return c === 'sampled'
    ? 'joint variance of an estimate over N_x inputs drawn from the data with replacement, N labels each: (Var_q I + E_q V/N)/N_x (--joint-inputs fixed: the joint mode of the fisher command over these inputs, E_q V/(N·N_x))'
    : 'joint variance of the joint-mode estimate of the fisher command over exactly these inputs, only the labels random: E_q V/(N·N_x) (--joint-inputs sampled: inputs drawn with replacement, (Var_q I + E_q V/N)/N_x)';
}

function analyseJoint(model: Sequential, lik: Likelihood, data: Dataset, layout: ParamLayout, N: number, Nx: number, acc: Accuracy, path: FisherPath, onProgress?: (d: number, t: number) => void): Analysis {
  checkFits(model, lik, data);
  const jv = jointVariances(model, lik, data, { labelsPerInput: N, inputs: jointConvention, ...(jointConvention === 'sampled' ? { inputsPerEstimate: Nx } : {}), path, ...(onProgress ? { onProgress } : {}) });
  // jointLayerBudget takes the single-label term E_q v_j and sizes N_x for N labels.
  const single1 = jv.meanV1.map((v) => v * N);
  const single2 = jv.meanV2.map((v) => v * N);
  const b1 = jointLayerBudget(layout, jv.fim, jv.fimVarOverInputs, single1, acc, { labelsPerInput: N });
  const b2 = jointLayerBudget(layout, jv.fim, jv.fimVarOverInputs, single2, acc, { labelsPerInput: N });
  const layers: JointLayerRow[] = layout.groups.map((g, gi) => ({
    layer: g.label, type: g.type, params: g.size,
    fimMean: groupMean(jv.fim, g), inputVarianceMean: groupMean(jv.fimVarOverInputs, g),
    v1Mean: groupMean(jv.v1, g), v2Mean: groupMean(jv.v2, g),
    inputsI1: { median: finiteOrNull(b1[gi]!.inputsMedian), p90: finiteOrNull(b1[gi]!.inputsP90) },
    inputsI2: { median: finiteOrNull(b2[gi]!.inputsMedian), p90: finiteOrNull(b2[gi]!.inputsP90) },
    minInputsP90: finiteOrNull(b1[gi]!.minInputsP90),
  }));
  return {
    layers,
    perParameter: {
      fim: plain(jv.fim), fimVarOverInputs: plain(jv.fimVarOverInputs),
      meanV1: plain(jv.meanV1), meanV2: plain(jv.meanV2), v1: plain(jv.v1), v2: plain(jv.v2),
    },
    closed: { i1: jv.v1, i2: jv.v2 },
    extra: { inputs: jv.inputs },
  };
}

// -------------------------------------------------------------------------------------------
// Text output

function fmtNum(x: number | null): string {
  if (x === null) return '-';
  if (x === 0) return '0';
  const a = Math.abs(x);
  return a >= 1e4 || a < 1e-3 ? x.toExponential(2) : x.toPrecision(3);
}
const fmtCount = (x: number | null): string => (x === null ? '∞' : String(x));
const pair = (p: { median: number | null; p90: number | null }): string => `${fmtCount(p.median)}/${fmtCount(p.p90)}`;

function table(head: string[], rows: string[][]): string {
  const w = head.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  const line = (r: string[]): string => r.map((s, c) => (c === 0 ? s.padEnd(w[c]!) : s.padStart(w[c]!))).join('  ');
  return [line(head), line(w.map((n) => '-'.repeat(n))), ...rows.map(line)].join('\n');
}

function conditionalTable(rows: ConditionalLayerRow[]): string {
  const t = table(
    ['layer', 'params', 'FIM', 'V1', 'V2', 'UB1', 'UB2', 'log(UB1/V1)', 'log(UB2/V2)', 'N Î1 med/p90', 'N Î2 med/p90', 'use'],
    rows.map((r) => [
      r.layer, String(r.params), fmtNum(r.fimMean), fmtNum(r.v1Mean), fmtNum(r.v2Mean), fmtNum(r.ub1Mean), fmtNum(r.ub2Mean),
      fmtNum(r.logUb1OverV1), fmtNum(r.logUb2OverV2), pair(r.labelsI1), pair(r.labelsI2), r.recommended,
    ]),
  );
  const reasons = rows.map((r) => `  ${r.layer}: ${r.recommended} — ${r.reason}`);
  return [t, '', 'Recommendation per layer:', ...reasons].join('\n');
}

function jointTable(rows: JointLayerRow[]): string {
  return table(
    ['layer', 'params', 'FIM', 'Var_q I', 'V1', 'V2', 'N_x Î1 med/p90', 'N_x Î2 med/p90', 'N_x floor p90'],
    rows.map((r) => [
      r.layer, String(r.params), fmtNum(r.fimMean), fmtNum(r.inputVarianceMean), fmtNum(r.v1Mean), fmtNum(r.v2Mean),
      pair(r.inputsI1), pair(r.inputsI2), fmtCount(r.minInputsP90),
    ]),
  );
}

function checkTable(rows: CheckRow[], M: number): string {
  return [
    `Monte Carlo check (${M} repetitions; 95% interval of the layer-mean sample variance):`,
    table(
      ['layer', 'estimator', 'closed form', 'sample variance', '± 95%', 'inside'],
      rows.map((r) => [r.layer, r.estimator, fmtNum(r.closedForm), fmtNum(r.sampleVariance), fmtNum(r.halfWidth), r.inside ? 'yes' : 'NO']),
    ),
  ].join('\n');
}

// -------------------------------------------------------------------------------------------

async function run(args: ParsedArgs, io: CliIO): Promise<number> {
  checkFlagCombinations(args);
  const f = args.flags;
  const path = flagString(f, 'path') as FisherPath;
  const json = f['json'] === true;
  const quiet = f['quiet'] === true;
  const note = stderrNotes(io, quiet);
  if (f['backend'] !== undefined) setBackend(f['backend'] as BackendName);
  const backend = getBackend();

  // The output is checked (and its directory created) before anything is loaded or computed.
  // With --shard the shard file is the output.
  const shard = shardFlag(args);
  const out = checkOutFile(
    shard
      ? shardPath(flagString(f, 'out'), flagString(f, 'model')!, 'variance-joint', shard)
      : flagString(f, 'out') ?? join(dirname(flagString(f, 'model')!), `variance-${flagString(f, 'mode')}.json`),
    f, modelDataInputs(f),
  );
  const { modelPath, model, data: full, likelihood } = await loadModelAndData(f, quiet, note);
  const dataSpec = flagString(f, 'data')!;
  const split = flagString(f, 'split') as 'train' | 'test';

  const mode = flagString(f, 'mode') as Mode;
  const N = flagNumber(f, 'labels-per-input')!;
  const acc: Accuracy = { epsilon: flagNumber(f, 'eps')!, delta: flagNumber(f, 'delta')! };
  const M = flagNumber(f, 'check');
  const seed = flagNumber(f, 'seed')!;
  const inputIndex = flagNumber(f, 'input-index') ?? 0;
  const inputs = mode === 'joint' ? Math.min(full.length, flagNumber(f, 'max-inputs') ?? DEFAULT_MAX_INPUTS) : 1;
  // Joint mode: q is the empirical distribution of the first `inputs` inputs, for the closed
  // forms and the check alike.
  const data = mode === 'joint' && inputs < full.length ? subset(full, Array.from({ length: inputs }, (_, i) => i)) : full;
  const Nx = flagNumber(f, 'inputs-per-estimate') ?? inputs;
  if (shard) {
    if (mode !== 'joint') throw new UsageError('--shard splits the inputs of --mode joint; conditional mode has one input');
    if (M !== undefined) throw new UsageError('--check runs on the merged result, not on a shard');
    const shardFile = out;
    const t0 = performance.now();
    const doc = computeVarianceShard(model, likelihood, data, { labelsPerInput: N, inputsPerEstimate: Nx, path, inputs: flagString(f, 'joint-inputs') as 'sampled' | 'fixed' }, shard, { dataId: `${dataSpec} (${split})` });
    writeShard(shardFile, doc);
    const secs = (performance.now() - t0) / 1000;
    note(`variance shard ${shard.index}/${shard.count}: inputs ${doc.range.start}..${doc.range.end} in ${secs.toFixed(2)} s; wrote ${shardFile}`);
    if (json) io.stdout.write(JSON.stringify({ command: 'variance', shard, range: doc.range, key: doc.key, wallSeconds: secs, output: { path: shardFile } }, null, 2) + '\n');
    else io.stdout.write(`variance shard ${shard.index}/${shard.count} (inputs ${doc.range.start}..${doc.range.end}) written to ${shardFile}; combine all ${shard.count} with fimkit merge\n`);
    return EXIT_OK;
  }

  note(
    `fimkit variance: ${mode} mode, ${likelihood.name} likelihood, ${N} label${N === 1 ? '' : 's'} per input, ε = ${acc.epsilon}, δ = ${acc.delta}\n` +
      `  model ${modelPath} (${model.numParams().toLocaleString('en-US')} parameters, ${model.dtype}); ` +
      (mode === 'conditional' ? `input ${inputIndex}` : `${inputs} inputs, N_x = ${Nx}`) +
      ` of ${full.name} (${split} split); backend ${backend.name}; output ${out}`,
  );

  const layout = layoutOf(model);
  const t0 = performance.now();
  let lastProgress = t0;
  const progress = (done: number, total: number): void => {
    const now = performance.now();
    if (now - lastProgress < 10_000 || done >= total) return;
    lastProgress = now;
    note(`variance: ${done}/${total} inputs`);
  };
  const analysis = mode === 'conditional'
    ? analyseConditional(model, likelihood, data, layout, inputIndex, N, acc, path)
    : analyseJoint(model, likelihood, data, layout, N, Nx, acc, path, quiet ? undefined : progress);

  let check: { repetitions: number; rows: CheckRow[] } | null = null;
  if (M !== undefined) {
    note(`variance: Monte Carlo check with ${M} repetitions of Î1 and Î2…`);
    const rows = monteCarloCheck(model, likelihood, data, analysis.closed, {
      repetitions: M, labelsPerInput: N, mode, seed,
      ...(mode === 'conditional' ? { inputIndex } : { inputsPerEstimate: Nx }),
    });
    check = { repetitions: M, rows };
  }
  const wallSeconds = (performance.now() - t0) / 1000;

  const meta = {
    mode, likelihood: likelihood.name, labelsPerInput: N, accuracy: acc,
    ...(mode === 'conditional' ? { inputIndex } : { inputs, inputsPerEstimate: Nx, convention: jointConvention, conventionText: jointConventionText(jointConvention) }),
    data: { spec: dataSpec, split, name: full.name, samples: full.length },
    model: { path: modelPath, parameters: model.numParams(), dtype: model.dtype },
    backend: backend.name, seed: M === undefined ? null : seed, wallSeconds,
  };
  writeJsonAtomic(out, {
    format: 'fimkit-variance',
    fimkit: fimkitVersion(),
    meta,
    layout: layout.groups.map((g) => ({ label: g.label, type: g.type, offset: g.offset, size: g.size, params: g.params.map((p) => p.name) })),
    layers: analysis.layers,
    perParameter: analysis.perParameter,
    ...analysis.extra,
    check,
    notes: ['null in a per-parameter array of labels or inputs needed: no sample size reaches the relative accuracy (I = 0 < V)'],
  });
  note(`computed in ${formatDuration(wallSeconds)} (${wallSeconds.toFixed(2)} s); wrote ${out}`);

  if (json) {
    io.stdout.write(JSON.stringify({ command: 'variance', fimkit: fimkitVersion(), meta, layers: analysis.layers, check, output: { path: out } }, null, 2) + '\n');
  } else {
    const lines = [
      `Estimator variances (${mode}) of ${basename(modelPath)}: per-layer means over parameters` +
        (mode === 'conditional' ? ` at input ${inputIndex}, N = ${N}` : ` over ${inputs} inputs, N = ${N}, N_x = ${Nx}`),
      '',
      mode === 'conditional' ? conditionalTable(analysis.layers as ConditionalLayerRow[]) : jointTable(analysis.layers as JointLayerRow[]),
      '',
      mode === 'conditional'
        ? `N Î1, N Î2: labels per input for relative error ${acc.epsilon} with probability ≥ ${1 - acc.delta} (median/p90 over the layer; ∞: I = 0)`
        : `N_x: inputs (each with ${N} label${N === 1 ? '' : 's'}) for relative error ${acc.epsilon} with probability ≥ ${1 - acc.delta} (Chebyshev; median/p90 over the layer)\nV1, V2: ${jointConventionText(jointConvention)}`,
      ...(check ? ['', checkTable(check.rows, check.repetitions)] : []),
      '',
      `wrote ${out}`,
    ];
    io.stdout.write(lines.join('\n') + '\n');
  }
  return EXIT_OK;
}

const HELP_WIDTH = 100;

export const varianceCommand: Command = {
  name: 'variance',
  summary: 'Closed-form variances of the Î1 and Î2 FIM estimators, bounds, samples needed',
  description:
    'Computes, per parameter θ_i, the variances of the two Monte Carlo estimators of the diagonal Fisher information (Î1: squared score, Î2: negative Hessian, labels drawn from the model) in closed form, ' +
    'and summarises them per layer. stdout receives the per-layer table (with --json, one JSON document: per-layer rows, metadata and the output path); the JSON file (--out) also holds the per-parameter arrays.',
  epilog: [
    'Quantities (J_i = ∂h/∂θ_i and H_i = ∂²h/∂θ_i² at the input, δ = t(y) − E[t(y)|x], N labels):',
    '  I(θ_i|x) = J_iᵀ Cov(t|x) J_i                 the conditional Fisher information',
    '  V1       = (E[(J_iᵀδ)⁴] − I(θ_i|x)²) / N     variance of Î1, the mean of N squared scores',
    '  V2       = H_iᵀ Cov(t|x) H_i / N             variance of Î2, the mean of N negative Hessians',
    '',
    wrap(
      'Joint mode (law of total variance): with N_x inputs drawn from q (the first --max-inputs inputs) and N labels each, V = (Var_q I(θ_i|x) + E_q V(θ_i|x)) / N_x. ' +
        'The input-sampling term Var_q I does not shrink with N: past some N, more labels cannot lower the inputs needed.',
      HELP_WIDTH, 0,
    ),
    '',
    wrap(
      'Bounds (conditional mode): ‖J_i‖⁴ λ̃_min(M)/N ≤ V1 ≤ ‖J_i‖⁴ λ̃_max(M)/N and ‖H_i‖² λ_min/N ≤ V2 ≤ ‖H_i‖² λ_max/N, with λ the eigenvalues of Cov(t|x) and λ̃ the extreme values of the quartic form of M = K − I⊗I on the unit sphere (K the fourth central moment of t). ' +
        'log(UB/V) measures how tight the upper bound is (0: exact). V2 = 0 where h is linear in θ_i (the last layer; every layer of a relu network).',
      HELP_WIDTH, 0,
    ),
    '',
    wrap(
      'Samples needed: the number of labels per input (conditional) or of inputs N_x (joint) so that the estimate lies within relative error ε of the Fisher information with probability at least 1 − δ: ' +
        'P(|Î − I| ≥ ε I) ≤ δ, from Chebyshev (N ≥ V/(δ ε² I²)) or, where t(y) is bounded, the smaller of Bernstein and Hoeffding. The table gives the median and 90th percentile over each layer\'s parameters; ∞ where I = 0 < V. ' +
        'The recommendation picks, per layer, the cheapest of Î1, Î2 and the exact diagonal in backward passes to reach (ε, δ).',
      HELP_WIDTH, 0,
    ),
    '',
    wrap('--check M repeats Î1 and Î2 M times and sets the sample variance (± the half-width of its 95% interval) beside the closed form, per layer.', HELP_WIDTH, 0),
    '',
    'Examples:',
    "  fimkit variance --model runs/blobs/model.json --data 'synthetic:blobs?k=3' --labels-per-input 4",
    "  fimkit variance --model runs/blobs/model.json --data 'synthetic:blobs?k=3' --mode joint --max-inputs 200 --check 100",
    '',
    'Exit codes: 0 done, 1 error (bad model, data or likelihood), 2 bad usage.',
  ].join('\n'),
  flags: FLAGS,
  run,
};
