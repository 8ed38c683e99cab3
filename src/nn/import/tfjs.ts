/**
 * TensorFlow.js Layers import: model.json (format "layers-model": modelTopology + weightsManifest)
 * and its binary weight shards become a Sequential.
 *
 * Supported: Sequential models of InputLayer, Dense, Conv2D, MaxPooling2D, AveragePooling2D,
 * Flatten, Dropout, Activation, LeakyReLU, ReLU, with fused activations linear, relu, sigmoid,
 * tanh, softplus, gelu (the erf form), and a final softmax folded into the categorical likelihood.
 *
 * Layout conversions (TF.js is channels-last, fimkit channels-first like PyTorch):
 *   Dense kernel [in, out] → weight [out, in]; Conv2D kernel [kH, kW, in, out] → [out, in, kH, kW];
 *   an image input [H, W, C] becomes [C, H, W] (ImportedModel.sourceInputShape keeps [H, W, C];
 *   channelsLastToFirst converts data), and the Dense after a Flatten of a channels-last image
 *   has its input columns permuted from (h, w, c) to (c, h, w) order, so the outputs are equal.
 * 'same' padding is imported when it pads both sides alike (odd windows at stride 1, and the
 * like); otherwise it is an UNSUPPORTED_OPERATOR error.
 */
import type { DType } from '../../core/dtype.js';
import { fail, shapeStr } from '../../core/errors.js';
import type { ActivationName, LayerSpec } from '../layers.js';
import { buildImported, transpose2d, type ImportedModel, type ModelDraft } from './common.js';

export const TFJS_SUPPORTED_LAYERS = ['InputLayer', 'Dense', 'Conv2D', 'MaxPooling2D', 'AveragePooling2D', 'Flatten', 'Dropout', 'Activation', 'LeakyReLU', 'ReLU'] as const;
export const TFJS_SUPPORTED_ACTIVATIONS = ['linear', 'relu', 'sigmoid', 'tanh', 'softplus', 'gelu', 'softmax (last layer only)'] as const;

const ACT: Record<string, ActivationName | null> = { linear: null, relu: 'relu', sigmoid: 'sigmoid', tanh: 'tanh', softplus: 'softplus', gelu: 'gelu' };

interface LayerJSON {
  class_name?: string;
  className?: string;
  config?: Record<string, unknown>;
}

interface ManifestGroup {
  paths: string[];
  weights: { name: string; shape: number[]; dtype?: string; quantization?: unknown }[];
}

/** Reads the shard files a manifest names: returns their bytes, or undefined when absent. */
export type ShardReader = (path: string) => Uint8Array | undefined;

