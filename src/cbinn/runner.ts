/**
 * One CBINN experiment end to end (Node only: it checkpoints to files): synthetic data for a
 * registered model, the fit, and the metrics of the spec's §B.5.7 — relative error per
 * parameter, trajectory relative L2 per state, the learned missing term's relative L2 against
 * the true one, and the SINDy formula recovered from it — plus a grid over models × noise ×
 * seeds with a resumable directory layout:
 *
 *   <out>/<model>-<missing|full>-noise<ε>-seed<s>/checkpoint.json   (while running)
 *   <out>/<model>-<missing|full>-noise<ε>-seed<s>/result.json       (when done; skipped on resume)
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fail, FimkitError } from '../core/errors.js';
import { noGrad } from '../autodiff/tape.js';
import { writeJsonAtomic } from '../io/atomic.js';
import { checkConfigMatches } from '../train/checkpoint.js';
import { numberArith } from '../ode/arith.js';
import { getOdeModel } from '../ode/models/index.js';
import { synthesize } from '../ode/data.js';
import { identifiability } from '../ode/identifiability.js';
import { fitLeastSquares } from '../ode/fit.js';
import { solveOde, linspace } from '../ode/solve.js';
import type { ObservedData, OdeModel } from '../ode/model.js';
import { CbinnProblem, type CbinnProblemOptions } from './problem.js';
import { trainCbinn, type CbinnTrainOptions, type CbinnTrainState, type LossRecord } from './fit.js';
import { sindyRecover, type SindyOptions, type SindyResult } from './sindy.js';

export interface CbinnRunSpec {
  model: string;
  /** Noise level ε (0.05 = 5%). */
  noise: number;
  noiseKind?: 'multiplicative' | 'additive';
  seed: number;
  /** Measurement times (uniform over the span). Default 41. */
  count?: number;
  /** Observed state names (default: all). */
  observed?: readonly string[];
  /** A declared missing term to learn (null: every term known). */
  missing?: string | null;
  problem?: Omit<CbinnProblemOptions, 'missing' | 'seed'>;
  train?: CbinnTrainOptions;
  sindy?: SindyOptions;
  /** Evaluation grid size for trajectories and the missing term. Default 201. */
  evalPoints?: number;
  /** Cramér–Rao bounds of the estimated parameters from the Fisher information (src/ode/identifiability). Default true. */
  identifiability?: boolean;
  /** The classical baseline: least squares of the ODE solution by Levenberg–Marquardt (src/ode/fit). Default true. */
  baseline?: boolean;
}

export interface ParamReport {
  name: string;
  trueValue: number;
  initial: number;
  estimate: number;
  /** |estimate − true| / |true|. */
  relError: number;
  /** Cramér–Rao lower bound on the standard deviation at the true values under the data's noise (null: not computed). */
  crSd: number | null;
  /** |estimate − true| / crSd. */
  crRatio: number | null;
  /** Levenberg–Marquardt least-squares estimate on the same data (null: not run or failed). */
  lmEstimate: number | null;
  lmRelError: number | null;
}

export interface MissingReport {
  name: string;
  state: string;
  trueFormula: string;
  /** ‖N_ψ(u(t)) − h(u(t))‖ / ‖h(u(t))‖ over the evaluation grid, on the true trajectory. */
  relL2: number;
  /** SINDy on (û(t), N_ψ(û(t))). */
  recovered: SindyResult;
  /** SINDy on the true term along the true trajectory: the terms the library should find. */
  reference: SindyResult;
  /** The recovered formula has exactly the reference's terms (k aside). */
  rightTerms: boolean;
  /** Relative error of the recovered saturation constant against the reference's (null when either has none). */
  kRelError: number | null;
  /** Relative errors of the recovered coefficients of the reference terms. */
  coefficientRelErrors: Record<string, number>;
}

export interface CbinnRunResult {
  spec: CbinnRunSpec;
  model: { name: string; states: string[]; tspan: [number, number] };
  data: { times: number[]; observed: number[]; values: number[] };
  parameters: ParamReport[];
  absorbed: string[];
  confounded: string[];
  trajectory: { times: number[]; truth: number[][]; fitted: number[][] };
  trajectoryRelL2: Record<string, number>;
  missing: MissingReport | null;
  identifiability: { summary: string; conditionNumber: number; nominalNoise: boolean; seconds: number } | null;
  baseline: { reason: string; converged: boolean; seconds: number; error?: string } | null;
  history: LossRecord[];
  lbfgsStop: string | null;
  seconds: number;
  iterations: number;
}

