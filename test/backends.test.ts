/**
 * Every fast backend that loads on this machine (native, wasm, and the other wasm build) is
 * compared kernel by kernel against the plain-TypeScript reference on seeded random inputs.
 *
 * Tolerances. Both sides evaluate elementwise formulas in double and round once on store, so
 * they differ only by (a) the final rounding to the output dtype (≤ 1 ulp of that dtype) and
 * (b) last-bit differences between the C/AssemblyScript math libraries and V8's, which the
 * cancelling derivative formulas (1 − t², s − s²) can amplify up to eps_f64 × the size of the
 * cancelling terms. GEMM uses the standard forward error bound
 * |ΔC| ≤ γ_{k+3} (|α|·|A||B| + |β|·|C₀|) with γ_n ≈ n·eps (eps = 2u covers the reference's own
 * rounding as well). Copies (im2col), scatter-adds in a fixed order (col2im) and single-rounding
 * arithmetic (binary, axpby, pre-activations) must match bit for bit.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { Binary, Unary, type Backend, type Conv2dGeometry, type UnaryCode } from '../src/core/backend.js';
import { availableBackends, backendReport, loadBackend } from '../src/core/backends/index.js';
import { tsBackend } from '../src/core/backends/ts.js';
import {
  WASM_FILES, WASM_SHARED_FILES, initWasmBackend, loadWasmBackend, wasmBackendFromBytes, wasmThreadedBackendFromBytes, type WasmVariant,
} from '../src/core/backends/wasm.js';
import {
  PARALLEL_MIN_MULTIPLY_ADDS, chunkStart, closeJob, enterJob, planGemmSplit, workerExecArgvChoices,
} from '../src/core/backends/wasm-workers.js';
import { epsilonOf, type DType, type FloatArray } from '../src/core/dtype.js';
import { FimkitError } from '../src/core/errors.js';
import { Rng } from '../src/core/rng.js';

const EPS64 = epsilonOf('float64');
const DTYPES: DType[] = ['float32', 'float64'];

function alloc(dtype: DType, n: number): FloatArray {
  return dtype === 'float32' ? new Float32Array(n) : new Float64Array(n);
}

function normal(rng: Rng, dtype: DType, n: number, std = 1): FloatArray {
  return rng.fillNormal(alloc(dtype, n), 0, std);
}

/** Backends under test: each loadable fast backend, plus the wasm build the default did not pick. */
function backendsUnderTest(): { label: string; backend: Backend }[] {
  const list: { label: string; backend: Backend }[] = [];
  for (const name of availableBackends()) {
    if (name !== 'ts') list.push({ label: name, backend: loadBackend(name) });
  }
  const wasmDir = fileURLToPath(new URL('../wasm/', import.meta.url)); // dist/test → dist/wasm
  if (existsSync(wasmDir)) {
    // Relaxed SIMD is behind a flag on Node 20; the test turns it on to check that build too.
    setFlagsFromString('--experimental-wasm-relaxed-simd');
    const loadedVariant = list.find((b) => b.label === 'wasm')?.backend.description.includes('relaxed') ? 'relaxed' : 'simd';
    for (const variant of ['simd', 'relaxed'] as WasmVariant[]) {
      if (list.some((b) => b.label === 'wasm') && variant === loadedVariant) continue;
      const path = wasmDir + WASM_FILES[variant];
      if (!existsSync(path)) continue;
      const bytes = readFileSync(path);
      if (!WebAssembly.validate(bytes)) continue;
      list.push({ label: `wasm-${variant}`, backend: wasmBackendFromBytes(bytes, variant) });
    }
  }
  return list;
}

const BACKENDS = backendsUnderTest();

/** Compares element by element; NaN must meet NaN and infinities must match exactly. */
function assertClose(what: string, got: FloatArray, want: FloatArray, tol: (i: number) => number, n = want.length): void {
  const bad: string[] = [];
  for (let i = 0; i < n; i++) {
    const g = got[i]!;
    const w = want[i]!;
    let ok: boolean;
    if (Number.isNaN(w)) ok = Number.isNaN(g);
    else if (!Number.isFinite(w)) ok = g === w;
    else ok = Math.abs(g - w) <= tol(i);
    if (!ok && bad.length < 5) bad.push(`[${i}] got ${g}, want ${w} (tol ${tol(i)})`);
  }
  assert.equal(bad.length, 0, `${what}: ${bad.join('; ')}`);
}

function assertExact(what: string, got: FloatArray, want: FloatArray, n = want.length): void {
  assertClose(what, got, want, () => 0, n);
}

describe('backend availability', () => {
  it('reports every backend with a reason, and ts always loads', () => {
    const report = backendReport();
    assert.deepEqual(report.map((r) => r.name), ['native', 'wasm', 'ts']);
    for (const r of report) assert.ok(r.reason.length > 0, `${r.name} has no reason`);
    assert.ok(availableBackends().includes('ts'));
  });

  it('lists the backends under test', (t) => {
    for (const r of backendReport()) t.diagnostic(`${r.name}: ${r.available ? `${r.description}` : `unavailable (${r.reason})`}`);
    t.diagnostic(`testing: ${BACKENDS.map((b) => `${b.label} [${b.backend.description}]`).join(', ') || 'none'}`);
    assert.ok(Array.isArray(BACKENDS));
  });

  it('loadBackend of an unknown name throws a BACKEND error listing the choices', () => {
    assert.throws(() => loadBackend('bogus'), (e: unknown) => {
      assert.ok(e instanceof FimkitError);
      assert.equal(e.code, 'BACKEND');
      assert.match(e.message, /unknown backend 'bogus'.*native, wasm, ts/);
      return true;
    });
  });

  const indexJs = fileURLToPath(new URL('../src/core/backends/index.js', import.meta.url));
  function child(env: Record<string, string>, code: string): { status: number | null; out: string } {
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], {
      env: { ...process.env, ...env }, encoding: 'utf8',
    });
    return { status: r.status, out: `${r.stdout}${r.stderr}` };
  }
  const printError = `try { const b = m.getBackend(); console.log('LOADED', b.name); } catch (e) { console.log('ERR', e.code, e.message); }`;

  it('FIMKIT_BACKEND=bogus makes getBackend throw, naming the value', () => {
    const r = child({ FIMKIT_BACKEND: 'bogus' }, `const m = await import(${JSON.stringify(indexJs)}); ${printError}`);
    assert.equal(r.status, 0, r.out);
    assert.match(r.out, /ERR BACKEND unknown backend 'bogus'/);
  });

  it('forcing a backend that cannot load is an error saying why, not a silent fallback', () => {
    const r = child({ FIMKIT_BACKEND: 'wasm', FIMKIT_WASM_VARIANT: 'nonsense' },
      `const m = await import(${JSON.stringify(indexJs)}); ${printError}`);
    assert.equal(r.status, 0, r.out);
    assert.match(r.out, /ERR BACKEND backend 'wasm' is not available: FIMKIT_WASM_VARIANT must be 'relaxed' or 'simd', got 'nonsense'/);
  });

  it('without Node globals (a browser bundle) native reports itself unavailable and wasm loads through initWasmBackend', () => {
    const wasmFile = fileURLToPath(new URL(`../wasm/${WASM_FILES.simd}`, import.meta.url));
    const nativeJs = fileURLToPath(new URL('../src/core/backends/native.js', import.meta.url));
    const wasmJs = fileURLToPath(new URL('../src/core/backends/wasm.js', import.meta.url));
    const r = child({}, `
      import { readFileSync } from 'node:fs';
      const bytes = readFileSync(${JSON.stringify(wasmFile)});
      Object.defineProperty(globalThis, 'process', { value: undefined, configurable: true, writable: true });
      const n = await import(${JSON.stringify(nativeJs)});
      const w = await import(${JSON.stringify(wasmJs)});
      console.log('NATIVE', n.loadNativeBackend().reason);
      console.log('WASM-SYNC', w.loadWasmBackend().reason);
      const b = await w.initWasmBackend({ simd: bytes });
      const c = new Float64Array(4);
      b.gemm(false, false, 2, 2, 1, 1, new Float64Array([1, 2]), 0, 1, new Float64Array([3, 4]), 0, 2, 0, c, 0, 2);
      console.log('WASM-ASYNC', b.name, c.join(','), w.loadWasmBackend() === b);`);
    assert.match(r.out, /NATIVE not running under Node/, r.out);
    assert.match(r.out, /WASM-SYNC .*call `await initWasmBackend\(\)` first/, r.out);
    assert.match(r.out, /WASM-ASYNC wasm 3,4,6,8 true/, r.out);
  });

  it('initWasmBackend() with no argument finds dist/wasm next to the module', async () => {
    const { initWasmBackend } = await import('../src/core/backends/wasm.js');
    const b = await initWasmBackend();
    assert.equal(b.name, 'wasm');
    const c = new Float32Array(1);
    b.gemm(true, true, 1, 1, 2, 2, new Float32Array([1, 2]), 0, 1, new Float32Array([3, 4]), 0, 2, 0, c, 0, 1);
    assert.equal(c[0], 22);
  });

  it('native honours FIMKIT_THREADS and rejects a malformed value', { skip: !availableBackends().includes('native') && 'native backend not built here' }, () => {
    const code = `const m = await import(${JSON.stringify(indexJs)}); try { console.log('THREADS', m.loadBackend('native').threads); } catch (e) { console.log('ERR', e.message); }`;
    assert.match(child({ FIMKIT_THREADS: '1' }, code).out, /THREADS 1\b/);
    assert.match(child({ FIMKIT_THREADS: 'many' }, code).out, /ERR backend 'native' is not available: FIMKIT_THREADS must be an integer/);
  });
});

