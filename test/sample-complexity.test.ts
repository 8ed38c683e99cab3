/**
 * Sample complexity (src/variance/complexity.ts) and the per-layer estimator recommendation
 * (src/variance/recommend.ts).
 *
 * The label counts are checked against their definitions (plugging N back in, and N − 1 failing),
 * for monotonicity in ε and δ and for the deterministic cases; the ranges of the single-label
 * terms against enumeration over all labels; and the guarantee itself by Monte Carlo: with N
 * from the bound, the frequency of |Î − I| > ε I over M replications of the library's own
 * estimator must stay within δ plus 5 binomial standard errors √(δ(1 − δ)/M).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FimkitError } from '../src/core/errors.js';
import { Rng } from '../src/core/rng.js';
import { Tensor } from '../src/core/tensor.js';
import { buildModel, mlpSpec, type ActivationName } from '../src/nn/index.js';
import { makeLikelihood, type LikelihoodName } from '../src/likelihoods/index.js';
import { computeFisherRaw } from '../src/fisher/compute.js';
import { layoutOf } from '../src/fisher/layout.js';
import { subset, type Dataset } from '../src/data/dataset.js';
import { inputVariances, jointVariances } from '../src/variance/conditional.js';
import {
  bernsteinLabels, chebyshevLabels, hoeffdingLabels, jointBudget, jointInputsNeeded, jointLayerBudget, layerComplexity,
  layerTraceVariances, maxResidualNorm2, parameterComplexity, quantile, statsFromInputs, type Accuracy,
} from '../src/variance/complexity.js';
import { curvaturePasses, recommendEstimators } from '../src/variance/recommend.js';

function makeData(lname: LikelihoodName, T: number, x: Tensor): Dataset {
  const n = x.shape[0]!;
  const lik = makeLikelihood(lname);
  return {
    name: 'sc', length: n, inputShape: [x.shape[1]!], inputs: x.data, targetKind: lik.targetKind,
    targets: lname === 'categorical' ? new Int32Array(n) : new Float64Array(n * T), targetDim: lname === 'categorical' ? 1 : T,
    ...(lname === 'categorical' ? { numClasses: T } : {}),
  };
}

function tiny(act: ActivationName, sizes = [3, 4, 3]): ReturnType<typeof buildModel> {
  return buildModel(mlpSpec(sizes, act), new Rng(1), 'float64');
}

const X1 = new Tensor(Float64Array.of(0.5, -1, 0.8), [1, 3]);

test('Chebyshev N meets its definition and is the smallest that does', () => {
  const rng = new Rng(3);
  for (let k = 0; k < 2000; k++) {
    const v = Math.exp(6 * rng.uniform() - 3);
    const I = Math.exp(4 * rng.uniform() - 2);
    const acc = { epsilon: 0.01 + rng.uniform(), delta: 0.001 + 0.9 * rng.uniform() };
    const n = 1 + rng.int(20);
    const N = chebyshevLabels(v, I, acc, n);
    const tol = acc.delta * acc.epsilon ** 2 * I * I;
    assert.ok(Number.isInteger(N) && N >= 1);
    assert.ok(v / (n * N) <= tol, `v/(nN) = ${v / (n * N)} > δε²I² = ${tol}`);
    if (N > 1) assert.ok(v / (n * (N - 1)) > tol, `N = ${N} is not minimal`);
  }
});

test('Bernstein and Hoeffding N meet their tail bounds and are minimal', () => {
  const rng = new Rng(4);
  for (let k = 0; k < 1000; k++) {
    const I = Math.exp(2 * rng.uniform() - 1);
    const M = I * (1 + 10 * rng.uniform());
    const v = M * M * rng.uniform();
    const acc = { epsilon: 0.05 + rng.uniform(), delta: 1e-6 + 0.5 * rng.uniform() };
    const n = 1 + rng.int(5);
    const e = acc.epsilon * I;
    const bern = (s: number): number => 2 * Math.exp((-s * e * e) / (2 * v + (2 * M * e) / 3));
    const Nb = bernsteinLabels(v, I, M, acc, n);
    assert.ok(bern(n * Nb) <= acc.delta * (1 + 1e-12), `Bernstein tail ${bern(n * Nb)} > δ ${acc.delta}`);
    if (Nb > 1) assert.ok(bern(n * (Nb - 1)) > acc.delta * (1 - 1e-12));
    const w = 2 * M;
    const hoef = (s: number): number => 2 * Math.exp((-2 * s * e * e) / (w * w));
    const Nh = hoeffdingLabels(v, I, w, acc, n);
    assert.ok(hoef(n * Nh) <= acc.delta * (1 + 1e-12));
    if (Nh > 1) assert.ok(hoef(n * (Nh - 1)) > acc.delta * (1 - 1e-12));
  }
});

test('label counts never grow when ε or δ is relaxed', () => {
  const cases = [[0.3, 1.2, 2], [5, 0.4, 9], [1e-3, 2, 0.1]] as const;
  const eps = [0.01, 0.03, 0.1, 0.3, 1, 3];
  const deltas = [1e-6, 1e-3, 0.01, 0.05, 0.2, 0.5, 0.9];
  for (const [v, I, M] of cases) {
    for (const f of [
      (a: Accuracy) => chebyshevLabels(v, I, a),
      (a: Accuracy) => bernsteinLabels(v, I, M, a),
      (a: Accuracy) => hoeffdingLabels(v, I, 2 * M, a),
    ]) {
      for (const d of deltas) for (let k = 1; k < eps.length; k++) assert.ok(f({ epsilon: eps[k]!, delta: d }) <= f({ epsilon: eps[k - 1]!, delta: d }));
      for (const e of eps) for (let k = 1; k < deltas.length; k++) assert.ok(f({ epsilon: e, delta: deltas[k]! }) <= f({ epsilon: e, delta: deltas[k - 1]! }));
    }
  }
  // Chebyshev scales as 1/(δε²): a hundredfold-smaller δε² needs about a hundredfold more labels.
  const a = chebyshevLabels(2, 1, { epsilon: 0.1, delta: 0.1 }), b = chebyshevLabels(2, 1, { epsilon: 0.01, delta: 0.1 });
  assert.equal(a, 2000);
  assert.equal(b, 200000);
});

test('deterministic and unattainable cases: v = 0 needs one label, I = 0 < v none suffices', () => {
  const acc = { epsilon: 0.1, delta: 0.05 };
  for (const I of [0, 1e-300, 3]) {
    assert.equal(chebyshevLabels(0, I, acc), 1);
    assert.equal(bernsteinLabels(0, I, 5, acc), 1);
    assert.equal(hoeffdingLabels(0, I, 5, acc), 1);
  }
  assert.equal(chebyshevLabels(1e-9, 0, acc), Infinity);
  assert.equal(bernsteinLabels(1e-9, 0, 1, acc), Infinity);
  // Last layer (V2 = 0 for any activation) and every layer of a relu network: Î2 needs one label.
  const lik = makeLikelihood('categorical');
  for (const act of ['sigmoid', 'relu'] as const) {
    const model = tiny(act);
    const layout = layoutOf(model);
    const st = statsFromInputs(inputVariances(model, lik, X1), lik);
    const pc = parameterComplexity(st, 'i2', acc);
    const last = layout.groups.at(-1)!;
    for (let i = 0; i < layout.size; i++) {
      if (act === 'relu' || i >= last.offset) assert.equal(pc.labels[i], 1, `${act} parameter ${i}`);
    }
    if (act === 'sigmoid') assert.ok(Array.from(pc.labels.subarray(0, last.offset)).some((n) => n > 1), 'the first sigmoid layer has V2 > 0');
    const lc = layerComplexity(layout, st, 'i2', acc);
    assert.equal(lc.at(-1)!.max, 1);
    assert.equal(lc.at(-1)!.trace.labelsUpperBound, 1);
  }
  assert.throws(() => chebyshevLabels(1, 1, { epsilon: 0, delta: 0.1 }), (e: unknown) => e instanceof FimkitError && e.code === 'INVALID_ARGUMENT' && /epsilon/.test(e.message));
  assert.throws(() => chebyshevLabels(1, 1, { epsilon: 0.1, delta: 1 }), (e: unknown) => e instanceof FimkitError && /delta/.test(e.message));
  assert.throws(() => chebyshevLabels(NaN, 1, acc), (e: unknown) => e instanceof FimkitError && e.code === 'NON_FINITE');
  assert.throws(() => chebyshevLabels(1, 1, acc, 0), (e: unknown) => e instanceof FimkitError && /inputs/.test(e.message));
});

/** Every label y with its probability and t(y), for the bounded families (small T). */
function enumerateLabels(lname: 'categorical' | 'bernoulli', h: Float64Array): { p: number; t: Float64Array }[] {
  const T = h.length;
  const eta = makeLikelihood(lname).meanStat(h, 1, T);
  if (lname === 'categorical') return Array.from({ length: T }, (_, c) => ({ p: eta[c]!, t: Float64Array.from({ length: T }, (_, a) => (a === c ? 1 : 0)) }));
  return Array.from({ length: 1 << T }, (_, mask) => {
    const t = Float64Array.from({ length: T }, (_, a) => (mask >> a) & 1);
    let p = 1;
    for (let a = 0; a < T; a++) p *= t[a] ? eta[a]! : 1 - eta[a]!;
    return { p, t };
  });
}

