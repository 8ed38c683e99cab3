#!/usr/bin/env node
/**
 * Builds the explorer page into dist/web (static files, served by `fimkit serve` or any web
 * server): index.html, app.js and worker.js (esbuild bundles for browsers), the wasm kernels,
 * and the embedded Fashion-MNIST test split. Writes dist/web/meta.json (esbuild's metafile), which
 * test/web.test.ts reads to check that no Node built-in reached the bundles.
 *
 *   npm run build:web      (after npm run build:wasm)
 */
import { build } from 'esbuild';
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist', 'web');
mkdirSync(join(out, 'data'), { recursive: true });

const result = await build({
  entryPoints: { app: join(root, 'src/web/app.ts'), worker: join(root, 'src/web/worker.ts') },
  outdir: out,
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: ['es2022'],
  minify: true,
  sourcemap: true,
  metafile: true,
  logLevel: 'warning',
  // A Node built-in reached from the page would be a bug: fail the build instead of shimming it.
  plugins: [{
    name: 'no-node-builtins',
    setup(b) {
      const names = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);
      b.onResolve({ filter: /.*/ }, (args) => (names.has(args.path) || args.path.startsWith('node:') ? { errors: [{ text: `${args.importer} imports the Node built-in '${args.path}'` }] } : undefined));
    },
  }],
});
writeFileSync(join(out, 'meta.json'), JSON.stringify(result.metafile));
copyFileSync(join(root, 'src/web/index.html'), join(out, 'index.html'));
for (const w of ['fimkit-simd.wasm', 'fimkit-relaxed.wasm']) {
  const src = join(root, 'dist', 'wasm', w);
  if (!existsSync(src)) throw new Error(`${src} is missing: run npm run build:wasm first`);
  copyFileSync(src, join(out, w));
}
for (const f of ['t10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz']) copyFileSync(join(root, 'data', 'fashion-mnist-subset', f), join(out, 'data', f));
console.error(`[fimkit] built ${out}`);
