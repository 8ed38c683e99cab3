/**
 * A static file server for the explorer page (Node only): serves dist/web on 127.0.0.1 with the
 * right content types; nothing outside the directory is reachable.
 */
import { createServer, type Server } from 'node:http';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fail } from '../core/errors.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.json': 'application/json',
  '.wasm': 'application/wasm', '.map': 'application/json', '.gz': 'application/gzip', '.svg': 'image/svg+xml', '.png': 'image/png',
};

/** dist/web next to this module's package (built by `npm run build:web`). */
export function defaultWebDir(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'web');
}

export interface WebServer {
  server: Server;
  url: string;
  close(): Promise<void>;
}

/** Serves `dir` on 127.0.0.1:`port` (0: any free port); resolves once listening. */
export async function serveWeb(dir: string = defaultWebDir(), port = 0): Promise<WebServer> {
  if (!existsSync(join(dir, 'index.html'))) fail('IO', `${dir} has no index.html: build the page first (npm run build:web)`);
  const root = resolve(dir);
  const server = createServer((req, res) => {
    const path = decodeURIComponent((req.url ?? '/').split('?')[0]!);
    const file = resolve(root, '.' + normalize(path === '/' ? '/index.html' : path));
    if (!(file === root || file.startsWith(root + sep)) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' });
    res.end(readFileSync(file));
  });
  await new Promise<void>((ok, bad) => {
    server.once('error', (e) => bad(e));
    server.listen(port, '127.0.0.1', () => ok());
  }).catch((e: Error) => fail('IO', `cannot listen on 127.0.0.1:${port}: ${e.message}`));
  const addr = server.address();
  const p = typeof addr === 'object' && addr ? addr.port : port;
  return { server, url: `http://127.0.0.1:${p}/`, close: () => new Promise((ok) => server.close(() => ok())) };
}
