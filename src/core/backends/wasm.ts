import type { Backend } from '../backend.js';
/** Placeholder until the wasm kernels land: reports itself unavailable. */
export function loadWasmBackend(): Backend | { reason: string } {
  return { reason: 'wasm kernels not built yet' };
}
