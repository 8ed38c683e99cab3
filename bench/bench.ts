/**
 * `npm run bench`: gemm throughput per backend and dtype, and the training-step / gemm ratio.
 * Prints tables and writes bench-results.json (atomically). Not a test: no thresholds enforced
 * here; the figures are reported and compared with the targets in the issue notes.
 */
import { availableBackends } from '../src/core/backends/index.js';
import { writeJsonAtomic } from '../src/io/atomic.js';
import { benchGemm, formatGemmTable } from './gemm.js';
import { benchStep, type StepRow } from './step.js';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const outIdx = args.indexOf('--out');
const out = outIdx >= 0 ? args[outIdx + 1]! : 'bench-results.json';

const backends = availableBackends();
console.log(`backends available: ${backends.join(', ')}`);
const gemm = await benchGemm({ sizes: quick ? [256, 512] : [256, 512, 1024] });
console.log('\ngemm C = A·B (median after warm-up)');
console.log(formatGemmTable(gemm));

console.log('\nTraining step (forward + backward, MLP 784-512-256-10 relu, softmax NLL), vs its gemms alone');
console.log('backend  dtype    batch   step ms   gemm ms   ratio   step GFLOP/s');
const steps: StepRow[] = [];
for (const b of backends) {
  for (const dtype of ['float32', 'float64'] as const) {
    if (b === 'ts' && dtype === 'float32' && quick) continue;
    const r = benchStep(b, dtype, [784, 512, 256, 10], 256, b === 'ts' ? 3 : 15);
    steps.push(r);
    console.log(`${b.padEnd(8)} ${dtype.padEnd(8)} ${String(r.batch).padStart(5)} ${r.stepMs.toFixed(2).padStart(9)} ${r.gemmMs.toFixed(2).padStart(9)} ${r.ratio.toFixed(2).padStart(7)} ${r.stepGflops.toFixed(1).padStart(14)}`);
  }
}
writeJsonAtomic(out, { date: new Date().toISOString(), node: process.version, backends, gemm, steps });
console.log(`\nwrote ${out}`);