for (const [lname, T] of [['categorical', 4], ['bernoulli', 3]] as const) {
  test(`the ranges behind Bernstein and Hoeffding hold every label's term (${lname}, by enumeration)`, () => {
    const lik = makeLikelihood(lname);
    const model = tiny('tanh', [3, 5, T]);
    const x = Tensor.uniform([3, 3], new Rng(8), -1.5, 1.5, 'float64');
    const ivs = inputVariances(model, lik, x);
    const P = model.numParams();
    for (const iv of ivs) {
      const st = statsFromInputs([iv], lik);
      const labels = enumerateLabels(lname, iv.h);
      const eta = lik.meanStat(iv.h, 1, T);
      let maxRes = 0;
      for (const { t } of labels) maxRes = Math.max(maxRes, t.reduce((s, ta, a) => s + (ta - eta[a]!) ** 2, 0));
      assert.ok(Math.abs(maxResidualNorm2(lik, iv.h)! - maxRes) <= 1e-12, 'max_y ‖t − η‖²');
      for (let i = 0; i < P; i++) {
        let mean1 = 0, mean2 = 0;
        for (const { p, t } of labels) {
          let s = 0, r = 0;
          for (let a = 0; a < T; a++) { s += iv.J[a * P + i]! * (t[a]! - eta[a]!); r += (eta[a]! - t[a]!) * iv.H[a * P + i]!; }
          const term1 = s * s, term2 = iv.fim[i]! + r;
          mean1 += p * term1;
          mean2 += p * term2;
          const tol = 1e-12 * (1 + term1);
          assert.ok(term1 >= 0 && term1 <= st.range1!.width[i]! + tol, `Î1 term ${term1} outside [0, ${st.range1!.width[i]}]`);
          assert.ok(Math.abs(term1 - iv.fim[i]!) <= st.range1!.deviation[i]! + tol);
          assert.ok(Math.abs(term2 - iv.fim[i]!) <= st.range2!.deviation[i]! + tol);
          assert.ok(2 * Math.abs(term2 - iv.fim[i]!) <= st.range2!.width[i]! + tol);
        }
        assert.ok(Math.abs(mean1 - iv.fim[i]!) <= 1e-12 * (1 + iv.fim[i]!), 'E term1 = I');
        assert.ok(Math.abs(mean2 - iv.fim[i]!) <= 1e-12 * (1 + iv.fim[i]!), 'E term2 = I');
      }
    }
  });
}

