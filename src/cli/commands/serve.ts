/**
 * `fimkit serve`: serves the explorer page (dist/web, built by `npm run build:web`) on
 * 127.0.0.1 and prints its URL; runs until Ctrl-C.
 */
import { UsageError, flagNumber, flagString, type FlagSpec, type ParsedArgs } from '../args.js';
import { EXIT_OK, type CliIO, type Command } from '../command.js';
import { defaultWebDir, serveWeb } from '../../web/server.js';

const FLAGS: FlagSpec[] = [
  { name: 'port', type: 'int', min: 0, max: 65535, default: 8417, description: 'Port on 127.0.0.1 (0: any free port).', group: 'Server' },
  { name: 'dir', type: 'path', metavar: 'DIR', description: 'Directory with the built page.', defaultText: 'dist/web of this package', group: 'Server' },
];

async function run(args: ParsedArgs, io: CliIO): Promise<number> {
  if (args.positionals.length > 0) throw new UsageError(`serve takes no positional arguments, got ${args.positionals.join(' ')}`);
  const web = await serveWeb(flagString(args.flags, 'dir') ?? defaultWebDir(), flagNumber(args.flags, 'port')!);
  io.stdout.write(`fimkit explorer: ${web.url}  (Ctrl-C to stop)\n`);
  await new Promise<void>((stop) => {
    const off = io.onInterrupt?.(() => { off?.(); stop(); });
    if (!io.onInterrupt) web.server.on('close', () => stop());
  });
  await web.close();
  return EXIT_OK;
}

export const serveCommand: Command = {
  name: 'serve',
  summary: 'Serve the explorer page (Fisher diagonal heatmaps, KFAC spectra, variances) on localhost',
  description: 'Serves the static page built by `npm run build:web` on 127.0.0.1 and prints the URL. The page computes in a Web Worker on the wasm backend: open a model (fimkit JSON, ONNX, TF.js), choose data (the embedded Fashion-MNIST subset or a CSV), and compute.',
  flags: FLAGS,
  run,
};
