/**
 * Maps a dataset spec string (what the CLI's --data takes) to train/test splits. Node only.
 *
 *   embedded            the shipped Fashion-MNIST subset (default; offline)
 *   fashion-mnist       full Fashion-MNIST: the cache dir, then Debian's package dir, else
 *                       download when allowed, else an error saying how to get it
 *   mnist               full MNIST: the cache dir, else download when allowed
 *   mnist-test          the MNIST test set alone (10 000 images, the t10k files), split 8000/2000
 *                       by the fixed permutation MNIST_TEST_SPLIT (mnist.ts); searched in
 *                       mnistTestSearchDirs(): $FIMKIT_DATA_DIR/mnist (or the mnist cache dir),
 *                       then ../shared/data/mnist beside the package root and beside the working
 *                       directory. An IO error lists where it looked.
 *   mnist-test:<path>   the same from the t10k files in <path>
 *   dir:<path>          the four standard MNIST-format files in <path>; a folder holding only the
 *                       two t10k files is split like mnist-test (and verified as MNIST's only
 *                       when it is mnist-test: dir: loads any MNIST-format files unverified)
 *   csv:<path>          a CSV file, split randomly into train/test
 *   json:<path>         a JSON dataset file, split randomly into train/test
 *   synthetic:<name>    linear-gaussian | logistic | poisson | blobs, with optional parameters
 *                       after '?', e.g. synthetic:logistic?n=5000&theta=1,-0.5&seed=3
 */
import { resolve } from 'node:path';
import { FimkitError } from '../core/errors.js';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Rng } from '../core/rng.js';
import { checkOptions } from '../core/options.js';
import { type DatasetSplit, splitTrainTest } from './dataset.js';
import { embeddedDataDir, loadEmbedded } from './embedded.js';
import { loadCsvFile, loadJsonFile } from './files.js';
import {
  type FetchLike,
  type MnistKind,
  type Normalization,
  DEBIAN_FASHION_MNIST_DIR,
  defaultCacheDir,
  downloadMnistLike,
  hasMnistFiles,
  loadMnistLike,
  loadMnistTestAsSplit,
} from './mnist.js';
import { type SyntheticSplitOptions, SYNTHETIC_NAMES, makeSyntheticSplit } from './synthetic.js';
import type { TabularOptions } from './tabular.js';

export const DATASET_SPECS: readonly string[] = [
  'embedded',
  'fashion-mnist',
  'mnist',
  'mnist-test',
  'mnist-test:<path>',
  'dir:<path>',
  'csv:<path>',
  'json:<path>',
  `synthetic:<${SYNTHETIC_NAMES.join('|')}>[?n=..&nTest=..&seed=..&theta=a,b&bias=..&noiseStd=..&k=..&dim=..&separation=..&std=..]`,
];

export interface ResolveOptions {
  /** Allow downloading fashion-mnist / mnist when no local copy exists (the CLI's --download). */
  download?: boolean;
  fetch?: FetchLike;
  baseUrl?: string;
  /** Cache dir for downloads (default: defaultCacheDir(kind)). */
  cacheDir?: string;
  /** Extra directories searched first for fashion-mnist / mnist files. */
  searchDirs?: readonly string[];
  normalize?: Normalization;
  flatten?: boolean;
  /**
   * Seed of the random train/test split of csv/json data (default 0). The split is a function of
   * this seed and of the file's content (its SHA-256), not of how its path is spelled, so the
   * same file gives the same rows under any path.
   */
  seed?: number | string;
  /** Test fraction of csv/json data (default 0.2). */
  testFraction?: number;
  /**
   * csv/json data: 'none' uses every row for both train and test (no split, the file's order);
   * a number in (0, 1) is the training fraction (overrides testFraction; default 0.8).
   */
  split?: 'none' | number;
  tabular?: TabularOptions;
  /** Defaults for synthetic sets; parameters in the spec override them. */
  synthetic?: SyntheticSplitOptions;
  log?: (message: string) => void;
}

function invalidSpec(spec: string, why: string): FimkitError {
  return new FimkitError('INVALID_ARGUMENT', `dataset spec '${spec}': ${why}. Valid specs: ${DATASET_SPECS.join(', ')}`);
}

