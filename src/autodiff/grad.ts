/**
 * Reverse mode over the recorded graph, plus the derived second-order tools: Hessian–vector
 * products (double backward) and forward-mode Jacobian–vector products by the double-vjp
 * construction (vjp is linear in its cotangent u, so differentiating uᵀ·J·… w.r.t. u gives J·v).
 */
import { fail, shapeStr } from '../core/errors.js';
import { Tensor } from '../core/tensor.js';
import { add, onesLike, zerosLike, sum, mul } from './ops.js';
import { noGrad, withGradMode } from './tape.js';

export interface GradOptions {
  /** Cotangents for the outputs (default: ones, which requires scalar outputs). */
  gradOutputs?: Tensor | readonly Tensor[];
  /** Record the backward pass so the gradients can be differentiated again. */
  createGraph?: boolean;
  /** Return null instead of zeros for inputs the outputs do not depend on. */
  allowUnused?: boolean;
}

/** Tensors reachable from `roots` through recorded nodes, in topological order (inputs first). */
function topoOrder(roots: readonly Tensor[]): Tensor[] {
  const order: Tensor[] = [];
  const seen = new Set<number>();
  const stack: { t: Tensor; expanded: boolean }[] = roots.map((t) => ({ t, expanded: false }));
  while (stack.length > 0) {
    const top = stack.pop()!;
    if (top.expanded) {
      order.push(top.t);
      continue;
    }
    if (seen.has(top.t.id)) continue;
    seen.add(top.t.id);
    stack.push({ t: top.t, expanded: true });
    const node = top.t.node;
    if (node) for (const inp of node.inputs) if (inp.requiresGrad && !seen.has(inp.id)) stack.push({ t: inp, expanded: false });
  }
  return order;
}

/** Propagates cotangents from outputs to every tensor on the way; returns the map by tensor id. */
function backprop(outputs: readonly Tensor[], cotangents: readonly Tensor[], createGraph: boolean): Map<number, Tensor> {
  const cot = new Map<number, Tensor>();
  const accumulate = (t: Tensor, g: Tensor): void => {
    const prev = cot.get(t.id);
    cot.set(t.id, prev ? add(prev, g) : g);
  };
  withGradMode(createGraph, () => {
    outputs.forEach((o, i) => accumulate(o, cotangents[i]!));
    const order = topoOrder(outputs);
    for (let i = order.length - 1; i >= 0; i--) {
      const t = order[i]!;
      const node = t.node;
      const g = cot.get(t.id);
      if (!node || !g) continue;
      const gs = node.vjp(g);
      node.inputs.forEach((inp, j) => {
        const gi = gs[j];
        if (gi && inp.requiresGrad) accumulate(inp, gi);
      });
      // Intermediate cotangents are dropped once used, unless they are roots of interest.
      if (!createGraph) cot.delete(t.id);
    }
  });
  return cot;
}

function asArray<T>(x: T | readonly T[]): readonly T[] {
  return Array.isArray(x) ? (x as readonly T[]) : [x as T];
}

function defaultCotangents(outputs: readonly Tensor[], given: GradOptions['gradOutputs']): Tensor[] {
  if (given !== undefined) {
    const gs = asArray(given);
    if (gs.length !== outputs.length) fail('SHAPE', `${gs.length} output cotangents for ${outputs.length} outputs`);
    gs.forEach((g, i) => {
      const o = outputs[i]!;
      if (g.size !== o.size) fail('SHAPE', `cotangent ${shapeStr(g.shape)} does not match output ${shapeStr(o.shape)}`);
    });
    return [...gs];
  }
  return outputs.map((o) => {
    if (o.size !== 1) fail('SHAPE', `grad of a non-scalar output ${shapeStr(o.shape)} needs gradOutputs`);
    return onesLike(o);
  });
}

/** Gradients of `outputs` w.r.t. `inputs` (like a functional autograd.grad). */
export function grad(outputs: Tensor | readonly Tensor[], inputs: readonly Tensor[], opts: GradOptions = {}): Tensor[] {
  const outs = asArray(outputs);
  const cts = defaultCotangents(outs, opts.gradOutputs);
  for (const x of inputs) if (!x.requiresGrad) fail('INVALID_ARGUMENT', `grad w.r.t. ${x.name ?? x.toString()} which does not require a gradient`);
  const createGraph = opts.createGraph ?? false;
  // Keep the cotangents of the requested inputs even when intermediates are dropped.
  const keep = new Set(inputs.map((x) => x.id));
  const cot = backpropKeeping(outs, cts, createGraph, keep);
  return inputs.map((x) => {
    const g = cot.get(x.id);
    if (g) return g.shape.length === x.shape.length ? g : new Tensor(g.data, x.shape, g.requiresGrad, g.node);
    if (opts.allowUnused) return null as unknown as Tensor;
    return zerosLike(x);
  });
}

