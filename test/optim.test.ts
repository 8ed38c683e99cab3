import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor } from '../src/core/tensor.js';
import { FimkitError } from '../src/core/errors.js';
import type { DType } from '../src/core/dtype.js';
import * as F from '../src/autodiff/ops.js';
import { grad } from '../src/autodiff/grad.js';
import {
  Adam, AdamW, Sgd, makeOptimizer, makeSchedule, decodeFloatArray, encodeFloatArray,
  type Optimizer, type OptimizerState,
} from '../src/optim/index.js';
import { BACKENDS, forEachBackend } from './helpers.js';

function param(values: number[], dtype: DType = 'float64', name?: string): Tensor {
  return Tensor.param(Tensor.from(values, [values.length], dtype).data, [values.length], name);
}

function relErr(a: number, b: number): number {
  return Math.abs(a - b) / Math.max(1e-300, Math.abs(b));
}

/** 2×2 matrix power, by repeated squaring (independent of the optimiser's loop). */
function matPow(m: number[][], k: number): number[][] {
  const mul = (a: number[][], b: number[][]): number[][] => [
    [a[0]![0]! * b[0]![0]! + a[0]![1]! * b[1]![0]!, a[0]![0]! * b[0]![1]! + a[0]![1]! * b[1]![1]!],
    [a[1]![0]! * b[0]![0]! + a[1]![1]! * b[1]![0]!, a[1]![0]! * b[0]![1]! + a[1]![1]! * b[1]![1]!],
  ];
  let r = [[1, 0], [0, 1]];
  let p = m;
  for (let e = k; e > 0; e >>= 1) {
    if (e & 1) r = mul(r, p);
    p = mul(p, p);
  }
  return r;
}

// On f(θ) = ½·a·θ² (+ L2 λ/2·θ²) the gradient is (a + λ)θ, and SGD with momentum is a linear map
// of the state (θ, b). Heavy ball: b' = μb + cθ, θ' = θ − lr·b' = (1 − lr·c)θ − lr·μ·b.
// Nesterov: θ' = θ − lr(cθ + μb') = (1 − lr·c(1+μ))θ − lr·μ²·b. So (θ_k, b_k) = M^k (θ_0, 0).
test('SGD with momentum matches the closed-form linear recursion on a quadratic', () => {
  const cases = [
    { a: [0.5, 2, 7], lr: 0.05, mu: 0.9, nesterov: false, wd: 0 },
    { a: [0.5, 2, 7], lr: 0.05, mu: 0.9, nesterov: true, wd: 0 },
    { a: [1, 3, 0.2], lr: 0.1, mu: 0.5, nesterov: false, wd: 0.3 },
    { a: [1, 3, 0.2], lr: 0.1, mu: 0, nesterov: false, wd: 0.3 },
  ];
  const theta0 = [1.5, -0.7, 2.25];
  const K = 37;
  for (const c of cases) {
    const p = param(theta0);
    const opt = new Sgd({ lr: c.lr, momentum: c.mu, nesterov: c.nesterov, weightDecay: c.wd });
    for (let k = 0; k < K; k++) {
      const g = Tensor.from(p.toArray().map((t, i) => c.a[i]! * t), [3], 'float64');
      opt.step([p], [g]);
    }
    assert.equal(opt.stepCount, K);
    theta0.forEach((t0, i) => {
      const cc = c.a[i]! + c.wd;
      const M = c.nesterov
        ? [[1 - c.lr * cc * (1 + c.mu), -c.lr * c.mu * c.mu], [cc, c.mu]]
        : [[1 - c.lr * cc, -c.lr * c.mu], [cc, c.mu]];
      const expected = matPow(M, K)[0]![0]! * t0;
      assert.ok(relErr(p.data[i]!, expected) < 1e-12, `${JSON.stringify(c)} coord ${i}: ${p.data[i]} vs ${expected}`);
    });
  }
});

