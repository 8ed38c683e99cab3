/**
 * Multi-threaded gemm for the wasm backend (Node): the shared-memory kernel build is
 * instantiated on the main thread and in `threads − 1` worker threads over one shared
 * WebAssembly.Memory. Backend.gemm is synchronous, so the main thread posts the job through a
 * shared Int32Array control block (Atomics.store + Atomics.notify), then it and the workers
 * claim row (or column) blocks of C until none is left, and the main thread Atomics.wait's for
 * the workers that joined to finish theirs (one still asleep by then is shut out of the job
 * instead of waited for). Each thread packs into its own workspace; the blocks of C are
 * disjoint, and every element of C goes through the same operations as in the
 * single-threaded kernel, so the result is bitwise the same.
 *
 * Browsers: the main thread may not Atomics.wait, so the backend stays on one thread there.
 * No top-level `node:` imports (worker_threads comes from process.getBuiltinModule), so
 * bundlers can include this file; the worker entry is wasm-worker.ts.
 */
import { FimkitError } from '../errors.js';

/**
 * The pool's control block (one SharedArrayBuffer for all its workers). Int32 slots first:
 */
/** Sequence number of the last job posted by the main thread (workers wait on it). */
export const SLOT_JOB = 0;
/** Index of the next unclaimed chunk of C; every thread claims chunks with Atomics.add. */
export const SLOT_NEXT = 1;
/** Per-worker slots start here, three per worker (see workerSlots). */
export const SLOT_WORKERS = 2;

/**
 * Worker w's slots: `state` (STATE_*), `entered` (the last job it took part in, or −job when the
 * main thread finished that job without it) and `done` (the last job it finished).
 */
export function workerSlots(w: number): { state: number; entered: number; done: number } {
  const base = SLOT_WORKERS + 3 * w;
  return { state: base, entered: base + 1, done: base + 2 };
}

/**
 * Worker side: joins `job` unless the main thread has already closed it to this worker. The
 * compare-exchange races the main thread's closeJob on the same slot, so exactly one wins: a
 * worker that wakes after the main thread computed every chunk neither holds the call up nor
 * reads the parameters of a later job.
 */
export function enterJob(control: Int32Array, enteredSlot: number, job: number): boolean {
  for (;;) {
    const current = Atomics.load(control, enteredSlot);
    if (current === -job) return false;
    if (Atomics.compareExchange(control, enteredSlot, current, job) === current) return true;
  }
}

/** Main-thread side: true when the worker joined `job` (wait for it), false when now shut out. */
export function closeJob(control: Int32Array, enteredSlot: number, job: number): boolean {
  for (;;) {
    const current = Atomics.load(control, enteredSlot);
    if (current === job) return true;
    if (Atomics.compareExchange(control, enteredSlot, current, -job) === current) return false;
  }
}

export const STATE_STARTING = 0;
export const STATE_READY = 1;
export const STATE_FAILED = 2;

/** The job's parameters, float64 (exact for pointers, sizes and alpha/beta), after the int slots. */
export const enum Param {
  Float32, TransA, TransB, M, N, K, Alpha, A, Lda, B, Ldb, Beta, C, Ldc,
  /** 1: chunks are row blocks of C; 0: column blocks. */
  ByRows,
  Chunks,
  /** Chunk edges are multiples of this many rows or columns. */
  Unit,
  Count,
}

export function controlLayout(workers: number): { ints: number; paramsByteOffset: number; bytes: number } {
  const ints = SLOT_WORKERS + 3 * workers;
  const paramsByteOffset = Math.ceil((ints * 4) / 8) * 8;
  return { ints, paramsByteOffset, bytes: paramsByteOffset + Param.Count * 8 };
}

/** What worker `index` receives as workerData. */
export interface WasmWorkerInit {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  control: SharedArrayBuffer;
  workers: number;
  index: number;
  /** Byte address of this worker's gemm packing workspace. */
  work: number;
}

