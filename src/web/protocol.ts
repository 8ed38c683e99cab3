/** Messages between the explorer page and its compute worker. */
import type { AnalysisRequest, AnalysisResult } from './analyse.js';

export interface ModelFiles {
  /** The file the user chose as the model (model.json, .onnx, fimkit JSON). */
  name: string;
  bytes: ArrayBuffer;
  /** Other files chosen with it (TF.js weight shards), by file name. */
  shards: Record<string, ArrayBuffer>;
}

export type DataSource =
  | { kind: 'embedded'; images: ArrayBuffer; labels: ArrayBuffer }
  | { kind: 'csv'; name: string; text: string };

export type ToWorker =
  | { type: 'run'; model: ModelFiles; data: DataSource; request: AnalysisRequest }
  | { type: 'samplesize'; inputIndex: number; epsilon: number; delta: number };

export interface ModelInfo {
  format: string;
  inputShape: number[];
  parameters: number;
  layers: string[];
  notes: string[];
}

export type FromWorker =
  | { type: 'ready'; backend: string }
  | { type: 'model'; info: ModelInfo }
  | { type: 'progress'; fraction: number; stage: string }
  | { type: 'result'; result: AnalysisResult }
  | { type: 'samplesize'; rows: { label: string; i1: number; i2: number; recommended: string }[]; epsilon: number; delta: number }
  | { type: 'error'; code: string; message: string };