test('Bernstein needs fewer labels than Chebyshev for small δ where the terms are bounded; unbounded families get Chebyshev only', () => {
  const lik = makeLikelihood('categorical');
  const model = tiny('tanh');
  const st = statsFromInputs(inputVariances(model, lik, X1), lik);
  for (const est of ['i1', 'i2'] as const) {
    const pc = parameterComplexity(st, est, { epsilon: 0.1, delta: 1e-4 });
    let strict = 0;
    for (let i = 0; i < pc.labels.length; i++) {
      assert.ok(pc.bernstein![i]! <= pc.chebyshev[i]!, `${est} param ${i}: Bernstein ${pc.bernstein![i]} > Chebyshev ${pc.chebyshev[i]}`);
      if (pc.bernstein![i]! < pc.chebyshev[i]!) strict++;
      assert.equal(pc.labels[i], Math.min(pc.chebyshev[i]!, pc.bernstein![i]!, pc.hoeffding![i]!));
      assert.equal(pc.labels[i], pc[pc.bound[i]!]![i]);
    }
    if (est === 'i1') assert.ok(strict === pc.labels.length, 'every Î1 parameter has v1 > 0 here, so Bernstein is strictly smaller');
  }
  for (const lname of ['gaussian', 'poisson'] as const) {
    const l = makeLikelihood(lname);
    const m = tiny('tanh', [3, 4, 2]);
    const s = statsFromInputs(inputVariances(m, l, X1), l);
    assert.equal(s.range1, null);
    const pc = parameterComplexity(s, 'i1', { epsilon: 0.1, delta: 1e-4 });
    assert.equal(pc.bernstein, null);
    assert.equal(pc.hoeffding, null);
    assert.match(pc.notApplicable!, /unbounded/);
    assert.deepEqual(Array.from(pc.labels), Array.from(pc.chebyshev));
    assert.ok(pc.bound.every((b) => b === 'chebyshev'));
  }
  // Isotropic Gaussian regression: V1 = 2‖J_i‖⁴ = 2 I², so Î1 needs 2/(δε²) labels whatever the network.
  const g = makeLikelihood('gaussian');
  const m = tiny('sigmoid', [3, 4, 2]);
  const pc = parameterComplexity(statsFromInputs(inputVariances(m, g, X1), g), 'i1', { epsilon: 0.1, delta: 0.05 });
  assert.ok(pc.chebyshev.every((n) => n === 4000 || n === 4001), `expected 2/(δε²) = 4000 (rounding may add one), got ${Array.from(pc.chebyshev)}`);
});

