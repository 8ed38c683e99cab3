// The classical baseline: weighted least squares of the ODE solution against the data,
// minimised by Levenberg–Marquardt with the Jacobian from the forward sensitivities. Positive
// parameters (lo > 0) are estimated in log space, all within their bounds. Also the profile of
// the loss along one parameter (the others re-fitted), for the identifiability report.
import type { ObservedData, OdeModel } from './model.js';
import { Rng } from '../core/rng.js';
import { FimkitError } from '../core/errors.js';
import { levenbergMarquardt, type LmStopReason } from '../optim/lm.js';
import { checkModel, trueParams, unknownIndices } from './define.js';
import { OdeDataError, OdeModelError } from './errors.js';
import { solveOde, type OdeMethod, type SolveStats } from './solve.js';

export interface LeastSquaresOptions {
  /** Parameters to estimate (default: the model's unknown ones). */
  wrt?: readonly number[] | 'unknown';
  /**
   * Starting values of the estimated parameters. Default: each nominal value (the model's
   * `value`) times a seeded factor e^U, U ~ uniform(−ln 2, ln 2), clipped into the bounds.
   */
  start?: Float64Array;
  seed?: number | string;
  /** Values of every parameter not estimated (default: the model's). */
  params?: Float64Array;
  method?: OdeMethod;
  /** Solver tolerance (default 1e-8). */
  rtol?: number;
  maxIter?: number;
  /** Estimate parameters with lo > 0 in log space (default true). */
  logScale?: boolean;
  /**
   * Progressive horizon: fit the data up to these fractions of the time range in turn, each
   * stage starting from the last (default [0.125, 0.25, 0.5, 1]). Oscillating solutions make
   * the full-horizon loss multimodal; a short horizon's loss is nearly convex and its fit
   * starts the next stage inside the right basin. [1] fits the whole range at once.
   */
  stages?: readonly number[];
  /**
   * 'log': r = (log u − log y)/level, the natural scale of multiplicative noise (a state spanning
   * decades weighs each decade alike, and an overshoot by a factor of 1e9 costs ~21/level, not
   * 1e9/level); 'linear': r = (u − y)/σ with σ from residualSigmas. Default: 'log' for
   * multiplicative noise when every measurement is positive, else 'linear'.
   */
  residuals?: 'log' | 'linear';
}

/**
 * Residual weights: r_ij = (u_j(t_i; θ) − y_ij)/σ_ij with σ_ij fixed from the data and noise
 * model — multiplicative: level·|y_ij| (floored at 1e-9 of the column's largest value);
 * additive: level·scale_j. At level 0 the level is taken as 1 (relative residuals for
 * multiplicative data, absolute ones for additive), which does not move the minimiser.
 */
export function residualSigmas(d: ObservedData): Float64Array {
  const m = d.observed.length;
  const nt = d.times.length;
  const kind = d.noise?.kind ?? 'multiplicative';
  const level = d.noise && d.noise.level > 0 ? d.noise.level : 1;
  // Log-residual floor per observed column: 1e-12 of its largest measurement.
  const floor = d.observed.map((_, j) => {
    let big = 0;
    for (let i = 0; i < d.times.length; i++) { const v = Math.abs(d.values[i * d.observed.length + j]!); if (v > big) big = v; }
    return 1e-12 * big || 1e-300;
  });
  const sig = new Float64Array(nt * m);
  for (let j = 0; j < m; j++) {
    let big = 0;
    for (let i = 0; i < nt; i++) { const v = Math.abs(d.values[i * m + j]!); if (v > big) big = v; }
    for (let i = 0; i < nt; i++) {
      sig[i * m + j] = kind === 'additive'
        ? level * (d.noise?.scale?.[j] ?? 1)
        : level * Math.max(Math.abs(d.values[i * m + j]!), 1e-9 * big, 1e-300);
    }
  }
  return sig;
}

export interface LeastSquaresFit {
  /** Every parameter, estimated ones replaced by their estimates. */
  readonly params: Float64Array;
  readonly wrt: readonly number[];
  readonly estimates: readonly { name: string; index: number; value: number; nominal: number; start: number; relError: number }[];
  /** ½ Σ r² (log or linear residuals, see LeastSquaresOptions.residuals). */
  readonly cost: number;
  readonly residualCount: number;
  readonly iterations: number;
  readonly evaluations: number;
  readonly reason: LmStopReason;
  readonly converged: boolean;
  /** Solver statistics of the last evaluation. */
  readonly solverStats?: SolveStats;
}

function checkData(model: OdeModel, d: ObservedData): void {
  if (d.times.length === 0) throw new OdeDataError('empty', 'no measurements');
  if (d.times[0]! < model.tspan[0]) throw new OdeDataError('negative-time', `the first measurement time ${d.times[0]} lies before the model's start ${model.tspan[0]}`);
  if (d.values.length !== d.times.length * d.observed.length) {
    throw new OdeDataError('bad-value', `data values have ${d.values.length} entries for ${d.times.length} times × ${d.observed.length} observed states`);
  }
  for (const j of d.observed) if (!(j >= 0 && j < model.states.length)) throw new OdeDataError('missing-column', `observed state index ${j} is not a state of '${model.name}'`);
}

