/**
 * `npm run bench [-- --quick] [--only gemm,step,fisher,memory,envs,rl,ode,cbinn] [--out-dir bench-results]
 *   [Fisher flags: --backend, --include-ts, --model, --batch, --dtype, --act, --limit-s]`:
 *   1. gemm throughput per backend and dtype;
 *   2. the training-step / gemm ratio;
 *   3. the Fisher table (bench/fisher.ts): each Fisher quantity as a ratio to a gradient pass,
 *      and the pass's GFLOP/s against the gemm peak, with the targets marked;
 *   4. the memory check (bench/fisher-stream.ts): the exact diagonal over 60 000 inputs against a
 *      gradient pass, in separate processes;
 *   5. RL environments (bench/rl-envs.ts): raw vectorised env steps/s;
 *   6. RL training (bench/rl-train.ts): SMAC's and the other updates as a ratio to A2C's; PPO
 *      CartPole 100k steps wall time;
 *   7. ODE solver steps per second (bench/ode.ts): dopri5 on Kuznetsov, Rodas4 on Kirschner–Panetta;
 *   8. CBINN iterations per second on M1 as a ratio to a plain training step (bench/cbinn.ts).
 * Prints everything and writes JSON files (atomically) under the output folder: gemm-step.json,
 * fisher.json, fisher-stream.json, rl-envs.json, rl-train.json, ode.json, cbinn.json. Not a test: the targets are reported, never enforced. --quick
 * is a smoke run of about a minute.
 */
import { cpus, loadavg } from 'node:os';
import { availableBackends } from '../src/core/backends/index.js';
import { writeJsonAtomic } from '../src/io/atomic.js';
import { benchGemm, formatGemmTable } from './gemm.js';
import { benchStep, type StepRow } from './step.js';
import { fisherOptionsFromArgs, runFisherBench } from './fisher.js';
import { runStreamMemory } from './fisher-stream.js';
import { runEnvBench } from './rl-envs.js';
import { runRlTrainBench } from './rl-train.js';
import { benchOde, formatOdeTable } from './ode.js';
import { benchCbinn, formatCbinnTable } from './cbinn.js';

const PARTS = ['gemm', 'step', 'fisher', 'memory', 'envs', 'rl', 'ode', 'cbinn'] as const;
type Part = (typeof PARTS)[number];

/** Takes `--name value` out of args (so the rest can go to the Fisher flags). */
function take(args: string[], name: string): string | undefined {
  const i = args.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  if (i < 0) return undefined;
  const a = args[i]!;
  if (a.includes('=')) {
    args.splice(i, 1);
    return a.slice(a.indexOf('=') + 1);
  }
  const v = args[i + 1];
  if (v === undefined || v.startsWith('--')) throw new Error(`--${name} needs a value`);
  args.splice(i, 2);
  return v;
}

async function main(argv: string[]): Promise<void> {
  const args = [...argv];
  const outDir = take(args, 'out-dir') ?? 'bench-results';
  const onlyList = take(args, 'only')?.split(',').filter((s) => s !== '');
  for (const p of onlyList ?? []) if (!(PARTS as readonly string[]).includes(p)) throw new Error(`--only ${p}: expected some of ${PARTS.join(', ')}`);
  const only = new Set<Part>((onlyList as Part[] | undefined) ?? PARTS);
  const fisherOpts = fisherOptionsFromArgs([...args, '--json', `${outDir}/fisher.json`]);
  const quick = fisherOpts.quick ?? false;
  const t0 = performance.now();

  const backends = availableBackends();
  console.log(`backends available: ${backends.join(', ')}; ${cpus().length} CPUs, load average ${loadavg()[0]!.toFixed(2)} at start${quick ? '; quick run' : ''}`);

  if (only.has('gemm') || only.has('step')) {
    let gemm: Awaited<ReturnType<typeof benchGemm>> = [];
    if (only.has('gemm')) {
      gemm = await benchGemm({ sizes: quick ? [256, 512] : [256, 512, 1024] });
      console.log('\ngemm C = A·B (median after warm-up)');
      console.log(formatGemmTable(gemm));
    }
    const steps: StepRow[] = [];
    if (only.has('step')) {
      console.log('\nTraining step (forward + backward, MLP 784-512-256-10 relu, softmax NLL), vs its gemms alone');
      console.log('backend  dtype    batch   step ms   gemm ms   ratio   step GFLOP/s');
      for (const b of backends) {
        for (const dtype of ['float32', 'float64'] as const) {
          if (b === 'ts' && dtype === 'float32' && quick) continue;
          const r = benchStep(b, dtype, [784, 512, 256, 10], 256, b === 'ts' ? 3 : 15);
          steps.push(r);
          console.log(`${b.padEnd(8)} ${dtype.padEnd(8)} ${String(r.batch).padStart(5)} ${r.stepMs.toFixed(2).padStart(9)} ${r.gemmMs.toFixed(2).padStart(9)} ${r.ratio.toFixed(2).padStart(7)} ${r.stepGflops.toFixed(1).padStart(14)}`);
        }
      }
    }
    const out = `${outDir}/gemm-step.json`;
    writeJsonAtomic(out, { date: new Date().toISOString(), node: process.version, backends, gemm, steps });
    console.log(`wrote ${out}`);
  }

  if (only.has('fisher')) await runFisherBench(fisherOpts);

  if (only.has('memory')) {
    console.log('\nMemory: exact FIM diagonal streamed over a data set vs a plain gradient pass (separate processes)');
    runStreamMemory([...(quick ? ['--quick'] : []), '--json', `${outDir}/fisher-stream.json`]);
  }

  if (only.has('envs')) await runEnvBench({ quick, json: `${outDir}/rl-envs.json` });
  if (only.has('rl')) await runRlTrainBench({ quick, json: `${outDir}/rl-train.json` });
  if (only.has('ode')) {
    console.log('\nODE solvers: accepted steps per second (median of 3 runs, 1 with --quick), and a step as a ratio to one right-hand-side evaluation');
    const rows = benchOde(quick);
    console.log(formatOdeTable(rows));
    const out = `${outDir}/ode.json`;
    writeJsonAtomic(out, { date: new Date().toISOString(), node: process.version, rows });
    console.log(`wrote ${out}`);
  }
  if (only.has('cbinn')) {
    console.log('\nCBINN on Kuznetsov (M1): one iteration vs a plain training step of the same network (median, float64)');
    const r = benchCbinn(quick);
    console.log(formatCbinnTable(r.rows));
    const out = `${outDir}/cbinn.json`;
    writeJsonAtomic(out, { date: new Date().toISOString(), node: process.version, config: r.config, rows: r.rows });
    console.log(`wrote ${out}`);
  }
  console.log(`\nbench finished in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
}

main(process.argv.slice(2)).catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
