/**
 * Sample complexity of the diagonal FIM estimators: how many sampled labels (and inputs) make
 * an estimate fall within relative error ε of the truth with probability at least 1 − δ,
 *
 *     P( |Î_j(θ_i) − I(θ_i)| ≥ ε I(θ_i) ) ≤ δ.
 *
 * Chebyshev ("On the Variance of the Fisher Information for Deep Learning", Sec. 3.4): the
 * estimate with N labels has variance v_j/N (v_j the single-label variance), so
 *
 *     N ≥ v_j / (δ ε² I²)
 *
 * suffices. Where the single-label term is bounded (t(y) bounded: categorical, Bernoulli),
 * Bernstein's inequality uses the variance and the range and needs only log(2/δ) instead of 1/δ:
 *
 *     N ≥ ( 2 v_j/(ε² I²) + 2 M/(3 ε I) ) · log(2/δ),      |term − I| ≤ M,
 *
 * and Hoeffding, which sees only the range w of the term, N ≥ w² log(2/δ) / (2 ε² I²). The
 * smallest applicable bound is reported, with its name.
 *
 * Ranges of the single-label terms, with δ_t = t(y) − η and B = max_y ‖t(y) − η‖²:
 *   Î1: (J_iᵀ δ_t)² ∈ [0, b_i], b_i = ‖J_i‖² B (Cauchy–Schwarz), so |term − I| ≤ max(b_i − I, I);
 *   Î2: I + (η − t)ᵀ H_i, so |term − I| ≤ ‖H_i‖ √B, a range of width 2 ‖H_i‖ √B.
 * Gaussian and Poisson t are unbounded: only Chebyshev applies there.
 *
 * Several inputs: an estimate averaging n inputs with N labels each (the FIM over a fixed set
 * of inputs, every input used) has variance v̄/(nN) with v̄ the mean single-label variance, and
 * the truth is the mean Ī; the bounds above hold for the nN independent (not identically
 * distributed) summands with v̄ and the largest range, so they give n·N and N is that over n.
 *
 * Joint sampling (inputs drawn from q, "Trade-Offs of Diagonal Fisher Information Matrix
 * Estimators", Theorem 4.7): with N_x inputs and N labels each,
 *
 *     Var = (Var_q I + E_q v_j / N) / N_x,
 *
 * a rate O(1/N_x + 1/(N_x N)). The input term does not shrink with N: past some N more labels
 * cannot lower the number of inputs needed (see jointBudget).
 *
 * Layers: per-parameter requirements are aggregated per parameter group (median, 90th
 * percentile, max), and the layer trace Σ_i Î(θ_i) gets its own Chebyshev requirement. Its
 * variance needs the covariances between the layer's parameters; from the diagonal alone it is
 * bounded by (Σ_i √V_i)² (Cauchy–Schwarz), an upper bound. The exact trace variances follow
 * from one input's Jacobian and Hessian diagonal (layerTraceVariances).
 */
import { fail } from '../core/errors.js';
import { smallestInteger } from '../core/search.js';
import { checkOptions, type OptionSchema } from '../core/options.js';
import type { Likelihood } from '../likelihoods/likelihood.js';
import type { ParamLayout } from '../fisher/matrix.js';
import { symmetricEigen } from '../fisher/linalg.js';
import type { InputVariance } from './conditional.js';

/** Relative error ε and failure probability δ. */
export interface Accuracy {
  epsilon: number;
  delta: number;
}

export type BoundName = 'chebyshev' | 'bernstein' | 'hoeffding';
export type EstimatorKind = 'i1' | 'i2';

export function checkAccuracy(acc: Accuracy): void {
  if (acc !== null && typeof acc === 'object') checkOptions('accuracy', acc, { epsilon: { kind: 'any', required: true }, delta: { kind: 'any', required: true } }, 'accuracy');
  if (acc === null || typeof acc !== 'object') fail('INVALID_ARGUMENT', 'accuracy must be an object { epsilon, delta }');
  const { epsilon, delta } = acc;
  if (typeof epsilon !== 'number' || !Number.isFinite(epsilon) || epsilon <= 0) fail('INVALID_ARGUMENT', `relative error epsilon must be a finite number > 0, got ${String(epsilon)}`);
  if (typeof delta !== 'number' || !Number.isFinite(delta) || delta <= 0 || delta >= 1) fail('INVALID_ARGUMENT', `failure probability delta must be in (0, 1), got ${String(delta)}`);
}

function checkInputs(n: number): void {
  if (!Number.isInteger(n) || n < 1) fail('INVALID_ARGUMENT', `the number of inputs must be a positive integer, got ${n}`);
}

