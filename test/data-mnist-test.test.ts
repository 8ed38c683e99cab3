import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { FimkitError, type ErrorCode } from '../src/core/errors.js';
import { Rng } from '../src/core/rng.js';
import {
  MNIST_FILE_NAMES,
  MNIST_TEST_SPLIT,
  classCounts,
  loadMnistSplit,
  mnistTestSearchDirs,
  mnistTestSplitIndices,
  resolveDataset,
  writeIdxFile,
} from '../src/data/index.js';

/** The read-only MNIST test set: beside the repository (CI) or at the shared path of this machine. */
const SHARED_MNIST = [resolve('../shared/data/mnist'), '/work/shared/data/mnist'].find((d) => existsSync(d)) ?? null;

async function rejectsCode(p: Promise<unknown>, code: ErrorCode, ...patterns: RegExp[]): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof FimkitError, `expected FimkitError, got ${String(e)}`);
    assert.equal(e.code, code, `code ${e.code} (message: ${e.message})`);
    for (const q of patterns) assert.match(e.message, q);
    return true;
  });
}

/** A folder with only the two t10k files: n random 28×28 images, label i % 10. */
function writeFakeT10k(dir: string, n: number): Uint8Array {
  mkdirSync(dir, { recursive: true });
  const rng = new Rng(`t10k-${n}`);
  const px = new Uint8Array(n * 28 * 28);
  for (let k = 0; k < px.length; k++) px[k] = rng.int(256);
  const labels = Uint8Array.from({ length: n }, (_, i) => i % 10);
  writeIdxFile(join(dir, `${MNIST_FILE_NAMES.test.images}.gz`), { type: 'uint8', dims: [n, 28, 28], data: px });
  writeIdxFile(join(dir, `${MNIST_FILE_NAMES.test.labels}.gz`), { type: 'uint8', dims: [n], data: labels });
  return px;
}

test('mnist-test split: 8000/2000 of 10 000, disjoint, sorted, the documented permutation, and stable', () => {
  const s = mnistTestSplitIndices(10000);
  assert.equal(s.train.length, MNIST_TEST_SPLIT.train);
  assert.equal(s.test.length, MNIST_TEST_SPLIT.test);
  const seen = new Uint8Array(10000);
  for (const i of [...s.train, ...s.test]) seen[i]!++;
  assert.ok(seen.every((c) => c === 1), 'every index exactly once');
  for (const a of [s.train, s.test]) for (let k = 1; k < a.length; k++) assert.ok(a[k - 1]! < a[k]!);
  // The documented recipe, recomputed here.
  const perm = new Rng(MNIST_TEST_SPLIT.seed).permutation(10000);
  assert.deepEqual([...s.test], [...perm.slice(8000)].sort((a, b) => a - b));
  assert.deepEqual([...mnistTestSplitIndices(10000).test], [...s.test]);
  // Both halves of the file (the cleaner first 5000 and the harder last 5000) reach the test split.
  const late = s.test.filter((i) => i >= 5000).length;
  assert.ok(late > 900 && late < 1100, `${late} of 2000 test indices from the last 5000`);
  const small = mnistTestSplitIndices(10);
  assert.deepEqual([small.train.length, small.test.length], [8, 2]);
  assert.throws(() => mnistTestSplitIndices(1), /cannot be split/);
});

test('mnist-test and dir: load a t10k-only folder with the same split; an absent folder is an IO error naming where it looked', async () => {
  const root = mkdtempSync(join(tmpdir(), 'fimkit-mnist-test-'));
  const px = writeFakeT10k(join(root, 'only-t10k'), 50);
  const d = await resolveDataset(`dir:${join(root, 'only-t10k')}`);
  assert.deepEqual([d.train.length, d.test.length], [40, 10]);
  const idx = mnistTestSplitIndices(50);
  // Test sample k is image idx.test[k] of the file, pixels / 255.
  assert.equal(d.test.inputs[3 * 784 + 100], Math.fround(px[idx.test[3]! * 784 + 100]! / 255));
  assert.equal(d.test.targets[3], idx.test[3]! % 10);
  // mnist-test:<path> verifies the files as MNIST's own: these random ones are refused.
  await rejectsCode(resolveDataset(`mnist-test:${join(root, 'only-t10k')}`), 'CHECKSUM', /t10k-images-idx3-ubyte\.gz/);
  // Nothing where it looks: the error names the spec, the files, every folder searched and the ways out.
  const saved = process.env['FIMKIT_DATA_DIR'];
  try {
    process.env['FIMKIT_DATA_DIR'] = join(root, 'empty');
    const dirs = mnistTestSearchDirs();
    assert.equal(dirs[0], join(root, 'empty', 'mnist'));
    if (dirs.some((x) => existsSync(join(x, `${MNIST_FILE_NAMES.test.images}.gz`)))) return; // a real copy beside the repo is found first
    await rejectsCode(resolveDataset('mnist-test'), 'IO', /mnist-test/, /t10k-images-idx3-ubyte/, new RegExp(join(root, 'empty', 'mnist').replace(/[/.]/g, '\\$&')), /mnist-test:<path>/);
  } finally {
    if (saved === undefined) delete process.env['FIMKIT_DATA_DIR'];
    else process.env['FIMKIT_DATA_DIR'] = saved;
  }
  await rejectsCode(resolveDataset(`mnist-test:${join(root, 'nowhere')}`), 'IO', /nowhere/);
});

test('mnist-test on the real MNIST test set: 8000 + 2000 images, every class in both, verified', { skip: SHARED_MNIST === null && 'no MNIST test set at ../shared/data/mnist' }, async () => {
  const s = await resolveDataset(`mnist-test:${SHARED_MNIST!}`);
  assert.deepEqual([s.train.length, s.test.length], [8000, 2000]);
  assert.equal(s.train.name, 'mnist-test/train');
  const all = loadMnistSplit(SHARED_MNIST!, 'test', { kind: 'mnist' });
  const total = classCounts(all);
  const tr = classCounts(s.train);
  const te = classCounts(s.test);
  for (let c = 0; c < 10; c++) {
    assert.equal(tr[c]! + te[c]!, total[c]!);
    // A random 20 % sample: each class within 4 binomial standard deviations of 20 % of its count.
    const sd = Math.sqrt(total[c]! * 0.2 * 0.8);
    assert.ok(Math.abs(te[c]! - 0.2 * total[c]!) < 4 * sd, `class ${c}: ${te[c]} of ${total[c]} in the test split`);
  }
  // FIMKIT_DATA_DIR=<dir> finds <dir>/mnist.
  const saved = process.env['FIMKIT_DATA_DIR'];
  try {
    process.env['FIMKIT_DATA_DIR'] = resolve(SHARED_MNIST!, '..');
    const viaEnv = await resolveDataset('mnist-test');
    assert.deepEqual([...viaEnv.test.targets.subarray(0, 20)], [...s.test.targets.subarray(0, 20)]);
  } finally {
    if (saved === undefined) delete process.env['FIMKIT_DATA_DIR'];
    else process.env['FIMKIT_DATA_DIR'] = saved;
  }
});
