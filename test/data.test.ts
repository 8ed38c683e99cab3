import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { FimkitError, type ErrorCode } from '../src/core/errors.js';
import { Rng } from '../src/core/rng.js';
import {
  type Dataset,
  type IdxArray,
  type IdxType,
  DEBIAN_FASHION_MNIST_DIR,
  KNOWN_FILES,
  MNIST_FILE_NAMES,
  batchOf,
  blobCenter,
  classCounts,
  decodeIdx,
  defaultCacheDir,
  downloadMnistLike,
  embeddedDataDir,
  encodeIdx,
  encodeIdxFile,
  gaussianBlobs,
  linearGaussian,
  loadEmbedded,
  loadMnistLike,
  loadMnistSplit,
  logistic,
  parseCsv,
  parseIdx,
  parseIdxAsync,
  parseJsonDataset,
  poissonCounts,
  readIdxFile,
  resolveDataset,
  splitTrainTest,
  subset,
  toDType,
  validateDataset,
  writeIdxFile,
} from '../src/data/index.js';

const SHARED_MNIST = '/work/shared/data/mnist';

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'fimkit-data-'));
}

/** Asserts fn throws a FimkitError with `code` whose message matches every pattern. */
function throwsCode(fn: () => unknown, code: ErrorCode, ...patterns: RegExp[]): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof FimkitError, `expected FimkitError, got ${String(e)}`);
    assert.equal(e.code, code, `code ${e.code} (message: ${e.message})`);
    for (const p of patterns) assert.match(e.message, p);
    return true;
  });
}

async function rejectsCode(p: Promise<unknown>, code: ErrorCode, ...patterns: RegExp[]): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof FimkitError, `expected FimkitError, got ${String(e)}`);
    assert.equal(e.code, code, `code ${e.code} (message: ${e.message})`);
    for (const p of patterns) assert.match(e.message, p);
    return true;
  });
}

/** Diagnostics sink of the running test, so the runner's output shows the figures checked. */
let note: (msg: string) => void = () => {};

function within5Se(label: string, x: number, mu: number, se: number): void {
  note(`${label}: ${x.toPrecision(6)} vs ${mu.toPrecision(6)} (s.e. ${se.toPrecision(2)}, ${(Math.abs(x - mu) / se).toFixed(2)} s.e. off)`);
  assert.ok(Math.abs(x - mu) <= 5 * se, `${label}: ${x} vs ${mu} (5 s.e. = ${5 * se})`);
}

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
const md5 = (b: Uint8Array): string => createHash('md5').update(b).digest('hex');

// ---------------------------------------------------------------- IDX

function sampleArray(type: IdxType, dims: number[], rng: Rng): IdxArray {
  const n = dims.reduce((a, b) => a * b, 1);
  const extremes: Record<IdxType, number[]> = {
    uint8: [0, 255],
    int8: [-128, 127],
    int16: [-32768, 32767],
    int32: [-2147483648, 2147483647],
    float32: [-3.4028234663852886e38, 1.401298464324817e-45, -0, Infinity, NaN],
    float64: [Number.MAX_VALUE, Number.MIN_VALUE, -0, -Infinity, NaN],
  };
  const span: Record<IdxType, [number, number]> = {
    uint8: [0, 256],
    int8: [-128, 128],
    int16: [-32768, 32768],
    int32: [-2147483648, 2147483648],
    float32: [-1e6, 1e6],
    float64: [-1e300, 1e300],
  };
  const ctor = { uint8: Uint8Array, int8: Int8Array, int16: Int16Array, int32: Int32Array, float32: Float32Array, float64: Float64Array }[type];
  const data = new ctor(n);
  const [lo, hi] = span[type];
  for (let i = 0; i < n; i++) {
    const u = lo + (hi - lo) * rng.uniform();
    data[i] = type.startsWith('float') ? u : Math.floor(u);
  }
  extremes[type].forEach((v, k) => (data[k] = v));
  return { type, dims, data };
}

test('idx: hand-built big-endian bytes parse to the right values', () => {
  // int16 [2 × 2]: 0x0102 = 258, 0xFFFE = -2, 0x8000 = -32768, 0x7FFF = 32767.
  const bytes = Uint8Array.from([0, 0, 0x0b, 2, 0, 0, 0, 2, 0, 0, 0, 2, 0x01, 0x02, 0xff, 0xfe, 0x80, 0x00, 0x7f, 0xff]);
  const a = parseIdx(bytes);
  assert.equal(a.type, 'int16');
  assert.deepEqual(a.dims, [2, 2]);
  assert.deepEqual([...a.data], [258, -2, -32768, 32767]);
  // float64 [1]: 1.5 is 0x3FF8000000000000; float32 [1]: -2 is 0xC0000000.
  assert.deepEqual([...parseIdx(Uint8Array.from([0, 0, 0x0e, 1, 0, 0, 0, 1, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0])).data], [1.5]);
  assert.deepEqual([...parseIdx(Uint8Array.from([0, 0, 0x0d, 1, 0, 0, 0, 1, 0xc0, 0, 0, 0])).data], [-2]);
  // int8 and the writer's header: magic 00 00, code, ndims, dims big-endian.
  const enc = encodeIdx({ type: 'int8', dims: [3, 1], data: Int8Array.from([-1, 0, 127]) });
  assert.deepEqual([...enc], [0, 0, 0x09, 2, 0, 0, 0, 3, 0, 0, 0, 1, 0xff, 0, 127]);
  assert.equal(encodeIdx({ type: 'int32', dims: [1], data: Int32Array.from([0x01020304]) })[8], 0x01);
});

