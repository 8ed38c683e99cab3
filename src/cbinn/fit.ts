/**
 * CBINN training in five phases:
 *   1. 'warmup': Adam on the data loss alone, 2. 'warmup-lbfgs': L-BFGS on it (the surrogate
 *      first follows the measurements; Adam alone fits oscillating data slowly);
 *   3. 'physics': L-BFGS on the ODE residual over the parameters (and N_ψ) only, with the
 *      surrogate frozen (a gradient-matching start: with the surrogate fixed, the residual is
 *      cheap and nearly least-squares in the parameters, so they move to the values its
 *      derivative implies instead of dragging an accurate surrogate away from the data);
 *   4. 'adam': Adam on all losses with a cosine-decayed rate; 5. 'lbfgs': L-BFGS on all losses.
 * One global iteration counter runs through the three phases. The state between iterations
 * (every trainable tensor, Adam's moments, the loss history) is a JSON-serialisable object, so a
 * run can be checkpointed and resumed; a resume inside the L-BFGS phase restarts L-BFGS's
 * curvature history from the saved point (its pairs are not saved), so only the Adam phases
 * resume bit-identically.
 */
import { fail } from '../core/errors.js';
import { valueAndGrad } from '../autodiff/grad.js';
import { noGrad } from '../autodiff/tape.js';
import type { Tensor } from '../core/tensor.js';
import { Adam, Lbfgs, makeSchedule, decodeFloatArray, encodeFloatArray, type EncodedArray, type OptimizerState } from '../optim/index.js';
import type { CbinnProblem } from './problem.js';

export interface CbinnTrainOptions {
  /** Data-only Adam iterations. Default 500. */
  warmup?: number;
  /** Data-only L-BFGS iterations after them. Default 300. */
  warmupLbfgs?: number;
  /** L-BFGS iterations on the parameters (and N_ψ) with the surrogate frozen. Default 300. */
  physics?: number;
  /** Adam iterations on all losses. Default 5000. */
  adam?: number;
  /** Adam's initial rate. Default 1e-3. */
  lr?: number;
  /** Rate reached at the end of the Adam phase (cosine). Default lr/10. */
  lrFinal?: number;
  /** L-BFGS iterations on all losses. Default 500. */
  lbfgs?: number;
  /** L-BFGS history. Default 20. */
  lbfgsHistory?: number;
  /** Record the losses and parameters every N iterations. Default 50. */
  logEvery?: number;
}

export type CbinnPhase = 'warmup' | 'warmup-lbfgs' | 'physics' | 'adam' | 'lbfgs' | 'done';

export interface LossRecord {
  iteration: number;
  phase: CbinnPhase;
  total: number;
  data: number;
  ode: number;
  ic: number;
  params: Record<string, number>;
}

export interface CbinnTrainState {
  iteration: number;
  phase: CbinnPhase;
  weights: EncodedArray[];
  adam: OptimizerState | null;
  history: LossRecord[];
  seconds: number;
  lbfgsStop?: string;
}

export interface CbinnTrainHooks {
  /** Called at every logged iteration. */
  onLog?: (rec: LossRecord, totalIterations: number) => void;
  /** Called every `checkpointEvery` iterations and at phase ends with the resumable state. */
  onCheckpoint?: (state: CbinnTrainState) => void;
  checkpointEvery?: number;
  /** Polled every iteration; true stops after a checkpoint. */
  shouldStop?: () => boolean;
}

export interface CbinnTrainResult {
  status: 'completed' | 'stopped';
  state: CbinnTrainState;
  /** Iterations run in this session and their wall time (for iterations per second). */
  sessionIterations: number;
  sessionSeconds: number;
  lbfgsStop: string | null;
}

