/**
 * Matrix helpers built on the backend's kernels: strided batched products (the per-layer Fisher
 * code multiplies many small matrices of equal shape) and batched transposes.
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
  be.gemmBatched(transA, transB, m, n, k, alpha, a, aOff, lda, strideA, b, bOff, ldb, strideB, beta, c, cOff, ldc, strideC, count);
}

/**
 * dst[dOff + b·rows·cols + c·rows + r] = src[sOff + b·rows·cols + r·cols + c]: a batch of matrix
 * transposes [rows, cols] → [cols, rows], over tiles that stay in cache on both sides.
 */
export function transposeBatched(src: FloatArray, sOff: number, dst: FloatArray, dOff: number, batch: number, rows: number, cols: number): void {
  const TILE = 32;
  const m = rows * cols;
  for (let b = 0; b < batch; b++) {
    const si = sOff + b * m;
    const di = dOff + b * m;
    for (let r0 = 0; r0 < rows; r0 += TILE) {
      const r1 = Math.min(rows, r0 + TILE);
      for (let c0 = 0; c0 < cols; c0 += TILE) {
        const c1 = Math.min(cols, c0 + TILE);
        for (let c = c0; c < c1; c++) {
          const d = di + c * rows;
          for (let r = r0; r < r1; r++) dst[d + r] = src[si + r * cols + c]!;
        }
      }
    }
  }
}
