/**
 * MNIST and Fashion-MNIST: loading the four standard IDX files from a directory, finding them on
 * this machine, and downloading them into a cache with checksum verification. Node only.
 *
 * Where the digests come from:
 * - Fashion-MNIST: the MD5 of each .gz is the one printed in the dataset's README (shipped in
 *   Debian's dataset-fashion-mnist as /usr/share/doc/dataset-fashion-mnist/README.md.gz).
 *   Debian's copies in /usr/share/datasets/fashion-mnist are NOT byte-identical to the official
 *   downloads: the packaging rewrote each gzip header (dropped the stored file name, set the
 *   time stamp to the package build time), so their MD5s differ. Putting the name and the
 *   original time stamp (2017-08-31 10:50:06 / 10:50:27 UTC, found by search) back into the
 *   header reproduces all four official MD5s exactly, which proves the compressed payloads are
 *   identical. The SHA-256 and byte sizes below are those of the reconstructed official files;
 *   `rawSha256` is the digest of the decompressed IDX bytes, the same for both copies, and is
 *   what verifies a copy whose gzip header was rewritten.
 * - MNIST: the t10k digests were computed here from a copy of the official files and agree with
 *   the MD5 and SHA-256 values published for these URLs; the train files' digests are the
 *   published SHA-256 and MD5 values (identical across independent published checksum lists),
 *   not re-computed here, and their decompressed digests are unknown.
 */
import { existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { FimkitError } from '../core/errors.js';
import { writeFileAtomic } from '../io/atomic.js';
import { Rng } from '../core/rng.js';
import { type Dataset, type DatasetSplit, inputStats, standardizeInputs, subset } from './dataset.js';
import { decodeIdx, digestHex, gunzipBytes, readFileBytes } from './files.js';
import { type IdxArray, isGzip, parseIdx } from './idx.js';

export type MnistKind = 'mnist' | 'fashion-mnist';
export type SplitName = 'train' | 'test';

export const MNIST_KINDS: readonly MnistKind[] = ['mnist', 'fashion-mnist'];

/** Standard file names, without the .gz suffix. */
export const MNIST_FILE_NAMES: Readonly<Record<SplitName, { images: string; labels: string }>> = {
  train: { images: 'train-images-idx3-ubyte', labels: 'train-labels-idx1-ubyte' },
  test: { images: 't10k-images-idx3-ubyte', labels: 't10k-labels-idx1-ubyte' },
};

export const FASHION_MNIST_CLASS_NAMES: readonly string[] = [
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
];
export const MNIST_CLASS_NAMES: readonly string[] = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];

export const OFFICIAL_BASE_URLS: Readonly<Record<MnistKind, string>> = {
  'fashion-mnist': 'http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/',
  mnist: 'https://ossci-datasets.s3.amazonaws.com/mnist/',
};

/** What is known about one official file; any digest may be absent. */
export interface KnownFile {
  /** Size of the official .gz in bytes. */
  gzBytes?: number;
  gzSha256?: string;
  gzMd5?: string;
  /** SHA-256 of the decompressed IDX bytes. */
  rawSha256?: string;
}

