/**
 * `fimkit rl`: trains an on-policy RL algorithm on an environment over several seeds, with
 * periodic deterministic evaluation, checkpoints (`--resume`), progress, and a report;
 * `fimkit rl compare` runs a grid of environments × algorithms; `fimkit rl report --dir` rebuilds
 * the report from the result files of finished runs.
 *
 * Layout of an output directory: <out>/<env>/<algo>/seed-<s>/{checkpoint.json,result.json} and,
 * at the top, report.html, report.json and curves.csv.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { setBackend } from '../../core/backends/index.js';
import type { BackendName } from '../../core/backend.js';
import { fail } from '../../core/errors.js';
import { writeFileAtomic, writeJsonAtomic } from '../../io/atomic.js';
import { writeReport } from '../../report/files.js';
import { ALGO_NAMES, checkAlgoName, validateHyper, type AlgoName, type RlHyper } from '../../rl/algorithms/config.js';
import { defaultHyper } from '../../rl/defaults.js';
import { envSpec, ENV_SPECS } from '../../rl/envs/registry.js';
import { runTraining, type RunResult } from '../../rl/run.js';
import { FileRlCheckpointStore } from '../../rl/run-file.js';
import { comparisonTable, rlReportHtml, summarise, summaryCsv } from '../../rl/report.js';
import { UsageError, type FlagSpec, type ParsedArgs } from '../args.js';
import { EXIT_INTERRUPTED, EXIT_OK, stderrNotes, timestampForPath, type CliIO, type Command } from '../command.js';
import { BACKEND_FLAG, JSON_FLAG, QUIET_FLAG } from '../common-flags.js';

/** Hyperparameter flags: name → (field of RlHyper, type). Each overrides the per-env default. */
const HYPER_FLAGS: { flag: string; field: keyof RlHyper; type: 'int' | 'number' | 'boolean' | 'enum'; choices?: readonly string[]; description: string }[] = [
  { flag: 'n-envs', field: 'nEnvs', type: 'int', description: 'Environment copies stepped together.' },
  { flag: 'n-steps', field: 'nSteps', type: 'int', description: 'Steps per copy per rollout.' },
  { flag: 'gamma', field: 'gamma', type: 'number', description: 'Discount γ.' },
  { flag: 'gae-lambda', field: 'gaeLambda', type: 'number', description: 'GAE λ.' },
  { flag: 'normalize-advantage', field: 'normalizeAdvantage', type: 'boolean', description: 'Normalise advantages to mean 0, std 1.' },
  { flag: 'ent-coef', field: 'entCoef', type: 'number', description: 'Entropy bonus coefficient.' },
  { flag: 'actor-lr', field: 'actorLr', type: 'number', description: 'Actor Adam learning rate (A2C, PPO, SMAC with --sm-step adam).' },
  { flag: 'critic-lr', field: 'criticLr', type: 'number', description: 'Critic Adam learning rate.' },
  { flag: 'lr-schedule', field: 'lrSchedule', type: 'enum', choices: ['constant', 'linear'], description: 'Learning-rate (and PPO clip) schedule.' },
  { flag: 'critic-epochs', field: 'criticEpochs', type: 'int', description: 'Critic passes over each batch (A2C and the natural-gradient methods).' },
  { flag: 'critic-minibatches', field: 'criticMinibatches', type: 'int', description: 'Critic minibatches per pass.' },
  { flag: 'max-grad-norm', field: 'maxGradNorm', type: 'number', description: 'Gradient-norm clip (0: none).' },
  { flag: 'normalize-obs', field: 'normalizeObs', type: 'boolean', description: 'Running observation normalisation.' },
  { flag: 'normalize-reward', field: 'normalizeReward', type: 'boolean', description: 'Running reward scaling.' },
  { flag: 'epochs', field: 'epochs', type: 'int', description: 'PPO epochs per rollout.' },
  { flag: 'minibatch-size', field: 'minibatchSize', type: 'int', description: 'PPO minibatch size.' },
  { flag: 'clip-range', field: 'clipRange', type: 'number', description: 'PPO ratio clip ε.' },
  { flag: 'clip-range-vf', field: 'clipRangeVf', type: 'number', description: 'PPO value clip (0: none).' },
  { flag: 'damping', field: 'damping', type: 'number', description: 'Fisher damping (TRPO/NPG CG, KFAC-NPG, diag-NPG).' },
  { flag: 'max-kl', field: 'maxKl', type: 'number', description: 'KL radius δ (TRPO, NPG, KFAC/diag-NPG, SMAC with --sm-step kl).' },
  { flag: 'cg-iters', field: 'cgIters', type: 'int', description: 'Conjugate-gradient iterations (TRPO, NPG).' },
  { flag: 'line-search-steps', field: 'lineSearchSteps', type: 'int', description: 'TRPO backtracking steps.' },
  { flag: 'backtrack-ratio', field: 'backtrackRatio', type: 'number', description: 'TRPO backtracking factor.' },
  { flag: 'sm-lambda', field: 'smLambda', type: 'number', description: 'SMAC damping λ of λI + uuᵀ (> 0).' },
  { flag: 'sm-step', field: 'smStep', type: 'enum', choices: ['kl', 'fixed', 'adam'], description: "SMAC step: 'kl' η = √(2δ/gᵀd); 'fixed' η = --sm-eta; 'adam' d replaces the gradient in Adam." },
  { flag: 'sm-eta', field: 'smEta', type: 'number', description: 'SMAC fixed step size η.' },
  { flag: 'sm-u-source', field: 'smUSource', type: 'enum', choices: ['random', 'first', 'mean'], description: 'Which sample gives the score u: a random one, the first, or the mean of --sm-rank scores.' },
  { flag: 'sm-rank', field: 'smRank', type: 'int', description: 'Scores in the curvature: 1 is Sherman–Morrison (SMAC), k > 1 the Woodbury rank-k variant.' },
  { flag: 'sm-minibatches', field: 'smMinibatches', type: 'int', description: 'SMAC actor updates per rollout (each with its own sampled u).' },
  { flag: 'sm-clip', field: 'smClip', type: 'number', description: 'Max norm of the SMAC step (0: none).' },
  { flag: 'fidelity-every', field: 'fidelityEvery', type: 'int', description: 'SMAC: compare with the exact Fisher every N updates (0: never).' },
];

