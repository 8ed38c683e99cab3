/**
 * Tabular datasets from CSV text or JSON values. Browser-safe: these functions take text;
 * loadCsvFile / loadJsonFile in files.ts read it from disk.
 *
 * CSV: a header row, then one row per sample; fields split on the delimiter, double-quoted
 * fields may contain delimiters and "" escapes. Feature columns must be numeric; the target
 * column may hold class names (strings) when the target kind is 'class'.
 *
 * JSON: either `{"inputs": [[...], ...], "targets": [...]}` (inputs may be nested deeper for
 * multi-dimensional samples; targets are numbers, class-name strings, or arrays for
 * targetDim > 1; optional "targetKind", "numClasses", "classNames", "name") or an array of
 * records `[{"x1": 0.5, "x2": 1, "y": 0}, ...]`, treated like CSV rows.
 */
import { FimkitError } from '../core/errors.js';
import { type Dataset, type TargetKind, TARGET_KINDS, validateDataset } from './dataset.js';

export interface TabularOptions {
  /** Target column(s). Default: the first of 'target', 'label', 'y' present, else the last column. */
  target?: string | readonly string[];
  /**
   * Default: 'class' when every target value is an integer ≥ 0 or a non-numeric string,
   * 'real' otherwise. Set it for counts and multilabel targets, or to read integers as reals.
   */
  targetKind?: TargetKind;
  /** Feature columns, in order. Default: every column except the targets. */
  features?: readonly string[];
  /** Dataset name (default 'csv' / 'json'). */
  name?: string;
  /** Field separator (default ','). */
  delimiter?: string;
  /** Inputs dtype (default 'float64': tabular sets are small and used for exact checks). */
  dtype?: 'float32' | 'float64';
  /** Receives a note when the target kind is inferred (and why class labels were ruled out). */
  log?: (message: string) => void;
}

/** Splits CSV text into rows of fields; `line` is the 1-based line each row starts on. */
export function splitCsv(text: string, delimiter = ','): { line: number; fields: string[] }[] {
  if (delimiter.length !== 1 || delimiter === '"' || delimiter === '\n' || delimiter === '\r') {
    throw new FimkitError('INVALID_ARGUMENT', `CSV delimiter must be one character other than quote or newline, got ${JSON.stringify(delimiter)}`);
  }
  const rows: { line: number; fields: string[] }[] = [];
  let fields: string[] = [];
  let field = '';
  let quoted = false;
  let fieldWasQuoted = false;
  let line = 1;
  let rowLine = 1;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0; // skip a byte-order mark
  const endRow = (): void => {
    fields.push(fieldWasQuoted ? field : field.trim());
    // A row with one empty, unquoted field is a blank line: skip it.
    if (!(fields.length === 1 && fields[0] === '' && !fieldWasQuoted)) rows.push({ line: rowLine, fields });
    fields = [];
    field = '';
    fieldWasQuoted = false;
  };
  for (; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else {
        if (ch === '\n') line++;
        field += ch;
      }
      continue;
    }
    if (ch === '"' && field.trim() === '') {
      quoted = true;
      fieldWasQuoted = true;
      field = '';
    } else if (ch === delimiter) {
      fields.push(fieldWasQuoted ? field : field.trim());
      field = '';
      fieldWasQuoted = false;
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      endRow();
      line++;
      rowLine = line;
    } else {
      field += ch;
    }
  }
  if (quoted) throw new FimkitError('CORRUPT_FILE', `CSV: quoted field opened on line ${rowLine} is never closed`);
  if (field !== '' || fields.length > 0 || fieldWasQuoted) endRow();
  return rows;
}

/** Number(s) for a numeric cell, or undefined for text. Empty cells are not numbers. */
function parseNumber(s: string): number | undefined {
  if (s === '') return undefined;
  const lower = s.toLowerCase();
  if (lower === 'nan') return NaN;
  if (lower === 'inf' || lower === '+inf' || lower === 'infinity' || lower === '+infinity') return Infinity;
  if (lower === '-inf' || lower === '-infinity') return -Infinity;
  const v = Number(s);
  // Number() accepts '0x1f', '1e3', ' 5 '; reject hex/binary forms that no data file means.
  if (Number.isNaN(v) || /^[+-]?0[xob]/i.test(s)) return undefined;
  return v;
}

