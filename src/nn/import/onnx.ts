/**
 * ONNX import: a graph as torch.onnx.export writes it for an MLP or CNN becomes a Sequential.
 * The protobuf is decoded by the onnx-proto package (generated protobufjs code for onnx.proto).
 *
 * The graph must be a chain: one data input, every node consuming the previous node's output
 * plus constants (initializers or Constant nodes). Recognised, in any opset torch writes (7–17):
 *   Gemm (transA 0; transB either way; alpha/beta folded into the weights)  → dense
 *   MatMul with a constant right operand, optionally followed by Add of a constant → dense
 *   Conv (2-D, group 1, dilation 1, symmetric pads)                          → conv2d
 *   MaxPool / AveragePool (square window, symmetric pads, ceil_mode 0)       → maxpool2d / avgpool2d
 *   Pad of zeros before an AveragePool (torch's count_include_pad form)     → avgpool2d padding
 *   Flatten (axis 1), Reshape to [batch, features]                          → flatten
 *   Dropout (ratio as attribute before opset 12, as input from 12)          → dropout
 *   Relu, Sigmoid, Tanh, Softplus, LeakyRelu, Gelu (opset 20 op, or the erf
 *   decomposition Div(√2)·Erf·Add(1)·Mul(x)·Mul(0.5) older exporters write) → activation
 *   Identity (skipped); a final Softmax / LogSoftmax over the class axis is folded into the
 *   categorical likelihood (see ImportedModel.foldedOutput).
 * Anything else is an UNSUPPORTED_OPERATOR error listing the operators found and those supported.
 */
import onnxProto from 'onnx-proto';
import type { DType } from '../../core/dtype.js';
import { fail, shapeStr } from '../../core/errors.js';
import type { ActivationName, LayerSpec } from '../layers.js';
import { buildImported, transpose2d, type ImportedModel, type ModelDraft } from './common.js';

const { onnx } = onnxProto;
type INode = onnxProto.onnx.INodeProto;
type ITensor = onnxProto.onnx.ITensorProto;
type IAttr = onnxProto.onnx.IAttributeProto;

/** Operators the importer maps (Div, Erf, Add, Mul only inside the patterns above). */
export const ONNX_SUPPORTED_OPS = [
  'Gemm', 'MatMul', 'Add', 'Conv', 'MaxPool', 'AveragePool', 'Pad', 'Flatten', 'Reshape', 'Dropout', 'Identity', 'Constant',
  'Relu', 'Sigmoid', 'Tanh', 'Softplus', 'LeakyRelu', 'Gelu', 'Div', 'Erf', 'Mul', 'Softmax', 'LogSoftmax',
] as const;

const SIMPLE_ACTIVATIONS: Record<string, ActivationName> = { Relu: 'relu', Sigmoid: 'sigmoid', Tanh: 'tanh', Softplus: 'softplus' };

interface ConstValue {
  dims: number[];
  data: Float64Array;
}

function num(v: number | { toNumber(): number } | null | undefined): number {
  if (v === null || v === undefined) return 0;
  return typeof v === 'number' ? v : v.toNumber();
}