function checkScalar(what: string, x: number, nonNegative = true): void {
  if (typeof x !== 'number' || !Number.isFinite(x)) fail('NON_FINITE', `${what} is ${String(x)}`);
  if (nonNegative && x < 0) fail('INVALID_ARGUMENT', `${what} must be ≥ 0, got ${x}`);
}

/**
 * Labels per input from a requirement on the total number of summands n·N: the smallest N ≥ 1
 * with `ok(n·N)`, where ok is monotone and `estimate` is the real-valued threshold. The search
 * starts at the estimate (rounding can put it one off either way) and is bounded
 * (smallestInteger): Infinity where no finite N reaches the accuracy.
 */
function labelsFromSummands(estimate: number, inputs: number, ok: (summands: number) => boolean): number {
  // A threshold beyond the largest double (I² underflowing, say) is not reachable; checking ok
  // near Number.MAX_VALUE would only see overflow artefacts (2·k·e² is Infinity there).
  if (!Number.isFinite(estimate / inputs)) return Infinity;
  return smallestInteger((N) => ok(inputs * N), estimate / inputs);
}

/**
 * Chebyshev: labels per input N so that Var = v/(nN) ≤ δ ε² I². 1 where v = 0 (the estimate is
 * deterministic), Infinity where I = 0 < v (no relative accuracy is possible).
 */
export function chebyshevLabels(v: number, fim: number, acc: Accuracy, inputs = 1): number {
  checkAccuracy(acc);
  checkInputs(inputs);
  checkScalar('single-label variance', v);
  checkScalar('Fisher information', fim);
  if (v === 0) return 1;
  if (fim === 0) return Infinity;
  const tol = acc.delta * acc.epsilon ** 2 * fim * fim;
  return labelsFromSummands(v / tol, inputs, (k) => v / k <= tol);
}

/**
 * Bernstein: labels per input N so that 2 exp(−nN ε²I² / (2v + 2MεI/3)) ≤ δ, M a bound on
 * |term − I|. Same conventions as chebyshevLabels for v = 0 and I = 0.
 */
export function bernsteinLabels(v: number, fim: number, maxDeviation: number, acc: Accuracy, inputs = 1): number {
  checkAccuracy(acc);
  checkInputs(inputs);
  checkScalar('single-label variance', v);
  checkScalar('Fisher information', fim);
  checkScalar('deviation bound', maxDeviation);
  if (v === 0) return 1;
  if (fim === 0) return Infinity;
  const e = acc.epsilon * fim;
  const L = Math.log(2 / acc.delta);
  const perSummand = (2 * v + (2 * maxDeviation * e) / 3) / (e * e);
  return labelsFromSummands(perSummand * L, inputs, (k) => k * e * e / (2 * v + (2 * maxDeviation * e) / 3) >= L);
}

/** Hoeffding: labels per input N so that 2 exp(−2 nN ε²I² / w²) ≤ δ, w the width of the term's range. */
export function hoeffdingLabels(v: number, fim: number, rangeWidth: number, acc: Accuracy, inputs = 1): number {
  checkAccuracy(acc);
  checkInputs(inputs);
  checkScalar('single-label variance', v);
  checkScalar('Fisher information', fim);
  checkScalar('range width', rangeWidth);
  if (v === 0) return 1;
  if (fim === 0) return Infinity;
  const e = acc.epsilon * fim;
  const L = Math.log(2 / acc.delta);
  return labelsFromSummands((rangeWidth * rangeWidth * L) / (2 * e * e), inputs, (k) => (2 * k * e * e) / (rangeWidth * rangeWidth) >= L);
}

// -------------------------------------------------------------------------------------------
// Per-parameter statistics

/** Range of a single-label term, per parameter. */
export interface TermRange {
  /** A bound M_i on |term − its mean| (Bernstein). */
  deviation: Float64Array;
  /** The width w_i of an interval holding the term (Hoeffding). */
  width: Float64Array;
}

/** What the bounds need, one value per parameter. */
export interface SampleStats {
  /** The quantity estimated: I(θ_i|x), or its mean over the inputs. */
  fim: Float64Array;
  /** Single-label variances of Î1's and Î2's terms (means over the inputs). */
  v1: Float64Array;
  v2: Float64Array;
  /** Inputs the estimate averages, each with N labels (1: conditional at one input). */
  inputs: number;
  /** Ranges of the single-label terms; null where t(y) is unbounded (Bernstein and Hoeffding do not apply). */
  range1: TermRange | null;
  range2: TermRange | null;
  /** Why the ranges are null. */
  unboundedReason?: string;
}