interface Table {
  header: string[];
  /** Row values by column; `where(r)` describes row r for error messages. */
  cell(r: number, c: number): string | number;
  rows: number;
  where(r: number): string;
  source: string;
}

function defaultTargets(header: readonly string[]): string[] {
  for (const name of ['target', 'label', 'y']) if (header.includes(name)) return [name];
  return [header[header.length - 1]!];
}

/**
 * The first value that rules out class labels (a number that is not an integer ≥ 0), by index,
 * or -1. Strings are class names.
 */
function firstNonClassValue(values: readonly (string | number)[]): number {
  return values.findIndex((v) => typeof v === 'number' && !(Number.isInteger(v) && v >= 0));
}

/**
 * Says which kind was inferred from the targets, and, where most values look like class ids but
 * one does not, names that value and where it is: one stray -1 or 1.5 turns a classification
 * file into regression, which the user must be able to see.
 */
function noteInferredKind(
  kind: TargetKind, values: readonly (string | number)[], where: (i: number) => string, source: string, column: string, log?: (m: string) => void,
): void {
  if (!log) return;
  if (kind === 'class') {
    log(`note: ${source}: targets (${column}) read as class labels (every value is an integer ≥ 0 or a name), so the likelihood is categorical; set targetKind to override`);
    return;
  }
  const bad = firstNonClassValue(values);
  const ints = values.filter((v) => typeof v === 'number' && Number.isInteger(v) && v >= 0).length;
  if (bad >= 0 && ints >= values.length / 2) {
    log(`note: ${source}: targets (${column}) read as real values (gaussian likelihood, regression): ${where(bad)} has ${String(values[bad])}, which is not a class label (an integer ≥ 0), although ${ints} of ${values.length} values are; fix that value, or set targetKind`);
  } else {
    log(`note: ${source}: targets (${column}) read as real values (gaussian likelihood, regression); set targetKind to override`);
  }
}

function isClassLike(values: readonly (string | number)[]): boolean {
  return values.every((v) => (typeof v === 'string' ? parseNumber(v) === undefined : Number.isInteger(v) && v >= 0));
}

