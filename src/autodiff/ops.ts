/**
 * Differentiable tensor ops. Each op computes its result with the active backend's kernels and
 * records a vector–Jacobian product written in terms of these same ops, so gradients are
 * themselves differentiable (double-backward, Hessian–vector products, forward mode by the
 * double-vjp construction in grad.ts).
 *
 * Broadcasting follows numpy's rules for the elementwise binary ops.
 */
import { Binary, Unary, type BinaryCode, type Conv2dGeometry, type UnaryCode, type UnaryName } from '../core/backend.js';
import { getBackend } from '../core/backends/index.js';
import type { DType, FloatArray } from '../core/dtype.js';
import { transposeBatched } from '../core/linalg.js';
import { allocTensorData } from '../core/pool.js';
import { fail, shapeStr } from '../core/errors.js';
import { isPiecewiseLinear } from '../core/scalar.js';
import { Tensor, assertSameDType, sizeOf } from '../core/tensor.js';
import type { Rng } from '../core/rng.js';
import { record } from './tape.js';

// ---------------------------------------------------------------------------------------------
// Construction

/** A tensor that needs no gradient. `data` is used as is (not copied). */
export function constant(data: FloatArray, shape: readonly number[]): Tensor {
  return new Tensor(data, shape);
}

function fresh(dtype: DType, shape: readonly number[]): Tensor {
  return new Tensor(allocTensorData(dtype, sizeOf(shape)), shape);
}

export function zerosLike(x: Tensor): Tensor {
  return fresh(x.dtype, x.shape);
}

export function onesLike(x: Tensor): Tensor {
  const t = fresh(x.dtype, x.shape);
  t.data.fill(1);
  return t;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

// ---------------------------------------------------------------------------------------------
// Shape ops

/** Reshape (one dimension may be -1). Shares the data: tensors are immutable by convention. */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  const s = [...shape];
  const neg = s.indexOf(-1);
  if (neg >= 0) {
    const known = s.reduce((p, d, i) => (i === neg ? p : p * d), 1);
    if (known === 0 || x.size % known !== 0) fail('SHAPE', `cannot reshape ${shapeStr(x.shape)} to ${shapeStr(shape)}`);
    s[neg] = x.size / known;
  }
  if (sizeOf(s) !== x.size) fail('SHAPE', `cannot reshape ${shapeStr(x.shape)} (${x.size} elements) to ${shapeStr(shape)}`);
  if (sameShape(s, x.shape)) return x;
  const out = new Tensor(x.data, s);
  const inShape = x.shape;
  return record(out, 'reshape', [x], (g) => [reshape(g, inShape)]);
}

/** Permutes axes (a copy). */
export function permute(x: Tensor, axes: readonly number[]): Tensor {
  const r = x.rank;
  if (axes.length !== r || [...axes].sort((p, q) => p - q).some((a, i) => a !== i)) {
    fail('SHAPE', `permute axes ${shapeStr(axes)} are not a permutation of ${r} axes`);
  }
  const outShape = axes.map((a) => x.shape[a]!);
  const inStrides = stridesOf(x.shape);
  const permStrides = axes.map((a) => inStrides[a]!);
  const out = fresh(x.dtype, outShape);
  const inverse = new Array<number>(r);
  axes.forEach((a, i) => (inverse[a] = i));
  const vjp = (g: Tensor): Tensor[] => [permute(g, inverse)];
  const t = batchedTranspose(x.shape, axes);
  if (t) {
    transposeBatched(x.data, 0, out.data, 0, t.batch, t.rows, t.cols);
    return record(out, 'permute', [x], vjp);
  }
  const n = out.size;
  const idx = new Array<number>(r).fill(0);
  const src = x.data;
  const dst = out.data;
  let off = 0;
  for (let i = 0; i < n; i++) {
    dst[i] = src[off]!;
    for (let d = r - 1; d >= 0; d--) {
      idx[d]!++;
      off += permStrides[d]!;
      if (idx[d]! < outShape[d]!) break;
      off -= permStrides[d]! * outShape[d]!;
      idx[d] = 0;
    }
  }
  return record(out, 'permute', [x], vjp);
}

/**
 * When a permutation moves one block of consecutive axes behind the next (after a leading run of
 * fixed axes), as conv layers do between [N, OH, OW, C] and [N, C, OH, OW], it is a batch of
 * matrix transposes [rows, cols] → [cols, rows]; null otherwise.
 */
