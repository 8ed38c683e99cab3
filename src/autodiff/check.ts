/**
 * Finite-difference oracles: the brute-force side of every gradient test, exported because users
 * validating their own losses need the same thing.
 */
import type { FloatArray } from '../core/dtype.js';

/**
 * Gradient of a scalar function of the array `x` (perturbed in place, restored) by the
 * fourth-order central stencil (−f(x+2h) + 8f(x+h) − 8f(x−h) + f(x−2h)) / 12h. With h = 1e-3 in
 * float64 both the truncation error (~h⁴) and the rounding error (~1e-16/h) are near 1e-13, so the
 * oracle resolves entries far smaller than the plain two-point difference can.
 */
export function numericalGradient(f: () => number, x: FloatArray, h = 1e-3): Float64Array {
  const g = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const orig = x[i]!;
    x[i] = orig + 2 * h;
    const f2 = f();
    x[i] = orig + h;
    const f1 = f();
    x[i] = orig - h;
    const fm1 = f();
    x[i] = orig - 2 * h;
    const fm2 = f();
    x[i] = orig;
    g[i] = (-f2 + 8 * f1 - 8 * fm1 + fm2) / (12 * h);
  }
  return g;
}

/** Directional derivative of a vector function along v (same fourth-order stencil as above). */
export function numericalDirectional(f: () => ArrayLike<number>, xs: FloatArray[], vs: ArrayLike<number>[], h = 1e-3): Float64Array {
  const orig = xs.map((x) => Float64Array.from(x));
  const at = (t: number): Float64Array => {
    xs.forEach((x, k) => { for (let i = 0; i < x.length; i++) x[i] = orig[k]![i]! + t * vs[k]![i]!; });
    return Float64Array.from(f());
  };
  const f2 = at(2 * h);
  const f1 = at(h);
  const fm1 = at(-h);
  const fm2 = at(-2 * h);
  xs.forEach((x, k) => x.set(orig[k]!));
  return f2.map((v, i) => (-v + 8 * f1[i]! - 8 * fm1[i]! + fm2[i]!) / (12 * h));
}

/**
 * Largest relative error max_i |a_i − b_i| / max(|a_i|, |b_i|, floor): the floor keeps entries
 * that are zero in both from dividing by zero, and is small compared with the entries that matter.
 */
export function maxRelativeError(a: ArrayLike<number>, b: ArrayLike<number>, floor = 1e-8): number {
  if (a.length !== b.length) throw new Error(`length mismatch ${a.length} vs ${b.length}`);
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!) / Math.max(Math.abs(a[i]!), Math.abs(b[i]!), floor);
    if (d > worst || Number.isNaN(d)) worst = Number.isNaN(d) ? Infinity : d;
  }
  return worst;
}
