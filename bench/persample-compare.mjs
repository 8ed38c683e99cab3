#!/usr/bin/env node
// fimkit/PyTorch ratios for per-sample gradients, norms and DP clipped sums, from one run on this
// machine: runs bench/pytorch_persample.py and dist/bench/persample.js (float32, the same MLP and
// batch sizes) back to back and prints both times and their ratios. Not part of npm test.
//
//   npm run build:ts && node bench/persample-compare.mjs [--batch 256,1024] [--backend native] [--threads 2]
//
// fimkit's per-sample output is float64 (8 bytes per entry), PyTorch's float32 (4): the ratio
// compares the same [B, P] gradients at twice the bytes written on fimkit's side.
import { execFileSync } from 'node:child_process';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';

const arg = (name, def) => { const i = process.argv.indexOf(`--${name}`); return i >= 0 ? process.argv[i + 1] : def; };
const batch = arg('batch', '256,1024');
const backend = arg('backend', 'native');
const threads = arg('threads', '2');
const python = arg('python', '/usr/bin/python3');

console.log(`load average ${loadavg()[0].toFixed(2)} at start; ${threads} threads`);
const pt = execFileSync(python, ['bench/pytorch_persample.py', '--batch', batch, '--threads', threads], { encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: threads } })
  .trim().split('\n').map((l) => JSON.parse(l));
const jsonPath = join(tmpdir(), `fimkit-persample-${process.pid}.json`);
execFileSync(process.execPath, ['--experimental-wasm-relaxed-simd', 'dist/bench/persample.js', '--batch', batch, '--dtype', 'float32', '--backend', backend, '--json', jsonPath],
  { encoding: 'utf8', stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, OPENBLAS_NUM_THREADS: threads, FIMKIT_THREADS: threads } });
const fk = JSON.parse(readFileSync(jsonPath, 'utf8')).rows;
console.log('\nbatch  quantity     fimkit ms   PyTorch ms (route)      fimkit/PyTorch');
for (const p of pt) {
  const f = fk.find((r) => r.batch === p.batch);
  if (!f) continue;
  const best = Math.min(p.vmapMs, p.hooksMs);
  const rows = [
    ['pass', f.passMs, p.passMs, 'backward'],
    ['per-sample', f.perSampleMs, best, p.vmapMs <= p.hooksMs ? 'vmap(grad)' : 'hooks'],
    ['per-sample*', f.perSampleIntoMs, best, p.vmapMs <= p.hooksMs ? 'vmap(grad)' : 'hooks'],
    ['norms', f.normsMs, p.normsMs, 'hooks'],
    ['clipped', f.clippedMs, p.clippedMs, 'hooks'],
  ];
  for (const [q, a, b, route] of rows) console.log(`${String(p.batch).padStart(5)}  ${q.padEnd(11)} ${a.toFixed(1).padStart(9)}  ${b.toFixed(1).padStart(9)} (${route.padEnd(10)})  ${(a / b).toFixed(2)}`);
  console.log('       * fimkit into a reused [B, P] output (no fresh pages per call)');
  console.log(`       PyTorch per-sample routes: vmap(grad) ${p.vmapMs.toFixed(1)} ms, hooks ${p.hooksMs.toFixed(1)} ms; torch ${p.torch}`);
}
console.log(`load average ${loadavg()[0].toFixed(2)} at end`);
