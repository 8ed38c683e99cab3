/**
 * Plain-TypeScript reference backend: the oracle the faster backends are tested against, and
 * the fallback for any kernel they do not provide. Clear before fast, but not naive: gemm uses
 * row-pointer i-k-j loops over a packed copy so the reference is usable for small training runs.
 */
import { Binary, Unary, type Backend, type BinaryCode, type Conv2dGeometry, type UnaryCode } from '../backend.js';
import { dtypeOfArray, type FloatArray } from '../dtype.js';
import { unaryScalar } from '../scalar.js';
import { fail } from '../errors.js';

function packed(
  trans: boolean, rows: number, cols: number, src: FloatArray, off: number, ld: number,
): Float64Array {
  // Returns op(X) as a dense rows×cols float64 matrix.
  const out = new Float64Array(rows * cols);
  if (!trans) {
    for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[i * cols + j] = src[off + i * ld + j]!;
  } else {
    for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[i * cols + j] = src[off + j * ld + i]!;
  }
  return out;
}

export function gemmTs(
  transA: boolean, transB: boolean, m: number, n: number, k: number, alpha: number,
  a: FloatArray, aOff: number, lda: number,
  b: FloatArray, bOff: number, ldb: number,
  beta: number, c: FloatArray, cOff: number, ldc: number,
): void {
  const A = packed(transA, m, k, a, aOff, lda);
  const B = packed(transB, k, n, b, bOff, ldb);
  const row = new Float64Array(n);
  for (let i = 0; i < m; i++) {
    row.fill(0);
    for (let p = 0; p < k; p++) {
      const aip = A[i * k + p]!;
      if (aip === 0) continue;
      const bo = p * n;
      for (let j = 0; j < n; j++) row[j]! += aip * B[bo + j]!;
    }
    const co = cOff + i * ldc;
    if (beta === 0) for (let j = 0; j < n; j++) c[co + j] = alpha * row[j]!;
    else for (let j = 0; j < n; j++) c[co + j] = alpha * row[j]! + beta * c[co + j]!;
  }
}

function binaryTs(op: BinaryCode, a: FloatArray, b: FloatArray, out: FloatArray): void {
  const n = out.length;
  switch (op) {
    case Binary.add: for (let i = 0; i < n; i++) out[i] = a[i]! + b[i]!; break;
    case Binary.sub: for (let i = 0; i < n; i++) out[i] = a[i]! - b[i]!; break;
    case Binary.mul: for (let i = 0; i < n; i++) out[i] = a[i]! * b[i]!; break;
    case Binary.div: for (let i = 0; i < n; i++) out[i] = a[i]! / b[i]!; break;
    default: throw new Error(`unknown binary op code ${op as number}`);
  }
}

function unaryTs(op: UnaryCode, order: number, alpha: number, x: FloatArray, out: FloatArray): void {
  const n = x.length;
  if (op === Unary.relu && order === 0) {
    for (let i = 0; i < n; i++) { const v = x[i]!; out[i] = v > 0 ? v : 0; }
    return;
  }
  for (let i = 0; i < n; i++) out[i] = unaryScalar(op, order, alpha, x[i]!);
}

function unaryMulTs(op: UnaryCode, order: number, alpha: number, x: FloatArray, g: FloatArray, out: FloatArray): void {
  const n = x.length;
  if (op === Unary.relu && order === 1) {
    for (let i = 0; i < n; i++) out[i] = x[i]! > 0 ? g[i]! : 0;
    return;
  }
  for (let i = 0; i < n; i++) out[i] = g[i]! * unaryScalar(op, order, alpha, x[i]!);
}

