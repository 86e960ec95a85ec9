/**
 * What a container changed, read from its overlay upper dir: GET /containers/{id}/changes
 * (Kind 0 modified, 1 added, 2 deleted) with Docker's rules (a whiteout is a deletion, an opaque
 * directory that hid a lower one is a deletion followed by its new contents, a directory whose
 * size, mode and mtime equal the lower one's is unchanged, and the parent of an added or deleted
 * path is reported modified). The mount points the runtime creates (Docker keeps them in an
 * "init" layer below the container's) are not changes.
 */
import fs from 'node:fs';
import path from 'node:path';
import { native } from '../util/native';

export interface Change {
  Path: string;
  Kind: 0 | 1 | 2;
}

const OPAQUE = 'trusted.overlay.opaque';

/** What Docker's init layer holds, plus the container's mount points and their parents. */
export function runtimePaths(mountDests: string[]): Set<string> {
  const out = new Set(['/proc', '/sys', '/dev', '/dev/pts', '/dev/shm', '/dev/mqueue', '/dev/console', '/etc', '/etc/hosts', '/etc/hostname', '/etc/resolv.conf', '/etc/mtab', '/.dockerenv']);
  for (const d of mountDests) {
    const parts = d.split('/').filter(Boolean);
    for (let i = 1; i <= parts.length; i++) out.add('/' + parts.slice(0, i).join('/'));
  }
  return out;
}

/**
 * Docker's sameFsTime: equal, or the same second when one side has no sub-second part (a file
 * system or archive that keeps whole seconds). Sub-microsecond differences are float rounding.
 */
function sameFsTime(a: number, b: number): boolean {
  if (Math.abs(a - b) < 0.001) return true;
  return Math.floor(a / 1000) === Math.floor(b / 1000) && (a % 1000 === 0 || b % 1000 === 0);
}

function isWhiteout(st: fs.Stats): boolean {
  return st.isCharacterDevice() && st.rdev === 0;
}

function isOpaque(p: string): boolean {
  try {
    const v = native().lgetxattr(p, OPAQUE);
    return !!v && v.length === 1 && v[0] === 0x79;
  } catch {
    return false;
  }
}

/**
 * The lower layers' view of a path: the topmost layer that has it decides (a whiteout there, or
 * an opaque directory above it, means it is gone).
 */
export function lowerStat(lowers: string[], rel: string): fs.Stats | null {
  const comps = rel.split('/').filter(Boolean);
  for (const layer of lowers) {
    const st = fs.lstatSync(path.join(layer, rel), { throwIfNoEntry: false });
    if (st) return isWhiteout(st) ? null : st;
    // An opaque ancestor in this layer hides everything below it in the layers underneath.
    for (let i = comps.length - 1; i > 0; i--) {
      const anc = path.join(layer, ...comps.slice(0, i));
      const ast = fs.lstatSync(anc, { throwIfNoEntry: false });
      if (ast?.isDirectory() && isOpaque(anc)) return null;
      if (ast && !ast.isDirectory()) return null;
    }
  }
  return null;
}

/** True when the upper entry is only a mount point the runtime made (not a change of the user's). */
export function isRuntimeArtifact(rel: string, st: fs.Stats, runtime: Set<string>, lowers: string[]): boolean {
  if (!runtime.has(rel)) return false;
  if (lowerStat(lowers, rel)) return st.isDirectory() && !isWhiteout(st); // an existing dir the runtime touched
  return st.isDirectory() || (st.isFile() && st.size === 0);
}

/** The changes of `upper` over `lowers` (host dirs, topmost first). */
export function containerChanges(upper: string, lowers: string[], runtime: Set<string>): Change[] {
  const out: Change[] = [];
  const changedDirs = new Set<string>();
  const walk = (rel: string): void => {
    let names: string[];
    try {
      names = fs.readdirSync(path.join(upper, rel)).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    } catch {
      return;
    }
    for (const name of names) {
      const r = `${rel}/${name}`;
      const abs = path.join(upper, r);
      const st = fs.lstatSync(abs, { throwIfNoEntry: false });
      if (!st) continue;
      const lower = lowerStat(lowers, r);
      let kind: Change['Kind'] | undefined;
      if (isWhiteout(st)) {
        kind = 2;
      } else if (st.isDirectory() && isOpaque(abs) && lower) {
        kind = 2;
      } else if (isRuntimeArtifact(r, st, runtime, lowers)) {
        kind = undefined;
      } else if (!lower) {
        kind = 1;
      } else if (!(st.isDirectory() && lower.isDirectory() && st.size === lower.size && st.mode === lower.mode && sameFsTime(st.mtimeMs, lower.mtimeMs))) {
        kind = 0;
      }
      if (kind !== undefined) {
        if (st.isDirectory()) changedDirs.add(r);
        if (kind !== 0) {
          const parent = path.posix.dirname(r);
          if (parent !== '/' && !changedDirs.has(parent)) {
            out.push({ Path: parent, Kind: 0 });
            changedDirs.add(parent);
          }
        }
        out.push({ Path: r, Kind: kind });
      }
      if (st.isDirectory()) walk(r);
    }
  };
  walk('');
  return out;
}

/** A runtime artifact with nothing of the user's below it: left out of commits. */
export function isPureArtifact(upper: string, rel: string, runtime: Set<string>, lowers: string[]): boolean {
  const abs = path.join(upper, rel);
  const st = fs.lstatSync(abs, { throwIfNoEntry: false });
  if (!st || !isRuntimeArtifact(rel, st, runtime, lowers)) return false;
  if (!st.isDirectory()) return true;
  return fs.readdirSync(abs).every((n) => isPureArtifact(upper, `${rel}/${n}`, runtime, lowers));
}
