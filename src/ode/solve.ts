// Integrators: adaptive Dormand–Prince 5(4) with its continuous extension (non-stiff), and the
// L-stable, stiffly accurate Rosenbrock method Rodas4 (order 4(3), Hairer–Wanner's coefficients,
// "Solving Ordinary Differential Equations II", §IV.7) with the exact Jacobian from dual numbers
// and its own dense output (stiff). Both deliver the solution at requested times by
// interpolation inside accepted steps, so the step size is set by accuracy alone.
//
// Every loop terminates: a step budget (OdeMaxStepsError), a step-size floor (OdeStepSizeError),
// a cap on consecutive non-finite trial steps (OdeNonFiniteError) and, in the explicit solver,
// Hairer's stiffness detection (OdeStiffError, suggesting the stiff solver) — a stiff problem
// given to dopri5 fails fast instead of crawling through millions of tiny steps.
import type { OdeModel } from './model.js';
import { checkModel, trueParams, unknownIndices } from './define.js';
import { OdeDataError, OdeMaxStepsError, OdeModelError, OdeNonFiniteError, OdeStepSizeError, OdeStiffError } from './errors.js';
import { evalJacobian, evalRhs, modelSystem, sensitivitySystem, type OdeSystem } from './system.js';
import { luFactor, luSolve } from './lu.js';

export type OdeMethod = 'dopri5' | 'rodas' | 'auto';

export interface IntegrateOptions {
  /** Relative tolerance (default 1e-6). */
  rtol?: number;
  /** Absolute tolerance, scalar or per component (default 1e-12 per component). */
  atol?: number | Float64Array;
  /** Step budget (default 100 000 accepted + rejected steps). */
  maxSteps?: number;
  /** First trial step (default: Hairer's starting-step heuristic). */
  h0?: number;
  /** Largest step (default: the whole span). */
  hmax?: number;
  /** dopri5 only: throw OdeStiffError when the problem looks stiff (default true). */
  stiffnessCheck?: boolean;
}

export interface SolveStats {
  method: 'dopri5' | 'rodas';
  /** Steps attempted (accepted + rejected). */
  steps: number;
  accepted: number;
  rejected: number;
  rhsEvals: number;
  jacobianEvals: number;
  luDecompositions: number;
  /** 'auto' started with dopri5 and switched to rodas on detecting stiffness. */
  switchedToStiff?: boolean;
}

export interface IntegrateResult {
  /** [times.length × n] row-major. */
  readonly y: Float64Array;
  readonly stats: SolveStats;
}

interface Cfg {
  rtol: number;
  atol: Float64Array;
  maxSteps: number;
  h0: number | undefined;
  hmax: number;
  stiffnessCheck: boolean;
}

function config(n: number, t0: number, times: Float64Array, o: IntegrateOptions): Cfg {
  const rtol = o.rtol ?? 1e-6;
  if (!(rtol > 0 && rtol < 1)) throw new OdeModelError(`rtol must lie in (0, 1), got ${rtol}`);
  let atol: Float64Array;
  if (o.atol instanceof Float64Array) {
    if (o.atol.length !== n) throw new OdeModelError(`atol has ${o.atol.length} entries for ${n} components`);
    atol = o.atol;
  } else atol = new Float64Array(n).fill(o.atol ?? 1e-12);
  for (const a of atol) if (!(a >= 0) || !Number.isFinite(a)) throw new OdeModelError(`atol entries must be finite and ≥ 0, got ${a}`);
  if (times.length === 0) throw new OdeDataError('empty', 'no output times requested');
  let prev = t0;
  for (let i = 0; i < times.length; i++) {
    const t = times[i]!;
    if (!Number.isFinite(t)) throw new OdeDataError('bad-value', `output time ${i} is ${t}`);
    if (t < prev) {
      throw i === 0
        ? new OdeDataError('negative-time', `output time ${t} lies before the start t0 = ${t0}`)
        : new OdeDataError('non-monotone', `output times must be non-decreasing: times[${i}] = ${t} < times[${i - 1}] = ${prev}`);
    }
    prev = t;
  }
  const span = times[times.length - 1]! - t0;
  const maxSteps = o.maxSteps ?? 100_000;
  if (!(maxSteps >= 1)) throw new OdeModelError(`maxSteps must be ≥ 1, got ${maxSteps}`);
  return { rtol, atol, maxSteps, h0: o.h0, hmax: o.hmax ?? Math.max(span, Number.MIN_VALUE), stiffnessCheck: o.stiffnessCheck ?? true };
}