export const tsBackend: Backend = {
  name: 'ts',
  threads: 1,
  description: 'plain TypeScript reference kernels',
  gemm: gemmTs,
  // One gemm per entry through the backend's own gemm: backends built by spreading this object
  // (wasm) run the loop over their faster gemm.
  gemmBatched(transA, transB, m, n, k, alpha, a, aOff, lda, strideA, b, bOff, ldb, strideB, beta, c, cOff, ldc, strideC, count) {
    for (let i = 0; i < count; i++) {
      this.gemm(transA, transB, m, n, k, alpha, a, aOff + i * strideA, lda, b, bOff + i * strideB, ldb, beta, c, cOff + i * strideC, ldc);
    }
  },
  syrk(n, k, alpha, a, aOff, lda, beta, c, cOff, ldc) {
    gemmTs(true, false, n, n, k, alpha, a, aOff, lda, a, aOff, lda, beta, c, cOff, ldc);
  },
  unary: unaryTs,
  unaryMul: unaryMulTs,
  binary: binaryTs,

  axpby(alpha, x, beta, y, out) {
    const n = out.length;
    if (y === null) for (let i = 0; i < n; i++) out[i] = alpha * x[i]! + beta;
    else for (let i = 0; i < n; i++) out[i] = alpha * x[i]! + beta * y[i]!;
  },

  addRowVectorAct(x, v, rows, cols, act, alpha, pre, out) {
    for (let r = 0; r < rows; r++) {
      const o = r * cols;
      for (let c = 0; c < cols; c++) {
        const z = v === null ? x[o + c]! : x[o + c]! + v[c]!;
        if (pre !== null) pre[o + c] = z;
        out[o + c] = act === Unary.identity ? z : unaryScalar(act, 0, alpha, z);
      }
    }
  },

  sumRows(x, rows, cols, beta, out) {
    const acc = new Float64Array(cols);
    for (let r = 0; r < rows; r++) {
      const o = r * cols;
      for (let c = 0; c < cols; c++) acc[c]! += x[o + c]!;
    }
    for (let c = 0; c < cols; c++) out[c] = beta === 0 ? acc[c]! : beta * out[c]! + acc[c]!;
  },

  sumSquaredRows(x, rows, cols, beta, out) {
    const acc = new Float64Array(cols);
    for (let r = 0; r < rows; r++) {
      const o = r * cols;
      for (let c = 0; c < cols; c++) { const v = x[o + c]!; acc[c]! += v * v; }
    }
    for (let c = 0; c < cols; c++) out[c] = beta === 0 ? acc[c]! : beta * out[c]! + acc[c]!;
  },

  accumulate(x, out, off) {
    if (!(out instanceof Float64Array)) fail('DTYPE', 'accumulate: out must be a Float64Array (the running sums)');
    if (out.length < off + x.length) fail('SHAPE', `accumulate: out has ${out.length} elements but offset ${off} + ${x.length} are needed`);
    for (let i = 0; i < x.length; i++) out[off + i]! += x[i]!;
  },

  stackedMoments(src, B, slots, count, coef, kappa, scale, fourth, out, off, ld) {
    checkMomentArgs(src, B, slots, count, coef, scale, fourth, out, off, ld);
    // Per direction, register sums over its slots (strided reads, r ascending as defined).
    const stride = 3 * slots + 1;
    const rowStride = B * count;
    for (let b = 0; b < B; b++) {
      const cb = b * stride;
      const gamma = coef[cb + 3 * slots]!;
      const o = off + b * ld;
      for (let j = 0; j < count; j++) {
        let s1 = 0, s2 = 0, s4 = 0, sq = 0;
        for (let r = 0, i = b * count + j; r < slots; r++, i += rowStride) {
          const d = src[i]!;
          const d2 = d * d;
          const pd = coef[cb + r]! * d2;
          s1 += coef[cb + 2 * slots + r]! * d;
          s2 += pd;
          s4 += coef[cb + slots + r]! * d2 * d2;
          sq += pd * pd;
        }
        const a2 = s1 * s1;
        const m2 = s2 + gamma * a2;
        let m4 = s4 + gamma * a2 * a2;
        if (kappa !== 0) m4 += kappa * Math.max(0, m2 * m2 - sq);
        writeMoments(out, o, count, j, m2, m4, scale ? scale[b * count + j]! * scale[b * count + j]! : 1, fourth);
      }
    }
  },

  sumCols(x, rows, cols, out) {
    for (let r = 0; r < rows; r++) {
      let s = 0;
      const o = r * cols;
      for (let c = 0; c < cols; c++) s += x[o + c]!;
      out[r] = s;
    }
  },

  softmaxRows(x, rows, cols, out) {
    for (let r = 0; r < rows; r++) {
      const o = r * cols;
      let mx = -Infinity;
      for (let c = 0; c < cols; c++) mx = Math.max(mx, x[o + c]!);
      let s = 0;
      for (let c = 0; c < cols; c++) { const e = Math.exp(x[o + c]! - mx); out[o + c] = e; s += e; }
      const inv = 1 / s;
      for (let c = 0; c < cols; c++) out[o + c]! *= inv;
    }
  },

  logSumExpRows(x, rows, cols, out) {
    for (let r = 0; r < rows; r++) {
      const o = r * cols;
      let mx = -Infinity;
      for (let c = 0; c < cols; c++) mx = Math.max(mx, x[o + c]!);
      if (mx === -Infinity) { out[r] = -Infinity; continue; }
      let s = 0;
      for (let c = 0; c < cols; c++) s += Math.exp(x[o + c]! - mx);
      out[r] = mx + Math.log(s);
    }
  },

  im2col(x, g, out) { im2colTs(x, g, out); },
  col2im(cols, g, out) { col2imTs(cols, g, out); },

  adamStep(param, grad, m, v, lr, beta1, beta2, eps, wd, step) {
    const bc1 = 1 - Math.pow(beta1, step);
    const bc2 = 1 - Math.pow(beta2, step);
    const decay = 1 - lr * wd;
    for (let i = 0; i < param.length; i++) {
      const gi = grad[i]!;
      const mi = beta1 * m[i]! + (1 - beta1) * gi;
      const vi = beta2 * v[i]! + (1 - beta2) * gi * gi;
      m[i] = mi;
      v[i] = vi;
      param[i] = param[i]! * decay - (lr * (mi / bc1)) / (Math.sqrt(vi / bc2) + eps);
    }
  },
};

