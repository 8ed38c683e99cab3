/**
 * The study's verdicts: each finding of "Trade-Offs of Diagonal Fisher Information Matrix
 * Estimators" is checked by an explicit criterion — what is compared, the threshold (the paper's
 * own number where it gives one, otherwise fimkit's choice, said so), the cases it is evaluated
 * on (epochs, layers, estimators), and how many of them must pass. A finding agrees when at least
 * `minPassed` of its cases pass, differs otherwise, and is not checked when it has no case.
 *
 * How many cases must pass follows the paper's wording:
 *   - identities and claims stated without qualification ("V2 = 0", "the bounds always hold",
 *     "in the first three layers V1 < V2"): every case;
 *   - values read off a figure ("log(UB/V1) ≈ 3.9"): 3 in 4 epochs;
 *   - claims the paper qualifies ("in general", "in most of the cases"): more than half;
 *   - claims on Monte Carlo estimates (the toy's variance sums, from 64–128 draws per point):
 *     9 in 10 recorded points, so that one noisy point does not decide.
 *
 * Every function here takes plain statistics, so a verdict can be tested on constructed input.
 */
import type { LayerStat } from './layer-stats.js';
import type { ToyCurve } from './toy-ngd.js';

export type Verdict = 'agrees' | 'differs' | 'not-checked';

export type PassRule = 'all' | 'three-quarters' | 'majority' | 'nine-tenths';

export interface Criterion {
  /** What is compared, per case. */
  compared: string;
  /** The threshold, and where it comes from. */
  threshold: string;
  /** What one case is, e.g. "(epoch, hidden layer)". */
  caseUnit: string;
  cases: number;
  passed: number;
  rule: PassRule;
  /** Cases that must pass for "agrees". */
  minPassed: number;
}

export interface Finding {
  /** Stable identifier (tests and report.json refer to it). */
  id: string;
  claim: string;
  status: Verdict;
  /** What was measured. */
  detail: string;
  criterion: Criterion;
}

const RULE_TEXT: Record<PassRule, string> = {
  all: 'all',
  'three-quarters': 'at least 3 in 4',
  majority: 'more than half',
  'nine-tenths': 'at least 9 in 10',
};

export function minPassedFor(rule: PassRule, cases: number): number {
  switch (rule) {
    case 'all': return cases;
    case 'three-quarters': return Math.ceil(0.75 * cases);
    case 'majority': return Math.floor(cases / 2) + 1;
    case 'nine-tenths': return Math.ceil(0.9 * cases);
  }
}

/** A finding from its per-case outcomes. */
export function verdict(id: string, claim: string, detail: string, c: Omit<Criterion, 'cases' | 'passed' | 'minPassed'>, outcomes: readonly boolean[]): Finding {
  const cases = outcomes.length;
  const passed = outcomes.filter(Boolean).length;
  const minPassed = minPassedFor(c.rule, cases);
  const status: Verdict = cases === 0 ? 'not-checked' : passed >= minPassed ? 'agrees' : 'differs';
  return { id, claim, status, detail, criterion: { ...c, cases, passed, minPassed } };
}

/** One line: "criterion: …; threshold …; 12 of 12 (epoch, layer) cases pass, all required". */
export function criterionText(c: Criterion): string {
  return `Criterion: ${c.compared}; threshold: ${c.threshold}; ${c.passed} of ${c.cases} ${c.caseUnit} cases pass, ${RULE_TEXT[c.rule]} (${c.minPassed}) required.`;
}

/** Per-epoch layer statistics of one MLP (epoch 0 = initialisation), layers in order, last = output layer. */
export type Trajectory = readonly (readonly LayerStat[])[];

const fmt = (v: number): string => v.toExponential(2);

/** Remark 4.4: V2 = 0 exactly in the last layer (its second derivatives vanish). */
export function lastLayerV2Zero(t: Trajectory): Finding {
  const last = t.map((ls) => ls[ls.length - 1]!);
  return verdict('last-layer-v2-zero', 'V2 = 0 in the last layer (Remark 4.4)',
    `largest last-layer mean V2 over epochs: ${Math.max(0, ...last.map((l) => l.v2))}`,
    { compared: 'the last layer\'s mean V2 at each epoch', threshold: 'exactly 0 (an identity of the paper: ∂²h/∂W² = 0)', caseUnit: 'epoch', rule: 'all' },
    last.map((l) => l.v2 === 0));
}

/** Fig. 2: in the first layers V1 < V2, so Î1 is more accurate there. */
export function firstLayersV1BelowV2(t: Trajectory): Finding {
  const out: boolean[] = [];
  const worst = { ratio: 0, at: '' };
  t.forEach((ls, e) => ls.slice(0, -1).forEach((l) => {
    out.push(l.v1 < l.v2);
    const r = l.v2 > 0 ? l.v1 / l.v2 : Infinity;
    if (r > worst.ratio) { worst.ratio = r; worst.at = `epoch ${e}, layer ${l.label}`; }
  }));
  return verdict('first-layers-v1-below-v2', 'In the first layers V1 < V2, so Î1 is more accurate there',
    `V1 < V2 in ${out.filter(Boolean).length} of ${out.length} (epoch, hidden layer) pairs; largest V1/V2 ${worst.ratio === Infinity ? '∞' : worst.ratio.toPrecision(3)} (${worst.at})`,
    { compared: 'mean V1 against mean V2 of every layer but the last, at each epoch', threshold: 'V1 < V2 (the paper states it for the first three layers without exception)', caseUnit: '(epoch, hidden layer)', rule: 'all' },
    out);
}

