/**
 * Wasm backend: AssemblyScript SIMD kernels (asm/*.ts, built by scripts/build-wasm.mjs into
 * dist/wasm/). Two builds exist: `relaxed` (fused multiply-add via relaxed SIMD) is used when
 * the engine validates it (Node 20 needs --experimental-wasm-relaxed-simd; current browsers
 * enable it), else `simd` (plain 128-bit SIMD, multiply then add). FIMKIT_WASM_VARIANT=simd
 * forces the plain build.
 *
 * Operands live in JS typed arrays, so each call copies them into the module's linear memory
 * (one reusable scratch region, grown when a call needs more), runs the kernel and copies the
 * result out. Kernels not implemented in wasm are the ts backend's.
 *
 * Node: `loadWasmBackend()` reads and compiles the module synchronously. Browsers (where
 * synchronous compilation of large modules is not allowed on the main thread): call
 * `await initWasmBackend()` once first; afterwards `loadWasmBackend()` returns that backend.
 * No top-level `node:` imports, so bundlers can include this file.
 *
 * Threads (Node): with FIMKIT_THREADS > 1 (default 2, at most the CPU count unless set) the
 * loader takes the shared-memory build (fimkit-*-shared.wasm) and starts FIMKIT_THREADS − 1
 * worker threads; gemms of at least PARALLEL_MIN_MULTIPLY_ADDS multiply-adds (2^22 float32,
 * 2^21 float64) are split between them and the main thread (wasm-workers.ts). If the workers cannot start (no
 * SharedArrayBuffer, worker_threads denied, ...) the backend runs on one thread, without error.
 * Browsers stay on one thread: their main thread may not block in Atomics.wait.
 */
import { Unary, type Backend } from '../backend.js';
import type { FloatArray } from '../dtype.js';
import { FimkitError } from '../errors.js';
import { requestedThreads } from './native.js';
import { checkMomentArgs, tsBackend } from './ts.js';
import { GemmWorkerPool, PARALLEL_MIN_MULTIPLY_ADDS, planGemmSplit } from './wasm-workers.js';

export type WasmVariant = 'relaxed' | 'simd';
export const WASM_FILES: Readonly<Record<WasmVariant, string>> = {
  relaxed: 'fimkit-relaxed.wasm',
  simd: 'fimkit-simd.wasm',
};
/** The same kernels importing a shared memory (`env.memory`), for the multi-threaded gemm. */
export const WASM_SHARED_FILES: Readonly<Record<WasmVariant, string>> = {
  relaxed: 'fimkit-relaxed-shared.wasm',
  simd: 'fimkit-simd-shared.wasm',
};

/** The module's exports (signatures as in asm/*.ts; pointers are byte addresses). */
interface KernelExports {
  memory: WebAssembly.Memory;
  heapBase(): number;
  gemmWorkBytes_f32(): number;
  gemmWorkBytes_f64(): number;
  gemm_f32(ta: number, tb: number, m: number, n: number, k: number, alpha: number, a: number, lda: number,
    b: number, ldb: number, beta: number, c: number, ldc: number, work: number): void;
  gemm_f64(ta: number, tb: number, m: number, n: number, k: number, alpha: number, a: number, lda: number,
    b: number, ldb: number, beta: number, c: number, ldc: number, work: number): void;
  addRowVectorAct_f32(x: number, v: number, rows: number, cols: number, act: number, pre: number, out: number): number;
  addRowVectorAct_f64(x: number, v: number, rows: number, cols: number, act: number, pre: number, out: number): number;
  unaryMulOrder1_f32(op: number, x: number, g: number, out: number, n: number): number;
  unaryMulOrder1_f64(op: number, x: number, g: number, out: number, n: number): number;
  sumRows_f32(x: number, rows: number, cols: number, beta: number, out: number, acc: number): void;
  sumRows_f64(x: number, rows: number, cols: number, beta: number, out: number, acc: number): void;
  /** Absent from kernel modules built before it existed (the backend then uses the ts kernel). */
  stackedMoments_f32?(src: number, B: number, slots: number, count: number, coef: number, kappa: number, scale: number, fourth: number,
    out: number, off: number, ld: number, acc: number): void;
  stackedMoments_f64?(src: number, B: number, slots: number, count: number, coef: number, kappa: number, scale: number, fourth: number,
    out: number, off: number, ld: number, acc: number): void;
  softmaxRows_f32(x: number, rows: number, cols: number, out: number): void;
  softmaxRows_f64(x: number, rows: number, cols: number, out: number): void;
  logSumExpRows_f32(x: number, rows: number, cols: number, out: number): void;
  logSumExpRows_f64(x: number, rows: number, cols: number, out: number): void;
  adamStep_f32(p: number, g: number, m: number, v: number, n: number, lr: number, b1: number, b2: number,
    eps: number, wd: number, step: number): void;
  adamStep_f64(p: number, g: number, m: number, v: number, n: number, lr: number, b1: number, b2: number,
    eps: number, wd: number, step: number): void;
}

