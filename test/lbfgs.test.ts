import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor } from '../src/core/tensor.js';
import { FimkitError } from '../src/core/errors.js';
import * as F from '../src/autodiff/ops.js';
import { grad } from '../src/autodiff/grad.js';
import { Lbfgs, minimizeLbfgs } from '../src/optim/index.js';
import { Rng } from '../src/core/rng.js';

function param(values: number[], dtype: 'float32' | 'float64' = 'float64'): Tensor {
  return Tensor.param(Tensor.from(values, [values.length], dtype).data, [values.length]);
}

/** Rosenbrock in n dimensions, Σ 100(x_{i+1} − x_i²)² + (1 − x_i)², gradient written out by hand. */
function rosenbrock(x: Tensor): { value: number; grads: Tensor[] } {
  const d = x.data;
  const n = d.length;
  let f = 0;
  const g = new Float64Array(n);
  for (let i = 0; i + 1 < n; i++) {
    const a = d[i + 1]! - d[i]! * d[i]!;
    const b = 1 - d[i]!;
    f += 100 * a * a + b * b;
    g[i]! += -400 * d[i]! * a - 2 * b;
    g[i + 1]! += 200 * a;
  }
  return { value: f, grads: [new Tensor(x.dtype === 'float64' ? g : Float32Array.from(g), x.shape)] };
}

test('L-BFGS reaches the Rosenbrock minimum (1, 1) from (−1.2, 1)', () => {
  const x = param([-1.2, 1]);
  const r = minimizeLbfgs([x], () => rosenbrock(x), { maxIter: 200, gradTol: 1e-10 });
  assert.equal(r.reason, 'grad-tol', `stopped by ${r.reason} after ${r.iterations} iterations`);
  assert.ok(Math.abs(x.data[0]! - 1) < 1e-8 && Math.abs(x.data[1]! - 1) < 1e-8, `x = ${x.toArray()}`);
  assert.ok(r.iterations < 100, `${r.iterations} iterations`);
  // The line search keeps evaluations near one per iteration once curvature is learnt.
  assert.ok(r.evaluations < 3 * r.iterations, `${r.evaluations} evaluations for ${r.iterations} iterations`);
});

test('L-BFGS on the 20-dimensional Rosenbrock function from the standard start', () => {
  const start = Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? -1.2 : 1));
  const x = param(start);
  const r = minimizeLbfgs([x], () => rosenbrock(x), { maxIter: 1000, gradTol: 1e-9, history: 7 });
  assert.equal(r.reason, 'grad-tol');
  for (const v of x.data) assert.ok(Math.abs(v - 1) < 1e-7, `x = ${x.toArray()}`);
});

test('L-BFGS solves a convex quadratic ½xᵀAx − bᵀx (A SPD) to its known solution, objective through autodiff', () => {
  const n = 12;
  const rng = new Rng(3);
  // A = QᵀQ + I, solved independently by Gaussian elimination.
  const q = new Float64Array(n * n);
  rng.fillNormal(q, 0, 1);
  const A = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
    let s = i === j ? 1 : 0;
    for (let k = 0; k < n; k++) s += q[k * n + i]! * q[k * n + j]!;
    A[i * n + j] = s;
  }
  const b = new Float64Array(n);
  rng.fillNormal(b, 0, 1);
  const M = Array.from({ length: n }, (_, i) => [...A.subarray(i * n, i * n + n), b[i]!]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(M[r]![c]!) > Math.abs(M[p]![c]!)) p = r;
    [M[c], M[p]] = [M[p]!, M[c]!];
    for (let r = 0; r < n; r++) if (r !== c) {
      const k = M[r]![c]! / M[c]![c]!;
      for (let j = c; j <= n; j++) M[r]![j]! -= k * M[c]![j]!;
    }
  }
  const solution = M.map((row, i) => row[n]! / row[i]!);

  const At = new Tensor(A, [n, n]);
  const bt = new Tensor(b, [n, 1]);
  const x = Tensor.param(new Float64Array(n), [n, 1]);
  const objective = (): { value: number; grads: Tensor[] } => {
    const f = F.sub(F.scale(F.sum(F.mul(x, F.matmul(At, x))), 0.5), F.sum(F.mul(bt, x)));
    return { value: f.item(), grads: grad(f, [x]) };
  };
  // ‖g‖∞ ≤ 1e-7 is near what float64 function values can resolve here (the predicted decrease
  // g²/λ is ~1e-15 of f); A ⪰ I bounds the error of x by ‖g‖₂.
  const r = minimizeLbfgs([x], objective, { gradTol: 1e-7, maxIter: 200, history: 20 });
  assert.equal(r.reason, 'grad-tol');
  solution.forEach((s, i) => assert.ok(Math.abs(x.data[i]! - s) < 4e-7, `x[${i}] = ${x.data[i]} vs ${s}`));
  // With a history as long as the dimension, L-BFGS on a quadratic with exact-ish line searches
  // behaves like conjugate gradients: far fewer iterations than a first-order method.
  assert.ok(r.iterations <= 3 * n, `${r.iterations} iterations`);
});

