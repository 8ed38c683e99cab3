import type { Backend } from '../backend.js';
/** Placeholder until the native addon lands: reports itself unavailable. */
export function loadNativeBackend(): Backend | { reason: string } {
  return { reason: 'native addon not built yet' };
}