function batchedTranspose(shape: readonly number[], axes: readonly number[]): { batch: number; rows: number; cols: number } | null {
  const r = axes.length;
  let lead = 0;
  while (lead < r && axes[lead] === lead) lead++;
  if (lead === r) return null;
  // The output continues with the axes k, k+1, …, r−1 of the input, then lead, …, k−1.
  const k = axes[lead]!;
  for (let i = lead; i < r; i++) {
    const want = i - lead < r - k ? k + (i - lead) : lead + (i - lead - (r - k));
    if (axes[i] !== want) return null;
  }
  const prod = (from: number, to: number): number => shape.slice(from, to).reduce((p, d) => p * d, 1);
  return { batch: prod(0, lead), rows: prod(lead, k), cols: prod(k, r) };
}

export function transpose(x: Tensor): Tensor {
  if (x.rank !== 2) fail('SHAPE', `transpose needs a matrix, got ${shapeStr(x.shape)}`);
  return permute(x, [1, 0]);
}

function stridesOf(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i]!;
  }
  return s;
}

// ---------------------------------------------------------------------------------------------
// Broadcasting

export function broadcastShapes(a: readonly number[], b: readonly number[]): number[] {
  const r = Math.max(a.length, b.length);
  const out = new Array<number>(r);
  for (let i = 0; i < r; i++) {
    const da = a[a.length - r + i] ?? 1;
    const db = b[b.length - r + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) fail('SHAPE', `shapes ${shapeStr(a)} and ${shapeStr(b)} do not broadcast`);
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/** Strides of `shape` seen as broadcast to `outShape` (0 on broadcast axes). */
function broadcastStrides(shape: readonly number[], outShape: readonly number[]): number[] {
  const s = stridesOf(shape);
  const r = outShape.length;
  const out = new Array<number>(r).fill(0);
  for (let i = 0; i < shape.length; i++) {
    const oi = r - shape.length + i;
    out[oi] = shape[i] === 1 && outShape[oi] !== 1 ? 0 : s[i]!;
  }
  return out;
}

/** Iterates the flat offsets of a (broadcast) input over the output index space. */
function forEachBroadcast(outShape: readonly number[], strides: readonly number[][], fn: (i: number, offs: number[]) => void): void {
  const r = outShape.length;
  const n = sizeOf(outShape);
  const idx = new Array<number>(r).fill(0);
  const offs = strides.map(() => 0);
  for (let i = 0; i < n; i++) {
    fn(i, offs);
    for (let d = r - 1; d >= 0; d--) {
      idx[d]!++;
      for (let k = 0; k < strides.length; k++) offs[k]! += strides[k]![d]!;
      if (idx[d]! < outShape[d]!) break;
      for (let k = 0; k < strides.length; k++) offs[k]! -= strides[k]![d]! * outShape[d]!;
      idx[d] = 0;
    }
  }
}

/** Broadcasts x to `shape` (a copy). vjp: sumTo. */
export function broadcastTo(x: Tensor, shape: readonly number[]): Tensor {
  if (sameShape(x.shape, shape)) return x;
  const target = broadcastShapes(x.shape, shape);
  if (!sameShape(target, shape)) fail('SHAPE', `cannot broadcast ${shapeStr(x.shape)} to ${shapeStr(shape)}`);
  const out = fresh(x.dtype, shape);
  const st = broadcastStrides(x.shape, shape);
  const src = x.data;
  const dst = out.data;
  if (x.size === 1) dst.fill(src[0]!);
  else forEachBroadcast(shape, [st], (i, o) => (dst[i] = src[o[0]!]!));
  const inShape = x.shape;
  return record(out, 'broadcastTo', [x], (g) => [sumTo(g, inShape)]);
}

/** Sums x over the axes along which `shape` was broadcast to x.shape. vjp: broadcastTo. */
export function sumTo(x: Tensor, shape: readonly number[]): Tensor {
  if (sameShape(x.shape, shape)) return x;
  const check = broadcastShapes(shape, x.shape);
  if (!sameShape(check, x.shape)) fail('SHAPE', `cannot sum ${shapeStr(x.shape)} down to ${shapeStr(shape)}`);
  const out = fresh(x.dtype, shape);
  const n = out.size;
  const be = getBackend();
  // Fast paths: `shape` is a trailing suffix (row-vector bias) or a scalar.
  const lead = x.size / Math.max(n, 1);
  const suffix = shape.length <= x.rank && sameShape(shape, x.shape.slice(x.rank - shape.length)) && n > 0;
  if (n === 1) {
    let s = 0;
    const d = x.data;
    for (let i = 0; i < d.length; i++) s += d[i]!;
    out.data[0] = s;
  } else if (suffix && Number.isInteger(lead)) {
    be.sumRows(x.data, lead, n, 0, out.data);
  } else {
    const st = broadcastStrides(shape, x.shape);
    const src = x.data;
    const dst = out.data;
    forEachBroadcast(x.shape, [st], (i, o) => (dst[o[0]!]! += src[i]!));
  }
  const inShape = x.shape;
  return record(out, 'sumTo', [x], (g) => [broadcastTo(g, inShape)]);
}

// ---------------------------------------------------------------------------------------------
// Elementwise binary

function binaryKernel(code: BinaryCode, a: Tensor, b: Tensor, name: string): Tensor {
  const dtype = assertSameDType(name, a, b);
  const be = getBackend();
  if (sameShape(a.shape, b.shape)) {
    const out = fresh(dtype, a.shape);
    be.binary(code, a.data, b.data, out.data);
    return out;
  }
  const shape = broadcastShapes(a.shape, b.shape);
  const out = fresh(dtype, shape);
  const dst = out.data;
  const ad = a.data;
  const bd = b.data;
  // Row-vector add (bias) goes through the fused kernel.
  if (code === Binary.add && sameShape(a.shape, shape) && b.rank <= a.rank && sameShape(b.shape, a.shape.slice(a.rank - b.rank))) {
    be.addRowVectorAct(ad, bd, a.size / b.size, b.size, Unary.identity, 0, null, dst);
    return out;
  }
  const sa = broadcastStrides(a.shape, shape);
  const sb = broadcastStrides(b.shape, shape);
  const f = code === Binary.add ? (p: number, q: number) => p + q
    : code === Binary.sub ? (p: number, q: number) => p - q
    : code === Binary.mul ? (p: number, q: number) => p * q
    : (p: number, q: number) => p / q;
  forEachBroadcast(shape, [sa, sb], (i, o) => (dst[i] = f(ad[o[0]!]!, bd[o[1]!]!)));
  return out;
}

export function add(a: Tensor, b: Tensor): Tensor {
  const out = binaryKernel(Binary.add, a, b, 'add');
  return record(out, 'add', [a, b], (g) => [a.requiresGrad ? sumTo(g, a.shape) : null, b.requiresGrad ? sumTo(g, b.shape) : null]);
}

export function sub(a: Tensor, b: Tensor): Tensor {
  const out = binaryKernel(Binary.sub, a, b, 'sub');
  return record(out, 'sub', [a, b], (g) => [a.requiresGrad ? sumTo(g, a.shape) : null, b.requiresGrad ? sumTo(neg(g), b.shape) : null]);
}

export function mul(a: Tensor, b: Tensor): Tensor {
  const out = binaryKernel(Binary.mul, a, b, 'mul');
  return record(out, 'mul', [a, b], (g) => [
    a.requiresGrad ? sumTo(mul(g, b), a.shape) : null,
    b.requiresGrad ? sumTo(mul(g, a), b.shape) : null,
  ]);
}

export function div(a: Tensor, b: Tensor): Tensor {
  const out = binaryKernel(Binary.div, a, b, 'div');
  return record(out, 'div', [a, b], (g) => [
    a.requiresGrad ? sumTo(div(g, b), a.shape) : null,
    b.requiresGrad ? sumTo(neg(div(mul(g, out), b)), b.shape) : null,
  ]);
}

/** alpha·x + beta (scalars). */
export function affine(x: Tensor, alpha: number, beta: number): Tensor {
  const out = zerosLike(x);
  getBackend().axpby(alpha, x.data, beta, null, out.data);
  return record(out, 'affine', [x], (g) => [scale(g, alpha)]);
}

export function scale(x: Tensor, s: number): Tensor {
  return affine(x, s, 0);
}

export function addScalar(x: Tensor, s: number): Tensor {
  return affine(x, 1, s);
}

/** alpha·x + beta·y for same-shape tensors, one pass. */
export function axpby(alpha: number, x: Tensor, beta: number, y: Tensor): Tensor {
  const dtype = assertSameDType('axpby', x, y);
  if (!sameShape(x.shape, y.shape)) fail('SHAPE', `axpby: shapes ${shapeStr(x.shape)} and ${shapeStr(y.shape)} differ`);
  const out = fresh(dtype, x.shape);
  getBackend().axpby(alpha, x.data, beta, y.data, out.data);
  return record(out, 'axpby', [x, y], (g) => [x.requiresGrad ? scale(g, alpha) : null, y.requiresGrad ? scale(g, beta) : null]);
}

// ---------------------------------------------------------------------------------------------
// Elementwise unary, with derivatives of any order

/** f^(order)(x) for the elementwise function `op` (order 0 is the function itself). */
export function unary(op: UnaryCode, x: Tensor, alpha = 0, order = 0): Tensor {
  const out = zerosLike(x);
  getBackend().unary(op, order, alpha, x.data, out.data);
  if (order >= 1 && isPiecewiseLinear(op)) return out; // constant a.e.: no gradient flows
  return record(out, `unary${op}^${order}`, [x], (g) => [unaryMul(op, order + 1, alpha, x, g)]);
}

/** g ⊙ f^(order)(x): the fused backward of an activation. */
export function unaryMul(op: UnaryCode, order: number, alpha: number, x: Tensor, g: Tensor): Tensor {
  const dtype = assertSameDType('unaryMul', x, g);
  if (!sameShape(x.shape, g.shape)) fail('SHAPE', `unaryMul: shapes ${shapeStr(x.shape)} and ${shapeStr(g.shape)} differ`);
  const out = fresh(dtype, x.shape);
  getBackend().unaryMul(op, order, alpha, x.data, g.data, out.data);
  const flat = isPiecewiseLinear(op) && order >= 1;
  return record(out, `unaryMul${op}^${order}`, flat ? [g] : [x, g], (go) =>
    flat
      ? [unaryMul(op, order, alpha, x, go)]
      : [x.requiresGrad ? unaryMul(op, order + 1, alpha, x, mul(go, g)) : null, g.requiresGrad ? unaryMul(op, order, alpha, x, go) : null],
  );
}

/** An activation or elementwise function by name. */
export function activation(name: UnaryName, x: Tensor, alpha = 0): Tensor {
  const code = Unary[name];
  if (code === undefined) fail('INVALID_ARGUMENT', `unknown elementwise function '${name}'`);
  return name === 'identity' ? x : unary(code, x, alpha);
}

export const neg = (x: Tensor): Tensor => scale(x, -1);
export const exp = (x: Tensor): Tensor => unary(Unary.exp, x);
export const log = (x: Tensor): Tensor => unary(Unary.log, x);
export const square = (x: Tensor): Tensor => unary(Unary.square, x);
export const sqrt = (x: Tensor): Tensor => unary(Unary.sqrt, x);
export const abs = (x: Tensor): Tensor => unary(Unary.abs, x);
export const reciprocal = (x: Tensor): Tensor => unary(Unary.reciprocal, x);
export const relu = (x: Tensor): Tensor => unary(Unary.relu, x);
export const leakyRelu = (x: Tensor, slope = 0.01): Tensor => unary(Unary.leakyRelu, x, slope);
export const sigmoid = (x: Tensor): Tensor => unary(Unary.sigmoid, x);
export const tanh = (x: Tensor): Tensor => unary(Unary.tanh, x);
export const softplus = (x: Tensor): Tensor => unary(Unary.softplus, x);
export const logSigmoid = (x: Tensor): Tensor => unary(Unary.logSigmoid, x);
export const gelu = (x: Tensor): Tensor => unary(Unary.gelu, x);

// ---------------------------------------------------------------------------------------------
// Linear algebra

/** op(a)·op(b) for matrices, op = transpose when the flag is set. */
export function matmul(a: Tensor, b: Tensor, transA = false, transB = false): Tensor {
  const dtype = assertSameDType('matmul', a, b);
  if (a.rank !== 2 || b.rank !== 2) fail('SHAPE', `matmul needs matrices, got ${shapeStr(a.shape)} and ${shapeStr(b.shape)}`);
  const [ar, ac] = a.shape as [number, number];
  const [br, bc] = b.shape as [number, number];
  const m = transA ? ac : ar;
  const k = transA ? ar : ac;
  const kb = transB ? bc : br;
  const n = transB ? br : bc;
  if (k !== kb) {
    fail('SHAPE', `matmul: inner dimensions differ: ${shapeStr(a.shape)}${transA ? 'ᵀ' : ''} · ${shapeStr(b.shape)}${transB ? 'ᵀ' : ''}`);
  }
  const out = fresh(dtype, [m, n]);
  if (m > 0 && n > 0) getBackend().gemm(transA, transB, m, n, k, 1, a.data, 0, ac, b.data, 0, bc, 0, out.data, 0, n);
  return record(out, 'matmul', [a, b], (g) => [
    a.requiresGrad ? (transA ? matmul(b, g, transB, true) : matmul(g, b, false, !transB)) : null,
    b.requiresGrad ? (transB ? matmul(g, a, true, transA) : matmul(a, g, !transA, false)) : null,
  ]);
}

/**
 * Dense layer map x·Wᵀ + b with x [B, in], W [out, in], b [out] (or null). The bias is written
 * into the output first and the gemm accumulates onto it (one pass fewer than add after gemm).
 */
export function linear(x: Tensor, w: Tensor, b: Tensor | null): Tensor {
  const dtype = b ? assertSameDType('linear', x, w, b) : assertSameDType('linear', x, w);
  if (x.rank !== 2 || w.rank !== 2 || x.shape[1] !== w.shape[1]) {
    fail('SHAPE', `linear: input ${shapeStr(x.shape)} does not fit weight ${shapeStr(w.shape)} (expected [batch, ${w.shape[1]}])`);
  }
  const [batch, nin] = x.shape as [number, number];
  const nout = w.shape[0]!;
  if (b && (b.rank !== 1 || b.shape[0] !== nout)) fail('SHAPE', `linear: bias ${shapeStr(b.shape)} does not fit weight ${shapeStr(w.shape)}`);
  const out = fresh(dtype, [batch, nout]);
  const be = getBackend();
  if (b) for (let r = 0; r < batch; r++) out.data.set(b.data, r * nout);
  if (batch > 0) be.gemm(false, true, batch, nout, nin, 1, x.data, 0, nin, w.data, 0, nin, b ? 1 : 0, out.data, 0, nout);
  const inputs = b ? [x, w, b] : [x, w];
  return record(out, 'linear', inputs, (g) => [
    x.requiresGrad ? matmul(g, w) : null,
    w.requiresGrad ? matmul(g, x, true, false) : null,
    ...(b ? [b.requiresGrad ? sumTo(g, b.shape) : null] : []),
  ]);
}

// ---------------------------------------------------------------------------------------------
// Reductions

export function sum(x: Tensor): Tensor {
  return sumTo(x, []);
}

export function mean(x: Tensor): Tensor {
  return scale(sum(x), 1 / x.size);
}

function normAxis(axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) fail('SHAPE', `axis ${axis} out of range for rank ${rank}`);
  return a;
}

/** Sum over one axis (kept as size 1 when keepDims). */
export function sumAxis(x: Tensor, axis: number, keepDims = false): Tensor {
  const a = normAxis(axis, x.rank);
  const kept = x.shape.map((d, i) => (i === a ? 1 : d));
  const outer = sizeOf(x.shape.slice(0, a));
  const dim = x.shape[a]!;
  const inner = sizeOf(x.shape.slice(a + 1));
  let r: Tensor;
  if (inner === 1) {
    const out = fresh(x.dtype, kept);
    getBackend().sumCols(x.data, outer, dim, out.data);
    r = record(out, 'sumAxis', [x], (g) => [broadcastTo(g, x.shape)]);
  } else {
    r = sumTo(x, kept);
  }
  return keepDims ? r : reshape(r, x.shape.filter((_, i) => i !== a));
}

export function meanAxis(x: Tensor, axis: number, keepDims = false): Tensor {
  return scale(sumAxis(x, axis, keepDims), 1 / x.shape[normAxis(axis, x.rank)]!);
}

/** log Σ exp over the last axis (stable). vjp: g ⊙ softmax. */
export function logSumExp(x: Tensor): Tensor {
  const cols = x.shape[x.rank - 1]!;
  const rows = x.size / cols;
  const out = fresh(x.dtype, x.shape.slice(0, -1));
  getBackend().logSumExpRows(x.data, rows, cols, out.data);
  return record(out, 'logSumExp', [x], (g) => [mul(reshape(g, [...g.shape, 1]), softmax(x))]);
}

/** Softmax over the last axis. vjp: s ⊙ (g − Σ g⊙s). */
export function softmax(x: Tensor): Tensor {
  const cols = x.shape[x.rank - 1]!;
  const rows = x.size / cols;
  const out = zerosLike(x);
  getBackend().softmaxRows(x.data, rows, cols, out.data);
  return record(out, 'softmax', [x], (g) => [mul(out, sub(g, sumAxis(mul(g, out), -1, true)))]);
}

export function logSoftmax(x: Tensor): Tensor {
  return sub(x, reshape(logSumExp(x), [...x.shape.slice(0, -1), 1]));
}

// ---------------------------------------------------------------------------------------------
// Indexing

/** out[i] = x.flat[idx[i]] (idx −1 gives 0), shaped `shape`. vjp: scatterAdd. */
export function gather(x: Tensor, idx: Int32Array, shape: readonly number[]): Tensor {
  if (sizeOf(shape) !== idx.length) fail('SHAPE', `gather: ${idx.length} indices do not fill ${shapeStr(shape)}`);
  const out = fresh(x.dtype, shape);
  const src = x.data;
  const dst = out.data;
  const n = x.size;
  for (let i = 0; i < idx.length; i++) {
    const j = idx[i]!;
    if (j >= n) fail('SHAPE', `gather: index ${j} out of range for ${n} elements`);
    dst[i] = j < 0 ? 0 : src[j]!;
  }
  const inShape = x.shape;
  return record(out, 'gather', [x], (g) => [scatterAdd(g, idx, inShape)]);
}

/** Adjoint of gather: out.flat[idx[i]] += g[i] over a zero tensor of `shape`. vjp: gather. */
export function scatterAdd(g: Tensor, idx: Int32Array, shape: readonly number[]): Tensor {
  const out = fresh(g.dtype, shape);
  const src = g.data;
  const dst = out.data;
  for (let i = 0; i < idx.length; i++) {
    const j = idx[i]!;
    if (j >= 0) dst[j]! += src[i]!;
  }
  const gShape = g.shape;
  return record(out, 'scatterAdd', [g], (go) => [gather(go, idx, gShape)]);
}

/** x[b, idx[b]] for x [B, C]: e.g. the log-probability of each row's label. */
export function pick(x: Tensor, idx: Int32Array): Tensor {
  if (x.rank !== 2) fail('SHAPE', `pick needs [batch, classes], got ${shapeStr(x.shape)}`);
  const [rows, cols] = x.shape as [number, number];
  if (idx.length !== rows) fail('SHAPE', `pick: ${idx.length} indices for ${rows} rows`);
  const flat = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    const c = idx[r]!;
    if (!Number.isInteger(c) || c < 0 || c >= cols) fail('LABEL_RANGE', `label ${c} at row ${r} is outside [0, ${cols})`);
    flat[r] = r * cols + c;
  }
  return gather(x, flat, [rows]);
}

