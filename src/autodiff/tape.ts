/**
 * Graph recording. An op's output records a node only when gradients are enabled and some
 * input requires a gradient. Backward passes run their vjp rules with recording switched on
 * only when the caller asks for a differentiable result (createGraph), which is how
 * double-backward and forward-mode-by-double-vjp work without a separate mechanism.
 */
import { Tensor, type GradNode } from '../core/tensor.js';

let gradEnabled = true;

export function isGradEnabled(): boolean {
  return gradEnabled;
}

/** Runs `fn` without recording any graph (inference, optimiser updates, first-order backward). */
export function noGrad<T>(fn: () => T): T {
  return withGradMode(false, fn);
}

export function withGradMode<T>(enabled: boolean, fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = enabled;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}

/** Attaches a node to `out` when any input needs a gradient; returns `out`. */
export function record(
  out: Tensor,
  op: string,
  inputs: readonly Tensor[],
  vjp: GradNode['vjp'],
): Tensor {
  if (!gradEnabled) return out;
  for (const t of inputs) {
    if (t.requiresGrad) {
      out.requiresGrad = true;
      out.node = { op, inputs, vjp };
      return out;
    }
  }
  return out;
}
