// User models: the expression language (precedence, functions, derivatives through duals, named
// errors) and models compiled from JSON or defined in a few lines of TypeScript.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  parseExpr, evalExpr, numberArith, dualArith, modelFromSpec, parseModelJson, defineOdeModel, param, solveOde, linspace, kuznetsov,
  OdeExpressionError, OdeModelError, type OdeModelSpec,
} from '../src/ode/index.js';
import { loadModelFile } from '../src/ode/user-file.js';

const scope = { states: ['x', 'y'], parameters: ['a', 'k'] };
const ev = (src: string, x = 2, y = 3, a = 0.5, k = 4, t = 1.5): number => evalExpr(parseExpr(src, scope), numberArith, t, [x, y], [a, k]);

test('expressions: precedence, associativity, unary minus, exp/log, t', () => {
  assert.equal(ev('1 + 2*3'), 7);
  assert.equal(ev('(1 + 2)*3'), 9);
  assert.equal(ev('8/2/2'), 2);
  assert.equal(ev('2^3^2'), 512);
  assert.equal(ev('-2^2'), -4);
  assert.equal(ev('2^-1'), 0.5);
  assert.equal(ev('x - -y'), 5);
  assert.equal(ev('a*x*y/(k + y)'), (0.5 * 2 * 3) / 7);
  assert.ok(Math.abs(ev('exp(log(x)) + log(exp(y))') - 5) < 1e-12);
  assert.equal(ev('t*x'), 3);
  assert.equal(ev('1.5e-3*1e3'), 1.5);
  assert.ok(Math.abs(ev('x^a') - Math.SQRT2) < 1e-15);
  assert.ok(Math.abs(ev('x^y') - 8) < 1e-12); // a non-constant exponent goes through exp(y·log x)
});

test('expressions: derivatives through dual numbers match the closed form', () => {
  const e = parseExpr('a*x*y/(k + y) - x^2 + exp(-y)', scope);
  const da = dualArith(numberArith, 2);
  const [x, y, a, k] = [2, 3, 0.5, 4];
  const r = evalExpr(e, da, da.lift(0), [da.variable(x, 0), da.variable(y, 1)], [da.const(a), da.const(k)]);
  assert.ok(Math.abs(r.d[0]! - (a * y / (k + y) - 2 * x)) < 1e-12);
  assert.ok(Math.abs(r.d[1]! - (a * x * k / (k + y) ** 2 - Math.exp(-y))) < 1e-12);
});

test('expressions: named errors on unknown names, unknown functions and bad syntax', () => {
  const bad = (src: string, re: RegExp): void =>
    assert.throws(() => parseExpr(src, scope), (e: unknown) => e instanceof OdeExpressionError && re.test(e.message), src);
  bad('x + z', /unknown name 'z'.*states: x, y/);
  bad('sin(x)', /unknown function 'sin'/);
  bad('x +', /unexpected end/);
  bad('(x + y', /expected '\)'/);
  bad('x y', /unexpected 'y'/);
  bad('x $ y', /unexpected character '\$'/);
  bad('exp', /needs an argument/);
  bad('* x', /unexpected '\*'/);
  assert.throws(() => parseExpr('x + z', scope), (e: unknown) => e instanceof OdeExpressionError && e.position === 4);
});

test('a JSON model compiles to the same solution as the built-in Kuznetsov model', () => {
  const m = loadModelFile(new URL('../../examples/ode/kuznetsov.json', import.meta.url).pathname);
  assert.deepEqual(m.states, ['E', 'T']);
  assert.deepEqual(m.parameters.filter((p) => !p.known).map((p) => p.name), ['r', 'eta', 'mu', 'd', 'a']);
  const times = linspace(0, 100, 21);
  const a = solveOde(m, { times, rtol: 1e-10, sensitivities: 'unknown' });
  const b = solveOde(kuznetsov, { times, rtol: 1e-10, sensitivities: 'unknown' });
  for (let i = 0; i < a.states.length; i++) assert.ok(Math.abs(a.states[i]! - b.states[i]!) < 1e-9 * Math.max(1, Math.abs(b.states[i]!)));
  for (let i = 0; i < a.sensitivities!.length; i++) assert.ok(Math.abs(a.sensitivities![i]! - b.sensitivities![i]!) < 1e-7 * Math.max(1, Math.abs(b.sensitivities![i]!)));
  // The missing term evaluates like the built-in one.
  const u = [1.3, 7.1];
  const pv = m.parameters.map((p) => p.value);
  const kv = kuznetsov.parameters.map((p) => p.value);
  assert.ok(Math.abs(m.missing[0]!.term(numberArith, 0, u, pv) - kuznetsov.missing[0]!.term(numberArith, 0, u, kv)) < 1e-14);
});

test('a model in a few lines of TypeScript (logistic growth) matches its closed form', () => {
  const logistic = defineOdeModel({
    name: 'logistic',
    states: ['N'],
    parameters: [param('r', 0.8, false), param('K', 10, true)],
    rhs: (ar, _t, [N], [r, K]) => [ar.mul(ar.mul(r!, N!), ar.sub(ar.const(1), ar.div(N!, K!)))],
    initialState: [0.5],
    tspan: [0, 10],
  });
  const times = linspace(0, 10, 11);
  const s = solveOde(logistic, { times, rtol: 1e-10 });
  times.forEach((t, i) => {
    const exact = 10 / (1 + (10 / 0.5 - 1) * Math.exp(-0.8 * t));
    assert.ok(Math.abs(s.states[i]! - exact) < 1e-8, `t=${t}`);
  });
});

test('JSON models: named errors on malformed descriptions', () => {
  const base: OdeModelSpec = JSON.parse(readFileSync(new URL('../../examples/ode/kuznetsov.json', import.meta.url), 'utf8')) as OdeModelSpec;
  const broken = (change: (s: OdeModelSpec) => void, cls: Function, re: RegExp): void => {
    const s = structuredClone(base);
    change(s);
    assert.throws(() => modelFromSpec(s), (e: unknown) => e instanceof cls && re.test((e as Error).message));
  };
  broken((s) => { s.equations['E'] = 's + q*E'; }, OdeExpressionError, /equation of E: unknown name 'q'/);
  broken((s) => { s.equations['T'] = 'a*T*(1 - b*T'; }, OdeExpressionError, /equation of T/);
  broken((s) => { delete s.equations['T']; }, OdeModelError, /no equation for state 'T'/);
  broken((s) => { s.parameters['r'] = { value: 1, lo: 2, hi: 1 }; }, OdeModelError, /lo = 2 ≥ hi = 1/);
  broken((s) => { s.initialState = [1]; }, OdeModelError, /initialState has 1 values/);
  broken((s) => { s.missing = [{ name: 'm', state: 'Q', formula: 'E' }]; }, OdeModelError, /not a state/);
  broken((s) => { s.states = ['E', 't']; }, OdeModelError, /reserved/);
  assert.throws(() => parseModelJson('{ not json'), OdeModelError);
});

test('the README ODE example is examples/ode.ts, and it runs', async () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const section = readme.slice(readme.indexOf('## ODE models, solvers and identifiability'));
  const block = /```ts\n([\s\S]*?)```/.exec(section)![1]!;
  assert.equal(block, readFileSync(new URL('../../examples/ode.ts', import.meta.url), 'utf8'));
  const { spawnSync } = await import('node:child_process');
  const r = spawnSync(process.execPath, [new URL('../examples/ode.js', import.meta.url).pathname], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, '5 5 true true\n');
});
