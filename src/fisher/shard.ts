/**
 * Fisher sums and joint variances computed in shards and merged.
 *
 * A Fisher diagonal, layer blocks, a dense Fisher, KFAC factors and the sums behind the joint
 * variances are all sums over inputs. Shard i of n (shard-range.ts: a batch-aligned contiguous
 * run of the inputs) computes its unscaled float64 sums with their counts; mergeFisherShards and
 * mergeVarianceShards add the sums of every shard, in shard order whatever order they are given
 * in, and scale them once, as the single process does. Label draws are per input (labels.ts), so
 * a shard draws exactly the labels the single process draws for its inputs.
 *
 * A shard document carries a `key`: everything that must agree for the sums to belong to one
 * estimate (a fingerprint of the model's architecture and parameters, the data, estimator,
 * representation, likelihood, labels per input, seed, dtype, batch size, number of inputs,
 * scaling, path). Merging checks the key, that each shard i/n appears exactly once, and that its
 * input range is the one shard-range.ts assigns; a violation is a ShardError naming the shard.
 * Browser-safe (no file access); the CLI reads and writes the documents.
 */
import { FimkitError, fail } from '../core/errors.js';
import { decodeFloatArray, encodeFloatArray, type EncodedArray } from '../io/base64.js';
import type { Dataset } from '../data/dataset.js';
import type { Likelihood } from '../likelihoods/likelihood.js';
import type { Sequential } from '../nn/sequential.js';
import { finishJointVariances, jointVarianceSums, type JointVariance, type VarianceOptions } from '../variance/conditional.js';
import { computeFisherSums, fisherFromAccumulator, scaleAccumulator, type FisherOptions } from './compute.js';
import type { KfacFactors } from './accumulate.js';
import { layoutOf, validateLayout, validateMeta } from './layout.js';
import type { FisherMatrix, FisherMeta, ParamLayout } from './matrix.js';
import { checkShardSpec, shardRange, type ShardSpec } from './shard-range.js';

export { parseShardSpec, shardRange, type ShardSpec } from './shard-range.js';

export const SHARD_FORMAT = 'fimkit-shard';
export const SHARD_FORMAT_VERSION = 1;

/** Why shards do not merge. */
export type ShardProblem = 'missing' | 'duplicate' | 'mismatch' | 'malformed';

export class ShardError extends FimkitError {
  constructor(readonly problem: ShardProblem, message: string) {
    super('SHARD', message);
    this.name = 'ShardError';
  }
}

type KeyValue = string | number | null;

/** A shard as written to disk (JSON); float64 sums base64-encoded (exact). */
export interface ShardDocument {
  format: typeof SHARD_FORMAT;
  version: number;
  kind: 'fisher' | 'joint-variance';
  shard: ShardSpec;
  /** Inputs [start, end) of the estimate's inputs this shard summed. */
  range: { start: number; end: number };
  key: Record<string, KeyValue>;
  /** Fisher shards: the parameter layout and the shard's own metadata (numInputs: its inputs). */
  layout?: ParamLayout;
  meta?: FisherMeta;
  sums: Record<string, unknown>;
}

/**
 * A fingerprint of a model's architecture, dtype and parameter values: 64-bit FNV-1a over the
 * spec's JSON and the parameters' bytes, as 16 hex digits. It detects shards computed from
 * different models; it is not a cryptographic hash.
 */
export function modelFingerprint(model: Sequential): string {
  let h1 = 0x811c9dc5 | 0;
  let h2 = 0x050c5d1f | 0;
  const eat = (bytes: Uint8Array): void => {
    for (let i = 0; i < bytes.length; i++) {
      h1 = Math.imul(h1 ^ bytes[i]!, 0x01000193);
      h2 = Math.imul(h2 ^ bytes[i]!, 0x01000193) ^ (h1 >>> 13);
    }
  };
  eat(new TextEncoder().encode(JSON.stringify({ spec: model.spec(), dtype: model.dtype })));
  for (const p of model.parameters()) eat(new Uint8Array(p.data.buffer, p.data.byteOffset, p.data.byteLength));
  return (h1 >>> 0).toString(16).padStart(8, '0') + (h2 >>> 0).toString(16).padStart(8, '0');
}

export interface ShardOptions {
  /** Names the data in the key (default `${data.name}#${data.length}`); the CLI passes the --data spec and split. */
  dataId?: string;
}

const enc = (a: Float64Array): EncodedArray => encodeFloatArray(a);