const PAGE = 65536;
const MAX_PAGES = 65536; // wasm32 address space (the maximum the shared builds declare)
const MAX_BYTES = 4 * 1024 * 1024 * 1024 - PAGE;

function isF32(a: FloatArray): a is Float32Array {
  return a instanceof Float32Array;
}

function dtypeName(a: FloatArray): string {
  return isF32(a) ? 'float32' : 'float64';
}

function checkFloatArray(fn: string, name: string, a: unknown): asserts a is FloatArray {
  if (!(a instanceof Float32Array || a instanceof Float64Array)) {
    throw new FimkitError('DTYPE', `${fn}: ${name} must be a Float32Array or Float64Array`);
  }
}

function checkSameDtype(fn: string, ref: FloatArray, refName: string, a: FloatArray | null, name: string): void {
  if (a !== null && isF32(a) !== isF32(ref)) {
    throw new FimkitError('DTYPE', `${fn}: ${name} is ${dtypeName(a)} but ${refName} is ${dtypeName(ref)}; all arrays of one call must share a dtype`);
  }
}

function checkLength(fn: string, a: FloatArray, name: string, need: number): void {
  if (a.length < need) throw new FimkitError('SHAPE', `${fn}: ${name} has ${a.length} elements but the given sizes need ${need}`);
}

function checkSize(fn: string, name: string, v: number): void {
  if (!Number.isInteger(v) || v < 0) throw new FimkitError('INVALID_ARGUMENT', `${fn}: ${name} must be a non-negative integer, got ${v}`);
}

/** Checks that a stored rows×cols matrix at `off` with row stride `ld` lies inside `a`. */
function checkMatrix(fn: string, name: string, a: FloatArray, off: number, ld: number, rows: number, cols: number): number {
  checkSize(fn, `offset of ${name}`, off);
  checkSize(fn, `leading dimension of ${name}`, ld);
  if (rows === 0 || cols === 0) return 0;
  if (ld < cols) throw new FimkitError('SHAPE', `${fn}: leading dimension of ${name} is ${ld} but its stored rows have ${cols} columns`);
  const span = (rows - 1) * ld + cols;
  if (off + span > a.length) {
    throw new FimkitError('SHAPE', `${fn}: ${name} (${a.length} elements) is too short for a ${rows}x${cols} matrix at offset ${off} with leading dimension ${ld} (needs ${off + span})`);
  }
  return span;
}

/**
 * The instantiated module plus a bump allocator over its linear memory. Each kernel call
 * resets the allocator, reserves the regions it needs, grows memory once if required, then
 * copies in, computes and copies out: no allocation per call beyond typed-array views.
 * Layout: static data, one gemm workspace per thread, then the per-call scratch.
 */
class WasmKernels {
  readonly k: KernelExports;
  /** Gemm packing workspace of each thread (index 0: the main thread). */
  readonly workBases: number[];
  private readonly scratchBase: number;
  private top = 0;
  private f32 = new Float32Array(0);
  private f64 = new Float64Array(0);

  constructor(instance: WebAssembly.Instance, threads = 1) {
    this.k = instance.exports as unknown as KernelExports;
    const workBytes = align(Math.max(this.k.gemmWorkBytes_f32(), this.k.gemmWorkBytes_f64()), 64);
    const first = align(this.k.heapBase(), 64);
    this.workBases = Array.from({ length: threads }, (_, i) => first + i * workBytes);
    this.scratchBase = first + threads * workBytes;
    this.reset();
    this.commit();
  }

  get work(): number {
    return this.workBases[0]!;
  }