test('per-layer aggregation: quantiles of the per-parameter counts, and the trace bound covers the exact trace variance', () => {
  assert.equal(quantile([5, 1, 3, Infinity], 0.5), 3);
  assert.equal(quantile([5, 1, 3, Infinity], 0.9), Infinity);
  assert.equal(quantile([4, 2, 8, 6, 10, 1, 3, 5, 7, 9], 0.9), 9);
  const lik = makeLikelihood('categorical');
  const model = tiny('tanh', [3, 5, 4, 3]);
  const layout = layoutOf(model);
  const x = Tensor.uniform([3, 3], new Rng(12), -1, 1, 'float64');
  for (const iv of inputVariances(model, lik, x)) {
    const st = statsFromInputs([iv], lik);
    const tv = layerTraceVariances(layout, lik, iv);
    for (const est of ['i1', 'i2'] as const) {
      const pc = parameterComplexity(st, est, { epsilon: 0.2, delta: 0.1 });
      const lc = layerComplexity(layout, st, est, { epsilon: 0.2, delta: 0.1 }, est === 'i1' ? tv.v1 : tv.v2);
      layout.groups.forEach((g, gi) => {
        const counts = Array.from(pc.labels.subarray(g.offset, g.offset + g.size)).sort((a, b) => a - b);
        assert.equal(lc[gi]!.max, counts.at(-1));
        assert.equal(lc[gi]!.median, counts[Math.ceil(0.5 * counts.length) - 1]);
        let fim = 0;
        for (let i = g.offset; i < g.offset + g.size; i++) fim += st.fim[i]!;
        assert.ok(Math.abs(tv.fim[gi]! - fim) <= 1e-10 * fim, 'trace of the FIM from the Jacobian Gram matrix');
        const t = lc[gi]!.trace;
        assert.ok(t.variance! <= t.varianceBound * (1 + 1e-10), `exact trace variance ${t.variance} above the Cauchy–Schwarz bound ${t.varianceBound}`);
        assert.ok(t.labels! <= t.labelsUpperBound);
      });
    }
  }
});

/** Fraction of replications with |est − truth| > ε·truth, per entry. */
function failureRates(reps: Float64Array[], truth: Float64Array, epsilon: number): Float64Array {
  const out = new Float64Array(truth.length);
  for (const r of reps) for (let i = 0; i < truth.length; i++) if (Math.abs(r[i]! - truth[i]!) > epsilon * truth[i]!) out[i]! += 1 / reps.length;
  return out;
}

