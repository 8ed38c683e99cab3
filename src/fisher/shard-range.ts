/**
 * Which inputs shard i of n covers. Shards are contiguous runs of whole batches: batch k of a
 * shard is batch k of the single run, so every per-batch product (computed in the model dtype)
 * is the same in both, and the merged float64 sums differ from the single run's only by the
 * order of the final additions. The batches are spread as evenly as possible; with more shards
 * than batches some shards are empty (and merge like any other).
 */
import { fail } from '../core/errors.js';

/** Shard `index` (0-based) of `count`. */
export interface ShardSpec {
  index: number;
  count: number;
}

/** Parses 'i/n' (0-based i < n), as --shard takes it. */
export function parseShardSpec(text: string): ShardSpec {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  if (!m) fail('INVALID_ARGUMENT', `shard '${text}' is not of the form i/n (0-based i, e.g. 0/4 … 3/4)`);
  const spec = { index: Number(m[1]), count: Number(m[2]) };
  checkShardSpec(spec);
  return spec;
}

export function checkShardSpec(s: ShardSpec): void {
  if (!Number.isSafeInteger(s.count) || s.count < 1) fail('INVALID_ARGUMENT', `shard count must be a positive integer, got ${s.count}`);
  if (!Number.isSafeInteger(s.index) || s.index < 0 || s.index >= s.count) fail('INVALID_ARGUMENT', `shard index must be an integer in 0..${s.count - 1} (0-based), got ${s.index}`);
}

/** Inputs [start, end) of shard s over `total` inputs in batches of `batchSize`. */
export function shardRange(total: number, batchSize: number, s: ShardSpec): { start: number; end: number } {
  checkShardSpec(s);
  if (!Number.isSafeInteger(batchSize) || batchSize < 1) fail('INVALID_ARGUMENT', `batch size must be a positive integer, got ${batchSize}`);
  const batches = Math.ceil(total / batchSize);
  const first = Math.floor((s.index * batches) / s.count);
  const last = Math.floor(((s.index + 1) * batches) / s.count);
  return { start: Math.min(total, first * batchSize), end: Math.min(total, last * batchSize) };
}
