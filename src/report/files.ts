/**
 * Writing a report to disk (Node only): `report.html` for people and `report.json` for
 * machines, each written atomically so a reader never sees half a file.
 */
import { join } from 'node:path';
import { fail } from '../core/errors.js';
import { writeFileAtomic } from '../io/atomic.js';
import './node-dom.js';

export interface ReportPaths {
  html: string;
  json: string;
}

/**
 * Writes `dir/report.html` and `dir/report.json` (creating `dir`). `json` is either a value to
 * serialise or a string that already holds JSON (checked, then written as it is).
 */
export function writeReport(dir: string, html: string, json: unknown): ReportPaths {
  if (typeof html !== 'string' || !/^\s*<!DOCTYPE html>/i.test(html)) {
    fail('INVALID_ARGUMENT', 'writeReport: html must be an HTML document (as from htmlReport)');
  }
  let text: string;
  if (typeof json === 'string') {
    try {
      JSON.parse(json);
    } catch (e) {
      fail('INVALID_ARGUMENT', `writeReport: the json string is not valid JSON: ${(e as Error).message}`);
    }
    text = json.endsWith('\n') ? json : json + '\n';
  } else {
    let s: string | undefined;
    try {
      s = JSON.stringify(json ?? null, null, 2);
    } catch (e) {
      fail('INVALID_ARGUMENT', `writeReport: report data is not JSON-serialisable: ${(e as Error).message}`);
    }
    if (s === undefined) fail('INVALID_ARGUMENT', 'writeReport: report data is not JSON-serialisable');
    text = s + '\n';
  }
  const paths = { html: join(dir, 'report.html'), json: join(dir, 'report.json') };
  // JSON first: a directory with report.html always has the matching data next to it.
  writeFileAtomic(paths.json, text);
  writeFileAtomic(paths.html, html);
  return paths;
}
