/**
 * The explorer page: its bundles reach no Node built-in, and in headless Chromium (driven by
 * playwright-core, Debian's chromium, no browser download) it opens a model, computes the exact
 * Fisher diagonal in its worker, and shows the numbers the library computes in Node; bad files
 * and a model that does not fit the data show named errors on the page. Screenshots of each
 * view go to test-artifacts/web/ (gitignored). Needs `npm run build:web` (part of npm run build).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { Rng } from '../src/core/rng.js';
import { buildModel, mlpSpec, saveModel } from '../src/nn/index.js';
import { loadModelFile } from '../src/nn/import/files.js';
import { makeLikelihood } from '../src/likelihoods/index.js';
import { datasetFromIdx, exactDiagonal } from '../src/web/analyse.js';
import { serveWeb } from '../src/web/server.js';
import { CHROMIUM } from './helpers.js';

const WEB = 'dist/web';
const ARTIFACTS = 'test-artifacts/web';
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

test('the page bundles reach no Node built-in module', () => {
  assert.ok(existsSync(join(WEB, 'meta.json')), 'dist/web is built (npm run build:web)');
  const meta = JSON.parse(readFileSync(join(WEB, 'meta.json'), 'utf8')) as { inputs: Record<string, { imports: { path: string }[] }>; outputs: Record<string, { imports: { path: string }[] }> };
  const builtins = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);
  const inputs = Object.keys(meta.inputs);
  assert.ok(inputs.some((p) => p.includes('src/nn/import/onnx.ts')) && inputs.some((p) => p.includes('@observablehq/plot')), 'the bundles hold the importers and Plot');
  const offenders = [
    ...Object.entries(meta.inputs).flatMap(([file, i]) => i.imports.filter((x) => builtins.has(x.path) || x.path.startsWith('node:')).map((x) => `${file} → ${x.path}`)),
    ...Object.entries(meta.outputs).flatMap(([file, o]) => o.imports.filter((x) => builtins.has(x.path) || x.path.startsWith('node:')).map((x) => `${file} → ${x.path}`)),
  ];
  assert.deepEqual(offenders, []);
  for (const f of ['app.js', 'worker.js']) assert.doesNotMatch(readFileSync(join(WEB, f), 'utf8'), /from\s*"node:|require\("(fs|path|os|url|worker_threads|child_process)"\)/, f);
});

test('headless Chromium: open a model, compute the exact diagonal, numbers equal the library\'s; errors on the page; screenshots', async (t) => {
  if (!existsSync(CHROMIUM)) {
    t.skip(`Chromium not found at ${CHROMIUM} (apt-get install -y chromium, or set FIMKIT_CHROMIUM); .ci/run installs it`);
    return;
  }
  const { chromium } = await import('playwright-core');
  mkdirSync(ARTIFACTS, { recursive: true });
  const dir = mkdtempSync(join(tmpdir(), 'fimkit-web-'));
  const web = await serveWeb(WEB, 0);
  // A new, empty profile directory (Playwright's persistent context is how it takes one).
  let context: Awaited<ReturnType<typeof chromium.launchPersistentContext>> | undefined;
  try {
    context = await chromium.launchPersistentContext(join(dir, 'profile'), { executablePath: CHROMIUM, headless: true, args: FLAGS, viewport: { width: 1280, height: 900 }, acceptDownloads: true, timeout: 60_000 });
    // A small MLP on the embedded 28×28 images, as a fimkit model file.
    const modelPath = join(dir, 'mlp.json');
    saveModel(modelPath, buildModel(mlpSpec([784, 24, 10], 'tanh', { inputShape: [1, 28, 28] }), new Rng(3)));
    const page = context.pages()[0] ?? await context.newPage();
    const problems: string[] = [];
    page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    await page.goto(web.url);
    await page.waitForFunction(() => document.getElementById('stage')?.textContent?.startsWith('ready'), undefined, { timeout: 20_000 });
    assert.match((await page.textContent('#stage'))!, /ready \(wasm backend in a worker\)/);

    // A model whose input does not fit the data: a named error shown on the page.
    await page.setInputFiles('#model-file', 'test/fixtures/import/cnn.onnx');
    await page.fill('#inputs', '8');
    await page.click('#compute');
    await page.waitForFunction(() => document.getElementById('error')?.textContent !== '', undefined, { timeout: 20_000 });
    assert.match((await page.textContent('#error'))!, /^error \[SHAPE\]: the data has 784 features per sample .* but the model expects 128/);
    await page.screenshot({ path: join(ARTIFACTS, 'error-shape.png'), fullPage: true });
    // A truncated ONNX file: named error too.
    const cut = join(dir, 'cut.onnx');
    writeFileSync(cut, readFileSync('test/fixtures/import/cnn.onnx').subarray(0, 400));
    await page.setInputFiles('#model-file', cut);
    await page.click('#compute');
    await page.waitForFunction(() => /error \[/.test(document.getElementById('error')?.textContent ?? ''), undefined, { timeout: 20_000 });
    assert.match((await page.textContent('#error'))!, /^error \[(TRUNCATED_FILE|CORRUPT_FILE)\]: cut\.onnx/);

    // The model: compute everything on 32 inputs.
    const N = 32;
    await page.setInputFiles('#model-file', modelPath);
    await page.fill('#inputs', String(N));
    await page.click('#compute');
    await page.waitForSelector('#diag-table', { timeout: 60_000 });
    await page.waitForFunction(() => document.getElementById('stage')?.textContent === 'done', undefined, { timeout: 60_000 });
    assert.equal(await page.textContent('#error'), '');
    const shown = await page.$$eval('#diag-table tbody tr', (rows) => rows.map((r) => ({ param: r.getAttribute('data-param')!, sum: Number(r.querySelector('.sum')!.textContent), max: Number(r.querySelector('.max')!.textContent) })));

    // The same numbers from the library in Node.
    const imp = loadModelFile(modelPath);
    const data = datasetFromIdx(gunzipSync(readFileSync('data/fashion-mnist-subset/t10k-images-idx3-ubyte.gz')), gunzipSync(readFileSync('data/fashion-mnist-subset/t10k-labels-idx1-ubyte.gz')));
    const diag = exactDiagonal(imp.model, makeLikelihood('categorical'), { ...data, inputShape: imp.model.inputShape }, N);
    const expected: { param: string; sum: number; max: number }[] = [];
    let off = 0;
    for (const g of imp.model.paramGroups()) {
      for (const p of g.params) {
        let sum = 0, max = 0;
        for (let i = off; i < off + p.tensor.size; i++) { sum += diag[i]!; max = Math.max(max, diag[i]!); }
        expected.push({ param: `${g.label}.${g.index}.${p.name}`, sum, max }); // the layout names parameters "<layer>.<name>"
        off += p.tensor.size;
      }
    }
    assert.deepEqual(shown.map((s) => s.param), expected.map((e) => e.param));
    let worst = 0;
    shown.forEach((s, i) => {
      const e = expected[i]!;
      worst = Math.max(worst, Math.abs(s.sum - e.sum) / e.sum, Math.abs(s.max - e.max) / e.max);
    });
    // Float32 forward passes on two wasm builds (the page's, Node's) with float64 sums; 10 digits shown.
    assert.ok(worst < 1e-5, `page vs library: relative difference ${worst}`);
    t.diagnostic(`page vs Node library: exact diagonal per-parameter sums and maxima agree to ${worst.toExponential(2)} relative (${shown.length} parameters tensors, ${N} inputs)`);

    // The other views are there: heatmaps shaped like the weights, spectra, variances.
    const canvases = await page.$$eval('#layers canvas', (cs) => cs.map((c) => [(c as HTMLCanvasElement).height, (c as HTMLCanvasElement).width]));
    assert.deepEqual(canvases, [[24, 784], [1, 24], [10, 24], [1, 10]]);
    assert.equal(await page.locator('#spectra svg.fimkit-chart').count(), 2);
    assert.equal(await page.locator('#variance-table tbody tr').count(), 2);
    await page.screenshot({ path: join(ARTIFACTS, 'results.png'), fullPage: true });
    await page.locator('#layers').screenshot({ path: join(ARTIFACTS, 'heatmaps.png') });
    await page.locator('#spectra').screenshot({ path: join(ARTIFACTS, 'kfac-spectra.png') });
    await page.locator('#variance').screenshot({ path: join(ARTIFACTS, 'variances.png') });
    await page.click('#samplesize-go');
    await page.waitForSelector('#samplesize-table', { timeout: 20_000 });
    assert.equal(await page.locator('#samplesize-table tbody tr').count(), 2);
    await page.locator('#samplesize').screenshot({ path: join(ARTIFACTS, 'sample-size.png') });
    // Export: a JSON download holding the same diagonal.
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export-json')]);
    const exported = JSON.parse(readFileSync((await download.path())!, 'utf8')) as { layers: { params: { diag: number[] }[] }[] };
    assert.equal(exported.layers[0]!.params[0]!.diag.length, 24 * 784);

    // Cancel: a long job stops and the page is usable again.
    await page.fill('#inputs', '1000');
    await page.click('#compute');
    await page.click('#cancel');
    await page.waitForFunction(() => document.getElementById('stage')?.textContent === 'cancelled', undefined, { timeout: 10_000 });
    assert.equal(await page.isEnabled('#compute'), true);
    await page.waitForFunction(() => document.getElementById('stage')?.textContent?.startsWith('ready'), undefined, { timeout: 20_000 });
    assert.deepEqual(problems, [], 'no console errors or uncaught exceptions');
  } finally {
    await context?.close();
    await web.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
