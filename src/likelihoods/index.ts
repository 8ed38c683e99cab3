/**
 * Likelihood factory: `makeLikelihood(name, opts)` and the list of available names.
 */
import { fail } from '../core/errors.js';
import { checkOptions, showValue } from '../core/options.js';
import { BernoulliLikelihood } from './bernoulli.js';
import { CategoricalLikelihood } from './categorical.js';
import { GaussianLikelihood, type GaussianOptions } from './gaussian.js';
import type { TargetKind } from '../data/dataset.js';
import type { Likelihood, LikelihoodName } from './likelihood.js';
import { PoissonLikelihood } from './poisson.js';

export * from './likelihood.js';
export { GaussianLikelihood, gaussianLogProbWithLogStd, type GaussianOptions } from './gaussian.js';
export { CategoricalLikelihood, softmaxRow, oneHotCentralMoment } from './categorical.js';
export { BernoulliLikelihood } from './bernoulli.js';
export { PoissonLikelihood, POISSON_MAX_LOG_RATE } from './poisson.js';

export const LIKELIHOOD_NAMES: readonly LikelihoodName[] = ['gaussian', 'categorical', 'bernoulli', 'poisson'];

/** Options for any likelihood; only the Gaussian reads one (its fixed variance σ²). */
export type LikelihoodOptions = GaussianOptions;

export function isLikelihoodName(x: unknown): x is LikelihoodName {
  return typeof x === 'string' && (LIKELIHOOD_NAMES as readonly string[]).includes(x);
}

export function makeLikelihood(name: string, opts: LikelihoodOptions = {}): Likelihood {
  checkOptions('makeLikelihood', opts, { variance: { kind: 'number', min: 0, exclusiveMin: true } });
  switch (name) {
    case 'gaussian':
      return new GaussianLikelihood(opts);
    case 'categorical':
      return new CategoricalLikelihood();
    case 'bernoulli':
      return new BernoulliLikelihood();
    case 'poisson':
      return new PoissonLikelihood();
    default:
      return fail('INVALID_ARGUMENT', `unknown likelihood '${name}'; expected one of ${LIKELIHOOD_NAMES.join(', ')}`);
  }
}

/** The likelihood that matches a dataset's kind of target. */
export function likelihoodNameFor(kind: TargetKind): LikelihoodName {
  switch (kind) {
    case 'real':
      return 'gaussian';
    case 'class':
      return 'categorical';
    case 'multilabel':
      return 'bernoulli';
    case 'count':
      return 'poisson';
    default:
      return fail('INVALID_ARGUMENT', `unknown target kind '${String(kind)}'`);
  }
}

/**
 * Checks that a network with `outputDim` outputs fits `lik` on data of this target kind. The
 * class count constrains the output only for a categorical likelihood (binary class labels with
 * a one-output Bernoulli model are fine).
 */
export function checkLikelihoodFits(lik: Likelihood, outputDim: number, data: { targetKind: TargetKind; numClasses?: number }): void {
  lik.checkOutput(outputDim, lik.targetKind === 'class' && data.targetKind === 'class' ? data.numClasses : undefined);
}

/** Public entry points taking a likelihood start with this: a clear error instead of a TypeError later. */
export function checkLikelihoodArg(who: string, lik: unknown): asserts lik is Likelihood {
  const name = (lik as { name?: unknown } | null)?.name;
  if (lik === null || typeof lik !== 'object' || !isLikelihoodName(name) || typeof (lik as Likelihood).projectedMoments !== 'function') {
    fail('INVALID_ARGUMENT', `${who}: likelihood must be a Likelihood (makeLikelihood(${LIKELIHOOD_NAMES.map((n) => `'${n}'`).join(' | ')})), got ${showValue(lik)}`);
  }
}