export function runName(spec: CbinnRunSpec): string {
  return `${spec.model}-${spec.missing ? `missing-${spec.missing}` : 'full'}-noise${spec.noise}-seed${spec.seed}`;
}

export function makeData(model: OdeModel, spec: CbinnRunSpec): ObservedData {
  return synthesize(model, {
    count: spec.count ?? 41,
    noise: { kind: spec.noiseKind ?? 'multiplicative', level: spec.noise },
    seed: `data-${spec.seed}`,
    ...(spec.observed ? { observed: spec.observed } : {}),
  });
}

export function buildProblem(spec: CbinnRunSpec): { model: OdeModel; data: ObservedData; problem: CbinnProblem } {
  const model = getOdeModel(spec.model);
  if (!(spec.noise >= 0 && Number.isFinite(spec.noise))) fail('INVALID_ARGUMENT', `noise level must be finite and ≥ 0, got ${spec.noise}`);
  const data = makeData(model, spec);
  const problem = new CbinnProblem(model, data, { ...spec.problem, missing: spec.missing ?? null, seed: spec.seed });
  return { model, data, problem };
}

interface CheckpointFile {
  format: 'fimkit-cbinn-checkpoint';
  version: 1;
  config: Record<string, unknown>;
  state: CbinnTrainState;
}

export function readCbinnCheckpoint(path: string, spec: CbinnRunSpec): CbinnTrainState {
  let parsed: CheckpointFile;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8')) as CheckpointFile;
  } catch (e) {
    throw new FimkitError('CORRUPT_FILE', `CBINN checkpoint ${path} is not valid JSON: ${(e as Error).message}`);
  }
  if (parsed?.format !== 'fimkit-cbinn-checkpoint' || parsed.version !== 1 || typeof parsed.state !== 'object') {
    fail('CORRUPT_FILE', `${path} is not a fimkit CBINN checkpoint (format ${String(parsed?.format)}, version ${String(parsed?.version)})`);
  }
  checkConfigMatches(parsed.config, JSON.parse(JSON.stringify(spec)) as Record<string, unknown>, path);
  return parsed.state;
}

export interface RunHooks {
  onLog?: (rec: LossRecord, total: number) => void;
  /** Directory for checkpoint.json and result.json (none: in memory only). */
  dir?: string;
  checkpointEvery?: number;
  shouldStop?: () => boolean;
  /** Continue from dir/checkpoint.json when present. */
  resume?: boolean;
}

function relL2(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i]! - b[i]!) ** 2;
    den += b[i]! ** 2;
  }
  return den > 0 ? Math.sqrt(num / den) : Math.sqrt(num);
}