/** Builds the Dataset from a table of cells: shared by CSV and JSON records. */
function tableToDataset(t: Table, opts: TabularOptions, defaultName: string): Dataset {
  const header = t.header;
  const seen = new Set<string>();
  for (const h of header) {
    if (h === '') throw new FimkitError('CORRUPT_FILE', `${t.source}: header has an empty column name`);
    if (seen.has(h)) throw new FimkitError('CORRUPT_FILE', `${t.source}: header names column '${h}' twice`);
    seen.add(h);
  }
  const targetCols = opts.target === undefined ? defaultTargets(header) : typeof opts.target === 'string' ? [opts.target] : [...opts.target];
  const featureCols = opts.features ? [...opts.features] : header.filter((h) => !targetCols.includes(h));
  for (const c of [...targetCols, ...featureCols]) {
    if (!header.includes(c)) throw new FimkitError('INVALID_ARGUMENT', `${t.source}: no column '${c}' (columns: ${header.join(', ')})`);
  }
  if (featureCols.length === 0) throw new FimkitError('SHAPE', `${t.source}: no feature columns besides the target ${targetCols.join(', ')}`);
  if (targetCols.length === 0) throw new FimkitError('INVALID_ARGUMENT', `${t.source}: no target column given`);
  const overlap = featureCols.filter((c) => targetCols.includes(c));
  if (overlap.length) throw new FimkitError('INVALID_ARGUMENT', `${t.source}: column ${overlap.join(', ')} is both feature and target`);
  const n = t.rows;
  if (n === 0) throw new FimkitError('SHAPE', `${t.source}: no data rows`);
  const D = featureCols.length;
  const fIdx = featureCols.map((c) => header.indexOf(c));
  const tIdx = targetCols.map((c) => header.indexOf(c));
  const dtype = opts.dtype ?? 'float64';
  const inputs = dtype === 'float32' ? new Float32Array(n * D) : new Float64Array(n * D);

  const numeric = (r: number, c: number, col: string, what: string): number => {
    const raw = t.cell(r, c);
    const v = typeof raw === 'number' ? raw : parseNumber(raw);
    if (v === undefined) {
      throw new FimkitError(
        'CORRUPT_FILE',
        `${t.source}: ${t.where(r)}, column '${col}': ${raw === '' ? 'empty cell' : `non-numeric value ${JSON.stringify(raw)}`} in a ${what} column`,
      );
    }
    if (!Number.isFinite(v)) throw new FimkitError('NON_FINITE', `${t.source}: ${t.where(r)}, column '${col}': value ${v} is not finite`);
    return v;
  };

  for (let r = 0; r < n; r++) {
    for (let j = 0; j < D; j++) inputs[r * D + j] = numeric(r, fIdx[j]!, featureCols[j]!, 'feature');
  }

  const rawTargets: (string | number)[] = [];
  for (let r = 0; r < n; r++) {
    for (const c of tIdx) {
      const raw = t.cell(r, c);
      const v = typeof raw === 'number' ? raw : parseNumber(raw);
      rawTargets.push(v === undefined ? raw : v);
    }
  }
  const kind: TargetKind = opts.targetKind ?? (targetCols.length === 1 && isClassLike(rawTargets) ? 'class' : 'real');
  if (opts.targetKind === undefined) {
    const K = targetCols.length;
    noteInferredKind(kind, rawTargets, (i) => `${t.where(Math.floor(i / K))}, column '${targetCols[i % K]}'`, t.source, targetCols.map((c) => `'${c}'`).join(', '), opts.log);
  }
  if (!TARGET_KINDS.includes(kind)) throw new FimkitError('INVALID_ARGUMENT', `targetKind must be one of ${TARGET_KINDS.join(', ')}, got '${String(kind)}'`);
  const name = opts.name ?? defaultName;
  let ds: Dataset;
  if (kind === 'class') {
    if (targetCols.length !== 1) throw new FimkitError('SHAPE', `${t.source}: class targets need one target column, got ${targetCols.join(', ')}`);
    ds = classDataset(rawTargets, (r) => `${t.where(r)}, column '${targetCols[0]}'`, t.source, { name, inputs, D });
  } else {
    const K = targetCols.length;
    const targets = dtype === 'float32' ? new Float32Array(n * K) : new Float64Array(n * K);
    for (let r = 0; r < n; r++) {
      for (let j = 0; j < K; j++) targets[r * K + j] = numeric(r, tIdx[j]!, targetCols[j]!, 'target');
    }
    ds = { name, length: n, inputShape: [D], inputs, targetKind: kind, targets, targetDim: K };
  }
  return validateDataset(ds);
}

/**
 * Class labels from raw values: integers ≥ 0 are used as they are (numClasses = max + 1);
 * strings become indices of the sorted distinct names. Mixing the two is an error.
 */
function classDataset(
  raw: readonly (string | number)[],
  where: (r: number) => string,
  source: string,
  base: { name: string; inputs: Float32Array | Float64Array; D: number; inputShape?: number[]; numClasses?: number; classNames?: readonly string[] },
): Dataset {
  const n = raw.length;
  const targets = new Int32Array(n);
  const strings = raw.filter((v): v is string => typeof v === 'string');
  let numClasses: number;
  let classNames: readonly string[] | undefined = base.classNames;
  if (strings.length > 0) {
    const bad = raw.findIndex((v) => typeof v !== 'string');
    if (bad >= 0) throw new FimkitError('CORRUPT_FILE', `${source}: ${where(bad)}: numeric label ${raw[bad]} among class-name labels`);
    const names = classNames ? [...classNames] : [...new Set(strings)].sort();
    const index = new Map(names.map((s, k) => [s, k]));
    for (let r = 0; r < n; r++) {
      const k = index.get(raw[r] as string);
      if (k === undefined) throw new FimkitError('LABEL_RANGE', `${source}: ${where(r)}: class name ${JSON.stringify(raw[r])} is not one of the classNames`);
      targets[r] = k;
    }
    numClasses = names.length;
    classNames = names;
  } else {
    let max = -1;
    for (let r = 0; r < n; r++) {
      const v = raw[r] as number;
      if (!Number.isInteger(v) || v < 0 || v > 0x7fffffff) {
        throw new FimkitError('LABEL_RANGE', `${source}: ${where(r)}: class label ${v} is not a non-negative integer`);
      }
      targets[r] = v;
      if (v > max) max = v;
    }
    numClasses = base.numClasses ?? classNames?.length ?? max + 1;
  }
  return {
    name: base.name,
    length: n,
    inputShape: base.inputShape ?? [base.D],
    inputs: base.inputs,
    targetKind: 'class',
    targets,
    targetDim: 1,
    numClasses,
    ...(classNames ? { classNames } : {}),
  };
}