test('Monte Carlo: with N from the bounds, |Î − I| > εI happens at most a fraction δ of the time (conditional, tanh, categorical)', () => {
  const lik = makeLikelihood('categorical');
  const model = tiny('tanh');
  const layout = layoutOf(model);
  const data = makeData('categorical', 3, X1);
  const iv = inputVariances(model, lik, X1)[0]!;
  const st = statsFromInputs([iv], lik);
  const tv = layerTraceVariances(layout, lik, iv);
  const acc = { epsilon: 0.3, delta: 0.1 };
  const M = 400;
  const slack = 5 * Math.sqrt((acc.delta * (1 - acc.delta)) / M);
  for (const est of ['i1', 'i2'] as const) {
    const pc = parameterComplexity(st, est, acc);
    const lc = layerComplexity(layout, st, est, acc, est === 'i1' ? tv.v1 : tv.v2);
    // One N for all parameters and both layer traces: the largest requirement.
    const N = Math.max(...pc.labels, ...lc.map((l) => l.trace.labels!));
    assert.ok(Number.isFinite(N) && N <= 20000, `N = ${N}`);
    const reps = Array.from({ length: M }, (_, m) =>
      computeFisherRaw(model, lik, data, { estimator: est, representation: 'diag', mode: 'conditional', labelsPerInput: N, seed: 500 + m }).acc.diag!);
    const rates = failureRates(reps, st.fim, acc.epsilon);
    for (let i = 0; i < rates.length; i++) assert.ok(rates[i]! <= acc.delta + slack, `${est} param ${i}: failure rate ${rates[i]} with N = ${N} > δ + 5 s.e. = ${acc.delta + slack}`);
    if (est === 'i1') {
      // The check has power: a twentieth of the labels the hardest parameter needs makes it
      // miss ε far more often than δ (its standard deviation is then about 1.4 εI).
      const hardest = pc.labels.indexOf(Math.max(...pc.labels));
      const few = Math.ceil(pc.chebyshev[hardest]! / 20);
      const short = Array.from({ length: 200 }, (_, m) =>
        computeFisherRaw(model, lik, data, { estimator: est, representation: 'diag', mode: 'conditional', labelsPerInput: few, seed: 900 + m }).acc.diag!);
      const r = failureRates(short, st.fim, acc.epsilon)[hardest]!;
      assert.ok(r > acc.delta + 5 * Math.sqrt((acc.delta * (1 - acc.delta)) / 200), `with ${few} labels parameter ${hardest} fails at rate ${r} only`);
    }
    // Layer traces: the rate bound, and the exact trace variance against the replications'.
    const traces = reps.map((r) => Float64Array.from(layout.groups, (g) => r.subarray(g.offset, g.offset + g.size).reduce((s, v) => s + v, 0)));
    const trRates = failureRates(traces, tv.fim, acc.epsilon);
    layout.groups.forEach((g, gi) => {
      assert.ok(trRates[gi]! <= acc.delta + slack, `${est} layer ${g.label} trace: failure rate ${trRates[gi]}`);
      const xs = traces.map((t) => t[gi]!);
      const mean = xs.reduce((s, v) => s + v, 0) / M;
      const c2 = xs.reduce((s, v) => s + (v - mean) ** 2, 0);
      const c4 = xs.reduce((s, v) => s + (v - mean) ** 4, 0);
      const s2 = c2 / (M - 1);
      const se = Math.sqrt(Math.max(0, c4 / M - (c2 / M) ** 2) / M);
      const closed = (est === 'i1' ? tv.v1 : tv.v2)[gi]! / N;
      assert.ok(Math.abs(closed - s2) <= 5 * se + 1e-12 * closed + (M * 2.3e-16 * Math.abs(mean)) ** 2,
        `${est} layer ${g.label}: exact trace variance ${closed} vs sample variance ${s2} (5 s.e. ${5 * se})`);
    });
  }
});