export const KNOWN_FILES: Readonly<Record<MnistKind, Readonly<Record<string, KnownFile>>>> = {
  'fashion-mnist': {
    'train-images-idx3-ubyte': {
      gzBytes: 26421880,
      gzMd5: '8d4fb7e6c68d591d4c3dfef9ec88bf0d',
      gzSha256: '3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84',
      rawSha256: 'c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888',
    },
    'train-labels-idx1-ubyte': {
      gzBytes: 29515,
      gzMd5: '25c81989df183df01b3e8a0aad5dffbe',
      gzSha256: 'a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845',
      rawSha256: 'bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9',
    },
    't10k-images-idx3-ubyte': {
      gzBytes: 4422102,
      gzMd5: 'bef4ecab320f06d8554ea6380940ec79',
      gzSha256: '346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073',
      rawSha256: '5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b',
    },
    't10k-labels-idx1-ubyte': {
      gzBytes: 5148,
      gzMd5: 'bb300cfdad3c16e7a12a480ee83cd310',
      gzSha256: '67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5',
      rawSha256: '0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34',
    },
  },
  mnist: {
    'train-images-idx3-ubyte': {
      gzBytes: 9912422,
      gzMd5: 'f68b3c2dcbeaaa9fbdd348bbdeb94873',
      gzSha256: '440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609',
    },
    'train-labels-idx1-ubyte': {
      gzBytes: 28881,
      gzMd5: 'd53e105ee54ea40749a09fcbcd1e9432',
      gzSha256: '3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c',
    },
    't10k-images-idx3-ubyte': {
      gzBytes: 1648877,
      gzMd5: '9fb629c4189551a2d022fa330f9573f3',
      gzSha256: '8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6',
      rawSha256: '0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7',
    },
    't10k-labels-idx1-ubyte': {
      gzBytes: 4542,
      gzMd5: 'ec29112dd5afa0611ce80d1b7f02629c',
      gzSha256: 'f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6',
      rawSha256: 'ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2',
    },
  },
};

/** Where Debian's dataset-fashion-mnist package installs the files. */
export const DEBIAN_FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';

/** `$FIMKIT_DATA_DIR/<kind>` if set, else `$XDG_CACHE_HOME/fimkit/<kind>`, else `~/.cache/fimkit/<kind>`. */
export function defaultCacheDir(kind: string): string {
  const root = process.env['FIMKIT_DATA_DIR'];
  if (root) return join(root, kind);
  const xdg = process.env['XDG_CACHE_HOME'];
  return join(xdg ? xdg : join(homedir(), '.cache'), 'fimkit', kind);
}

export type Normalization = 'unit' | 'standardize';

export interface MnistLoadOptions {
  /** Sets class names and the 28 × 28 check; omit for any MNIST-format directory. */
  kind?: MnistKind;
  /**
   * 'unit' (default): pixels / 255 in [0, 1]. 'standardize': then (x - mean) / std with the
   * scalar mean and std of the training images, applied to both splits.
   */
  normalize?: Normalization;
  /** Check files against the known digests of `kind` (default true when kind is given). */
  verify?: boolean;
  /** Per-sample shape [784] instead of [1, 28, 28]. */
  flatten?: boolean;
  /** Dataset name prefix (default: kind, or the directory). */
  name?: string;
}

/** Path of `base` or `base.gz` inside dir (the uncompressed file wins: it loads faster), or null. */
export function findIdxFile(dir: string, base: string): string | null {
  for (const p of [join(dir, base), join(dir, `${base}.gz`)]) {
    if (existsSync(p) && statSync(p).isFile()) return p;
  }
  return null;
}

/** True when all four standard files (either form) are in dir. */
export function hasMnistFiles(dir: string, splits: readonly SplitName[] = ['train', 'test']): boolean {
  return splits.every((s) => findIdxFile(dir, MNIST_FILE_NAMES[s].images) !== null && findIdxFile(dir, MNIST_FILE_NAMES[s].labels) !== null);
}

/**
 * Checks file bytes against what is known of `base`: a .gz matching the official digests, or
 * any copy whose decompressed bytes match `rawSha256`. Throws CHECKSUM when a digest is known
 * for this form of the file and it does not match. Returns the decompressed bytes.
 */
function verifiedPayload(bytes: Uint8Array, path: string, known: KnownFile | undefined): Uint8Array {
  const gz = isGzip(bytes);
  const raw = gz ? gunzipBytes(bytes, path) : bytes;
  if (!known) return raw;
  if (gz && known.gzSha256 && digestHex('sha256', bytes) === known.gzSha256) return raw;
  if (known.rawSha256) {
    const got = digestHex('sha256', raw);
    if (got === known.rawSha256) return raw;
    throw new FimkitError(
      'CHECKSUM',
      `${path}: SHA-256 of the decompressed IDX data is ${got}, expected ${known.rawSha256} (wrong or damaged file; pass verify: false to load it anyway)`,
    );
  }
  if (gz && known.gzSha256) {
    throw new FimkitError(
      'CHECKSUM',
      `${path}: SHA-256 is ${digestHex('sha256', bytes)}, expected ${known.gzSha256} for the official file (wrong, damaged or recompressed file; pass verify: false to load it anyway)`,
    );
  }
  return raw; // nothing known for this form (e.g. uncompressed MNIST train files)
}