/**
 * B = max_y ‖t(y) − η‖² at one output row h, or null where t is unbounded.
 *   categorical (one-hot t): max_y (1 − 2σ_y + ‖σ‖²) = 1 − 2 min_y σ_y + ‖σ‖²;
 *   Bernoulli (t ∈ {0,1}^T, independent): Σ_a max(p_a, 1 − p_a)².
 */
export function maxResidualNorm2(lik: Likelihood, hRow: ArrayLike<number>): number | null {
  const T = hRow.length;
  if (lik.name === 'gaussian' || lik.name === 'poisson') return null;
  const eta = lik.meanStat(Float64Array.from(hRow), 1, T);
  if (lik.name === 'categorical') {
    let min = Infinity, sq = 0;
    for (let a = 0; a < T; a++) { min = Math.min(min, eta[a]!); sq += eta[a]! ** 2; }
    return Math.max(0, 1 - 2 * min + sq);
  }
  if (lik.name === 'bernoulli') {
    let s = 0;
    for (let a = 0; a < T; a++) s += Math.max(eta[a]!, 1 - eta[a]!) ** 2;
    return s;
  }
  return fail('INVALID_ARGUMENT', `no range of t(y) known for likelihood '${String(lik.name)}'`);
}

export function unboundedReason(lik: Likelihood): string {
  return `${lik.name} likelihood: t(y) is unbounded, so the single-label terms have no finite range and only Chebyshev applies (Bernstein and Hoeffding need bounded terms)`;
}

function checkInputVariance(iv: InputVariance, P: number, what: string): void {
  for (const k of ['fim', 'v1', 'v2', 'jNorm2', 'hNorm2'] as const) {
    const a = iv[k];
    if (!(a instanceof Float64Array)) fail('DTYPE', `${what}.${k}: expected a Float64Array`);
    if (a.length !== P) fail('SHAPE', `${what}.${k} has ${a.length} values, expected ${P} (one per parameter)`);
    for (let i = 0; i < P; i++) if (!Number.isFinite(a[i]!)) fail('NON_FINITE', `${what}.${k}[${i}] is ${a[i]}`);
  }
}

/**
 * Per-parameter statistics for estimates averaging the given inputs (one input: the conditional
 * estimate at it), from inputVariances: means of I, v1, v2, and the largest ranges.
 */
export function statsFromInputs(list: readonly InputVariance[], lik: Likelihood): SampleStats {
  if (!Array.isArray(list) || list.length === 0) fail('INVALID_ARGUMENT', 'need the closed-form variances of at least one input');
  const P = list[0]!.fim.length;
  const n = list.length;
  const fim = new Float64Array(P), v1 = new Float64Array(P), v2 = new Float64Array(P);
  const dev1 = new Float64Array(P), w1 = new Float64Array(P), dev2 = new Float64Array(P), w2 = new Float64Array(P);
  let bounded = true;
  list.forEach((iv, k) => {
    checkInputVariance(iv, P, `input ${k}`);
    const B = maxResidualNorm2(lik, iv.h);
    if (B === null) bounded = false;
    for (let i = 0; i < P; i++) {
      fim[i]! += iv.fim[i]! / n;
      v1[i]! += iv.v1[i]! / n;
      v2[i]! += iv.v2[i]! / n;
      if (B === null) continue;
      const b = iv.jNorm2[i]! * B;
      // I ≤ b always (the mean of a term in [0, b]); rounding may break that by an ulp.
      dev1[i] = Math.max(dev1[i]!, b - iv.fim[i]!, iv.fim[i]!);
      w1[i] = Math.max(w1[i]!, b);
      const m = Math.sqrt(iv.hNorm2[i]! * B);
      dev2[i] = Math.max(dev2[i]!, m);
      w2[i] = Math.max(w2[i]!, 2 * m);
    }
  });
  return bounded
    ? { fim, v1, v2, inputs: n, range1: { deviation: dev1, width: w1 }, range2: { deviation: dev2, width: w2 } }
    : { fim, v1, v2, inputs: n, range1: null, range2: null, unboundedReason: unboundedReason(lik) };
}