function firstNonFinite(a: Float64Array): number {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i]!)) return i;
  return -1;
}

/** RMS of e_i / (atol_i + rtol·max(|y0_i|, |y1_i|)). */
function errNorm(e: Float64Array, y0: Float64Array, y1: Float64Array, c: Cfg): number {
  let s = 0;
  for (let i = 0; i < e.length; i++) {
    const sk = c.atol[i]! + c.rtol * Math.max(Math.abs(y0[i]!), Math.abs(y1[i]!));
    const r = e[i]! / sk;
    s += r * r;
  }
  return Math.sqrt(s / e.length);
}

/** Hairer's starting step: h ≈ (0.01/max(‖f‖, ‖f'‖))^(1/(order+1)), capped by hmax. */
function startStep(sys: OdeSystem, t0: number, y0: Float64Array, f0: Float64Array, order: number, c: Cfg, stats: SolveStats): number {
  const n = sys.n;
  let d0 = 0, d1 = 0;
  for (let i = 0; i < n; i++) {
    const sk = c.atol[i]! + c.rtol * Math.abs(y0[i]!);
    d0 += (y0[i]! / sk) ** 2;
    d1 += (f0[i]! / sk) ** 2;
  }
  d0 = Math.sqrt(d0 / n);
  d1 = Math.sqrt(d1 / n);
  let h = d0 < 1e-5 || d1 < 1e-5 ? 1e-6 : 0.01 * (d0 / d1);
  h = Math.min(h, c.hmax);
  const y1 = new Float64Array(n);
  for (let i = 0; i < n; i++) y1[i] = y0[i]! + h * f0[i]!;
  const f1 = evalRhs(sys, t0 + h, y1, new Float64Array(n));
  stats.rhsEvals++;
  let d2 = 0;
  for (let i = 0; i < n; i++) {
    const sk = c.atol[i]! + c.rtol * Math.abs(y0[i]!);
    d2 += ((f1[i]! - f0[i]!) / sk) ** 2;
  }
  d2 = Number.isFinite(d2) ? Math.sqrt(d2 / n) / h : Infinity;
  const dm = Math.max(d1, d2);
  const h1 = dm <= 1e-15 ? Math.max(1e-6, h * 1e-3) : Math.pow(0.01 / dm, 1 / (order + 1));
  return Math.min(100 * h, h1, c.hmax);
}

function copyInitial(times: Float64Array, t0: number, y0: Float64Array, out: Float64Array): number {
  const n = y0.length;
  let k = 0;
  while (k < times.length && times[k]! <= t0) { out.set(y0, k * n); k++; }
  return k;
}

function nonFiniteAtStart(sys: OdeSystem, t0: number, y0: Float64Array, f0: Float64Array): void {
  const bad = firstNonFinite(f0);
  if (bad >= 0) {
    throw new OdeNonFiniteError(`the right-hand side of '${sys.name}' returned ${f0[bad]} for component ${bad} at the initial point t = ${t0} ` +
      `(y = [${Array.from(y0.slice(0, 8), (v) => v.toPrecision(4)).join(', ')}${y0.length > 8 ? ', …' : ''}])`);
  }
  const yb = firstNonFinite(y0);
  if (yb >= 0) throw new OdeNonFiniteError(`initial state component ${yb} of '${sys.name}' is ${y0[yb]}`);
}

const MAX_NONFINITE_RETRIES = 30;

function nonFiniteFail(sys: OdeSystem, t: number, h: number): never {
  throw new OdeNonFiniteError(`the right-hand side of '${sys.name}' kept returning NaN/Infinity near t = ${t} ` +
    `(${MAX_NONFINITE_RETRIES} step reductions, last h = ${h.toExponential(3)}): the solution leaves the model's domain or blows up`);
}