/** Term names with the saturation constant replaced by 'k', for comparing structures. */
function structure(r: SindyResult): string[] {
  return r.terms.map((t) => t.name.replace(/\([^()+]*\+ /, '(k + ')).sort();
}

/** Evaluates a finished problem: parameters, trajectories, missing term and its formula. */
export function evaluateRun(spec: CbinnRunSpec, model: OdeModel, data: ObservedData, problem: CbinnProblem, initial: Record<string, number>): Omit<CbinnRunResult, 'history' | 'lbfgsStop' | 'seconds' | 'iterations'> {
  const S = model.states.length;
  const est = problem.estimates();
  // Cramér–Rao bounds at the true values, for the estimated parameters, under this data's noise.
  let ident: CbinnRunResult['identifiability'] = null;
  const crSd = new Map<string, number>();
  if (spec.identifiability ?? true) {
    const t0 = performance.now();
    const rep = identifiability(model, data, { wrt: problem.estimated });
    rep.parameters.forEach((b) => crSd.set(b.name, b.sd));
    ident = { summary: rep.summary, conditionNumber: rep.conditionNumber, nominalNoise: rep.noise.nominal, seconds: (performance.now() - t0) / 1000 };
  }
  let baseline: CbinnRunResult['baseline'] = null;
  const lm = new Map<string, number>();
  if (spec.baseline ?? true) {
    const t0 = performance.now();
    try {
      const fit = fitLeastSquares(model, data, { wrt: problem.estimated, seed: `lm-${spec.seed}` });
      fit.estimates.forEach((e) => lm.set(e.name, e.value));
      baseline = { reason: fit.reason, converged: fit.converged, seconds: (performance.now() - t0) / 1000 };
    } catch (e) {
      if (!(e instanceof FimkitError)) throw e;
      baseline = { reason: 'failed', converged: false, seconds: (performance.now() - t0) / 1000, error: e.message };
    }
  }
  const parameters: ParamReport[] = problem.params.names.map((name) => {
    const trueValue = model.parameters.find((p) => p.name === name)!.value;
    const e = est[name]!;
    const sd = crSd.get(name) ?? null;
    const l = lm.get(name) ?? null;
    return {
      name, trueValue, initial: initial[name]!, estimate: e, relError: Math.abs(e - trueValue) / Math.abs(trueValue),
      crSd: sd, crRatio: sd !== null && sd > 0 ? Math.abs(e - trueValue) / sd : null,
      lmEstimate: l, lmRelError: l !== null ? Math.abs(l - trueValue) / Math.abs(trueValue) : null,
    };
  });
  const times = linspace(model.tspan[0], model.tspan[1], spec.evalPoints ?? 201);
  const truth = solveOde(model, { times, rtol: 1e-10 }).states;
  const fitted = noGrad(() => problem.surrogate.predict(times)).data;
  const perState = (arr: ArrayLike<number>): number[][] => Array.from({ length: S }, (_, j) => Array.from({ length: times.length }, (_, i) => arr[i * S + j]!));
  const truthCols = perState(truth);
  const fittedCols = perState(fitted);
  const trajectoryRelL2 = Object.fromEntries(model.states.map((s, j) => [s, relL2(fittedCols[j]!, truthCols[j]!)]));

  let missing: MissingReport | null = null;
  if (problem.missingTerm) {
    const term = problem.missingTerm;
    const p = model.parameters.map((q) => q.value);
    const hTrue = Float64Array.from({ length: times.length }, (_, i) => term.term(numberArith, times[i]!, Array.from({ length: S }, (_, j) => truth[i * S + j]!), p));
    const learnedOnTruth = problem.missingValues(truth);
    const learnedOnFit = problem.missingValues(Float64Array.from(fitted));
    const names = [...model.states];
    const sOpts = spec.sindy ?? {};
    const recovered = sindyRecover(Float64Array.from(fitted), learnedOnFit, names, sOpts);
    const reference = sindyRecover(truth, hTrue, names, sOpts);
    const refStruct = structure(reference);
    const recStruct = structure(recovered);
    const coefficientRelErrors: Record<string, number> = {};
    reference.terms.forEach((t, i) => {
      const r = recovered.terms.find((u) => structure({ ...recovered, terms: [u] })[0] === refStruct[i] || structure({ ...recovered, terms: [u] })[0] === structure({ ...reference, terms: [t] })[0]);
      if (r) coefficientRelErrors[t.name] = Math.abs(r.coefficient - t.coefficient) / Math.abs(t.coefficient);
    });
    missing = {
      name: term.name,
      state: model.states[term.state]!,
      trueFormula: term.formula,
      relL2: relL2(learnedOnTruth, hTrue),
      recovered,
      reference,
      rightTerms: recStruct.length === refStruct.length && recStruct.every((n, i) => n === refStruct[i]),
      kRelError: recovered.k !== null && reference.k !== null ? Math.abs(recovered.k - reference.k) / reference.k : null,
      coefficientRelErrors,
    };
  }
  return {
    spec,
    model: { name: model.name, states: [...model.states], tspan: [model.tspan[0], model.tspan[1]] },
    data: { times: Array.from(data.times), observed: [...data.observed], values: Array.from(data.values) },
    parameters,
    absorbed: [...problem.absorbed],
    confounded: [...problem.confounded],
    trajectory: { times: Array.from(times), truth: truthCols, fitted: fittedCols },
    trajectoryRelL2,
    missing,
    identifiability: ident,
    baseline,
  };
}

/** Runs (or resumes) one experiment; returns null when stopped early (a checkpoint was written). */
export function runCbinn(spec: CbinnRunSpec, hooks: RunHooks = {}): CbinnRunResult | null {
  const { model, data, problem } = buildProblem(spec);
  const initial = problem.estimates();
  const ckPath = hooks.dir ? join(hooks.dir, 'checkpoint.json') : null;
  const config = JSON.parse(JSON.stringify(spec)) as Record<string, unknown>;
  let resumeState: CbinnTrainState | undefined;
  if (hooks.resume && ckPath && existsSync(ckPath)) resumeState = readCbinnCheckpoint(ckPath, spec);
  const save = (state: CbinnTrainState): void => {
    if (ckPath) writeJsonAtomic(ckPath, { format: 'fimkit-cbinn-checkpoint', version: 1, config, state } satisfies CheckpointFile);
  };
  const r = trainCbinn(problem, spec.train ?? {}, {
    ...(hooks.onLog ? { onLog: hooks.onLog } : {}),
    onCheckpoint: save,
    checkpointEvery: hooks.checkpointEvery ?? 0,
    ...(hooks.shouldStop ? { shouldStop: hooks.shouldStop } : {}),
  }, resumeState);
  if (r.status === 'stopped') return null;
  const result: CbinnRunResult = {
    ...evaluateRun(spec, model, data, problem, initial),
    history: r.state.history,
    lbfgsStop: r.state.lbfgsStop ?? r.lbfgsStop,
    seconds: r.state.seconds,
    iterations: r.state.iteration,
  };
  if (hooks.dir) writeJsonAtomic(join(hooks.dir, 'result.json'), result);
  return result;
}

/** mean ± standard error over seeds. */
export function meanSe(xs: readonly number[]): { mean: number; se: number; n: number } {
  const n = xs.length;
  const mean = xs.reduce((a, b) => a + b, 0) / Math.max(1, n);
  const sd = n > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)) : NaN;
  return { mean, se: n > 1 ? sd / Math.sqrt(n) : NaN, n };
}

