import fs from 'node:fs';
import path from 'node:path';

let cached: string | undefined;

/** berth's own version, from the package.json above this file (src/ or dist/src/). */
export function clientVersion(): string {
  if (cached !== undefined) return cached;
  let dir = __dirname;
  for (let i = 0; i < 6; i++) {
    try {
      const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'berth' && pkg.version) return (cached = pkg.version);
    } catch {}
    dir = path.dirname(dir);
  }
  return (cached = 'unknown');
}