const COMMON: FlagSpec[] = [
  { name: 'seeds', type: 'int', min: 1, max: 1000, default: 1, description: 'Seeds to run (0, 1, …, N−1 from --seed).', group: 'Run' },
  { name: 'seed', type: 'int', min: 0, max: 1e9, default: 0, description: 'First seed.', group: 'Run' },
  { name: 'steps', type: 'int', min: 1, default: 200000, description: 'Environment steps per seed.', group: 'Run' },
  { name: 'eval-every', type: 'int', min: 1, default: 10000, description: 'Evaluate every N environment steps (and at the end).', group: 'Run' },
  { name: 'eval-episodes', type: 'int', min: 1, default: 10, description: 'Episodes per evaluation (deterministic policy).', group: 'Run' },
  { name: 'checkpoint-every', type: 'int', min: 0, default: 20, description: 'Checkpoint every N updates (0: only at the end); written atomically.', group: 'Run' },
  { name: 'out', type: 'path', metavar: 'DIR', description: 'Output directory.', defaultText: 'runs/rl-<YYYYMMDD-HHMMSS>', group: 'Run' },
  { name: 'resume', type: 'boolean', description: 'Continue the runs in --out (finished seeds are kept, interrupted ones resume from their checkpoints).', group: 'Run' },
  { name: 'force', type: 'boolean', description: 'Allow writing into an --out that already holds results (without --resume, existing runs are refused).', group: 'Run' },
  { name: 'hidden', type: 'string', metavar: 'SIZES', default: '64,64', description: 'Hidden widths of the actor and of the critic (separate networks).', group: 'Policy' },
  { name: 'show-defaults', type: 'boolean', description: 'Print the default hyperparameters for --env/--envs × --algo/--algos and exit.', group: 'Output' },
  BACKEND_FLAG,
  QUIET_FLAG,
  JSON_FLAG,
  ...HYPER_FLAGS.map((h): FlagSpec => ({
    name: h.flag,
    type: h.type,
    choices: h.choices,
    description: `${h.description} (default per environment and algorithm, see --show-defaults)`,
    group: 'Hyperparameters',
  })),
];

const FLAGS: FlagSpec[] = [
  { name: 'env', type: 'string', metavar: 'ID', default: 'CartPole-v1', description: 'Environment (Gymnasium id).', group: 'Task' },
  { name: 'algo', type: 'string', metavar: 'NAME', default: 'smac', description: `Algorithm: ${ALGO_NAMES.join(', ')}.`, group: 'Task' },
  { name: 'envs', type: 'string', metavar: 'IDS', description: 'compare: comma-separated environments.', group: 'Task' },
  { name: 'algos', type: 'string', metavar: 'NAMES', description: 'compare: comma-separated algorithms.', group: 'Task' },
  { name: 'dir', type: 'path', metavar: 'DIR', description: 'report: the output directory of earlier runs.', group: 'Task' },
  ...COMMON,
];

function hyperFor(env: string, algo: AlgoName, args: ParsedArgs): RlHyper {
  const h = defaultHyper(env, algo) as unknown as Record<string, unknown>;
  for (const f of HYPER_FLAGS) if (args.given.has(f.flag)) h[f.field] = args.flags[f.flag];
  const hyper = h as unknown as RlHyper;
  validateHyper(hyper);
  return hyper;
}

