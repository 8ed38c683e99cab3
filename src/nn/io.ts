/** Model files on disk (Node only): atomic save, load with validation. Format: format.ts. */
import { readFileSync } from 'node:fs';
import type { DType } from '../core/dtype.js';
import { fail } from '../core/errors.js';
import { writeFileAtomic } from '../io/atomic.js';
import type { Sequential } from './sequential.js';
import { modelFromJSON, modelToJSON, type ModelJSON, type WeightEncoding } from './format.js';

/** Writes the model file atomically. */
export function saveModel(path: string, model: Sequential, meta?: Record<string, unknown>, encoding: WeightEncoding = 'array'): void {
  writeFileAtomic(path, JSON.stringify(modelToJSON(model, meta, encoding)) + '\n');
}

export function loadModel(path: string, dtype?: DType): Sequential {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    fail('IO', `cannot read model file ${path}: ${(e as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    fail('MODEL_FORMAT', `model file ${path} is not valid JSON: ${(e as Error).message}`);
  }
  return modelFromJSON(json, dtype);
}

/** The model's metadata block, if any. */
export function readModelMeta(path: string): Record<string, unknown> | undefined {
  return (JSON.parse(readFileSync(path, 'utf8')) as ModelJSON).meta;
}
