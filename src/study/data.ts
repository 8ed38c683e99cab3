/**
 * Which data the study runs on, and what to say about it in the report. Node only.
 *
 * The paper's experiments use MNIST. `auto` (the study's default) takes the MNIST test set
 * (`mnist-test`: 10 000 images split 8000/2000) when its files are on this machine and falls back
 * to the embedded Fashion-MNIST subset otherwise, so that the study always runs offline.
 */
import { FimkitError } from '../core/errors.js';
import type { DatasetSplit } from '../data/dataset.js';
import { MNIST_TEST_SPLIT } from '../data/mnist.js';
import { resolveDataset, type ResolveOptions } from '../data/resolve.js';

export interface StudyData {
  /** The spec actually loaded (auto resolves to mnist-test or embedded). */
  spec: string;
  split: DatasetSplit;
  /** Which data this is and how far it is from the paper's. */
  note: string;
}

const PAPER = 'The paper trains on MNIST (60 000 training images) and measures at an input of its 10 000-image test set.';

export function studyDataNote(spec: string): string {
  if (spec === 'mnist-test' || spec.startsWith('mnist-test:')) {
    return `MNIST, as in the paper, but only its test set: the 10 000 test images split ${MNIST_TEST_SPLIT.train} for training and ${MNIST_TEST_SPLIT.test} for testing by a fixed permutation (seed '${MNIST_TEST_SPLIT.seed}'). ${PAPER} Fewer training images means a less trained network after the same number of epochs.`;
  }
  if (spec === 'mnist') return `MNIST, as in the paper (60 000 training, 10 000 test images).`;
  if (spec === 'embedded' || spec === 'fashion-mnist') {
    return `Fashion-MNIST${spec === 'embedded' ? ' (the class-balanced subset shipped with fimkit)' : ''}, NOT the paper's MNIST: same image format and 10 classes, but a harder task (lower accuracy for the same network and training). ${PAPER}`;
  }
  return `Not the paper's data. ${PAPER}`;
}

/** Loads the study's data; `auto` prefers the MNIST test set and falls back to the embedded subset. */
export async function resolveStudyData(spec: string, opts: ResolveOptions = {}): Promise<StudyData> {
  if (spec !== 'auto') return { spec, split: await resolveDataset(spec, opts), note: studyDataNote(spec) };
  try {
    return { spec: 'mnist-test', split: await resolveDataset('mnist-test', opts), note: studyDataNote('mnist-test') };
  } catch (e) {
    if (!(e instanceof FimkitError && e.code === 'IO')) throw e;
    opts.log?.('auto: no MNIST test set found (see --data mnist-test); using the embedded Fashion-MNIST subset');
    return { spec: 'embedded', split: await resolveDataset('embedded', opts), note: `${studyDataNote('embedded')} (auto: no MNIST test files were found on this machine.)` };
  }
}
