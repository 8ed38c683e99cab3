import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Rng } from '../src/core/rng.js';
import { buildModel, mlpSpec, saveModel } from '../src/nn/index.js';
import { parseArgs, closest, UsageError, type FlagSpec } from '../src/cli/args.js';
import { runCli } from '../src/cli/main.js';
import type { CliIO } from '../src/cli/command.js';
import { COMMANDS } from '../src/cli/commands/index.js';
import { commandHelp } from '../src/cli/help.js';

const BIN = fileURLToPath(new URL('../../bin/fimkit.js', import.meta.url));

function capture(): { io: CliIO; out: () => string; err: () => string } {
  let out = '';
  let err = '';
  return {
    io: { stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s), isTTY: false }, env: {} },
    out: () => out,
    err: () => err,
  };
}

function fimkit(args: string[], env: Record<string, string> = {}): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('every kind of invalid flag exits with code 2 and a message naming the flag', async () => {
  const cases: [string[], RegExp][] = [
    [['train', '--epoch', '3'], /unknown flag --epoch \(did you mean --epochs\?\)/],
    [['train', '--learning-rate', '0.1'], /unknown flag --learning-rate/],
    [['train', '--lr'], /--lr needs a value/],
    [['train', '--lr', '--epochs', '2'], /--lr needs a value/],
    [['train', '--lr', 'abc'], /--lr needs a number, got 'abc'/],
    [['train', '--lr', '0'], /--lr must be > 0, got 0/],
    [['train', '--epochs', '2.5'], /--epochs needs an integer, got '2.5'/],
    [['train', '--batch-size', '0'], /--batch-size must be ≥ 1, got 0/],
    [['train', '--dropout', '1'], /--dropout must be ≥ 0 and < 1, got 1/],
    [['train', '--seed', '-4'], /--seed must be ≥ 0/],
    [['train', '--optimizer', 'adamx'], /--optimizer: unknown value 'adamx'; allowed: sgd, adam, adamw \(did you mean 'adam'\?\)/],
    [['train', '--activation', 'swish'], /--activation: unknown value 'swish'; allowed: relu, leaky-relu, sigmoid, tanh, softplus, log-sigmoid, gelu, identity/],
    [['train', '--dtype', 'float16'], /--dtype: unknown value 'float16'; allowed: float32, float64/],
    [['train', '--backend', 'gpu'], /--backend: unknown value 'gpu'; allowed: native, wasm, ts/],
    [['train', '--quiet=maybe'], /--quiet takes true or false, got 'maybe'/],
    [['train', '--lr', '0.1', '--lr', '0.2'], /--lr is given more than once/],
    [['train', '--momentum', '0.5'], /--momentum applies only to --optimizer sgd/],
    [['train', '--warmup-steps', '5'], /--warmup-steps applies only to --schedule warmup-cosine/],
    [['train', '--resume'], /--resume needs --out/],
    [['train', 'extra'], /unexpected argument 'extra'/],
    [['train', '-x'], /unknown option -x/],
    [['info', '--jsn'], /unknown flag --jsn \(did you mean --json\?\)/],
  ];
  for (const [argv, pattern] of cases) {
    const c = capture();
    const code = await runCli(argv, c.io);
    assert.equal(code, 2, `${argv.join(' ')}: exit code`);
    assert.match(c.err(), pattern, argv.join(' '));
    assert.match(c.err(), new RegExp(`^fimkit ${argv[0]}: `));
    assert.equal(c.out(), '', `${argv.join(' ')}: nothing on stdout`);
  }
  const verb = capture();
  assert.equal(await runCli(['trian'], verb.io), 2);
  assert.match(verb.err(), /unknown command 'trian' \(did you mean 'train'\?\)/);
  const none = capture();
  assert.equal(await runCli([], none.io), 2);
  assert.match(none.err(), /Usage: fimkit <command>/);
  // With --json, the usage error is also a JSON document on stdout.
  const js = capture();
  assert.equal(await runCli(['train', '--json', '--lr', 'x'], js.io), 2);
  assert.deepEqual(JSON.parse(js.out()).error, { kind: 'usage', message: "--lr needs a number, got 'x'" });
});

