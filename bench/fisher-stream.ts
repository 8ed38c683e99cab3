/**
 * Streams a whole dataset through a Fisher estimator and reports time and peak memory:
 * `node dist/bench/fisher-stream.js [--data fashion-mnist] [--estimator exact] [--repr diag] [--limit N]`.
 * Memory must stay O(parameters + one batch): the peak RSS is printed beside the model size.
 */
import { resolveDataset } from '../src/data/resolve.js';
import { Rng } from '../src/core/rng.js';
import { getBackend } from '../src/core/backends/index.js';
import { buildModel, mlpSpec } from '../src/nn/index.js';
import { makeLikelihood } from '../src/likelihoods/index.js';
import { computeFisherRaw } from '../src/fisher/compute.js';
import type { EstimatorName, Representation } from '../src/fisher/matrix.js';

const args = process.argv.slice(2);
const opt = (name: string, dflt: string): string => { const i = args.indexOf(`--${name}`); return i >= 0 ? args[i + 1]! : dflt; };
const split = await resolveDataset(opt('data', 'fashion-mnist'));
const data = split.train;
const model = buildModel(mlpSpec([784, 512, 256, 10], 'relu', { inputShape: [...data.inputShape] }), new Rng(0), 'float32');
const lik = makeLikelihood('categorical');
const limit = Number(opt('limit', String(data.length)));
const rss0 = process.memoryUsage().rss;
let peak = rss0;
const timer = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss); }, 50);
const t0 = performance.now();
let last = 0;
const r = computeFisherRaw(model, lik, data, {
  estimator: opt('estimator', 'exact') as EstimatorName,
  representation: opt('repr', 'diag') as Representation,
  batchSize: Number(opt('batch', '256')),
  maxInputs: limit,
  onProgress: (done, total) => {
    peak = Math.max(peak, process.memoryUsage().rss);
    const now = performance.now();
    if (now - last > 2000 || done === total) {
      last = now;
      process.stderr.write(`  ${done}/${total} inputs, ${((now - t0) / 1000).toFixed(1)} s, rss ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB\n`);
    }
  },
});
clearInterval(timer);
const secs = (performance.now() - t0) / 1000;
const modelMiB = (model.numParams() * 4) / 2 ** 20;
const batchMiB = (Number(opt('batch', '256')) * 784 * 4) / 2 ** 20;
const trace = r.acc.diag ? r.acc.diag.reduce((s, v) => s + v, 0) : NaN;
console.log(JSON.stringify({
  data: data.name, inputs: r.meta.numInputs, estimator: r.meta.estimator, representation: r.meta.representation,
  backend: getBackend().name, seconds: +secs.toFixed(2), inputsPerSecond: Math.round(r.meta.numInputs / secs),
  rssStartMiB: +(rss0 / 2 ** 20).toFixed(0), rssPeakMiB: +(peak / 2 ** 20).toFixed(0),
  modelParams: model.numParams(), modelMiB: +modelMiB.toFixed(2), batchInputMiB: +batchMiB.toFixed(2), trace,
}, null, 2));
