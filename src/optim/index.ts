import { fail } from '../core/errors.js';
import { checkOptions } from '../core/options.js';
import { Adam, AdamW } from './adam.js';
import { OPTIMIZER_NAMES, type Optimizer, type OptimizerName } from './optimizer.js';
import { Sgd } from './sgd.js';

export * from './optimizer.js';
export { Sgd, type SgdOptions } from './sgd.js';
export { Adam, AdamW, type AdamOptions } from './adam.js';
export * from './schedule.js';
export { encodeFloatArray, decodeFloatArray, type EncodedArray } from '../io/base64.js';

/** Serializable description of an optimiser; `makeOptimizer` builds it. */
export interface OptimizerConfig {
  name: OptimizerName;
  lr: number;
  /** sgd only. */
  momentum?: number;
  nesterov?: boolean;
  /** sgd, adam: L2 penalty in the gradient; adamw: decoupled decay rate. */
  weightDecay?: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
}

export function makeOptimizer(cfg: OptimizerConfig): Optimizer {
  checkOptions('makeOptimizer', cfg, {
    name: { kind: 'enum', values: OPTIMIZER_NAMES, required: true }, lr: { kind: 'number', min: 0, required: true },
    momentum: { kind: 'number', min: 0 }, nesterov: { kind: 'boolean' }, weightDecay: { kind: 'number', min: 0 },
    beta1: { kind: 'number', min: 0 }, beta2: { kind: 'number', min: 0 }, eps: { kind: 'number', min: 0 },
  }, 'optimizer');
  switch (cfg.name) {
    case 'sgd':
      return new Sgd({ lr: cfg.lr, momentum: cfg.momentum, nesterov: cfg.nesterov, weightDecay: cfg.weightDecay });
    case 'adam':
      return new Adam({ lr: cfg.lr, beta1: cfg.beta1, beta2: cfg.beta2, eps: cfg.eps, weightDecay: cfg.weightDecay });
    case 'adamw':
      return new AdamW({ lr: cfg.lr, beta1: cfg.beta1, beta2: cfg.beta2, eps: cfg.eps, weightDecay: cfg.weightDecay });
    default:
      return fail('INVALID_ARGUMENT', `unknown optimizer '${String((cfg as { name: unknown }).name)}': expected one of ${OPTIMIZER_NAMES.join(', ')}`);
  }
}
export { Lbfgs, minimizeLbfgs, type LbfgsOptions, type LbfgsObjective, type LbfgsIteration, type LbfgsResult, type LbfgsStopReason } from './lbfgs.js';
export { levenbergMarquardt, type LmProblem, type LmOptions, type LmResult, type LmEvaluation, type LmStopReason } from './lm.js';