/** Shard `shard` of the Fisher estimate `opts` (joint mode): its unscaled float64 sums. */
export function computeFisherShard(model: Sequential, lik: Likelihood, data: Dataset, opts: FisherOptions, shard: ShardSpec, so: ShardOptions = {}): ShardDocument {
  checkShardSpec(shard);
  if ((opts.mode ?? 'joint') !== 'joint') fail('INVALID_ARGUMENT', 'shards split the inputs of joint mode; conditional mode has one input');
  if (opts.representation === 'matfree') fail('INVALID_ARGUMENT', 'a matrix-free Fisher holds no sums to shard: use diag (its exact diagonal), block, dense or kfac');
  const { acc, meta } = computeFisherSums(model, lik, data, opts, shard);
  const batchSize = opts.batchSize ?? 128;
  const total = Math.min(data.length, opts.maxInputs ?? data.length);
  const sums: Record<string, unknown> = { inputs: acc.inputs };
  if (acc.diag) sums.diag = enc(acc.diag);
  if (acc.blocks) sums.blocks = acc.blocks.map(enc);
  if (acc.dense) sums.dense = enc(acc.dense);
  if (acc.kfac) sums.kfac = acc.kfac.map((k) => ({ A: enc(k.A), G: enc(k.G), countA: k.countA, countG: k.countG, positions: k.positions }));
  return {
    format: SHARD_FORMAT,
    version: SHARD_FORMAT_VERSION,
    kind: 'fisher',
    shard: { ...shard },
    range: shardRange(total, batchSize, shard),
    key: {
      model: modelFingerprint(model),
      data: so.dataId ?? `${data.name}#${data.length}`,
      estimator: meta.estimator,
      representation: meta.representation,
      likelihood: meta.likelihood,
      labelsPerInput: meta.labelsPerInput,
      seed: meta.seed,
      dtype: meta.dtype,
      batchSize,
      inputs: total,
      scaling: meta.scaling,
      path: opts.path ?? 'fast',
    },
    layout: layoutOf(model),
    meta,
    sums,
  };
}

/** Shard `shard` of the joint variances (jointVariances' sums over the shard's inputs). */
export function computeVarianceShard(model: Sequential, lik: Likelihood, data: Dataset, opts: VarianceOptions, shard: ShardSpec, so: ShardOptions = {}): ShardDocument {
  checkShardSpec(shard);
  const r = jointVarianceSums(model, lik, data, opts, shard);
  return {
    format: SHARD_FORMAT,
    version: SHARD_FORMAT_VERSION,
    kind: 'joint-variance',
    shard: { ...shard },
    range: shardRange(r.total, r.batchSize, shard),
    key: {
      model: modelFingerprint(model),
      data: so.dataId ?? `${data.name}#${data.length}`,
      likelihood: lik.name,
      labelsPerInput: r.labelsPerInput,
      inputsPerEstimate: r.inputsPerEstimate,
      dtype: model.dtype,
      batchSize: r.batchSize,
      inputs: r.total,
      path: r.fast ? 'fast' : 'reference',
      convention: r.fixed ? 'fixed' : 'sampled',
    },
    sums: { inputs: r.inputs, fim: enc(r.sums.fim), fimSquared: enc(r.sums.fimSquared), v1: enc(r.sums.v1), v2: enc(r.sums.v2) },
  };
}

const label = (s: ShardSpec): string => `${s.index}/${s.count}`;

function malformed(what: string, msg: string): never {
  throw new ShardError('malformed', `${what}: ${msg}`);
}

function f64(e: unknown, length: number, what: string): Float64Array {
  if (e === null || typeof e !== 'object') malformed(what, 'expected an encoded float64 array');
  const a = decodeFloatArray(e as EncodedArray, what);
  if (!(a instanceof Float64Array) || a.length !== length) malformed(what, `expected ${length} float64 values, got ${a.length} ${(e as EncodedArray).dtype}`);
  return a;
}

/**
 * Checks the shards against each other and returns them in shard order: one kind and key, one
 * count n, each index 0..n−1 exactly once, each range the one shard-range.ts assigns. `names`
 * (file names, for messages) default to "shard #k".
 */