/** The two kernels the threads run (signatures as in asm/gemm.ts; pointers are byte addresses). */
export interface GemmKernels {
  gemm_f32(ta: number, tb: number, m: number, n: number, k: number, alpha: number, a: number, lda: number,
    b: number, ldb: number, beta: number, c: number, ldc: number, work: number): void;
  gemm_f64(ta: number, tb: number, m: number, n: number, k: number, alpha: number, a: number, lda: number,
    b: number, ldb: number, beta: number, c: number, ldc: number, work: number): void;
}

/**
 * Products with fewer multiply-adds (m·n·k) stay on one thread: below this the worker's
 * wake-up (tens of microseconds through the futex), the post and the repeated packing of the
 * shared operand cost more than the divided compute. Both are ~150 µs of single-threaded work
 * (the float64 kernel runs at half the float32 rate). Measured on 2 cores with square and
 * skinny shapes: 2 threads against 1 gave 0.9–1.07× at 2^21 and 1.08–1.18× at 2^22 in float32,
 * 0.95× at 2^20.4 and 1.08–1.14× at 2^21 in float64.
 */
export const PARALLEL_MIN_MULTIPLY_ADDS: Readonly<{ float32: number; float64: number }> = { float32: 2 ** 22, float64: 2 ** 21 };

/**
 * Chunks per thread. C is cut into more blocks than threads and the threads claim them one at
 * a time, so a thread that starts late (the futex wake-up) or loses its core to another
 * process leaves its share to the others instead of holding the call up. Each block packs the
 * shared operand again: 4 row blocks of a 1024³ product cost ~3% on one thread.
 */
const CHUNKS_PER_THREAD = 2;

/** How C is cut: `chunks` row blocks (byRows) or column blocks of a `dim`-long side. */
export interface GemmSplit {
  byRows: boolean;
  dim: number;
  unit: number;
  chunks: number;
}

/**
 * Plans the split of an m×n product over `threads` threads, or returns null when it should
 * stay on one. Rows are split when m ≥ n (each block then packs all of op(B), k·n values, next
 * to its rows·n·k multiply-adds), else columns (each packs all of op(A)). Block edges fall on
 * micro-tile rows (5 f32 / 4 f64) or on 64-byte column groups, so neighbouring blocks rarely
 * write the same cache line and only the last block has a ragged edge.
 */
export function planGemmSplit(m: number, n: number, k: number, float32: boolean, threads: number): GemmSplit | null {
  if (threads < 2 || m * n * k < PARALLEL_MIN_MULTIPLY_ADDS[float32 ? 'float32' : 'float64']) return null;
  const byRows = m >= n;
  const dim = byRows ? m : n;
  const unit = byRows ? (float32 ? 5 : 4) : (float32 ? 16 : 8);
  const chunks = Math.min(CHUNKS_PER_THREAD * threads, Math.floor(dim / unit));
  return chunks < 2 ? null : { byRows, dim, unit, chunks };
}

/** First row (or column) of chunk i of `chunks`; chunkStart(chunks) = dim. */
export function chunkStart(i: number, dim: number, chunks: number, unit: number): number {
  return i >= chunks ? dim : Math.round((i * dim) / chunks / unit) * unit;
}

/**
 * Claims chunks of the posted job until none is left and computes each with `kernels`,
 * packing into `work`. The main thread and the workers run this same loop.
 */
export function runGemmChunks(kernels: GemmKernels, control: Int32Array, q: Float64Array, work: number): void {
  const float32 = q[Param.Float32] === 1;
  const bytes = float32 ? 4 : 8;
  const gemm = float32 ? kernels.gemm_f32 : kernels.gemm_f64;
  const transA = q[Param.TransA]!, transB = q[Param.TransB]!;
  const m = q[Param.M]!, n = q[Param.N]!, k = q[Param.K]!, alpha = q[Param.Alpha]!, beta = q[Param.Beta]!;
  const a = q[Param.A]!, lda = q[Param.Lda]!, b = q[Param.B]!, ldb = q[Param.Ldb]!, c = q[Param.C]!, ldc = q[Param.Ldc]!;
  const byRows = q[Param.ByRows] === 1, chunks = q[Param.Chunks]!, unit = q[Param.Unit]!;
  const dim = byRows ? m : n;
  for (let i = Atomics.add(control, SLOT_NEXT, 1); i < chunks; i = Atomics.add(control, SLOT_NEXT, 1)) {
    const s = chunkStart(i, dim, chunks, unit), e = chunkStart(i + 1, dim, chunks, unit);
    if (byRows) gemm(transA, transB, e - s, n, k, alpha, a + (transA ? s : s * lda) * bytes, lda, b, ldb, beta, c + s * ldc * bytes, ldc, work);
    else gemm(transA, transB, m, e - s, k, alpha, a, lda, b + (transB ? s * ldb : s) * bytes, ldb, beta, c + s * bytes, ldc, work);
  }
}

