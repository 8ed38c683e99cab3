/**
 * The Fisher matrix representations (dense, diag, block, KFAC, matrix-free) and their linear
 * algebra, against brute force: every method is compared with the dense matrix, KFAC with
 * Kronecker products built entry by entry, inverses with Gauss–Jordan inverses, CG with
 * Cholesky, the eigendecomposition with its reconstruction. Runs on every available backend
 * (the representations multiply through the backend's gemm).
 */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '../src/core/rng.js';
import { FimkitError } from '../src/core/errors.js';
import { Tensor } from '../src/core/tensor.js';
import { grad } from '../src/autodiff/grad.js';
import { buildModel, mlpSpec } from '../src/nn/index.js';
import type { FisherMatrix, FisherMeta, ParamLayout } from '../src/fisher/matrix.js';
import { layoutOf, makeLayout, embedGroup, sliceGroup, splitByGroup, groupLayout, resolveGroup, validateLayout } from '../src/fisher/layout.js';
import { cholesky, choleskySolve, conjugateGradient, inverseFromCholesky, symmetricEigen } from '../src/fisher/linalg.js';
import { DenseFisher, checkDenseSize, setMaxDenseBytes } from '../src/fisher/dense.js';
import { DiagFisher } from '../src/fisher/diag.js';
import { BlockFisher } from '../src/fisher/block.js';
import { KfacFisher, type KfacFactorLayer } from '../src/fisher/kfac.js';
import { MatrixFreeFisher } from '../src/fisher/matfree.js';
import { fisherFromJSON } from '../src/fisher/serialize.js';
import { loadFisher, saveFisher } from '../src/fisher/files.js';
import { forEachBackend } from './helpers.js';

const CTX = { training: false };

const META: FisherMeta = {
  estimator: 'exact', representation: 'dense', likelihood: 'categorical', labelsPerInput: null, numInputs: 10,
  mode: 'joint', seed: null, dtype: 'float64', backend: 'ts', wallSeconds: 0, scaling: 'mean', notes: ['test fixture'],
};

// ---------- brute-force helpers (test-local, loops only) ----------

function randn(n: number, rng: Rng): Float64Array {
  return rng.fillNormal(new Float64Array(n));
}

/** B·Bᵀ/k + ridge·I with B n×k Gaussian: SPD, condition number modest for k ≥ n. */
function randomSpd(n: number, rng: Rng, ridge = 0.3, k = n + 3): Float64Array {
  const b = randn(n * k, rng);
  const m = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += b[i * k + p]! * b[j * k + p]!;
      m[i * n + j] = s / k + (i === j ? ridge : 0);
    }
  }
  return m;
}

function naiveMv(m: Float64Array, n: number, v: Float64Array): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < n; j++) s += m[i * n + j]! * v[j]!;
    out[i] = s;
  }
  return out;
}

function naiveMatMul(a: Float64Array, b: Float64Array, n: number): Float64Array {
  const c = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let p = 0; p < n; p++) for (let j = 0; j < n; j++) c[i * n + j]! += a[i * n + p]! * b[p * n + j]!;
  return c;
}

/** Gauss–Jordan inverse with partial pivoting. */
function gaussJordanInverse(m: Float64Array, n: number): Float64Array {
  const a = Float64Array.from(m);
  const inv = new Float64Array(n * n);
  for (let i = 0; i < n; i++) inv[i * n + i] = 1;
  for (let c = 0; c < n; c++) {
    let piv = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(a[r * n + c]!) > Math.abs(a[piv * n + c]!)) piv = r;
    for (let j = 0; j < n; j++) {
      [a[c * n + j], a[piv * n + j]] = [a[piv * n + j]!, a[c * n + j]!];
      [inv[c * n + j], inv[piv * n + j]] = [inv[piv * n + j]!, inv[c * n + j]!];
    }
    const d = a[c * n + c]!;
    for (let j = 0; j < n; j++) {
      a[c * n + j]! /= d;
      inv[c * n + j]! /= d;
    }
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = a[r * n + c]!;
      if (f === 0) continue;
      for (let j = 0; j < n; j++) {
        a[r * n + j]! -= f * a[c * n + j]!;
        inv[r * n + j]! -= f * inv[c * n + j]!;
      }
    }
  }
  return inv;
}

function addDiag(m: Float64Array, n: number, lambda: number): Float64Array {
  const a = Float64Array.from(m);
  for (let i = 0; i < n; i++) a[i * n + i]! += lambda;
  return a;
}

function maxAbs(a: Float64Array): number {
  let s = 0;
  for (const x of a) s = Math.max(s, Math.abs(x));
  return s;
}

function maxAbsDiff(a: Float64Array, b: Float64Array): number {
  assert.equal(a.length, b.length);
  let s = 0;
  for (let i = 0; i < a.length; i++) s = Math.max(s, Math.abs(a[i]! - b[i]!));
  return s;
}

function norm(a: Float64Array): number {
  return Math.sqrt(a.reduce((s, x) => s + x * x, 0));
}

/** Asserts max|a − b| ≤ rel·max(max|b|, tiny). */
function assertClose(a: Float64Array, b: Float64Array, rel: number, what: string): void {
  const err = maxAbsDiff(a, b);
  const scale = Math.max(maxAbs(b), 1e-300);
  assert.ok(err <= rel * scale, `${what}: max error ${err.toExponential(3)} > ${rel} × ${scale.toExponential(3)}`);
}

