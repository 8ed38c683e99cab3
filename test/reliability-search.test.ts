/**
 * Issue 10, item 1: every sample-size search returns in bounded time. The old code stepped
 * N one at a time (`while (!ok(N)) N++`), which never ends once N passes 2^53 (N + 1 === N).
 * A synchronous hang cannot be interrupted by node:test's own timeout, so each call that used
 * to hang runs in a worker that is terminated after a deadline: the test fails instead of
 * hanging when the search is unbounded.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { MAX_DOUBLINGS, smallestInteger } from '../src/core/search.js';
import { bernsteinLabels, chebyshevLabels, hoeffdingLabels, jointBudget, jointInputsNeeded } from '../src/variance/complexity.js';

const here = dirname(fileURLToPath(import.meta.url));
const complexityUrl = new URL(`file://${join(here, '..', 'src', 'variance', 'complexity.js')}`).href;

/**
 * Runs the expressions (with the complexity module as `c`) in one worker; rejects if they take
 * longer than ms in all. The deadline is generous (a loaded 2-core machine can take seconds to
 * start a worker); the old code never returned at all.
 */
function boundedAll(exprs: readonly string[], ms = 60_000): Promise<unknown[]> {
  const code = `
    const { parentPort } = require('node:worker_threads');
    import(${JSON.stringify(complexityUrl)}).then((c) => {
      const v = [${exprs.map((e) => `(${e})`).join(', ')}];
      parentPort.postMessage(JSON.stringify(v, (k, x) => (typeof x === 'number' && !Number.isFinite(x) ? String(x) : x)));
    }, (e) => parentPort.postMessage(JSON.stringify({ error: String(e) })));`;
  return new Promise((resolve, reject) => {
    const w = new Worker(code, { eval: true });
    const timer = setTimeout(() => { void w.terminate(); reject(new Error(`did not return within ${ms} ms: ${exprs.join('; ')}`)); }, ms);
    w.once('message', (m: string) => { clearTimeout(timer); void w.terminate(); resolve(JSON.parse(m) as unknown[]); });
    w.once('error', (e) => { clearTimeout(timer); reject(e); });
  });
}

const acc = "{ epsilon: 0.1, delta: 0.05 }";

test('hoeffdingLabels past 2^53 returns (the call of the issue) with the closed-form value', { timeout: 120_000 }, async () => {
  const n = (await boundedAll([`c.hoeffdingLabels(1e-20, 1e-10, 1, ${acc})`]))[0] as number;
  // w² log(2/δ) / (2 ε² I²) with w = 1, I = 1e-10.
  const exact = Math.log(2 / 0.05) / (2 * (0.1 * 1e-10) ** 2);
  assert.ok(Number.isFinite(n) && Math.abs(n - exact) <= 1e-12 * exact, `${n} vs ${exact}`);
});

test('Chebyshev, Bernstein, Hoeffding and joint budgets return for extreme inputs', { timeout: 120_000 }, async () => {
  const cases: [string, (v: unknown) => void][] = [
    [`c.chebyshevLabels(1, 1e-12, ${acc})`, (v) => assert.ok(typeof v === 'number' && v > 2 ** 53 && Number.isFinite(v))],
    [`c.bernsteinLabels(1, 1e-12, 1, ${acc}, 7)`, (v) => assert.ok(typeof v === 'number' && v > 2 ** 53 && Number.isFinite(v))],
    // I² underflows to 0: no finite N reaches the accuracy.
    [`c.chebyshevLabels(1, 1e-200, ${acc})`, (v) => assert.equal(v, 'Infinity')],
    [`c.hoeffdingLabels(1, 1e-200, 1, ${acc})`, (v) => assert.equal(v, 'Infinity')],
    [`c.jointInputsNeeded(1, 1, 1e-12, ${acc}, 3)`, (v) => assert.ok(typeof v === 'number' && v > 2 ** 53)],
    [`c.jointInputsNeeded(1, 1, 1e-200, ${acc}, 3)`, (v) => assert.equal(v, 'Infinity')],
    [`c.jointBudget(1e-3, 1, 1e-12, ${acc}, { labelsPerInput: 5 })`, (v) => {
      const b = v as { inputsNeeded: number; minInputs: number; costOptimal: { cost: number; inputs: number; labelsPerInput: number } };
      assert.ok(b.inputsNeeded > 2 ** 53 && b.minInputs > 2 ** 53);
      // The cost-optimal split beats both ends (one label per input, and labels at the floor).
      assert.ok(b.costOptimal.cost <= b.inputsNeeded * 6 && b.costOptimal.labelsPerInput > 1);
    }],
    [`c.jointBudget(1, 1, 1e-200, ${acc})`, (v) => assert.equal((v as { inputsNeeded: string }).inputsNeeded, 'Infinity')],
  ];
  const values = await boundedAll(cases.map(([expr]) => expr));
  cases.forEach(([, check], i) => check(values[i]));
});

