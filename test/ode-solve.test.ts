// ODE solvers: closed forms, published stiff problems against scipy Radau references
// (test/fixtures/ode-reference.json, made by scripts/fixtures/ode/reference.py), the regime facts
// of the three tumour–immune models, and the named errors on bad input.
//
// Error reached per tolerance (max over the reference times of |y − y_ref|/|y_ref|, every
// component; rtol as given, atol ≪ the smallest component; measured when this file was written):
//   problem                    solver   rtol=1e-4  1e-6     1e-8     1e-10   (accepted steps at 1e-8)
//   Robertson, t ≤ 4e4         rodas    5.8e-5     2.6e-6   1.0e-7   3.0e-9  (760)
//   Van der Pol μ=1000, t≤3000 rodas    4.7e-3     2.4e-5   2.8e-7   3.0e-9  (2897)
//   Kirschner–Panetta c=0.02   rodas    —          1.7e-5   1.3e-7   8.3e-10 (8924)
//   exp decay (abs. error)     dopri5   1e-3: 1.1e-3, 1e-6: 3.3e-7, 1e-9: 2.7e-10
//   harmonic oscillator        dopri5   1e-3: 2.2e-2, 1e-6: 1.3e-5, 1e-9: 1.1e-8
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  integrate, solveOde, linspace, kuznetsov, kirschnerPanetta, dePillis, getOdeModel, withParameters, param, checkModel,
  OdeStiffError, OdeNonFiniteError, OdeModelError, OdeDataError, OdeMaxStepsError, type OdeSystem, type OdeModel, type OdeMethod,
} from '../src/ode/index.js';
import { FimkitError } from '../src/core/errors.js';

interface RefProblem { times: number[]; y0: number[]; states: number[][] }
const ref = JSON.parse(readFileSync(new URL('../../test/fixtures/ode-reference.json', import.meta.url), 'utf8')) as Record<string, RefProblem>;

const decay: OdeSystem = { name: 'decay', n: 1, stiff: false, rhs: (ar, _t, y) => [ar.mul(ar.const(-0.7), y[0]!)] };
const oscillator: OdeSystem = { name: 'oscillator', n: 2, stiff: false, rhs: (ar, _t, y) => [y[1]!, ar.neg(ar.mul(ar.const(4), y[0]!))] };
const robertson: OdeSystem = {
  name: 'robertson', n: 3, stiff: false,
  rhs: (ar, _t, y) => {
    const a = ar.mul(ar.const(0.04), y[0]!), b = ar.mul(ar.const(1e4), ar.mul(y[1]!, y[2]!)), c = ar.mul(ar.const(3e7), ar.mul(y[1]!, y[1]!));
    return [ar.sub(b, a), ar.sub(ar.sub(a, b), c), c];
  },
};
const vdp1000: OdeSystem = {
  name: 'van der pol', n: 2, stiff: false,
  rhs: (ar, _t, y) => [y[1]!, ar.sub(ar.mul(ar.mul(ar.const(1000), ar.sub(ar.const(1), ar.mul(y[0]!, y[0]!))), y[1]!), y[0]!)],
};
// A time-dependent right-hand side, to exercise ∂f/∂t in the Rosenbrock stages: y' = −y + t.
const forced: OdeSystem = { name: 'forced', n: 1, stiff: false, rhs: (ar, t, y) => [ar.add(ar.neg(y[0]!), t)] };

function maxRelErr(y: Float64Array, states: number[][], n: number): number {
  let e = 0;
  states.forEach((row, i) => row.forEach((v, j) => { e = Math.max(e, Math.abs(y[i * n + j]! - v) / Math.abs(v)); }));
  return e;
}