test('L-BFGS works on several float32 parameter tensors and leaves them at the iterate', () => {
  const a = param([3, -2], 'float32');
  const b = param([0.5], 'float32');
  // f = (a0 − 1)² + 2(a1 + 1)² + 3(b0 − 0.25)²
  const obj = (): { value: number; grads: Tensor[] } => {
    const [a0, a1] = a.data as unknown as number[];
    const b0 = b.data[0]!;
    return {
      value: (a0! - 1) ** 2 + 2 * (a1! + 1) ** 2 + 3 * (b0 - 0.25) ** 2,
      grads: [Tensor.from([2 * (a0! - 1), 4 * (a1! + 1)], [2], 'float32'), Tensor.from([6 * (b0 - 0.25)], [1], 'float32')],
    };
  };
  const r = minimizeLbfgs([a, b], obj, { gradTol: 1e-5 });
  assert.ok(r.value < 1e-9, `value ${r.value}`);
  assert.ok(Math.abs(a.data[0]! - 1) < 1e-5 && Math.abs(a.data[1]! + 1) < 1e-5 && Math.abs(b.data[0]! - 0.25) < 1e-5);
});

test('L-BFGS terminates on hostile objectives: a non-smooth kink, a function unbounded below, NaN', () => {
  // |x| has no curvature; the run must end by a named rule, never hang.
  const x = param([0.7]);
  const r1 = minimizeLbfgs([x], () => ({ value: Math.abs(x.data[0]!), grads: [Tensor.from([Math.sign(x.data[0]!)], [1], 'float64')] }), { maxIter: 50 });
  assert.ok(['line-search-failed', 'step-tol', 'f-tol', 'max-iter', 'grad-tol', 'max-evals'].includes(r1.reason));
  assert.ok(Math.abs(x.data[0]!) < 0.7);
  // Linear: unbounded below; the bracketing phase is capped, the evaluation budget ends the run.
  const y = param([0]);
  const r2 = minimizeLbfgs([y], () => ({ value: -y.data[0]!, grads: [Tensor.from([-1], [1], 'float64')] }), { maxIter: 20, maxEvals: 200 });
  assert.ok(r2.evaluations <= 200);
  assert.ok(['max-iter', 'max-evals', 'line-search-failed'].includes(r2.reason), r2.reason);
  // NaN everywhere but the start: no Armijo point exists, the run stops with a reason.
  const z = param([1]);
  let first = true;
  const r3 = minimizeLbfgs([z], () => {
    const v = first ? 1 : NaN;
    first = false;
    return { value: v, grads: [Tensor.from([1], [1], 'float64')] };
  });
  assert.equal(r3.reason, 'line-search-failed');
  assert.equal(z.data[0], 1, 'parameters restored to the last accepted iterate');
});

test('L-BFGS options are validated with named errors', () => {
  const x = param([1]);
  const f = (): { value: number; grads: Tensor[] } => ({ value: 0, grads: [x] });
  assert.throws(() => new Lbfgs([x], f, { history: 0 }), FimkitError);
  assert.throws(() => new Lbfgs([x], f, { c1: 0.9, c2: 0.1 }), /c1 < c2/);
  assert.throws(() => new Lbfgs([], f), /at least one parameter/);
});
