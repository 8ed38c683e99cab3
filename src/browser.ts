/**
 * fimkit for browsers: the library without what needs the file system (model files on disk,
 * dataset files and downloads, file checkpoints). Models travel as JSON (modelToJSON /
 * modelFromJSON), datasets as IDX bytes (parseIdx) or arrays.
 *
 * Call `await initBrowser()` once before computing: it compiles the wasm kernels (relaxed SIMD
 * where the browser has it) and makes them the active backend; `ts` is used until then.
 */
import { initWasmBackend, type WasmSource } from './core/backends/wasm.js';
import { setBackend } from './core/backends/index.js';
import type { Backend } from './core/backend.js';

export * from './core/dtype.js';
export * from './core/errors.js';
export * from './core/backend.js';
export { Tensor, sizeOf } from './core/tensor.js';
export { Rng } from './core/rng.js';
export { BufferScope, releaseScratch } from './core/pool.js';
export { gemmStridedBatched, type StridedBatch } from './core/linalg.js';
export {
  getBackend, setBackend, withBackend, loadBackend, backendReport, availableBackends, BACKEND_NAMES,
} from './core/backends/index.js';
export { initWasmBackend, type WasmSource } from './core/backends/wasm.js';
export * as ops from './autodiff/ops.js';
export { grad, backward, valueAndGrad, hvp, jvp, type GradOptions } from './autodiff/grad.js';
export { noGrad, isGradEnabled, withGradMode } from './autodiff/tape.js';
export { numericalGradient, numericalDirectional, maxRelativeError } from './autodiff/check.js';
export * from './nn/layers.js';
export * from './nn/sequential.js';
export * from './nn/format.js';
export * from './nn/import/index.js';
export * from './likelihoods/index.js';
export * from './optim/index.js';
export * from './data/dataset.js';
export * from './data/idx.js';
export * from './data/tabular.js';
export * from './data/synthetic.js';
export * from './train/index.js';
export * from './fisher/matrix.js';
export { computeFisher, computeFisherRaw, type FisherOptions, type RawFisherResult } from './fisher/compute.js';
export { fisherProduct } from './fisher/products.js';
export { FISHER_MODES, FISHER_SCALINGS, FISHER_OPTION_SCHEMA, checkFisherArgs } from './fisher/options.js';
export { checkOptions, describeRule, type OptionRule, type OptionSchema, type OptionSpec } from './core/options.js';
export { smallestInteger } from './core/search.js';
export * from './fisher/shard.js';
export { clippedGradientSum, perSampleGradientNorms, perSampleGradients, perSampleJacobians, perSampleOutputHessianDiag, type PerSampleNorms } from './fisher/persample.js';
export { DenseFisher, checkDenseSize } from './fisher/dense.js';
export { DiagFisher } from './fisher/diag.js';
export { BlockFisher } from './fisher/block.js';
export { KfacFisher } from './fisher/kfac.js';
export { MatrixFreeFisher } from './fisher/matfree.js';
export { layoutOf } from './fisher/layout.js';
export * from './fisher/serialize.js';
export { summarizeFisher, summarizeDiagonal, formatSummaryTable, type FisherSummary } from './fisher/summary.js';
export * from './variance/conditional.js';
export * from './variance/bounds.js';
export * from './variance/tensor-eig.js';
export * from './variance/complexity.js';
export * from './variance/recommend.js';
export * from './variance/check.js';
export * from './variance/offdiag.js';
export * from './report/index.js';
export { runStudy, studyFindings, STUDY_ARCHITECTURES, type StudyResult, type StudyOptions } from './study/study.js';
export { runToy, type ToyCurve, type ToyOptions } from './study/toy-ngd.js';
export { layerStatistics, sampledVariances, type LayerStat } from './study/layer-stats.js';
export { studyReportHtml } from './study/report.js';
export { encodeFloatArray, decodeFloatArray, type EncodedArray } from './io/base64.js';

/** Loads the wasm kernels (from `source`, default: dist/wasm next to this module) and activates them. */
export async function initBrowser(source?: WasmSource | { relaxed?: WasmSource; simd: WasmSource }): Promise<Backend> {
  const be = await initWasmBackend(source);
  setBackend(be);
  return be;
}
export * as ode from './ode/index.js';