for (const method of ['dopri5', 'rodas'] as OdeMethod[]) {
  test(`${method}: exponential decay and the harmonic oscillator match their closed forms, error falling with the tolerance`, () => {
    const times = linspace(0, 5, 11); // off-step output times: the dense output is tested too
    let prev = Infinity;
    for (const tol of [1e-4, 1e-7, 1e-10]) {
      const r = integrate(decay, method, Float64Array.of(2), 0, times, { rtol: tol, atol: tol });
      let e = 0;
      times.forEach((t, i) => { e = Math.max(e, Math.abs(r.y[i]! - 2 * Math.exp(-0.7 * t))); });
      assert.ok(e < 20 * tol, `decay ${method} tol ${tol}: error ${e}`);
      assert.ok(e < prev, 'error decreases with the tolerance');
      prev = e;
    }
    const tt = linspace(0, 10, 37);
    prev = Infinity;
    for (const tol of [1e-4, 1e-7, 1e-10]) {
      const r = integrate(oscillator, method, Float64Array.of(1, 0), 0, tt, { rtol: tol, atol: tol });
      let e = 0;
      tt.forEach((t, i) => {
        e = Math.max(e, Math.abs(r.y[2 * i]! - Math.cos(2 * t)), Math.abs(r.y[2 * i + 1]! + 2 * Math.sin(2 * t)));
      });
      assert.ok(e < 100 * tol, `oscillator ${method} tol ${tol}: error ${e}`);
      assert.ok(e < prev);
      prev = e;
    }
  });

  test(`${method}: a time-dependent right-hand side y' = −y + t matches y = t − 1 + 2e^{−t}`, () => {
    const times = linspace(0, 4, 9);
    const r = integrate(forced, method, Float64Array.of(1), 0, times, { rtol: 1e-9, atol: 1e-12 });
    times.forEach((t, i) => assert.ok(Math.abs(r.y[i]! - (t - 1 + 2 * Math.exp(-t))) < 1e-8, `t=${t}: ${r.y[i]}`));
  });
}

test('rodas on Robertson (t to 4e4) and Van der Pol μ = 1000 reaches the scipy Radau reference at each tolerance', () => {
  const rob = ref['robertson']!;
  const vdp = ref['vanderpol1000']!;
  // Bounds: a small multiple of the tolerance (the table at the top has the measured figures).
  for (const [tol, bound] of [[1e-4, 1e-3], [1e-6, 2e-5], [1e-8, 1e-6]] as const) {
    const r = integrate(robertson, 'rodas', Float64Array.from(rob.y0), 0, Float64Array.from(rob.times), { rtol: tol, atol: Float64Array.of(tol * 1e-6, tol * 1e-10, tol * 1e-6) });
    const e = maxRelErr(r.y, rob.states, 3);
    assert.ok(e < bound, `Robertson rtol ${tol}: relative error ${e}`);
  }
  for (const [tol, bound] of [[1e-4, 2e-2], [1e-6, 2e-4], [1e-8, 2e-6]] as const) {
    const r = integrate(vdp1000, 'rodas', Float64Array.from(vdp.y0), 0, Float64Array.from(vdp.times), { rtol: tol, atol: tol });
    const e = maxRelErr(r.y, vdp.states, 2);
    assert.ok(e < bound, `Van der Pol rtol ${tol}: relative error ${e}`);
  }
});

test('dopri5 refuses stiff problems with OdeStiffError (detected on Robertson and Van der Pol, flagged on Kirschner–Panetta), auto switches', () => {
  for (const sys of [robertson, vdp1000]) {
    const t0 = Date.now();
    assert.throws(() => integrate(sys, 'dopri5', sys === robertson ? Float64Array.of(1, 0, 0) : Float64Array.of(2, 0), 0, Float64Array.of(1000), { rtol: 1e-6, atol: 1e-10 }),
      (e: unknown) => e instanceof OdeStiffError && e instanceof FimkitError && /rodas/.test(e.message));
    assert.ok(Date.now() - t0 < 2000, 'fails fast, not after a crawl');
  }
  assert.throws(() => solveOde(kirschnerPanetta, { method: 'dopri5', times: Float64Array.of(10) }), OdeStiffError);
  const r = integrate(robertson, 'auto', Float64Array.of(1, 0, 0), 0, Float64Array.of(40), { rtol: 1e-6, atol: 1e-12 });
  assert.equal(r.stats.method, 'rodas');
  assert.equal(r.stats.switchedToStiff, true);
  assert.ok(Math.abs(r.y[0]! - ref['robertson']!.states[2]![0]!) < 1e-4);
});