test('idx: every type code round-trips raw and gzipped, through bytes and files', async () => {
  const rng = new Rng('idx-roundtrip');
  const dir = tmp();
  try {
    for (const type of ['uint8', 'int8', 'int16', 'int32', 'float32', 'float64'] as IdxType[]) {
      for (const dims of [[7], [3, 5], [2, 3, 4], [0, 4]]) {
        const arr = sampleArray(type, dims, rng);
        for (const gzip of [false, true]) {
          const bytes = encodeIdxFile(arr, { gzip });
          assert.equal(bytes[0] === 0x1f && bytes[1] === 0x8b, gzip);
          const back = decodeIdx(bytes);
          assert.equal(back.type, type);
          assert.deepEqual(back.dims, dims);
          assert.equal(back.data.constructor, arr.data.constructor);
          // Object.is tells -0 from 0 and matches NaN with NaN.
          for (let i = 0; i < arr.data.length; i++) assert.ok(Object.is(back.data[i], arr.data[i]), `${type} ${gzip} [${i}]`);
          const path = join(dir, `${type}-${dims.join('x')}${gzip ? '.gz' : ''}`);
          writeIdxFile(path, arr);
          assert.equal(readFileSync(path)[0] === 0x1f, gzip, 'writeIdxFile gzips by the .gz suffix');
          assert.deepEqual([...readIdxFile(path).data].map(String), [...arr.data].map(String));
          const viaStreams = await parseIdxAsync(bytes);
          assert.deepEqual([...viaStreams.data].map(String), [...arr.data].map(String));
        }
      }
    }
    // Without a gunzip function the pure parser says what to do instead of misreading bytes.
    throwsCode(() => parseIdx(encodeIdxFile(sampleArray('uint8', [3], rng), { gzip: true })), 'INVALID_ARGUMENT', /gzip/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('idx: malformed files give the right error code and name the problem', async () => {
  const good = encodeIdx({ type: 'int32', dims: [2, 3], data: Int32Array.from([1, 2, 3, 4, 5, 6]) }); // 12 + 24 = 36 bytes
  assert.equal(good.length, 36);
  throwsCode(() => parseIdx(good.subarray(0, 35), { source: 'x.idx' }), 'TRUNCATED_FILE', /x\.idx/, /needs 36 bytes/, /there are 35/);
  throwsCode(() => parseIdx(good.subarray(0, 9)), 'TRUNCATED_FILE', /header/, /12 header bytes/, /has 9/);
  throwsCode(() => parseIdx(good.subarray(0, 3)), 'TRUNCATED_FILE', /too short/);
  const withTrailing = new Uint8Array(39);
  withTrailing.set(good);
  throwsCode(() => parseIdx(withTrailing), 'CORRUPT_FILE', /3 trailing bytes/, /36 bytes, got 39/);
  const badMagic = good.slice();
  badMagic[1] = 0x08;
  throwsCode(() => parseIdx(badMagic), 'CORRUPT_FILE', /magic/, /0x08/);
  const badType = good.slice();
  badType[2] = 0x0a;
  throwsCode(() => parseIdx(badType), 'CORRUPT_FILE', /type code 0x0a/);
  const zeroDims = good.slice();
  zeroDims[3] = 0;
  throwsCode(() => parseIdx(zeroDims), 'CORRUPT_FILE', /dimension count 0/);
  // A header claiming 2^32-1 × 2^32-1 elements is reported, not allocated.
  const huge = Uint8Array.from([0, 0, 0x08, 2, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1, 2]);
  throwsCode(() => parseIdx(huge), 'TRUNCATED_FILE', /4294967295 × 4294967295/);

  // Compressed files: the IDX checks apply after gunzip; gzip damage has its own message.
  throwsCode(() => decodeIdx(gzipSync(good.subarray(0, 35)), 'y.gz'), 'TRUNCATED_FILE', /y\.gz/, /needs 36 bytes/);
  const gz = new Uint8Array(gzipSync(good));
  const badCrc = gz.slice();
  badCrc[gz.length - 6] ^= 0xff; // inside the CRC-32 of the trailer
  throwsCode(() => decodeIdx(badCrc, 'crc.gz'), 'CORRUPT_FILE', /crc\.gz/, /corrupt gzip/);
  const badMethod = gz.slice();
  badMethod[2] = 7; // compression method other than deflate
  throwsCode(() => decodeIdx(badMethod, 'm.gz'), 'CORRUPT_FILE', /corrupt gzip/);
  throwsCode(() => decodeIdx(gz.subarray(0, gz.length - 10), 'short.gz'), 'TRUNCATED_FILE', /ends early/);
  await assert.rejects(parseIdxAsync(badCrc, 'crc.gz'), (e: unknown) => e instanceof FimkitError && e.code === 'CORRUPT_FILE');
  // File helpers name the path of a missing file.
  throwsCode(() => readIdxFile('/nonexistent/fimkit/file.idx'), 'IO', /\/nonexistent\/fimkit\/file\.idx/, /no such file/);
});

// ---------------------------------------------------------------- Dataset helpers

function smallDataset(): Dataset {
  // 5 samples, shape [2, 3]; value = 10 * sample + feature, labels 0..2.
  const inputs = new Float32Array(30);
  for (let i = 0; i < 5; i++) for (let j = 0; j < 6; j++) inputs[i * 6 + j] = 10 * i + j;
  return { name: 'small', length: 5, inputShape: [2, 3], inputs, targetKind: 'class', targets: Int32Array.from([0, 2, 1, 1, 0]), targetDim: 1, numClasses: 3 };
}

test('dataset: validateDataset names the offending sample, feature and value', () => {
  validateDataset(smallDataset());
  const nan = smallDataset();
  (nan.inputs as Float32Array)[3 * 6 + 4] = NaN;
  throwsCode(() => validateDataset(nan), 'NON_FINITE', /sample 3/, /feature 4/, /position \[1, 1\]/, /NaN/);
  const inf = smallDataset();
  (inf.inputs as Float32Array)[2] = -Infinity;
  throwsCode(() => validateDataset(inf), 'NON_FINITE', /sample 0/, /feature 2/, /-Infinity/);
  throwsCode(() => validateDataset({ ...smallDataset(), targets: Int32Array.from([0, 2, 3, 1, 0]) }), 'LABEL_RANGE', /sample 2/, /is 3/, /\[0, 3\)/);
  throwsCode(() => validateDataset({ ...smallDataset(), targets: Int32Array.from([0, -1, 1, 1, 0]) }), 'LABEL_RANGE', /sample 1/, /-1/);
  throwsCode(() => validateDataset({ ...smallDataset(), length: 6 }), 'SHAPE', /30 values/, /needs 36/);
  throwsCode(() => validateDataset({ ...smallDataset(), targets: new Int32Array(4) }), 'SHAPE', /4 class labels for 5 samples/);
  throwsCode(() => validateDataset({ ...smallDataset(), targets: new Float32Array(5) }), 'DTYPE', /Int32Array/);
  const real = (targets: Float64Array, kind: Dataset['targetKind'], targetDim = 1): Dataset => ({
    name: 'r',
    length: 2,
    inputShape: [1],
    inputs: new Float64Array(2),
    targetKind: kind,
    targets,
    targetDim,
  });
  validateDataset(real(Float64Array.from([0, 7]), 'count'));
  throwsCode(() => validateDataset(real(Float64Array.from([0, -1]), 'count')), 'LABEL_RANGE', /sample 1/, /-1/);
  throwsCode(() => validateDataset(real(Float64Array.from([2.5, 1]), 'count')), 'LABEL_RANGE', /sample 0/, /2\.5/);
  validateDataset(real(Float64Array.from([0, 1, 1, 0]), 'multilabel', 2));
  throwsCode(() => validateDataset(real(Float64Array.from([0, 1, 0.5, 0]), 'multilabel', 2)), 'LABEL_RANGE', /sample 1, component 0/, /0\.5/);
  throwsCode(() => validateDataset(real(Float64Array.from([0, NaN]), 'real')), 'NON_FINITE', /target of sample 1/);
});

test('dataset: subset, toDType and batchOf gather exactly the requested samples', () => {
  const ds = smallDataset();
  const sub = subset(ds, [4, 1, 1]);
  assert.equal(sub.length, 3);
  assert.deepEqual([...sub.targets], [0, 2, 2]);
  assert.deepEqual([...sub.inputs.subarray(0, 6)], [40, 41, 42, 43, 44, 45]);
  assert.deepEqual([...sub.inputs.subarray(12, 18)], [10, 11, 12, 13, 14, 15]);
  throwsCode(() => subset(ds, [0, 5]), 'INVALID_ARGUMENT', /index 5 at position 1/);

  const d64 = toDType(ds, 'float64');
  assert.ok(d64.inputs instanceof Float64Array);
  assert.deepEqual([...d64.inputs], [...ds.inputs]);
  assert.equal(toDType(ds, 'float32'), ds, 'no copy when the dtype already matches');

  // Brute-force reference: per-sample slices.
  const idx = Uint32Array.from([3, 0, 4]);
  for (const dtype of ['float32', 'float64'] as const) {
    const b = batchOf(ds, idx, dtype);
    assert.equal(b.batchSize, 3);
    assert.ok(b.inputs instanceof (dtype === 'float32' ? Float32Array : Float64Array));
    const want = [...idx].flatMap((i) => [...ds.inputs.subarray(i * 6, i * 6 + 6)]);
    assert.deepEqual([...b.inputs], want);
    assert.deepEqual([...b.targets], [1, 0, 0]);
    assert.ok(b.targets instanceof Int32Array);
  }
  // Preallocated buffers are filled in place; a longer buffer is used through a front view.
  const bufIn = new Float64Array(18);
  const bufT = new Int32Array(3);
  const b1 = batchOf(ds, idx, 'float64', { inputs: bufIn, targets: bufT });
  assert.equal(b1.inputs, bufIn);
  assert.equal(b1.targets, bufT);
  const b2 = batchOf(ds, [2, 2], 'float64', { inputs: bufIn, targets: bufT });
  assert.equal(b2.inputs.buffer, bufIn.buffer);
  assert.equal(b2.inputs.length, 12);
  assert.deepEqual([...b2.targets], [1, 1]);
  assert.deepEqual([...bufIn.subarray(0, 6)], [20, 21, 22, 23, 24, 25]);
  throwsCode(() => batchOf(ds, idx, 'float32', { inputs: bufIn }), 'DTYPE', /Float64Array/, /Float32Array/);
  throwsCode(() => batchOf(ds, idx, 'float64', { inputs: new Float64Array(10) }), 'SHAPE', /holds 10/, /needs 18/);
  throwsCode(() => batchOf(ds, [1, 9], 'float64'), 'INVALID_ARGUMENT', /index 9 at position 1/);
  throwsCode(() => batchOf(ds, [0.5], 'float64'), 'INVALID_ARGUMENT', /index 0\.5/);

  // Real targets come back in the batch dtype, targetDim per sample.
  const reg: Dataset = { name: 'reg', length: 3, inputShape: [1], inputs: Float32Array.from([1, 2, 3]), targetKind: 'real', targets: Float32Array.from([0.5, 1, 1.5, 2, 2.5, 3]), targetDim: 2 };
  const rb = batchOf(reg, [2, 0], 'float64');
  assert.ok(rb.targets instanceof Float64Array);
  assert.deepEqual([...rb.targets], [2.5, 3, 0.5, 1]);
});

test('dataset: splitTrainTest partitions the samples reproducibly', () => {
  const n = 101;
  const inputs = new Float64Array(n);
  for (let i = 0; i < n; i++) inputs[i] = i;
  const ds: Dataset = { name: 'ids', length: n, inputShape: [1], inputs, targetKind: 'real', targets: new Float64Array(n), targetDim: 1 };
  const s = splitTrainTest(ds, 0.25, new Rng(7));
  assert.equal(s.test.length, 25); // round(101 × 0.25)
  assert.equal(s.train.length, 76);
  const all = [...s.train.inputs, ...s.test.inputs].sort((a, b) => a - b);
  assert.deepEqual(all, [...inputs], 'train ∪ test is every sample exactly once');
  assert.deepEqual([...splitTrainTest(ds, 0.25, new Rng(7)).test.inputs], [...s.test.inputs]);
  assert.notDeepEqual([...splitTrainTest(ds, 0.25, new Rng(8)).test.inputs], [...s.test.inputs]);
  throwsCode(() => splitTrainTest(ds, 1, new Rng(0)), 'INVALID_ARGUMENT', /testFraction/);
});

// ---------------------------------------------------------------- MNIST-format directories

/** Writes a tiny MNIST-format directory; returns the uint8 pixels and labels written. */
function writeFakeMnist(dir: string, opts: { nTrain: number; nTest: number; gzip: boolean; rows?: number; badLabel?: number }): { px: Uint8Array[]; labels: Uint8Array[] } {
  const rng = new Rng(`fake-${opts.nTrain}`);
  const rows = opts.rows ?? 28;
  const out = { px: [] as Uint8Array[], labels: [] as Uint8Array[] };
  for (const [split, n] of [['train', opts.nTrain], ['test', opts.nTest]] as const) {
    const px = new Uint8Array(n * rows * 28);
    for (let k = 0; k < px.length; k++) px[k] = rng.int(256);
    const labels = new Uint8Array(n);
    for (let i = 0; i < n; i++) labels[i] = i % 10;
    if (opts.badLabel !== undefined && split === 'test') labels[1] = opts.badLabel;
    const sfx = opts.gzip ? '.gz' : '';
    writeIdxFile(join(dir, MNIST_FILE_NAMES[split].images + sfx), { type: 'uint8', dims: [n, rows, 28], data: px });
    writeIdxFile(join(dir, MNIST_FILE_NAMES[split].labels + sfx), { type: 'uint8', dims: [n], data: labels });
    out.px.push(px);
    out.labels.push(labels);
  }
  return out;
}

test('mnist: loads an MNIST-format directory, pixels / 255, and checks counts and labels', () => {
  const dir = tmp();
  try {
    const written = writeFakeMnist(dir, { nTrain: 12, nTest: 5, gzip: true });
    const { train, test: tst } = loadMnistLike(dir, { kind: 'fashion-mnist', verify: false });
    assert.equal(train.length, 12);
    assert.equal(tst.length, 5);
    assert.deepEqual(train.inputShape, [1, 28, 28]);
    assert.equal(train.classNames?.[9], 'Ankle boot');
    assert.ok(train.inputs instanceof Float32Array);
    for (let k = 0; k < train.inputs.length; k++) assert.equal(train.inputs[k], Math.fround(written.px[0]![k]! / 255));
    assert.deepEqual([...tst.targets], [...written.labels[1]!]);
    // Standardisation uses the training images' scalar mean and std, for both splits.
    const st = loadMnistLike(dir, { normalize: 'standardize', flatten: true });
    assert.deepEqual(st.train.inputShape, [784]);
    const u = written.px[0]!;
    const mean = u.reduce((a, p) => a + p / 255, 0) / u.length;
    const std = Math.sqrt(u.reduce((a, p) => a + (p / 255 - mean) ** 2, 0) / u.length);
    const p0 = written.px[1]![0]! / 255;
    assert.ok(Math.abs(st.test.inputs[0]! - (p0 - mean) / std) < 1e-5);
    let s = 0;
    let ss = 0;
    for (const v of st.train.inputs) {
      s += v;
      ss += v * v;
    }
    assert.ok(Math.abs(s / u.length) < 1e-5 && Math.abs(ss / u.length - 1) < 1e-4);

    // Count mismatch between images and labels.
    writeIdxFile(join(dir, 't10k-labels-idx1-ubyte.gz'), { type: 'uint8', dims: [4], data: new Uint8Array(4) });
    throwsCode(() => loadMnistLike(dir), 'SHAPE', /5 images/, /4 labels/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const bad = tmp();
  try {
    writeFakeMnist(bad, { nTrain: 3, nTest: 3, gzip: false, badLabel: 11 });
    throwsCode(() => loadMnistLike(bad), 'LABEL_RANGE', /sample 1/, /is 11/, /t10k-labels-idx1-ubyte/);
    writeFakeMnist(bad, { nTrain: 3, nTest: 3, gzip: false, rows: 27 });
    throwsCode(() => loadMnistLike(bad, { kind: 'mnist', verify: false }), 'SHAPE', /28 × 28, got 27 × 28/);
    rmSync(join(bad, 'train-images-idx3-ubyte'));
    throwsCode(() => loadMnistLike(bad), 'IO', /missing train-images-idx3-ubyte/);
  } finally {
    rmSync(bad, { recursive: true, force: true });
  }
});

test('mnist: the official MNIST test files verify against the built-in digests and load', { skip: !existsSync(SHARED_MNIST) && `${SHARED_MNIST} absent` }, () => {
  const tst = loadMnistSplit(SHARED_MNIST, 'test', { kind: 'mnist' });
  assert.equal(tst.length, 10000);
  assert.deepEqual(tst.inputShape, [1, 28, 28]);
  // Published class frequencies of the MNIST test set.
  assert.deepEqual(classCounts(tst), [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]);
  let min = Infinity;
  let max = -Infinity;
  for (const v of tst.inputs) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  assert.deepEqual([min, max], [0, 1]);
  // The digests are the files' own, not just any consistent table: recompute them here.
  for (const f of ['t10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte']) {
    const b = readFileSync(join(SHARED_MNIST, `${f}.gz`));
    assert.equal(sha256(b), KNOWN_FILES.mnist[f]!.gzSha256);
    assert.equal(md5(b), KNOWN_FILES.mnist[f]!.gzMd5);
    assert.equal(b.length, KNOWN_FILES.mnist[f]!.gzBytes);
  }
});

// ---------------------------------------------------------------- downloads over local http

interface LocalServer {
  baseUrl: string;
  hits: string[];
  close(): Promise<void>;
}

async function serve(files: Record<string, Uint8Array>): Promise<LocalServer> {
  const hits: string[] = [];
  const server: Server = createServer((req, res) => {
    const name = (req.url ?? '/').replace(/^\/+/, '');
    hits.push(name);
    const body = files[name];
    if (body === undefined) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length }).end(Buffer.from(body));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return { baseUrl: `http://127.0.0.1:${port}/`, hits, close: () => new Promise((r) => server.close(() => r())) };
}

test('download: verified files land in the cache; a checksum mismatch is refused and not kept', async () => {
  const rng = new Rng('dl');
  const gz = (arr: IdxArray): Uint8Array => encodeIdxFile(arr, { gzip: true });
  const files: Record<string, Uint8Array> = {};
  for (const split of ['train', 'test'] as const) {
    const n = split === 'train' ? 6 : 4;
    const px = new Uint8Array(n * 784).map(() => rng.int(256));
    files[`${MNIST_FILE_NAMES[split].images}.gz`] = gz({ type: 'uint8', dims: [n, 28, 28], data: px });
    files[`${MNIST_FILE_NAMES[split].labels}.gz`] = gz({ type: 'uint8', dims: [n], data: new Uint8Array(n).map((_, i) => i % 10) });
  }
  const known = Object.fromEntries(Object.entries(files).map(([f, b]) => [f.replace(/\.gz$/, ''), { gzSha256: sha256(b), gzMd5: md5(b) }]));
  const server = await serve(files);
  const cache = tmp();
  try {
    const dir = await downloadMnistLike('mnist', { cacheDir: cache, baseUrl: server.baseUrl, knownFiles: known });
    assert.equal(dir, cache);
    assert.deepEqual(readdirSync(cache).sort(), Object.keys(files).sort());
    const split = loadMnistLike(cache, {});
    assert.equal(split.train.length, 6);
    assert.equal(split.test.length, 4);
    // A second call finds verified copies and fetches nothing.
    const before = server.hits.length;
    await downloadMnistLike('mnist', { cacheDir: cache, baseUrl: server.baseUrl, knownFiles: known });
    assert.equal(server.hits.length, before);

    // Tampered server copy of one file: CHECKSUM error naming file and both digests; nothing saved.
    const fresh = tmp();
    const name = 't10k-labels-idx1-ubyte.gz';
    const good = files[name]!;
    const tampered = good.slice();
    tampered[tampered.length - 5] ^= 1;
    files[name] = tampered;
    try {
      await rejectsCode(
        downloadMnistLike('mnist', { cacheDir: fresh, baseUrl: server.baseUrl, knownFiles: known }),
        'CHECKSUM',
        new RegExp(name.replace(/\./g, '\\.')),
        new RegExp(`expected ${sha256(good)}`),
        new RegExp(`got ${sha256(tampered)}`),
      );
      assert.ok(!existsSync(join(fresh, name)), 'the bad file is not kept');
      assert.deepEqual(readdirSync(fresh).filter((f) => f.includes('t10k-labels')), [], 'no temp file left either');
      // A damaged cached copy is replaced by a verified download.
      files[name] = good;
      writeFileSync(join(cache, name), tampered);
      await downloadMnistLike('mnist', { cacheDir: cache, baseUrl: server.baseUrl, knownFiles: known });
      assert.equal(sha256(readFileSync(join(cache, name))), sha256(good));
    } finally {
      rmSync(fresh, { recursive: true, force: true });
    }

    // HTTP errors name the URL and status; an injected fetch is used instead of the global one.
    const urls: string[] = [];
    await rejectsCode(
      downloadMnistLike('mnist', {
        cacheDir: join(cache, 'unreachable'),
        baseUrl: 'http://mirror.invalid/mnist',
        knownFiles: known,
        fetch: async (url) => {
          urls.push(url);
          return { ok: false, status: 404, statusText: 'Not Found', arrayBuffer: async () => new ArrayBuffer(0) };
        },
      }),
      'IO',
      /http:\/\/mirror\.invalid\/mnist\/train-images-idx3-ubyte\.gz/,
      /HTTP 404/,
    );
    assert.deepEqual(urls, ['http://mirror.invalid/mnist/train-images-idx3-ubyte.gz']);
  } finally {
    await server.close();
    rmSync(cache, { recursive: true, force: true });
  }
});

test('download: the official MNIST test files pass the built-in digests end to end', { skip: !existsSync(SHARED_MNIST) && `${SHARED_MNIST} absent` }, async () => {
  const files: Record<string, Uint8Array> = {};
  for (const f of readdirSync(SHARED_MNIST)) files[f] = new Uint8Array(readFileSync(join(SHARED_MNIST, f)));
  const server = await serve(files);
  const cache = tmp();
  try {
    await downloadMnistLike('mnist', { cacheDir: cache, baseUrl: server.baseUrl, splits: ['test'] });
    assert.equal(loadMnistSplit(cache, 'test', { kind: 'mnist' }).length, 10000);
  } finally {
    await server.close();
    rmSync(cache, { recursive: true, force: true });
  }
});

/**
 * The official Fashion-MNIST .gz files, rebuilt from Debian's copies by restoring the gzip
 * header fields Debian's packaging rewrote (FNAME flag and name, original time stamp).
 */
function officialFashionGzip(name: string): Uint8Array {
  const deb = readFileSync(join(DEBIAN_FASHION_MNIST_DIR, name));
  assert.equal(deb[3], 0, 'Debian copy has no optional header fields');
  const mtime = name.startsWith('train') ? 1504176606 : 1504176627;
  const header = Buffer.alloc(10);
  header.set([0x1f, 0x8b, 8, 0x08]);
  header.writeUInt32LE(mtime, 4);
  header.set([0, 3], 8);
  return new Uint8Array(Buffer.concat([header, Buffer.from(name.replace(/\.gz$/, '') + '\0'), deb.subarray(10)]));
}

test('fashion-mnist: official files match the published MD5s and download-verify; Debian copies load 60000/10000', { skip: !existsSync(DEBIAN_FASHION_MNIST_DIR) && `${DEBIAN_FASHION_MNIST_DIR} absent (apt-get install dataset-fashion-mnist)` }, async () => {
  // MD5s as printed in the dataset's README (Get the Data table).
  const published: Record<string, string> = {
    'train-images-idx3-ubyte.gz': '8d4fb7e6c68d591d4c3dfef9ec88bf0d',
    'train-labels-idx1-ubyte.gz': '25c81989df183df01b3e8a0aad5dffbe',
    't10k-images-idx3-ubyte.gz': 'bef4ecab320f06d8554ea6380940ec79',
    't10k-labels-idx1-ubyte.gz': 'bb300cfdad3c16e7a12a480ee83cd310',
  };
  const files: Record<string, Uint8Array> = {};
  for (const [name, want] of Object.entries(published)) {
    files[name] = officialFashionGzip(name);
    assert.equal(md5(files[name]!), want, `${name}: rebuilt official file`);
  }
  const server = await serve(files);
  const cache = tmp();
  try {
    await downloadMnistLike('fashion-mnist', { cacheDir: cache, baseUrl: server.baseUrl, splits: ['test'] });
    assert.equal(loadMnistSplit(cache, 'test', { kind: 'fashion-mnist' }).length, 10000);
  } finally {
    await server.close();
    rmSync(cache, { recursive: true, force: true });
  }

  const { train, test: tst } = loadMnistLike(DEBIAN_FASHION_MNIST_DIR, { kind: 'fashion-mnist' });
  assert.equal(train.length, 60000);
  assert.equal(tst.length, 10000);
  // Fashion-MNIST is balanced: 6000 / 1000 images per class.
  assert.deepEqual(classCounts(train), new Array(10).fill(6000));
  assert.deepEqual(classCounts(tst), new Array(10).fill(1000));
});

test('mnist: a wrong file under a known name fails verification', () => {
  const dir = tmp();
  try {
    writeFakeMnist(dir, { nTrain: 3, nTest: 3, gzip: true });
    throwsCode(() => loadMnistLike(dir, { kind: 'fashion-mnist' }), 'CHECKSUM', /train-images-idx3-ubyte\.gz/, /expected c59f468a/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// ---------------------------------------------------------------- embedded subset

test('embedded: 12000 + 2000 images, 1200 / 200 per class, verified against SHA256SUMS', () => {
  const { train, test: tst } = loadEmbedded();
  assert.equal(train.length, 12000);
  assert.equal(tst.length, 2000);
  assert.deepEqual(classCounts(train), new Array(10).fill(1200));
  assert.deepEqual(classCounts(tst), new Array(10).fill(200));
  assert.deepEqual(train.inputShape, [1, 28, 28]);
  assert.equal(train.classNames?.[0], 'T-shirt/top');

  // A damaged copy is refused.
  const copy = tmp();
  try {
    cpSync(embeddedDataDir(), copy, { recursive: true });
    const f = join(copy, 't10k-labels-idx1-ubyte.gz');
    const b = readFileSync(f);
    b[b.length - 1] ^= 1;
    writeFileSync(f, b);
    throwsCode(() => loadEmbedded({ dir: copy }), 'CHECKSUM', /t10k-labels-idx1-ubyte\.gz/, /SHA256SUMS says/);
  } finally {
    rmSync(copy, { recursive: true, force: true });
  }
});

test('embedded: every image and label equals the original at its recorded source index', { skip: !existsSync(DEBIAN_FASHION_MNIST_DIR) && `${DEBIAN_FASHION_MNIST_DIR} absent` }, () => {
  const dir = embeddedDataDir();
  for (const split of ['train', 'test'] as const) {
    const prefix = split === 'train' ? 'train' : 't10k';
    const src = readIdxFile(join(dir, `${prefix}-source-indices-idx1-int.gz`)).data;
    const img = readIdxFile(join(dir, `${MNIST_FILE_NAMES[split].images}.gz`)).data;
    const lab = readIdxFile(join(dir, `${MNIST_FILE_NAMES[split].labels}.gz`)).data;
    const oImg = readIdxFile(join(DEBIAN_FASHION_MNIST_DIR, `${MNIST_FILE_NAMES[split].images}.gz`)).data;
    const oLab = readIdxFile(join(DEBIAN_FASHION_MNIST_DIR, `${MNIST_FILE_NAMES[split].labels}.gz`)).data;
    for (let r = 0; r < src.length; r++) {
      const i = src[r]!;
      if (r > 0) assert.ok(i > src[r - 1]!, 'source indices strictly increase (distinct, original order)');
      assert.equal(lab[r], oLab[i]);
      for (let k = 0; k < 784; k++) if (img[r * 784 + k] !== oImg[i * 784 + k]) assert.fail(`${split} image ${r} differs from original ${i} at pixel ${k}`);
    }
  }
});

// ---------------------------------------------------------------- tabular

test('csv: numeric features, class-name or real targets, and errors naming row and column', () => {
  const text = 'x1,"x 2",label\r\n1.5, 2,cat\n-3,4e-1,dog\n\n0,0,"cat"\n';
  const ds = parseCsv(text, {}, 'pets.csv');
  assert.equal(ds.length, 3);
  assert.deepEqual(ds.inputShape, [2]);
  assert.deepEqual([...ds.inputs], [1.5, 2, -3, 0.4, 0, 0]);
  assert.equal(ds.targetKind, 'class');
  assert.deepEqual(ds.classNames, ['cat', 'dog']);
  assert.deepEqual([...ds.targets], [0, 1, 0]);

  const reg = parseCsv('a,b,y\n1,2,0.5\n3,4,-1\n');
  assert.equal(reg.targetKind, 'real');
  assert.deepEqual([...reg.targets], [0.5, -1]);
  const ints = parseCsv('a,y\n1,0\n2,3\n');
  assert.equal(ints.targetKind, 'class');
  assert.equal(ints.numClasses, 4);
  const counts = parseCsv('a,y\n1,0\n2,3\n', { targetKind: 'count' });
  assert.equal(counts.targetKind, 'count');
  const picked = parseCsv('a,b,c\n1,2,3\n', { target: 'a', features: ['c'], targetKind: 'real' });
  assert.deepEqual([...picked.inputs], [3]);

  throwsCode(() => parseCsv('a,b,y\n1,2,0\n3,oops,1\n', {}, 'f.csv'), 'CORRUPT_FILE', /f\.csv/, /row 2 \(line 3\)/, /column 'b'/, /"oops"/);
  throwsCode(() => parseCsv('a,b,y\n1,,0\n'), 'CORRUPT_FILE', /row 1/, /column 'b'/, /empty cell/);
  throwsCode(() => parseCsv('a,b,y\n1,2,0\n3,4\n'), 'CORRUPT_FILE', /ragged row on line 3/, /2 fields/, /header has 3/);
  throwsCode(() => parseCsv('a,b,y\n1,NaN,0\n'), 'NON_FINITE', /row 1/, /column 'b'/);
  throwsCode(() => parseCsv('a,y\n1,0\n', { target: 'z' }), 'INVALID_ARGUMENT', /no column 'z'/);
  throwsCode(() => parseCsv('a,y\n1,-2\n', { targetKind: 'class' }), 'LABEL_RANGE', /row 1/, /-2/);
  throwsCode(() => parseCsv('a,y\n"1,0\n'), 'CORRUPT_FILE', /never closed/);
  throwsCode(() => parseCsv('a,a\n1,0\n'), 'CORRUPT_FILE', /twice/);
});

test('json: object and record forms, nested inputs, and shape errors', () => {
  const obj = parseJsonDataset(JSON.stringify({ inputs: [[[1, 2], [3, 4]], [[5, 6], [7, 8]]], targets: [1, 0], numClasses: 3 }));
  assert.deepEqual(obj.inputShape, [2, 2]);
  assert.deepEqual([...obj.inputs], [1, 2, 3, 4, 5, 6, 7, 8]);
  assert.equal(obj.numClasses, 3);
  const vec = parseJsonDataset(JSON.stringify({ inputs: [[1], [2]], targets: [[0.5, 1], [2, 3]] }));
  assert.equal(vec.targetKind, 'real');
  assert.equal(vec.targetDim, 2);
  const ml = parseJsonDataset(JSON.stringify({ inputs: [[1], [2]], targets: [[0, 1], [1, 1]], targetKind: 'multilabel' }));
  assert.equal(ml.targetKind, 'multilabel');
  const rec = parseJsonDataset(JSON.stringify([{ x: 1, z: 2, y: 'b' }, { x: 3, z: 4, y: 'a' }]));
  assert.deepEqual([...rec.inputs], [1, 2, 3, 4]);
  assert.deepEqual([...rec.targets], [1, 0]);
  throwsCode(() => parseJsonDataset(JSON.stringify({ inputs: [[1, 2], [3]], targets: [0, 1] })), 'SHAPE', /inputs\[1\] has shape \[1\]/);
  throwsCode(() => parseJsonDataset(JSON.stringify({ inputs: [[1], [2]], targets: [0] })), 'SHAPE', /2 inputs but 1 targets/);
  throwsCode(() => parseJsonDataset(JSON.stringify([{ x: 1, y: 0 }, { x: 'q', y: 1 }])), 'CORRUPT_FILE', /record 1/, /column 'x'/);
  throwsCode(() => parseJsonDataset(JSON.stringify([{ x: 1, y: 0 }, { y: 1 }])), 'CORRUPT_FILE', /record 1/, /missing 'x'/);
  throwsCode(() => parseJsonDataset('{"inputs": [1,'), 'CORRUPT_FILE', /invalid JSON/);
});

// ---------------------------------------------------------------- synthetic

/** E[f(Z)], Z ~ N(0, 1), by composite Simpson on [-12, 12] (error far below the test tolerances). */
function gaussianExpectation(f: (z: number) => number): number {
  const m = 4000;
  const h = 24 / m;
  let s = 0;
  for (let i = 0; i <= m; i++) {
    const z = -12 + i * h;
    const w = i === 0 || i === m ? 1 : i % 2 === 1 ? 4 : 2;
    s += w * f(z) * Math.exp(-0.5 * z * z);
  }
  return ((s * h) / 3) / Math.sqrt(2 * Math.PI);
}

function meanAndSe(values: ArrayLike<number>): { mean: number; se: number } {
  const n = values.length;
  let s = 0;
  for (let i = 0; i < n; i++) s += values[i]!;
  const mean = s / n;
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (values[i]! - mean) ** 2;
  return { mean, se: Math.sqrt(ss / (n - 1) / n) };
}

test('synthetic: logistic labels match E[σ(b + θᵀx)] and Stein\'s identity E[y x] = θ E[σ\'(η)]', (t) => {
  note = (m) => t.diagnostic(m);
  assert.ok(Math.abs(gaussianExpectation((z) => z * z) - 1) < 1e-10, 'quadrature sanity check: E[Z²] = 1');
  const theta = [1, -0.5];
  const bias = 0.5;
  const n = 100000;
  const ds = logistic({ n, theta, bias, seed: 11 });
  assert.equal(ds.numClasses, 2);
  const tau = Math.hypot(...theta); // θᵀx ~ N(0, |θ|²)
  const sig = (t: number): number => 1 / (1 + Math.exp(-t));
  const p = gaussianExpectation((z) => sig(bias + tau * z));
  const y = Float64Array.from(ds.targets);
  const { mean } = meanAndSe(y);
  within5Se('label mean', mean, p, Math.sqrt((p * (1 - p)) / n)); // y is Bernoulli(p) marginally
  const dsig = gaussianExpectation((z) => sig(bias + tau * z) * (1 - sig(bias + tau * z)));
  for (let j = 0; j < 2; j++) {
    const yx = y.map((v, i) => v * ds.inputs[i * 2 + j]!);
    const m = meanAndSe(yx);
    within5Se(`E[y x_${j}]`, m.mean, theta[j]! * dsig, m.se);
  }
  // Default θ = (1, 1): x is 2-D standard normal.
  const d = logistic({ n: 10, seed: 1 });
  assert.deepEqual(d.inputShape, [2]);
  assert.deepEqual([...logistic({ n: 10, seed: 1 }).targets], [...d.targets], 'same seed, same data');
});

test('synthetic: linear-Gaussian and Poisson moments match their closed forms', (t) => {
  note = (m) => t.diagnostic(m);
  const n = 100000;
  const theta = [1, 1];
  const lg = linearGaussian({ n, theta, noiseStd: 0.5, seed: 3 });
  const y = lg.targets as Float64Array;
  for (let j = 0; j < 2; j++) {
    const m = meanAndSe(y.map((v, i) => v * lg.inputs[i * 2 + j]!));
    within5Se(`E[y x_${j}] = θ_${j}`, m.mean, theta[j]!, m.se);
  }
  const vy = meanAndSe(y.map((v) => v * v)); // E[y] = 0, so E[y²] = Var(y) = |θ|² + σ²
  within5Se('Var(y)', vy.mean, 2 + 0.25, vy.se);

  const pt = [0.5, -0.3];
  const pois = poissonCounts({ n, theta: pt, bias: 0.2, seed: 5 });
  assert.equal(pois.targetKind, 'count');
  const c = pois.targets as Float64Array;
  const lambdaMean = Math.exp(0.2 + (pt[0]! ** 2 + pt[1]! ** 2) / 2); // E[exp(b + θᵀx)]
  const m = meanAndSe(c);
  within5Se('E[y]', m.mean, lambdaMean, m.se);
  for (let j = 0; j < 2; j++) {
    const mj = meanAndSe(c.map((v, i) => v * pois.inputs[i * 2 + j]!));
    within5Se(`E[y x_${j}] = θ_${j} E[λ]`, mj.mean, pt[j]! * lambdaMean, mj.se);
  }
});

test('synthetic: Gaussian blobs are balanced and centred where documented', (t) => {
  note = (m) => t.diagnostic(m);
  const n = 30000;
  const k = 4;
  const std = 0.7;
  const ds = gaussianBlobs({ n, k, std, separation: 2, seed: 9 });
  assert.deepEqual(classCounts(ds), new Array(k).fill(n / k));
  for (let c = 0; c < k; c++) {
    const mu = blobCenter(c, k, 2, 2);
    for (let j = 0; j < 2; j++) {
      const xs: number[] = [];
      for (let i = 0; i < n; i++) if (ds.targets[i] === c) xs.push(ds.inputs[i * 2 + j]!);
      const m = meanAndSe(xs);
      within5Se(`class ${c} coordinate ${j}`, m.mean, mu[j]!, std / Math.sqrt(xs.length));
      const v = meanAndSe(xs.map((x) => (x - mu[j]!) ** 2));
      within5Se(`class ${c} variance ${j}`, v.mean, std * std, v.se);
    }
  }
  // Labels are shuffled, not in blocks: class runs in the first 100 samples are short.
  let changes = 0;
  for (let i = 1; i < 100; i++) if (ds.targets[i] !== ds.targets[i - 1]) changes++;
  assert.ok(changes > 50, `labels look unshuffled (${changes} changes in 100)`);
});

// ---------------------------------------------------------------- resolveDataset

test('resolveDataset: specs map to splits; unknown specs list the valid ones', async () => {
  const emb = await resolveDataset('embedded');
  assert.equal(emb.train.length, 12000);
  const syn = await resolveDataset('synthetic:logistic?n=200&nTest=50&theta=1,2,3&seed=4');
  assert.equal(syn.train.length, 200);
  assert.equal(syn.test.length, 50);
  assert.deepEqual(syn.train.inputShape, [3]);
  assert.notDeepEqual([...syn.train.inputs.subarray(0, 3)], [...syn.test.inputs.subarray(0, 3)]);
  const blobs = await resolveDataset('synthetic:blobs?k=5&n=100');
  assert.equal(blobs.train.numClasses, 5);
  await rejectsCode(resolveDataset('cifar'), 'INVALID_ARGUMENT', /'cifar'/, /embedded/, /fashion-mnist/, /csv:<path>/, /synthetic:/);
  await rejectsCode(resolveDataset('synthetic:spiral'), 'INVALID_ARGUMENT', /spiral/);
  await rejectsCode(resolveDataset('synthetic:logistic?n=abc'), 'INVALID_ARGUMENT', /n=abc/);
  await rejectsCode(resolveDataset('synthetic:logistic?colour=red'), 'INVALID_ARGUMENT', /colour/);
  await rejectsCode(resolveDataset('csv:'), 'INVALID_ARGUMENT', /needs a path/);

  const dir = tmp();
  const saved = process.env['FIMKIT_DATA_DIR'];
  try {
    const csv = join(dir, 'd.csv');
    writeFileSync(csv, 'a,b,y\n' + Array.from({ length: 40 }, (_, i) => `${i},${i * 2},${i % 3}`).join('\n') + '\n');
    const s = await resolveDataset(`csv:${csv}`, { testFraction: 0.25, seed: 1 });
    assert.equal(s.train.length, 30);
    assert.equal(s.test.length, 10);
    const js = join(dir, 'd.json');
    writeFileSync(js, JSON.stringify({ inputs: [[1], [2], [3], [4]], targets: [0.1, 0.2, 0.3, 0.4] }));
    const j = await resolveDataset(`json:${js}`, { testFraction: 0.5 });
    assert.equal(j.test.length, 2);
    writeFakeMnist(join(dir, 'fake'), { nTrain: 4, nTest: 2, gzip: false });
    assert.equal((await resolveDataset(`dir:${join(dir, 'fake')}`)).train.length, 4);

    // FIMKIT_DATA_DIR decides the cache; an empty cache and no download explains what to do.
    process.env['FIMKIT_DATA_DIR'] = join(dir, 'cache');
    assert.equal(defaultCacheDir('mnist'), join(dir, 'cache', 'mnist'));
    await rejectsCode(resolveDataset('mnist'), 'IO', /mnist not found/, /--download/, new RegExp(join(dir, 'cache', 'mnist').replace(/[/.]/g, '\\$&')));
    mkdirSync(join(dir, 'cache'), { recursive: true });
    writeFakeMnist(join(dir, 'cache', 'mnist'), { nTrain: 3, nTest: 2, gzip: true });
    // Files in the cache are loaded (and verified: these fake files fail the MNIST digests).
    await rejectsCode(resolveDataset('mnist'), 'CHECKSUM', /train-images-idx3-ubyte\.gz/);
  } finally {
    if (saved === undefined) delete process.env['FIMKIT_DATA_DIR'];
    else process.env['FIMKIT_DATA_DIR'] = saved;
    rmSync(dir, { recursive: true, force: true });
  }
});
