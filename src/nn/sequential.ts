/**
 * Sequential network: layers applied in order, parameters grouped by layer with names
 * "<layer index>.<param>" (e.g. "0.weight"), the unit the Fisher code reports per layer.
 */
import type { DType } from '../core/dtype.js';
import { fail, shapeStr } from '../core/errors.js';
import type { Rng } from '../core/rng.js';
import { Tensor, sizeOf } from '../core/tensor.js';
import * as F from '../autodiff/ops.js';
import {
  Layer, defaultInit, isActivationName, layerFromSpec,
  type ActivationName, type ForwardContext, type InitScheme, type LayerSpec, type NamedParam,
} from './layers.js';

export interface ModelSpec {
  inputShape: number[];
  layers: LayerSpec[];
}

export interface ParamGroup {
  /** Index of the layer in the Sequential. */
  index: number;
  /** e.g. "0:dense". */
  label: string;
  layer: Layer;
  params: NamedParam[];
}

export class Sequential {
  readonly layers: Layer[];
  readonly inputShape: number[];
  readonly dtype: DType;
  /** Per-sample shape after each layer (shapes[0] is the input). */
  readonly shapes: number[][];

  constructor(layers: Layer[], inputShape: readonly number[], dtype: DType = 'float32') {
    if (inputShape.length === 0 || inputShape.some((d) => !Number.isInteger(d) || d < 1)) fail('MODEL_FORMAT', `invalid input shape ${shapeStr(inputShape)}`);
    this.layers = layers;
    this.inputShape = [...inputShape];
    this.dtype = dtype;
    this.shapes = [this.inputShape];
    layers.forEach((l, i) => {
      try {
        this.shapes.push(l.outputShape(this.shapes[i]!));
      } catch (e) {
        fail('SHAPE', `layer ${i} (${l.type}): ${(e as Error).message}`);
      }
      for (const p of l.params()) {
        if (p.tensor.dtype !== dtype) fail('DTYPE', `layer ${i} ${p.name} is ${p.tensor.dtype}, model is ${dtype}`);
        p.tensor.name = `${i}.${p.name}`;
      }
    });
  }

  get outputShape(): number[] {
    return this.shapes[this.shapes.length - 1]!;
  }

  /** Width T of the network output (the natural parameters of the likelihood). */
  get outputDim(): number {
    return sizeOf(this.outputShape);
  }

  /** Maps x [B, ...inputShape] (or [B, prod(inputShape)]) to the output [B, T]. */
  forward(x: Tensor, ctx: ForwardContext = { training: false }): Tensor {
    const per = sizeOf(this.inputShape);
    if (x.rank < 1 || x.size !== x.shape[0]! * per) {
      fail('SHAPE', `model expects inputs of shape [batch, ${this.inputShape.join(', ')}] (${per} features per sample), got ${shapeStr(x.shape)}`);
    }
    if (x.dtype !== this.dtype) fail('DTYPE', `model is ${this.dtype} but the input is ${x.dtype}`);
    // A NaN or infinite input would come out of relu (max-by-comparison, as every backend
    // computes it) as a finite 0: refuse it here, naming the sample and feature.
    const xd = x.data;
    for (let i = 0; i < xd.length; i++) {
      if (!Number.isFinite(xd[i]!)) fail('NON_FINITE', `forward: input sample ${Math.floor(i / per)}, feature ${i % per} is ${xd[i]}`);
    }
    let h = F.reshape(x, [x.shape[0]!, ...this.inputShape]);
    for (const l of this.layers) h = l.forward(h, ctx);
    return F.reshape(h, [x.shape[0]!, this.outputDim]);
  }

  /** Output of every layer (index 0 is the input), for layer-wise curvature code. */
  forwardAll(x: Tensor, ctx: ForwardContext = { training: false }): Tensor[] {
    const outs = [F.reshape(x, [x.shape[0]!, ...this.inputShape])];
    for (const l of this.layers) outs.push(l.forward(outs[outs.length - 1]!, ctx));
    return outs;
  }

