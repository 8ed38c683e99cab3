/**
 * A study report as one self-contained HTML file: inline CSS, inline SVG charts, no scripts to
 * run, no external resources (it reads the same offline, printed, or attached to an e-mail).
 * The report's data travels inside it as a `<script type="application/json" id="report-data">`
 * block, which browsers do not execute, for machines to read back.
 *
 * Pure string building, no DOM and no Node built-ins: usable in a browser too.
 */
import { fail } from '../core/errors.js';
import { escapeXml } from './svg.js';

export type FindingStatus = 'agrees' | 'differs' | 'not-checked';

export interface ReportFinding {
  /** The claim under test, e.g. a statement from a paper. */
  claim: string;
  status: FindingStatus;
  /** What was measured and how it compares. */
  detail: string;
}

export type TableCell = string | number | null;

export interface ReportTable {
  caption: string;
  columns: readonly string[];
  rows: readonly (readonly TableCell[])[];
}

/** An SVG string, or one with a caption shown under it. */
export type ReportChart = string | { svg: string; caption?: string };

export interface ReportSection {
  heading: string;
  /** Plain text (escaped), one paragraph each. */
  paragraphs?: readonly string[];
  /** SVG strings (e.g. from lineChart / smallMultiples), inserted as they are. */
  charts?: readonly ReportChart[];
  tables?: readonly ReportTable[];
  findings?: readonly ReportFinding[];
}

export interface ReportOptions {
  title: string;
  subtitle?: string;
  sections: readonly ReportSection[];
  /** Any JSON-serialisable value, embedded for machines (NaN and ±Infinity become null, as in JSON). */
  data?: unknown;
  /** Shown in the header when given; left out otherwise so the output stays reproducible. */
  generatedAt?: string | Date;
}

const STATUS_TEXT: Record<FindingStatus, string> = {
  agrees: 'agrees',
  differs: 'differs',
  'not-checked': 'not checked',
};

const CSS = `
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; background: #f6f6f4; color: #1d1d1f; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; }
header, main { max-width: 1100px; margin: 0 auto; padding: 0 24px; }
header { padding-top: 28px; padding-bottom: 8px; }
h1 { font-size: 26px; line-height: 1.25; margin: 0 0 4px; }
.subtitle { margin: 0; color: #555; font-size: 16px; }
.generated { margin: 6px 0 0; color: #777; font-size: 13px; }
nav.toc { margin: 14px 0 0; font-size: 14px; }
nav.toc ol { margin: 4px 0 0; padding-left: 22px; }
nav.toc a { color: #0b5394; }
section { background: #fff; border: 1px solid #e2e2de; border-radius: 6px; margin: 18px 0; padding: 4px 22px 18px; }
h2 { font-size: 20px; margin: 16px 0 8px; }
p { margin: 8px 0; max-width: 80ch; }
figure { margin: 14px 0; overflow-x: auto; }
figure svg { max-width: 100%; height: auto; display: block; }
figcaption { color: #555; font-size: 13px; margin-top: 4px; }
table { border-collapse: collapse; margin: 14px 0; font-size: 14px; }
caption { text-align: left; font-weight: 600; padding-bottom: 4px; }
th, td { border-bottom: 1px solid #e2e2de; padding: 4px 12px 4px 0; text-align: left; vertical-align: top; }
th { border-bottom: 2px solid #bbb; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.missing { color: #999; text-align: center; }
ul.findings { list-style: none; padding: 0; margin: 12px 0; }
li.finding { border-left: 4px solid #999; padding: 6px 12px; margin: 8px 0; background: #fafafa; }
li.finding.agrees { border-left-color: #1b7a3d; }
li.finding.differs { border-left-color: #b3261e; }
li.finding.not-checked { border-left-color: #8a8a8a; }
.status { display: inline-block; min-width: 92px; font-size: 12px; font-weight: 700; text-transform: uppercase; letter-spacing: .03em; }
.agrees .status { color: #1b7a3d; }
.differs .status { color: #b3261e; }
.not-checked .status { color: #666; }
.claim { font-weight: 600; }
.detail { margin: 4px 0 0; color: #333; }
@media print { body { background: #fff; } section { border: none; padding: 0; } nav.toc { display: none; } }
`.trim();

/** Table cell text: finite numbers to 4 significant digits (exponent form when tiny or huge), null as a dash. */
export function formatCell(value: TableCell): string {
  if (value === null) return '—';
  if (typeof value === 'string') return value;
  if (Number.isNaN(value)) return 'NaN';
  if (!Number.isFinite(value)) return value > 0 ? '∞' : '−∞';
  if (Number.isInteger(value) && Math.abs(value) < 1e15) return String(value);
  const a = Math.abs(value);
  if (a !== 0 && (a < 1e-3 || a >= 1e6)) return value.toExponential(3).replace('e+', 'e');
  return String(Number(value.toPrecision(4)));
}

/** JSON for a <script> element: `<`, `>` and `&` escaped so no "</script>" or "<!--" can end or confuse it. */
export function embedJson(data: unknown): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(data ?? null);
  } catch (e) {
    fail('INVALID_ARGUMENT', `report data is not JSON-serialisable: ${(e as Error).message}`);
  }
  if (text === undefined) fail('INVALID_ARGUMENT', 'report data is not JSON-serialisable (a function or symbol at top level)');
  return text.replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function chartFigure(chart: ReportChart, where: string): string {
  const svg = typeof chart === 'string' ? chart : chart.svg;
  const caption = typeof chart === 'string' ? undefined : chart.caption;
  if (typeof svg !== 'string' || !/^\s*<svg\b/.test(svg)) fail('INVALID_ARGUMENT', `${where}: a chart must be an SVG string starting with <svg`);
  return `<figure>${svg.trim()}${caption ? `<figcaption>${escapeXml(caption)}</figcaption>` : ''}</figure>`;
}

