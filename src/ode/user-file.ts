// Loading a JSON model file (Node only; the compiler is in user.ts).
import { readFileSync } from 'node:fs';
import type { OdeModel } from './model.js';
import { parseModelJson } from './user.js';
import { OdeModelError } from './errors.js';

export function loadModelFile(path: string): OdeModel {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new OdeModelError(`cannot read model file '${path}': ${(e as Error).message}`);
  }
  return parseModelJson(text);
}
