/**
 * `fimkit merge`: combines the shard files of `fimkit fisher --shard i/n` (or `fimkit variance
 * --mode joint --shard i/n`) into the result one process gives: a Fisher file, or the joint
 * variances per parameter. Every shard i/n must appear once, computed with the same model, data
 * and settings; otherwise the error names the shard.
 */
import { existsSync, readFileSync } from 'node:fs';
import { FimkitError, fail } from '../../core/errors.js';
import { saveFisher } from '../../fisher/files.js';
import { checkShardSet, mergeFisherShards, mergeVarianceShards } from '../../fisher/shard.js';
import { formatSummaryTable, summarizeFisher } from '../../fisher/summary.js';
import { writeJsonAtomic } from '../../io/atomic.js';
import { UsageError, flagString, type FlagSpec, type ParsedArgs } from '../args.js';
import { EXIT_OK, stderrNotes, type CliIO, type Command } from '../command.js';
import { JSON_FLAG, QUIET_FLAG } from '../common-flags.js';

const FLAGS: FlagSpec[] = [
  { name: 'out', type: 'path', metavar: 'PATH', description: 'Where to write the merged result (atomically). Required.', group: 'Output' },
  { name: 'force', type: 'boolean', description: 'Overwrite --out if it exists.', group: 'Output' },
  QUIET_FLAG,
  JSON_FLAG,
];

function readShard(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    return fail('IO', `cannot read the shard file ${path}: ${(e as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    return fail(text.trimEnd().endsWith('}') ? 'CORRUPT_FILE' : 'TRUNCATED_FILE', `${path}: not valid JSON (${(e as Error).message})`);
  }
}

async function run(args: ParsedArgs, io: CliIO): Promise<number> {
  const f = args.flags;
  const files = args.positionals;
  const out = flagString(f, 'out');
  if (files.length === 0) throw new UsageError('give the shard files to merge: fimkit merge shard-0.json shard-1.json … --out merged.json');
  if (out === undefined) throw new UsageError('missing --out PATH: where to write the merged result');
  if (existsSync(out) && f['force'] !== true) throw new FimkitError('IO', `${out} exists: pass --force to overwrite it`);
  const note = stderrNotes(io, f['quiet'] === true);
  const docs = files.map(readShard);
  const { shards } = checkShardSet(docs, files);
  const kind = shards[0]!.kind;
  if (kind === 'fisher') {
    const m = mergeFisherShards(docs, files);
    saveFisher(out, m);
    note(`merged ${files.length} Fisher shards (${m.meta.numInputs} inputs) into ${out}`);
    if (f['json'] === true) io.stdout.write(JSON.stringify({ command: 'merge', kind, shards: files.length, meta: m.meta, output: out }, null, 2) + '\n');
    else io.stdout.write(`Fisher ${m.meta.estimator} (${m.meta.representation}) merged from ${files.length} shards: per-layer diagonal\n\n${formatSummaryTable(summarizeFisher(m))}\n\nwrote ${out}\n`);
    return EXIT_OK;
  }
  const v = mergeVarianceShards(docs, files);
  const plain = (a: Float64Array): number[] => Array.from(a);
  const doc = {
    format: 'fimkit-joint-variance',
    version: 1,
    key: shards[0]!.key,
    shards: files.length,
    inputs: v.inputs,
    labelsPerInput: v.labelsPerInput,
    inputsPerEstimate: v.inputsPerEstimate,
    perParameter: { fim: plain(v.fim), fimVarOverInputs: plain(v.fimVarOverInputs), meanV1: plain(v.meanV1), meanV2: plain(v.meanV2), v1: plain(v.v1), v2: plain(v.v2) },
  };
  try {
    writeJsonAtomic(out, doc);
  } catch (e) {
    fail('IO', `cannot write ${out}: ${(e as Error).message}`);
  }
  note(`merged ${files.length} joint-variance shards (${v.inputs} inputs) into ${out}`);
  const mean = (a: Float64Array): number => a.reduce((s, x) => s + x, 0) / a.length;
  if (f['json'] === true) io.stdout.write(JSON.stringify({ command: 'merge', kind, shards: files.length, inputs: v.inputs, output: out }, null, 2) + '\n');
  else io.stdout.write(`joint variances merged from ${files.length} shards over ${v.inputs} inputs: mean FIM ${mean(v.fim).toExponential(3)}, mean V1 ${mean(v.v1).toExponential(3)}, mean V2 ${mean(v.v2).toExponential(3)}\nwrote ${out}\n`);
  return EXIT_OK;
}

export const mergeCommand: Command = {
  name: 'merge',
  summary: 'Merge shard files of fisher/variance --shard i/n into the single-process result',
  description:
    'Reads the shard files written by `fisher --shard i/n` or `variance --mode joint --shard i/n` (any order), checks that every shard 0/n … n−1/n ' +
    'is there exactly once and that all were computed with the same model, data and settings, adds their float64 sums and writes what one process computes: ' +
    'a Fisher file (read back with loadFisher), or for variance shards the per-parameter joint variances (JSON). ' +
    'A missing, duplicated or mismatched shard is an error naming it (exit 1).',
  epilog: [
    'Examples:',
    '  for i in 0 1 2 3; do fimkit fisher --model runs/m/model.json --data fashion-mnist --shard $i/4 --out shards/; done',
    '  fimkit merge shards/*.json --out runs/m/fisher-exact-diag.json',
    '',
    'Running the shards on a scheduler: examples/kubernetes-fisher-job.yaml (an Indexed Job) and examples/slurm-fisher.sh (an array job).',
  ].join('\n'),
  flags: FLAGS,
  positionals: [{ name: 'shards…', description: 'The shard files (any number, any order).', variadic: true }],
  run,
};