function checkStats(stats: SampleStats): number {
  if (stats === null || typeof stats !== 'object') fail('INVALID_ARGUMENT', 'sample statistics must be an object');
  const P = stats.fim?.length;
  if (!(stats.fim instanceof Float64Array)) fail('DTYPE', 'sample statistics: fim must be a Float64Array');
  for (const k of ['v1', 'v2'] as const) {
    if (!(stats[k] instanceof Float64Array)) fail('DTYPE', `sample statistics: ${k} must be a Float64Array`);
    if (stats[k].length !== P) fail('SHAPE', `sample statistics: ${k} has ${stats[k].length} values but fim has ${P}`);
  }
  for (const [k, r] of [['range1', stats.range1], ['range2', stats.range2]] as const) {
    if (r === null || r === undefined) continue;
    if (r.deviation.length !== P || r.width.length !== P) fail('SHAPE', `sample statistics: ${k} must hold ${P} values per field`);
  }
  checkInputs(stats.inputs);
  return P;
}

/** Labels per input, per parameter, for one estimator. */
export interface ParameterComplexity {
  estimator: EstimatorKind;
  accuracy: Accuracy;
  inputs: number;
  chebyshev: Float64Array;
  /** null where the terms are unbounded. */
  bernstein: Float64Array | null;
  hoeffding: Float64Array | null;
  /** The smallest applicable bound per parameter, and which one gave it. */
  labels: Float64Array;
  bound: BoundName[];
  /** Why Bernstein and Hoeffding are absent, if they are. */
  notApplicable?: string;
}

/** Per-parameter labels per input for Î1 or Î2 at accuracy (ε, δ). */
export function parameterComplexity(stats: SampleStats, estimator: EstimatorKind, acc: Accuracy): ParameterComplexity {
  checkAccuracy(acc);
  const P = checkStats(stats);
  if (estimator !== 'i1' && estimator !== 'i2') fail('INVALID_ARGUMENT', `estimator must be 'i1' or 'i2', got '${String(estimator)}'`);
  const v = estimator === 'i1' ? stats.v1 : stats.v2;
  const range = estimator === 'i1' ? stats.range1 : stats.range2;
  const n = stats.inputs;
  const cheb = new Float64Array(P);
  const bern = range ? new Float64Array(P) : null;
  const hoef = range ? new Float64Array(P) : null;
  const labels = new Float64Array(P);
  const bound: BoundName[] = new Array<BoundName>(P);
  for (let i = 0; i < P; i++) {
    const vi = v[i]!, fi = stats.fim[i]!;
    cheb[i] = chebyshevLabels(vi, fi, acc, n);
    labels[i] = cheb[i]!;
    bound[i] = 'chebyshev';
    if (range) {
      bern![i] = bernsteinLabels(vi, fi, range.deviation[i]!, acc, n);
      hoef![i] = hoeffdingLabels(vi, fi, range.width[i]!, acc, n);
      if (bern![i]! < labels[i]!) { labels[i] = bern![i]!; bound[i] = 'bernstein'; }
      if (hoef![i]! < labels[i]!) { labels[i] = hoef![i]!; bound[i] = 'hoeffding'; }
    }
  }
  const out: ParameterComplexity = { estimator, accuracy: { ...acc }, inputs: n, chebyshev: cheb, bernstein: bern, hoeffding: hoef, labels, bound };
  if (!range) out.notApplicable = stats.unboundedReason ?? 'no ranges of the single-label terms were given: only Chebyshev applies';
  return out;
}

// -------------------------------------------------------------------------------------------
// Per layer

/**
 * Nearest-rank quantile: the smallest value with at least a fraction q of the values at or below
 * it, so "the 90th percentile N" is a label count that suffices for at least 90 % of the
 * layer's parameters. Infinity sorts last.
 */
export function quantile(values: ArrayLike<number>, q: number): number {
  if (values.length === 0) fail('SHAPE', 'quantile of no values');
  const s = Float64Array.from(values).sort();
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
}

export interface LayerTrace {
  /** Σ_i I(θ_i) over the layer. */
  fim: number;
  /** (Σ_i √v_i)²: an upper bound on the single-label variance of the layer trace (Cauchy–Schwarz over the unknown covariances). */
  varianceBound: number;
  /** Chebyshev labels per input from the bound: sufficient, possibly more than needed. */
  labelsUpperBound: number;
  /** The exact single-label trace variance and its Chebyshev labels, where given (layerTraceVariances). */
  variance?: number;
  labels?: number;
  note: string;
}

export interface LayerComplexity {
  label: string;
  type: string;
  size: number;
  /** Labels per input over the layer's parameters (best bound per parameter). */
  median: number;
  p90: number;
  max: number;
  /** Parameters with I = 0 < v: no number of labels bounds their relative error. */
  unattainable: number;
  /** How many parameters each bound served best. */
  boundCounts: Record<BoundName, number>;
  trace: LayerTrace;
}

