// What the integrators step: a first-order system y' = F(t, y) with a generic right-hand side,
// built from an OdeModel at fixed parameters, or from a model plus its variational equations
// (forward sensitivities). Jacobians come from dual numbers, so no model writes one by hand.
import type { Arith, OdeModel } from './model.js';
import { dualArith, numberArith } from './arith.js';

export interface OdeSystem {
  readonly name: string;
  readonly n: number;
  /** Flagged stiff: the explicit solver refuses it. */
  readonly stiff: boolean;
  rhs<T>(ar: Arith<T>, t: T, y: readonly T[]): T[];
}

/** The model at fixed parameters p (every parameter, declaration order). */
export function modelSystem(model: OdeModel, p: Float64Array): OdeSystem {
  const n = model.states.length;
  return {
    name: model.name,
    n,
    stiff: model.stiff,
    rhs<T>(ar: Arith<T>, t: T, y: readonly T[]): T[] {
      const pc = Array.from(p, (v) => ar.const(v));
      return model.rhs(ar, t, y, pc);
    },
  };
}

/**
 * The model augmented with its forward sensitivities S = ∂u/∂p_W for the parameters W:
 * y = [u (n), S (n×|W| row-major)], S' = (∂f/∂u)·S + ∂f/∂p_W, S(t0) = 0 (the initial state does
 * not depend on p). The tangent part of one dual evaluation — u carrying the rows of S, p_W
 * carrying unit tangents — is exactly (∂f/∂u)·S + ∂f/∂p_W, so the variational right-hand side
 * is itself generic and the stiff solver can take its Jacobian with duals over duals.
 */
export function sensitivitySystem(model: OdeModel, p: Float64Array, wrt: readonly number[]): OdeSystem {
  const n = model.states.length;
  const np = wrt.length;
  const slot = new Int32Array(p.length).fill(-1);
  wrt.forEach((j, k) => { slot[j] = k; });
  return {
    name: `${model.name} + sensitivities`,
    n: n * (1 + np),
    stiff: model.stiff,
    rhs<T>(ar: Arith<T>, t: T, y: readonly T[]): T[] {
      const da = dualArith(ar, np);
      const u = new Array(n);
      for (let i = 0; i < n; i++) u[i] = da.make(y[i]!, y.slice(n + i * np, n + (i + 1) * np));
      const pd = Array.from(p, (v, j) => (slot[j]! >= 0 ? da.variable(ar.const(v), slot[j]!) : da.lift(ar.const(v))));
      const f = model.rhs(da, da.lift(t), u, pd);
      const out = new Array<T>(n * (1 + np));
      for (let i = 0; i < n; i++) {
        out[i] = f[i]!.v;
        for (let k = 0; k < np; k++) out[n + i * np + k] = f[i]!.d[k]!;
      }
      return out;
    },
  };
}

/** F(t, y) into out (plain numbers). */
export function evalRhs(sys: OdeSystem, t: number, y: Float64Array, out: Float64Array): Float64Array {
  const r = sys.rhs(numberArith, t, Array.from(y));
  for (let i = 0; i < sys.n; i++) out[i] = r[i]!;
  return out;
}

/** ∂F/∂y (n×n row-major) and ∂F/∂t, from one evaluation with n + 1 dual tangents. */
export function evalJacobian(sys: OdeSystem, t: number, y: Float64Array, jac: Float64Array, ft: Float64Array): void {
  const n = sys.n;
  const da = dualArith(numberArith, n + 1);
  const yd = Array.from(y, (v, i) => da.variable(v, i));
  const r = sys.rhs(da, da.variable(t, n), yd);
  for (let i = 0; i < n; i++) {
    const d = r[i]!.d;
    for (let j = 0; j < n; j++) jac[i * n + j] = d[j]!;
    ft[i] = d[n]!;
  }
}