function tooSmall(sys: OdeSystem, t: number, h: number): never {
  throw new OdeStepSizeError(`step size ${h.toExponential(3)} at t = ${t} of '${sys.name}' is below the resolution of t: the solution is singular or blows up there`);
}

// ---- Dormand–Prince 5(4) -------------------------------------------------------------------

const A21 = 1 / 5;
const A31 = 3 / 40, A32 = 9 / 40;
const A41 = 44 / 45, A42 = -56 / 15, A43 = 32 / 9;
const A51 = 19372 / 6561, A52 = -25360 / 2187, A53 = 64448 / 6561, A54 = -212 / 729;
const A61 = 9017 / 3168, A62 = -355 / 33, A63 = 46732 / 5247, A64 = 49 / 176, A65 = -5103 / 18656;
const A71 = 35 / 384, A73 = 500 / 1113, A74 = 125 / 192, A75 = -2187 / 6784, A76 = 11 / 84;
const C2 = 1 / 5, C3 = 3 / 10, C4 = 4 / 5, C5 = 8 / 9;
const E1 = 71 / 57600, E3 = -71 / 16695, E4 = 71 / 1920, E5 = -17253 / 339200, E6 = 22 / 525, E7 = -1 / 40;
// Continuous extension (Hairer–Nørsett–Wanner, dopri5's contd5).
const D1 = -12715105075 / 11282082432, D3 = 87487479700 / 32700410799, D4 = -10690763975 / 1880347072;
const D5 = 701980252875 / 199316789632, D6 = -1453857185 / 822651844, D7 = 69997945 / 29380423;