/**
 * Reads `base` or `base.gz` from dir; with `verify`, checks it against the known digests of
 * `kind` (CHECKSUM error on mismatch).
 */
export function readMnistFile(dir: string, base: string, kind: MnistKind | undefined, verify: boolean): { arr: IdxArray; path: string } {
  const path = findIdxFile(dir, base);
  if (path === null) {
    throw new FimkitError('IO', `${dir}: missing ${base} (looked for ${base} and ${base}.gz)`);
  }
  const bytes = readFileBytes(path);
  if (!verify) return { arr: decodeIdx(bytes, path), path };
  const known = kind ? KNOWN_FILES[kind][base] : undefined;
  return { arr: parseIdx(verifiedPayload(bytes, path, known), { source: path }), path };
}

/** 256-entry table of p / 255 in float32: one lookup per pixel instead of a division. */
const UNIT_PIXEL = (() => {
  const t = new Float32Array(256);
  for (let p = 0; p < 256; p++) t[p] = p / 255;
  return t;
})();

/**
 * Builds a Dataset from parsed image and label IDX arrays, checking types, shapes, counts and
 * label range. Pixels become float32 in [0, 1].
 */
export function mnistDatasetFromIdx(
  images: IdxArray,
  labels: IdxArray,
  opts: { name: string; kind?: MnistKind; flatten?: boolean; imagesSource?: string; labelsSource?: string },
): Dataset {
  const imgSrc = opts.imagesSource ?? `${opts.name} images`;
  const labSrc = opts.labelsSource ?? `${opts.name} labels`;
  if (images.type !== 'uint8' || images.dims.length !== 3) {
    throw new FimkitError('SHAPE', `${imgSrc}: expected uint8 images [N × rows × cols], got ${images.type} [${images.dims.join(' × ')}]`);
  }
  if (labels.type !== 'uint8' || labels.dims.length !== 1) {
    throw new FimkitError('SHAPE', `${labSrc}: expected uint8 labels [N], got ${labels.type} [${labels.dims.join(' × ')}]`);
  }
  const [n, rows, cols] = images.dims as [number, number, number];
  if (opts.kind && (rows !== 28 || cols !== 28)) {
    throw new FimkitError('SHAPE', `${imgSrc}: ${opts.kind} images are 28 × 28, got ${rows} × ${cols}`);
  }
  if (labels.dims[0] !== n) {
    throw new FimkitError('SHAPE', `${imgSrc} holds ${n} images but ${labSrc} holds ${labels.dims[0]} labels`);
  }
  const targets = new Int32Array(n);
  const lab = labels.data;
  for (let i = 0; i < n; i++) {
    const c = lab[i]!;
    if (c > 9) throw new FimkitError('LABEL_RANGE', `${labSrc}: label of sample ${i} is ${c}, outside 0..9`);
    targets[i] = c;
  }
  const px = images.data as Uint8Array;
  const inputs = new Float32Array(px.length);
  for (let k = 0; k < px.length; k++) inputs[k] = UNIT_PIXEL[px[k]!]!;
  return {
    name: opts.name,
    length: n,
    inputShape: opts.flatten ? [rows * cols] : [1, rows, cols],
    inputs,
    targetKind: 'class',
    targets,
    targetDim: 1,
    numClasses: 10,
    ...(opts.kind ? { classNames: opts.kind === 'mnist' ? MNIST_CLASS_NAMES : FASHION_MNIST_CLASS_NAMES } : {}),
  };
}

