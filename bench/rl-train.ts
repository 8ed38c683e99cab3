/**
 * RL training cost (not a test; targets are reported, never enforced):
 *   - the actor update of SMAC (rank-1 Sherman–Morrison), of rank-k SMAC, TRPO, KFAC-NPG and
 *     diag-NPG as a ratio to A2C's actor update on the same CartPole batch, measured in the same
 *     run (the paper's claim: SMAC costs O(d) more than a policy-gradient step). The critic is
 *     left out of both (one epoch, one minibatch, identical for every algorithm), and SMAC's
 *     Fisher-fidelity check is off;
 *   - the wall time of PPO on CartPole-v1 for 100 000 env steps with its default hyperparameters
 *     (`--quick`: 10 000 steps, scaled).
 */
import { writeJsonAtomic } from '../src/io/atomic.js';
import { Rng } from '../src/core/rng.js';
import { makeAlgorithm, makeBatch, type AlgoName } from '../src/rl/algorithms/index.js';
import { defaultHyper } from '../src/rl/defaults.js';
import { makeVecEnv } from '../src/rl/envs/vector.js';
import { ActorCritic } from '../src/rl/policy.js';
import { collectRollout } from '../src/rl/rollout.js';
import { runTraining } from '../src/rl/run.js';
import { median } from './timing.js';

export interface UpdateBenchRow {
  algo: string;
  /** Median seconds of one update (actor + the common one-pass critic step). */
  seconds: number;
  /** seconds / A2C's seconds, measured in the same run. */
  ratioToA2C: number;
}

/** Times one update per algorithm on one CartPole rollout of 8 × 128 steps, alternating algorithms per rep. */
export async function benchUpdates(reps: number): Promise<UpdateBenchRow[]> {
  const cases: { name: string; algo: AlgoName; extra?: object }[] = [
    { name: 'a2c', algo: 'a2c' },
    { name: 'smac (rank 1)', algo: 'smac' },
    { name: 'smac (rank 8, Woodbury)', algo: 'smac', extra: { smRank: 8 } },
    { name: 'trpo', algo: 'trpo' },
    { name: 'kfac-npg', algo: 'kfac-npg' },
    { name: 'diag-npg', algo: 'diag-npg' },
  ];
  const env = await makeVecEnv('CartPole-v1', 8);
  const base = new ActorCritic(env.observationSpace, env.actionSpace, new Rng(0));
  const rollout = collectRollout({ env, obs: env.reset(0) }, base, 128, new Rng(1));
  const times = cases.map(() => [] as number[]);
  for (let r = 0; r < reps + 1; r++) {
    cases.forEach((c, i) => {
      const h = { ...defaultHyper('CartPole-v1', c.algo), nEnvs: 8, nSteps: 128, criticEpochs: 1, criticMinibatches: 1, fidelityEvery: 0, ...(c.extra ?? {}) };
      const policy = new ActorCritic(env.observationSpace, env.actionSpace, new Rng(0));
      const algo = makeAlgorithm(c.algo, policy, h);
      const t0 = performance.now();
      algo.update(makeBatch(rollout, h), new Rng(2));
      if (r > 0) times[i]!.push((performance.now() - t0) / 1000); // rep 0 warms up
    });
  }
  const a2c = median(times[0]!);
  return cases.map((c, i) => ({ algo: c.name, seconds: median(times[i]!), ratioToA2C: median(times[i]!) / a2c }));
}

export async function runRlTrainBench(opts: { quick?: boolean; json?: string } = {}): Promise<void> {
  const rows = await benchUpdates(opts.quick ? 2 : 5);
  console.log('\nRL update cost on a CartPole batch of 1024 (actor update + one critic pass), ratio to A2C measured in the same run');
  console.log('algorithm                   seconds   × A2C');
  for (const r of rows) console.log(`${r.algo.padEnd(26)} ${r.seconds.toFixed(4).padStart(8)} ${r.ratioToA2C.toFixed(2).padStart(7)}`);
  const steps = opts.quick ? 10_000 : 100_000;
  const t0 = performance.now();
  const res = await runTraining({ env: 'CartPole-v1', algo: 'ppo', seed: 0, totalSteps: steps, hyper: defaultHyper('CartPole-v1', 'ppo'), evalEvery: steps, evalEpisodes: 5 });
  const seconds = (performance.now() - t0) / 1000;
  const fin = res.evals[res.evals.length - 1]!;
  console.log(`PPO CartPole-v1 ${steps} steps: ${seconds.toFixed(1)} s wall (${(steps / seconds).toFixed(0)} steps/s, evaluations included), final evaluation ${fin.mean.toFixed(1)}${opts.quick ? ' (quick: 10k steps; the target is for 100k)' : ''}`);
  if (opts.json) {
    writeJsonAtomic(opts.json, { date: new Date().toISOString(), node: process.version, updates: rows, ppoCartPole: { steps, seconds, finalEval: fin.mean } });
    console.log(`wrote ${opts.json}`);
  }
}