function parseHidden(s: string): number[] {
  const xs = s.split(',').map((t) => Number(t.trim()));
  if (xs.length === 0 || xs.some((x) => !Number.isInteger(x) || x < 1)) throw new UsageError(`--hidden must be comma-separated positive integers, got '${s}'`);
  return xs;
}

function list(s: string | undefined, what: string): string[] {
  const xs = (s ?? '').split(',').map((t) => t.trim()).filter(Boolean);
  if (xs.length === 0) throw new UsageError(`${what} needs a comma-separated list`);
  return xs;
}

/** Every result.json under dir (recursively, depth ≤ 4). */
export function readResults(dir: string): RunResult[] {
  if (!existsSync(dir)) fail('IO', `no such directory: ${dir}`);
  const out: RunResult[] = [];
  const walk = (d: string, depth: number): void => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (name === 'result.json') {
        try {
          out.push(JSON.parse(readFileSync(p, 'utf8')) as RunResult);
        } catch (e) {
          fail('CORRUPT_FILE', `${p} is not valid JSON (${(e as Error).message})`);
        }
      } else if (depth < 4 && statSync(p).isDirectory()) walk(p, depth + 1);
    }
  };
  walk(dir, 0);
  return out;
}

function writeAll(out: string, results: RunResult[]): { html: string; json: string; csv: string } {
  const groups = summarise(results);
  const paths = writeReport(out, rlReportHtml(groups), { groups });
  const csv = join(out, 'curves.csv');
  writeFileAtomic(csv, summaryCsv(groups));
  return { ...paths, csv };
}

async function run(args: ParsedArgs, io: CliIO): Promise<number> {
  const f = args.flags;
  const sub = args.positionals[0] ?? 'train';
  if (!['train', 'compare', 'report'].includes(sub)) throw new UsageError(`unknown rl subcommand '${sub}': expected compare or report (or none, to train)`);
  const quiet = f['quiet'] === true;
  const log = stderrNotes(io, quiet);
  if (f['backend'] !== undefined) setBackend(f['backend'] as BackendName);

  if (sub === 'report') {
    const dir = f['dir'] as string | undefined;
    if (!dir) throw new UsageError('rl report needs --dir DIR');
    const results = readResults(dir);
    if (results.length === 0) fail('IO', `no result.json files under ${dir}`);
    const paths = writeAll(dir, results);
    printSummary(io, results, paths, f['json'] === true);
    return EXIT_OK;
  }

  const envs = sub === 'compare' ? list(f['envs'] as string | undefined, '--envs') : [String(f['env'])];
  const algos = (sub === 'compare' ? list(f['algos'] as string | undefined, '--algos') : [String(f['algo'])]).map((a) => checkAlgoName(a));
  for (const e of envs) envSpec(e); // unknown env: a named error before anything is written
  const hidden = parseHidden(String(f['hidden']));
  if (f['show-defaults'] === true) {
    const table: Record<string, Record<string, RlHyper>> = {};
    for (const e of envs) for (const a of algos) (table[e] ??= {})[a] = hyperFor(e, a, args);
    io.stdout.write(JSON.stringify(table, null, 2) + '\n');
    return EXIT_OK;
  }
  // Every hyperparameter set is validated (λ > 0, ranges) before anything is written.
  for (const e of envs) for (const a of algos) hyperFor(e, a, args);
  const resume = f['resume'] === true;
  if (resume && !args.given.has('out')) throw new UsageError('--resume needs --out DIR, the directory of the runs to continue');
  const out = (f['out'] as string | undefined) ?? join('runs', `rl-${timestampForPath()}`);
  if (!resume && existsSync(out) && readdirSync(out).length > 0 && f['force'] !== true) {
    throw new UsageError(`--out ${out} already holds files; add --resume to continue its runs, --force to add to it, or choose another --out`);
  }
  mkdirSync(out, { recursive: true });
  const seeds = f['seeds'] as number;
  const seed0 = f['seed'] as number;
  let interrupted = false;
  const unregister = io.onInterrupt?.(() => {
    interrupted = true;
    log('interrupt: finishing the current update and checkpointing…');
  });
  const results: RunResult[] = [];
  try {
    for (const env of envs) {
      for (const algo of algos) {
        const hyper = hyperFor(env, algo, args);
        for (let s = seed0; s < seed0 + seeds; s++) {
          const dir = join(out, env, algo, `seed-${s}`);
          const resultPath = join(dir, 'result.json');
          if (existsSync(resultPath)) {
            if (!resume && f['force'] !== true) throw new UsageError(`${resultPath} already exists; add --resume to keep it`);
            if (resume) {
              results.push(JSON.parse(readFileSync(resultPath, 'utf8')) as RunResult);
              log(`${env} ${algo} seed ${s}: already finished`);
              continue;
            }
          }
          const store = new FileRlCheckpointStore(dir);
          if (!resume && store.exists() && f['force'] !== true) throw new UsageError(`${store.path} exists; add --resume to continue it`);
          let last = 0;
          log(`${env} ${algo} seed ${s}: ${f['steps']} steps → ${dir}`);
          const r = await runTraining({
            env, algo, seed: s, totalSteps: f['steps'] as number, hyper, policy: { actorHidden: hidden, criticHidden: hidden },
            evalEvery: f['eval-every'] as number, evalEpisodes: f['eval-episodes'] as number,
            checkpointEvery: f['checkpoint-every'] as number, store,
            shouldStop: () => interrupted,
            onProgress: (p) => {
              const now = Date.now();
              if (now - last < 2000 && p.step < p.totalSteps) return;
              last = now;
              log(`  step ${p.step}/${p.totalSteps}  ${p.stepsPerSecond.toFixed(0)} steps/s  episode return ${p.recentReturn === null ? '–' : p.recentReturn.toFixed(1)}  eval ${p.lastEval ? p.lastEval.mean.toFixed(1) : '–'}`);
            },
          });
          if (!r.completed) {
            io.stderr.write(`stopped at step ${r.steps}; checkpoint in ${store.path}\nresume with the same flags plus: --resume --out ${out}\n`);
            return EXIT_INTERRUPTED;
          }
          writeJsonAtomic(resultPath, r);
          results.push(r);
          const fin = r.evals[r.evals.length - 1]!;
          log(`  final evaluation ${fin.mean.toFixed(1)} ± ${fin.std.toFixed(1)} over ${fin.episodes} episodes; ${r.wallSeconds.toFixed(1)} s, ${r.stepsPerSecond.toFixed(0)} steps/s`);
        }
      }
    }
  } finally {
    unregister?.();
  }
  const paths = writeAll(out, results);
  printSummary(io, results, paths, f['json'] === true);
  return EXIT_OK;
}

