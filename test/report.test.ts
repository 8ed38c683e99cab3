import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CHROMIUM, chromium, pageConsole } from './helpers.js';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, copyFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { inflateSync } from 'node:zlib';
import { FimkitError } from '../src/core/errors.js';
import {
  lineChart, smallMultiples, linearScale, logScale, htmlReport, readReportData, SERIES_COLORS,
  type LineChartOptions, type ReportOptions,
} from '../src/report/index.js';
import { writeReport } from '../src/report/files.js';

// ---------------------------------------------------------------------------------------------
// A small XML well-formedness checker and tree builder (enough of XML 1.0 for SVG and XHTML-style
// HTML): balanced, properly nested tags; quoted, unique attributes; valid entity references;
// no raw '<' or '&' in text or attribute values; one root element.

interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlNode[];
}
type XmlNode = XmlElement | string;

const NAME = /[A-Za-z_:][-A-Za-z0-9_:.]*/y;

function decodeEntities(raw: string, where: number): string {
  if (raw.includes('<')) throw new Error(`raw '<' in text or attribute near offset ${where}`);
  return raw.replace(/&([^;]*);?/g, (m, body: string) => {
    if (!m.endsWith(';')) throw new Error(`unterminated entity reference near offset ${where}`);
    const named: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
    if (body in named) return named[body]!;
    const num = /^#(?:x([0-9A-Fa-f]+)|([0-9]+))$/.exec(body);
    if (!num) throw new Error(`unknown entity &${body}; near offset ${where}`);
    const code = num[1] !== undefined ? parseInt(num[1], 16) : parseInt(num[2]!, 10);
    if (code === 0 || (code < 0x20 && code !== 9 && code !== 10 && code !== 13) || code > 0x10ffff) throw new Error(`invalid character reference &${body};`);
    return String.fromCodePoint(code);
  });
}

function parseXml(src: string): XmlElement {
  let i = 0;
  const stack: XmlElement[] = [];
  let root: XmlElement | null = null;
  const invalidChar = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/;
  if (invalidChar.test(src)) throw new Error('document contains a character XML forbids');
  const skipSpace = () => {
    while (i < src.length && /\s/.test(src[i]!)) i++;
  };
  const readName = (): string => {
    NAME.lastIndex = i;
    const m = NAME.exec(src);
    if (!m) throw new Error(`expected a name at offset ${i}: ${JSON.stringify(src.slice(i, i + 20))}`);
    i += m[0].length;
    return m[0];
  };
  while (i < src.length) {
    if (src.startsWith('<!--', i)) {
      const end = src.indexOf('-->', i + 4);
      if (end < 0) throw new Error('unterminated comment');
      if (src.slice(i + 4, end).includes('--')) throw new Error("'--' inside a comment");
      i = end + 3;
    } else if (src.startsWith('<![CDATA[', i)) {
      if (stack.length === 0) throw new Error('CDATA outside the root element');
      const end = src.indexOf(']]>', i);
      if (end < 0) throw new Error('unterminated CDATA');
      stack[stack.length - 1]!.children.push(src.slice(i + 9, end));
      i = end + 3;
    } else if (src.startsWith('<?', i)) {
      const end = src.indexOf('?>', i);
      if (end < 0) throw new Error('unterminated processing instruction');
      i = end + 2;
    } else if (src.startsWith('<!DOCTYPE', i)) {
      if (root !== null || stack.length > 0) throw new Error('DOCTYPE after the root element started');
      const end = src.indexOf('>', i);
      i = end + 1;
    } else if (src.startsWith('</', i)) {
      i += 2;
      const name = readName();
      skipSpace();
      if (src[i] !== '>') throw new Error(`malformed end tag </${name} at offset ${i}`);
      i++;
      const open = stack.pop();
      if (!open) throw new Error(`end tag </${name}> without a start tag`);
      if (open.name !== name) throw new Error(`end tag </${name}> closes <${open.name}>`);
    } else if (src[i] === '<') {
      i++;
      const el: XmlElement = { name: readName(), attrs: {}, children: [] };
      const parent = stack[stack.length - 1];
      if (parent) parent.children.push(el);
      else if (root !== null) throw new Error(`second root element <${el.name}>`);
      else root = el;
      for (;;) {
        const before = i;
        skipSpace();
        if (src.startsWith('/>', i)) {
          i += 2;
          break;
        }
        if (src[i] === '>') {
          i++;
          stack.push(el);
          break;
        }
        if (i === before) throw new Error(`attributes of <${el.name}> must be separated by space (offset ${i})`);
        const attr = readName();
        skipSpace();
        if (src[i] !== '=') throw new Error(`attribute ${attr} of <${el.name}> has no value`);
        i++;
        skipSpace();
        const q = src[i];
        if (q !== '"' && q !== "'") throw new Error(`attribute ${attr} of <${el.name}> is not quoted`);
        const end = src.indexOf(q, i + 1);
        if (end < 0) throw new Error(`unterminated attribute ${attr}`);
        if (attr in el.attrs) throw new Error(`duplicate attribute ${attr} on <${el.name}>`);
        el.attrs[attr] = decodeEntities(src.slice(i + 1, end), i);
        i = end + 1;
      }
    } else {
      const next = src.indexOf('<', i);
      const text = src.slice(i, next < 0 ? src.length : next);
      if (text.includes(']]>')) throw new Error("']]>' in text");
      if (stack.length === 0) {
        if (text.trim() !== '') throw new Error(`text outside the root element: ${JSON.stringify(text.slice(0, 30))}`);
      } else stack[stack.length - 1]!.children.push(decodeEntities(text, i));
      i = next < 0 ? src.length : next;
    }
  }
  if (stack.length > 0) throw new Error(`unclosed <${stack[stack.length - 1]!.name}>`);
  if (root === null) throw new Error('no root element');
  return root;
}

