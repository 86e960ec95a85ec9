/**
 * Resolving a path inside a directory tree the way a container sees it, component by component:
 * `..` stops at the root and symlinks (absolute ones relative to the root) are followed by this
 * code, never by the kernel, so no path leaves the tree. The caller says where components are on
 * the host (a container's tree can have mounts laid over its rootfs).
 */
import fs from 'node:fs';

/** Linux's limit on symlinks followed in one lookup (ELOOP beyond). */
const MAX_HOPS = 255;

export interface RootWalkOptions {
  /** lstat of the host file at these components; undefined when it does not exist. */
  lstat(comps: string[]): fs.Stats | undefined;
  /** The target of the symlink at these components. */
  readlink(comps: string[]): string;
  /** Follow a symlink in the last component too (those in the directory part always are). */
  followLast: boolean;
  /** Throw ENOTDIR when a directory component is not a directory (else the walk carries on). */
  requireDirs?: boolean;
}

/**
 * The clean components `p` resolves to. A missing component ends the walk: nothing below it
 * exists, so the rest applies lexically, still inside the root.
 */
export function walkInRoot(p: string, o: RootWalkOptions): string[] {
  const parts = p.split('/').filter(Boolean);
  const done: string[] = [];
  let hops = 0;
  while (parts.length > 0) {
    const part = parts.shift()!;
    if (part === '.') continue;
    if (part === '..') {
      done.pop();
      continue;
    }
    const cand = [...done, part];
    const st = o.lstat(cand);
    if (!st) {
      done.push(part);
      for (const rest of parts) {
        if (rest === '..') done.pop();
        else if (rest !== '.') done.push(rest);
      }
      return done;
    }
    if (st.isSymbolicLink() && (parts.length > 0 || o.followLast)) {
      if (++hops > MAX_HOPS) throw new Error(`too many levels of symbolic links: ${p}`);
      const target = o.readlink(cand);
      if (target.startsWith('/')) done.length = 0;
      parts.unshift(...target.split('/').filter(Boolean));
      continue;
    }
    if (o.requireDirs && parts.length > 0 && !st.isDirectory()) {
      const e = new Error(`not a directory: ${p}`) as NodeJS.ErrnoException;
      e.code = 'ENOTDIR';
      throw e;
    }
    done.push(part);
  }
  return done;
}
