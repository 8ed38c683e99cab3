/**
 * What the verbs that analyse a trained model share: the model file (--model, --dtype), the data
 * split (--data, --split, --download) and the likelihood (--likelihood, else from the data).
 */
import type { DType } from '../core/dtype.js';
import { resolveDataset, type Dataset } from '../data/index.js';
import { likelihoodNameFor, makeLikelihood, type Likelihood } from '../likelihoods/index.js';
import type { Sequential } from '../nn/index.js';
import { loadModelFile } from '../nn/import/files.js';
import type { ImportedModel } from '../nn/import/common.js';
import { flagString, type ParsedArgs } from './args.js';
import { checkOutputDir, checkOutputFile } from '../io/output.js';
import { likelihoodFromFlags, parseSplitFlag } from './common-flags.js';

export interface ModelAndData {
  modelPath: string;
  model: Sequential;
  /** How the model file was read (fimkit JSON, ONNX or TF.js) and what the import changed. */
  imported: ImportedModel;
  data: Dataset;
  likelihood: Likelihood;
}

/** The files a --data spec reads (csv:, json:, dir: name a path), with the flag, for output checks. */
export function dataInputs(spec: string | undefined): { path: string; flag: string }[] {
  const m = spec === undefined ? null : /^(csv|json|dir):(.+)$/.exec(spec);
  return m ? [{ path: m[2]!, flag: '--data' }] : [];
}

/** The inputs of a model-and-data verb (--model, --data) an output may never replace. */
export function modelDataInputs(f: ParsedArgs['flags']): { path: string; flag: string }[] {
  const model = flagString(f, 'model');
  return [...(model !== undefined ? [{ path: model, flag: '--model' }] : []), ...dataInputs(flagString(f, 'data'))];
}

/** The one output check of every verb writing one file: before the work, naming the flag. */
export function checkOutFile(path: string, f: ParsedArgs['flags'], inputs: { path: string; flag: string }[]): string {
  return checkOutputFile(path, { flag: '--out', force: f['force'] === true, inputs });
}

/** The same for verbs writing a directory of files. */
export function checkOutDir(dir: string, files: readonly string[], f: ParsedArgs['flags'], inputs: { path: string; flag: string }[]): string {
  return checkOutputDir(dir, files, { flag: '--out', force: f['force'] === true, inputs });
}

export async function loadModelAndData(f: ParsedArgs['flags'], quiet: boolean, note: (text: string) => void): Promise<ModelAndData> {
  const modelPath = flagString(f, 'model')!;
  // fimkit JSON, ONNX or TF.js, told apart by the file's content.
  const imported = loadModelFile(modelPath, flagString(f, 'dtype') as DType | undefined);
  const model = imported.model;
  if (!quiet && imported.format !== 'fimkit') note(`imported ${imported.format} model ${modelPath}: ${imported.notes.join('; ')}`);
  const split = flagString(f, 'split') as 'train' | 'test';
  const data = (await resolveDataset(flagString(f, 'data')!, {
    download: f['download'] === true, ...(quiet ? {} : { log: note }),
    split: parseSplitFlag(flagString(f, 'split-fraction'), 'split-fraction'), seed: f['split-seed'] as number,
  }))[split];
  // --likelihood, else the one an imported model's final softmax names, else the data's.
  const lk = likelihoodFromFlags(f, imported.likelihood ?? likelihoodNameFor(data.targetKind));
  const likelihood = makeLikelihood(lk.name, lk.opts);
  return { modelPath, model, imported, data, likelihood };
}
