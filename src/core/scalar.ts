/**
 * Scalar elementwise functions and their derivatives of any order, in float64.
 * The plain-TS backend evaluates these directly; native and wasm kernels implement orders 0–2
 * of the same functions and are tested against these.
 */
import { Unary, type UnaryCode } from './backend.js';

const SQRT1_2 = Math.SQRT1_2;
const INV_SQRT_2PI = 0.3989422804014327;
const INV_SQRT_PI = 0.5641895835477563;

/** erfc(z) to ~1e-13 relative: series for |z| < 2.5, continued fraction beyond. */
export function erfc(z: number): number {
  if (Number.isNaN(z)) return NaN;
  if (z < 0) return 2 - erfc(-z);
  if (z < 2.5) {
    // erf(z) = 2/√π Σ (−1)^n z^(2n+1) / (n! (2n+1))
    let term = z;
    let sum = z;
    const z2 = z * z;
    for (let n = 1; n < 200; n++) {
      term *= -z2 / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    return 1 - 2 * INV_SQRT_PI * sum;
  }
  if (z > 27) return 0;
  // erfc(z) = exp(−z²)/√π · 1/(z + (1/2)/(z + 1/(z + (3/2)/(z + …)))) by modified Lentz.
  const tiny = 1e-300;
  let f = z;
  let c = z;
  let d = 0;
  for (let k = 1; k < 500; k++) {
    const a = k / 2;
    d = z + a * d;
    d = d === 0 ? tiny : d;
    c = z + a / c;
    c = c === 0 ? tiny : c;
    d = 1 / d;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return (Math.exp(-z * z) * INV_SQRT_PI) / f;
}

/** Standard normal CDF Φ. */
export function normalCdf(x: number): number {
  return 0.5 * erfc(-x * SQRT1_2);
}

export function normalPdf(x: number): number {
  return INV_SQRT_2PI * Math.exp(-0.5 * x * x);
}

/** Stable log(1 + e^x). */
export function softplus(x: number): number {
  return x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x));
}

/** Stable logistic function. */
export function sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

// Derivatives of sigmoid and tanh are polynomials in the function value:
// f = P(s) ⇒ f' = P'(s)·s(1−s);  f = P(t) ⇒ f' = P'(t)·(1−t²).
const sigmoidPolys: number[][] = [[0, 1]];
const tanhPolys: number[][] = [[0, 1]];

function nextPoly(p: number[], inner: number[]): number[] {
  // (P' · inner) with coefficient arrays, lowest degree first.
  const dp: number[] = [];
  for (let k = 1; k < p.length; k++) dp.push(k * p[k]!);
  if (dp.length === 0) return [0];
  const out = new Array<number>(dp.length + inner.length - 1).fill(0);
  for (let i = 0; i < dp.length; i++) for (let j = 0; j < inner.length; j++) out[i + j]! += dp[i]! * inner[j]!;
  return out;
}

function polyFor(cache: number[][], inner: number[], order: number): number[] {
  while (cache.length <= order) cache.push(nextPoly(cache[cache.length - 1]!, inner));
  return cache[order]!;
}

function evalPoly(p: number[], x: number): number {
  let r = 0;
  for (let k = p.length - 1; k >= 0; k--) r = r * x + p[k]!;
  return r;
}

/** Probabilists' Hermite polynomial He_n(x). */
function hermite(n: number, x: number): number {
  if (n === 0) return 1;
  let a = 1;
  let b = x;
  for (let j = 1; j < n; j++) {
    const c = x * b - j * a;
    a = b;
    b = c;
  }
  return b;
}

/** d^k/dx^k of Φ: Φ itself for k = 0, else φ^(k−1) = (−1)^(k−1) He_(k−1)(x) φ(x). */
function normalCdfDeriv(k: number, x: number): number {
  if (k === 0) return normalCdf(x);
  const j = k - 1;
  return (j % 2 === 0 ? 1 : -1) * hermite(j, x) * normalPdf(x);
}

function fallingFactorial(p: number, n: number): number {
  let r = 1;
  for (let i = 0; i < n; i++) r *= p - i;
  return r;
}

/** f^(order)(x) for the elementwise function `op`; `alpha` is the leaky-relu slope. */
export function unaryScalar(op: UnaryCode, order: number, alpha: number, x: number): number {
  switch (op) {
    case Unary.identity:
      return order === 0 ? x : order === 1 ? 1 : 0;
    case Unary.relu:
      return order === 0 ? (x > 0 ? x : 0) : order === 1 ? (x > 0 ? 1 : 0) : 0;
    case Unary.leakyRelu:
      return order === 0 ? (x > 0 ? x : alpha * x) : order === 1 ? (x > 0 ? 1 : alpha) : 0;
    case Unary.sigmoid:
      return order === 0 ? sigmoid(x) : evalPoly(polyFor(sigmoidPolys, [0, 1, -1], order), sigmoid(x));
    case Unary.tanh:
      return order === 0 ? Math.tanh(x) : evalPoly(polyFor(tanhPolys, [1, 0, -1], order), Math.tanh(x));
    case Unary.softplus:
      return order === 0 ? softplus(x) : unaryScalar(Unary.sigmoid, order - 1, 0, x);
    case Unary.logSigmoid:
      // logσ(x) = −softplus(−x) ⇒ n-th derivative = −(−1)^n softplus^(n)(−x)
      return (order % 2 === 0 ? -1 : 1) * unaryScalar(Unary.softplus, order, 0, -x);
    case Unary.gelu:
      // (xΦ)^(n) = xΦ^(n) + nΦ^(n−1)
      return order === 0 ? x * normalCdf(x) : x * normalCdfDeriv(order, x) + order * normalCdfDeriv(order - 1, x);
    case Unary.exp:
      return Math.exp(x);
    case Unary.log:
      if (order === 0) return Math.log(x);
      return ((order % 2 === 1 ? 1 : -1) * fallingFactorial(order - 1, order - 1)) / Math.pow(x, order);
    case Unary.square:
      return order === 0 ? x * x : order === 1 ? 2 * x : order === 2 ? 2 : 0;
    case Unary.sqrt:
      return order === 0 ? Math.sqrt(x) : fallingFactorial(0.5, order) * Math.pow(x, 0.5 - order);
    case Unary.abs:
      return order === 0 ? Math.abs(x) : order === 1 ? Math.sign(x) : 0;
    case Unary.neg:
      return order === 0 ? -x : order === 1 ? -1 : 0;
    case Unary.reciprocal:
      return order === 0 ? 1 / x : fallingFactorial(-1, order) * Math.pow(x, -1 - order);
    default:
      throw new Error(`unknown unary op code ${op as number}`);
  }
}

/** True when every derivative of order ≥ 2 is zero almost everywhere (piecewise-linear ops). */
export function isPiecewiseLinear(op: UnaryCode): boolean {
  return op === Unary.identity || op === Unary.relu || op === Unary.leakyRelu || op === Unary.abs || op === Unary.neg;
}
