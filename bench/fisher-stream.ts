/**
 * Memory of the exact FIM diagonal streamed over a whole data set (60 000 Fashion-MNIST training
 * images, or 60 000 random inputs where the files are missing), against a process that holds
 * the same model and data and runs one plain gradient pass over one batch.
 *
 *   node dist/bench/fisher-stream.js [--quick] [--data fashion-mnist] [--batch 256] [--limit N]
 *     [--backend native|wasm|ts] [--json bench-results/fisher-stream.json]
 *
 * Each side runs in its own child process (`--role stream` / `--role baseline`), so the peaks do
 * not mix. Two comparisons are reported:
 *   1. peak RSS during the streaming run ÷ peak RSS during the gradient pass, both sampled the
 *      same way (after every batch or pass, from the end of loading); both processes hold the
 *      same model and data. Target < 2. (The kernel's high-water mark of the process, VmHWM, is
 *      reported too, but it is set while the data files are decompressed. Not getrusage maxrss:
 *      Linux carries that over from the parent across fork and exec, so a child of a large
 *      parent reports the parent's size.)
 *   2. peak ArrayBuffer bytes (process.memoryUsage().arrayBuffers, sampled after every batch or
 *      pass, after a GC at the start) above the level right after loading the data, against the
 *      model's parameter bytes plus one batch's activation bytes (the input and every layer's
 *      output for one batch). Target < 2× that.
 * Also time and inputs per second of the streaming run. The JSON file holds both children's
 * reports and the ratios.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { BackendName } from '../src/core/backend.js';
import { getBackend, setBackend } from '../src/core/backends/index.js';
import { BufferScope } from '../src/core/pool.js';
import { Rng } from '../src/core/rng.js';
import { Tensor, sizeOf } from '../src/core/tensor.js';
import { grad } from '../src/autodiff/grad.js';
import { batchOf, type Dataset } from '../src/data/dataset.js';
import { resolveDataset } from '../src/data/resolve.js';
import { buildModel, mlpSpec, type Sequential } from '../src/nn/index.js';
import { makeLikelihood } from '../src/likelihoods/index.js';
import { computeFisherRaw } from '../src/fisher/compute.js';
import { writeJsonAtomic } from '../src/io/atomic.js';

const MiB = 2 ** 20;
const SYNTHETIC_INPUTS = 60_000;

export interface RoleReport {
  role: 'stream' | 'baseline';
  data: string;
  /** Inputs in the data set held in memory. */
  dataInputs: number;
  backend: string;
  batch: number;
  params: number;
  /** Inputs the exact diagonal streamed over (stream role) or one batch (baseline). */
  inputs: number;
  seconds: number;
  rssAfterLoadMiB: number;
  /** Largest RSS sampled from the end of loading through the run (after every batch or pass). */
  runPeakRssMiB: number;
  /** The kernel's RSS high-water mark of this process since exec (VmHWM), data loading (gunzip, parsing) included; null where /proc is missing. */
  processMaxRssMiB: number | null;
  arrayBuffersAfterLoadMiB: number;
  /** Largest sampled arrayBuffers minus the after-load level. */
  peakArrayBuffersAboveLoadMiB: number;
  samples: number;
  /** Trace of the exact diagonal (stream role), a check that the work was done. */
  trace?: number;
}

function flag(args: string[], name: string): string | undefined {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
}

/** The training split of `spec`, or 60 000 random 28×28 inputs with random labels if it cannot be loaded. */
async function loadData(spec: string): Promise<{ data: Dataset; note?: string }> {
  try {
    return { data: (await resolveDataset(spec)).train };
  } catch (e) {
    const rng = new Rng('fisher-stream:synthetic');
    const inputs = rng.fillUniform(new Float32Array(SYNTHETIC_INPUTS * 784), 0, 1);
    const targets = new Int32Array(SYNTHETIC_INPUTS).map(() => rng.int(10));
    const data: Dataset = { name: 'synthetic-random-28x28', length: SYNTHETIC_INPUTS, inputShape: [1, 28, 28], inputs, targetKind: 'class', targets, targetDim: 1, numClasses: 10 };
    return { data, note: `${spec} not loadable (${e instanceof Error ? e.message : String(e)}); using ${SYNTHETIC_INPUTS} random inputs` };
  }
}

function benchModel(inputShape: readonly number[]): Sequential {
  return buildModel(mlpSpec([784, 512, 256, 10], 'relu', { inputShape: [...inputShape] }), new Rng(0), 'float32');
}

/** Bytes of one batch's activations: the input and the output of every layer, for `batch` samples. */
export function batchActivationBytes(model: Sequential, batch: number): number {
  const bytes = model.dtype === 'float32' ? 4 : 8;
  return model.shapes.reduce((s, shape) => s + sizeOf(shape), 0) * batch * bytes;
}

export function modelBytes(model: Sequential): number {
  return model.numParams() * (model.dtype === 'float32' ? 4 : 8);
}

