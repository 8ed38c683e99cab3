/**
 * Worker thread of the multi-threaded wasm gemm (started by GemmWorkerPool in wasm-workers.ts;
 * Node only, never imported by the library itself). It instantiates the shared-memory kernel
 * build over the main thread's memory, reports ready through the control block, then sleeps in
 * Atomics.wait until the main thread posts a gemm, claims blocks of C with the other threads
 * until none is left, and reports the job done. Jobs come through shared memory, not messages:
 * a thread blocked in Atomics.wait never sees 'message' events.
 */
import { workerData } from 'node:worker_threads';
import {
  controlLayout, enterJob, runGemmChunks, workerSlots, Param, SLOT_JOB, STATE_FAILED, STATE_READY,
  type GemmKernels, type WasmWorkerInit,
} from './wasm-workers.js';

function serve(init: WasmWorkerInit): void {
  const layout = controlLayout(init.workers);
  const control = new Int32Array(init.control, 0, layout.ints);
  const params = new Float64Array(init.control, layout.paramsByteOffset, Param.Count);
  const slots = workerSlots(init.index);
  const fail = (): void => {
    Atomics.store(control, slots.state, STATE_FAILED);
    Atomics.notify(control, slots.state);
    Atomics.notify(control, slots.done);
  };
  let kernels: GemmKernels;
  try {
    kernels = new WebAssembly.Instance(init.module, { env: { memory: init.memory } }).exports as unknown as GemmKernels;
  } catch {
    fail();
    return;
  }
  // Read before reporting ready: the main thread may post the first job right after.
  let seen = Atomics.load(control, SLOT_JOB);
  Atomics.store(control, slots.state, STATE_READY);
  Atomics.notify(control, slots.state);
  for (;;) {
    Atomics.wait(control, SLOT_JOB, seen);
    const job = Atomics.load(control, SLOT_JOB);
    if (job === seen) continue;
    seen = job;
    // Woken too late: the main thread already did every chunk of this job.
    if (!enterJob(control, slots.entered, job)) continue;
    try {
      runGemmChunks(kernels, control, params, init.work);
    } catch {
      fail();
      return;
    }
    Atomics.store(control, slots.done, job);
    Atomics.notify(control, slots.done);
  }
}

serve(workerData as WasmWorkerInit);