test('the real process exits with code 2 for bad usage and 0 for help', () => {
  const bad = fimkit(['train', '--optimizer', 'rmsprop']);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--optimizer: unknown value 'rmsprop'/);
  const help = fimkit(['train', '--help']);
  assert.equal(help.status, 0);
  assert.match(help.stdout, /^Usage: fimkit train \[flags\]/);
  const top = fimkit(['help']);
  assert.equal(top.status, 0);
  for (const c of COMMANDS) assert.match(top.stdout, new RegExp(`\\n  ${c.name} +${c.summary.replace(/[()]/g, '\\$&')}`));
});

test('help is generated from the flag tables: every flag, its default and allowed values', () => {
  for (const cmd of COMMANDS) {
    const text = commandHelp(cmd);
    for (const f of cmd.flags) {
      assert.ok(text.includes(`--${f.name}`), `${cmd.name} help lists --${f.name}`);
      if (f.choices) assert.ok(text.includes(f.choices.join('|')), `${cmd.name} help lists the values of --${f.name}`);
    }
  }
  const train = commandHelp(COMMANDS.find((c) => c.name === 'train')!);
  assert.match(train, /--batch-size N +Samples per step\. \[default: 128\]/);
  assert.match(train, /--optimizer sgd\|adam\|adamw +Optimiser\. \[default: adam\]/);
});

test('flag parser: = syntax, --no- booleans, negative numbers, --help anywhere, suggestions', () => {
  const flags: FlagSpec[] = [
    { name: 'shift', type: 'number', description: 'x', default: 0 },
    { name: 'count', type: 'int', min: 1, max: 10, description: 'n', default: 3 },
    { name: 'verbose', type: 'boolean', description: 'v' },
    { name: 'mode', type: 'enum', choices: ['fast', 'exact'], description: 'm', default: 'fast' },
  ];
  const a = parseArgs(['--shift', '-2.5e-1', '--count=7', '--no-verbose', '--mode=exact'], flags);
  assert.deepEqual(a.flags, { shift: -0.25, count: 7, verbose: false, mode: 'exact' });
  assert.deepEqual([...a.given].sort(), ['count', 'mode', 'shift', 'verbose']);
  const d = parseArgs([], flags);
  assert.deepEqual(d.flags, { shift: 0, count: 3, verbose: undefined, mode: 'fast' });
  assert.equal(parseArgs(['--count', 'zzz', '--help'], flags).help, true);
  assert.throws(() => parseArgs(['--count', '11'], flags), (e: unknown) => e instanceof UsageError && /--count must be ≥ 1 and ≤ 10, got 11/.test(e.message));
  assert.throws(() => parseArgs(['--count', '1e400'], flags), /--count needs a finite number/);
  assert.throws(() => parseArgs(['--no-mode'], flags), /unknown flag --no-mode/);
  assert.throws(() => parseArgs(['--verbose=yes', '--verbose'], flags), /given more than once/);
  assert.equal(closest('exct', ['fast', 'exact']), 'exact');
  assert.equal(closest('zzzzzz', ['fast', 'exact']), undefined);
});

test('info --json is one parseable document listing every backend with its availability', () => {
  const r = fimkit(['info', '--json']);
  assert.equal(r.status, 0, r.stderr);
  const info = JSON.parse(r.stdout);
  assert.deepEqual(info.backends.map((b: { name: string }) => b.name), ['native', 'wasm', 'ts']);
  for (const b of info.backends) {
    assert.equal(typeof b.available, 'boolean');
    assert.ok(typeof b.reason === 'string' && b.reason.length > 0);
  }
  assert.ok(info.backends.find((b: { name: string; available: boolean }) => b.name === 'ts').available);
  assert.ok(info.backends.some((b: { name: string; available: boolean }) => b.name === info.backend.name && b.available));
  assert.equal(typeof info.blas.found, 'boolean');
  assert.equal(typeof info.wasm.relaxedSimd, 'boolean');
  assert.deepEqual(info.dtypes, ['float32', 'float64']);
  assert.equal(info.node, process.version);

  const forced = fimkit(['info', '--json', '--backend', 'ts']);
  assert.equal(forced.status, 0);
  const f = JSON.parse(forced.stdout);
  assert.equal(f.backend.name, 'ts');
  assert.match(f.backend.why, /--backend ts/);
  const text = fimkit(['info']);
  assert.match(text.stdout, /active backend: \w+/);
  assert.match(text.stdout, /relaxed SIMD: (yes|no)/);
});

