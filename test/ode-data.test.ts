// Forward sensitivities against finite differences, synthetic data (sampling, noise statistics,
// seeding) and CSV parsing with its named errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  solveOde, linspace, trueParams, kuznetsov, kirschnerPanetta, dePillis, synthesize, parseObservedCsv, observedToCsv,
  OdeDataError, type OdeModel,
} from '../src/ode/index.js';

function fdCheck(m: OdeModel, T: number, tol: number, nt: number, wrt?: string[]): number {
  const times = linspace(0, T, nt);
  const idx = wrt?.map((w) => m.parameters.findIndex((p) => p.name === w));
  const s = solveOde(m, { times, rtol: tol, sensitivities: idx ?? 'unknown' });
  const n = m.states.length, np = s.sensitivityParams!.length;
  const p = trueParams(m);
  let worst = 0;
  s.sensitivityParams!.forEach((j, k) => {
    const h = 1e-5 * Math.abs(p[j]!);
    const pp = p.slice(); pp[j]! += h;
    const pm = p.slice(); pm[j]! -= h;
    const a = solveOde(m, { times, rtol: 1e-11, params: pp }).states;
    const b = solveOde(m, { times, rtol: 1e-11, params: pm }).states;
    for (let i = 0; i < n; i++) {
      let mx = 0, e = 0;
      for (let it = 0; it < nt; it++) {
        const fd = (a[it * n + i]! - b[it * n + i]!) / (2 * h);
        mx = Math.max(mx, Math.abs(fd));
        e = Math.max(e, Math.abs(fd - s.sensitivities![(it * n + i) * np + k]!));
      }
      worst = Math.max(worst, e / mx);
    }
  });
  return worst;
}

test('forward sensitivities ∂u/∂p (variational equations) match central finite differences on the three models', () => {
  // dopri5 on M1 and M3; rodas on M2, whose variational Jacobian comes from duals over duals.
  const m1 = fdCheck(kuznetsov, 60, 1e-10, 13);
  const m3 = fdCheck(dePillis, 30, 1e-10, 13);
  // Three of M2's parameters (one per equation) keep the reference solves affordable.
  // Over 300 days: early on, the IL-2 terms' sensitivities are so small that the differences lose
  // them to rounding.
  const m2 = fdCheck(kirschnerPanetta, 300, 1e-8, 5, ['c', 'p1', 'mu3']);
  assert.ok(m1 < 1e-6, `M1 ${m1}`);
  assert.ok(m3 < 1e-6, `M3 ${m3}`);
  assert.ok(m2 < 1e-4, `M2 ${m2}`);
});

