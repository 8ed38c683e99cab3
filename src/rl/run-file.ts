/** RL checkpoints on disk (Node only): `<dir>/checkpoint.json`, replaced atomically on every save. */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FimkitError } from '../core/errors.js';
import { writeFileAtomic } from '../io/atomic.js';
import { parseRlCheckpoint, type RlCheckpoint, type RlCheckpointStore } from './run.js';

export class FileRlCheckpointStore implements RlCheckpointStore {
  readonly path: string;
  constructor(readonly dir: string) {
    this.path = join(dir, 'checkpoint.json');
  }
  get location(): string {
    return this.path;
  }
  exists(): boolean {
    return existsSync(this.path);
  }
  load(): RlCheckpoint | null {
    if (!existsSync(this.path)) return null;
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (e) {
      throw new FimkitError('IO', `cannot read RL checkpoint ${this.path}: ${(e as Error).message}`);
    }
    return parseRlCheckpoint(text, this.path);
  }
  save(c: RlCheckpoint): void {
    writeFileAtomic(this.path, JSON.stringify(c));
  }
}