function isObj(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** The model.json's layer list, whatever the writer (tfjs model.save or the Keras converter). */
function sequentialLayers(topology: unknown, source: string): LayerJSON[] {
  let t = topology;
  if (isObj(t) && isObj(t['model_config'])) t = t['model_config'];
  if (!isObj(t)) fail('MODEL_FORMAT', `${source}: "modelTopology" is not an object`);
  const cls = t['class_name'] ?? t['className'];
  if (cls !== 'Sequential') fail('UNSUPPORTED_OPERATOR', `${source}: model class ${JSON.stringify(cls)} is not supported; fimkit imports Sequential models`);
  const cfg = t['config'];
  const layers = Array.isArray(cfg) ? cfg : isObj(cfg) ? cfg['layers'] : undefined;
  if (!Array.isArray(layers) || layers.length === 0) fail('MODEL_FORMAT', `${source}: the Sequential model lists no layers`);
  return layers as LayerJSON[];
}

function pair(v: unknown, what: string, source: string): [number, number] {
  const a = typeof v === 'number' ? [v, v] : v;
  if (!Array.isArray(a) || a.length !== 2 || a.some((x) => typeof x !== 'number' || !Number.isInteger(x) || x < 1)) fail('MODEL_FORMAT', `${source}: ${what} ${JSON.stringify(v)} is not two positive integers`);
  return [a[0] as number, a[1] as number];
}

/** Symmetric padding equal to TF's 'same' for this size, window and stride, or null. */
function samePadding(size: number, k: number, s: number): number | null {
  const out = Math.ceil(size / s);
  const total = Math.max((out - 1) * s + k - size, 0);
  return total % 2 === 0 ? total / 2 : null;
}

/** Reads the weights of the manifest from the shards, by name, as float64 in TF.js's layouts. */
function readWeights(manifest: unknown, readShard: ShardReader, source: string): Map<string, { shape: number[]; data: Float64Array }> {
  if (!Array.isArray(manifest)) fail('MODEL_FORMAT', `${source}: "weightsManifest" is not an array`);
  const out = new Map<string, { shape: number[]; data: Float64Array }>();
  for (const [gi, gRaw] of manifest.entries()) {
    const g = gRaw as ManifestGroup;
    if (!isObj(g) || !Array.isArray(g.paths) || !Array.isArray(g.weights)) fail('MODEL_FORMAT', `${source}: weightsManifest group ${gi} lacks "paths" or "weights"`);
    const parts = g.paths.map((p) => {
      const b = readShard(p);
      if (!b) fail('IO', `${source}: weight shard '${p}' (group ${gi}) is missing`);
      return b;
    });
    const total = parts.reduce((a, b) => a + b.length, 0);
    const buf = new Uint8Array(total);
    let o = 0;
    for (const p of parts) { buf.set(p, o); o += p.length; }
    const view = new DataView(buf.buffer);
    let off = 0;
    for (const w of g.weights) {
      if (w.quantization) fail('UNSUPPORTED_OPERATOR', `${source}: weight '${w.name}' is quantized; only float32 weights are supported`);
      if ((w.dtype ?? 'float32') !== 'float32') fail('MODEL_FORMAT', `${source}: weight '${w.name}' has dtype ${w.dtype}; only float32 is supported`);
      const n = w.shape.reduce((a, b) => a * b, 1);
      if (off + 4 * n > total) {
        fail('TRUNCATED_FILE', `${source}: weight '${w.name}' (shape ${shapeStr(w.shape)}) needs bytes ${off}–${off + 4 * n} of group ${gi}, but its shards (${g.paths.join(', ')}) hold ${total} bytes`);
      }
      const data = new Float64Array(n);
      for (let k = 0; k < n; k++) {
        const v = view.getFloat32(off + 4 * k, true);
        if (!Number.isFinite(v)) fail('MODEL_FORMAT', `${source}: weight '${w.name}' entry ${k} is ${v}`);
        data[k] = v;
      }
      off += 4 * n;
      out.set(w.name, { shape: w.shape, data });
    }
  }
  return out;
}

/** Imports a TF.js Layers model from its model.json (parsed) and a reader of the shards beside it. */
export function importTfjs(modelJson: unknown, readShard: ShardReader, opts: { dtype?: DType; source?: string } = {}): ImportedModel {
  const source = opts.source ?? 'TF.js model';
  if (!isObj(modelJson) || !('modelTopology' in modelJson) || !('weightsManifest' in modelJson)) {
    fail('MODEL_FORMAT', `${source}: not a TF.js Layers model.json (needs "modelTopology" and "weightsManifest")`);
  }
  const layers = sequentialLayers(modelJson['modelTopology'], source);
  const weights = readWeights(modelJson['weightsManifest'], readShard, source);
  const found = [...new Set(layers.map((l) => String(l.class_name ?? l.className)))];
  const bad = found.filter((c) => !(TFJS_SUPPORTED_LAYERS as readonly string[]).includes(c));
  if (bad.length > 0) fail('UNSUPPORTED_OPERATOR', `${source}: unsupported layer type${bad.length > 1 ? 's' : ''} ${bad.join(', ')}. Layers in the model: ${found.join(', ')}. fimkit imports: ${TFJS_SUPPORTED_LAYERS.join(', ')}`);

  const first = layers[0]!.config ?? {};
  const bis = (first['batch_input_shape'] ?? first['batchInputShape']) as unknown;
  if (!Array.isArray(bis) || bis.length < 2 || bis.slice(1).some((d) => typeof d !== 'number' || d < 1)) {
    fail('MODEL_FORMAT', `${source}: the first layer has no fixed batch_input_shape (got ${JSON.stringify(bis)})`);
  }
  const tfShape = bis.slice(1) as number[];
  const notes: string[] = [];
  // Per-sample shape in fimkit's layout, and whether it is a converted channels-last image.
  let shape = [...tfShape];
  let channelsLast = false;
  const imageLayers = layers.some((l) => ['Conv2D', 'MaxPooling2D', 'AveragePooling2D'].includes(String(l.class_name ?? l.className)));
  if (tfShape.length === 3 && imageLayers) {
    const fmt = (first['data_format'] ?? 'channels_last') as string;
    if (fmt === 'channels_last') {
      shape = [tfShape[2]!, tfShape[0]!, tfShape[1]!];
      channelsLast = true;
      notes.push(`channels-last input [${tfShape.join(', ')}] imported as channels-first [${shape.join(', ')}]`);
    }
  }
  const draft: ModelDraft = { inputShape: [...shape], layers: [], weights: new Map() };
  let folded: ImportedModel['foldedOutput'] = null;
  // After a Flatten of a channels-last image: the (C, H, W) of the fimkit tensor, to permute the next Dense.
  let flattenedHwc: [number, number, number] | null = null;

  const weightOf = (layerName: string, key: string, shape: number[]): Float64Array => {
    const name = [...weights.keys()].find((k) => k === `${layerName}/${key}` || k.endsWith(`/${layerName}/${key}`));
    if (!name) fail('MODEL_FORMAT', `${source}: weight '${layerName}/${key}' (shape ${shapeStr(shape)}) is missing from the weights manifest`);
    const w = weights.get(name)!;
    if (w.shape.length !== shape.length || w.shape.some((d, i) => d !== shape[i])) fail('MODEL_FORMAT', `${source}: weight '${name}' has shape ${shapeStr(w.shape)}, the layer needs ${shapeStr(shape)}`);
    return w.data;
  };
  const push = (spec: LayerSpec, ws?: Record<string, { shape: number[]; data: ArrayLike<number> }>): void => {
    if (ws) draft.weights.set(draft.layers.length, ws);
    draft.layers.push(spec);
  };
  const activation = (name: unknown, layerIdx: number, label: string): void => {
    const a = String(name ?? 'linear');
    if (a === 'softmax') {
      if (layerIdx !== layers.length - 1 || shape.length !== 1) fail('UNSUPPORTED_OPERATOR', `${source}: ${label}: softmax is supported only on the last layer's flat output (it is folded into the categorical likelihood)`);
      folded = 'softmax';
      notes.push('final softmax folded into the categorical likelihood: the imported network outputs its logits');
      return;
    }
    if (!(a in ACT)) fail('UNSUPPORTED_OPERATOR', `${source}: ${label}: activation '${a}' is not supported; fimkit imports ${TFJS_SUPPORTED_ACTIVATIONS.join(', ')}`);
    const fn = ACT[a];
    if (fn) push({ type: 'activation', fn });
  };

  layers.forEach((l, li) => {
    const cls = String(l.class_name ?? l.className);
    const c = l.config ?? {};
    const name = String(c['name'] ?? `layer${li}`);
    const label = `layer ${li} (${cls} '${name}')`;
    const fmt = c['data_format'];
    if (fmt !== undefined && fmt !== null && fmt !== 'channels_last' && channelsLast) fail('UNSUPPORTED_OPERATOR', `${source}: ${label}: mixed data formats are not supported`);
    switch (cls) {
      case 'InputLayer':
        break;
      case 'Dense': {
        if (shape.length !== 1) fail('SHAPE', `${source}: ${label}: Dense on a per-sample shape ${shapeStr(shape)} is not supported (add a Flatten)`);
        const nin = shape[0]!;
        const nout = c['units'] as number;
        const k = weightOf(name, 'kernel', [nin, nout]);
        let w = transpose2d(k, nin, nout); // [out, in], columns in the source's feature order
        if (flattenedHwc) {
          const [ch, h, wd] = flattenedHwc;
          const p = new Float64Array(w.length);
          for (let o = 0; o < nout; o++) {
            for (let cc = 0; cc < ch; cc++) for (let y = 0; y < h; y++) for (let x = 0; x < wd; x++) p[o * nin + (cc * h + y) * wd + x] = w[o * nin + (y * wd + x) * ch + cc]!;
          }
          w = p;
          flattenedHwc = null;
          notes.push(`${label}: input columns permuted from channels-last to channels-first order`);
        }
        const bias = c['use_bias'] !== false;
        const ws: Record<string, { shape: number[]; data: ArrayLike<number> }> = { weight: { shape: [nout, nin], data: w } };
        if (bias) ws['bias'] = { shape: [nout], data: weightOf(name, 'bias', [nout]) };
        push({ type: 'dense', in: nin, out: nout, bias }, ws);
        shape = [nout];
        activation(c['activation'], li, label);
        break;
      }
      case 'Conv2D': {
        if (shape.length !== 3) fail('SHAPE', `${source}: ${label}: needs an image input, got per-sample shape ${shapeStr(shape)}`);
        if (!channelsLast && fmt !== 'channels_first') fail('SHAPE', `${source}: ${label}: channels-last image layers need a rank-3 model input`);
        const [kh, kw] = pair(c['kernel_size'], 'kernel_size', source);
        const [sh, sw] = pair(c['strides'] ?? 1, 'strides', source);
        const dil = pair(c['dilation_rate'] ?? 1, 'dilation_rate', source);
        if (dil[0] !== 1 || dil[1] !== 1) fail('UNSUPPORTED_OPERATOR', `${source}: ${label}: dilation ${JSON.stringify(dil)} is not supported`);
        const [cin, h, wd] = shape as [number, number, number];
        const cout = c['filters'] as number;
        let ph = 0, pw = 0;
        if (c['padding'] === 'same') {
          const a = samePadding(h, kh, sh), b = samePadding(wd, kw, sw);
          if (a === null || b === null) fail('UNSUPPORTED_OPERATOR', `${source}: ${label}: 'same' padding here pads one side more than the other; fimkit pads symmetrically`);
          ph = a; pw = b;
        } else if (c['padding'] !== undefined && c['padding'] !== 'valid') fail('UNSUPPORTED_OPERATOR', `${source}: ${label}: padding ${JSON.stringify(c['padding'])} is not supported`);
        const k = weightOf(name, 'kernel', [kh, kw, cin, cout]);
        // [kH, kW, in, out] → [out, in, kH, kW]
        const w = new Float64Array(k.length);
        for (let y = 0; y < kh; y++) for (let x = 0; x < kw; x++) for (let i = 0; i < cin; i++) for (let o = 0; o < cout; o++) w[((o * cin + i) * kh + y) * kw + x] = k[((y * kw + x) * cin + i) * cout + o]!;
        const bias = c['use_bias'] !== false;
        const ws: Record<string, { shape: number[]; data: ArrayLike<number> }> = { weight: { shape: [cout, cin, kh, kw], data: w } };
        if (bias) ws['bias'] = { shape: [cout], data: weightOf(name, 'bias', [cout]) };
        push({ type: 'conv2d', inChannels: cin, outChannels: cout, kernel: [kh, kw], stride: [sh, sw], padding: [ph, pw], bias }, ws);
        shape = [cout, Math.floor((h + 2 * ph - kh) / sh) + 1, Math.floor((wd + 2 * pw - kw) / sw) + 1];
        activation(c['activation'], li, label);
        break;
      }
      case 'MaxPooling2D':
      case 'AveragePooling2D': {
        if (shape.length !== 3) fail('SHAPE', `${source}: ${label}: needs an image input, got per-sample shape ${shapeStr(shape)}`);
        const [kh, kw] = pair(c['pool_size'] ?? 2, 'pool_size', source);
        const [sh, sw] = pair(c['strides'] ?? [kh, kw], 'strides', source);
        if (kh !== kw || sh !== sw) fail('UNSUPPORTED_OPERATOR', `${source}: ${label}: fimkit pools square windows with equal strides (got ${kh}×${kw}, strides ${sh},${sw})`);
        let p = 0;
        if (c['padding'] === 'same') {
          const a = samePadding(shape[1]!, kh, sh), b = samePadding(shape[2]!, kw, sw);
          if (a === null || b === null || a !== b) fail('UNSUPPORTED_OPERATOR', `${source}: ${label}: this 'same' padding is not symmetric`);
          if (a > 0 && cls === 'AveragePooling2D') fail('UNSUPPORTED_OPERATOR', `${source}: ${label}: padded 'same' average pooling (TF excludes the padding from the mean) is not supported`);
          p = a;
        }
        push({ type: cls === 'MaxPooling2D' ? 'maxpool2d' : 'avgpool2d', kernel: kh, stride: sh, padding: p });
        shape = [shape[0]!, Math.floor((shape[1]! + 2 * p - kh) / sh) + 1, Math.floor((shape[2]! + 2 * p - kw) / sw) + 1];
        break;
      }
      case 'Flatten': {
        if (shape.length === 1) break;
        if (channelsLast && shape.length === 3 && shape[0]! > 1) flattenedHwc = [shape[0]!, shape[1]!, shape[2]!];
        push({ type: 'flatten' });
        shape = [shape.reduce((a, b) => a * b, 1)];
        break;
      }
      case 'Dropout':
        push({ type: 'dropout', p: Number(c['rate'] ?? 0) });
        break;
      case 'Activation':
        activation(c['activation'], li, label);
        break;
      case 'LeakyReLU':
        push({ type: 'activation', fn: 'leaky-relu', slope: Number(c['alpha'] ?? 0.3) });
        break;
      case 'ReLU': {
        if ((c['max_value'] ?? null) !== null || Number(c['threshold'] ?? 0) !== 0) fail('UNSUPPORTED_OPERATOR', `${source}: ${label}: ReLU with max_value or threshold is not supported`);
        const slope = Number(c['negative_slope'] ?? 0);
        push(slope === 0 ? { type: 'activation', fn: 'relu' } : { type: 'activation', fn: 'leaky-relu', slope });
        break;
      }
    }
  });
  if (flattenedHwc) fail('UNSUPPORTED_OPERATOR', `${source}: a channels-last image is flattened but no Dense layer follows to take the permuted features`);
  const model = buildImported(draft, source, opts.dtype);
  return {
    model, format: 'tfjs', foldedOutput: folded, ...(folded ? { likelihood: 'categorical' as const } : {}),
    ...(channelsLast ? { sourceInputShape: tfShape } : {}), notes,
  };
}