interface Residuals { r: Float64Array; J: Float64Array; stats: SolveStats }

/** Weighted residuals and their Jacobian in the estimation coordinates (log where used). */
function makeResiduals(model: OdeModel, d: ObservedData, base: Float64Array, wrt: readonly number[], logK: readonly boolean[], sig: Float64Array,
  method: OdeMethod, rtol: number, logRes: boolean) {
  const level = d.noise && d.noise.level > 0 ? d.noise.level : 1;
  // Log-residual floor per observed column: 1e-12 of its largest measurement.
  const floor = d.observed.map((_, j) => {
    let big = 0;
    for (let i = 0; i < d.times.length; i++) { const v = Math.abs(d.values[i * d.observed.length + j]!); if (v > big) big = v; }
    return 1e-12 * big || 1e-300;
  });
  const m = d.observed.length;
  const n = model.states.length;
  const np = wrt.length;
  const rows: number[] = [];
  for (let i = 0; i < d.times.length; i++) for (let j = 0; j < m; j++) if (!Number.isNaN(d.values[i * m + j]!)) rows.push(i * m + j);
  const toParams = (x: Float64Array): Float64Array => {
    const p = Float64Array.from(base);
    wrt.forEach((j, k) => { p[j] = logK[k] ? Math.exp(x[k]!) : x[k]!; });
    return p;
  };
  const evaluate = (x: Float64Array): Residuals | null => {
    const p = toParams(x);
    let sol;
    try {
      sol = solveOde(model, { times: d.times, t0: model.tspan[0], params: p, method, rtol, sensitivities: wrt });
    } catch (e) {
      // A trial point where the model cannot be integrated is a rejected step, not a failure.
      if (e instanceof FimkitError && !(e instanceof OdeModelError)) return null;
      throw e;
    }
    const r = new Float64Array(rows.length);
    const J = new Float64Array(rows.length * np);
    for (let a = 0; a < rows.length; a++) {
      const q = rows[a]!;
      const i = Math.floor(q / m), j = q % m;
      const s = d.observed[j]!;
      const u = sol.states[i * n + s]!;
      let w: number;
      if (logRes) {
        // A state at or below the floor (a solution dipping through zero within the solver's
        // tolerance) is held there, with no slope: log residuals need a positive state.
        const fl = floor[j]!;
        w = u > fl ? 1 / (level * u) : 0;
        r[a] = (Math.log(Math.max(u, fl)) - Math.log(d.values[q]!)) / level;
      } else {
        w = 1 / sig[q]!;
        r[a] = (u - d.values[q]!) * w;
      }
      for (let k = 0; k < np; k++) {
        const dp = sol.sensitivities![(i * n + s) * np + k]!;
        J[a * np + k] = dp * w * (logK[k] ? p[wrt[k]!]! : 1);
      }
    }
    return { r, J, stats: sol.stats };
  };
  return { evaluate, toParams, count: rows.length };
}

