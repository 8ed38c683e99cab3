/**
 * SVG line charts for study reports, drawn by Observable Plot and returned as SVG text. In a
 * browser Plot draws into the page's document; in Node into a linkedom document (./dom.ts).
 * The axis scales (decade and 1/2/5 ticks) and small-multiple grids are fimkit's own.
 *
 * Output is deterministic: nothing depends on time, locale or randomness (Plot's clip-path ids
 * are replaced by ids from the content), so the same input gives the same bytes.
 *
 * Values that cannot be drawn -- null, NaN, ±Infinity, and zero or negative values on a log
 * axis -- are skipped: the line breaks there (it never bridges the gap or draws at a clamped
 * position), and the number skipped is stated in the chart's <desc> and its data-skipped
 * attribute, so a reader learns that the picture omits points.
 */
import * as Plot from '@observablehq/plot';
import { fail } from '../core/errors.js';
import { chartDocument } from './dom.js';

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
// Line chart (drawn by Observable Plot)

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

/** FNV-1a of a string, as 8 hex digits: ids that depend only on the chart's content. */
function contentHash(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}

const SVG_NS = 'http://www.w3.org/2000/svg';

/**
 * The element as XML text, every attribute value and text node escaped with escapeXml (DOM
 * serialisers leave '<' in attribute values, which XML forbids); <style> text is CSS, kept as is.
 */
function serializeXml(node: Element): string {
  const attrs = Array.from(node.attributes, (a) => ` ${a.name}="${escapeXml(a.value)}"`).join('');
  const kids = Array.from(node.childNodes, (c): string => {
    if (c.nodeType === 1) return serializeXml(c as Element);
    if (c.nodeType === 3) return node.localName === 'style' ? (c.textContent ?? '').replace(/[<>&]/g, '') : escapeXml(c.textContent ?? '');
    return '';
  }).join('');
  const name = node.localName;
  return kids === '' ? `<${name}${attrs}/>` : `<${name}${attrs}>${kids}</${name}>`;
}

