import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng, logFactorial } from '../src/core/rng.js';
import { Tensor } from '../src/core/tensor.js';
import { gemmStridedBatched } from '../src/core/linalg.js';
import { loadBackend } from '../src/core/backends/index.js';
import { erfc, normalCdf, unaryScalar } from '../src/core/scalar.js';
import { Unary } from '../src/core/backend.js';
import { maxRelativeError } from '../src/autodiff/check.js';
import { BACKENDS } from './helpers.js';

/** Asserts |x − mu| ≤ 5 standard errors. */
function within5Se(label: string, x: number, mu: number, se: number): void {
  assert.ok(Math.abs(x - mu) <= 5 * se, `${label}: ${x} vs ${mu} (5 s.e. = ${5 * se})`);
}

test('rng: same seed gives the same stream; derive() ignores draws made; split() children differ', () => {
  const a = new Rng(42);
  const b = new Rng(42);
  const da = Array.from({ length: 10 }, () => a.nextU32());
  assert.deepEqual(da, Array.from({ length: 10 }, () => b.nextU32()));
  assert.notDeepEqual(da, Array.from({ length: 10 }, () => new Rng(43).nextU32()));
  const fresh = new Rng(42).derive('x').uniform();
  const used = new Rng(42);
  for (let i = 0; i < 100; i++) used.uniform();
  assert.equal(used.derive('x').uniform(), fresh);
  assert.notEqual(new Rng(42).derive('y').uniform(), fresh);
  const p = new Rng(1);
  const c1 = p.split().uniform();
  const c2 = p.split().uniform();
  assert.notEqual(c1, c2);
  assert.equal(new Rng(1).split().uniform(), c1);
  // State round-trip (checkpoints).
  const s = new Rng(5);
  s.normal();
  const st = s.getState();
  const next = [s.normal(), s.normal(), s.uniform()];
  const r = new Rng(0);
  r.setState(st);
  assert.deepEqual([r.normal(), r.normal(), r.uniform()], next);
  assert.equal(new Rng('abc').nextU32(), new Rng('abc').nextU32());
  assert.throws(() => new Rng(1.5), /safe integer/);
});

test('rng: distributions match their moments within 5 standard errors', () => {
  const rng = new Rng(7);
  const n = 200000;
  let s = 0, s2 = 0, ns = 0, ns2 = 0, ns4 = 0;
  for (let i = 0; i < n; i++) {
    const u = rng.uniform();
    assert.ok(u >= 0 && u < 1);
    s += u; s2 += u * u;
    const z = rng.normal();
    ns += z; ns2 += z * z; ns4 += z ** 4;
  }
  within5Se('uniform mean', s / n, 0.5, Math.sqrt(1 / 12 / n));
  within5Se('uniform var', s2 / n - (s / n) ** 2, 1 / 12, Math.sqrt(1 / 180 / n));
  within5Se('normal mean', ns / n, 0, Math.sqrt(1 / n));
  within5Se('normal var', ns2 / n, 1, Math.sqrt(2 / n));
  within5Se('normal 4th moment', ns4 / n, 3, Math.sqrt(96 / n));
  for (const lambda of [0.3, 4, 25, 400]) {
    let m = 0, v = 0;
    const k = 40000;
    const xs = Array.from({ length: k }, () => rng.poisson(lambda));
    for (const x of xs) m += x;
    m /= k;
    for (const x of xs) v += (x - m) ** 2;
    v /= k - 1;
    within5Se(`poisson(${lambda}) mean`, m, lambda, Math.sqrt(lambda / k));
    // Var of the sample variance for Poisson: (μ4 − σ⁴)/k with μ4 = λ + 3λ².
    within5Se(`poisson(${lambda}) variance`, v, lambda, Math.sqrt((lambda + 2 * lambda * lambda) / k));
  }
  const w = [0.1, 0, 0.6, 0.3];
  const counts = [0, 0, 0, 0];
  const k = 50000;
  for (let i = 0; i < k; i++) counts[rng.categorical(w)]!++;
  w.forEach((p, i) => within5Se(`categorical ${i}`, counts[i]! / k, p, Math.sqrt((p * (1 - p)) / k) + 1e-12));
  const perm = rng.permutation(1000);
  assert.deepEqual([...perm].sort((a, b) => a - b), Array.from({ length: 1000 }, (_, i) => i));
  assert.ok(Math.abs(logFactorial(300) - [...Array(300).keys()].reduce((a, i) => a + Math.log(i + 1), 0)) < 1e-9);
});