const TRACE_NOTE = 'layer trace Σ_i Î(θ_i): its variance needs the covariances between the layer\'s parameters, which the diagonal closed forms do not give; (Σ_i √V_i)² bounds it (Cauchy–Schwarz), so labelsUpperBound is sufficient but may overstate the need';

/**
 * Per-layer requirements for one estimator. `traceVariance` optionally gives each group's exact
 * single-label trace variance (layerTraceVariances; for several inputs, the mean over them).
 */
export function layerComplexity(layout: ParamLayout, stats: SampleStats, estimator: EstimatorKind, acc: Accuracy, traceVariance?: Float64Array): LayerComplexity[] {
  const pc = parameterComplexity(stats, estimator, acc);
  if (layout.size !== stats.fim.length) fail('SHAPE', `the layout has ${layout.size} parameters but the statistics hold ${stats.fim.length}`);
  if (traceVariance !== undefined && traceVariance.length !== layout.groups.length) {
    fail('SHAPE', `trace variances: expected one per parameter group (${layout.groups.length}), got ${traceVariance.length}`);
  }
  const v = estimator === 'i1' ? stats.v1 : stats.v2;
  return layout.groups.map((g, gi) => {
    const labels = pc.labels.subarray(g.offset, g.offset + g.size);
    const counts: Record<BoundName, number> = { chebyshev: 0, bernstein: 0, hoeffding: 0 };
    let unattainable = 0, fim = 0, sqrtSum = 0;
    for (let i = g.offset; i < g.offset + g.size; i++) {
      counts[pc.bound[i]!]++;
      if (pc.labels[i] === Infinity) unattainable++;
      fim += stats.fim[i]!;
      sqrtSum += Math.sqrt(v[i]!);
    }
    const varianceBound = sqrtSum * sqrtSum;
    const trace: LayerTrace = {
      fim, varianceBound, labelsUpperBound: chebyshevLabels(varianceBound, fim, acc, stats.inputs), note: TRACE_NOTE,
    };
    if (traceVariance !== undefined) {
      trace.variance = traceVariance[gi]!;
      trace.labels = chebyshevLabels(Math.max(0, traceVariance[gi]!), fim, acc, stats.inputs);
    }
    return {
      label: g.label, type: g.type, size: g.size,
      median: quantile(labels, 0.5), p90: quantile(labels, 0.9), max: quantile(labels, 1),
      unattainable, boundCounts: counts, trace,
    };
  });
}

/**
 * Exact single-label variances of each layer's trace at one input:
 *   Î1: the term is δᵀ G δ with G = Σ_{i∈layer} J_i J_iᵀ (T×T), δ = t − η. With G = Σ_k λ_k u_k u_kᵀ,
 *       E[(δᵀGδ)²] = Σ_kl λ_k λ_l E[a_k² a_l²], a_k = u_kᵀδ, and by polarisation
 *       E[a²b²] = (E(a+b)⁴ + E(a−b)⁴ − 2E a⁴ − 2E b⁴)/12: only quartic forms of K, O(T³) in all.
 *   Î2: the term is const − δᵀ u with u = Σ_{i∈layer} H_i, so the variance is uᵀ Cov(t) u.
 */
