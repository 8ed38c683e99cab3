/**
 * Declarative command-line flags. A command lists its flags as data (name, type, default, allowed
 * values or range, description); the same table drives parsing, validation and the help text, so
 * the three cannot drift apart.
 *
 * Syntax: `--name value`, `--name=value`; booleans as `--name`, `--no-name` or `--name=true|false`;
 * `-h` is `--help`. Every problem is a UsageError (exit code 2) whose message names the flag.
 */
import { closest, describeRange, editDistance, ruleAccepts } from '../core/options.js';

/** Shared with the library's option validator (src/core/options.ts). */
export { closest, editDistance };

export type FlagType = 'boolean' | 'int' | 'number' | 'string' | 'enum' | 'path';
export type FlagValue = boolean | number | string;

export interface FlagSpec {
  /** Long name without dashes, kebab-case: 'batch-size'. */
  name: string;
  type: FlagType;
  description: string;
  /** Value when the flag is absent (omit for "unset"; see defaultText). */
  default?: FlagValue;
  /** Help text for a default computed at run time ("784-256-256-10 for 28×28 data"). */
  defaultText?: string;
  /** Allowed values of an enum flag. */
  choices?: readonly string[];
  /** Bounds of a numeric flag (inclusive unless the exclusive variants are set). */
  min?: number;
  max?: number;
  exclusiveMin?: boolean;
  exclusiveMax?: boolean;
  /** Placeholder in the help text ('N', 'PATH', ...). */
  metavar?: string;
  /** Heading the flag is listed under in the help. */
  group?: string;
}

export interface PositionalSpec {
  name: string;
  description: string;
  optional?: boolean;
  /** The last positional only: takes every remaining argument. */
  variadic?: boolean;
}

export interface ParsedArgs {
  /** Values by flag name: parsed, validated, defaults filled in. */
  flags: Record<string, FlagValue | undefined>;
  /** Names of the flags given explicitly on the command line. */
  given: Set<string>;
  positionals: string[];
  help: boolean;
}

/** A mistake in how the command was called: printed with a pointer to the help, exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** The numeric bounds of a flag, in the shape the shared option rules take. */
function rangeOf(f: FlagSpec): { min?: number; max?: number; exclusiveMin?: boolean; exclusiveMax?: boolean } {
  return {
    ...(f.min !== undefined ? { min: f.min } : {}), ...(f.max !== undefined ? { max: f.max } : {}),
    ...(f.exclusiveMin ? { exclusiveMin: true } : {}), ...(f.exclusiveMax ? { exclusiveMax: true } : {}),
  };
}

const NUMBER_RE = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

/** Converts and validates one raw value; throws UsageError naming the flag. */
export function parseFlagValue(f: FlagSpec, raw: string): FlagValue {
  const flag = `--${f.name}`;
  switch (f.type) {
    case 'boolean': {
      if (raw === 'true' || raw === '1' || raw === 'yes') return true;
      if (raw === 'false' || raw === '0' || raw === 'no') return false;
      throw new UsageError(`${flag} takes true or false, got '${raw}'`);
    }
    case 'int':
    case 'number': {
      if (!NUMBER_RE.test(raw.trim())) throw new UsageError(`${flag} needs ${f.type === 'int' ? 'an integer' : 'a number'}, got '${raw}'`);
      const v = Number(raw);
      if (!Number.isFinite(v)) throw new UsageError(`${flag} needs a finite number, got '${raw}'`);
      if (f.type === 'int' && (!Number.isInteger(v) || !Number.isSafeInteger(v))) throw new UsageError(`${flag} needs an integer, got '${raw}'`);
      if (!ruleAccepts({ kind: 'number', ...rangeOf(f) }, v)) throw new UsageError(`${flag} must be ${describeRange(rangeOf(f))}, got ${raw}`);
      return v;
    }
    case 'enum': {
      const choices = f.choices ?? [];
      if (ruleAccepts({ kind: 'enum', values: choices }, raw)) return raw;
      const near = closest(raw, choices);
      throw new UsageError(`${flag}: unknown value '${raw}'; allowed: ${choices.join(', ')}${near ? ` (did you mean '${near}'?)` : ''}`);
    }
    case 'string':
    case 'path':
      if (raw === '') throw new UsageError(`${flag} needs a non-empty value`);
      return raw;
  }
}

/**
 * Parses argv (the words after the verb) against `flags`. `--help`/`-h` anywhere sets `help`
 * and skips validation of everything else (help must work even on a broken command line).
 */
