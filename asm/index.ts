// Entry point of the wasm backend's kernels (built by scripts/build-wasm.mjs).
export * from './gemm';
export * from './elementwise';
export * from './moments';

/** First free byte after the static data: the TypeScript side lays out its scratch from here. */
export function heapBase(): usize {
  return __heap_base;
}