  parameters(): Tensor[] {
    return this.layers.flatMap((l) => l.params().map((p) => p.tensor));
  }

  namedParameters(): { name: string; tensor: Tensor; layerIndex: number }[] {
    return this.layers.flatMap((l, i) => l.params().map((p) => ({ name: `${i}.${p.name}`, tensor: p.tensor, layerIndex: i })));
  }

  /** Layers that own parameters, with their parameters. */
  paramGroups(): ParamGroup[] {
    return this.layers
      .map((layer, index) => ({ index, label: `${index}:${layer.type}`, layer, params: layer.params() }))
      .filter((g) => g.params.length > 0);
  }

  numParams(): number {
    return this.parameters().reduce((s, p) => s + p.size, 0);
  }

  spec(): ModelSpec {
    return { inputShape: [...this.inputShape], layers: this.layers.map((l) => l.spec()) };
  }

  /** A copy with the same weights (converted to `dtype`). */
  clone(dtype: DType = this.dtype): Sequential {
    const m = buildModel(this.spec(), null, dtype);
    const src = this.parameters();
    m.parameters().forEach((p, i) => p.data.set(src[i]!.data));
    return m;
  }
}

/** Builds a model from its spec; weights are initialised from `rng` (zeros when rng is null). */
export function buildModel(spec: ModelSpec, rng: Rng | null, dtype: DType = 'float32', init?: InitScheme): Sequential {
  if (!spec || !Array.isArray(spec.layers) || !Array.isArray(spec.inputShape)) fail('MODEL_FORMAT', 'model spec needs inputShape and layers arrays');
  const layers = spec.layers.map((s, i) => {
    // The initialiser follows the activation that consumes this layer's output.
    const next = spec.layers.slice(i + 1).find((t) => t.type === 'activation') as { fn?: ActivationName } | undefined;
    return layerFromSpec(s, { rng: rng ? rng.derive(`layer${i}`) : undefined, dtype, init: init ?? defaultInit(next?.fn) });
  });
  return new Sequential(layers, spec.inputShape, dtype);
}

/** Spec of an MLP: dense layers of `sizes` with `activation` between them (none after the last). */
export function mlpSpec(sizes: readonly number[], activation: ActivationName, opts: { dropout?: number; inputShape?: number[] } = {}): ModelSpec {
  if (sizes.length < 2) fail('INVALID_ARGUMENT', `an MLP needs at least input and output sizes, got ${sizes.join('-')}`);
  if (!isActivationName(activation)) fail('INVALID_ARGUMENT', `unknown activation '${activation}'`);
  const layers: LayerSpec[] = [];
  const inputShape = opts.inputShape ?? [sizes[0]!];
  if (inputShape.length > 1) layers.push({ type: 'flatten' });
  for (let i = 1; i < sizes.length; i++) {
    layers.push({ type: 'dense', in: sizes[i - 1]!, out: sizes[i]! });
    if (i < sizes.length - 1) {
      layers.push({ type: 'activation', fn: activation });
      if (opts.dropout) layers.push({ type: 'dropout', p: opts.dropout });
    }
  }
  return { inputShape, layers };
}

/**
 * Parses an architecture string into a spec. Tokens separated by '-':
 *   N        dense layer with N outputs (a leading N equal to the input size just states it)
 *   cN[kK][sS][pP]  conv2d with N output channels, kernel K (3), stride S (1), padding P (0)
 *   mK / aK  max / average pooling with window and stride K
 *   dP       dropout with probability P (e.g. d0.5)
 * The activation follows every conv and every dense layer but the last; a flatten is inserted
 * before the first dense layer when the input is an image. Examples: "784-256-256-10",
 * "c8k5-m2-c16k3s2-64-10" (on [1, 28, 28] inputs).
 */