function tensorValue(t: ITensor, what: string): ConstValue {
  const dims = (t.dims ?? []).map(num);
  const n = dims.reduce((a, b) => a * b, 1);
  const raw = t.rawData && t.rawData.length > 0 ? t.rawData : null;
  const view = raw ? new DataView(raw.buffer, raw.byteOffset, raw.byteLength) : null;
  const out = new Float64Array(n);
  const need = (bytes: number): void => {
    if (view && view.byteLength !== n * bytes) fail('TRUNCATED_FILE', `${what}: tensor of shape ${shapeStr(dims)} has ${view.byteLength} bytes of data, needs ${n * bytes}`);
  };
  const fromList = (list: ArrayLike<number | { toNumber(): number }> | null | undefined): void => {
    const l = list ?? [];
    if (l.length !== n) fail('TRUNCATED_FILE', `${what}: tensor of shape ${shapeStr(dims)} has ${l.length} values, needs ${n}`);
    for (let i = 0; i < n; i++) out[i] = num(l[i]);
  };
  switch (t.dataType) {
    case onnx.TensorProto.DataType.FLOAT:
      if (view) { need(4); for (let i = 0; i < n; i++) out[i] = view.getFloat32(4 * i, true); } else fromList(t.floatData);
      break;
    case onnx.TensorProto.DataType.DOUBLE:
      if (view) { need(8); for (let i = 0; i < n; i++) out[i] = view.getFloat64(8 * i, true); } else fromList(t.doubleData);
      break;
    case onnx.TensorProto.DataType.INT64:
      if (view) { need(8); for (let i = 0; i < n; i++) out[i] = Number(view.getBigInt64(8 * i, true)); } else fromList(t.int64Data);
      break;
    case onnx.TensorProto.DataType.INT32:
      if (view) { need(4); for (let i = 0; i < n; i++) out[i] = view.getInt32(4 * i, true); } else fromList(t.int32Data);
      break;
    default:
      fail('MODEL_FORMAT', `${what}: tensor data type ${String(t.dataType)} is not supported (float, double, int32 and int64 are)`);
  }
  for (let i = 0; i < n; i++) if (!Number.isFinite(out[i]!)) fail('MODEL_FORMAT', `${what}: entry ${i} is ${out[i]}, not a finite number`);
  return { dims, data: out };
}

function attr(node: INode, name: string): IAttr | undefined {
  return (node.attribute ?? []).find((a) => a.name === name);
}
function attrInt(node: INode, name: string, dflt: number): number {
  const a = attr(node, name);
  return a ? num(a.i) : dflt;
}
function attrFloat(node: INode, name: string, dflt: number): number {
  const a = attr(node, name);
  return a ? (a.f ?? dflt) : dflt;
}
function attrInts(node: INode, name: string): number[] | undefined {
  const a = attr(node, name);
  return a ? (a.ints ?? []).map(num) : undefined;
}
function attrString(node: INode, name: string): string | undefined {
  const a = attr(node, name);
  return a?.s ? new TextDecoder().decode(a.s) : undefined;
}

/** Decodes the protobuf; malformed bytes are CORRUPT_FILE, bytes that end early TRUNCATED_FILE. */
export function decodeOnnx(bytes: Uint8Array, source = 'ONNX model'): onnxProto.onnx.ModelProto {
  let m: onnxProto.onnx.ModelProto;
  try {
    m = onnx.ModelProto.decode(bytes);
  } catch (e) {
    const msg = (e as Error).message;
    if (/index out of range/.test(msg)) fail('TRUNCATED_FILE', `${source} ends early (truncated protobuf: ${msg})`);
    fail('CORRUPT_FILE', `${source} is not a valid ONNX protobuf: ${msg}`);
  }
  if (!m.graph || (m.graph.node ?? []).length === 0) fail('CORRUPT_FILE', `${source} has no graph nodes: not an ONNX model, or a damaged one`);
  return m;
}

