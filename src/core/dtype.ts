/** Floating-point element types. float64 is for validating closed forms; float32 for speed. */
export type DType = 'float32' | 'float64';
export type FloatArray = Float32Array | Float64Array;

export const DTYPES: readonly DType[] = ['float32', 'float64'];

export function isDType(x: unknown): x is DType {
  return x === 'float32' || x === 'float64';
}

export function allocArray(dtype: DType, length: number): FloatArray {
  return dtype === 'float32' ? new Float32Array(length) : new Float64Array(length);
}

export function dtypeOfArray(a: FloatArray): DType {
  return a instanceof Float32Array ? 'float32' : 'float64';
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
