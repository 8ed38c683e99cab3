// Measurements for fitting: synthetic data from a high-accuracy solve (uniform or random times,
// a subset of states, multiplicative or additive Gaussian noise, seeded through fimkit's Rng),
// and parsing of real measurements from CSV text (time column + state columns, missing values
// allowed). File reading lives in data-file.ts so this module stays browser-safe.
import type { ObservedData, OdeModel } from './model.js';
import { Rng } from '../core/rng.js';
import { OdeDataError } from './errors.js';
import { linspace, solveOde, type OdeMethod } from './solve.js';
import { checkModel } from './define.js';

export type NoiseKind = 'multiplicative' | 'additive';

export interface SynthesizeOptions {
  /** Sampling times (≥ t0, increasing). Otherwise `count` times over `tspan` (default the model's). */
  times?: Float64Array;
  count?: number;
  /** 'uniform' (default): evenly spaced, both ends included; 'random': sorted uniform draws plus both ends. */
  spacing?: 'uniform' | 'random';
  tspan?: readonly [number, number];
  /** Observed states, by index or name (default: all). */
  observed?: readonly (number | string)[];
  /**
   * Noise (default none). multiplicative: u·(1 + level·ξ); additive: u + level·sd_j·ξ with sd_j
   * the standard deviation of the noise-free column j over the sampled times; ξ ~ N(0, 1).
   */
  noise?: { kind: NoiseKind; level: number };
  seed?: number | string;
  params?: Float64Array;
  u0?: Float64Array;
  /** Solver for the ground truth (default 'auto') and its rtol (default 1e-10). */
  method?: OdeMethod;
  rtol?: number;
}

export interface SyntheticData extends ObservedData {
  /** The noise-free values at the same places as `values`. */
  readonly clean: Float64Array;
}

export function resolveStates(model: OdeModel, which: readonly (number | string)[] | undefined): number[] {
  if (!which) return model.states.map((_, i) => i);
  if (which.length === 0) throw new OdeDataError('bad-option', 'at least one state must be observed');
  const out = which.map((w) => {
    const i = typeof w === 'number' ? w : model.states.indexOf(w);
    if (!Number.isInteger(i) || i < 0 || i >= model.states.length) {
      throw new OdeDataError('missing-column', `'${model.name}' has no state ${JSON.stringify(w)} (states: ${model.states.join(', ')})`);
    }
    return i;
  });
  if (new Set(out).size !== out.length) throw new OdeDataError('bad-option', `observed states repeat: ${which.join(', ')}`);
  return out;
}

/** Sparse, noisy measurements of a model's solution. */
export function synthesize(model: OdeModel, opts: SynthesizeOptions = {}): SyntheticData {
  checkModel(model);
  const rng = new Rng(opts.seed ?? 0);
  const [a, b] = opts.tspan ?? model.tspan;
  let times: Float64Array;
  if (opts.times) times = opts.times;
  else {
    const count = opts.count ?? 20;
    if (!Number.isInteger(count) || count < 2) throw new OdeDataError('bad-option', `count must be an integer ≥ 2, got ${count}`);
    if ((opts.spacing ?? 'uniform') === 'uniform') times = linspace(a, b, count);
    else if (opts.spacing === 'random') {
      const inner = Array.from({ length: count - 2 }, () => a + (b - a) * rng.uniform()).sort((x, y) => x - y);
      times = Float64Array.from([a, ...inner, b]);
    } else throw new OdeDataError('bad-option', `spacing must be 'uniform' or 'random', got '${opts.spacing as string}'`);
  }
  checkTimes(times, 'sampling times');
  const observed = resolveStates(model, opts.observed);
  const noise = opts.noise ?? { kind: 'multiplicative' as const, level: 0 };
  if (noise.kind !== 'multiplicative' && noise.kind !== 'additive') throw new OdeDataError('bad-option', `noise kind must be 'multiplicative' or 'additive', got '${noise.kind as string}'`);
  if (!(noise.level >= 0) || !Number.isFinite(noise.level)) throw new OdeDataError('bad-option', `noise level must be finite and ≥ 0, got ${noise.level}`);
  const sol = solveOde(model, {
    times, t0: Math.min(model.tspan[0], times[0]!), method: opts.method ?? 'auto', rtol: opts.rtol ?? 1e-10,
    ...(opts.params ? { params: opts.params } : {}), ...(opts.u0 ? { u0: opts.u0 } : {}),
  });
  const n = model.states.length;
  const m = observed.length;
  const nt = times.length;
  const clean = new Float64Array(nt * m);
  for (let i = 0; i < nt; i++) for (let j = 0; j < m; j++) clean[i * m + j] = sol.states[i * n + observed[j]!]!;
  const scale = observed.map((_, j) => {
    let mean = 0;
    for (let i = 0; i < nt; i++) mean += clean[i * m + j]!;
    mean /= nt;
    let v = 0;
    for (let i = 0; i < nt; i++) v += (clean[i * m + j]! - mean) ** 2;
    return Math.sqrt(v / Math.max(1, nt - 1));
  });
  const values = new Float64Array(nt * m);
  // One noise stream per seed, drawn row by row: the same seed gives the same data on every backend.
  const noiseRng = rng.derive('noise');
  for (let i = 0; i < nt; i++) for (let j = 0; j < m; j++) {
    const u = clean[i * m + j]!;
    const xi = noiseRng.normal();
    values[i * m + j] = noise.kind === 'multiplicative' ? u * (1 + noise.level * xi) : u + noise.level * scale[j]! * xi;
  }
  return {
    times, observed, values, clean,
    noise: noise.kind === 'additive' ? { kind: 'additive', level: noise.level, scale } : { kind: 'multiplicative', level: noise.level },
  };
}