/** Dormand–Prince 5(4) from (t0, y0) to every time in `times`; y rows in times order. */
export function integrateDopri5(sys: OdeSystem, y0In: Float64Array, t0: number, times: Float64Array, opts: IntegrateOptions = {}): IntegrateResult {
  const n = sys.n;
  const c = config(n, t0, times, opts);
  const stats: SolveStats = { method: 'dopri5', steps: 0, accepted: 0, rejected: 0, rhsEvals: 0, jacobianEvals: 0, luDecompositions: 0 };
  if (sys.stiff) {
    throw new OdeStiffError(`'${sys.name}' is flagged stiff: the explicit dopri5 solver would need tiny steps. Use method 'rodas' (or 'auto').`);
  }
  const out = new Float64Array(times.length * n);
  const y = Float64Array.from(y0In);
  const k1 = evalRhs(sys, t0, y, new Float64Array(n));
  stats.rhsEvals++;
  nonFiniteAtStart(sys, t0, y, k1);
  let iout = copyInitial(times, t0, y, out);
  const tend = times[times.length - 1]!;
  const k2 = new Float64Array(n), k3 = new Float64Array(n), k4 = new Float64Array(n), k5 = new Float64Array(n);
  const k6 = new Float64Array(n), k7 = new Float64Array(n), ys = new Float64Array(n), y6 = new Float64Array(n);
  const y1 = new Float64Array(n), e = new Float64Array(n);
  let t = t0;
  let h = iout < times.length ? (c.h0 ?? startStep(sys, t0, y, k1, 5, c, stats)) : 0;
  let lastRejected = false;
  let nonFinite = 0;
  let stiffHits = 0, nonStiff = 0;
  while (iout < times.length) {
    if (stats.steps >= c.maxSteps) {
      throw new OdeMaxStepsError(`dopri5 used its ${c.maxSteps} steps on '${sys.name}' and reached t = ${t} of ${tend}; raise maxSteps, loosen the tolerances, or use method 'rodas' if the problem is stiff`);
    }
    h = Math.min(h, c.hmax);
    const last = t + h >= tend;
    if (last) h = tend - t;
    if (t + h === t || !(h > 0)) tooSmall(sys, t, h);
    stats.steps++;
    for (let i = 0; i < n; i++) ys[i] = y[i]! + h * A21 * k1[i]!;
    evalRhs(sys, t + C2 * h, ys, k2);
    for (let i = 0; i < n; i++) ys[i] = y[i]! + h * (A31 * k1[i]! + A32 * k2[i]!);
    evalRhs(sys, t + C3 * h, ys, k3);
    for (let i = 0; i < n; i++) ys[i] = y[i]! + h * (A41 * k1[i]! + A42 * k2[i]! + A43 * k3[i]!);
    evalRhs(sys, t + C4 * h, ys, k4);
    for (let i = 0; i < n; i++) ys[i] = y[i]! + h * (A51 * k1[i]! + A52 * k2[i]! + A53 * k3[i]! + A54 * k4[i]!);
    evalRhs(sys, t + C5 * h, ys, k5);
    for (let i = 0; i < n; i++) y6[i] = y[i]! + h * (A61 * k1[i]! + A62 * k2[i]! + A63 * k3[i]! + A64 * k4[i]! + A65 * k5[i]!);
    const tn = last ? tend : t + h;
    evalRhs(sys, tn, y6, k6);
    for (let i = 0; i < n; i++) y1[i] = y[i]! + h * (A71 * k1[i]! + A73 * k3[i]! + A74 * k4[i]! + A75 * k5[i]! + A76 * k6[i]!);
    evalRhs(sys, tn, y1, k7);
    stats.rhsEvals += 6;
    for (let i = 0; i < n; i++) e[i] = h * (E1 * k1[i]! + E3 * k3[i]! + E4 * k4[i]! + E5 * k5[i]! + E6 * k6[i]! + E7 * k7[i]!);
    const err = errNorm(e, y, y1, c);
    if (!Number.isFinite(err) || firstNonFinite(k7) >= 0) {
      if (++nonFinite > MAX_NONFINITE_RETRIES) nonFiniteFail(sys, t, h);
      stats.rejected++;
      h *= 0.25;
      lastRejected = true;
      continue;
    }
    nonFinite = 0;
    if (err <= 1) {
      stats.accepted++;
      if (c.stiffnessCheck && (stats.accepted % 10 === 0 || stiffHits > 0)) {
        // Hairer's test: h·|λ| estimated from the last two stages (both at t + h).
        let num = 0, den = 0;
        for (let i = 0; i < n; i++) { num += (k7[i]! - k6[i]!) ** 2; den += (y1[i]! - y6[i]!) ** 2; }
        if (den > 0 && h * Math.sqrt(num / den) > 3.25) {
          nonStiff = 0;
          if (++stiffHits === 15) {
            throw new OdeStiffError(`'${sys.name}' is stiff near t = ${t.toPrecision(6)} (dopri5's step is held at ${h.toExponential(2)} by stability, not accuracy). Use method 'rodas' (or 'auto').`);
          }
        } else if (++nonStiff === 6) stiffHits = 0;
      }
      while (iout < times.length && (times[iout]! <= tn || last)) {
        const th = (times[iout]! - t) / h;
        const th1 = 1 - th;
        const row = iout * n;
        for (let i = 0; i < n; i++) {
          const r2 = y1[i]! - y[i]!;
          const r3 = h * k1[i]! - r2;
          const r4 = r2 - h * k7[i]! - r3;
          const r5 = h * (D1 * k1[i]! + D3 * k3[i]! + D4 * k4[i]! + D5 * k5[i]! + D6 * k6[i]! + D7 * k7[i]!);
          out[row + i] = times[iout] === tn ? y1[i]! : y[i]! + th * (r2 + th1 * (r3 + th * (r4 + th1 * r5)));
        }
        iout++;
      }
      t = tn;
      y.set(y1);
      k1.set(k7);
      let fac = err === 0 ? 10 : Math.min(10, Math.max(0.2, 0.9 * Math.pow(err, -0.2)));
      if (lastRejected) fac = Math.min(fac, 1);
      h *= fac;
      lastRejected = false;
    } else {
      stats.rejected++;
      h *= Math.max(0.2, 0.9 * Math.pow(err, -0.2));
      lastRejected = true;
    }
  }
  return { y: out, stats };
}

// ---- Rodas4 -------------------------------------------------------------------------------

