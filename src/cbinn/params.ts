/**
 * Unknown ODE parameters as trainable scalars kept inside their bounds by construction:
 *   lo > 0 (positive):  p = exp(log lo + (log hi − log lo)·σ(q))   (relative resolution at every scale)
 *   otherwise:          p = lo + (hi − lo)·σ(q)
 * σ is the logistic function, so p never leaves (lo, hi) and the optimiser works on an
 * unconstrained q. The starting point is drawn (seeded) in the middle part of the range: the
 * midpoint of a log range is often the true value of a model with symmetric default bounds,
 * which would make recovery look better than it is.
 */
import { fail } from '../core/errors.js';
import { Tensor } from '../core/tensor.js';
import type { Rng } from '../core/rng.js';
import * as F from '../autodiff/ops.js';
import type { OdeParameter } from '../ode/model.js';

export type ParamInit = 'random' | 'midpoint' | { readonly values: readonly number[] };

export class BoundedParams {
  /** One unconstrained scalar per estimated parameter. */
  readonly raw: Tensor[];
  readonly names: string[];
  private readonly lo: number[];
  private readonly hi: number[];
  private readonly logSpace: boolean[];

  constructor(readonly specs: readonly OdeParameter[], init: ParamInit, rng: Rng) {
    this.names = specs.map((p) => p.name);
    this.lo = specs.map((p) => p.lo);
    this.hi = specs.map((p) => p.hi);
    specs.forEach((p) => {
      if (!(p.lo < p.hi)) fail('INVALID_ARGUMENT', `parameter '${p.name}': bounds lo = ${p.lo} ≥ hi = ${p.hi} (need lo < hi)`);
      if (!Number.isFinite(p.lo) || !Number.isFinite(p.hi)) fail('INVALID_ARGUMENT', `parameter '${p.name}': bounds must be finite, got [${p.lo}, ${p.hi}]`);
    });
    this.logSpace = specs.map((p) => p.lo > 0);
    if (typeof init === 'object' && init.values.length !== specs.length) {
      fail('INVALID_ARGUMENT', `${init.values.length} initial values for ${specs.length} estimated parameters`);
    }
    this.raw = specs.map((p, i) => {
      let frac: number;
      if (init === 'midpoint') frac = 0.5;
      else if (init === 'random') frac = 0.2 + 0.6 * rng.uniform();
      else frac = this.fractionOf(i, init.values[i]!);
      const q = Math.log(frac / (1 - frac));
      return Tensor.param(Float64Array.of(q), [], `param.${p.name}`);
    });
  }

  /** Position of value v in parameter i's range, in (0, 1) (clamped just inside). */
  private fractionOf(i: number, v: number): number {
    const lo = this.lo[i]!;
    const hi = this.hi[i]!;
    if (!(v > lo && v < hi)) fail('INVALID_ARGUMENT', `initial value ${v} of '${this.names[i]}' is not inside its bounds (${lo}, ${hi})`);
    const f = this.logSpace[i] ? (Math.log(v) - Math.log(lo)) / (Math.log(hi) - Math.log(lo)) : (v - lo) / (hi - lo);
    return Math.min(1 - 1e-9, Math.max(1e-9, f));
  }

  /** The parameters as differentiable scalars. */
  tensors(): Tensor[] {
    return this.raw.map((q, i) => {
      const s = F.sigmoid(q);
      if (this.logSpace[i]) {
        const a = Math.log(this.lo[i]!);
        const b = Math.log(this.hi[i]!);
        return F.exp(F.affine(s, b - a, a));
      }
      return F.affine(s, this.hi[i]! - this.lo[i]!, this.lo[i]!);
    });
  }

  /** The current values as plain numbers. */
  values(): number[] {
    return this.raw.map((q, i) => {
      const s = 1 / (1 + Math.exp(-q.data[0]!));
      if (this.logSpace[i]) {
        const a = Math.log(this.lo[i]!);
        const b = Math.log(this.hi[i]!);
        return Math.exp(a + (b - a) * s);
      }
      return this.lo[i]! + (this.hi[i]! - this.lo[i]!) * s;
    });
  }
}