function checkTimes(times: Float64Array, what: string): void {
  if (times.length === 0) throw new OdeDataError('empty', `${what}: no times`);
  for (let i = 0; i < times.length; i++) {
    const t = times[i]!;
    if (!Number.isFinite(t)) throw new OdeDataError('bad-value', `${what}: time ${i} is ${t}`);
    if (t < 0) throw new OdeDataError('negative-time', `${what}: time ${i} is ${t} (times must be ≥ 0)`);
    if (i > 0 && !(t > times[i - 1]!)) {
      throw new OdeDataError('non-monotone', `${what}: times must increase strictly, but time ${i} = ${t} follows ${times[i - 1]}`);
    }
  }
}

export interface CsvOptions {
  /** Name of the time column (default: the first of 't', 'time', 'tau', 'day', 'days', case-insensitive). */
  timeColumn?: string;
  /** States that must be present (default: at least one). */
  require?: readonly string[];
  /** Ignore columns that are neither time nor a state (default false: they are an error). */
  ignoreExtra?: boolean;
}

const MISSING = new Set(['', 'na', 'nan', 'null', 'none', '-', '?']);

/**
 * Measurements from CSV text: a header row, then one row per time. The time column and any
 * subset of the model's state columns (matched by name, case-insensitive); empty cells and
 * NA/NaN are missing values. Times must be ≥ 0 and strictly increasing. Lines starting with '#'
 * are comments.
 */
export function parseObservedCsv(text: string, model: OdeModel, opts: CsvOptions = {}): ObservedData {
  const lines = text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l.length > 0 && !l.startsWith('#'));
  if (lines.length < 2) throw new OdeDataError('empty', 'CSV needs a header row and at least one data row');
  const header = splitRow(lines[0]!).map((h) => h.replace(/^"(.*)"$/, '$1').trim());
  const lower = header.map((h) => h.toLowerCase());
  const timeNames = opts.timeColumn ? [opts.timeColumn.toLowerCase()] : ['t', 'time', 'tau', 'day', 'days'];
  const tcol = lower.findIndex((h) => timeNames.includes(h));
  if (tcol < 0) {
    throw new OdeDataError('missing-column', `CSV has no time column (looked for ${timeNames.map((s) => `'${s}'`).join(', ')}; header: ${header.join(', ')})`);
  }
  const stateLower = model.states.map((s) => s.toLowerCase());
  const cols: number[] = [];
  const observed: number[] = [];
  const extra: string[] = [];
  header.forEach((h, c) => {
    if (c === tcol) return;
    const s = stateLower.indexOf(h.toLowerCase());
    if (s >= 0) {
      if (observed.includes(s)) throw new OdeDataError('bad-option', `CSV column '${h}' repeats state ${model.states[s]}`);
      cols.push(c);
      observed.push(s);
    } else extra.push(h);
  });
  for (const r of opts.require ?? []) {
    if (!observed.includes(model.states.indexOf(r))) {
      throw new OdeDataError('missing-column', `CSV lacks the required column '${r}' (header: ${header.join(', ')})`);
    }
  }
  if (observed.length === 0) {
    throw new OdeDataError('missing-column', `CSV has no column for any state of '${model.name}' (states: ${model.states.join(', ')}; header: ${header.join(', ')})`);
  }
  if (extra.length > 0 && !opts.ignoreExtra) {
    throw new OdeDataError('missing-column', `CSV columns ${extra.map((e) => `'${e}'`).join(', ')} match no state of '${model.name}' (states: ${model.states.join(', ')}); pass ignoreExtra to skip them`);
  }
  const nt = lines.length - 1;
  const times = new Float64Array(nt);
  const values = new Float64Array(nt * observed.length);
  for (let r = 0; r < nt; r++) {
    const cells = splitRow(lines[r + 1]!);
    if (cells.length !== header.length) {
      throw new OdeDataError('bad-value', `CSV row ${r + 2} has ${cells.length} cells, the header has ${header.length}`);
    }
    const tc = cells[tcol]!.trim();
    if (MISSING.has(tc.toLowerCase())) throw new OdeDataError('bad-value', `CSV row ${r + 2}: the time is missing`);
    times[r] = parseCell(tc, r + 2, header[tcol]!);
    cols.forEach((c, j) => {
      const v = cells[c]!.trim();
      values[r * observed.length + j] = MISSING.has(v.toLowerCase()) ? NaN : parseCell(v, r + 2, header[c]!);
    });
  }
  checkTimes(times, 'CSV');
  return { times, observed, values };
}

function splitRow(line: string): string[] {
  return line.split(',');
}

function parseCell(s: string, row: number, col: string): number {
  const v = Number(s.replace(/^"(.*)"$/, '$1'));
  if (!Number.isFinite(v)) throw new OdeDataError('bad-value', `CSV row ${row}, column '${col}': '${s}' is not a number`);
  return v;
}

/** The data as CSV text (time + observed state columns, empty cells for missing values). */
export function observedToCsv(model: OdeModel, d: ObservedData): string {
  const m = d.observed.length;
  const rows = ['t,' + d.observed.map((i) => model.states[i]).join(',')];
  for (let i = 0; i < d.times.length; i++) {
    const cells = [String(d.times[i])];
    for (let j = 0; j < m; j++) { const v = d.values[i * m + j]!; cells.push(Number.isNaN(v) ? '' : String(v)); }
    rows.push(cells.join(','));
  }
  return rows.join('\n') + '\n';
}
