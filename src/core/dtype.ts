import { fail } from './errors.js';

/** Floating-point element types. float64 is for validating closed forms; float32 for speed. */
export type DType = 'float32' | 'float64';
export type FloatArray = Float32Array | Float64Array;

export const DTYPES: readonly DType[] = ['float32', 'float64'];

export function isDType(x: unknown): x is DType {
  return x === 'float32' || x === 'float64';
}

/** Throws DTYPE naming the value unless it is 'float32' or 'float64' (no silent float64 fallback). */
export function checkDType(x: unknown, what = 'dtype'): asserts x is DType {
  if (!isDType(x)) fail('DTYPE', `${what} must be 'float32' or 'float64', got ${typeof x === 'string' ? `'${x}'` : String(x)}`);
}

export function allocArray(dtype: DType, length: number): FloatArray {
  checkDType(dtype);
  return dtype === 'float32' ? new Float32Array(length) : new Float64Array(length);
}

export function dtypeOfArray(a: FloatArray): DType {
  if (a instanceof Float32Array) return 'float32';
  if (a instanceof Float64Array) return 'float64';
  return fail('DTYPE', `tensor data must be a Float32Array or Float64Array, got ${(a as { constructor?: { name?: string } } | null)?.constructor?.name ?? String(a)}`);
}

/** Copies `src` into a new array of `dtype` (converting when the dtypes differ). */
export function castArray(src: ArrayLike<number>, dtype: DType): FloatArray {
  const out = allocArray(dtype, src.length);
  out.set(src as ArrayLike<number>);
  return out;
}

/** Smallest step where float rounding matters; used by tests and by gradient checks. */
export function epsilonOf(dtype: DType): number {
  return dtype === 'float32' ? 1.1920928955078125e-7 : 2.220446049250313e-16;
}