test('Kirschner–Panetta (stiff, T over nine decades) matches the scipy Radau reference', () => {
  const kp = ref['kirschner-panetta']!;
  const r = solveOde(kirschnerPanetta, { times: Float64Array.from(kp.times), rtol: 1e-8 });
  assert.equal(r.stats.method, 'rodas');
  assert.ok(maxRelErr(r.states, kp.states, 3) < 1e-5, `error ${maxRelErr(r.states, kp.states, 3)}`);
});

test('regime M1: Kuznetsov from (1, 1) spirals into the dormant equilibrium (1.609, 8.190) by τ = 200', () => {
  const r = solveOde(kuznetsov, { times: linspace(0, 200, 401), rtol: 1e-8 });
  const last = 400 * 2;
  assert.ok(Math.abs(r.states[last]! - 1.609) < 1e-2 && Math.abs(r.states[last + 1]! - 8.190) < 1e-2, `end ${r.states[last]}, ${r.states[last + 1]}`);
  // Damped oscillation: y overshoots the equilibrium at least twice before settling.
  let crossings = 0;
  for (let i = 1; i <= 400; i++) if ((r.states[2 * i + 1]! - 8.19) * (r.states[2 * i - 1]! - 8.19) < 0) crossings++;
  assert.ok(crossings >= 2, `crossings ${crossings}`);
  // The equilibrium is a root of the right-hand side.
  const f = kuznetsov.rhs({ const: (c) => c, add: (a, b) => a + b, sub: (a, b) => a - b, mul: (a, b) => a * b, div: (a, b) => a / b, neg: (a) => -a, powc: Math.pow, exp: Math.exp, log: Math.log },
    0, [r.states[last]!, r.states[last + 1]!], kuznetsov.parameters.map((p) => p.value));
  assert.ok(Math.abs(f[0]!) < 1e-4 && Math.abs(f[1]!) < 1e-3);
});

test('regime M2: Kirschner–Panetta at c = 0.02 has a limit cycle with T_max ≈ 3.76e5 from two initial states; c = 0.04 settles', () => {
  const times = linspace(0, 1500, 1501);
  const tmax: number[] = [];
  for (const u0 of [Float64Array.of(1, 1, 1), Float64Array.of(1e4, 1e4, 1e3)]) {
    const r = solveOde(kirschnerPanetta, { times, u0, rtol: 1e-7 });
    let mx = 0, mn = Infinity;
    for (let i = 700; i <= 1500; i++) { mx = Math.max(mx, r.states[3 * i + 1]!); mn = Math.min(mn, r.states[3 * i + 1]!); }
    assert.ok(mx / mn > 1e8, `T spans ${mx} / ${mn}`);
    tmax.push(mx);
  }
  for (const m of tmax) assert.ok(Math.abs(m - 3.76e5) / 3.76e5 < 0.01, `T_max ${m}`);
  // c = 0.04: damped oscillation into the steady state T ≈ 1.56e4 (the swing shrinks window by window).
  const m04 = withParameters(kirschnerPanetta, { c: { value: 0.04 } });
  const swing = (a: number, b: number): [number, number] => {
    const r = solveOde(m04, { times: linspace(a, b, 101), t0: 0, rtol: 1e-7 });
    let mx = 0, mn = Infinity;
    for (let i = 0; i <= 100; i++) { mx = Math.max(mx, r.states[3 * i + 1]!); mn = Math.min(mn, r.states[3 * i + 1]!); }
    return [mn, mx];
  };
  const [a0, a1] = swing(2000, 2500);
  const [b0, b1] = swing(3000, 4000);
  assert.ok(b1 - b0 < 0.2 * (a1 - a0), `swing ${a1 - a0} then ${b1 - b0}`);
  assert.ok(b1 / b0 < 1.002 && Math.abs(b1 - 1.56e4) / 1.56e4 < 0.01, `c = 0.04: T in [${b0}, ${b1}]`);
});

