/**
 * `fimkit info`: what fimkit can compute with on this machine: the backend it would use and why,
 * every backend's availability (with the reason when one does not load), threads, BLAS,
 * WebAssembly SIMD and relaxed-SIMD support, dtypes, versions.
 */
import { availableParallelism } from 'node:os';
import { BACKEND_NAMES, backendReport, getBackend, setBackend } from '../../core/backends/index.js';
import type { BackendName } from '../../core/backend.js';
import { DTYPES } from '../../core/dtype.js';
import type { ParsedArgs } from '../args.js';
import { EXIT_OK, type CliIO, type Command } from '../command.js';
import { BACKEND_FLAG, JSON_FLAG } from '../common-flags.js';
import { fimkitVersion } from '../version.js';

/** (v128, v128) → v128 f32x4.add: validates where fixed-width Wasm SIMD is supported. */
const SIMD_PROBE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version
  0x01, 0x07, 0x01, 0x60, 0x02, 0x7b, 0x7b, 0x01, 0x7b, // type: (v128 v128) -> v128
  0x03, 0x02, 0x01, 0x00, // one function of type 0
  0x0a, 0x0b, 0x01, 0x09, 0x00, 0x20, 0x00, 0x20, 0x01, 0xfd, 0xe4, 0x01, 0x0b, // f32x4.add
]);

/** (v128, v128, v128) → v128 f32x4.relaxed_madd: validates only where relaxed SIMD is enabled. */
const RELAXED_SIMD_PROBE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
  0x01, 0x08, 0x01, 0x60, 0x03, 0x7b, 0x7b, 0x7b, 0x01, 0x7b, // type: (v128 v128 v128) -> v128
  0x03, 0x02, 0x01, 0x00,
  0x0a, 0x0d, 0x01, 0x0b, 0x00, 0x20, 0x00, 0x20, 0x01, 0x20, 0x02, 0xfd, 0x85, 0x02, 0x0b, // f32x4.relaxed_madd (0xfd 0x105)
]);

function validates(bytes: Uint8Array): boolean {
  try {
    return typeof WebAssembly === 'object' && WebAssembly.validate(bytes as unknown as BufferSource);
  } catch {
    return false;
  }
}

export interface InfoReport {
  fimkit: string;
  node: string;
  platform: string;
  cpus: number;
  backend: { name: BackendName; why: string; threads: number; description: string };
  backends: { name: BackendName; available: boolean; reason: string; description?: string; threads?: number }[];
  blas: { found: boolean; detail: string };
  wasm: { available: boolean; simd: boolean; relaxedSimd: boolean; note: string };
  dtypes: readonly string[];
  env: Record<string, string | null>;
}

export function collectInfo(io: CliIO, forced?: BackendName): InfoReport {
  const env = io.env ?? {};
  let why: string;
  if (forced !== undefined) {
    setBackend(forced);
    why = `forced by --backend ${forced}`;
  } else if (env['FIMKIT_BACKEND']) {
    why = `forced by FIMKIT_BACKEND=${env['FIMKIT_BACKEND']}`;
  } else {
    why = `fastest that loads (order: ${BACKEND_NAMES.join(', ')})`;
  }
  const active = getBackend();
  const backends = backendReport();
  const native = backends.find((b) => b.name === 'native');
  const simd = validates(SIMD_PROBE);
  const relaxedSimd = validates(RELAXED_SIMD_PROBE);
  const wasmAvailable = typeof WebAssembly === 'object';
  return {
    fimkit: fimkitVersion(),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    cpus: availableParallelism(),
    backend: { name: active.name, why, threads: active.threads, description: active.description },
    backends,
    blas: native?.available
      ? { found: true, detail: native.description ?? 'loaded' }
      : { found: false, detail: `native backend unavailable: ${native?.reason ?? 'unknown'}` },
    wasm: {
      available: wasmAvailable,
      simd,
      relaxedSimd,
      note: relaxedSimd
        ? 'relaxed SIMD (fused multiply-add) enabled'
        : 'relaxed SIMD not enabled in this runtime; on Node 20 start node with --experimental-wasm-relaxed-simd (browsers enable it by default)',
    },
    dtypes: DTYPES,
    env: {
      FIMKIT_BACKEND: env['FIMKIT_BACKEND'] ?? null,
      FIMKIT_THREADS: env['FIMKIT_THREADS'] ?? null,
    },
  };
}

export function formatInfo(r: InfoReport): string {
  const yes = (b: boolean): string => (b ? 'yes' : 'no');
  const w = Math.max(...r.backends.map((b) => b.name.length));
  const lines = [
    `fimkit ${r.fimkit} on node ${r.node} (${r.platform}), ${r.cpus} CPU${r.cpus === 1 ? '' : 's'}`,
    '',
    `active backend: ${r.backend.name} — ${r.backend.why}`,
    `  ${r.backend.description}`,
    `  threads: ${r.backend.threads}`,
    '',
    'backends:',
    ...r.backends.map((b) =>
      b.available
        ? `  ${b.name.padEnd(w)}  available    ${b.description ?? ''}`
        : `  ${b.name.padEnd(w)}  unavailable  ${b.reason}`,
    ),
    '',
    `BLAS: ${r.blas.found ? 'found' : 'not found'} — ${r.blas.detail}`,
    `WebAssembly: ${yes(r.wasm.available)}; SIMD: ${yes(r.wasm.simd)}; relaxed SIMD: ${yes(r.wasm.relaxedSimd)}${r.wasm.relaxedSimd ? '' : ` (${r.wasm.note})`}`,
    `dtypes: ${r.dtypes.join(', ')} (every backend implements both)`,
    `environment: FIMKIT_BACKEND=${r.env['FIMKIT_BACKEND'] ?? '(unset)'}, FIMKIT_THREADS=${r.env['FIMKIT_THREADS'] ?? '(unset)'}`,
  ];
  return lines.join('\n') + '\n';
}

async function run(args: ParsedArgs, io: CliIO): Promise<number> {
  const report = collectInfo(io, args.flags['backend'] as BackendName | undefined);
  io.stdout.write(args.flags['json'] === true ? JSON.stringify(report, null, 2) + '\n' : formatInfo(report));
  return EXIT_OK;
}

export const infoCommand: Command = {
  name: 'info',
  summary: 'Show the numeric backends, threads, BLAS and SIMD support on this machine',
  description:
    'Reports which backend fimkit uses and why, whether each backend (native BLAS addon, WebAssembly, TypeScript) loads here and the reason when it does not, thread counts, WebAssembly SIMD / relaxed-SIMD support, and versions.',
  flags: [{ ...BACKEND_FLAG, description: 'Report as if this backend were forced (an error, saying why, when it cannot load).' }, JSON_FLAG],
  run,
};