/** Imports an ONNX model (the bytes of a .onnx file). */
export function importOnnx(bytes: Uint8Array, opts: { dtype?: DType; source?: string } = {}): ImportedModel {
  const source = opts.source ?? 'ONNX model';
  const m = decodeOnnx(bytes, source);
  const g = m.graph!;
  const opset = num((m.opsetImport ?? []).find((o) => !o.domain || o.domain === 'ai.onnx')?.version) || 1;
  const allNodes = g.node ?? [];

  const found = [...new Set(allNodes.map((n) => n.opType ?? ''))];
  const unsupported = found.filter((op) => !(ONNX_SUPPORTED_OPS as readonly string[]).includes(op));
  if (unsupported.length > 0) {
    fail('UNSUPPORTED_OPERATOR', `${source}: unsupported ONNX operator${unsupported.length > 1 ? 's' : ''} ${unsupported.join(', ')}. Operators in the graph: ${found.join(', ')}. fimkit imports: ${ONNX_SUPPORTED_OPS.join(', ')}`);
  }

  const consts = new Map<string, ConstValue>();
  for (const t of g.initializer ?? []) consts.set(t.name ?? '', tensorValue(t, `${source}: initializer '${t.name}'`));
  // Constant nodes first: exporters interleave them with the layers' nodes (e.g. inside Gelu's
  // erf form), and the chain walk below then sees only the nodes that transform the data.
  allNodes.forEach((n, i) => {
    if (n.opType !== 'Constant') return;
    const v = attr(n, 'value');
    if (!v?.t) fail('MODEL_FORMAT', `${source}: node ${i} (Constant '${n.name ?? ''}') has no tensor 'value' (only tensor constants are supported)`);
    consts.set((n.output ?? [])[0] ?? '', tensorValue(v.t, `${source}: Constant '${n.name ?? ''}'`));
  });
  const nodes = allNodes.filter((n) => n.opType !== 'Constant');
  const dataInputs = (g.input ?? []).filter((i) => !consts.has(i.name ?? ''));
  if (dataInputs.length !== 1) fail('MODEL_FORMAT', `${source}: expected one data input, found ${dataInputs.length} (${dataInputs.map((i) => i.name).join(', ')})`);
  const input = dataInputs[0]!;
  const dims = input.type?.tensorType?.shape?.dim ?? [];
  if (dims.length < 2) fail('MODEL_FORMAT', `${source}: input '${input.name}' has rank ${dims.length}; expected [batch, ...features]`);
  const inputShape = dims.slice(1).map((d, i) => {
    const v = num(d.dimValue);
    if (!(v >= 1)) fail('MODEL_FORMAT', `${source}: input dimension ${i + 1} is symbolic ('${d.dimParam}'); only the batch dimension may be`);
    return v;
  });
  const outputs = (g.output ?? []).map((o) => o.name ?? '');
  if (outputs.length !== 1) fail('MODEL_FORMAT', `${source}: expected one graph output, found ${outputs.length}`);

  const draft: ModelDraft = { inputShape, layers: [], weights: new Map() };
  const notes: string[] = [`ONNX opset ${opset}, producer ${m.producerName || 'unknown'} ${m.producerVersion || ''}`.trim()];
  let cur = input.name ?? '';
  let shape = [...inputShape];
  let folded: ImportedModel['foldedOutput'] = null;
  const aliases = new Map<string, string>();
  let pendingPad = 0;
  const resolve = (name: string): string => aliases.get(name) ?? name;
  const constOf = (name: string | undefined, what: string): ConstValue => {
    const c = name === undefined ? undefined : consts.get(resolve(name));
    if (!c) fail('MODEL_FORMAT', `${source}: ${what} '${name}' must be a constant (an initializer or Constant node)`);
    return c;
  };
  const scalarOf = (name: string | undefined): number | undefined => {
    const c = name === undefined ? undefined : consts.get(resolve(name));
    return c && c.data.length === 1 ? c.data[0]! : undefined;
  };
  const takesCur = (n: INode): boolean => (n.input ?? []).some((i) => resolve(i) === cur);
  const push = (spec: LayerSpec, weights?: Record<string, { shape: number[]; data: ArrayLike<number> }>): void => {
    if (weights) draft.weights.set(draft.layers.length, weights);
    draft.layers.push(spec);
  };
  const nodeName = (n: INode, i: number): string => `node ${i} (${n.opType}${n.name ? ` '${n.name}'` : ''})`;
  const pairOf = (v: number[] | undefined, dflt: number, what: string, n: INode, i: number): [number, number] => {
    const a = v ?? [dflt, dflt];
    if (a.length !== 2) fail('UNSUPPORTED_OPERATOR', `${source}: ${nodeName(n, i)}: ${what} ${JSON.stringify(a)}: only 2-D operators are supported`);
    return [a[0]!, a[1]!];
  };
  const symmetricPads = (n: INode, i: number): [number, number] => {
    const autoPad = attrString(n, 'auto_pad');
    if (autoPad && autoPad !== 'NOTSET' && autoPad !== 'VALID') fail('UNSUPPORTED_OPERATOR', `${source}: ${nodeName(n, i)}: auto_pad ${autoPad} is not supported (explicit symmetric pads are)`);
    const p = attrInts(n, 'pads') ?? [0, 0, 0, 0];
    if (p.length !== 4 || p[0] !== p[2] || p[1] !== p[3]) fail('UNSUPPORTED_OPERATOR', `${source}: ${nodeName(n, i)}: pads ${JSON.stringify(p)} are not symmetric; fimkit pads both sides alike`);
    return [p[0]!, p[1]!];
  };

  for (let i = 0; i < nodes.length; i++) {
    const n = nodes[i]!;
    const op = n.opType ?? '';
    const ins = n.input ?? [];
    const out0 = (n.output ?? [])[0] ?? '';
    if (op === 'Identity' && consts.has(resolve(ins[0] ?? ''))) {
      consts.set(out0, consts.get(resolve(ins[0] ?? ''))!);
      continue;
    }
    if (!takesCur(n)) {
      fail('UNSUPPORTED_OPERATOR', `${source}: ${nodeName(n, i)} does not consume the previous layer's output '${cur}': fimkit imports chains of layers (Sequential models); operators found: ${found.join(', ')}`);
    }
    const advance = (name: string): void => { cur = name; };
    switch (op) {
      case 'Identity':
        aliases.set(out0, cur);
        break;
      case 'Gemm': {
        if (shape.length !== 1) fail('SHAPE', `${source}: ${nodeName(n, i)} needs a flat input; the previous output has per-sample shape ${shapeStr(shape)}`);
        if (attrInt(n, 'transA', 0) !== 0) fail('UNSUPPORTED_OPERATOR', `${source}: ${nodeName(n, i)}: transA=1 is not supported`);
        const w = constOf(ins[1], 'Gemm weight');
        const transB = attrInt(n, 'transB', 0);
        const alpha = attrFloat(n, 'alpha', 1);
        const beta = attrFloat(n, 'beta', 1);
        if (w.dims.length !== 2) fail('MODEL_FORMAT', `${source}: ${nodeName(n, i)}: weight has shape ${shapeStr(w.dims)}, expected a matrix`);
        const [nout, nin] = transB ? [w.dims[0]!, w.dims[1]!] : [w.dims[1]!, w.dims[0]!];
        if (nin !== shape[0]) fail('SHAPE', `${source}: ${nodeName(n, i)}: weight takes ${nin} inputs, the previous output has ${shape[0]}`);
        const wd = transB ? Float64Array.from(w.data) : transpose2d(w.data, nin, nout);
        if (alpha !== 1) for (let k = 0; k < wd.length; k++) wd[k]! *= alpha;
        const weights: Record<string, { shape: number[]; data: ArrayLike<number> }> = { weight: { shape: [nout, nin], data: wd } };
        if (ins[2]) {
          const c = constOf(ins[2], 'Gemm bias');
          if (c.data.length !== nout) fail('UNSUPPORTED_OPERATOR', `${source}: ${nodeName(n, i)}: bias of shape ${shapeStr(c.dims)} is not one value per output (${nout})`);
          weights['bias'] = { shape: [nout], data: c.data.map((v) => beta * v) };
        }
        push({ type: 'dense', in: nin, out: nout, bias: !!ins[2] }, weights);
        shape = [nout];
        advance(out0);
        break;
      }
      case 'MatMul': {
        if (shape.length !== 1) fail('SHAPE', `${source}: ${nodeName(n, i)} needs a flat input; the previous output has per-sample shape ${shapeStr(shape)}`);
        if (resolve(ins[0] ?? '') !== cur) fail('UNSUPPORTED_OPERATOR', `${source}: ${nodeName(n, i)}: only x·W with the data on the left is supported`);
        const w = constOf(ins[1], 'MatMul weight');
        if (w.dims.length !== 2 || w.dims[0] !== shape[0]) fail('SHAPE', `${source}: ${nodeName(n, i)}: weight of shape ${shapeStr(w.dims)} does not take the previous output's ${shape[0]} features`);
        const [nin, nout] = [w.dims[0]!, w.dims[1]!];
        const weights: Record<string, { shape: number[]; data: ArrayLike<number> }> = { weight: { shape: [nout, nin], data: transpose2d(w.data, nin, nout) } };
        // A following Add of a constant vector is the bias.
        const next = nodes[i + 1];
        let outName = out0;
        if (next?.opType === 'Add' && (next.input ?? []).includes(out0)) {
          const other = (next.input ?? []).find((x) => x !== out0);
          const c = other === undefined ? undefined : consts.get(resolve(other));
          if (c && c.data.length === nout) {
            weights['bias'] = { shape: [nout], data: c.data };
            outName = (next.output ?? [])[0] ?? '';
            i++;
          }
        }
        push({ type: 'dense', in: nin, out: nout, bias: 'bias' in weights }, weights);
        shape = [nout];
        advance(outName);
        break;
      }
      case 'Conv': {
        if (shape.length !== 3) fail('SHAPE', `${source}: ${nodeName(n, i)} needs per-sample input [C, H, W], got ${shapeStr(shape)}`);
        const w = constOf(ins[1], 'Conv weight');
        if (w.dims.length !== 4) fail('UNSUPPORTED_OPERATOR', `${source}: ${nodeName(n, i)}: weight of shape ${shapeStr(w.dims)}; only 2-D convolutions are supported`);
        if (attrInt(n, 'group', 1) !== 1) fail('UNSUPPORTED_OPERATOR', `${source}: ${nodeName(n, i)}: grouped convolution (group ${attrInt(n, 'group', 1)}) is not supported`);
        const dil = attrInts(n, 'dilations');
        if (dil && dil.some((d) => d !== 1)) fail('UNSUPPORTED_OPERATOR', `${source}: ${nodeName(n, i)}: dilations ${JSON.stringify(dil)} are not supported`);
        const [cout, cin, kh, kw] = w.dims as [number, number, number, number];
        if (cin !== shape[0]) fail('SHAPE', `${source}: ${nodeName(n, i)}: weight takes ${cin} channels, the input has ${shape[0]}`);
        const stride = pairOf(attrInts(n, 'strides'), 1, 'strides', n, i);
        const padding = symmetricPads(n, i);
        const weights: Record<string, { shape: number[]; data: ArrayLike<number> }> = { weight: { shape: [cout, cin, kh, kw], data: w.data } };
        if (ins[2]) weights['bias'] = { shape: [cout], data: constOf(ins[2], 'Conv bias').data };
        const spec: LayerSpec = { type: 'conv2d', inChannels: cin, outChannels: cout, kernel: [kh, kw], stride, padding, bias: !!ins[2] };
        push(spec, weights);
        shape = [cout, Math.floor((shape[1]! + 2 * padding[0] - kh) / stride[0]) + 1, Math.floor((shape[2]! + 2 * padding[1] - kw) / stride[1]) + 1];
        advance(out0);
        break;
      }
      case 'Pad': {
        const mode = attrString(n, 'mode') ?? 'constant';
        const pads = opset < 11 ? (attrInts(n, 'pads') ?? []) : Array.from(constOf(ins[1], 'Pad pads').data);
        const value = opset < 11 ? attrFloat(n, 'value', 0) : (ins[2] ? (scalarOf(ins[2]) ?? NaN) : 0);
        if (mode !== 'constant' || value !== 0) fail('UNSUPPORTED_OPERATOR', `${source}: ${nodeName(n, i)}: only zero padding is supported (mode ${mode}, value ${value})`);
        if (pads.every((p) => p === 0)) { aliases.set(out0, cur); break; }
        // [b0, c0, h0, w0, b1, c1, h1, w1]: spatial and symmetric, then an AveragePool takes it.
        const next = nodes[i + 1];
        const sym = pads.length === 8 && pads[0] === 0 && pads[1] === 0 && pads[4] === 0 && pads[5] === 0 && pads[2] === pads[6] && pads[3] === pads[7] && pads[2] === pads[3];
        if (!sym || next?.opType !== 'AveragePool' || (next.input ?? [])[0] !== out0 || (attrInts(next, 'pads') ?? [0]).some((p) => p !== 0)) {
          fail('UNSUPPORTED_OPERATOR', `${source}: ${nodeName(n, i)}: Pad ${JSON.stringify(pads)} is supported only as the symmetric zero padding of a following AveragePool`);
        }
        pendingPad = pads[2]!;
        aliases.set(out0, cur);
        break;
      }
      case 'MaxPool':
      case 'AveragePool': {
        if (shape.length !== 3) fail('SHAPE', `${source}: ${nodeName(n, i)} needs per-sample input [C, H, W], got ${shapeStr(shape)}`);
        const [kh, kw] = pairOf(attrInts(n, 'kernel_shape'), 1, 'kernel_shape', n, i);
        const [sh, sw] = pairOf(attrInts(n, 'strides'), 1, 'strides', n, i);
        let [ph, pw] = symmetricPads(n, i);
        // Zeros padded by a preceding Pad count in the mean, as fimkit's avgpool2d counts them.
        const padded = pendingPad > 0;
        if (padded) { ph = pendingPad; pw = pendingPad; pendingPad = 0; }
        if (kh !== kw || sh !== sw || ph !== pw) fail('UNSUPPORTED_OPERATOR', `${source}: ${nodeName(n, i)}: window ${kh}×${kw}, strides ${sh},${sw}, pads ${ph},${pw}: fimkit pools square windows with equal strides and pads`);
        if (attrInt(n, 'ceil_mode', 0) !== 0) fail('UNSUPPORTED_OPERATOR', `${source}: ${nodeName(n, i)}: ceil_mode=1 is not supported`);
        const dil = attrInts(n, 'dilations');
        if (dil && dil.some((d) => d !== 1)) fail('UNSUPPORTED_OPERATOR', `${source}: ${nodeName(n, i)}: dilations are not supported`);
        if (op === 'AveragePool' && ph > 0 && attrInt(n, 'count_include_pad', 0) === 0 && !padded) {
          fail('UNSUPPORTED_OPERATOR', `${source}: ${nodeName(n, i)}: padded average pooling that excludes the padding (count_include_pad=0) is not supported; fimkit divides by the window area`);
        }
        push({ type: op === 'MaxPool' ? 'maxpool2d' : 'avgpool2d', kernel: kh, stride: sh, padding: ph });
        shape = [shape[0]!, Math.floor((shape[1]! + 2 * ph - kh) / sh) + 1, Math.floor((shape[2]! + 2 * pw - kw) / sw) + 1];
        advance(out0);
        break;
      }
      case 'Flatten':
      case 'Reshape': {
        const total = shape.reduce((a, b) => a * b, 1);
        if (op === 'Flatten') {
          const axis = attrInt(n, 'axis', 1);
          if (axis !== 1) fail('UNSUPPORTED_OPERATOR', `${source}: ${nodeName(n, i)}: Flatten axis ${axis} is not supported (axis 1 keeps the batch)`);
        } else {
          const target = Array.from(constOf(ins[1], 'Reshape shape').data);
          const ok = target.length === 2 && (target[0] === -1 || target[0] === 0 || target[1] === -1 || target[1] === total) && (target[1] === -1 || target[1] === total);
          if (!ok) fail('UNSUPPORTED_OPERATOR', `${source}: ${nodeName(n, i)}: Reshape to ${JSON.stringify(target)} is not supported; only flattening each sample ([batch, ${total}]) is`);
        }
        if (shape.length > 1) push({ type: 'flatten' });
        shape = [total];
        advance(out0);
        break;
      }
      case 'Dropout': {
        const p = opset < 12 ? attrFloat(n, 'ratio', 0.5) : (ins[1] ? (scalarOf(ins[1]) ?? fail('MODEL_FORMAT', `${source}: ${nodeName(n, i)}: ratio must be a constant`)) : 0.5);
        push({ type: 'dropout', p });
        aliases.set(out0, cur);
        break;
      }
      case 'Relu':
      case 'Sigmoid':
      case 'Tanh':
      case 'Softplus':
        push({ type: 'activation', fn: SIMPLE_ACTIVATIONS[op]! });
        advance(out0);
        break;
      case 'LeakyRelu':
        push({ type: 'activation', fn: 'leaky-relu', slope: attrFloat(n, 'alpha', 0.01) });
        advance(out0);
        break;
      case 'Gelu': {
        const approx = attrString(n, 'approximate') ?? 'none';
        if (approx !== 'none') fail('UNSUPPORTED_OPERATOR', `${source}: ${nodeName(n, i)}: Gelu approximate='${approx}' is not supported (the exact erf form is)`);
        push({ type: 'activation', fn: 'gelu' });
        advance(out0);
        break;
      }
      case 'Div': {
        const end = matchGeluDecomposition(nodes, i, cur, resolve, scalarOf);
        if (end === null) fail('UNSUPPORTED_OPERATOR', `${source}: ${nodeName(n, i)} is not part of a pattern fimkit recognises (Div, Erf, Add, Mul appear only as the erf form of Gelu)`);
        push({ type: 'activation', fn: 'gelu' });
        i = end;
        advance((nodes[end]!.output ?? [])[0] ?? '');
        break;
      }
      case 'Softmax':
      case 'LogSoftmax': {
        const axis = attrInt(n, 'axis', opset < 13 ? 1 : -1);
        const last = i === nodes.length - 1 && outputs[0] === out0;
        if (!last || shape.length !== 1 || !(axis === 1 || axis === -1)) {
          fail('UNSUPPORTED_OPERATOR', `${source}: ${nodeName(n, i)}: ${op} is supported only as the graph's last node over the class axis of a flat output (it is folded into the categorical likelihood)`);
        }
        folded = op === 'Softmax' ? 'softmax' : 'log-softmax';
        notes.push(`final ${op} folded into the categorical likelihood: the imported network outputs its logits`);
        advance(out0);
        break;
      }
      default:
        fail('UNSUPPORTED_OPERATOR', `${source}: ${nodeName(n, i)} is not supported here. Operators in the graph: ${found.join(', ')}. fimkit imports: ${ONNX_SUPPORTED_OPS.join(', ')}`);
    }
  }
  if (resolve(cur) !== resolve(outputs[0]!)) fail('MODEL_FORMAT', `${source}: the chain of layers ends at '${cur}', not at the graph output '${outputs[0]}'`);
  const model = buildImported(draft, source, opts.dtype);
  return { model, format: 'onnx', foldedOutput: folded, ...(folded ? { likelihood: 'categorical' as const } : {}), notes };
}

