/**
 * Dependency-free SVG line charts for study reports: pure functions from numbers to SVG text.
 * No DOM, no Node built-ins, so the same code renders in Node (files) and in a browser.
 *
 * Output is deterministic: coordinates are rounded to 0.01 px and nothing depends on time,
 * locale or randomness, so the same input gives the same bytes (tests compare strings).
 *
 * Values that cannot be drawn -- null, NaN, ±Infinity, and zero or negative values on a log
 * axis -- are skipped: the line breaks there (it never bridges the gap or draws at a clamped
 * position), and the number skipped is stated in the chart's <desc> and its data-skipped
 * attribute, so a reader learns that the picture omits points.
 */
import { fail } from '../core/errors.js';

export interface ChartSeries {
  /** Shown in the legend; any text (escaped). */
  name: string;
  x: readonly number[];
  /** Same length as x; null marks a missing value. */
  y: readonly (number | null)[];
  /** Any SVG/CSS colour; defaults to a colour-blind-safe palette by series index. */
  color?: string;
  /** An SVG stroke-dasharray such as "6 3"; solid when absent. */
  dash?: string;
}

export type LegendPlacement = 'right' | 'bottom' | 'none';

export interface LineChartOptions {
  /** Drawn above the plot and used as the accessible name (<title>). */
  title: string;
  xLabel?: string;
  yLabel?: string;
  series: readonly ChartSeries[];
  logY?: boolean;
  logX?: boolean;
  /** Pixels; default 480 x 320. */
  width?: number;
  height?: number;
  /** Fixed axis ranges (otherwise fitted to the data and widened to nice ticks / decades). */
  yRange?: readonly [number, number];
  xRange?: readonly [number, number];
  /** true / 'right' (default): legend right of the plot; 'bottom': below it; false / 'none': no legend. */
  legend?: boolean | LegendPlacement;
}

export interface SmallMultiplesOptions {
  /** Heading drawn above the grid and used as the accessible name. */
  title?: string;
  /** Pixels between cells; default 8. */
  gap?: number;
}

/** Okabe–Ito colours (distinguishable with the common forms of colour blindness), yellow left out for contrast on white. */
export const SERIES_COLORS: readonly string[] = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#000000'];

const FONT_FAMILY = "system-ui, -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif";
const FONT_SIZE = 11;
const TITLE_SIZE = 13;
/** Average glyph advance at FONT_SIZE, used to reserve room for labels (no text metrics without a DOM). */
const CHAR_WIDTH = 6.2;
const LEGEND_SWATCH = 22;

// ---------------------------------------------------------------------------------------------
// Text

/**
 * Escapes text for XML/HTML content and attribute values. Characters XML 1.0 forbids (C0
 * controls other than tab/newline/return, lone surrogates, U+FFFE/U+FFFF) become U+FFFD, so
 * that any user string yields a well-formed document.
 */
export function escapeXml(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x26) out += '&amp;';
    else if (c === 0x3c) out += '&lt;';
    else if (c === 0x3e) out += '&gt;';
    else if (c === 0x22) out += '&quot;';
    else if (c === 0x27) out += '&#39;';
    else if ((c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) || c === 0xfffe || c === 0xffff) out += '\uFFFD';
    else if (c >= 0xd800 && c <= 0xdbff) {
      const next = i + 1 < text.length ? text.charCodeAt(i + 1) : 0;
      if (next >= 0xdc00 && next <= 0xdfff) {
        out += text[i]! + text[i + 1]!;
        i++;
      } else out += '\uFFFD';
    } else if (c >= 0xdc00 && c <= 0xdfff) out += '\uFFFD';
    else out += text[i]!;
  }
  return out;
}

/** Pixel coordinate with two decimals; never "-0", never exponent notation. */
function px(v: number): string {
  // Everything drawn is clipped to the chart first; the clamp only keeps toFixed out of exponent form.
  const r = Math.round(Math.min(Math.max(v, -1e9), 1e9) * 100) / 100;
  return Object.is(r, -0) || r === 0 ? '0' : r.toFixed(2).replace(/\.?0+$/, '');
}

// ---------------------------------------------------------------------------------------------
// Ticks

export interface Tick {
  value: number;
  /** Empty for unlabelled (minor) ticks. */
  label: string;
  major: boolean;
}

