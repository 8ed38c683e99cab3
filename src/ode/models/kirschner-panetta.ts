// M2, sustained periodicity: the effector–tumour–IL-2 model of "Modeling immunotherapy of the
// tumor–immune interaction" (Kirschner, Panetta, 1998), without treatment (s1 = s2 = 0).
// Candidate for the CBINN paper's second model. At antigenicity c = 0.02 it has a limit cycle in
// which T swings over about nine decades (≈1e-4 to 3.8e5): stiff, integrated with 'rodas'.
//   dE/dt  = c T − μ2 E + p1 E I/(g1 + I) + s1
//   dT/dt  = r2 T (1 − b T) − a E T/(g2 + T)
//   dI/dt  = p2 E T/(g3 + T) − μ3 I + s2
import type { Arith, MissingTerm, OdeModel } from '../model.js';
import { checkModel, param } from '../define.js';

const P = { c: 0, mu2: 1, p1: 2, g1: 3, r2: 4, b: 5, a: 6, g2: 7, p2: 8, g3: 9, mu3: 10, s1: 11, s2: 12 } as const;

const il2Proliferation: MissingTerm = {
  name: 'il2-proliferation',
  state: 0,
  formula: 'p1*E*I/(g1 + I)',
  term<T>(ar: Arith<T>, _t: T, u: readonly T[], p: readonly T[]): T {
    return ar.div(ar.mul(p[P.p1]!, ar.mul(u[0]!, u[2]!)), ar.add(p[P.g1]!, u[2]!));
  },
};

const kill: MissingTerm = {
  name: 'kill',
  state: 1,
  formula: '-a*E*T/(g2 + T)',
  term<T>(ar: Arith<T>, _t: T, u: readonly T[], p: readonly T[]): T {
    return ar.neg(ar.div(ar.mul(p[P.a]!, ar.mul(u[0]!, u[1]!)), ar.add(p[P.g2]!, u[1]!)));
  },
};

export const kirschnerPanetta: OdeModel = checkModel({
  name: 'kirschner-panetta',
  description: 'Kirschner–Panetta 1998 effector–tumour–IL-2 model at antigenicity c = 0.02 (limit cycle, stiff); candidate M2',
  states: ['E', 'T', 'I'],
  parameters: [
    param('c', 0.02, false, { lo: 0.001, hi: 0.1, description: 'tumour antigenicity' }),
    param('mu2', 0.03, false, { description: 'effector death rate' }),
    param('p1', 0.1245, false, { description: 'IL-2-driven effector proliferation' }),
    param('g1', 2e7, true, { description: 'half-saturation of p1' }),
    param('r2', 0.18, false, { description: 'tumour growth rate' }),
    param('b', 1e-9, true, { description: 'inverse carrying capacity' }),
    param('a', 1, false, { description: 'effector kill rate' }),
    param('g2', 1e5, true, { description: 'half-saturation of the kill' }),
    param('p2', 5, false, { description: 'IL-2 production' }),
    param('g3', 1e3, true, { description: 'half-saturation of IL-2 production' }),
    param('mu3', 10, false, { description: 'IL-2 decay' }),
    param('s1', 0, true, { lo: 0, hi: 1e4, description: 'effector treatment (off)' }),
    param('s2', 0, true, { lo: 0, hi: 1e4, description: 'IL-2 treatment (off)' }),
  ],
  rhs<T>(ar: Arith<T>, t: T, u: readonly T[], p: readonly T[]): T[] {
    const [E, T_, I] = [u[0]!, u[1]!, u[2]!];
    const dE = ar.add(ar.add(ar.sub(ar.mul(p[P.c]!, T_), ar.mul(p[P.mu2]!, E)), il2Proliferation.term(ar, t, u, p)), p[P.s1]!);
    const dT = ar.add(ar.mul(ar.mul(p[P.r2]!, T_), ar.sub(ar.const(1), ar.mul(p[P.b]!, T_))), kill.term(ar, t, u, p));
    const dI = ar.add(ar.sub(ar.div(ar.mul(p[P.p2]!, ar.mul(E, T_)), ar.add(p[P.g3]!, T_)), ar.mul(p[P.mu3]!, I)), p[P.s2]!);
    return [dE, dT, dI];
  },
  missing: [il2Proliferation, kill],
  initialState: Float64Array.of(1, 1, 1),
  tspan: [0, 1000],
  scales: Float64Array.of(1e5, 1e5, 1e2),
  stiff: true,
});
