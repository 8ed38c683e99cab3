// Produces data/fashion-mnist-subset/: a class-balanced, seeded subset of Fashion-MNIST that the
// package ships so the main job runs offline. Deterministic: the same source files and options
// give the same selected images and the same decompressed bytes (the .gz bytes also match as
// long as the zlib that Node bundles compresses the same way).
//
// Usage (after `npx tsc -p tsconfig.json`):
//   node scripts/make-embedded-data.mjs [--source DIR] [--out DIR]
//        [--train-per-class 1200] [--test-per-class 200] [--seed fimkit-embedded-fashion-mnist-v1]
//
// Selection rule, per split and per class c: take the indices of class-c images in the
// original file order, draw a uniformly random permutation of them from the project Rng
// seeded with `seed` and derived with the key "<split>/<c>" (split is "train" or "test"),
// keep the first `perClass` of that permutation, and finally sort all kept indices ascending,
// so the subset keeps the original relative order of the images.
import { mkdirSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const data = await import(join(root, 'dist/src/data/index.js')).catch((e) => {
  console.error(`cannot load the compiled data module (${e.message}); run \`npx tsc -p tsconfig.json\` first`);
  process.exit(1);
});
const { Rng } = await import(join(root, 'dist/src/core/rng.js'));
const { writeFileAtomic } = await import(join(root, 'dist/src/io/atomic.js'));

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

const source = arg('source', data.DEBIAN_FASHION_MNIST_DIR);
const out = resolve(arg('out', join(root, 'data', data.EMBEDDED_SUBDIR)));
const perClass = { train: Number(arg('train-per-class', '1200')), test: Number(arg('test-per-class', '200')) };
const seed = arg('seed', 'fimkit-embedded-fashion-mnist-v1');
const rng = new Rng(seed);

mkdirSync(out, { recursive: true });
const sums = [];
const write = (name, bytes) => {
  writeFileAtomic(join(out, name), bytes);
  sums.push(`${data.digestHex('sha256', bytes)}  ${name}`);
};

const manifest = {
  dataset: 'Fashion-MNIST (class-balanced subset)',
  source: 'Fashion-MNIST by Zalando Research, https://github.com/zalandoresearch/fashion-mnist (MIT licence)',
  seed,
  selection:
    'per split and class c: indices of class c in file order, permuted by Rng(seed).derive("<split>/<c>").permutation, first perClass kept; all kept indices sorted ascending',
  train: {},
  test: {},
  classNames: [...data.FASHION_MNIST_CLASS_NAMES],
  files: {},
};

for (const split of ['train', 'test']) {
  const names = data.MNIST_FILE_NAMES[split];
  // Verified reads: the source must match the official Fashion-MNIST content digests.
  const images = data.readMnistFile(source, names.images, 'fashion-mnist', true).arr;
  const labels = data.readMnistFile(source, names.labels, 'fashion-mnist', true).arr;
  const [n, rows, cols] = images.dims;
  const byClass = Array.from({ length: 10 }, () => []);
  for (let i = 0; i < n; i++) byClass[labels.data[i]].push(i);
  const kept = [];
  for (let c = 0; c < 10; c++) {
    const k = perClass[split];
    if (!(Number.isInteger(k) && k >= 1 && k <= byClass[c].length)) {
      throw new Error(`--${split}-per-class ${k} must be an integer in 1..${byClass[c].length}`);
    }
    const perm = rng.derive(`${split}/${c}`).permutation(byClass[c].length);
    for (let r = 0; r < k; r++) kept.push(byClass[c][perm[r]]);
  }
  kept.sort((a, b) => a - b);
  const m = kept.length;
  const img = new Uint8Array(m * rows * cols);
  const lab = new Uint8Array(m);
  kept.forEach((src, r) => {
    img.set(images.data.subarray(src * rows * cols, (src + 1) * rows * cols), r * rows * cols);
    lab[r] = labels.data[src];
  });
  const imgArr = { type: 'uint8', dims: [m, rows, cols], data: img };
  const labArr = { type: 'uint8', dims: [m], data: lab };
  const idxArr = { type: 'int32', dims: [m], data: Int32Array.from(kept) };
  const prefix = split === 'train' ? 'train' : 't10k';
  write(`${names.images}.gz`, data.encodeIdxFile(imgArr, { gzip: true }));
  write(`${names.labels}.gz`, data.encodeIdxFile(labArr, { gzip: true }));
  write(`${prefix}-source-indices-idx1-int.gz`, data.encodeIdxFile(idxArr, { gzip: true }));
  manifest[split] = { size: m, perClass: perClass[split], sourceSize: n };
  for (const [file, arr] of [
    [`${names.images}.gz`, imgArr],
    [`${names.labels}.gz`, labArr],
    [`${prefix}-source-indices-idx1-int.gz`, idxArr],
  ]) {
    manifest.files[file] = { dims: arr.dims, type: arr.type, decompressedSha256: data.digestHex('sha256', data.encodeIdx(arr)) };
  }
  console.log(`${split}: ${m} of ${n} images, ${perClass[split]} per class`);
}

write(data.EMBEDDED_MANIFEST, new TextEncoder().encode(JSON.stringify(manifest, null, 2) + '\n'));
// Sorted so the checksum file itself is reproducible.
writeFileAtomic(join(out, data.EMBEDDED_CHECKSUMS), sums.sort((a, b) => (a.slice(66) < b.slice(66) ? -1 : 1)).join('\n') + '\n');
console.log(`wrote ${out}`);
