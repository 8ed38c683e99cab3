/**
 * A per-layer summary of any Fisher matrix: for each parameter group (layer) of its layout, and
 * for the whole model, the number of parameters, the trace and the mean, max and min of the
 * diagonal. Everything comes from `m.diag()` and `m.layout`, which every representation gives
 * cheaply (KFAC: Kronecker product of factor diagonals; matrix-free: the exact diagonal engine),
 * so summarising never materialises a dense matrix. Browser-safe.
 */
import { fail } from '../core/errors.js';
import type { FisherMatrix, ParamLayout } from './matrix.js';

export interface DiagonalStats {
  /** Group label ("0:dense"), or "total" for the whole model. */
  label: string;
  /** Layer type ("dense", "conv2d"), or "model" for the whole model. */
  type: string;
  params: number;
  /** Sum of the diagonal entries. */
  trace: number;
  /** trace / params (NaN for an empty group). */
  mean: number;
  max: number;
  min: number;
}

export interface FisherSummary {
  groups: DiagonalStats[];
  total: DiagonalStats;
}

function statsOf(label: string, type: string, d: Float64Array, start: number, end: number): DiagonalStats {
  let trace = 0;
  let max = -Infinity;
  let min = Infinity;
  let sawNaN = false;
  for (let i = start; i < end; i++) {
    const v = d[i]!;
    // Comparisons with NaN are false, so a NaN entry would silently drop out of max/min;
    // tracked so it shows as NaN there (the trace propagates it by itself).
    if (Number.isNaN(v)) sawNaN = true;
    trace += v;
    if (v > max) max = v;
    if (v < min) min = v;
  }
  const params = end - start;
  if (params === 0) return { label, type, params, trace: 0, mean: NaN, max: NaN, min: NaN };
  return { label, type, params, trace, mean: trace / params, max: sawNaN ? NaN : max, min: sawNaN ? NaN : min };
}

/** The summary of a diagonal laid out by `layout` (its length must equal layout.size). */
export function summarizeDiagonal(diagonal: Float64Array, layout: ParamLayout): FisherSummary {
  if (!(diagonal instanceof Float64Array)) fail('DTYPE', `Fisher summary: the diagonal must be a Float64Array`);
  if (diagonal.length !== layout.size) {
    fail('SHAPE', `Fisher summary: the diagonal has ${diagonal.length} entries but the layout describes ${layout.size} parameters`);
  }
  const groups = layout.groups.map((g) => statsOf(g.label, g.type, diagonal, g.offset, g.offset + g.size));
  return { groups, total: statsOf('total', 'model', diagonal, 0, layout.size) };
}

/** The per-layer and whole-model summary of a Fisher matrix in any representation. */
export function summarizeFisher(m: FisherMatrix): FisherSummary {
  return summarizeDiagonal(m.diag(), m.layout);
}

/** A number for a table column: 4 significant digits, exponent form when very large or small. */
export function formatStat(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  if (x === 0) return '0';
  const a = Math.abs(x);
  return a >= 1e5 || a < 1e-3 ? x.toExponential(3) : x.toPrecision(4);
}

/** The summary as an aligned text table: layer, type, params, trace, mean, max, min. */
export function formatSummaryTable(s: FisherSummary): string {
  const header = ['layer', 'type', 'params', 'trace', 'mean diag', 'max diag', 'min diag'];
  const row = (g: DiagonalStats): string[] => [
    g.label,
    g.type,
    g.params.toLocaleString('en-US'),
    formatStat(g.trace),
    formatStat(g.mean),
    formatStat(g.max),
    formatStat(g.min),
  ];
  const rows = [...s.groups.map(row), row(s.total)];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  // Text columns left-aligned, numbers right-aligned.
  const fmt = (r: string[]): string => r.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd();
  const rule = '-'.repeat(widths.reduce((a, w) => a + w, 0) + 2 * (widths.length - 1));
  return [fmt(header), ...rows.slice(0, -1).map(fmt), rule, fmt(rows[rows.length - 1]!)].join('\n');
}
