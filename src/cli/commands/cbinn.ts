/**
 * `fimkit cbinn`: fits biology-informed networks to synthetic measurements of a tumour–immune
 * ODE model over several seeds (or, with `grid`, every model × noise level × seed), and writes
 * one result.json per run plus report.html / report.json over all of them. Runs checkpoint into
 * their own sub-directories; `--resume` skips finished runs and continues unfinished ones.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setBackend, getBackend } from '../../core/backends/index.js';
import type { BackendName } from '../../core/backend.js';
import { ACTIVATIONS, type ActivationName } from '../../nn/index.js';
import { ODE_MODEL_NAMES, getOdeModel } from '../../ode/models/index.js';
import { writeReport } from '../../report/files.js';
import { formatDuration } from '../../train/progress.js';
import { runCbinn, runName, summarize, type CbinnRunResult, type CbinnRunSpec } from '../../cbinn/runner.js';
import { cbinnReportHtml } from '../../cbinn/report.js';
import { UsageError, flagNumber, flagString, type FlagSpec, type ParsedArgs } from '../args.js';
import { EXIT_INTERRUPTED, EXIT_OK, stderrNotes, timestampForPath, type CliIO, type Command } from '../command.js';
import { BACKEND_FLAG, JSON_FLAG, QUIET_FLAG } from '../common-flags.js';
import { fimkitVersion } from '../version.js';

const FLAGS: FlagSpec[] = [
  { name: 'model', type: 'string', default: 'kuznetsov', metavar: 'NAMES', description: `Model, or comma-separated models for grid (${ODE_MODEL_NAMES.join(', ')}).`, defaultText: 'kuznetsov (grid: all)', group: 'Experiment' },
  { name: 'noise', type: 'string', default: '0.05', metavar: 'LEVELS', description: 'Noise level ε (0.05 = 5%), or comma-separated levels for grid.', defaultText: '0.05 (grid: 0,0.05)', group: 'Experiment' },
  { name: 'noise-kind', type: 'enum', choices: ['multiplicative', 'additive'], default: 'multiplicative', description: 'u·(1 + εξ), or u + ε·sd·ξ with sd the state’s standard deviation over the samples.', group: 'Experiment' },
  { name: 'seeds', type: 'int', min: 1, default: 3, description: 'Seeds per setting (data noise, initialisation and parameter start all change with the seed).', group: 'Experiment' },
  { name: 'seed-start', type: 'int', min: 0, default: 0, description: 'First seed.', group: 'Experiment' },
  { name: 'count', type: 'int', min: 2, default: 101, description: 'Measurement times, evenly spaced over the model’s span.', group: 'Experiment' },
  { name: 'observed', type: 'string', metavar: 'STATES', description: 'Comma-separated observed states.', defaultText: 'all', group: 'Experiment' },
  { name: 'missing', type: 'string', default: 'none', metavar: 'TERM', description: "A declared missing term to learn with a network and recover by SINDy: its name, 'auto' (the model's first), or 'none'.", group: 'Experiment' },

  { name: 'hidden', type: 'string', default: '32,32,32', metavar: 'WIDTHS', description: 'Hidden widths of the surrogate network.', group: 'Network' },
  { name: 'activation', type: 'enum', choices: ACTIVATIONS.filter((a) => a !== 'relu' && a !== 'leaky-relu' && a !== 'identity'), default: 'tanh', description: 'Hidden activation (smooth).', group: 'Network' },
  { name: 'fourier', type: 'int', min: 0, description: 'Fourier time features sin/cos(kπτ), k = 1..K.', defaultText: '10 (kuznetsov, kirschner-panetta), 4 otherwise', group: 'Network' },
  { name: 'output', type: 'enum', choices: ['scaled', 'log'], description: 'Output transform: per-state scaling, or log-states.', defaultText: 'scaled for depillis, log otherwise (positive states spanning decades)', group: 'Network' },
  { name: 'soft-ic', type: 'boolean', description: 'Penalise the initial condition instead of building it into the network.', group: 'Network' },
  { name: 'collocation', type: 'int', min: 2, default: 300, description: 'ODE collocation points over the span.', group: 'Network' },
  { name: 'time-scale', type: 'number', min: 0, exclusiveMin: true, description: 'Time unit of the residual normalisation.', defaultText: 'span/20', group: 'Network' },
  { name: 'w-data', type: 'number', min: 0, default: 1, description: 'Weight of the data loss.', group: 'Network' },
  { name: 'w-ode', type: 'number', min: 0, default: 1, description: 'Weight of the ODE-residual loss.', group: 'Network' },
  { name: 'w-ic', type: 'number', min: 0, default: 1, description: 'Weight of the initial-condition loss (with --soft-ic).', group: 'Network' },

  { name: 'baseline', type: 'boolean', default: true, description: 'Also fit the Levenberg–Marquardt least-squares baseline (--no-baseline skips it).', group: 'Experiment' },
  { name: 'identifiability', type: 'boolean', default: true, description: 'Also compute Cramér–Rao bounds from the Fisher information of the parameters (--no-identifiability skips it).', group: 'Experiment' },

  { name: 'warmup', type: 'int', min: 0, default: 300, description: 'Data-only Adam iterations.', group: 'Training' },
  { name: 'warmup-lbfgs', type: 'int', min: 0, default: 300, description: 'Data-only L-BFGS iterations after them.', group: 'Training' },
  { name: 'physics', type: 'int', min: 0, default: 300, description: 'L-BFGS iterations on the ODE residual over the parameters (and N_ψ) with the surrogate frozen.', group: 'Training' },
  { name: 'adam', type: 'int', min: 0, default: 1000, description: 'Adam iterations on all losses (cosine-decayed rate).', group: 'Training' },
  { name: 'lbfgs', type: 'int', min: 0, default: 1500, description: 'L-BFGS iterations on all losses.', group: 'Training' },
  { name: 'lr', type: 'number', min: 0, exclusiveMin: true, default: 1e-3, description: 'Adam learning rate.', group: 'Training' },

  BACKEND_FLAG,
  { name: 'out', type: 'path', metavar: 'DIR', description: 'Output directory (one sub-directory per run, plus report.html and report.json).', defaultText: 'runs/cbinn-<YYYYMMDD-HHMMSS>', group: 'Run' },
  { name: 'checkpoint-every', type: 'int', min: 0, default: 100, description: 'Checkpoint every N iterations (and at every phase end).', group: 'Run' },
  { name: 'resume', type: 'boolean', description: 'Continue the runs in --out: finished ones are kept, unfinished ones continue from their checkpoints.', group: 'Run' },
  { name: 'force', type: 'boolean', description: 'Allow writing into an --out that already holds CBINN results without --resume (they are overwritten).', group: 'Run' },
  QUIET_FLAG,
  JSON_FLAG,
];

function list(raw: string, what: string): string[] {
  const xs = raw.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  if (xs.length === 0) throw new UsageError(`--${what} needs at least one value`);
  return xs;
}

function numbers(raw: string, what: string): number[] {
  return list(raw, what).map((s) => {
    const v = Number(s);
    if (!Number.isFinite(v) || v < 0) throw new UsageError(`--${what}: '${s}' is not a number ≥ 0`);
    return v;
  });
}

function defaultOutDir(): string {
  const base = join('runs', `cbinn-${timestampForPath()}`);
  let dir = base;
  for (let i = 2; existsSync(dir); i++) dir = `${base}-${i}`;
  return dir;
}

/** The run specifications the flags describe, in execution order. */
export function specsFromFlags(args: ParsedArgs, grid: boolean): CbinnRunSpec[] {
  const f = args.flags;
  const models = grid && !args.given.has('model') ? [...ODE_MODEL_NAMES] : list(flagString(f, 'model')!, 'model');
  if (!grid && models.length > 1) throw new UsageError('--model takes one model; use `fimkit cbinn grid --model a,b` for several');
  for (const m of models) if (!ODE_MODEL_NAMES.includes(m)) throw new UsageError(`unknown model '${m}' (known: ${ODE_MODEL_NAMES.join(', ')})`);
  const noises = grid && !args.given.has('noise') ? [0, 0.05] : numbers(flagString(f, 'noise')!, 'noise');
  if (!grid && noises.length > 1) throw new UsageError('--noise takes one level; use `fimkit cbinn grid --noise 0,0.05` for several');
  const hidden = list(flagString(f, 'hidden')!, 'hidden').map((s) => {
    const v = Number(s);
    if (!Number.isInteger(v) || v < 1) throw new UsageError(`--hidden: '${s}' is not a positive integer`);
    return v;
  });
  const seeds = flagNumber(f, 'seeds')!;
  const seed0 = flagNumber(f, 'seed-start')!;
  const missingFlag = flagString(f, 'missing')!;
  const observed = flagString(f, 'observed');
  const specs: CbinnRunSpec[] = [];
  for (const name of models) {
    const model = getOdeModel(name);
    let missing: string | null = null;
    if (missingFlag === 'auto') missing = model.missing[0]?.name ?? null;
    else if (missingFlag !== 'none') {
      if (!model.missing.some((m) => m.name === missingFlag)) {
        throw new UsageError(`--missing: model '${name}' declares no term '${missingFlag}' (it has: ${model.missing.map((m) => m.name).join(', ') || 'none'}; or use auto, none)`);
      }
      missing = missingFlag;
    }
    const fourier = flagNumber(f, 'fourier') ?? (name === 'kuznetsov' || name === 'kirschner-panetta' ? 10 : 4);
    const output = (flagString(f, 'output') ?? (name === 'depillis' ? 'scaled' : 'log')) as 'scaled' | 'log';
    for (const noise of noises) {
      for (let s = 0; s < seeds; s++) {
        specs.push({
          model: name,
          noise,
          noiseKind: flagString(f, 'noise-kind') as 'multiplicative' | 'additive',
          seed: seed0 + s,
          count: flagNumber(f, 'count')!,
          ...(observed ? { observed: list(observed, 'observed') } : {}),
          missing,
          identifiability: f['identifiability'] !== false,
          baseline: f['baseline'] !== false,
          problem: {
            surrogate: { hidden, activation: flagString(f, 'activation') as ActivationName, fourier, output, hardIc: f['soft-ic'] !== true },
            collocation: flagNumber(f, 'collocation')!,
            ...(args.given.has('time-scale') ? { timeScale: flagNumber(f, 'time-scale')! } : {}),
            weights: { data: flagNumber(f, 'w-data')!, ode: flagNumber(f, 'w-ode')!, ic: flagNumber(f, 'w-ic')! },
          },
          train: {
            warmup: flagNumber(f, 'warmup')!,
            warmupLbfgs: flagNumber(f, 'warmup-lbfgs')!,
            physics: flagNumber(f, 'physics')!,
            adam: flagNumber(f, 'adam')!,
            lbfgs: flagNumber(f, 'lbfgs')!,
            lr: flagNumber(f, 'lr')!,
          },
        });
      }
    }
  }
  return specs;
}

