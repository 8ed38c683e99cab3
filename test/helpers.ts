/** Shared test helpers: run a suite once per backend available on this machine. */
import { availableBackends, withBackend } from '../src/core/backends/index.js';
import type { BackendName } from '../src/core/backend.js';
import { execFile } from 'node:child_process';
import { Rng } from '../src/core/rng.js';
import { Tensor } from '../src/core/tensor.js';
import type { Dataset } from '../src/data/dataset.js';
import type { Likelihood } from '../src/likelihoods/likelihood.js';
import type { Sequential } from '../src/nn/sequential.js';

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


/**
 * `count` inputs uniform in [−range, range] for `model`, with random targets of the likelihood's
 * kind for `outputs` outputs (inputs drawn first, then targets, from one seed).
 */
export function randomData(model: Sequential, lik: Likelihood, opts: { seed: number; count: number; outputs: number; range?: number; name?: string }): Dataset {
  const { count, outputs: T } = opts;
  const rng = new Rng(opts.seed);
  const D = model.inputShape.reduce((p, d) => p * d, 1);
  const range = opts.range ?? 1;
  const inputs = Tensor.uniform([count, D], rng, -range, range, model.dtype).data;
  const base = { name: opts.name ?? 'random', length: count, inputShape: [...model.inputShape], inputs };
  switch (lik.targetKind) {
    case 'class': return { ...base, targetKind: 'class', targets: new Int32Array(count).map(() => rng.int(T)), targetDim: 1, numClasses: T };
    case 'real': return { ...base, targetKind: 'real', targets: Tensor.randn([count, T], rng, 'float64').data, targetDim: T };
    case 'multilabel': return { ...base, targetKind: 'multilabel', targets: new Float64Array(count * T).map(() => (rng.uniform() < 0.5 ? 1 : 0)), targetDim: T, numClasses: T };
    default: return { ...base, targetKind: 'count', targets: new Float64Array(count * T).map(() => rng.int(4)), targetDim: T };
  }
}