for (const { label, backend: B } of BACKENDS) {
  describe(`${label} backend against ts`, () => {
    it('has the right name and falls back to ts for what it does not implement', () => {
      assert.equal(B.name, label.startsWith('wasm') ? 'wasm' : 'native');
      assert.ok(B.threads >= 1);
      for (const key of Object.keys(tsBackend) as (keyof Backend)[]) assert.equal(typeof B[key], typeof tsBackend[key], key);
    });

    describe('syrk', () => {
      for (const dtype of DTYPES) {
        it(`${dtype}: C = alpha·AᵀA + beta·C, both triangles, strided storage, k = 0 and n = 0`, () => {
          const rng = new Rng(`syrk-${label}-${dtype}`);
          const eps = epsilonOf(dtype);
          for (const [n, k] of [[1, 1], [3, 17], [17, 3], [65, 257], [130, 5]] as [number, number][]) {
            for (const [alpha, beta] of [[1, 0], [-0.5, 1.5]] as [number, number][]) {
              const lda = n + 2, ldc = n + 3, aOff = 4, cOff = 5;
              const a = normal(rng, dtype, aOff + (k - 1) * lda + n + 2);
              const c0 = alloc(dtype, cOff + (n - 1) * ldc + n + 3).fill(12345);
              // C is symmetric on entry (syrk reads one triangle); NaN when beta = 0 (ignored).
              for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) c0[cOff + i * ldc + j] = c0[cOff + j * ldc + i] = beta === 0 ? NaN : rng.normal();
              const got = c0.slice();
              B.syrk(n, k, alpha, a, aOff, lda, beta, got, cOff, ldc);
              const a64 = Float64Array.from(a);
              const want = Float64Array.from(c0);
              tsBackend.gemm(true, false, n, n, k, alpha, a64, aOff, lda, a64, aOff, lda, beta, want, cOff, ldc);
              const abs = new Float64Array(want.length);
              tsBackend.gemm(true, false, n, n, k, 1, a64.map(Math.abs), aOff, lda, a64.map(Math.abs), aOff, lda, 0, abs, cOff, ldc);
              const inC = (idx: number): boolean => {
                const r = Math.floor((idx - cOff) / ldc), col = idx - cOff - r * ldc;
                return idx >= cOff && r < n && col < n;
              };
              const tol = (i: number): number => (inC(i) ? (k + 3) * eps * (Math.abs(alpha) * abs[i]! + (beta === 0 ? 0 : Math.abs(beta * c0[i]!))) + 1e-300 : 0);
              assertClose(`syrk ${label} ${dtype} n=${n} k=${k} α=${alpha} β=${beta}`, got, want, tol);
              for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) assert.equal(got[cOff + i * ldc + j], got[cOff + j * ldc + i], 'symmetric');
            }
          }
          const c = alloc(dtype, 4).fill(NaN);
          B.syrk(2, 0, 1, alloc(dtype, 0), 0, 2, 0, c, 0, 2);
          assert.deepEqual(Array.from(c), [0, 0, 0, 0]);
          B.syrk(0, 3, 1, alloc(dtype, 0), 0, 1, 0, alloc(dtype, 0), 0, 1);
        });
      }
    });

    describe('gemmBatched', () => {
      for (const dtype of DTYPES) {
        it(`${dtype}: equals one gemm per entry (transposes, offsets, strides, β, overlapping outputs, enough entries for threads)`, () => {
          const rng = new Rng(`gemm-batched-${label}-${dtype}`);
          // [m, n, k, count]: the conv layers' per-sample shapes and a batch large enough to be split.
          for (const [m, n, k, count] of [[1, 1, 1, 1], [8, 25, 36, 5], [16, 20, 64, 70], [3, 7, 5, 0]] as [number, number, number, number][]) {
            for (const transA of [false, true]) for (const transB of [false, true]) for (const [alpha, beta] of [[1, 0], [0.5, 1]] as [number, number][]) {
              const lda = (transA ? m : k) + 2, ldb = (transB ? k : n) + 1, ldc = n + 3;
              const strideA = (transA ? k : m) * lda + 5, strideB = 0, strideC = m * ldc + 1;
              const a = normal(rng, dtype, 4 + Math.max(1, count) * strideA);
              const b = normal(rng, dtype, 2 + (transB ? n : k) * ldb);
              const c0 = normal(rng, dtype, 3 + Math.max(1, count) * strideC);
              const got = c0.slice(), want = c0.slice();
              B.gemmBatched(transA, transB, m, n, k, alpha, a, 4, lda, strideA, b, 2, ldb, strideB, beta, got, 3, ldc, strideC, count);
              for (let i = 0; i < count; i++) tsBackend.gemm(transA, transB, m, n, k, alpha, a, 4 + i * strideA, lda, b, 2, ldb, beta, want, 3 + i * strideC, ldc);
              const eps = epsilonOf(dtype);
              assertClose(`gemmBatched ${label} ${dtype} ${m}×${n}×${k} ×${count} tA=${transA} tB=${transB} β=${beta}`, got, want,
                (i) => 4 * (k + 2) * eps * (1 + Math.abs(want[i]!)));
            }
          }
          // Every entry adding into one C (stride 0): the entries must not race.
          const a = normal(rng, dtype, 64 * 8 * 9), b = normal(rng, dtype, 9 * 7);
          const got = alloc(dtype, 8 * 7), want = alloc(dtype, 8 * 7);
          B.gemmBatched(false, false, 8, 7, 9, 1, a, 0, 9, 72, b, 0, 7, 0, 1, got, 0, 7, 0, 64);
          for (let i = 0; i < 64; i++) tsBackend.gemm(false, false, 8, 7, 9, 1, a, i * 72, 9, b, 0, 7, 1, want, 0, 7);
          assertClose(`gemmBatched ${label} ${dtype} into one C`, got, want, (i) => 64 * 12 * epsilonOf(dtype) * (1 + Math.abs(want[i]!)));
        });
      }
    });

    describe('gemm', () => {
      // Shapes straddle the wasm micro-tiles (5×8 / 4×4) and cache blocks (MC 120/64, KC 256,
      // NC 2048/1024) as well as the trivial 1×1×1 case.
      const shapes: [number, number, number][] = [
        [1, 1, 1], [1, 17, 3], [3, 1, 17], [17, 65, 3], [65, 3, 257], [257, 17, 65], [3, 257, 1],
        [5, 8, 256], [6, 9, 257], [129, 130, 300], [4, 1030, 3], [3, 2053, 2],
      ];
      for (const dtype of DTYPES) {
        it(`${dtype}: every shape × transpose × (alpha, beta) × dense or strided storage`, () => {
          const rng = new Rng(`gemm-${label}-${dtype}`);
          for (const [m, n, k] of shapes) {
            for (const transA of [false, true]) {
              for (const transB of [false, true]) {
                const big = m * n * k > 1e6;
                const variants: [number, number, boolean][] = big
                  ? [[1, 0, false], [1.5, -0.5, true]]
                  : [[1, 0, false], [1, 0, true], [-0.75, 1, false], [1.5, -0.5, true]];
                for (const [alpha, beta, strided] of variants) {
                  const { results: [got], want, tol } = gemmOn([B], rng, dtype, m, n, k, transA, transB, alpha, beta, strided);
                  assertClose(`gemm ${label} ${dtype} m=${m} n=${n} k=${k} tA=${transA} tB=${transB} α=${alpha} β=${beta} strided=${strided}`,
                    got!, want, tol);
                }
              }
            }
          }
        });
      }

      it('k = 0 scales C by beta (beta = 0 clears NaN); m = 0 or n = 0 is a no-op', () => {
        for (const dtype of DTYPES) {
          const c = alloc(dtype, 6).fill(NaN);
          B.gemm(false, false, 2, 3, 0, 1, alloc(dtype, 0), 0, 1, alloc(dtype, 0), 0, 3, 0, c, 0, 3);
          assert.deepEqual(Array.from(c), [0, 0, 0, 0, 0, 0]);
          const c2 = alloc(dtype, 3).fill(2);
          B.gemm(false, false, 1, 3, 0, 1, alloc(dtype, 0), 0, 1, alloc(dtype, 0), 0, 3, 0.5, c2, 0, 3);
          assert.deepEqual(Array.from(c2), [1, 1, 1]);
          const c3 = alloc(dtype, 2).fill(7);
          B.gemm(false, false, 0, 2, 4, 1, alloc(dtype, 0), 0, 4, alloc(dtype, 8), 0, 2, 0, c3, 0, 2);
          assert.deepEqual(Array.from(c3), [7, 7]);
        }
      });

      it('rejects arrays too short for the sizes, mixed dtypes and a leading dimension below the row length', () => {
        const a = new Float32Array(6), b = new Float32Array(6), c = new Float32Array(4);
        const check = (code: string, pattern: RegExp) => (e: unknown): boolean => {
          assert.ok(e instanceof FimkitError, `not a FimkitError: ${String(e)}`);
          assert.equal(e.code, code);
          assert.match(e.message, pattern);
          return true;
        };
        assert.throws(() => B.gemm(false, false, 2, 2, 3, 1, a, 1, 3, b, 0, 2, 0, c, 0, 2), check('SHAPE', /a .*too short/));
        assert.throws(() => B.gemm(false, false, 2, 2, 3, 1, a, 0, 3, b, 0, 2, 0, new Float32Array(3), 0, 2), check('SHAPE', /c .*too short/));
        assert.throws(() => B.gemm(false, false, 2, 2, 3, 1, a, 0, 2, b, 0, 2, 0, c, 0, 2), check('SHAPE', /leading dimension of a/));
        assert.throws(() => B.gemm(false, false, 2, 2, 3, 1, a, 0, 3, new Float64Array(6), 0, 2, 0, c, 0, 2), check('DTYPE', /float64.*float32/));
        // gemmBatched: the last entry's A, and its C, must fit too.
        assert.throws(() => B.gemmBatched(false, false, 2, 2, 3, 1, new Float32Array(12), 0, 3, 6, b, 0, 2, 0, 0, new Float32Array(8), 0, 2, 4, 3),
          check('SHAPE', /too short/));
        assert.throws(() => B.gemmBatched(false, false, 2, 2, 3, 1, new Float32Array(18), 0, 3, 6, b, 0, 2, 0, 0, new Float32Array(8), 0, 2, 4, 3),
          check('SHAPE', /c .*too short/));
      });
    });

    describe('elementwise', () => {
      const names = Object.keys(Unary) as (keyof typeof Unary)[];
      // Extra size of the terms that cancel in each formula (see the header): 1 for the bounded
      // logistic / tanh family, where libm's last bit can matter; 0 where the result is
      // a single correctly-rounded-ish operation or the two sides use the same expression.
      const cancelScale = (op: UnaryCode): number =>
        op === Unary.sigmoid || op === Unary.tanh || op === Unary.softplus || op === Unary.logSigmoid ? 4 : 0;
      // The reference's erfc is accurate to ~1e-13 relative (src/core/scalar.ts), so gelu gets
      // that much slack on top, scaled by the size of x·Φ(x) and its derivatives' terms.
      const geluSlack = (x: number): number => 2e-13 * (1 + Math.abs(x) + x * x * Math.exp(-0.5 * x * x));

      function unaryTol(op: UnaryCode, dtype: DType, x: number, want: number, g = 1): number {
        const tiny = dtype === 'float32' ? 1.5e-45 : 5e-324; // one subnormal step
        return 4 * epsilonOf(dtype) * Math.abs(want)
          + Math.abs(g) * (8 * EPS64 * cancelScale(op) + (op === Unary.gelu ? geluSlack(x) : 0)) + tiny;
      }

      function inputs(rng: Rng, dtype: DType, n: number): FloatArray {
        const x = normal(rng, dtype, n, 3);
        const specials = [0, -0, 1e-3, -1e-3, 0.5, -0.5, 7, -7, 20, -20, 40, -40, 1e4, -1e4];
        specials.forEach((s, i) => { x[i] = s; });
        return x;
      }

      for (const dtype of DTYPES) {
        it(`${dtype}: unary and unaryMul for orders 0–3 of every Unary code (order 3 is the ts fallback)`, () => {
          const rng = new Rng(`unary-${label}-${dtype}`);
          for (const name of names) {
            const op = Unary[name];
            for (const n of [1, 3, 17, 257]) {
              const x = n === 1 ? alloc(dtype, 1).fill(0.3) : inputs(rng, dtype, n);
              const g = normal(rng, dtype, n);
              for (let order = 0; order <= 3; order++) {
                const alpha = 0.1;
                const got = alloc(dtype, n).fill(NaN), want = alloc(dtype, n);
                B.unary(op, order, alpha, x, got);
                tsBackend.unary(op, order, alpha, x, want);
                assertClose(`${label} unary ${name} order ${order} ${dtype} n=${n}`, got, want,
                  (i) => unaryTol(op, dtype, x[i]!, want[i]!));
                const gotM = alloc(dtype, n).fill(NaN), wantM = alloc(dtype, n);
                B.unaryMul(op, order, alpha, x, g, gotM);
                tsBackend.unaryMul(op, order, alpha, x, g, wantM);
                assertClose(`${label} unaryMul ${name} order ${order} ${dtype} n=${n}`, gotM, wantM,
                  (i) => unaryTol(op, dtype, x[i]!, wantM[i]!, g[i]!));
              }
            }
          }
        });
      }

      it('sigmoid, softplus, logSigmoid, tanh and gelu stay finite at ±1e4 for orders 0–2', () => {
        for (const dtype of DTYPES) {
          const x = alloc(dtype, 4);
          x.set([1e4, -1e4, 700, -700]);
          for (const name of ['sigmoid', 'softplus', 'logSigmoid', 'tanh', 'gelu'] as const) {
            for (let order = 0; order <= 2; order++) {
              const out = alloc(dtype, 4);
              B.unary(Unary[name], order, 0, x, out);
              for (let i = 0; i < 4; i++) {
                // Every true value here is representable (|f| ≤ 1e4), so all must be finite.
                assert.ok(Number.isFinite(out[i]!), `${label} ${name} order ${order} ${dtype} at ${x[i]} gave ${out[i]}`);
              }
            }
          }
        }
      });

      it('addRowVectorAct for every activation, with and without bias and pre-activation output', () => {
        for (const dtype of DTYPES) {
          const rng = new Rng(`bias-${label}-${dtype}`);
          for (const [rows, cols] of [[1, 1], [3, 17], [17, 3], [65, 257], [2, 5]] as [number, number][]) {
            for (const name of names) {
              const act = Unary[name];
              for (const withBias of [true, false]) {
                for (const withPre of [true, false]) {
                  const x = normal(rng, dtype, rows * cols, 3);
                  const v = withBias ? normal(rng, dtype, cols) : null;
                  const got = alloc(dtype, rows * cols).fill(NaN), want = alloc(dtype, rows * cols);
                  const gotPre = withPre ? alloc(dtype, rows * cols).fill(NaN) : null;
                  const wantPre = withPre ? alloc(dtype, rows * cols) : null;
                  B.addRowVectorAct(x, v, rows, cols, act, 0.2, gotPre, got);
                  tsBackend.addRowVectorAct(x, v, rows, cols, act, 0.2, wantPre, want);
                  const what = `${label} addRowVectorAct ${name} ${dtype} ${rows}x${cols} bias=${withBias}`;
                  assertClose(what, got, want, (i) => unaryTol(act, dtype, wantPre ? wantPre[i]! : 0, want[i]!));
                  if (gotPre && wantPre) assertExact(`${what} pre`, gotPre, wantPre);
                }
              }
            }
          }
          // In place (out aliases x), as the layers may call it.
          const x = normal(rng, dtype, 12);
          const want = alloc(dtype, 12);
          tsBackend.addRowVectorAct(x, null, 3, 4, Unary.relu, 0, null, want);
          B.addRowVectorAct(x, null, 3, 4, Unary.relu, 0, null, x);
          assertExact(`${label} addRowVectorAct in place`, x, want);
        }
      });

      it('binary and axpby match exactly (one rounding per element)', () => {
        for (const dtype of DTYPES) {
          const rng = new Rng(`binary-${label}-${dtype}`);
          for (const n of [1, 3, 17, 257]) {
            const a = normal(rng, dtype, n), b = normal(rng, dtype, n);
            for (const name of Object.keys(Binary) as (keyof typeof Binary)[]) {
              const got = alloc(dtype, n), want = alloc(dtype, n);
              B.binary(Binary[name], a, b, got);
              tsBackend.binary(Binary[name], a, b, want);
              assertExact(`${label} binary ${name} ${dtype} n=${n}`, got, want);
            }
            for (const y of [b, null]) {
              const got = alloc(dtype, n), want = alloc(dtype, n);
              B.axpby(0.3, a, -1.7, y, got);
              tsBackend.axpby(0.3, a, -1.7, y, want);
              assertExact(`${label} axpby ${dtype} n=${n} y=${y ? 'array' : 'null'}`, got, want);
            }
          }
        }
      });

      it('sumRows (beta 0 and 1), sumSquaredRows, sumCols, softmaxRows and logSumExpRows', () => {
        for (const dtype of DTYPES) {
          const eps = epsilonOf(dtype);
          const rng = new Rng(`rows-${label}-${dtype}`);
          for (const [rows, cols] of [[1, 1], [1, 3], [3, 17], [17, 1], [65, 257], [257, 65], [3, 1500]] as [number, number][]) {
            const x = normal(rng, dtype, rows * cols, 4);
            const absColSum = new Float64Array(cols), absRowSum = new Float64Array(rows);
            for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) {
              absColSum[c]! += Math.abs(x[r * cols + c]!);
              absRowSum[r]! += Math.abs(x[r * cols + c]!);
            }
            const tag = `${label} ${dtype} ${rows}x${cols}`;
            for (const beta of [0, 1]) {
              const start = normal(rng, dtype, cols);
              const got = start.slice(), want = start.slice();
              if (beta === 0) got.fill(NaN);
              B.sumRows(x, rows, cols, beta, got);
              tsBackend.sumRows(x, rows, cols, beta, want);
              assertClose(`sumRows β=${beta} ${tag}`, got, want,
                (c) => 2 * eps * Math.abs(want[c]!) + (rows + 2) * EPS64 * (absColSum[c]! + Math.abs(start[c]!)));
            }
            for (const beta of [0, 0.5]) {
              // Σ_r x²: checked against a direct float64 loop, not against another kernel.
              const start = normal(rng, dtype, cols);
              const got = start.slice();
              if (beta === 0) got.fill(NaN);
              B.sumSquaredRows(x, rows, cols, beta, got);
              const want = new Float64Array(cols), mag = new Float64Array(cols);
              for (let c = 0; c < cols; c++) {
                let s = 0;
                for (let r = 0; r < rows; r++) s += x[r * cols + c]! ** 2;
                want[c] = (beta === 0 ? 0 : beta * start[c]!) + s;
                mag[c] = s + Math.abs(beta * start[c]!);
              }
              assertClose(`sumSquaredRows β=${beta} ${tag}`, got, want, (c) => 2 * eps * mag[c]! + (rows + 2) * EPS64 * mag[c]!);
            }
            const gotS = alloc(dtype, rows).fill(NaN), wantS = alloc(dtype, rows);
            B.sumCols(x, rows, cols, gotS);
            tsBackend.sumCols(x, rows, cols, wantS);
            assertClose(`sumCols ${tag}`, gotS, wantS, (r) => 2 * eps * Math.abs(wantS[r]!) + (cols + 2) * EPS64 * absRowSum[r]!);

            const gotP = alloc(dtype, rows * cols).fill(NaN), wantP = alloc(dtype, rows * cols);
            B.softmaxRows(x, rows, cols, gotP);
            tsBackend.softmaxRows(x, rows, cols, wantP);
            assertClose(`softmaxRows ${tag}`, gotP, wantP, (i) => (4 * eps + 4 * (cols + 2) * EPS64) * Math.abs(wantP[i]!) + 1e-300);

            const gotL = alloc(dtype, rows).fill(NaN), wantL = alloc(dtype, rows);
            B.logSumExpRows(x, rows, cols, gotL);
            tsBackend.logSumExpRows(x, rows, cols, wantL);
            assertClose(`logSumExpRows ${tag}`, gotL, wantL, (r) => 2 * eps * Math.abs(wantL[r]!) + 4 * (cols + 2) * EPS64 * (1 + Math.abs(wantL[r]!)));
          }
          // Special rows: all −∞ (log-sum-exp −∞), a NaN (propagates), a +∞ (NaN like the reference).
          const special = alloc(dtype, 9);
          special.set([-Infinity, -Infinity, -Infinity, 1, NaN, 2, 0, Infinity, 1]);
          const gotL = alloc(dtype, 3), wantL = alloc(dtype, 3);
          B.logSumExpRows(special, 3, 3, gotL);
          tsBackend.logSumExpRows(special, 3, 3, wantL);
          assertExact(`${label} logSumExpRows special rows`, gotL, wantL);
          const gotP = alloc(dtype, 9), wantP = alloc(dtype, 9);
          B.softmaxRows(special, 3, 3, gotP);
          tsBackend.softmaxRows(special, 3, 3, wantP);
          assertExact(`${label} softmaxRows special rows`, gotP, wantP);
        }
      });

      it('im2col and col2im with stride and padding match exactly', () => {
        const geometries: Omit<Conv2dGeometry, 'outH' | 'outW'>[] = [
          { batch: 2, channels: 3, height: 7, width: 6, kernelH: 3, kernelW: 3, strideH: 1, strideW: 1, padH: 1, padW: 1 },
          { batch: 1, channels: 2, height: 9, width: 8, kernelH: 3, kernelW: 2, strideH: 2, strideW: 3, padH: 1, padW: 0 },
          { batch: 3, channels: 1, height: 5, width: 5, kernelH: 5, kernelW: 5, strideH: 1, strideW: 1, padH: 2, padW: 2 },
          { batch: 1, channels: 4, height: 1, width: 1, kernelH: 1, kernelW: 1, strideH: 1, strideW: 1, padH: 0, padW: 0 },
        ];
        for (const dtype of DTYPES) {
          const rng = new Rng(`conv-${label}-${dtype}`);
          for (const g0 of geometries) {
            const g: Conv2dGeometry = {
              ...g0,
              outH: Math.floor((g0.height + 2 * g0.padH - g0.kernelH) / g0.strideH) + 1,
              outW: Math.floor((g0.width + 2 * g0.padW - g0.kernelW) / g0.strideW) + 1,
            };
            const imageLen = g.batch * g.channels * g.height * g.width;
            const colLen = g.batch * g.outH * g.outW * g.channels * g.kernelH * g.kernelW;
            const x = normal(rng, dtype, imageLen);
            const got = alloc(dtype, colLen).fill(NaN), want = alloc(dtype, colLen);
            B.im2col(x, g, got);
            tsBackend.im2col(x, g, want);
            assertExact(`${label} im2col ${dtype} ${JSON.stringify(g0)}`, got, want);
            const cols = normal(rng, dtype, colLen);
            const gotI = alloc(dtype, imageLen).fill(NaN), wantI = alloc(dtype, imageLen);
            B.col2im(cols, g, gotI);
            tsBackend.col2im(cols, g, wantI);
            assertExact(`${label} col2im ${dtype} ${JSON.stringify(g0)}`, gotI, wantI);
          }
        }
      });

      it('adamStep (with and without weight decay) over several steps', () => {
        for (const dtype of DTYPES) {
          const eps = epsilonOf(dtype);
          const rng = new Rng(`adam-${label}-${dtype}`);
          for (const n of [1, 3, 17, 257]) {
            for (const wd of [0, 0.01]) {
              const p = normal(rng, dtype, n), m = alloc(dtype, n), v = alloc(dtype, n);
              const p2 = p.slice(), m2 = m.slice(), v2 = v.slice();
              for (let step = 1; step <= 3; step++) {
                const grad = normal(rng, dtype, n);
                B.adamStep(p, grad, m, v, 1e-3, 0.9, 0.999, 1e-8, wd, step);
                tsBackend.adamStep(p2, grad, m2, v2, 1e-3, 0.9, 0.999, 1e-8, wd, step);
                // One step moves a parameter by ≤ lr·|m̂|/√v̂ ~ lr; the update is a few roundings.
                const tag = `${label} adamStep ${dtype} n=${n} wd=${wd} step=${step}`;
                assertClose(`${tag} param`, p, p2, (i) => 4 * eps * Math.abs(p2[i]!) + 1e-3 * 16 * EPS64 + 1e-300);
                assertClose(`${tag} m`, m, m2, (i) => 2 * eps * Math.abs(m2[i]!) + 1e-300);
                assertClose(`${tag} v`, v, v2, (i) => 2 * eps * Math.abs(v2[i]!) + 1e-300);
              }
            }
          }
        }
      });

      it('rejects mixed dtypes and too-short outputs with FimkitError', () => {
        assert.throws(() => B.addRowVectorAct(new Float32Array(6), new Float64Array(3), 2, 3, Unary.relu, 0, null, new Float32Array(6)),
          (e: unknown) => e instanceof FimkitError && e.code === 'DTYPE');
        assert.throws(() => B.softmaxRows(new Float64Array(6), 2, 3, new Float64Array(5)),
          (e: unknown) => e instanceof FimkitError && e.code === 'SHAPE');
        assert.throws(() => B.sumRows(new Float32Array(5), 2, 3, 0, new Float32Array(3)),
          (e: unknown) => e instanceof FimkitError && e.code === 'SHAPE');
      });
    });
  });
}

