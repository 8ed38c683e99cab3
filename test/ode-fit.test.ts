// Levenberg–Marquardt on standard least-squares problems, the ODE least-squares baseline, and the
// identifiability analysis (a case built so that two parameters enter only as a product).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { levenbergMarquardt } from '../src/optim/lm.js';
import { FimkitError } from '../src/core/errors.js';
import {
  fitLeastSquares, identifiability, synthesize, defineOdeModel, param, kuznetsov, dePillis, solveOde, unknownIndices,
} from '../src/ode/index.js';

test('Levenberg–Marquardt: Rosenbrock as least squares from (−1.2, 1) reaches (1, 1)', () => {
  const r = levenbergMarquardt({
    n: 2,
    evaluate: ([x, y]) => ({ r: Float64Array.of(10 * (y! - x! * x!), 1 - x!), J: Float64Array.of(-20 * x!, 10, -1, 0) }),
  }, Float64Array.of(-1.2, 1));
  assert.ok(r.converged, r.reason);
  assert.ok(Math.abs(r.x[0]! - 1) < 1e-8 && Math.abs(r.x[1]! - 1) < 1e-8, `${r.x}`);
  assert.ok(r.cost < 1e-20);
});

test('Levenberg–Marquardt: an exponential regression with noise matches the Gauss–Newton normal equations; bounds hold', () => {
  // y_i = 3·exp(−0.4 t_i) + fixed perturbations; at the optimum Jᵀr = 0.
  const t = Array.from({ length: 12 }, (_, i) => i * 0.5);
  const eps = t.map((_, i) => 0.01 * Math.sin(3 * i));
  const y = t.map((ti, i) => 3 * Math.exp(-0.4 * ti) + eps[i]!);
  const evaluate = ([a, b]: Float64Array) => ({
    r: Float64Array.from(t, (ti, i) => a! * Math.exp(-b! * ti) - y[i]!),
    J: Float64Array.from(t.flatMap((ti) => [Math.exp(-b! * ti), -a! * ti * Math.exp(-b! * ti)])),
  });
  const r = levenbergMarquardt({ n: 2, evaluate }, Float64Array.of(1, 1));
  assert.ok(r.converged, r.reason);
  const e = evaluate(r.x);
  let g0 = 0, g1 = 0;
  for (let i = 0; i < t.length; i++) { g0 += e.J[2 * i]! * e.r[i]!; g1 += e.J[2 * i + 1]! * e.r[i]!; }
  assert.ok(Math.abs(g0) < 1e-9 && Math.abs(g1) < 1e-9, `gradient ${g0}, ${g1}`);
  assert.ok(Math.abs(r.x[0]! - 3) < 0.05 && Math.abs(r.x[1]! - 0.4) < 0.01);
  const bounded = levenbergMarquardt({ n: 2, evaluate }, Float64Array.of(1, 1), { lo: Float64Array.of(0, 0.5), hi: Float64Array.of(10, 2) });
  assert.ok(bounded.x[1]! >= 0.5 && Math.abs(bounded.x[1]! - 0.5) < 1e-12, 'the bound is active');
  assert.throws(() => levenbergMarquardt({ n: 2, evaluate }, Float64Array.of(1, 1), { lo: Float64Array.of(1, 1), hi: Float64Array.of(1, 2) }),
    (err: unknown) => err instanceof FimkitError && /lo = 1 ≥ hi = 1/.test(err.message));
});

test('ODE least squares recovers Kuznetsov and de Pillis parameters from noise-free data (progressive horizon)', () => {
  for (const m of [kuznetsov, dePillis]) {
    const d = synthesize(m, { count: 41, seed: 1 });
    const f = fitLeastSquares(m, d, { seed: 4 });
    assert.ok(f.converged, `${m.name}: ${f.reason}`);
    for (const e of f.estimates) {
      assert.ok(e.start !== e.nominal, 'starts away from the truth');
      assert.ok(e.relError < 1e-5, `${m.name} ${e.name}: relative error ${e.relError} (start ${e.start}, true ${e.nominal})`);
    }
  }
});

test('identifiability flags two parameters that enter only as a product, and bounds the rest', () => {
  // dx/dt = −a·b·x + c: only a·b is determined; a/b is not.
  const prod = defineOdeModel({
    name: 'product',
    states: ['x'],
    parameters: [param('a', 2, false), param('b', 0.5, false), param('c', 0.3, false)],
    rhs: (ar, _t, [x], [a, b, c]) => [ar.add(ar.neg(ar.mul(ar.mul(a!, b!), x!)), c!)],
    initialState: [3],
    tspan: [0, 5],
  });
  const d = synthesize(prod, { count: 20, noise: { kind: 'additive', level: 0.05 }, seed: 2 });
  const id = identifiability(prod, d);
  assert.equal(id.nonIdentifiable.length, 1);
  const combo = id.nonIdentifiable[0]!;
  assert.ok(combo.relEigenvalue < 1e-10, `λ/λmax ${combo.relEigenvalue}`);
  const w = Object.fromEntries(combo.weights.map((x) => [x.name, x.weight]));
  assert.ok(Math.abs(Math.abs(w['a']!) - Math.SQRT1_2) < 1e-6 && Math.abs(w['a']! + w['b']!) < 1e-6 && Math.abs(w['c']!) < 1e-6, JSON.stringify(w));
  assert.match(combo.expression, /^a\^-?1 · b\^-?1$/);
  assert.match(id.summary, /not identifiable/);
  const byName = Object.fromEntries(id.parameters.map((p) => [p.name, p]));
  assert.equal(byName['a']!.identifiable, false);
  assert.equal(byName['b']!.sd, Infinity);
  assert.equal(byName['c']!.identifiable, true);
  assert.ok(Number.isFinite(byName['c']!.sd) && byName['c']!.sd > 0);

  // Reparametrised with k = a·b, everything is identifiable and the bound on k is consistent:
  // the information about k equals the information along the product direction.
  const prodK = defineOdeModel({
    name: 'product-k',
    states: ['x'],
    parameters: [param('k', 1, false), param('c', 0.3, false)],
    rhs: (ar, _t, [x], [k, c]) => [ar.add(ar.neg(ar.mul(k!, x!)), c!)],
    initialState: [3],
    tspan: [0, 5],
  });
  const idK = identifiability(prodK, d);
  assert.equal(idK.nonIdentifiable.length, 0);
  assert.ok(Math.abs(idK.parameters[1]!.sd - byName['c']!.sd) < 1e-9 * byName['c']!.sd, 'c is bounded the same in both parametrisations');
});

