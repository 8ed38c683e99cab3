/**
 * Exact, compact serialisation of float arrays (model weights, checkpoints): the raw IEEE bytes in
 * little-endian order, base64-encoded. Decimal JSON would also round-trip, but at about four
 * times the size. Browser-safe (no Buffer).
 */
import type { FloatArray } from '../core/dtype.js';
import { fail } from '../core/errors.js';

export interface EncodedArray {
  readonly dtype: 'float32' | 'float64';
  readonly length: number;
  /** Little-endian bytes, base64. */
  readonly base64: string;
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const ENCODE_CODES = Uint8Array.from(ALPHABET, (c) => c.charCodeAt(0));
const LOOKUP = new Int16Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) LOOKUP[ALPHABET.charCodeAt(i)] = i;

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

function littleEndianBytes(a: FloatArray): Uint8Array {
  const bytes = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  if (LITTLE_ENDIAN) return bytes;
  const w = a.BYTES_PER_ELEMENT;
  const out = new Uint8Array(bytes.length);
  for (let i = 0; i < bytes.length; i += w) for (let j = 0; j < w; j++) out[i + j] = bytes[i + w - 1 - j]!;
  return out;
}

export function base64Encode(bytes: Uint8Array): string {
  // Encode into ASCII codes, then decode them as text once: far faster than string concatenation.
  const out = new Uint8Array(Math.ceil(bytes.length / 3) * 4);
  const codes = ENCODE_CODES;
  let o = 0;
  let i = 0;
  const whole = bytes.length - (bytes.length % 3);
  for (; i < whole; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out[o++] = codes[n >>> 18]!;
    out[o++] = codes[(n >>> 12) & 63]!;
    out[o++] = codes[(n >>> 6) & 63]!;
    out[o++] = codes[n & 63]!;
  }
  const rest = bytes.length - whole;
  if (rest > 0) {
    const n = (bytes[i]! << 16) | (rest === 2 ? bytes[i + 1]! << 8 : 0);
    out[o++] = codes[n >>> 18]!;
    out[o++] = codes[(n >>> 12) & 63]!;
    out[o++] = rest === 2 ? codes[(n >>> 6) & 63]! : 61;
    out[o++] = 61; // '='
  }
  return new TextDecoder().decode(out);
}

export function base64Decode(s: string, what: string): Uint8Array {
  if (typeof s !== 'string' || s.length % 4 !== 0) fail('CORRUPT_FILE', `${what}: base64 text has length ${typeof s === 'string' ? s.length : typeof s}, not a multiple of 4`);
  const pad = s.endsWith('==') ? 2 : s.endsWith('=') ? 1 : 0;
  const out = new Uint8Array((s.length / 4) * 3 - pad);
  let o = 0;
  for (let i = 0; i < s.length; i += 4) {
    let n = 0;
    for (let j = 0; j < 4; j++) {
      const c = s.charCodeAt(i + j);
      let v: number;
      if (c === 61 /* '=' */ && i + 4 === s.length && j >= 4 - pad) v = 0;
      else {
        v = c < 128 ? LOOKUP[c]! : -1;
        if (v < 0) fail('CORRUPT_FILE', `${what}: invalid base64 character at offset ${i + j}`);
      }
      n = (n << 6) | v;
    }
    out[o++] = (n >>> 16) & 255;
    if (o < out.length) out[o++] = (n >>> 8) & 255;
    if (o < out.length) out[o++] = n & 255;
  }
  return out;
}

export function encodeFloatArray(a: FloatArray): EncodedArray {
  return { dtype: a instanceof Float32Array ? 'float32' : 'float64', length: a.length, base64: base64Encode(littleEndianBytes(a)) };
}

export function decodeFloatArray(e: EncodedArray, what = 'array'): FloatArray {
  if (e === null || typeof e !== 'object') fail('CORRUPT_FILE', `${what}: expected an encoded array object`);
  if (e.dtype !== 'float32' && e.dtype !== 'float64') fail('CORRUPT_FILE', `${what}: unknown dtype '${String(e.dtype)}'`);
  const w = e.dtype === 'float32' ? 4 : 8;
  const bytes = base64Decode(e.base64, what);
  if (!Number.isInteger(e.length) || bytes.length !== e.length * w) {
    fail('TRUNCATED_FILE', `${what}: ${bytes.length} bytes for ${String(e.length)} ${e.dtype} values (need ${Number(e.length) * w})`);
  }
  const copy = new Uint8Array(bytes.length);
  if (LITTLE_ENDIAN) copy.set(bytes);
  else for (let i = 0; i < bytes.length; i += w) for (let j = 0; j < w; j++) copy[i + j] = bytes[i + w - 1 - j]!;
  return e.dtype === 'float32' ? new Float32Array(copy.buffer) : new Float64Array(copy.buffer);
}