  reset(): void {
    this.top = this.scratchBase;
  }

  /** Reserves `elements` values of `bytesPer` bytes; returns the byte address. */
  take(elements: number, bytesPer: number): number {
    const p = align(this.top, 64);
    this.top = p + elements * bytesPer;
    return p;
  }

  /** Grows memory to cover everything reserved since reset() and refreshes the views. */
  commit(): void {
    const mem = this.k.memory;
    if (this.top > MAX_BYTES) {
      throw new FimkitError('TOO_LARGE', `wasm backend: this call needs ${this.top} bytes of scratch, beyond the 4 GiB wasm32 address space`);
    }
    const have = mem.buffer.byteLength;
    if (have < this.top) {
      try {
        mem.grow(Math.ceil((this.top - have) / PAGE));
      } catch (e) {
        throw new FimkitError('TOO_LARGE', `wasm backend: could not grow memory to ${this.top} bytes: ${(e as Error).message}`);
      }
    }
    // A shared memory hands out a new buffer object after it grows, the same one otherwise.
    if (this.f32.buffer !== mem.buffer) {
      this.f32 = new Float32Array(mem.buffer);
      this.f64 = new Float64Array(mem.buffer);
    }
  }

  /** Copies src[off .. off+n) to byte address `ptr`. */
  put(src: FloatArray, off: number, n: number, ptr: number): void {
    if (n === 0) return;
    if (isF32(src)) this.f32.set(src.subarray(off, off + n), ptr >>> 2);
    else this.f64.set(src.subarray(off, off + n), ptr >>> 3);
  }

  /** Copies n values at byte address `ptr` to dst[off ..). */
  get(ptr: number, dst: FloatArray, off: number, n: number): void {
    if (n === 0) return;
    if (isF32(dst)) dst.set(this.f32.subarray(ptr >>> 2, (ptr >>> 2) + n), off);
    else dst.set(this.f64.subarray(ptr >>> 3, (ptr >>> 3) + n), off);
  }
}

function align(x: number, a: number): number {
  return Math.ceil(x / a) * a;
}