export interface AxisScale {
  log: boolean;
  /** Domain ends in data units. */
  min: number;
  max: number;
  ticks: Tick[];
}

/** 10^k exactly as the literal 1ek parses (Math.pow can differ from it in the last bit). */
function decade(k: number): number {
  return Number(`1e${k}`);
}

/** Label of 10^k: plain decimals for 0.01 ... 1000, "1e-5" style beyond. */
export function decadeLabel(k: number): string {
  if (k >= -2 && k <= 3) return String(10 ** k); // 0.01, 0.1, 1, 10, 100, 1000
  return `1e${k}`;
}

function logValueLabel(mantissa: number, k: number): string {
  if (mantissa === 1) return decadeLabel(k);
  if (k >= -2 && k <= 3) return String(Number((mantissa * 10 ** k).toPrecision(6)));
  return `${mantissa}e${k}`;
}

/** Nice step (1, 2 or 5 times a power of ten) so that `span` holds at most about `maxTicks` ticks. */
export function niceStep(span: number, maxTicks: number): number {
  const raw = span / Math.max(1, maxTicks - 1);
  const mag = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 5, 10]) if (m * mag >= raw * (1 - 1e-12)) return m * mag;
  return 10 * mag;
}

function linearLabel(v: number, step: number, maxAbs: number): string {
  if (v === 0) return '0';
  if (maxAbs >= 1e6 || step < 1e-4) {
    // Shortest mantissa that still tells neighbouring ticks apart.
    const digits = Math.max(0, Math.min(12, Math.floor(Math.log10(Math.abs(v))) - Math.floor(Math.log10(step))));
    return Number(v.toExponential(digits)).toExponential().replace('e+', 'e');
  }
  const decimals = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  const s = v.toFixed(decimals);
  return /^-0(\.0*)?$/.test(s) ? '0' : s;
}

/**
 * Linear scale: nice ticks (1/2/5 × 10^k). With `nice` (and no `fixed` range) the domain widens
 * to the enclosing tick values; otherwise it is exactly the data range (or `fixed`) and the
 * ticks fall inside it.
 */
export function linearScale(
  dataMin: number,
  dataMax: number,
  maxTicks: number,
  fixed?: readonly [number, number],
  nice = true,
): AxisScale {
  let lo = fixed ? fixed[0] : dataMin;
  let hi = fixed ? fixed[1] : dataMax;
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) {
    lo = 0;
    hi = 1;
  }
  // Keep the span itself finite (hi - lo overflows for values near ±1.8e308).
  const limit = Number.MAX_VALUE / 8;
  lo = Math.min(Math.max(lo, -limit), limit);
  hi = Math.min(Math.max(hi, -limit), limit);
  // A span below ~1e-12 of the magnitude cannot hold distinct ticks in float64: treat as one value.
  if (hi - lo <= 1e-12 * Math.max(Math.abs(lo), Math.abs(hi))) {
    lo = (lo + hi) / 2;
    hi = lo;
  }
  if (hi === lo) {
    const pad = lo === 0 ? 1 : Math.abs(lo) * 0.1;
    lo -= pad;
    hi += pad;
  }
  const step = niceStep(hi - lo, Math.max(2, maxTicks));
  // i * step, not repeated addition (no drift), rounded to the step's decimals so that 0.1 * 3
  // reads 0.3 and the domain ends, tick positions and labels all agree.
  const decimals = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  const tickValue = (i: number) => (decimals === 0 ? i * step : Number((i * step).toFixed(Math.min(100, decimals))));
  let first = Math.ceil(lo / step - 1e-9);
  let last = Math.floor(hi / step + 1e-9);
  if (!fixed && nice) {
    first = Math.floor(lo / step + 1e-9);
    last = Math.ceil(hi / step - 1e-9);
    lo = tickValue(first);
    hi = tickValue(last);
  }
  const maxAbs = Math.max(Math.abs(lo), Math.abs(hi));
  const ticks: Tick[] = [];
  for (let i = first; i <= last; i++) {
    const value = tickValue(i);
    ticks.push({ value, label: linearLabel(value, step, maxAbs), major: true });
  }
  return { log: false, min: lo, max: hi, ticks };
}

