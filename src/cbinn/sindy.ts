/**
 * Symbolic recovery of a learned term by sparse regression: SINDy's sequentially thresholded
 * least squares ("Discovering governing equations from data by sparse identification of
 * nonlinear dynamical systems", Brunton, Proctor, Kutz) over a library of
 *   - monomials of the states up to a degree (the constant included), and
 *   - rational Michaelis–Menten terms u_i·u_j/(k + u_j) and u_j/(k + u_j) for one saturation
 *     constant k.
 * k enters nonlinearly, so it is searched: STLSQ runs for every k of a geometric grid and every
 * threshold of a short list, and every subset of one or two terms is fitted too; the winner is
 * the sparsest candidate whose relative residual is within a tolerance (k counting as a term),
 * else the one with the best Bayesian information criterion (n·log(RSS/n) + log(n)·(terms)), and
 * k is then refined by golden-section search between its grid neighbours for the chosen terms. Columns and target are
 * normalised to unit norm before thresholding, so a threshold is the smallest normalised
 * coefficient a kept term may have. The criterion matters: monomials and rational terms are
 * nearly collinear over a narrow range (x²/(k+x) ≈ x²/k for x ≪ k), and a pair of them with
 * cancelling coefficients fits noise a little better than the one true term.
 */
import { fail } from '../core/errors.js';

export interface LibraryColumn {
  /** Printable expression, e.g. 'x*y/(k + y)' with k substituted. */
  readonly name: string;
  readonly kind: 'poly' | 'rational';
  /** Which states it multiplies (for the rational ones: numerator i (-1: none), saturating j). */
  readonly i?: number;
  readonly j?: number;
  readonly values: Float64Array;
}

export interface SindyOptions {
  /** Highest monomial degree. Default 2. */
  degree?: number;
  /** Saturation constants to try (default: 96 geometric values from 1e-3·min to 1e3·max of the positive state ranges). */
  kGrid?: readonly number[];
  /** Include rational terms at all. Default true. */
  rational?: boolean;
  /** Thresholds on normalised coefficients to try (the criterion picks). Default [0.005, 0.01, 0.02, 0.05, 0.1, 0.2]. */
  thresholds?: readonly number[];
  /** Ridge added to the normal equations (relative to their diagonal). Default 1e-10. */
  ridge?: number;
  /** STLSQ iterations at most. Default 25. */
  maxIter?: number;
  /** Refine k by golden-section search. Default true. */
  refine?: boolean;
  /** Relative residual within which the sparsest candidate wins. Default 0.03. */
  tolerance?: number;
  /** Also try every subset of up to this many terms (0–2). Default 2. */
  exhaustive?: number;
}

export interface SindyTerm {
  name: string;
  coefficient: number;
}

export interface SindyResult {
  /** The recovered expression, e.g. '1.131*x*y/(20.19 + y) - 0.0031*x*y'. */
  formula: string;
  terms: SindyTerm[];
  /** The saturation constant of the chosen library (null when no rational term is active). */
  k: number | null;
  /** ‖Θξ − y‖/‖y‖ of the final fit. */
  relativeResidual: number;
  /** Size of the library searched (per k). */
  librarySize: number;
}

/** Solves (G_AA + λ·diag)·x = b_A for the active set A by Cholesky (G = ΘᵀΘ, b = Θᵀy precomputed). */
function solveActive(Gfull: Float64Array, bfull: Float64Array, mAll: number, active: readonly number[], ridge: number): Float64Array {
  const m = active.length;
  const G = new Float64Array(m * m);
  const b = new Float64Array(m);
  for (let a = 0; a < m; a++) {
    b[a] = bfull[active[a]!]!;
    for (let c = 0; c < m; c++) G[a * m + c] = Gfull[active[a]! * mAll + active[c]!]!;
  }
  for (let a = 0; a < m; a++) G[a * m + a]! += ridge * Math.max(G[a * m + a]!, 1e-300);
  // Cholesky G = LLᵀ in place (lower triangle).
  for (let j = 0; j < m; j++) {
    let d = G[j * m + j]!;
    for (let k = 0; k < j; k++) d -= G[j * m + k]! ** 2;
    if (!(d > 0)) d = 1e-300;
    const ljj = Math.sqrt(d);
    G[j * m + j] = ljj;
    for (let i = j + 1; i < m; i++) {
      let s = G[i * m + j]!;
      for (let k = 0; k < j; k++) s -= G[i * m + k]! * G[j * m + k]!;
      G[i * m + j] = s / ljj;
    }
  }
  const z = new Float64Array(m);
  for (let i = 0; i < m; i++) {
    let s = b[i]!;
    for (let k = 0; k < i; k++) s -= G[i * m + k]! * z[k]!;
    z[i] = s / G[i * m + i]!;
  }
  const x = new Float64Array(m);
  for (let i = m - 1; i >= 0; i--) {
    let s = z[i]!;
    for (let k = i + 1; k < m; k++) s -= G[k * m + i]! * x[k]!;
    x[i] = s / G[i * m + i]!;
  }
  return x;
}