test('smallestInteger: exact thresholds below 2^53, the spacing of doubles above, Infinity where unreachable, bounded calls', () => {
  let calls = 0;
  const at = (t: number) => (n: number): boolean => { calls++; return n >= t; };
  for (const t of [1, 2, 3, 17, 1000, 123456789, 2 ** 40 + 7, 2 ** 53 - 1]) {
    for (const guess of [1, t, t - 1, t + 1, t / 3, t * 5, NaN]) {
      calls = 0;
      assert.equal(smallestInteger(at(t), guess), t, `threshold ${t}, guess ${guess}`);
      assert.ok(calls <= 3 * MAX_DOUBLINGS, `${calls} calls`);
    }
  }
  calls = 0;
  assert.equal(smallestInteger(at(Infinity), 1), Infinity);
  assert.ok(calls <= MAX_DOUBLINGS + 2);
  const big = 1e30;
  const n = smallestInteger(at(big), 1e29);
  assert.ok(n >= big && n - big <= big * Number.EPSILON * 2, `${n}`);
  // A good guess is cheap (the per-parameter loops depend on it).
  calls = 0;
  smallestInteger(at(5000), 5000);
  assert.ok(calls <= 3, `${calls} calls with an exact guess`);
});

test('label counts still satisfy their definition: N holds and N − 1 fails', () => {
  const a = { epsilon: 0.1, delta: 0.05 };
  for (const [v, I, n] of [[0.3, 0.7, 1], [2, 0.01, 3], [5e-3, 1e-4, 10]] as const) {
    const N = chebyshevLabels(v, I, a, n);
    const tol = a.delta * a.epsilon ** 2 * I * I;
    assert.ok(v / (n * N) <= tol && (N === 1 || v / (n * (N - 1)) > tol));
    const L = Math.log(2 / a.delta), e = a.epsilon * I;
    const H = hoeffdingLabels(v, I, 1, a, n);
    assert.ok((2 * n * H * e * e) >= L && (H === 1 || (2 * n * (H - 1) * e * e) < L));
    const B = bernsteinLabels(v, I, 0.5, a, n);
    const ok = (k: number): boolean => k * e * e / (2 * v + (2 * 0.5 * e) / 3) >= L;
    assert.ok(ok(n * B) && (B === 1 || !ok(n * (B - 1))));
    const J = jointInputsNeeded(v, 2 * v, I, a, 2);
    assert.ok((v + v) / J <= tol && (J === 1 || (v + v) / (J - 1) > tol));
  }
  const jb = jointBudget(0.01, 1, 0.5, a, { labelsPerInput: 4 });
  assert.equal(jb.inputsNeeded, jointInputsNeeded(0.01, 1, 0.5, a, 4));
});

test('fimkit variance on a well-trained model (the model of the issue) returns', { timeout: 120_000 }, async () => {
  const { execFile } = await import('node:child_process');
  const { mkdtempSync, rmSync, readFileSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const bin = join(here, '..', '..', 'bin', 'fimkit.js');
  const dir = mkdtempSync(join(tmpdir(), 'fimkit-hang-'));
  const run = (args: string[]): Promise<{ code: number; stdout: string; stderr: string }> => new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { timeout: 60_000, cwd: dir, env: { ...process.env, FIMKIT_BACKEND: 'ts' } }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
  });
  try {
    const t = await run(['train', '--data', 'synthetic:blobs?k=3', '--arch', '16-3', '--optimizer', 'sgd', '--lr', '0.1', '--schedule', 'step', '--epochs', '5', '--out', 'runs/b', '--quiet']);
    assert.equal(t.code, 0, t.stderr);
    const v = await run(['variance', '--model', 'runs/b/model.json', '--data', 'synthetic:blobs?k=3', '--json', '--quiet']);
    assert.equal(v.code, 0, `variance did not finish cleanly (killed after 60 s when it hangs): ${v.stderr}`);
    const doc = JSON.parse(readFileSync(join(dir, 'runs/b/variance-conditional.json'), 'utf8')) as object;
    assert.ok(typeof doc === 'object');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
