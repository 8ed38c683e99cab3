// Levenberg–Marquardt for nonlinear least squares min ½‖r(x)‖², with Marquardt's diagonal
// scaling (the damping is λ·diag(JᵀJ), so the method is invariant to rescaling each parameter)
// and optional box bounds (trial points are projected onto them). The damped normal equations
// are solved with fimkit's Cholesky. Used by the ODE least-squares baseline (src/ode/fit.ts).
//
// Terminates on: a small gradient, a small relative step, a small relative decrease of the cost,
// λ growing past 1e16 (no descent found), or maxIter iterations — every exit says which.
import { fail } from '../core/errors.js';
import { cholesky, choleskySolve } from '../fisher/linalg.js';

export interface LmEvaluation {
  /** Residuals r(x), length m. */
  readonly r: Float64Array;
  /** Jacobian ∂r/∂x, m×n row-major. */
  readonly J: Float64Array;
}

export interface LmProblem {
  /** Number of unknowns. */
  readonly n: number;
  /** r and J at x, or null where they cannot be computed (the step is then rejected). */
  evaluate(x: Float64Array): LmEvaluation | null;
}

export interface LmOptions {
  maxIter?: number;
  /** Initial damping factor (default 1e-3). */
  lambda0?: number;
  /** Stop when the scaled gradient max_k |(Jᵀr)_k|·max(|x_k|, 1) ≤ gradTol·cost (default 1e-10). */
  gradTol?: number;
  /** Stop when ‖Δx‖ ≤ stepTol·(‖x‖ + stepTol) (default 1e-10). */
  stepTol?: number;
  /** Stop when an accepted step lowers the cost by less than costTol relative (default 1e-12). */
  costTol?: number;
  lo?: Float64Array;
  hi?: Float64Array;
  onIteration?(it: { iter: number; cost: number; lambda: number; x: Float64Array }): void;
}

export type LmStopReason = 'gradient' | 'step' | 'cost' | 'max-iterations' | 'no-descent';

export interface LmResult {
  readonly x: Float64Array;
  /** ½‖r‖² at x. */
  readonly cost: number;
  readonly r: Float64Array;
  readonly J: Float64Array;
  readonly iterations: number;
  readonly evaluations: number;
  readonly reason: LmStopReason;
  /** True for the gradient, step and cost criteria. */
  readonly converged: boolean;
}

function halfSq(r: Float64Array): number {
  let s = 0;
  for (const v of r) s += v * v;
  return 0.5 * s;
}

