import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveDataset } from '../src/data/resolve.js';
import { subset } from '../src/data/dataset.js';
import { theorem41Bounds } from '../src/study/bounds.js';
import { investigateLogSigmoid, logSigmoidGrid, widthSweep } from '../src/study/investigate.js';
import { logSigmoidTable, widthTable, investigationReportHtml } from '../src/study/report.js';
import { readReportData } from '../src/report/html.js';

test('investigate logsigmoid: one change per setting from the base; a frozen network keeps its V1 and "differs"', async () => {
  const grid = logSigmoidGrid({ epochs: 3 });
  assert.equal(grid[0]!.name, 'base: MNIST, Adam 1e-3');
  for (const s of grid.slice(1)) {
    const changed = (['data', 'optimizer', 'epochs', 'hidden', 'dropout'] as const).filter((k) => JSON.stringify(s[k]) !== JSON.stringify(grid[0]![k]));
    assert.equal(changed.length, 1, `${s.name} changes ${changed.join(', ')}`);
  }
  const emb = await resolveDataset('embedded');
  const small = { train: subset(emb.train, Array.from({ length: 300 }, (_, i) => i)), test: subset(emb.test, Array.from({ length: 200 }, (_, i) => i)) };
  const rows = await investigateLogSigmoid({ mnist: small }, [
    { name: 'trains', data: 'mnist', optimizer: { name: 'adam', lr: 1e-2 }, epochs: 2, hidden: [12, 8, 6, 4], dropout: 0 },
    { name: 'frozen', data: 'mnist', optimizer: { name: 'sgd', lr: 1e-12 }, epochs: 2, hidden: [12, 8, 6, 4], dropout: 0 },
  ], { averageInputs: 3, sampledLabels: 50 });
  assert.equal(rows.length, 2);
  for (const r of rows) {
    assert.equal(r.trajectory.length, 3);
    assert.equal(r.trajectory[0]!.v1, r.v1Init);
    assert.equal(r.trajectory[2]!.v1, r.v1End);
    assert.equal(r.v1Peak, Math.max(r.trajectory[0]!.v1, r.trajectory[1]!.v1));
    assert.ok(r.confidenceInit >= 0.1 && r.confidenceInit <= 1 && r.confidenceEnd >= 0.1 && r.confidenceEnd <= 1);
  }
  const frozen = rows[1]!;
  assert.ok(Math.abs(frozen.v1End / frozen.v1Init - 1) < 1e-6, 'lr 1e-12 leaves V1 unchanged');
  assert.equal(frozen.verdict, 'differs');
  assert.equal(frozen.verdictAveraged, 'differs');
  await assert.rejects(investigateLogSigmoid({}, [grid[0]!]), /needs data 'mnist'/);
  const table = logSigmoidTable(rows);
  assert.equal(table.trim().split('\n').length, 2 + rows.length);
  const html = investigationReportHtml('logsigmoid', table, { rows }, 1);
  assert.equal((readReportData(html) as { rows: unknown[] }).rows.length, 2);
});

test('investigate widths: one row per width with layer-1 bound tightness (UB ≥ V: log ratios ≥ 0)', async () => {
  const emb = await resolveDataset('embedded');
  const small = { train: subset(emb.train, Array.from({ length: 200 }, (_, i) => i)), test: subset(emb.test, Array.from({ length: 100 }, (_, i) => i)) };
  const rows = await widthSweep(small, [[4, 3, 2], [16, 8, 4]], { epochs: 1, sampledLabels: 50, bounds: theorem41Bounds });
  assert.deepEqual(rows.map((r) => r.params), [784 * 4 + 4 + 4 * 3 + 3 + 3 * 2 + 2 + 2 * 10 + 10, 784 * 16 + 16 + 16 * 8 + 8 + 8 * 4 + 4 + 4 * 10 + 10]);
  for (const r of rows) {
    for (const v of [r.logRatio1Init, r.logRatio2Init, r.logRatio1Trained, r.logRatio2Trained]) assert.ok(v !== null && v >= -1e-9, `log ratio ${v}`);
  }
  assert.equal(widthTable(rows).trim().split('\n').length, 4);
});
