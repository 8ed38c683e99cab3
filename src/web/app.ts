/**
 * The explorer page: picks a model and data, hands them to the compute worker, shows progress
 * (with cancel), errors (on the page), and the results: per layer the exact Fisher diagonal as
 * heatmaps shaped like the weights, KFAC factor spectra (charts from the report toolkit, drawn
 * by Observable Plot), V1/V2 with bounds and the recommendation, a sample-size calculator, and
 * exports (JSON, SVG, PNG).
 */
import { lineChart, smallMultiples } from '../report/svg.js';
import type { AnalysisResult, LayerResult } from './analyse.js';
import type { DataSource, FromWorker, ModelFiles, ToWorker } from './protocol.js';

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => document.getElementById(id) as T;
let worker: Worker;
let modelFiles: ModelFiles | null = null;
let lastResult: AnalysisResult | null = null;
let spectraSvg = '';

function showError(text: string): void {
  $('error').textContent = text;
}

function startWorker(): void {
  worker = new Worker(new URL('worker.js', import.meta.url), { type: 'module' });
  worker.onmessage = (ev: MessageEvent<FromWorker>) => onWorker(ev.data);
  worker.onerror = (ev) => { showError(`worker error: ${ev.message}`); done(); };
}

function done(): void {
  ($('compute') as HTMLButtonElement).disabled = false;
  ($('cancel') as HTMLButtonElement).disabled = true;
}

function fmt(v: number): string {
  return Number.isFinite(v) ? v.toPrecision(6) : String(v);
}

async function readFiles(files: FileList | File[]): Promise<void> {
  const list = Array.from(files);
  const main = list.find((f) => f.name.endsWith('.onnx')) ?? list.find((f) => f.name.endsWith('.json')) ?? list[0];
  if (!main) return;
  const shards: Record<string, ArrayBuffer> = {};
  for (const f of list) if (f !== main) shards[f.name] = await f.arrayBuffer();
  modelFiles = { name: main.name, bytes: await main.arrayBuffer(), shards };
  $('model-info').textContent = `chosen: ${main.name}${Object.keys(shards).length ? ` with ${Object.keys(shards).join(', ')}` : ''}`;
  showError('');
}

async function dataSource(): Promise<DataSource> {
  const kind = (document.querySelector('input[name="data"]:checked') as HTMLInputElement).value;
  if (kind === 'csv') {
    const f = ($('csv-file') as HTMLInputElement).files?.[0];
    if (!f) throw new Error('choose a CSV file for the data');
    return { kind: 'csv', name: f.name, text: await f.text() };
  }
  const get = async (name: string): Promise<ArrayBuffer> => {
    const r = await fetch(`data/${name}`);
    if (!r.ok) throw new Error(`cannot load the embedded data (${name}: HTTP ${r.status})`);
    return r.arrayBuffer();
  };
  return { kind: 'embedded', images: await get('t10k-images-idx3-ubyte.gz'), labels: await get('t10k-labels-idx1-ubyte.gz') };
}

async function compute(): Promise<void> {
  showError('');
  if (!modelFiles) { showError('choose a model file first'); return; }
  let data: DataSource;
  try { data = await dataSource(); } catch (e) { showError((e as Error).message); return; }
  ($('compute') as HTMLButtonElement).disabled = true;
  ($('cancel') as HTMLButtonElement).disabled = false;
  for (const id of ['summary', 'spectra', 'variance', 'layers']) $(id).innerHTML = '';
  const msg: ToWorker = {
    type: 'run', model: modelFiles, data,
    request: {
      inputs: Number(($('inputs') as HTMLInputElement).value), inputIndex: Number(($('input-index') as HTMLInputElement).value),
      kfac: ($('want-kfac') as HTMLInputElement).checked, variance: ($('want-var') as HTMLInputElement).checked,
    },
  };
  worker.postMessage(msg);
}

function cancel(): void {
  worker.terminate();
  startWorker();
  ($('progress') as HTMLProgressElement).value = 0;
  $('stage').textContent = 'cancelled';
  done();
}