function tableHtml(table: ReportTable, where: string): string {
  const cols = table.columns.length;
  if (cols === 0) fail('INVALID_ARGUMENT', `${where} ("${table.caption}") has no columns`);
  const head = table.columns.map((c) => `<th scope="col">${escapeXml(c)}</th>`).join('');
  const body = table.rows
    .map((row, r) => {
      if (row.length !== cols) fail('SHAPE', `${where} ("${table.caption}") row ${r} has ${row.length} cells, expected ${cols}`);
      const cells = row.map((cell) => {
        if (cell !== null && typeof cell !== 'string' && typeof cell !== 'number') {
          fail('INVALID_ARGUMENT', `${where} ("${table.caption}") row ${r}: cells must be strings, numbers or null`);
        }
        const cls = cell === null ? ' class="missing"' : typeof cell === 'number' ? ' class="num"' : '';
        return `<td${cls}>${escapeXml(formatCell(cell))}</td>`;
      });
      return `<tr>${cells.join('')}</tr>`;
    })
    .join('\n');
  return `<table><caption>${escapeXml(table.caption)}</caption><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

function findingHtml(f: ReportFinding, where: string): string {
  if (!Object.prototype.hasOwnProperty.call(STATUS_TEXT, f.status)) {
    fail('INVALID_ARGUMENT', `${where}: status must be 'agrees', 'differs' or 'not-checked', got '${String(f.status)}'`);
  }
  return (
    `<li class="finding ${f.status}"><span class="status">${STATUS_TEXT[f.status]}</span> ` +
    `<span class="claim">${escapeXml(f.claim)}</span><p class="detail">${escapeXml(f.detail)}</p></li>`
  );
}

/** The whole report as an HTML document (UTF-8). Deterministic for a given input. */
export function htmlReport(options: ReportOptions): string {
  if (typeof options.title !== 'string' || options.title === '') fail('INVALID_ARGUMENT', 'report title must be a non-empty string');
  if (!Array.isArray(options.sections)) fail('INVALID_ARGUMENT', 'report sections must be an array');
  let generated = '';
  if (options.generatedAt !== undefined) {
    const when = options.generatedAt instanceof Date ? options.generatedAt.toISOString() : String(options.generatedAt);
    generated = `<p class="generated">Generated ${escapeXml(when)}</p>`;
  }
  const toc =
    options.sections.length > 1
      ? `<nav class="toc" aria-label="Contents"><strong>Contents</strong><ol>${(options.sections as readonly ReportSection[])
          .map((s, i) => `<li><a href="#section-${i + 1}">${escapeXml(s.heading)}</a></li>`)
          .join('')}</ol></nav>`
      : '';
  const sectionList: readonly ReportSection[] = options.sections;
  const sections = sectionList.map((s, i) => {
    const where = `section ${i + 1} ("${s.heading}")`;
    if (typeof s.heading !== 'string') fail('INVALID_ARGUMENT', `section ${i + 1} needs a string heading`);
    const parts = [`<section id="section-${i + 1}">`, `<h2>${escapeXml(s.heading)}</h2>`];
    for (const p of s.paragraphs ?? []) parts.push(`<p>${escapeXml(p)}</p>`);
    (s.charts ?? []).forEach((c, j) => parts.push(chartFigure(c, `${where} chart ${j + 1}`)));
    (s.tables ?? []).forEach((t, j) => parts.push(tableHtml(t, `${where} table ${j + 1}`)));
    if (s.findings && s.findings.length > 0) {
      parts.push(`<ul class="findings">${s.findings.map((f, j) => findingHtml(f, `${where} finding ${j + 1}`)).join('\n')}</ul>`);
    }
    parts.push('</section>');
    return parts.join('\n');
  });
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    // Void elements self-closed, so the document is also well-formed XML (tests parse it as such).
    '<meta charset="utf-8" />',
    '<meta name="viewport" content="width=device-width, initial-scale=1" />',
    '<meta name="generator" content="fimkit" />',
    `<title>${escapeXml(options.title)}</title>`,
    `<style>\n${CSS}\n</style>`,
    '</head>',
    '<body>',
    '<header>',
    `<h1>${escapeXml(options.title)}</h1>`,
    options.subtitle ? `<p class="subtitle">${escapeXml(options.subtitle)}</p>` : '',
    generated,
    toc,
    '</header>',
    '<main>',
    ...sections,
    '</main>',
    `<script type="application/json" id="report-data">${embedJson(options.data)}</script>`,
    '</body>',
    '</html>',
    '',
  ]
    .filter((line, i, all) => line !== '' || i === all.length - 1)
    .join('\n');
}

/** Reads the embedded data block back out of a report (the inverse of what htmlReport embeds). */
export function readReportData(html: string): unknown {
  const m = /<script type="application\/json" id="report-data">([\s\S]*?)<\/script>/.exec(html);
  if (!m) fail('CORRUPT_FILE', 'report has no <script type="application/json" id="report-data"> block');
  try {
    return JSON.parse(m[1]!);
  } catch (e) {
    return fail('CORRUPT_FILE', `report data block is not valid JSON: ${(e as Error).message}`);
  }
}