test('regime M3: de Pillis–Radunskaya is bistable (two initial states, two equilibria)', () => {
  const a = solveOde(dePillis, { times: Float64Array.of(150), rtol: 1e-9 });
  const b = solveOde(dePillis, { times: Float64Array.of(150), rtol: 1e-9, u0: Float64Array.of(1, 0.1, 0.15) });
  assert.ok(a.states[1]! > 0.5, `coexistence T ${a.states[1]}`);
  assert.ok(Math.abs(a.states[0]! - 0.44) < 0.02 && Math.abs(a.states[2]! - 0.44) < 0.02, `coexistence ${Array.from(a.states)}`);
  assert.ok(b.states[1]! < 1e-6 && Math.abs(b.states[0]! - 1) < 1e-6 && Math.abs(b.states[2]! - 1.65) < 1e-4, `tumour-free ${Array.from(b.states)}`);
});

test('the registry, and named errors on bad input', () => {
  assert.equal(getOdeModel('kuznetsov'), kuznetsov);
  assert.equal(getOdeModel('kirschner-panetta'), kirschnerPanetta);
  assert.equal(getOdeModel('depillis'), dePillis);
  assert.throws(() => getOdeModel('lotka'), (e: unknown) => e instanceof OdeModelError && /kuznetsov/.test(e.message));
  // bounds lo ≥ hi
  assert.throws(() => param('k', 1, false, { lo: 2, hi: 2 }) && checkModel({ ...kuznetsov, parameters: [...kuznetsov.parameters, param('k', 1, false, { lo: 2, hi: 2 })] }),
    (e: unknown) => e instanceof OdeModelError && /lo = 2 ≥ hi = 2/.test(e.message));
  assert.throws(() => withParameters(kuznetsov, { rho: { lo: 5, hi: 1 } }), OdeModelError);
  // a right-hand side returning NaN
  const nanModel: OdeModel = { ...kuznetsov, name: 'nan', rhs: (ar, _t, u) => [ar.div(ar.const(0), ar.const(0)), u[1]!] };
  for (const method of ['dopri5', 'rodas'] as OdeMethod[]) {
    assert.throws(() => solveOde(nanModel, { method, times: Float64Array.of(1) }), (e: unknown) => e instanceof OdeNonFiniteError && /NaN/.test(e.message));
  }
  // NaN only beyond a threshold the solution crosses: step reductions, then a named error (not a hang)
  const wall: OdeSystem = { name: 'wall', n: 1, stiff: false, rhs: (ar, t) => [ar.log(ar.sub(ar.const(2), t))] };
  for (const method of ['dopri5', 'rodas'] as OdeMethod[]) {
    assert.throws(() => integrate(wall, method, Float64Array.of(0), 0, Float64Array.of(10)), (e: unknown) => e instanceof FimkitError && e.code === 'NON_FINITE' && /t = 1\.99/.test(e.message));
  }
  // times before t0 / decreasing
  assert.throws(() => solveOde(kuznetsov, { times: Float64Array.of(-1, 2) }), (e: unknown) => e instanceof OdeDataError && e.problem === 'negative-time');
  assert.throws(() => solveOde(kuznetsov, { times: Float64Array.of(2, 1) }), (e: unknown) => e instanceof OdeDataError && e.problem === 'non-monotone');
  assert.throws(() => solveOde(kuznetsov, { times: Float64Array.of(100), maxSteps: 5 }), OdeMaxStepsError);
  assert.throws(() => solveOde(kuznetsov, { times: Float64Array.of(1), params: Float64Array.of(1) }), OdeModelError);
});
