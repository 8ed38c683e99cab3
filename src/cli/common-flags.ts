/**
 * Flags several verbs share, defined once so they read and validate the same everywhere.
 */
import { BACKEND_NAMES } from '../core/backends/index.js';
import { FISHER_PATHS } from '../fisher/accumulate.js';
import type { FlagSpec } from './args.js';

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

export const DATA_FLAG: FlagSpec = {
  name: 'data',
  type: 'string',
  default: 'embedded',
  metavar: 'SPEC',
  description:
    "Dataset: embedded (the Fashion-MNIST subset shipped with fimkit), fashion-mnist, mnist, mnist-test[:<path>] (the 10 000-image MNIST test set split 8000/2000), dir:<path> (MNIST-format files), csv:<path>, json:<path>, or synthetic:<linear-gaussian|logistic|poisson|blobs>[?n=..&seed=..].",
  group: 'Data',
};

export const DOWNLOAD_FLAG: FlagSpec = {
  name: 'download',
  type: 'boolean',
  description: 'Allow downloading fashion-mnist / mnist when no local copy is found.',
  group: 'Data',
};
