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
  /** Optional structured Jacobian (∂F/∂y row-major, ∂F/∂t); otherwise duals over rhs. */
  jacobian?(t: number, y: Float64Array, jac: Float64Array, ft: Float64Array): void;
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
    // ∂F/∂y of the augmented system is block lower triangular: J on the diagonal blocks (the
    // variational right-hand side is linear in S), and below them the derivative of
    // J·S_k + ∂f/∂p_k with respect to u. Both come from one evaluation with n + 1 outer tangents
    // (u and t) over |W| inner tangents (carrying S and the unit p seeds) — instead of duals over
    // all n(1 + |W|) components.
    jacobian(t: number, y: Float64Array, jac: Float64Array, ft: Float64Array): void {
      const N = n * (1 + np);
      const inner = dualArith(numberArith, np);
      const outer = dualArith(inner, n + 1);
      const u = new Array(n);
      for (let i = 0; i < n; i++) u[i] = outer.variable(inner.make(y[i]!, Array.from(y.subarray(n + i * np, n + (i + 1) * np))), i);
      const pd = Array.from(p, (v, j) => outer.lift(slot[j]! >= 0 ? inner.variable(v, slot[j]!) : inner.lift(v)));
      const f = model.rhs(outer, outer.variable(inner.lift(t), n), u, pd);
      jac.fill(0);
      for (let i = 0; i < n; i++) {
        const d = f[i]!.d;
        for (let l = 0; l < n; l++) {
          const dil = d[l]!;
          jac[i * N + l] = dil.v; // ∂f_i/∂u_l
          for (let k = 0; k < np; k++) {
            const row = (n + i * np + k) * N;
            jac[row + l] = dil.d[k]!; // ∂(J S_k + f_{p_k})_i/∂u_l
            jac[row + n + l * np + k] = dil.v; // ∂(J S_k)_i/∂S_lk = J_il
          }
        }
        ft[i] = d[n]!.v;
        for (let k = 0; k < np; k++) ft[n + i * np + k] = d[n]!.d[k]!;
      }
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
  if (sys.jacobian) return sys.jacobian(t, y, jac, ft);
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