export function layerTraceVariances(layout: ParamLayout, lik: Likelihood, iv: InputVariance): { fim: Float64Array; v1: Float64Array; v2: Float64Array } {
  const P = layout.size;
  const T = iv.h.length;
  if (iv.J.length !== T * P || iv.H.length !== T * P) fail('SHAPE', `input variance: J and H must be [${T}, ${P}], got ${iv.J.length} and ${iv.H.length} values`);
  const G = layout.groups.length;
  const fim = new Float64Array(G), v1 = new Float64Array(G), v2 = new Float64Array(G);
  layout.groups.forEach((g, gi) => {
    const Gm = new Float64Array(T * T);
    const u = new Float64Array(T);
    for (let a = 0; a < T; a++) {
      const Ja = a * P;
      for (let i = g.offset; i < g.offset + g.size; i++) u[a]! += iv.H[Ja + i]!;
      for (let b = 0; b <= a; b++) {
        const Jb = b * P;
        let s = 0;
        for (let i = g.offset; i < g.offset + g.size; i++) s += iv.J[Ja + i]! * iv.J[Jb + i]!;
        Gm[a * T + b] = s;
        Gm[b * T + a] = s;
      }
    }
    const { values, vectors } = symmetricEigen(Gm, T);
    // Directions u_k, then u_k + u_l and u_k − u_l for k < l.
    const dirs = new Float64Array((T + T * (T - 1)) * T);
    for (let k = 0; k < T; k++) for (let a = 0; a < T; a++) dirs[k * T + a] = vectors[a * T + k]!;
    let row = T;
    for (let k = 0; k < T; k++) {
      for (let l = k + 1; l < T; l++, row += 2) {
        for (let a = 0; a < T; a++) {
          dirs[row * T + a] = vectors[a * T + k]! + vectors[a * T + l]!;
          dirs[(row + 1) * T + a] = vectors[a * T + k]! - vectors[a * T + l]!;
        }
      }
    }
    const m = lik.projectedMoments(iv.h, T, dirs, row);
    let second = 0, fourth = 0;
    for (let k = 0; k < T; k++) {
      second += values[k]! * m.second[k]!;
      fourth += values[k]! * values[k]! * m.fourth[k]!;
    }
    row = T;
    for (let k = 0; k < T; k++) {
      for (let l = k + 1; l < T; l++, row += 2) {
        const cross = (m.fourth[row]! + m.fourth[row + 1]! - 2 * m.fourth[k]! - 2 * m.fourth[l]!) / 12;
        fourth += 2 * values[k]! * values[l]! * cross;
      }
    }
    fim[gi] = second;
    v1[gi] = Math.max(0, fourth - second * second);
    v2[gi] = lik.projectedMoments(iv.h, T, u, 1).second[0]!;
  });
  return { fim, v1, v2 };
}

// -------------------------------------------------------------------------------------------
// Joint sampling: N_x inputs from q, N labels each

export interface JointBudgetOptions {
  /** The labels per input N to size N_x for (default 1). */
  labelsPerInput?: number;
  /** Relative costs of one input and one label, for the cost-optimal split (default 1 and 1). */
  inputCost?: number;
  labelCost?: number;
}

const JOINT_BUDGET_SCHEMA: OptionSchema = {
  labelsPerInput: { kind: 'int', min: 1 },
  inputCost: { kind: 'number', min: 0 },
  labelCost: { kind: 'number', min: 0 },
};

export interface JointBudget {
  accuracy: Accuracy;
  /** δ ε² I²: the variance the estimate may have. */
  tolerance: number;
  /** Var_q I(θ_i|x), the input-sampling term, and E_q v_j, the single-label term. */
  inputTerm: number;
  labelTerm: number;
  rate: 'O(1/N_x + 1/(N_x N))';
  /** The N asked about and the smallest N_x that suffices with it. */
  labelsPerInput: number;
  inputsNeeded: number;
  /** The floor on N_x that no number of labels removes: ⌈Var_q I / tolerance⌉ (at least 1). */
  minInputs: number;
  /** The smallest N at which N_x reaches minInputs: more labels per input than this cannot reduce the inputs needed. */
  labelsCannotHelpBeyond: number;
  /** The fewest labels in all, N·N_x: always at N = 1 (N·⌈(A + B/N)/τ⌉ ≥ (AN + B)/τ grows with N). */
  minTotal: { labelsPerInput: number; inputs: number; total: number };
  /** The split minimising N_x·(inputCost + labelCost·N), near √(B·inputCost / (A·labelCost)). */
  costOptimal: { labelsPerInput: number; inputs: number; cost: number };
  note: string;
}

/** The smallest N_x with (A + B/N)/N_x ≤ τ (bounded search; Infinity where τ underflows to 0). */
function inputsFor(A: number, B: number, tol: number, N: number): number {
  const need = A + B / N;
  if (need === 0) return 1;
  if (!Number.isFinite(need / tol)) return Infinity;
  return smallestInteger((m) => need / m <= tol, need / tol);
}

/**
 * The smallest N_x with (A + B/N)/N_x ≤ δ ε² I² (Chebyshev for the joint estimate): 1 where
 * A + B = 0, Infinity where I = 0 < A + B.
 */
export function jointInputsNeeded(inputTerm: number, labelTerm: number, fim: number, acc: Accuracy, labelsPerInput = 1): number {
  checkAccuracy(acc);
  checkScalar('input-sampling variance Var_q I', inputTerm);
  checkScalar('single-label variance E_q v', labelTerm);
  checkScalar('Fisher information', fim);
  if (!Number.isInteger(labelsPerInput) || labelsPerInput < 1) fail('INVALID_ARGUMENT', `labels per input must be a positive integer, got ${labelsPerInput}`);
  if (inputTerm + labelTerm === 0) return 1;
  if (fim === 0) return Infinity;
  return inputsFor(inputTerm, labelTerm, acc.delta * acc.epsilon ** 2 * fim * fim, labelsPerInput);
}

