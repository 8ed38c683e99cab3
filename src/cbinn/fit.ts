/**
 * CBINN training: Adam on the data loss alone (warm-up, so the surrogate first follows the
 * measurements), Adam on all losses with a cosine-decayed rate, then L-BFGS on all losses.
 * One global iteration counter runs through the three phases. The state between iterations
 * (every trainable tensor, Adam's moments, the loss history) is a JSON-serialisable object, so a
 * run can be checkpointed and resumed; a resume inside the L-BFGS phase restarts L-BFGS's
 * curvature history from the saved point (its pairs are not saved), so only the Adam phases
 * resume bit-identically.
 */
import { fail } from '../core/errors.js';
import { valueAndGrad } from '../autodiff/grad.js';
import { Adam, Lbfgs, makeSchedule, decodeFloatArray, encodeFloatArray, type EncodedArray, type OptimizerState } from '../optim/index.js';
import type { CbinnProblem } from './problem.js';

export interface CbinnTrainOptions {
  /** Data-only Adam iterations. Default 500. */
  warmup?: number;
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

export type CbinnPhase = 'warmup' | 'adam' | 'lbfgs' | 'done';

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
    adam: o.adam ?? 5000,
    lr,
    lrFinal: o.lrFinal ?? lr / 10,
    lbfgs: o.lbfgs ?? 500,
    lbfgsHistory: o.lbfgsHistory ?? 20,
    logEvery: o.logEvery ?? 50,
  };
  for (const k of ['warmup', 'adam', 'lbfgs'] as const) if (!Number.isInteger(r[k]) || r[k] < 0) fail('INVALID_ARGUMENT', `${k} iterations must be an integer ≥ 0, got ${r[k]}`);
  if (!(r.lr > 0) || !(r.lrFinal >= 0 && r.lrFinal <= r.lr)) fail('INVALID_ARGUMENT', `need lr > 0 and 0 ≤ lrFinal ≤ lr, got lr = ${r.lr}, lrFinal = ${r.lrFinal}`);
  if (!Number.isInteger(r.logEvery) || r.logEvery < 1) fail('INVALID_ARGUMENT', `logEvery must be a positive integer, got ${r.logEvery}`);
  if (!Number.isInteger(r.lbfgsHistory) || r.lbfgsHistory < 1) fail('INVALID_ARGUMENT', `L-BFGS history must be a positive integer, got ${r.lbfgsHistory}`);
  return r;
}

function phaseAt(it: number, o: Required<CbinnTrainOptions>): CbinnPhase {
  if (it < o.warmup) return 'warmup';
  if (it < o.warmup + o.adam) return 'adam';
  if (it < o.warmup + o.adam + o.lbfgs) return 'lbfgs';
  return 'done';
}

export function trainCbinn(problem: CbinnProblem, opts: CbinnTrainOptions = {}, hooks: CbinnTrainHooks = {}, resume?: CbinnTrainState): CbinnTrainResult {
  const o = resolveTrainOptions(opts);
  const total = o.warmup + o.adam + o.lbfgs;
  const params = problem.trainables();
  let it = 0;
  let history: LossRecord[] = [];
  let priorSeconds = 0;
  let adam = new Adam({ lr: o.lr });
  let adamPhase: CbinnPhase = 'warmup';
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
    adamPhase = phaseAt(it, o);
    if (resume.adam && (adamPhase === 'warmup' || adamPhase === 'adam')) adam.loadState(resume.adam);
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

  // Adam phases.
  while (it < o.warmup + o.adam) {
    const phase = phaseAt(it, o);
    if (phase !== adamPhase) {
      // The objective changes at the end of the warm-up: fresh moments for the full loss.
      adam = new Adam({ lr: o.lr });
      adamPhase = phase;
    }
    let parts = { total: NaN, data: NaN, ode: NaN, ic: NaN };
    const { grads } = valueAndGrad(() => {
      const l = problem.losses(phase === 'warmup');
      parts = { total: l.total.item(), data: l.data, ode: l.ode, ic: l.ic };
      return l.total;
    }, params);
    if (!Number.isFinite(parts.total)) fail('NON_FINITE', `CBINN loss became ${parts.total} at iteration ${it} (${phase}); lower the learning rate or check the model's scales`);
    if (it % o.logEvery === 0) log(phase, parts);
    adam.lr = phase === 'warmup' ? o.lr : schedule(it - o.warmup);
    adam.step(params, grads);
    it++;
    const atPhaseEnd = it === o.warmup || it === o.warmup + o.adam;
    if (hooks.onCheckpoint && ((every > 0 && it % every === 0) || atPhaseEnd)) hooks.onCheckpoint(snapshot(phaseAt(it, o)));
    if (hooks.shouldStop?.()) {
      const s = snapshot(phaseAt(it, o));
      hooks.onCheckpoint?.(s);
      return { status: 'stopped', state: s, sessionIterations: it - startIt, sessionSeconds: seconds() - priorSeconds, lbfgsStop: null };
    }
  }

  // L-BFGS phase.
  let lbfgsStop: string | null = null;
  const lbfgsLeft = o.warmup + o.adam + o.lbfgs - it;
  if (lbfgsLeft > 0) {
    let stopped = false;
    const objective = (): { value: number; grads: import('../core/tensor.js').Tensor[] } => {
      const { value, grads } = valueAndGrad(() => problem.losses(false).total, params);
      return { value: value.item(), grads };
    };
    const opt = new Lbfgs(params, objective, { maxIter: lbfgsLeft, history: o.lbfgsHistory, maxEvals: 3 * lbfgsLeft + 20, gradTol: 1e-12 });
    const res = opt.run(() => {
      it++;
      if (it % o.logEvery === 0 || it === total) {
        const l = problem.losses(false);
        log('lbfgs', { total: l.total.item(), data: l.data, ode: l.ode, ic: l.ic });
      }
      if (hooks.onCheckpoint && every > 0 && it % every === 0) hooks.onCheckpoint(snapshot('lbfgs'));
      if (hooks.shouldStop?.()) {
        stopped = true;
        return false;
      }
      return true;
    });
    lbfgsStop = res.reason;
    if (stopped) {
      const s = snapshot('lbfgs');
      hooks.onCheckpoint?.(s);
      return { status: 'stopped', state: s, sessionIterations: it - startIt, sessionSeconds: seconds() - priorSeconds, lbfgsStop };
    }
    // L-BFGS may stop early (converged or no progress): the run is complete either way.
  }
  const l = problem.losses(false);
  log('done', { total: l.total.item(), data: l.data, ode: l.ode, ic: l.ic });
  const final = snapshot('done', lbfgsStop ?? undefined);
  hooks.onCheckpoint?.(final);
  return { status: 'completed', state: final, sessionIterations: it - startIt, sessionSeconds: final.seconds - priorSeconds, lbfgsStop };
}
