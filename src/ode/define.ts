// Helpers for writing models: parameter records with default bounds, and one validation of a
// model's shape (names, lengths, bounds) used by the registry, the expression compiler and the
// solvers, so a malformed model fails with an OdeModelError before any integration starts.
import type { OdeModel, OdeParameter } from './model.js';
import { OdeModelError } from './errors.js';

/**
 * A parameter record. Default bounds for estimation: [value/5, 5·value] for positive values
 * (a factor of five either way; positive bounds mean estimation in log space), [value − 1,
 * value + 1] otherwise. Override with lo/hi.
 */
export function param(
  name: string, value: number, known: boolean,
  opts: { lo?: number; hi?: number; description?: string } = {},
): OdeParameter {
  const lo = opts.lo ?? (value > 0 ? value / 5 : value - 1);
  const hi = opts.hi ?? (value > 0 ? value * 5 : value + 1);
  return { name, value, lo, hi, known, ...(opts.description !== undefined ? { description: opts.description } : {}) };
}

export function checkBounds(p: OdeParameter, where: string): void {
  if (!Number.isFinite(p.value)) throw new OdeModelError(`${where}: parameter '${p.name}' has non-finite value ${p.value}`);
  if (!(p.lo < p.hi)) throw new OdeModelError(`${where}: parameter '${p.name}' has bounds lo = ${p.lo} ≥ hi = ${p.hi} (need lo < hi)`);
  if (!(p.value >= p.lo && p.value <= p.hi)) {
    throw new OdeModelError(`${where}: parameter '${p.name}' = ${p.value} lies outside its bounds [${p.lo}, ${p.hi}]`);
  }
}

/** Throws OdeModelError naming the first problem with a model's declaration. */
export function checkModel(m: OdeModel): OdeModel {
  const w = `model '${m.name}'`;
  const n = m.states.length;
  if (n === 0) throw new OdeModelError(`${w} has no states`);
  const seen = new Set<string>();
  for (const s of m.states) {
    if (seen.has(s)) throw new OdeModelError(`${w}: state name '${s}' appears twice`);
    seen.add(s);
  }
  for (const p of m.parameters) {
    if (seen.has(p.name)) throw new OdeModelError(`${w}: name '${p.name}' is used twice (states and parameters share one namespace)`);
    seen.add(p.name);
    checkBounds(p, w);
  }
  if (m.initialState.length !== n) throw new OdeModelError(`${w}: initialState has ${m.initialState.length} values for ${n} states`);
  if (m.scales.length !== n) throw new OdeModelError(`${w}: scales has ${m.scales.length} values for ${n} states`);
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(m.initialState[i]!)) throw new OdeModelError(`${w}: initial ${m.states[i]} is ${m.initialState[i]}`);
    if (!(m.scales[i]! > 0)) throw new OdeModelError(`${w}: scale of ${m.states[i]} must be positive, got ${m.scales[i]}`);
  }
  if (!(m.tspan[1] > m.tspan[0])) throw new OdeModelError(`${w}: tspan [${m.tspan[0]}, ${m.tspan[1]}] is empty`);
  for (const t of m.missing) {
    if (!(t.state >= 0 && t.state < n)) throw new OdeModelError(`${w}: missing term '${t.name}' enters state ${t.state}, not one of 0..${n - 1}`);
  }
  return m;
}

/** The parameter vector at the true values (known and unknown), in declaration order. */
export function trueParams(m: OdeModel): Float64Array {
  return Float64Array.from(m.parameters, (p) => p.value);
}

/** Indices of the unknown (estimated) parameters. */
export function unknownIndices(m: OdeModel): number[] {
  const out: number[] = [];
  m.parameters.forEach((p, i) => { if (!p.known) out.push(i); });
  return out;
}

/** A copy of the model with some parameter values/flags replaced (e.g. M2 at another antigenicity c). */
export function withParameters(m: OdeModel, changes: Record<string, { value?: number; known?: boolean; lo?: number; hi?: number }>): OdeModel {
  for (const k of Object.keys(changes)) {
    if (!m.parameters.some((p) => p.name === k)) throw new OdeModelError(`model '${m.name}' has no parameter '${k}' (it has ${m.parameters.map((p) => p.name).join(', ')})`);
  }
  const parameters = m.parameters.map((p) => (changes[p.name] ? { ...p, ...changes[p.name] } : p));
  return checkModel({ ...m, parameters });
}
