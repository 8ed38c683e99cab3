import type { FloatArray } from './dtype.js';

/**
 * The one small interface every numeric backend implements. All arrays are row-major and
 * contiguous; all arrays passed to one call have the same dtype (Float32Array or Float64Array),
 * and a backend keeps one kernel copy per dtype so element access stays monomorphic.
 *
 * Backends: `native` (N-API addon over CBLAS), `wasm` (AssemblyScript SIMD), `ts` (plain
 * TypeScript reference, also the fallback for any kernel a faster backend does not provide).
 * Kernels never allocate their outputs: the caller passes `out`, so the tensor layer owns memory.
 */
export type BackendName = 'native' | 'wasm' | 'ts';

/**
 * Elementwise scalar functions with derivatives of any order (`order` = 0 is the function).
 * Integer codes so kernels in C and AssemblyScript use the same numbering.
 */
export const Unary = {
  identity: 0,
  relu: 1,
  leakyRelu: 2, // slope `alpha` for x < 0
  sigmoid: 3,
  tanh: 4,
  softplus: 5,
  logSigmoid: 6,
  gelu: 7, // exact: x·Φ(x)
  exp: 8,
  log: 9,
  square: 10,
  sqrt: 11,
  abs: 12,
  neg: 13,
  reciprocal: 14,
} as const;
export type UnaryName = keyof typeof Unary;
export type UnaryCode = (typeof Unary)[UnaryName];

export const Binary = { add: 0, sub: 1, mul: 2, div: 3 } as const;
export type BinaryName = keyof typeof Binary;
export type BinaryCode = (typeof Binary)[BinaryName];

/** Geometry of a 2-D convolution / pooling window over NCHW input. */
export interface Conv2dGeometry {
  batch: number;
  channels: number;
  height: number;
  width: number;
  kernelH: number;
  kernelW: number;
  strideH: number;
  strideW: number;
  padH: number;
  padW: number;
  outH: number;
  outW: number;
}

export interface Backend {
  readonly name: BackendName;
  /** Threads the matrix kernels use. */
  readonly threads: number;
  /** Free text: BLAS library, SIMD flavour, etc. */
  readonly description: string;

  /**
   * C = alpha·op(A)·op(B) + beta·C, op(X) = X or Xᵀ; op(A) is m×k, op(B) is k×n, C is m×n.
   * lda/ldb/ldc are row strides of the stored (untransposed) matrices, offsets in elements.
   * beta = 0 means C is overwritten (its previous contents, even NaN, are ignored).
   */
  gemm(
    transA: boolean, transB: boolean, m: number, n: number, k: number, alpha: number,
    a: FloatArray, aOff: number, lda: number,
    b: FloatArray, bOff: number, ldb: number,
    beta: number, c: FloatArray, cOff: number, ldc: number,
  ): void;

  /**
   * C_i = alpha·op(A_i)·op(B_i) + beta·C_i for i < count, where A_i starts at aOff + i·strideA
   * (B_i and C_i likewise): many small products of one shape, such as the per-sample products
   * of a conv layer. A backend may run entries whose C windows do not overlap concurrently.
   */
  gemmBatched(
    transA: boolean, transB: boolean, m: number, n: number, k: number, alpha: number,
    a: FloatArray, aOff: number, lda: number, strideA: number,
    b: FloatArray, bOff: number, ldb: number, strideB: number,
    beta: number, c: FloatArray, cOff: number, ldc: number, strideC: number, count: number,
  ): void;

  /**
   * C = alpha·AᵀA + beta·C for A stored k×n (row stride lda), C n×n: a Gram matrix at half the
   * multiply-adds of gemm where the library has a symmetric kernel. Both triangles are written;
   * with beta ≠ 0, C must be symmetric on entry (one triangle is read).
   */
  syrk(
    n: number, k: number, alpha: number, a: FloatArray, aOff: number, lda: number,
    beta: number, c: FloatArray, cOff: number, ldc: number,
  ): void;