// ------------------------------------------------------------------ moment kernels

/** stackedMoments of one (input, direction) straight from its definition, in float64. */
function directMoments(src: FloatArray, B: number, slots: number, count: number, coef: Float64Array, kappa: number, scale: FloatArray | null, b: number, j: number) {
  const cb = b * (3 * slots + 1);
  let s = 0, sAbs = 0, m2 = 0, mag2 = 0, m4 = 0, mag4 = 0, sq = 0;
  for (let r = 0; r < slots; r++) {
    const d = src[(r * B + b) * count + j]!;
    const w = coef[cb + r]!, q = coef[cb + slots + r]!, rho = coef[cb + 2 * slots + r]!;
    s += rho * d; sAbs += Math.abs(rho * d);
    m2 += w * d * d; mag2 += Math.abs(w) * d * d;
    m4 += q * d ** 4; mag4 += Math.abs(q) * d ** 4;
    sq += (w * d * d) ** 2;
  }
  const gamma = coef[cb + 3 * slots]!;
  m2 += gamma * s * s; mag2 += Math.abs(gamma) * sAbs ** 2;
  m4 += gamma * s ** 4 + kappa * Math.max(0, m2 * m2 - sq); mag4 += Math.abs(gamma) * sAbs ** 4 + Math.abs(kappa) * (mag2 ** 2 + sq);
  const c2 = scale ? scale[b * count + j]! ** 2 : 1;
  return { m2: m2 * c2, m4: m4 * c2 * c2, mag2: mag2 * c2, mag4: (mag4 + mag2 ** 2) * c2 * c2 };
}