test('joint budget: N_x meets (A + B/N)/N_x ≤ δε²I², the input floor, and the splits match brute force', () => {
  const rng = new Rng(21);
  for (let k = 0; k < 60; k++) {
    const I = 0.5 + rng.uniform();
    const acc = { epsilon: 0.2 + 0.5 * rng.uniform(), delta: 0.05 + 0.3 * rng.uniform() };
    const tol = acc.delta * acc.epsilon ** 2 * I * I;
    const A = tol * 40 * rng.uniform() * (k % 7 === 0 ? 0 : 1);
    const B = tol * 300 * rng.uniform();
    const N = 1 + rng.int(30);
    const cx = 0.5 + 5 * rng.uniform();
    const jb = jointBudget(A, B, I, acc, { labelsPerInput: N, inputCost: cx, labelCost: 1 });
    const nx = (n: number): number => jointInputsNeeded(A, B, I, acc, n);
    assert.equal(jb.inputsNeeded, nx(N));
    assert.ok((A + B / N) / jb.inputsNeeded <= tol);
    if (jb.inputsNeeded > 1) assert.ok((A + B / N) / (jb.inputsNeeded - 1) > tol, 'N_x is minimal');
    assert.equal(jb.rate, 'O(1/N_x + 1/(N_x N))');
    // The floor: no N goes below it, and from labelsCannotHelpBeyond on every N reaches it.
    assert.ok(jb.minInputs >= Math.max(1, Math.ceil(A / tol - 1e-9)));
    const cap = Math.min(Number.isFinite(jb.labelsCannotHelpBeyond) ? jb.labelsCannotHelpBeyond + 5 : 2000, 5000);
    let bestTotal = Infinity, bestCost = Infinity;
    for (let n = 1; n <= cap; n++) {
      const m = nx(n);
      assert.ok(m >= jb.minInputs);
      if (n >= jb.labelsCannotHelpBeyond) assert.equal(m, jb.minInputs);
      if (n === jb.labelsCannotHelpBeyond - 1) assert.ok(m > jb.minInputs);
      bestTotal = Math.min(bestTotal, n * m);
      bestCost = Math.min(bestCost, m * (cx + n));
    }
    assert.equal(jb.minTotal.total, bestTotal);
    assert.equal(jb.minTotal.labelsPerInput * jb.minTotal.inputs, bestTotal);
    assert.ok(Math.abs(jb.costOptimal.cost - bestCost) <= 1e-9 * bestCost, `cost-optimal ${jb.costOptimal.cost} vs brute force ${bestCost}`);
    assert.equal(nx(jb.costOptimal.labelsPerInput) <= jb.costOptimal.inputs, true);
    if (A > 0) assert.match(jb.note, /floor of \d+ inputs that more labels cannot remove/);
  }
  assert.equal(jointBudget(0, 0, 1, { epsilon: 0.1, delta: 0.1 }).inputsNeeded, 1);
  assert.equal(jointBudget(1, 1, 0, { epsilon: 0.1, delta: 0.1 }).inputsNeeded, Infinity);
});

test('Monte Carlo: a joint Î1 estimate with N_x inputs drawn from q and N labels each meets (ε, δ)', () => {
  const lik = makeLikelihood('categorical');
  const model = tiny('tanh');
  const layout = layoutOf(model);
  const x = Tensor.uniform([8, 3], new Rng(5), -1, 1, 'float64');
  const data = makeData('categorical', 3, x);
  const jv = jointVariances(model, lik, data, { labelsPerInput: 1 });
  const acc = { epsilon: 0.3, delta: 0.1 };
  const N = 4;
  const lb = jointLayerBudget(layout, jv.fim, jv.fimVarOverInputs, jv.meanV1, acc, { labelsPerInput: N });
  const Nx = lb[0]!.inputsP90;
  const covered: number[] = [];
  for (let i = 0; i < jv.P; i++) if (jointInputsNeeded(jv.fimVarOverInputs[i]!, jv.meanV1[i]!, jv.fim[i]!, acc, N) <= Nx) covered.push(i);
  assert.ok(covered.length >= jv.P / 2, `${covered.length} of ${jv.P} parameters covered by N_x = ${Nx}`);
  const M = 300;
  const rng = new Rng(77);
  const reps = Array.from({ length: M }, (_, m) => {
    const idx = Array.from({ length: Nx }, () => rng.int(data.length));
    return computeFisherRaw(model, lik, subset(data, idx), { estimator: 'i1', representation: 'diag', labelsPerInput: N, seed: 3000 + m }).acc.diag!;
  });
  const rates = failureRates(reps, jv.fim, acc.epsilon);
  const slack = 5 * Math.sqrt((acc.delta * (1 - acc.delta)) / M);
  for (const i of covered) assert.ok(rates[i]! <= acc.delta + slack, `param ${i}: failure rate ${rates[i]} with N_x = ${Nx}, N = ${N}`);
});

