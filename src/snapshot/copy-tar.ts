/**
 * Tars of file trees for `cp` and `export` (as opposed to image layers, see unpack.ts): packing a
 * tree whose paths are mapped by the caller (a container's mounts, or the local filesystem), and
 * extracting one below a destination whose directories the caller resolves. Both sides use the
 * project's own tar codec, so xattrs and long names survive byte-exact.
 */
import fs, { constants as FS } from 'node:fs';
import type { BigIntStats } from 'node:fs';
import path from 'node:path';
import { TarReader, TarWriter, entryComponents, majorOf, minorOf, openDecompressed, readXattrs, setXattrs, writeFully, type TarEntry, type TarHeader } from './unpack';
import { native } from '../util/native';

const S_IFIFO = 0o010000;
const S_IFCHR = 0o020000;
const S_IFBLK = 0o060000;

const byBytes = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b));

function xattrsOf(p: string): Map<string, Buffer> {
  try {
    return readXattrs(p);
  } catch {
    return new Map(); // file systems without xattrs (procfs, some FUSE)
  }
}

export interface PackOptions {
  /** Leave out the entry for the top itself (export: only what is under the root). */
  skipTop?: boolean;
  /** Owner written for every entry instead of the file's. */
  owner?: { uid: number; gid: number };
}

/**
 * Writes the tree at `hostOf([])` to `w`, entries named `top/<relative path>` (top '' gives bare
 * relative names). `hostOf` maps relative components to host paths, so a tree can span mounts.
 * Directories are never followed through symlinks; sockets are skipped; hard links are kept.
 */
export async function packTree(w: TarWriter, top: string, hostOf: (rel: string[]) => string, opts: PackOptions = {}): Promise<void> {
  const inodes = new Map<string, string>();
  const visit = async (rel: string[]): Promise<void> => {
    const abs = hostOf(rel);
    const st: BigIntStats | undefined = fs.lstatSync(abs, { bigint: true, throwIfNoEntry: false });
    if (!st || st.isSocket()) return;
    // The root of a container is archived as '/', '/bin'... (Docker's names: clients rebase them).
    const name = top === '/' ? `/${rel.join('/')}` : [top, ...rel].filter((x) => x !== '').join('/');
    const base = {
      mode: Number(st.mode & 0o7777n),
      uid: opts.owner?.uid ?? Number(st.uid),
      gid: opts.owner?.gid ?? Number(st.gid),
      mtime: Number(st.mtimeNs / 1_000_000_000n) - (st.mtimeNs < 0n && st.mtimeNs % 1_000_000_000n !== 0n ? 1 : 0),
      size: 0,
    };
    const emitTop = !(rel.length === 0 && (opts.skipTop || name === ''));
    if (st.isDirectory()) {
      if (emitTop) await w.add({ ...base, name: name.endsWith('/') ? name : `${name}/`, type: '5', xattrs: xattrsOf(abs) });
      let names: string[];
      try {
        names = fs.readdirSync(abs).sort(byBytes);
      } catch {
        return; // vanished or unreadable (a running container changes its tree)
      }
      for (const n of names) await visit([...rel, n]);
      return;
    }
    if (!emitTop) return;
    const h: TarHeader = { ...base, name, type: '0', xattrs: xattrsOf(abs) };
    if (st.nlink > 1n) {
      const key = `${st.dev}:${st.ino}`;
      const first = inodes.get(key);
      if (first !== undefined) return w.add({ ...base, name, type: '1', linkname: first });
      inodes.set(key, name);
    }
    if (st.isSymbolicLink()) await w.add({ ...h, type: '2', linkname: fs.readlinkSync(abs) });
    else if (st.isCharacterDevice() || st.isBlockDevice()) await w.add({ ...h, type: st.isCharacterDevice() ? '3' : '4', devmajor: majorOf(st.rdev), devminor: minorOf(st.rdev) });
    else if (st.isFIFO()) await w.add({ ...h, type: '6' });
    else if (st.isFile()) await w.addFile({ ...h, size: Number(st.size) }, abs);
  };
  await visit([]);
}

/** Where an extraction writes: the caller maps entry paths (relative to the destination) to host paths. */
export interface ExtractTarget {
  /** The host directory for these components (relative to the destination), made when missing. */
  dir(comps: string[], what: string): string;
  /** Throws when the entry may not be written (a read-only mount...). */
  check?(comps: string[]): void;
}

export interface ExtractOptions {
  /** Owner of every entry instead of the tar's (docker cp -a into a container with a User). */
  owner?: { uid: number; gid: number };
  /** Leave owners alone (the CLI writing to the local filesystem). */
  noLchown?: boolean;
  /** Refuse to replace a directory with a non-directory and vice versa. */
  noOverwriteDirNonDir?: boolean;
  /** Rename the first component of every entry: [old, new] (docker's RebaseArchiveEntries). */
  rebase?: [string, string];
  /** How errors name a destination path (the container's view rather than the host's). */
  showAs?: (comps: string[]) => string;
  /** Sees the (uncompressed) archive's bytes as they are read. */
  onBytes?: (b: Buffer) => void;
}

/** Docker's RebaseArchiveEntries for one name: the first component `from` becomes `to`. */
export function rebaseName(name: string, from: string, to: string): string | null {
  // The root ('/'): every name starts with it, and `to` goes in front.
  if (from === '/') return name.startsWith('/') ? (name === '/' ? `${to}/` : `${to}${name}`) : null;
  const clean = name.replace(/^\/+/, '');
  if (clean === from || clean === `${from}/`) return clean.length > from.length ? `${to}/` : to;
  if (clean.startsWith(`${from}/`)) return to + clean.slice(from.length);
  return null;
}