for (const { label, backend: B } of [{ label: 'ts', backend: tsBackend }, ...BACKENDS]) {
  describe(`${label} moment kernels`, () => {
    for (const dtype of DTYPES) {
      it(`${dtype}: stackedMoments against its definition (κ = 0 and 3, scaled or not, m2 only or with the fourth moments, strided rows)`, () => {
        const eps = epsilonOf(dtype);
        const rng = new Rng(`moments-${label}-${dtype}`);
        // The last size is large enough for the native kernel to split the inputs over threads.
        for (const [Bn, slots, count] of [[1, 1, 1], [3, 4, 5], [17, 9, 33], [64, 9, 512]] as [number, number, number][]) {
          const src = normal(rng, dtype, slots * Bn * count, 2);
          const coef = new Float64Array(Bn * (3 * slots + 1));
          for (let i = 0; i < coef.length; i++) coef[i] = rng.uniform() * (i % (3 * slots + 1) < 2 * slots ? 1 : 2);
          const scale = normal(rng, dtype, Bn * count);
          for (const kappa of [0, 3]) for (const scaled of [false, true]) for (const fourth of [false, true]) {
            const width = (fourth ? 3 : 1) * count;
            const off = 2, ld = width + 3;
            const SENTINEL = 12345;
            const out = alloc(dtype, off + Bn * ld + 1).fill(SENTINEL);
            B.stackedMoments(src, Bn, slots, count, coef, kappa, scaled ? scale : null, fourth, out, off, ld);
            const tag = `${label} ${dtype} B=${Bn} slots=${slots} count=${count} κ=${kappa} scaled=${scaled} fourth=${fourth}`;
            const bad: string[] = [];
            for (let b = 0; b < Bn; b++) for (let j = 0; j < count; j++) {
              const want = directMoments(src, Bn, slots, count, coef, kappa, scaled ? scale : null, b, j);
              const o = off + b * ld;
              const t2 = 2 * eps * Math.abs(want.m2) + 8 * (slots + 4) * EPS64 * want.mag2;
              if (!(Math.abs(out[o + j]! - want.m2) <= t2)) bad.push(`m2[${b},${j}] ${out[o + j]} vs ${want.m2}`);
              if (!fourth) continue;
              const sq = want.m2 * want.m2;
              if (!(Math.abs(out[o + count + j]! - sq) <= 2 * eps * sq + 4 * t2 * Math.abs(want.m2))) bad.push(`m2²[${b},${j}] ${out[o + count + j]} vs ${sq}`);
              const v = Math.max(0, want.m4 - sq);
              const tv = 2 * eps * v + 16 * (slots + 4) * EPS64 * want.mag4 + 4 * t2 * Math.abs(want.m2);
              if (!(out[o + 2 * count + j]! >= 0) || !(Math.abs(out[o + 2 * count + j]! - v) <= tv)) bad.push(`V1[${b},${j}] ${out[o + 2 * count + j]} vs ${v}`);
            }
            // Nothing outside the written windows is touched.
            for (let i = 0; i < out.length; i++) {
              const rel = i - off;
              const inside = rel >= 0 && rel < Bn * ld && rel % ld < width;
              if (!inside && out[i] !== SENTINEL) bad.push(`out[${i}] outside the rows was written`);
            }
            assert.deepEqual(bad.slice(0, 5), [], tag);
          }
        }
      });

      it(`${dtype}: accumulate adds into float64 sums at an offset`, () => {
        const rng = new Rng(`accumulate-${label}-${dtype}`);
        for (const n of [0, 1, 17, 4099]) {
          const x = normal(rng, dtype, n);
          const out = Float64Array.from(normal(rng, 'float64', n + 5));
          const want = out.slice();
          for (let i = 0; i < n; i++) want[3 + i]! += x[i]!;
          B.accumulate(x, out, 3);
          assertExact(`${label} accumulate ${dtype} n=${n}`, out, want);
        }
      });
    }

    it('rejects a float32 coefficient array, a short output and a row stride below the values written', () => {
      const src = new Float32Array(2 * 3 * 4), coef = new Float64Array(3 * 7), out = new Float32Array(3 * 12);
      const code = (c: string) => (e: unknown) => e instanceof FimkitError && e.code === c;
      assert.throws(() => B.stackedMoments(src, 3, 2, 4, new Float32Array(21) as unknown as Float64Array, 0, null, true, out, 0, 12), code('DTYPE'));
      assert.throws(() => B.stackedMoments(src, 3, 2, 4, coef, 0, null, true, new Float32Array(35), 0, 12), code('SHAPE'));
      assert.throws(() => B.stackedMoments(src, 3, 2, 4, coef, 0, null, true, out, 0, 11), code('SHAPE'));
      assert.throws(() => B.stackedMoments(new Float32Array(23), 3, 2, 4, coef, 0, null, true, out, 0, 12), code('SHAPE'));
      assert.throws(() => B.accumulate(new Float32Array(4), new Float32Array(4) as unknown as Float64Array, 0), code('DTYPE'));
      assert.throws(() => B.accumulate(new Float32Array(4), new Float64Array(4), 1), code('SHAPE'));
    });
  });
}

