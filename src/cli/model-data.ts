/**
 * What the verbs that analyse a trained model share: the model file (--model, --dtype), the data
 * split (--data, --split, --download) and the likelihood (--likelihood, else from the data).
 */
import type { DType } from '../core/dtype.js';
import { resolveDataset, type Dataset } from '../data/index.js';
import { likelihoodNameFor, makeLikelihood, type Likelihood } from '../likelihoods/index.js';
import { loadModel, type Sequential } from '../nn/index.js';
import { flagString, type ParsedArgs } from './args.js';

export interface ModelAndData {
  modelPath: string;
  model: Sequential;
  data: Dataset;
  likelihood: Likelihood;
}

export async function loadModelAndData(f: ParsedArgs['flags'], quiet: boolean, note: (text: string) => void): Promise<ModelAndData> {
  const modelPath = flagString(f, 'model')!;
  const model = loadModel(modelPath, flagString(f, 'dtype') as DType | undefined);
  const split = flagString(f, 'split') as 'train' | 'test';
  const data = (await resolveDataset(flagString(f, 'data')!, { download: f['download'] === true, ...(quiet ? {} : { log: note }) }))[split];
  const likelihood = makeLikelihood(flagString(f, 'likelihood') ?? likelihoodNameFor(data.targetKind));
  return { modelPath, model, data, likelihood };
}
