import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor } from '../src/core/tensor.js';
import { Rng } from '../src/core/rng.js';
import { FimkitError } from '../src/core/errors.js';
import { valueAndGrad } from '../src/autodiff/grad.js';
import { numericalGradient } from '../src/autodiff/check.js';
import { noGrad } from '../src/autodiff/tape.js';
import { numberArith } from '../src/ode/arith.js';
import { ODE_MODELS } from '../src/ode/models/index.js';
import type { Arith, ObservedData, OdeModel } from '../src/ode/model.js';
import { tensorArith } from '../src/cbinn/arith.js';
import { BoundedParams } from '../src/cbinn/params.js';
import { Surrogate } from '../src/cbinn/surrogate.js';
import { CbinnProblem } from '../src/cbinn/problem.js';
import { trainCbinn } from '../src/cbinn/fit.js';

/** du/dt = −k·u: the simplest model with a closed-form solution, u = u0·exp(−k t). */
function decayModel(k = 0.7): OdeModel {
  return {
    name: 'decay',
    description: 'exponential decay',
    states: ['u'],
    parameters: [{ name: 'k', value: k, lo: 0.1, hi: 5, known: false }],
    rhs<T>(ar: Arith<T>, _t: T, u: readonly T[], p: readonly T[]): T[] {
      return [ar.neg(ar.mul(p[0]!, u[0]!))];
    },
    missing: [],
    initialState: Float64Array.of(1),
    tspan: [0, 5],
    scales: Float64Array.of(1),
    stiff: false,
  };
}

function decayData(k: number, n: number): ObservedData {
  const times = Float64Array.from({ length: n }, (_, i) => (5 * i) / (n - 1));
  return { times, observed: [0], values: Float64Array.from(times, (t) => Math.exp(-k * t)) };
}

test('tensorArith equals numberArith on every operation and on every registered model right-hand side', () => {
  const ta = tensorArith('float64');
  const xs = [0.3, 1.7, 2.5];
  const col = (v: number[]): Tensor => new Tensor(Float64Array.from(v), [v.length, 1]);
  const a = col(xs);
  const b = col([1.1, 0.4, 3.2]);
  const ops: [string, (ar: Arith<any>, x: any, y: any) => any][] = [
    ['add', (ar, x, y) => ar.add(x, y)],
    ['sub', (ar, x, y) => ar.sub(x, y)],
    ['mul', (ar, x, y) => ar.mul(x, y)],
    ['div', (ar, x, y) => ar.div(x, y)],
    ['neg', (ar, x) => ar.neg(x)],
    ['exp', (ar, x) => ar.exp(x)],
    ['log', (ar, x) => ar.log(x)],
    ['powc 2', (ar, x) => ar.powc(x, 2)],
    ['powc 3', (ar, x) => ar.powc(x, 3)],
    ['powc -2', (ar, x) => ar.powc(x, -2)],
    ['powc 0.5', (ar, x) => ar.powc(x, 0.5)],
    ['const broadcast', (ar, x) => ar.add(x, ar.const(2.5))],
  ];
  for (const [name, op] of ops) {
    const got = (op(ta, a, b) as Tensor).data;
    xs.forEach((x, i) => {
      const want = op(numberArith, x, [1.1, 0.4, 3.2][i]) as number;
      assert.ok(Math.abs(got[i]! - want) <= 1e-14 * Math.max(1, Math.abs(want)), `${name}[${i}]: ${got[i]} vs ${want}`);
    });
  }
  const rng = new Rng(5);
  for (const model of Object.values(ODE_MODELS)) {
    const S = model.states.length;
    const n = 4;
    const states = Array.from({ length: S }, (_, j) => Array.from({ length: n }, () => model.scales[j]! * (0.1 + rng.uniform())));
    const p = model.parameters.map((q) => q.value * (0.8 + 0.4 * rng.uniform()));
    const t = Array.from({ length: n }, (_, i) => i * 0.5);
    const ft = model.rhs(ta, col(t), states.map(col), p.map((v) => Tensor.scalar(v, 'float64')));
    for (let i = 0; i < n; i++) {
      const fn = model.rhs(numberArith, t[i]!, states.map((s) => s[i]!), p);
      for (let j = 0; j < S; j++) {
        const got = ft[j]!.size === 1 ? ft[j]!.data[0]! : ft[j]!.data[i]!;
        assert.ok(Math.abs(got - fn[j]!) <= 1e-12 * Math.max(1e-12, Math.abs(fn[j]!)), `${model.name} f_${j} at row ${i}: ${got} vs ${fn[j]}`);
      }
    }
  }
});

