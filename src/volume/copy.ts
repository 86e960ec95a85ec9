/**
 * Seeding a volume from the image: the content of a directory copied into an empty one with
 * owners, modes, times, extended attributes, symlinks, hard links and device nodes kept, and the
 * target directory given the owner and mode of the source (what containerd's fs.CopyDir does
 * for Docker). Synchronous: it runs inside container create, which no other request interleaves.
 */
import fs from 'node:fs';
import path from 'node:path';
import { native } from '../util/native';
import { walkInRoot } from '../util/root-walk';

function copyXattrs(src: string, dst: string): void {
  let names: string[];
  try {
    names = native().llistxattr(src);
  } catch {
    return;
  }
  for (const n of names) {
    try {
      const v = native().lgetxattr(src, n);
      if (v) native().lsetxattr(dst, n, v);
    } catch {
      /* the target file system may not support this namespace */
    }
  }
}

/** Copies the entries of `src` into `dst` (an existing, empty directory). */
export function copyDirContents(src: string, dst: string): void {
  const links = new Map<string, string>();
  const walk = (from: string, to: string): void => {
    for (const name of fs.readdirSync(from)) {
      const s = path.join(from, name);
      const d = path.join(to, name);
      const st = fs.lstatSync(s);
      if (st.isDirectory()) {
        fs.mkdirSync(d);
        walk(s, d);
      } else if (st.nlink > 1 && !st.isSymbolicLink() && links.has(`${st.dev}:${st.ino}`)) {
        fs.linkSync(links.get(`${st.dev}:${st.ino}`)!, d);
        continue;
      } else if (st.isFile()) {
        fs.copyFileSync(s, d);
      } else if (st.isSymbolicLink()) {
        fs.symlinkSync(fs.readlinkSync(s), d);
      } else if (st.isCharacterDevice() || st.isBlockDevice() || st.isFIFO()) {
        const rdev = st.rdev;
        native().mknod(d, st.mode, (rdev >> 8) & 0xfff, (rdev & 0xff) | ((rdev >> 12) & 0xfff00));
      } else {
        continue; // sockets belong to the process that made them
      }
      if (st.nlink > 1 && !st.isDirectory()) links.set(`${st.dev}:${st.ino}`, d);
      fs.lchownSync(d, st.uid, st.gid);
      if (!st.isSymbolicLink()) fs.chmodSync(d, st.mode & 0o7777); // after chown, which clears set-id bits
      copyXattrs(s, d);
      fs.lutimesSync(d, st.atime, st.mtime);
    }
  };
  walk(src, dst);
  const st = fs.statSync(src);
  fs.chownSync(dst, st.uid, st.gid);
  fs.chmodSync(dst, st.mode & 0o7777);
  copyXattrs(src, dst);
  fs.utimesSync(dst, st.atime, st.mtime);
}

/**
 * Resolves `p` inside `root` as the container would see it: symlinks (absolute ones relative to
 * the root) are followed without leaving the root. Returns a host path.
 */
export function resolveInRoot(root: string, p: string): string {
  const host = (comps: string[]): string => path.join(root, ...comps);
  const comps = walkInRoot(p, {
    lstat: (c) => {
      try {
        return fs.lstatSync(host(c));
      } catch {
        return undefined;
      }
    },
    readlink: (c) => fs.readlinkSync(host(c)),
    followLast: true,
  });
  return host(comps);
}