/** VmHWM of /proc/self/status in MiB (Linux), or null. */
function highWaterMarkMiB(): number | null {
  try {
    const m = readFileSync('/proc/self/status', 'utf8').match(/^VmHWM:\s+(\d+)\s+kB/m);
    return m ? +(Number(m[1]) / 1024).toFixed(1) : null;
  } catch {
    return null;
  }
}

/** One side of the comparison, in this process. */
async function runRole(role: 'stream' | 'baseline', args: string[]): Promise<RoleReport> {
  const backend = flag(args, 'backend');
  if (backend !== undefined) setBackend(backend as BackendName);
  const batch = Number(flag(args, 'batch') ?? '256');
  const { data, note } = await loadData(flag(args, 'data') ?? 'fashion-mnist');
  if (note) process.stderr.write(`  ${note}\n`);
  const model = benchModel(data.inputShape);
  const lik = makeLikelihood('categorical');
  // Start from what the process holds for good: collect the loader's garbage first (a few
  // rounds with pauses: V8 frees ArrayBuffer backing stores on a background thread).
  const gc = (globalThis as { gc?: () => void }).gc;
  for (let i = 0; i < 3 && gc; i++) {
    gc();
    await new Promise((r) => setTimeout(r, 30));
  }
  const load = process.memoryUsage();
  let peakArrayBuffers = load.arrayBuffers;
  let peakRss = load.rss;
  let samples = 0;
  const sample = (): void => {
    const m = process.memoryUsage();
    peakArrayBuffers = Math.max(peakArrayBuffers, m.arrayBuffers);
    peakRss = Math.max(peakRss, m.rss);
    samples++;
  };
  const t0 = performance.now();
  let inputs: number;
  let trace: number | undefined;
  if (role === 'stream') {
    const limit = Number(flag(args, 'limit') ?? String(data.length));
    let lastLine = 0;
    const r = computeFisherRaw(model, lik, data, {
      estimator: 'exact', representation: 'diag', batchSize: batch, maxInputs: limit,
      onProgress: (done, total) => {
        sample();
        const now = performance.now();
        if (now - lastLine > 5000 || done === total) {
          lastLine = now;
          process.stderr.write(`  exact diagonal: ${done}/${total} inputs, ${((now - t0) / 1000).toFixed(1)} s\n`);
        }
      },
    });
    inputs = r.meta.numInputs;
    trace = r.acc.diag!.reduce((s, v) => s + v, 0);
  } else {
    const idx = new Uint32Array(Math.min(batch, data.length)).map((_, i) => i);
    const b = batchOf(data, idx, model.dtype);
    const x = new Tensor(b.inputs, [idx.length, sizeOf(model.inputShape)]);
    const y = b.targets as Int32Array;
    const params = model.parameters();
    const scope = new BufferScope();
    // A few passes, as a training loop would repeat them; sampled while the pass's tensors live.
    for (let pass = 0; pass < 3; pass++) {
      scope.run(() => { grad(lik.nll(model.forward(x), y), params); sample(); });
      scope.recycle();
      sample();
    }
    inputs = idx.length;
  }
  const seconds = (performance.now() - t0) / 1000;
  return {
    role, data: data.name, dataInputs: data.length, backend: getBackend().name, batch, params: model.numParams(), inputs,
    seconds: +seconds.toFixed(2),
    rssAfterLoadMiB: +(load.rss / MiB).toFixed(1),
    runPeakRssMiB: +(peakRss / MiB).toFixed(1),
    processMaxRssMiB: highWaterMarkMiB(),
    arrayBuffersAfterLoadMiB: +(load.arrayBuffers / MiB).toFixed(2),
    peakArrayBuffersAboveLoadMiB: +((peakArrayBuffers - load.arrayBuffers) / MiB).toFixed(2),
    samples,
    ...(trace === undefined ? {} : { trace }),
  };
}

export interface StreamMemoryResult {
  stream: RoleReport;
  baseline: RoleReport;
  inputsPerSecond: number;
  /** stream.runPeakRssMiB / baseline.runPeakRssMiB (target < 2). */
  peakRssRatio: number;
  modelMiB: number;
  batchActivationMiB: number;
  /** Peak RSS above the after-load level ÷ (modelMiB + batchActivationMiB) (target < 2): the memory the run took from the OS. */
  rssAboveLoadRatio: number;
  baselineRssAboveLoadRatio: number;
  /** stream.peakArrayBuffersAboveLoadMiB / (modelMiB + batchActivationMiB): typed arrays allocated, garbage not yet collected included. */
  arrayBuffersRatio: number;
  baselineArrayBuffersRatio: number;
}

function runChild(role: 'stream' | 'baseline', args: string[]): RoleReport {
  const self = fileURLToPath(import.meta.url);
  const r = spawnSync(process.execPath, ['--expose-gc', ...process.execArgv, self, '--role', role, ...args], {
    encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 16 * MiB,
  });
  if (r.status !== 0) throw new Error(`fisher-stream --role ${role} exited with ${r.status ?? r.signal}: ${r.stdout}`);
  const last = r.stdout.trim().split('\n').pop()!;
  return JSON.parse(last) as RoleReport;
}

