/**
 * Raw environment throughput: vectorised env steps per second (one step of one copy counts as
 * one), with random actions drawn beforehand so that only the envs and the vector wrapper
 * (auto-reset included) are timed. One row per case in ENV_BENCH_CASES: adding an env is one
 * line there. An env that cannot be made here (e.g. MuJoCo without WebAssembly) gives a row with
 * the reason instead of a number.
 */
import { writeJsonAtomic } from '../src/io/atomic.js';
import { Rng } from '../src/core/rng.js';
import { spaceSize } from '../src/rl/envs/spaces.js';
import { makeVecEnv } from '../src/rl/envs/vector.js';
import { median } from './timing.js';

export interface EnvBenchCase {
  readonly env: string;
  readonly copies: number;
  /**
   * Warm-up before timing, in seconds (default: a fifth of the budget, at most 0.2 s). The first
   * MuJoCo case needs ~3–4 s: V8 compiles the 11 MB MuJoCo WebAssembly module with its baseline
   * compiler first and tiers up to optimised code over the first seconds (measured on Hopper:
   * ~260 steps/s in the first second, ~1 600 in the second, ~2 400 in the third). The module is
   * shared, so later MuJoCo cases start warm.
   */
  readonly warmupSeconds?: number;
}

/** The cases `npm run bench -- --only envs` times. */
export const ENV_BENCH_CASES: readonly EnvBenchCase[] = [
  { env: 'CartPole-v1', copies: 8 },
  { env: 'CartPole-v1', copies: 64 },
  { env: 'Hopper-v5', copies: 1, warmupSeconds: 4 },
  { env: 'Hopper-v5', copies: 8, warmupSeconds: 1 },
];

export interface EnvBenchRow {
  env: string;
  copies: number;
  /** Copy-steps timed (vector steps × copies). */
  steps: number;
  seconds: number;
  stepsPerSec: number;
  /** Episodes that ended (and were auto-reset) while timing. */
  episodes: number;
  /** Set, with the others zero, when the env could not be made here. */
  skipped?: string;
}

/** Times `case` for about `seconds` (split into `reps` timed runs; the median rate is reported). */
export async function benchEnv(c: EnvBenchCase, seconds = 1, reps = 3): Promise<EnvBenchRow> {
  let vec;
  try {
    vec = await makeVecEnv(c.env, c.copies);
  } catch (e) {
    return { env: c.env, copies: c.copies, steps: 0, seconds: 0, stepsPerSec: 0, episodes: 0, skipped: (e as Error).message };
  }
  const rng = new Rng(0);
  const space = vec.actionSpace;
  const pool = 64;
  const actions: (Int32Array | Float64Array)[] = [];
  for (let k = 0; k < pool; k++) {
    if (space.kind === 'discrete') actions.push(Int32Array.from({ length: c.copies }, () => rng.int(space.n)));
    else {
      const d = spaceSize(space);
      const a = new Float64Array(c.copies * d);
      for (let i = 0; i < a.length; i++) {
        const lo = Number.isFinite(space.low[i % d]!) ? space.low[i % d]! : -1;
        const hi = Number.isFinite(space.high[i % d]!) ? space.high[i % d]! : 1;
        a[i] = lo + (hi - lo) * rng.uniform();
      }
      actions.push(a);
    }
  }
  vec.reset(0);
  // Warm-up (JIT), then timed runs of a fixed share of the budget each.
  const warmEnd = performance.now() + (c.warmupSeconds !== undefined ? c.warmupSeconds * 1000 : Math.min(200, seconds * 200));
  for (let k = 0; performance.now() < warmEnd; k++) vec.step(actions[k % pool]!);
  const rates: number[] = [];
  let steps = 0;
  let episodes = 0;
  let total = 0;
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    const until = t0 + (seconds * 1000) / reps;
    let n = 0;
    do {
      for (let j = 0; j < 16; j++) episodes += vec.step(actions[(n + j) % pool]!).episodes.length;
      n += 16;
    } while (performance.now() < until);
    const dt = (performance.now() - t0) / 1000;
    rates.push((n * c.copies) / dt);
    steps += n * c.copies;
    total += dt;
  }
  vec.close();
  return { env: c.env, copies: c.copies, steps, seconds: total, stepsPerSec: median(rates), episodes };
}

export function formatEnvTable(rows: readonly EnvBenchRow[]): string {
  const lines = ['env                         copies     steps/s     episodes'];
  for (const r of rows) {
    const head = `${r.env.padEnd(26)} ${String(r.copies).padStart(7)}`;
    lines.push(r.skipped ? `${head}   skipped: ${r.skipped}` : `${head} ${Math.round(r.stepsPerSec).toLocaleString('en-US').padStart(11)} ${String(r.episodes).padStart(12)}`);
  }
  return lines.join('\n');
}

/** The bench part: prints the table and writes it as JSON (atomically). */
export async function runEnvBench(opts: { quick?: boolean; json?: string; cases?: readonly EnvBenchCase[] } = {}): Promise<EnvBenchRow[]> {
  const rows: EnvBenchRow[] = [];
  for (const c of opts.cases ?? ENV_BENCH_CASES) rows.push(await benchEnv(c, opts.quick ? 0.3 : 2));
  console.log('\nRL environments: raw vectorised steps/s (random actions, auto-reset included, median of 3 runs)');
  console.log(formatEnvTable(rows));
  if (opts.json) {
    writeJsonAtomic(opts.json, { date: new Date().toISOString(), node: process.version, rows });
    console.log(`wrote ${opts.json}`);
  }
  return rows;
}
