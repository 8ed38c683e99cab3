/**
 * Atomic file writes: write to a temporary file in the same directory, fsync, rename over the
 * target, then fsync the directory so the rename itself survives a power loss. A reader (or a
 * resumed run) sees the old file or the new one, never half of one.
 *
 * Temporaries are named `.<target>.<pid>.<ms>.tmp`. A process killed between creating one and
 * the rename (kill -9, SIGTERM, a failed rename) leaves it behind; the next write of the same
 * target removes every temporary of that target whose process is gone (a live process's
 * temporary, e.g. a concurrent writer's, is left alone). Node only; browser callers never write
 * files.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';

/** Whether process `pid` is alive (signal 0 probes without sending; EPERM means it exists). */
function processAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes the temporaries of `path` left by dead processes; returns the names removed. */
export function removeStaleTemporaries(path: string): string[] {
  const dir = dirname(path);
  const prefix = `.${basename(path)}.`;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    if (!name.startsWith(prefix) || !name.endsWith('.tmp')) continue;
    const m = /^(\d+)\.(\d+)\.tmp$/.exec(name.slice(prefix.length));
    if (!m) continue;
    if (processAlive(Number(m[1]))) {
      // Our own pid: an earlier write of this process that failed midway (its rename threw).
      if (Number(m[1]) !== process.pid) continue;
    }
    rmSync(join(dir, name), { force: true });
    removed.push(name);
  }
  return removed;
}

/** fsync of a directory (makes a rename in it durable); not supported everywhere, so best effort. */
function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // Some platforms (Windows) cannot open or fsync a directory: the rename is still atomic.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

export function writeFileAtomic(path: string, contents: string | Uint8Array): void {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true });
  removeStaleTemporaries(path);
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
  const fd = openSync(tmp, 'w');
  try {
    const buf = typeof contents === 'string' ? Buffer.from(contents, 'utf8') : contents;
    let off = 0;
    while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw e;
  }
  closeSync(fd);
  try {
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
  fsyncDir(dir);
}

export function writeJsonAtomic(path: string, value: unknown): void {
  writeFileAtomic(path, JSON.stringify(value, null, 2) + '\n');
}
