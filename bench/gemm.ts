/**
 * GEMM throughput of every available backend: square C = A·B (no transposes, beta = 0) for
 * each size and dtype, reported as the median of several timed runs after a warm-up (the
 * warm-up also lets the wasm engine tier the kernels up to optimized code).
 *
 * Library use: `await benchGemm({ sizes, dtypes, backends })` returns rows.
 * Command line: `node --experimental-wasm-relaxed-simd dist/bench/gemm.js [--json]
 *   [--sizes=256,512] [--dtypes=float32] [--backends=native,wasm] [--all-wasm]`
 * (--all-wasm also times the wasm build the loader did not pick, e.g. plain SIMD next to relaxed).
 */
import { readFileSync, existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Backend, BackendName } from '../src/core/backend.js';
import { availableBackends, loadBackend } from '../src/core/backends/index.js';
import { WASM_FILES, wasmBackendFromBytes, type WasmVariant } from '../src/core/backends/wasm.js';
import type { DType, FloatArray } from '../src/core/dtype.js';
import { Rng } from '../src/core/rng.js';
import { median } from './timing.js';

export interface GemmBenchRow {
  /** Backend name; the extra wasm build from `allWasmVariants` is labelled 'wasm-simd' / 'wasm-relaxed'. */
  backend: string;
  dtype: DType;
  size: number;
  /** 2·n³ / median time. */
  gflops: number;
  /** Median wall time of one call, milliseconds. */
  ms: number;
  threads: number;
  description: string;
  /** Timed runs behind the median. */
  runs: number;
}

export interface GemmBenchOptions {
  sizes?: number[];
  dtypes?: DType[];
  /** Backend names (default: every available one) or backend objects. */
  backends?: (BackendName | Backend)[];
  /** Also time the wasm build that the loader did not choose (needs relaxed SIMD enabled to add it). */
  allWasmVariants?: boolean;
  /** Timed runs per case: at least `minRuns`, more while within `budgetMs` (up to `maxRuns`). */
  minRuns?: number;
  maxRuns?: number;
  budgetMs?: number;
  /** Progress lines (e.g. console.error); silent by default. */
  log?: (line: string) => void;
}

function otherWasmBuild(loaded: Backend | undefined): { label: string; backend: Backend } | null {
  const current: WasmVariant | null = loaded === undefined ? null : loaded.description.includes('relaxed') ? 'relaxed' : 'simd';
  const want: WasmVariant = current === 'relaxed' ? 'simd' : 'relaxed';
  const path = fileURLToPath(new URL(`../wasm/${WASM_FILES[want]}`, import.meta.url));
  if (!existsSync(path)) return null;
  const bytes = readFileSync(path);
  if (!WebAssembly.validate(bytes)) return null;
  return { label: `wasm-${want}`, backend: wasmBackendFromBytes(bytes, want) };
}

function timeOnce(b: Backend, n: number, a: FloatArray, bm: FloatArray, c: FloatArray): number {
  const t0 = performance.now();
  b.gemm(false, false, n, n, n, 1, a, 0, n, bm, 0, n, 0, c, 0, n);
  return performance.now() - t0;
}

export async function benchGemm(opts: GemmBenchOptions = {}): Promise<GemmBenchRow[]> {
  const sizes = opts.sizes ?? [256, 512, 1024];
  const dtypes = opts.dtypes ?? ['float32', 'float64'];
  const minRuns = opts.minRuns ?? 3;
  const maxRuns = opts.maxRuns ?? 9;
  const budgetMs = opts.budgetMs ?? 1500;
  const log = opts.log ?? (() => {});

  const entries: { label: string; backend: Backend }[] = (opts.backends ?? availableBackends()).map((b) =>
    typeof b === 'string' ? { label: b, backend: loadBackend(b) } : { label: b.name, backend: b });
  if (opts.allWasmVariants) {
    const extra = otherWasmBuild(entries.find((e) => e.label === 'wasm')?.backend);
    if (extra) entries.push(extra);
  }

  const rows: GemmBenchRow[] = [];
  const rng = new Rng('bench-gemm');
  for (const dtype of dtypes) {
    for (const n of sizes) {
      const make = (): FloatArray => rng.fillUniform(dtype === 'float32' ? new Float32Array(n * n) : new Float64Array(n * n), -1, 1);
      const a = make(), bm = make(), c = make();
      for (const { label, backend } of entries) {
        // Warm-up: at least two calls (the second runs tiered-up wasm code), ~200 ms at most.
        // A backend that needs more than the whole budget for one call (the ts reference at
        // 1024) gets one warm-up and one timed run, and the row says so (runs = 1).
        let warm = 0;
        for (let i = 0; i < 2 || (warm < 200 && i < 10); i++) {
          warm += timeOnce(backend, n, a, bm, c);
          if (warm > budgetMs) break;
        }
        const slow = warm > budgetMs;
        const times: number[] = [];
        let spent = 0;
        while (times.length < (slow ? 1 : minRuns) || (!slow && times.length < maxRuns && spent < budgetMs)) {
          const t = timeOnce(backend, n, a, bm, c);
          times.push(t);
          spent += t;
        }
        const ms = median(times);
        const row: GemmBenchRow = {
          backend: label, dtype, size: n, gflops: (2 * n * n * n) / (ms * 1e6), ms,
          threads: backend.threads, description: backend.description, runs: times.length,
        };
        rows.push(row);
        log(`${label.padEnd(13)} ${dtype} ${String(n).padStart(5)}  ${row.gflops.toFixed(1).padStart(7)} GFLOP/s  ${ms.toFixed(2)} ms`);
        // Let other work (timers, I/O) run between cases.
        await new Promise((r) => setTimeout(r, 0));
      }
    }
  }
  return rows;
}

export function formatGemmTable(rows: GemmBenchRow[]): string {
  const header = ['backend', 'threads', 'dtype', 'size', 'GFLOP/s', 'ms'];
  const body = rows.map((r) => [r.backend, String(r.threads), r.dtype, String(r.size), r.gflops.toFixed(1), r.ms.toFixed(2)]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i >= 3 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ');
  const notes = [...new Map(rows.map((r) => [r.backend, r.description])).entries()].map(([b, d]) => `  ${b}: ${d}`);
  return [line(header), ...body.map(line), '', ...notes].join('\n');
}

async function main(argv: string[]): Promise<void> {
  const arg = (name: string): string | undefined => argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  const list = (v: string | undefined): string[] | undefined => (v === undefined ? undefined : v.split(',').filter((s) => s !== ''));
  const json = argv.includes('--json');
  const rows = await benchGemm({
    sizes: list(arg('sizes'))?.map(Number),
    dtypes: list(arg('dtypes')) as DType[] | undefined,
    backends: list(arg('backends')) as BackendName[] | undefined,
    allWasmVariants: argv.includes('--all-wasm'),
    log: json ? undefined : (l) => console.error(l),
  });
  console.log(json ? JSON.stringify(rows, null, 2) : formatGemmTable(rows));
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
}