function printSummary(io: CliIO, results: RunResult[], paths: { html: string; json: string; csv: string }, json: boolean): void {
  const groups = summarise(results);
  if (json) {
    io.stdout.write(JSON.stringify({ report: paths, groups: groups.map((g) => ({ env: g.env, algo: g.algo, seeds: g.seeds, finalMean: g.finalMean, finalSe: g.finalSe, finals: g.finals, wallSeconds: g.wallSeconds, stepsPerSecond: g.stepsPerSecond, updateSeconds: g.updateSeconds })) }, null, 2) + '\n');
    return;
  }
  const t = comparisonTable(groups);
  io.stdout.write(`${t.caption}\n`);
  for (const row of t.rows) io.stdout.write(`  ${row.map((c) => (c === null ? '–' : String(c))).join('  |  ')}\n`);
  for (const g of groups) io.stdout.write(`  ${g.env} ${g.algo}: ${g.wallSeconds.toFixed(1)} s per seed, ${g.stepsPerSecond.toFixed(0)} steps/s, ${(g.updateSeconds * 1000).toFixed(1)} ms per update\n`);
  io.stdout.write(`wrote ${paths.html}, ${paths.json}, ${paths.csv}\n`);
}

export const rlCommand: Command = {
  name: 'rl',
  summary: 'Train RL agents (A2C, PPO, TRPO, NPG, SMAC, KFAC-NPG, diag-NPG) over seeds; compare; HTML report',
  description:
    'Trains an on-policy actor-critic on a Gymnasium-compatible environment for --seeds seeds, evaluating the deterministic policy every --eval-every steps, checkpointing every --checkpoint-every updates, and writes result.json per seed plus report.html (learning curves with a ±1 s.e. band over seeds, final-return table, wall time, steps/s, and SMAC\'s Fisher-fidelity figure), report.json and curves.csv. ' +
    '`fimkit rl compare --envs A,B --algos x,y` runs the grid; `fimkit rl report --dir DIR` rebuilds the report from finished runs. ' +
    `Environments: ${ENV_SPECS.map((s) => s.id).join(', ')}.`,
  epilog:
    'Examples:\n  fimkit rl --env CartPole-v1 --algo smac --seeds 5 --steps 200000\n  fimkit rl compare --envs CartPole-v1,Acrobot-v1 --algos a2c,ppo,trpo,smac --seeds 5 --out runs/grid\n  fimkit rl report --dir runs/grid\n  fimkit rl --env Pendulum-v1 --algo ppo --show-defaults',
  flags: FLAGS,
  positionals: [{ name: 'subcommand', description: 'compare or report (omit to train)', optional: true }],
  run,
};