function makeBackend(w: WasmKernels, variant: WasmVariant | 'custom', pool: GemmWorkerPool | null = null): Backend {
  const k = w.k;

  const kernels: Partial<Backend> = {
    gemm(transA, transB, m, n, k_, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc) {
      const fn = 'gemm';
      checkFloatArray(fn, 'a', a);
      checkFloatArray(fn, 'b', b);
      checkFloatArray(fn, 'c', c);
      checkSameDtype(fn, c, 'c', a, 'a');
      checkSameDtype(fn, c, 'c', b, 'b');
      checkSize(fn, 'm', m);
      checkSize(fn, 'n', n);
      checkSize(fn, 'k', k_);
      const cSpan = checkMatrix(fn, 'c', c, cOff, ldc, m, n);
      if (m === 0 || n === 0) return;
      if (k_ === 0 || alpha === 0) {
        // C = beta·C without touching A and B (beta = 0 overwrites, NaN included).
        for (let i = 0; i < m; i++) {
          const o = cOff + i * ldc;
          if (beta === 0) c.fill(0, o, o + n);
          else for (let j = 0; j < n; j++) c[o + j] = beta * c[o + j]!;
        }
        return;
      }
      const aSpan = checkMatrix(fn, 'a', a, aOff, lda, transA ? k_ : m, transA ? m : k_);
      const bSpan = checkMatrix(fn, 'b', b, bOff, ldb, transB ? n : k_, transB ? k_ : n);
      const f32 = isF32(c);
      const bytes = f32 ? 4 : 8;
      w.reset();
      const pa = w.take(aSpan, bytes);
      const pb = w.take(bSpan, bytes);
      const pc = w.take(cSpan, bytes);
      w.commit();
      w.put(a, aOff, aSpan, pa);
      w.put(b, bOff, bSpan, pb);
      // With beta = 0 the old C is never read, so it is not copied in; the result goes back
      // row by row when ldc > n so the caller's elements between rows stay untouched.
      if (beta !== 0) w.put(c, cOff, cSpan, pc);
      const split = pool === null ? null : planGemmSplit(m, n, k_, f32, pool.threads);
      if (split !== null) pool!.gemm(k, w.work, split, f32, transA, transB, m, n, k_, alpha, pa, lda, pb, ldb, beta, pc, ldc);
      else if (f32) k.gemm_f32(transA ? 1 : 0, transB ? 1 : 0, m, n, k_, alpha, pa, lda, pb, ldb, beta, pc, ldc, w.work);
      else k.gemm_f64(transA ? 1 : 0, transB ? 1 : 0, m, n, k_, alpha, pa, lda, pb, ldb, beta, pc, ldc, w.work);
      if (ldc === n) w.get(pc, c, cOff, m * n);
      else for (let i = 0; i < m; i++) w.get(pc + i * ldc * bytes, c, cOff + i * ldc, n);
    },

    addRowVectorAct(x, v, rows, cols, act, alpha, pre, out) {
      if (act !== Unary.identity && act !== Unary.relu && act !== Unary.sigmoid && act !== Unary.tanh) {
        tsBackend.addRowVectorAct(x, v, rows, cols, act, alpha, pre, out);
        return;
      }
      const fn = 'addRowVectorAct';
      checkFloatArray(fn, 'x', x);
      checkFloatArray(fn, 'out', out);
      checkSameDtype(fn, x, 'x', v, 'v');
      checkSameDtype(fn, x, 'x', pre, 'pre');
      checkSameDtype(fn, x, 'x', out, 'out');
      checkSize(fn, 'rows', rows);
      checkSize(fn, 'cols', cols);
      const total = rows * cols;
      checkLength(fn, x, 'x', total);
      checkLength(fn, out, 'out', total);
      if (v !== null) checkLength(fn, v, 'v', cols);
      if (pre !== null) checkLength(fn, pre, 'pre', total);
      if (total === 0) return;
      const bytes = isF32(x) ? 4 : 8;
      w.reset();
      const px = w.take(total, bytes);
      const pv = v === null ? 0 : w.take(cols, bytes);
      const pp = pre === null ? 0 : w.take(total, bytes);
      w.commit();
      w.put(x, 0, total, px);
      if (v !== null) w.put(v, 0, cols, pv);
      // The activation is written in place over the copy of x.
      if (isF32(x)) k.addRowVectorAct_f32(px, pv, rows, cols, act, pp, px);
      else k.addRowVectorAct_f64(px, pv, rows, cols, act, pp, px);
      w.get(px, out, 0, total);
      if (pre !== null) w.get(pp, pre, 0, total);
    },

    unaryMul(op, order, alpha, x, g, out) {
      if (order !== 1 || (op !== Unary.identity && op !== Unary.relu && op !== Unary.sigmoid && op !== Unary.tanh)) {
        tsBackend.unaryMul(op, order, alpha, x, g, out);
        return;
      }
      const fn = 'unaryMul';
      checkFloatArray(fn, 'x', x);
      checkFloatArray(fn, 'g', g);
      checkFloatArray(fn, 'out', out);
      checkSameDtype(fn, x, 'x', g, 'g');
      checkSameDtype(fn, x, 'x', out, 'out');
      const n = x.length;
      checkLength(fn, g, 'g', n);
      checkLength(fn, out, 'out', n);
      if (n === 0) return;
      const bytes = isF32(x) ? 4 : 8;
      w.reset();
      const px = w.take(n, bytes);
      const pg = w.take(n, bytes);
      w.commit();
      w.put(x, 0, n, px);
      w.put(g, 0, n, pg);
      if (isF32(x)) k.unaryMulOrder1_f32(op, px, pg, pg, n);
      else k.unaryMulOrder1_f64(op, px, pg, pg, n);
      w.get(pg, out, 0, n);
    },

    sumRows(x, rows, cols, beta, out) {
      const fn = 'sumRows';
      checkFloatArray(fn, 'x', x);
      checkFloatArray(fn, 'out', out);
      checkSameDtype(fn, x, 'x', out, 'out');
      checkSize(fn, 'rows', rows);
      checkSize(fn, 'cols', cols);
      checkLength(fn, x, 'x', rows * cols);
      checkLength(fn, out, 'out', cols);
      if (cols === 0) return;
      const bytes = isF32(x) ? 4 : 8;
      w.reset();
      const px = w.take(rows * cols, bytes);
      const po = w.take(cols, bytes);
      const pacc = w.take(cols, 8);
      w.commit();
      w.put(x, 0, rows * cols, px);
      if (beta !== 0) w.put(out, 0, cols, po);
      if (isF32(x)) k.sumRows_f32(px, rows, cols, beta, po, pacc);
      else k.sumRows_f64(px, rows, cols, beta, po, pacc);
      w.get(po, out, 0, cols);
    },

    stackedMoments(src, B, slots, count, coef, kappa, scale, fourth, out, off, ld) {
      checkMomentArgs(src, B, slots, count, coef, scale, fourth, out, off, ld);
      const kernel = isF32(src) ? k.stackedMoments_f32 : k.stackedMoments_f64;
      if (!kernel) {
        tsBackend.stackedMoments(src, B, slots, count, coef, kappa, scale, fourth, out, off, ld);
        return;
      }
      if (B === 0 || count === 0) return;
      const bytes = isF32(src) ? 4 : 8;
      const width = (fourth ? 3 : 1) * count;
      const nSrc = slots * B * count;
      const nCoef = B * (3 * slots + 1);
      const nOut = (B - 1) * ld + width;
      w.reset();
      const ps = w.take(nSrc, bytes);
      const pc = w.take(nCoef, 8);
      const pScale = scale ? w.take(B * count, bytes) : 0;
      const po = w.take(nOut, bytes);
      const pAcc = w.take(4 * count, 8);
      w.commit();
      w.put(src, 0, nSrc, ps);
      w.put(coef, 0, nCoef, pc);
      if (scale) w.put(scale, 0, B * count, pScale);
      // Columns between the written windows of consecutive rows travel through unchanged.
      if (ld > width) w.put(out, off, nOut, po);
      kernel(ps, B, slots, count, pc, kappa, pScale, fourth ? 1 : 0, po, 0, ld, pAcc);
      w.get(po, out, off, nOut);
    },

    softmaxRows(x, rows, cols, out) {
      const fn = 'softmaxRows';
      checkFloatArray(fn, 'x', x);
      checkFloatArray(fn, 'out', out);
      checkSameDtype(fn, x, 'x', out, 'out');
      checkSize(fn, 'rows', rows);
      checkSize(fn, 'cols', cols);
      const total = rows * cols;
      checkLength(fn, x, 'x', total);
      checkLength(fn, out, 'out', total);
      if (total === 0) return;
      const bytes = isF32(x) ? 4 : 8;
      w.reset();
      const px = w.take(total, bytes);
      w.commit();
      w.put(x, 0, total, px);
      if (isF32(x)) k.softmaxRows_f32(px, rows, cols, px);
      else k.softmaxRows_f64(px, rows, cols, px);
      w.get(px, out, 0, total);
    },

    logSumExpRows(x, rows, cols, out) {
      const fn = 'logSumExpRows';
      checkFloatArray(fn, 'x', x);
      checkFloatArray(fn, 'out', out);
      checkSameDtype(fn, x, 'x', out, 'out');
      checkSize(fn, 'rows', rows);
      checkSize(fn, 'cols', cols);
      checkLength(fn, x, 'x', rows * cols);
      checkLength(fn, out, 'out', rows);
      if (rows === 0) return;
      const bytes = isF32(x) ? 4 : 8;
      w.reset();
      const px = w.take(rows * cols, bytes);
      const po = w.take(rows, bytes);
      w.commit();
      w.put(x, 0, rows * cols, px);
      if (isF32(x)) k.logSumExpRows_f32(px, rows, cols, po);
      else k.logSumExpRows_f64(px, rows, cols, po);
      w.get(po, out, 0, rows);
    },

    adamStep(param, grad, m, v, lr, beta1, beta2, eps, wd, step) {
      const fn = 'adamStep';
      checkFloatArray(fn, 'param', param);
      for (const [name, a] of [['grad', grad], ['m', m], ['v', v]] as const) {
        checkFloatArray(fn, name, a);
        checkSameDtype(fn, param, 'param', a, name);
        checkLength(fn, a, name, param.length);
      }
      const n = param.length;
      if (n === 0) return;
      const bytes = isF32(param) ? 4 : 8;
      w.reset();
      const pp = w.take(n, bytes);
      const pg = w.take(n, bytes);
      const pm = w.take(n, bytes);
      const pv = w.take(n, bytes);
      w.commit();
      w.put(param, 0, n, pp);
      w.put(grad, 0, n, pg);
      w.put(m, 0, n, pm);
      w.put(v, 0, n, pv);
      if (isF32(param)) k.adamStep_f32(pp, pg, pm, pv, n, lr, beta1, beta2, eps, wd, step);
      else k.adamStep_f64(pp, pg, pm, pv, n, lr, beta1, beta2, eps, wd, step);
      w.get(pp, param, 0, n);
      w.get(pm, m, 0, n);
      w.get(pv, v, 0, n);
    },
  };
  // No symmetric kernel in wasm: the Gram matrix goes through the SIMD gemm.
  kernels.syrk = (n, k_, alpha, a, aOff, lda, beta, c, cOff, ldc) => kernels.gemm!(true, false, n, n, k_, alpha, a, aOff, lda, a, aOff, lda, beta, c, cOff, ldc);

  const flavour = variant === 'relaxed'
    ? 'AssemblyScript wasm, relaxed SIMD (fused multiply-add)'
    : variant === 'simd'
      ? 'AssemblyScript wasm, 128-bit SIMD (multiply + add)'
      : 'AssemblyScript wasm, caller-supplied kernel module';
  // Getters: a pool whose worker fails drops to one thread, and the report follows it.
  const threads = (): number => pool?.threads ?? 1;
  return {
    ...tsBackend,
    ...kernels,
    name: 'wasm',
    get threads() {
      return threads();
    },
    get description() {
      const t = threads();
      return t === 1
        ? `${flavour}, 1 thread`
        : `${flavour}, ${t} threads (gemms from 2^${Math.log2(PARALLEL_MIN_MULTIPLY_ADDS.float32)} float32 / 2^${Math.log2(PARALLEL_MIN_MULTIPLY_ADDS.float64)} float64 multiply-adds shared with ${t - 1} worker thread${t === 2 ? '' : 's'})`;
    },
  };
}

