import fs from 'node:fs';
import path from 'node:path';

/** Bytes in regular files under `dir`, hard links counted once (Docker's directory.Size). */
export function directorySize(dir: string): number {
  let total = 0;
  const seen = new Set<string>();
  const walk = (d: string): void => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) {
        walk(p);
        continue;
      }
      try {
        const st = fs.lstatSync(p);
        if (st.nlink > 1) {
          const k = `${st.dev}:${st.ino}`;
          if (seen.has(k)) continue;
          seen.add(k);
        }
        total += st.size;
      } catch {
        /* vanished */
      }
    }
  };
  walk(dir);
  return total;
}
