import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../src/cli/main.js';
import type { CliIO } from '../src/cli/command.js';
import { readReportData } from '../src/report/index.js';
import { parseArgs } from '../src/cli/args.js';
import { cbinnCommand, specsFromFlags } from '../src/cli/commands/cbinn.js';
import { runCbinn } from '../src/cbinn/runner.js';

function capture(): { io: CliIO; out: () => string; err: () => string } {
  let out = '';
  let err = '';
  return {
    io: {
      stdout: { write: (s: string) => (out += s) },
      stderr: { write: (s: string) => (err += s), isTTY: false },
      env: {},
    },
    out: () => out,
    err: () => err,
  };
}

const TINY = ['--count', '11', '--hidden', '6', '--fourier', '1', '--collocation', '10', '--warmup', '10', '--warmup-lbfgs', '10', '--physics', '10', '--adam', '10', '--lbfgs', '10', '--checkpoint-every', '5'];

test('fimkit cbinn: runs, writes result.json per run and report.html/json with the §B.6 table; resume keeps finished runs', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fimkit-cbinn-'));
  try {
    const out = join(dir, 'run');
    const c = capture();
    const code = await runCli(['cbinn', '--model', 'depillis', '--noise', '0.05', '--seeds', '2', '--missing', 'auto', '--no-baseline', ...TINY, '--out', out], c.io);
    assert.equal(code, 0, c.err());
    for (const s of [0, 1]) assert.ok(existsSync(join(out, `depillis-missing-immune-response-noise0.05-seed${s}`, 'result.json')));
    const data = readReportData(readFileSync(join(out, 'report.html'), 'utf8')) as { summary: { param: string; byNoise: Record<string, { n: number }> }[]; runs: { missing: { recovered: { formula: string } }; parameters: { crSd: number | null }[] }[] };
    assert.equal(data.runs.length, 2);
    assert.ok(data.summary.length > 0 && data.summary.every((r) => r.byNoise['0.05']!.n === 2));
    assert.equal(typeof data.runs[0]!.missing.recovered.formula, 'string');
    // Cramér–Rao bounds are present (null in JSON where a bound is infinite: not identifiable).
    assert.ok(data.runs[0]!.parameters.every((p) => 'crSd' in p) && data.runs[0]!.parameters.some((p) => typeof p.crSd === 'number'), 'Cramér–Rao bounds present');
    assert.match(c.out(), /depillis \(missing immune-response\) r1 \(true 1\.5\): ε=0\.05: /);
    // The same --out without --resume is refused; with --resume both runs are kept.
    const again = capture();
    assert.equal(await runCli(['cbinn', '--model', 'depillis', '--seeds', '2', '--out', out], again.io), 2);
    assert.match(again.err(), /already holds CBINN runs/);
    const resumed = capture();
    assert.equal(await runCli(['cbinn', '--model', 'depillis', '--noise', '0.05', '--seeds', '2', '--missing', 'auto', '--no-baseline', ...TINY, '--out', out, '--resume'], resumed.io), 0);
    assert.equal((resumed.err().match(/finished earlier, kept/g) ?? []).length, 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('fimkit cbinn: an interrupted run checkpoints, and --resume finishes it with the same parameters as an uninterrupted run', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fimkit-cbinn-'));
  try {
    // Only the Adam phases resume bit-identically, so the budget here is Adam only.
    const flags = ['--model', 'depillis', '--noise', '0', '--seeds', '1', '--no-baseline', '--no-identifiability', '--count', '11', '--hidden', '5', '--fourier', '0', '--collocation', '10',
      '--warmup', '12', '--warmup-lbfgs', '0', '--physics', '0', '--adam', '30', '--lbfgs', '0', '--checkpoint-every', '4', '--quiet'];
    const full = capture();
    assert.equal(await runCli(['cbinn', ...flags, '--out', join(dir, 'a')], full.io), 0, full.err());
    const parsed = parseArgs(flags, cbinnCommand.flags, cbinnCommand.positionals);
    const spec = specsFromFlags(parsed, false)[0]!;
    let polls = 0;
    const runDir = join(dir, 'b', 'depillis-full-noise0-seed0');
    assert.equal(runCbinn(spec, { dir: runDir, checkpointEvery: 4, shouldStop: () => ++polls === 17 }), null);
    assert.ok(existsSync(join(runDir, 'checkpoint.json')) && !existsSync(join(runDir, 'result.json')));
    const done = runCbinn(spec, { dir: runDir, checkpointEvery: 4, resume: true })!;
    const ref = JSON.parse(readFileSync(join(dir, 'a', 'depillis-full-noise0-seed0', 'result.json'), 'utf8')) as { parameters: { estimate: number }[] };
    done.parameters.forEach((p, i) => assert.equal(p.estimate, ref.parameters[i]!.estimate, p.name));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('fimkit cbinn: bad usage is named', async () => {
  const cases: [string[], RegExp][] = [
    [['cbinn', '--model', 'nope'], /unknown model 'nope'/],
    [['cbinn', '--model', 'kuznetsov,depillis'], /use `fimkit cbinn grid/],
    [['cbinn', '--noise', 'abc'], /--noise: 'abc' is not a number/],
    [['cbinn', '--missing', 'nothing'], /declares no term 'nothing'/],
    [['cbinn', 'gird'], /the only sub-command is 'grid'/],
    [['cbinn', '--resume'], /--resume needs --out/],
    [['cbinn', '--hidden', '4,x'], /--hidden: 'x' is not a positive integer/],
  ];
  for (const [argv, pattern] of cases) {
    const c = capture();
    assert.equal(await runCli(argv, c.io), 2, argv.join(' '));
    assert.match(c.err(), pattern, argv.join(' '));
  }
});