/** The single-threaded module imports nothing; kept explicit so a stray import fails loudly. */
const IMPORTS: WebAssembly.Imports = {};

function checkValid(bytes: BufferSource, variant: WasmVariant, shared: boolean): void {
  if (!WebAssembly.validate(bytes)) {
    throw new FimkitError('BACKEND', `the ${variant}${shared ? ' shared-memory' : ''} wasm kernels do not validate on this engine${variant === 'relaxed' ? ' (relaxed SIMD not enabled? Node 20 needs --experimental-wasm-relaxed-simd)' : shared ? ' (no WebAssembly SIMD or threads support?)' : ' (no WebAssembly SIMD support?)'}`);
  }
}

/**
 * Builds a wasm backend from one compiled kernel module (synchronous compile: Node, workers,
 * or small-module contexts). Single-threaded. Throws FimkitError('BACKEND') when the engine
 * rejects the bytes.
 */
export function wasmBackendFromBytes(bytes: BufferSource, variant: WasmVariant): Backend {
  checkValid(bytes, variant, false);
  return makeBackend(new WasmKernels(new WebAssembly.Instance(new WebAssembly.Module(bytes), IMPORTS)), variant);
}

/** Pages the shared memory starts with: more than the kernels' static data (9 KB today). */
const SHARED_INITIAL_PAGES = 16;

