/**
 * Shards and merge: 4 shards of a Fisher estimate (diag, block, KFAC; exact, i1 with sampled
 * labels, empirical) and of the joint variances, merged in two orders, equal the single process
 * to 1e-12 (float64 model); missing, duplicate and mismatched shards are named errors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../src/core/rng.js';
import { buildModel, mlpSpec } from '../src/nn/index.js';
import { makeLikelihood } from '../src/likelihoods/index.js';
import { computeFisher } from '../src/fisher/compute.js';
import { computeFisherShard, computeVarianceShard, mergeFisherShards, mergeVarianceShards, ShardError, parseShardSpec, shardRange, type ShardDocument } from '../src/fisher/shard.js';
import { jointVariances } from '../src/variance/conditional.js';
import type { FisherMatrix } from '../src/fisher/matrix.js';
import { randomData } from './helpers.js';

const rng = new Rng(5);
const model = buildModel(mlpSpec([4, 6, 3], 'tanh'), rng.derive('init'), 'float64');
const lik = makeLikelihood('categorical');
// 37 inputs in batches of 5: 8 batches, the last one short, spread 2/2/2/2 over 4 shards.
const data = randomData(model, lik, { seed: 9, count: 37, outputs: 3 });
const ORDERS = [[0, 1, 2, 3], [2, 0, 3, 1]];

function close(a: ArrayLike<number>, b: ArrayLike<number>, what: string): void {
  assert.equal(a.length, b.length, `${what}: lengths`);
  let scale = 0;
  for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(b[i]!));
  assert.ok(scale > 0, `${what}: all zero`);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i]! - b[i]!) <= 1e-12 * scale, `${what}[${i}]: ${a[i]} vs ${b[i]}`);
}

/** The stored numbers of a matrix: every encoded array of its file form (diagonal, blocks, KFAC factors). */
function numbers(m: FisherMatrix): Float64Array[] {
  const out: Float64Array[] = [];
  const walk = (v: unknown): void => {
    if (v === null || typeof v !== 'object') return;
    if (typeof (v as { base64?: unknown }).base64 === 'string') { out.push(decode(v)); return; }
    for (const x of Object.values(v as object)) walk(x);
  };
  const j = m.toJSON() as Record<string, unknown>;
  walk({ ...j, meta: null, layout: null });
  assert.ok(out.length > 0);
  return out;
}
function decode(e: unknown): Float64Array {
  const o = e as { base64: string };
  const b = Buffer.from(o.base64, 'base64');
  return new Float64Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

test('shard ranges: batch-aligned, disjoint, covering', () => {
  for (const [total, B, n] of [[37, 5, 4], [10, 3, 7], [100, 128, 3], [1, 1, 1]] as const) {
    let next = 0;
    for (let i = 0; i < n; i++) {
      const r = shardRange(total, B, { index: i, count: n });
      assert.equal(r.start, next, `${total}/${B}/${n} shard ${i} starts where ${i - 1} ended`);
      assert.ok(r.start % B === 0 && r.end >= r.start);
      next = r.end;
    }
    assert.equal(next, total);
  }
  assert.deepEqual(parseShardSpec('2/4'), { index: 2, count: 4 });
  assert.throws(() => parseShardSpec('4/4'), /0\.\.3/);
  assert.throws(() => parseShardSpec('1-4'), /i\/n/);
});

for (const [estimator, representation] of [['exact', 'diag'], ['i1', 'diag'], ['empirical', 'block'], ['i1', 'kfac'], ['exact', 'kfac']] as const) {
  for (const scaling of ['mean', 'sum'] as const) {
    test(`4 Fisher shards merged equal one process (${estimator}, ${representation}, ${scaling}), in two orders`, () => {
      const opts = { estimator, representation, batchSize: 5, seed: 3, labelsPerInput: 2, scaling };
      const single = computeFisher(model, lik, data, opts);
      const shards = [0, 1, 2, 3].map((i) => JSON.parse(JSON.stringify(computeFisherShard(model, lik, data, opts, { index: i, count: 4 }))) as ShardDocument);
      assert.deepEqual(shards.map((s) => s.sums['inputs']), [10, 10, 10, 7]);
      for (const order of ORDERS) {
        const merged = mergeFisherShards(order.map((i) => shards[i]));
        assert.equal(merged.meta.numInputs, 37);
        const a = numbers(merged);
        const b = numbers(single);
        a.forEach((x, k) => close(x, b[k]!, `${estimator}/${representation} order ${order} array ${k}`));
      }
    });
  }
}

test('label draws are per input: i1 does not depend on the batch size', () => {
  const a = computeFisher(model, lik, data, { estimator: 'i1', representation: 'diag', batchSize: 5, seed: 4 }).diag();
  const b = computeFisher(model, lik, data, { estimator: 'i1', representation: 'diag', batchSize: 16, seed: 4 }).diag();
  const c = computeFisher(model, lik, data, { estimator: 'i1', representation: 'diag', batchSize: 16, seed: 5 }).diag();
  close(a, b, 'batch 5 vs 16');
  assert.ok(a.some((v, i) => Math.abs(v - c[i]!) > 1e-6 * Math.abs(v)), 'another seed draws other labels');
});

test('4 joint-variance shards merged equal one process, in two orders', () => {
  const opts = { labelsPerInput: 3, batchSize: 5, inputsPerEstimate: 50 };
  const single = jointVariances(model, lik, data, opts);
  const shards = [0, 1, 2, 3].map((i) => JSON.parse(JSON.stringify(computeVarianceShard(model, lik, data, opts, { index: i, count: 4 }))));
  for (const order of ORDERS) {
    const m = mergeVarianceShards(order.map((i) => shards[i]));
    assert.equal(m.inputs, 37);
    for (const f of ['fim', 'fimVarOverInputs', 'meanV1', 'meanV2', 'v1', 'v2'] as const) close(m[f], single[f], `${f} order ${order}`);
  }
});

test('missing, duplicate and mismatched shards are named errors', () => {
  const opts = { estimator: 'exact', representation: 'diag', batchSize: 5 } as const;
  const s = [0, 1, 2, 3].map((i) => computeFisherShard(model, lik, data, opts, { index: i, count: 4 }));
  const problem = (docs: unknown[], p: string, re: RegExp): void => {
    assert.throws(() => mergeFisherShards(docs), (e: unknown) => e instanceof ShardError && e.problem === p && e.code === 'SHARD' && re.test(e.message));
  };
  problem([s[0], s[1], s[3]], 'missing', /missing shard 2\/4/);
  problem([s[0], s[1], s[2], s[2], s[3]], 'duplicate', /duplicate shard 2\/4/);
  const other = computeFisherShard(model, lik, data, { ...opts, estimator: 'empirical' }, { index: 1, count: 4 });
  problem([s[0], other, s[2], s[3]], 'mismatch', /estimator "empirical".*"exact"/);
  const model2 = buildModel(mlpSpec([4, 6, 3], 'tanh'), rng.derive('other'), 'float64');
  problem([s[0], s[1], computeFisherShard(model2, lik, data, opts, { index: 2, count: 4 }), s[3]], 'mismatch', /has model/);
  problem([s[0], s[1], computeFisherShard(model, lik, data, opts, { index: 2, count: 5 }), s[3]], 'mismatch', /one of 5 shards/);
  problem([s[0], s[1], computeFisherShard(model, lik, data, { ...opts, batchSize: 4 }, { index: 2, count: 4 }), s[3]], 'mismatch', /batchSize/);
  problem([{ format: 'other' }], 'malformed', /not a fimkit shard/);
  const v = computeVarianceShard(model, lik, data, { batchSize: 5 }, { index: 0, count: 1 });
  assert.throws(() => mergeFisherShards([v]), /mergeVarianceShards/);
});