/**
 * STLSQ on columns `theta` (each of length n) against y: returns coefficients in the columns'
 * own units (zeros for dropped columns). Always terminates: the active set only shrinks.
 */
export function stlsq(theta: readonly Float64Array[], y: Float64Array, opts: { threshold?: number; ridge?: number; maxIter?: number } = {}): Float64Array {
  const threshold = opts.threshold ?? 0.02;
  const ridge = opts.ridge ?? 1e-10;
  const maxIter = opts.maxIter ?? 25;
  if (!(threshold >= 0)) fail('INVALID_ARGUMENT', `STLSQ threshold must be ≥ 0, got ${threshold}`);
  const m = theta.length;
  theta.forEach((c, i) => {
    if (c.length !== y.length) fail('SHAPE', `library column ${i} has ${c.length} rows, the target has ${y.length}`);
  });
  const norm = (v: Float64Array): number => Math.sqrt(v.reduce((s, x) => s + x * x, 0));
  const yn = norm(y);
  const coef = new Float64Array(m);
  if (yn === 0 || m === 0) return coef;
  const cn = theta.map(norm);
  // Normalised Gram matrix and right-hand side, once: every refit is then an m×m solve.
  const G = new Float64Array(m * m);
  const b = new Float64Array(m);
  for (let i = 0; i < m; i++) {
    if (!(cn[i]! > 0)) continue;
    const ci = theta[i]!;
    let sb = 0;
    for (let r = 0; r < y.length; r++) sb += ci[r]! * y[r]!;
    b[i] = sb / (cn[i]! * yn);
    for (let j = i; j < m; j++) {
      if (!(cn[j]! > 0)) continue;
      const cj = theta[j]!;
      let t = 0;
      for (let r = 0; r < y.length; r++) t += ci[r]! * cj[r]!;
      G[i * m + j] = G[j * m + i] = t / (cn[i]! * cn[j]!);
    }
  }
  let active = cn.map((c, i) => (c > 0 ? i : -1)).filter((i) => i >= 0);
  let xi: Float64Array = new Float64Array(0);
  for (let iter = 0; iter < maxIter && active.length > 0; iter++) {
    xi = solveActive(G, b, m, active, ridge);
    const keep = active.filter((_, a) => Math.abs(xi[a]!) >= threshold);
    if (keep.length === active.length) break;
    active = keep;
    if (active.length > 0) xi = solveActive(G, b, m, active, ridge);
  }
  active.forEach((i, a) => (coef[i] = (xi[a]! * yn) / cn[i]!));
  return coef;
}

function monomials(S: number, degree: number): number[][] {
  const out: number[][] = [[]];
  const rec = (start: number, cur: number[]): void => {
    if (cur.length === degree) return;
    for (let j = start; j < S; j++) {
      const next = [...cur, j];
      out.push(next);
      rec(j, next);
    }
  };
  rec(0, []);
  return out;
}

function fmt(v: number): string {
  return Number(v.toPrecision(4)).toString();
}

/** The library for one k: monomials then (optionally) rational terms. */
export function buildLibrary(states: Float64Array, names: readonly string[], degree: number, k: number | null): LibraryColumn[] {
  const S = names.length;
  const n = states.length / S;
  const cols: LibraryColumn[] = [];
  for (const mono of monomials(S, degree)) {
    const v = new Float64Array(n).fill(1);
    for (const j of mono) for (let r = 0; r < n; r++) v[r]! *= states[r * S + j]!;
    cols.push({ name: mono.length === 0 ? '1' : mono.map((j) => names[j]).join('*'), kind: 'poly', values: v });
  }
  if (k !== null) {
    for (let j = 0; j < S; j++) {
      for (let i = -1; i < S; i++) {
        const v = new Float64Array(n);
        for (let r = 0; r < n; r++) v[r] = (i >= 0 ? states[r * S + i]! : 1) * states[r * S + j]! / (k + states[r * S + j]!);
        const num = i >= 0 ? `${names[i]}*${names[j]}` : names[j]!;
        cols.push({ name: `${num}/(${fmt(k)} + ${names[j]})`, kind: 'rational', i, j, values: v });
      }
    }
  }
  return cols;
}

