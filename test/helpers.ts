/** Shared test helpers: run a suite once per backend available on this machine. */
import { availableBackends, withBackend } from '../src/core/backends/index.js';
import type { BackendName } from '../src/core/backend.js';
import { execFile } from 'node:child_process';

export const BACKENDS: BackendName[] = availableBackends();

/** Calls `fn(name)` inside withBackend(name) for every available backend. */
export function forEachBackend(fn: (name: BackendName) => void): void {
  for (const name of BACKENDS) withBackend(name, () => fn(name));
}

/** Debian's Chromium (installed by .ci/run); tests that need it skip when it is absent. */
export const CHROMIUM = process.env.FIMKIT_CHROMIUM ?? '/usr/bin/chromium';

/** Runs headless Chromium with the flags that work offline here. */
export function chromium(args: string[], userDataDir: string): Promise<{ stdout: string; stderr: string }> {
  const flags = [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage', '--hide-scrollbars', `--user-data-dir=${userDataDir}`, '--enable-logging=stderr', '--v=0',
  ];
  return new Promise((resolve, reject) => {
    execFile(CHROMIUM, [...flags, ...args], { timeout: 60_000, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`chromium ${args.join(' ')} failed: ${err.message}\n${stderr.slice(-2000)}`));
      else resolve({ stdout, stderr });
    });
  });
}

/** Console messages the page produced (Chromium logs them as "...:CONSOLE...] "message", source: URL (line)"). */
export function pageConsole(stderr: string, url: string): string[] {
  return stderr.split('\n').filter((l) => /:CONSOLE[:(\]]/.test(l) && l.includes(url));
}

