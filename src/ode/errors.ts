// Named errors of the ODE layer. Each is a FimkitError (stable `code` for the CLI) with its own
// class name, so callers can catch "the problem is stiff" apart from "the right-hand side gave NaN".
import { FimkitError } from '../core/errors.js';

/** The explicit solver met (or was given) a stiff problem: use method 'rodas' or 'auto'. */
export class OdeStiffError extends FimkitError {
  constructor(message: string) {
    super('INVALID_ARGUMENT', message);
    this.name = 'OdeStiffError';
  }
}

/** The step budget (maxSteps) ran out before the last requested time. */
export class OdeMaxStepsError extends FimkitError {
  constructor(message: string) {
    super('INVALID_ARGUMENT', message);
    this.name = 'OdeMaxStepsError';
  }
}

/** The step size fell below the floating-point resolution of t (a singularity or blow-up). */
export class OdeStepSizeError extends FimkitError {
  constructor(message: string) {
    super('NON_FINITE', message);
    this.name = 'OdeStepSizeError';
  }
}

/** The right-hand side returned NaN or ±Infinity where the solver could not step around it. */
export class OdeNonFiniteError extends FimkitError {
  constructor(message: string) {
    super('NON_FINITE', message);
    this.name = 'OdeNonFiniteError';
  }
}

/** A model definition is invalid (bounds lo ≥ hi, wrong lengths, unknown names, bad expressions). */
export class OdeModelError extends FimkitError {
  constructor(message: string) {
    super('INVALID_ARGUMENT', message);
    this.name = 'OdeModelError';
  }
}

export type OdeDataProblem = 'negative-time' | 'non-monotone' | 'missing-column' | 'bad-value' | 'empty' | 'bad-option';

/** Measurements that cannot be used (negative or non-increasing times, missing columns, …). */
export class OdeDataError extends FimkitError {
  readonly problem: OdeDataProblem;
  constructor(problem: OdeDataProblem, message: string) {
    super('INVALID_ARGUMENT', message);
    this.name = 'OdeDataError';
    this.problem = problem;
  }
}

/** An equation string that does not parse, or names something that is neither a state, a parameter nor t. */
export class OdeExpressionError extends FimkitError {
  /** Character offset of the problem in the expression. */
  readonly position: number;
  constructor(message: string, position: number) {
    super('INVALID_ARGUMENT', message);
    this.name = 'OdeExpressionError';
    this.position = position;
  }
}
