/**
 * Model import against the source frameworks: ONNX files written by torch.onnx.export
 * (scripts/fixtures/onnx_models.py) and TF.js Layers models written by @tensorflow/tfjs-layers
 * (scripts/fixtures/tfjs_models.mjs). Each fixture carries the framework's own outputs on fixed
 * inputs and an exact categorical Fisher diagonal enumerated over classes from the framework's
 * per-sample gradients; the imported model must reproduce both. Bad files give named errors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FimkitError } from '../src/core/errors.js';
import { Tensor } from '../src/core/tensor.js';
import type { Dataset } from '../src/data/dataset.js';
import { computeFisher } from '../src/fisher/compute.js';
import { makeLikelihood } from '../src/likelihoods/index.js';
import { modelFromJSON } from '../src/nn/format.js';
import { channelsLastToFirst, importedToJSON, importModel, type ImportedModel } from '../src/nn/import/index.js';
import { loadModelFile } from '../src/nn/import/files.js';
import { runCli } from '../src/cli/main.js';

const FIX = 'test/fixtures/import';

interface Expected {
  generator: string;
  inputShape: number[];
  inputs: number[][];
  outputs: number[][];
  logits: number[][];
  final: 'softmax' | 'log-softmax' | null;
  fisherDiag: { shape: number[]; data: number[] }[];
}

function expected(name: string): Expected {
  return JSON.parse(readFileSync(join(FIX, `${name}.expected.json`), 'utf8')) as Expected;
}

/** Inputs in the imported model's layout (channels-first for channels-last sources). */
function modelInputs(imp: ImportedModel, exp: Expected): Float64Array {
  const flat = exp.inputs.flat();
  return imp.sourceInputShape ? channelsLastToFirst(flat, imp.sourceInputShape) : Float64Array.from(flat);
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

function softmaxRows(z: ArrayLike<number>, k: number, log: boolean): Float64Array {
  const out = new Float64Array(z.length);
  for (let r = 0; r < z.length / k; r++) {
    let mx = -Infinity;
    for (let c = 0; c < k; c++) mx = Math.max(mx, z[r * k + c]!);
    let s = 0;
    for (let c = 0; c < k; c++) s += Math.exp(z[r * k + c]! - mx);
    for (let c = 0; c < k; c++) out[r * k + c] = log ? z[r * k + c]! - mx - Math.log(s) : Math.exp(z[r * k + c]! - mx) / s;
  }
  return out;
}

/**
 * The source's Fisher diagonal in fimkit's parameter layout, converted here independently of the
 * importer: TF.js dense kernels [in, out] → [out, in] (inputs after a channels-last flatten in
 * (h, w, c) order → (c, h, w)), conv kernels [kH, kW, in, out] → [out, in, kH, kW]. ONNX
 * fixtures are written in fimkit's layout already.
 */
function referenceDiag(imp: ImportedModel, exp: Expected): Float64Array {
  const out: number[] = [];
  const groups = imp.model.paramGroups();
  let k = 0;
  for (const g of groups) {
    for (const p of g.params) {
      const ref = exp.fisherDiag[k++]!;
      if (imp.format !== 'tfjs' || p.name === 'bias') { out.push(...ref.data); continue; }
      if (g.layer.type === 'conv2d') {
        const [kh, kw, cin, cout] = ref.shape as [number, number, number, number];
        for (let o = 0; o < cout; o++) for (let i = 0; i < cin; i++) for (let y = 0; y < kh; y++) for (let x = 0; x < kw; x++) out.push(ref.data[((y * kw + x) * cin + i) * cout + o]!);
      } else {
        const [nin, nout] = ref.shape as [number, number];
        // The feature map the flatten saw, if this dense follows a flattened channels-last image.
        const img = g.index >= 1 && imp.model.layers[g.index - 1]!.type === 'flatten' ? imp.model.shapes[g.index - 1]! : undefined;
        for (let o = 0; o < nout; o++) {
          for (let j = 0; j < nin; j++) {
            let src = j;
            if (imp.sourceInputShape && img && img.length === 3) {
              const [c, h, w] = img as [number, number, number];
              const cc = Math.floor(j / (h * w)), y = Math.floor((j % (h * w)) / w), x = j % w;
              src = (y * w + x) * c + cc;
            }
            out.push(ref.data[src * nout + o]!);
          }
        }
      }
    }
  }
  assert.equal(k, exp.fisherDiag.length, 'every source parameter is matched');
  return Float64Array.from(out);
}

function dataOf(imp: ImportedModel, exp: Expected): Dataset {
  const n = exp.inputs.length;
  const k = exp.logits[0]!.length;
  return { name: 'fixture', length: n, inputShape: imp.model.inputShape, inputs: modelInputs(imp, exp), targetKind: 'class', targets: new Int32Array(n), targetDim: 1, numClasses: k };
}

const FIXTURES: { name: string; file: string }[] = [
  { name: 'mlp_acts', file: 'mlp_acts.onnx' },
  { name: 'mlp_opset9', file: 'mlp_opset9.onnx' },
  { name: 'mlp_matmul', file: 'mlp_matmul.onnx' },
  { name: 'cnn', file: 'cnn.onnx' },
  { name: 'tfjs_mlp', file: 'tfjs_mlp/model.json' },
  { name: 'tfjs_cnn', file: 'tfjs_cnn/model.json' },
];

for (const fx of FIXTURES) {
  test(`import ${fx.file}: outputs equal the source framework's (float32) and the exact Fisher diagonal equals its reference`, (t) => {
    const exp = expected(fx.name);
    const imp = loadModelFile(join(FIX, fx.file), 'float32');
    assert.deepEqual(imp.foldedOutput, exp.final);
    const n = exp.inputs.length;
    const y = imp.model.forward(Tensor.from(Float32Array.from(modelInputs(imp, exp)), [n, ...imp.model.inputShape])).data;
    const dLogits = maxAbsDiff(y, exp.logits.flat());
    const k = exp.logits[0]!.length;
    const asSource = exp.final ? softmaxRows(y, k, exp.final === 'log-softmax') : y;
    const dOut = maxAbsDiff(asSource, exp.outputs.flat());
    assert.ok(dLogits <= 1e-6, `logits differ by ${dLogits}`);
    assert.ok(dOut <= 1e-6, `outputs differ by ${dOut}`);

    // Exact Fisher diagonal (categorical, mean over the inputs) in float64 from the float32 weights.
    const imp64 = loadModelFile(join(FIX, fx.file), 'float64');
    const fisher = computeFisher(imp64.model, makeLikelihood('categorical'), dataOf(imp64, exp), { estimator: 'exact', representation: 'diag' });
    const diag = fisher.diag();
    const ref = referenceDiag(imp64, exp);
    let num = 0, den = 0;
    for (let i = 0; i < ref.length; i++) { num = Math.max(num, Math.abs(diag[i]! - ref[i]!)); den = Math.max(den, Math.abs(ref[i]!)); }
    const rel = num / den;
    // PyTorch's reference is float64 (the weights widened): agreement to rounding. TF.js's CPU
    // backend computes its gradients in float32 (its erf for gelu is a 1e-7 approximation).
    const tol = imp.format === 'onnx' ? 1e-10 : 1e-6;
    assert.ok(rel <= tol, `Fisher diagonal relative difference ${rel} > ${tol}`);
    t.diagnostic(`${fx.file}: ${imp.model.numParams()} params; max |Δ logits| ${dLogits.toExponential(2)}, max |Δ outputs| ${dOut.toExponential(2)}, Fisher diagonal rel. diff ${rel.toExponential(2)}`);

    // Export back to fimkit JSON and read it again: the same model.
    const back = modelFromJSON(JSON.parse(JSON.stringify(importedToJSON(imp))));
    assert.deepEqual(back.spec(), imp.model.spec());
    assert.deepEqual(Array.from(back.parameters().flatMap((p) => Array.from(p.data))), Array.from(imp.model.parameters().flatMap((p) => Array.from(p.data))));
  });
}

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof FimkitError) return `${e.code}: ${e.message}`;
    throw e;
  }
  assert.fail('expected a FimkitError');
}

