// Builds the optional native backend (N-API addon over CBLAS, see binding.gyp) into
// build/Release/fimkit_native.node. Runs at `npm install` and from `npm run build:native`.
//
// The native backend is optional: when it cannot be built (no compiler, no BLAS, no node
// headers) this script says why and which backend fimkit will use instead, and exits 0 so the
// install still succeeds.
//
// Environment:
//   FIMKIT_SKIP_NATIVE=1     do not build the addon (fimkit then uses wasm, else ts)
//   FIMKIT_BLAS_LIB=<name>   link -l<name> instead of -lopenblas (must provide CBLAS + openblas_* calls)
import { spawnSync } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const addonPath = join(root, 'build', 'Release', 'fimkit_native.node');
const wasmPath = join(root, 'dist', 'wasm', 'fimkit-simd.wasm');

function fallbackNote() {
  return existsSync(wasmPath)
    ? 'fimkit will use the wasm backend instead (dist/wasm is built).'
    : 'fimkit will use the wasm backend instead once `npm run build:wasm` has built dist/wasm, and the plain ts backend until then.';
}

function giveUp(why) {
  console.log(`[fimkit] native backend not built: ${why}`);
  console.log(`[fimkit] ${fallbackNote()}`);
  process.exit(0);
}

const skip = process.env.FIMKIT_SKIP_NATIVE;
if (skip !== undefined && skip !== '' && skip !== '0' && skip !== 'false') {
  giveUp('FIMKIT_SKIP_NATIVE is set.');
}

/** How to run node-gyp: npm's bundled copy first (no download), npx as the last resort. */
function findNodeGyp() {
  const candidates = [];
  if (process.env.npm_config_node_gyp) candidates.push(process.env.npm_config_node_gyp);
  if (process.env.npm_execpath) {
    candidates.push(join(dirname(process.env.npm_execpath), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  }
  // npm installed next to this node binary (prefix/lib/node_modules/npm or prefix/node_modules/npm).
  const prefix = dirname(dirname(process.execPath));
  candidates.push(join(prefix, 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  candidates.push(join(prefix, 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  candidates.push(join(root, 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  for (const c of candidates) {
    if (c && existsSync(c)) return { cmd: process.execPath, args: [realpathSync(c)] };
  }
  return { cmd: process.platform === 'win32' ? 'npx.cmd' : 'npx', args: ['--yes', 'node-gyp'] };
}

/**
 * Node headers: when this node install ships its own (prefix/include/node/common.gypi, as
 * distribution packages do), point node-gyp at them so it does not try to download them.
 */
function nodedirArgs() {
  if (process.env.npm_config_nodedir) return [];
  const prefix = dirname(dirname(process.execPath));
  if (existsSync(join(prefix, 'include', 'node', 'common.gypi')) && existsSync(join(prefix, 'include', 'node', 'node_api.h'))) {
    return [`--nodedir=${prefix}`];
  }
  return [];
}

const gyp = findNodeGyp();
const args = [...gyp.args, 'rebuild', ...nodedirArgs()];
console.log(`[fimkit] building native backend: ${[gyp.cmd, ...args].join(' ')}`);
const started = Date.now();
const r = spawnSync(gyp.cmd, args, { cwd: root, encoding: 'utf8', env: process.env });
if (r.error || r.status !== 0) {
  const log = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  const lines = log.split('\n').filter((l) => l.trim() !== '');
  const errors = lines.filter((l) => /error|cannot find|not found|No such file/i.test(l) && !/^gyp info/.test(l));
  const detail = (errors.length > 0 ? errors : lines).slice(-8).map((l) => `    ${l}`).join('\n');
  let hint = '';
  if (/cannot find -l|cblas\.h/i.test(log)) hint = ' (is a CBLAS library installed? on Debian/Ubuntu: apt-get install libopenblas-dev)';
  else if (/gcc|cc: not found|make: not found|No such file or directory.*(cc|make)/i.test(log)) hint = ' (is a C compiler and make installed?)';
  console.log(`[fimkit] node-gyp failed${r.error ? `: ${r.error.message}` : ` with exit code ${r.status}`}${hint}\n${detail}`);
  giveUp('the addon did not compile or link (details above).');
}

// Smoke test in a child process: the library must load and multiply a 1x1 matrix.
const probe = spawnSync(
  process.execPath,
  ['-e', `const a = require(${JSON.stringify(addonPath)}); const c = new Float64Array(1);
a.gemm(false, false, 1, 1, 1, 1, new Float64Array([3]), 0, 1, new Float64Array([4]), 0, 1, 0, c, 0, 1);
if (c[0] !== 12) throw new Error('gemm gave ' + c[0]); console.log(a.blasConfig());`],
  { encoding: 'utf8' },
);
if (probe.status !== 0) {
  giveUp(`the addon built but does not load or compute correctly:\n    ${(probe.stderr || probe.stdout).trim().split('\n').slice(0, 4).join('\n    ')}`);
}
console.log(`[fimkit] native backend built in ${((Date.now() - started) / 1000).toFixed(1)} s: ${addonPath}`);
console.log(`[fimkit] BLAS: ${probe.stdout.trim()}`);