  /** out[i] = f^(order)(x[i]) for i < x.length. `alpha` is the leaky-relu slope (ignored otherwise). */
  unary(op: UnaryCode, order: number, alpha: number, x: FloatArray, out: FloatArray): void;
  /** out[i] = g[i] · f^(order)(x[i]) — the fused backward of an activation. */
  unaryMul(op: UnaryCode, order: number, alpha: number, x: FloatArray, g: FloatArray, out: FloatArray): void;
  /** out[i] = a[i] ∘ b[i] for arrays of equal length. */
  binary(op: BinaryCode, a: FloatArray, b: FloatArray, out: FloatArray): void;
  /** out[i] = alpha·x[i] + beta·y[i] (y may be omitted: then out = alpha·x + beta). */
  axpby(alpha: number, x: FloatArray, beta: number, y: FloatArray | null, out: FloatArray): void;

  /** out[r, c] = x[r, c] + v[c] (x is rows×cols), then, if act ≠ identity, act(...) applied
   *  in the same pass; when `pre` is given it receives the pre-activation. */
  addRowVectorAct(
    x: FloatArray, v: FloatArray | null, rows: number, cols: number,
    act: UnaryCode, alpha: number, pre: FloatArray | null, out: FloatArray,
  ): void;
  /** out[c] = beta·out[c] + Σ_r x[r, c]. */
  sumRows(x: FloatArray, rows: number, cols: number, beta: number, out: FloatArray): void;
  /** out[c] = beta·out[c] + Σ_r x[r, c]² (one pass over x). */
  sumSquaredRows(x: FloatArray, rows: number, cols: number, beta: number, out: FloatArray): void;
  /**
   * out[off + i] += x[i] for i < x.length: per-batch products, in either dtype, added to float64
   * running sums (the one kernel whose arrays may differ in dtype: `out` is always float64).
   */
  accumulate(x: FloatArray, out: Float64Array, off: number): void;
  /**
   * Projected second and fourth moments of stacked directions (the closed-form variances' per
   * input and unit moments). `src` is [slots·B, count]: slot r of input b is row r·B + b, one
   * direction per column. `coef` (float64, [B, 3·slots + 1]) holds per input the slot weights
   * w_r, then q_r, then ρ_r, then γ. For direction j of input b, with d_r = src[(r·B + b)·count + j]:
   *
   *   s = Σ_r ρ_r d_r,   m2 = Σ_r w_r d_r² + γ s²,
   *   m4 = Σ_r q_r d_r⁴ + γ s⁴ + κ·max(0, m2² − Σ_r (w_r d_r²)²)
   *
   * then m2·c² and m4·c⁴ with c = scale[b·count + j] when `scale` is given. Row b of `out` (row
   * stride `ld`, from `off`) receives m2 at column j and, when `fourth`, m2² at count + j and
   * max(0, m4 − m2²) at 2·count + j (≥ 0 exactly; rounding can leave a tiny negative, clamped).
   * All sums in double, in the order written (r ascending).
   */
  stackedMoments(
    src: FloatArray, B: number, slots: number, count: number, coef: Float64Array, kappa: number,
    scale: FloatArray | null, fourth: boolean, out: FloatArray, off: number, ld: number,
  ): void;
  /** out[r] = Σ_c x[r, c]. */
  sumCols(x: FloatArray, rows: number, cols: number, out: FloatArray): void;
  /** Row-wise softmax (numerically stable: max subtracted). */
  softmaxRows(x: FloatArray, rows: number, cols: number, out: FloatArray): void;
  /** out[r] = log Σ_c exp x[r, c] (stable). */
  logSumExpRows(x: FloatArray, rows: number, cols: number, out: FloatArray): void;

  /** NCHW input → columns [batch·outH·outW, channels·kH·kW] (zero padding). */
  im2col(x: FloatArray, g: Conv2dGeometry, out: FloatArray): void;
  /** Adjoint of im2col: scatters-adds columns back to NCHW; `out` is overwritten. */
  col2im(cols: FloatArray, g: Conv2dGeometry, out: FloatArray): void;

  /**
   * Fused Adam / AdamW step over one parameter array (bias-corrected; decoupled weight decay
   * `wd` multiplies the parameter by (1 − lr·wd) first).
   */
  adamStep(
    param: FloatArray, grad: FloatArray, m: FloatArray, v: FloatArray,
    lr: number, beta1: number, beta2: number, eps: number, wd: number, step: number,
  ): void;
}
