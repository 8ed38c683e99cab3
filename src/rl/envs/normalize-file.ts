// VecNormalize statistics as JSON files (Node only): written atomically, read back validated.
import { readFileSync } from 'node:fs';
import { fail } from '../../core/errors.js';
import { writeJsonAtomic } from '../../io/atomic.js';
import type { VecNormalize } from './normalize.js';

/** Writes the normalisation statistics atomically as JSON. */
export function saveNormalizeState(path: string, norm: VecNormalize): void {
  writeJsonAtomic(path, norm.getState());
}

/** Reads statistics written by saveNormalizeState into `norm`. */
export function loadNormalizeState(path: string, norm: VecNormalize): void {
  let parsed: unknown;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    fail('IO', `cannot read VecNormalize state ${path}: ${(e as Error).message}`);
  }
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    fail('CORRUPT_FILE', `VecNormalize state ${path} is not valid JSON: ${(e as Error).message}`);
  }
  norm.setState(parsed);
}