/**
 * Inputs and labels for a joint estimate within ε relative error with probability ≥ 1 − δ
 * (Chebyshev): Var = (A + B/N)/N_x ≤ δ ε² I², A = Var_q I(θ_i|x), B = E_q v_j (single label),
 * I = E_q I(θ_i|x).
 */
export function jointBudget(inputTerm: number, labelTerm: number, fim: number, acc: Accuracy, opts: JointBudgetOptions = {}): JointBudget {
  checkOptions('jointBudget', opts, JOINT_BUDGET_SCHEMA);
  checkAccuracy(acc);
  checkScalar('input-sampling variance Var_q I', inputTerm);
  checkScalar('single-label variance E_q v', labelTerm);
  checkScalar('Fisher information', fim);
  const N = opts.labelsPerInput ?? 1;
  if (!Number.isInteger(N) || N < 1) fail('INVALID_ARGUMENT', `labels per input must be a positive integer, got ${N}`);
  const cx = opts.inputCost ?? 1, cy = opts.labelCost ?? 1;
  checkScalar('input cost', cx);
  checkScalar('label cost', cy);
  if (cx + cy === 0) fail('INVALID_ARGUMENT', 'input cost and label cost cannot both be 0');
  const A = inputTerm, B = labelTerm;
  const tol = acc.delta * acc.epsilon ** 2 * fim * fim;
  const base = { accuracy: { ...acc }, tolerance: tol, inputTerm: A, labelTerm: B, rate: 'O(1/N_x + 1/(N_x N))' as const, labelsPerInput: N };
  if (A + B === 0) {
    return {
      ...base, inputsNeeded: 1, minInputs: 1, labelsCannotHelpBeyond: 1,
      minTotal: { labelsPerInput: 1, inputs: 1, total: 1 }, costOptimal: { labelsPerInput: 1, inputs: 1, cost: cx + cy },
      note: 'the estimate is deterministic (no input or label variance): one input and one label suffice',
    };
  }
  if (fim === 0) {
    return {
      ...base, inputsNeeded: Infinity, minInputs: Infinity, labelsCannotHelpBeyond: 1,
      minTotal: { labelsPerInput: 1, inputs: Infinity, total: Infinity }, costOptimal: { labelsPerInput: 1, inputs: Infinity, cost: Infinity },
      note: 'I = 0 with non-zero variance: no sample size bounds the relative error',
    };
  }
  // The floor: N_x with the label term gone (N → ∞).
  const floor = inputsFor(A, 0, tol, 1);
  // N_x(N) = floor once B/N ≤ floor·τ − A (never, where A/τ is an integer and B > 0).
  const slack = floor * tol - A;
  const labelsCannotHelpBeyond = !Number.isFinite(floor) ? Infinity
    : B === 0 ? 1
    : slack > 0 ? smallestInteger((n) => inputsFor(A, B, tol, n) <= floor, B / slack) : Infinity;
  const nx1 = inputsFor(A, B, tol, 1);
  return {
    ...base,
    inputsNeeded: inputsFor(A, B, tol, N),
    minInputs: floor,
    labelsCannotHelpBeyond,
    minTotal: { labelsPerInput: 1, inputs: nx1, total: nx1 },
    costOptimal: costOptimalSplit(A, B, tol, cx, cy, floor, nx1),
    note: A > 0
      ? `the input-sampling term Var_q I sets a floor of ${floor} inputs that more labels cannot remove; ${Number.isFinite(labelsCannotHelpBeyond) ? `beyond ${labelsCannotHelpBeyond} labels per input, extra labels do not reduce the inputs needed` : 'labels only approach that floor'}`
      : 'no input-sampling variance (Var_q I = 0): labels alone set the sample size',
  };
}

/** Input counts the exact scan of costOptimalSplit visits at most. */
const MAX_SPLIT_SCAN = 100_000;

/**
 * The split minimising N_x·(cx + cy·N). For each achievable N_x = m, from the floor up, the fewest
 * labels per input reaching it is N_m, the smallest N with N_x(N) ≤ m (about B/(mτ − A)). Any
 * m' ≥ m costs at least m'·cx + cy·B/τ (since m'·N_m' ≥ B/τ), so the scan stops once that
 * reaches the best cost found. Free inputs (cx = 0) make N = 1 optimal (the fewest labels in all).
 *
 * The scan is exact but visits at most MAX_SPLIT_SCAN input counts (and none past 2^53, where
 * counts are no longer consecutive doubles). The labels per input around the continuous optimum
 * N* = √(B·cx/(A·cy)) of (A + B/N)(cx + cy·N)/τ, and the N where N_x reaches the floor, are
 * always tried as well, so a huge budget still gets a split within rounding of the optimum.
 */
