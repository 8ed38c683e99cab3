/**
 * Backend selection. The fastest available backend is chosen on first use (native, then wasm,
 * then ts); `FIMKIT_BACKEND=native|wasm|ts` or `setBackend(name)` forces one, and forcing one
 * that cannot load is an error that says why, never a silent fallback.
 */
import type { Backend, BackendName } from '../backend.js';
import { FimkitError } from '../errors.js';
import { tsBackend } from './ts.js';
import { loadNativeBackend, requestedThreads } from './native.js';
import { loadWasmBackend } from './wasm.js';

export const BACKEND_NAMES: readonly BackendName[] = ['native', 'wasm', 'ts'];

interface LoadResult { backend: Backend | null; reason: string }

const loaded = new Map<BackendName, LoadResult>();

function tryLoad(name: BackendName): LoadResult {
  let r = loaded.get(name);
  if (r) return r;
  try {
    if (name === 'ts') r = { backend: tsBackend, reason: 'always available' };
    else {
      const b = name === 'native' ? loadNativeBackend() : loadWasmBackend();
      r = 'reason' in b ? { backend: null, reason: b.reason } : { backend: b, reason: 'loaded' };
    }
  } catch (e) {
    r = { backend: null, reason: (e as Error).message };
  }
  // Only successes are remembered: in a browser the wasm kernels become loadable once
  // initWasmBackend() has run, so a failure is asked again next time (loaders cache their own).
  if (r.backend) loaded.set(name, r);
  return r;
}

let current: Backend | null = null;

function envBackend(): string | undefined {
  const p = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process;
  const v = p?.env?.FIMKIT_BACKEND;
  return v === undefined || v === '' ? undefined : v;
}

/** Loads (once) and returns the named backend, or throws naming why it is unavailable. */
export function loadBackend(name: string): Backend {
  if (!(BACKEND_NAMES as readonly string[]).includes(name)) {
    throw new FimkitError('BACKEND', `unknown backend '${name}': expected one of ${BACKEND_NAMES.join(', ')}`);
  }
  const r = tryLoad(name as BackendName);
  if (!r.backend) throw new FimkitError('BACKEND', `backend '${name}' is not available: ${r.reason}`);
  return r.backend;
}

/** The active backend: forced by FIMKIT_BACKEND, else the fastest that loads. */
export function getBackend(): Backend {
  if (current) return current;
  const forced = envBackend();
  if (forced !== undefined) {
    // A forced backend that cannot load (a malformed FIMKIT_THREADS included) is an error naming why.
    current = loadBackend(forced);
    return current;
  }
  // A malformed FIMKIT_THREADS is an error here too, as a malformed FIMKIT_BACKEND is: checked
  // before the loaders, whose failures only mean "try the next backend" (it used to drop to ts).
  requestedThreads();
  for (const name of BACKEND_NAMES) {
    const r = tryLoad(name);
    if (r.backend) { current = r.backend; break; }
  }
  return current!;
}

/** Forces a backend for the rest of the process (tests run the same suite on each). */
export function setBackend(name: BackendName | Backend): Backend {
  current = typeof name === 'string' ? loadBackend(name) : name;
  return current;
}

/** Runs `fn` with `name` as the active backend, restoring the previous one afterwards. */
export function withBackend<T>(name: BackendName | Backend, fn: () => T): T {
  const prev = current;
  setBackend(name);
  try {
    return fn();
  } finally {
    current = prev;
  }
}

/** Which backends load here, and why the others do not. */
export function backendReport(): { name: BackendName; available: boolean; reason: string; description?: string; threads?: number }[] {
  return BACKEND_NAMES.map((name) => {
    const r = tryLoad(name);
    return r.backend
      ? { name, available: true, reason: r.reason, description: r.backend.description, threads: r.backend.threads }
      : { name, available: false, reason: r.reason };
  });
}

/** Names of the backends that load on this machine. */
export function availableBackends(): BackendName[] {
  return BACKEND_NAMES.filter((n) => tryLoad(n).backend !== null);
}
