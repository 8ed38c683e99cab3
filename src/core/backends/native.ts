/**
 * Native backend: an N-API addon (native/fimkit_native.c, built by scripts/build-native.mjs into
 * build/Release/fimkit_native.node) over CBLAS for gemm, plus fused C loops for the elementwise,
 * reduction, im2col and Adam kernels. Arrays are passed zero-copy.
 *
 * Node only. This module has no top-level `node:` imports so a browser bundle can include it:
 * there `loadNativeBackend()` simply reports the backend unavailable.
 *
 * Threads: OpenBLAS uses 2 threads unless FIMKIT_THREADS=<n> says otherwise; idle BLAS threads
 * sleep after ~0.4 ms (OPENBLAS_THREAD_TIMEOUT=20 unless the environment sets it).
 */
import type { Backend, Conv2dGeometry } from '../backend.js';
import type { FloatArray } from '../dtype.js';
import { FimkitError } from '../errors.js';
import { tsBackend } from './ts.js';

/** What the compiled addon exports (argument orders as in native/fimkit_native.c). */
interface NativeAddon {
  gemm: Backend['gemm'];
  /** Absent from addons built before it existed (the backend then uses gemm). */
  syrk?: Backend['syrk'];
  /** Absent from addons built before it existed (the backend then loops over gemm). */
  gemmBatched?: Backend['gemmBatched'];
  /** Returns false when (op, order) is not implemented natively; the caller then falls back. */
  unary(op: number, order: number, alpha: number, x: FloatArray, out: FloatArray): boolean;
  unaryMul(op: number, order: number, alpha: number, x: FloatArray, g: FloatArray, out: FloatArray): boolean;
  binary: Backend['binary'];
  axpby: Backend['axpby'];
  addRowVectorAct: Backend['addRowVectorAct'];
  sumRows: Backend['sumRows'];
  /** Absent from addons built before it existed (the backend then uses the ts kernel). */
  sumSquaredRows?: Backend['sumSquaredRows'];
  /** Absent from addons built before they existed (the backend then uses the ts kernels). */
  accumulate?: Backend['accumulate'];
  stackedMoments?: Backend['stackedMoments'];
  sumCols: Backend['sumCols'];
  softmaxRows: Backend['softmaxRows'];
  logSumExpRows: Backend['logSumExpRows'];
  im2col(x: FloatArray, ...geometryThenOut: (number | FloatArray)[]): void;
  col2im(cols: FloatArray, ...geometryThenOut: (number | FloatArray)[]): void;
  adamStep: Backend['adamStep'];
  setErrorClass(ctor: typeof FimkitError): void;
  setThreads(n: number): void;
  getThreads(): number;
  blasConfig(): string;
}

const DEFAULT_THREADS = 2;

interface NodeProcessLike {
  env?: Record<string, string | undefined>;
  getBuiltinModule?: (id: string) => unknown;
}

function nodeProcess(): NodeProcessLike | undefined {
  return (globalThis as { process?: NodeProcessLike }).process;
}

/** Thread count from FIMKIT_THREADS, else the default; a malformed value is an error. */
export function requestedThreads(): number {
  const raw = nodeProcess()?.env?.FIMKIT_THREADS;
  if (raw === undefined || raw.trim() === '') return DEFAULT_THREADS;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 1024) {
    throw new FimkitError('INVALID_ARGUMENT', `FIMKIT_THREADS must be an integer between 1 and 1024, got '${raw}'`);
  }
  return n;
}

