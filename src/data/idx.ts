/**
 * The IDX format (the container of MNIST and Fashion-MNIST): magic bytes 0x00 0x00, a type code,
 * the number of dimensions, then each dimension as a big-endian uint32, then the elements in
 * big-endian row-major order.
 *
 * Browser-safe: parsing and encoding work on Uint8Array. Gzipped input is recognised by its
 * magic bytes 1f 8b and handed to a gunzip function: `parseIdx` takes a synchronous one (Node
 * passes node:zlib's, see idx-file.ts); `parseIdxAsync` uses the platform's DecompressionStream.
 */
import { FimkitError } from '../core/errors.js';

export type IdxType = 'uint8' | 'int8' | 'int16' | 'int32' | 'float32' | 'float64';
export type IdxData = Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;

export interface IdxArray {
  type: IdxType;
  dims: number[];
  data: IdxData;
}

interface TypeInfo {
  code: number;
  size: number;
  ctor: { new (n: number): IdxData; readonly name: string };
}

export const IDX_TYPES: Readonly<Record<IdxType, TypeInfo>> = {
  uint8: { code: 0x08, size: 1, ctor: Uint8Array },
  int8: { code: 0x09, size: 1, ctor: Int8Array },
  int16: { code: 0x0b, size: 2, ctor: Int16Array },
  int32: { code: 0x0c, size: 4, ctor: Int32Array },
  float32: { code: 0x0d, size: 4, ctor: Float32Array },
  float64: { code: 0x0e, size: 8, ctor: Float64Array },
};

const TYPE_BY_CODE = new Map<number, IdxType>(Object.entries(IDX_TYPES).map(([k, v]) => [v.code, k as IdxType]));

/** IDX stores each dimension as one byte's worth of count; more than this is no real file. */
const MAX_DIMS = 32;

export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

const hex = (b: number): string => `0x${b.toString(16).padStart(2, '0')}`;

export interface ParseIdxOptions {
  /** Names the data in error messages (a file path, a URL). */
  source?: string;
  /** Synchronous gunzip, used when the bytes start with the gzip magic. */
  gunzip?: (bytes: Uint8Array, source: string) => Uint8Array;
}

/**
 * Parses IDX bytes (raw, or gzipped when `gunzip` is given) and checks the header and that the
 * length is exactly header + prod(dims) × element size: shorter is TRUNCATED_FILE, longer is
 * CORRUPT_FILE (trailing bytes).
 */
export function parseIdx(bytes: Uint8Array, opts: ParseIdxOptions = {}): IdxArray {
  const source = opts.source ?? 'IDX data';
  if (isGzip(bytes)) {
    if (!opts.gunzip) {
      throw new FimkitError('INVALID_ARGUMENT', `${source} is gzip-compressed; decompress it first or use parseIdxAsync / readIdxFile`);
    }
    bytes = opts.gunzip(bytes, source);
  }
  return parseRawIdx(bytes, source);
}

/** As parseIdx, decompressing gzip with the platform's DecompressionStream (browsers, Node ≥ 18). */
export async function parseIdxAsync(bytes: Uint8Array, source = 'IDX data'): Promise<IdxArray> {
  if (isGzip(bytes)) bytes = await gunzipWithStreams(bytes, source);
  return parseRawIdx(bytes, source);
}

async function gunzipWithStreams(bytes: Uint8Array, source: string): Promise<Uint8Array> {
  const DS = (globalThis as { DecompressionStream?: new (format: string) => TransformStream<Uint8Array, Uint8Array> }).DecompressionStream;
  if (!DS) throw new FimkitError('INVALID_ARGUMENT', `${source} is gzip-compressed and this platform has no DecompressionStream`);
  try {
    const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new DS('gzip'));
    return new Uint8Array(await new Response(stream).arrayBuffer());
  } catch (e) {
    throw new FimkitError('CORRUPT_FILE', `${source}: gzip stream is corrupt (${(e as Error).message})`);
  }
}

