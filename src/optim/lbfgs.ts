/**
 * L-BFGS ("Updating quasi-Newton matrices with limited storage"; two-loop recursion as in
 * Nocedal & Wright, "Numerical Optimization", Alg. 7.4) with a strong-Wolfe line search
 * (Alg. 3.5/3.6: bracketing then zoom by safeguarded cubic interpolation).
 *
 * Unlike the first-order optimisers it needs a closure: the line search evaluates the objective
 * at trial points. It works on fimkit's parameter tensors (any dtype): the iterate is kept as one
 * flat float64 vector and written back into `params[i].data` before every evaluation, so the
 * objective simply reads the parameters like a training step does.
 *
 * Every loop is bounded: the line search by `maxLineSearch` evaluations, the run by `maxIter`
 * iterations and `maxEvals` evaluations. A failed line search first drops the curvature history
 * and retries along the steepest descent; a second failure ends the run with that reason.
 */
import { fail } from '../core/errors.js';
import type { Tensor } from '../core/tensor.js';
import { checkHyper } from './optimizer.js';

/** The objective at the current parameter values: its value and one gradient per parameter. */
export type LbfgsObjective = () => { value: number; grads: readonly Tensor[] };

export interface LbfgsOptions {
  /** Curvature pairs kept (m). Default 10. */
  history?: number;
  /** Iterations (accepted steps) at most. Default 100. */
  maxIter?: number;
  /** Objective evaluations at most, line searches included. Default 25 × maxIter. */
  maxEvals?: number;
  /** Stop when ‖g‖∞ ≤ gradTol. Default 1e-8. */
  gradTol?: number;
  /** Stop when the step ‖s‖∞ ≤ stepTol·max(1, ‖x‖∞). Default 1e-12. */
  stepTol?: number;
  /** Stop when the decrease f_k − f_{k+1} ≤ fTol·max(1, |f_k|). Default 0 (off: an objective near 0 would stop early). */
  fTol?: number;
  /** Sufficient-decrease constant c1 of the Wolfe conditions. Default 1e-4. */
  c1?: number;
  /** Curvature constant c2 (strong Wolfe: |φ'(α)| ≤ c2|φ'(0)|). Default 0.9. */
  c2?: number;
  /** Evaluations per line search at most. Default 25. */
  maxLineSearch?: number;
  /** Largest step length the bracketing phase may try, as a multiple of the first trial. Default 1e6. */
  maxStepGrowth?: number;
}

export type LbfgsStopReason = 'grad-tol' | 'step-tol' | 'f-tol' | 'max-iter' | 'max-evals' | 'line-search-failed' | 'non-finite' | 'stopped';

export interface LbfgsIteration {
  iteration: number;
  value: number;
  gradNorm: number;
  step: number;
  evaluations: number;
}

export interface LbfgsResult {
  value: number;
  gradNorm: number;
  iterations: number;
  evaluations: number;
  reason: LbfgsStopReason;
}

interface Required_ {
  history: number;
  maxIter: number;
  maxEvals: number;
  gradTol: number;
  stepTol: number;
  fTol: number;
  c1: number;
  c2: number;
  maxLineSearch: number;
  maxStepGrowth: number;
}

function resolve(o: LbfgsOptions): Required_ {
  const maxIter = o.maxIter ?? 100;
  const r: Required_ = {
    history: o.history ?? 10,
    maxIter,
    maxEvals: o.maxEvals ?? 25 * maxIter,
    gradTol: o.gradTol ?? 1e-8,
    stepTol: o.stepTol ?? 1e-12,
    fTol: o.fTol ?? 0,
    c1: o.c1 ?? 1e-4,
    c2: o.c2 ?? 0.9,
    maxLineSearch: o.maxLineSearch ?? 25,
    maxStepGrowth: o.maxStepGrowth ?? 1e6,
  };
  if (!Number.isInteger(r.history) || r.history < 1) fail('INVALID_ARGUMENT', `L-BFGS history must be an integer ≥ 1, got ${r.history}`);
  if (!Number.isInteger(r.maxIter) || r.maxIter < 0) fail('INVALID_ARGUMENT', `L-BFGS maxIter must be an integer ≥ 0, got ${r.maxIter}`);
  if (!Number.isInteger(r.maxEvals) || r.maxEvals < 1) fail('INVALID_ARGUMENT', `L-BFGS maxEvals must be an integer ≥ 1, got ${r.maxEvals}`);
  if (!Number.isInteger(r.maxLineSearch) || r.maxLineSearch < 1) fail('INVALID_ARGUMENT', `L-BFGS maxLineSearch must be an integer ≥ 1, got ${r.maxLineSearch}`);
  checkHyper('L-BFGS gradTol', r.gradTol, 0, Infinity, false);
  checkHyper('L-BFGS stepTol', r.stepTol, 0, Infinity, false);
  checkHyper('L-BFGS fTol', r.fTol, 0, Infinity, false);
  checkHyper('L-BFGS c1', r.c1, 0, 1, false);
  checkHyper('L-BFGS c2', r.c2, 0, 1, false);
  if (!(r.c1 > 0 && r.c1 < r.c2)) fail('INVALID_ARGUMENT', `L-BFGS needs 0 < c1 < c2 < 1, got c1 = ${r.c1}, c2 = ${r.c2}`);
  checkHyper('L-BFGS maxStepGrowth', r.maxStepGrowth, 1, Infinity, false);
  return r;
}

