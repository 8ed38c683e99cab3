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

export interface ModelAndData {
  modelPath: string;
  model: Sequential;
  /** How the model file was read (fimkit JSON, ONNX or TF.js) and what the import changed. */
  imported: ImportedModel;
  data: Dataset;
  likelihood: Likelihood;
}

export async function loadModelAndData(f: ParsedArgs['flags'], quiet: boolean, note: (text: string) => void): Promise<ModelAndData> {
  const modelPath = flagString(f, 'model')!;
  // fimkit JSON, ONNX or TF.js, told apart by the file's content.
  const imported = loadModelFile(modelPath, flagString(f, 'dtype') as DType | undefined);
  const model = imported.model;
  if (!quiet && imported.format !== 'fimkit') note(`imported ${imported.format} model ${modelPath}: ${imported.notes.join('; ')}`);
  const split = flagString(f, 'split') as 'train' | 'test';
  const data = (await resolveDataset(flagString(f, 'data')!, { download: f['download'] === true, ...(quiet ? {} : { log: note }) }))[split];
  const likelihood = makeLikelihood(flagString(f, 'likelihood') ?? imported.likelihood ?? likelihoodNameFor(data.targetKind));
  return { modelPath, model, imported, data, likelihood };
}