/**
 * An SVG line chart drawn by Observable Plot (axes, grid, frame, lines, clipping). fimkit decides
 * what Plot is given: which points are drawable (the rest are NaN, where Plot breaks the line),
 * the axis domains and ticks (linearScale / logScale: decades on log axes, nice 1/2/5 steps on
 * linear ones), and the accessible wrapper (<title>, a <desc> that counts skipped points, a
 * legend, the chart title). Throws INVALID_ARGUMENT for unusable options and SHAPE when a
 * series' x and y differ in length.
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

  // Layout. Label sizes are estimated from character counts (no text metrics without layout).
  const titleH = options.title ? 24 : 8;
  const names = options.series.map((s) => s.name);
  const legendChars = Math.min(28, Math.max(0, ...names.map((n) => Array.from(n).length)));
  const legendW = legend === 'right' ? Math.min(width * 0.4, LEGEND_SWATCH + 8 + legendChars * CHAR_WIDTH + 8) : 0;
  const xLabelH = options.xLabel ? 16 : 0;
  const plotHGuess = height - titleH - 22 - xLabelH - 8;
  const yScale = logY
    ? logScale(yMin, yMax, Math.floor(plotHGuess / 22), options.yRange)
    : linearScale(yMin, yMax, Math.max(2, Math.floor(plotHGuess / 40)), options.yRange);
  const yLabelChars = Math.max(1, ...yScale.ticks.map((t) => t.label.length));
  const left = 8 + (options.yLabel ? 18 : 0) + yLabelChars * CHAR_WIDTH + 8;
  const right = 14 + legendW;
  const plotW = width - right - left;
  if (plotW < 20) fail('INVALID_ARGUMENT', `chart width ${width} leaves no room for the plot (${Math.round(plotW)} px)`);
  const xScale = logX
    ? logScale(xMin, xMax, Math.floor(plotW / 50), options.xRange)
    : // x stays tight to the data (steps 0..7 should not stretch to 10); y widens to nice ticks.
      linearScale(xMin, xMax, Math.max(2, Math.floor(plotW / 50)), options.xRange, false);

  // Bottom legend: lay items in rows that fit the plot width.
  const legendItems: { name: string; shown: string; row: number; col: number }[] = [];
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
        legendItems.push({ name, shown, row: legendRows, col: rowX });
        rowX += w;
      } else legendItems.push({ name, shown, row: legendItems.length, col: 0 });
    }
    if (legend === 'bottom') legendRows++;
  }
  const bottom = 22 + xLabelH + 8 + (legend === 'bottom' ? legendRows * 16 + 6 : 0);
  const plotY0 = titleH;
  const plotY1 = height - bottom;
  const plotX0 = left;
  const plotX1 = width - right;
  if (plotY1 - plotY0 < 20) fail('INVALID_ARGUMENT', `chart height ${height} leaves no room for the plot (${Math.round(plotY1 - plotY0)} px)`);

  // A value so far outside a fixed range that its position along the axis overflows float64 is
  // skipped (and counted) like a non-finite one; v/span − min/span does not overflow near ±1.8e308.
  const along = (scale: AxisScale, v: number) => {
    if (scale.log) return (Math.log10(v) - Math.log10(scale.min)) / (Math.log10(scale.max) - Math.log10(scale.min));
    const span = scale.max - scale.min;
    return v / span - scale.min / span;
  };
  let offScale = 0;
  const seriesData = options.series.map((s, si) => {
    const ok = usable[si]!;
    return Array.from(s.x, (x: number, i: number): { x: number; y: number } => {
      if (!ok[i]) return { x: NaN, y: NaN };
      const fx = along(xScale, x);
      const fy = along(yScale, s.y[i]!);
      // Beyond 1e6 plot widths a point is nowhere near the frame: Plot would write coordinates in exponent form.
      if (!(Number.isFinite(fx) && Number.isFinite(fy) && Math.abs(fx) < 1e6 && Math.abs(fy) < 1e6)) {
        skippedPerSeries[si]!++;
        offScale++;
        return { x: NaN, y: NaN };
      }
      return { x, y: s.y[i]! };
    });
  });
  const totalSkipped = skippedPerSeries.reduce((a, b) => a + b, 0);
  const totalPoints = options.series.reduce((a, s) => a + s.x.length, 0);
  const drawable = totalPoints - totalSkipped;

  const color = (si: number): string => options.series[si]!.color ?? SERIES_COLORS[si % SERIES_COLORS.length]!;
  const tickFormat = (scale: AxisScale) => {
    const labels = new Map(scale.ticks.map((t) => [t.value, t.label]));
    return (v: number) => labels.get(v) ?? '';
  };
  const majors = (scale: AxisScale) => scale.ticks.filter((t) => t.major).map((t) => t.value);
  const marks: Plot.Markish[] = [
    Plot.gridY(majors(yScale), { stroke: '#e3e3e3', strokeOpacity: 1 }),
    Plot.gridX(majors(xScale), { stroke: '#e3e3e3', strokeOpacity: 1 }),
    Plot.frame({ stroke: '#555555', className: 'frame' }),
    Plot.axisY(yScale.ticks.map((t) => t.value), { tickFormat: tickFormat(yScale), tickSize: 5, label: null, className: 'y-ticks', fill: '#333333' }),
    Plot.axisX(xScale.ticks.map((t) => t.value), { tickFormat: tickFormat(xScale), tickSize: 5, label: null, className: 'x-ticks', fill: '#333333' }),
  ];
  options.series.forEach((s, si) => {
    const data = seriesData[si]!;
    // A point with no drawable neighbour is a dot (a line needs two points).
    const isolated = data.filter((p: { x: number }, i: number) => Number.isFinite(p.x) && !Number.isFinite(data[i - 1]?.x ?? NaN) && !Number.isFinite(data[i + 1]?.x ?? NaN));
    const lineData = data.map((p: { x: number; y: number }) => (isolated.includes(p) ? { x: NaN, y: NaN } : p));
    marks.push(Plot.line(lineData, { x: 'x', y: 'y', stroke: color(si), strokeWidth: 1.75, clip: true, className: 'series', ...(s.dash ? { strokeDasharray: s.dash.trim() } : {}) }));
    marks.push(Plot.dot(isolated, { x: 'x', y: 'y', r: 2.5, fill: color(si), stroke: null, clip: true, className: 'series-dots' }));
  });

  const doc = chartDocument();
  const svg = Plot.plot({
    document: doc,
    width,
    height,
    marginLeft: left,
    marginRight: right,
    marginTop: plotY0,
    marginBottom: bottom,
    style: { background: '#ffffff', fontSize: `${FONT_SIZE}px`, fontFamily: FONT_FAMILY },
    x: { type: logX ? 'log' : 'linear', domain: [xScale.min, xScale.max] },
    y: { type: logY ? 'log' : 'linear', domain: [yScale.min, yScale.max] },
    marks,
  }) as SVGSVGElement;

  // fimkit's wrapper around Plot's drawing: accessible name and description, legend, title.
  const el = (name: string, attrs: Record<string, string | number>, text?: string): Element => {
    const e = doc.createElementNS(SVG_NS, name);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
    if (text !== undefined) e.textContent = text;
    return e;
  };
  const seriesSummary = options.series.map((s, i) => `${s.name} (${s.x.length - skippedPerSeries[i]!} of ${s.x.length} points drawn)`).join('; ');
  const skipDetail = options.series.map((s, i) => (skippedPerSeries[i]! > 0 ? `${s.name}: ${skippedPerSeries[i]}` : '')).filter((t) => t !== '').join('; ');
  const desc =
    `Line chart, ${logX ? 'log' : 'linear'} x axis${options.xLabel ? ` (${options.xLabel})` : ''}, ` +
    `${logY ? 'log' : 'linear'} y axis${options.yLabel ? ` (${options.yLabel})` : ''}. ` +
    `Series: ${seriesSummary || 'none'}. ` +
    `Points skipped: ${totalSkipped}${totalSkipped > 0 ? ` (missing, non-finite${logX || logY ? ' or not positive on a log axis' : ''}${offScale > 0 ? `, ${offScale} too far off-scale to place` : ''}; ${skipDetail})` : ''}.`;
  svg.setAttribute('xmlns', SVG_NS);
  svg.setAttribute('class', `fimkit-chart ${svg.getAttribute('class') ?? ''}`.trim());
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', options.title);
  svg.setAttribute('data-skipped', String(totalSkipped));
  svg.setAttribute('font-family', FONT_FAMILY);
  svg.setAttribute('font-size', String(FONT_SIZE));
  svg.insertBefore(el('rect', { width, height, fill: '#ffffff' }), svg.firstChild);
  svg.insertBefore(el('desc', {}, desc), svg.firstChild);
  svg.insertBefore(el('title', {}, options.title), svg.firstChild);
  // Series groups carry their index and name (the <title> is their tooltip and accessible name).
  const groups = Array.from(svg.querySelectorAll('g.series'));
  groups.forEach((g, si) => {
    g.setAttribute('data-series', String(si));
    g.insertBefore(el('title', {}, options.series[si]!.name), g.firstChild);
  });
  Array.from(svg.querySelectorAll('g.series-dots')).forEach((g, si) => g.setAttribute('data-series', String(si)));
  // Minor ticks are unlabelled: no empty text elements.
  for (const t of Array.from(svg.querySelectorAll('g.x-ticks text, g.y-ticks text'))) if (!t.textContent) t.remove();
  if (options.xLabel) svg.appendChild(el('text', { class: 'x-label', x: (plotX0 + plotX1) / 2, y: plotY1 + 24, dy: '0.71em', 'text-anchor': 'middle', fill: '#222222' }, options.xLabel));
  if (options.yLabel) {
    const cy = (plotY0 + plotY1) / 2;
    svg.appendChild(el('text', { class: 'y-label', x: 8, y: cy, dy: '0.71em', 'text-anchor': 'middle', transform: `rotate(-90 8 ${cy})`, fill: '#222222' }, options.yLabel));
  }
  if (drawable === 0) svg.appendChild(el('text', { class: 'no-data', x: (plotX0 + plotX1) / 2, y: (plotY0 + plotY1) / 2, dy: '0.32em', 'text-anchor': 'middle', fill: '#888888' }, 'no drawable data'));
  if (legend !== 'none') {
    const lg = el('g', { class: 'legend' });
    legendItems.forEach((item, si) => {
      const s = options.series[si]!;
      const x = legend === 'right' ? plotX1 + 10 : plotX0 + item.col;
      const y = legend === 'right' ? plotY0 + 8 + item.row * 16 : plotY1 + 22 + xLabelH + 8 + item.row * 16;
      const g = el('g', { class: 'legend-item' });
      if (item.shown !== item.name) g.appendChild(el('title', {}, item.name));
      g.appendChild(el('path', { d: `M${px(x)} ${px(y)}H${px(x + LEGEND_SWATCH)}`, stroke: color(si), 'stroke-width': 2, ...(s.dash ? { 'stroke-dasharray': s.dash.trim() } : {}) }));
      g.appendChild(el('text', { x: px(x + LEGEND_SWATCH + 6), y: px(y), dy: '0.32em', 'text-anchor': 'start', fill: '#222222' }, item.shown));
      lg.appendChild(g);
    });
    svg.appendChild(lg);
  }
  if (options.title) svg.appendChild(el('text', { class: 'chart-title', x: px(width / 2), y: 6, dy: '0.71em', 'text-anchor': 'middle', 'font-size': TITLE_SIZE, 'font-weight': 600, fill: '#111111' }, options.title));
  // Plot numbers its clip paths with a process-wide counter; ids from the content instead keep
  // the output deterministic (the same chart twice in a page shares identical clip paths).
  const text = serializeXml(svg);
  const ids = [...new Set(text.match(/plot-clip-\d+/g) ?? [])];
  const hash = contentHash(text.replace(/plot-clip-\d+/g, 'clip'));
  let out = text;
  ids.forEach((id, k) => { out = out.split(id).join(`fimkit-clip-${hash}-${k}`); });
  return out;
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
