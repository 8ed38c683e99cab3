import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/** Every module statically reachable from `entry` (relative imports only), with its bare imports. */
function importGraph(entry: string): Map<string, string[]> {
  const seen = new Map<string, string[]>();
  const stack = [resolve(entry)];
  while (stack.length > 0) {
    const file = stack.pop()!;
    if (seen.has(file)) continue;
    const src = readFileSync(file, 'utf8');
    const specs = [...src.matchAll(/^\s*(?:import|export)\s[^;]*?from\s+'([^']+)'/gm), ...src.matchAll(/^\s*import\s+'([^']+)'/gm)].map((m) => m[1]!);
    seen.set(file, specs.filter((s) => !s.startsWith('.')));
    for (const s of specs) if (s.startsWith('.')) stack.push(join(dirname(file), s));
  }
  return seen;
}

test('the browser entry reaches no Node built-in module through static imports', () => {
  const graph = importGraph('dist/src/browser.js');
  assert.ok(graph.size > 20, `walked ${graph.size} modules`);
  // Packages the browser entry may import: pure JavaScript, no Node built-ins (onnx-proto is
  // protobufjs-generated code for ONNX import; Observable Plot draws the charts into the page's
  // document). Anything else bare is an offender (linkedom, Node's DOM for charts, among them).
  const browserSafe = new Set(['onnx-proto', '@observablehq/plot']);
  const offenders = [...graph].flatMap(([file, bare]) => bare.filter((b) => !browserSafe.has(b)).map((b) => `${file} imports ${b}`));
  assert.deepEqual(offenders, []);
  // The Node entry, by contrast, does reach the file-system modules (so the walk does see them).
  const node = [...importGraph('dist/src/index.js').values()].flat();
  assert.ok(node.includes('node:fs'));
});

test('the browser entry loads and computes a gradient after initBrowser()', async () => {
  const fimkit = await import('../src/browser.js');
  const be = await fimkit.initBrowser();
  assert.equal(be.name, 'wasm');
  assert.equal(fimkit.getBackend().name, 'wasm');
  const w = fimkit.Tensor.param(Float64Array.from([0.5, -1]), [1, 2], 'w');
  const x = fimkit.Tensor.from([[1, 2], [3, 4]], undefined, 'float64');
  const [g] = fimkit.grad(fimkit.ops.sum(fimkit.ops.linear(x, w, null)), [w]);
  assert.deepEqual(Array.from(g!.data), [4, 6]);
  fimkit.setBackend(fimkit.availableBackends()[0]!);
});