export function resolveTrainOptions(o: CbinnTrainOptions = {}): Required<CbinnTrainOptions> {
  const lr = o.lr ?? 1e-3;
  const r = {
    warmup: o.warmup ?? 500,
    warmupLbfgs: o.warmupLbfgs ?? 300,
    physics: o.physics ?? 300,
    adam: o.adam ?? 5000,
    lr,
    lrFinal: o.lrFinal ?? lr / 10,
    lbfgs: o.lbfgs ?? 500,
    lbfgsHistory: o.lbfgsHistory ?? 20,
    logEvery: o.logEvery ?? 50,
  };
  for (const k of ['warmup', 'warmupLbfgs', 'physics', 'adam', 'lbfgs'] as const) if (!Number.isInteger(r[k]) || r[k] < 0) fail('INVALID_ARGUMENT', `${k} iterations must be an integer ≥ 0, got ${r[k]}`);
  if (!(r.lr > 0) || !(r.lrFinal >= 0 && r.lrFinal <= r.lr)) fail('INVALID_ARGUMENT', `need lr > 0 and 0 ≤ lrFinal ≤ lr, got lr = ${r.lr}, lrFinal = ${r.lrFinal}`);
  if (!Number.isInteger(r.logEvery) || r.logEvery < 1) fail('INVALID_ARGUMENT', `logEvery must be a positive integer, got ${r.logEvery}`);
  if (!Number.isInteger(r.lbfgsHistory) || r.lbfgsHistory < 1) fail('INVALID_ARGUMENT', `L-BFGS history must be a positive integer, got ${r.lbfgsHistory}`);
  return r;
}

/** Phase boundaries on the global iteration counter. */
function bounds(o: Required<CbinnTrainOptions>): { w: number; wl: number; ph: number; a: number; l: number } {
  const w = o.warmup;
  const wl = w + o.warmupLbfgs;
  const ph = wl + o.physics;
  const a = ph + o.adam;
  return { w, wl, ph, a, l: a + o.lbfgs };
}

function phaseAt(it: number, o: Required<CbinnTrainOptions>): CbinnPhase {
  const b = bounds(o);
  if (it < b.w) return 'warmup';
  if (it < b.wl) return 'warmup-lbfgs';
  if (it < b.ph) return 'physics';
  if (it < b.a) return 'adam';
  if (it < b.l) return 'lbfgs';
  return 'done';
}

