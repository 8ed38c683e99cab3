/**
 * Which diagonal FIM estimator to use for which layer: Î1 (squared scores), Î2 (negative
 * Hessian diagonal) or the exact diagonal, judged by the cost of reaching a requested accuracy
 * (relative error ε with probability ≥ 1 − δ, see complexity.ts).
 *
 * Cost model, in backward-pass equivalents per input (one backward pass through the network
 * counts 1, whatever layer it stops at; forward passes and label sampling are not counted):
 *
 *   exact   R passes: one per column of a square-root factor of Cov(t|x) (R = C − 1 for a
 *           softmax, T for the diagonal families); `exactPerInput` overrides it.
 *   Î1      `i1PerLabel` (default 1) per label: each sampled label is one column t(y) − η.
 *   Î2      the exact columns (R) plus the second-derivative term Σ_a c_a ∇²h_a of the layer:
 *             0 when no curved activation (φ'' ≢ 0) lies above the layer: the last layer, any
 *               layer of a relu network (h is linear in each layer's weights there);
 *             1 pass (the cotangent of cᵀh at the curved activations, shared by all of them) plus,
 *               per curved activation above the layer other than the one directly following it,
 *               one pass per unit of that activation; the activation directly following the layer
 *               has a closed form (its ∇²_z is diagonal), so the second-last layer pays only the 1.
 *           `i2Labels` says how labels enter:
 *             'shared' (default; what this library's engine does): the term is linear in c, so
 *               the N labels enter only through c = mean_s(η − t(y_s)) and one input costs the
 *               same for any N. More labels are then free, and Î2 tends to the exact diagonal at
 *               a cost that is never below the exact one's.
 *             'separate': each label's Hessian diagonal is computed on its own (per-sample
 *               diagonal-Hessian backpropagation): that cost per label.
 *
 * For each layer, each estimator's labels per input come from the chosen layer criterion of
 * complexity.ts (default the 90th percentile over the layer's parameters, best bound per
 * parameter); its cost to reach (ε, δ) is fixed + per-label × labels. The recommendation is the
 * cheapest of Î1, Î2 and exact. Ties go to the zero-variance choice, and between Î2 with V2 = 0
 * and exact (the same computation then) to Î2. Where costs are linear in N with no fixed part
 * ('separate'), the cost ratio equals the equal-cost-accuracy ratio V1·c1 / (V2·c2) reported
 * beside it, up to rounding N up and the bound used.
 */
import { fail } from '../core/errors.js';
import { checkOptions } from '../core/options.js';
import { sizeOf } from '../core/tensor.js';
import type { Likelihood } from '../likelihoods/likelihood.js';
import type { Sequential } from '../nn/sequential.js';
import { curvedActivations, isPiecewiseLinear, paramLayers } from '../fisher/engine.js';
import { layoutOf } from '../fisher/layout.js';
import { checkAccuracy, layerComplexity, type Accuracy, type LayerComplexity, type SampleStats } from './complexity.js';

export type Recommendation = 'i1' | 'i2' | 'exact';
export type LayerCriterion = 'median' | 'p90' | 'max' | 'trace';

export interface CostModel {
  /** Backward passes per sampled label for Î1 (default 1). */
  i1PerLabel?: number;
  /** How Î2 handles several labels at one input (default 'shared', as this library's engine). */
  i2Labels?: 'shared' | 'separate';
  /** Columns of the square-root factor of Cov(t) (default lik.factorRank(T)). */
  factorColumns?: number;
  /** Backward passes per input for the exact diagonal (default factorColumns; e.g. T where it is built from the Jacobian's rows instead). */
  exactPerInput?: number;
  /** Cost of one per-unit curvature pass relative to a full backward pass (default 1; such a pass starts at the activation, so less is defensible). */
  curvatureUnitPass?: number;
}

export interface RecommendOptions {
  /** Requested accuracy (default ε = 0.1, δ = 0.05). */
  accuracy?: Accuracy;
  /** Which per-layer label count to plan for (default 'p90'; 'trace' uses the Cauchy–Schwarz bound on the layer trace). */
  criterion?: LayerCriterion;
  cost?: CostModel;
}

export interface EstimatorCost {
  /** Backward passes per input independent of N, and per label. */
  perInput: number;
  perLabel: number;
}

export interface LayerRecommendation {
  label: string;
  type: string;
  size: number;
  /** Index of the layer in the Sequential. */
  layerIndex: number;
  /** Mean over the layer of I(θ_i) and of the single-label variances V1, V2. */
  fim: number;
  v1: number;
  v2: number;
  /** Labels per input each estimator needs for (ε, δ) under the criterion. */
  labels: { i1: number; i2: number };
  costModel: { i1: EstimatorCost; i2: EstimatorCost; exact: EstimatorCost };
  /** Backward passes per input to reach (ε, δ) (exact: its R columns, zero variance). */
  cost: { i1: number; i2: number; exact: number };
  /** Equal-cost accuracy: single-label variance × the cost of a one-label estimate, and their ratio i1/i2 (< 1 favours Î1). */
  varianceCost: { i1: number; i2: number; ratio: number };
  recommended: Recommendation;
  reason: string;
  /** The per-layer requirements behind `labels`. */
  complexity: { i1: LayerComplexity; i2: LayerComplexity };
}