const RG = 0.25;
const RA: readonly (readonly number[])[] = [
  [],
  [1.544],
  [0.9466785280815826, 0.2557011698983284],
  [3.314825187068521, 2.896124015972201, 0.9986419139977817],
  [1.221224509226641, 6.019134481288629, 12.53708332932087, -0.687886036105895],
  [1.221224509226641, 6.019134481288629, 12.53708332932087, -0.687886036105895, 1],
];
const RC: readonly (readonly number[])[] = [
  [],
  [-5.6688],
  [-2.430093356833875, -0.2063599157091915],
  [-0.1073529058151375, -9.594562251023355, -20.47028614809616],
  [7.496443313967647, -10.24680431464352, -33.99990352819905, 11.7089089320616],
  [8.083246795921522, -7.981132988064893, -31.52159432874371, 16.31930543123136, -6.058818238834054],
];
const RCT = [0, 0.386, 0.21, 0.63, 1, 1];
const RD = [0.25, -0.1043, 0.1035, -0.0362, 0, 0];
// Dense output: y(θ) = (1−θ)·y0 + θ·(y1 + (1−θ)·(h1 + θ·h2)), h_r = Σ_j H[r][j]·U_j.
const RH = [
  [10.12623508344586, -7.487995877610167, -34.80091861555747, -7.992771707568823, 1.025137723295662],
  [-0.6762803392801253, 6.087714651680015, 16.43084320892478, 24.76722511418386, -6.594389125716872],
];

/** Rodas4 from (t0, y0) to every time in `times` (Jacobian by duals, refreshed every step). */
export function integrateRodas(sys: OdeSystem, y0In: Float64Array, t0: number, times: Float64Array, opts: IntegrateOptions = {}): IntegrateResult {
  const n = sys.n;
  const c = config(n, t0, times, opts);
  const stats: SolveStats = { method: 'rodas', steps: 0, accepted: 0, rejected: 0, rhsEvals: 0, jacobianEvals: 0, luDecompositions: 0 };
  const out = new Float64Array(times.length * n);
  const y = Float64Array.from(y0In);
  const f0 = evalRhs(sys, t0, y, new Float64Array(n));
  stats.rhsEvals++;
  nonFiniteAtStart(sys, t0, y, f0);
  let iout = copyInitial(times, t0, y, out);
  const tend = times[times.length - 1]!;
  const J = new Float64Array(n * n), ft = new Float64Array(n), M = new Float64Array(n * n);
  const U = Array.from({ length: 6 }, () => new Float64Array(n));
  const ys = new Float64Array(n), fs = new Float64Array(n), y1 = new Float64Array(n);
  let t = t0;
  let h = iout < times.length ? (c.h0 ?? startStep(sys, t0, y, f0, 3, c, stats)) : 0;
  let lastRejected = false;
  let nonFinite = 0;
  let jacFresh = false;
  while (iout < times.length) {
    if (stats.steps >= c.maxSteps) {
      throw new OdeMaxStepsError(`rodas used its ${c.maxSteps} steps on '${sys.name}' and reached t = ${t} of ${tend}; raise maxSteps or loosen the tolerances`);
    }
    h = Math.min(h, c.hmax);
    const last = t + h >= tend;
    if (last) h = tend - t;
    if (t + h === t || !(h > 0)) tooSmall(sys, t, h);
    stats.steps++;
    if (!jacFresh) {
      evalJacobian(sys, t, y, J, ft);
      stats.jacobianEvals++;
      jacFresh = true;
    }
    const fac = 1 / (h * RG);
    for (let i = 0; i < n * n; i++) M[i] = -J[i]!;
    for (let i = 0; i < n; i++) M[i * n + i]! += fac;
    const lu = luFactor(M, n);
    stats.luDecompositions++;
    let bad = !lu.ok;
    for (let s = 0; s < 6 && !bad; s++) {
      const Us = U[s]!;
      if (s === 0) Us.set(f0);
      else {
        for (let i = 0; i < n; i++) {
          let v = y[i]!;
          for (let j = 0; j < s; j++) v += RA[s]![j]! * U[j]![i]!;
          ys[i] = v;
        }
        evalRhs(sys, t + RCT[s]! * h, ys, fs);
        stats.rhsEvals++;
        for (let i = 0; i < n; i++) {
          let v = fs[i]!;
          for (let j = 0; j < s; j++) v += (RC[s]![j]! / h) * U[j]![i]!;
          Us[i] = v;
        }
      }
      if (RD[s] !== 0) for (let i = 0; i < n; i++) Us[i]! += h * RD[s]! * ft[i]!;
      luSolve(lu, Us);
      if (firstNonFinite(Us) >= 0) bad = true;
    }
    let err = Infinity;
    if (!bad) {
      // Stiffly accurate: y1 is the last stage's argument plus U6, and U6 is the error estimate.
      for (let i = 0; i < n; i++) y1[i] = ys[i]! + U[5]![i]!;
      err = errNorm(U[5]!, y, y1, c);
    }
    const tn = last ? tend : t + h;
    let f1: Float64Array | null = null;
    if (Number.isFinite(err) && err <= 1) {
      f1 = evalRhs(sys, tn, y1, new Float64Array(n));
      stats.rhsEvals++;
      if (firstNonFinite(f1) >= 0) err = Infinity;
    }
    if (!Number.isFinite(err)) {
      if (++nonFinite > MAX_NONFINITE_RETRIES) nonFiniteFail(sys, t, h);
      stats.rejected++;
      h *= 0.25;
      lastRejected = true;
      continue;
    }
    nonFinite = 0;
    if (err <= 1) {
      stats.accepted++;
      while (iout < times.length && (times[iout]! <= tn || last)) {
        const th = (times[iout]! - t) / h;
        const th1 = 1 - th;
        const row = iout * n;
        for (let i = 0; i < n; i++) {
          let a = 0, b = 0;
          for (let j = 0; j < 5; j++) { a += RH[0]![j]! * U[j]![i]!; b += RH[1]![j]! * U[j]![i]!; }
          out[row + i] = times[iout] === tn ? y1[i]! : th1 * y[i]! + th * (y1[i]! + th1 * (a + th * b));
        }
        iout++;
      }
      t = tn;
      y.set(y1);
      f0.set(f1!);
      jacFresh = false;
      let grow = err === 0 ? 6 : Math.min(6, Math.max(0.2, 0.9 * Math.pow(err, -0.25)));
      if (lastRejected) grow = Math.min(grow, 1);
      h *= grow;
      lastRejected = false;
    } else {
      stats.rejected++;
      h *= Math.max(0.2, 0.9 * Math.pow(err, -0.25));
      lastRejected = true;
    }
  }
  return { y: out, stats };
}