/** Parses CSV text into a validated Dataset (see the module comment for the format). */
export function parseCsv(text: string, opts: TabularOptions = {}, source = 'CSV'): Dataset {
  const rows = splitCsv(text, opts.delimiter ?? ',');
  if (rows.length === 0) throw new FimkitError('CORRUPT_FILE', `${source}: empty file, expected a header row`);
  const header = rows[0]!.fields;
  const body = rows.slice(1);
  body.forEach((row) => {
    if (row.fields.length !== header.length) {
      throw new FimkitError(
        'CORRUPT_FILE',
        `${source}: ragged row on line ${row.line}: ${row.fields.length} fields, the header has ${header.length}`,
      );
    }
  });
  return tableToDataset(
    { header, rows: body.length, cell: (r, c) => body[r]!.fields[c]!, where: (r) => `row ${r + 1} (line ${body[r]!.line})`, source },
    opts,
    opts.name ?? 'csv',
  );
}

/** Shape of a nested numeric array, checking every branch agrees (SHAPE error otherwise). */
function nestedShape(v: unknown, where: string): number[] {
  if (!Array.isArray(v)) return [];
  if (v.length === 0) throw new FimkitError('SHAPE', `${where}: empty array`);
  const inner = nestedShape(v[0], `${where}[0]`);
  for (let i = 1; i < v.length; i++) {
    const s = nestedShape(v[i], `${where}[${i}]`);
    if (s.length !== inner.length || s.some((d, a) => d !== inner[a])) {
      throw new FimkitError('SHAPE', `${where}[${i}] has shape [${s.join(', ')}], ${where}[0] has [${inner.join(', ')}]`);
    }
  }
  return [v.length, ...inner];
}

function flattenInto(v: unknown, out: Float32Array | Float64Array, off: number, where: string): number {
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) off = flattenInto(v[i], out, off, `${where}[${i}]`);
    return off;
  }
  if (typeof v !== 'number') throw new FimkitError('CORRUPT_FILE', `${where}: expected a number, got ${JSON.stringify(v)}`);
  if (!Number.isFinite(v)) throw new FimkitError('NON_FINITE', `${where}: value ${v} is not finite`);
  out[off] = v;
  return off + 1;
}

