/**
 * The `fimkit` command line: `fimkit <command> [flags]`. Dispatches to the verbs in
 * commands/index.ts, turns usage mistakes into exit code 2 with a message naming the flag, and
 * fimkit errors (bad data, shapes, files) into exit code 1 with the error's code and message.
 */
import { FimkitError } from '../core/errors.js';
import { closest, parseArgs, UsageError } from './args.js';
import { EXIT_FAILURE, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, type CliIO, type Command } from './command.js';
import { COMMANDS } from './commands/index.js';
import { commandHelp, topLevelHelp } from './help.js';
import { fimkitVersion } from './version.js';

/** The process's own streams, environment and Ctrl-C. */
export function processIO(): CliIO {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    onInterrupt(handler) {
      let count = 0;
      const listener = (): void => {
        count++;
        if (count > 1) process.exit(EXIT_INTERRUPTED);
        handler();
      };
      process.on('SIGINT', listener);
      return () => process.off('SIGINT', listener);
    },
  };
}

function findCommand(name: string): Command | undefined {
  return COMMANDS.find((c) => c.name === name);
}

function unknownCommand(name: string, io: CliIO): number {
  const near = closest(name, [...COMMANDS.map((c) => c.name), 'help']);
  io.stderr.write(`fimkit: unknown command '${name}'${near ? ` (did you mean '${near}'?)` : ''}\nRun 'fimkit help' for the list of commands.\n`);
  return EXIT_USAGE;
}

function helpVerb(args: readonly string[], io: CliIO): number {
  const flags = args.filter((a) => a.startsWith('-'));
  const words = args.filter((a) => !a.startsWith('-'));
  if (flags.some((f) => f !== '--help' && f !== '-h')) {
    io.stderr.write(`fimkit help: unknown flag ${flags.find((f) => f !== '--help' && f !== '-h')}\nUsage: fimkit help [command]\n`);
    return EXIT_USAGE;
  }
  if (words.length > 1) {
    io.stderr.write(`fimkit help: takes at most one command name, got ${words.length}\nUsage: fimkit help [command]\n`);
    return EXIT_USAGE;
  }
  if (words.length === 0) {
    io.stdout.write(topLevelHelp(COMMANDS));
    return EXIT_OK;
  }
  const cmd = findCommand(words[0]!);
  if (!cmd) return unknownCommand(words[0]!, io);
  io.stdout.write(commandHelp(cmd));
  return EXIT_OK;
}

function reportError(cmd: string, e: unknown, io: CliIO, json: boolean): number {
  if (e instanceof UsageError) {
    io.stderr.write(`fimkit ${cmd}: ${e.message}\nRun 'fimkit help ${cmd}' for the list of flags.\n`);
    if (json) io.stdout.write(JSON.stringify({ command: cmd, error: { kind: 'usage', message: e.message } }) + '\n');
    return EXIT_USAGE;
  }
  if (e instanceof FimkitError) {
    io.stderr.write(`fimkit ${cmd}: error [${e.code}]: ${e.message}\n`);
    if (json) io.stdout.write(JSON.stringify({ command: cmd, error: { kind: 'fimkit', code: e.code, message: e.message } }) + '\n');
    return EXIT_FAILURE;
  }
  const err = e instanceof Error ? e : new Error(String(e));
  io.stderr.write(`fimkit ${cmd}: internal error: ${err.message}\n${io.env?.['FIMKIT_DEBUG'] ? (err.stack ?? '') + '\n' : '(set FIMKIT_DEBUG=1 for a stack trace)\n'}`);
  if (json) io.stdout.write(JSON.stringify({ command: cmd, error: { kind: 'internal', message: err.message } }) + '\n');
  return EXIT_FAILURE;
}

/** Runs the CLI on `argv` (the words after `fimkit`) and returns the exit code. */
export async function runCli(argv: readonly string[], io: CliIO = processIO()): Promise<number> {
  const [verb, ...rest] = argv;
  if (verb === undefined) {
    io.stderr.write(topLevelHelp(COMMANDS));
    return EXIT_USAGE;
  }
  if (verb === 'help' || verb === '--help' || verb === '-h') return helpVerb(rest, io);
  if (verb === '--version' || verb === 'version') {
    io.stdout.write(`${fimkitVersion()}\n`);
    return EXIT_OK;
  }
  if (verb.startsWith('-')) {
    io.stderr.write(`fimkit: expected a command before flags, got '${verb}'\nUsage: fimkit <command> [flags]; run 'fimkit help'.\n`);
    return EXIT_USAGE;
  }
  const cmd = findCommand(verb);
  if (!cmd) return unknownCommand(verb, io);
  const json = rest.includes('--json') || rest.includes('--json=true');
  try {
    const args = parseArgs(rest, cmd.flags, cmd.positionals);
    if (args.help) {
      io.stdout.write(commandHelp(cmd));
      return EXIT_OK;
    }
    return await cmd.run(args, io);
  } catch (e) {
    return reportError(cmd.name, e, io, json);
  }
}

/** Entry point of bin/fimkit.js. */
export async function main(): Promise<void> {
  process.exitCode = await runCli(process.argv.slice(2));
}