/**
 * Matches the erf form of Gelu starting at nodes[i] (a Div): y = (x · (erf(x / √2) + 1)) · 0.5,
 * in the node order torch writes (Div, Erf, Add, Mul, Mul) with either operand order of Add and
 * Mul. Returns the index of the last node, or null.
 */
function matchGeluDecomposition(nodes: readonly INode[], i: number, cur: string, resolve: (s: string) => string, scalarOf: (s: string | undefined) => number | undefined): number | null {
  const [div, erf, add, mul1, mul2] = nodes.slice(i, i + 5);
  if (!div || !erf || !add || !mul1 || !mul2) return null;
  const out = (n: INode): string => (n.output ?? [])[0] ?? '';
  const other = (n: INode, known: string): string | undefined => {
    const ins = (n.input ?? []).map(resolve);
    if (ins.length !== 2 || !ins.includes(known)) return undefined;
    return ins[0] === known ? ins[1] : ins[0];
  };
  const near = (a: number | undefined, b: number): boolean => a !== undefined && Math.abs(a - b) <= 1e-6 * Math.abs(b);
  const divIns = (div.input ?? []).map(resolve);
  if (divIns[0] !== cur || !near(scalarOf(divIns[1]), Math.SQRT2)) return null;
  if (erf.opType !== 'Erf' || resolve((erf.input ?? [])[0] ?? '') !== out(div)) return null;
  if (add.opType !== 'Add' || !near(scalarOf(other(add, out(erf))), 1)) return null;
  if (mul1.opType !== 'Mul' || other(mul1, out(add)) !== cur) return null;
  if (mul2.opType !== 'Mul' || !near(scalarOf(other(mul2, out(mul1))), 0.5)) return null;
  return i + 4;
}
