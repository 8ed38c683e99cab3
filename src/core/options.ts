/**
 * One validator for option objects, used by every public entry point that takes options
 * (computeFisher, jointVariances, inputVariances, train, runStudy, resolveDataset, ...) and by the
 * CLI, whose flag tables read their allowed values and ranges from the same rules (src/cli/args.ts
 * shares describeRange and closest). An option object is checked against a schema before any
 * work: unknown keys (with the nearest known one), values of the wrong type, enum values outside
 * the allowed list, integers that must be positive, null or non-object options, all give a
 * FimkitError('INVALID_ARGUMENT') that names the function, the option and what is allowed.
 * A key whose value is `undefined` counts as absent (so `{ ...opts, seed: undefined }` works).
 */
import { fail } from './errors.js';

export type OptionRule =
  | { kind: 'enum'; values: readonly string[] }
  | { kind: 'int'; min?: number; max?: number }
  | { kind: 'number'; min?: number; max?: number; exclusiveMin?: boolean; exclusiveMax?: boolean }
  | { kind: 'boolean' }
  | { kind: 'function' }
  | { kind: 'string' }
  /** An integer ≥ 0 or a string (Rng seeds). */
  | { kind: 'seed' }
  /** A non-null object (checked further by the callee). */
  | { kind: 'object' }
  /** A typed array of float64 values. */
  | { kind: 'float64array' }
  /** Anything (passed through to code that checks it). */
  | { kind: 'any' };

export type OptionSpec = OptionRule & { required?: boolean; nullable?: boolean };
export type OptionSchema = Readonly<Record<string, OptionSpec>>;

/** Levenshtein distance (small strings only). */
export function editDistance(a: string, b: string): number {
  const prev = new Array<number>(b.length + 1);
  for (let j = 0; j <= b.length; j++) prev[j] = j;
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j]!;
      prev[j] = Math.min(up + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length]!;
}

/** The candidate closest to `word`, when it is close enough to be a plausible typo. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = c.startsWith(word) || word.startsWith(c) ? Math.min(1, editDistance(word, c)) : editDistance(word, c);
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

/** "≥ 1 and ≤ 10", "> 0": the range of a numeric rule, as the CLI help and errors write it. */
export function describeRange(r: { min?: number; max?: number; exclusiveMin?: boolean; exclusiveMax?: boolean }): string {
  const lo = r.min === undefined ? '' : `${r.exclusiveMin ? '>' : '≥'} ${r.min}`;
  const hi = r.max === undefined ? '' : `${r.exclusiveMax ? '<' : '≤'} ${r.max}`;
  return [lo, hi].filter((s) => s !== '').join(' and ');
}

/** What the rule allows, for messages: "one of 'mean', 'sum'", "an integer ≥ 1". */
export function describeRule(r: OptionRule): string {
  switch (r.kind) {
    case 'enum': return `one of ${r.values.map((v) => `'${v}'`).join(', ')}`;
    case 'int': { const d = describeRange(r); return `an integer${d ? ` ${d}` : ''}`; }
    case 'number': { const d = describeRange(r); return `a finite number${d ? ` ${d}` : ''}`; }
    case 'boolean': return 'true or false';
    case 'function': return 'a function';
    case 'string': return 'a non-empty string';
    case 'seed': return 'an integer ≥ 0 or a string';
    case 'object': return 'an object';
    case 'float64array': return 'a Float64Array';
    case 'any': return 'any value';
  }
}

/** A value as messages show it: strings quoted, objects by their kind. */
export function showValue(v: unknown): string {
  if (typeof v === 'string') return `'${v}'`;
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'function') return 'a function';
  if (typeof v === 'object') return `an object (${v.constructor?.name ?? 'Object'})`;
  return String(v);
}

/** Does `v` satisfy `r`? */
export function ruleAccepts(r: OptionRule, v: unknown): boolean {
  switch (r.kind) {
    case 'enum': return typeof v === 'string' && r.values.includes(v);
    case 'int':
    case 'number': {
      if (typeof v !== 'number' || !Number.isFinite(v)) return false;
      if (r.kind === 'int' && !Number.isSafeInteger(v)) return false;
      const x = r as { min?: number; max?: number; exclusiveMin?: boolean; exclusiveMax?: boolean };
      if (x.min !== undefined && (x.exclusiveMin ? v <= x.min : v < x.min)) return false;
      if (x.max !== undefined && (x.exclusiveMax ? v >= x.max : v > x.max)) return false;
      return true;
    }
    case 'boolean': return typeof v === 'boolean';
    case 'function': return typeof v === 'function';
    case 'string': return typeof v === 'string' && v !== '';
    case 'seed': return (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) || typeof v === 'string';
    case 'object': return typeof v === 'object' && v !== null;
    case 'float64array': return v instanceof Float64Array;
    case 'any': return true;
  }
}

/**
 * Checks an options object against `schema`; `who` names the function in messages ("computeFisher"),
 * `what` the argument ("options"). Undefined options are allowed unless a key is required.
 */
export function checkOptions(who: string, opts: unknown, schema: OptionSchema, what = 'options'): void {
  const keys = Object.keys(schema);
  const required = keys.filter((k) => schema[k]!.required);
  if (opts === undefined && required.length === 0) return;
  if (opts === null || typeof opts !== 'object' || Array.isArray(opts)) {
    fail('INVALID_ARGUMENT', `${who}: ${what} must be an object${required.length ? ` with ${required.map((k) => `'${k}'`).join(', ')}` : ''}, got ${opts === undefined ? 'undefined' : showValue(opts)}`);
  }
  const o = opts as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    if (schema[k] !== undefined) continue;
    const near = closest(k, keys);
    fail('INVALID_ARGUMENT', `${who}: unknown option '${k}'${near ? ` (did you mean '${near}'?)` : ''}; allowed options: ${keys.join(', ')}`);
  }
  for (const k of keys) {
    const spec = schema[k]!;
    const v = o[k];
    if (v === undefined) {
      if (spec.required) fail('INVALID_ARGUMENT', `${who}: option '${k}' is required (${describeRule(spec)})`);
      continue;
    }
    if (v === null && spec.nullable) continue;
    if (!ruleAccepts(spec, v)) {
      let hint = '';
      if (spec.kind === 'enum' && typeof v === 'string') {
        const near = closest(v, spec.values);
        if (near) hint = ` (did you mean '${near}'?)`;
      }
      fail('INVALID_ARGUMENT', `${who}: option '${k}' must be ${describeRule(spec)}, got ${showValue(v)}${hint}`);
    }
  }
}

/** A rule for one positional argument (a path string, a count): the same message shape. */
export function checkArgument(who: string, name: string, v: unknown, rule: OptionRule): void {
  if (!ruleAccepts(rule, v)) fail('INVALID_ARGUMENT', `${who}: ${name} must be ${describeRule(rule)}, got ${showValue(v)}`);
}