// Adam's first moments are exponentially weighted sums of the gradients; with bias correction,
// m̂_t = Σ β1^{t−i}(1−β1) g_i / (1 − β1^t), v̂_t likewise with g². Computed here as explicit sums
// (not the recursion) for a fixed gradient sequence that does not depend on θ.
function adamReference(theta0: number, gs: number[], lr: number, b1: number, b2: number, eps: number): number {
  let theta = theta0;
  for (let t = 1; t <= gs.length; t++) {
    let m = 0;
    let v = 0;
    for (let i = 1; i <= t; i++) {
      m += (1 - b1) * Math.pow(b1, t - i) * gs[i - 1]!;
      v += (1 - b2) * Math.pow(b2, t - i) * gs[i - 1]! ** 2;
    }
    theta -= (lr * (m / (1 - Math.pow(b1, t)))) / (Math.sqrt(v / (1 - Math.pow(b2, t))) + eps);
  }
  return theta;
}

test('Adam follows the bias-corrected moment sums on a known gradient sequence (every backend)', () => {
  const seqs = [
    [0.3, -1.2, 2.5, 0.01, -0.4, 0.9, 1.1, -2, 0.5, 0.05],
    [1e-4, 2e-4, -1e-4, 3e-4, 1e-4, 0, 5e-5, 1e-4, -2e-4, 1e-4],
    [50, 40, 60, -10, 45, 55, 50, 52, 48, 51],
  ];
  const lr = 0.01;
  forEachBackend((backend) => {
    for (const dtype of ['float64', 'float32'] as const) {
      const p = param(seqs.map((_, j) => 0.1 * (j + 1)), dtype);
      const opt = new Adam({ lr, beta1: 0.8, beta2: 0.95, eps: 1e-8 });
      for (let t = 0; t < seqs[0]!.length; t++) opt.step([p], [Tensor.from(seqs.map((s) => s[t]!), [seqs.length], dtype)]);
      seqs.forEach((s, j) => {
        const expected = adamReference(0.1 * (j + 1), s, lr, 0.8, 0.95, 1e-8);
        // float32: each of the ~10 steps rounds θ (|θ| ≤ 0.4) to 2^-24 relative and the moment
        // buffers to 6e-8 relative; the accumulated error stays well under 1e-5 of lr·steps.
        const tol = dtype === 'float64' ? 1e-12 : 1e-5;
        assert.ok(Math.abs(p.data[j]! - expected) < tol * Math.max(1, Math.abs(expected)), `${backend} ${dtype} seq ${j}: ${p.data[j]} vs ${expected}`);
      });
    }
  });
});

test('Adam bias correction: a constant gradient moves every coordinate by lr per step whatever its scale', () => {
  // m̂ = g and v̂ = g² exactly for a constant g, so each step is lr·g/(|g| + ε).
  forEachBackend((backend) => {
    const g = [1e-3, -5, 100, 0.25];
    const p = param([0, 0, 0, 0]);
    const lr = 0.02;
    const eps = 1e-8;
    const T = 6;
    const opt = new Adam({ lr, eps });
    for (let t = 0; t < T; t++) opt.step([p], [Tensor.from(g, [4], 'float64')]);
    g.forEach((gi, i) => {
      const expected = -T * lr * (gi / (Math.abs(gi) + eps));
      assert.ok(relErr(p.data[i]!, expected) < 1e-12, `${backend} coord ${i}: ${p.data[i]} vs ${expected}`);
    });
  });
});

test('AdamW decays weights multiplicatively; Adam folds its weight decay into the adaptive gradient', () => {
  forEachBackend((backend) => {
    // Zero data gradient: AdamW's moments stay 0, so θ_t = θ_0 (1 − lr·λ)^t exactly.
    const theta0 = [2, -0.5, 1e-3];
    const lr = 0.1;
    const wd = 0.2;
    const T = 5;
    const pw = param(theta0);
    const adamw = new AdamW({ lr, weightDecay: wd });
    for (let t = 0; t < T; t++) adamw.step([pw], [Tensor.from([0, 0, 0], [3], 'float64')]);
    theta0.forEach((t0, i) => assert.ok(relErr(pw.data[i]!, t0 * Math.pow(1 - lr * wd, T)) < 1e-12, `${backend} adamw coord ${i}`));

    // Adam with L2: the gradient is λθ, so the first step is lr·λθ/(λ|θ| + ε) ≈ lr·sign(θ),
    // independent of |θ| — the coupling the decoupled variant removes.
    const pa = param(theta0);
    const adam = new Adam({ lr, weightDecay: wd, eps: 1e-8 });
    adam.step([pa], [Tensor.from([0, 0, 0], [3], 'float64')]);
    theta0.forEach((t0, i) => {
      const expected = t0 - (lr * wd * t0) / (wd * Math.abs(t0) + 1e-8);
      assert.ok(relErr(pa.data[i]!, expected) < 1e-12, `${backend} adam+L2 coord ${i}: ${pa.data[i]} vs ${expected}`);
    });
  });
});

