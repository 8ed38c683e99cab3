/**
 * Bounded integer search. Sample-size questions ("the smallest N with property ok") are answered
 * by galloping from a guess to a bracket and bisecting it, never by stepping N one at a time:
 * past 2^53, N + 1 === N in floating point, so a `while (!ok(N)) N++` loop never ends there, and
 * even below it a step of one per iteration has no useful bound.
 */

/** Doublings of the gallop step before giving up (2^1024 overflows a double anyway). */
export const MAX_DOUBLINGS = 1100;

/**
 * The smallest integer n ≥ 1 with ok(n), for a predicate that is monotone (false … false true …
 * true), starting from a real-valued guess of the threshold (a good guess costs 2–3 calls of ok).
 * Returns Infinity where no finite double satisfies ok: the answer is "not reachable".
 *
 * Above 2^53 neighbouring doubles are more than 1 apart: the answer is then the smallest double
 * found with ok, exact to the floating-point spacing there, which is as exact as a count that
 * large can be written. ok is called at most about 3·MAX_DOUBLINGS times.
 */
export function smallestInteger(ok: (n: number) => boolean, guess = 1): number {
  const start = Math.min(Number.MAX_VALUE, Math.max(1, Math.ceil(Number.isNaN(guess) ? 1 : guess)));
  let lo: number; // largest value known to fail
  let hi: number; // smallest value known to hold
  let step = 1;
  if (ok(start)) {
    hi = start;
    for (let k = 0; ; k++, step *= 2) {
      if (hi === 1) return 1;
      if (k > MAX_DOUBLINGS) return hi;
      const cand = Math.max(1, hi - step);
      if (cand >= hi) continue; // the step is below the spacing of doubles here
      if (!ok(cand)) { lo = cand; break; }
      hi = cand;
    }
  } else {
    lo = start;
    for (let k = 0; ; k++, step *= 2) {
      if (k > MAX_DOUBLINGS || lo >= Number.MAX_VALUE) return Infinity;
      const cand = Math.min(Number.MAX_VALUE, lo + step);
      if (cand <= lo) continue;
      if (ok(cand)) { hi = cand; break; }
      lo = cand;
    }
  }
  // ok(hi), !ok(lo), lo < hi: bisect until they are adjacent integers or adjacent doubles.
  for (let it = 0; it < 2 * MAX_DOUBLINGS && hi - lo > 1; it++) {
    const mid = Math.floor(lo + (hi - lo) / 2);
    if (mid <= lo || mid >= hi) break;
    if (ok(mid)) hi = mid;
    else lo = mid;
  }
  return hi;
}
