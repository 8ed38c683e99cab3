/**
 * The CLI side of sharded runs: the --shard flag of `fimkit fisher` and `fimkit variance --mode
 * joint`, and writing a shard document (src/fisher/shard.ts) where the command would have written
 * its result. `fimkit merge` (commands/merge.ts) combines the files.
 */
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { writeJsonAtomic } from '../io/atomic.js';
import { fail } from '../core/errors.js';
import { parseShardSpec, type ShardDocument, type ShardSpec } from '../fisher/shard.js';
import { UsageError, flagString, type FlagSpec, type ParsedArgs } from './args.js';

export const SHARD_FLAG: FlagSpec = {
  name: 'shard',
  type: 'string',
  metavar: 'I/N',
  description:
    'Compute only shard I of N (0-based: 0/4 … 3/4) of the inputs and write its float64 sums with their counts instead of the result; ' +
    '`fimkit merge` combines the N shard files into exactly what one process gives. Shards are runs of whole batches, so every shard must use the same --batch-size.',
  group: 'Compute',
};

/** The parsed --shard, or undefined; a malformed value is a usage error. */
export function shardFlag(args: ParsedArgs): ShardSpec | undefined {
  const text = flagString(args.flags, 'shard');
  if (text === undefined) return undefined;
  try {
    return parseShardSpec(text);
  } catch (e) {
    throw new UsageError(`--shard: ${(e as Error).message}`);
  }
}

/** Where a shard goes: --out (a directory, or a path ending in '/', receives the default name), else next to the model. */
export function shardPath(out: string | undefined, modelPath: string, stem: string, s: ShardSpec): string {
  const name = `${stem}.shard-${s.index}-of-${s.count}.json`;
  if (out === undefined) return join(dirname(modelPath), name);
  // A trailing slash names a directory even before it exists (every shard of a job shares it).
  if (/[\\/]$/.test(out) || (existsSync(out) && statSync(out).isDirectory())) return join(out, name);
  return out;
}

export function writeShard(path: string, doc: ShardDocument): void {
  try {
    writeJsonAtomic(path, doc);
  } catch (e) {
    fail('IO', `cannot write the shard to ${path}: ${(e as Error).message}`);
  }
}
