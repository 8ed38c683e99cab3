/**
 * The diagonal of the Fisher matrix, one float64 per parameter; everything else is taken as zero.
 */
import { fail } from '../core/errors.js';
import { encodeFloatArray } from '../io/base64.js';
import { checkDenseSize } from './dense.js';
import { checkDamping, dampingAdvice } from './linalg.js';
import { checkVector, deriveMeta, groupLayout, jsonHeader, resolveGroup, sliceGroup, validateLayout } from './layout.js';
import type { FisherMatrix, FisherMeta, ParamLayout } from './matrix.js';

export class DiagFisher implements FisherMatrix {
  readonly representation = 'diag' as const;
  readonly layout: ParamLayout;
  readonly meta: FisherMeta;
  readonly size: number;
  private readonly d: Float64Array;

  /** `diagonal` is adopted, not copied. */
  constructor(diagonal: Float64Array, layout: ParamLayout, meta: FisherMeta) {
    validateLayout(layout, 'diagonal Fisher layout');
    if (!(diagonal instanceof Float64Array)) fail('DTYPE', 'diagonal Fisher: the diagonal must be a Float64Array');
    checkVector(diagonal, layout.size, 'diagonal Fisher');
    this.d = diagonal;
    this.layout = layout;
    this.meta = meta.representation === 'diag' ? meta : deriveMeta(meta, 'diag');
    this.size = layout.size;
  }

  mv(v: Float64Array): Float64Array {
    checkVector(v, this.size, 'diagonal Fisher mv');
    const out = new Float64Array(this.size);
    for (let i = 0; i < this.size; i++) out[i] = this.d[i]! * v[i]!;
    return out;
  }

  vMv(v: Float64Array): number {
    checkVector(v, this.size, 'diagonal Fisher vMv');
    let s = 0;
    for (let i = 0; i < this.size; i++) s += this.d[i]! * v[i]! * v[i]!;
    return s;
  }

  trace(): number {
    let s = 0;
    for (let i = 0; i < this.size; i++) s += this.d[i]!;
    return s;
  }

  diag(): Float64Array {
    return Float64Array.from(this.d);
  }

  /** 1/(d_i + damping), refusing entries that are not positive. */
  private dampedReciprocal(damping: number): Float64Array {
    checkDamping(damping);
    const r = new Float64Array(this.size);
    let maxAbs = 0;
    for (let i = 0; i < this.size; i++) maxAbs = Math.max(maxAbs, Math.abs(this.d[i]!));
    const threshold = Number.EPSILON * maxAbs;
    const min = this.d.reduce((a, b) => Math.min(a, b), Infinity);
    for (let i = 0; i < this.size; i++) {
      const x = this.d[i]! + damping;
      if (!(x > threshold)) {
        fail('INVALID_ARGUMENT', `diagonal Fisher + ${damping}·I is not positive definite: entry ${i} is ${x.toExponential(3)}. Use ${dampingAdvice(min, threshold)}.`);
      }
      r[i] = 1 / x;
    }
    return r;
  }

  solve(v: Float64Array, damping: number): Float64Array {
    checkVector(v, this.size, 'diagonal Fisher solve');
    const r = this.dampedReciprocal(damping);
    for (let i = 0; i < this.size; i++) r[i]! *= v[i]!;
    return r;
  }

  inverse(damping: number): DiagFisher {
    return new DiagFisher(this.dampedReciprocal(damping), this.layout, deriveMeta(this.meta, 'diag', `inverse: (M + ${damping}·I)⁻¹`));
  }

  layer(which: number | string): DiagFisher {
    const i = resolveGroup(this.layout, which);
    return new DiagFisher(sliceGroup(this.layout, this.d, i), groupLayout(this.layout, i), deriveMeta(this.meta, 'diag', `block of parameter group '${this.layout.groups[i]!.label}'`));
  }

  toDense(): Float64Array {
    checkDenseSize(this.size, 'diagonal Fisher toDense');
    const P = this.size;
    const m = new Float64Array(P * P);
    for (let i = 0; i < P; i++) m[i * P + i] = this.d[i]!;
    return m;
  }

  toJSON(): unknown {
    return { ...jsonHeader('diag', this.layout, this.meta), diagonal: encodeFloatArray(this.d) };
  }
}
