/**
 * Matrix helpers built on the backend's gemm: strided batched products (one gemm per batch
 * entry; the per-layer Fisher code multiplies many small matrices of equal shape).
 */
import type { Backend } from './backend.js';
import type { FloatArray } from './dtype.js';
import { fail } from './errors.js';

export interface StridedBatch {
  count: number;
  strideA: number;
  strideB: number;
  strideC: number;
}

/** C_i = alpha·op(A_i)·op(B_i) + beta·C_i for i < count, A_i at aOff + i·strideA (etc.). */
export function gemmStridedBatched(
  be: Backend, transA: boolean, transB: boolean, m: number, n: number, k: number, alpha: number,
  a: FloatArray, aOff: number, lda: number, b: FloatArray, bOff: number, ldb: number,
  beta: number, c: FloatArray, cOff: number, ldc: number, batch: StridedBatch,
): void {
  const { count, strideA, strideB, strideC } = batch;
  if (count < 0 || !Number.isInteger(count)) fail('INVALID_ARGUMENT', `batched gemm count must be a non-negative integer, got ${count}`);
  const lastA = aOff + (count - 1) * strideA + (transA ? k * lda : m * lda);
  const lastC = cOff + (count - 1) * strideC + m * ldc;
  if (count > 0 && (lastA > a.length + lda || lastC > c.length + ldc)) fail('SHAPE', 'batched gemm strides run past the end of the arrays');
  for (let i = 0; i < count; i++) {
    be.gemm(transA, transB, m, n, k, alpha, a, aOff + i * strideA, lda, b, bOff + i * strideB, ldb, beta, c, cOff + i * strideC, ldc);
  }
}