const dot = (a: Float64Array, b: Float64Array): number => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
};
const normInf = (a: Float64Array): number => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!));
  return m;
};

/** Minimiser of the cubic interpolating (a, fa, ga), (b, fb, gb), clamped inside [lo, hi]. */
function cubicMin(a: number, fa: number, ga: number, b: number, fb: number, gb: number, lo: number, hi: number): number {
  const d1 = ga + gb - 3 * (fa - fb) / (a - b);
  const disc = d1 * d1 - ga * gb;
  let x: number;
  if (disc >= 0) {
    const d2 = Math.sign(b - a) * Math.sqrt(disc);
    x = b - (b - a) * ((gb + d2 - d1) / (gb - ga + 2 * d2));
  } else x = (a + b) / 2;
  if (!Number.isFinite(x)) x = (a + b) / 2;
  return Math.min(Math.max(x, lo), hi);
}

/**
 * Limited-memory BFGS over the given parameter tensors. `run()` iterates to a stopping rule;
 * `step()` performs one iteration (for progress and checkpoints between iterations).
 */
export class Lbfgs {
  readonly options: Readonly<Required_>;
  private readonly sizes: number[];
  private readonly n: number;
  private x: Float64Array;
  private f = NaN;
  private g: Float64Array;
  private sHist: Float64Array[] = [];
  private yHist: Float64Array[] = [];
  private iters = 0;
  private evals = 0;
  private started = false;
  private lastStep = 0;

  constructor(
    private readonly params: readonly Tensor[],
    private readonly objective: LbfgsObjective,
    opts: LbfgsOptions = {},
  ) {
    if (params.length === 0) fail('INVALID_ARGUMENT', 'L-BFGS needs at least one parameter tensor');
    this.options = resolve(opts);
    this.sizes = params.map((p) => p.size);
    this.n = this.sizes.reduce((a, b) => a + b, 0);
    this.x = new Float64Array(this.n);
    this.g = new Float64Array(this.n);
    this.gather(this.x);
  }

  get iterations(): number {
    return this.iters;
  }
  get evaluations(): number {
    return this.evals;
  }
  get value(): number {
    return this.f;
  }
  get gradNorm(): number {
    return normInf(this.g);
  }

  private gather(out: Float64Array): void {
    let o = 0;
    for (const p of this.params) {
      out.set(p.data, o);
      o += p.size;
    }
  }

  private scatter(x: Float64Array): void {
    let o = 0;
    for (const p of this.params) {
      p.data.set(x.subarray(o, o + p.size));
      o += p.size;
    }
  }

  /** Evaluates the objective at x: writes x into the parameters first. */
  private evaluate(x: Float64Array): { f: number; g: Float64Array } {
    this.scatter(x);
    this.evals++;
    const { value, grads } = this.objective();
    if (grads.length !== this.params.length) fail('SHAPE', `L-BFGS objective returned ${grads.length} gradients for ${this.params.length} parameters`);
    const g = new Float64Array(this.n);
    let o = 0;
    grads.forEach((gr, i) => {
      if (gr.size !== this.sizes[i]) fail('SHAPE', `L-BFGS objective: gradient ${i} has ${gr.size} values, parameter has ${this.sizes[i]}`);
      g.set(gr.data, o);
      o += gr.size;
    });
    return { f: value, g };
  }