/** Extracts a (possibly gzipped) tar stream into `target`. */
export async function extractTree(input: NodeJS.ReadableStream, target: ExtractTarget, opts: ExtractOptions = {}): Promise<void> {
  const stream = await openDecompressed(input);
  const reader = new TarReader(stream[Symbol.asyncIterator](), opts.onBytes);
  const dirTimes: { p: string; e: TarEntry }[] = [];
  try {
    for (;;) {
      const e = await reader.next();
      if (!e) break;
      if (opts.rebase) {
        const n = rebaseName(e.name, opts.rebase[0], opts.rebase[1]);
        if (n === null) continue; // outside the copied resource, as Docker skips it
        e.name = n;
        if (e.type === 'link') e.linkname = rebaseName(e.linkname, opts.rebase[0], opts.rebase[1]) ?? e.linkname;
      }
      const what = `archive entry ${JSON.stringify(e.name)}`;
      const comps = entryComponents(e.name, what);
      if (!comps.length) continue; // the destination itself keeps its owner and mode
      target.check?.(comps);
      const p = path.join(target.dir(comps.slice(0, -1), what), comps[comps.length - 1]);
      await extractEntry(reader, e, p, target, opts, what, opts.showAs?.(comps) ?? p);
      if (e.type === 'dir') dirTimes.push({ p, e });
    }
    await reader.drain();
  } finally {
    stream.destroy();
  }
  for (const { p, e } of dirTimes.reverse()) {
    try {
      fs.lutimesSync(p, e.atime ?? e.mtime, e.mtime);
    } catch {
      /* replaced by a later entry */
    }
  }
}

async function extractEntry(reader: TarReader, e: TarEntry, p: string, target: ExtractTarget, opts: ExtractOptions, what: string, shown: string): Promise<void> {
  const existing = fs.lstatSync(p, { throwIfNoEntry: false });
  if (existing) {
    const isDir = existing.isDirectory();
    if (opts.noOverwriteDirNonDir && isDir && e.type !== 'dir') throw overwriteError(`cannot overwrite directory "${shown}" with non-directory "${e.name}"`);
    if (opts.noOverwriteDirNonDir && !isDir && e.type === 'dir') throw overwriteError(`cannot overwrite non-directory "${shown}" with directory "${e.name}"`);
    if (!(isDir && e.type === 'dir')) fs.rmSync(p, { recursive: true, force: true });
  }
  const uid = opts.owner?.uid ?? e.uid;
  const gid = opts.owner?.gid ?? e.gid;
  const meta = (isLink: boolean): void => {
    if (!opts.noLchown) fs.lchownSync(p, uid, gid); // before chmod: chown clears set-id bits
    if (!isLink) fs.chmodSync(p, e.mode);
    setXattrs(p, e.xattrs, what);
    if (e.type !== 'dir') fs.lutimesSync(p, e.atime ?? e.mtime, e.mtime);
  };
  switch (e.type) {
    case 'dir':
      if (!existing?.isDirectory()) fs.mkdirSync(p, { mode: 0o700 });
      meta(false);
      return;
    case 'file': {
      const fd = fs.openSync(p, FS.O_WRONLY | FS.O_CREAT | FS.O_EXCL | FS.O_NOFOLLOW, 0o600);
      try {
        for await (const chunk of reader.body()) await writeFully(fd, chunk);
      } finally {
        fs.closeSync(fd);
      }
      meta(false);
      return;
    }
    case 'link': {
      const tcomps = entryComponents(e.linkname, `${what} (hard link target)`);
      if (!tcomps.length) throw new Error(`${what}: hard link to the destination`);
      fs.linkSync(path.join(target.dir(tcomps.slice(0, -1), what), tcomps[tcomps.length - 1]), p);
      return;
    }
    case 'symlink':
      fs.symlinkSync(e.linkname, p);
      meta(true);
      return;
    default: {
      const fmt = e.type === 'char' ? S_IFCHR : e.type === 'block' ? S_IFBLK : S_IFIFO;
      native().mknod(p, fmt | e.mode, e.devmajor, e.devminor);
      meta(false);
    }
  }
}

function overwriteError(msg: string): Error {
  const e = new Error(msg) as Error & { overwrite: true };
  e.overwrite = true;
  return e;
}

/** Go's os.FileMode bits of an lstat result (the stat header's `mode`, as the docker CLI decodes it). */
export function goFileMode(st: fs.Stats): number {
  let m = st.mode & 0o777;
  if (st.mode & 0o4000) m |= 1 << 23; // ModeSetuid
  if (st.mode & 0o2000) m |= 1 << 22; // ModeSetgid
  if (st.mode & 0o1000) m |= 1 << 20; // ModeSticky
  if (st.isDirectory()) m |= 2 ** 31; // ModeDir
  else if (st.isSymbolicLink()) m |= 1 << 27;
  else if (st.isFIFO()) m |= 1 << 25;
  else if (st.isSocket()) m |= 1 << 24;
  else if (st.isCharacterDevice()) m |= (1 << 26) | (1 << 21);
  else if (st.isBlockDevice()) m |= 1 << 26;
  return m >>> 0;
}