/** Finds and loads the compiled addon, or says why it cannot. */
function loadAddon(): NativeAddon | { reason: string } {
  const proc = nodeProcess();
  if (typeof proc?.getBuiltinModule !== 'function') {
    return { reason: 'not running under Node.js >= 20.16 (the native addon needs process.getBuiltinModule)' };
  }
  const { createRequire } = proc.getBuiltinModule('node:module') as typeof import('node:module');
  const { existsSync } = proc.getBuiltinModule('node:fs') as typeof import('node:fs');
  const { fileURLToPath } = proc.getBuiltinModule('node:url') as typeof import('node:url');
  // Compiled: dist/src/core/backends/native.js (4 levels below the package root); run from
  // source: src/core/backends/native.ts (3 levels).
  const candidates = ['../../../../build/Release/fimkit_native.node', '../../../build/Release/fimkit_native.node'].map(
    (rel) => fileURLToPath(new URL(rel, import.meta.url)),
  );
  const path = candidates.find((p) => existsSync(p));
  if (path === undefined) {
    return { reason: `addon not built (no ${candidates[0]}); run \`npm run build:native\` (needs a C compiler and libopenblas-dev)` };
  }
  // OpenBLAS worker threads busy-wait for 2^28 cycles (~0.1 s) after each call by default, so
  // during a training step, where JS work sits between GEMMs, one core stays at 100% doing
  // nothing (measured: 2x the CPU time of the work). 2^20 cycles (~0.4 ms) keeps them hot
  // across back-to-back calls and lets them sleep otherwise. OpenBLAS reads the variable when
  // the library loads with the addon; a value the user set is left alone, and ours is removed
  // again so child processes do not inherit it.
  const env = proc.env;
  const overrideTimeout = env !== undefined && env.OPENBLAS_THREAD_TIMEOUT === undefined;
  if (overrideTimeout) env.OPENBLAS_THREAD_TIMEOUT = '20';
  try {
    return createRequire(import.meta.url)(path) as NativeAddon;
  } catch (e) {
    return { reason: `addon at ${path} failed to load: ${(e as Error).message}` };
  } finally {
    if (overrideTimeout) delete env.OPENBLAS_THREAD_TIMEOUT;
  }
}

let cached: Backend | { reason: string } | undefined;

/** The native backend, or the reason it is unavailable here. Synchronous; loads once. */
export function loadNativeBackend(): Backend | { reason: string } {
  if (cached) return cached;
  const addon = loadAddon();
  if ('reason' in addon) {
    cached = addon;
    return cached;
  }
  addon.setErrorClass(FimkitError);
  addon.setThreads(requestedThreads());
  const threads = addon.getThreads();

  const kernels: Partial<Backend> = {
    gemm: addon.gemm,
    gemmBatched: addon.gemmBatched ?? tsBackend.gemmBatched,
    syrk: addon.syrk ?? ((n, k, alpha, a, aOff, lda, beta, c, cOff, ldc) => addon.gemm(true, false, n, n, k, alpha, a, aOff, lda, a, aOff, lda, beta, c, cOff, ldc)),
    unary(op, order, alpha, x, out) {
      if (!addon.unary(op, order, alpha, x, out)) tsBackend.unary(op, order, alpha, x, out);
    },
    unaryMul(op, order, alpha, x, g, out) {
      if (!addon.unaryMul(op, order, alpha, x, g, out)) tsBackend.unaryMul(op, order, alpha, x, g, out);
    },
    binary: addon.binary,
    axpby: addon.axpby,
    addRowVectorAct: addon.addRowVectorAct,
    sumRows: addon.sumRows,
    sumSquaredRows: addon.sumSquaredRows ?? tsBackend.sumSquaredRows,
    accumulate: addon.accumulate ?? tsBackend.accumulate,
    stackedMoments: addon.stackedMoments ?? tsBackend.stackedMoments,
    sumCols: addon.sumCols,
    softmaxRows: addon.softmaxRows,
    logSumExpRows: addon.logSumExpRows,
    im2col(x: FloatArray, g: Conv2dGeometry, out: FloatArray) {
      addon.im2col(x, g.batch, g.channels, g.height, g.width, g.kernelH, g.kernelW, g.strideH, g.strideW,
        g.padH, g.padW, g.outH, g.outW, out);
    },
    col2im(cols: FloatArray, g: Conv2dGeometry, out: FloatArray) {
      addon.col2im(cols, g.batch, g.channels, g.height, g.width, g.kernelH, g.kernelW, g.strideH, g.strideW,
        g.padH, g.padW, g.outH, g.outW, out);
    },
    adamStep: addon.adamStep,
  };
  cached = {
    ...tsBackend,
    ...kernels,
    name: 'native',
    threads,
    description: `N-API addon over ${addon.blasConfig()}, ${threads} BLAS thread${threads === 1 ? '' : 's'}; fused C elementwise kernels`,
  };
  return cached;
}