/**
 * Log10 scale with ticks at decades. The fitted domain runs from the decade at or below the
 * smallest value to the decade at or above the largest. When there are more decades than
 * `maxLabels`, every s-th decade is labelled (s = 1, 2, 3, 5, 10, 20, ...; labelled exponents
 * are multiples of s) and the rest get short unlabelled ticks; when the domain spans at most
 * three decades, 2..9 × 10^k get minor ticks.
 */
export function logScale(dataMin: number, dataMax: number, maxLabels: number, fixed?: readonly [number, number]): AxisScale {
  let lo: number;
  let hi: number;
  if (fixed) {
    [lo, hi] = fixed;
  } else if (!(dataMin > 0) || !Number.isFinite(dataMax)) {
    lo = 1;
    hi = 10;
  } else {
    // Math.log10 can be an ulp off near powers of ten; compare against the decades themselves.
    let kLo = Math.floor(Math.log10(dataMin));
    if (decade(kLo + 1) <= dataMin) kLo += 1;
    if (decade(kLo) > dataMin) kLo -= 1;
    let kHi = Math.ceil(Math.log10(dataMax));
    if (decade(kHi - 1) >= dataMax) kHi -= 1;
    if (decade(kHi) < dataMax) kHi += 1;
    if (kHi <= kLo) kHi = kLo + 1;
    // Stay on representable decades (1e-324 is 0 in float64, 1e309 is Infinity).
    kLo = Math.max(kLo, -323);
    kHi = Math.min(Math.max(kHi, kLo + 1), 308);
    lo = decade(kLo);
    hi = decade(kHi);
  }
  const lLo = Math.log10(lo);
  const lHi = Math.log10(hi);
  const kFirst = Math.ceil(lLo - 1e-9);
  const kLast = Math.floor(lHi + 1e-9);
  const decades = kLast - kFirst + 1;
  const ticks: Tick[] = [];
  if (decades >= 2) {
    let stride = 1;
    for (const candidate of [1, 2, 3, 5, 10, 20, 50, 100, 200, 500, 1000]) {
      stride = candidate;
      const labelled = Math.floor(kLast / stride) - Math.ceil(kFirst / stride) + 1;
      if (labelled <= Math.max(2, maxLabels)) break;
    }
    for (let k = kFirst; k <= kLast; k++) {
      const major = k % stride === 0;
      ticks.push({ value: decade(k), label: major ? decadeLabel(k) : '', major });
      if (lHi - lLo <= 3 + 1e-9) {
        for (let m = 2; m <= 9; m++) {
          const v = m * decade(k);
          if (Math.log10(v) < lHi - 1e-9) ticks.push({ value: v, label: '', major: false });
        }
      }
    }
    // Minor ticks below the first decade when the fixed range starts mid-decade.
    if (lHi - lLo <= 3 + 1e-9) {
      for (let m = 2; m <= 9; m++) {
        const v = m * decade(kFirst - 1);
        if (Math.log10(v) > lLo + 1e-9) ticks.push({ value: v, label: '', major: false });
      }
    }
  } else {
    // A fixed range holding fewer than two decades: label m × 10^k values inside it, with the
    // densest mantissa set that fits (1..9, then 1/2/5, then 1/3, then 1) and the rest as minor ticks.
    const inside: { m: number; k: number }[] = [];
    for (let k = Math.floor(lLo); k <= Math.ceil(lHi); k++) {
      for (let m = 1; m <= 9; m++) {
        const l = Math.log10(m * decade(k));
        if (l >= lLo - 1e-9 && l <= lHi + 1e-9) inside.push({ m, k });
      }
    }
    const sets = [[1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 2, 5], [1, 3], [1]];
    const labelled = sets.find((set) => inside.filter((t) => set.includes(t.m)).length <= Math.max(2, maxLabels)) ?? [1];
    for (const { m, k } of inside) {
      const major = labelled.includes(m);
      ticks.push({ value: m * decade(k), label: major ? logValueLabel(m, k) : '', major });
    }
  }
  ticks.sort((a, b) => a.value - b.value);
  return { log: true, min: lo, max: hi, ticks };
}

// ---------------------------------------------------------------------------------------------
// Line chart

interface Point {
  x: number;
  y: number;
}