/** Both children, then the ratios. */
export function measureStreamMemory(args: string[]): StreamMemoryResult {
  const stream = runChild('stream', args);
  const baseline = runChild('baseline', args);
  const shapeModel = benchModel([784]);
  const modelMiB = modelBytes(shapeModel) / MiB;
  const batchActivationMiB = batchActivationBytes(shapeModel, stream.batch) / MiB;
  const reference = modelMiB + batchActivationMiB;
  return {
    stream, baseline,
    inputsPerSecond: Math.round(stream.inputs / stream.seconds),
    peakRssRatio: +(stream.runPeakRssMiB / baseline.runPeakRssMiB).toFixed(3),
    modelMiB: +modelMiB.toFixed(2),
    batchActivationMiB: +batchActivationMiB.toFixed(2),
    rssAboveLoadRatio: +((stream.runPeakRssMiB - stream.rssAfterLoadMiB) / reference).toFixed(3),
    baselineRssAboveLoadRatio: +((baseline.runPeakRssMiB - baseline.rssAfterLoadMiB) / reference).toFixed(3),
    arrayBuffersRatio: +(stream.peakArrayBuffersAboveLoadMiB / reference).toFixed(3),
    baselineArrayBuffersRatio: +(baseline.peakArrayBuffersAboveLoadMiB / reference).toFixed(3),
  };
}

export function formatStreamMemory(m: StreamMemoryResult): string {
  const mark = (ok: boolean): string => (ok ? 'PASS' : 'FAIL');
  const s = m.stream, b = m.baseline;
  return [
    `Exact FIM diagonal streamed over ${s.inputs} inputs of ${s.data} (MLP 784-512-256-10 relu float32, batch ${s.batch}, ${s.backend}): ${s.seconds} s, ${m.inputsPerSecond} inputs/s`,
    `  Compared: process A streams the exact diagonal; process B holds the same model and data and runs a plain gradient pass over one batch.`,
    `  peak RSS during the run (sampled per batch/pass from the end of loading):  A ${s.runPeakRssMiB} MiB   B ${b.runPeakRssMiB} MiB   A/B ${m.peakRssRatio.toFixed(2)}  ${mark(m.peakRssRatio < 2)} (target < 2; both hold the ${s.dataInputs}-input data: A ${s.rssAfterLoadMiB}, B ${b.rssAfterLoadMiB} MiB RSS after loading)`,
    `  whole-process RSS high-water mark (VmHWM, loading included):  A ${s.processMaxRssMiB ?? '?'} MiB   B ${b.processMaxRssMiB ?? '?'} MiB`,
    `  model parameters ${m.modelMiB} MiB + one batch's activations ${m.batchActivationMiB} MiB = ${(m.modelMiB + m.batchActivationMiB).toFixed(2)} MiB (the reference below)`,
    `  peak RSS above the after-load level:  A ${(s.runPeakRssMiB - s.rssAfterLoadMiB).toFixed(1)} MiB = ${m.rssAboveLoadRatio.toFixed(2)}× the reference  ${mark(m.rssAboveLoadRatio < 2)} (target < 2×); B ${(b.runPeakRssMiB - b.rssAfterLoadMiB).toFixed(1)} MiB = ${m.baselineRssAboveLoadRatio.toFixed(2)}×`,
    `  peak ArrayBuffer bytes above the after-load level (sampled per batch/pass; counts typed arrays not yet garbage-collected, so an upper bound):  A ${s.peakArrayBuffersAboveLoadMiB} MiB = ${m.arrayBuffersRatio.toFixed(2)}× the reference; B ${b.peakArrayBuffersAboveLoadMiB} MiB = ${m.baselineArrayBuffersRatio.toFixed(2)}×`,
  ].join('\n');
}

/** Runs the comparison, prints it and writes the JSON; bench.ts calls this too. */
export function runStreamMemory(args: string[]): StreamMemoryResult {
  const json = flag(args, 'json') ?? 'bench-results/fisher-stream.json';
  const passOn: string[] = [];
  for (const name of ['data', 'batch', 'backend']) {
    const v = flag(args, name);
    if (v !== undefined) passOn.push(`--${name}`, v);
  }
  const limit = flag(args, 'limit') ?? (args.includes('--quick') ? '10000' : undefined);
  if (limit !== undefined) passOn.push('--limit', limit);
  const m = measureStreamMemory(passOn);
  console.log(formatStreamMemory(m));
  writeJsonAtomic(json, { date: new Date().toISOString(), node: process.version, ...m });
  console.log(`wrote ${json}`);
  return m;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = process.argv.slice(2);
  const role = flag(args, 'role');
  try {
    if (role === 'stream' || role === 'baseline') console.log(JSON.stringify(await runRole(role, args)));
    else if (role !== undefined) throw new Error(`--role ${role}: expected stream or baseline`);
    else runStreamMemory(args);
  } catch (e) {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  }
}
