/**
 * The CBINN objective for one model and one data set: the surrogate û(t), the bounded unknown
 * parameters, optionally a missing-physics network N_ψ(u) standing in for one declared missing
 * term, and the three losses
 *
 *   data: mean over observed entries of ((û_j(t_i) − y_ij)/s_j)²   (log space: (log û − log y)²)
 *   ode:  mean over collocation points and states of (w_j·(dû_j/dt − f_j(û; p)))²
 *         with w_j = τ/s_j ('scale') or τ/û_j ('relative'), so every state's residual is a
 *         dimensionless rate per time unit τ. τ (default (t1 − t0)/20) should be the time over
 *         which the solution changes by about its scale: an error δ·s in û that varies on that
 *         time then costs about δ² in both the data and the residual loss, so weights of 1 are
 *         balanced (with τ = t1 − t0 the residual outweighs the data by (span/τ_c)²).
 *   ic:   Σ_j ((û_j(t0) − u0_j)/s_j)²  (zero by construction with the hard initial condition)
 *
 * When a term is declared missing, the right-hand side is the model's full one minus that term
 * plus N_ψ(û). Two kinds of unknown parameters then cannot be estimated and are left out:
 *   - absorbed: they enter only the missing term, so they cancel from the objective;
 *   - confounded: they enter the known part of the missing term's equation and no other
 *     equation, so N_ψ, a free function of the states, can trade any change of them (e.g. −μxy,
 *     −δx beside a learned recruitment term): only their sum with N_ψ is determined.
 * Both are detected numerically (which equations change when the parameter does) and held at
 * their model values, as in a gray-box setting where the rest of that equation is known.
 */
import { fail } from '../core/errors.js';
import { Tensor } from '../core/tensor.js';
import { Rng } from '../core/rng.js';
import * as F from '../autodiff/ops.js';
import { noGrad } from '../autodiff/tape.js';
import { buildModel, mlpSpec, type Sequential } from '../nn/index.js';
import type { MissingTerm, ObservedData, OdeModel } from '../ode/model.js';
import { numberArith } from '../ode/arith.js';
import { tensorArith } from './arith.js';
import { BoundedParams, type ParamInit } from './params.js';
import { Surrogate, resolveSurrogateOptions, type SurrogateOptions } from './surrogate.js';

export type ResidualScaling = 'scale' | 'relative';

export interface LossWeights {
  data: number;
  ode: number;
  ic: number;
}

export interface CbinnProblemOptions {
  surrogate?: SurrogateOptions;
  /** Name of the model's missing term to learn with N_ψ (null: the full model is known). */
  missing?: string | null;
  /** Hidden widths of N_ψ. Default [32, 32]. */
  missingHidden?: readonly number[];
  /** Output scale of N_ψ (the term's typical size). Default: RMS slope of the affected state's data, else s/(t1 − t0). */
  missingScale?: number;
  /** Collocation points, evenly spaced over the span. Default 200. */
  collocation?: number;
  weights?: Partial<LossWeights>;
  /** Default: 'relative' with log outputs, 'scale' otherwise. */
  residual?: ResidualScaling;
  /** Time unit τ of the residual normalisation. Default (t1 − t0)/20. */
  timeScale?: number;
  /** Data loss in log space. Default: true with log outputs. */
  logData?: boolean;
  paramInit?: ParamInit;
  seed?: number;
}

export interface LossParts {
  total: Tensor;
  data: number;
  ode: number;
  ic: number;
}

export class CbinnProblem {
  readonly surrogate: Surrogate;
  readonly params: BoundedParams;
  /** Indices (into model.parameters) of the estimated parameters, in `params` order. */
  readonly estimated: number[];
  /** Unknown parameters left out because they enter only the missing term. */
  readonly absorbed: string[];
  /** Unknown parameters held at their model values because N_ψ could absorb them (see above). */
  readonly confounded: string[];
  readonly missingTerm: MissingTerm | null;
  readonly missingNet: Sequential | null;
  readonly missingScale: number;
  readonly weights: LossWeights;
  readonly residual: ResidualScaling;
  readonly timeScale: number;
  readonly logData: boolean;
  readonly collocationTimes: Float64Array;
  private readonly ar = tensorArith('float64');
  private readonly dataIdx: Int32Array;
  private readonly dataTarget: Tensor;
  private readonly dataWeight: Tensor;