/** Concatenates along `axis`. vjp: slices. */
export function concat(ts: readonly Tensor[], axis: number): Tensor {
  if (ts.length === 0) fail('SHAPE', 'concat of no tensors');
  const first = ts[0]!;
  const a = normAxis(axis, first.rank);
  const dtype = assertSameDType('concat', ...ts);
  for (const t of ts) {
    if (t.rank !== first.rank || t.shape.some((d, i) => i !== a && d !== first.shape[i])) {
      fail('SHAPE', `concat: ${shapeStr(t.shape)} does not fit ${shapeStr(first.shape)} along axis ${a}`);
    }
  }
  const outer = sizeOf(first.shape.slice(0, a));
  const inner = sizeOf(first.shape.slice(a + 1));
  const total = ts.reduce((s, t) => s + t.shape[a]!, 0);
  const shape = first.shape.map((d, i) => (i === a ? total : d));
  const out = fresh(dtype, shape);
  let at = 0;
  const starts: number[] = [];
  for (const t of ts) {
    starts.push(at);
    const w = t.shape[a]! * inner;
    for (let o = 0; o < outer; o++) out.data.set(t.data.subarray(o * w, (o + 1) * w), o * total * inner + at * inner);
    at += t.shape[a]!;
  }
  return record(out, 'concat', ts, (g) => ts.map((t, i) => (t.requiresGrad ? slice(g, a, starts[i]!, starts[i]! + t.shape[a]!) : null)));
}