test('bounded parameters stay inside (lo, hi), map initial values back exactly, and reject lo ≥ hi', () => {
  const specs = [
    { name: 'a', value: 2, lo: 0.5, hi: 8, known: false },
    { name: 'b', value: -1, lo: -3, hi: 2, known: false },
  ];
  const bp = new BoundedParams(specs, { values: [3, 0.25] }, new Rng(0));
  const v = bp.values();
  assert.ok(Math.abs(v[0]! - 3) < 1e-9 && Math.abs(v[1]! - 0.25) < 1e-9, `values ${v}`);
  bp.raw[0]!.data[0] = 40;
  bp.raw[1]!.data[0] = -40;
  const w = bp.values();
  assert.ok(w[0]! <= 8 && w[0]! > 7.9 && w[1]! >= -3 && w[1]! < -2.9, `extremes ${w}`);
  const tens = bp.tensors().map((t) => t.item());
  assert.ok(Math.abs(tens[0]! - w[0]!) < 1e-12 && Math.abs(tens[1]! - w[1]!) < 1e-12);
  assert.throws(() => new BoundedParams([{ name: 'c', value: 1, lo: 2, hi: 2, known: false }], 'random', new Rng(0)), /lo = 2 ≥ hi = 2/);
  assert.throws(() => new BoundedParams(specs, { values: [10, 0] }, new Rng(0)), /not inside its bounds/);
});

test('surrogate dû/dt from reverse mode matches central differences of û(t), for both output transforms', () => {
  for (const output of ['scaled', 'log'] as const) {
    const s = new Surrogate(0, 10, Float64Array.of(1, 2), Float64Array.of(1, 5), { hidden: [8, 8], fourier: 2, output }, new Rng(2));
    const times = Float64Array.of(0.3, 2.2, 7.9);
    const { u, dudt } = s.predictWithDerivative(times);
    const h = 1e-5;
    const up = noGrad(() => s.predict(times.map((t) => t + h)));
    const um = noGrad(() => s.predict(times.map((t) => t - h)));
    for (let i = 0; i < u.size; i++) {
      const fd = (up.data[i]! - um.data[i]!) / (2 * h);
      assert.ok(Math.abs(dudt.data[i]! - fd) < 1e-7 * Math.max(1, Math.abs(fd)), `${output} [${i}]: ${dudt.data[i]} vs ${fd}`);
    }
    // The hard initial condition holds exactly.
    const u0 = s.predict(Float64Array.of(0));
    assert.ok(Math.abs(u0.data[0]! - 1) < 1e-15 && Math.abs(u0.data[1]! - 2) < 1e-14);
  }
});

test('the gradient of the CBINN loss (data + ODE residual + IC, missing-physics network included) matches finite differences', () => {
  const model = ODE_MODELS['kuznetsov']!;
  const times = Float64Array.of(0, 5, 12, 30, 60, 100);
  const values = Float64Array.from({ length: 12 }, (_, i) => (i % 2 === 0 ? 1 + 0.1 * i : 2 + i));
  const data: ObservedData = { times, observed: [0, 1], values };
  for (const missing of [null, 'recruitment']) {
    const pr = new CbinnProblem(model, data, {
      surrogate: { hidden: [5], fourier: 1, hardIc: false },
      missing,
      missingHidden: [4],
      collocation: 7,
      weights: { data: 1, ode: 0.7, ic: 1.3 },
      seed: 3,
    });
    const params = pr.trainables();
    const { grads } = valueAndGrad(() => pr.losses().total, params);
    params.forEach((p, k) => {
      const fd = numericalGradient(() => noGrad(() => pr.losses().total.item()), p.data, 1e-4);
      fd.forEach((g, i) => {
        const a = grads[k]!.data[i]!;
        assert.ok(Math.abs(a - g) <= 1e-6 * Math.max(1, Math.abs(g)), `missing=${missing} tensor ${k} (${p.name}) [${i}]: ${a} vs ${g}`);
      });
    });
  }
});

test('a missing term absorbs the parameters that enter only it (rho, eta) and holds those it confounds (mu, delta)', () => {
  const model = ODE_MODELS['kuznetsov']!;
  const data: ObservedData = { times: Float64Array.of(0, 50), observed: [0, 1], values: Float64Array.of(1, 1, 1.6, 8) };
  const pr = new CbinnProblem(model, data, { missing: 'recruitment', surrogate: { hidden: [4] } });
  assert.deepEqual(pr.absorbed.sort(), ['eta', 'rho']);
  // mu and delta enter only dx/dt, beside the learned term: confounded with N_ψ, held fixed.
  assert.deepEqual(pr.confounded.sort(), ['delta', 'mu']);
  assert.deepEqual(pr.params.names, ['alpha']);
  assert.throws(() => new CbinnProblem(model, data, { missing: 'nope' }), /declares no missing term 'nope'/);
  assert.throws(() => new CbinnProblem(model, { ...data, times: Float64Array.of(-1, 50) }), FimkitError);
});

test('a small CBINN fit of exponential decay recovers its rate within 1%', () => {
  const k = 0.7;
  const pr = new CbinnProblem(decayModel(k), decayData(k, 11), { surrogate: { hidden: [16, 16], fourier: 0 }, collocation: 32, seed: 1 });
  const start = pr.estimates()['k']!;
  assert.ok(Math.abs(start - k) / k > 0.1, `the start ${start} is already near the answer`);
  const r = trainCbinn(pr, { warmup: 100, adam: 400, lr: 1e-2, lbfgs: 100, logEvery: 100 });
  assert.equal(r.status, 'completed');
  const est = pr.estimates()['k']!;
  assert.ok(Math.abs(est - k) / k < 0.01, `k = ${est}`);
  const last = r.state.history.at(-1)!;
  assert.ok(last.total < r.state.history[1]!.total, 'the loss went down');
});
