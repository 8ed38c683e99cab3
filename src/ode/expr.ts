// A small, safe expression language for right-hand sides written as strings, e.g.
// "s + r*E*T/(eta + T) - mu*E*T - d*E": numbers, names (states, parameters, t), + − * / ^,
// unary minus, parentheses, exp(·) and log(·). It is parsed once into a tree (recursive descent,
// no eval) and evaluated with any Arith, so compiled models get dual-number Jacobians and run
// inside the CBINN residual like hand-written ones.
import type { Arith } from './model.js';
import { OdeExpressionError } from './errors.js';

export type ExprNode =
  | { readonly kind: 'num'; readonly value: number }
  | { readonly kind: 'state' | 'param'; readonly index: number; readonly name: string }
  | { readonly kind: 'time' }
  | { readonly kind: 'neg'; readonly arg: ExprNode }
  | { readonly kind: 'bin'; readonly op: '+' | '-' | '*' | '/'; readonly a: ExprNode; readonly b: ExprNode }
  | { readonly kind: 'pow'; readonly base: ExprNode; readonly exp: ExprNode }
  | { readonly kind: 'call'; readonly fn: 'exp' | 'log'; readonly arg: ExprNode };

export interface ExprScope {
  readonly states: readonly string[];
  readonly parameters: readonly string[];
}

const FUNCTIONS = new Set(['exp', 'log']);

interface Token { readonly type: 'num' | 'name' | 'op' | 'end'; readonly text: string; readonly pos: number }

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (/\s/.test(c)) { i++; continue; }
    const num = /^(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?/.exec(src.slice(i));
    if (num) { out.push({ type: 'num', text: num[0], pos: i }); i += num[0].length; continue; }
    const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i));
    if (name) { out.push({ type: 'name', text: name[0], pos: i }); i += name[0].length; continue; }
    if ('+-*/^(),'.includes(c)) { out.push({ type: 'op', text: c, pos: i }); i++; continue; }
    throw new OdeExpressionError(`unexpected character '${c}' at position ${i} in "${src}"`, i);
  }
  out.push({ type: 'end', text: '', pos: src.length });
  return out;
}

/** Parses an expression over the scope's states, parameters and t; throws OdeExpressionError. */
export function parseExpr(src: string, scope: ExprScope): ExprNode {
  if (typeof src !== 'string') throw new OdeExpressionError(`an equation must be a string, got ${typeof src}`, 0);
  const toks = tokenize(src);
  let k = 0;
  const peek = (): Token => toks[k]!;
  const fail = (msg: string, tok: Token): never => {
    throw new OdeExpressionError(`${msg} at position ${tok.pos} in "${src}"`, tok.pos);
  };
  const expect = (text: string): void => {
    const t = peek();
    if (t.text !== text || t.type === 'end') fail(`expected '${text}' but found ${t.type === 'end' ? 'the end' : `'${t.text}'`}`, t);
    k++;
  };
  function expr(): ExprNode {
    let a = term();
    for (;;) {
      const t = peek();
      if (t.type === 'op' && (t.text === '+' || t.text === '-')) { k++; a = { kind: 'bin', op: t.text, a, b: term() }; } else return a;
    }
  }
  function term(): ExprNode {
    let a = unary();
    for (;;) {
      const t = peek();
      if (t.type === 'op' && (t.text === '*' || t.text === '/')) { k++; a = { kind: 'bin', op: t.text, a, b: unary() }; } else return a;
    }
  }
  function unary(): ExprNode {
    const t = peek();
    if (t.type === 'op' && t.text === '-') { k++; return { kind: 'neg', arg: unary() }; }
    if (t.type === 'op' && t.text === '+') { k++; return unary(); }
    return power();
  }
  function power(): ExprNode {
    const base = primary();
    const t = peek();
    // Right-associative, binding tighter than unary minus on its left: -a^2 = -(a^2), a^-1 allowed.
    if (t.type === 'op' && t.text === '^') { k++; return { kind: 'pow', base, exp: unary() }; }
    return base;
  }
  function primary(): ExprNode {
    const t = peek();
    if (t.type === 'num') { k++; return { kind: 'num', value: Number(t.text) }; }
    if (t.type === 'op' && t.text === '(') { k++; const e = expr(); expect(')'); return e; }
    if (t.type === 'name') {
      k++;
      if (peek().type === 'op' && peek().text === '(') {
        if (!FUNCTIONS.has(t.text)) fail(`unknown function '${t.text}' (known: exp, log)`, t);
        k++;
        const arg = expr();
        expect(')');
        return { kind: 'call', fn: t.text as 'exp' | 'log', arg };
      }
      const s = scope.states.indexOf(t.text);
      if (s >= 0) return { kind: 'state', index: s, name: t.text };
      const p = scope.parameters.indexOf(t.text);
      if (p >= 0) return { kind: 'param', index: p, name: t.text };
      if (t.text === 't') return { kind: 'time' };
      if (FUNCTIONS.has(t.text)) fail(`function '${t.text}' needs an argument in parentheses`, t);
      return fail(`unknown name '${t.text}' (states: ${scope.states.join(', ') || 'none'}; parameters: ${scope.parameters.join(', ') || 'none'}; time: t)`, t);
    }
    return fail(t.type === 'end' ? 'unexpected end of expression' : `unexpected '${t.text}'`, t);
  }
  const e = expr();
  if (peek().type !== 'end') fail(`unexpected '${peek().text}'`, peek());
  return e;
}

/** The node's value when it contains no names (for constant exponents), else undefined. */
export function constantValue(e: ExprNode): number | undefined {
  switch (e.kind) {
    case 'num': return e.value;
    case 'neg': { const v = constantValue(e.arg); return v === undefined ? undefined : -v; }
    case 'bin': {
      const a = constantValue(e.a), b = constantValue(e.b);
      if (a === undefined || b === undefined) return undefined;
      return e.op === '+' ? a + b : e.op === '-' ? a - b : e.op === '*' ? a * b : a / b;
    }
    case 'pow': { const a = constantValue(e.base), b = constantValue(e.exp); return a === undefined || b === undefined ? undefined : Math.pow(a, b); }
    case 'call': { const v = constantValue(e.arg); return v === undefined ? undefined : e.fn === 'exp' ? Math.exp(v) : Math.log(v); }
    default: return undefined;
  }
}

/** Evaluates a parsed expression with any arithmetic. a^b with a non-constant b is exp(b·log a). */
export function evalExpr<T>(e: ExprNode, ar: Arith<T>, t: T, u: readonly T[], p: readonly T[]): T {
  switch (e.kind) {
    case 'num': return ar.const(e.value);
    case 'state': return u[e.index]!;
    case 'param': return p[e.index]!;
    case 'time': return t;
    case 'neg': return ar.neg(evalExpr(e.arg, ar, t, u, p));
    case 'bin': {
      const a = evalExpr(e.a, ar, t, u, p), b = evalExpr(e.b, ar, t, u, p);
      return e.op === '+' ? ar.add(a, b) : e.op === '-' ? ar.sub(a, b) : e.op === '*' ? ar.mul(a, b) : ar.div(a, b);
    }
    case 'pow': {
      const c = constantValue(e.exp);
      const base = evalExpr(e.base, ar, t, u, p);
      if (c !== undefined) return ar.powc(base, c);
      return ar.exp(ar.mul(evalExpr(e.exp, ar, t, u, p), ar.log(base)));
    }
    case 'call': {
      const a = evalExpr(e.arg, ar, t, u, p);
      return e.fn === 'exp' ? ar.exp(a) : ar.log(a);
    }
  }
}