/** x[..., start:end, ...] along `axis`. vjp: zero-padded embedding (via scatterAdd). */
export function slice(x: Tensor, axis: number, start: number, end: number): Tensor {
  const a = normAxis(axis, x.rank);
  const dim = x.shape[a]!;
  if (!(0 <= start && start <= end && end <= dim)) fail('SHAPE', `slice [${start}, ${end}) out of range for axis of size ${dim}`);
  const outer = sizeOf(x.shape.slice(0, a));
  const inner = sizeOf(x.shape.slice(a + 1));
  const w = end - start;
  const idx = new Int32Array(outer * w * inner);
  let p = 0;
  for (let o = 0; o < outer; o++) for (let k = start; k < end; k++) for (let i = 0; i < inner; i++) idx[p++] = (o * dim + k) * inner + i;
  return gather(x, idx, x.shape.map((d, i) => (i === a ? w : d)));
}

// ---------------------------------------------------------------------------------------------
// Convolution and pooling (NCHW)

export interface Conv2dOptions {
  stride?: number | [number, number];
  padding?: number | [number, number];
}

function pair(v: number | [number, number] | undefined, dflt: number): [number, number] {
  if (v === undefined) return [dflt, dflt];
  return typeof v === 'number' ? [v, v] : v;
}

export function convGeometry(
  inShape: readonly number[], kernelH: number, kernelW: number, opts: Conv2dOptions, what = 'conv2d',
): Conv2dGeometry {
  if (inShape.length !== 4) fail('SHAPE', `${what} needs NCHW input, got ${shapeStr(inShape)}`);
  const [batch, channels, height, width] = inShape as [number, number, number, number];
  const [strideH, strideW] = pair(opts.stride, 1);
  const [padH, padW] = pair(opts.padding, 0);
  if (strideH < 1 || strideW < 1 || padH < 0 || padW < 0) fail('INVALID_ARGUMENT', `${what}: stride must be ≥ 1 and padding ≥ 0`);
  const outH = Math.floor((height + 2 * padH - kernelH) / strideH) + 1;
  const outW = Math.floor((width + 2 * padW - kernelW) / strideW) + 1;
  if (outH < 1 || outW < 1) fail('SHAPE', `${what}: kernel ${kernelH}×${kernelW} does not fit input ${height}×${width} with padding ${padH},${padW}`);
  return { batch, channels, height, width, kernelH, kernelW, strideH, strideW, padH, padW, outH, outW };
}