// Workers of a backend that is garbage collected are stopped with it.
const poolsToClose = typeof FinalizationRegistry === 'function'
  ? new FinalizationRegistry<GemmWorkerPool>((pool) => pool.close())
  : undefined;

/**
 * Node: a wasm backend from a shared-memory kernel build (WASM_SHARED_FILES) whose gemm is split
 * over `threads` threads (this one plus threads − 1 worker threads) when the product is large
 * enough. Blocks until the workers are ready (tens of milliseconds). If no worker starts, the
 * backend runs on one thread (its `threads` says so). Throws FimkitError('BACKEND') when the
 * bytes do not validate or no shared memory can be made here.
 */
export function wasmThreadedBackendFromBytes(bytes: BufferSource, variant: WasmVariant, threads: number): Backend {
  if (!Number.isInteger(threads) || threads < 1) {
    throw new FimkitError('INVALID_ARGUMENT', `wasm backend: threads must be a positive integer, got ${threads}`);
  }
  checkValid(bytes, variant, true);
  let memory: WebAssembly.Memory;
  let instance: WebAssembly.Instance;
  const module = new WebAssembly.Module(bytes);
  try {
    memory = new WebAssembly.Memory({ initial: SHARED_INITIAL_PAGES, maximum: MAX_PAGES, shared: true });
    instance = new WebAssembly.Instance(module, { env: { memory } });
  } catch (e) {
    throw new FimkitError('BACKEND', `wasm backend: cannot instantiate the shared-memory kernels here: ${(e as Error).message}`);
  }
  const w = new WasmKernels(instance, threads);
  const pool = threads > 1 ? GemmWorkerPool.start(module, memory, w.workBases.slice(1)) : null;
  const backend = makeBackend(w, variant, pool);
  if (pool !== null) poolsToClose?.register(backend, pool);
  return backend;
}