export function trainCbinn(problem: CbinnProblem, opts: CbinnTrainOptions = {}, hooks: CbinnTrainHooks = {}, resume?: CbinnTrainState): CbinnTrainResult {
  const o = resolveTrainOptions(opts);
  const B = bounds(o);
  const total = B.l;
  const params = problem.trainables();
  let it = 0;
  let history: LossRecord[] = [];
  let priorSeconds = 0;
  let adam = new Adam({ lr: o.lr });
  if (resume) {
    if (resume.weights.length !== params.length) fail('INVALID_ARGUMENT', `checkpoint holds ${resume.weights.length} tensors, this problem has ${params.length}`);
    resume.weights.forEach((w, i) => {
      const a = decodeFloatArray(w, `checkpoint tensor ${i}`);
      if (a.length !== params[i]!.size) fail('INVALID_ARGUMENT', `checkpoint tensor ${i} has ${a.length} values, the problem's has ${params[i]!.size}`);
      params[i]!.data.set(a);
    });
    it = resume.iteration;
    history = [...resume.history];
    priorSeconds = resume.seconds;
    const ph = phaseAt(it, o);
    if (resume.adam && (ph === 'warmup' || ph === 'adam')) adam.loadState(resume.adam);
  }
  const start = performance.now();
  const startIt = it;
  const seconds = (): number => priorSeconds + (performance.now() - start) / 1000;
  const snapshot = (phase: CbinnPhase, lbfgsStop?: string): CbinnTrainState => ({
    iteration: it,
    phase,
    weights: params.map((p) => encodeFloatArray(p.data)),
    adam: phase === 'warmup' || phase === 'adam' ? adam.state() : null,
    history,
    seconds: seconds(),
    ...(lbfgsStop ? { lbfgsStop } : {}),
  });
  const log = (phase: CbinnPhase, parts: { total: number; data: number; ode: number; ic: number }): void => {
    const rec: LossRecord = { iteration: it, phase, ...parts, params: problem.estimates() };
    history.push(rec);
    hooks.onLog?.(rec, total);
  };
  const every = hooks.checkpointEvery ?? 0;
  const schedule = makeSchedule({ kind: 'cosine', lr: o.lr, minLr: o.lrFinal, totalSteps: Math.max(1, o.adam) });
  const stopped = (lbfgsStop: string | null): CbinnTrainResult => {
    const s = snapshot(phaseAt(it, o));
    hooks.onCheckpoint?.(s);
    return { status: 'stopped', state: s, sessionIterations: it - startIt, sessionSeconds: seconds() - priorSeconds, lbfgsStop };
  };

  const adamPhase = (end: number, dataOnly: boolean): boolean => {
    const phase: CbinnPhase = dataOnly ? 'warmup' : 'adam';
    while (it < end) {
      let parts = { total: NaN, data: NaN, ode: NaN, ic: NaN };
      const { grads } = valueAndGrad(() => {
        const l = problem.losses(dataOnly);
        parts = { total: l.total.item(), data: l.data, ode: l.ode, ic: l.ic };
        return l.total;
      }, params);
      if (!Number.isFinite(parts.total)) fail('NON_FINITE', `CBINN loss became ${parts.total} at iteration ${it} (${phase}); lower the learning rate or check the model's scales`);
      if (it % o.logEvery === 0) log(phase, parts);
      adam.lr = dataOnly ? o.lr : schedule(it - B.ph);
      adam.step(params, grads);
      it++;
      if (hooks.onCheckpoint && ((every > 0 && it % every === 0) || it === end)) hooks.onCheckpoint(snapshot(phaseAt(it, o)));
      if (hooks.shouldStop?.()) return false;
    }
    return true;
  };

  /** L-BFGS up to `end`; a resume inside restarts its history from the saved point. */
  const lbfgsPhase = (end: number, phase: 'warmup-lbfgs' | 'physics' | 'lbfgs'): { ok: boolean; reason: string | null } => {
    const left = end - it;
    if (left <= 0) return { ok: true, reason: null };
    const dataOnly = phase === 'warmup-lbfgs';
    let stop = false;
    let objective: () => { value: number; grads: Tensor[] };
    let wrt = params;
    if (phase === 'physics') {
      wrt = problem.physicsTrainables();
      const frozen = problem.frozenResidual();
      const w = wrt;
      objective = () => {
        const { value, grads } = valueAndGrad(frozen, w);
        return { value: value.item(), grads };
      };
    } else {
      objective = () => {
        const { value, grads } = valueAndGrad(() => problem.losses(dataOnly).total, params);
        return { value: value.item(), grads };
      };
    }
    const opt = new Lbfgs(wrt, objective, { maxIter: left, history: o.lbfgsHistory, maxEvals: 3 * left + 20, gradTol: 1e-12 });
    const res = opt.run(() => {
      it++;
      if (it % o.logEvery === 0) {
        const l = noGrad(() => problem.losses(dataOnly));
        log(phase, { total: l.total.item(), data: l.data, ode: l.ode, ic: l.ic });
      }
      if (hooks.onCheckpoint && every > 0 && it % every === 0) hooks.onCheckpoint(snapshot(phase));
      if (hooks.shouldStop?.()) {
        stop = true;
        return false;
      }
      return true;
    });
    // Stopped early by a tolerance: the phase is over, the counter moves to its end.
    if (!stop) it = end;
    return { ok: !stop, reason: res.reason };
  };

  if (!adamPhase(B.w, true)) return stopped(null);
  if (!lbfgsPhase(B.wl, 'warmup-lbfgs').ok) return stopped(null);
  if (!lbfgsPhase(B.ph, 'physics').ok) return stopped(null);
  if (!adamPhase(B.a, false)) return stopped(null);
  const lb = lbfgsPhase(B.l, 'lbfgs');
  if (!lb.ok) return stopped(lb.reason);
  const lbfgsStop = lb.reason ?? resume?.lbfgsStop ?? null;
  const l = noGrad(() => problem.losses(false));
  log('done', { total: l.total.item(), data: l.data, ode: l.ode, ic: l.ic });
  const final = snapshot('done', lbfgsStop ?? undefined);
  hooks.onCheckpoint?.(final);
  return { status: 'completed', state: final, sessionIterations: it - startIt, sessionSeconds: final.seconds - priorSeconds, lbfgsStop };
}