/** Parses the '?key=value&...' part of a synthetic spec into generator options. */
export function parseSyntheticParams(spec: string, query: string): SyntheticSplitOptions {
  const out: Record<string, unknown> = {};
  if (query === '') return out;
  for (const pair of query.split('&')) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw invalidSpec(spec, `parameter '${pair}' is not key=value`);
    const key = pair.slice(0, eq);
    const value = decodeURIComponent(pair.slice(eq + 1));
    const num = (): number => {
      const v = Number(value);
      if (value === '' || !Number.isFinite(v)) throw invalidSpec(spec, `parameter ${key}=${value} is not a finite number`);
      return v;
    };
    switch (key) {
      case 'n':
      case 'nTest':
      case 'k':
      case 'dim':
      case 'bias':
      case 'noiseStd':
      case 'separation':
      case 'std':
        out[key] = num();
        break;
      case 'seed':
        out['seed'] = /^-?\d+$/.test(value) ? Number(value) : value;
        break;
      case 'theta':
        out['theta'] = value.split(',').map((t) => {
          const v = Number(t);
          if (t.trim() === '' || !Number.isFinite(v)) throw invalidSpec(spec, `theta component '${t}' is not a finite number`);
          return v;
        });
        break;
      default:
        throw invalidSpec(spec, `unknown parameter '${key}'`);
    }
  }
  return out as SyntheticSplitOptions;
}

async function resolveMnistKind(kind: MnistKind, opts: ResolveOptions): Promise<DatasetSplit> {
  const cache = opts.cacheDir ?? defaultCacheDir(kind);
  const dirs = [...(opts.searchDirs ?? []), cache, ...(kind === 'fashion-mnist' ? [DEBIAN_FASHION_MNIST_DIR] : [])];
  const load = (dir: string): DatasetSplit =>
    loadMnistLike(dir, { kind, ...(opts.normalize ? { normalize: opts.normalize } : {}), ...(opts.flatten ? { flatten: true } : {}) });
  for (const dir of dirs) {
    if (hasMnistFiles(dir)) {
      opts.log?.(`${kind}: loading from ${dir}`);
      return load(dir);
    }
  }
  if (opts.download) {
    const dir = await downloadMnistLike(kind, {
      cacheDir: cache,
      ...(opts.baseUrl ? { baseUrl: opts.baseUrl } : {}),
      ...(opts.fetch ? { fetch: opts.fetch } : {}),
      ...(opts.log ? { log: opts.log } : {}),
    });
    return load(dir);
  }
  const how =
    kind === 'fashion-mnist'
      ? `install Debian's package (apt-get install dataset-fashion-mnist, files in ${DEBIAN_FASHION_MNIST_DIR}), or rerun with --download to fetch the official files into ${cache}`
      : `rerun with --download to fetch the official files into ${cache}, or put the four files there (FIMKIT_DATA_DIR sets the cache root)`;
  throw new FimkitError('IO', `${kind} not found (looked in ${dirs.join(', ')}): ${how}, or use a dir:<path> spec`);
}

/**
 * Where `mnist-test` looks for the t10k files, in order: the mnist cache dir
 * ($FIMKIT_DATA_DIR/mnist when set), then ../shared/data/mnist beside the package root and beside
 * the working directory (where CI keeps a read-only copy of the MNIST test set).
 */
export function mnistTestSearchDirs(extra: readonly string[] = [], cacheDir?: string): string[] {
  const dirs = [...extra, cacheDir ?? defaultCacheDir('mnist')];
  try {
    dirs.push(resolve(embeddedDataDir(), '../../../shared/data/mnist'));
  } catch {
    // no package root found: only the other places
  }
  dirs.push(resolve(process.cwd(), '../shared/data/mnist'));
  return [...new Set(dirs)];
}

function resolveMnistTest(arg: string, opts: ResolveOptions): DatasetSplit {
  const load = (dir: string): DatasetSplit => {
    opts.log?.(`mnist-test: loading the MNIST test set from ${dir}, split 8000 train / 2000 test`);
    return loadMnistTestAsSplit(dir, { kind: 'mnist', ...(opts.normalize ? { normalize: opts.normalize } : {}), ...(opts.flatten ? { flatten: true } : {}) });
  };
  const dirs = arg !== '' ? [arg] : mnistTestSearchDirs(opts.searchDirs ?? [], opts.cacheDir);
  for (const dir of dirs) if (hasMnistFiles(dir, ['test'])) return load(dir);
  throw new FimkitError(
    'IO',
    `mnist-test: the MNIST test files (t10k-images-idx3-ubyte[.gz], t10k-labels-idx1-ubyte[.gz]) are not in ${dirs.join(', ')}; ` +
      `put them in one of those folders (FIMKIT_DATA_DIR=<dir> looks in <dir>/mnist), pass mnist-test:<path>, or use --data mnist --download`,
  );
}

