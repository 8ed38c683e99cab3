#!/usr/bin/env node
// Learning evidence for `fimkit rl` (not part of npm test: minutes to hours on 2 cores).
// Runs algorithms × seeds on one environment with the per-env defaults (src/rl/defaults.ts) and
// writes one result JSON per run, resumable: <out>/<env>/<algo>/seed-<s>/{checkpoint,result}.json.
// `fimkit rl report --dir <out>` then aggregates them (mean ± s.e. over seeds).
//   node scripts/benchmarks/rl-learning.mjs --env CartPole-v1 --algos ppo,a2c --seeds 5 --steps 200000 --out runs/rl-evidence
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { runTraining } from '../../dist/src/rl/run.js';
import { FileRlCheckpointStore } from '../../dist/src/rl/run-file.js';
import { defaultHyper } from '../../dist/src/rl/defaults.js';
import { writeJsonAtomic } from '../../dist/src/io/atomic.js';

const args = Object.fromEntries(process.argv.slice(2).join(' ').split('--').filter(Boolean).map((kv) => { const [k, ...v] = kv.trim().split(/\s+/); return [k, v.join(' ')]; }));
const env = args.env ?? 'CartPole-v1';
const algos = (args.algos ?? 'ppo').split(',');
const seeds = Number(args.seeds ?? 5);
const seed0 = Number(args['seed-start'] ?? 0);
const steps = Number(args.steps ?? 200000);
const out = args.out ?? 'runs/rl-evidence';
const evalEvery = Number(args['eval-every'] ?? 10000);
for (const algo of algos) {
  for (let s = seed0; s < seed0 + seeds; s++) {
    const dir = join(out, env, algo, `seed-${s}`);
    if (existsSync(join(dir, 'result.json'))) { console.log(`skip ${dir} (done)`); continue; }
    mkdirSync(dir, { recursive: true });
    let last = 0;
    const r = await runTraining({
      env, algo, seed: s, totalSteps: steps, hyper: defaultHyper(env, algo), evalEvery, evalEpisodes: 10,
      checkpointEvery: 20, store: new FileRlCheckpointStore(dir),
      onProgress: (p) => { if (Date.now() - last > 30000) { last = Date.now(); console.log(`${env} ${algo} seed ${s}: step ${p.step}/${steps} ${p.stepsPerSecond.toFixed(0)} steps/s, recent return ${p.recentReturn?.toFixed(1)}, eval ${p.lastEval?.mean.toFixed(1)}`); } },
    });
    writeJsonAtomic(join(dir, 'result.json'), r);
    const fin = r.evals[r.evals.length - 1];
    console.log(`done ${env} ${algo} seed ${s}: final eval ${fin.mean.toFixed(1)} ± ${fin.std.toFixed(1)}, ${r.wallSeconds.toFixed(0)} s, ${r.stepsPerSecond.toFixed(0)} steps/s`);
  }
}