export interface SummaryRow {
  model: string;
  missing: string | null;
  param: string;
  trueValue: number;
  /** Keyed by noise level: relative error mean ± s.e. over seeds (fractions). */
  byNoise: Record<string, { mean: number; se: number; n: number }>;
  /** The same for the Levenberg–Marquardt baseline (where it ran). */
  lmByNoise: Record<string, { mean: number; se: number; n: number }>;
  /** Cramér–Rao relative sd at each noise level (mean over seeds; at ε = 0 it is computed at a nominal 1%). */
  crRelSdByNoise: Record<string, number>;
}

/** The spec's §B.6 table: relative parameter error per model, parameter and noise level. */
export function summarize(results: readonly CbinnRunResult[]): SummaryRow[] {
  const rows = new Map<string, SummaryRow>();
  const errs = new Map<string, number[]>();
  const lmErrs = new Map<string, number[]>();
  const cr = new Map<string, number[]>();
  for (const r of results) {
    for (const p of r.parameters) {
      const key = `${r.spec.model}|${r.spec.missing ?? ''}|${p.name}`;
      if (!rows.has(key)) rows.set(key, { model: r.spec.model, missing: r.spec.missing ?? null, param: p.name, trueValue: p.trueValue, byNoise: {}, lmByNoise: {}, crRelSdByNoise: {} });
      const k2 = `${key}|${r.spec.noise}`;
      errs.set(k2, [...(errs.get(k2) ?? []), p.relError]);
      if (p.lmRelError !== null && p.lmRelError !== undefined) lmErrs.set(k2, [...(lmErrs.get(k2) ?? []), p.lmRelError]);
      if (p.crSd !== null && p.crSd !== undefined) cr.set(k2, [...(cr.get(k2) ?? []), p.crSd / Math.abs(p.trueValue)]);
    }
  }
  const split = (k2: string): [SummaryRow, string] => {
    const i = k2.lastIndexOf('|');
    return [rows.get(k2.slice(0, i))!, k2.slice(i + 1)];
  };
  for (const [k2, xs] of errs) { const [row, n] = split(k2); row.byNoise[n] = meanSe(xs); }
  for (const [k2, xs] of lmErrs) { const [row, n] = split(k2); row.lmByNoise[n] = meanSe(xs); }
  for (const [k2, xs] of cr) { const [row, n] = split(k2); row.crRelSdByNoise[n] = meanSe(xs).mean; }
  return [...rows.values()];
}