export interface RecommendationReport {
  accuracy: Accuracy;
  criterion: LayerCriterion;
  i2Labels: 'shared' | 'separate';
  factorColumns: number;
  exactPerInput: number;
  layers: LayerRecommendation[];
  notes: string[];
}

function checkCost(what: string, x: number): void {
  if (typeof x !== 'number' || !Number.isFinite(x) || x < 0) fail('INVALID_ARGUMENT', `cost model: ${what} must be a finite number ≥ 0, got ${String(x)}`);
}

/**
 * Backward-pass equivalents of Î2's second-derivative term for each parametric layer (in order):
 * see the header. Exported for reports and tests.
 */
export function curvaturePasses(model: Sequential, curvatureUnitPass = 1): number[] {
  const curved = curvedActivations(model);
  return paramLayers(model).map((l) => {
    const above = curved.filter((m) => m > l.index);
    if (above.length === 0) return 0;
    let passes = 1;
    for (const m of above) if (m !== l.index + 1) passes += curvatureUnitPass * sizeOf(model.shapes[m]!);
    return passes;
  });
}

function fmt(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  return Number.isInteger(x) ? String(x) : String(Number(x.toPrecision(3)));
}

function ratio(a: number, b: number): number {
  if (a === 0 && b === 0) return 1;
  return b === 0 ? Infinity : a / b;
}

/**
 * Per-layer recommendation from per-parameter statistics (statsFromInputs over the inputs the
 * estimate will average; one input for the conditional estimate).
 */