function pct(x: number): string {
  return `${(100 * x).toPrecision(3)}%`;
}

async function run(args: ParsedArgs, io: CliIO): Promise<number> {
  const f = args.flags;
  const json = f['json'] === true;
  const quiet = f['quiet'] === true;
  const note = stderrNotes(io, quiet);
  if (args.positionals.length > 1 || (args.positionals.length === 1 && args.positionals[0] !== 'grid')) {
    throw new UsageError(`unexpected argument '${args.positionals.join(' ')}': the only sub-command is 'grid'`);
  }
  const grid = args.positionals[0] === 'grid';
  if (f['resume'] === true && !args.given.has('out')) throw new UsageError('--resume needs --out DIR, the directory of the runs to continue');
  if (f['backend'] !== undefined) setBackend(f['backend'] as BackendName);
  const specs = specsFromFlags(args, grid);

  const outDir = flagString(f, 'out') ?? defaultOutDir();
  const resume = f['resume'] === true;
  const names = specs.map(runName);
  if (!resume && f['force'] !== true && existsSync(outDir)) {
    const taken = names.filter((n) => existsSync(join(outDir, n)));
    if (taken.length > 0 || existsSync(join(outDir, 'report.json'))) {
      throw new UsageError(`--out ${outDir} already holds CBINN runs (${taken[0] ?? 'report.json'}); add --resume to continue them, --force to overwrite, or choose another --out`);
    }
  }
  mkdirSync(outDir, { recursive: true });
  note(`fimkit cbinn${grid ? ' grid' : ''}: ${specs.length} run${specs.length === 1 ? '' : 's'} (${[...new Set(specs.map((s) => s.model))].join(', ')}; noise ${[...new Set(specs.map((s) => s.noise))].join(', ')}; seeds ${specs[0]!.seed}..${specs.at(-1)!.seed}); backend ${getBackend().name}; output ${outDir}`);

  let interrupted = false;
  const unregister = io.onInterrupt?.(() => {
    interrupted = true;
    io.stderr.write('\ninterrupt: finishing the current iteration and writing a checkpoint\n');
  });
  const results: CbinnRunResult[] = [];
  let stopped = false;
  try {
    for (let i = 0; i < specs.length; i++) {
      const spec = specs[i]!;
      const dir = join(outDir, names[i]!);
      const resultPath = join(dir, 'result.json');
      if (resume && existsSync(resultPath)) {
        results.push(JSON.parse(readFileSync(resultPath, 'utf8')) as CbinnRunResult);
        note(`[${i + 1}/${specs.length}] ${names[i]}: finished earlier, kept`);
        continue;
      }
      if (!resume && existsSync(dir)) for (const n of readdirSync(dir)) if (n === 'checkpoint.json') note(`[${i + 1}/${specs.length}] ${names[i]}: --force: starting over`);
      const t0 = performance.now();
      let lastNote = 0;
      const r = runCbinn(spec, {
        dir,
        resume,
        checkpointEvery: flagNumber(f, 'checkpoint-every')!,
        shouldStop: () => interrupted,
        onLog: (rec, total) => {
          const now = performance.now();
          if (now - lastNote < 2000 && rec.phase !== 'done') return;
          lastNote = now;
          const ps = Object.entries(rec.params).map(([k, v]) => `${k}=${v.toPrecision(4)}`).join(' ');
          note(`[${i + 1}/${specs.length}] ${names[i]} it ${rec.iteration}/${total} ${rec.phase} loss ${rec.total.toExponential(3)} (data ${rec.data.toExponential(2)}, ode ${Number.isFinite(rec.ode) ? rec.ode.toExponential(2) : '-'}) ${ps} ${formatDuration((now - t0) / 1000)}`);
        },
      });
      if (r === null) {
        stopped = true;
        break;
      }
      results.push(r);
      note(`[${i + 1}/${specs.length}] ${names[i]} done in ${formatDuration(r.seconds)}: ${r.parameters.map((p) => `${p.name} ${pct(p.relError)}${p.lmRelError !== null ? ` (LM ${pct(p.lmRelError)})` : ''}`).join(', ')}${r.missing ? `; ${r.missing.name}: L2 ${pct(r.missing.relL2)}, formula ${r.missing.recovered.formula}` : ''}`);
    }
  } finally {
    unregister?.();
  }
  if (stopped) {
    io.stderr.write(`stopped; checkpoints saved under ${outDir}\nresume with the same flags plus: --resume --out ${outDir}\n`);
    return EXIT_INTERRUPTED;
  }
  const command = `fimkit cbinn ${process.argv.slice(3).join(' ')}`.trim();
  const report = { command: 'cbinn', fimkit: fimkitVersion(), grid, summary: summarize(results), runs: results };
  const paths = writeReport(outDir, cbinnReportHtml(results, { command }), report);
  if (json) io.stdout.write(JSON.stringify({ ...report, files: paths }, null, 2) + '\n');
  else {
    const lines = summarize(results).map((row) => {
      const cells = Object.entries(row.byNoise).map(([n, m]) => `ε=${n}: ${pct(m.mean)}${Number.isFinite(m.se) ? ` ± ${pct(m.se)}` : ''}`);
      return `${row.model}${row.missing ? ` (missing ${row.missing})` : ''} ${row.param} (true ${row.trueValue}): ${cells.join(', ')}`;
    });
    for (const r of results) if (r.missing) lines.push(`${runName(r.spec)}: ${r.missing.name} rel. L2 ${pct(r.missing.relL2)}; recovered ${r.missing.recovered.formula}; right terms ${r.missing.rightTerms ? 'yes' : 'no'}`);
    lines.push(`wrote ${paths.html}, ${paths.json}`);
    io.stdout.write(lines.join('\n') + '\n');
  }
  return EXIT_OK;
}