/** Integrate a system with the named method ('auto': dopri5, switching to rodas on stiffness). */
export function integrate(sys: OdeSystem, method: OdeMethod, y0: Float64Array, t0: number, times: Float64Array, opts: IntegrateOptions = {}): IntegrateResult {
  if (method === 'rodas') return integrateRodas(sys, y0, t0, times, opts);
  if (method === 'dopri5') return integrateDopri5(sys, y0, t0, times, opts);
  if (method !== 'auto') throw new OdeModelError(`unknown ODE method '${method as string}' (dopri5, rodas, auto)`);
  if (sys.stiff) return integrateRodas(sys, y0, t0, times, opts);
  try {
    return integrateDopri5(sys, y0, t0, times, opts);
  } catch (e) {
    if (!(e instanceof OdeStiffError)) throw e;
    const r = integrateRodas(sys, y0, t0, times, opts);
    r.stats.switchedToStiff = true;
    return r;
  }
}

// ---- Models -------------------------------------------------------------------------------

export interface SolveOdeOptions extends IntegrateOptions {
  /** 'dopri5' (explicit), 'rodas' (stiff), 'auto' (default: rodas for stiff-flagged models, else dopri5 with a switch on detected stiffness). */
  method?: OdeMethod;
  /** Output times (≥ t0, non-decreasing). */
  times: Float64Array;
  /** Every parameter's value in declaration order (default: the true values). */
  params?: Float64Array;
  /** Initial state (default: the model's). */
  u0?: Float64Array;
  /** Start time (default: the model's tspan[0]). */
  t0?: number;
  /**
   * Forward sensitivities ∂u/∂p for these parameter indices ('unknown': the model's unknown
   * parameters), from the variational equations integrated with the state.
   */
  sensitivities?: readonly number[] | 'unknown';
}

