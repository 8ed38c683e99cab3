/** The benches' one timing helper: medians of repeated timed calls. */

/** The median (for an even count, the mean of the two middle values). */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 === 1 ? s[h]! : (s[h - 1]! + s[h]!) / 2;
}

/** Median milliseconds of `reps` timed calls of fn, after `warmups` untimed ones (JIT tiers, first-touch of scratch). */
export function medianMs(fn: () => void, reps: number, warmups: number): number {
  for (let i = 0; i < warmups; i++) fn();
  const ts: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    fn();
    ts.push(performance.now() - t0);
  }
  return median(ts);
}