  /** Two-loop recursion: d = −H·g with H₀ = (sᵀy / yᵀy)·I from the newest pair. */
  private direction(): Float64Array {
    const q = Float64Array.from(this.g);
    const k = this.sHist.length;
    const alpha = new Float64Array(k);
    const rho = new Float64Array(k);
    for (let i = k - 1; i >= 0; i--) {
      rho[i] = 1 / dot(this.yHist[i]!, this.sHist[i]!);
      alpha[i] = rho[i]! * dot(this.sHist[i]!, q);
      const y = this.yHist[i]!;
      for (let j = 0; j < this.n; j++) q[j]! -= alpha[i]! * y[j]!;
    }
    if (k > 0) {
      const y = this.yHist[k - 1]!;
      const gamma = dot(this.sHist[k - 1]!, y) / dot(y, y);
      for (let j = 0; j < this.n; j++) q[j]! *= gamma;
    }
    for (let i = 0; i < k; i++) {
      const beta = rho[i]! * dot(this.yHist[i]!, q);
      const s = this.sHist[i]!;
      for (let j = 0; j < this.n; j++) q[j]! += (alpha[i]! - beta) * s[j]!;
    }
    for (let j = 0; j < this.n; j++) q[j] = -q[j]!;
    return q;
  }

  /**
   * Strong-Wolfe line search along d from the current point. Returns the accepted point, or the
   * best Armijo point when the budget ends first, or null when none was found.
   */
  private lineSearch(d: Float64Array, alpha0: number): { alpha: number; x: Float64Array; f: number; g: Float64Array } | null {
    const { c1, c2, maxLineSearch, maxStepGrowth } = this.options;
    const f0 = this.f;
    const dphi0 = dot(this.g, d);
    const trial = (a: number): { a: number; x: Float64Array; f: number; g: Float64Array; dphi: number } => {
      const x = new Float64Array(this.n);
      for (let j = 0; j < this.n; j++) x[j] = this.x[j]! + a * d[j]!;
      const { f, g } = this.evaluate(x);
      return { a, x, f, g, dphi: dot(g, d) };
    };
    type Pt = ReturnType<typeof trial>;
    let used = 0;
    let bestArmijo: Pt | null = null;
    const armijo = (p: Pt): boolean => Number.isFinite(p.f) && p.f <= f0 + c1 * p.a * dphi0;
    const note = (p: Pt): void => {
      if (armijo(p) && (bestArmijo === null || p.f < bestArmijo.f)) bestArmijo = p;
    };
    const budgetLeft = (): boolean => used < maxLineSearch && this.evals < this.options.maxEvals;
    const fromPt = (p: Pt) => ({ alpha: p.a, x: p.x, f: p.f, g: p.g });

    const zoom = (lo: Pt, hi: Pt): Pt | null => {
      while (budgetLeft()) {
        const left = Math.min(lo.a, hi.a);
        const right = Math.max(lo.a, hi.a);
        const width = right - left;
        // Keep the trial away from the ends so the bracket shrinks geometrically.
        let a = Number.isFinite(hi.f) ? cubicMin(lo.a, lo.f, lo.dphi, hi.a, hi.f, hi.dphi, left + 0.1 * width, right - 0.1 * width) : (lo.a + hi.a) / 2;
        if (!(a > left && a < right)) a = (left + right) / 2;
        if (width <= 1e-16 * Math.max(1, right)) return null;
        const p = trial(a);
        used++;
        note(p);
        if (!armijo(p) || p.f >= lo.f) hi = p;
        else {
          if (Math.abs(p.dphi) <= -c2 * dphi0) return p;
          if (p.dphi * (hi.a - lo.a) >= 0) hi = lo;
          lo = p;
        }
      }
      return null;
    };

    let prev: Pt = { a: 0, x: this.x, f: f0, g: this.g, dphi: dphi0 };
    let a = alpha0;
    const aMax = alpha0 * maxStepGrowth;
    while (budgetLeft()) {
      const p = trial(a);
      used++;
      note(p);
      if (!armijo(p) || (used > 1 && p.f >= prev.f)) {
        const z = zoom(prev, p);
        if (z) return fromPt(z);
        break;
      }
      if (Math.abs(p.dphi) <= -c2 * dphi0) return fromPt(p);
      if (p.dphi >= 0) {
        const z = zoom(p, prev);
        if (z) return fromPt(z);
        break;
      }
      prev = p;
      if (a >= aMax) break;
      a = Math.min(2 * a, aMax);
    }
    const best = bestArmijo as Pt | null;
    return best ? fromPt(best) : null;
  }