/** Least squares ½‖Xθ − y‖²/n: gradient by autodiff, minimiser by the normal equations. */
function leastSquares(): { X: Tensor; y: Tensor; solution: number[] } {
  const Xv = [
    [1, 0.5, -1], [1, -1.5, 0.3], [1, 2, 1], [1, 0.1, -0.4], [1, -0.7, 2], [1, 1.2, 0.8], [1, -2.1, -1.3], [1, 0.9, 0.1],
  ];
  const yv = [0.7, -2.2, 3.1, 0.2, 0.4, 1.9, -3.5, 1.3];
  // Normal equations XᵀX θ = Xᵀy, solved by Gaussian elimination with partial pivoting.
  const A = [0, 1, 2].map((i) => [0, 1, 2].map((j) => Xv.reduce((s, r) => s + r[i]! * r[j]!, 0)));
  const b = [0, 1, 2].map((i) => Xv.reduce((s, r, k) => s + r[i]! * yv[k]!, 0));
  for (let c = 0; c < 3; c++) {
    const piv = [c, c + 1, c + 2].filter((r) => r < 3).reduce((p, r) => (Math.abs(A[r]![c]!) > Math.abs(A[p]![c]!) ? r : p), c);
    [A[c], A[piv]] = [A[piv]!, A[c]!];
    [b[c], b[piv]] = [b[piv]!, b[c]!];
    for (let r = c + 1; r < 3; r++) {
      const f = A[r]![c]! / A[c]![c]!;
      for (let k = c; k < 3; k++) A[r]![k]! -= f * A[c]![k]!;
      b[r]! -= f * b[c]!;
    }
  }
  const sol = [0, 0, 0];
  for (let r = 2; r >= 0; r--) sol[r] = (b[r]! - [0, 1, 2].filter((k) => k > r).reduce((s, k) => s + A[r]![k]! * sol[k]!, 0)) / A[r]![r]!;
  return { X: Tensor.from(Xv.flat(), [8, 3], 'float64'), y: Tensor.from(yv, [8, 1], 'float64'), solution: sol };
}

test('SGD (Nesterov) and Adam (cosine schedule) converge to the least-squares solution', () => {
  const { X, y, solution } = leastSquares();
  const run = (opt: Optimizer, steps: number, schedule?: (s: number) => number): number[] => {
    const w = Tensor.param(new Float64Array(3), [3, 1], 'w');
    for (let s = 0; s < steps; s++) {
      if (schedule) opt.lr = schedule(s);
      const r = F.sub(F.matmul(X, w), y);
      const loss = F.scale(F.sum(F.square(r)), 0.5 / 8);
      opt.step([w], grad(loss, [w]));
    }
    return w.toArray();
  };
  const sgd = run(new Sgd({ lr: 0.2, momentum: 0.9, nesterov: true }), 600);
  const steps = 3000;
  const adam = run(new Adam({ lr: 0.05 }), steps, makeSchedule({ kind: 'cosine', lr: 0.05, totalSteps: steps }));
  solution.forEach((s, i) => {
    assert.ok(Math.abs(sgd[i]! - s) < 1e-8, `sgd coord ${i}: ${sgd[i]} vs ${s}`);
    // Adam's steps have size ~lr·cos-schedule; annealed to 0 it settles far below its peak step size.
    assert.ok(Math.abs(adam[i]! - s) < 1e-4, `adam coord ${i}: ${adam[i]} vs ${s}`);
  });
});