function* walk(el: XmlElement): Generator<XmlElement> {
  yield el;
  for (const c of el.children) if (typeof c !== 'string') yield* walk(c);
}
const findAll = (el: XmlElement, pred: (e: XmlElement) => boolean) => [...walk(el)].filter(pred);
const byClass = (el: XmlElement, cls: string) => findAll(el, (e) => (e.attrs.class ?? '').split(' ').includes(cls));
const textOf = (el: XmlElement): string => el.children.map((c) => (typeof c === 'string' ? c : textOf(c))).join('');
const childElements = (el: XmlElement) => el.children.filter((c): c is XmlElement => typeof c !== 'string');

test('the XML checker itself rejects malformed documents', () => {
  for (const bad of ['<a><b></a></b>', '<a x="1" x="2"/>', '<a>1 < 2</a>', '<a>&foo;</a>', '<a>fish & chips</a>', '<a x=1/>', '<a/><b/>', '<a>', 'text<a/>', '<a>\u0001</a>']) {
    assert.throws(() => parseXml(bad), Error, bad);
  }
  const ok = parseXml('<a x="&lt;&amp;&#60;&#x3C;"><!-- c --><b>t&gt;</b><c/></a>');
  assert.equal(ok.attrs.x, '<&<<');
  assert.deepEqual(childElements(ok).map((e) => e.name), ['b', 'c']);
  assert.equal(textOf(ok), 't>');
});

// ---------------------------------------------------------------------------------------------
// Geometry read back from the SVG.

interface PathPoint {
  x: number;
  y: number;
}

/** Subpaths of a path's d (M/L/H/V absolute commands, as the chart writes them). */
function subpaths(d: string): PathPoint[][] {
  const out: PathPoint[][] = [];
  let cur: PathPoint[] = [];
  let last: PathPoint = { x: 0, y: 0 };
  for (const m of d.matchAll(/([MLHV])([-0-9.]+)(?:[ ,]([-0-9.]+))?/g)) {
    const [, cmd, a, b] = m;
    let p: PathPoint;
    if (cmd === 'H') p = { x: Number(a), y: last.y };
    else if (cmd === 'V') p = { x: last.x, y: Number(a) };
    else p = { x: Number(a), y: Number(b) };
    if (cmd === 'M') {
      if (cur.length > 0) out.push(cur);
      cur = [];
    }
    cur.push(p);
    last = p;
  }
  if (cur.length > 0) out.push(cur);
  return out;
}

function frameOf(svg: XmlElement) {
  const [frame] = byClass(svg, 'frame');
  assert.ok(frame, 'chart has a plot frame');
  const x0 = Number(frame.attrs.x);
  const y0 = Number(frame.attrs.y);
  return { x0, y0, x1: x0 + Number(frame.attrs.width), y1: y0 + Number(frame.attrs.height) };
}

function tickLabels(svg: XmlElement, axis: 'x' | 'y'): { label: string; pos: number }[] {
  // Plot writes tick marks and tick labels as two groups of the axis' class; the labels are
  // <text transform="translate(x,y)"> inside a group offset along the other axis only.
  const group = byClass(svg, `${axis}-ticks`).find((g) => childElements(g).some((e) => e.name === 'text'));
  assert.ok(group, `chart has ${axis} tick labels`);
  return childElements(group).map((t) => {
    const [, x, y] = /translate\(([-0-9.e]+),([-0-9.e]+)\)/.exec(t.attrs.transform!)!;
    return { label: textOf(t), pos: Number(axis === 'x' ? x : y) };
  });
}

function seriesPaths(svg: XmlElement): { d: string; circles: PathPoint[] }[] {
  // Plot draws each series' line and its isolated points as two marks: groups 'series' and
  // 'series-dots' with the same data-series index.
  const dots = byClass(svg, 'series-dots');
  return byClass(svg, 'series').map((g) => {
    const path = childElements(g).find((e) => e.name === 'path');
    const own = dots.find((d) => d.attrs['data-series'] === g.attrs['data-series']);
    const circles = (own ? childElements(own) : []).filter((e) => e.name === 'circle').map((c) => ({ x: Number(c.attrs.cx), y: Number(c.attrs.cy) }));
    return { d: path?.attrs.d ?? '', circles };
  });
}

const range = <T>(n: number, f: (i: number) => T): T[] => Array.from({ length: n }, (_, i) => f(i));

// ---------------------------------------------------------------------------------------------
// SVG charts