function backpropKeeping(outputs: readonly Tensor[], cotangents: readonly Tensor[], createGraph: boolean, keep: Set<number>): Map<number, Tensor> {
  if (createGraph) return backprop(outputs, cotangents, true);
  const cot = new Map<number, Tensor>();
  const kept = new Map<number, Tensor>();
  const accumulate = (t: Tensor, g: Tensor): void => {
    const prev = cot.get(t.id);
    cot.set(t.id, prev ? add(prev, g) : g);
  };
  noGrad(() => {
    outputs.forEach((o, i) => accumulate(o, cotangents[i]!));
    const order = topoOrder(outputs);
    // Only tensors through which a requested input is reached need a cotangent: the others
    // (e.g. parameter gradients when the signals at layer outputs are asked for) are switched
    // off for the duration of their consumer's vjp, whose rules skip inputs not requiring one.
    const leads = new Set<number>();
    for (const t of order) if (keep.has(t.id) || (t.node && t.node.inputs.some((inp) => leads.has(inp.id)))) leads.add(t.id);
    for (let i = order.length - 1; i >= 0; i--) {
      const t = order[i]!;
      const g = cot.get(t.id);
      if (!g) continue;
      if (keep.has(t.id)) kept.set(t.id, g);
      const node = t.node;
      if (!node) continue;
      const off = node.inputs.filter((inp) => inp.requiresGrad && !leads.has(inp.id));
      off.forEach((inp) => (inp.requiresGrad = false));
      let gs: readonly (Tensor | null)[];
      try {
        gs = node.vjp(g);
      } finally {
        off.forEach((inp) => (inp.requiresGrad = true));
      }
      node.inputs.forEach((inp, j) => {
        const gi = gs[j];
        if (gi && inp.requiresGrad && leads.has(inp.id)) accumulate(inp, gi);
      });
      cot.delete(t.id);
    }
  });
  return kept;
}

/** Accumulates d(loss)/d(leaf) into `.grad` of every leaf that requires a gradient. */
export function backward(loss: Tensor, gradOutput?: Tensor): void {
  const leaves = topoOrder([loss]).filter((t) => t.node === null && t.requiresGrad);
  const gs = grad([loss], leaves, { gradOutputs: gradOutput ? [gradOutput] : undefined });
  noGrad(() => {
    leaves.forEach((leaf, i) => {
      leaf.grad = leaf.grad ? add(leaf.grad, gs[i]!) : gs[i]!;
    });
  });
}

/**
 * Runs `fn` with every tensor of `wrt` marked as requiring a gradient, restoring the flags after:
 * lets the second-order tools differentiate w.r.t. data inputs as well as parameters.
 */
function withRequiresGrad<T>(wrt: readonly Tensor[], fn: () => T): T {
  const prev = wrt.map((t) => t.requiresGrad);
  wrt.forEach((t) => (t.requiresGrad = true));
  try {
    return fn();
  } finally {
    wrt.forEach((t, i) => (t.requiresGrad = prev[i]!));
  }
}

/** The value of a scalar function f() and its gradient w.r.t. the tensors it reads in `wrt`. */
export function valueAndGrad(f: () => Tensor, wrt: readonly Tensor[]): { value: Tensor; grads: Tensor[] } {
  return withRequiresGrad(wrt, () => {
    const value = f();
    return { value: value.detach(), grads: grad(value, wrt) };
  });
}

/**
 * Hessian–vector product H·v of the scalar f() w.r.t. the tensors `wrt` (double backward).
 * `f` closes over those tensors (model parameters, inputs): `hvp(() => loss(model(x)), params, vs)`.
 */
export function hvp(f: () => Tensor, wrt: readonly Tensor[], vs: readonly Tensor[]): Tensor[] {
  if (vs.length !== wrt.length) fail('SHAPE', `hvp: ${vs.length} vectors for ${wrt.length} tensors`);
  return withRequiresGrad(wrt, () => {
    const y = f();
    const gs = grad(y, wrt, { createGraph: true });
    let dot: Tensor | null = null;
    gs.forEach((g, i) => {
      if (!g.requiresGrad) return; // f is linear in this tensor: no second-order term
      const term = sum(mul(g, vs[i]!));
      dot = dot ? add(dot, term) : term;
    });
    if (dot === null) return wrt.map((t) => zerosLike(t));
    return grad(dot, wrt);
  });
}

/**
 * Forward mode: the Jacobian–vector product J·v of y = f() w.r.t. the tensors `wrt`, by
 * differentiating the (linear) vjp u ↦ Jᵀu w.r.t. u. Returns the output and its tangent.
 */
export function jvp(f: () => Tensor, wrt: readonly Tensor[], vs: readonly Tensor[]): { value: Tensor; tangent: Tensor } {
  if (vs.length !== wrt.length) fail('SHAPE', `jvp: ${vs.length} tangents for ${wrt.length} tensors`);
  return withRequiresGrad(wrt, () => {
    const y = f();
    const u = new Tensor(zerosLike(y).data, y.shape, true);
    const jtu = grad(y, wrt, { gradOutputs: [u], createGraph: true });
    const used = jtu.map((g, i) => ({ g, v: vs[i]! })).filter(({ g }) => g.requiresGrad);
    if (used.length === 0) return { value: y.detach(), tangent: zerosLike(y) };
    const [tangent] = grad(used.map((p) => p.g), [u], { gradOutputs: used.map((p) => p.v) });
    return { value: y.detach(), tangent: tangent! };
  });
}
