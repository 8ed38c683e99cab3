// User-defined models: in TypeScript with defineOdeModel (a generic right-hand side, defaults for
// everything else), or from a JSON description whose equations are strings in the expression
// language of expr.ts (modelFromSpec / parseModelJson; loadModelFile in user-file.ts).
import type { Arith, MissingTerm, OdeModel, OdeParameter } from './model.js';
import { checkModel, param } from './define.js';
import { parseExpr, evalExpr, type ExprNode } from './expr.js';
import { OdeModelError, OdeExpressionError } from './errors.js';

export interface DefineOdeModelOptions {
  name: string;
  description?: string;
  states: readonly string[];
  parameters: readonly OdeParameter[];
  rhs<T>(ar: Arith<T>, t: T, u: readonly T[], p: readonly T[]): T[];
  missing?: readonly MissingTerm[];
  initialState: readonly number[] | Float64Array;
  tspan: readonly [number, number];
  /** Default: max(|u0_i|, 1) per state. */
  scales?: readonly number[] | Float64Array;
  stiff?: boolean;
}

/** An OdeModel from the essentials, validated (bounds, lengths, names). */
export function defineOdeModel(o: DefineOdeModelOptions): OdeModel {
  const u0 = Float64Array.from(o.initialState);
  const rhs = o.rhs;
  return checkModel({
    name: o.name,
    description: o.description ?? o.name,
    states: [...o.states],
    parameters: [...o.parameters],
    rhs,
    missing: [...(o.missing ?? [])],
    initialState: u0,
    tspan: [o.tspan[0], o.tspan[1]],
    scales: o.scales ? Float64Array.from(o.scales) : Float64Array.from(u0, (v) => Math.max(Math.abs(v), 1)),
    stiff: o.stiff ?? false,
  });
}

/** The JSON form of a model. */
export interface OdeModelSpec {
  name: string;
  description?: string;
  states: string[];
  /** name → value, or name → { value, known?, lo?, hi?, description? } (known defaults to false). */
  parameters: Record<string, number | { value: number; known?: boolean; lo?: number; hi?: number; description?: string }>;
  /** state name → right-hand side expression (every state needs one). */
  equations: Record<string, string>;
  /** Terms that can be declared missing: each is an additive term of its state's equation. */
  missing?: { name: string; state: string; formula: string }[];
  /** state name → value, or an array in state order. */
  initialState: Record<string, number> | number[];
  tspan: [number, number];
  scales?: Record<string, number> | number[];
  stiff?: boolean;
}

function byState(what: string, states: readonly string[], v: Record<string, number> | number[] | undefined, name: string): number[] | undefined {
  if (v === undefined) return undefined;
  if (Array.isArray(v)) {
    if (v.length !== states.length) throw new OdeModelError(`model '${name}': ${what} has ${v.length} values for ${states.length} states`);
    return v.map(Number);
  }
  for (const k of Object.keys(v)) if (!states.includes(k)) throw new OdeModelError(`model '${name}': ${what} names '${k}', which is not a state (${states.join(', ')})`);
  return states.map((s) => {
    if (!(s in v)) throw new OdeModelError(`model '${name}': ${what} lacks state '${s}'`);
    return Number(v[s]);
  });
}

/** Compiles a JSON model description (equations as strings) into an OdeModel. */
export function modelFromSpec(spec: OdeModelSpec): OdeModel {
  const name = spec.name;
  if (typeof name !== 'string' || !name) throw new OdeModelError('a model needs a name');
  if (!Array.isArray(spec.states) || spec.states.length === 0) throw new OdeModelError(`model '${name}' needs a non-empty 'states' list`);
  for (const s of spec.states) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(s)) throw new OdeModelError(`model '${name}': state name '${s}' is not an identifier`);
    if (s === 't' || s === 'exp' || s === 'log') throw new OdeModelError(`model '${name}': '${s}' is reserved (time, functions)`);
  }
  if (!spec.parameters || typeof spec.parameters !== 'object') throw new OdeModelError(`model '${name}' needs a 'parameters' object`);
  const parameters = Object.entries(spec.parameters).map(([pn, v]) => {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(pn) || pn === 't' || pn === 'exp' || pn === 'log') throw new OdeModelError(`model '${name}': '${pn}' cannot name a parameter`);
    if (typeof v === 'number') return param(pn, v, false);
    if (!v || typeof v.value !== 'number') throw new OdeModelError(`model '${name}': parameter '${pn}' needs a numeric value`);
    return param(pn, v.value, v.known ?? false, {
      ...(v.lo !== undefined ? { lo: v.lo } : {}), ...(v.hi !== undefined ? { hi: v.hi } : {}), ...(v.description !== undefined ? { description: v.description } : {}),
    });
  });
  const scope = { states: spec.states, parameters: parameters.map((p) => p.name) };
  if (!spec.equations || typeof spec.equations !== 'object') throw new OdeModelError(`model '${name}' needs an 'equations' object (state → expression)`);
  for (const k of Object.keys(spec.equations)) if (!spec.states.includes(k)) throw new OdeModelError(`model '${name}': equation for '${k}', which is not a state`);
  const compile = (src: string, where: string): ExprNode => {
    try {
      return parseExpr(src, scope);
    } catch (e) {
      if (e instanceof OdeExpressionError) throw new OdeExpressionError(`model '${name}', ${where}: ${e.message}`, e.position);
      throw e;
    }
  };
  const eqs = spec.states.map((s) => {
    const src = spec.equations[s];
    if (src === undefined) throw new OdeModelError(`model '${name}' has no equation for state '${s}'`);
    return compile(src, `equation of ${s}`);
  });
  const missing: MissingTerm[] = (spec.missing ?? []).map((m) => {
    const state = spec.states.indexOf(m.state);
    if (state < 0) throw new OdeModelError(`model '${name}': missing term '${m.name}' enters '${m.state}', which is not a state`);
    const node = compile(m.formula, `missing term ${m.name}`);
    return {
      name: m.name, state, formula: m.formula,
      term: <T>(ar: Arith<T>, t: T, u: readonly T[], p: readonly T[]): T => evalExpr(node, ar, t, u, p),
    };
  });
  const u0 = byState('initialState', spec.states, spec.initialState, name);
  if (!u0) throw new OdeModelError(`model '${name}' needs an initialState`);
  if (!Array.isArray(spec.tspan) || spec.tspan.length !== 2) throw new OdeModelError(`model '${name}' needs tspan: [t0, t1]`);
  const scales = byState('scales', spec.states, spec.scales, name);
  return defineOdeModel({
    name,
    description: spec.description ?? `${name} (equations: ${spec.states.map((s) => `d${s}/dt = ${spec.equations[s]}`).join('; ')})`,
    states: spec.states,
    parameters,
    rhs: <T>(ar: Arith<T>, t: T, u: readonly T[], p: readonly T[]): T[] => eqs.map((e) => evalExpr(e, ar, t, u, p)),
    missing,
    initialState: u0,
    tspan: [Number(spec.tspan[0]), Number(spec.tspan[1])],
    ...(scales ? { scales } : {}),
    stiff: spec.stiff ?? false,
  });
}

/** modelFromSpec on JSON text (a named error on malformed JSON). */
export function parseModelJson(text: string): OdeModel {
  let spec: unknown;
  try {
    spec = JSON.parse(text);
  } catch (e) {
    throw new OdeModelError(`model file is not valid JSON: ${(e as Error).message}`);
  }
  if (!spec || typeof spec !== 'object') throw new OdeModelError('model file must hold a JSON object');
  return modelFromSpec(spec as OdeModelSpec);
}