test('charts are well-formed SVG with an accessible title and description', () => {
  const variants: LineChartOptions[] = [
    { title: 'linear', xLabel: 'step', yLabel: 'loss', series: [{ name: 'a', x: [0, 1, 2], y: [3, 2, 1] }] },
    { title: 'log y', logY: true, series: [{ name: 'a', x: [1, 2, 3], y: [1e-8, 1e-4, 1] }, { name: 'b', x: [1, 2, 3], y: [2e-8, 0, 3] }], legend: 'bottom' },
    { title: 'log-log', logX: true, logY: true, width: 300, height: 200, legend: false, series: [{ name: 'a', x: [10, 1000], y: [5, 5e5] }] },
    { title: 'empty', series: [] },
    { title: 'all skipped', logY: true, series: [{ name: 'zeros', x: [1, 2], y: [0, -1] }] },
    { title: 'fixed ranges', xRange: [0, 10], yRange: [-1, 1], series: [{ name: 'a', x: [-5, 5, 15], y: [-3, 0.5, 3] }] },
  ];
  for (const opts of variants) {
    const svg = lineChart(opts);
    const root = parseXml(svg);
    assert.equal(root.name, 'svg', opts.title);
    assert.equal(root.attrs.xmlns, 'http://www.w3.org/2000/svg');
    assert.equal(root.attrs.role, 'img');
    assert.equal(root.attrs['aria-label'], opts.title);
    const first = childElements(root)[0]!;
    assert.equal(first.name, 'title', 'title is the first child (the accessible name)');
    assert.equal(textOf(first), opts.title);
    assert.equal(childElements(root)[1]!.name, 'desc');
    assert.equal(root.attrs.viewBox, `0 0 ${opts.width ?? 480} ${opts.height ?? 320}`);
    assert.doesNotMatch(svg, /NaN|Infinity|undefined/, `${opts.title}: no garbage numbers`);
    assert.equal(byClass(root, 'series').length, opts.series.length);
    assert.equal(byClass(root, 'legend-item').length, opts.legend === false || opts.series.length === 0 ? 0 : opts.series.length);
  }
});

test('log axis: decade ticks for a known range, equally spaced, and data placed on them', () => {
  // Data from 3e-9 to 2e-2: the axis runs from 1e-9 to 1e-1, one labelled tick per decade.
  const ys = [3e-9, 1e-7, 1e-5, 1e-3, 2e-2];
  const svg = parseXml(lineChart({ title: 't', logY: true, height: 400, series: [{ name: 's', x: [0, 1, 2, 3, 4], y: ys }] }));
  const labels = tickLabels(svg, 'y');
  assert.deepEqual(labels.map((l) => l.label).sort((a, b) => Number(a) - Number(b)), ['1e-9', '1e-8', '1e-7', '1e-6', '1e-5', '1e-4', '1e-3', '0.01', '0.1']);
  // Screen y decreases as the value grows, by the same amount per decade.
  const byValue = [...labels].sort((a, b) => Number(a.label) - Number(b.label));
  const gaps = byValue.slice(1).map((l, i) => byValue[i]!.pos - l.pos);
  for (const g of gaps) assert.ok(Math.abs(g - gaps[0]!) < 0.02 && g > 0, `decade spacing ${gaps.join(', ')}`);
  const frame = frameOf(svg);
  assert.ok(Math.abs(byValue[0]!.pos - frame.y1) < 0.01 && Math.abs(byValue.at(-1)!.pos - frame.y0) < 0.01, 'domain is exactly 1e-9 .. 1e-1');
  // The vertices: 1e-7, 1e-5, 1e-3 sit on their tick labels; 3e-9 sits log10(3) of a decade above 1e-9.
  const [series] = seriesPaths(svg);
  const pts = subpaths(series!.d).flat();
  assert.equal(pts.length, 5);
  const at = (label: string) => labels.find((l) => l.label === label)!.pos;
  assert.ok(Math.abs(pts[1]!.y - at('1e-7')) < 0.01);
  assert.ok(Math.abs(pts[2]!.y - at('1e-5')) < 0.01);
  assert.ok(Math.abs(pts[3]!.y - at('1e-3')) < 0.01);
  assert.ok(Math.abs(pts[0]!.y - (at('1e-9') - Math.log10(3) * gaps[0]!)) < 0.02);
  assert.ok(Math.abs(pts[4]!.y - (at('0.01') - Math.log10(2) * gaps[0]!)) < 0.02);
});

test('log axis: exact powers of ten do not add a decade; one value gets one decade; many decades are thinned evenly', () => {
  const exact = logScale(1e-5, 1e-1, 20);
  assert.equal(exact.min, 1e-5);
  assert.equal(exact.max, 1e-1);
  const single = logScale(4e-3, 4e-3, 20);
  assert.equal(single.min, 1e-3);
  assert.equal(single.max, 1e-2);
  for (const [lo, hi] of [[1e-300, 1], [1e-30, 1e5], [7e-13, 3e12]] as const) {
    const s = logScale(lo, hi, 8);
    const major = s.ticks.filter((t) => t.label !== '');
    assert.ok(major.length >= 2 && major.length <= 8, `${major.length} labels for ${lo}..${hi}`);
    const exps = major.map((t) => Math.round(Math.log10(t.value)));
    const stride = exps[1]! - exps[0]!;
    assert.ok(exps.every((e, i) => i === 0 || e - exps[i - 1]! === stride), `labelled decades evenly spaced: ${exps}`);
    assert.ok(exps.every((e) => e % stride === 0), 'labelled exponents are multiples of the stride');
    for (const t of major) assert.equal(t.value, Number(`1e${Math.round(Math.log10(t.value))}`), 'ticks are exact decades');
    // Every decade inside the domain still gets a tick mark.
    const all = s.ticks.map((t) => t.value);
    for (let k = Math.round(Math.log10(s.min)); k <= Math.round(Math.log10(s.max)); k++) assert.ok(all.includes(Number(`1e${k}`)), `tick at 1e${k}`);
  }
});

