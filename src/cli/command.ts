/**
 * What a CLI verb is: a name, a summary, its flag table and a `run`. A new verb (fisher,
 * variance, study, ...) is one file in src/cli/commands/ exporting a Command, plus one line in
 * commands/index.ts; parsing, validation, `--help` and `fimkit help <verb>` come from the table.
 */
import type { FlagSpec, ParsedArgs, PositionalSpec } from './args.js';

/** Streams the command writes to (injectable, so tests run commands in-process). */
export interface CliIO {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown; readonly isTTY?: boolean; readonly columns?: number };
  /** Registers a handler for Ctrl-C; returns a function that unregisters it. */
  onInterrupt?: (handler: () => void) => () => void;
  env?: Record<string, string | undefined>;
}

export interface Command {
  name: string;
  /** One line, shown in `fimkit help`. */
  summary: string;
  /** Paragraphs shown in `fimkit help <verb>` after the usage line. */
  description?: string;
  /** Extra text at the end of the help (examples, file formats). */
  epilog?: string;
  flags: readonly FlagSpec[];
  positionals?: readonly PositionalSpec[];
  /** Returns the exit code. Throws UsageError for bad usage, FimkitError for bad input. */
  run(args: ParsedArgs, io: CliIO): Promise<number>;
}

/** Exit codes. */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;
/** Interrupted by Ctrl-C after writing a checkpoint (128 + SIGINT). */
export const EXIT_INTERRUPTED = 130;

/** Writes a line to stderr unless the command runs with --quiet (progress and notes). */
export function stderrNotes(io: CliIO, quiet: boolean): (text: string) => void {
  return (text: string): void => {
    if (!quiet) io.stderr.write(text + '\n');
  };
}

/** Local time as YYYYMMDD-HHMMSS, for default run directories. */
export function timestampForPath(d: Date = new Date()): string {
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}-${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`;
}
