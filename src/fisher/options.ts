/**
 * The rules FisherOptions are checked against, shared by computeFisher, computeFisherRaw and
 * fisherProduct (and the CLI's fisher flags, which take their choices from here).
 */
import { checkOptions, type OptionSchema } from '../core/options.js';
import { checkDatasetArg } from '../data/dataset.js';
import { checkLikelihoodArg } from '../likelihoods/index.js';
import { checkModelArg } from '../nn/sequential.js';
import { FISHER_PATHS } from './accumulate.js';
import { ESTIMATORS, REPRESENTATIONS } from './matrix.js';

export const FISHER_MODES = ['joint', 'conditional'] as const;
export const FISHER_SCALINGS = ['mean', 'sum'] as const;

/** The rules FisherOptions are checked against (the CLI's fisher flags take their choices from here). */
export const FISHER_OPTION_SCHEMA: OptionSchema = {
  estimator: { kind: 'enum', values: ESTIMATORS, required: true },
  representation: { kind: 'enum', values: REPRESENTATIONS, required: true },
  labelsPerInput: { kind: 'int', min: 1 },
  batchSize: { kind: 'int', min: 1 },
  seed: { kind: 'seed' },
  mode: { kind: 'enum', values: FISHER_MODES },
  inputIndex: { kind: 'int', min: 0 },
  maxInputs: { kind: 'int', min: 1 },
  scaling: { kind: 'enum', values: FISHER_SCALINGS },
  onProgress: { kind: 'function' },
  path: { kind: 'enum', values: FISHER_PATHS },
};

/** The checks every entry point taking (model, likelihood, data, FisherOptions) starts with. */
export function checkFisherArgs(who: string, model: unknown, lik: unknown, data: unknown, opts: unknown): void {
  checkModelArg(who, model);
  checkLikelihoodArg(who, lik);
  checkDatasetArg(who, data);
  checkOptions(who, opts, FISHER_OPTION_SCHEMA);
}