  constructor(
    readonly model: OdeModel,
    readonly data: ObservedData,
    opts: CbinnProblemOptions = {},
  ) {
    const rng = new Rng(opts.seed ?? 0);
    const S = model.states.length;
    const [t0, t1] = model.tspan;
    const sOpts = resolveSurrogateOptions(opts.surrogate);
    this.residual = opts.residual ?? (sOpts.output === 'log' ? 'relative' : 'scale');
    this.logData = opts.logData ?? sOpts.output === 'log';
    this.timeScale = opts.timeScale ?? (t1 - t0) / 20;
    if (!(this.timeScale > 0 && Number.isFinite(this.timeScale))) fail('INVALID_ARGUMENT', `residual time scale must be positive, got ${this.timeScale}`);
    this.weights = { data: 1, ode: 1, ic: 1, ...opts.weights };
    for (const [k, v] of Object.entries(this.weights)) if (!(Number.isFinite(v) && v >= 0)) fail('INVALID_ARGUMENT', `loss weight '${k}' must be finite and ≥ 0, got ${v}`);
    const nc = opts.collocation ?? 200;
    if (!Number.isInteger(nc) || nc < 2) fail('INVALID_ARGUMENT', `collocation points must be an integer ≥ 2, got ${nc}`);
    this.collocationTimes = Float64Array.from({ length: nc }, (_, i) => t0 + ((t1 - t0) * i) / (nc - 1));

    // Data: flat indices of the observed, non-missing entries of û at the data times.
    if (data.values.length !== data.times.length * data.observed.length) {
      fail('SHAPE', `data values hold ${data.values.length} numbers for ${data.times.length} times × ${data.observed.length} observed states`);
    }
    data.observed.forEach((j) => {
      if (!(Number.isInteger(j) && j >= 0 && j < S)) fail('INVALID_ARGUMENT', `observed state index ${j} is not one of 0..${S - 1}`);
    });
    const idx: number[] = [];
    const tgt: number[] = [];
    const wts: number[] = [];
    data.times.forEach((t, i) => {
      if (!(t >= t0 && t <= t1)) fail('INVALID_ARGUMENT', `data time ${t} lies outside the model's span [${t0}, ${t1}]`);
      data.observed.forEach((j, c) => {
        const y = data.values[i * data.observed.length + c]!;
        if (Number.isNaN(y)) return;
        if (!Number.isFinite(y)) fail('INVALID_ARGUMENT', `data value at time ${t}, state ${model.states[j]} is ${y}`);
        if (this.logData && !(y > 0)) fail('INVALID_ARGUMENT', `log-space data loss needs positive measurements; ${model.states[j]} at time ${t} is ${y}`);
        idx.push(i * S + j);
        tgt.push(this.logData ? Math.log(y) : y / model.scales[j]!);
        wts.push(this.logData ? 1 : 1 / model.scales[j]!);
      });
    });
    if (idx.length === 0) fail('INVALID_ARGUMENT', 'the data hold no measurement (every value is missing)');
    this.dataIdx = Int32Array.from(idx);
    this.dataTarget = new Tensor(Float64Array.from(tgt), [idx.length]);
    this.dataWeight = new Tensor(Float64Array.from(wts), [idx.length]);

    // Missing term.
    const missingName = opts.missing ?? null;
    this.missingTerm = null;
    if (missingName !== null) {
      const term = model.missing.find((m) => m.name === missingName);
      if (!term) fail('INVALID_ARGUMENT', `model '${model.name}' declares no missing term '${missingName}' (it has: ${model.missing.map((m) => m.name).join(', ') || 'none'})`);
      this.missingTerm = term;
    }
    const unknown = model.parameters.map((p, i) => (p.known ? -1 : i)).filter((i) => i >= 0);
    this.absorbed = [];
    this.confounded = [];
    this.estimated = unknown;
    if (this.missingTerm) {
      const j = this.missingTerm.state;
      const eqs = new Map(unknown.map((k) => [k, this.equationsOfKnownPart(k)]));
      const absorbedIdx = unknown.filter((k) => eqs.get(k)!.length === 0);
      const confoundedIdx = unknown.filter((k) => eqs.get(k)!.length > 0 && eqs.get(k)!.every((e) => e === j));
      this.absorbed = absorbedIdx.map((k) => model.parameters[k]!.name);
      this.confounded = confoundedIdx.map((k) => model.parameters[k]!.name);
      this.estimated = unknown.filter((k) => !absorbedIdx.includes(k) && !confoundedIdx.includes(k));
    }
    this.params = new BoundedParams(this.estimated.map((k) => model.parameters[k]!), opts.paramInit ?? 'random', rng.derive('params'));
    this.surrogate = new Surrogate(t0, t1, model.initialState, model.scales, opts.surrogate ?? {}, rng.derive('surrogate'));

    if (this.missingTerm) {
      const hidden = opts.missingHidden ?? [32, 32];
      this.missingNet = buildModel(mlpSpec([S, ...hidden, 1], 'tanh'), rng.derive('missing'), 'float64');
      this.missingScale = opts.missingScale ?? this.defaultMissingScale(this.missingTerm.state);
      if (!(this.missingScale > 0 && Number.isFinite(this.missingScale))) fail('INVALID_ARGUMENT', `missing-term scale must be positive, got ${this.missingScale}`);
    } else {
      this.missingNet = null;
      this.missingScale = 0;
    }
  }