export function parseArchitecture(arch: string, activation: ActivationName, inputShape: readonly number[]): ModelSpec {
  if (!isActivationName(activation)) fail('INVALID_ARGUMENT', `unknown activation '${activation}'`);
  const tokens = arch.split('-').map((t) => t.trim()).filter((t) => t.length > 0);
  if (tokens.length === 0) fail('INVALID_ARGUMENT', 'empty architecture string');
  const layers: LayerSpec[] = [];
  let shape = [...inputShape];
  const inputSize = sizeOf(inputShape);
  const denseCount = tokens.filter((t) => /^\d+$/.test(t)).length;
  let denseSeen = 0;
  tokens.forEach((tok, ti) => {
    let m: RegExpMatchArray | null;
    if (/^\d+$/.test(tok)) {
      const n = Number(tok);
      if (ti === 0 && n === inputSize && denseCount > 1) { denseSeen++; return; }
      if (shape.length > 1) { layers.push({ type: 'flatten' }); shape = [sizeOf(shape)]; }
      layers.push({ type: 'dense', in: shape[0]!, out: n });
      shape = [n];
      denseSeen++;
      if (denseSeen < denseCount) layers.push({ type: 'activation', fn: activation });
    } else if ((m = tok.match(/^c(\d+)(?:k(\d+))?(?:s(\d+))?(?:p(\d+))?$/))) {
      if (shape.length !== 3) fail('INVALID_ARGUMENT', `conv token '${tok}' needs image input [C, H, W], have ${shapeStr(shape)}`);
      const spec: LayerSpec = { type: 'conv2d', inChannels: shape[0]!, outChannels: Number(m[1]), kernel: Number(m[2] ?? 3), stride: Number(m[3] ?? 1), padding: Number(m[4] ?? 0) };
      layers.push(spec, { type: 'activation', fn: activation });
      shape = layerFromSpec(spec).outputShape(shape);
    } else if ((m = tok.match(/^([ma])(\d+)$/))) {
      const k = Number(m[2]);
      const spec: LayerSpec = m[1] === 'm' ? { type: 'maxpool2d', kernel: k } : { type: 'avgpool2d', kernel: k };
      layers.push(spec);
      shape = layerFromSpec(spec).outputShape(shape);
    } else if ((m = tok.match(/^d(0?\.\d+|0)$/))) {
      layers.push({ type: 'dropout', p: Number(m[1]) });
    } else {
      fail('INVALID_ARGUMENT', `cannot parse architecture token '${tok}' in '${arch}' (expected N, cN[kK][sS][pP], mK, aK or dP)`);
    }
  });
  return { inputShape: [...inputShape], layers };
}

/** Public entry points taking a model start with this: a clear error instead of a TypeError later. */
export function checkModelArg(who: string, model: unknown): asserts model is Sequential {
  if (!(model instanceof Sequential)) {
    fail('INVALID_ARGUMENT', `${who}: model must be a Sequential (buildModel, loadModel or modelFromJSON), got ${model === null ? 'null' : typeof model === 'object' ? `an object (${(model as object).constructor?.name ?? 'Object'})` : String(model)}`);
  }
}

/**
 * Sets the weights and bias of the last layer that has parameters to zero, so the untrained
 * network predicts the same output for every input (uniform class probabilities, loss log k).
 *
 * Why the trainer starts from it: a randomly initialised output layer gives logits of the scale
 * of the inputs (about 3 on the synthetic blobs), and a near-linear network maps each
 * well-separated cluster wholesale to one class, so the initial accuracy is a random one of
 * 0, 1/k, ..., 1 (0 % for a derangement), far from chance. Adam moves each weight by at most
 * about lr per step, and a short run (2 epochs of 7 steps at lr 1e-3) cannot undo logits of
 * that size. From zero logits the first gradient of the output layer already points along the
 * class means. The hidden layers keep their random initialisation, so they are not symmetric;
 * they receive gradient from the second step on.
 */
export function zeroOutputLayer(model: Sequential): Sequential {
  const last = [...model.layers].reverse().find((l) => l.params().length > 0);
  if (last === undefined) fail('MODEL_FORMAT', 'the model has no layer with parameters to zero');
  for (const p of last.params()) p.tensor.data.fill(0);
  return model;
}
