// Reading measurements from a CSV file (Node only; the parser is in data.ts).
import { readFileSync } from 'node:fs';
import type { ObservedData, OdeModel } from './model.js';
import { parseObservedCsv, type CsvOptions } from './data.js';
import { OdeDataError } from './errors.js';

export function loadObservedCsv(path: string, model: OdeModel, opts: CsvOptions = {}): ObservedData {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new OdeDataError('empty', `cannot read measurements '${path}': ${(e as Error).message}`);
  }
  return parseObservedCsv(text, model, opts);
}
