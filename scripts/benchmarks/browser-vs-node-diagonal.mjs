#!/usr/bin/env node
/**
 * Time of the exact Fisher diagonal of a 784-512-256-10 MLP (relu, float32, categorical) on the
 * first 1000 inputs of the embedded Fashion-MNIST test split: in headless Chromium (the explorer
 * page's Web Worker, wasm backend, single-threaded) against Node's wasm backend on the same
 * machine, as a ratio. Node is timed single-threaded (FIMKIT_THREADS=1 in a child process, like
 * the page's worker) and with its default gemm threads.
 *
 *   npm run build && node scripts/benchmarks/browser-vs-node-diagonal.mjs [--inputs 1000] [--reps 2]
 *
 * Each side: one warm-up on 64 inputs, then the best of --reps timed runs (wall time of the
 * diagonal computation itself, measured inside the worker / the Node process).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
const INPUTS = arg('inputs', 1000);
const REPS = arg('reps', 2);
const CHROMIUM = process.env.FIMKIT_CHROMIUM ?? '/usr/bin/chromium';
const root = new URL('../../', import.meta.url).pathname;

if (process.argv[2] === '--node-child') {
  // Child: time the Node wasm backend with the environment the parent gave it.
  const fk = await import(join(root, 'dist/src/index.js'));
  const { datasetFromIdx, exactDiagonal } = await import(join(root, 'dist/src/web/analyse.js'));
  fk.setBackend('wasm');
  const imp = fk.loadModelFile(process.argv[3]);
  const img = gunzipSync(readFileSync(join(root, 'data/fashion-mnist-subset/t10k-images-idx3-ubyte.gz')));
  const lab = gunzipSync(readFileSync(join(root, 'data/fashion-mnist-subset/t10k-labels-idx1-ubyte.gz')));
  const data = { ...datasetFromIdx(img, lab), inputShape: imp.model.inputShape };
  const lik = fk.makeLikelihood('categorical');
  exactDiagonal(imp.model, lik, data, 64);
  let best = Infinity;
  for (let r = 0; r < Number(process.argv[5]); r++) {
    const t0 = performance.now();
    exactDiagonal(imp.model, lik, data, Number(process.argv[4]));
    best = Math.min(best, (performance.now() - t0) / 1000);
  }
  process.stdout.write(JSON.stringify({ seconds: best, backend: fk.getBackend().description, threads: fk.getBackend().threads }) + '\n');
  process.exit(0);
}

const fk = await import(join(root, 'dist/src/index.js'));
const { serveWeb } = await import(join(root, 'dist/src/web/server.js'));
const dir = mkdtempSync(join(tmpdir(), 'fimkit-bench-web-'));
const modelPath = join(dir, 'mlp-784-512-256-10.json');
fk.saveModel(modelPath, fk.buildModel(fk.mlpSpec([784, 512, 256, 10], 'relu', { inputShape: [1, 28, 28] }), new fk.Rng(1)), undefined, 'base64');

function nodeTime(threads) {
  const env = { ...process.env, ...(threads ? { FIMKIT_THREADS: String(threads) } : {}) };
  const r = spawnSync(process.execPath, ['--experimental-wasm-relaxed-simd', new URL(import.meta.url).pathname, '--node-child', modelPath, String(INPUTS), String(REPS)], { env, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout);
}

async function browserTime() {
  const { chromium } = await import('playwright-core');
  const web = await serveWeb(join(root, 'dist/web'), 0);
  const ctx = await chromium.launchPersistentContext(join(dir, 'profile'), {
    executablePath: CHROMIUM, headless: true, timeout: 60_000,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const page = ctx.pages()[0] ?? (await ctx.newPage());
    await page.goto(web.url);
    await page.waitForFunction(() => document.getElementById('stage')?.textContent?.startsWith('ready'), undefined, { timeout: 60_000 });
    await page.setInputFiles('#model-file', modelPath);
    await page.uncheck('#want-kfac');
    await page.uncheck('#want-var');
    const run = async (n) => {
      await page.fill('#inputs', String(n));
      await page.click('#compute');
      await page.waitForFunction(() => document.getElementById('stage')?.textContent === 'done' || document.getElementById('error')?.textContent, undefined, { timeout: 600_000 });
      const err = await page.textContent('#error');
      if (err) throw new Error(err);
      return Number(await page.getAttribute('#diag-seconds', 'data-seconds'));
    };
    await run(64);
    let best = Infinity;
    for (let r = 0; r < REPS; r++) best = Math.min(best, await run(INPUTS));
    return { seconds: best, browser: ctx.browser()?.version() ?? 'chromium' };
  } finally {
    await ctx.close();
    await web.close();
  }
}

try {
  const browser = await browserTime();
  const node1 = nodeTime(1);
  const nodeDefault = nodeTime(undefined);
  const out = {
    model: '784-512-256-10 relu, float32, categorical', inputs: INPUTS, reps: REPS,
    chromium: browser, node1, nodeDefault,
    ratioChromiumOverNode1Thread: browser.seconds / node1.seconds,
    ratioChromiumOverNodeDefault: browser.seconds / nodeDefault.seconds,
  };
  console.log(JSON.stringify(out, null, 2));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