interface NodeProcessLike {
  execArgv?: string[];
  getBuiltinModule?: (id: string) => unknown;
}

function nodeProcess(): NodeProcessLike | undefined {
  return (globalThis as { process?: NodeProcessLike }).process;
}

/** How long loading waits for a worker to instantiate the kernels before giving up on it. */
const START_TIMEOUT_MS = 5_000;

/**
 * Worker options to try in turn. A worker inherits the parent's Node options (loader hooks and
 * all), which is what we want, except after `node --input-type=module -e CODE`: the inherited
 * --input-type makes Node refuse the worker's entry file. Then the options go without those
 * naming the main program; if Node rejects that list (an explicit execArgv may not hold V8 or
 * per-process flags such as --experimental-wasm-relaxed-simd, which apply to workers anyway),
 * with none.
 */
export function workerExecArgvChoices(execArgv: readonly string[]): (string[] | undefined)[] {
  if (!execArgv.some((a) => a === '--input-type' || a.startsWith('--input-type='))) return [undefined];
  const withValue = new Set(['-e', '--eval', '-p', '--print', '-pe', '-ep', '--input-type']);
  const kept: string[] = [];
  for (let i = 0; i < execArgv.length; i++) {
    const arg = execArgv[i]!;
    if (withValue.has(arg)) i++; // and its value
    else if (!/^(--eval|--print|--input-type)=/.test(arg) && arg !== '-i' && arg !== '--interactive') kept.push(arg);
  }
  return [kept, []];
}

/**
 * The worker threads of one threaded wasm backend. `threads` counts the main thread, and
 * drops to 1 for good if a worker ever fails.
 */
export class GemmWorkerPool {
  private readonly workers: import('node:worker_threads').Worker[];
  private readonly control: Int32Array;
  private readonly params: Float64Array;
  private seq = 0;
  private failed = false;

  private constructor(workers: import('node:worker_threads').Worker[], control: Int32Array, params: Float64Array) {
    this.workers = workers;
    this.control = control;
    this.params = params;
  }

  get threads(): number {
    return this.failed ? 1 : this.workers.length + 1;
  }

  /**
   * Starts `workBases.length` workers over `memory`, worker i packing into `workBases[i]`, and
   * waits (synchronously) until each has instantiated the kernels. The main thread is blocked
   * meanwhile, which matters: instantiating rewrites the module's static data in the shared
   * memory. Returns null, after stopping any that did start, when a worker fails to start or
   * Node's worker_threads, SharedArrayBuffer or the worker entry file is missing. Never throws.
   */
  static start(module: WebAssembly.Module, memory: WebAssembly.Memory, workBases: number[]): GemmWorkerPool | null {
    const count = workBases.length;
    if (count < 1 || typeof SharedArrayBuffer !== 'function' || typeof Atomics !== 'object') return null;
    const proc = nodeProcess();
    if (typeof proc?.getBuiltinModule !== 'function') return null;
    let entry: URL;
    let threads: typeof import('node:worker_threads');
    try {
      threads = proc.getBuiltinModule('node:worker_threads') as typeof import('node:worker_threads');
      const fs = proc.getBuiltinModule('node:fs') as typeof import('node:fs');
      // Compiled: wasm-worker.js next to this file; run from source (a TypeScript loader): .ts.
      entry = new URL(import.meta.url.endsWith('.ts') ? './wasm-worker.ts' : './wasm-worker.js', import.meta.url);
      if (entry.protocol !== 'file:' || !fs.existsSync(entry)) return null;
    } catch {
      return null;
    }
    const layout = controlLayout(count);
    const shared = new SharedArrayBuffer(layout.bytes);
    const control = new Int32Array(shared, 0, layout.ints);
    const workers: import('node:worker_threads').Worker[] = [];
    const stopAll = (): null => {
      for (const w of workers) void w.terminate();
      return null;
    };
    for (let index = 0; index < count; index++) {
      const init: WasmWorkerInit = { module, memory, control: shared, workers: count, index, work: workBases[index]! };
      let worker: import('node:worker_threads').Worker | undefined;
      for (const execArgv of workerExecArgvChoices(proc.execArgv ?? [])) {
        try {
          worker = new threads.Worker(entry, { workerData: init, execArgv });
          break;
        } catch {
          // next choice
        }
      }
      if (worker === undefined) return stopAll();
      // An idle worker sleeps in Atomics.wait; it must not keep the process alive.
      worker.unref();
      // Failures surface through the control block; this keeps them from being unhandled.
      worker.on('error', () => {});
      workers.push(worker);
    }
    const deadline = Date.now() + START_TIMEOUT_MS;
    for (let index = 0; index < count; index++) {
      const slot = workerSlots(index).state;
      let state = Atomics.load(control, slot);
      while (state === STATE_STARTING && Date.now() < deadline) {
        Atomics.wait(control, slot, STATE_STARTING, deadline - Date.now());
        state = Atomics.load(control, slot);
      }
      if (state !== STATE_READY) return stopAll();
    }
    return new GemmWorkerPool(workers, control, new Float64Array(shared, layout.paramsByteOffset, Param.Count));
  }