export const cbinnCommand: Command = {
  name: 'cbinn',
  summary: 'Biology-informed networks: ODE parameters and missing physics from data (checkpointed; resumable)',
  description:
    'Fits a network t ↦ û(t) to synthetic, noisy measurements of a tumour–immune ODE model, with the ODE residual in the loss, ' +
    'estimating the unknown parameters (bounded) and, with --missing, learning a declared term by a second network and recovering its formula by sparse regression (SINDy). ' +
    'Training: data-only Adam then L-BFGS, then Adam and L-BFGS on all losses. `grid` runs every model × noise level × seed. ' +
    'Per run, <out>/<run>/result.json; over all runs, report.html (spec §B.6 table, trajectories, estimates, missing term, losses) and report.json.',
  epilog: [
    'Examples:',
    '  fimkit cbinn --model kuznetsov --noise 0.05 --seeds 3',
    '  fimkit cbinn --model kuznetsov --noise 0 --missing recruitment --out runs/m1-missing',
    '  fimkit cbinn grid --noise 0,0.05 --seeds 3 --out runs/cbinn-grid',
    '  fimkit cbinn grid --resume --out runs/cbinn-grid',
    '',
    'Exit codes: 0 done, 1 error, 2 bad usage, 130 interrupted (checkpoints saved).',
  ].join('\n'),
  flags: FLAGS,
  positionals: [{ name: 'grid', description: "'grid' runs every model × noise × seed", optional: true }],
  run,
};