// ------------------------------------------------------------------ wasm gemm on worker threads

/** Bytes of a built wasm file in dist/wasm, or null when it is missing or does not validate here. */
function wasmFileBytes(file: string): Uint8Array<ArrayBuffer> | null {
  const path = fileURLToPath(new URL(`../wasm/${file}`, import.meta.url));
  if (!existsSync(path)) return null;
  const bytes = new Uint8Array(readFileSync(path));
  return WebAssembly.validate(bytes) ? bytes : null;
}

/** Variants whose plain and shared-memory builds both load here (relaxed needs the flag set above). */
const THREADED_VARIANTS = (['simd', 'relaxed'] as WasmVariant[]).filter(
  (v) => wasmFileBytes(WASM_FILES[v]) !== null && wasmFileBytes(WASM_SHARED_FILES[v]) !== null);

/**
 * One gemm case: random operands (strided storage when asked), C filled with NaN inside the
 * m×n window when beta = 0 and a sentinel outside it. Returns what each backend leaves in C.
 */
function gemmOn(backends: Backend[], rng: Rng, dtype: DType, m: number, n: number, k: number, transA: boolean, transB: boolean,
  alpha: number, beta: number, strided: boolean): { results: FloatArray[]; want: Float64Array; tol: (i: number) => number } {
  const aRows = transA ? k : m, aCols = transA ? m : k;
  const bRows = transB ? n : k, bCols = transB ? k : n;
  const pad = strided ? 3 : 0;
  const [aOff, bOff, cOff] = strided ? [5, 2, 7] : [0, 0, 0];
  const lda = aCols + pad, ldb = bCols + pad, ldc = n + (strided ? 2 : 0);
  const a = normal(rng, dtype, aOff + (aRows - 1) * lda + aCols + pad);
  const b = normal(rng, dtype, bOff + (bRows - 1) * ldb + bCols + pad);
  const cLen = cOff + (m - 1) * ldc + n + 4;
  const inC = (idx: number): boolean => {
    const r = Math.floor((idx - cOff) / ldc), col = idx - cOff - r * ldc;
    return idx >= cOff && r < m && col < n;
  };
  const c0 = alloc(dtype, cLen).fill(12345);
  for (let i = 0; i < cLen; i++) if (inC(i)) c0[i] = beta === 0 ? NaN : rng.normal();
  const results = backends.map((B) => {
    const c = c0.slice();
    B.gemm(transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
    return c;
  });
  const a64 = Float64Array.from(a), b64 = Float64Array.from(b);
  const want = Float64Array.from(c0);
  tsBackend.gemm(transA, transB, m, n, k, alpha, a64, aOff, lda, b64, bOff, ldb, beta, want, cOff, ldc);
  const absBound = new Float64Array(cLen);
  tsBackend.gemm(transA, transB, m, n, k, 1, a64.map(Math.abs), aOff, lda, b64.map(Math.abs), bOff, ldb, 0, absBound, cOff, ldc);
  const eps = epsilonOf(dtype);
  const tol = (i: number): number =>
    inC(i) ? (k + 3) * eps * (Math.abs(alpha) * absBound[i]! + (beta === 0 ? 0 : Math.abs(beta * c0[i]!))) + 1e-300 : 0;
  return { results, want, tol };
}

describe('wasm gemm on worker threads', { skip: THREADED_VARIANTS.length === 0 && 'shared-memory wasm builds not built here' }, () => {
  it('plans: one thread below the threshold, else chunks on tile / cache-line edges that cover C', () => {
    assert.deepEqual(PARALLEL_MIN_MULTIPLY_ADDS, { float32: 2 ** 22, float64: 2 ** 21 });
    assert.equal(planGemmSplit(256, 128, 127, true, 2), null, 'float32: 256·128·127 < 2^22');
    assert.notEqual(planGemmSplit(256, 128, 128, true, 2), null, 'float32: 256·128·128 = 2^22');
    assert.equal(planGemmSplit(128, 128, 127, false, 2), null, 'float64: 128·128·127 < 2^21');
    assert.notEqual(planGemmSplit(128, 128, 128, false, 2), null, 'float64: 128·128·128 = 2^21');
    assert.equal(planGemmSplit(4096, 4096, 4096, true, 1), null, 'one thread');
    assert.equal(planGemmSplit(9, 2, 1 << 22, true, 2), null, 'one row block of 5 only');
    const cases: [number, number, number, boolean, number][] = [
      [128, 128, 128, false, 2], [1024, 1024, 1024, true, 2], [37, 300, 380, true, 2], [12, 8, 44000, true, 2], [9, 1500, 160, false, 3],
    ];
    for (const [m, n, k, f32, threads] of cases) {
      const s = planGemmSplit(m, n, k, f32, threads)!;
      assert.ok(s !== null, `${m}x${n}x${k} splits`);
      assert.equal(s.byRows, m >= n);
      assert.equal(s.dim, m >= n ? m : n);
      assert.equal(s.unit, s.byRows ? (f32 ? 5 : 4) : (f32 ? 16 : 8));
      assert.ok(s.chunks >= 2 && s.chunks <= 2 * threads, `${s.chunks} chunks`);
      assert.equal(chunkStart(0, s.dim, s.chunks, s.unit), 0);
      assert.equal(chunkStart(s.chunks, s.dim, s.chunks, s.unit), s.dim);
      for (let i = 1; i < s.chunks; i++) {
        const at = chunkStart(i, s.dim, s.chunks, s.unit);
        assert.equal(at % s.unit, 0, `edge ${at} on a ${s.unit} multiple`);
        assert.ok(at > chunkStart(i - 1, s.dim, s.chunks, s.unit) && at < s.dim, `edge ${i} of ${m}x${n}x${k} inside and increasing`);
      }
    }
  });

  it('a job is joined by the worker or closed to it by the main thread, never both', () => {
    const slot = new Int32Array(new SharedArrayBuffer(4));
    assert.equal(enterJob(slot, 0, 1), true, 'worker joins job 1');
    assert.equal(closeJob(slot, 0, 1), true, 'main waits for it');
    assert.equal(closeJob(slot, 0, 2), false, 'job 2 done before the worker woke: closed');
    assert.equal(slot[0], -2);
    assert.equal(enterJob(slot, 0, 2), false, 'the late worker stays out of job 2');
    assert.equal(enterJob(slot, 0, 3), true, 'and joins job 3');
    assert.equal(closeJob(slot, 0, 3), true);
    // A worker that slept through a closed job joins the next one.
    assert.equal(closeJob(slot, 0, 4), false);
    assert.equal(enterJob(slot, 0, 5), true);
  });

  for (const variant of THREADED_VARIANTS) {
    describe(variant, () => {
      const single = wasmBackendFromBytes(wasmFileBytes(WASM_FILES[variant])!, variant);
      const shared = wasmFileBytes(WASM_SHARED_FILES[variant])!;
      const two = wasmThreadedBackendFromBytes(shared, variant, 2);
      const three = wasmThreadedBackendFromBytes(shared, variant, 3);

      it('starts its workers and says so', () => {
        assert.equal(two.name, 'wasm');
        assert.equal(two.threads, 2);
        assert.match(two.description, /2 threads \(gemms from 2\^22 float32 \/ 2\^21 float64 multiply-adds shared with 1 worker thread\)/);
        assert.equal(three.threads, 3);
        assert.match(three.description, /3 threads .*2 worker threads/);
        assert.equal(wasmThreadedBackendFromBytes(shared, variant, 1).threads, 1);
        assert.match(single.description, /, 1 thread$/);
      });

      // Above both thresholds: row splits (m ≥ n, including a 12-row C cut in two or three and a
      // tall thin one) and column splits (including a 9-row C). Between them (split in float64
      // only) and below both: one thread.
      const shapes: [number, number, number][] = [
        [260, 130, 130], [12, 8, 44000], [1000, 3, 1400], [37, 300, 380], [9, 1500, 320],
        [130, 129, 200], [64, 64, 64], [5, 8, 256],
      ];
      for (const dtype of DTYPES) {
        it(`${dtype}: equals the single-threaded kernels bit for bit (and ts within the rounding bound), all transposes, alpha/beta, strided`, () => {
          const rng = new Rng(`threaded-gemm-${variant}-${dtype}`);
          const split = shapes.map(([m, n, k]) => planGemmSplit(m, n, k, dtype === 'float32', 2) !== null);
          assert.deepEqual(split, [true, true, true, true, true, dtype === 'float64', false, false], 'shapes on both sides of the threshold');
          for (const [m, n, k] of shapes) {
            for (const transA of [false, true]) {
              for (const transB of [false, true]) {
                for (const [alpha, beta, strided] of [[1, 0, false], [-0.75, 1, true], [1.5, -0.5, true]] as [number, number, boolean][]) {
                  const tag = `${variant} ${dtype} m=${m} n=${n} k=${k} tA=${transA} tB=${transB} α=${alpha} β=${beta} strided=${strided}`;
                  const { results: [one, twoC, threeC], want, tol } = gemmOn([single, two, three], rng, dtype, m, n, k, transA, transB, alpha, beta, strided);
                  assertExact(`2 threads vs 1, ${tag}`, twoC!, one!);
                  assertExact(`3 threads vs 1, ${tag}`, threeC!, one!);
                  assertClose(`2 threads vs ts, ${tag}`, twoC!, want, tol);
                }
              }
            }
          }
        });
      }

      it('many consecutive calls (fresh pools included) give the same results as one thread', () => {
        const rng = new Rng(`threaded-stress-${variant}`);
        // A pool created just now must take its first job at once (a worker that reads the job
        // counter after the main thread's first post would sleep through it).
        for (let i = 0; i < 3; i++) {
          const fresh = wasmThreadedBackendFromBytes(shared, variant, 2);
          assert.notEqual(planGemmSplit(256, 256, 100, true, 2), null);
          const { results: [one, got] } = gemmOn([single, fresh], rng, 'float32', 256, 256, 100, false, false, 1, 0, false);
          assertExact(`fresh pool ${i}`, got!, one!);
          assert.equal(fresh.threads, 2);
        }
        const a = [normal(rng, 'float32', 256 * 256), normal(rng, 'float64', 256 * 256)];
        const b = [normal(rng, 'float32', 256 * 256), normal(rng, 'float64', 256 * 256)];
        const first: FloatArray[] = [];
        for (let i = 0; i < 200; i++) {
          // Sizes, dtypes and transposes vary so the chunk plan changes between calls; every 10th
          // call repeats the first 256³ product of its dtype, whose result must never change.
          const repeat = i % 10 === 0;
          const n = repeat ? 256 : 128 + ((i * 37) % 129);
          const d = repeat ? (i / 10) % 2 : i % 2, transB = repeat || i % 3 === 0;
          const dt: DType = d === 0 ? 'float32' : 'float64';
          const c = alloc(dt, n * n), want = alloc(dt, n * n);
          two.gemm(false, transB, n, n, n, 1, a[d]!, 0, n, b[d]!, 0, n, 0, c, 0, n);
          if (repeat && first[d] !== undefined) {
            assertExact(`call ${i} repeats the first ${dt} product`, c, first[d]!);
          } else if (repeat || i % 7 === 0) {
            single.gemm(false, transB, n, n, n, 1, a[d]!, 0, n, b[d]!, 0, n, 0, want, 0, n);
            assertExact(`call ${i} (${dt} n=${n}) vs one thread`, c, want);
            if (repeat) first[d] = c;
          }
        }
        assert.equal(two.threads, 2, 'no worker failed');
      });

      it('syrk goes through the threaded gemm and still matches one thread', () => {
        const rng = new Rng(`threaded-syrk-${variant}`);
        for (const dtype of DTYPES) {
          const n = 150, k = 200;
          assert.notEqual(planGemmSplit(n, n, k, dtype === 'float32', 2), null);
          const a = normal(rng, dtype, k * n), c1 = alloc(dtype, n * n), c2 = alloc(dtype, n * n);
          single.syrk(n, k, 1, a, 0, n, 0, c1, 0, n);
          two.syrk(n, k, 1, a, 0, n, 0, c2, 0, n);
          assertExact(`syrk ${dtype}`, c2, c1);
        }
      });
    });
  }

  const indexJs = fileURLToPath(new URL('../src/core/backends/index.js', import.meta.url));
  /** Runs `code` (an ES module) in a fresh Node; fails the test if it does not exit in time. */
  function child(env: Record<string, string>, code: string, nodeArgs: string[] = []): { status: number | null; out: string; ms: number } {
    const t0 = performance.now();
    const r = spawnSync(process.execPath, [...nodeArgs, '--input-type=module', '-e', code], {
      env: { ...process.env, FIMKIT_BACKEND: 'wasm', ...env }, encoding: 'utf8', timeout: 30_000,
    });
    const ms = performance.now() - t0;
    assert.equal(r.signal, null, `child killed after ${ms.toFixed(0)} ms (did not exit): ${r.stdout}${r.stderr}`);
    return { status: r.status, out: `${r.stdout}${r.stderr}`, ms };
  }
  // A gemm big enough for the workers (160³ ≥ 2^21 in float64), checked against the plain
  // definition in the child (small integers: every sum is exact).
  const runGemm = `
    const m = await import(${JSON.stringify(indexJs)});
    const b = m.getBackend();
    const n = 160, a = new Float64Array(n * n), bm = new Float64Array(n * n), c = new Float64Array(n * n);
    for (let i = 0; i < n * n; i++) { a[i] = (i % 7) - 3; bm[i] = (i % 5) - 2; }
    b.gemm(false, false, n, n, n, 1, a, 0, n, bm, 0, n, 0, c, 0, n);
    let ok = true;
    for (let i = 0; i < n; i += 13) for (let j = 0; j < n; j += 11) {
      let s = 0; for (let p = 0; p < n; p++) s += a[i * n + p] * bm[p * n + j];
      ok &&= s === c[i * n + j];
    }
    console.log('THREADS', b.name, b.threads, ok ? 'OK' : 'WRONG');`;

  it('workers inherit the Node options, less those naming the main program after --input-type', () => {
    assert.deepEqual(workerExecArgvChoices(['--experimental-wasm-relaxed-simd', '-e', 'code']), [undefined]);
    assert.deepEqual(workerExecArgvChoices(['--input-type=module', '-e', 'code', '--experimental-wasm-relaxed-simd']), [['--experimental-wasm-relaxed-simd'], []]);
    assert.deepEqual(workerExecArgvChoices(['--import', 'tsx', '--print', 'x', '--input-type', 'module', '--eval=y', '-i']), [['--import', 'tsx'], []]);
  });

  it('a process that ran a threaded gemm exits by itself, promptly (with or without V8 flags)', () => {
    for (const nodeArgs of [[], ['--experimental-wasm-relaxed-simd']]) {
      const r = child({ FIMKIT_THREADS: '2' }, runGemm, nodeArgs);
      assert.equal(r.status, 0, r.out);
      assert.match(r.out, /THREADS wasm 2 OK/, `node ${nodeArgs.join(' ')}`);
      assert.ok(r.ms < 10_000, `exit took ${r.ms.toFixed(0)} ms`);
    }
  });

  it('FIMKIT_THREADS sets the worker count (1: none); the default loader and initWasmBackend agree', async () => {
    assert.match(child({ FIMKIT_THREADS: '1' }, runGemm).out, /THREADS wasm 1 OK/);
    assert.match(child({ FIMKIT_THREADS: '3' }, runGemm).out, /THREADS wasm 3 OK/);
    assert.match(child({ FIMKIT_THREADS: 'two' }, runGemm).out, /backend 'wasm' is not available: FIMKIT_THREADS must be an integer/);
    const loaded = loadWasmBackend();
    assert.ok(!('reason' in loaded));
    assert.equal(await initWasmBackend(), loaded, 'Node: initWasmBackend() returns the loaded (threaded) backend');
  });

  it('falls back to one thread, without error, where workers cannot start', () => {
    const noShared = child({ FIMKIT_THREADS: '2' }, `delete globalThis.SharedArrayBuffer; ${runGemm}`);
    assert.equal(noShared.status, 0, noShared.out);
    assert.match(noShared.out, /THREADS wasm 1 OK/);
    // Node's permission model without --allow-worker: creating a Worker throws ERR_ACCESS_DENIED.
    const denied = child({ FIMKIT_THREADS: '2' }, runGemm, ['--experimental-permission', '--allow-fs-read=*']);
    assert.equal(denied.status, 0, denied.out);
    assert.match(denied.out, /THREADS wasm 1 OK/);
  });
});