/** One split (pixels in [0, 1]) from the standard files in dir. */
export function loadMnistSplit(dir: string, split: SplitName, opts: MnistLoadOptions = {}): Dataset {
  const verify = opts.verify ?? opts.kind !== undefined;
  const names = MNIST_FILE_NAMES[split];
  const images = readMnistFile(dir, names.images, opts.kind, verify);
  const labels = readMnistFile(dir, names.labels, opts.kind, verify);
  return mnistDatasetFromIdx(images.arr, labels.arr, {
    name: `${opts.name ?? opts.kind ?? dir}/${split}`,
    ...(opts.kind ? { kind: opts.kind } : {}),
    flatten: opts.flatten ?? false,
    imagesSource: images.path,
    labelsSource: labels.path,
  });
}

/** Train and test splits from the four standard files in dir (raw or .gz). */
export function loadMnistLike(dir: string, opts: MnistLoadOptions = {}): DatasetSplit {
  let train = loadMnistSplit(dir, 'train', opts);
  let test = loadMnistSplit(dir, 'test', opts);
  if (opts.normalize === 'standardize') {
    const stats = inputStats(train);
    train = standardizeInputs(train, stats);
    test = standardizeInputs(test, stats);
  } else if (opts.normalize !== undefined && opts.normalize !== 'unit') {
    throw new FimkitError('INVALID_ARGUMENT', `normalize must be 'unit' or 'standardize', got '${String(opts.normalize)}'`);
  }
  return { train, test };
}

/**
 * The MNIST test set alone (10 000 images) as a train/test split, for machines that hold only the
 * t10k files. The split is a fixed, documented permutation, not "first 8000 / last 2000": the
 * first 5000 test images were written by Census Bureau employees and the last 5000 by students
 * (the dataset's own description), so a contiguous cut would put only the harder half in the
 * test split. Indices: `new Rng(MNIST_TEST_SPLIT.seed).permutation(10000)`; its first `train`
 * entries, sorted ascending, are the training samples, the rest (sorted) the test samples.
 */
export const MNIST_TEST_SPLIT = { seed: 'fimkit/mnist-test-split/v1', train: 8000, test: 2000 } as const;

/** Train/test indices of MNIST_TEST_SPLIT for a test set of n samples (8000/2000 when n = 10 000; else 80/20). */
export function mnistTestSplitIndices(n: number): { train: Uint32Array; test: Uint32Array } {
  const nTrain = n === MNIST_TEST_SPLIT.train + MNIST_TEST_SPLIT.test ? MNIST_TEST_SPLIT.train : Math.round(0.8 * n);
  if (nTrain < 1 || nTrain >= n) throw new FimkitError('SHAPE', `an MNIST test set of ${n} images cannot be split into train and test`);
  const perm = new Rng(MNIST_TEST_SPLIT.seed).permutation(n);
  return { train: perm.slice(0, nTrain).sort(), test: perm.slice(nTrain).sort() };
}

/**
 * The t10k files of dir split by MNIST_TEST_SPLIT. With `kind` the files are checked as that
 * dataset's (28 × 28, the official digests); pixels in [0, 1], or standardized with the training
 * split's stats.
 */
export function loadMnistTestAsSplit(dir: string, opts: MnistLoadOptions = {}): DatasetSplit {
  const all = loadMnistSplit(dir, 'test', opts);
  const idx = mnistTestSplitIndices(all.length);
  const base = opts.name ?? `${opts.kind ?? dir}-test`;
  let train = subset(all, idx.train, `${base}/train`);
  let test = subset(all, idx.test, `${base}/test`);
  if (opts.normalize === 'standardize') {
    const stats = inputStats(train);
    train = standardizeInputs(train, stats);
    test = standardizeInputs(test, stats);
  } else if (opts.normalize !== undefined && opts.normalize !== 'unit') {
    throw new FimkitError('INVALID_ARGUMENT', `normalize must be 'unit' or 'standardize', got '${String(opts.normalize)}'`);
  }
  return { train, test };
}

export type FetchLike = (url: string) => Promise<{ ok: boolean; status: number; statusText?: string; arrayBuffer(): Promise<ArrayBuffer> }>;

export interface DownloadOptions {
  /** Default: defaultCacheDir(kind). */
  cacheDir?: string;
  /** Default: the official location of `kind`. */
  baseUrl?: string;
  /** Default: the global fetch. */
  fetch?: FetchLike;
  /** Default: both. */
  splits?: readonly SplitName[];
  /** Digests to check instead of KNOWN_FILES[kind] (for mirrors of other files, and tests). */
  knownFiles?: Readonly<Record<string, KnownFile>>;
  /** Progress messages (default: none). */
  log?: (message: string) => void;
}

