/**
 * What every model importer returns, and the one place an imported architecture becomes a
 * fimkit Sequential: the importers describe layers and weights as a fimkit model document
 * (format.ts) and modelFromJSON validates and builds it, so an imported model is checked exactly
 * like a model file.
 */
import type { DType } from '../../core/dtype.js';
import { FimkitError, fail } from '../../core/errors.js';
import { modelFromJSON, MODEL_FORMAT, MODEL_VERSION, type ModelJSON, type WeightJSON } from '../format.js';
import type { LayerSpec } from '../layers.js';
import type { Sequential } from '../sequential.js';

export type ModelFileFormat = 'fimkit' | 'onnx' | 'tfjs';

export interface ImportedModel {
  model: Sequential;
  format: ModelFileFormat;
  /**
   * A final softmax / log-softmax the source graph ended with. fimkit's network outputs the
   * natural parameters (logits) and the categorical likelihood applies the softmax, so the op is
   * dropped from the layers and recorded here; `likelihood` is then 'categorical'.
   */
  foldedOutput: 'softmax' | 'log-softmax' | null;
  /** The likelihood the source model implies (categorical after a folded softmax), if any. */
  likelihood?: 'categorical';
  /**
   * Channels-last sources (TF.js images): the source's per-sample input shape [H, W, C]. The
   * imported model takes channels-first [C, H, W]; `channelsLastToFirst` converts inputs.
   */
  sourceInputShape?: number[];
  /** What the importer did that a user should know (layout conversions, dropped ops). */
  notes: string[];
}

/** An architecture under construction: layers, their weights (fimkit layouts), the input shape. */
export interface ModelDraft {
  inputShape: number[];
  layers: LayerSpec[];
  /** Per layer index, its parameters by name ("weight", "bias") with fimkit's shapes. */
  weights: Map<number, Record<string, { shape: number[]; data: ArrayLike<number> }>>;
}

/** Builds the model through modelFromJSON (the model file's validation); errors name the source. */
export function buildImported(draft: ModelDraft, source: string, dtype: DType = 'float32'): Sequential {
  const weights: Record<string, WeightJSON> = {};
  for (const [i, ws] of draft.weights) {
    for (const [name, w] of Object.entries(ws)) weights[`${i}.${name}`] = { shape: w.shape, data: Array.from(w.data) };
  }
  const json: ModelJSON = { format: MODEL_FORMAT, version: MODEL_VERSION, dtype, inputShape: draft.inputShape, layers: draft.layers, weights };
  try {
    return modelFromJSON(json, dtype);
  } catch (e) {
    if (e instanceof FimkitError) fail(e.code, `${source}: ${e.message}`);
    throw e;
  }
}

/** Transposes a row-major [rows, cols] matrix. */
export function transpose2d(a: ArrayLike<number>, rows: number, cols: number): Float64Array {
  const out = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = a[r * cols + c]!;
  return out;
}

/**
 * Converts samples flattened in channels-last order [N, H·W·C] to channels-first [N, C·H·W]
 * (what a model imported from a channels-last source takes).
 */
export function channelsLastToFirst(data: ArrayLike<number>, hwc: readonly number[]): Float64Array {
  if (hwc.length !== 3) fail('SHAPE', `channelsLastToFirst needs a per-sample shape [H, W, C], got [${hwc.join(', ')}]`);
  const [h, w, c] = hwc as [number, number, number];
  const per = h * w * c;
  if (data.length % per !== 0) fail('SHAPE', `${data.length} values are not whole samples of shape [${hwc.join(', ')}]`);
  const out = new Float64Array(data.length);
  for (let s = 0; s < data.length; s += per) {
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let k = 0; k < c; k++) out[s + (k * h + y) * w + x] = data[s + (y * w + x) * c + k]!;
  }
  return out;
}
