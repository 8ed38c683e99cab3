/**
 * Issue 10, items 2 and 4: output safety. One helper (src/io/output.ts) checks every output
 * location before the work starts, for every verb: no silent overwrite without --force, never an
 * input, no /proc or /dev, a dangling link or a file where a directory is expected is named.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '../src/core/rng.js';
import { buildModel, mlpSpec, saveModel } from '../src/nn/index.js';
import { runCli } from '../src/cli/main.js';
import type { CliIO } from '../src/cli/command.js';
import { FimkitError } from '../src/core/errors.js';
import { checkOutputDir, checkOutputFile } from '../src/io/output.js';

const DATA = 'synthetic:blobs?k=3&dim=4&n=40';
let dir: string;
let modelPath: string;

async function cli(argv: string[]): Promise<{ code: number; out: string; err: string; ms: number }> {
  let out = '';
  let err = '';
  const io: CliIO = { stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s), isTTY: false }, env: {} };
  const t0 = performance.now();
  const code = await runCli(argv, io);
  return { code, out, err, ms: performance.now() - t0 };
}

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'fimkit-out-'));
  modelPath = join(dir, 'model.json');
  saveModel(modelPath, buildModel(mlpSpec([4, 5, 3], 'tanh'), new Rng(1), 'float64'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('fisher --out and variance --out never overwrite the model they read, even with --force', async () => {
  const before = readFileSync(modelPath, 'utf8');
  for (const verb of ['fisher', 'variance']) {
    for (const force of [[], ['--force']]) {
      const r = await cli([verb, '--model', modelPath, '--data', DATA, '--out', modelPath, '--quiet', ...force]);
      assert.equal(r.code, 1, r.err);
      assert.match(r.err, new RegExp(`--out ${modelPath.replace(/[/.]/g, '\\$&')}: .* is the input --model`));
    }
  }
  assert.equal(readFileSync(modelPath, 'utf8'), before);
});

test('an existing output is replaced only with --force (fisher, variance)', async () => {
  for (const verb of ['fisher', 'variance']) {
    const out = join(dir, `${verb}-out.json`);
    writeFileSync(out, 'precious');
    const r = await cli([verb, '--model', modelPath, '--data', DATA, '--out', out, '--quiet']);
    assert.equal(r.code, 1);
    assert.match(r.err, /already exists; add --force to overwrite it/);
    assert.equal(readFileSync(out, 'utf8'), 'precious');
    const f = await cli([verb, '--model', modelPath, '--data', DATA, '--out', out, '--quiet', '--force']);
    assert.equal(f.code, 0, f.err);
    assert.notEqual(readFileSync(out, 'utf8'), 'precious');
    // The default output next to the model: the second run refuses too.
    const again = await cli([verb, '--model', modelPath, '--data', DATA, '--quiet']);
    const twice = await cli([verb, '--model', modelPath, '--data', DATA, '--quiet']);
    assert.equal(again.code, 0, again.err);
    assert.equal(twice.code, 1);
    assert.match(twice.err, /already exists; add --force/);
  }
});

test('study --out: refuses an existing report without --force, and /dev/null before any work', async () => {
  const rep = join(dir, 'study');
  mkdirSync(rep);
  writeFileSync(join(rep, 'report.html'), 'old report');
  const r = await cli(['study', '--quick', '--data', 'synthetic:blobs', '--out', rep, '--quiet']);
  assert.equal(r.code, 1);
  assert.match(r.err, /report\.html already exists; add --force/);
  assert.equal(readFileSync(join(rep, 'report.html'), 'utf8'), 'old report');
  const d = await cli(['study', '--quick', '--out', '/dev/null', '--quiet']);
  assert.equal(d.code, 1);
  assert.match(d.err, /--out \/dev\/null: is under \/dev/);
  assert.doesNotMatch(d.err, /internal error/);
});

test('train --out: a file, a dangling link, /proc, a file on the path: named errors, no internal error', async () => {
  const file = join(dir, 'a-file');
  writeFileSync(file, 'x');
  const dangling = join(dir, 'dangling');
  symlinkSync(join(dir, 'nowhere'), dangling);
  const cases: [string, RegExp][] = [
    [file, /--out .*a-file: .*a-file is a file, where a directory is expected/],
    [dangling, /--out .*dangling: .*dangling is a dangling symbolic link/],
    [join(file, 'sub'), /a-file is a file, where a directory is expected/],
    ['/proc/fimkit-run', /--out \/proc\/fimkit-run: is under \/proc/],
    ['/sys/x', /is under \/sys/],
  ];
  for (const [out, re] of cases) {
    const r = await cli(['train', '--data', DATA, '--arch', '4-3', '--epochs', '1', '--out', out, '--quiet']);
    assert.equal(r.code, 1, `${out}: ${r.err}`);
    assert.match(r.err, re);
    assert.doesNotMatch(r.err, /internal error/);
  }
  // --force restarts a run over a finished one; without it the old refusal stands.
  const run = join(dir, 'run');
  assert.equal((await cli(['train', '--data', DATA, '--arch', '4-3', '--epochs', '1', '--out', run, '--quiet'])).code, 0);
  const again = await cli(['train', '--data', DATA, '--arch', '4-3', '--epochs', '1', '--out', run, '--quiet']);
  assert.equal(again.code, 2);
  assert.match(again.err, /already holds a run/);
  const forced = await cli(['train', '--data', DATA, '--arch', '4-3', '--epochs', '1', '--out', run, '--quiet', '--force']);
  assert.equal(forced.code, 0, forced.err);
  // --init-model inside --out is an input: never replaced.
  const init = await cli(['train', '--data', DATA, '--init-model', join(run, 'model.json'), '--epochs', '1', '--out', run, '--quiet', '--force']);
  assert.equal(init.code, 1);
  assert.match(init.err, /is the input --init-model/);
});

test('the helper: outputs checked before work; csv data files are inputs', () => {
  const csv = join(dir, 'd.csv');
  writeFileSync(csv, 'a,b,label\n1,2,0\n');
  assert.throws(() => checkOutputFile(csv, { flag: '--out', force: true, inputs: [{ path: csv, flag: '--data' }] }), (e: unknown) => e instanceof FimkitError && /is the input --data/.test(e.message));
  // A link to the input is the input.
  const link = join(dir, 'link.csv');
  symlinkSync(csv, link);
  assert.throws(() => checkOutputFile(link, { flag: '--out', force: true, inputs: [{ path: csv, flag: '--data' }] }), /is the input --data/);
  const fresh = join(dir, 'new', 'deeper', 'out.json');
  assert.equal(checkOutputFile(fresh, { flag: '--out' }), fresh);
  // Checking creates nothing (a command that then fails leaves no trace).
  assert.ok(!existsSync(join(dir, 'new')));
  mkdirSync(join(dir, 'new', 'deeper'), { recursive: true });
  assert.ok(statSync(join(dir, 'new', 'deeper')).isDirectory());
  writeFileSync(fresh, '{}');
  assert.throws(() => checkOutputDir(join(dir, 'new', 'deeper'), ['out.json'], { flag: '--out' }), /out\.json already exists; add --force/);
  assert.equal(checkOutputDir(join(dir, 'new', 'deeper'), ['out.json'], { flag: '--out', force: true }), join(dir, 'new', 'deeper'));
});
