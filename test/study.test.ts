import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveDataset } from '../src/data/resolve.js';
import { runStudy } from '../src/study/study.js';
import { studyReportHtml } from '../src/study/report.js';
import { theorem41Bounds } from '../src/study/bounds.js';
import { writeReport } from '../src/report/files.js';
import { readReportData } from '../src/report/html.js';
import { CHROMIUM, chromium, pageConsole } from './helpers.js';

test('a small study runs, checks the findings, and its report renders in headless Chromium without errors', async (t) => {
  const split = await resolveDataset('embedded');
  const r = await runStudy(split, {
    epochs: 1, trainLimit: 300, sampledLabels: 200, toyEpochs: 2, bounds: theorem41Bounds,
    architectures: [
      { name: 'small sigmoid MLP', activation: 'sigmoid', hidden: [8, 6, 4] },
      { name: 'small log-sigmoid MLP', activation: 'log-sigmoid', hidden: [8, 6, 4, 3] },
    ],
  });
  assert.equal(r.experiments.length, 2);
  for (const e of r.experiments) {
    assert.deepEqual(e.epochs.map((x) => x.epoch), [0, 1]);
    for (const x of e.epochs) {
      const last = x.layers.at(-1)!;
      assert.equal(last.v2, 0, 'V2 = 0 in the last layer');
      for (const l of x.layers) {
        assert.ok(l.ub1 !== null && l.ub1 >= l.v1 * (1 - 1e-9), `UB1 ≥ V1 in ${l.label}`);
        assert.ok(l.ub2 !== null && l.ub2 >= l.v2 * (1 - 1e-9), `UB2 ≥ V2 in ${l.label}`);
        // 200 sampled labels estimate the variance to within a few tens of percent.
        if (l.v1 > 0) assert.ok(Math.abs(Math.log(l.v1Sampled / l.v1)) < 1, `sampled V1 near closed form in ${l.label}`);
      }
    }
  }
  assert.equal(r.toy.length, 4);
  assert.equal(r.findings.length, 11);
  // Every verdict is shown with its criterion (what was compared, threshold, cases, how many must pass).
  const page = studyReportHtml(r);
  for (const f of r.findings) assert.ok(page.includes(`${f.criterion.passed} of ${f.criterion.cases} ${f.criterion.caseUnit} cases pass`), f.id);
  // The report says what the log-sigmoid finding depends on and how tightness varies with width.
  assert.match(page, /The log-sigmoid finding: what it depends on/);
  assert.match(page, /Bound tightness and the hidden widths/);
  const dir = mkdtempSync(join(tmpdir(), 'fimkit-study-'));
  const paths = writeReport(dir, studyReportHtml(r), r);
  assert.ok(existsSync(paths.html) && existsSync(paths.json));
  const html = studyReportHtml(r);
  assert.equal((readReportData(html) as { experiments: unknown[] }).experiments.length, 2);
  if (!existsSync(CHROMIUM)) {
    t.skip(`Chromium not found at ${CHROMIUM}; .ci/run installs it`);
    return;
  }
  const url = `file://${paths.html}`;
  const { stdout, stderr } = await chromium(['--dump-dom', url], mkdtempSync(join(tmpdir(), 'fimkit-chr-')));
  assert.deepEqual(pageConsole(stderr, url), [], 'the page logs nothing');
  // Per experiment: two grids of per-layer charts; plus the toy grid.
  const grids = (stdout.match(/<svg[^>]*class="[^"]*small-multiples/g) ?? []).length;
  const charts = (stdout.match(/<svg/g) ?? []).length;
  assert.ok(charts >= 2 * (4 + 4) + 4, `${charts} svg elements in the rendered DOM (grids: ${grids})`);
  assert.match(stdout, /trade-offs of diagonal Fisher estimators/);
});
