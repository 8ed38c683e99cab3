/**
 * Node-only file helpers of the data module: reading files with IO errors that name the path,
 * gunzip with errors that say what is wrong with the stream, IDX files, and digests.
 * Everything browser-safe lives in idx.ts / dataset.ts / tabular.ts / synthetic.ts.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { constants as zc, gunzipSync, gzipSync } from 'node:zlib';
import { FimkitError } from '../core/errors.js';
import { writeFileAtomic } from '../io/atomic.js';
import type { Dataset } from './dataset.js';
import { type IdxArray, encodeIdx, parseIdx } from './idx.js';
import { type TabularOptions, parseCsv, parseJsonDataset } from './tabular.js';

export function readFileBytes(path: string): Uint8Array {
  try {
    const b = readFileSync(path);
    return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const why = err.code === 'ENOENT' ? 'no such file' : err.code === 'EISDIR' ? 'is a directory' : err.message;
    throw new FimkitError('IO', `cannot read ${path}: ${why}`);
  }
}

/**
 * node:zlib gunzip. A stream that stops early is TRUNCATED_FILE; any other zlib complaint
 * (bad header, bad block, CRC or length mismatch) is CORRUPT_FILE.
 */
export function gunzipBytes(bytes: Uint8Array, source: string): Uint8Array {
  try {
    const b = gunzipSync(bytes);
    return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { errno?: number };
    if (err.errno === zc.Z_BUF_ERROR || /unexpected end/i.test(err.message)) {
      throw new FimkitError('TRUNCATED_FILE', `${source}: gzip stream ends early (file truncated): ${err.message}`);
    }
    throw new FimkitError('CORRUPT_FILE', `${source}: corrupt gzip stream: ${err.message}`);
  }
}

/** Parses IDX bytes, gunzipping with node:zlib when they are gzipped. */
export function decodeIdx(bytes: Uint8Array, source = 'IDX data'): IdxArray {
  return parseIdx(bytes, { source, gunzip: gunzipBytes });
}

export function readIdxFile(path: string): IdxArray {
  return decodeIdx(readFileBytes(path), path);
}

/** IDX bytes, gzipped (level 9, no name or time in the header, so output is reproducible) if asked. */
export function encodeIdxFile(arr: IdxArray, opts: { gzip?: boolean } = {}): Uint8Array {
  const raw = encodeIdx(arr);
  if (!opts.gzip) return raw;
  const z = gzipSync(raw, { level: 9 });
  return new Uint8Array(z.buffer, z.byteOffset, z.byteLength);
}

/** Writes atomically; gzips when `opts.gzip` is set or, by default, when the name ends in .gz. */
export function writeIdxFile(path: string, arr: IdxArray, opts: { gzip?: boolean } = {}): void {
  writeFileAtomic(path, encodeIdxFile(arr, { gzip: opts.gzip ?? path.endsWith('.gz') }));
}

export type DigestAlgorithm = 'sha256' | 'md5';

export function digestHex(algorithm: DigestAlgorithm, bytes: Uint8Array): string {
  return createHash(algorithm).update(bytes).digest('hex');
}

function readText(path: string): string {
  return new TextDecoder('utf-8').decode(readFileBytes(path));
}

/** A CSV file as a Dataset (format and options: tabular.ts). */
export function loadCsvFile(path: string, opts: TabularOptions = {}): Dataset {
  return parseCsv(readText(path), { name: basename(path), ...opts }, path);
}

/** A JSON file as a Dataset (format and options: tabular.ts). */
export function loadJsonFile(path: string, opts: TabularOptions = {}): Dataset {
  return parseJsonDataset(readText(path), opts, path);
}