/** NCHW → columns [N·OH·OW, C·kH·kW]. vjp: col2im. */
export function im2col(x: Tensor, g: Conv2dGeometry): Tensor {
  const out = fresh(x.dtype, [g.batch * g.outH * g.outW, g.channels * g.kernelH * g.kernelW]);
  getBackend().im2col(x.data, g, out.data);
  return record(out, 'im2col', [x], (gr) => [col2im(gr, g)]);
}

/** Adjoint of im2col. vjp: im2col. */
export function col2im(cols: Tensor, g: Conv2dGeometry): Tensor {
  const out = fresh(cols.dtype, [g.batch, g.channels, g.height, g.width]);
  getBackend().col2im(cols.data, g, out.data);
  return record(out, 'col2im', [cols], (gr) => [im2col(gr, g)]);
}

/** 2-D convolution (cross-correlation), x [N, C, H, W], w [Co, C, kH, kW], b [Co]. */
export function conv2d(x: Tensor, w: Tensor, b: Tensor | null, opts: Conv2dOptions = {}): Tensor {
  if (w.rank !== 4) fail('SHAPE', `conv2d weight must be [out, in, kH, kW], got ${shapeStr(w.shape)}`);
  const [co, ci, kh, kw] = w.shape as [number, number, number, number];
  if (x.rank !== 4 || x.shape[1] !== ci) fail('SHAPE', `conv2d: input ${shapeStr(x.shape)} does not fit weight ${shapeStr(w.shape)} (expected [batch, ${ci}, H, W])`);
  const g = convGeometry(x.shape, kh, kw, opts);
  const cols = im2col(x, g);
  const y = linear(cols, reshape(w, [co, ci * kh * kw]), b); // [N·OH·OW, Co]
  return permute(reshape(y, [g.batch, g.outH, g.outW, co]), [0, 3, 1, 2]);
}

