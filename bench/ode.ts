/**
 * ODE solver speed (part 'ode' of `npm run bench`): accepted steps per second of dopri5 on the
 * Kuznetsov model and of the stiff Rodas4 on Kirschner–Panetta, with and without forward
 * sensitivities of the unknown parameters, each as a ratio to one right-hand-side evaluation
 * timed in the same run (the unit the step is built from: dopri5 takes 6 per step, Rodas4 6 plus
 * a dual-number Jacobian and an LU).
 */
import { numberArith } from '../src/ode/arith.js';
import { kuznetsov, kirschnerPanetta } from '../src/ode/models/index.js';
import { linspace, solveOde, type OdeMethod } from '../src/ode/solve.js';
import { trueParams } from '../src/ode/define.js';
import type { OdeModel } from '../src/ode/model.js';
import { median } from './timing.js';

export interface OdeBenchRow {
  model: string;
  method: OdeMethod;
  sensitivities: number;
  rtol: number;
  span: number;
  steps: number;
  ms: number;
  stepsPerSecond: number;
  /** One plain right-hand-side evaluation of the model, µs. */
  rhsMicros: number;
  /** Time per accepted step / time per right-hand-side evaluation. */
  stepOverRhs: number;
}

function rhsMicros(model: OdeModel): number {
  const p = Array.from(trueParams(model));
  const u = Array.from(model.initialState);
  const reps = 20000;
  let sink = 0;
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) sink += model.rhs(numberArith, 0, u, p)[0]!;
  const us = ((performance.now() - t0) * 1000) / reps;
  return sink === Infinity ? us + 0 : us;
}

export function benchOde(quick = false): OdeBenchRow[] {
  const cases: { model: OdeModel; method: OdeMethod; sens: boolean; rtol: number }[] = [
    { model: kuznetsov, method: 'dopri5', sens: false, rtol: 1e-8 },
    { model: kuznetsov, method: 'dopri5', sens: true, rtol: 1e-8 },
    { model: kirschnerPanetta, method: 'rodas', sens: false, rtol: 1e-8 },
    { model: kirschnerPanetta, method: 'rodas', sens: true, rtol: 1e-6 },
  ];
  const rows: OdeBenchRow[] = [];
  for (const c of cases) {
    const span = c.model.tspan[1] - c.model.tspan[0];
    const times = linspace(c.model.tspan[0], c.model.tspan[1], 101);
    const reps = quick ? 1 : 3;
    const run = () => solveOde(c.model, { times, method: c.method, rtol: c.rtol, ...(c.sens ? { sensitivities: 'unknown' as const } : {}) });
    run(); // warm-up (JIT)
    const ms: number[] = [];
    let steps = 0;
    let np = 0;
    for (let r = 0; r < reps; r++) {
      const t0 = performance.now();
      const s = run();
      ms.push(performance.now() - t0);
      steps = s.stats.accepted;
      np = s.sensitivityParams?.length ?? 0;
    }
    const t = median(ms);
    const us = rhsMicros(c.model);
    rows.push({
      model: c.model.name, method: c.method, sensitivities: np, rtol: c.rtol, span, steps, ms: t,
      stepsPerSecond: steps / (t / 1000), rhsMicros: us, stepOverRhs: (t * 1000) / steps / us,
    });
  }
  return rows;
}

export function formatOdeTable(rows: readonly OdeBenchRow[]): string {
  const head = 'model              method  sens  rtol   steps     ms      steps/s   rhs µs   step/rhs';
  return [head, ...rows.map((r) =>
    `${r.model.padEnd(18)} ${r.method.padEnd(7)} ${String(r.sensitivities).padStart(4)}  ${r.rtol.toExponential(0).padEnd(5)} ${String(r.steps).padStart(6)} ${r.ms.toFixed(1).padStart(8)} ${r.stepsPerSecond.toFixed(0).padStart(10)} ${r.rhsMicros.toFixed(3).padStart(8)} ${r.stepOverRhs.toFixed(1).padStart(9)}`)].join('\n');
}
