// SMAC's Sherman–Morrison direction and its Woodbury rank-k form: the closed-form properties of
// the paper's rank-1 damped Fisher (spec §A.3.2) against dense linear algebra.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../src/core/rng.js';
import { FimkitError } from '../src/core/errors.js';
import { spdInverse, symmetricEigen, matVec } from '../src/fisher/linalg.js';
import { smDirection, woodburyDirection, lowRankFisherMv } from '../src/rl/sm.js';

function randVec(rng: Rng, n: number, scale = 1): Float64Array {
  const v = new Float64Array(n);
  rng.fillNormal(v, 0, scale);
  return v;
}

function dense(U: Float64Array, k: number, d: number, lambda: number): Float64Array {
  const M = new Float64Array(d * d);
  for (let i = 0; i < d; i++) M[i * d + i] = lambda;
  for (let j = 0; j < k; j++) for (let a = 0; a < d; a++) for (let b = 0; b < d; b++) M[a * d + b]! += (U[j * d + a]! * U[j * d + b]!) / k;
  return M;
}

function relErr(a: Float64Array, b: Float64Array): number {
  let num = 0, den = 0;
  for (let i = 0; i < a.length; i++) { num += (a[i]! - b[i]!) ** 2; den += b[i]! ** 2; }
  return Math.sqrt(num / den);
}

const dot = (a: Float64Array, b: Float64Array): number => a.reduce((s, v, i) => s + v * b[i]!, 0);

test('Sherman–Morrison direction equals the dense solve of (λI + uuᵀ)d = g (d ≤ 50)', () => {
  const rng = new Rng(1);
  for (const d of [1, 7, 40, 50]) {
    for (const lambda of [1e-3, 0.1, 1, 30]) {
      const u = randVec(rng, d, 2);
      const g = randVec(rng, d);
      const dir = smDirection(g, u, lambda);
      const inv = spdInverse(dense(u, 1, d, lambda), d, 0, 'test');
      const ref = matVec(inv, d, g);
      assert.ok(relErr(dir, ref) < 1e-9, `d=${d} λ=${lambda}: rel err ${relErr(dir, ref)}`);
      // And it solves the system: (λI + uuᵀ)·dir = g, to rounding times the condition number
      // 1 + ‖u‖²/λ (the residual subtracts terms of size ‖u‖²‖d‖ ≈ ‖u‖²‖g‖/λ).
      const cond = 1 + dot(u, u) / lambda;
      assert.ok(relErr(lowRankFisherMv(dir, u, 1, lambda), g) < 1e-14 * cond);
    }
  }
});

test('g ⊥ u gives d = g/λ; g ∥ u gives d = αu/(λ + ‖u‖²)', () => {
  const rng = new Rng(2);
  const d = 30, lambda = 0.3;
  const u = randVec(rng, d);
  const g0 = randVec(rng, d);
  const c = dot(g0, u) / dot(u, u);
  const gPerp = g0.map((v, i) => v - c * u[i]!);
  assert.ok(Math.abs(dot(gPerp, u)) < 1e-12);
  const dPerp = smDirection(gPerp, u, lambda);
  assert.ok(relErr(dPerp, gPerp.map((v) => v / lambda)) < 1e-12);
  const alpha = -1.7;
  const gPar = u.map((v) => alpha * v);
  const dPar = smDirection(gPar, u, lambda);
  const uu = dot(u, u);
  assert.ok(relErr(dPar, u.map((v) => (alpha * v) / (lambda + uu))) < 1e-12);
});

test('eigenvalues of (λI + uuᵀ)⁻¹ lie in [1/(λ+‖u‖²), 1/λ], both attained; d is an ascent direction', () => {
  const rng = new Rng(3);
  for (const lambda of [1e-3, 0.1, 1]) {
    const d = 12;
    const u = randVec(rng, d, 1.5);
    const inv = spdInverse(dense(u, 1, d, lambda), d, 0, 'test');
    const { values } = symmetricEigen(inv, d);
    const lo = 1 / (lambda + dot(u, u)), hi = 1 / lambda;
    assert.ok(Math.abs(values[0]! - lo) / lo < 1e-8, `smallest ${values[0]} vs ${lo}`);
    assert.ok(Math.abs(values[d - 1]! - hi) / hi < 1e-8, `largest ${values[d - 1]} vs ${hi}`);
    for (const v of values) assert.ok(v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9));
    // gᵀd ≥ ‖g‖²/(λ+‖u‖²) > 0 for many g, including g almost parallel to u.
    for (let t = 0; t < 50; t++) {
      const g = t % 2 === 0 ? randVec(rng, d) : u.map((x) => x + 1e-3 * rng.normal());
      const dir = smDirection(g, u, lambda);
      assert.ok(dot(g, dir) >= (dot(g, g) * lo) * (1 - 1e-9), 'ascent bound');
      assert.ok(dot(g, dir) > 0);
    }
  }
});

test('λ → ∞: λ·d → g (plain policy gradient)', () => {
  const rng = new Rng(4);
  const u = randVec(rng, 20, 3);
  const g = randVec(rng, 20);
  let prev = Infinity;
  for (const lambda of [1, 1e2, 1e4, 1e6, 1e8]) {
    const e = relErr(smDirection(g, u, lambda).map((v) => v * lambda), g);
    assert.ok(e < prev, `error decreases with λ: ${e} at λ=${lambda}`);
    prev = e;
  }
  assert.ok(prev < 1e-6);
});

test('Woodbury rank-k equals the dense solve of (λI + UᵀU/k)d = g, and rank 1 equals Sherman–Morrison', () => {
  const rng = new Rng(5);
  for (const [d, k] of [[10, 3], [40, 5], [25, 25], [8, 12]] as const) {
    const U = randVec(rng, k * d);
    const g = randVec(rng, d);
    for (const lambda of [1e-2, 1]) {
      const dir = woodburyDirection(g, U, k, lambda);
      const ref = matVec(spdInverse(dense(U, k, d, lambda), d, 0, 'test'), d, g);
      assert.ok(relErr(dir, ref) < 1e-8, `d=${d} k=${k} λ=${lambda}: ${relErr(dir, ref)}`);
    }
  }
  const u = randVec(rng, 17);
  const g = randVec(rng, 17);
  assert.ok(relErr(woodburyDirection(g, u, 1, 0.2), smDirection(g, u, 0.2)) < 1e-12);
});

test('λ ≤ 0 (or not finite) is a named error', () => {
  const g = new Float64Array([1, 2]);
  for (const lambda of [0, -1, NaN, Infinity]) {
    assert.throws(() => smDirection(g, g, lambda), (e: unknown) => e instanceof FimkitError && e.code === 'INVALID_ARGUMENT' && /λ/.test(e.message));
    assert.throws(() => woodburyDirection(g, g, 1, lambda), (e: unknown) => e instanceof FimkitError && e.code === 'INVALID_ARGUMENT');
  }
  assert.throws(() => smDirection(g, new Float64Array(3), 1), (e: unknown) => e instanceof FimkitError && e.code === 'SHAPE');
});
