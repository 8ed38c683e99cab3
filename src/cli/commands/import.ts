/**
 * `fimkit import`: reads a model in any format fimkit understands (fimkit JSON, ONNX, TF.js
 * Layers; told apart by content), prints the architecture it became and what the import changed,
 * and with --out writes it as a fimkit model.json (the format every other verb reads fastest).
 */
import { existsSync } from 'node:fs';
import { writeFileAtomic } from '../../io/atomic.js';
import { importedToJSON } from '../../nn/import/detect.js';
import { loadModelFile } from '../../nn/import/files.js';
import type { DType } from '../../core/dtype.js';
import { FimkitError } from '../../core/errors.js';
import { UsageError, flagString, type FlagSpec, type ParsedArgs } from '../args.js';
import { EXIT_OK, type CliIO, type Command } from '../command.js';
import { DTYPE_FLAG, JSON_FLAG } from '../common-flags.js';

const FLAGS: FlagSpec[] = [
  { name: 'model', type: 'path', metavar: 'PATH', description: 'The model to read: an ONNX file, a TF.js Layers model.json (shards beside it) or a fimkit model.json. Required.', group: 'Model' },
  { ...DTYPE_FLAG, default: undefined, defaultText: 'float32', description: 'Floating-point type of the written model.' } as FlagSpec,
  { name: 'out', type: 'path', metavar: 'PATH', description: 'Write the model as a fimkit model.json here (atomically).', defaultText: 'nothing written; the architecture is printed', group: 'Output' },
  { name: 'force', type: 'boolean', description: 'Overwrite --out if it exists.', group: 'Output' },
  JSON_FLAG,
];

async function run(args: ParsedArgs, io: CliIO): Promise<number> {
  const f = args.flags;
  const path = flagString(f, 'model');
  if (path === undefined) throw new UsageError('missing --model PATH: the ONNX, TF.js or fimkit model to read');
  const out = flagString(f, 'out');
  if (out !== undefined && existsSync(out) && f['force'] !== true) throw new FimkitError('IO', `${out} exists; pass --force to overwrite it`);
  const imp = loadModelFile(path, flagString(f, 'dtype') as DType | undefined);
  const m = imp.model;
  if (out !== undefined) writeFileAtomic(out, JSON.stringify(importedToJSON(imp)) + '\n');
  const layers = m.layers.map((l, i) => ({ index: i, ...l.spec(), outputShape: m.shapes[i + 1] }));
  if (f['json'] === true) {
    io.stdout.write(JSON.stringify({ command: 'import', model: path, format: imp.format, inputShape: m.inputShape, parameters: m.numParams(), foldedOutput: imp.foldedOutput, likelihood: imp.likelihood ?? null, sourceInputShape: imp.sourceInputShape ?? null, notes: imp.notes, layers, out: out ?? null }) + '\n');
    return EXIT_OK;
  }
  const lines = [
    `${path}: ${imp.format} model, input [${m.inputShape.join(', ')}], ${m.numParams().toLocaleString('en-US')} parameters (${m.dtype})`,
    ...layers.map((l) => `  ${String(l.index).padStart(2)}  ${JSON.stringify(m.layers[l.index]!.spec())}  → [${l.outputShape!.join(', ')}]`),
    ...(imp.likelihood ? [`likelihood: ${imp.likelihood} (the final ${imp.foldedOutput} is applied by it)`] : []),
    ...imp.notes.map((n) => `note: ${n}`),
    ...(out !== undefined ? [`wrote ${out}`] : []),
  ];
  io.stdout.write(lines.join('\n') + '\n');
  return EXIT_OK;
}

export const importCommand: Command = {
  name: 'import',
  summary: 'Read an ONNX or TF.js model, show what it becomes, and write it as a fimkit model.json',
  description:
    'ONNX as torch.onnx.export writes MLPs and CNNs (Gemm, MatMul+Add, Conv, pooling, Flatten, elementwise activations, Dropout, a final Softmax/LogSoftmax folded into the categorical likelihood) and TF.js Layers Sequential models (Dense, Conv2D, pooling, Flatten, Dropout, activations; channels-last converted to channels-first). Every verb with --model reads these files directly; import shows the result and can save it.',
  flags: FLAGS,
  run,
};
