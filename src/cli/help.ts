/** Help texts, generated from the command table and each command's flag table. */
import { formatFlags, wrap } from './args.js';
import type { Command } from './command.js';
import { fimkitVersion } from './version.js';

const WIDTH = 100;

export function topLevelHelp(commands: readonly Command[]): string {
  const w = Math.max(4, ...commands.map((c) => c.name.length));
  return [
    `fimkit ${fimkitVersion()}: Fisher information of neural networks — estimators, their variance, and uses.`,
    '',
    'Usage: fimkit <command> [flags]',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(w)}  ${c.summary}`),
    `  ${'help'.padEnd(w)}  Show help for a command: fimkit help <command>`,
    '',
    "Every command takes --help. Flags are written --name value or --name=value.",
    'Exit codes: 0 success, 1 error (bad data, file, numerics), 2 bad usage.',
    '',
  ].join('\n');
}

export function commandHelp(cmd: Command): string {
  const pos = (cmd.positionals ?? []).map((p) => (p.optional ? `[${p.name}]` : `<${p.name}>`)).join(' ');
  const parts = [`Usage: fimkit ${cmd.name}${pos ? ` ${pos}` : ''} [flags]`, '', wrap(cmd.summary + '.', WIDTH, 0)];
  if (cmd.description) parts.push('', wrap(cmd.description, WIDTH, 0));
  if (cmd.positionals && cmd.positionals.length > 0) {
    parts.push('', 'Arguments:', ...cmd.positionals.map((p) => `  ${p.name}  ${p.description}`));
  }
  parts.push('', formatFlags([...cmd.flags, { name: 'help', type: 'boolean', description: 'Show this help.', group: 'Output' }], WIDTH));
  if (cmd.epilog) parts.push('', cmd.epilog);
  return parts.join('\n') + '\n';
}
