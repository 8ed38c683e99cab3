/**
 * Layers of a Sequential network. Each layer owns named parameters (PyTorch's layouts, so
 * weights exchange easily: dense weight [out, in], conv weight [out, in, kH, kW]) and maps a
 * batch [B, ...inShape] to [B, ...outShape] with differentiable ops.
 */
import type { UnaryName } from '../core/backend.js';
import { allocArray, type DType } from '../core/dtype.js';
import { fail, shapeStr } from '../core/errors.js';
import type { Rng } from '../core/rng.js';
import { Tensor, sizeOf } from '../core/tensor.js';
import * as F from '../autodiff/ops.js';

export interface ForwardContext {
  /** Dropout is active only when training. */
  training: boolean;
  /** Source of dropout masks (required when training with dropout). */
  rng?: Rng;
}

export const ACTIVATIONS = ['relu', 'leaky-relu', 'sigmoid', 'tanh', 'softplus', 'log-sigmoid', 'gelu', 'identity'] as const;
export type ActivationName = (typeof ACTIVATIONS)[number];

const ACTIVATION_OPS: Record<ActivationName, UnaryName> = {
  relu: 'relu',
  'leaky-relu': 'leakyRelu',
  sigmoid: 'sigmoid',
  tanh: 'tanh',
  softplus: 'softplus',
  'log-sigmoid': 'logSigmoid',
  gelu: 'gelu',
  identity: 'identity',
};

export function activationOp(name: ActivationName): UnaryName {
  return ACTIVATION_OPS[name];
}

export function isActivationName(x: unknown): x is ActivationName {
  return typeof x === 'string' && (ACTIVATIONS as readonly string[]).includes(x);
}

export type InitScheme = 'he-normal' | 'he-uniform' | 'glorot-normal' | 'glorot-uniform';

/** A named trainable tensor of a layer ("weight", "bias"). */
export interface NamedParam {
  readonly name: string;
  readonly tensor: Tensor;
}

/** JSON description of a layer (the model file's `layers` entries). */
export type LayerSpec =
  | { type: 'dense'; in: number; out: number; bias?: boolean }
  | { type: 'conv2d'; inChannels: number; outChannels: number; kernel: number | [number, number]; stride?: number | [number, number]; padding?: number | [number, number]; bias?: boolean }
  | { type: 'maxpool2d'; kernel: number; stride?: number; padding?: number }
  | { type: 'avgpool2d'; kernel: number; stride?: number; padding?: number }
  | { type: 'flatten' }
  | { type: 'dropout'; p: number }
  | { type: 'activation'; fn: ActivationName; slope?: number };

export const LAYER_TYPES = ['dense', 'conv2d', 'maxpool2d', 'avgpool2d', 'flatten', 'dropout', 'activation'] as const;

export abstract class Layer {
  abstract readonly type: LayerSpec['type'];
  /** Per-sample output shape for a per-sample input shape (validates the input shape). */
  abstract outputShape(inShape: readonly number[]): number[];
  abstract forward(x: Tensor, ctx: ForwardContext): Tensor;
  abstract spec(): LayerSpec;
  params(): NamedParam[] {
    return [];
  }
}

function pair(v: number | [number, number] | undefined, dflt: number): [number, number] {
  if (v === undefined) return [dflt, dflt];
  return typeof v === 'number' ? [v, v] : [v[0], v[1]];
}

function positiveInt(what: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) fail('MODEL_FORMAT', `${what} must be a positive integer, got ${JSON.stringify(v)}`);
  return v;
}

function initTensor(shape: number[], fanIn: number, fanOut: number, scheme: InitScheme, rng: Rng, dtype: DType): Float32Array | Float64Array {
  const data = allocArray(dtype, sizeOf(shape));
  switch (scheme) {
    case 'he-normal': return rng.fillNormal(data, 0, Math.sqrt(2 / fanIn));
    case 'he-uniform': { const a = Math.sqrt(6 / fanIn); return rng.fillUniform(data, -a, a); }
    case 'glorot-normal': return rng.fillNormal(data, 0, Math.sqrt(2 / (fanIn + fanOut)));
    case 'glorot-uniform': { const a = Math.sqrt(6 / (fanIn + fanOut)); return rng.fillUniform(data, -a, a); }
  }
}

