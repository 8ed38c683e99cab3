// M3, steady states: the normal-cell–tumour–immune model of "The dynamics of an optimally
// controlled tumor model: a case study" (de Pillis, Radunskaya, 2003) without chemotherapy.
// Candidate for the CBINN paper's third model. Bistable: from (1, 0.25, 0.15) to coexistence
// ≈ (0.435, 0.565, 0.435), from (1, 0.1, 0.15) to the tumour-free state (1, 0, 1.65).
//   dN/dt = r2 N (1 − b2 N) − c4 T N
//   dT/dt = r1 T (1 − b1 T) − c2 I T − c3 T N
//   dI/dt = s + ρ I T/(α + T) − c1 I T − d1 I
import type { Arith, MissingTerm, OdeModel } from '../model.js';
import { checkModel, param } from '../define.js';

const P = { r1: 0, r2: 1, b1: 2, b2: 3, c1: 4, c2: 5, c3: 6, c4: 7, d1: 8, s: 9, rho: 10, alpha: 11 } as const;

const immuneResponse: MissingTerm = {
  name: 'immune-response',
  state: 2,
  formula: 'rho*I*T/(alpha + T)',
  term<T>(ar: Arith<T>, _t: T, u: readonly T[], p: readonly T[]): T {
    return ar.div(ar.mul(p[P.rho]!, ar.mul(u[2]!, u[1]!)), ar.add(p[P.alpha]!, u[1]!));
  },
};

export const dePillis: OdeModel = checkModel({
  name: 'depillis',
  description: 'de Pillis–Radunskaya 2003 normal–tumour–immune model without chemotherapy (bistable steady states); candidate M3',
  states: ['N', 'T', 'I'],
  parameters: [
    param('r1', 1.5, false, { description: 'tumour growth rate' }),
    param('r2', 1, false, { description: 'normal-cell growth rate' }),
    param('b1', 1, true, { description: 'tumour inverse carrying capacity' }),
    param('b2', 1, true, { description: 'normal-cell inverse carrying capacity' }),
    param('c1', 1, false, { description: 'immune cells inactivated by tumour' }),
    param('c2', 0.5, false, { description: 'tumour killed by immune cells' }),
    param('c3', 1, false, { description: 'tumour–normal competition (tumour loss)' }),
    param('c4', 1, false, { description: 'tumour–normal competition (normal loss)' }),
    param('d1', 0.2, false, { description: 'immune death rate' }),
    param('s', 0.33, true, { description: 'immune source' }),
    param('rho', 0.01, true, { description: 'immune response rate' }),
    param('alpha', 0.3, true, { description: 'immune response threshold' }),
  ],
  rhs<T>(ar: Arith<T>, t: T, u: readonly T[], p: readonly T[]): T[] {
    const [N, T_, I] = [u[0]!, u[1]!, u[2]!];
    const one = ar.const(1);
    const TN = ar.mul(T_, N);
    const dN = ar.sub(ar.mul(ar.mul(p[P.r2]!, N), ar.sub(one, ar.mul(p[P.b2]!, N))), ar.mul(p[P.c4]!, TN));
    const dT = ar.sub(ar.sub(ar.mul(ar.mul(p[P.r1]!, T_), ar.sub(one, ar.mul(p[P.b1]!, T_))), ar.mul(p[P.c2]!, ar.mul(I, T_))), ar.mul(p[P.c3]!, TN));
    const dI = ar.sub(ar.sub(ar.add(p[P.s]!, immuneResponse.term(ar, t, u, p)), ar.mul(p[P.c1]!, ar.mul(I, T_))), ar.mul(p[P.d1]!, I));
    return [dN, dT, dI];
  },
  missing: [immuneResponse],
  initialState: Float64Array.of(1, 0.25, 0.15),
  tspan: [0, 100],
  scales: Float64Array.of(1, 1, 1),
  stiff: false,
});
