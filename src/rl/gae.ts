/**
 * Generalised advantage estimation ("High-Dimensional Continuous Control Using Generalized
 * Advantage Estimation"), over a rollout of n steps × N environment copies stored time-major
 * (index t·N + i).
 *
 * Per step, with nextValue_t the critic's value of the state that followed s_t:
 *
 *     δ_t = r_t + γ (1 − terminated_t) · nextValue_t − V(s_t)
 *     A_t = δ_t + γ λ (1 − ended_t) · A_{t+1}
 *
 * where ended_t = terminated_t or truncated_t. The distinction is Gymnasium's: a terminated
 * episode ended inside the MDP (no value beyond it), a truncated one was cut by the time limit,
 * so its last state is bootstrapped — nextValue_t is then V(final observation), the observation
 * the vectorised env kept in finalObservations before it auto-reset. Either way the sum stops at
 * the episode boundary. The last step of the rollout bootstraps from V(s_n) through nextValue.
 * Returns (the critic's targets) are A_t + V(s_t).
 */
import { fail } from '../core/errors.js';

export interface GaeInput {
  /** Steps per copy. */
  nSteps: number;
  /** Environment copies. */
  nEnvs: number;
  rewards: Float64Array;
  values: Float64Array;
  nextValues: Float64Array;
  terminated: Uint8Array;
  truncated: Uint8Array;
}

export function computeGae(inp: GaeInput, gamma: number, lambda: number): { advantages: Float64Array; returns: Float64Array } {
  const { nSteps: n, nEnvs: N } = inp;
  const total = n * N;
  for (const [k, a] of Object.entries({ rewards: inp.rewards, values: inp.values, nextValues: inp.nextValues, terminated: inp.terminated, truncated: inp.truncated })) {
    if (a.length !== total) fail('SHAPE', `GAE: ${k} has ${a.length} entries, ${n} steps × ${N} copies need ${total}`);
  }
  if (!(gamma >= 0 && gamma <= 1)) fail('INVALID_ARGUMENT', `GAE: discount γ must be in [0, 1], got ${gamma}`);
  if (!(lambda >= 0 && lambda <= 1)) fail('INVALID_ARGUMENT', `GAE: λ must be in [0, 1], got ${lambda}`);
  const advantages = new Float64Array(total);
  const returns = new Float64Array(total);
  for (let i = 0; i < N; i++) {
    let next = 0;
    for (let t = n - 1; t >= 0; t--) {
      const k = t * N + i;
      const term = inp.terminated[k]! !== 0;
      const ended = term || inp.truncated[k]! !== 0;
      const delta = inp.rewards[k]! + (term ? 0 : gamma * inp.nextValues[k]!) - inp.values[k]!;
      next = delta + (ended ? 0 : gamma * lambda * next);
      advantages[k] = next;
      returns[k] = next + inp.values[k]!;
    }
  }
  return { advantages, returns };
}