function costOptimalSplit(A: number, B: number, tol: number, cx: number, cy: number, floor: number, nx1: number): { labelsPerInput: number; inputs: number; cost: number } {
  let best = { labelsPerInput: 1, inputs: nx1, cost: nx1 * (cx + cy) };
  if (cx === 0 || !Number.isFinite(nx1)) return best;
  const tryLabels = (N: number): void => {
    if (!(N >= 1) || !Number.isFinite(N)) return;
    const m = inputsFor(A, B, tol, N);
    const cost = m * (cx + cy * N);
    if (cost < best.cost) best = { labelsPerInput: N, inputs: m, cost };
  };
  const end = Math.min(nx1, floor + MAX_SPLIT_SCAN, Number.MAX_SAFE_INTEGER);
  for (let m = floor; m <= end; m++) {
    if (m * cx + (cy * B) / tol >= best.cost) break;
    const room = m * tol - A;
    if (room <= 0) continue;
    const Nm = B === 0 ? 1 : smallestInteger((n) => inputsFor(A, B, tol, n) <= m, B / room);
    if (Number.isFinite(Nm)) tryLabels(Nm);
  }
  const star = A > 0 && cy > 0 ? Math.sqrt((B * cx) / (A * cy)) : Infinity;
  if (Number.isFinite(star)) { tryLabels(Math.max(1, Math.floor(star))); tryLabels(Math.ceil(star)); }
  // Where N_x reaches its floor: more labels only cost more from there.
  const slack = floor * tol - A;
  if (B > 0 && slack > 0) tryLabels(smallestInteger((n) => inputsFor(A, B, tol, n) <= floor, B / slack));
  return best;
}

export interface JointLayerBudget {
  label: string;
  type: string;
  size: number;
  /** Inputs needed at the given N over the layer's parameters, and the floors. */
  inputsMedian: number;
  inputsP90: number;
  inputsMax: number;
  minInputsP90: number;
  /** The layer trace from (Σ√A_i)² and (Σ√B_i)² (Cauchy–Schwarz and Minkowski): an upper bound. */
  trace: JointBudget;
}

/**
 * Per-layer joint budgets from per-parameter E_q I, Var_q I and E_q v_j (single label), e.g.
 * jointVariances(...) with labelsPerInput 1: { fim, fimVarOverInputs, meanV1 or meanV2 }.
 */
export function jointLayerBudget(layout: ParamLayout, fim: Float64Array, fimVarOverInputs: Float64Array, meanV: Float64Array, acc: Accuracy, opts: JointBudgetOptions = {}): JointLayerBudget[] {
  checkOptions('jointLayerBudget', opts, JOINT_BUDGET_SCHEMA);
  for (const [k, a] of [['fim', fim], ['fimVarOverInputs', fimVarOverInputs], ['meanV', meanV]] as const) {
    if (!(a instanceof Float64Array)) fail('DTYPE', `${k} must be a Float64Array`);
    if (a.length !== layout.size) fail('SHAPE', `${k} has ${a.length} values, the layout ${layout.size} parameters`);
  }
  const N = opts.labelsPerInput ?? 1;
  if (!Number.isInteger(N) || N < 1) fail('INVALID_ARGUMENT', `labels per input must be a positive integer, got ${N}`);
  return layout.groups.map((g) => {
    const need = new Float64Array(g.size), floors = new Float64Array(g.size);
    let F = 0, sa = 0, sb = 0;
    for (let k = 0; k < g.size; k++) {
      const i = g.offset + k;
      need[k] = jointInputsNeeded(fimVarOverInputs[i]!, meanV[i]!, fim[i]!, acc, N);
      floors[k] = jointInputsNeeded(fimVarOverInputs[i]!, 0, fim[i]!, acc, 1);
      F += fim[i]!;
      sa += Math.sqrt(fimVarOverInputs[i]!);
      sb += Math.sqrt(meanV[i]!);
    }
    return {
      label: g.label, type: g.type, size: g.size,
      inputsMedian: quantile(need, 0.5), inputsP90: quantile(need, 0.9), inputsMax: quantile(need, 1), minInputsP90: quantile(floors, 0.9),
      trace: jointBudget(sa * sa, sb * sb, F, acc, opts),
    };
  });
}