  /** One iteration; returns its summary, or the reason to stop when the run is over. */
  step(): LbfgsIteration | LbfgsStopReason {
    const o = this.options;
    if (!this.started) {
      const { f, g } = this.evaluate(this.x);
      this.f = f;
      this.g = g;
      this.started = true;
    }
    if (!Number.isFinite(this.f) || !this.g.every(Number.isFinite)) return 'non-finite';
    if (normInf(this.g) <= o.gradTol) return 'grad-tol';
    if (this.iters >= o.maxIter) return 'max-iter';
    if (this.evals >= o.maxEvals) return 'max-evals';

    let d = this.direction();
    let slope = dot(this.g, d);
    if (!(slope < 0)) {
      // Not a descent direction (rounding in the history): restart from steepest descent.
      this.sHist = [];
      this.yHist = [];
      d = this.direction();
      slope = dot(this.g, d);
    }
    // The first step (no curvature yet) is scaled so it moves the parameters by at most ~1.
    const alpha0 = this.sHist.length === 0 ? Math.min(1, 1 / Math.max(normInf(this.g), 1e-300)) : 1;
    let ls = this.lineSearch(d, alpha0);
    if (ls === null && this.sHist.length > 0) {
      this.sHist = [];
      this.yHist = [];
      d = this.direction();
      ls = this.lineSearch(d, Math.min(1, 1 / Math.max(normInf(this.g), 1e-300)));
    }
    if (ls === null) return this.evals >= o.maxEvals ? 'max-evals' : 'line-search-failed';

    const s = new Float64Array(this.n);
    const y = new Float64Array(this.n);
    for (let j = 0; j < this.n; j++) {
      s[j] = ls.x[j]! - this.x[j]!;
      y[j] = ls.g[j]! - this.g[j]!;
    }
    const sy = dot(s, y);
    // Only pairs with positive curvature keep the implicit inverse Hessian positive definite.
    if (sy > 1e-10 * Math.sqrt(dot(s, s) * dot(y, y))) {
      this.sHist.push(s);
      this.yHist.push(y);
      if (this.sHist.length > o.history) {
        this.sHist.shift();
        this.yHist.shift();
      }
    }
    const fPrev = this.f;
    this.x = ls.x;
    this.f = ls.f;
    this.g = ls.g;
    this.scatter(this.x);
    this.iters++;
    this.lastStep = normInf(s);
    const info: LbfgsIteration = { iteration: this.iters, value: this.f, gradNorm: normInf(this.g), step: ls.alpha, evaluations: this.evals };
    if (this.lastStep <= o.stepTol * Math.max(1, normInf(this.x))) this.pendingStop = 'step-tol';
    else if (o.fTol > 0 && fPrev - this.f <= o.fTol * Math.max(1, Math.abs(fPrev))) this.pendingStop = 'f-tol';
    return info;
  }

  private pendingStop: LbfgsStopReason | null = null;

  /** Iterates until a stopping rule holds; `onIter` sees every accepted iteration. */
  run(onIter?: (it: LbfgsIteration) => boolean | void): LbfgsResult {
    let reason: LbfgsStopReason;
    for (;;) {
      if (this.pendingStop) {
        reason = this.pendingStop;
        this.pendingStop = null;
        break;
      }
      const r = this.step();
      if (typeof r === 'string') {
        reason = r;
        break;
      }
      if (onIter?.(r) === false) {
        reason = 'stopped';
        break;
      }
    }
    // Leave the parameters at the best accepted iterate.
    this.scatter(this.x);
    return { value: this.f, gradNorm: normInf(this.g), iterations: this.iters, evaluations: this.evals, reason };
  }
}

/** One-call form: minimises the objective over `params` in place. */
export function minimizeLbfgs(params: readonly Tensor[], objective: LbfgsObjective, opts: LbfgsOptions = {}, onIter?: (it: LbfgsIteration) => boolean | void): LbfgsResult {
  return new Lbfgs(params, objective, opts).run(onIter);
}
