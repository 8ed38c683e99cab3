// Arithmetic back-ends for the generic right-hand sides of model.ts: plain numbers (the solvers'
// function evaluations) and forward-mode dual numbers with a vector of tangents (Jacobians
// ∂f/∂u, ∂f/∂p, ∂f/∂t and the variational equations of the sensitivities). The dual arithmetic
// is itself generic over a base Arith, so duals nest: the stiff solver's Jacobian of the
// sensitivity-augmented system is a dual over duals.
import type { Arith } from './model.js';

export const numberArith: Arith<number> = {
  const: (c) => c,
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  neg: (a) => -a,
  powc: (a, p) => (p === 2 ? a * a : p === 1 ? a : Math.pow(a, p)),
  exp: (a) => Math.exp(a),
  log: (a) => Math.log(a),
};

/** A value with nd tangent components: v + Σ_k d[k]·ε_k (ε_k ε_j = 0). */
export interface Dual<T> {
  readonly v: T;
  readonly d: readonly T[];
}

export interface DualArith<T> extends Arith<Dual<T>> {
  readonly nd: number;
  readonly base: Arith<T>;
  /** A variable: value v with tangent e_k (unit in direction k). */
  variable(v: T, k: number): Dual<T>;
  /** A value with the given tangent (length nd). */
  make(v: T, d: readonly T[]): Dual<T>;
  /** A constant carried from the base arithmetic (zero tangent). */
  lift(v: T): Dual<T>;
}

/** Forward-mode duals with nd tangent directions over a base arithmetic. */
export function dualArith<T>(base: Arith<T>, nd: number): DualArith<T> {
  const zero = base.const(0);
  const one = base.const(1);
  const zeros = (): T[] => new Array<T>(nd).fill(zero);
  const lift = (v: T): Dual<T> => ({ v, d: zeros() });
  const scaleAdd = (a: readonly T[], sa: T, b: readonly T[], sb: T): T[] => {
    const out = new Array<T>(nd);
    for (let k = 0; k < nd; k++) out[k] = base.add(base.mul(a[k]!, sa), base.mul(b[k]!, sb));
    return out;
  };
  const scale = (a: readonly T[], s: T): T[] => {
    const out = new Array<T>(nd);
    for (let k = 0; k < nd; k++) out[k] = base.mul(a[k]!, s);
    return out;
  };
  return {
    nd,
    base,
    variable(v, k) {
      const d = zeros();
      d[k] = one;
      return { v, d };
    },
    make: (v, d) => ({ v, d }),
    lift,
    const: (c) => lift(base.const(c)),
    add(a, b) {
      const d = new Array<T>(nd);
      for (let k = 0; k < nd; k++) d[k] = base.add(a.d[k]!, b.d[k]!);
      return { v: base.add(a.v, b.v), d };
    },
    sub(a, b) {
      const d = new Array<T>(nd);
      for (let k = 0; k < nd; k++) d[k] = base.sub(a.d[k]!, b.d[k]!);
      return { v: base.sub(a.v, b.v), d };
    },
    mul: (a, b) => ({ v: base.mul(a.v, b.v), d: scaleAdd(a.d, b.v, b.d, a.v) }),
    div(a, b) {
      const v = base.div(a.v, b.v);
      const inv = base.div(one, b.v);
      // (a/b)' = (a' − v·b')/b
      const d = new Array<T>(nd);
      for (let k = 0; k < nd; k++) d[k] = base.mul(base.sub(a.d[k]!, base.mul(v, b.d[k]!)), inv);
      return { v, d };
    },
    neg(a) {
      const d = new Array<T>(nd);
      for (let k = 0; k < nd; k++) d[k] = base.neg(a.d[k]!);
      return { v: base.neg(a.v), d };
    },
    powc(a, p) {
      if (p === 0) return lift(one);
      const v = base.powc(a.v, p);
      const dv = base.mul(base.const(p), base.powc(a.v, p - 1));
      return { v, d: scale(a.d, dv) };
    },
    exp(a) {
      const v = base.exp(a.v);
      return { v, d: scale(a.d, v) };
    },
    log(a) {
      const inv = base.div(one, a.v);
      return { v: base.log(a.v), d: scale(a.d, inv) };
    },
  };
}