  /** The equations whose known part (rhs minus the missing term) changes with parameter k. */
  private equationsOfKnownPart(k: number): number[] {
    const m = this.model;
    const term = this.missingTerm!;
    const p = Float64Array.from(m.parameters, (q) => q.value);
    const probes = [m.initialState, m.scales, Float64Array.from(m.scales, (s, j) => 0.37 * s + 0.5 * m.initialState[j]!)];
    const knownPart = (pv: Float64Array, u: Float64Array): number[] => {
      const f = m.rhs(numberArith, m.tspan[0], [...u], [...pv]);
      f[term.state] = f[term.state]! - term.term(numberArith, m.tspan[0], [...u], [...pv]);
      return f;
    };
    const out = new Set<number>();
    for (const u of probes) {
      const a = knownPart(p, u);
      const q = Float64Array.from(p);
      q[k] = p[k]! === 0 ? 1e-3 : p[k]! * 1.1;
      const b = knownPart(q, u);
      a.forEach((v, i) => {
        if (Math.abs(v - b[i]!) > 1e-12 * (Math.abs(v) + Math.abs(b[i]!) + 1e-300)) out.add(i);
      });
    }
    return [...out].sort((x, y) => x - y);
  }

  private defaultMissingScale(state: number): number {
    const c = this.data.observed.indexOf(state);
    const [t0, t1] = this.model.tspan;
    const fallback = this.model.scales[state]! / (t1 - t0);
    if (c < 0) return fallback;
    const nObs = this.data.observed.length;
    let ss = 0;
    let n = 0;
    let prevT = NaN;
    let prevY = NaN;
    this.data.times.forEach((t, i) => {
      const y = this.data.values[i * nObs + c]!;
      if (Number.isNaN(y)) return;
      if (Number.isFinite(prevY) && t > prevT) {
        const slope = (y - prevY) / (t - prevT);
        ss += slope * slope;
        n++;
      }
      prevT = t;
      prevY = y;
    });
    const rms = n > 0 ? Math.sqrt(ss / n) : 0;
    return rms > 0 ? rms : fallback;
  }

  /** Every tensor training updates: network weights, raw parameters, N_ψ's weights. */
  trainables(): Tensor[] {
    return [...this.surrogate.parameters(), ...this.params.raw, ...(this.missingNet ? this.missingNet.parameters() : [])];
  }

  /** The full parameter vector for the right-hand side: constants for the known, tensors for the estimated. */
  private parameterTensors(): Tensor[] {
    const est = this.params.tensors();
    return this.model.parameters.map((p, i) => {
      const e = this.estimated.indexOf(i);
      return e >= 0 ? est[e]! : Tensor.scalar(p.value, 'float64');
    });
  }