/** log10 of the value mapped to a blue–yellow ramp; zeros in grey. */
function heatmap(values: number[], rows: number, cols: number): HTMLCanvasElement {
  const c = document.createElement('canvas');
  c.width = cols;
  c.height = rows;
  const ctx = c.getContext('2d')!;
  const img = ctx.createImageData(cols, rows);
  let lo = Infinity, hi = -Infinity;
  for (const v of values) if (v > 0) { const l = Math.log10(v); lo = Math.min(lo, l); hi = Math.max(hi, l); }
  const span = hi > lo ? hi - lo : 1;
  values.forEach((v, i) => {
    const t = v > 0 ? (Math.log10(v) - lo) / span : -1;
    const [r, g, b] = t < 0 ? [200, 200, 200] : [Math.round(30 + 225 * t), Math.round(40 + 190 * t), Math.round(120 - 90 * t)];
    img.data.set([r, g, b, 255], 4 * i);
  });
  ctx.putImageData(img, 0, 0);
  const scale = Math.max(1, Math.min(8, Math.floor(300 / Math.max(rows, cols))));
  c.style.width = `${cols * scale}px`;
  c.style.height = `${rows * scale}px`;
  c.title = `log10 range ${lo.toFixed(2)} … ${hi.toFixed(2)}`;
  return c;
}

function renderLayer(l: LayerResult, li: number): HTMLElement {
  const sec = document.createElement('div');
  sec.className = 'layer';
  sec.dataset['layer'] = String(li);
  const h = document.createElement('h3');
  h.textContent = `layer ${l.label}`;
  sec.appendChild(h);
  const maps = document.createElement('div');
  maps.className = 'heatmaps';
  for (const p of l.params) {
    const rows = p.shape.length >= 2 ? p.shape[0]! : 1;
    const cols = p.diag.length / rows;
    const fig = document.createElement('figure');
    fig.appendChild(heatmap(p.diag, rows, cols));
    const cap = document.createElement('figcaption');
    cap.textContent = `${p.name} [${p.shape.join('×')}]${p.shape.length === 4 ? ` shown as ${rows}×${cols} (out × in·kH·kW)` : ''}: exact Fisher diagonal, log colour scale`;
    fig.appendChild(cap);
    maps.appendChild(fig);
  }
  sec.appendChild(maps);
  return sec;
}