test('log axis: a fixed range within two decades labels m × 10^k values inside it, thinned to fit', () => {
  for (const [lo, hi] of [[1.5, 95], [2, 8], [2e-5, 3e-4], [0.3, 0.5]] as const) {
    const s = logScale(0, 0, 6, [lo, hi]);
    assert.equal(s.min, lo);
    assert.equal(s.max, hi);
    const major = s.ticks.filter((t) => t.label !== '');
    assert.ok(major.length >= 2 && major.length <= 6, `${major.length} labels in [${lo}, ${hi}]`);
    for (const t of s.ticks) assert.ok(t.value >= lo * (1 - 1e-12) && t.value <= hi * (1 + 1e-12), `${t.value} inside [${lo}, ${hi}]`);
    for (const t of major) assert.ok(Math.abs(Number(t.label) - t.value) <= 1e-12 * t.value, `label ${t.label} is ${t.value}`);
  }
});

test('extreme magnitudes never put NaN or Infinity into the SVG', () => {
  const cases: LineChartOptions[] = [
    { title: 'denormal to max', logY: true, series: [{ name: 'a', x: [1, 2, 3], y: [5e-324, 1, 1.7e308] }] },
    { title: 'linear overflow', series: [{ name: 'a', x: [-1.7e308, 0, 1.7e308], y: [-1.7e308, 0, 1.7e308] }] },
    { title: 'flat', series: [{ name: 'a', x: [3, 3, 3], y: [7, 7, 7] }] },
  ];
  for (const c of cases) {
    const svg = lineChart(c);
    parseXml(svg);
    assert.doesNotMatch(svg, /NaN|Infinity|e\+/, c.title);
  }
  // 1.7e308 on a [0, 1] axis has no float64 pixel position: skipped and said so, the rest drawn.
  const off = parseXml(lineChart({ title: 'off-scale', yRange: [0, 1], series: [{ name: 'a', x: [0, 1, 2, 3], y: [0.2, 0.4, 1.7e308, 0.6] }] }));
  assert.equal(off.attrs['data-skipped'], '1');
  assert.match(textOf(childElements(off)[1]!), /1 too far off-scale/);
  assert.deepEqual(subpaths(seriesPaths(off)[0]!.d).map((p) => p.length), [2]);
  assert.equal(seriesPaths(off)[0]!.circles.length, 1);
});

test('linear axis: nice 1/2/5 steps that cover the data, labels that read back as the tick values', () => {
  let seed = 12345;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const cases: [number, number][] = [[0.13, 0.87], [-3.2, 41], [1e-7, 3e-7], [1234567, 7654321], [-5, -5], [0, 0]];
  for (let i = 0; i < 40; i++) {
    const a = (rand() - 0.5) * 10 ** Math.floor(rand() * 12 - 6);
    const b = a + rand() * 10 ** Math.floor(rand() * 12 - 6);
    cases.push([a, b]);
  }
  for (const [lo, hi] of cases) {
    const maxTicks = 6;
    const s = linearScale(lo, hi, maxTicks);
    const v = s.ticks.map((t) => t.value);
    assert.ok(s.min <= lo && s.max >= hi, `[${s.min}, ${s.max}] covers [${lo}, ${hi}]`);
    assert.ok(v.length >= 2 && v.length <= maxTicks + 2, `${v.length} ticks for [${lo}, ${hi}]`);
    // Differences of tick values carry rounding of order eps * |value|; allow for it.
    const step = v[1]! - v[0]!;
    const roundoff = 8 * Number.EPSILON * Math.max(Math.abs(s.min), Math.abs(s.max));
    const mag = 10 ** Math.floor(Math.log10(step) + 1e-6);
    assert.ok([1, 2, 5, 10].some((m) => Math.abs(step - m * mag) <= roundoff + 1e-9 * step), `step ${step} for [${lo}, ${hi}]`);
    for (let j = 1; j < v.length; j++) assert.ok(Math.abs(v[j]! - v[j - 1]! - step) <= 2 * roundoff + 1e-9 * step, 'equal steps');
    assert.equal(v[0], s.min);
    assert.equal(v.at(-1), s.max);
    for (const t of s.ticks) {
      assert.ok(Math.abs(Number(t.label) - t.value) <= step * 1e-6, `label ${t.label} reads back as ${t.value}`);
    }
    assert.equal(new Set(s.ticks.map((t) => t.label)).size, s.ticks.length, `distinct labels ${s.ticks.map((t) => t.label)}`);
  }
});

