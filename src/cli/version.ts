/** fimkit's version, read from package.json next to the compiled or source tree (Node only). */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

let cached: string | undefined;

export function fimkitVersion(): string {
  if (cached !== undefined) return cached;
  // dist/src/cli/version.js → ../../../package.json; src/cli/version.ts → ../../package.json.
  for (const rel of ['../../../package.json', '../../package.json']) {
    const path = fileURLToPath(new URL(rel, import.meta.url));
    if (!existsSync(path)) continue;
    try {
      const pkg = JSON.parse(readFileSync(path, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'fimkit' && typeof pkg.version === 'string') return (cached = pkg.version);
    } catch {
      // not our package.json; keep looking
    }
  }
  return (cached = 'unknown');
}