/** Fig. 2: in the last layer Î1 has the largest variance of all groups. */
export function lastLayerLargestV1(t: Trajectory): Finding {
  const out = t.map((ls) => { const v = ls.map((l) => l.v1); return v[v.length - 1]! >= Math.max(...v); });
  return verdict('last-layer-largest-v1', 'In the last layer Î1 has the largest variance of all layers',
    `the last layer has the largest mean V1 at ${out.filter(Boolean).length} of ${out.length} epochs`,
    { compared: 'the last layer\'s mean V1 against every other layer\'s, at each epoch', threshold: 'largest (ties count)', caseUnit: 'epoch', rule: 'all' },
    out);
}

/** The paper's layer-1 tightness of the Theorem 4.1 upper bounds (Fig. 2, bottom row). */
export const PAPER_LOG_RATIO = { v1: 3.9, v2: 2.3 } as const;
/** "≈" read as: within a factor 2 of the paper's UB/V. */
export const LOG_RATIO_TOLERANCE = Math.LN2;

export function layer1BoundTightness(t: Trajectory): Finding {
  const r1 = t.map((ls) => ls[0]!.logRatio1);
  const r2 = t.map((ls) => ls[0]!.logRatio2);
  const out: boolean[] = [];
  for (const r of r1) if (r !== null) out.push(Math.abs(r - PAPER_LOG_RATIO.v1) <= LOG_RATIO_TOLERANCE);
  for (const r of r2) if (r !== null) out.push(Math.abs(r - PAPER_LOG_RATIO.v2) <= LOG_RATIO_TOLERANCE);
  const range = (a: (number | null)[]): string => {
    const v = a.filter((x): x is number => x !== null);
    return v.length === 0 ? 'none' : `${Math.min(...v).toFixed(2)}–${Math.max(...v).toFixed(2)}`;
  };
  return verdict('layer1-bound-tightness', `Layer 1: log(UB/V1) ≈ ${PAPER_LOG_RATIO.v1} and log(UB/V2) ≈ ${PAPER_LOG_RATIO.v2} (UB ≈ 50× V1, ≈ 10× V2)`,
    `over epochs: log(UB/V1) ${range(r1)}, log(UB/V2) ${range(r2)}`,
    { compared: 'layer 1\'s log(mean UB / mean V) for V1 and for V2, at each epoch', threshold: `within ln 2 = ${LOG_RATIO_TOLERANCE.toFixed(2)} of the paper's ${PAPER_LOG_RATIO.v1} (V1) and ${PAPER_LOG_RATIO.v2} (V2), i.e. UB/V within a factor 2 of the paper's`, caseUnit: '(epoch, estimator)', rule: 'three-quarters' },
    out);
}

/** Theorem 4.1: the upper bounds always hold (1e-9 relative slack for rounding). */
export function boundsHold(t: Trajectory): Finding {
  const out: boolean[] = [];
  let worst = Infinity;
  for (const ls of t) for (const l of ls) {
    for (const [ub, v] of [[l.ub1, l.v1], [l.ub2, l.v2]] as const) {
      if (ub === null) continue;
      out.push(ub >= v * (1 - 1e-9));
      if (v > 0) worst = Math.min(worst, ub / v);
    }
  }
  return verdict('bounds-hold', 'The upper bounds always hold',
    out.length === 0 ? 'no bounds were computed in this run' : `smallest UB/V over all cases: ${worst === Infinity ? '∞ (every V = 0)' : worst.toPrecision(4)}`,
    { compared: 'mean UB against mean V, for V1 and V2, in every layer at every epoch', threshold: 'UB ≥ V·(1 − 1e-9) (the paper: always valid)', caseUnit: '(epoch, layer, estimator)', rule: 'all' },
    out);
}

/**
 * "The variance in the first few epochs presents more dynamics than the rest of the training":
 * per (layer, estimator), the change of log V over the first epoch against the mean change per
 * epoch over the second half of training. Needs at least 3 epochs after initialisation.
 */