interface NodeProcessLike {
  env?: Record<string, string | undefined>;
  getBuiltinModule?: (id: string) => unknown;
}

function nodeProcess(): NodeProcessLike | undefined {
  return (globalThis as { process?: NodeProcessLike }).process;
}

/** Variant forced by FIMKIT_WASM_VARIANT, if any. */
function forcedVariant(): WasmVariant | undefined {
  const v = nodeProcess()?.env?.FIMKIT_WASM_VARIANT;
  if (v === undefined || v === '') return undefined;
  if (v !== 'relaxed' && v !== 'simd') {
    throw new FimkitError('BACKEND', `FIMKIT_WASM_VARIANT must be 'relaxed' or 'simd', got '${v}'`);
  }
  return v;
}

/** Preference order: relaxed first unless a variant is forced. */
function variantOrder(): WasmVariant[] {
  const f = forcedVariant();
  return f ? [f] : ['relaxed', 'simd'];
}

/** Candidate locations of dist/wasm/<file>: from dist/src/core/backends (compiled) or src/core/backends. */
function defaultUrls(file: string): URL[] {
  return [new URL(`../../../wasm/${file}`, import.meta.url), new URL(`../../../dist/wasm/${file}`, import.meta.url)];
}

/**
 * Threads for the Node wasm backend: FIMKIT_THREADS when set (1 = no worker), else the default
 * of requestedThreads() capped at the CPUs available to this process.
 */
export function wasmThreads(): number {
  const proc = nodeProcess();
  const requested = requestedThreads();
  const explicit = (proc?.env?.FIMKIT_THREADS ?? '').trim() !== '';
  if (explicit || typeof proc?.getBuiltinModule !== 'function') return requested;
  const os = proc.getBuiltinModule('node:os') as typeof import('node:os');
  const cpus = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  return Math.max(1, Math.min(requested, cpus));
}

let cached: Backend | { reason: string } | undefined;

/** The wasm backend, or the reason it is unavailable here. Synchronous (Node); loads once. */
export function loadWasmBackend(): Backend | { reason: string } {
  if (cached) return cached;
  if (typeof WebAssembly !== 'object') return (cached = { reason: 'WebAssembly is not available in this JavaScript engine' });
  const proc = nodeProcess();
  if (typeof proc?.getBuiltinModule !== 'function') {
    // Not Node (or too old for getBuiltinModule): the async initialiser must run first.
    return { reason: 'outside Node the wasm kernels load asynchronously: call `await initWasmBackend()` first' };
  }
  const fs = proc.getBuiltinModule('node:fs') as typeof import('node:fs');
  const { fileURLToPath } = proc.getBuiltinModule('node:url') as typeof import('node:url');
  const find = (file: string): string | undefined => defaultUrls(file).map((u) => fileURLToPath(u)).find((p) => fs.existsSync(p));
  const threads = wasmThreads();
  const problems: string[] = [];
  for (const variant of variantOrder()) {
    const path = find(WASM_FILES[variant]);
    if (path === undefined) {
      problems.push(`${WASM_FILES[variant]} not found (run \`npm run build:wasm\`)`);
      continue;
    }
    const bytes = fs.readFileSync(path);
    if (!WebAssembly.validate(bytes)) {
      problems.push(`${path} does not validate${variant === 'relaxed' ? ' (relaxed SIMD needs --experimental-wasm-relaxed-simd on Node 20)' : ''}`);
      continue;
    }
    const sharedPath = threads > 1 ? find(WASM_SHARED_FILES[variant]) : undefined;
    if (sharedPath !== undefined) {
      // Any failure here (no shared memory, no worker) leaves the single-threaded build.
      try {
        const threaded = wasmThreadedBackendFromBytes(fs.readFileSync(sharedPath), variant, threads);
        if (threaded.threads > 1) return (cached = threaded);
      } catch {
        // fall through
      }
    }
    cached = wasmBackendFromBytes(bytes, variant);
    return cached;
  }
  cached = { reason: problems.join('; ') };
  return cached;
}

