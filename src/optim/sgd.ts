/**
 * Stochastic gradient descent with optional heavy-ball or Nesterov momentum and L2 weight decay.
 *
 * With g = ∇L(θ) + λθ (the gradient of L + λ/2·‖θ‖²) and momentum μ:
 *     b ← μ·b + g                       (b starts at 0, so the first step has b = g)
 *     θ ← θ − lr·b                      (heavy ball)
 *     θ ← θ − lr·(g + μ·b)              (Nesterov, in the form that needs no look-ahead gradient)
 * With μ = 0 this is plain SGD: θ ← θ − lr·g.
 */
import { fail } from '../core/errors.js';
import type { Tensor } from '../core/tensor.js';
import { checkHyper, checkLearningRate, checkStateMatches, checkStepArgs, Slots, type Optimizer, type OptimizerState } from './optimizer.js';

export interface SgdOptions {
  lr: number;
  /** Momentum coefficient μ in [0, 1); 0 (default) is plain SGD. */
  momentum?: number;
  /** Nesterov momentum (needs momentum > 0). */
  nesterov?: boolean;
  /** L2 penalty coefficient λ: adds λθ to the gradient. */
  weightDecay?: number;
}

export class Sgd implements Optimizer {
  readonly name = 'sgd' as const;
  lr: number;
  readonly momentum: number;
  readonly nesterov: boolean;
  readonly weightDecay: number;
  private steps = 0;
  private readonly slots = new Slots('sgd', ['momentum']);

  constructor(opts: SgdOptions) {
    checkLearningRate(opts.lr);
    this.lr = opts.lr;
    this.momentum = opts.momentum ?? 0;
    this.nesterov = opts.nesterov ?? false;
    this.weightDecay = opts.weightDecay ?? 0;
    checkHyper('sgd momentum', this.momentum, 0, 1, false);
    checkHyper('sgd weight decay', this.weightDecay, 0, Infinity, false);
    if (this.nesterov && this.momentum === 0) fail('INVALID_ARGUMENT', 'sgd: Nesterov momentum needs momentum > 0');
  }

  get stepCount(): number {
    return this.steps;
  }

  private hyper(): Record<string, number | boolean> {
    return { momentum: this.momentum, nesterov: this.nesterov, weightDecay: this.weightDecay };
  }

  step(params: readonly Tensor[], grads: readonly Tensor[]): void {
    checkLearningRate(this.lr);
    checkStepArgs('sgd', params, grads);
    const lr = this.lr;
    const mu = this.momentum;
    const wd = this.weightDecay;
    const buffers = mu > 0 ? this.slots.forParams(params) : null;
    for (let i = 0; i < params.length; i++) {
      const p = params[i]!.data;
      const g = grads[i]!.data;
      if (buffers === null) {
        for (let j = 0; j < p.length; j++) p[j] = p[j]! - lr * (g[j]! + wd * p[j]!);
        continue;
      }
      const b = buffers[i]!.momentum!;
      if (this.nesterov) {
        for (let j = 0; j < p.length; j++) {
          const gj = g[j]! + wd * p[j]!;
          const bj = mu * b[j]! + gj;
          b[j] = bj;
          p[j] = p[j]! - lr * (gj + mu * bj);
        }
      } else {
        for (let j = 0; j < p.length; j++) {
          const bj = mu * b[j]! + g[j]! + wd * p[j]!;
          b[j] = bj;
          p[j] = p[j]! - lr * bj;
        }
      }
    }
    this.steps++;
  }

  state(): OptimizerState {
    return { optimizer: 'sgd', step: this.steps, hyper: this.hyper(), slots: this.slots.toState() };
  }

  loadState(state: OptimizerState): void {
    checkStateMatches('sgd', this.hyper(), state);
    this.slots.fromState(state.slots);
    this.steps = state.step;
  }
}