  /**
   * Runs C = alpha·op(A)·op(B) + beta·C, already in linear memory, cut as `split` says: this
   * thread and the workers claim its chunks in turn, this thread through `local` packing into
   * `localWork`. Returns when every chunk is done.
   */
  gemm(local: GemmKernels, localWork: number, split: GemmSplit, float32: boolean, transA: boolean, transB: boolean,
    m: number, n: number, k: number, alpha: number, a: number, lda: number, b: number, ldb: number,
    beta: number, c: number, ldc: number): void {
    const q = this.params;
    q[Param.Float32] = float32 ? 1 : 0;
    q[Param.TransA] = transA ? 1 : 0;
    q[Param.TransB] = transB ? 1 : 0;
    q[Param.M] = m;
    q[Param.N] = n;
    q[Param.K] = k;
    q[Param.Alpha] = alpha;
    q[Param.A] = a;
    q[Param.Lda] = lda;
    q[Param.B] = b;
    q[Param.Ldb] = ldb;
    q[Param.Beta] = beta;
    q[Param.C] = c;
    q[Param.Ldc] = ldc;
    q[Param.ByRows] = split.byRows ? 1 : 0;
    q[Param.Chunks] = split.chunks;
    q[Param.Unit] = split.unit;
    const ctl = this.control;
    // Job numbers stay positive (a worker's `entered` slot holds −job for a closed job).
    const seq = (this.seq = (this.seq % 0x3fffffff) + 1);
    // Sequentially consistent stores: the plain writes above, and the operands the caller
    // copied into memory, happen before any worker sees the new job number.
    Atomics.store(ctl, SLOT_NEXT, 0);
    Atomics.store(ctl, SLOT_JOB, seq);
    Atomics.notify(ctl, SLOT_JOB);
    runGemmChunks(local, ctl, q, localWork);
    // Every chunk is claimed. Wait for the workers that joined; shut out those still asleep.
    let failed = false;
    for (let w = 0; w < this.workers.length; w++) {
      const slots = workerSlots(w);
      if (!closeJob(ctl, slots.entered, seq)) continue;
      for (;;) {
        const done = Atomics.load(ctl, slots.done);
        if (done === seq) break;
        if (Atomics.load(ctl, slots.state) === STATE_FAILED) {
          failed = true;
          break;
        }
        Atomics.wait(ctl, slots.done, done);
      }
    }
    if (failed) {
      this.close();
      throw new FimkitError('BACKEND', 'wasm backend: a gemm worker thread failed; later calls run on one thread');
    }
  }

  /** Stops the workers (the backend then runs on one thread). */
  close(): void {
    this.failed = true;
    for (const w of this.workers) void w.terminate();
  }
}