/** Train/test splits for a dataset spec (see the module comment). */
export async function resolveDataset(spec = 'embedded', opts: ResolveOptions = {}): Promise<DatasetSplit> {
  if (typeof spec !== 'string' || spec === '') throw new FimkitError('INVALID_ARGUMENT', `resolveDataset: spec must be a non-empty string (${DATASET_SPECS.join(', ')}), got ${String(spec)}`);
  if (opts !== null && typeof opts === 'object' && opts.split !== undefined && opts.split !== 'none' && !(typeof opts.split === 'number' && opts.split > 0 && opts.split < 1)) {
    throw new FimkitError('INVALID_ARGUMENT', `resolveDataset: option 'split' must be 'none' or a training fraction in (0, 1), got ${JSON.stringify(opts.split)}`);
  }
  checkOptions('resolveDataset', opts, {
    download: { kind: 'boolean' }, fetch: { kind: 'function' }, baseUrl: { kind: 'string' }, cacheDir: { kind: 'string' }, searchDirs: { kind: 'object' },
    normalize: { kind: 'enum', values: ['unit', 'standardize'] }, flatten: { kind: 'boolean' }, seed: { kind: 'seed' },
    testFraction: { kind: 'number', min: 0, max: 1, exclusiveMin: true, exclusiveMax: true }, split: { kind: 'any' }, tabular: { kind: 'object' }, synthetic: { kind: 'object' }, log: { kind: 'function' },
  });
  const colon = spec.indexOf(':');
  const head = colon < 0 ? spec : spec.slice(0, colon);
  const rest = colon < 0 ? '' : spec.slice(colon + 1);
  const needsArg = (): string => {
    if (rest === '') throw invalidSpec(spec, `'${head}:' needs a ${head === 'synthetic' ? 'name' : 'path'} after the colon`);
    return rest;
  };
  // csv/json: the split's rng comes from the seed and the file's content hash (see ResolveOptions.seed).
  const split = (ds: Parameters<typeof splitTrainTest>[0], path: string): DatasetSplit => {
    if (opts.split === 'none') return { train: ds, test: ds };
    const testFraction = typeof opts.split === 'number' ? 1 - opts.split : opts.testFraction ?? 0.2;
    const digest = createHash('sha256').update(readFileSync(path)).digest('hex');
    return splitTrainTest(ds, testFraction, new Rng(opts.seed ?? 0).derive(`split:sha256:${digest}`));
  };
  switch (colon < 0 ? spec : `${head}:`) {
    case 'embedded':
      return loadEmbedded({ ...(opts.normalize ? { normalize: opts.normalize } : {}), ...(opts.flatten ? { flatten: true } : {}) });
    case 'fashion-mnist':
    case 'mnist':
      return resolveMnistKind(spec as MnistKind, opts);
    case 'mnist-test':
      return resolveMnistTest('', opts);
    case 'mnist-test:':
      return resolveMnistTest(needsArg(), opts);
    case 'dir:': {
      const dir = needsArg();
      const load = { ...(opts.normalize ? { normalize: opts.normalize } : {}), ...(opts.flatten ? { flatten: true } : {}) };
      if (!hasMnistFiles(dir) && hasMnistFiles(dir, ['test'])) {
        opts.log?.(`${dir}: only the t10k files; splitting them 8000/2000 as mnist-test does`);
        return loadMnistTestAsSplit(dir, { ...load, verify: false, name: dir });
      }
      return loadMnistLike(dir, load);
    }
    case 'csv:':
      return split(loadCsvFile(needsArg(), { ...(opts.log ? { log: opts.log } : {}), ...opts.tabular }), needsArg());
    case 'json:':
      return split(loadJsonFile(needsArg(), { ...(opts.log ? { log: opts.log } : {}), ...opts.tabular }), needsArg());
    case 'synthetic:': {
      const arg = needsArg();
      const q = arg.indexOf('?');
      const name = q < 0 ? arg : arg.slice(0, q);
      if (!(SYNTHETIC_NAMES as readonly string[]).includes(name)) throw invalidSpec(spec, `unknown synthetic dataset '${name}'`);
      const params = parseSyntheticParams(spec, q < 0 ? '' : arg.slice(q + 1));
      return makeSyntheticSplit(name, { ...opts.synthetic, ...params });
    }
    default:
      throw invalidSpec(spec, 'unknown dataset');
  }
}