test('recommendation: relu picks Î2 everywhere, sigmoid gets Î2 in the last layer and exact below', () => {
  const lik = makeLikelihood('categorical');
  const x = Tensor.uniform([4, 3], new Rng(5), -1.5, 1.5, 'float64');
  const relu = tiny('relu');
  const r = recommendEstimators(relu, lik, statsFromInputs(inputVariances(relu, lik, x), lik));
  for (const l of r.layers) {
    assert.equal(l.recommended, 'i2', `${l.label}: ${l.reason}`);
    assert.equal(l.v2, 0);
    assert.match(l.reason, /deterministic and equals the exact FIM/);
    assert.equal(l.cost.i2, l.cost.exact);
  }
  assert.equal(r.factorColumns, 2);

  const sig = tiny('sigmoid', [3, 5, 4, 3]);
  assert.deepEqual(curvaturePasses(sig), [1 + 4, 1, 0], 'first layer: the shared cotangent pass plus the 4 units of the second activation; second: the closed form; last: none');
  const s = recommendEstimators(sig, lik, statsFromInputs(inputVariances(sig, lik, x), lik));
  const last = s.layers.at(-1)!;
  assert.equal(last.recommended, 'i2');
  assert.equal(last.v2, 0);
  assert.match(last.reason, /last layer: V2 = 0/);
  for (const l of s.layers.slice(0, -1)) {
    assert.ok(l.v2 > 0);
    assert.equal(l.recommended, 'exact', `${l.label}: ${l.reason}`);
    assert.equal(l.cost.exact, 2);
    assert.ok(l.cost.i2 > l.cost.exact && l.cost.i1 > l.cost.exact);
  }
  // Every recommendation is the cheapest way to the requested accuracy, and the costs follow
  // the documented model (here 'separate': Î2's per-label cost times its labels).
  const sep = recommendEstimators(sig, lik, statsFromInputs(inputVariances(sig, lik, x), lik), { cost: { i2Labels: 'separate' }, accuracy: { epsilon: 0.2, delta: 0.1 } });
  sep.layers.forEach((l, gi) => {
    assert.equal(l.cost.i2, (2 + curvaturePasses(sig)[gi]!) * l.labels.i2);
    assert.equal(l.cost.i1, l.labels.i1);
    const chosen = l.cost[l.recommended];
    assert.equal(chosen, Math.min(l.cost.i1, l.cost.i2, l.cost.exact));
    assert.equal(l.varianceCost.ratio, l.varianceCost.i2 === 0 ? Infinity : l.varianceCost.i1 / l.varianceCost.i2);
  });
  // With a costly exact diagonal the hidden layers go to the cheaper of Î1 and Î2.
  const dear = recommendEstimators(sig, lik, statsFromInputs(inputVariances(sig, lik, x), lik), { cost: { i2Labels: 'separate', exactPerInput: 1e9 }, accuracy: { epsilon: 0.2, delta: 0.1 } });
  for (const l of dear.layers.slice(0, -1)) {
    assert.notEqual(l.recommended, 'exact');
    assert.equal(l.cost[l.recommended], Math.min(l.cost.i1, l.cost.i2));
    assert.match(l.reason, l.recommended === 'i1' ? /Î1 reaches/ : /Î2 reaches/);
  }
});

test('recommendation: Î1 wins where the output space is large and the accuracy loose; exact where ε is tight', () => {
  const lik = makeLikelihood('categorical');
  const model = tiny('tanh', [3, 6, 40]);
  const st = statsFromInputs(inputVariances(model, lik, X1), lik);
  const loose = recommendEstimators(model, lik, st, { accuracy: { epsilon: 1, delta: 0.5 } });
  const first = loose.layers[0]!;
  assert.equal(loose.factorColumns, 39);
  assert.equal(first.recommended, 'i1', first.reason);
  assert.ok(first.labels.i1 < 39 && first.cost.i1 === first.labels.i1);
  assert.ok(first.varianceCost.ratio < 1 && first.v1 < first.v2);
  assert.match(first.reason, /V1 < V2 here/);
  assert.equal(loose.layers[1]!.recommended, 'i2');
  const tight = recommendEstimators(model, lik, st, { accuracy: { epsilon: 0.05, delta: 0.05 } });
  assert.equal(tight.layers[0]!.recommended, 'exact');
  assert.match(tight.layers[0]!.reason, /exact costs 39 backward passes/);
  assert.throws(() => recommendEstimators(model, lik, st, { criterion: 'mean' as never }), (e: unknown) => e instanceof FimkitError && /criterion/.test(e.message));
  assert.throws(() => recommendEstimators(tiny('tanh'), lik, st), (e: unknown) => e instanceof FimkitError && e.code === 'SHAPE');
});
