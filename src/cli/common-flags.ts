/**
 * Flags several verbs share, defined once so they read and validate the same everywhere.
 */
import { BACKEND_NAMES } from '../core/backends/index.js';
import { FISHER_PATHS } from '../fisher/accumulate.js';
import { UsageError, type FlagSpec } from './args.js';

export const JSON_FLAG: FlagSpec = {
  name: 'json',
  type: 'boolean',
  description: 'Print one machine-readable JSON document on stdout instead of the text report (progress stays on stderr).',
  group: 'Output',
};

export const QUIET_FLAG: FlagSpec = {
  name: 'quiet',
  type: 'boolean',
  description: 'No progress or notes on stderr (errors are still reported).',
  group: 'Output',
};

export const BACKEND_FLAG: FlagSpec = {
  name: 'backend',
  type: 'enum',
  choices: BACKEND_NAMES,
  description: 'Numeric backend. Forcing one that cannot load is an error saying why (see `fimkit info`). Also settable with FIMKIT_BACKEND.',
  defaultText: 'the fastest that loads: native, then wasm, then ts',
  group: 'Compute',
};

/** Fast explicit layer rules, or the per-column autodiff oracle (float64 throughout). */
export const PATH_FLAG: FlagSpec = {
  name: 'path',
  type: 'enum',
  choices: FISHER_PATHS,
  default: 'fast',
  description: "How to compute: 'fast' (layer rules on stacked columns, products in the model dtype) or 'reference' (one autodiff pass per column, float64; slow, for cross-checking).",
  group: 'Compute',
};

export const DTYPE_FLAG: FlagSpec = {
  name: 'dtype',
  type: 'enum',
  choices: ['float32', 'float64'],
  default: 'float32',
  description: 'Floating-point type of the model and computations.',
  group: 'Compute',
};

export const SEED_FLAG: FlagSpec = {
  name: 'seed',
  type: 'int',
  default: 0,
  min: 0,
  max: Number.MAX_SAFE_INTEGER,
  description: 'Seed of every random choice (initialisation, shuffling, dropout); the same seed gives the same result.',
  group: 'Compute',
};

export const FORCE_FLAG: FlagSpec = {
  name: 'force',
  type: 'boolean',
  description: 'Overwrite existing output files. Without it an existing output is an error; an input (the model, the data file) is never overwritten.',
  group: 'Output',
};

export const DATA_FLAG: FlagSpec = {
  name: 'data',
  type: 'string',
  default: 'embedded',
  metavar: 'SPEC',
  description:
    "Dataset: embedded (the Fashion-MNIST subset shipped with fimkit), fashion-mnist, mnist, mnist-test[:<path>] (the 10 000-image MNIST test set split 8000/2000), dir:<path> (MNIST-format files), csv:<path>, json:<path>, or synthetic:<linear-gaussian|logistic|poisson|blobs>[?n=..&seed=..]. csv:/json: rows are split into train and test at random, 80/20 by default, by their content and a seed, whatever the path's spelling (see --split / --split-fraction and --split-seed); the other sets come with their own split.",
  group: 'Data',
};

/** How csv:/json: data are split (train takes it as --split; fisher and variance, whose --split picks the part, as --split-fraction). */
export function splitFractionFlag(name: string): FlagSpec {
  return {
    name,
    type: 'string',
    metavar: 'none|F',
    default: '0.8',
    description:
      "csv:/json: data only: the random train/test split. F in (0, 1) is the training fraction (the rest is the test split); 'none' uses every row, in file order, as both splits. The rows drawn depend on the file's content and --split-seed, not on how its path is written.",
    group: 'Data',
  };
}

export const SPLIT_SEED_FLAG: FlagSpec = {
  name: 'split-seed',
  type: 'int',
  default: 0,
  min: 0,
  max: Number.MAX_SAFE_INTEGER,
  description: 'Seed of the random train/test split of csv:/json: data (with the file content; see the split flag).',
  group: 'Data',
};

/** The value of a split-fraction flag: 'none' or a number in (0, 1); a UsageError naming the flag otherwise. */
export function parseSplitFlag(raw: string | undefined, name: string): 'none' | number {
  if (raw === undefined || raw === 'none') return raw === undefined ? 0.8 : 'none';
  const v = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(v) || v <= 0 || v >= 1) throw new UsageError(`--${name} takes 'none' or a training fraction in (0, 1), got '${raw}'`);
  return v;
}

export const SIGMA2_FLAG: FlagSpec = {
  name: 'sigma2',
  type: 'number',
  min: 0,
  exclusiveMin: true,
  metavar: 'X',
  description: 'Gaussian likelihood only: its fixed observation variance σ² (the Fisher information scales as 1/σ²).',
  defaultText: '1',
  group: 'Model',
};

/** The likelihood named by the flags (--likelihood, else the data's kind), with --sigma2 for the Gaussian. */
export function likelihoodFromFlags(f: Record<string, unknown>, inferred: string): { name: string; opts: { variance?: number } } {
  const name = (f['likelihood'] as string | undefined) ?? inferred;
  const s2 = f['sigma2'] as number | undefined;
  if (s2 !== undefined && name !== 'gaussian') throw new UsageError(`--sigma2 sets the Gaussian likelihood's variance; the likelihood here is ${name}`);
  return { name, opts: s2 !== undefined ? { variance: s2 } : {} };
}

export const DOWNLOAD_FLAG: FlagSpec = {
  name: 'download',
  type: 'boolean',
  description: 'Allow downloading fashion-mnist / mnist when no local copy is found.',
  group: 'Data',
};