/** A Dataset from a parsed JSON value (see the module comment for the two accepted forms). */
export function datasetFromJson(value: unknown, opts: TabularOptions = {}, source = 'JSON'): Dataset {
  if (Array.isArray(value)) return recordsToDataset(value, opts, source);
  if (value === null || typeof value !== 'object') {
    throw new FimkitError('CORRUPT_FILE', `${source}: expected an object {inputs, targets} or an array of records`);
  }
  const obj = value as Record<string, unknown>;
  if (!Array.isArray(obj['inputs']) || !Array.isArray(obj['targets'])) {
    throw new FimkitError('CORRUPT_FILE', `${source}: object form needs array fields "inputs" and "targets"`);
  }
  const xs = obj['inputs'] as unknown[];
  const ys = obj['targets'] as unknown[];
  const n = xs.length;
  if (n === 0) throw new FimkitError('SHAPE', `${source}: "inputs" is empty`);
  if (ys.length !== n) throw new FimkitError('SHAPE', `${source}: ${n} inputs but ${ys.length} targets`);
  const shape = nestedShape(xs, `${source} inputs`);
  const inputShape = shape.length === 1 ? [1] : shape.slice(1);
  const D = inputShape.reduce((a, b) => a * b, 1);
  const dtype = opts.dtype ?? 'float64';
  const inputs = dtype === 'float32' ? new Float32Array(n * D) : new Float64Array(n * D);
  flattenInto(xs, inputs, 0, `${source} inputs`);
  const name = opts.name ?? (typeof obj['name'] === 'string' ? obj['name'] : 'json');
  const declaredKind = obj['targetKind'];
  if (declaredKind !== undefined && !TARGET_KINDS.includes(declaredKind as TargetKind)) {
    throw new FimkitError('INVALID_ARGUMENT', `${source}: targetKind must be one of ${TARGET_KINDS.join(', ')}, got ${JSON.stringify(declaredKind)}`);
  }
  const vectorTargets = Array.isArray(ys[0]);
  const kind: TargetKind =
    opts.targetKind ??
    (declaredKind as TargetKind | undefined) ??
    (!vectorTargets && isClassLike(ys.filter((v): v is string | number => typeof v === 'string' || typeof v === 'number')) && ys.every((v) => typeof v === 'string' || typeof v === 'number')
      ? 'class'
      : 'real');
  if (opts.targetKind === undefined && declaredKind === undefined && !vectorTargets) {
    noteInferredKind(kind, ys.filter((v): v is string | number => typeof v === 'string' || typeof v === 'number'), (i) => `targets[${i}]`, source, 'targets', opts.log);
  }
  let ds: Dataset;
  if (kind === 'class') {
    const raw = ys.map((v, i) => {
      if (typeof v !== 'number' && typeof v !== 'string') {
        throw new FimkitError('CORRUPT_FILE', `${source}: targets[${i}] is ${JSON.stringify(v)}, expected a class label`);
      }
      return v;
    });
    const classNames = Array.isArray(obj['classNames']) ? (obj['classNames'] as unknown[]).map(String) : undefined;
    const numClasses = typeof obj['numClasses'] === 'number' ? obj['numClasses'] : undefined;
    ds = classDataset(raw, (r) => `targets[${r}]`, source, {
      name,
      inputs,
      D,
      inputShape,
      ...(numClasses !== undefined ? { numClasses } : {}),
      ...(classNames ? { classNames } : {}),
    });
  } else {
    const tshape = nestedShape(ys, `${source} targets`);
    const K = tshape.length === 1 ? 1 : tshape.slice(1).reduce((a, b) => a * b, 1);
    const targets = dtype === 'float32' ? new Float32Array(n * K) : new Float64Array(n * K);
    flattenInto(ys, targets, 0, `${source} targets`);
    ds = { name, length: n, inputShape, inputs, targetKind: kind, targets, targetDim: K };
  }
  return validateDataset(ds);
}

function recordsToDataset(records: readonly unknown[], opts: TabularOptions, source: string): Dataset {
  if (records.length === 0) throw new FimkitError('SHAPE', `${source}: empty array of records`);
  const first = records[0];
  if (first === null || typeof first !== 'object' || Array.isArray(first)) {
    throw new FimkitError('CORRUPT_FILE', `${source}: record 0 is not an object`);
  }
  const header = Object.keys(first);
  records.forEach((rec, r) => {
    if (rec === null || typeof rec !== 'object' || Array.isArray(rec)) throw new FimkitError('CORRUPT_FILE', `${source}: record ${r} is not an object`);
    const keys = Object.keys(rec);
    const missing = header.filter((h) => !(h in rec));
    const extra = keys.filter((k) => !header.includes(k));
    if (missing.length || extra.length) {
      throw new FimkitError(
        'CORRUPT_FILE',
        `${source}: record ${r} has fields that differ from record 0 (${[...missing.map((m) => `missing '${m}'`), ...extra.map((e) => `extra '${e}'`)].join(', ')})`,
      );
    }
  });
  const cell = (r: number, c: number): string | number => {
    const v = (records[r] as Record<string, unknown>)[header[c]!];
    if (typeof v === 'number' || typeof v === 'string') return v;
    return JSON.stringify(v); // a non-scalar value: reported as non-numeric by the caller
  };
  return tableToDataset({ header, rows: records.length, cell, where: (r) => `record ${r}`, source }, opts, opts.name ?? 'json');
}

/** Parses JSON text into a Dataset; a syntax error is CORRUPT_FILE naming the source. */
export function parseJsonDataset(text: string, opts: TabularOptions = {}, source = 'JSON'): Dataset {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new FimkitError('CORRUPT_FILE', `${source}: invalid JSON: ${(e as Error).message}`);
  }
  return datasetFromJson(value, opts, source);
}
