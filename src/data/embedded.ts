/**
 * The embedded default dataset: a class-balanced subset of Fashion-MNIST shipped in the
 * package under data/fashion-mnist-subset/ (provenance, licence and selection rule in its
 * README; produced by scripts/make-embedded-data.mjs). It lets the main job run offline on a
 * fresh machine. Node only.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FimkitError } from '../core/errors.js';
import { type DatasetSplit, classCounts, inputStats, standardizeInputs } from './dataset.js';
import { decodeIdx, digestHex, readFileBytes } from './files.js';
import { type Normalization, FASHION_MNIST_CLASS_NAMES, MNIST_FILE_NAMES, mnistDatasetFromIdx } from './mnist.js';

export const EMBEDDED_SUBDIR = 'fashion-mnist-subset';
export const EMBEDDED_MANIFEST = 'manifest.json';
export const EMBEDDED_CHECKSUMS = 'SHA256SUMS';

/** What manifest.json records (written by scripts/make-embedded-data.mjs). */
export interface EmbeddedManifest {
  dataset: string;
  source: string;
  seed: string;
  selection: string;
  train: { size: number; perClass: number; sourceSize: number };
  test: { size: number; perClass: number; sourceSize: number };
  classNames: string[];
  /** Per file: IDX type, dims and SHA-256 of the decompressed bytes. */
  files?: Record<string, { type: string; dims: number[]; decompressedSha256: string }>;
}

/**
 * data/fashion-mnist-subset of this package. The compiled module sits in dist/src/data/ (three
 * levels below the root) and the source in src/data/ (two levels), so both are tried.
 */
export function embeddedDataDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [resolve(here, '../../../data', EMBEDDED_SUBDIR), resolve(here, '../../data', EMBEDDED_SUBDIR)];
  for (const c of candidates) if (existsSync(join(c, EMBEDDED_CHECKSUMS))) return c;
  throw new FimkitError('IO', `embedded dataset not found: no ${EMBEDDED_CHECKSUMS} in ${candidates.join(' or ')}`);
}

/**
 * Verifies every file listed in dir/SHA256SUMS (the `sha256sum` format: "<hex>  <name>") and
 * that `required` are all listed. CHECKSUM error on a mismatch, IO error on a missing file.
 */
export function verifyChecksumFile(dir: string, required: readonly string[] = []): Map<string, string> {
  const text = new TextDecoder().decode(readFileBytes(join(dir, EMBEDDED_CHECKSUMS)));
  const listed = new Map<string, string>();
  text.split('\n').forEach((line, k) => {
    if (line.trim() === '') return;
    const m = /^([0-9a-f]{64}) [ *](.+)$/.exec(line.trimEnd());
    if (!m) throw new FimkitError('CORRUPT_FILE', `${join(dir, EMBEDDED_CHECKSUMS)}: line ${k + 1} is not "<sha256>  <file>"`);
    listed.set(m[2]!, m[1]!);
  });
  for (const r of required) {
    if (!listed.has(r)) throw new FimkitError('CORRUPT_FILE', `${join(dir, EMBEDDED_CHECKSUMS)} does not list ${r}`);
  }
  for (const [name, expected] of listed) {
    const path = join(dir, name);
    const got = digestHex('sha256', readFileBytes(path));
    if (got !== expected) {
      throw new FimkitError('CHECKSUM', `${path}: SHA-256 is ${got}, ${EMBEDDED_CHECKSUMS} says ${expected} (file damaged or replaced)`);
    }
  }
  return listed;
}

export interface EmbeddedOptions {
  /** Directory holding the subset (default: embeddedDataDir()). */
  dir?: string;
  normalize?: Normalization;
  flatten?: boolean;
  /** Check SHA256SUMS (default true; about 30 ms). */
  verify?: boolean;
}

export function readEmbeddedManifest(dir: string = embeddedDataDir()): EmbeddedManifest {
  const path = join(dir, EMBEDDED_MANIFEST);
  try {
    return JSON.parse(new TextDecoder().decode(readFileBytes(path))) as EmbeddedManifest;
  } catch (e) {
    if (e instanceof FimkitError) throw e;
    throw new FimkitError('CORRUPT_FILE', `${path}: invalid JSON: ${(e as Error).message}`);
  }
}

/** The embedded Fashion-MNIST subset as train/test splits, checked against its manifest. */
export function loadEmbedded(opts: EmbeddedOptions = {}): DatasetSplit {
  const dir = opts.dir ?? embeddedDataDir();
  const files = (['train', 'test'] as const).flatMap((s) => [`${MNIST_FILE_NAMES[s].images}.gz`, `${MNIST_FILE_NAMES[s].labels}.gz`]);
  if (opts.verify ?? true) verifyChecksumFile(dir, [...files, EMBEDDED_MANIFEST]);
  const manifest = readEmbeddedManifest(dir);
  const load = (split: 'train' | 'test') => {
    const img = join(dir, `${MNIST_FILE_NAMES[split].images}.gz`);
    const lab = join(dir, `${MNIST_FILE_NAMES[split].labels}.gz`);
    const ds = mnistDatasetFromIdx(decodeIdx(readFileBytes(img), img), decodeIdx(readFileBytes(lab), lab), {
      name: `embedded-fashion-mnist/${split}`,
      kind: 'fashion-mnist',
      flatten: opts.flatten ?? false,
      imagesSource: img,
      labelsSource: lab,
    });
    const want = manifest[split];
    const counts = classCounts(ds);
    if (ds.length !== want.size || counts.some((c) => c !== want.perClass)) {
      throw new FimkitError(
        'CORRUPT_FILE',
        `${dir}: ${split} split has ${ds.length} samples with class counts [${counts.join(', ')}], manifest says ${want.size} with ${want.perClass} per class`,
      );
    }
    return ds;
  };
  let train = load('train');
  let test = load('test');
  if (manifest.classNames.join('|') !== FASHION_MNIST_CLASS_NAMES.join('|')) {
    throw new FimkitError('CORRUPT_FILE', `${dir}/${EMBEDDED_MANIFEST}: class names differ from Fashion-MNIST's`);
  }
  if (opts.normalize === 'standardize') {
    const stats = inputStats(train);
    train = standardizeInputs(train, stats);
    test = standardizeInputs(test, stats);
  }
  return { train, test };
}
