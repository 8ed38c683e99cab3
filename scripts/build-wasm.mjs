// Compiles the AssemblyScript kernels (asm/index.ts) into WebAssembly modules:
//   dist/wasm/fimkit-simd.wasm     128-bit SIMD, multiply then add (runs on any SIMD engine)
//   dist/wasm/fimkit-relaxed.wasm  relaxed SIMD: fused multiply-add (f32x4/f64x2.relaxed_madd)
// and the same two with a shared memory (fimkit-simd-shared.wasm, fimkit-relaxed-shared.wasm):
// those import `env.memory` as a shared WebAssembly.Memory (maximum 4 GiB) so that the main
// thread and worker threads can instantiate the kernels over one memory and split a gemm.
// The wasm backend loads the relaxed build when WebAssembly.validate accepts it (Node 20 needs
// --experimental-wasm-relaxed-simd; current browsers enable it) and the plain build otherwise;
// the shared builds are used under Node when more than one thread is asked for.
// The output lives in dist/ because node-gyp wipes build/ on every native rebuild.
import { mkdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const outDir = join(root, 'dist', 'wasm');
mkdirSync(outDir, { recursive: true });

let asc;
try {
  asc = (await import('assemblyscript/asc')).default;
} catch (e) {
  console.error(`[fimkit] cannot build the wasm kernels: the AssemblyScript compiler is not installed (${e.message}). Run \`npm install\` (it is a devDependency).`);
  process.exit(1);
}

const common = [join(root, 'asm', 'index.ts'), '-O3', '--runtime', 'stub', '--noAssert', '--enable', 'simd'];
// 65536 pages: the whole wasm32 address space, which a shared memory must declare up front.
const shared = ['--enable', 'threads', '--importMemory', '--sharedMemory', '--maximumMemory', '65536'];
const variants = [
  { file: 'fimkit-simd.wasm', flags: [] },
  { file: 'fimkit-relaxed.wasm', flags: ['--enable', 'relaxed-simd'] },
  { file: 'fimkit-simd-shared.wasm', flags: shared },
  { file: 'fimkit-relaxed-shared.wasm', flags: ['--enable', 'relaxed-simd', ...shared] },
];
for (const v of variants) {
  const outFile = join(outDir, v.file);
  const started = Date.now();
  const { error, stderr } = await asc.main([...common, ...v.flags, '--outFile', outFile]);
  if (error) {
    console.error(`[fimkit] asc failed for ${v.file}: ${error.message}\n${stderr.toString()}`);
    process.exit(1);
  }
  console.log(`[fimkit] built ${outFile} (${statSync(outFile).size} bytes, ${Date.now() - started} ms)`);
}