function renderResult(r: AnalysisResult): void {
  lastResult = r;
  const rows = r.layers.flatMap((l) => l.params.map((p) => {
    let sum = 0, max = 0;
    for (const v of p.diag) { sum += v; max = Math.max(max, v); }
    return `<tr data-param="${l.label}.${p.name}"><td>${l.label} ${p.name}</td><td>${p.diag.length}</td><td class="sum">${sum.toPrecision(10)}</td><td class="mean">${(sum / p.diag.length).toPrecision(10)}</td><td class="max">${max.toPrecision(10)}</td></tr>`;
  }));
  $('summary').innerHTML = `<h2>Exact Fisher diagonal</h2><p>${r.numInputs} inputs, ${r.numParams.toLocaleString('en-US')} parameters, ${r.likelihood} likelihood; <span id="diag-seconds" data-seconds="${r.seconds.diag}">${r.seconds.diag.toFixed(2)}</span> s (diagonal), ${r.seconds.kfac.toFixed(2)} s (KFAC), ${r.seconds.variance.toFixed(2)} s (variances)</p>` +
    `<table id="diag-table"><thead><tr><th>parameter</th><th>entries</th><th>sum</th><th>mean</th><th>max</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
  const withK = r.layers.filter((l) => l.kfac);
  if (withK.length) {
    const charts = withK.map((l) => lineChart({
      title: `KFAC spectra, layer ${l.label}`, xLabel: 'rank', yLabel: 'eigenvalue', logY: true, width: 420, height: 280, legend: 'bottom',
      series: [
        { name: 'A (inputs)', x: l.kfac!.a.map((_, i) => i + 1), y: l.kfac!.a },
        { name: 'G (output gradients)', x: l.kfac!.g.map((_, i) => i + 1), y: l.kfac!.g },
      ],
    }));
    spectraSvg = smallMultiples(charts, 2, { title: 'KFAC factor spectra' });
    $('spectra').innerHTML = `<h2>KFAC factor spectra</h2><div class="heatmaps">${charts.join('')}</div>`;
  }
  const vl = r.layers.filter((l) => l.variance);
  if (vl.length) {
    $('variance').innerHTML = '<h2>Variances at one input (single label)</h2><table id="variance-table"><thead><tr><th>layer</th><th>FIM</th><th>V1</th><th>V1 bounds</th><th>V2</th><th>V2 bounds</th><th>recommended</th><th>labels Î1</th><th>labels Î2</th></tr></thead><tbody>' +
      vl.map((l) => { const v = l.variance!, c = l.recommendation; return `<tr><td>${l.label}</td><td>${fmt(v.fim)}</td><td>${fmt(v.v1)}</td><td>[${fmt(v.v1Lower)}, ${fmt(v.v1Upper)}]</td><td>${fmt(v.v2)}</td><td>[${fmt(v.v2Lower)}, ${fmt(v.v2Upper)}]</td><td title="${c?.reason ?? ''}">${c?.recommended ?? ''}</td><td>${c ? fmt(c.labelsI1) : ''}</td><td>${c ? fmt(c.labelsI2) : ''}</td></tr>`; }).join('') + '</tbody></table>';
    $('samplesize').hidden = false;
  }
  const layers = $('layers');
  r.layers.forEach((l, i) => layers.appendChild(renderLayer(l, i)));
  $('export').hidden = false;
}

function onWorker(m: FromWorker): void {
  switch (m.type) {
    case 'ready': $('stage').textContent = `ready (${m.backend} backend in a worker)`; break;
    case 'model': $('model-info').textContent = `${m.info.format} model, input [${m.info.inputShape.join(', ')}], ${m.info.parameters.toLocaleString('en-US')} parameters: ${m.info.layers.length} layers${m.info.notes.length ? `; ${m.info.notes.join('; ')}` : ''}`; break;
    case 'progress': ($('progress') as HTMLProgressElement).value = m.fraction; $('stage').textContent = m.stage; break;
    case 'result': renderResult(m.result); $('stage').textContent = 'done'; done(); break;
    case 'samplesize':
      $('samplesize-out').innerHTML = `<table id="samplesize-table"><thead><tr><th>layer</th><th>labels per input, Î1</th><th>Î2</th><th>recommended</th></tr></thead><tbody>${m.rows.map((r) => `<tr><td>${r.label}</td><td>${fmt(r.i1)}</td><td>${fmt(r.i2)}</td><td>${r.recommended}</td></tr>`).join('')}</tbody></table><p>for ε = ${m.epsilon}, δ = ${m.delta}</p>`;
      break;
    case 'error': showError(`error [${m.code}]: ${m.message}`); $('stage').textContent = 'failed'; done(); break;
  }
}

function download(name: string, blob: Blob): void {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}

function exportPng(): void {
  const canvases = Array.from(document.querySelectorAll<HTMLCanvasElement>('#layers canvas'));
  if (!canvases.length) return;
  const w = Math.max(...canvases.map((c) => c.width));
  const h = canvases.reduce((s, c) => s + c.height + 4, 0);
  const out = document.createElement('canvas');
  out.width = w;
  out.height = h;
  const ctx = out.getContext('2d')!;
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, w, h);
  let y = 0;
  for (const c of canvases) { ctx.drawImage(c, 0, y); y += c.height + 4; }
  out.toBlob((b) => b && download('fisher-diagonal-heatmaps.png', b), 'image/png');
}

startWorker();
$('model-file').addEventListener('change', (e) => void readFiles((e.target as HTMLInputElement).files ?? []));
const drop = $('drop');
drop.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('over'); });
drop.addEventListener('dragleave', () => drop.classList.remove('over'));
drop.addEventListener('drop', (e) => { e.preventDefault(); drop.classList.remove('over'); if (e.dataTransfer?.files) void readFiles(e.dataTransfer.files); });
$('compute').addEventListener('click', () => void compute());
$('cancel').addEventListener('click', cancel);
$('samplesize-go').addEventListener('click', () => {
  const msg: ToWorker = { type: 'samplesize', inputIndex: Number(($('input-index') as HTMLInputElement).value), epsilon: Number(($('eps') as HTMLInputElement).value), delta: Number(($('delta') as HTMLInputElement).value) };
  worker.postMessage(msg);
});
$('export-json').addEventListener('click', () => lastResult && download('fimkit-explorer.json', new Blob([JSON.stringify(lastResult)], { type: 'application/json' })));
$('export-svg').addEventListener('click', () => spectraSvg && download('kfac-spectra.svg', new Blob([spectraSvg], { type: 'image/svg+xml' })));
$('export-png').addEventListener('click', exportPng);
