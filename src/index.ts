/**
 * fimkit — the public API (Node entry). Everything a user needs is exported from here;
 * `fimkit/browser` (src/browser.ts) is the same minus what needs the file system.
 */
export * from './core/dtype.js';
export * from './core/errors.js';
export * from './core/backend.js';
export { Tensor, sizeOf } from './core/tensor.js';
export { Rng } from './core/rng.js';
export { BufferScope } from './core/pool.js';
export { gemmStridedBatched, type StridedBatch } from './core/linalg.js';
export {
  getBackend, setBackend, withBackend, loadBackend, backendReport, availableBackends, BACKEND_NAMES,
} from './core/backends/index.js';
export { initWasmBackend, type WasmSource } from './core/backends/wasm.js';
export * as ops from './autodiff/ops.js';
export { grad, backward, valueAndGrad, hvp, jvp, type GradOptions } from './autodiff/grad.js';
export { noGrad, isGradEnabled, withGradMode } from './autodiff/tape.js';
export { numericalGradient, numericalDirectional, maxRelativeError } from './autodiff/check.js';
export * from './nn/index.js';
export * from './likelihoods/index.js';
export * from './optim/index.js';
export * from './data/index.js';
export * from './train/index.js';
export { FileCheckpointStore } from './train/checkpoint-file.js';
export { writeFileAtomic, writeJsonAtomic } from './io/atomic.js';
