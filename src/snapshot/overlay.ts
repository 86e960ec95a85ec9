/**
 * A container's root filesystem: an overlay of its image's layers (read-only, shared) and its own
 * upper dir (copy-on-write). Lower dirs are given as short links relative to the layers dir,
 * which keeps the mount data within one page even for deep images.
 */
import fs from 'node:fs';
import { MNT_DETACH, native } from '../util/native';

export function mountOverlay(layersDir: string, lowers: string[], upper: string, work: string, target: string): void {
  fs.mkdirSync(upper, { recursive: true });
  fs.mkdirSync(work, { recursive: true });
  fs.mkdirSync(target, { recursive: true });
  const data = `lowerdir=${lowers.join(':')},upperdir=${upper},workdir=${work}`;
  // Relative lowerdir paths resolve against the mounting process's cwd. The mount call is
  // synchronous, so no other code runs between the two chdirs.
  const cwd = process.cwd();
  process.chdir(layersDir);
  try {
    native().mount('overlay', target, 'overlay', 0, data);
  } finally {
    process.chdir(cwd);
  }
}

export function isMounted(target: string): boolean {
  try {
    const mounts = fs.readFileSync('/proc/self/mountinfo', 'utf8');
    return mounts.split('\n').some((l) => l.split(' ')[4] === target);
  } catch {
    return false;
  }
}

export function unmount(target: string): void {
  try {
    native().umount2(target, MNT_DETACH);
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code !== 'EINVAL' && code !== 'ENOENT') throw e;
  }
}