/** A source of kernel bytes: raw bytes, a fetch Response, or a URL / URL string to fetch. */
export type WasmSource = BufferSource | Response | URL | string;

async function readSource(src: WasmSource): Promise<BufferSource> {
  if (src instanceof ArrayBuffer || ArrayBuffer.isView(src)) return src as BufferSource;
  if (typeof Response !== 'undefined' && src instanceof Response) {
    if (!src.ok) throw new FimkitError('BACKEND', `fetching wasm kernels failed: HTTP ${src.status} ${src.url}`);
    return src.arrayBuffer();
  }
  const url = src instanceof URL ? src : new URL(src as string, (globalThis as { location?: { href: string } }).location?.href ?? import.meta.url);
  const proc = nodeProcess();
  if (url.protocol === 'file:' && typeof proc?.getBuiltinModule === 'function') {
    const fs = proc.getBuiltinModule('node:fs') as typeof import('node:fs');
    const { fileURLToPath } = proc.getBuiltinModule('node:url') as typeof import('node:url');
    return fs.readFileSync(fileURLToPath(url)) as unknown as BufferSource;
  }
  const res = await fetch(url);
  if (!res.ok) throw new FimkitError('BACKEND', `fetching wasm kernels failed: HTTP ${res.status} ${url.href}`);
  return res.arrayBuffer();
}

/**
 * Asynchronous initialiser (browsers; also works in Node). With no argument it fetches the
 * relaxed build from dist/wasm next to this module and falls back to the plain SIMD build when
 * the engine rejects it. Pass one source to use exactly that module, or `{ relaxed, simd }`.
 * Afterwards `loadWasmBackend()` (and so `loadBackend('wasm')` / `getBackend()`) return it.
 */
export async function initWasmBackend(
  source?: WasmSource | { relaxed?: WasmSource; simd: WasmSource },
): Promise<Backend> {
  if (source === undefined && typeof nodeProcess()?.getBuiltinModule === 'function') {
    // Node: the synchronous loader (which also starts the gemm worker threads).
    const b = loadWasmBackend();
    if (!('reason' in b)) return b;
  }
  const candidates: [WasmVariant | 'custom', WasmSource | URL[]][] = [];
  if (source === undefined) {
    for (const v of variantOrder()) candidates.push([v, defaultUrls(WASM_FILES[v])]);
  } else if (typeof source === 'object' && !(source instanceof URL) && !ArrayBuffer.isView(source) &&
    !(source instanceof ArrayBuffer) && !(typeof Response !== 'undefined' && source instanceof Response)) {
    const pair = source as { relaxed?: WasmSource; simd: WasmSource };
    if (pair.relaxed !== undefined) candidates.push(['relaxed', pair.relaxed]);
    candidates.push(['simd', pair.simd]);
  } else {
    candidates.push(['custom', source as WasmSource]);
  }
  const problems: string[] = [];
  for (const [label, src] of candidates) {
    let bytes: BufferSource | undefined;
    for (const s of Array.isArray(src) ? src : [src]) {
      try {
        bytes = await readSource(s);
        break;
      } catch (e) {
        problems.push((e as Error).message);
      }
    }
    if (bytes === undefined) continue;
    if (!WebAssembly.validate(bytes)) {
      problems.push(`${label} kernels do not validate on this engine`);
      continue;
    }
    const module = await WebAssembly.compile(bytes);
    const instance = await WebAssembly.instantiate(module, IMPORTS);
    cached = makeBackend(new WasmKernels(instance), label);
    return cached;
  }
  throw new FimkitError('BACKEND', `could not initialise the wasm backend: ${problems.join('; ')}`);
}
