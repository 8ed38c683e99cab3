import { ode } from '../src/index.js';

// A model in a few lines: logistic growth with an unknown rate r and a known capacity K.
const logistic = ode.defineOdeModel({
  name: 'logistic',
  states: ['N'],
  parameters: [ode.param('r', 0.8, false), ode.param('K', 10, true)],
  rhs: (ar, _t, [N], [r, K]) => [ar.mul(ar.mul(r!, N!), ar.sub(ar.const(1), ar.div(N!, K!)))],
  initialState: [0.5],
  tspan: [0, 10],
});
// Or from equations as strings (the same language as JSON model files).
const same = ode.modelFromSpec({
  name: 'logistic-eq', states: ['N'], parameters: { r: 0.8, K: { value: 10, known: true } },
  equations: { N: 'r*N*(1 - N/K)' }, initialState: [0.5], tspan: [0, 10],
});
const sol = ode.solveOde(same, { times: ode.linspace(0, 10, 5), sensitivities: 'unknown' });
const data = ode.synthesize(logistic, { count: 20, noise: { kind: 'multiplicative', level: 0.05 }, seed: 1 });
const fit = ode.fitLeastSquares(logistic, data, { seed: 1 });
const id = ode.identifiability(logistic, data, { params: fit.params });
console.log(sol.states.length, sol.sensitivities!.length, fit.converged, Math.abs(fit.params[0]! - 0.8) < 3 * id.parameters[0]!.sd);