  /** N_ψ at states u [N, S] (differentiable). */
  missingAt(u: Tensor): Tensor {
    const net = this.missingNet!;
    const inv = new Tensor(Float64Array.from(this.model.scales, (s) => 1 / s), [1, this.model.states.length]);
    const z = F.mul(u, inv);
    const x = this.surrogate.opts.output === 'log' ? F.log(z) : z;
    return F.scale(net.forward(x), this.missingScale);
  }

  /** N_ψ at plain state rows (no graph). */
  missingValues(states: Float64Array): Float64Array {
    const S = this.model.states.length;
    return noGrad(() => Float64Array.from(this.missingAt(new Tensor(Float64Array.from(states), [states.length / S, S])).data));
  }

  /**
   * Mean squared normalised ODE residual at the collocation points for surrogate values u and
   * derivatives dudt [N_c, S] (differentiable in them, in the parameters and in N_ψ).
   */
  residualLoss(u: Tensor, dudt: Tensor): Tensor {
    const S = this.model.states.length;
    const nc = this.collocationTimes.length;
    const cols = Array.from({ length: S }, (_, j) => F.slice(u, 1, j, j + 1));
    const tCol = new Tensor(Float64Array.from(this.collocationTimes), [nc, 1]);
    const p = this.parameterTensors();
    const f = this.model.rhs(this.ar, tCol, cols, p);
    if (this.missingTerm) {
      const j = this.missingTerm.state;
      const known = F.sub(f[j]!, this.missingTerm.term(this.ar, tCol, cols, p));
      f[j] = F.add(known, this.missingAt(u));
    }
    const res = Array.from({ length: S }, (_, j) => {
      const r = F.sub(F.slice(dudt, 1, j, j + 1), F.broadcastTo(f[j]!, [nc, 1]));
      return this.residual === 'scale' ? F.scale(r, this.timeScale / this.model.scales[j]!) : F.div(F.scale(r, this.timeScale), cols[j]!);
    });
    return F.mean(F.square(F.concat(res, 1)));
  }

  /**
   * The residual loss as a function of the ODE parameters and N_ψ alone, with the surrogate
   * frozen at its current values (computed once): the cheap objective of the parameter stage.
   */
  frozenResidual(): () => Tensor {
    const { u, dudt } = noGrad(() => this.surrogate.predictWithDerivative(this.collocationTimes));
    return () => this.residualLoss(u, dudt);
  }

  /** The tensors the frozen-surrogate stage optimises: raw parameters and N_ψ's weights. */
  physicsTrainables(): Tensor[] {
    return [...this.params.raw, ...(this.missingNet ? this.missingNet.parameters() : [])];
  }

  /** The losses; `dataOnly` skips the ODE residual (warm-up). */
  losses(dataOnly = false): LossParts {
    const S = this.model.states.length;
    const [t0] = this.model.tspan;
    const w = this.weights;
    // Data.
    const uData = this.surrogate.predict(this.data.times);
    let pred = F.gather(uData, this.dataIdx, [this.dataIdx.length]);
    pred = this.logData ? F.log(pred) : F.mul(pred, this.dataWeight);
    const dataLoss = F.mean(F.square(F.sub(pred, this.dataTarget)));
    let total = F.scale(dataLoss, w.data);
    let odeVal = NaN;
    let icVal = 0;
    if (!dataOnly) {
      const { u, dudt } = this.surrogate.predictWithDerivative(this.collocationTimes);
      const odeLoss = this.residualLoss(u, dudt);
      odeVal = odeLoss.item();
      total = F.add(total, F.scale(odeLoss, w.ode));
      if (!this.surrogate.opts.hardIc && w.ic > 0) {
        const u0 = this.surrogate.predict(Float64Array.of(t0));
        const d = F.mul(F.sub(u0, new Tensor(Float64Array.from(this.model.initialState), [1, S])), new Tensor(Float64Array.from(this.model.scales, (s) => 1 / s), [1, S]));
        const ic = F.sum(F.square(d));
        icVal = ic.item();
        total = F.add(total, F.scale(ic, w.ic));
      }
    }
    return { total, data: dataLoss.item(), ode: odeVal, ic: icVal };
  }

  /** Current estimates of the estimated parameters, by name. */
  estimates(): Record<string, number> {
    const v = this.params.values();
    return Object.fromEntries(this.params.names.map((n, i) => [n, v[i]!]));
  }
}
