/**
 * Training checkpoints: everything a run needs to continue exactly where it stopped, in one JSON
 * document written atomically (so a kill at any instant leaves the previous checkpoint or the new
 * one, never a torn file). Contents: the model (weights as exact base64 bytes), the optimiser's
 * state, the position (epoch, step within it, global step), the seed and root RNG state, metrics
 * so far, and the run's config, which a resume compares field by field before continuing.
 *
 * Browser-safe; the on-disk store is in checkpoint-file.ts (Node only).
 */
import { fail } from '../core/errors.js';
import type { ModelJSON } from '../nn/format.js';
import type { OptimizerState } from '../optim/optimizer.js';

export const CHECKPOINT_FORMAT = 'fimkit-checkpoint';
export const CHECKPOINT_VERSION = 1;
export const CHECKPOINT_FILE = 'checkpoint.json';

/** Identity of a run: flat field → JSON value. Two runs with equal configs compute the same thing. */
export type RunConfig = Record<string, unknown>;

export interface EpochMetrics {
  /** 1-based. */
  epoch: number;
  /** Mean minibatch loss over the epoch's steps (with dropout active, as trained). */
  trainLoss: number;
  testLoss: number | null;
  testAccuracy: number | null;
  /** Learning rate of the epoch's last step. */
  lr: number;
  steps: number;
  /** Training plus evaluation time of the epoch, summed over sessions when it was resumed. */
  seconds: number;
}

export interface TrainingPosition {
  /** 0-based index of the epoch in progress (equal to the number of epochs when done). */
  epoch: number;
  /** Steps of that epoch already applied. */
  stepInEpoch: number;
  /** Steps applied since the start of the run. */
  globalStep: number;
}

export interface Checkpoint {
  format: typeof CHECKPOINT_FORMAT;
  version: number;
  createdAt: string;
  config: RunConfig;
  position: TrainingPosition;
  rng: { seed: number | string; state: number[] };
  optimizer: OptimizerState;
  metrics: {
    epochs: EpochMetrics[];
    /** Σ batch loss × batch size over the epoch in progress, and the sample count. */
    epochLossSum: number;
    epochSamples: number;
    epochSeconds: number;
    /** Training time over all sessions so far. */
    wallSeconds: number;
  };
  model: ModelJSON;
}

/** Where checkpoints live. The trainer only needs load and save. */
export interface CheckpointStore {
  /** Human-readable location, for messages. */
  readonly location: string;
  load(): Checkpoint | null;
  save(checkpoint: Checkpoint): void;
}

/** JSON-equality of two config values (key order ignored). */
function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a === 'number' && typeof b === 'number') return Number.isNaN(a) && Number.isNaN(b);
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a as object).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  const kb = Object.keys(b as object).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => sameValue((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

function show(v: unknown): string {
  if (v === undefined) return '(not set)';
  const s = JSON.stringify(v);
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

/** Fields whose values differ between two configs, with both values. */
export function configDifferences(saved: RunConfig, current: RunConfig): { field: string; saved: unknown; current: unknown }[] {
  const keys = [...new Set([...Object.keys(saved), ...Object.keys(current)])];
  return keys.filter((k) => !sameValue(saved[k], current[k])).map((k) => ({ field: k, saved: saved[k], current: current[k] }));
}

/** Refuses (INVALID_ARGUMENT, naming every differing field) to resume a different run. */
export function checkConfigMatches(saved: RunConfig, current: RunConfig, location: string): void {
  const diffs = configDifferences(saved, current);
  if (diffs.length === 0) return;
  const list = diffs.map((d) => `${d.field}: checkpoint has ${show(d.saved)}, this run has ${show(d.current)}`).join('; ');
  fail(
    'INVALID_ARGUMENT',
    `cannot resume from ${location}: it belongs to a run with a different configuration (${list}). ` +
      `Resume with the same settings, or start a new run elsewhere.`,
  );
}

/** Structural checks of a parsed checkpoint; throws CORRUPT_FILE naming the first problem. */
export function validateCheckpoint(c: unknown, location: string): Checkpoint {
  const bad = (why: string): never => fail('CORRUPT_FILE', `checkpoint ${location}: ${why}`);
  if (c === null || typeof c !== 'object') return bad('not a JSON object');
  const o = c as Partial<Checkpoint>;
  if (o.format !== CHECKPOINT_FORMAT) bad(`format is ${show(o.format)}, expected "${CHECKPOINT_FORMAT}"`);
  if (o.version !== CHECKPOINT_VERSION) bad(`version ${show(o.version)} is not supported (this fimkit reads version ${CHECKPOINT_VERSION})`);
  if (o.config === null || typeof o.config !== 'object') bad('missing config');
  const p = o.position;
  const isCount = (v: unknown): boolean => Number.isInteger(v) && (v as number) >= 0;
  if (!p || !isCount(p.epoch) || !isCount(p.stepInEpoch) || !isCount(p.globalStep)) bad(`invalid position ${show(p)}`);
  if (!o.rng || !Array.isArray(o.rng.state)) bad('missing rng state');
  if (!o.optimizer || typeof o.optimizer !== 'object') bad('missing optimiser state');
  const m = o.metrics;
  if (!m || !Array.isArray(m.epochs) || typeof m.epochLossSum !== 'number' || typeof m.epochSamples !== 'number') bad('missing metrics');
  if (!o.model || typeof o.model !== 'object') bad('missing model');
  return o as Checkpoint;
}

/** Parses checkpoint text, mapping JSON errors to TRUNCATED_FILE / CORRUPT_FILE. */
export function parseCheckpoint(text: string, location: string): Checkpoint {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    const truncated = text.trim().length === 0 || /end of (JSON )?input|Unterminated/i.test((e as Error).message);
    fail(truncated ? 'TRUNCATED_FILE' : 'CORRUPT_FILE', `checkpoint ${location} is not valid JSON (${(e as Error).message})`);
  }
  return validateCheckpoint(parsed, location);
}

/** Keeps the latest checkpoint in memory (tests, browser). Stores a serialised copy, like a file. */
export class MemoryCheckpointStore implements CheckpointStore {
  readonly location = 'memory';
  private text: string | null = null;
  saves = 0;
  load(): Checkpoint | null {
    return this.text === null ? null : parseCheckpoint(this.text, this.location);
  }
  save(c: Checkpoint): void {
    this.text = JSON.stringify(c);
    this.saves++;
  }
}