function assertThrowsCode(fn: () => unknown, code: string, pattern: RegExp): FimkitError {
  let caught: unknown = null;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof FimkitError, `expected a FimkitError, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  assert.match(caught.message, pattern);
  return caught;
}

/** A layout with a conv group (with bias), a dense group with bias and one without. */
const LAYOUT: ParamLayout = makeLayout([
  { label: '0:conv2d', type: 'conv2d', params: [{ name: '0.weight', shape: [2, 3, 2, 2] }, { name: '0.bias', shape: [2] }] },
  { label: '3:dense', type: 'dense', params: [{ name: '3.weight', shape: [3, 4] }, { name: '3.bias', shape: [3] }] },
  { label: '5:dense', type: 'dense', params: [{ name: '5.weight', shape: [2, 3] }] },
]);
const P = LAYOUT.size; // 26 + 15 + 6

/** Every FisherMatrix method against the dense matrix the representation reports. */
function checkAgainstDense(m: FisherMatrix, rng: Rng, damping: number, what: string): Float64Array {
  const n = m.layout.size;
  const D = m.toDense();
  assert.equal(D.length, n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) assert.equal(D[i * n + j], D[j * n + i], `${what}: toDense not symmetric at ${i},${j}`);
  const scale = maxAbs(D);
  for (let t = 0; t < 3; t++) {
    const v = randn(n, rng);
    assertClose(m.mv(v), naiveMv(D, n, v), 1e-12, `${what} mv`);
    const vmv = v.reduce((s, x, i) => s + x * naiveMv(D, n, v)[i]!, 0);
    assert.ok(Math.abs(m.vMv(v) - vmv) <= 1e-12 * scale * n * norm(v) ** 2, `${what} vMv`);
    // solve: backward-stable solvers leave a residual of order n·ε·cond relative to ‖v‖.
    const x = m.solve(v, damping);
    const resid = naiveMv(addDiag(D, n, damping), n, x).map((y, i) => y - v[i]!);
    assert.ok(norm(resid) <= 1e-10 * norm(v), `${what} solve residual ${norm(resid) / norm(v)}`);
    // inverse: (M + λI)·(M + λI)⁻¹ v = v.
    const inv = m.inverse(damping);
    const back = naiveMv(addDiag(D, n, damping), n, inv.mv(v));
    assertClose(back, v, 1e-10, `${what} inverse`);
  }
  let tr = 0;
  for (let i = 0; i < n; i++) tr += D[i * n + i]!;
  assert.ok(Math.abs(m.trace() - tr) <= 1e-12 * Math.abs(tr) + 1e-300, `${what} trace ${m.trace()} vs ${tr}`);
  assertClose(m.diag(), Float64Array.from({ length: n }, (_, i) => D[i * n + i]!), 1e-13, `${what} diag`);
  // Layer views: the diagonal block of the dense matrix, with a layout of their own.
  m.layout.groups.forEach((g, gi) => {
    for (const which of [gi, g.label]) {
      const l = m.layer(which);
      assert.equal(l.layout.size, g.size);
      assert.equal(l.layout.groups.length, 1);
      assert.equal(l.layout.groups[0]!.label, g.label);
      assert.equal(l.layout.groups[0]!.offset, 0);
      const block = new Float64Array(g.size * g.size);
      for (let r = 0; r < g.size; r++) for (let c = 0; c < g.size; c++) block[r * g.size + c] = D[(g.offset + r) * n + g.offset + c]!;
      assertClose(l.toDense(), block, 1e-13, `${what} layer ${String(which)}`);
      const u = randn(g.size, rng);
      assertClose(l.mv(u), naiveMv(block, g.size, u), 1e-12, `${what} layer ${String(which)} mv`);
    }
  });
  assertThrowsCode(() => m.layer('no-such-layer'), 'INVALID_ARGUMENT', /no parameter group labelled 'no-such-layer'.*0:conv2d/);
  assertThrowsCode(() => m.mv(new Float64Array(n + 1)), 'SHAPE', new RegExp(`expected a vector of ${n} values`));
  return D;
}

/** JSON → text → JSON → matrix gives back bit-identical values, layout and meta. */
function checkRoundTrip(m: FisherMatrix): FisherMatrix {
  const text = JSON.stringify(m.toJSON());
  const back = fisherFromJSON(JSON.parse(text));
  assert.equal(back.representation, m.representation);
  assert.deepEqual(back.layout, m.layout);
  assert.deepEqual(back.meta, m.meta);
  assert.deepEqual(back.toDense(), m.toDense());
  assert.deepEqual(back.diag(), m.diag());
  return back;
}

/** Random KFAC factors for every group of LAYOUT. */
function randomFactors(rng: Rng): KfacFactorLayer[] {
  return LAYOUT.groups.map((g, i) => {
    const w = g.params[0]!;
    const out = w.shape[0]!;
    const na = w.size / out + (g.params.length > 1 ? 1 : 0);
    return { A: randomSpd(na, rng, 0.2), G: randomSpd(out, rng, 0.2), scale: [1, 2.5, 0.7][i]! };
  });
}

/** Position in the layer's (vec(W), b) order of augmented entry (j, k). */
function posOf(out: number, inW: number, j: number, k: number): number {
  return k < inW ? j * inW + k : out * inW + j;
}

/** The KFAC matrix by definition: F[(j,k),(j',k')] = s·G[j,j']·A[k,k'], entry by entry. */
function explicitKronecker(factors: KfacFactorLayer[], layout: ParamLayout): Float64Array {
  const n = layout.size;
  const M = new Float64Array(n * n);
  layout.groups.forEach((g, i) => {
    const { A, G, scale } = factors[i]!;
    const out = g.params[0]!.shape[0]!;
    const inW = g.params[0]!.size / out;
    const na = inW + (g.params.length > 1 ? 1 : 0);
    for (let j = 0; j < out; j++) for (let k = 0; k < na; k++) for (let j2 = 0; j2 < out; j2++) for (let k2 = 0; k2 < na; k2++) {
      M[(g.offset + posOf(out, inW, j, k)) * n + g.offset + posOf(out, inW, j2, k2)] = (scale ?? 1) * G[j * out + j2]! * A[k * na + k2]!;
    }
  });
  return M;
}

describe('linear algebra', () => {
  it('symmetric eigendecomposition reconstructs A to 1e-12 with orthonormal eigenvectors, eigenvalues ascending', () => {
    const rng = new Rng(11);
    const cases: [string, Float64Array, number][] = [];
    for (const n of [1, 2, 3, 7, 40]) cases.push([`random n=${n}`, randomSpd(n, rng, 0).map((x, i) => x - (i % (n + 1) === 0 ? 0.5 : 0)), n]);
    // Repeated eigenvalues: Q·diag(1,1,1,2,2,5)·Qᵀ with Q from a random matrix's eigenvectors.
    const Q = symmetricEigen(randomSpd(6, rng), 6).vectors;
    const lam = [1, 1, 1, 2, 2, 5];
    const rep = new Float64Array(36);
    for (let i = 0; i < 6; i++) for (let j = 0; j < 6; j++) for (let p = 0; p < 6; p++) rep[i * 6 + j]! += Q[i * 6 + p]! * lam[p]! * Q[j * 6 + p]!;
    cases.push(['repeated eigenvalues', rep, 6]);
    cases.push(['diagonal (already tridiagonal)', Float64Array.from([3, 0, 0, 0, -1, 0, 0, 0, 2]), 3]);
    cases.push(['zero matrix', new Float64Array(16), 4]);
    const rank1 = new Float64Array(25);
    const u = randn(5, rng);
    for (let i = 0; i < 5; i++) for (let j = 0; j < 5; j++) rank1[i * 5 + j] = u[i]! * u[j]!;
    cases.push(['rank one', rank1, 5]);
    for (const [name, a, n] of cases) {
      const { values, vectors } = symmetricEigen(a, n);
      for (let i = 1; i < n; i++) assert.ok(values[i]! >= values[i - 1]!, `${name}: eigenvalues not ascending`);
      const recon = new Float64Array(n * n);
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) for (let p = 0; p < n; p++) recon[i * n + j]! += vectors[i * n + p]! * values[p]! * vectors[j * n + p]!;
      assert.ok(maxAbsDiff(recon, a) <= 1e-12 * Math.max(1, maxAbs(a)), `${name}: reconstruction error ${maxAbsDiff(recon, a)}`);
      const qtq = new Float64Array(n * n);
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) for (let p = 0; p < n; p++) qtq[i * n + j]! += vectors[p * n + i]! * vectors[p * n + j]!;
      const eye = new Float64Array(n * n).map((_, k) => (k % (n + 1) === 0 ? 1 : 0));
      assert.ok(maxAbsDiff(qtq, eye) <= 1e-12, `${name}: QᵀQ − I = ${maxAbsDiff(qtq, eye)}`);
    }
    // Known spectrum: diag(1,1,1,2,2,5).
    assertClose(symmetricEigen(rep, 6).values, Float64Array.from(lam), 1e-13, 'repeated eigenvalues');
  });

  forEachBackend((backend) => {
    it(`[${backend}] blocked Cholesky (n = 150 > block size) gives L·Lᵀ = A, solves and inverts`, () => {
      const rng = new Rng(12);
      const n = 150;
      const a = randomSpd(n, rng, 0.5);
      const l = cholesky(a, n, 'test matrix');
      for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) assert.equal(l[i * n + j], 0);
      const llt = new Float64Array(n * n);
      for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) {
        let s = 0;
        for (let p = 0; p <= j; p++) s += l[i * n + p]! * l[j * n + p]!;
        llt[i * n + j] = s;
        llt[j * n + i] = s;
      }
      assertClose(llt, a, 1e-13, 'L·Lᵀ');
      const b = randn(n, rng);
      const x = choleskySolve(l, n, b);
      assertClose(naiveMv(a, n, x), b, 1e-11, 'A·x');
      const inv = inverseFromCholesky(l, n);
      const eye = new Float64Array(n * n).map((_, k) => (k % (n + 1) === 0 ? 1 : 0));
      assertClose(naiveMatMul(a, inv, n), eye, 1e-11, 'A·A⁻¹');
    });

    it(`[${backend}] conjugate gradients converge to the Cholesky solution; non-convergence is reported`, () => {
      const rng = new Rng(13);
      const n = 30;
      const a = randomSpd(n, rng, 0.2);
      const b = randn(n, rng);
      const exact = choleskySolve(cholesky(a, n), n, b);
      const r = conjugateGradient((v) => naiveMv(a, n, v), b, { tol: 1e-12 });
      assert.ok(r.converged);
      assert.ok(r.relResidual <= 1e-12);
      // ‖x − x*‖/‖x*‖ ≤ cond(A)·residual; cond of this matrix is below 1e3.
      assertClose(r.x, exact, 1e-9, 'CG vs Cholesky');
      const short = conjugateGradient((v) => naiveMv(a, n, v), b, { tol: 1e-12, maxIter: 3 });
      assert.equal(short.converged, false);
      assert.equal(short.iterations, 3);
      assert.ok(short.relResidual > 1e-12);
      assertThrowsCode(() => conjugateGradient((v) => v.map((x) => -x), b), 'INVALID_ARGUMENT', /not positive definite/);
    });
  });

  it('a matrix that is not positive definite is a clear error naming the pivot and the damping that would do', () => {
    const rng = new Rng(14);
    const n = 6;
    const Q = symmetricEigen(randomSpd(n, rng), n).vectors;
    const lam = [-0.5, 0.1, 1, 2, 3, 4];
    const a = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) for (let p = 0; p < n; p++) a[i * n + j]! += Q[i * n + p]! * lam[p]! * Q[j * n + p]!;
    const e = assertThrowsCode(() => cholesky(a, n, 'test matrix'), 'INVALID_ARGUMENT', /test matrix is not positive definite: Cholesky pivot \d+ of 6 is -?[\d.]+e[-+]\d+/);
    assert.match(e.message, /smallest eigenvalue is -5\.000e-1/);
    assert.match(e.message, /damping above about 5\.0\de-1/);
    assert.match(e.message, /more damping/);
  });
});

describe('layout', () => {
  it('layoutOf follows model.parameters(): groups per parametric layer, weight then bias', () => {
    const model = buildModel(mlpSpec([4, 3, 2], 'tanh'), new Rng(1), 'float64');
    const layout = layoutOf(model);
    validateLayout(layout);
    assert.deepEqual(layout.groups.map((g) => [g.label, g.type, g.offset, g.size]), [['0:dense', 'dense', 0, 15], ['2:dense', 'dense', 15, 8]]);
    assert.deepEqual(layout.groups[0]!.params.map((p) => [p.name, p.shape, p.offset, p.size]), [['0.weight', [3, 4], 0, 12], ['0.bias', [3], 12, 3]]);
    assert.equal(layout.size, model.numParams());
    // Slicing a flat parameter vector per group gives each layer's parameters back.
    const flat = new Float64Array(layout.size);
    let o = 0;
    for (const p of model.parameters()) for (const x of p.data) flat[o++] = x;
    const parts = splitByGroup(layout, flat);
    assert.deepEqual(Array.from(parts[1]!), [...model.layers[2]!.params()[0]!.tensor.data, ...model.layers[2]!.params()[1]!.tensor.data]);
    assert.deepEqual(sliceGroup(layout, flat, 0), Float64Array.from(parts[0]!));
    const emb = embedGroup(layout, 1, parts[1]!);
    assert.deepEqual(Array.from(emb.subarray(0, 15)), new Array(15).fill(0));
    assert.deepEqual(emb.subarray(15), parts[1]);
    assert.equal(resolveGroup(layout, '2:dense'), 1);
    assert.deepEqual(groupLayout(layout, 1).groups[0]!.params.map((p) => p.offset), [0, 6]);
    assertThrowsCode(() => validateLayout({ ...layout, size: 99 }), 'INVALID_ARGUMENT', /size is 99 but the groups hold 23/);
  });
});

forEachBackend((backend) => {
  describe(`[${backend}] representations`, () => {
    it('dense: every method agrees with the matrix; inverse, layers, JSON', () => {
      const rng = new Rng(21);
      const M = randomSpd(P, rng, 0.05);
      const m = new DenseFisher(Float64Array.from(M), LAYOUT, META);
      const D = checkAgainstDense(m, rng, 0.1, 'dense');
      assert.deepEqual(D, M);
      // Zero damping works for a positive-definite matrix too.
      const v = randn(P, rng);
      assertClose(naiveMv(M, P, m.solve(v, 0)), v, 1e-10, 'dense solve λ=0');
      const inv = m.inverse(0.1);
      assert.equal(inv.representation, 'dense');
      assertClose(inv.toDense(), gaussJordanInverse(addDiag(M, P, 0.1), P), 1e-11, 'dense inverse vs Gauss–Jordan');
      assert.match(inv.meta.notes.at(-1)!, /inverse/);
      checkRoundTrip(m);
      checkRoundTrip(inv);
      assert.deepEqual(new DenseFisher(Array.from({ length: P }, (_, i) => Array.from(M.subarray(i * P, (i + 1) * P))), LAYOUT, META).toDense(), M);
    });

    it('diag: elementwise; layer views are slices', () => {
      const rng = new Rng(22);
      const d = rng.fillUniform(new Float64Array(P), 0.1, 2);
      const m = new DiagFisher(Float64Array.from(d), LAYOUT, { ...META, representation: 'diag' });
      const D = checkAgainstDense(m, rng, 0.3, 'diag');
      for (let i = 0; i < P; i++) for (let j = 0; j < P; j++) assert.equal(D[i * P + j], i === j ? d[i] : 0);
      assert.deepEqual(m.inverse(0.3).diag(), d.map((x) => 1 / (x + 0.3)));
      assert.deepEqual(m.layer('3:dense').diag(), d.slice(26, 41));
      checkRoundTrip(m);
    });

    it('block: per-layer dense blocks, zeros elsewhere; layer() is a DenseFisher', () => {
      const rng = new Rng(23);
      const blocks = LAYOUT.groups.map((g) => randomSpd(g.size, rng, 0.05));
      const m = new BlockFisher(blocks.map((b) => Float64Array.from(b)), LAYOUT, { ...META, representation: 'block' });
      const D = checkAgainstDense(m, rng, 0.2, 'block');
      const groupOf = (i: number): number => LAYOUT.groups.findIndex((h) => i >= h.offset && i < h.offset + h.size);
      for (let r = 0; r < P; r++) for (let c = 0; c < P; c++) {
        const g = groupOf(r);
        const o = LAYOUT.groups[g]!.offset;
        const n = LAYOUT.groups[g]!.size;
        assert.equal(D[r * P + c], groupOf(c) === g ? blocks[g]![(r - o) * n + c - o] : 0, `entry ${r},${c}`);
      }
      const layer = m.layer(1);
      assert.ok(layer instanceof DenseFisher);
      const inv = m.inverse(0.2);
      assert.equal(inv.representation, 'block');
      assertClose(inv.layer(2).toDense(), gaussJordanInverse(addDiag(blocks[2]!, 6, 0.2), 6), 1e-11, 'block inverse');
      checkRoundTrip(m);
      checkRoundTrip(inv);
    });

    it('KFAC equals its definition from explicit Kronecker products (conv and dense, with and without bias)', () => {
      const rng = new Rng(24);
      const factors = randomFactors(rng);
      const m = new KfacFisher(factors.map((f) => ({ ...f, A: Float64Array.from(f.A), G: Float64Array.from(f.G) })), LAYOUT, { ...META, representation: 'kfac' });
      const K = explicitKronecker(factors, LAYOUT);
      assertClose(m.toDense(), K, 1e-15, 'KFAC toDense');
      checkAgainstDense(m, rng, 0.05, 'kfac');
      for (let t = 0; t < 3; t++) {
        const v = randn(P, rng);
        assertClose(m.mv(v), naiveMv(K, P, v), 1e-13, 'KFAC mv vs explicit');
      }
      assert.deepEqual(m.diag(), Float64Array.from({ length: P }, (_, i) => K[i * P + i]!));
      let tr = 0;
      for (let i = 0; i < P; i++) tr += K[i * P + i]!;
      const trFactors = factors.reduce((s, f) => {
        const tA = Array.from({ length: Math.sqrt(f.A.length) }, (_, k) => f.A[k * Math.sqrt(f.A.length) + k]!).reduce((a, b) => a + b, 0);
        const tG = Array.from({ length: Math.sqrt(f.G.length) }, (_, k) => f.G[k * Math.sqrt(f.G.length) + k]!).reduce((a, b) => a + b, 0);
        return s + f.scale! * tA * tG;
      }, 0);
      assert.ok(Math.abs(m.trace() - tr) <= 1e-13 * tr);
      assert.ok(Math.abs(m.trace() - trFactors) <= 1e-13 * tr);

      // Exact damped inverse vs the Gauss–Jordan inverse of (A⊗G + λI), per layer.
      const lambda = 0.05;
      const inv = m.inverse(lambda);
      assert.equal(inv.representation, 'kfac');
      assertClose(inv.toDense(), gaussJordanInverse(addDiag(K, P, lambda), P), 1e-10, 'KFAC exact inverse');
      const v = randn(P, rng);
      assertClose(m.solve(v, lambda), naiveMv(gaussJordanInverse(addDiag(K, P, lambda), P), P, v), 1e-10, 'KFAC solve');
      // The eigenbasis form is closed under inversion: ((K + λI)⁻¹)⁻¹ = K + λI.
      assertClose(inv.inverse(0).toDense(), addDiag(K, P, lambda), 1e-10, 'inverse of the inverse');
      checkAgainstDense(inv, rng, 0.5, 'kfac eigen form');
      checkRoundTrip(m);
      checkRoundTrip(inv);
      assert.deepEqual(m.layer('0:conv2d').toDense(), m.toDense().filter((_, k) => Math.floor(k / P) < 26 && k % P < 26));
    });

    it('KFAC factored (π) damping: the documented Kronecker formula', () => {
      const rng = new Rng(25);
      const factors = randomFactors(rng);
      const m = new KfacFisher(factors.map((f) => ({ ...f })), LAYOUT, META);
      const lambda = 0.3;
      const fac = m.inverse(lambda, { method: 'factored' });
      const expected = LAYOUT.groups.map((g, i) => {
        const { A, G, scale } = factors[i]!;
        const na = Math.sqrt(A.length);
        const out = Math.sqrt(G.length);
        let tA = 0;
        let tG = 0;
        for (let k = 0; k < na; k++) tA += A[k * na + k]!;
        for (let k = 0; k < out; k++) tG += G[k * out + k]!;
        const pi = Math.sqrt((tA / na) / (tG / out));
        const c = Math.sqrt(lambda / scale!);
        return { A: gaussJordanInverse(addDiag(A, na, pi * c), na), G: gaussJordanInverse(addDiag(G, out, c / pi), out), scale: 1 / scale! };
      });
      assertClose(fac.toDense(), explicitKronecker(expected, LAYOUT), 1e-11, 'factored inverse');
      // It is an approximation: its inverse differs from K + λI by the cross terms, which are
      // of the order scale·c·(π tr-weighted) — not zero.
      const K = explicitKronecker(factors, LAYOUT);
      assert.ok(maxAbsDiff(gaussJordanInverse(fac.toDense(), P), addDiag(K, P, lambda)) > 1e-3);
      checkRoundTrip(fac);
      assertThrowsCode(() => m.inverse(lambda).inverse(lambda, { method: 'factored' }), 'INVALID_ARGUMENT', /eigenbasis form.*use method 'exact'/);
    });

    it('KFAC of one sample is the outer product of the layer gradient (bias as the last augmented column)', () => {
      const rng = new Rng(26);
      const spec = {
        inputShape: [3, 2, 2],
        layers: [{ type: 'conv2d' as const, inChannels: 3, outChannels: 2, kernel: 2 }, { type: 'flatten' as const }, { type: 'dense' as const, in: 2, out: 3 }],
      };
      const model = buildModel(spec, rng, 'float64');
      const layout = layoutOf(model);
      assert.deepEqual(layout.groups.map((g) => g.label), ['0:conv2d', '2:dense']);
      // A single-position conv (kernel = input size) and a dense layer: the gradient of gᵀz
      // w.r.t. the layer's parameters is ψ = (vec(g āᵀ) with the bias column split off).
      const x = new Tensor(randn(12, rng), [1, 3, 2, 2]);
      const inputs = [x.data as Float64Array, null as Float64Array | null];
      const z0 = model.layers[0]!.forward(x, CTX);
      inputs[1] = Float64Array.from(model.layers[1]!.forward(z0, CTX).data);
      const factors: KfacFactorLayer[] = [];
      const psi = new Float64Array(layout.size);
      [0, 2].forEach((li, gi) => {
        const layer = model.layers[li]!;
        const a = inputs[gi]!;
        const xin = gi === 0 ? x : new Tensor(Float64Array.from(a), [1, a.length]);
        const z = layer.forward(xin, CTX);
        const g = randn(z.size, rng);
        const params = layer.params().map((p) => p.tensor);
        const grads = grad([z], params, { gradOutputs: [new Tensor(g, z.shape)] });
        psi.set(Float64Array.from([...grads[0]!.data, ...grads[1]!.data]), layout.groups[gi]!.offset);
        const abar = Float64Array.from([...a, 1]);
        const A = new Float64Array(abar.length ** 2).map((_, k) => abar[Math.floor(k / abar.length)]! * abar[k % abar.length]!);
        const G = new Float64Array(g.length ** 2).map((_, k) => g[Math.floor(k / g.length)]! * g[k % g.length]!);
        factors.push({ A, G });
      });
      const m = new KfacFisher(factors, layout, META);
      const D = m.toDense();
      layout.groups.forEach((grp) => {
        for (let r = grp.offset; r < grp.offset + grp.size; r++) for (let c = grp.offset; c < grp.offset + grp.size; c++) {
          assert.ok(Math.abs(D[r * layout.size + c]! - psi[r]! * psi[c]!) <= 1e-13 * (1 + Math.abs(psi[r]! * psi[c]!)), `entry ${r},${c}`);
        }
      });
      // vᵀ F v = (ψ_lᵀ v_l)² summed over layers.
      const v = randn(layout.size, rng);
      const expected = layout.groups.reduce((s, grp) => {
        let d = 0;
        for (let r = grp.offset; r < grp.offset + grp.size; r++) d += psi[r]! * v[r]!;
        return s + d * d;
      }, 0);
      assert.ok(Math.abs(m.vMv(v) - expected) <= 1e-12 * expected);
    });

    it('matrix-free: CG solve and inverse, restricted layers, exact diag/trace when given, Hutchinson otherwise', () => {
      const rng = new Rng(27);
      const M = randomSpd(P, rng, 0.1);
      const calls = { mv: 0 };
      const cb = { mv: (v: Float64Array) => { calls.mv++; return naiveMv(M, P, v); } };
      const m = new MatrixFreeFisher(cb, LAYOUT, META, { cgTol: 1e-13, traceProbes: 200, traceSeed: 5 });
      assert.match(m.meta.notes.join('\n'), /Hutchinson estimate from 200 Rademacher probes/);
      const D = m.toDense();
      assertClose(D, M, 1e-15, 'matfree toDense');
      const v = randn(P, rng);
      assertClose(m.mv(v), naiveMv(M, P, v), 1e-15, 'mv');
      const x = m.solve(v, 0.1);
      assert.ok(m.lastSolve!.converged && m.lastSolve!.iterations <= 2 * P);
      assertClose(x, choleskySolve(cholesky(addDiag(M, P, 0.1), P), P, v), 1e-10, 'CG vs Cholesky');
      const inv = m.inverse(0.1);
      assertClose(inv.toDense(), gaussJordanInverse(addDiag(M, P, 0.1), P), 1e-10, 'matfree inverse');
      assertClose(m.diag(), Float64Array.from({ length: P }, (_, i) => M[i * P + i]!), 1e-15, 'diag by unit mat-vecs');
      // Hutchinson with Rademacher probes: variance per probe 2·Σ_{i≠j} M_ij².
      let tr = 0;
      let off2 = 0;
      for (let i = 0; i < P; i++) for (let j = 0; j < P; j++) (i === j ? (tr += M[i * P + j]!) : (off2 += M[i * P + j]! ** 2));
      const est = m.traceEstimate();
      const sd = Math.sqrt((2 * off2) / 200);
      assert.equal(est.probes, 200);
      assert.ok(Math.abs(est.value - tr) <= 5 * sd, `Hutchinson ${est.value} vs ${tr} (sd ${sd})`);
      assert.ok(Math.abs(est.stdError - sd) <= 0.5 * sd, `reported standard error ${est.stdError} vs ${sd}`);
      // With a diag callback the trace is exact and no note is added.
      const withDiag = new MatrixFreeFisher({ ...cb, diag: () => Float64Array.from({ length: P }, (_, i) => M[i * P + i]!) }, LAYOUT, META, { cgTol: 1e-13 });
      assert.ok(Math.abs(withDiag.trace() - tr) <= 1e-13 * tr);
      assert.ok(!withDiag.meta.notes.some((n) => /Hutchinson/.test(n)));
      assert.equal(new MatrixFreeFisher({ ...cb, trace: () => 42 }, LAYOUT, META).trace(), 42);
      checkAgainstDense(withDiag, rng, 0.1, 'matfree');
      // Non-convergence is an error that says so.
      const tight = new MatrixFreeFisher(cb, LAYOUT, META, { cgMaxIter: 2, cgTol: 1e-12 });
      assertThrowsCode(() => tight.solve(v, 0), 'INVALID_ARGUMENT', /did not converge: relative residual [\d.]+e[-+]\d+ after 2 iterations/);
      assertThrowsCode(() => m.toJSON(), 'INVALID_ARGUMENT', /cannot be serialised/);
    });

    it('not positive definite with zero damping: a clear error in every representation; damping fixes it', () => {
      const rng = new Rng(28);
      const Q = symmetricEigen(randomSpd(P, rng), P).vectors;
      const lam = Float64Array.from({ length: P }, (_, i) => (i === 0 ? -0.25 : i < 5 ? 0 : 1 + i));
      const M = new Float64Array(P * P);
      for (let i = 0; i < P; i++) for (let j = 0; j < P; j++) for (let p = 0; p < P; p++) M[i * P + j]! += Q[i * P + p]! * lam[p]! * Q[j * P + p]!;
      const v = randn(P, rng);
      const dense = new DenseFisher(Float64Array.from(M), LAYOUT, META);
      const e = assertThrowsCode(() => dense.solve(v, 0), 'INVALID_ARGUMENT', /not positive definite: Cholesky pivot/);
      assert.match(e.message, /smallest eigenvalue is -2\.500e-1/);
      assertThrowsCode(() => dense.inverse(0), 'INVALID_ARGUMENT', /not positive definite/);
      assertClose(naiveMv(addDiag(M, P, 0.5), P, dense.solve(v, 0.5)), v, 1e-10, 'damped');
      const diag = new DiagFisher(Float64Array.from({ length: P }, (_, i) => (i === 3 ? 0 : 1)), LAYOUT, META);
      assertThrowsCode(() => diag.solve(v, 0), 'INVALID_ARGUMENT', /entry 3 is 0\.000e\+0\. Use a damping above about 2\.22e-16/);
      assertThrowsCode(() => new DiagFisher(Float64Array.from({ length: P }, (_, i) => (i === 3 ? -0.5 : 1)), LAYOUT, META).inverse(0.2), 'INVALID_ARGUMENT', /entry 3 is -3\.000e-1\. Use a damping above about 5\.0\de-1/);
      const blocks = LAYOUT.groups.map((g) => new Float64Array(g.size * g.size));
      assertThrowsCode(() => new BlockFisher(blocks, LAYOUT, META).solve(v, 0), 'INVALID_ARGUMENT', /block '0:conv2d'.*not positive definite/);
      const factors = randomFactors(rng);
      factors[1]!.G.fill(0);
      assertThrowsCode(() => new KfacFisher(factors, LAYOUT, META).solve(v, 0), 'INVALID_ARGUMENT', /KFAC layer '3:dense' \+ 0·I is not positive definite: the smallest eigenvalue of its block is 0\.000e\+0.*Use any positive damping/);
      assertThrowsCode(() => new MatrixFreeFisher({ mv: (x) => x.map((y) => -y) }, LAYOUT, META).solve(v, 0), 'INVALID_ARGUMENT', /not positive definite/);
    });

    it('bad input: asymmetric, non-finite, wrong sizes', () => {
      const rng = new Rng(29);
      const M = randomSpd(P, rng);
      const asym = Float64Array.from(M);
      asym[1] = asym[1]! + 0.1;
      assertThrowsCode(() => new DenseFisher(asym, LAYOUT, META), 'INVALID_ARGUMENT', /not symmetric/);
      const nan = Float64Array.from(M);
      nan[5] = NaN;
      assertThrowsCode(() => new DenseFisher(nan, LAYOUT, META), 'NON_FINITE', /entry \[0, 5\] is NaN/);
      assertThrowsCode(() => new DenseFisher(new Float64Array(9), LAYOUT, META), 'SHAPE', /47×47 = 2209 values, got 9/);
      const f = randomFactors(rng);
      assertThrowsCode(() => new KfacFisher([{ A: f[0]!.A, G: f[1]!.G }, f[1]!, f[2]!], LAYOUT, META), 'SHAPE', /'0:conv2d': G \(out 2\) must be 2×2 = 4 values, got 9/);
      assertThrowsCode(() => new DiagFisher(new Float64Array(P), LAYOUT, META).solve(new Float64Array(P), -1), 'INVALID_ARGUMENT', /damping must be a finite number ≥ 0/);
    });
  });
});

describe('memory limit', () => {
  after(() => setMaxDenseBytes(null));
  it('TOO_LARGE names the bytes needed and suggests another representation', () => {
    const e = assertThrowsCode(() => checkDenseSize(100_000, 'engine'), 'TOO_LARGE', /engine: a dense 100000×100000 matrix would need 74\.5 GiB \(80000000000 bytes\)/);
    assert.match(e.message, /limit of 2\.0 GiB \(2147483648 bytes\)/);
    assert.match(e.message, /diag, block, kfac or matfree/);
    setMaxDenseBytes(P * P * 8 - 1);
    assertThrowsCode(() => new DenseFisher(new Float64Array(P * P), LAYOUT, META), 'TOO_LARGE', new RegExp(`would need [\\d.]+ KiB \\(${P * P * 8} bytes\\)`));
    assertThrowsCode(() => new DiagFisher(new Float64Array(P).fill(1), LAYOUT, META).toDense(), 'TOO_LARGE', /FIMKIT_MAX_DENSE_BYTES/);
    setMaxDenseBytes(null);
    process.env.FIMKIT_MAX_DENSE_BYTES = '800';
    try {
      assertThrowsCode(() => checkDenseSize(11, 'x'), 'TOO_LARGE', /968 bytes.*limit of 800 bytes/);
      checkDenseSize(10, 'x');
    } finally {
      delete process.env.FIMKIT_MAX_DENSE_BYTES;
    }
  });
});

describe('files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fimkit-fisher-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  it('saveFisher / loadFisher round-trip every storable representation exactly; damaged files are refused', () => {
    const rng = new Rng(30);
    const mats: FisherMatrix[] = [
      new DenseFisher(randomSpd(P, rng), LAYOUT, META),
      new DiagFisher(rng.fillUniform(new Float64Array(P), 0, 1), LAYOUT, META),
      new BlockFisher(LAYOUT.groups.map((g) => randomSpd(g.size, rng)), LAYOUT, META),
      new KfacFisher(randomFactors(rng), LAYOUT, META),
    ];
    mats.push((mats[3] as KfacFisher).inverse(0.1));
    mats.forEach((m, i) => {
      const path = join(dir, `f${i}.json`);
      saveFisher(path, m);
      const back = loadFisher(path);
      assert.equal(back.representation, m.representation);
      assert.deepEqual(back.toDense(), m.toDense());
      assert.deepEqual(back.meta, m.meta);
    });
    const text = readFileSync(join(dir, 'f0.json'), 'utf8');
    writeFileSync(join(dir, 'cut.json'), text.slice(0, Math.floor(text.length / 2)));
    assertThrowsCode(() => loadFisher(join(dir, 'cut.json')), 'TRUNCATED_FILE', /not valid JSON/);
    const json = JSON.parse(text);
    writeFileSync(join(dir, 'rep.json'), JSON.stringify({ ...json, representation: 'bogus' }));
    assertThrowsCode(() => loadFisher(join(dir, 'rep.json')), 'CORRUPT_FILE', /unknown representation "bogus"/);
    writeFileSync(join(dir, 'short.json'), JSON.stringify({ ...json, matrix: { ...json.matrix, base64: json.matrix.base64.slice(0, 400) } }));
    assertThrowsCode(() => loadFisher(join(dir, 'short.json')), 'TRUNCATED_FILE', /bytes for 2209 float64 values/);
    writeFileSync(join(dir, 'layout.json'), JSON.stringify({ ...json, layout: { ...json.layout, size: 3 } }));
    assertThrowsCode(() => loadFisher(join(dir, 'layout.json')), 'CORRUPT_FILE', /layout: size is 3 but the groups hold 47/);
    assertThrowsCode(() => loadFisher(join(dir, 'missing.json')), 'IO', /cannot read/);
  });
});

it('symmetric eigendecomposition converges on rank-deficient matrices with many zero eigenvalues', async () => {
  const { symmetricEigen } = await import('../src/fisher/linalg.js');
  const { Rng: R } = await import('../src/core/rng.js');
  const rng = new R(77);
  for (const [n, rank] of [[100, 9], [64, 1], [30, 0], [50, 25]] as const) {
    // A = V Vᵀ with V n×rank: rank `rank`, n − rank exact zero eigenvalues (up to rounding).
    const V = new Float64Array(n * Math.max(rank, 1)).map(() => (rank === 0 ? 0 : rng.normal()));
    const A = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) { let s = 0; for (let k = 0; k < rank; k++) s += V[i * rank + k]! * V[j * rank + k]!; A[i * n + j] = s; }
    const { values, vectors } = symmetricEigen(A.slice(), n);
    let norm = 0;
    for (const v of A) norm = Math.max(norm, Math.abs(v));
    // Reconstruction Q Λ Qᵀ = A to rounding of the matrix norm.
    let err = 0;
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += vectors[i * n + k]! * values[k]! * vectors[j * n + k]!;
      err = Math.max(err, Math.abs(s - A[i * n + j]!));
    }
    assert.ok(err <= 1e-12 * Math.max(norm, 1), `n ${n} rank ${rank}: reconstruction error ${err}`);
    assert.equal(values.filter((v) => Math.abs(v) > 1e-10 * Math.max(norm, 1)).length, rank);
  }
});
