/**
 * The model file: one JSON document with the architecture and the weights, documented in
 * README.md ("Model file format") so other tools can write one.
 *
 *   {
 *     "format": "fimkit-model", "version": 1,
 *     "dtype": "float32" | "float64",
 *     "inputShape": [784],                       // per-sample input shape
 *     "layers": [ {"type": "dense", "in": 784, "out": 256, "bias": true}, ... ],
 *     "weights": {
 *       "0.weight": {"shape": [256, 784], "data": [ ...row-major numbers... ]},
 *       "0.bias":   {"shape": [256], "base64": "<little-endian float32/float64 bytes>"}
 *     },
 *     "meta": { ...free-form: training config, metrics... }
 *   }
 *
 * Each weight gives either "data" (a row-major array of numbers) or "base64" (the raw
 * little-endian bytes of the file's dtype). Every parameter the layers declare must be present
 * with exactly its shape; unknown weights are an error too, so a typo never goes unnoticed.
 */
import { allocArray, isDType, type DType, type FloatArray } from '../core/dtype.js';
import { fail, shapeStr, FimkitError } from '../core/errors.js';
import { decodeFloatArray, encodeFloatArray } from '../io/base64.js';
import { sizeOf } from '../core/tensor.js';
import { LAYER_TYPES } from './layers.js';
import { buildModel, type ModelSpec, type Sequential } from './sequential.js';

export const MODEL_FORMAT = 'fimkit-model';
export const MODEL_VERSION = 1;

export interface WeightJSON {
  shape: number[];
  data?: number[];
  base64?: string;
}

export interface ModelJSON extends ModelSpec {
  format: typeof MODEL_FORMAT;
  version: number;
  dtype: DType;
  weights: Record<string, WeightJSON>;
  meta?: Record<string, unknown>;
}

export type WeightEncoding = 'array' | 'base64';

function toBase64(a: FloatArray): string {
  return encodeFloatArray(a).base64;
}

function fromBase64(s: string, dtype: DType, name: string, expected: number): FloatArray {
  try {
    return decodeFloatArray({ dtype, length: expected, base64: s }, `weight '${name}'`);
  } catch (e) {
    if (e instanceof FimkitError) fail('MODEL_FORMAT', e.message);
    throw e;
  }
}

export function modelToJSON(model: Sequential, meta?: Record<string, unknown>, encoding: WeightEncoding = 'array'): ModelJSON {
  const weights: Record<string, WeightJSON> = {};
  for (const { name, tensor } of model.namedParameters()) {
    weights[name] = encoding === 'base64' ? { shape: [...tensor.shape], base64: toBase64(tensor.data) } : { shape: [...tensor.shape], data: Array.from(tensor.data) };
  }
  return { format: MODEL_FORMAT, version: MODEL_VERSION, dtype: model.dtype, ...model.spec(), weights, ...(meta ? { meta } : {}) };
}

/** Builds a model from its JSON, checking every field; `dtype` converts the weights. */
export function modelFromJSON(json: unknown, dtype?: DType): Sequential {
  if (typeof json !== 'object' || json === null) fail('MODEL_FORMAT', 'model file is not a JSON object');
  const j = json as Partial<ModelJSON>;
  if (j.format !== MODEL_FORMAT) fail('MODEL_FORMAT', `not a fimkit model: "format" is ${JSON.stringify(j.format)}, expected "${MODEL_FORMAT}"`);
  if (j.version !== MODEL_VERSION) fail('MODEL_FORMAT', `unsupported model version ${JSON.stringify(j.version)} (this fimkit reads version ${MODEL_VERSION})`);
  if (!isDType(j.dtype)) fail('MODEL_FORMAT', `model dtype must be float32 or float64, got ${JSON.stringify(j.dtype)}`);
  if (!Array.isArray(j.inputShape)) fail('MODEL_FORMAT', 'model file lacks "inputShape"');
  if (!Array.isArray(j.layers)) fail('MODEL_FORMAT', 'model file lacks a "layers" array');
  j.layers.forEach((l, i) => {
    const t = (l as { type?: unknown })?.type;
    if (!(LAYER_TYPES as readonly unknown[]).includes(t)) fail('MODEL_FORMAT', `layer ${i}: unknown layer type ${JSON.stringify(t)} (expected one of ${LAYER_TYPES.join(', ')})`);
  });
  if (typeof j.weights !== 'object' || j.weights === null) fail('MODEL_FORMAT', 'model file lacks a "weights" object');
  const target = dtype ?? j.dtype;
  let model: Sequential;
  try {
    model = buildModel({ inputShape: j.inputShape, layers: j.layers }, null, target);
  } catch (e) {
    if (e instanceof FimkitError) fail('MODEL_FORMAT', `invalid architecture: ${e.message}`);
    throw e;
  }
  const seen = new Set<string>();
  for (const { name, tensor } of model.namedParameters()) {
    const w = j.weights[name];
    if (!w) fail('MODEL_FORMAT', `missing weight '${name}' (shape ${shapeStr(tensor.shape)}) in model file`);
    seen.add(name);
    if (!Array.isArray(w.shape) || w.shape.length !== tensor.shape.length || w.shape.some((d, i) => d !== tensor.shape[i])) {
      fail('MODEL_FORMAT', `weight '${name}' has shape ${shapeStr(w.shape ?? [])}, the architecture needs ${shapeStr(tensor.shape)}`);
    }
    const n = sizeOf(tensor.shape);
    let values: ArrayLike<number>;
    if (typeof w.base64 === 'string') values = fromBase64(w.base64, j.dtype, name, n);
    else if (Array.isArray(w.data)) {
      if (w.data.length !== n) fail('MODEL_FORMAT', `weight '${name}' has ${w.data.length} values, shape ${shapeStr(tensor.shape)} needs ${n}`);
      values = w.data;
    } else fail('MODEL_FORMAT', `weight '${name}' has neither "data" nor "base64"`);
    for (let i = 0; i < n; i++) {
      const v = values[i];
      if (typeof v !== 'number' || !Number.isFinite(v)) fail('MODEL_FORMAT', `weight '${name}' entry ${i} is ${JSON.stringify(v)}, not a finite number`);
    }
    tensor.data.set(values);
  }
  const extra = Object.keys(j.weights).filter((k) => !seen.has(k));
  if (extra.length > 0) fail('MODEL_FORMAT', `model file has weights no layer declares: ${extra.join(', ')}`);
  return model;
}