export function checkShardSet(docs: readonly unknown[], names?: readonly string[]): { shards: ShardDocument[]; names: string[] } {
  if (docs.length === 0) throw new ShardError('missing', 'no shards to merge');
  const nameOf = (k: number): string => names?.[k] ?? `shard #${k + 1}`;
  const shards = docs.map((d, k) => {
    const o = d as ShardDocument | null;
    if (o === null || typeof o !== 'object' || o.format !== SHARD_FORMAT) malformed(nameOf(k), `not a fimkit shard (format ${JSON.stringify((o as { format?: unknown } | null)?.format)}, expected '${SHARD_FORMAT}')`);
    if (o.version !== SHARD_FORMAT_VERSION) malformed(nameOf(k), `shard format version ${JSON.stringify(o.version)} is not supported (this fimkit reads ${SHARD_FORMAT_VERSION})`);
    if (o.kind !== 'fisher' && o.kind !== 'joint-variance') malformed(nameOf(k), `unknown shard kind ${JSON.stringify(o.kind)}`);
    if (o.shard === null || typeof o.shard !== 'object') malformed(nameOf(k), 'no shard index');
    try {
      checkShardSpec(o.shard);
    } catch (e) {
      malformed(nameOf(k), (e as Error).message);
    }
    if (o.key === null || typeof o.key !== 'object' || o.sums === null || typeof o.sums !== 'object') malformed(nameOf(k), 'no key or sums');
    return o;
  });
  const first = shards[0]!;
  shards.forEach((s, k) => {
    const where = `${nameOf(k)} (shard ${label(s.shard)})`;
    if (s.kind !== first.kind) throw new ShardError('mismatch', `mismatched shard: ${where} holds ${s.kind} sums, ${nameOf(0)} holds ${first.kind} sums`);
    if (s.shard.count !== first.shard.count) throw new ShardError('mismatch', `mismatched shard: ${where} is one of ${s.shard.count} shards, ${nameOf(0)} one of ${first.shard.count}`);
    const keys = new Set([...Object.keys(first.key), ...Object.keys(s.key)]);
    for (const f of keys) {
      if (s.key[f] !== first.key[f]) {
        throw new ShardError('mismatch', `mismatched shard: ${where} has ${f} ${JSON.stringify(s.key[f])}, ${nameOf(0)} (shard ${label(first.shard)}) has ${JSON.stringify(first.key[f])}`);
      }
    }
  });
  const n = first.shard.count;
  const byIndex: (ShardDocument | undefined)[] = new Array(n).fill(undefined);
  const nameByIndex: string[] = [];
  shards.forEach((s, k) => {
    const i = s.shard.index;
    if (byIndex[i]) throw new ShardError('duplicate', `duplicate shard ${label(s.shard)}: given as ${nameByIndex[i]} and as ${nameOf(k)}`);
    byIndex[i] = s;
    nameByIndex[i] = nameOf(k);
  });
  const missing = byIndex.flatMap((s, i) => (s ? [] : [`${i}/${n}`]));
  if (missing.length > 0) throw new ShardError('missing', `missing shard${missing.length > 1 ? 's' : ''} ${missing.join(', ')} (have ${shards.length} of ${n})`);
  const total = first.key['inputs'] as number;
  const batchSize = first.key['batchSize'] as number;
  for (let i = 0; i < n; i++) {
    const s = byIndex[i]!;
    const want = shardRange(total, batchSize, s.shard);
    if (s.range?.start !== want.start || s.range?.end !== want.end || s.sums['inputs'] !== want.end - want.start) {
      throw new ShardError('mismatch', `mismatched shard: ${nameByIndex[i]} (shard ${label(s.shard)}) covers inputs ${s.range?.start}..${s.range?.end} with ${String(s.sums['inputs'])} summed; shard ${label(s.shard)} of ${total} inputs in batches of ${batchSize} is ${want.start}..${want.end}`);
    }
  }
  return { shards: byIndex as ShardDocument[], names: nameByIndex };
}

/**
 * Merges Fisher shards (any number, any order) into the FisherMatrix one process computes:
 * float64 sums added in shard order, then scaled once. meta.wallSeconds is the shards' total.
 */