/**
 * For each pooling window of x (NCHW, geometry g), the flat index of its largest value, the
 * first on ties (a NaN cell never wins over the first cell of its window): [N·C·OH·OW]. Read
 * from the geometry directly rather than through the index table of poolWindows (k times the
 * output's size).
 */
export function poolArgmax(x: ArrayLike<number>, g: Conv2dGeometry): Int32Array {
  const { batch, channels, height, width, kernelH, kernelW, strideH, strideW, padH, padW, outH, outW } = g;
  const arg = new Int32Array(batch * channels * outH * outW);
  if (padH === 0 && padW === 0 && kernelH === 2 && kernelW === 2) {
    // The usual 2×2 pooling: every window lies inside the plane, four reads, no bounds.
    let o = 0;
    for (let nc = 0; nc < batch * channels; nc++) {
      const plane = nc * height * width;
      for (let oh = 0; oh < outH; oh++) {
        const top = plane + oh * strideH * width;
        for (let ow = 0; ow < outW; ow++, o++) {
          const a = top + ow * strideW, b = a + 1, c = a + width, d = c + 1;
          let best = a;
          let bv = x[a]!;
          if (x[b]! > bv) { best = b; bv = x[b]!; }
          if (x[c]! > bv) { best = c; bv = x[c]!; }
          if (x[d]! > bv) best = d;
          arg[o] = best;
        }
      }
    }
    return arg;
  }
  let o = 0;
  for (let nc = 0; nc < batch * channels; nc++) {
    const plane = nc * height * width;
    for (let oh = 0; oh < outH; oh++) {
      const h0 = oh * strideH - padH;
      const i0 = Math.max(0, -h0), i1 = Math.min(kernelH, height - h0);
      for (let ow = 0; ow < outW; ow++, o++) {
        const w0 = ow * strideW - padW;
        const j0 = Math.max(0, -w0), j1 = Math.min(kernelW, width - w0);
        let best = -1;
        let bv = -Infinity;
        for (let i = i0; i < i1; i++) {
          const row = plane + (h0 + i) * width + w0;
          for (let j = j0; j < j1; j++) {
            const v = x[row + j]!;
            if (best < 0 || v > bv) { best = row + j; bv = v; }
          }
        }
        arg[o] = best;
      }
    }
  }
  return arg;
}