function parseRawIdx(bytes: Uint8Array, source: string): IdxArray {
  if (bytes.length < 4) {
    throw new FimkitError('TRUNCATED_FILE', `${source}: ${bytes.length} bytes, too short for the 4-byte IDX magic`);
  }
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    throw new FimkitError(
      'CORRUPT_FILE',
      `${source}: bad IDX magic: expected first bytes 0x00 0x00, got ${hex(bytes[0]!)} ${hex(bytes[1]!)}`,
    );
  }
  const type = TYPE_BY_CODE.get(bytes[2]!);
  if (type === undefined) {
    throw new FimkitError(
      'CORRUPT_FILE',
      `${source}: unknown IDX type code ${hex(bytes[2]!)} (valid: 0x08 ubyte, 0x09 byte, 0x0b short, 0x0c int, 0x0d float, 0x0e double)`,
    );
  }
  const ndims = bytes[3]!;
  if (ndims < 1 || ndims > MAX_DIMS) {
    throw new FimkitError('CORRUPT_FILE', `${source}: IDX dimension count ${ndims} is outside 1..${MAX_DIMS}`);
  }
  const headerBytes = 4 + 4 * ndims;
  if (bytes.length < headerBytes) {
    throw new FimkitError(
      'TRUNCATED_FILE',
      `${source}: truncated IDX header: ${ndims} dimensions need ${headerBytes} header bytes, the data has ${bytes.length}`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  let count = 1;
  for (let a = 0; a < ndims; a++) {
    const d = view.getUint32(4 + 4 * a, false);
    dims.push(d);
    count *= d;
  }
  const { size, ctor } = IDX_TYPES[type];
  const expected = headerBytes + count * size;
  if (bytes.length < expected) {
    throw new FimkitError(
      'TRUNCATED_FILE',
      `${source}: truncated IDX file: header says ${type} [${dims.join(' × ')}], which needs ${expected} bytes, but there are ${bytes.length}`,
    );
  }
  if (bytes.length > expected) {
    throw new FimkitError(
      'CORRUPT_FILE',
      `${source}: ${bytes.length - expected} trailing bytes after the IDX data (header says ${type} [${dims.join(' × ')}] = ${expected} bytes, got ${bytes.length})`,
    );
  }
  const data = new ctor(count);
  if (size === 1) {
    (data as Uint8Array | Int8Array).set(
      type === 'uint8' ? bytes.subarray(headerBytes) : new Int8Array(bytes.buffer, bytes.byteOffset + headerBytes, count),
    );
  } else {
    readBigEndian(view, headerBytes, type, data);
  }
  return { type, dims, data };
}

function readBigEndian(view: DataView, off: number, type: IdxType, out: IdxData): void {
  const n = out.length;
  switch (type) {
    case 'int16':
      for (let i = 0; i < n; i++) out[i] = view.getInt16(off + 2 * i, false);
      break;
    case 'int32':
      for (let i = 0; i < n; i++) out[i] = view.getInt32(off + 4 * i, false);
      break;
    case 'float32':
      for (let i = 0; i < n; i++) out[i] = view.getFloat32(off + 4 * i, false);
      break;
    case 'float64':
      for (let i = 0; i < n; i++) out[i] = view.getFloat64(off + 8 * i, false);
      break;
    default:
      throw new Error(`unreachable: ${type}`);
  }
}

/** The uncompressed IDX bytes of `arr` (compress them yourself, or use writeIdxFile). */
export function encodeIdx(arr: IdxArray): Uint8Array {
  const info = IDX_TYPES[arr.type];
  if (info === undefined) throw new FimkitError('INVALID_ARGUMENT', `encodeIdx: unknown IDX type '${String(arr.type)}'`);
  if (!(arr.data instanceof info.ctor)) {
    throw new FimkitError('DTYPE', `encodeIdx: type ${arr.type} needs a ${info.ctor.name}, got ${arr.data.constructor.name}`);
  }
  if (arr.dims.length < 1 || arr.dims.length > MAX_DIMS) {
    throw new FimkitError('SHAPE', `encodeIdx: IDX needs 1..${MAX_DIMS} dimensions, got ${arr.dims.length}`);
  }
  let count = 1;
  for (const d of arr.dims) {
    if (!Number.isInteger(d) || d < 0 || d > 0xffffffff) {
      throw new FimkitError('SHAPE', `encodeIdx: dimension ${d} is not an integer in [0, 2^32)`);
    }
    count *= d;
  }
  if (count !== arr.data.length) {
    throw new FimkitError('SHAPE', `encodeIdx: dims [${arr.dims.join(' × ')}] hold ${count} elements, data has ${arr.data.length}`);
  }
  const headerBytes = 4 + 4 * arr.dims.length;
  const out = new Uint8Array(headerBytes + count * info.size);
  const view = new DataView(out.buffer);
  out[2] = info.code;
  out[3] = arr.dims.length;
  arr.dims.forEach((d, a) => view.setUint32(4 + 4 * a, d, false));
  const off = headerBytes;
  const data = arr.data;
  switch (arr.type) {
    case 'uint8':
      out.set(data as Uint8Array, off);
      break;
    case 'int8':
      out.set(new Uint8Array(data.buffer, data.byteOffset, count), off);
      break;
    case 'int16':
      for (let i = 0; i < count; i++) view.setInt16(off + 2 * i, data[i]!, false);
      break;
    case 'int32':
      for (let i = 0; i < count; i++) view.setInt32(off + 4 * i, data[i]!, false);
      break;
    case 'float32':
      for (let i = 0; i < count; i++) view.setFloat32(off + 4 * i, data[i]!, false);
      break;
    case 'float64':
      for (let i = 0; i < count; i++) view.setFloat64(off + 8 * i, data[i]!, false);
      break;
  }
  return out;
}