test('ONNX: corrupt and truncated files, an unsupported operator: named errors', () => {
  const good = new Uint8Array(readFileSync(join(FIX, 'cnn.onnx')));
  const truncated = code(() => importModel(good.subarray(0, Math.floor(good.length * 0.6)), { source: 'cut.onnx' }));
  assert.match(truncated, /^(TRUNCATED_FILE|CORRUPT_FILE): cut\.onnx/);
  const garbage = Uint8Array.from({ length: 300 }, (_, i) => (i * 37 + 11) % 256);
  assert.match(code(() => importModel(garbage, { source: 'noise.onnx' })), /^(CORRUPT_FILE|TRUNCATED_FILE): noise\.onnx/);
  assert.match(code(() => importModel(new Uint8Array(0))), /^CORRUPT_FILE: the model file is empty/);
  const unsupported = code(() => loadModelFile(join(FIX, 'unsupported_bn.onnx')));
  assert.match(unsupported, /^UNSUPPORTED_OPERATOR: .*unsupported ONNX operator BatchNormalization\. Operators in the graph: .*Gemm.*fimkit imports: Gemm, MatMul/);
});

test('TF.js: missing shard, short shard, weight missing from the manifest, bad JSON, unsupported layer: named errors', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fimkit-tfjs-'));
  try {
    const src = join(FIX, 'tfjs_cnn');
    const json = JSON.parse(readFileSync(join(src, 'model.json'), 'utf8'));
    const shard = readFileSync(join(src, 'group1-shard1of1.bin'));
    // No shard beside model.json.
    writeFileSync(join(dir, 'model.json'), JSON.stringify(json));
    assert.match(code(() => loadModelFile(join(dir, 'model.json'))), /^IO: .*weight shard 'group1-shard1of1\.bin' \(group 0\) is missing/);
    // A shard that ends early: the last weights are missing from it.
    writeFileSync(join(dir, 'group1-shard1of1.bin'), shard.subarray(0, shard.length - 8));
    assert.match(code(() => loadModelFile(join(dir, 'model.json'))), /^TRUNCATED_FILE: .*weight 'dense_Dense\d+\/bias' \(shape \[3\]\) needs bytes/);
    // A weight the layers need that the manifest does not list.
    copyFileSync(join(src, 'group1-shard1of1.bin'), join(dir, 'group1-shard1of1.bin'));
    const noBias = structuredClone(json);
    noBias.weightsManifest[0].weights.pop();
    writeFileSync(join(dir, 'model.json'), JSON.stringify(noBias));
    assert.match(code(() => loadModelFile(join(dir, 'model.json'))), /^MODEL_FORMAT: .*weight 'dense_Dense\d+\/bias' \(shape \[3\]\) is missing from the weights manifest/);
    // model.json cut short.
    writeFileSync(join(dir, 'model.json'), JSON.stringify(json).slice(0, 200));
    assert.match(code(() => loadModelFile(join(dir, 'model.json'))), /^CORRUPT_FILE: .*does not parse/);
    // A layer type fimkit does not import.
    const bn = structuredClone(json);
    bn.modelTopology.config.layers.splice(1, 0, { class_name: 'BatchNormalization', config: { name: 'bn' } });
    writeFileSync(join(dir, 'model.json'), JSON.stringify(bn));
    assert.match(code(() => loadModelFile(join(dir, 'model.json'))), /^UNSUPPORTED_OPERATOR: .*unsupported layer type BatchNormalization\. Layers in the model: Conv2D, BatchNormalization.*fimkit imports: InputLayer, Dense/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

async function cli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const c = await runCli(argv, { stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s) }, env: {} });
  return { code: c, out, err };
}