test('synthesize: uniform and random sampling, observed subsets, seeded noise with the requested statistics', () => {
  const d = synthesize(kuznetsov, { count: 21, observed: ['y'], seed: 3 });
  assert.equal(d.times.length, 21);
  assert.equal(d.times[0], 0);
  assert.equal(d.times[20], 100);
  assert.deepEqual(d.observed, [1]);
  assert.deepEqual(Array.from(d.values), Array.from(d.clean)); // no noise by default
  const exact = solveOde(kuznetsov, { times: d.times, rtol: 1e-12 });
  for (let i = 0; i < 21; i++) assert.ok(Math.abs(d.clean[i]! - exact.states[2 * i + 1]!) < 1e-7 * Math.abs(exact.states[2 * i + 1]!));

  const r = synthesize(dePillis, { count: 12, spacing: 'random', seed: 'a' });
  assert.equal(r.times[0], 0);
  assert.equal(r.times[11], dePillis.tspan[1]);
  for (let i = 1; i < 12; i++) assert.ok(r.times[i]! > r.times[i - 1]!);
  const r2 = synthesize(dePillis, { count: 12, spacing: 'random', seed: 'a' });
  assert.deepEqual(Array.from(r2.times), Array.from(r.times));
  const r3 = synthesize(dePillis, { count: 12, spacing: 'random', seed: 'b' });
  assert.notDeepEqual(Array.from(r3.times), Array.from(r.times));

  // Multiplicative: (obs/clean − 1)/level ~ N(0, 1). 400 times × 2 states = 800 draws: the
  // sample mean has sd 1/√800 ≈ 0.035 and the sample variance sd √(2/799) ≈ 0.05; bounds at 4 sd.
  const level = 0.05;
  const mult = synthesize(kuznetsov, { count: 400, noise: { kind: 'multiplicative', level }, seed: 7 });
  const z = Array.from(mult.values, (v, i) => (v / mult.clean[i]! - 1) / level);
  const mean = z.reduce((a, b) => a + b, 0) / z.length;
  const v = z.reduce((a, b) => a + (b - mean) ** 2, 0) / (z.length - 1);
  assert.ok(Math.abs(mean) < 4 * 0.035, `mean ${mean}`);
  assert.ok(Math.abs(v - 1) < 4 * 0.05, `variance ${v}`);
  // Additive: residual sd = level × the column's sd.
  const add = synthesize(kuznetsov, { count: 400, noise: { kind: 'additive', level: 0.1 }, seed: 8 });
  assert.equal(add.noise!.kind, 'additive');
  for (let j = 0; j < 2; j++) {
    const sd = add.noise!.scale![j]!;
    let s2 = 0;
    for (let i = 0; i < 400; i++) s2 += (add.values[2 * i + j]! - add.clean[2 * i + j]!) ** 2;
    const ratio = Math.sqrt(s2 / 400) / (0.1 * sd);
    assert.ok(Math.abs(ratio - 1) < 4 * Math.sqrt(1 / 800), `additive column ${j}: ratio ${ratio}`);
  }
  assert.throws(() => synthesize(kuznetsov, { observed: ['z'] }), (e: unknown) => e instanceof OdeDataError && e.problem === 'missing-column');
  assert.throws(() => synthesize(kuznetsov, { times: Float64Array.of(-1, 2) }), (e: unknown) => e instanceof OdeDataError && e.problem === 'negative-time');
  assert.throws(() => synthesize(kuznetsov, { noise: { kind: 'additive', level: -1 } }), OdeDataError);
});

test('CSV: round trip, missing values, and named errors (negative or non-monotone times, missing columns)', () => {
  const d = synthesize(kirschnerPanetta, { count: 6, observed: ['T', 'E'], noise: { kind: 'multiplicative', level: 0.01 }, seed: 1 });
  const text = observedToCsv(kirschnerPanetta, d);
  const back = parseObservedCsv(text, kirschnerPanetta);
  assert.deepEqual(back.observed, [1, 0]);
  assert.deepEqual(Array.from(back.times), Array.from(d.times));
  assert.deepEqual(Array.from(back.values), Array.from(d.values));
  const gaps = parseObservedCsv('# measured\nTime,x,y\n0,1,1\n1.5,,2.5\n3,NA,4\n', kuznetsov);
  assert.deepEqual(Array.from(gaps.times), [0, 1.5, 3]);
  assert.ok(Number.isNaN(gaps.values[2]!) && Number.isNaN(gaps.values[4]!));
  assert.equal(gaps.values[3], 2.5);
  const bad = (text: string, problem: string, opts = {}): void =>
    assert.throws(() => parseObservedCsv(text, kuznetsov, opts), (e: unknown) => e instanceof OdeDataError && e.problem === problem);
  bad('t,x\n-1,2\n0,3\n', 'negative-time');
  bad('t,x\n0,2\n2,3\n1,4\n', 'non-monotone');
  bad('t,x\n0,2\n0,3\n', 'non-monotone');
  bad('x,y\n0,2\n', 'missing-column');
  bad('t,q\n0,2\n', 'missing-column');
  bad('t,x,q\n0,2,3\n', 'missing-column');
  bad('t,x\n0,2\n', 'missing-column', { require: ['y'] });
  bad('t,x\n0,abc\n', 'bad-value');
  bad('t,x\n0,1,2\n', 'bad-value');
  assert.deepEqual(parseObservedCsv('t,x,q\n0,2,3\n', kuznetsov, { ignoreExtra: true }).observed, [0]);
});