export class Dense extends Layer {
  readonly type = 'dense' as const;
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  constructor(readonly nin: number, readonly nout: number, opts: { bias?: boolean; init?: InitScheme; rng?: Rng; dtype?: DType } = {}) {
    super();
    positiveInt('dense in', nin);
    positiveInt('dense out', nout);
    const dtype = opts.dtype ?? 'float32';
    const w = opts.rng ? initTensor([nout, nin], nin, nout, opts.init ?? 'he-normal', opts.rng, dtype) : allocArray(dtype, nout * nin);
    this.weight = Tensor.param(w, [nout, nin], 'weight');
    this.bias = opts.bias === false ? null : Tensor.param(allocArray(dtype, nout), [nout], 'bias');
  }
  outputShape(inShape: readonly number[]): number[] {
    if (inShape.length !== 1 || inShape[0] !== this.nin) fail('SHAPE', `dense layer expects per-sample input [${this.nin}], got ${shapeStr(inShape)}`);
    return [this.nout];
  }
  forward(x: Tensor): Tensor {
    return F.linear(x, this.weight, this.bias);
  }
  override params(): NamedParam[] {
    return this.bias ? [{ name: 'weight', tensor: this.weight }, { name: 'bias', tensor: this.bias }] : [{ name: 'weight', tensor: this.weight }];
  }
  spec(): LayerSpec {
    return { type: 'dense', in: this.nin, out: this.nout, bias: this.bias !== null };
  }
}

export class Conv2d extends Layer {
  readonly type = 'conv2d' as const;
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  readonly kernel: [number, number];
  readonly stride: [number, number];
  readonly padding: [number, number];
  constructor(
    readonly inChannels: number, readonly outChannels: number,
    opts: { kernel: number | [number, number]; stride?: number | [number, number]; padding?: number | [number, number]; bias?: boolean; init?: InitScheme; rng?: Rng; dtype?: DType },
  ) {
    super();
    positiveInt('conv2d inChannels', inChannels);
    positiveInt('conv2d outChannels', outChannels);
    this.kernel = pair(opts.kernel, 1);
    this.stride = pair(opts.stride, 1);
    this.padding = pair(opts.padding, 0);
    this.kernel.forEach((k) => positiveInt('conv2d kernel', k));
    this.stride.forEach((s) => positiveInt('conv2d stride', s));
    if (this.padding.some((p) => !Number.isInteger(p) || p < 0)) fail('MODEL_FORMAT', `conv2d padding must be a non-negative integer, got ${JSON.stringify(opts.padding)}`);
    const dtype = opts.dtype ?? 'float32';
    const [kh, kw] = this.kernel;
    const fanIn = inChannels * kh * kw;
    const fanOut = outChannels * kh * kw;
    const shape = [outChannels, inChannels, kh, kw];
    const w = opts.rng ? initTensor(shape, fanIn, fanOut, opts.init ?? 'he-normal', opts.rng, dtype) : allocArray(dtype, sizeOf(shape));
    this.weight = Tensor.param(w, shape, 'weight');
    this.bias = opts.bias === false ? null : Tensor.param(allocArray(dtype, outChannels), [outChannels], 'bias');
  }
  outputShape(inShape: readonly number[]): number[] {
    if (inShape.length !== 3 || inShape[0] !== this.inChannels) {
      fail('SHAPE', `conv2d expects per-sample input [${this.inChannels}, H, W], got ${shapeStr(inShape)}`);
    }
    const g = F.convGeometry([1, ...inShape], this.kernel[0], this.kernel[1], { stride: this.stride, padding: this.padding });
    return [this.outChannels, g.outH, g.outW];
  }
  forward(x: Tensor): Tensor {
    return F.conv2d(x, this.weight, this.bias, { stride: this.stride, padding: this.padding });
  }
  override params(): NamedParam[] {
    return this.bias ? [{ name: 'weight', tensor: this.weight }, { name: 'bias', tensor: this.bias }] : [{ name: 'weight', tensor: this.weight }];
  }
  spec(): LayerSpec {
    return { type: 'conv2d', inChannels: this.inChannels, outChannels: this.outChannels, kernel: this.kernel, stride: this.stride, padding: this.padding, bias: this.bias !== null };
  }
}

abstract class Pool2d extends Layer {
  constructor(readonly kernel: number, readonly stride: number, readonly padding: number) {
    super();
    positiveInt('pool kernel', kernel);
    positiveInt('pool stride', stride);
    if (!Number.isInteger(padding) || padding < 0) fail('MODEL_FORMAT', `pool padding must be a non-negative integer, got ${padding}`);
  }
  outputShape(inShape: readonly number[]): number[] {
    if (inShape.length !== 3) fail('SHAPE', `${this.type} expects per-sample input [C, H, W], got ${shapeStr(inShape)}`);
    const g = F.convGeometry([1, ...inShape], this.kernel, this.kernel, { stride: this.stride, padding: this.padding }, this.type);
    return [inShape[0]!, g.outH, g.outW];
  }
}