/** Index tables of recent pooling geometries: a network asks for the same few on every batch. */
const windowTables = new Map<string, Int32Array>();
const WINDOW_TABLES_KEPT = 8;

/**
 * Flat input indices of every pooling window: [N·C·OH·OW, kH·kW], −1 where padded. Shared
 * between calls with the same geometry (callers only read it).
 */
export function poolWindows(g: Conv2dGeometry): Int32Array {
  const key = [g.batch, g.channels, g.height, g.width, g.kernelH, g.kernelW, g.strideH, g.strideW, g.padH, g.padW].join(',');
  const cached = windowTables.get(key);
  if (cached) return cached;
  const { batch, channels, height, width, kernelH, kernelW, strideH, strideW, padH, padW, outH, outW } = g;
  const idx = new Int32Array(batch * channels * outH * outW * kernelH * kernelW);
  let p = 0;
  for (let nc = 0; nc < batch * channels; nc++) {
    for (let oh = 0; oh < outH; oh++) {
      for (let ow = 0; ow < outW; ow++) {
        for (let i = 0; i < kernelH; i++) {
          const ih = oh * strideH - padH + i;
          for (let j = 0; j < kernelW; j++) {
            const iw = ow * strideW - padW + j;
            idx[p++] = ih >= 0 && ih < height && iw >= 0 && iw < width ? (nc * height + ih) * width + iw : -1;
          }
        }
      }
    }
  }
  if (windowTables.size >= WINDOW_TABLES_KEPT) windowTables.delete(windowTables.keys().next().value!);
  windowTables.set(key, idx);
  return idx;
}

