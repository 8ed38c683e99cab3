/**
 * The scheduler examples of sharded Fisher runs: the Kubernetes Indexed Job manifest is checked
 * for the structure the Job controller needs (and its --shard N against completions), and its
 * container command, and the Slurm array script, are run here as local processes, one per shard;
 * `fimkit merge` of their files equals one `fimkit fisher` process to 1e-12 (float64 model).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Rng } from '../src/core/rng.js';
import { loadFisher } from '../src/fisher/files.js';
import { buildModel, mlpSpec, saveModel } from '../src/nn/index.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = join(ROOT, 'bin', 'fimkit.js');
const DATA = 'synthetic:blobs?k=3&n=40&seed=2';
let dir: string;

function run(file: string, args: string[], env: Record<string, string> = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { env: { ...process.env, ...env }, timeout: 120_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${file} ${args.join(' ')}: ${err.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

function closeTo(a: Float64Array, b: Float64Array): void {
  const scale = Math.max(...Array.from(b, Math.abs));
  assert.ok(scale > 0);
  for (let i = 0; i < b.length; i++) assert.ok(Math.abs(a[i]! - b[i]!) <= 1e-12 * scale, `entry ${i}: ${a[i]} vs ${b[i]}`);
}

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'fimkit-examples-'));
  saveModel(join(dir, 'model.json'), buildModel(mlpSpec([2, 8, 3], 'tanh'), new Rng(4).derive('init'), 'float64'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** The manifest: comment lines, then one JSON document (JSON is YAML). */
function manifest(): Record<string, any> {
  const text = readFileSync(join(ROOT, 'examples', 'kubernetes-fisher-job.yaml'), 'utf8');
  return JSON.parse(text.split('\n').filter((l) => !l.startsWith('#')).join('\n')) as Record<string, any>;
}

test('Kubernetes manifest: an Indexed Job whose --shard N matches completions', () => {
  const m = manifest();
  assert.equal(m.apiVersion, 'batch/v1');
  assert.equal(m.kind, 'Job');
  assert.match(m.metadata.name, /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'a DNS-1123 name');
  const spec = m.spec;
  assert.equal(spec.completionMode, 'Indexed');
  assert.ok(Number.isInteger(spec.completions) && spec.completions >= 1);
  assert.ok(spec.parallelism >= 1 && spec.parallelism <= spec.completions);
  assert.ok(['Never', 'OnFailure'].includes(spec.template.spec.restartPolicy), 'Jobs need restartPolicy Never or OnFailure');
  const containers = spec.template.spec.containers;
  assert.equal(containers.length, 1);
  const cmd: string[] = containers[0].command;
  assert.ok(cmd.every((c) => typeof c === 'string'));
  assert.deepEqual(cmd.slice(0, 3), ['npx', 'fimkit', 'fisher']);
  assert.equal(cmd[cmd.indexOf('--shard') + 1], `$(JOB_COMPLETION_INDEX)/${spec.completions}`);
  const mounts = containers[0].volumeMounts.map((v: { name: string }) => v.name);
  for (const v of spec.template.spec.volumes) assert.ok(mounts.includes(v.name), `volume ${v.name} is mounted`);
});

test('Kubernetes Job and Slurm array run as local processes: merged shards equal one process', async () => {
  const m = manifest();
  const n: number = m.spec.completions;
  const cmd: string[] = m.spec.template.spec.containers[0].command;
  // The pod's command with this machine's paths: /work → the temp dir, the data → a small set.
  const local = (i: number): string[] => cmd.slice(2).map((a, k, all) =>
    all[k - 1] === '--data' ? DATA : a.replace('$(JOB_COMPLETION_INDEX)', String(i)).replace(/^\/work/, join(dir, 'k8s')));
  local(0).forEach((a) => assert.ok(!a.startsWith('/work'), `path ${a} mapped`));
  await run('mkdir', ['-p', join(dir, 'k8s')]);
  await run('cp', [join(dir, 'model.json'), join(dir, 'k8s', 'model.json')]);
  // Batch size 8 over 40 inputs: 5 batches, so 4 shards have 2/1/1/1 batches.
  const withBatch = (args: string[]): string[] => args.map((a, k) => (args[k - 1] === '--batch-size' ? '8' : a));
  await Promise.all(Array.from({ length: n }, (_, i) => run(process.execPath, [BIN, ...withBatch(local(i))])));
  const k8sShards = readdirSync(join(dir, 'k8s', 'shards')).sort();
  assert.equal(k8sShards.length, n);
  await run(process.execPath, [BIN, 'merge', ...k8sShards.reverse().map((f) => join(dir, 'k8s', 'shards', f)), '--out', join(dir, 'k8s-merged.json'), '--quiet']);

  // Slurm: the array script once per task id, as sbatch --array=0-3 would.
  const script = join(ROOT, 'examples', 'slurm-fisher.sh');
  const text = readFileSync(script, 'utf8');
  const array = /#SBATCH --array=0-(\d+)/.exec(text);
  assert.ok(array, 'the script declares its array');
  const tasks = Number(array[1]) + 1;
  const env = { MODEL: join(dir, 'model.json'), DATA, OUT: join(dir, 'slurm'), FIMKIT: `${process.execPath} ${BIN}`, BATCH_SIZE: '8', FIMKIT_ARGS: '--estimator exact --repr diag', SLURM_ARRAY_TASK_COUNT: String(tasks) };
  await Promise.all(Array.from({ length: tasks }, (_, i) => run('bash', [script], { ...env, SLURM_ARRAY_TASK_ID: String(i) })));
  const slurmShards = readdirSync(join(dir, 'slurm')).map((f) => join(dir, 'slurm', f));
  assert.equal(slurmShards.length, tasks);
  await run(process.execPath, [BIN, 'merge', ...slurmShards, '--out', join(dir, 'slurm-merged.json'), '--quiet']);
  // Without an array task id the script refuses to run.
  await assert.rejects(run('bash', [script], env), /SLURM_ARRAY_TASK_ID/);

  // One process, same settings.
  await run(process.execPath, [BIN, 'fisher', '--model', join(dir, 'model.json'), '--data', DATA, '--estimator', 'exact', '--repr', 'diag', '--batch-size', '8', '--out', join(dir, 'single.json'), '--quiet']);
  const single = loadFisher(join(dir, 'single.json'));
  for (const f of ['k8s-merged.json', 'slurm-merged.json']) {
    const merged = loadFisher(join(dir, f));
    assert.equal(merged.meta.numInputs, 40);
    closeTo(merged.diag(), single.diag());
  }
  // Merging again onto an existing file needs --force; a missing shard is named.
  await assert.rejects(run(process.execPath, [BIN, 'merge', ...slurmShards, '--out', join(dir, 'slurm-merged.json')]), /--force/);
  await assert.rejects(run(process.execPath, [BIN, 'merge', ...slurmShards.slice(1), '--out', join(dir, 'x.json')]), /missing shard/);
});