export function recommendEstimators(model: Sequential, lik: Likelihood, stats: SampleStats, opts: RecommendOptions = {}): RecommendationReport {
  checkOptions('recommendEstimators', opts, { accuracy: { kind: 'object' }, criterion: { kind: 'enum', values: ['median', 'p90', 'max', 'trace'] }, cost: { kind: 'object' } });
  checkOptions('recommendEstimators', opts.cost, {
    i1PerLabel: { kind: 'number', min: 0 }, i2Labels: { kind: 'enum', values: ['shared', 'separate'] }, factorColumns: { kind: 'int', min: 1 },
    exactPerInput: { kind: 'number', min: 0 }, curvatureUnitPass: { kind: 'number', min: 0 },
  }, 'cost');
  const acc = opts.accuracy ?? { epsilon: 0.1, delta: 0.05 };
  checkAccuracy(acc);
  const criterion = opts.criterion ?? 'p90';
  if (!['median', 'p90', 'max', 'trace'].includes(criterion)) fail('INVALID_ARGUMENT', `layer criterion must be one of median, p90, max, trace; got '${String(criterion)}'`);
  const cm = opts.cost ?? {};
  const i1PerLabel = cm.i1PerLabel ?? 1;
  const unitPass = cm.curvatureUnitPass ?? 1;
  const i2Labels = cm.i2Labels ?? 'shared';
  if (i2Labels !== 'shared' && i2Labels !== 'separate') fail('INVALID_ARGUMENT', `cost model: i2Labels must be 'shared' or 'separate', got '${String(i2Labels)}'`);
  const R = cm.factorColumns ?? lik.factorRank(model.outputDim);
  checkCost('i1PerLabel', i1PerLabel);
  checkCost('curvatureUnitPass', unitPass);
  checkCost('factorColumns', R);
  const exactCost = cm.exactPerInput ?? R;
  checkCost('exactPerInput', exactCost);

  const layout = layoutOf(model);
  if (stats.fim.length !== layout.size) fail('SHAPE', `the statistics hold ${stats.fim.length} parameters but the model has ${layout.size}`);
  const c1 = layerComplexity(layout, stats, 'i1', acc);
  const c2 = layerComplexity(layout, stats, 'i2', acc);
  const curvature = curvaturePasses(model, unitPass);
  const layers = paramLayers(model);
  const piecewiseLinear = isPiecewiseLinear(model);
  const pick = (c: LayerComplexity): number => (criterion === 'trace' ? c.trace.labelsUpperBound : c[criterion]);

  const out = layout.groups.map((g, gi): LayerRecommendation => {
    let fim = 0, v1 = 0, v2 = 0, v1Max = 0, v2Max = 0;
    for (let i = g.offset; i < g.offset + g.size; i++) {
      fim += stats.fim[i]! / g.size;
      v1 += stats.v1[i]! / g.size;
      v2 += stats.v2[i]! / g.size;
      v1Max = Math.max(v1Max, stats.v1[i]!);
      v2Max = Math.max(v2Max, stats.v2[i]!);
    }
    const n1 = pick(c1[gi]!), n2 = pick(c2[gi]!);
    const i2Each = R + curvature[gi]!;
    const costModel = {
      i1: { perInput: 0, perLabel: i1PerLabel },
      i2: i2Labels === 'shared' ? { perInput: i2Each, perLabel: 0 } : { perInput: 0, perLabel: i2Each },
      exact: { perInput: exactCost, perLabel: 0 },
    };
    const costOf = (c: EstimatorCost, n: number): number => (Number.isFinite(n) ? c.perInput + c.perLabel * n : Infinity);
    const cost = { i1: costOf(costModel.i1, n1), i2: costOf(costModel.i2, n2), exact: exactCost };
    const vc1 = v1 * i1PerLabel, vc2 = v2 * i2Each;
    const varianceCost = { i1: vc1, i2: vc2, ratio: ratio(vc1, vc2) };

    const deterministicI2 = v2Max === 0;
    const deterministicI1 = v1Max === 0;
    // Cheapest first; on equal cost the zero-variance choice, then the smaller variance, then
    // Î2 before exact (a deterministic Î2 is the exact diagonal) before Î1.
    const candidates: { name: Recommendation; cost: number; variance: number }[] = [
      { name: 'i2', cost: cost.i2, variance: v2 },
      { name: 'exact', cost: cost.exact, variance: 0 },
      { name: 'i1', cost: cost.i1, variance: v1 },
    ];
    const best = candidates.reduce((a, b) => (b.cost < a.cost || (b.cost === a.cost && b.variance < a.variance) ? b : a));
    const isLast = gi === layout.groups.length - 1;
    const target = `ε = ${fmt(acc.epsilon)}, δ = ${fmt(acc.delta)}`;
    let reason: string;
    if (best.name === 'i2' && deterministicI2) {
      if (piecewiseLinear) reason = 'piecewise-linear (relu) network: Î2 is deterministic and equals the exact FIM diagonal at the cost of the exact one';
      else if (isLast) reason = 'last layer: V2 = 0 (h is linear in these weights), Î2 is exact at no extra cost';
      else if (curvature[gi] === 0) reason = 'no curved activation above this layer: V2 = 0, Î2 is exact at no extra cost';
      else reason = 'V2 = 0 at these inputs: Î2 is deterministic and equals the exact FIM diagonal';
    } else if (best.name === 'exact') {
      reason = `exact costs ${fmt(exactCost)} backward passes per input, fewer than Î1 (${fmt(n1)} labels: ${fmt(cost.i1)} passes) or Î2 (${fmt(cost.i2)} passes) need for ${target}`;
      if (i2Labels === 'shared' && !deterministicI2 && exactCost <= R) reason += '; Î2 computes the exact columns and adds label noise, so it cannot beat exact';
    } else if (best.name === 'i1') {
      reason = deterministicI1
        ? 'V1 = 0 here: Î1 is deterministic with one label, the cheapest exact value'
        : `${v1 < v2 ? 'V1 < V2 here: ' : ''}Î1 reaches ${target} with ${fmt(n1)} labels (${fmt(cost.i1)} passes), fewer than exact (${fmt(exactCost)}) or Î2 (${fmt(cost.i2)})`;
      if (!deterministicI1 && varianceCost.ratio < 1) reason += '; Î1 is more accurate per unit cost';
    } else {
      reason = `${v2 < v1 ? 'V2 < V1 here: ' : ''}Î2 reaches ${target} with ${fmt(n2)} labels (${fmt(cost.i2)} passes), fewer than exact (${fmt(exactCost)}) or Î1 (${fmt(cost.i1)})`;
    }
    return {
      label: g.label, type: g.type, size: g.size, layerIndex: layers[gi]!.index,
      fim, v1, v2, labels: { i1: n1, i2: n2 }, costModel, cost, varianceCost,
      recommended: best.name, reason, complexity: { i1: c1[gi]!, i2: c2[gi]! },
    };
  });

  const notes = [
    'costs are backward-pass equivalents per input; forward passes and label sampling are not counted',
    `labels per input from the ${criterion === 'trace' ? 'Cauchy–Schwarz bound on the layer trace' : `${criterion} over the layer's parameters`} of the best applicable bound (Chebyshev, Bernstein, Hoeffding)`,
  ];
  if (i2Labels === 'shared' && exactCost <= R) notes.push('Î2 as computed here folds all labels of an input into one second-derivative pass: it costs at least the exact diagonal, so it is recommended only where it is deterministic (and then equals the exact diagonal)');
  if (stats.range1 === null) notes.push(stats.unboundedReason ?? 'no ranges given: Chebyshev only');
  return { accuracy: { ...acc }, criterion, i2Labels, factorColumns: R, exactPerInput: exactCost, layers: out, notes };
}