test('undrawable points are skipped and counted, and the line breaks there', () => {
  // index:      0  1  2    3     4   5  6  7         8  9   10 11
  const y = [1, 2, NaN, null, -1, 0, 3, Infinity, 4, 5, 6, 7];
  const x = range(y.length, (i) => i);
  // On a log y axis NaN, null, -1, 0 and Infinity are undrawable: runs [0,1], [6], [8..11].
  const logSvg = lineChart({ title: 'skip', logY: true, series: [{ name: 's', x, y }] });
  const log = parseXml(logSvg);
  assert.equal(log.attrs['data-skipped'], '5');
  const desc = textOf(childElements(log)[1]!);
  assert.match(desc, /Points skipped: 5 \(/);
  assert.match(desc, /s \(7 of 12 points drawn\)/);
  const [s] = seriesPaths(log);
  assert.deepEqual(subpaths(s!.d).map((p) => p.length), [2, 4], 'two line pieces, no segment across a gap');
  assert.equal(s!.circles.length, 1, 'the isolated point at index 6 is a dot');
  // On a linear axis only NaN, null and Infinity are undrawable: runs [0,1], [3..6], [8..11].
  const lin = parseXml(lineChart({ title: 'skip', series: [{ name: 's', x, y }] }));
  assert.equal(lin.attrs['data-skipped'], '3');
  assert.deepEqual(subpaths(seriesPaths(lin)[0]!.d).map((p) => p.length), [2, 3, 4]);
  assert.equal(seriesPaths(lin)[0]!.circles.length, 0);
  // A non-finite x is skipped too; counts add across series.
  const two = parseXml(lineChart({ title: 'two', logX: true, series: [{ name: 'a', x: [1, NaN, 3], y: [1, 2, 3] }, { name: 'b', x: [0, 2, 3], y: [1, 2, 3] }] }));
  assert.equal(two.attrs['data-skipped'], '2');
  assert.match(textOf(childElements(two)[1]!), /a: 1; b: 1/);
  assert.doesNotMatch(logSvg, /NaN|Infinity/);
});

test('lines leaving a fixed range are clipped at the plot frame, not drawn outside it', () => {
  // Plot draws the whole polyline and clips it to the frame with a clip path (the browser cuts
  // it at the edges): the line's group must use a clip path that is exactly the frame, and the
  // vertices must be the data's positions on the fixed axes, outside ones included.
  const xs = [-1, 1, 2, 3, 3.5, 4.5];
  const ys = [0.5, 5, 0.5, -2, 0.5, 0.5];
  const svg = parseXml(lineChart({ title: 'clip', yRange: [0, 1], xRange: [0, 4], series: [{ name: 's', x: xs, y: ys }] }));
  const f = frameOf(svg);
  const series = byClass(svg, 'series')[0]!;
  const clipped = findAll(svg, (e) => e.name === 'g' && 'clip-path' in e.attrs && findAll(e, (c) => c === series).length > 0)[0];
  assert.ok(clipped, 'the series is inside a clipped group');
  const id = /^url\(#([^)]+)\)$/.exec(clipped.attrs['clip-path']!)![1];
  const clip = findAll(svg, (e) => e.name === 'clipPath' && e.attrs.id === id)[0]!;
  const rect = childElements(clip)[0]!;
  assert.deepEqual([Number(rect.attrs.x), Number(rect.attrs.y), Number(rect.attrs.x) + Number(rect.attrs.width), Number(rect.attrs.y) + Number(rect.attrs.height)], [f.x0, f.y0, f.x1, f.y1], 'the clip rectangle is the frame');
  const pts = subpaths(seriesPaths(svg)[0]!.d).flat();
  assert.equal(pts.length, xs.length);
  const tx = (v: number) => f.x0 + (v / 4) * (f.x1 - f.x0);
  const ty = (v: number) => f.y1 - v * (f.y1 - f.y0);
  pts.forEach((p, i) => {
    assert.ok(Math.abs(p.x - tx(xs[i]!)) < 0.01 && Math.abs(p.y - ty(ys[i]!)) < 0.01, `vertex ${i} at (${p.x}, ${p.y})`);
  });
  // Unclipped groups hold no data: every line and dot mark is clipped.
  for (const g of [...byClass(svg, 'series'), ...byClass(svg, 'series-dots')]) {
    assert.ok(findAll(svg, (e) => 'clip-path' in e.attrs && findAll(e, (c) => c === g).length > 0).length === 1);
  }
});

test('all text is escaped: names with markup, ampersands, quotes and control characters', () => {
  const evil = '<script>alert("x")</script> & \'q\' \u0001 λ';
  const svgText = lineChart({ title: `A < B & "C"`, xLabel: 'x <i>', yLabel: '&amp;', series: [{ name: evil, x: [1, 2], y: [1, 2] }, { name: 'b', x: [1], y: [1], color: '"red" onload="x"' }] });
  const svg = parseXml(svgText);
  assert.equal(textOf(childElements(svg)[0]!), 'A < B & "C"');
  assert.equal(findAll(svg, (e) => e.name === 'script').length, 0);
  assert.equal(findAll(svg, (e) => 'onload' in e.attrs).length, 0, 'a colour cannot inject an attribute');
  const seriesTitle = childElements(byClass(svg, 'series')[0]!)[0]!;
  assert.equal(textOf(seriesTitle), evil.replace('\u0001', '\uFFFD'));
  assert.equal(textOf(byClass(svg, 'x-label')[0]!), 'x <i>');
  assert.equal(textOf(byClass(svg, 'y-label')[0]!), '&amp;');
});

test('charts are deterministic: the same input gives the same bytes', () => {
  const make = () =>
    lineChart({ title: 'det', logY: true, series: [{ name: 'a', x: range(50, (i) => i), y: range(50, (i) => Math.exp(-i / 3)) }, { name: 'b', x: [1, 2], y: [0.1, 0.2], dash: '4 2' }] });
  const a = make();
  assert.equal(make(), a);
  const multiples = () => smallMultiples([a, make(), a], 2, { title: 'grid' });
  assert.equal(multiples(), multiples());
  assert.notEqual(lineChart({ title: 'det', logY: true, series: [{ name: 'a', x: [1, 2], y: [0.1, 0.3] }] }), lineChart({ title: 'det', logY: true, series: [{ name: 'a', x: [1, 2], y: [0.1, 0.2] }] }));
});

test('smallMultiples lays charts in a grid of the requested columns', () => {
  const charts = range(5, (l) => lineChart({ title: `layer ${l + 1}`, width: 200 + 10 * (l % 2), height: 150, series: [{ name: 'v', x: [1, 2, 3], y: [l, l + 1, l + 3] }] }));
  const gap = 6;
  const grid = parseXml(smallMultiples(charts, 2, { title: 'per layer', gap }));
  assert.equal(grid.attrs.class, 'fimkit-multiples');
  const cells = childElements(grid).filter((e) => e.name === 'g');
  assert.equal(cells.length, 5);
  assert.equal(byClass(grid, 'fimkit-chart').length, 5);
  const offsets = cells.map((c) => /translate\(([-0-9.]+) ([-0-9.]+)\)/.exec(c.attrs.transform!)!.slice(1).map(Number));
  // Columns are as wide as their widest chart (200 in column 0, 210 in column 1); rows 150 high; a 28 px title band.
  assert.deepEqual(offsets, [[0, 28], [200 + gap, 28], [0, 28 + 150 + gap], [200 + gap, 28 + 150 + gap], [0, 28 + 2 * (150 + gap)]]);
  assert.equal(Number(grid.attrs.width), 200 + 210 + gap);
  assert.equal(Number(grid.attrs.height), 28 + 3 * 150 + 2 * gap);
  assert.throws(() => smallMultiples(charts, 0), (e: unknown) => e instanceof FimkitError && e.code === 'INVALID_ARGUMENT');
  assert.throws(() => smallMultiples(['<div/>'], 1), (e: unknown) => e instanceof FimkitError && /not an SVG/.test(e.message));
});

test('bad chart input is refused with a message naming the problem', () => {
  const code = (c: string, re: RegExp) => (e: unknown) => e instanceof FimkitError && e.code === c && re.test(e.message);
  assert.throws(() => lineChart({ title: 't', series: [{ name: 'layer 3', x: [1, 2, 3], y: [1, 2] }] }), code('SHAPE', /layer 3.*x has 3 values but y has 2/));
  assert.throws(() => lineChart({ title: 't', logY: true, yRange: [0, 1], series: [] }), code('INVALID_ARGUMENT', /positive on a log y axis/));
  assert.throws(() => lineChart({ title: 't', yRange: [1, 1], series: [] }), code('INVALID_ARGUMENT', /min < max/));
  assert.throws(() => lineChart({ title: 't', width: 30, series: [] }), code('INVALID_ARGUMENT', /no room for the plot/));
  assert.throws(() => lineChart({ title: 't', width: -1, series: [] }), code('INVALID_ARGUMENT', /width and height/));
  assert.throws(() => lineChart({ title: 't', series: [{ name: 'a', x: [1], y: [1], dash: '4 2"/><x' }] }), code('INVALID_ARGUMENT', /dash/));
});

// ---------------------------------------------------------------------------------------------
// HTML report

function sampleReport(): { options: ReportOptions; chartCount: number } {
  const n = range(40, (i) => 10 * (i + 1));
  const layers = range(4, (l) =>
    lineChart({
      title: `Layer ${l + 1}`, xLabel: 'samples', yLabel: 'variance', logX: true, logY: true, width: 270, height: 230, legend: 'bottom',
      series: [
        { name: 'closed form', x: n, y: n.map((k) => 10 ** -(l + 1) / k) },
        { name: 'Monte Carlo <n=1e4>', x: n, y: n.map((k, i) => (i % 9 === 4 ? NaN : (10 ** -(l + 1) / k) * (1 + 0.15 * Math.sin(i)))), dash: '5 3' },
      ],
    }),
  );
  const loss = lineChart({ title: 'Loss', xLabel: 'epoch', yLabel: 'loss', series: [{ name: 'train', x: [0, 1, 2, 3, 4], y: [2.3, 1.0, 0.7, null, 0.5] }, { name: 'test', x: [0, 1, 2, 3, 4], y: [2.3, 1.1, 0.9, 0.85, 0.84] }] });
  const spectrum = lineChart({ title: 'Spectrum', xLabel: 'index', yLabel: 'eigenvalue', logY: true, width: 600, series: [{ name: 'λ', x: range(120, (i) => i), y: range(120, (i) => Math.exp(-0.5 * i)) }] });
  const options: ReportOptions = {
    title: 'Variance of Fisher estimators <demo> & checks',
    subtitle: 'Per-layer closed-form variance against Monte Carlo',
    generatedAt: '2025-01-01T00:00:00Z',
    sections: [
      { heading: 'Per-layer variance', paragraphs: ['Each column is one layer; both axes are logarithmic.'], charts: [smallMultiples(layers, 4, { title: 'Variance by layer' })] },
      { heading: 'Training & spectrum', charts: [loss, { svg: spectrum, caption: 'Eigenvalues decay geometrically.' }], tables: [{ caption: 'Summary', columns: ['layer', 'V1', 'note'], rows: [[1, 1.23456e-5, 'ok'], [2, null, '<none>']] }] },
      {
        heading: 'Findings',
        findings: [
          { claim: 'V2 vanishes in the last layer', status: 'agrees', detail: 'max |V2| = 0 exactly' },
          { claim: 'Î2 has lower variance than Î1', status: 'differs', detail: 'not for relu networks' },
          { claim: 'Scaling with width', status: 'not-checked', detail: 'left for later' },
        ],
      },
    ],
    data: { layers: 4, values: [1e-300, 0.5, null], note: '</script><script>alert(1)</script>', nested: { unicode: 'λ\u2028' } },
  };
  return { options, chartCount: 6 };
}

test('the HTML report is one self-contained, well-formed document with the data embedded', () => {
  const { options, chartCount } = sampleReport();
  const html = htmlReport(options);
  assert.equal(htmlReport(options), html, 'deterministic');
  assert.ok(html.startsWith('<!DOCTYPE html>\n'));
  const doc = parseXml(html); // written so that it is also well-formed XML
  assert.equal(doc.name, 'html');
  assert.equal(textOf(findAll(doc, (e) => e.name === 'title')[0]!), options.title);
  assert.equal(textOf(findAll(doc, (e) => e.name === 'h1')[0]!), options.title);
  assert.equal(findAll(doc, (e) => e.name === 'section').length, 3);
  assert.equal(byClass(doc, 'fimkit-chart').length, chartCount);
  assert.equal(findAll(doc, (e) => e.name === 'figcaption').length, 1);
  // Only the data block is a script, and browsers do not run application/json.
  const scripts = findAll(doc, (e) => e.name === 'script');
  assert.deepEqual(scripts.map((s) => [s.attrs.type, s.attrs.id]), [['application/json', 'report-data']]);
  assert.doesNotMatch(html, /<\/script><script>/, 'a string in the data cannot close the data block');
  assert.deepEqual(readReportData(html), options.data);
  assert.deepEqual(JSON.parse(textOf(scripts[0]!)), options.data);
  // No external resources: no src/href to other documents, no stylesheets or imports, no url().
  for (const el of walk(doc)) {
    assert.ok(!('src' in el.attrs), `<${el.name} src>`);
    if ('href' in el.attrs) assert.match(el.attrs.href!, /^#section-\d+$/, 'links only within the page');
    assert.notEqual(el.name, 'link');
    assert.notEqual(el.name, 'img');
  }
  // url(#…) references a clip path inside the page (Plot clips lines to the frame that way).
  assert.doesNotMatch(html, /@import|url\((?!#fimkit-clip-)|https?:\/\/(?!www\.w3\.org\/2000\/svg")/);
  // Tables: numbers right-aligned and formatted, null as a dash, text escaped.
  const cells = findAll(doc, (e) => e.name === 'td');
  assert.deepEqual(cells.map((c) => textOf(c)), ['1', '1.235e-5', 'ok', '2', '—', '<none>']);
  assert.deepEqual(cells.map((c) => c.attrs.class ?? ''), ['num', 'num', '', 'num', 'missing', '']);
  // Findings carry their status as text, not colour alone.
  assert.deepEqual(byClass(doc, 'finding').map((f) => [f.attrs.class, textOf(byClass(f, 'status')[0]!)]), [
    ['finding agrees', 'agrees'], ['finding differs', 'differs'], ['finding not-checked', 'not checked'],
  ]);
  // Without generatedAt nothing time-dependent is written.
  const { generatedAt: _omit, ...rest } = options;
  assert.doesNotMatch(htmlReport(rest), /Generated/);
});

test('bad report input is refused', () => {
  const is = (c: string, re: RegExp) => (e: unknown) => e instanceof FimkitError && e.code === c && re.test(e.message);
  const table = { caption: 'T', columns: ['a', 'b'], rows: [[1, 2], [3]] };
  assert.throws(() => htmlReport({ title: 'r', sections: [{ heading: 'h', tables: [table] }] }), is('SHAPE', /row 1 has 1 cells, expected 2/));
  assert.throws(() => htmlReport({ title: 'r', sections: [{ heading: 'h', findings: [{ claim: 'c', status: 'maybe' as 'agrees', detail: '' }] }] }), is('INVALID_ARGUMENT', /status must be/));
  assert.throws(() => htmlReport({ title: 'r', sections: [{ heading: 'h', charts: ['<img src=x>'] }] }), is('INVALID_ARGUMENT', /SVG string/));
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  assert.throws(() => htmlReport({ title: 'r', sections: [], data: cyclic }), is('INVALID_ARGUMENT', /not JSON-serialisable/));
  assert.throws(() => readReportData('<html></html>'), is('CORRUPT_FILE', /report-data/));
});

test('writeReport writes report.html and report.json atomically (no temporary files left)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fimkit-report-'));
  try {
    const { options } = sampleReport();
    const html = htmlReport(options);
    const out = join(dir, 'nested', 'study');
    const paths = writeReport(out, html, options.data);
    assert.equal(readFileSync(paths.html, 'utf8'), html);
    assert.deepEqual(JSON.parse(readFileSync(paths.json, 'utf8')), options.data);
    assert.deepEqual(readdirSync(out).sort(), ['report.html', 'report.json']);
    writeReport(out, html, '{"already": "json"}');
    assert.deepEqual(JSON.parse(readFileSync(paths.json, 'utf8')), { already: 'json' });
    assert.throws(() => writeReport(out, html, '{not json'), (e: unknown) => e instanceof FimkitError && /not valid JSON/.test(e.message));
    assert.throws(() => writeReport(out, 'just text', {}), (e: unknown) => e instanceof FimkitError && /HTML document/.test(e.message));
    assert.deepEqual(readdirSync(out).sort(), ['report.html', 'report.json']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// ---------------------------------------------------------------------------------------------
// Headless Chromium: the report loads without errors, the charts are in the DOM, and they paint.

/** Decodes an 8-bit RGB/RGBA non-interlaced PNG (what Chromium's --screenshot writes) into RGBA. */
function decodePng(buf: Buffer): { width: number; height: number; rgba: Uint8Array } {
  assert.deepEqual([...buf.subarray(0, 8)], [137, 80, 78, 71, 13, 10, 26, 10], 'PNG signature');
  let off = 8;
  let width = 0;
  let height = 0;
  let colorType = 0;
  const idat: Buffer[] = [];
  while (off < buf.length) {
    const len = buf.readUInt32BE(off);
    const type = buf.toString('latin1', off + 4, off + 8);
    const data = buf.subarray(off + 8, off + 8 + len);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      assert.equal(data[8], 8, 'bit depth 8');
      colorType = data[9]!;
      assert.ok(colorType === 2 || colorType === 6, `colour type ${colorType}`);
      assert.equal(data[12], 0, 'not interlaced');
    } else if (type === 'IDAT') idat.push(data);
    else if (type === 'IEND') break;
    off += 12 + len;
  }
  const channels = colorType === 6 ? 4 : 3;
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  const pix = new Uint8Array(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]!;
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let x = 0; x < stride; x++) {
      const a = x >= channels ? pix[y * stride + x - channels]! : 0;
      const b = y > 0 ? pix[(y - 1) * stride + x]! : 0;
      const c = x >= channels && y > 0 ? pix[(y - 1) * stride + x - channels]! : 0;
      let pred = 0;
      if (filter === 1) pred = a;
      else if (filter === 2) pred = b;
      else if (filter === 3) pred = (a + b) >> 1;
      else if (filter === 4) {
        const p = a + b - c;
        const pa = Math.abs(p - a);
        const pb = Math.abs(p - b);
        const pc = Math.abs(p - c);
        pred = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      } else assert.equal(filter, 0, `PNG filter ${filter}`);
      pix[y * stride + x] = (line[x]! + pred) & 255;
    }
  }
  const rgba = new Uint8Array(width * height * 4);
  for (let p = 0; p < width * height; p++) {
    rgba[4 * p] = pix[p * channels]!;
    rgba[4 * p + 1] = pix[p * channels + 1]!;
    rgba[4 * p + 2] = pix[p * channels + 2]!;
    rgba[4 * p + 3] = channels === 4 ? pix[p * channels + 3]! : 255;
  }
  return { width, height, rgba };
}

function countColor(img: { rgba: Uint8Array }, hex: string, tolerance: number): number {
  const r = parseInt(hex.slice(1, 3), 16);
  const g = parseInt(hex.slice(3, 5), 16);
  const b = parseInt(hex.slice(5, 7), 16);
  let n = 0;
  for (let i = 0; i < img.rgba.length; i += 4) {
    if (Math.abs(img.rgba[i]! - r) <= tolerance && Math.abs(img.rgba[i + 1]! - g) <= tolerance && Math.abs(img.rgba[i + 2]! - b) <= tolerance) n++;
  }
  return n;
}

test('headless Chromium loads the report without errors, finds every chart, and paints them', async (t) => {
  if (!existsSync(CHROMIUM)) {
    t.skip(`Chromium not found at ${CHROMIUM} (apt-get install chromium, or set FIMKIT_CHROMIUM); .ci/run installs it`);
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'fimkit-chromium-'));
  try {
    const { options, chartCount } = sampleReport();
    const paths = writeReport(join(dir, 'out'), htmlReport(options), options.data);
    const url = pathToFileURL(paths.html).href;
    // A control page that does throw, to show that the console capture would see an error.
    const control = join(dir, 'control.html');
    writeFileSync(control, '<!DOCTYPE html><html><body><p>control</p><script>throw new Error("control page error")</script></body></html>');
    const controlUrl = pathToFileURL(control).href;
    const png = join(dir, 'report.png');
    const [dom, shot, ctl] = await Promise.all([
      chromium(['--dump-dom', url], join(dir, 'profile-dom')),
      chromium([`--screenshot=${png}`, '--window-size=1200,2000', url], join(dir, 'profile-shot')),
      chromium(['--dump-dom', controlUrl], join(dir, 'profile-control')),
    ]);

    assert.ok(pageConsole(ctl.stderr, controlUrl).some((l) => l.includes('Uncaught Error: control page error')), 'console capture sees a page error');
    for (const run of [dom, shot]) {
      const messages = pageConsole(run.stderr, url);
      assert.deepEqual(messages.filter((l) => /Uncaught|Error/i.test(l)), [], 'no errors from the report page');
      assert.deepEqual(messages, [], 'the report page logs nothing at all (it has no scripts)');
    }

    // The DOM as Chromium parsed it: every chart, the title, the sections, the data block.
    const html = dom.stdout;
    assert.equal((html.match(/<svg\b[^>]*class="fimkit-chart[ "]/g) ?? []).length, chartCount); // Plot adds its own class after ours
    assert.equal((html.match(/<svg\b[^>]*class="fimkit-multiples"/g) ?? []).length, 1);
    assert.equal((html.match(/<section\b/g) ?? []).length, 3);
    assert.ok(html.includes(`<title>Variance of Fisher estimators &lt;demo&gt; &amp; checks</title>`), 'page title');
    assert.ok(html.includes('<h1>Variance of Fisher estimators &lt;demo&gt; &amp; checks</h1>'));
    assert.deepEqual(readReportData(html), options.data);

    // The screenshot: a 1200x2000 PNG in which the series colours were actually painted.
    const bytes = readFileSync(png);
    assert.ok(bytes.length > 10_000, `screenshot is ${bytes.length} bytes`);
    const img = decodePng(bytes);
    assert.deepEqual([img.width, img.height], [1200, 2000]);
    for (const color of SERIES_COLORS.slice(0, 2)) {
      const n = countColor(img, color, 24);
      assert.ok(n > 200, `${color}: ${n} pixels painted`);
    }
    // Colours the report never uses are absent (the count above is not just noise).
    assert.ok(countColor(img, '#ff00ff', 24) === 0);
    if (process.env.FIMKIT_REPORT_SCREENSHOT) copyFileSync(png, process.env.FIMKIT_REPORT_SCREENSHOT);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
