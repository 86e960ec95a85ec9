/**
 * /proc/self/mountinfo: which mount holds a path, and its propagation. Bind mounts with shared
 * or slave propagation need a source whose mount propagates (Docker refuses them otherwise).
 */
import fs from 'node:fs';
import path from 'node:path';

export interface MountInfo {
  mountPoint: string;
  /** Optional fields: "shared:N", "master:N", ... */
  optional: string[];
}

const unescape = (s: string): string => s.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));

export function readMountInfo(text?: string): MountInfo[] {
  let t = text;
  if (t === undefined) {
    try {
      t = fs.readFileSync('/proc/self/mountinfo', 'utf8');
    } catch {
      return [];
    }
  }
  const out: MountInfo[] = [];
  for (const line of t.split('\n')) {
    const f = line.split(' ');
    if (f.length < 7) continue;
    const sep = f.indexOf('-', 6);
    out.push({ mountPoint: unescape(f[4]), optional: f.slice(6, sep < 0 ? f.length : sep) });
  }
  return out;
}

/** The mount that holds `p` (the last one mounted on the longest matching mount point). */
export function mountOf(p: string, infos = readMountInfo()): MountInfo | undefined {
  let real = p;
  try {
    real = fs.realpathSync(p);
  } catch {
    /* as given */
  }
  let best: MountInfo | undefined;
  for (const m of infos) {
    const mp = m.mountPoint;
    const inside = real === mp || mp === '/' || real.startsWith(mp.endsWith('/') ? mp : mp + path.sep);
    if (inside && (!best || mp.length >= best.mountPoint.length)) best = m;
  }
  return best;
}

/** moby's ensureShared / ensureSharedOrSlave, with their messages. */
export function checkPropagationSource(source: string, propagation: string): void {
  const shared = propagation === 'shared' || propagation === 'rshared';
  const slave = propagation === 'slave' || propagation === 'rslave';
  if (!shared && !slave) return;
  const m = mountOf(source);
  if (!m) throw new Error(`could not find source mount of ${source}`);
  const isShared = m.optional.some((o) => o.startsWith('shared:'));
  const isSlave = m.optional.some((o) => o.startsWith('master:'));
  if (shared && !isShared) throw new Error(`path ${source} is mounted on ${m.mountPoint} but it is not a shared mount`);
  if (slave && !isShared && !isSlave) throw new Error(`path ${source} is mounted on ${m.mountPoint} but it is not a shared or slave mount`);
}

export function isMountPoint(p: string, infos = readMountInfo()): boolean {
  return infos.some((m) => m.mountPoint === p);
}