function validateRange(range: readonly [number, number] | undefined, log: boolean, axis: string): void {
  if (range === undefined) return;
  const [lo, hi] = range;
  if (!Number.isFinite(lo) || !Number.isFinite(hi) || !(hi > lo)) {
    fail('INVALID_ARGUMENT', `${axis}Range must be two finite numbers with min < max, got [${lo}, ${hi}]`);
  }
  if (log && !(lo > 0)) fail('INVALID_ARGUMENT', `${axis}Range [${lo}, ${hi}] must be positive on a log ${axis} axis`);
}

function validPositive(v: number, log: boolean): boolean {
  return Number.isFinite(v) && (!log || v > 0);
}

/** Liang–Barsky: the part of segment a→b inside the rectangle, or null. */
function clipSegment(a: Point, b: Point, x0: number, y0: number, x1: number, y1: number): [Point, Point, boolean, boolean] | null {
  const dx = b.x - a.x;
  const dy = b.y - a.y;
  let t0 = 0;
  let t1 = 1;
  const edges: [number, number][] = [
    [-dx, a.x - x0],
    [dx, x1 - a.x],
    [-dy, a.y - y0],
    [dy, y1 - a.y],
  ];
  for (const [p, q] of edges) {
    if (p === 0) {
      if (q < 0) return null;
    } else {
      const r = q / p;
      if (p < 0) {
        if (r > t1) return null;
        if (r > t0) t0 = r;
      } else {
        if (r < t0) return null;
        if (r < t1) t1 = r;
      }
    }
  }
  return [
    { x: a.x + t0 * dx, y: a.y + t0 * dy },
    { x: a.x + t1 * dx, y: a.y + t1 * dy },
    t0 > 0,
    t1 < 1,
  ];
}

function legendMode(legend: LineChartOptions['legend']): LegendPlacement {
  if (legend === undefined || legend === true) return 'right';
  if (legend === false) return 'none';
  if (legend === 'right' || legend === 'bottom' || legend === 'none') return legend;
  return fail('INVALID_ARGUMENT', `legend must be true, false, 'right', 'bottom' or 'none', got ${String(legend)}`);
}

function truncate(text: string, maxChars: number): string {
  const chars = Array.from(text);
  return chars.length <= maxChars ? text : chars.slice(0, Math.max(1, maxChars - 1)).join('') + '…';
}

/**
 * An SVG line chart. Throws INVALID_ARGUMENT for unusable options and SHAPE when a series' x
 * and y differ in length. See the module comment for how undrawable values are handled.
 */