test('schedules give their defining values at known steps', () => {
  const lr = 0.1;
  const constant = makeSchedule({ kind: 'constant', lr });
  assert.equal(constant(0), lr);
  assert.equal(constant(12345), lr);

  const step = makeSchedule({ kind: 'step', lr, stepSize: 10, gamma: 0.5 });
  assert.equal(step(0), lr);
  assert.equal(step(9), lr);
  assert.equal(step(10), lr * 0.5);
  assert.equal(step(29), lr * 0.25);
  assert.equal(step(30), lr * 0.125);

  const expo = makeSchedule({ kind: 'exponential', lr, stepSize: 100, gamma: 0.25 });
  assert.ok(relErr(expo(100), lr * 0.25) < 1e-15);
  assert.ok(relErr(expo(50), lr * 0.5) < 1e-15); // √0.25
  assert.ok(relErr(expo(300), lr * 0.25 ** 3) < 1e-14);

  // Cosine over 101 steps: lr at step 0, the midpoint (lr + min)/2 at step 50, min at step 100.
  const cos = makeSchedule({ kind: 'cosine', lr, totalSteps: 101, minLr: 0.01 });
  assert.equal(cos(0), lr);
  assert.ok(relErr(cos(50), (lr + 0.01) / 2) < 1e-14);
  assert.ok(relErr(cos(25), 0.01 + (lr - 0.01) * (1 + Math.SQRT1_2) / 2) < 1e-14);
  assert.ok(relErr(cos(100), 0.01) < 1e-14);
  assert.ok(relErr(cos(500), 0.01) < 1e-14, 'stays at min beyond the end');

  // Warm-up of 10 steps (lr/10, 2lr/10, ..., lr), then cosine over the remaining 91 steps.
  const wc = makeSchedule({ kind: 'warmup-cosine', lr, totalSteps: 101, warmupSteps: 10 });
  assert.ok(relErr(wc(0), lr / 10) < 1e-15);
  assert.ok(relErr(wc(4), lr / 2) < 1e-15);
  assert.ok(relErr(wc(9), lr) < 1e-15);
  assert.equal(wc(10), lr);
  assert.ok(relErr(wc(55), lr / 2) < 1e-14); // midpoint of the 90-step cosine span
  assert.ok(Math.abs(wc(100)) < 1e-17);
  for (let s = 1; s < 101; s++) if (s > 10) assert.ok(wc(s) <= wc(s - 1), `warmup-cosine decreasing after warm-up, step ${s}`);

  assert.throws(() => makeSchedule({ kind: 'step', lr }), /stepSize/);
  assert.throws(() => makeSchedule({ kind: 'warmup-cosine', lr, totalSteps: 10, warmupSteps: 10 }), /warmupSteps/);
  assert.throws(() => makeSchedule({ kind: 'cosine', lr, totalSteps: 10, minLr: 1 }), /minLr/);
  assert.throws(() => makeSchedule({ kind: 'linear' as never, lr }), /makeSchedule: option 'kind' must be one of 'constant', .*, got 'linear'/);
});

test('optimiser state round-trips through JSON and continues bit-identically', () => {
  const makers: [string, () => Optimizer][] = [
    ['sgd', () => new Sgd({ lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 1e-3 })],
    ['adam', () => new Adam({ lr: 0.01, weightDecay: 1e-2 })],
    ['adamw', () => new AdamW({ lr: 0.01 })],
  ];
  for (const [name, make] of makers) {
    for (const dtype of ['float32', 'float64'] as const) {
      const init = [0.3, -1.1, 2.2, 0.05, -0.75];
      const gradAt = (p: Tensor, t: number): Tensor => Tensor.from(p.toArray().map((v, i) => Math.sin(3 * v + i + t) + 0.1 * v), [5], dtype);
      const a = param(init, dtype, 'w');
      const optA = make();
      for (let t = 0; t < 20; t++) optA.step([a], [gradAt(a, t)]);

      const b = param(init, dtype, 'w');
      const optB = make();
      for (let t = 0; t < 8; t++) optB.step([b], [gradAt(b, t)]);
      const saved = JSON.parse(JSON.stringify(optB.state())) as OptimizerState;
      const optC = make();
      optC.loadState(saved);
      assert.equal(optC.stepCount, 8);
      for (let t = 8; t < 20; t++) optC.step([b], [gradAt(b, t)]);
      assert.deepEqual(Array.from(b.data), Array.from(a.data), `${name} ${dtype}`);
      assert.deepEqual(optC.state(), optA.state(), `${name} ${dtype} state`);
    }
  }
});

