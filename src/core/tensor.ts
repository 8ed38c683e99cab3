/**
 * Tensor: a shape, a dtype and a contiguous row-major typed array. Tensors that take part in
 * differentiation carry `requiresGrad` and, when produced by an op, the op's graph node.
 * Tensors are immutable by convention once they have entered a graph; kernels write only into
 * freshly allocated outputs (optimisers update parameter data in place, outside any graph).
 */
import { allocArray, dtypeOfArray, type DType, type FloatArray } from './dtype.js';
import { fail, shapeStr } from './errors.js';
import type { Rng } from './rng.js';

/** A recorded op: its inputs and the vector–Jacobian product that maps the output cotangent to
 *  one cotangent per input (null where the input needs none). Written in terms of tensor ops, so
 *  it can itself be recorded: that is what makes double-backward work. */
export interface GradNode {
  readonly op: string;
  readonly inputs: readonly Tensor[];
  readonly vjp: (g: Tensor) => readonly (Tensor | null)[];
}

export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) fail('SHAPE', `invalid dimension ${d} in shape ${shapeStr(shape)}`);
    n *= d;
  }
  return n;
}

let nextId = 0;

export class Tensor {
  readonly id = nextId++;
  readonly shape: readonly number[];
  readonly dtype: DType;
  readonly data: FloatArray;
  requiresGrad: boolean;
  /** Accumulated gradient of a leaf after `backward()`. */
  grad: Tensor | null = null;
  /** The op that produced this tensor, when it was recorded. */
  node: GradNode | null;
  /** Optional name (parameters carry theirs, e.g. "0.weight"). */
  name: string | undefined;

  constructor(data: FloatArray, shape: readonly number[], requiresGrad = false, node: GradNode | null = null) {
    const n = sizeOf(shape);
    if (data.length !== n) fail('SHAPE', `data has ${data.length} elements but shape ${shapeStr(shape)} needs ${n}`);
    this.data = data;
    this.shape = Object.freeze([...shape]);
    this.dtype = dtypeOfArray(data);
    this.requiresGrad = requiresGrad;
    this.node = node;
  }

  get size(): number {
    return this.data.length;
  }

  get rank(): number {
    return this.shape.length;
  }

  static zeros(shape: readonly number[], dtype: DType = 'float32'): Tensor {
    return new Tensor(allocArray(dtype, sizeOf(shape)), shape);
  }

  static full(shape: readonly number[], value: number, dtype: DType = 'float32'): Tensor {
    const t = Tensor.zeros(shape, dtype);
    t.data.fill(value);
    return t;
  }

  static scalar(value: number, dtype: DType = 'float32'): Tensor {
    return Tensor.full([], value, dtype);
  }

  /** Copies `values` (any numeric array, nested arrays allowed when `shape` is omitted). */
  static from(values: ArrayLike<number> | number[][] | number[][][], shape?: readonly number[], dtype: DType = 'float32'): Tensor {
    if (shape === undefined) {
      const { flat, inferred } = flatten(values);
      shape = inferred;
      values = flat;
    }
    const data = allocArray(dtype, sizeOf(shape));
    const src = values as ArrayLike<number>;
    if (src.length !== data.length) fail('SHAPE', `${src.length} values do not fill shape ${shapeStr(shape)}`);
    data.set(src);
    return new Tensor(data, shape);
  }

  static randn(shape: readonly number[], rng: Rng, dtype: DType = 'float32', std = 1): Tensor {
    const t = Tensor.zeros(shape, dtype);
    rng.fillNormal(t.data, 0, std);
    return t;
  }

  static uniform(shape: readonly number[], rng: Rng, lo: number, hi: number, dtype: DType = 'float32'): Tensor {
    const t = Tensor.zeros(shape, dtype);
    rng.fillUniform(t.data, lo, hi);
    return t;
  }

  /** A trainable leaf. */
  static param(data: FloatArray, shape: readonly number[], name?: string): Tensor {
    const t = new Tensor(data, shape, true);
    t.name = name;
    return t;
  }

  /** The single value of a one-element tensor. */
  item(): number {
    if (this.size !== 1) fail('SHAPE', `item() needs a one-element tensor, got shape ${shapeStr(this.shape)}`);
    return this.data[0]!;
  }

  toArray(): number[] {
    return Array.from(this.data);
  }

  /** Same data, no graph: the result is a constant for differentiation. */
  detach(): Tensor {
    return new Tensor(this.data, this.shape);
  }

  clone(): Tensor {
    return new Tensor(this.data.slice(), this.shape);
  }

  /** Copy converted to another dtype (a constant, not differentiated through). */
  toDType(dtype: DType): Tensor {
    if (dtype === this.dtype) return this.clone();
    const d = allocArray(dtype, this.size);
    d.set(this.data);
    return new Tensor(d, this.shape);
  }

  toString(): string {
    return `Tensor(${shapeStr(this.shape)}, ${this.dtype}${this.requiresGrad ? ', requiresGrad' : ''})`;
  }
}

function flatten(values: unknown): { flat: number[]; inferred: number[] } {
  const inferred: number[] = [];
  let v: unknown = values;
  while (Array.isArray(v)) {
    inferred.push(v.length);
    v = v[0];
  }
  const flat: number[] = [];
  const walk = (x: unknown, depth: number): void => {
    if (depth === inferred.length) {
      if (typeof x !== 'number') fail('SHAPE', 'ragged nested array');
      flat.push(x);
      return;
    }
    if (!Array.isArray(x) || x.length !== inferred[depth]) fail('SHAPE', 'ragged nested array');
    for (const e of x) walk(e, depth + 1);
  };
  if (ArrayBuffer.isView(values)) return { flat: Array.from(values as unknown as ArrayLike<number>), inferred: [(values as unknown as ArrayLike<number>).length] };
  walk(values, 0);
  return { flat, inferred };
}

export function assertSameDType(op: string, ...ts: Tensor[]): DType {
  const d = ts[0]!.dtype;
  for (const t of ts) if (t.dtype !== d) fail('DTYPE', `${op}: mixed dtypes ${ts.map((x) => x.dtype).join(' and ')}; convert with toDType()`);
  return d;
}

export function assertFinite(what: string, data: ArrayLike<number>): void {
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (!Number.isFinite(v)) fail('NON_FINITE', `${what} contains ${v} at flat index ${i}`);
  }
}

export { allocArray };