export function lineChart(options: LineChartOptions): string {
  const width = options.width ?? 480;
  const height = options.height ?? 320;
  if (!(Number.isFinite(width) && width > 0 && Number.isFinite(height) && height > 0)) {
    fail('INVALID_ARGUMENT', `chart width and height must be positive numbers, got ${width} x ${height}`);
  }
  if (typeof options.title !== 'string') fail('INVALID_ARGUMENT', 'chart title must be a string');
  if (!Array.isArray(options.series)) fail('INVALID_ARGUMENT', 'chart series must be an array');
  const logX = options.logX === true;
  const logY = options.logY === true;
  validateRange(options.xRange, logX, 'x');
  validateRange(options.yRange, logY, 'y');
  const legend = options.series.length === 0 ? 'none' : legendMode(options.legend);

  // Which points can be drawn, and the data extent.
  let xMin = Infinity;
  let xMax = -Infinity;
  let yMin = Infinity;
  let yMax = -Infinity;
  const usable: boolean[][] = [];
  const skippedPerSeries: number[] = [];
  options.series.forEach((s, si) => {
    if (typeof s.name !== 'string') fail('INVALID_ARGUMENT', `series ${si} needs a string name`);
    if (s.x.length !== s.y.length) {
      fail('SHAPE', `series ${si} ("${s.name}"): x has ${s.x.length} values but y has ${s.y.length}`);
    }
    if (s.dash !== undefined && !/^[0-9.]+([ ,]+[0-9.]+)*$/.test(s.dash.trim())) {
      fail('INVALID_ARGUMENT', `series ${si} ("${s.name}"): dash must be a list of lengths such as "6 3", got "${s.dash}"`);
    }
    const ok: boolean[] = [];
    let skipped = 0;
    for (let i = 0; i < s.x.length; i++) {
      const x = s.x[i]!;
      const y = s.y[i];
      const good = typeof x === 'number' && typeof y === 'number' && validPositive(x, logX) && validPositive(y, logY);
      ok.push(good);
      if (!good) {
        skipped++;
        continue;
      }
      if (x < xMin) xMin = x;
      if (x > xMax) xMax = x;
      if (y! < yMin) yMin = y!;
      if (y! > yMax) yMax = y!;
    }
    usable.push(ok);
    skippedPerSeries.push(skipped);
  });

  // Layout. Label sizes are estimated from character counts (no text metrics without a DOM).
  const titleH = options.title ? 24 : 8;
  const names = options.series.map((s) => s.name);
  const legendChars = Math.min(28, Math.max(0, ...names.map((n) => Array.from(n).length)));
  const legendW = legend === 'right' ? Math.min(width * 0.4, LEGEND_SWATCH + 8 + legendChars * CHAR_WIDTH + 8) : 0;
  const xLabelH = options.xLabel ? 16 : 0;
  const plotHGuess = height - titleH - 22 - xLabelH - 8;
  const yScale0 = logY
    ? logScale(yMin, yMax, Math.floor(plotHGuess / 22), options.yRange)
    : linearScale(yMin, yMax, Math.max(2, Math.floor(plotHGuess / 40)), options.yRange);
  const yLabelChars = Math.max(1, ...yScale0.ticks.map((t) => t.label.length));
  const left = 8 + (options.yLabel ? 18 : 0) + yLabelChars * CHAR_WIDTH + 8;
  const right = 14 + legendW;
  const plotX0 = left;
  const plotX1 = width - right;
  const plotW = plotX1 - plotX0;
  if (plotW < 20) fail('INVALID_ARGUMENT', `chart width ${width} leaves no room for the plot (${Math.round(plotW)} px)`);
  const xScale = logX
    ? logScale(xMin, xMax, Math.floor(plotW / 50), options.xRange)
    : // x stays tight to the data (steps 0..7 should not stretch to 10); y widens to nice ticks.
      linearScale(xMin, xMax, Math.max(2, Math.floor(plotW / 50)), options.xRange, false);

  // Bottom legend: lay items in rows that fit the plot width.
  const legendItems: { name: string; shown: string; w: number; row: number; col: number }[] = [];
  let legendRows = 0;
  if (legend !== 'none') {
    const maxChars = legend === 'right' ? Math.max(3, Math.floor((legendW - LEGEND_SWATCH - 16) / CHAR_WIDTH)) : Math.max(3, Math.floor((plotW - LEGEND_SWATCH - 16) / CHAR_WIDTH));
    let rowX = 0;
    for (const name of names) {
      const shown = truncate(name, maxChars);
      const w = LEGEND_SWATCH + 6 + Array.from(shown).length * CHAR_WIDTH + 14;
      if (legend === 'bottom') {
        if (rowX > 0 && rowX + w > plotW) {
          legendRows++;
          rowX = 0;
        }
        legendItems.push({ name, shown, w, row: legendRows, col: rowX });
        rowX += w;
      } else {
        legendItems.push({ name, shown, w, row: legendItems.length, col: 0 });
      }
    }
    if (legend === 'bottom') legendRows++;
  }
  const bottomLegendH = legend === 'bottom' ? legendRows * 16 + 6 : 0;
  const plotY0 = titleH;
  const plotY1 = height - (22 + xLabelH + 8 + bottomLegendH);
  const plotH = plotY1 - plotY0;
  if (plotH < 20) fail('INVALID_ARGUMENT', `chart height ${height} leaves no room for the plot (${Math.round(plotH)} px)`);
  const yScale = yScale0;

  // Fraction along an axis; v/span - min/span rather than (v - min)/span, which overflows near ±1.8e308.
  const along = (scale: AxisScale, v: number) => {
    if (scale.log) return (Math.log10(v) - Math.log10(scale.min)) / (Math.log10(scale.max) - Math.log10(scale.min));
    const span = scale.max - scale.min;
    return v / span - scale.min / span;
  };
  const tx = (v: number) => plotX0 + along(xScale, v) * plotW;
  const ty = (v: number) => plotY1 - along(yScale, v) * plotH;

  // Runs of consecutive drawable points, in pixels. A value so far outside a fixed range that its
  // pixel position overflows float64 is skipped (and counted) like a non-finite one.
  let offScale = 0;
  const seriesRuns: Point[][][] = options.series.map((s, si) => {
    const ok = usable[si]!;
    const runs: Point[][] = [];
    let run: Point[] = [];
    for (let i = 0; i < s.x.length; i++) {
      const p = ok[i] ? { x: tx(s.x[i]!), y: ty(s.y[i]!) } : null;
      if (p !== null && !(Number.isFinite(p.x) && Number.isFinite(p.y))) {
        skippedPerSeries[si]!++;
        offScale++;
      }
      if (p === null || !(Number.isFinite(p.x) && Number.isFinite(p.y))) {
        if (run.length > 0) runs.push(run);
        run = [];
        continue;
      }
      run.push(p);
    }
    if (run.length > 0) runs.push(run);
    return runs;
  });
  const totalSkipped = skippedPerSeries.reduce((a, b) => a + b, 0);
  const totalPoints = options.series.reduce((a, s) => a + s.x.length, 0);
  const drawable = totalPoints - totalSkipped;

  const out: string[] = [];
  const seriesSummary = options.series.map((s, i) => `${s.name} (${s.x.length - skippedPerSeries[i]!} of ${s.x.length} points drawn)`).join('; ');
  const skipDetail = options.series
    .map((s, i) => (skippedPerSeries[i]! > 0 ? `${s.name}: ${skippedPerSeries[i]}` : ''))
    .filter((t) => t !== '')
    .join('; ');
  const desc =
    `Line chart, ${logX ? 'log' : 'linear'} x axis${options.xLabel ? ` (${options.xLabel})` : ''}, ` +
    `${logY ? 'log' : 'linear'} y axis${options.yLabel ? ` (${options.yLabel})` : ''}. ` +
    `Series: ${seriesSummary || 'none'}. ` +
    `Points skipped: ${totalSkipped}${totalSkipped > 0 ? ` (missing, non-finite${logX || logY ? ' or not positive on a log axis' : ''}${offScale > 0 ? `, ${offScale} too far off-scale to place` : ''}; ${skipDetail})` : ''}.`;
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" class="fimkit-chart" width="${px(width)}" height="${px(height)}" viewBox="0 0 ${px(width)} ${px(height)}" role="img" aria-label="${escapeXml(options.title)}" data-skipped="${totalSkipped}" font-family="${escapeXml(FONT_FAMILY)}" font-size="${FONT_SIZE}">`,
    `<title>${escapeXml(options.title)}</title>`,
    `<desc>${escapeXml(desc)}</desc>`,
    `<rect width="${px(width)}" height="${px(height)}" fill="#ffffff"/>`,
  );

  // Grid at major ticks, then the frame.
  const grid: string[] = [];
  for (const t of yScale.ticks) {
    if (!t.major) continue;
    const y = ty(t.value);
    if (y < plotY0 - 0.01 || y > plotY1 + 0.01) continue;
    grid.push(`M${px(plotX0)} ${px(y)}H${px(plotX1)}`);
  }
  for (const t of xScale.ticks) {
    if (!t.major) continue;
    const x = tx(t.value);
    if (x < plotX0 - 0.01 || x > plotX1 + 0.01) continue;
    grid.push(`M${px(x)} ${px(plotY0)}V${px(plotY1)}`);
  }
  if (grid.length > 0) out.push(`<path class="grid" d="${grid.join('')}" stroke="#e3e3e3" stroke-width="1" fill="none"/>`);
  out.push(`<rect class="frame" x="${px(plotX0)}" y="${px(plotY0)}" width="${px(plotW)}" height="${px(plotH)}" fill="none" stroke="#555555" stroke-width="1"/>`);

  // Tick marks and labels.
  const tickMarks: string[] = [];
  const yLabels: string[] = [];
  for (const t of yScale.ticks) {
    const y = ty(t.value);
    if (y < plotY0 - 0.01 || y > plotY1 + 0.01) continue;
    tickMarks.push(`M${px(plotX0 - (t.major ? 5 : 3))} ${px(y)}H${px(plotX0)}`);
    if (t.label) yLabels.push(`<text x="${px(plotX0 - 7)}" y="${px(y)}" dy="0.32em" text-anchor="end">${escapeXml(t.label)}</text>`);
  }
  const xLabels: string[] = [];
  for (const t of xScale.ticks) {
    const x = tx(t.value);
    if (x < plotX0 - 0.01 || x > plotX1 + 0.01) continue;
    tickMarks.push(`M${px(x)} ${px(plotY1)}V${px(plotY1 + (t.major ? 5 : 3))}`);
    if (t.label) xLabels.push(`<text x="${px(x)}" y="${px(plotY1 + 8)}" dy="0.71em" text-anchor="middle">${escapeXml(t.label)}</text>`);
  }
  if (tickMarks.length > 0) out.push(`<path class="ticks" d="${tickMarks.join('')}" stroke="#555555" stroke-width="1" fill="none"/>`);
  out.push(`<g class="y-ticks" fill="#333333">${yLabels.join('')}</g>`);
  out.push(`<g class="x-ticks" fill="#333333">${xLabels.join('')}</g>`);
  if (options.xLabel) {
    out.push(`<text class="x-label" x="${px((plotX0 + plotX1) / 2)}" y="${px(plotY1 + 24)}" dy="0.71em" text-anchor="middle" fill="#222222">${escapeXml(options.xLabel)}</text>`);
  }
  if (options.yLabel) {
    const cx = 8;
    const cy = (plotY0 + plotY1) / 2;
    out.push(`<text class="y-label" x="${px(cx)}" y="${px(cy)}" dy="0.71em" text-anchor="middle" transform="rotate(-90 ${px(cx)} ${px(cy)})" fill="#222222">${escapeXml(options.yLabel)}</text>`);
  }

  // Series: one path per series, a new subpath wherever a point is skipped or the line leaves the plot.
  options.series.forEach((s, si) => {
    const color = s.color ?? SERIES_COLORS[si % SERIES_COLORS.length]!;
    const runs = seriesRuns[si]!;
    let d = '';
    const dots: Point[] = [];
    for (const r of runs) {
      if (r.length === 1) {
        const p = r[0]!;
        if (p.x >= plotX0 - 0.01 && p.x <= plotX1 + 0.01 && p.y >= plotY0 - 0.01 && p.y <= plotY1 + 0.01) dots.push(p);
        continue;
      }
      let penAt: Point | null = null;
      for (let i = 1; i < r.length; i++) {
        const seg = clipSegment(r[i - 1]!, r[i]!, plotX0, plotY0, plotX1, plotY1);
        if (seg === null) {
          penAt = null;
          continue;
        }
        const [a, b, clippedStart, clippedEnd] = seg;
        if (penAt === null || clippedStart) d += `M${px(a.x)} ${px(a.y)}`;
        d += `L${px(b.x)} ${px(b.y)}`;
        penAt = clippedEnd ? null : b;
      }
    }
    const dashAttr = s.dash ? ` stroke-dasharray="${escapeXml(s.dash.trim())}"` : '';
    const parts = [`<g class="series" data-series="${si}">`, `<title>${escapeXml(s.name)}</title>`];
    if (d) parts.push(`<path d="${d}" fill="none" stroke="${escapeXml(color)}" stroke-width="1.75" stroke-linejoin="round" stroke-linecap="round"${dashAttr}/>`);
    for (const p of dots) parts.push(`<circle cx="${px(p.x)}" cy="${px(p.y)}" r="2.5" fill="${escapeXml(color)}"/>`);
    parts.push('</g>');
    out.push(parts.join(''));
  });

  if (drawable === 0) {
    out.push(`<text class="no-data" x="${px((plotX0 + plotX1) / 2)}" y="${px((plotY0 + plotY1) / 2)}" dy="0.32em" text-anchor="middle" fill="#888888">no drawable data</text>`);
  }

  // Legend.
  if (legend !== 'none') {
    const items: string[] = [];
    legendItems.forEach((item, si) => {
      const s = options.series[si]!;
      const color = s.color ?? SERIES_COLORS[si % SERIES_COLORS.length]!;
      const x = legend === 'right' ? plotX1 + 10 : plotX0 + item.col;
      const y = legend === 'right' ? plotY0 + 8 + item.row * 16 : plotY1 + 22 + xLabelH + 8 + item.row * 16;
      const dashAttr = s.dash ? ` stroke-dasharray="${escapeXml(s.dash.trim())}"` : '';
      const full = item.shown !== item.name ? `<title>${escapeXml(item.name)}</title>` : '';
      items.push(
        `<g class="legend-item">${full}<path d="M${px(x)} ${px(y)}H${px(x + LEGEND_SWATCH)}" stroke="${escapeXml(color)}" stroke-width="2"${dashAttr}/>` +
          `<text x="${px(x + LEGEND_SWATCH + 6)}" y="${px(y)}" dy="0.32em" fill="#222222">${escapeXml(item.shown)}</text></g>`,
      );
    });
    out.push(`<g class="legend">${items.join('')}</g>`);
  }

  if (options.title) {
    out.push(`<text class="chart-title" x="${px(width / 2)}" y="6" dy="0.71em" text-anchor="middle" font-size="${TITLE_SIZE}" font-weight="600" fill="#111111">${escapeXml(options.title)}</text>`);
  }
  out.push('</svg>');
  return out.join('\n');
}

