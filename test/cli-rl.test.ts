// `fimkit rl`: a tiny run writes per-seed results and the report; --resume keeps finished seeds;
// bad input (unknown env or algorithm, λ ≤ 0, an occupied --out) is refused before anything is written.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../src/cli/main.js';
import type { CliIO } from '../src/cli/command.js';

function capture(): { io: CliIO; out: () => string; err: () => string } {
  let out = '';
  let err = '';
  return {
    io: { stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s), isTTY: false }, env: {} },
    out: () => out,
    err: () => err,
  };
}

test('fimkit rl: trains two seeds, writes result.json per seed, report.html/json and curves.csv; --resume keeps them', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fimkit-rl-'));
  try {
    const out = join(dir, 'run');
    const args = ['rl', '--env', 'CartPole-v1', '--algo', 'a2c', '--seeds', '2', '--steps', '160', '--eval-every', '80', '--eval-episodes', '1', '--out', out, '--json'];
    const c = capture();
    assert.equal(await runCli(args, c.io), 0, c.err());
    const doc = JSON.parse(c.out()) as { groups: { env: string; algo: string; seeds: number[]; finals: number[] }[] };
    assert.equal(doc.groups.length, 1);
    assert.deepEqual(doc.groups[0]!.seeds, [0, 1]);
    for (const f of ['report.html', 'report.json', 'curves.csv']) assert.ok(existsSync(join(out, f)), f);
    const r0 = JSON.parse(readFileSync(join(out, 'CartPole-v1', 'a2c', 'seed-0', 'result.json'), 'utf8')) as { steps: number; evals: { step: number }[] };
    assert.equal(r0.steps, 160);
    assert.deepEqual(r0.evals.map((e) => e.step), [0, 80, 160]);
    assert.match(readFileSync(join(out, 'report.html'), 'utf8'), /<svg/);
    // Same flags again without --resume: refused, nothing changed.
    const before = readFileSync(join(out, 'report.json'), 'utf8');
    const c2 = capture();
    assert.equal(await runCli(args, c2.io), 2);
    assert.match(c2.err(), /--resume/);
    assert.equal(readFileSync(join(out, 'report.json'), 'utf8'), before);
    // --resume: both seeds already finished, the report is rebuilt from them.
    const c3 = capture();
    assert.equal(await runCli([...args, '--resume'], c3.io), 0, c3.err());
    assert.deepEqual((JSON.parse(c3.out()) as typeof doc).groups[0]!.finals, doc.groups[0]!.finals);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('fimkit rl: unknown env, unknown algorithm and λ ≤ 0 are named errors and create nothing', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fimkit-rl-'));
  try {
    for (const [extra, msg] of [[['--env', 'Nope-v0'], /unknown environment 'Nope-v0'.*CartPole-v1/], [['--algo', 'sac'], /unknown RL algorithm 'sac'.*smac/], [['--sm-lambda', '0'], /λ/], [['--sm-lambda', '-1'], /λ/]] as const) {
      const out = join(dir, 'x');
      const c = capture();
      assert.equal(await runCli(['rl', '--steps', '10', '--out', out, ...extra], c.io), 1);
      assert.match(c.err(), msg);
      assert.equal(existsSync(out), false, `${extra.join(' ')} created ${out}`);
    }
    assert.deepEqual(readdirSync(dir), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
