/**
 * The explorer's compute worker: loads the wasm kernels, imports the model, and runs the
 * analyses off the page's thread, posting progress. Cancelling terminates the worker.
 */
import { initWasmBackend } from '../core/backends/wasm.js';
import { setBackend } from '../core/backends/index.js';
import { FimkitError } from '../core/errors.js';
import type { Dataset } from '../data/dataset.js';
import { importModel } from '../nn/import/detect.js';
import type { ImportedModel } from '../nn/import/common.js';
import { analyse, datasetFromCsv, datasetFromIdx, sampleSizes } from './analyse.js';
import type { FromWorker, ToWorker } from './protocol.js';

const post = (m: FromWorker): void => (self as unknown as { postMessage(m: unknown): void }).postMessage(m);

const ready = (async () => {
  const base = new URL('./', self.location.href);
  const be = await initWasmBackend({ relaxed: new URL('fimkit-relaxed.wasm', base), simd: new URL('fimkit-simd.wasm', base) });
  setBackend(be);
  post({ type: 'ready', backend: be.name });
})();

let state: { imp: ImportedModel; data: Dataset } | null = null;

async function gunzip(buf: ArrayBuffer): Promise<Uint8Array> {
  const bytes = new Uint8Array(buf);
  if (bytes[0] !== 0x1f || bytes[1] !== 0x8b) return bytes;
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

self.onmessage = async (ev: MessageEvent<ToWorker>) => {
  const msg = ev.data;
  try {
    await ready;
    if (msg.type === 'run') {
      const shards = msg.model.shards;
      const imp = importModel(new Uint8Array(msg.model.bytes), {
        source: msg.model.name,
        readShard: (p) => {
          const name = p.split('/').pop()!;
          return shards[name] ? new Uint8Array(shards[name]) : undefined;
        },
      });
      post({ type: 'model', info: { format: imp.format, inputShape: imp.model.inputShape, parameters: imp.model.numParams(), layers: imp.model.layers.map((l) => JSON.stringify(l.spec())), notes: imp.notes } });
      const data = msg.data.kind === 'embedded' ? datasetFromIdx(await gunzip(msg.data.images), await gunzip(msg.data.labels)) : datasetFromCsv(msg.data.text, msg.data.name);
      state = { imp, data };
      const result = analyse(imp, data, msg.request, (fraction, stage) => post({ type: 'progress', fraction, stage }));
      post({ type: 'result', result });
    } else if (msg.type === 'samplesize') {
      if (!state) throw new FimkitError('INVALID_ARGUMENT', 'compute a model first');
      post({ type: 'samplesize', rows: sampleSizes(state.imp, state.data, msg.inputIndex, msg.epsilon, msg.delta), epsilon: msg.epsilon, delta: msg.delta });
    }
  } catch (e) {
    const err = e as Error;
    post({ type: 'error', code: e instanceof FimkitError ? e.code : 'INTERNAL', message: err.message });
  }
};