// ---------------------------------------------------------------------------------------------
// Small multiples

function rootSize(svg: string, index: number): { width: number; height: number } {
  const open = /^\s*<svg\b[^>]*>/.exec(svg);
  if (!open) fail('INVALID_ARGUMENT', `chart ${index} is not an SVG element (it must start with <svg ...>)`);
  const w = /\swidth="([0-9.]+)"/.exec(open[0]);
  const h = /\sheight="([0-9.]+)"/.exec(open[0]);
  if (!w || !h) fail('INVALID_ARGUMENT', `chart ${index}: its <svg> element needs numeric width and height attributes`);
  return { width: Number(w[1]), height: Number(h[1]) };
}

/**
 * Lays charts (SVG strings, e.g. from lineChart) in a grid of `columns` columns, row by row:
 * one SVG whose cells are the charts themselves, nested. Column widths and row heights are the
 * largest among their charts.
 */
export function smallMultiples(charts: readonly string[], columns: number, options: SmallMultiplesOptions = {}): string {
  if (!Number.isInteger(columns) || columns < 1) fail('INVALID_ARGUMENT', `columns must be a positive integer, got ${columns}`);
  if (charts.length === 0) fail('INVALID_ARGUMENT', 'smallMultiples needs at least one chart');
  const gap = options.gap ?? 8;
  if (!(Number.isFinite(gap) && gap >= 0)) fail('INVALID_ARGUMENT', `gap must be a non-negative number, got ${gap}`);
  const sizes = charts.map((c, i) => rootSize(c, i));
  const cols = Math.min(columns, charts.length);
  const rows = Math.ceil(charts.length / cols);
  const colW = new Array<number>(cols).fill(0);
  const rowH = new Array<number>(rows).fill(0);
  sizes.forEach((s, i) => {
    colW[i % cols] = Math.max(colW[i % cols]!, s.width);
    rowH[Math.floor(i / cols)] = Math.max(rowH[Math.floor(i / cols)]!, s.height);
  });
  const titleH = options.title ? 28 : 0;
  const totalW = colW.reduce((a, b) => a + b, 0) + gap * (cols - 1);
  const totalH = titleH + rowH.reduce((a, b) => a + b, 0) + gap * (rows - 1);
  const colX = colW.map((_, c) => colW.slice(0, c).reduce((a, b) => a + b, 0) + gap * c);
  const rowY = rowH.map((_, r) => titleH + rowH.slice(0, r).reduce((a, b) => a + b, 0) + gap * r);
  const label = options.title ?? `${charts.length} charts`;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" class="fimkit-multiples" width="${px(totalW)}" height="${px(totalH)}" viewBox="0 0 ${px(totalW)} ${px(totalH)}" role="group" aria-label="${escapeXml(label)}" font-family="${escapeXml(FONT_FAMILY)}">`,
    `<title>${escapeXml(label)}</title>`,
  ];
  if (options.title) {
    out.push(`<text class="multiples-title" x="${px(totalW / 2)}" y="6" dy="0.71em" text-anchor="middle" font-size="15" font-weight="600" fill="#111111">${escapeXml(options.title)}</text>`);
  }
  charts.forEach((chart, i) => {
    out.push(`<g transform="translate(${px(colX[i % cols]!)} ${px(rowY[Math.floor(i / cols)]!)})">`, chart.trim(), '</g>');
  });
  out.push('</svg>');
  return out.join('\n');
}
