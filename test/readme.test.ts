import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, mkdtempSync, existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

test('the README API example is examples/api.ts, and it runs', () => {
  const readme = readFileSync('README.md', 'utf8');
  const block = /```ts\n([\s\S]*?)```/.exec(readme)![1]!;
  const example = readFileSync('examples/api.ts', 'utf8');
  assert.equal(block.replace("saveModel('model.json', model);", "saveModel(process.argv[2] ?? 'model.json', model);"), example);
  const out = join(mkdtempSync(join(tmpdir(), 'fimkit-readme-')), 'model.json');
  const r = spawnSync(process.execPath, ['dist/examples/api.js', out], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.ok(existsSync(out));
  assert.match(r.stdout, /^(native|wasm|ts) 4 4 32x10 3200 2880 128\n$/);
});