export function mergeFisherShards(docs: readonly unknown[], names?: readonly string[]): FisherMatrix {
  const { shards, names: ordered } = checkShardSet(docs, names);
  const first = shards[0]!;
  if (first.kind !== 'fisher') throw new ShardError('mismatch', `these are ${first.kind} shards: merge them with mergeVarianceShards`);
  const what = ordered[0]!;
  const layout = first.layout as ParamLayout;
  try {
    validateLayout(layout, `${what}: layout`, 'CORRUPT_FILE');
  } catch (e) {
    malformed(what, (e as Error).message);
  }
  const meta0 = validateMeta(first.meta, what);
  const P = layout.size;
  const rep = meta0.representation;
  const acc: { diag?: Float64Array; blocks?: Float64Array[]; dense?: Float64Array; kfac?: KfacFactors[]; inputs: number } = { inputs: 0 };
  let wall = 0;
  shards.forEach((s, k) => {
    const w = ordered[k]!;
    const sums = s.sums as Record<string, unknown>;
    acc.inputs += sums['inputs'] as number;
    wall += typeof s.meta?.wallSeconds === 'number' ? s.meta.wallSeconds : 0;
    const add = (dst: Float64Array, src: Float64Array): void => { for (let i = 0; i < dst.length; i++) dst[i]! += src[i]!; };
    if (rep === 'diag') {
      const d = f64(sums['diag'], P, `${w}: diag`);
      if (k === 0) acc.diag = d; else add(acc.diag!, d);
    } else if (rep === 'dense') {
      const d = f64(sums['dense'], P * P, `${w}: dense`);
      if (k === 0) acc.dense = d; else add(acc.dense!, d);
    } else if (rep === 'block') {
      const bl = sums['blocks'];
      if (!Array.isArray(bl) || bl.length !== layout.groups.length) malformed(w, `expected ${layout.groups.length} blocks`);
      const bs = layout.groups.map((g, gi) => f64(bl[gi], g.size * g.size, `${w}: block '${g.label}'`));
      if (k === 0) acc.blocks = bs; else bs.forEach((b, gi) => add(acc.blocks![gi]!, b));
    } else if (rep === 'kfac') {
      const kf = sums['kfac'];
      if (!Array.isArray(kf) || kf.length !== layout.groups.length) malformed(w, `expected ${layout.groups.length} KFAC layers`);
      const ks = (kf as Record<string, unknown>[]).map((l, gi): KfacFactors => {
        const A = l['A'] as EncodedArray;
        const G = l['G'] as EncodedArray;
        const na = Math.round(Math.sqrt(A?.length ?? 0));
        const ng = Math.round(Math.sqrt(G?.length ?? 0));
        const nums = ['countA', 'countG', 'positions'].map((f) => l[f]);
        if (nums.some((v) => typeof v !== 'number')) malformed(w, `KFAC layer ${gi}: counts must be numbers`);
        return { A: f64(A, na * na, `${w}: KFAC A of '${layout.groups[gi]!.label}'`), G: f64(G, ng * ng, `${w}: KFAC G of '${layout.groups[gi]!.label}'`), countA: nums[0] as number, countG: nums[1] as number, positions: nums[2] as number };
      });
      if (k === 0) acc.kfac = ks;
      else ks.forEach((x, gi) => {
        const t = acc.kfac![gi]!;
        if (t.A.length !== x.A.length || t.G.length !== x.G.length) malformed(w, `KFAC layer ${gi}: factor sizes differ from the first shard's`);
        add(t.A, x.A);
        add(t.G, x.G);
        t.countA += x.countA;
        t.countG += x.countG;
        // An empty shard has not seen the layer's geometry.
        if (x.countA > 0) t.positions = x.positions;
      });
    } else {
      malformed(w, `representation '${rep}' has no sums to merge`);
    }
  });
  if (acc.inputs === 0) throw new ShardError('missing', 'the shards hold no inputs');
  scaleAccumulator(acc, meta0.scaling === 'mean' ? 1 / acc.inputs : 1);
  const meta: FisherMeta = {
    ...meta0,
    numInputs: acc.inputs,
    wallSeconds: wall,
    notes: [...meta0.notes, `merged from ${shards.length} shard${shards.length === 1 ? '' : 's'} (wall time: their sum)`],
  };
  return fisherFromAccumulator(acc, layout, meta);
}

/** Merges joint-variance shards into the JointVariance one process computes. */
export function mergeVarianceShards(docs: readonly unknown[], names?: readonly string[]): JointVariance {
  const { shards, names: ordered } = checkShardSet(docs, names);
  const first = shards[0]!;
  if (first.kind !== 'joint-variance') throw new ShardError('mismatch', `these are ${first.kind} shards: merge them with mergeFisherShards`);
  const fimArr = (first.sums['fim'] as EncodedArray | undefined);
  const P = fimArr?.length ?? malformed(ordered[0]!, 'no fim sums');
  const fields = ['fim', 'fimSquared', 'v1', 'v2'] as const;
  const sums = { fim: new Float64Array(P), fimSquared: new Float64Array(P), v1: new Float64Array(P), v2: new Float64Array(P) };
  let inputs = 0;
  shards.forEach((s, k) => {
    const w = ordered[k]!;
    inputs += s.sums['inputs'] as number;
    for (const f of fields) {
      const a = f64(s.sums[f], P, `${w}: ${f}`);
      const d = sums[f];
      for (let i = 0; i < P; i++) d[i]! += a[i]!;
    }
  });
  return finishJointVariances(sums, inputs, first.key['labelsPerInput'] as number, first.key['inputsPerEstimate'] as number, first.key['convention'] === 'fixed');
}