/** Checks downloaded (or cached) .gz bytes against every digest known for them. */
function checkDownloaded(bytes: Uint8Array, file: string, origin: string, known: KnownFile): void {
  const checks: [string, string | undefined, () => string][] = [
    ['SHA-256', known.gzSha256, () => digestHex('sha256', bytes)],
    ['MD5', known.gzMd5, () => digestHex('md5', bytes)],
  ];
  for (const [alg, expected, actual] of checks) {
    if (expected === undefined) continue;
    const got = actual();
    if (got !== expected) {
      throw new FimkitError(
        'CHECKSUM',
        `${file} from ${origin}: ${alg} mismatch: expected ${expected}, got ${got} (${bytes.length} bytes${known.gzBytes !== undefined ? `, official size ${known.gzBytes}` : ''})`,
      );
    }
  }
}

/**
 * Downloads the .gz files of `kind` into the cache dir, verifying each before it is written
 * (atomically: temp file + rename), so a bad download never lands in the cache. Files already
 * cached are re-verified; a cached file that fails is deleted and fetched again. Returns the dir.
 */
export async function downloadMnistLike(kind: MnistKind, opts: DownloadOptions = {}): Promise<string> {
  const dir = opts.cacheDir ?? defaultCacheDir(kind);
  const base = opts.baseUrl ?? OFFICIAL_BASE_URLS[kind];
  const baseUrl = base.endsWith('/') ? base : `${base}/`;
  const doFetch: FetchLike = opts.fetch ?? ((url) => fetch(url));
  const table = opts.knownFiles ?? KNOWN_FILES[kind];
  const log = opts.log ?? (() => {});
  mkdirSync(dir, { recursive: true });
  for (const split of opts.splits ?? (['train', 'test'] as const)) {
    for (const stem of [MNIST_FILE_NAMES[split].images, MNIST_FILE_NAMES[split].labels]) {
      const file = `${stem}.gz`;
      const known = table[stem];
      if (!known || (known.gzSha256 === undefined && known.gzMd5 === undefined)) {
        throw new FimkitError('INVALID_ARGUMENT', `no SHA-256 or MD5 known for ${file}; refusing to download it unverified`);
      }
      const path = join(dir, file);
      if (existsSync(path)) {
        try {
          checkDownloaded(readFileBytes(path), file, path, known);
          log(`${file}: cached copy verified`);
          continue;
        } catch (e) {
          if (!(e instanceof FimkitError) || e.code !== 'CHECKSUM') throw e;
          log(`${file}: cached copy fails verification, fetching again (${e.message})`);
          rmSync(path, { force: true });
        }
      }
      const url = baseUrl + file;
      log(`${file}: downloading ${url}`);
      let res: Awaited<ReturnType<FetchLike>>;
      try {
        res = await doFetch(url);
      } catch (e) {
        throw new FimkitError('IO', `download of ${url} failed: ${(e as Error).message}`);
      }
      if (!res.ok) throw new FimkitError('IO', `download of ${url} failed: HTTP ${res.status} ${res.statusText ?? ''}`.trimEnd());
      const bytes = new Uint8Array(await res.arrayBuffer());
      checkDownloaded(bytes, file, url, known);
      writeFileAtomic(path, bytes);
      log(`${file}: ${bytes.length} bytes verified and saved`);
    }
  }
  return dir;
}

/** Directories searched for an installed copy of `kind`, in order. */
export function mnistSearchDirs(kind: MnistKind): string[] {
  const dirs = [defaultCacheDir(kind)];
  if (kind === 'fashion-mnist') dirs.push(DEBIAN_FASHION_MNIST_DIR);
  return dirs;
}

/** First search dir holding all four files, or null. */
export function findMnistLike(kind: MnistKind): string | null {
  for (const d of mnistSearchDirs(kind)) if (hasMnistFiles(d)) return d;
  return null;
}
