/** Shared test helpers: run a suite once per backend available on this machine. */
import { availableBackends, withBackend } from '../src/core/backends/index.js';
import type { BackendName } from '../src/core/backend.js';

export const BACKENDS: BackendName[] = availableBackends();

/** Calls `fn(name)` inside withBackend(name) for every available backend. */
export function forEachBackend(fn: (name: BackendName) => void): void {
  for (const name of BACKENDS) withBackend(name, () => fn(name));
}
