/**
 * Output locations, checked before any work starts (Node only). Every CLI verb that writes calls
 * checkOutputFile or checkOutputDir first, so a bad --out fails in milliseconds with a message
 * that names the flag, instead of after the computation with an internal error:
 *
 *   - paths under /proc, /sys and /dev are refused (kernel and device file systems: Node's
 *     recursive mkdir can spin forever under /proc, and /dev/null is not a directory);
 *   - a dangling symbolic link, or a file where a directory is expected (anywhere on the path),
 *     is named as such;
 *   - an existing output file is replaced only with --force, and never when it is one of the
 *     command's inputs (the model it reads, the data file), whatever the flags;
 *   - a probe file is written and removed in the deepest existing directory of the path, so an
 *     unwritable place (read-only file system, no permission) fails now; nothing is created.
 */
import { closeSync, existsSync, lstatSync, openSync, readlinkSync, realpathSync, rmSync, statSync, type Stats } from 'node:fs';
import { dirname, join, resolve, sep } from 'node:path';
import { fail } from '../core/errors.js';

/** Kernel and device file systems no output may go to. */
const FORBIDDEN_ROOTS = ['/proc', '/sys', '/dev'];

export interface OutputCheckOptions {
  /** The flag the location came from, for messages ('--out'). */
  flag: string;
  /** Allow replacing existing output files (never inputs). */
  force?: boolean;
  /** Files the command reads, with the flag each came from: outputs may never be one of them. */
  inputs?: readonly { path: string; flag: string }[];
}

function lstatOrNull(p: string): Stats | null {
  try {
    return lstatSync(p);
  } catch {
    return null;
  }
}

/** The canonical form of a path whose tail may not exist yet: realpath of the deepest existing ancestor, plus the rest. */
function canonical(p: string): string {
  const abs = resolve(p);
  let head = abs;
  const tail: string[] = [];
  for (;;) {
    if (lstatOrNull(head) !== null) {
      try {
        return join(realpathSync(head), ...tail.reverse());
      } catch {
        return join(head, ...tail.reverse());
      }
    }
    const up = dirname(head);
    if (up === head) return abs;
    tail.push(head.slice(up.length + (up.endsWith(sep) ? 0 : 1)));
    head = up;
  }
}

function checkNotSpecial(p: string, flag: string): void {
  for (const c of [resolve(p), canonical(p)]) {
    const root = FORBIDDEN_ROOTS.find((r) => c === r || c.startsWith(r + '/'));
    if (root !== undefined) fail('IO', `${flag} ${p}: is under ${root}, a ${root === '/dev' ? 'device' : 'kernel'} file system; fimkit writes only to ordinary directories (choose another ${flag})`);
  }
}

/**
 * Every ancestor of `dir` that exists must be a directory (or a link to one): a file, a dangling
 * link or a special file where a directory is expected is named.
 */
function checkAncestors(dir: string, flag: string, shown: string): void {
  const abs = resolve(dir);
  const chain: string[] = [];
  for (let d = abs; ; d = dirname(d)) {
    chain.push(d);
    if (dirname(d) === d) break;
  }
  for (const d of chain.reverse()) {
    const st = lstatOrNull(d);
    if (st === null) return; // from here on nothing exists: mkdir creates it
    if (st.isSymbolicLink()) {
      if (!existsSync(d)) fail('IO', `${flag} ${shown}: ${d} is a dangling symbolic link (to ${readlinkSync(d)}), where a directory is expected`);
      if (!statSync(d).isDirectory()) fail('IO', `${flag} ${shown}: ${d} is a link to a file, where a directory is expected`);
    } else if (!st.isDirectory()) {
      fail('IO', `${flag} ${shown}: ${d} is ${st.isFile() ? 'a file' : 'not a directory'}, where a directory is expected`);
    }
  }
}

/**
 * Proves that `dir` can be created and written, without creating it: a probe file is created and
 * removed in its deepest existing ancestor (a failed command leaves nothing behind; the writer
 * creates the directories when it writes).
 */
function checkWritable(dir: string, flag: string, shown: string): void {
  let d = resolve(dir);
  while (!existsSync(d) && dirname(d) !== d) d = dirname(d);
  const probe = join(d, `.fimkit-probe.${process.pid}.${Date.now()}.tmp`);
  try {
    closeSync(openSync(probe, 'wx'));
  } catch (e) {
    fail('IO', `${flag} ${shown}: cannot write in ${d}: ${(e as Error).message}`);
  } finally {
    rmSync(probe, { force: true });
  }
}

/** The same file (after links), compared by device and inode when both exist. */
function sameFile(a: string, b: string): boolean {
  try {
    const sa = statSync(a), sb = statSync(b);
    return sa.dev === sb.dev && sa.ino === sb.ino;
  } catch {
    return canonical(a) === canonical(b);
  }
}

/** Checks one output file path that is about to be written (a file, never a directory). */
function checkFileTarget(path: string, o: OutputCheckOptions, shown: string): void {
  for (const inp of o.inputs ?? []) {
    if (sameFile(path, inp.path)) {
      fail('IO', `${o.flag} ${shown}: ${path} is the input ${inp.flag} ${inp.path}; fimkit never overwrites its inputs (choose another ${o.flag})`);
    }
  }
  const st = lstatOrNull(path);
  if (st === null) return;
  if (st.isSymbolicLink() && !existsSync(path)) fail('IO', `${o.flag} ${shown}: ${path} is a dangling symbolic link (to ${readlinkSync(path)})`);
  const target = statSync(path);
  if (target.isDirectory()) fail('IO', `${o.flag} ${shown}: ${path} is a directory, where a file is to be written`);
  if (!target.isFile()) fail('IO', `${o.flag} ${shown}: ${path} is not a regular file (a device, pipe or socket)`);
  if (!o.force) fail('IO', `${o.flag} ${shown}: ${path} already exists; add --force to overwrite it`);
}

/** Checks an output file before the work (see the file comment); returns the path unchanged. */
export function checkOutputFile(path: string, o: OutputCheckOptions): string {
  checkNotSpecial(path, o.flag);
  checkAncestors(dirname(path), o.flag, path);
  checkFileTarget(path, o, path);
  checkWritable(dirname(path), o.flag, path);
  return path;
}

/**
 * Checks an output directory and the files the command will write in it (names relative to
 * `dir`) before the work.
 */
export function checkOutputDir(dir: string, files: readonly string[], o: OutputCheckOptions): string {
  checkNotSpecial(dir, o.flag);
  checkAncestors(dir, o.flag, dir);
  for (const name of files) checkFileTarget(join(dir, name), o, dir);
  checkWritable(dir, o.flag, dir);
  return dir;
}