export class MaxPool2d extends Pool2d {
  readonly type = 'maxpool2d' as const;
  constructor(kernel: number, stride = kernel, padding = 0) {
    super(kernel, stride, padding);
  }
  forward(x: Tensor): Tensor {
    return F.maxPool2d(x, this.kernel, { stride: this.stride, padding: this.padding });
  }
  spec(): LayerSpec {
    return { type: 'maxpool2d', kernel: this.kernel, stride: this.stride, padding: this.padding };
  }
}

export class AvgPool2d extends Pool2d {
  readonly type = 'avgpool2d' as const;
  constructor(kernel: number, stride = kernel, padding = 0) {
    super(kernel, stride, padding);
  }
  forward(x: Tensor): Tensor {
    return F.avgPool2d(x, this.kernel, { stride: this.stride, padding: this.padding });
  }
  spec(): LayerSpec {
    return { type: 'avgpool2d', kernel: this.kernel, stride: this.stride, padding: this.padding };
  }
}

export class Flatten extends Layer {
  readonly type = 'flatten' as const;
  outputShape(inShape: readonly number[]): number[] {
    return [sizeOf(inShape)];
  }
  forward(x: Tensor): Tensor {
    return F.reshape(x, [x.shape[0]!, -1]);
  }
  spec(): LayerSpec {
    return { type: 'flatten' };
  }
}

export class Dropout extends Layer {
  readonly type = 'dropout' as const;
  constructor(readonly p: number) {
    super();
    if (typeof p !== 'number' || !(p >= 0 && p < 1)) fail('MODEL_FORMAT', `dropout p must be in [0, 1), got ${JSON.stringify(p)}`);
  }
  outputShape(inShape: readonly number[]): number[] {
    return [...inShape];
  }
  forward(x: Tensor, ctx: ForwardContext): Tensor {
    if (!ctx.training || this.p === 0) return x;
    if (!ctx.rng) fail('INVALID_ARGUMENT', 'dropout in training mode needs ctx.rng');
    return F.dropout(x, this.p, ctx.rng);
  }
  spec(): LayerSpec {
    return { type: 'dropout', p: this.p };
  }
}

export class Activation extends Layer {
  readonly type = 'activation' as const;
  constructor(readonly fn: ActivationName, readonly slope = 0.01) {
    super();
    if (!isActivationName(fn)) fail('MODEL_FORMAT', `unknown activation '${String(fn)}': expected one of ${ACTIVATIONS.join(', ')}`);
  }
  outputShape(inShape: readonly number[]): number[] {
    return [...inShape];
  }
  forward(x: Tensor): Tensor {
    return F.activation(activationOp(this.fn), x, this.slope);
  }
  spec(): LayerSpec {
    return this.fn === 'leaky-relu' ? { type: 'activation', fn: this.fn, slope: this.slope } : { type: 'activation', fn: this.fn };
  }
}

/** Default initialiser for weights feeding an activation: He for relu-like, Glorot otherwise. */
export function defaultInit(next: ActivationName | undefined): InitScheme {
  return next === 'relu' || next === 'leaky-relu' || next === 'gelu' ? 'he-normal' : 'glorot-uniform';
}

/** Builds a layer from its JSON spec, validating every field. */
export function layerFromSpec(s: LayerSpec, opts: { rng?: Rng; dtype?: DType; init?: InitScheme } = {}): Layer {
  if (typeof s !== 'object' || s === null) fail('MODEL_FORMAT', `layer spec must be an object, got ${JSON.stringify(s)}`);
  switch (s.type) {
    case 'dense': return new Dense(s.in, s.out, { bias: s.bias, ...opts });
    case 'conv2d': return new Conv2d(s.inChannels, s.outChannels, { kernel: s.kernel, stride: s.stride, padding: s.padding, bias: s.bias, ...opts });
    case 'maxpool2d': return new MaxPool2d(s.kernel, s.stride ?? s.kernel, s.padding ?? 0);
    case 'avgpool2d': return new AvgPool2d(s.kernel, s.stride ?? s.kernel, s.padding ?? 0);
    case 'flatten': return new Flatten();
    case 'dropout': return new Dropout(s.p);
    case 'activation': return new Activation(s.fn, s.slope ?? 0.01);
    default:
      fail('MODEL_FORMAT', `unknown layer type '${String((s as { type?: unknown }).type)}': expected one of ${LAYER_TYPES.join(', ')}`);
  }
}