export interface OdeSolution {
  readonly times: Float64Array;
  /** [times.length × nstates] row-major. */
  readonly states: Float64Array;
  readonly nstates: number;
  /** Parameter indices of the sensitivity columns. */
  readonly sensitivityParams?: readonly number[];
  /** ∂u_i/∂p_k at times[t]: index (t·nstates + i)·np + k. */
  readonly sensitivities?: Float64Array;
  readonly stats: SolveStats;
}

/** Default absolute tolerance: 1e-6·rtol times each state's typical scale. */
function defaultAtol(model: OdeModel, rtol: number): Float64Array {
  return Float64Array.from(model.scales, (s) => 1e-6 * rtol * s);
}

export function solveOde(model: OdeModel, opts: SolveOdeOptions): OdeSolution {
  checkModel(model);
  const n = model.states.length;
  const p = opts.params ?? trueParams(model);
  if (p.length !== model.parameters.length) {
    throw new OdeModelError(`'${model.name}' has ${model.parameters.length} parameters, got ${p.length} values`);
  }
  const u0 = opts.u0 ?? model.initialState;
  if (u0.length !== n) throw new OdeModelError(`'${model.name}' has ${n} states, got an initial state of ${u0.length}`);
  const t0 = opts.t0 ?? model.tspan[0];
  const method = opts.method ?? 'auto';
  const rtol = opts.rtol ?? 1e-6;
  const atolStates = opts.atol instanceof Float64Array ? opts.atol : opts.atol !== undefined ? new Float64Array(n).fill(opts.atol) : defaultAtol(model, rtol);
  if (atolStates.length !== n) throw new OdeModelError(`atol has ${atolStates.length} entries for ${n} states`);
  const wrt = opts.sensitivities === 'unknown' ? unknownIndices(model) : opts.sensitivities;
  if (!wrt || wrt.length === 0) {
    const r = integrate(modelSystem(model, p), method, u0, t0, opts.times, { ...opts, rtol, atol: atolStates });
    return { times: opts.times, states: r.y, nstates: n, stats: r.stats };
  }
  for (const j of wrt) {
    if (!Number.isInteger(j) || j < 0 || j >= p.length) throw new OdeModelError(`sensitivity parameter index ${j} is not one of 0..${p.length - 1}`);
  }
  const np = wrt.length;
  const N = n * (1 + np);
  const y0 = new Float64Array(N);
  y0.set(u0);
  // Sensitivity components are weighted like their states per unit relative change of p_k.
  const atol = new Float64Array(N);
  atol.set(atolStates);
  for (let i = 0; i < n; i++) for (let k = 0; k < np; k++) {
    const pk = Math.abs(p[wrt[k]!]!);
    atol[n + i * np + k] = pk > 0 ? atolStates[i]! / pk : atolStates[i]!;
  }
  const r = integrate(sensitivitySystem(model, p, wrt), method, y0, t0, opts.times, { ...opts, rtol, atol });
  const nt = opts.times.length;
  const states = new Float64Array(nt * n);
  const sens = new Float64Array(nt * n * np);
  for (let it = 0; it < nt; it++) {
    states.set(r.y.subarray(it * N, it * N + n), it * n);
    sens.set(r.y.subarray(it * N + n, (it + 1) * N), it * n * np);
  }
  return { times: opts.times, states, nstates: n, sensitivityParams: [...wrt], sensitivities: sens, stats: r.stats };
}

/** Evenly spaced times over [a, b] (count ≥ 2). */
export function linspace(a: number, b: number, count: number): Float64Array {
  if (!(count >= 2) || !Number.isInteger(count)) throw new OdeModelError(`linspace needs an integer count ≥ 2, got ${count}`);
  return Float64Array.from({ length: count }, (_, i) => (i === count - 1 ? b : a + ((b - a) * i) / (count - 1)));
}
