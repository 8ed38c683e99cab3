import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../src/core/rng.js';
import { stlsq, sindyRecover, buildLibrary } from '../src/cbinn/sindy.js';

function samples(n: number, S: number, lo: number[], hi: number[], seed: number): Float64Array {
  const rng = new Rng(seed);
  const out = new Float64Array(n * S);
  for (let r = 0; r < n; r++) for (let j = 0; j < S; j++) out[r * S + j] = lo[j]! + (hi[j]! - lo[j]!) * rng.uniform();
  return out;
}

test('STLSQ recovers the sparse Lorenz right-hand sides from a degree-2 library exactly', () => {
  const n = 200;
  const X = samples(n, 3, [-20, -25, 5], [20, 25, 45], 1);
  const names = ['x', 'y', 'z'];
  const lib = buildLibrary(X, names, 2, null);
  assert.equal(lib.length, 10); // 1, x, y, z, x², xy, xz, y², yz, z²
  const rows = (f: (x: number, y: number, z: number) => number): Float64Array => Float64Array.from({ length: n }, (_, r) => f(X[3 * r]!, X[3 * r + 1]!, X[3 * r + 2]!));
  const cases: [Float64Array, Record<string, number>][] = [
    [rows((x, y) => 10 * (y - x)), { x: -10, y: 10 }],
    [rows((x, y, z) => x * (28 - z) - y), { x: 28, y: -1, 'x*z': -1 }],
    [rows((x, y, z) => x * y - (8 / 3) * z), { 'x*y': 1, z: -8 / 3 }],
  ];
  for (const [target, want] of cases) {
    const coef = stlsq(lib.map((c) => c.values), target, { threshold: 0.01 });
    lib.forEach((c, i) => {
      const w = want[c.name] ?? 0;
      assert.ok(Math.abs(coef[i]! - w) < 1e-8 * Math.max(1, Math.abs(w)), `${c.name}: ${coef[i]} vs ${w}`);
    });
  }
});

test('SINDy recovers a Michaelis–Menten recruitment term and its saturation constant, with noise tolerance', () => {
  const n = 150;
  const X = samples(n, 2, [0.3, 0.5], [3, 400], 2);
  const rho = 1.131;
  const eta = 20.19;
  const mu = 0.00311;
  const clean = Float64Array.from({ length: n }, (_, r) => {
    const x = X[2 * r]!;
    const y = X[2 * r + 1]!;
    return (rho * x * y) / (eta + y) - mu * x * y;
  });
  const exact = sindyRecover(X, clean, ['x', 'y']);
  assert.ok(exact.k !== null && Math.abs(exact.k - eta) / eta < 1e-4, `k = ${exact.k}`);
  assert.deepEqual(exact.terms.map((t) => t.name.replace(/\(.*\+/, '(k +')).sort(), ['x*y', 'x*y/(k + y)'].sort(), exact.formula);
  const c = Object.fromEntries(exact.terms.map((t) => [t.name.startsWith('x*y/') ? 'mm' : t.name, t.coefficient]));
  assert.ok(Math.abs(c['mm']! - rho) / rho < 1e-4 && Math.abs(c['x*y']! + mu) / mu < 1e-3, exact.formula);
  assert.ok(exact.relativeResidual < 1e-8);

  // 1% Gaussian noise on the target: the same terms, coefficients within a few percent.
  const rng = new Rng(9);
  const noisy = Float64Array.from(clean, (v) => v * (1 + 0.01 * rng.normal()));
  const r = sindyRecover(X, noisy, ['x', 'y']);
  assert.equal(r.terms.length, 2, r.formula);
  assert.ok(r.k !== null && Math.abs(r.k - eta) / eta < 0.1, `k = ${r.k}`);
  const mm = r.terms.find((t) => t.name.startsWith('x*y/'))!;
  assert.ok(Math.abs(mm.coefficient - rho) / rho < 0.1, r.formula);
});

test('SINDy picks the one true rational term over a cancelling pair of near-collinear terms along a single curve', () => {
  // States on a one-dimensional curve (as along one trajectory): x = 1 + 0.5·sin s, y = 5 + 4·cos s.
  const n = 120;
  const X = new Float64Array(2 * n);
  for (let r = 0; r < n; r++) {
    const s = (6 * r) / n;
    X[2 * r] = 1 + 0.5 * Math.sin(s);
    X[2 * r + 1] = 5 + 4 * Math.cos(s);
  }
  const rng = new Rng(11);
  const t = Float64Array.from({ length: n }, (_, r) => ((2 * X[2 * r]! * X[2 * r + 1]!) / (3 + X[2 * r + 1]!)) * (1 + 0.005 * rng.normal()));
  const r = sindyRecover(X, t, ['x', 'y']);
  assert.equal(r.terms.length, 1, r.formula);
  assert.ok(r.terms[0]!.name.startsWith('x*y/('), r.formula);
  assert.ok(r.k !== null && Math.abs(r.k - 3) / 3 < 0.05 && Math.abs(r.terms[0]!.coefficient - 2) / 2 < 0.05, r.formula);
});

test('SINDy on a target with no rational part keeps the polynomial and reports k = null; bad input is named', () => {
  const n = 100;
  const X = samples(n, 2, [0.1, 0.1], [2, 2], 4);
  const t = Float64Array.from({ length: n }, (_, r) => 0.5 - 2 * X[2 * r]! * X[2 * r + 1]!);
  const r = sindyRecover(X, t, ['a', 'b']);
  assert.equal(r.k, null, r.formula);
  assert.equal(r.formula, '0.5 - 2*a*b');
  assert.throws(() => sindyRecover(X, t.subarray(1), ['a', 'b']), /do not match/);
  assert.throws(() => sindyRecover(X, Float64Array.from(t, () => NaN), ['a', 'b']), /non-finite/);
});
