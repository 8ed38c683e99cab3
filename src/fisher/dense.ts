/**
 * The full P×P Fisher matrix, row-major float64, and the memory limit that guards every dense
 * materialisation (DenseFisher itself, and toDense() of every representation).
 *
 * The limit defaults to 2 GiB (a 16384-parameter model); `FIMKIT_MAX_DENSE_BYTES` or
 * `setMaxDenseBytes()` changes it. Above it the error says how many bytes the matrix would need
 * and which representations scale instead.
 */
import { fail } from '../core/errors.js';
import { encodeFloatArray } from '../io/base64.js';
import { checkDamping, checkSymmetric, choleskyInPlace, choleskySolve, dot, matVec, spdInverse } from './linalg.js';
import { checkVector, deriveMeta, groupLayout, jsonHeader, resolveGroup, validateLayout } from './layout.js';
import type { FisherMatrix, FisherMeta, ParamLayout } from './matrix.js';

export const DEFAULT_MAX_DENSE_BYTES = 2 * 1024 ** 3;

let configuredMaxBytes: number | null = null;

/** Sets the dense memory limit for this process (null restores the environment / default). */
export function setMaxDenseBytes(bytes: number | null): void {
  if (bytes !== null && (!Number.isFinite(bytes) || bytes <= 0)) fail('INVALID_ARGUMENT', `the dense memory limit must be a positive number of bytes, got ${bytes}`);
  configuredMaxBytes = bytes;
}

/** The limit in force: setMaxDenseBytes(), else FIMKIT_MAX_DENSE_BYTES, else 2 GiB. */
export function maxDenseBytes(): number {
  if (configuredMaxBytes !== null) return configuredMaxBytes;
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.FIMKIT_MAX_DENSE_BYTES;
  if (env === undefined || env.trim() === '') return DEFAULT_MAX_DENSE_BYTES;
  const v = Number(env);
  if (!Number.isFinite(v) || v <= 0) fail('INVALID_ARGUMENT', `FIMKIT_MAX_DENSE_BYTES must be a positive number of bytes, got '${env}'`);
  return v;
}

export function formatBytes(bytes: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let v = bytes;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${bytes} bytes` : `${v.toFixed(1)} ${units[u]} (${bytes} bytes)`;
}

/** Throws TOO_LARGE when `bytes` exceed the dense limit; `suggest` names the alternatives. */
export function checkMemory(bytes: number, what: string, suggest: string): void {
  const limit = maxDenseBytes();
  if (bytes > limit) {
    fail('TOO_LARGE', `${what} would need ${formatBytes(bytes)} of float64 memory, above the limit of ${formatBytes(limit)} (set FIMKIT_MAX_DENSE_BYTES to raise it); ${suggest}`);
  }
}

/** Throws TOO_LARGE unless a P×P float64 matrix fits in the dense limit. Call before allocating. */
export function checkDenseSize(P: number, what: string): void {
  if (!Number.isInteger(P) || P < 0) fail('INVALID_ARGUMENT', `${what}: matrix size must be a non-negative integer, got ${P}`);
  checkMemory(P * P * 8, `${what}: a dense ${P}×${P} matrix`, 'use the diag, block, kfac or matfree representation instead');
}

/** Row-major P×P Float64Array from a Float64Array or an array of rows. */
function toSquare(matrix: Float64Array | readonly (readonly number[])[], P: number): Float64Array {
  if (matrix instanceof Float64Array) {
    if (matrix.length !== P * P) fail('SHAPE', `dense Fisher: the layout has ${P} parameters, so the matrix needs ${P}×${P} = ${P * P} values, got ${matrix.length}`);
    return matrix;
  }
  if (!Array.isArray(matrix) || matrix.length !== P) fail('SHAPE', `dense Fisher: expected ${P} rows, got ${Array.isArray(matrix) ? matrix.length : typeof matrix}`);
  const m = new Float64Array(P * P);
  matrix.forEach((row, i) => {
    if (!Array.isArray(row) || row.length !== P) fail('SHAPE', `dense Fisher: row ${i} has ${Array.isArray(row) ? row.length : typeof row} entries, expected ${P}`);
    for (let j = 0; j < P; j++) m[i * P + j] = row[j]!;
  });
  return m;
}

export class DenseFisher implements FisherMatrix {
  readonly representation = 'dense' as const;
  readonly layout: ParamLayout;
  readonly meta: FisherMeta;
  /** Number of parameters P. */
  readonly size: number;
  private readonly m: Float64Array;
  /** Cholesky factor of (M + damping·I) for the last damping solve() used. */
  private factor: { damping: number; l: Float64Array } | null = null;

  /**
   * A Float64Array is adopted, not copied (a P×P Fisher can be most of the memory), and made
   * exactly symmetric in place; it must be symmetric up to rounding (relative 1e-8).
   */
  constructor(matrix: Float64Array | readonly (readonly number[])[], layout: ParamLayout, meta: FisherMeta) {
    validateLayout(layout, 'dense Fisher layout');
    const P = layout.size;
    checkDenseSize(P, 'dense Fisher');
    this.m = toSquare(matrix, P);
    checkSymmetric(this.m, P, 'dense Fisher matrix');
    this.layout = layout;
    this.meta = meta.representation === 'dense' ? meta : deriveMeta(meta, 'dense');
    this.size = P;
  }

  mv(v: Float64Array): Float64Array {
    checkVector(v, this.size, 'dense Fisher mv');
    return matVec(this.m, this.size, v);
  }

  vMv(v: Float64Array): number {
    return dot(v, this.mv(v));
  }

  trace(): number {
    let s = 0;
    for (let i = 0; i < this.size; i++) s += this.m[i * this.size + i]!;
    return s;
  }

  diag(): Float64Array {
    const d = new Float64Array(this.size);
    for (let i = 0; i < this.size; i++) d[i] = this.m[i * this.size + i]!;
    return d;
  }

  /** The entry M[i, j]. */
  get(i: number, j: number): number {
    return this.m[i * this.size + j]!;
  }

  solve(v: Float64Array, damping: number): Float64Array {
    checkVector(v, this.size, 'dense Fisher solve');
    checkDamping(damping);
    if (!this.factor || this.factor.damping !== damping) {
      const P = this.size;
      const a = Float64Array.from(this.m);
      for (let i = 0; i < P; i++) a[i * P + i]! += damping;
      this.factor = { damping, l: choleskyInPlace(a, P, `dense Fisher + ${damping}·I`) };
    }
    return choleskySolve(this.factor.l, this.size, v);
  }

  inverse(damping: number): DenseFisher {
    checkDamping(damping);
    const inv = spdInverse(this.m, this.size, damping, `dense Fisher + ${damping}·I`);
    return new DenseFisher(inv, this.layout, deriveMeta(this.meta, 'dense', `inverse: (M + ${damping}·I)⁻¹`));
  }

  layer(which: number | string): DenseFisher {
    const i = resolveGroup(this.layout, which);
    const g = this.layout.groups[i]!;
    const n = g.size;
    const P = this.size;
    const block = new Float64Array(n * n);
    for (let r = 0; r < n; r++) block.set(this.m.subarray((g.offset + r) * P + g.offset, (g.offset + r) * P + g.offset + n), r * n);
    return new DenseFisher(block, groupLayout(this.layout, i), deriveMeta(this.meta, 'dense', `block of parameter group '${g.label}'`));
  }

  toDense(): Float64Array {
    return Float64Array.from(this.m);
  }

  toJSON(): unknown {
    return { ...jsonHeader('dense', this.layout, this.meta), matrix: encodeFloatArray(this.m) };
  }
}