test('scalar functions: erfc against known values, derivative orders against finite differences', () => {
  // erfc(1) and erfc(3) to 15 digits (standard tables).
  assert.ok(Math.abs(erfc(1) - 0.157299207050285) < 1e-14);
  assert.ok(Math.abs(erfc(3) / 2.20904969985854e-5 - 1) < 1e-12);
  assert.ok(Math.abs(normalCdf(-8) / 6.22096057427178e-16 - 1) < 1e-10);
  assert.ok(Math.abs(erfc(2.4999) - erfc(2.5001)) < 1e-4, 'continuous across the series/fraction switch');
  for (const [name, code] of Object.entries(Unary)) {
    if (['relu', 'leakyRelu', 'abs'].includes(name)) continue;
    for (const x of [0.37, 1.3, 2.2]) {
      for (let order = 0; order < 4; order++) {
        const h = 1e-4;
        const fd = (unaryScalar(code, order, 0, x + h) - unaryScalar(code, order, 0, x - h)) / (2 * h);
        const an = unaryScalar(code, order + 1, 0, x);
        assert.ok(Math.abs(fd - an) <= 1e-6 * Math.max(1, Math.abs(an)), `${name} order ${order + 1} at ${x}: ${an} vs fd ${fd}`);
      }
    }
  }
  for (const big of [1e4, -1e4]) {
    for (const code of [Unary.sigmoid, Unary.softplus, Unary.logSigmoid, Unary.tanh, Unary.gelu]) {
      for (let order = 0; order < 3; order++) assert.ok(Number.isFinite(unaryScalar(code, order, 0, big)), `code ${code} order ${order} at ${big}`);
    }
  }
});

for (const name of BACKENDS) {
  test(`[${name}] strided batched gemm equals per-matrix products`, () => {
    const be = loadBackend(name);
    const rng = new Rng(3);
    const [m, n, k, count] = [3, 4, 5, 6];
    const a = Tensor.uniform([count, k, m], rng, -1, 1, 'float64').data; // stored transposed
    const b = Tensor.uniform([count, k, n], rng, -1, 1, 'float64').data;
    const c = new Float64Array(count * m * n);
    gemmStridedBatched(be, true, false, m, n, k, 1, a, 0, m, b, 0, n, 0, c, 0, n, { count, strideA: k * m, strideB: k * n, strideC: m * n });
    const want = new Float64Array(count * m * n);
    for (let t = 0; t < count; t++) for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += a[t * k * m + p * m + i]! * b[t * k * n + p * n + j]!;
      want[t * m * n + i * n + j] = s;
    }
    assert.ok(maxRelativeError(c, want) < 1e-13);
  });
}

test('buffer scope: recycled buffers are reused zero-filled; kept tensors are never handed out again', async () => {
  const { BufferScope } = await import('../src/core/pool.js');
  const F = await import('../src/autodiff/ops.js');
  const scope = new BufferScope();
  const a = Tensor.from([1, 2, 3], [3], 'float64');
  const [kept, dropped] = scope.run(() => [F.scale(a, 2), F.scale(a, 3)]);
  scope.recycle([kept!]);
  const again = scope.run(() => F.zerosLike(a));
  assert.equal(again.data, dropped!.data, 'the dropped buffer is reused');
  assert.deepEqual(Array.from(again.data), [0, 0, 0]);
  const third = scope.run(() => F.zerosLike(a));
  assert.notEqual(third.data, kept!.data, 'a kept buffer is not handed out');
  assert.deepEqual(Array.from(kept!.data), [2, 4, 6]);
  // Outside a scope nothing is pooled.
  assert.notEqual(F.zerosLike(a).data, F.zerosLike(a).data);
});

test('buffer scope: a shorter request takes the front of the smallest larger free buffer, which returns whole', async () => {
  const { BufferScope } = await import('../src/core/pool.js');
  const scope = new BufferScope();
  const [big, mid, f64] = scope.run(() => [scope.alloc('float32', 100), scope.alloc('float32', 40), scope.alloc('float64', 30)]);
  big!.fill(5);
  scope.recycle();
  // Exact sizes first; then the smallest larger buffer of the same dtype, zero-filled on request.
  const short = scope.alloc('float32', 30);
  assert.equal(short.buffer, mid!.buffer);
  assert.equal(short.length, 30);
  const f = scope.alloc('float64', 30);
  assert.equal(f, f64, 'the float64 buffer of exactly 30 is reused');
  const stale = scope.alloc('float32', 60, false);
  assert.equal(stale.buffer, big!.buffer, 'only the 100 is large enough');
  assert.equal(stale[0], 5, 'without zeroing the old contents stay');
  assert.ok(!(scope.alloc('float32', 20).buffer === big!.buffer || scope.alloc('float32', 20).buffer === mid!.buffer), 'no free buffer left: fresh ones');
  scope.recycle();
  // The whole buffers come back: a full-size request gets them again.
  assert.equal(scope.alloc('float32', 100), big);
  assert.equal(scope.alloc('float32', 40), mid);
});