export function parseArgs(argv: readonly string[], flags: readonly FlagSpec[], positionals: readonly PositionalSpec[] = []): ParsedArgs {
  const byName = new Map(flags.map((f) => [f.name, f]));
  if (argv.includes('--help') || argv.includes('-h')) {
    return { flags: {}, given: new Set(), positionals: [], help: true };
  }
  const values: Record<string, FlagValue | undefined> = {};
  const given = new Set<string>();
  const pos: string[] = [];
  const names = flags.map((f) => f.name);
  const unknown = (word: string): UsageError => {
    const near = closest(word, [...names, 'help']);
    return new UsageError(`unknown flag --${word}${near ? ` (did you mean --${near}?)` : ''}`);
  };

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      pos.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('-') || arg === '-' || /^-\d/.test(arg)) {
      pos.push(arg);
      continue;
    }
    if (!arg.startsWith('--')) throw new UsageError(`unknown option ${arg} (flags are written --name; see --help)`);
    const body = arg.slice(2);
    const eq = body.indexOf('=');
    let name = eq < 0 ? body : body.slice(0, eq);
    let raw: string | undefined = eq < 0 ? undefined : body.slice(eq + 1);
    let spec = byName.get(name);
    if (spec === undefined && name.startsWith('no-') && byName.get(name.slice(3))?.type === 'boolean') {
      if (raw !== undefined) throw new UsageError(`--${name} takes no value`);
      name = name.slice(3);
      spec = byName.get(name)!;
      raw = 'false';
    }
    if (spec === undefined) throw unknown(name);
    if (given.has(name)) throw new UsageError(`--${name} is given more than once`);
    if (raw === undefined) {
      if (spec.type === 'boolean') raw = 'true';
      else {
        const next = argv[i + 1];
        if (next === undefined || (next.startsWith('--') && next.length > 2)) {
          throw new UsageError(`--${name} needs a value${spec.metavar ? ` (${spec.metavar})` : ''}${spec.choices ? `: one of ${spec.choices.join(', ')}` : ''}`);
        }
        raw = next;
        i++;
      }
    }
    values[name] = parseFlagValue(spec, raw);
    given.add(name);
  }

  const required = positionals.filter((p) => !p.optional).length;
  if (pos.length < required) throw new UsageError(`missing argument <${positionals[pos.length]!.name}>`);
  if (pos.length > positionals.length && !positionals[positionals.length - 1]?.variadic) {
    const extra = pos[positionals.length]!;
    throw new UsageError(`unexpected argument '${extra}'${positionals.length === 0 ? ' (this command takes only --flags)' : ''}`);
  }
  for (const f of flags) if (!given.has(f.name)) values[f.name] = f.default;
  return { flags: values, given, positionals: pos, help: false };
}

// ---------------------------------------------------------------------------------------------
// Help text

function metavarOf(f: FlagSpec): string {
  if (f.type === 'boolean') return '';
  if (f.metavar) return f.metavar;
  if (f.type === 'enum') return (f.choices ?? []).join('|');
  if (f.type === 'int') return 'N';
  if (f.type === 'number') return 'X';
  if (f.type === 'path') return 'PATH';
  return 'VALUE';
}

function defaultOf(f: FlagSpec): string | undefined {
  if (f.defaultText !== undefined) return f.defaultText;
  if (f.default === undefined || f.default === false) return undefined;
  return String(f.default);
}

/** Wraps `text` to `width` columns, continuation lines indented by `indent`. */
export function wrap(text: string, width: number, indent: number): string {
  const words = text.split(/\s+/).filter((w) => w !== '');
  const lines: string[] = [];
  let line = '';
  for (const w of words) {
    if (line !== '' && line.length + 1 + w.length > width - indent) {
      lines.push(line);
      line = w;
    } else line = line === '' ? w : `${line} ${w}`;
  }
  if (line !== '') lines.push(line);
  return lines.join('\n' + ' '.repeat(indent));
}

/** The flag listing of a command's help, grouped, with defaults and allowed values. */
export function formatFlags(flags: readonly FlagSpec[], width = 100): string {
  const heads = flags.map((f) => {
    const mv = metavarOf(f);
    return `  --${f.name}${mv ? ` ${mv}` : ''}`;
  });
  const col = Math.min(34, Math.max(...heads.map((h) => h.length)) + 2);
  const groups = new Map<string, string[]>();
  flags.forEach((f, i) => {
    const head = heads[i]!;
    const def = defaultOf(f);
    let desc = f.description;
    if (def !== undefined) desc += ` [default: ${def}]`;
    const body = wrap(desc, width, col);
    const line = head.length + 2 <= col ? head.padEnd(col) + body : `${head}\n${' '.repeat(col)}${body}`;
    const g = f.group ?? 'Options';
    if (!groups.has(g)) groups.set(g, []);
    groups.get(g)!.push(line);
  });
  return [...groups.entries()].map(([g, lines]) => `${g}:\n${lines.join('\n')}`).join('\n\n');
}

/** A string flag's value (undefined when unset). */
export function flagString(f: ParsedArgs['flags'], name: string): string | undefined {
  return f[name] as string | undefined;
}

/** A numeric flag's value (undefined when unset). */
export function flagNumber(f: ParsedArgs['flags'], name: string): number | undefined {
  return f[name] as number | undefined;
}