/** Least-squares fit of the ODE to the data by Levenberg–Marquardt. */
export function fitLeastSquares(model: OdeModel, data: ObservedData, opts: LeastSquaresOptions = {}): LeastSquaresFit {
  checkModel(model);
  checkData(model, data);
  const wrt = opts.wrt === undefined || opts.wrt === 'unknown' ? unknownIndices(model) : [...opts.wrt];
  if (wrt.length === 0) throw new OdeModelError(`'${model.name}' has no parameters to estimate`);
  const base = opts.params ? Float64Array.from(opts.params) : trueParams(model);
  const nominal = trueParams(model);
  const logScale = opts.logScale ?? true;
  const logK = wrt.map((j) => logScale && model.parameters[j]!.lo > 0);
  let start: Float64Array;
  if (opts.start) {
    if (opts.start.length !== wrt.length) throw new OdeModelError(`start has ${opts.start.length} values for ${wrt.length} estimated parameters`);
    start = Float64Array.from(opts.start);
  } else {
    const rng = new Rng(opts.seed ?? 0).derive('lm-start');
    start = Float64Array.from(wrt, (j) => nominal[j]! * Math.exp(Math.LN2 * (2 * rng.uniform() - 1)));
  }
  wrt.forEach((j, k) => {
    const p = model.parameters[j]!;
    start[k] = Math.min(p.hi, Math.max(p.lo, start[k]!));
  });
  const sig = residualSigmas(data);
  let positive = true;
  for (const v of data.values) if (!Number.isNaN(v) && !(v > 0)) positive = false;
  const logRes = (opts.residuals ?? ((data.noise?.kind ?? 'multiplicative') === 'multiplicative' && positive ? 'log' : 'linear')) === 'log';
  if (logRes && !positive) throw new OdeDataError('bad-value', 'log residuals need every measurement > 0; use residuals: \'linear\'');
  const method = opts.method ?? 'auto';
  const rtol = opts.rtol ?? 1e-8;
  const lo = Float64Array.from(wrt, (j, k) => (logK[k] ? Math.log(model.parameters[j]!.lo) : model.parameters[j]!.lo));
  const hi = Float64Array.from(wrt, (j, k) => (logK[k] ? Math.log(model.parameters[j]!.hi) : model.parameters[j]!.hi));
  let x: Float64Array = Float64Array.from(start, (v, k) => (logK[k] ? Math.log(v) : v));
  const stages = opts.stages ?? [0.125, 0.25, 0.5, 1];
  if (stages.length === 0 || stages.some((f) => !(f > 0 && f <= 1)) || stages[stages.length - 1] !== 1) {
    throw new OdeModelError(`stages must be fractions in (0, 1] ending with 1, got [${stages.join(', ')}]`);
  }
  const m = data.observed.length;
  const tFirst = model.tspan[0];
  const tLast = data.times[data.times.length - 1]!;
  let lastStats: SolveStats | undefined;
  let iterations = 0, evaluations = 0;
  let lm: ReturnType<typeof levenbergMarquardt> | undefined;
  let res: ReturnType<typeof makeResiduals> | undefined;
  for (const frac of stages) {
    const cut = frac === 1 ? data.times.length : data.times.findIndex((t) => t > tFirst + frac * (tLast - tFirst));
    const nt = cut < 0 ? data.times.length : cut;
    const part: ObservedData = nt === data.times.length ? data : { ...data, times: data.times.subarray(0, nt), values: data.values.subarray(0, nt * m) };
    res = makeResiduals(model, part, base, wrt, logK, sig.subarray(0, nt * m), method, rtol, logRes);
    if (frac !== 1 && res.count < 2 * wrt.length) continue; // too few points to say anything yet
    const r = res;
    lm = levenbergMarquardt({
      n: wrt.length,
      evaluate: (xx) => {
        const e = r.evaluate(xx);
        if (e) lastStats = e.stats;
        return e;
      },
    }, x, { lo, hi, maxIter: opts.maxIter ?? 100 });
    x = lm.x;
    iterations += lm.iterations;
    evaluations += lm.evaluations;
  }
  lm = lm!;
  res = res!;
  const params = res.toParams(lm.x);
  return {
    params,
    wrt,
    estimates: wrt.map((j, k) => ({
      name: model.parameters[j]!.name, index: j, value: params[j]!, nominal: nominal[j]!, start: start[k]!,
      relError: nominal[j] !== 0 ? Math.abs(params[j]! - nominal[j]!) / Math.abs(nominal[j]!) : Math.abs(params[j]!),
    })),
    cost: lm.cost,
    residualCount: res.count,
    iterations,
    evaluations,
    reason: lm.reason,
    converged: lm.converged,
    ...(lastStats ? { solverStats: lastStats } : {}),
  };
}

export interface LossProfile {
  readonly name: string;
  readonly index: number;
  /** Parameter values along the profile (the estimate at the centre). */
  readonly values: Float64Array;
  /** Minimum of the loss over the other parameters, at each value (½ Σ r²). */
  readonly loss: Float64Array;
}

/**
 * The least-squares loss along one parameter: at each of `points` values spread over
 * centre·e^[−span, span] (log spacing), the other estimated parameters are re-fitted (profile
 * likelihood). A flat profile is a parameter the data do not determine.
 */
export function profileLeastSquares(model: OdeModel, data: ObservedData, index: number, opts: LeastSquaresOptions & { centre: Float64Array; points?: number; span?: number }): LossProfile {
  const wrt = opts.wrt === undefined || opts.wrt === 'unknown' ? unknownIndices(model) : [...opts.wrt];
  const k = wrt.indexOf(index);
  if (k < 0) throw new OdeModelError(`parameter ${index} is not among the estimated ones`);
  const points = opts.points ?? 7;
  const span = opts.span ?? Math.log(1.5);
  const values = new Float64Array(points);
  const loss = new Float64Array(points);
  const others = wrt.filter((j) => j !== index);
  for (let q = 0; q < points; q++) {
    const v = opts.centre[index]! * Math.exp(-span + (2 * span * q) / (points - 1));
    values[q] = v;
    const base = Float64Array.from(opts.centre);
    base[index] = v;
    if (others.length === 0) {
      const f = fitLeastSquares(model, data, { ...opts, params: base, wrt: [index], start: Float64Array.of(v), maxIter: 0 });
      loss[q] = f.cost;
    } else {
      const f = fitLeastSquares(model, data, { ...opts, params: base, wrt: others, start: Float64Array.from(others, (j) => opts.centre[j]!) });
      loss[q] = f.cost;
    }
  }
  return { name: model.parameters[index]!.name, index, values, loss };
}
