/**
 * Adam ("Adam: A Method for Stochastic Optimization") and AdamW ("Decoupled Weight Decay
 * Regularization"). The update itself runs in the active backend's fused `adamStep` kernel:
 *
 *     m ← β₁m + (1−β₁)g,  v ← β₂v + (1−β₂)g²,  m̂ = m/(1−β₁ᵗ),  v̂ = v/(1−β₂ᵗ)
 *     θ ← θ·(1 − lr·λ_decoupled) − lr·m̂/(√v̂ + ε)
 *
 * Adam's `weightDecay` is an L2 penalty folded into the gradient (g + λθ), so it is rescaled by
 * the adaptive denominator; AdamW's decays the weights directly, independent of the gradient
 * statistics, which is the point of the decoupled variant.
 */
import type { FloatArray } from '../core/dtype.js';
import { getBackend } from '../core/backends/index.js';
import type { Tensor } from '../core/tensor.js';
import { checkHyper, checkLearningRate, checkStateMatches, checkStepArgs, Slots, type Optimizer, type OptimizerState } from './optimizer.js';

export interface AdamOptions {
  lr: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  /** Adam: L2 penalty added to the gradient. AdamW: decoupled decay rate (default 0.01). */
  weightDecay?: number;
}

abstract class AdamBase implements Optimizer {
  abstract readonly name: 'adam' | 'adamw';
  lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  private steps = 0;
  private readonly slots: Slots;
  /** Scratch for g + λθ (Adam with L2), one per parameter, reused across steps. */
  private scratch: FloatArray[] | null = null;

  constructor(who: string, opts: AdamOptions, defaultDecay: number) {
    checkLearningRate(opts.lr);
    this.lr = opts.lr;
    this.beta1 = opts.beta1 ?? 0.9;
    this.beta2 = opts.beta2 ?? 0.999;
    this.eps = opts.eps ?? 1e-8;
    this.weightDecay = opts.weightDecay ?? defaultDecay;
    checkHyper(`${who} beta1`, this.beta1, 0, 1, false);
    checkHyper(`${who} beta2`, this.beta2, 0, 1, false);
    checkHyper(`${who} eps`, this.eps, 0, Infinity, false);
    checkHyper(`${who} weight decay`, this.weightDecay, 0, Infinity, false);
    this.slots = new Slots(who, ['m', 'v']);
  }

  protected abstract decoupled(): boolean;

  get stepCount(): number {
    return this.steps;
  }

  private hyper(): Record<string, number | boolean> {
    return { beta1: this.beta1, beta2: this.beta2, eps: this.eps, weightDecay: this.weightDecay };
  }

  step(params: readonly Tensor[], grads: readonly Tensor[]): void {
    checkLearningRate(this.lr);
    checkStepArgs(this.name, params, grads);
    const buffers = this.slots.forParams(params);
    const t = this.steps + 1;
    const backend = getBackend();
    const coupledL2 = !this.decoupled() && this.weightDecay > 0;
    if (coupledL2 && this.scratch === null) this.scratch = params.map((p) => (p.dtype === 'float32' ? new Float32Array(p.size) : new Float64Array(p.size)));
    const wd = this.decoupled() ? this.weightDecay : 0;
    for (let i = 0; i < params.length; i++) {
      const p = params[i]!.data;
      let g = grads[i]!.data;
      if (coupledL2) {
        const s = this.scratch![i]!;
        const lambda = this.weightDecay;
        for (let j = 0; j < p.length; j++) s[j] = g[j]! + lambda * p[j]!;
        g = s;
      }
      const b = buffers[i]!;
      backend.adamStep(p, g, b.m!, b.v!, this.lr, this.beta1, this.beta2, this.eps, wd, t);
    }
    this.steps = t;
  }

  state(): OptimizerState {
    return { optimizer: this.name, step: this.steps, hyper: this.hyper(), slots: this.slots.toState() };
  }

  loadState(state: OptimizerState): void {
    checkStateMatches(this.name, this.hyper(), state);
    this.slots.fromState(state.slots);
    this.steps = state.step;
  }
}

export class Adam extends AdamBase {
  readonly name = 'adam' as const;
  constructor(opts: AdamOptions) {
    super('adam', opts, 0);
  }
  protected decoupled(): boolean {
    return false;
  }
}

export class AdamW extends AdamBase {
  readonly name = 'adamw' as const;
  constructor(opts: AdamOptions) {
    super('adamw', opts, 0.01);
  }
  protected decoupled(): boolean {
    return true;
  }
}