export function levenbergMarquardt(problem: LmProblem, x0: Float64Array, opts: LmOptions = {}): LmResult {
  const n = problem.n;
  if (x0.length !== n) fail('SHAPE', `Levenberg–Marquardt: x0 has ${x0.length} entries for ${n} unknowns`);
  const { lo, hi } = opts;
  for (let k = 0; k < n; k++) {
    if (lo && hi && !(lo[k]! < hi[k]!)) fail('INVALID_ARGUMENT', `Levenberg–Marquardt: bounds of unknown ${k} have lo = ${lo[k]} ≥ hi = ${hi[k]}`);
  }
  const maxIter = opts.maxIter ?? 100;
  const gradTol = opts.gradTol ?? 1e-10;
  const stepTol = opts.stepTol ?? 1e-10;
  const costTol = opts.costTol ?? 1e-12;
  const project = (x: Float64Array): Float64Array => {
    for (let k = 0; k < n; k++) {
      if (lo) x[k] = Math.max(x[k]!, lo[k]!);
      if (hi) x[k] = Math.min(x[k]!, hi[k]!);
    }
    return x;
  };
  let x = project(Float64Array.from(x0));
  let ev = problem.evaluate(x);
  let evaluations = 1;
  if (!ev) fail('NON_FINITE', 'Levenberg–Marquardt: the residuals cannot be evaluated at the starting point');
  const m = ev.r.length;
  if (ev.J.length !== m * n) fail('SHAPE', `Levenberg–Marquardt: Jacobian has ${ev.J.length} entries, expected ${m}×${n}`);
  let cost = halfSq(ev.r);
  let lambda = opts.lambda0 ?? 1e-3;
  let reason: LmStopReason = 'max-iterations';
  let iter = 0;
  const A = new Float64Array(n * n);
  const g = new Float64Array(n);
  outer: for (; iter < maxIter; iter++) {
    const { r, J } = ev;
    // Normal equations JᵀJ and gradient Jᵀr.
    A.fill(0);
    g.fill(0);
    for (let i = 0; i < m; i++) {
      const ri = r[i]!;
      const row = i * n;
      for (let a = 0; a < n; a++) {
        const ja = J[row + a]!;
        if (ja === 0) continue;
        g[a]! += ja * ri;
        for (let b = 0; b <= a; b++) A[a * n + b]! += ja * J[row + b]!;
      }
    }
    let gmax = 0;
    for (let a = 0; a < n; a++) {
      // Projected gradient: a component pushing against an active bound does not count.
      const blocked = (lo && x[a]! <= lo[a]! && g[a]! > 0) || (hi && x[a]! >= hi[a]! && g[a]! < 0);
      if (!blocked) gmax = Math.max(gmax, Math.abs(g[a]!) * Math.max(Math.abs(x[a]!), 1));
    }
    if (gmax <= gradTol * Math.max(cost, 1e-300) || cost === 0) { reason = 'gradient'; break; }
    let dmax = 0;
    for (let a = 0; a < n; a++) dmax = Math.max(dmax, A[a * n + a]!);
    // Active set: an unknown at a bound whose descent direction points outside stays there this
    // iteration (solving for it and clipping afterwards would bend the others' step and crawl).
    const fixed = new Uint8Array(n);
    let free = 0;
    for (let a = 0; a < n; a++) {
      if ((lo && x[a]! <= lo[a]! && g[a]! > 0) || (hi && x[a]! >= hi[a]! && g[a]! < 0)) fixed[a] = 1;
      else free++;
    }
    if (free === 0) { reason = 'gradient'; break; }
    for (;;) {
      const M = new Float64Array(n * n);
      for (let a = 0; a < n; a++) {
        if (fixed[a]) { M[a * n + a] = 1; continue; }
        for (let b = 0; b <= a; b++) if (!fixed[b]) M[a * n + b] = A[a * n + b]!;
        // Marquardt scaling, floored so a parameter the residuals ignore still gets a damped step.
        M[a * n + a]! += lambda * Math.max(A[a * n + a]!, 1e-12 * dmax, 1e-300);
      }
      let step: Float64Array;
      try {
        step = choleskySolve(cholesky(M, n, 'damped normal matrix'), n, Float64Array.from(g, (v, a) => (fixed[a] ? 0 : -v)));
      } catch {
        lambda *= 10;
        if (lambda > 1e16) { reason = 'no-descent'; break outer; }
        continue;
      }
      const xt = project(Float64Array.from(x, (v, k) => v + step[k]!));
      let dn = 0, xn = 0;
      for (let k = 0; k < n; k++) { dn += (xt[k]! - x[k]!) ** 2; xn += x[k]! ** 2; }
      if (Math.sqrt(dn) <= stepTol * (Math.sqrt(xn) + stepTol)) { reason = 'step'; break outer; }
      const et = problem.evaluate(xt);
      evaluations++;
      const ct = et ? halfSq(et.r) : Infinity;
      if (et && Number.isFinite(ct) && ct < cost) {
        const rel = (cost - ct) / cost;
        x = xt;
        ev = et;
        cost = ct;
        lambda = Math.max(lambda / 3, 1e-12);
        opts.onIteration?.({ iter, cost, lambda, x });
        if (rel < costTol) { reason = 'cost'; iter++; break outer; }
        break;
      }
      lambda *= 4;
      if (lambda > 1e16) { reason = 'no-descent'; break outer; }
    }
  }
  return { x, cost, r: ev.r, J: ev.J, iterations: iter, evaluations, reason, converged: reason === 'gradient' || reason === 'step' || reason === 'cost' };
}