test('optimiser state that does not fit is refused with a message naming the mismatch', () => {
  const p = param([1, 2, 3], 'float64', 'w');
  const adam = new Adam({ lr: 0.1 });
  adam.step([p], [Tensor.from([1, 1, 1], [3], 'float64')]);
  const st = adam.state();
  assert.throws(() => new Adam({ lr: 0.1, beta2: 0.99 }).loadState(st), /beta2/);
  assert.throws(() => new AdamW({ lr: 0.1 }).loadState(st), /'adam'.*'adamw'/);
  const other = new Adam({ lr: 0.1 });
  other.loadState(st);
  assert.throws(() => other.step([param([1, 2], 'float64', 'v')], [Tensor.from([1, 1], [2], 'float64')]), (e: unknown) => e instanceof FimkitError && e.code === 'SHAPE');
  const truncated = JSON.parse(JSON.stringify(st)) as { slots: { buffers: { m: { base64: string } } }[] };
  truncated.slots[0]!.buffers.m.base64 = truncated.slots[0]!.buffers.m.base64.slice(0, 8);
  assert.throws(() => new Adam({ lr: 0.1 }).loadState(truncated as unknown as OptimizerState), (e: unknown) => e instanceof FimkitError && /TRUNCATED_FILE|CORRUPT_FILE/.test(e.code));
  // Mismatched gradient and parameter shapes and dtypes.
  assert.throws(() => new Sgd({ lr: 0.1 }).step([p], [Tensor.from([1, 2], [2], 'float64')]), /gradient \[2\] does not match parameter 0 \('w'\) \[3\]/);
  assert.throws(() => new Sgd({ lr: 0.1 }).step([p], [Tensor.from([1, 2, 3], [3], 'float32')]), (e: unknown) => e instanceof FimkitError && e.code === 'DTYPE');
  assert.throws(() => new Sgd({ lr: -1 }), /learning rate/);
  assert.throws(() => new Sgd({ lr: 0.1, nesterov: true }), /Nesterov/);
  assert.throws(() => makeOptimizer({ name: 'rmsprop' as never, lr: 0.1 }), /makeOptimizer: option 'name' must be one of 'sgd', 'adam', 'adamw', got 'rmsprop'/);
});

test('float arrays encode exactly, bit for bit (NaN payloads, -0, subnormals)', () => {
  const f64 = new Float64Array([0, -0, 1.5, -Infinity, Infinity, 5e-324, Number.MAX_VALUE, Math.PI, NaN]);
  const f32 = new Float32Array([0, -0, 1.4e-45, 3.4028234663852886e38, -7.25, NaN, 1 / 3]);
  // A NaN with a non-default payload.
  new Uint32Array(f32.buffer)[5] = 0x7fc12345;
  for (const a of [f64, f32, new Float32Array(0), new Float64Array([1]), new Float32Array([1, 2])]) {
    const back = decodeFloatArray(JSON.parse(JSON.stringify(encodeFloatArray(a))));
    assert.equal(back.constructor, a.constructor);
    assert.deepEqual(new Uint8Array(back.buffer, back.byteOffset, back.byteLength), new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  }
  assert.throws(() => decodeFloatArray({ dtype: 'float32', length: 3, base64: 'AAAA' }), (e: unknown) => e instanceof FimkitError && e.code === 'TRUNCATED_FILE');
  assert.throws(() => decodeFloatArray({ dtype: 'float32', length: 1, base64: 'AA*A' }), /invalid base64 character/);
  assert.ok(BACKENDS.length >= 1);
});
