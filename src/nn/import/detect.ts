/**
 * One entry for every model file fimkit reads: fimkit JSON, ONNX, TF.js Layers, told apart by
 * their content (JSON with "format": "fimkit-model", JSON with "modelTopology", else protobuf),
 * not by the file name. Browser-safe: the caller supplies the bytes and, for TF.js, the shards.
 */
import type { DType } from '../../core/dtype.js';
import { fail } from '../../core/errors.js';
import { modelFromJSON, modelToJSON, MODEL_FORMAT, type ModelJSON } from '../format.js';
import type { ImportedModel, ModelFileFormat } from './common.js';
import { importOnnx } from './onnx.js';
import { importTfjs, type ShardReader } from './tfjs.js';

/** The format of a model file from its first bytes (and, for JSON, its top-level keys). */
export function detectModelFormat(bytes: Uint8Array): { format: ModelFileFormat; json?: unknown } {
  let i = 0;
  while (i < bytes.length && (bytes[i] === 0x20 || bytes[i] === 0x0a || bytes[i] === 0x0d || bytes[i] === 0x09)) i++;
  if (i === bytes.length) fail('CORRUPT_FILE', 'the model file is empty');
  if (bytes[i] === 0x7b /* { */) {
    let json: unknown;
    try {
      json = JSON.parse(new TextDecoder().decode(bytes));
    } catch (e) {
      fail('CORRUPT_FILE', `the model file starts like JSON but does not parse: ${(e as Error).message}`);
    }
    const j = json as Record<string, unknown>;
    if (j['format'] === MODEL_FORMAT) return { format: 'fimkit', json };
    if ('modelTopology' in j || 'weightsManifest' in j) return { format: 'tfjs', json };
    fail('MODEL_FORMAT', `a JSON model file must be a fimkit model ("format": "${MODEL_FORMAT}") or a TF.js Layers model.json ("modelTopology", "weightsManifest"); this one has keys ${Object.keys(j).slice(0, 8).join(', ')}`);
  }
  return { format: 'onnx' };
}

/** Reads any supported model from its bytes; `readShard` resolves TF.js shard paths. */
export function importModel(bytes: Uint8Array, opts: { dtype?: DType; source?: string; readShard?: ShardReader } = {}): ImportedModel {
  const source = opts.source ?? 'model file';
  const { format, json } = detectModelFormat(bytes);
  if (format === 'fimkit') return { model: modelFromJSON(json, opts.dtype), format, foldedOutput: null, notes: [] };
  if (format === 'tfjs') {
    const reader = opts.readShard ?? ((p: string) => fail('IO', `${source}: weight shard '${p}' is needed but no shard files were given`));
    return importTfjs(json, reader, { dtype: opts.dtype, source });
  }
  return importOnnx(bytes, { dtype: opts.dtype, source });
}

/** The imported model as a fimkit model document (what `fimkit import`/`--export` writes). */
export function importedToJSON(m: ImportedModel): ModelJSON {
  return modelToJSON(m.model, {
    importedFrom: m.format,
    ...(m.foldedOutput ? { foldedOutput: m.foldedOutput, likelihood: m.likelihood } : {}),
    ...(m.sourceInputShape ? { sourceInputShape: m.sourceInputShape } : {}),
    notes: m.notes,
  }, 'base64');
}