test('CLI: fisher reads an ONNX and a TF.js model by content; bad files and a model that does not fit the data are named errors', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fimkit-import-cli-'));
  try {
    // 12 features, 4 classes: the mlp_acts ONNX model and the tfjs_mlp model ([3, 4] inputs) both fit.
    const data = 'synthetic:blobs?k=4&dim=12&n=16&seed=3';
    for (const m of ['mlp_acts.onnx', 'tfjs_mlp/model.json']) {
      const r = await cli(['fisher', '--model', join(FIX, m), '--data', data, '--out', join(dir, `f-${m.replace(/\W/g, '_')}.json`), '--json']);
      assert.equal(r.code, 0, r.err);
      const j = JSON.parse(r.out) as { summary?: unknown };
      assert.ok(j.summary, 'the JSON report has a summary');
    }
    const bad = join(dir, 'bad.onnx');
    writeFileSync(bad, readFileSync(join(FIX, 'cnn.onnx')).subarray(0, 500));
    const rb = await cli(['fisher', '--model', bad, '--data', data, '--quiet']);
    assert.equal(rb.code, 1);
    assert.match(rb.err, /error \[(TRUNCATED_FILE|CORRUPT_FILE)\]: .*bad\.onnx/);
    const ru = await cli(['fisher', '--model', join(FIX, 'unsupported_bn.onnx'), '--data', data, '--quiet']);
    assert.equal(ru.code, 1);
    assert.match(ru.err, /error \[UNSUPPORTED_OPERATOR\]: .*BatchNormalization/);
    // The CNN takes [2, 8, 8] = 128 features; the data has 12.
    const rs = await cli(['fisher', '--model', join(FIX, 'cnn.onnx'), '--data', 'synthetic:blobs?k=3&dim=12&n=16&seed=3', '--quiet']);
    assert.equal(rs.code, 1);
    assert.match(rs.err, /error \[SHAPE\]: the data has 12 features per sample .* but the model expects 128/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('CLI import: prints the architecture, writes fimkit JSON atomically, refuses to overwrite without --force', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fimkit-import-verb-'));
  try {
    const out = join(dir, 'cnn.json');
    const r = await cli(['import', '--model', join(FIX, 'cnn.onnx'), '--out', out, '--json']);
    assert.equal(r.code, 0, r.err);
    const j = JSON.parse(r.out) as { format: string; parameters: number; likelihood: string };
    assert.deepEqual([j.format, j.parameters, j.likelihood], ['onnx', 184, 'categorical']);
    const back = loadModelFile(out);
    assert.equal(back.format, 'fimkit');
    assert.deepEqual(back.model.spec(), loadModelFile(join(FIX, 'cnn.onnx')).model.spec());
    const again = await cli(['import', '--model', join(FIX, 'cnn.onnx'), '--out', out]);
    assert.equal(again.code, 1);
    assert.match(again.err, /error \[IO\]: .*exists; pass --force/);
    assert.equal((await cli(['import', '--model', join(FIX, 'cnn.onnx'), '--out', out, '--force'])).code, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
