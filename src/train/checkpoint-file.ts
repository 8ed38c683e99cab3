/** Checkpoints on disk (Node only): `<dir>/checkpoint.json`, replaced atomically on every save. */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FimkitError } from '../core/errors.js';
import { writeFileAtomic } from '../io/atomic.js';
import { CHECKPOINT_FILE, parseCheckpoint, type Checkpoint, type CheckpointStore } from './checkpoint.js';

export class FileCheckpointStore implements CheckpointStore {
  readonly path: string;
  constructor(readonly dir: string) {
    this.path = join(dir, CHECKPOINT_FILE);
  }
  get location(): string {
    return this.path;
  }
  exists(): boolean {
    return existsSync(this.path);
  }
  load(): Checkpoint | null {
    if (!existsSync(this.path)) return null;
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (e) {
      throw new FimkitError('IO', `cannot read checkpoint ${this.path}: ${(e as Error).message}`);
    }
    return parseCheckpoint(text, this.path);
  }
  save(c: Checkpoint): void {
    // Compact JSON: the weights are base64 already; indentation would only add bytes.
    writeFileAtomic(this.path, JSON.stringify(c));
  }
}