interface Fit {
  k: number | null;
  cols: LibraryColumn[];
  coef: Float64Array;
  rss: number;
  score: number;
}

/** Recovers a sparse formula for `target` (n values) as a function of `states` (n × S, row-major). */
export function sindyRecover(states: Float64Array, target: Float64Array, names: readonly string[], opts: SindyOptions = {}): SindyResult {
  const S = names.length;
  if (S === 0) fail('INVALID_ARGUMENT', 'SINDy needs at least one state');
  if (states.length % S !== 0 || states.length / S !== target.length) fail('SHAPE', `SINDy: ${states.length} state values for ${S} states do not match ${target.length} target values`);
  const n = target.length;
  if (n < 3) fail('INVALID_ARGUMENT', `SINDy needs at least 3 samples, got ${n}`);
  if (!states.every(Number.isFinite) || !target.every(Number.isFinite)) fail('NON_FINITE', 'SINDy input holds non-finite values');
  const degree = opts.degree ?? 2;
  if (!Number.isInteger(degree) || degree < 0 || degree > 4) fail('INVALID_ARGUMENT', `SINDy degree must be an integer in 0..4, got ${degree}`);
  const rational = opts.rational ?? true;
  const thresholds = opts.thresholds ?? [0.005, 0.01, 0.02, 0.05, 0.1, 0.2];
  if (thresholds.length === 0 || thresholds.some((t) => !(t >= 0))) fail('INVALID_ARGUMENT', 'SINDy thresholds must be a non-empty list of numbers ≥ 0');
  const ridge = opts.ridge ?? 1e-10;
  const maxIter = opts.maxIter ?? 25;
  let kGrid = opts.kGrid ? [...opts.kGrid] : null;
  if (rational && kGrid === null) {
    let lo = Infinity;
    let hi = 0;
    for (const v of states) if (v > 0) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
    if (!(hi > 0)) kGrid = [];
    else {
      const a = Math.log(Math.max(lo, hi * 1e-6) * 1e-3);
      const b = Math.log(hi * 1e3);
      kGrid = Array.from({ length: 96 }, (_, i) => Math.exp(a + ((b - a) * i) / 95));
    }
  }
  if (kGrid && kGrid.some((k) => !(k > 0))) fail('INVALID_ARGUMENT', 'SINDy saturation constants must be positive');

  const tss = target.reduce((s, v) => s + v * v, 0);
  const tolerance = opts.tolerance ?? 0.03;
  const maxExhaustive = opts.exhaustive ?? 2;
  /** Exact RSS of coefficients on a library. */
  const rssOf = (cols: LibraryColumn[], coef: Float64Array): number => {
    let rss = 0;
    for (let r = 0; r < n; r++) {
      let p = 0;
      cols.forEach((c, i) => { if (coef[i] !== 0) p += coef[i]! * c.values[r]!; });
      rss += (p - target[r]!) ** 2;
    }
    return rss;
  };
  const norms = new WeakMap<LibraryColumn[], number[]>();
  /** Least squares on a fixed set of library indices (unnormalised Gram), as full coefficients. */
  const fitSubset = (cols: LibraryColumn[], idx: readonly number[]): Float64Array => {
    const m = cols.length;
    const G = new Float64Array(m * m);
    const bb = new Float64Array(m);
    let nrm = norms.get(cols);
    if (!nrm) {
      nrm = cols.map((c) => Math.sqrt(c.values.reduce((s2, v) => s2 + v * v, 0)) || 1);
      norms.set(cols, nrm);
    }
    const dotv = (u: Float64Array, v: Float64Array): number => {
      let t = 0;
      for (let r = 0; r < n; r++) t += u[r]! * v[r]!;
      return t;
    };
    for (const i of idx) {
      bb[i] = dotv(cols[i]!.values, target) / nrm[i]!;
      for (const j of idx) G[i * m + j] = dotv(cols[i]!.values, cols[j]!.values) / (nrm[i]! * nrm[j]!);
    }
    const x = solveActive(G, bb, m, idx, ridge);
    const coef = new Float64Array(m);
    idx.forEach((i, a2) => (coef[i] = x[a2]! / nrm[i]!));
    return coef;
  };
  /**
   * Selection: the fewest terms (k counting as one more) whose relative residual is within
   * `tolerance`, ties to the smaller residual; when none is, the Bayesian information criterion.
   */
  const scoreOf = (cols: LibraryColumn[], coef: Float64Array, rss: number): number => {
    const nActive = coef.reduce((s2, c) => s2 + (c !== 0 ? 1 : 0), 0);
    const usesK = cols.some((c, i) => c.kind === 'rational' && coef[i] !== 0);
    const rel = Math.sqrt(rss / Math.max(tss, 1e-300));
    if (nActive > 0 && rel <= tolerance) return -1e12 + 1e6 * (nActive + (usesK ? 1 : 0)) + rel;
    // RSS is floored relative to the target so exact fits compare by their term counts.
    return n * Math.log(Math.max(rss, 1e-28 * tss, 1e-300) / n) + Math.log(n) * (nActive + (usesK ? 1 : 0));
  };
  const make = (k: number | null, cols: LibraryColumn[], coef: Float64Array): Fit => {
    const rss = rssOf(cols, coef);
    const usesK = cols.some((c, i) => c.kind === 'rational' && coef[i] !== 0);
    return { k: usesK ? k : null, cols, coef, rss, score: scoreOf(cols, coef, rss) };
  };
  const fitAt = (k: number | null): Fit => {
    const cols = buildLibrary(states, names, degree, k);
    let best: Fit | null = null;
    const consider = (coef: Float64Array): void => {
      const f = make(k, cols, coef);
      if (best === null || f.score < best.score) best = f;
    };
    for (const threshold of thresholds) consider(stlsq(cols.map((c) => c.values), target, { threshold, ridge, maxIter }));
    // Every subset of one or two terms too: along a single trajectory the library is nearly
    // collinear, and thresholding alone can keep a cancelling pair instead of the one true term.
    const m = cols.length;
    if (maxExhaustive >= 1) for (let i = 0; i < m; i++) consider(fitSubset(cols, [i]));
    if (maxExhaustive >= 2) for (let i = 0; i < m; i++) for (let j = i + 1; j < m; j++) consider(fitSubset(cols, [i, j]));
    return best!;
  };

  let best = fitAt(null);
  let bestGridIndex = -1;
  if (rational && kGrid) {
    kGrid.forEach((k, gi) => {
      const f = fitAt(k);
      if (f.score < best.score) {
        best = f;
        bestGridIndex = gi;
      }
    });
    if ((opts.refine ?? true) && best.k !== null && kGrid.length > 1) {
      // Golden-section search of log k between the grid neighbours, for the chosen terms.
      const idx = [...best.coef.keys()].filter((i) => best.coef[i] !== 0);
      const at = (logk: number): Fit => {
        const k = Math.exp(logk);
        const cols = buildLibrary(states, names, degree, k);
        const coef = fitSubset(cols, idx);
        const rss = rssOf(cols, coef);
        return { k, cols, coef, rss, score: rss };
      };
      let a = Math.log(kGrid[Math.max(0, bestGridIndex - 1)]!);
      let b = Math.log(kGrid[Math.min(kGrid.length - 1, bestGridIndex + 1)]!);
      const g = (Math.sqrt(5) - 1) / 2;
      let c = b - g * (b - a);
      let d = a + g * (b - a);
      let fc = at(c);
      let fd = at(d);
      for (let iter = 0; iter < 80 && b - a > 1e-7; iter++) {
        if (fc.rss < fd.rss) {
          b = d; d = c; fd = fc;
          c = b - g * (b - a);
          fc = at(c);
        } else {
          a = c; c = d; fc = fd;
          d = a + g * (b - a);
          fd = at(d);
        }
      }
      const refined = fc.rss < fd.rss ? fc : fd;
      if (refined.rss <= best.rss) best = { ...refined, score: best.score };
    }
  }
  const terms: SindyTerm[] = [];
  best.cols.forEach((c, i) => {
    if (best.coef[i] !== 0) terms.push({ name: c.name, coefficient: best.coef[i]! });
  });
  const formula = terms.length === 0 ? '0' : terms.map((t, i) => {
    const mag = fmt(Math.abs(t.coefficient));
    const body = t.name === '1' ? mag : `${mag}*${t.name}`;
    return i === 0 ? (t.coefficient < 0 ? `-${body}` : body) : `${t.coefficient < 0 ? ' - ' : ' + '}${body}`;
  }).join('');
  const yn = Math.sqrt(target.reduce((s, v) => s + v * v, 0));
  return { formula, terms, k: best.k, relativeResidual: yn > 0 ? Math.sqrt(best.rss) / yn : 0, librarySize: best.cols.length };
}