test('data that does not fit the model is a clear error through the CLI (exit 1, nothing written)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fimkit-cli-shape-'));
  try {
    const modelPath = join(dir, 'five.json');
    saveModel(modelPath, buildModel(mlpSpec([5, 8, 3], 'relu'), new Rng(0), 'float32'));
    const out = join(dir, 'run');
    const r = fimkit(['train', '--data', 'synthetic:blobs?k=3&dim=3&n=50', '--init-model', modelPath, '--out', out]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /error \[SHAPE\]: dataset 'blobs\/train' has per-sample input shape \[3\] \(3 features\) but the model expects \[5\] \(5 features\)/);
    assert.ok(!existsSync(out), 'no output directory for a run that cannot start');

    const narrow = fimkit(['train', '--data', 'synthetic:blobs?k=3&dim=3&n=50', '--arch', '8-2', '--out', out, '--json']);
    assert.equal(narrow.status, 1);
    assert.match(narrow.stderr, /error \[SHAPE\]: categorical: network output size 2 does not match the 3 classes/);
    assert.equal(JSON.parse(narrow.stdout).error.code, 'SHAPE');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Weights and per-epoch metrics of a finished run directory (timings dropped). */
function runResult(dir: string): { weights: unknown; epochs: unknown } {
  const model = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
  const metrics = JSON.parse(readFileSync(join(dir, 'metrics.json'), 'utf8'));
  return { weights: model.weights, epochs: metrics.epochs.map(({ seconds: _s, ...rest }: { seconds: number }) => rest) };
}

test('a CLI run killed with SIGKILL mid-epoch resumes to the bit-identical result of an uninterrupted run', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fimkit-cli-kill-'));
  try {
    // 600 samples / batch 32 = 19 steps per epoch; a checkpoint every 5 steps; step 25 is epoch 2, step 6.
    const args = [
      'train', '--data', 'synthetic:blobs?n=600&nTest=200&k=3&dim=4', '--arch', '16-16-3', '--dropout', '0.1',
      '--optimizer', 'adamw', '--schedule', 'warmup-cosine', '--lr', '0.01', '--epochs', '3', '--batch-size', '32',
      '--checkpoint-every', '5', '--seed', '7', '--quiet',
    ];
    const killed = join(dir, 'killed');
    const child = spawn(process.execPath, [BIN, ...args, '--out', killed], {
      env: { ...process.env, FIMKIT_DEBUG_HANG_AFTER_CHECKPOINT_STEP: '25' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`child never reached the checkpoint; stderr: ${stderr}`)), 30_000);
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
        if (stderr.includes('hanging until killed')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.on('exit', () => reject(new Error(`child exited early; stderr: ${stderr}`)));
    });
    const ck = JSON.parse(readFileSync(join(killed, 'checkpoint.json'), 'utf8'));
    assert.deepEqual(ck.position, { epoch: 1, stepInEpoch: 6, globalStep: 25 });
    child.kill('SIGKILL');
    assert.equal((await exited).signal, 'SIGKILL');
    assert.ok(!existsSync(join(killed, 'model.json')), 'the killed run did not finish');

    // A fresh run may not overwrite it; a resume with a changed setting is refused, naming it.
    const clash = fimkit([...args, '--out', killed]);
    assert.equal(clash.status, 2);
    assert.match(clash.stderr, /already holds a run \(checkpoint\.json\); add --resume/);
    const changed = fimkit([...args.map((a) => (a === '0.01' ? '0.02' : a)), '--out', killed, '--resume']);
    assert.equal(changed.status, 1);
    assert.match(changed.stderr, /cannot resume from .*checkpoint\.json.*lr: checkpoint has 0\.01, this run has 0\.02/);

    const resumed = fimkit([...args, '--out', killed, '--resume', '--json']);
    assert.equal(resumed.status, 0, resumed.stderr);
    const report = JSON.parse(resumed.stdout);
    assert.deepEqual(report.resumedFrom, { epoch: 1, stepInEpoch: 6, globalStep: 25 });
    assert.equal(report.globalStep, 57);

    const straight = join(dir, 'straight');
    const full = fimkit([...args, '--out', straight]);
    assert.equal(full.status, 0, full.stderr);
    assert.match(full.stdout, /final test accuracy \d+\.\d\d% on 200 samples/);
    assert.deepEqual(runResult(killed), runResult(straight));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