export function maxPool2d(x: Tensor, kernel: number, opts: Conv2dOptions = {}): Tensor {
  const g = convGeometry(x.shape, kernel, kernel, { stride: opts.stride ?? kernel, padding: opts.padding }, 'maxPool2d');
  const arg = poolArgmax(x.data, g);
  // The derivative of a max is the indicator of the winner: gathering at the argmax is exact.
  return gather(x, arg, [g.batch, g.channels, g.outH, g.outW]);
}

/** Average pooling; padded cells count as zeros (divisor = kernel area). */
export function avgPool2d(x: Tensor, kernel: number, opts: Conv2dOptions = {}): Tensor {
  const g = convGeometry(x.shape, kernel, kernel, { stride: opts.stride ?? kernel, padding: opts.padding }, 'avgPool2d');
  const win = poolWindows(g);
  const k = kernel * kernel;
  const windows = gather(x, win, [win.length / k, k]);
  return reshape(meanAxis(windows, 1), [g.batch, g.channels, g.outH, g.outW]);
}

/** Inverted dropout: zeroes each element with probability p and scales survivors by 1/(1−p). */
export function dropout(x: Tensor, p: number, rng: Rng): Tensor {
  if (!(p >= 0 && p < 1)) fail('INVALID_ARGUMENT', `dropout probability must be in [0, 1), got ${p}`);
  if (p === 0) return x;
  const mask = zerosLike(x);
  const keep = 1 / (1 - p);
  const m = mask.data;
  for (let i = 0; i < m.length; i++) m[i] = rng.uniform() < p ? 0 : keep;
  return mul(x, mask);
}