/** Column layout: row = (n, oh, ow), column = (c, kh, kw). */
export function im2colTs(x: FloatArray, g: Conv2dGeometry, out: FloatArray): void {
  const { batch, channels, height, width, kernelH, kernelW, strideH, strideW, padH, padW, outH, outW } = g;
  const colW = channels * kernelH * kernelW;
  let row = 0;
  for (let n = 0; n < batch; n++) {
    for (let oh = 0; oh < outH; oh++) {
      for (let ow = 0; ow < outW; ow++, row++) {
        let col = row * colW;
        for (let c = 0; c < channels; c++) {
          const base = (n * channels + c) * height;
          for (let kh = 0; kh < kernelH; kh++) {
            const ih = oh * strideH - padH + kh;
            for (let kw = 0; kw < kernelW; kw++, col++) {
              const iw = ow * strideW - padW + kw;
              out[col] = ih >= 0 && ih < height && iw >= 0 && iw < width ? x[(base + ih) * width + iw]! : 0;
            }
          }
        }
      }
    }
  }
}

export function col2imTs(cols: FloatArray, g: Conv2dGeometry, out: FloatArray): void {
  const { batch, channels, height, width, kernelH, kernelW, strideH, strideW, padH, padW, outH, outW } = g;
  out.fill(0);
  const colW = channels * kernelH * kernelW;
  let row = 0;
  for (let n = 0; n < batch; n++) {
    for (let oh = 0; oh < outH; oh++) {
      for (let ow = 0; ow < outW; ow++, row++) {
        let col = row * colW;
        for (let c = 0; c < channels; c++) {
          const base = (n * channels + c) * height;
          for (let kh = 0; kh < kernelH; kh++) {
            const ih = oh * strideH - padH + kh;
            for (let kw = 0; kw < kernelW; kw++, col++) {
              const iw = ow * strideW - padW + kw;
              if (ih >= 0 && ih < height && iw >= 0 && iw < width) out[(base + ih) * width + iw]! += cols[col]!;
            }
          }
        }
      }
    }
  }
}

/**
 * Direction j's entries in an output row of stackedMoments (from `o`): m2·c² and, when
 * `fourth`, its square and max(0, m4·c⁴ − (m2·c²)²), from the unscaled moments and c² (1 when
 * unscaled: multiplying by 1 is exact). Shared with the variances' route for other likelihoods.
 */
export function writeMoments(out: FloatArray, o: number, count: number, j: number, m2: number, m4: number, c2: number, fourth: boolean): void {
  const s2 = m2 * c2;
  out[o + j] = s2;
  if (!fourth) return;
  out[o + count + j] = s2 * s2;
  out[o + 2 * count + j] = Math.max(0, m4 * (c2 * c2) - s2 * s2);
}

/** The argument checks of stackedMoments (as the native addon makes them; the wasm backend shares them). */
export function checkMomentArgs(
  src: FloatArray, B: number, slots: number, count: number, coef: Float64Array, scale: FloatArray | null, fourth: boolean, out: FloatArray, off: number, ld: number,
): void {
  const fn = 'stackedMoments';
  if (!(coef instanceof Float64Array)) fail('DTYPE', `${fn}: coef must be a Float64Array`);
  for (const [name, a] of [['scale', scale], ['out', out]] as const) {
    if (a && dtypeOfArray(a) !== dtypeOfArray(src)) fail('DTYPE', `${fn}: ${name} is ${dtypeOfArray(a)} but src is ${dtypeOfArray(src)}; all arrays of one call must share a dtype`);
  }
  const width = (fourth ? 3 : 1) * count;
  if (ld < width) fail('SHAPE', `${fn}: row stride ${ld} of out is below the ${width} values written per input`);
  const need = (name: string, a: { length: number }, n: number) => {
    if (a.length < n) fail('SHAPE', `${fn}: ${name} has ${a.length} elements but the given sizes need ${n}`);
  };
  need('src', src, slots * B * count);
  need('coef', coef, B * (3 * slots + 1));
  if (scale) need('scale', scale, B * count);
  if (B > 0 && count > 0) need('out', out, off + (B - 1) * ld + width);
}
