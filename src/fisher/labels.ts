/**
 * Label draws of the Monte Carlo estimators (Î1, Î2), one stream per input.
 *
 * Each input's labels come from its own stream, derived from the estimate's seed and the input's
 * global index in the data. The draws therefore depend on neither the batch size nor how the
 * inputs are split across processes: a sharded run (src/fisher/shard.ts) draws exactly the
 * labels one process draws, so the merged sums equal the single run's.
 */
import type { Rng } from '../core/rng.js';
import type { FloatArray } from '../core/dtype.js';
import type { Likelihood } from '../likelihoods/likelihood.js';

/** The per-input label streams of a batch: input `indices[b]` of the data draws from root.derive(indices[b]). */
export function inputStreams(root: Rng, indices: ArrayLike<number>): Rng[] {
  const out: Rng[] = new Array(indices.length);
  for (let b = 0; b < indices.length; b++) out[b] = root.derive(indices[b]!);
  return out;
}

/**
 * n labels per input for B inputs (rows b·n + s), as lik.sample lays them out. `rng` is one
 * stream per input (the estimators' streams) or one stream for the whole batch.
 */
export function drawLabels(lik: Likelihood, h64: FloatArray, B: number, T: number, rng: Rng | readonly Rng[], n: number): Int32Array | Float64Array {
  if (!Array.isArray(rng)) return lik.sample(h64, B, T, rng as Rng, n);
  const streams = rng as readonly Rng[];
  if (streams.length !== B) throw new RangeError(`drawLabels: ${streams.length} label streams for ${B} inputs`);
  let out: Int32Array | Float64Array | null = null;
  for (let b = 0; b < B; b++) {
    const ys = lik.sample(h64.subarray(b * T, (b + 1) * T), 1, T, streams[b]!, n);
    out ??= ys instanceof Int32Array ? new Int32Array(B * ys.length) : new Float64Array(B * ys.length);
    out.set(ys, b * ys.length);
  }
  return out!;
}
