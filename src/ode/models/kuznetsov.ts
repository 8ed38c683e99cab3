// M1, damped oscillations: the non-dimensional effector–tumour model of "Nonlinear dynamics of
// immunogenic tumors: parameter estimation and global bifurcation analysis" (Kuznetsov,
// Makalkin, Taylor, Perelson, 1994). A candidate for the CBINN paper's first model (its exact
// models were not readable); values from the dimensional ones with E₀ = T₀ = 1e6 cells.
//   dx/dτ = σ + ρ x y/(η + y) − μ x y − δ x      (x: effectors)
//   dy/dτ = α y (1 − β y) − x y                   (y: tumour cells)
// From (1, 1) it spirals into the dormant equilibrium ≈ (1.609, 8.190).
import type { Arith, MissingTerm, OdeModel } from '../model.js';
import { checkModel, param } from '../define.js';

const recruitment: MissingTerm = {
  name: 'recruitment',
  state: 0,
  formula: 'rho*x*y/(eta + y)',
  term<T>(ar: Arith<T>, _t: T, u: readonly T[], p: readonly T[]): T {
    return ar.div(ar.mul(p[1]!, ar.mul(u[0]!, u[1]!)), ar.add(p[2]!, u[1]!));
  },
};

export const kuznetsov: OdeModel = checkModel({
  name: 'kuznetsov',
  description: 'Kuznetsov et al. 1994 effector–tumour model, non-dimensional (damped oscillations into the dormant state); candidate M1',
  states: ['x', 'y'],
  parameters: [
    param('sigma', 0.1181, true, { description: 'effector influx (s = 1.3e4 cells/day)' }),
    param('rho', 1.131, false, { description: 'maximal recruitment by the tumour (p = 0.1245/day)' }),
    param('eta', 20.19, false, { description: 'half-saturation of recruitment (g = 2.019e7 cells)' }),
    param('mu', 0.00311, false, { description: 'effector inactivation by tumour cells (m = 3.422e-10/(cell·day))' }),
    param('delta', 0.3743, false, { description: 'effector death rate (d = 0.0412/day)' }),
    param('alpha', 1.636, false, { description: 'tumour growth rate (a = 0.18/day)' }),
    param('beta', 0.002, true, { description: 'inverse carrying capacity (b = 2e-9/cell)' }),
  ],
  rhs<T>(ar: Arith<T>, t: T, u: readonly T[], p: readonly T[]): T[] {
    const [x, y] = [u[0]!, u[1]!];
    const [sigma, , , mu, delta, alpha, beta] = p as T[];
    const xy = ar.mul(x, y);
    const dx = ar.sub(ar.sub(ar.add(sigma!, recruitment.term(ar, t, u, p)), ar.mul(mu!, xy)), ar.mul(delta!, x));
    const dy = ar.sub(ar.mul(ar.mul(alpha!, y), ar.sub(ar.const(1), ar.mul(beta!, y))), xy);
    return [dx, dy];
  },
  missing: [recruitment],
  initialState: Float64Array.of(1, 1),
  tspan: [0, 100],
  scales: Float64Array.of(2, 20),
  stiff: false,
});
