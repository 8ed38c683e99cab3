/**
 * Wall time of a Fisher estimate over a whole data set in one process against n shard processes
 * run at once on this machine plus `fimkit merge`, and the largest difference of the merged
 * diagonal from the single one (relative to the largest entry).
 *
 *   node dist/bench/fisher-shards.js [--data fashion-mnist] [--shards 4] [--arch 784-256-10]
 *     [--estimator exact] [--repr diag] [--dtype float32] [--batch 128] [--max-inputs N]
 *
 * The model is a fresh seeded MLP (the time does not depend on training). On a machine with
 * fewer cores than shards the shards share them, so the speed-up is bounded by the cores; the
 * script prints the CPU count and the load average beside the times.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Rng } from '../src/core/rng.js';
import { loadFisher } from '../src/fisher/files.js';
import { buildModel, mlpSpec, saveModel } from '../src/nn/index.js';

const BIN = fileURLToPath(new URL('../../bin/fimkit.js', import.meta.url));

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : def;
}

function fimkit(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [BIN, ...args, '--quiet'], { maxBuffer: 64 << 20 }, (err, _out, stderr) => (err ? reject(new Error(`fimkit ${args.join(' ')}: ${stderr}`)) : resolve()));
  });
}

async function main(): Promise<void> {
  const data = arg('data', 'fashion-mnist');
  const n = Number(arg('shards', '4'));
  const sizes = arg('arch', '784-256-10').split('-').map(Number);
  const dtype = arg('dtype', 'float32') as 'float32' | 'float64';
  const common = ['--data', data, '--estimator', arg('estimator', 'exact'), '--repr', arg('repr', 'diag'), '--batch-size', arg('batch', '128'),
    ...(process.argv.includes('--max-inputs') ? ['--max-inputs', arg('max-inputs', '')] : [])];
  const dir = mkdtempSync(join(tmpdir(), 'fimkit-shards-bench-'));
  try {
    const model = join(dir, 'model.json');
    saveModel(model, buildModel(mlpSpec(sizes, 'relu'), new Rng(1).derive('init'), dtype));
    console.log(`fisher ${common.join(' ')}; model ${sizes.join('-')} ${dtype}; ${cpus().length} CPUs, load average ${loadavg()[0]!.toFixed(2)}`);
    let t = performance.now();
    await fimkit(['fisher', '--model', model, ...common, '--out', join(dir, 'single.json')]);
    const single = (performance.now() - t) / 1000;
    t = performance.now();
    await Promise.all(Array.from({ length: n }, (_, i) => fimkit(['fisher', '--model', model, ...common, '--shard', `${i}/${n}`, '--out', join(dir, 'shards') + '/'])));
    const sharded = (performance.now() - t) / 1000;
    t = performance.now();
    await fimkit(['merge', ...readdirSync(join(dir, 'shards')).map((f) => join(dir, 'shards', f)), '--out', join(dir, 'merged.json')]);
    const merge = (performance.now() - t) / 1000;
    const a = loadFisher(join(dir, 'merged.json'));
    const b = loadFisher(join(dir, 'single.json')).diag();
    const d = a.diag();
    let scale = 0, diff = 0;
    for (let i = 0; i < b.length; i++) { scale = Math.max(scale, Math.abs(b[i]!)); diff = Math.max(diff, Math.abs(d[i]! - b[i]!)); }
    console.log(`inputs ${a.meta.numInputs}: one process ${single.toFixed(2)} s; ${n} shard processes at once ${sharded.toFixed(2)} s + merge ${merge.toFixed(2)} s ` +
      `(ratio ${((sharded + merge) / single).toFixed(2)}); max |merged − single| / max |single| = ${(diff / scale).toExponential(2)}; load average ${loadavg()[0]!.toFixed(2)} at end`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