test('Cramér–Rao bound matches the Monte Carlo spread of least-squares estimates (linear-regime case)', () => {
  // y' = −k·y observed with 2 % additive noise at 15 times: the estimator of k is nearly
  // linear, so its sd over 60 seeds should be the CR bound within sampling error
  // (the sd of a sample sd from 60 draws is ≈ 1/√(2·59) ≈ 9 %; allow 30 %).
  const m = defineOdeModel({ name: 'decay', states: ['y'], parameters: [param('k', 0.3, false)], rhs: (ar, _t, [y], [k]) => [ar.neg(ar.mul(k!, y!))], initialState: [5], tspan: [0, 10] });
  const bound = identifiability(m, synthesize(m, { count: 15, noise: { kind: 'additive', level: 0.02 }, seed: 0 })).parameters[0]!.sd;
  const est: number[] = [];
  for (let s = 1; s <= 60; s++) {
    const d = synthesize(m, { count: 15, noise: { kind: 'additive', level: 0.02 }, seed: s });
    // The same σ for every seed (the bound's σ uses the noise-free column's sd).
    est.push(fitLeastSquares(m, d, { seed: s, stages: [1] }).params[0]!);
  }
  const mean = est.reduce((a, b) => a + b, 0) / est.length;
  const sd = Math.sqrt(est.reduce((a, b) => a + (b - mean) ** 2, 0) / (est.length - 1));
  assert.ok(Math.abs(sd / bound - 1) < 0.3, `Monte Carlo sd ${sd} vs Cramér–Rao ${bound}`);
  assert.ok(Math.abs(mean - 0.3) < 4 * bound / Math.sqrt(60), `mean ${mean}`);
});

test('loss profiles: lowest at the estimate, rising on both sides; flat along a product-only parameter', () => {
  const m = defineOdeModel({
    name: 'decay2', states: ['y'], parameters: [param('k', 0.3, false), param('y0', 1, true), param('c', 0.1, false)],
    rhs: (ar, _t, [y], [k, _y0, c]) => [ar.add(ar.neg(ar.mul(k!, y!)), c!)], initialState: [5], tspan: [0, 10],
  });
  const d = synthesize(m, { count: 15, noise: { kind: 'additive', level: 0.02 }, seed: 3 });
  const f = fitLeastSquares(m, d, { seed: 3, stages: [1] });
  const id = identifiability(m, d, { params: f.params, profile: { points: 5, span: Math.log(1.3) } });
  for (const pr of id.profiles!) {
    assert.equal(pr.values.length, 5);
    assert.ok(Math.abs(pr.values[2]! - f.params[pr.index]!) < 1e-12 * f.params[pr.index]!);
    assert.ok(Math.abs(pr.loss[2]! - f.cost) < 1e-6 * Math.max(1, f.cost), `${pr.name}: centre ${pr.loss[2]} vs fit ${f.cost}`);
    for (let q = 0; q < 2; q++) assert.ok(pr.loss[q]! > pr.loss[q + 1]! && pr.loss[4 - q]! > pr.loss[3 - q]!, `${pr.name}: ${Array.from(pr.loss)}`);
  }
  const prod = defineOdeModel({
    name: 'product', states: ['x'], parameters: [param('a', 2, false), param('b', 0.5, false)],
    rhs: (ar, _t, [x], [a, b]) => [ar.neg(ar.mul(ar.mul(a!, b!), x!))], initialState: [3], tspan: [0, 5],
  });
  const dp = synthesize(prod, { count: 10, noise: { kind: 'additive', level: 0.05 }, seed: 1 });
  const fp = fitLeastSquares(prod, dp, { seed: 1, stages: [1] });
  const idp = identifiability(prod, dp, { params: fp.params, profile: { points: 3, span: Math.log(1.5) } });
  for (const pr of idp.profiles!) {
    // Re-fitting b absorbs any change of a (and vice versa): the profile is flat.
    assert.ok(Math.max(...pr.loss) - Math.min(...pr.loss) < 1e-6 * Math.max(1, fp.cost), `${pr.name}: ${Array.from(pr.loss)}`);
  }
});

test('fitLeastSquares: named errors on bad data', () => {
  const d = synthesize(kuznetsov, { count: 5 });
  assert.throws(() => fitLeastSquares(kuznetsov, { ...d, values: d.values.subarray(0, 3) }), FimkitError);
  assert.throws(() => fitLeastSquares(kuznetsov, { ...d, observed: [0, 7] }), FimkitError);
  assert.throws(() => fitLeastSquares(kuznetsov, d, { stages: [0.5] }), /ending with 1/);
  assert.ok(unknownIndices(kuznetsov).length === 5 && solveOde(kuznetsov, { times: d.times }).states.length === 10);
});
