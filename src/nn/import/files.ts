/**
 * Model files on disk, any format (Node only): reads the file, and for a TF.js model.json the
 * weight shards its manifest names, from the same directory.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, normalize } from 'node:path';
import type { DType } from '../../core/dtype.js';
import { fail } from '../../core/errors.js';
import type { ImportedModel } from './common.js';
import { importModel } from './detect.js';

/** Loads a fimkit, ONNX or TF.js model file (format from the content); a directory means its model.json. */
export function loadModelFile(path: string, dtype?: DType): ImportedModel {
  let file = path;
  if (existsSync(file) && statSync(file).isDirectory()) file = join(file, 'model.json');
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    fail('IO', `cannot read model file ${file}: ${(e as Error).message}`);
  }
  const dir = dirname(file);
  return importModel(bytes, {
    dtype,
    source: file,
    readShard: (p) => {
      // Shards sit beside model.json; a manifest may not point outside that directory.
      const rel = normalize(p);
      if (isAbsolute(rel) || rel.startsWith('..')) fail('MODEL_FORMAT', `${file}: weight shard path '${p}' points outside the model's directory`);
      const full = join(dir, rel);
      return existsSync(full) ? readFileSync(full) : undefined;
    },
  });
}
