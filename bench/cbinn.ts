/**
 * CBINN speed (part 'cbinn' of `npm run bench`): iterations per second of the CBINN objective on
 * the Kuznetsov model (M1) — value and gradient of data + ODE-residual loss, where the residual
 * needs dû/dt by a recorded double-vjp and is differentiated again, plus the Adam update — as a
 * ratio to a plain training step of the same network (an MSE loss on the surrogate's outputs at
 * the same time points, forward + backward + Adam), measured in the same run. Also the cheap
 * frozen-surrogate physics step and one L-BFGS evaluation, for the same ratio.
 */
import { valueAndGrad } from '../src/autodiff/grad.js';
import * as F from '../src/autodiff/ops.js';
import { Tensor } from '../src/core/tensor.js';
import { Adam } from '../src/optim/index.js';
import { kuznetsov } from '../src/ode/models/index.js';
import { synthesize } from '../src/ode/data.js';
import { CbinnProblem } from '../src/cbinn/problem.js';
import { median, medianMs } from './timing.js';

export interface CbinnBenchRow {
  what: string;
  ms: number;
  perSecond: number;
  /** Time / plain training step time. */
  ratio: number;
}

export function benchCbinn(quick: boolean, opts: { hidden?: number[]; collocation?: number } = {}): { rows: CbinnBenchRow[]; config: Record<string, unknown> } {
  const hidden = opts.hidden ?? [32, 32, 32];
  const collocation = opts.collocation ?? 200;
  const data = synthesize(kuznetsov, { count: 101, seed: 0 });
  const pr = new CbinnProblem(kuznetsov, data, { surrogate: { hidden, fourier: 10, output: 'log' }, collocation, seed: 0 });
  const params = pr.trainables();
  const reps = quick ? 5 : 15;

  // Plain training step of the same network: MSE of its outputs at the collocation times.
  const times = pr.collocationTimes;
  const target = new Tensor(new Float64Array(times.length * kuznetsov.states.length).fill(1), [times.length, kuznetsov.states.length]);
  const netParams = pr.surrogate.parameters();
  const plainAdam = new Adam({ lr: 1e-4 });
  const plain = medianMs(() => {
    const { grads } = valueAndGrad(() => F.mean(F.square(F.sub(pr.surrogate.predict(times), target))), netParams);
    plainAdam.step(netParams, grads);
  }, reps, 2);

  const adam = new Adam({ lr: 1e-4 });
  const full = medianMs(() => {
    const { grads } = valueAndGrad(() => pr.losses(false).total, params);
    adam.step(params, grads);
  }, reps, 2);
  const dataOnly = medianMs(() => {
    const { grads } = valueAndGrad(() => pr.losses(true).total, params);
    adam.step(params, grads);
  }, reps, 2);
  const frozen = pr.frozenResidual();
  const phys = pr.physicsTrainables();
  const physics = medianMs(() => void valueAndGrad(frozen, phys), reps, 2);
  const row = (what: string, ms: number): CbinnBenchRow => ({ what, ms, perSecond: 1000 / ms, ratio: ms / plain });
  return {
    rows: [
      row(`plain training step (MSE on ${times.length} points, forward + backward + Adam)`, plain),
      row('CBINN iteration, data + ODE residual (double-vjp dû/dt, differentiated again) + Adam', full),
      row('CBINN warm-up iteration (data loss only) + Adam', dataOnly),
      row('physics stage evaluation (surrogate frozen: parameters only)', physics),
    ],
    config: { model: 'kuznetsov', hidden, fourier: 10, collocation, dataPoints: 101, dtype: 'float64', parameters: params.reduce((a, p) => a + p.size, 0) },
  };
}

export function formatCbinnTable(rows: readonly CbinnBenchRow[]): string {
  const lines = ['what                                                                                   ms/it     it/s   × plain step'];
  for (const r of rows) lines.push(`${r.what.padEnd(85)} ${r.ms.toFixed(2).padStart(8)} ${r.perSecond.toFixed(1).padStart(8)} ${r.ratio.toFixed(2).padStart(14)}`);
  return lines.join('\n');
}
