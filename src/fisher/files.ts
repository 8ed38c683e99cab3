/**
 * Fisher matrices on disk (Node only): JSON written atomically (a reader sees the old file or
 * the new one, never half), read back with every field checked.
 */
import { readFileSync } from 'node:fs';
import { fail } from '../core/errors.js';
import { writeJsonAtomic } from '../io/atomic.js';
import type { FisherMatrix } from './matrix.js';
import { fisherFromJSON } from './serialize.js';

export function saveFisher(path: string, m: FisherMatrix): void {
  const json = m.toJSON();
  try {
    writeJsonAtomic(path, json);
  } catch (e) {
    fail('IO', `cannot write the Fisher matrix to ${path}: ${(e as Error).message}`);
  }
}

export function loadFisher(path: string): FisherMatrix {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    return fail('IO', `cannot read the Fisher matrix file ${path}: ${(e as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return fail(text.trim().length === 0 || !text.trimEnd().endsWith('}') ? 'TRUNCATED_FILE' : 'CORRUPT_FILE', `${path}: not valid JSON (${(e as Error).message})`);
  }
  return fisherFromJSON(json, path);
}