export function earlyDynamics(t: Trajectory): Finding {
  const out: boolean[] = [];
  const parts: string[] = [];
  const E = t.length - 1;
  if (E >= 3) {
    const start = Math.max(1, Math.ceil(E / 2));
    for (let li = 0; li < t[0]!.length; li++) {
      for (const key of ['v1', 'v2'] as const) {
        const v = t.map((ls) => ls[li]![key]);
        if (!v.every((x) => x > 0)) continue;
        const early = Math.abs(Math.log(v[1]! / v[0]!));
        let late = 0;
        for (let e = start + 1; e <= E; e++) late += Math.abs(Math.log(v[e]! / v[e - 1]!));
        late /= E - start;
        out.push(early > late);
        if (li === 0) parts.push(`layer 1 ${key.toUpperCase()}: ${early.toFixed(2)} in epoch 1, ${late.toFixed(2)} per epoch after epoch ${start}`);
      }
    }
  }
  return verdict('early-dynamics', 'The variances move most in the first epochs',
    out.length === 0 ? `needs at least 3 epochs (had ${E})` : `|Δ log V|: ${parts.join('; ')}`,
    { compared: '|Δ log V| over epoch 1 against the mean |Δ log V| per epoch over the second half of training, per layer for V1 and V2 (where V > 0)', threshold: 'larger in epoch 1 (the paper gives no number)', caseUnit: '(layer, estimator)', rule: 'majority' },
    out);
}

/** A drop to at most this fraction of the initial value counts as "goes to zero". */
export const VANISH_FACTOR = 0.1;

/**
 * Appendix F, log-sigmoid MLP: "the FIM and its variances quickly go to zero in the first few
 * epochs" (in most of the cases). Per (layer, quantity) with a non-zero initial value: the value
 * after the last epoch against VANISH_FACTOR × the value at initialisation. The investigation
 * also reads it against the peak over the earlier epochs (`baseline` 'peak'), because the
 * quantities first grow when training starts and fall only once p(y|x) saturates.
 */
export function logSigmoidVanishes(t: readonly (readonly Pick<LayerStat, 'fim' | 'v1' | 'v2'>[])[], baseline: 'init' | 'peak' = 'init'): Finding {
  const out: boolean[] = [];
  if (t.length >= 2) {
    const first = t[0]!;
    const last = t[t.length - 1]!;
    first.forEach((l0, li) => {
      for (const key of ['fim', 'v1', 'v2'] as const) {
        // 'peak': against the largest value over the epochs before the last (the study uses 'init').
        const ref = baseline === 'init' ? l0[key] : Math.max(...t.slice(0, -1).map((ls) => ls[li]![key]));
        if (!(ref > 0)) continue;
        out.push(last[li]![key] <= VANISH_FACTOR * ref);
      }
    });
  }
  const l0 = t[0]?.[0];
  const lE = t[t.length - 1]?.[0];
  return verdict('logsigmoid-vanishes', 'Log-sigmoid MLP: the FIM and its variances go to zero in the first epochs',
    l0 && lE && t.length >= 2 ? `layer-1 mean V1 from ${fmt(l0.v1)} at initialisation to ${fmt(lE.v1)} after the last epoch; FIM ${fmt(l0.fim)} → ${fmt(lE.fim)}` : 'needs at least one epoch of training',
    { compared: 'the mean FIM, V1 and V2 of each layer after the last epoch against their values at initialisation (where non-zero)', threshold: `at most ${VANISH_FACTOR} × the initial value (an order of magnitude; the paper gives no number)`, caseUnit: '(layer, quantity)', rule: 'majority' },
    out);
}

/** Toy (Fig. I): Î2's variance sum is below Î1's at each recorded epoch. */
export function toyLowerVariance(task: string, i1: ToyCurve, i2: ToyCurve): Finding {
  const n = Math.min(i1.varianceSum.length, i2.varianceSum.length);
  const out = Array.from({ length: n }, (_, k) => i2.varianceSum[k]! < i1.varianceSum[k]!);
  const mean = (a: number[]): number => a.reduce((s, v) => s + v, 0) / a.length;
  return verdict(`toy-${task}-variance`, `Toy ${task}: Î2 has the lower variance`,
    `mean variance sum over training: Î1 ${fmt(mean(i1.varianceSum))}, Î2 ${fmt(mean(i2.varianceSum))}`,
    { compared: 'the variance sum of the 4-point Fisher estimate, Î2 against Î1, at each recorded epoch', threshold: 'Î2 below Î1', caseUnit: 'recorded epoch', rule: 'nine-tenths' },
    out);
}

/** Toy (Fig. 1): natural gradient with Î1 is less stable: its test loss moves more late in training. */
export function toyI1LessStable(task: string, i1: ToyCurve, i2: ToyCurve): Finding {
  const tail = (c: ToyCurve): number[] => c.testLoss.slice(Math.floor(c.testLoss.length / 2));
  const spread = (a: number[]): number => Math.max(...a) - Math.min(...a);
  const s1 = spread(tail(i1));
  const s2 = spread(tail(i2));
  return verdict(`toy-${task}-stability`, `Toy ${task}: natural gradient with Î1 is less stable than with Î2`,
    `test-loss range over the second half of training: Î1 ${s1.toFixed(3)}, Î2 ${s2.toFixed(3)}; final test loss Î1 ${i1.testLoss.at(-1)!.toFixed(3)}, Î2 ${i2.testLoss.at(-1)!.toFixed(3)}`,
    { compared: 'the range (max − min) of the test loss over the second half of training, Î1 against Î2', threshold: 'Î1\'s range larger', caseUnit: 'run', rule: 'all' },
    [s1 > s2]);
}
