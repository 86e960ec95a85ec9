/**
 * Image layers as directory trees: unpack a layer tar into a directory that serves as an overlayfs
 * lowerdir (whiteouts converted to overlay's form), and pack a directory (e.g. a container's upperdir)
 * back into a layer tar.
 *
 * The tar codec is hand-written rather than tar-stream's because tar-stream decodes PAX records as
 * UTF-8 strings: binary xattr values (security.capability) would be corrupted in both directions.
 * It handles ustar, PAX (path, linkpath, size, uid, gid, mtime, atime, SCHILY.xattr.*,
 * LIBARCHIVE.xattr.*), GNU long names/links and base-256 numbers; sparse files are refused.
 */
import { createHash } from 'node:crypto';
import fs, { constants as FS, promises as fsp } from 'node:fs';
import type { BigIntStats } from 'node:fs';
import path from 'node:path';
import { Readable, pipeline } from 'node:stream';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { native } from '../util/native';

const BLOCK = 512;
const EMPTY = Buffer.alloc(0);
/** Upper bound for metadata entries held in memory (PAX headers, GNU long names). */
const MAX_META = 16 * 1024 * 1024;

const S_IFIFO = 0o010000;
const S_IFCHR = 0o020000;
const S_IFBLK = 0o060000;

const WH_PREFIX = '.wh.';
const WH_META_PREFIX = '.wh..wh.';
const WH_OPAQUE = '.wh..wh..opq';
const OVERLAY_OPAQUE = 'trusted.overlay.opaque';

// ---------------------------------------------------------------------------------------------
// Compression sniffing

function toBuffer(c: unknown): Buffer {
  return Buffer.isBuffer(c) ? c : Buffer.from(c as string);
}

/**
 * Returns the uncompressed bytes of `input`: gunzipped when it starts with the gzip magic, as is
 * otherwise. zstd input is refused. Destroying the returned stream releases `input`.
 */
export async function openDecompressed(input: NodeJS.ReadableStream): Promise<Readable> {
  const it = (input as AsyncIterable<Buffer | string>)[Symbol.asyncIterator]();
  const head: Buffer[] = [];
  let have = 0;
  let ended = false;
  while (have < 4) {
    const r = await it.next();
    if (r.done) {
      ended = true;
      break;
    }
    const b = toBuffer(r.value);
    head.push(b);
    have += b.length;
  }
  const first = Buffer.concat(head);
  if (first.length >= 4 && first[0] === 0x28 && first[1] === 0xb5 && first[2] === 0x2f && first[3] === 0xfd) {
    if (!ended) await it.return?.();
    throw new Error('zstd layers are not supported yet');
  }
  async function* chunks(): AsyncGenerator<Buffer> {
    try {
      if (first.length) yield first;
      while (!ended) {
        const r = await it.next();
        if (r.done) {
          ended = true;
          break;
        }
        yield toBuffer(r.value);
      }
    } finally {
      if (!ended) await it.return?.();
    }
  }
  const raw = Readable.from(chunks(), { objectMode: false });
  if (first.length >= 2 && first[0] === 0x1f && first[1] === 0x8b) {
    const gunzip = zlib.createGunzip({ chunkSize: 128 * 1024 });
    pipeline(raw, gunzip, () => {});
    return gunzip;
  }
  return raw;
}

// ---------------------------------------------------------------------------------------------
// Tar reading

type EntryType = 'file' | 'link' | 'symlink' | 'char' | 'block' | 'dir' | 'fifo';

export interface TarEntry {
  name: string;
  type: EntryType;
  size: number;
  mode: number;
  uid: number;
  gid: number;
  /** seconds since the epoch, possibly fractional (PAX) */
  mtime: number;
  atime?: number;
  linkname: string;
  devmajor: number;
  devminor: number;
  xattrs: Map<string, Buffer>;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function decodeName(b: Buffer, what: string): string {
  const nul = b.indexOf(0);
  const bytes = nul === -1 ? b : b.subarray(0, nul);
  try {
    return utf8.decode(bytes);
  } catch {
    throw new Error(`tar: ${what} is not valid UTF-8: ${JSON.stringify(bytes.toString('latin1'))}`);
  }
}

function parseNumber(b: Buffer, field: string): number {
  if (b[0] & 0x80) {
    // GNU base-256, big-endian; the first byte's top bit is the marker (0xff: negative)
    if (b[0] === 0xff) throw new Error(`tar: negative ${field}`);
    let v = b[0] & 0x7f;
    for (let i = 1; i < b.length; i++) v = v * 256 + b[i];
    if (!Number.isSafeInteger(v)) throw new Error(`tar: ${field} too large`);
    return v;
  }
  let end = b.indexOf(0);
  if (end === -1) end = b.length;
  const s = b.toString('latin1', 0, end).trim();
  if (s === '') return 0;
  if (!/^[0-7]+$/.test(s)) throw new Error(`tar: invalid ${field} field ${JSON.stringify(s)}`);
  return parseInt(s, 8);
}

function checksumOk(h: Buffer): boolean {
  const stored = parseNumber(h.subarray(148, 156), 'checksum');
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const c = i >= 148 && i < 156 ? 0x20 : h[i];
    unsigned += c;
    signed += c > 127 ? c - 256 : c;
  }
  return stored === unsigned || stored === signed;
}

function parsePax(buf: Buffer): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  let off = 0;
  while (off < buf.length) {
    if (buf[off] === 0) break; // NUL padding
    const sp = buf.indexOf(0x20, off);
    if (sp === -1) throw new Error('tar: malformed PAX record');
    const len = Number(buf.toString('latin1', off, sp));
    if (!Number.isInteger(len) || len <= sp - off + 1 || off + len > buf.length || buf[off + len - 1] !== 0x0a) {
      throw new Error('tar: malformed PAX record');
    }
    const rec = buf.subarray(sp + 1, off + len - 1);
    const eq = rec.indexOf(0x3d);
    if (eq === -1) throw new Error('tar: malformed PAX record');
    out.set(rec.toString('utf8', 0, eq), Buffer.from(rec.subarray(eq + 1)));
    off += len;
  }
  return out;
}

function paxTime(v: Buffer, key: string): number {
  const s = v.toString('latin1');
  if (!/^-?\d+(\.\d+)?$/.test(s)) throw new Error(`tar: invalid PAX ${key} ${JSON.stringify(s)}`);
  return Number(s);
}

function paxInt(v: Buffer, key: string): number {
  const s = v.toString('latin1');
  const n = Number(s);
  if (!/^\d+$/.test(s) || !Number.isSafeInteger(n)) throw new Error(`tar: invalid PAX ${key} ${JSON.stringify(s)}`);
  return n;
}

/**
 * A pull-based tar reader over a byte stream. `onBytes` sees every byte read from the stream exactly
 * once (used to hash the uncompressed tar). Memory held: one stream chunk plus one entry's metadata.
 */
export class TarReader {
  private buf: Buffer = EMPTY;
  private eof = false;
  private remaining = 0; // unread data bytes of the current entry
  private padding = 0;
  private finished = false;

  constructor(
    private readonly it: AsyncIterator<Buffer | string>,
    private readonly onBytes: (b: Buffer) => void = () => {},
  ) {}

  private async pull(): Promise<boolean> {
    if (this.eof) return false;
    const r = await this.it.next();
    if (r.done) {
      this.eof = true;
      return false;
    }
    const c = toBuffer(r.value);
    this.onBytes(c);
    this.buf = this.buf.length ? Buffer.concat([this.buf, c]) : c; // only read() pulls into a non-empty buffer
    return true;
  }

  /** Exactly n bytes, or fewer only at the end of the stream. */
  private async read(n: number): Promise<Buffer> {
    if (this.buf.length < n) {
      const parts = [this.buf];
      let have = this.buf.length;
      this.buf = EMPTY;
      while (have < n && (await this.pull())) {
        parts.push(this.buf);
        have += this.buf.length;
        this.buf = EMPTY;
      }
      this.buf = Buffer.concat(parts);
    }
    const take = Math.min(n, this.buf.length);
    const out = this.buf.subarray(0, take);
    this.buf = this.buf.subarray(take);
    return out;
  }

  private async skip(n: number): Promise<void> {
    while (n > 0) {
      if (!this.buf.length && !(await this.pull())) throw new Error('tar: unexpected end of archive');
      const take = Math.min(n, this.buf.length);
      this.buf = this.buf.subarray(take);
      n -= take;
    }
  }

  private async readData(size: number, what: string): Promise<Buffer> {
    if (size > MAX_META) throw new Error(`tar: ${what} too large (${size} bytes)`);
    const b = Buffer.from(await this.read(size));
    if (b.length < size) throw new Error('tar: unexpected end of archive');
    await this.skip((BLOCK - (size % BLOCK)) % BLOCK);
    return b;
  }

  /** The current entry's data, in stream-sized chunks. */
  async *body(): AsyncGenerator<Buffer> {
    while (this.remaining > 0) {
      if (!this.buf.length && !(await this.pull())) throw new Error('tar: unexpected end of archive');
      const take = Math.min(this.remaining, this.buf.length);
      const chunk = this.buf.subarray(0, take);
      this.buf = this.buf.subarray(take);
      this.remaining -= take;
      yield chunk;
    }
  }

  /** Reads (and hashes) whatever follows the end-of-archive marker. */
  async drain(): Promise<void> {
    this.buf = EMPTY;
    while (await this.pull()) this.buf = EMPTY;
  }

  /** The next entry, or null at the end of the archive. Unread data of the previous entry is skipped. */
  async next(): Promise<TarEntry | null> {
    if (this.finished) return null;
    await this.skip(this.remaining);
    this.remaining = 0;
    // The docker CLI sends build contexts whose last entry lacks its padding and the end marker
    // (a tar Go's reader and dockerd accept): the end of the stream inside padding ends the archive.
    if (this.padding && (await this.read(this.padding)).length < this.padding) {
      this.padding = 0;
      this.finished = true;
      return null;
    }
    this.padding = 0;
    let pax: Map<string, Buffer> | null = null;
    let longName: string | null = null;
    let longLink: string | null = null;
    for (;;) {
      const h = await this.read(BLOCK);
      if (h.length === 0) {
        this.finished = true;
        return null;
      }
      if (h.length < BLOCK) throw new Error('tar: unexpected end of archive');
      if (h.every((b) => b === 0)) {
        this.finished = true;
        return null;
      }
      if (!checksumOk(h)) throw new Error('tar: invalid header checksum (not a tar archive, or corrupt)');
      const flag = h[156] === 0 ? '0' : String.fromCharCode(h[156]);
      const size = parseNumber(h.subarray(124, 136), 'size');
      if (flag === 'x') {
        pax = parsePax(await this.readData(size, 'PAX header'));
        continue;
      }
      if (flag === 'g') {
        await this.readData(size, 'PAX global header'); // ignored, as Docker does
        continue;
      }
      if (flag === 'L') {
        longName = decodeName(await this.readData(size, 'GNU long name'), 'GNU long name');
        continue;
      }
      if (flag === 'K') {
        longLink = decodeName(await this.readData(size, 'GNU long link'), 'GNU long link');
        continue;
      }
      const ustar = h.toString('latin1', 257, 263) === 'ustar\0';
      let name = decodeName(h.subarray(0, 100), 'entry name');
      if (ustar && h[345] !== 0) name = decodeName(h.subarray(345, 500), 'entry name prefix') + '/' + name;
      if (longName !== null) name = longName;
      const e: TarEntry = {
        name,
        type: 'file',
        size,
        mode: parseNumber(h.subarray(100, 108), 'mode') & 0o7777,
        uid: parseNumber(h.subarray(108, 116), 'uid'),
        gid: parseNumber(h.subarray(116, 124), 'gid'),
        mtime: parseNumber(h.subarray(136, 148), 'mtime'),
        linkname: longLink ?? decodeName(h.subarray(157, 257), 'link name'),
        devmajor: parseNumber(h.subarray(329, 337), 'devmajor'),
        devminor: parseNumber(h.subarray(337, 345), 'devminor'),
        xattrs: new Map(),
      };
      if (pax) {
        for (const [k, v] of pax) {
          if (k === 'path') {
            if (v.length) e.name = decodeName(v, 'PAX path');
          } else if (k === 'linkpath') {
            if (v.length) e.linkname = decodeName(v, 'PAX linkpath');
          } else if (k === 'size') {
            if (v.length) e.size = paxInt(v, k);
          } else if (k === 'uid') {
            if (v.length) e.uid = paxInt(v, k);
          } else if (k === 'gid') {
            if (v.length) e.gid = paxInt(v, k);
          } else if (k === 'mtime') {
            if (v.length) e.mtime = paxTime(v, k);
          } else if (k === 'atime') {
            if (v.length) e.atime = paxTime(v, k);
          } else if (k.startsWith('SCHILY.xattr.')) {
            e.xattrs.set(k.slice('SCHILY.xattr.'.length), v);
          } else if (k.startsWith('LIBARCHIVE.xattr.')) {
            e.xattrs.set(decodeURIComponent(k.slice('LIBARCHIVE.xattr.'.length)), Buffer.from(v.toString('latin1'), 'base64'));
          } else if (k.startsWith('GNU.sparse.')) {
            throw new Error(`tar: sparse file ${JSON.stringify(e.name)} is not supported`);
          }
        }
      }
      switch (flag) {
        case '0':
        case '7':
          e.type = e.name.endsWith('/') ? 'dir' : 'file';
          break;
        case '1':
          e.type = 'link';
          break;
        case '2':
          e.type = 'symlink';
          break;
        case '3':
          e.type = 'char';
          break;
        case '4':
          e.type = 'block';
          break;
        case '5':
          e.type = 'dir';
          break;
        case '6':
          e.type = 'fifo';
          break;
        case 'S':
          throw new Error(`tar: sparse file ${JSON.stringify(e.name)} is not supported`);
        default:
          throw new Error(`tar: entry ${JSON.stringify(e.name)} has unsupported type ${JSON.stringify(flag)}`);
      }
      // Only regular files carry data: the other types are header-only, whatever their size field says.
      if (e.type !== 'file') e.size = 0;
      this.remaining = e.size;
      this.padding = (BLOCK - (e.size % BLOCK)) % BLOCK;
      return e;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Safe paths

/**
 * The components of a tar entry name inside the root: leading '/' stripped, '.' and empty components
 * dropped, '..' applied lexically. Throws when '..' would leave the root.
 */
export function entryComponents(name: string, what: string): string[] {
  const out: string[] = [];
  for (const c of name.split('/')) {
    if (c === '' || c === '.') continue;
    if (c === '..') {
      if (!out.length) throw new Error(`${what}: path ${JSON.stringify(name)} escapes the destination`);
      out.pop();
      continue;
    }
    if (c.includes('\0')) throw new Error(`${what}: path ${JSON.stringify(name)} contains a NUL byte`);
    out.push(c);
  }
  return out;
}

function lstatOrNull(p: string): fs.Stats | null {
  return fs.lstatSync(p, { throwIfNoEntry: false }) ?? null;
}

/**
 * Resolves the directory root/comps[0]/comps[1]/... component by component with lstat, never
 * following a symbolic link (throws naming `what`); missing directories are created (mode 0755)
 * when `create`, else an error. `known` caches relative paths verified to be real directories.
 */
export function resolveDir(root: string, comps: string[], what: string, create: boolean, known?: Set<string>): string {
  let cur = root;
  let rel = '';
  for (const c of comps) {
    cur = path.join(cur, c);
    rel = rel ? `${rel}/${c}` : c;
    if (known?.has(rel)) continue;
    const st = lstatOrNull(cur);
    if (!st) {
      if (!create) throw new Error(`${what}: ${JSON.stringify(rel)} does not exist`);
      fs.mkdirSync(cur, { mode: 0o755 });
      fs.chmodSync(cur, 0o755);
    } else if (st.isSymbolicLink()) {
      throw new Error(`${what}: parent path ${JSON.stringify(rel)} is a symbolic link; refusing to follow it`);
    } else if (!st.isDirectory()) {
      throw new Error(`${what}: parent path ${JSON.stringify(rel)} is not a directory`);
    }
    known?.add(rel);
  }
  return cur;
}

function forgetUnder<T>(m: Set<string> | Map<string, T>, rel: string): void {
  const prefix = rel + '/';
  for (const k of m.keys()) if (k === rel || k.startsWith(prefix)) m.delete(k);
}

// ---------------------------------------------------------------------------------------------
// Unpacking

export function setXattrs(p: string, xattrs: Map<string, Buffer>, what: string): void {
  for (const [k, v] of xattrs) {
    try {
      native().lsetxattr(p, k, v);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // As Docker: file systems without xattr support, or namespaces not allowed here (user.* on symlinks)
      if (code === 'ENOTSUP' || code === 'EOPNOTSUPP' || code === 'EPERM') continue;
      throw new Error(`${what}: setting xattr ${k}: ${(err as Error).message}`);
    }
  }
}

const writeAsync = promisify(fs.write);

/**
 * Small reads and writes and metadata calls are synchronous: each is a short system call, and a round trip
 * through libuv's thread pool costs far more (tens of µs) than the call itself. Large ones, which
 * may block on the disk (dirty-page throttling, cold reads), go through the thread pool so as not to stall the event loop.
 */
const SYNC_IO_MAX = 64 * 1024;
const readAsync = promisify(fs.read);

export async function writeFully(fd: number, chunk: Buffer): Promise<void> {
  let off = 0;
  while (off < chunk.length) {
    const n = chunk.length - off;
    off += n <= SYNC_IO_MAX ? fs.writeSync(fd, chunk, off, n) : (await writeAsync(fd, chunk, off, n, null)).bytesWritten;
  }
}

/**
 * Extracts an image layer (gzip or plain tar) into `dest` for use as an overlayfs lowerdir.
 * Returns the layer's diff id (sha256 of the uncompressed tar, all of its bytes) and the total size
 * of the regular files written.
 */
export async function unpackLayer(input: NodeJS.ReadableStream, dest: string): Promise<{ diffId: string; size: number }> {
  const hash = createHash('sha256');
  const root = path.resolve(dest);
  await fsp.mkdir(root, { recursive: true });
  const stream = await openDecompressed(input);
  const it = stream[Symbol.asyncIterator]();
  const reader = new TarReader(it, (b) => hash.update(b));
  const known = new Set<string>();
  const dirTimes = new Map<string, { atime: number; mtime: number }>();
  let size = 0;
  try {
    for (;;) {
      const e = await reader.next();
      if (!e) break;
      const what = `layer entry ${JSON.stringify(e.name)}`;
      const comps = entryComponents(e.name, what);
      if (!comps.length) {
        if (e.type !== 'dir') throw new Error(`${what}: the root can only be a directory`);
        applyMeta(root, e, what, true);
        dirTimes.set('', { atime: e.atime ?? e.mtime, mtime: e.mtime });
        continue;
      }
      // AUFS metadata (.wh..wh.plnk, .wh..wh.aufs, ...) at the top: skipped, as Docker does.
      if (comps[0].startsWith(WH_META_PREFIX)) continue;
      const base = comps[comps.length - 1];
      const parentComps = comps.slice(0, -1);
      const rel = comps.join('/');
      if (base === WH_OPAQUE) {
        const dir = resolveDir(root, parentComps, what, true, known);
        native().lsetxattr(dir, OVERLAY_OPAQUE, Buffer.from('y'));
        continue;
      }
      if (base.startsWith(WH_META_PREFIX)) continue;
      if (base.startsWith(WH_PREFIX)) {
        const victim = base.slice(WH_PREFIX.length);
        if (victim === '' || victim === '.' || victim === '..') throw new Error(`${what}: invalid whiteout`);
        const dir = resolveDir(root, parentComps, what, true, known);
        const p = path.join(dir, victim);
        const victimRel = parentComps.concat(victim).join('/');
        if (lstatOrNull(p)) {
          fs.rmSync(p, { recursive: true, force: true });
          forgetUnder(known, victimRel);
          forgetUnder(dirTimes, victimRel);
        }
        native().mknod(p, S_IFCHR, 0, 0);
        fs.lchownSync(p, e.uid, e.gid);
        continue;
      }

      const dir = resolveDir(root, parentComps, what, true, known);
      const p = path.join(dir, base);
      const existing = lstatOrNull(p);
      if (existing && !(existing.isDirectory() && e.type === 'dir')) {
        fs.rmSync(p, { recursive: true, force: true });
        forgetUnder(known, rel);
        forgetUnder(dirTimes, rel);
      }
      switch (e.type) {
        case 'dir':
          if (!existing || !existing.isDirectory()) fs.mkdirSync(p, { mode: 0o700 });
          known.add(rel);
          applyMeta(p, e, what, true);
          dirTimes.set(rel, { atime: e.atime ?? e.mtime, mtime: e.mtime });
          break;
        case 'file': {
          const fd = fs.openSync(p, FS.O_WRONLY | FS.O_CREAT | FS.O_EXCL | FS.O_NOFOLLOW, 0o600);
          try {
            for await (const chunk of reader.body()) await writeFully(fd, chunk);
            fs.fchownSync(fd, e.uid, e.gid); // before chmod: chown clears setuid/setgid
            fs.fchmodSync(fd, e.mode);
            setXattrs(p, e.xattrs, what); // after chown: chown clears security.capability
            fs.futimesSync(fd, e.atime ?? e.mtime, e.mtime);
          } finally {
            fs.closeSync(fd);
          }
          size += e.size;
          break;
        }
        case 'link': {
          const tcomps = entryComponents(e.linkname, `${what} (hard link target)`);
          if (!tcomps.length) throw new Error(`${what}: hard link to the root`);
          const tdir = resolveDir(root, tcomps.slice(0, -1), `${what} (hard link target)`, false, known);
          const target = path.join(tdir, tcomps[tcomps.length - 1]);
          const tst = lstatOrNull(target);
          if (!tst) throw new Error(`${what}: hard link target ${JSON.stringify(e.linkname)} does not exist`);
          if (tst.isDirectory()) throw new Error(`${what}: hard link target ${JSON.stringify(e.linkname)} is a directory`);
          // link(2) does not follow a symlink target: the new name shares the symlink's inode.
          fs.linkSync(target, p);
          break;
        }
        case 'symlink':
          fs.symlinkSync(e.linkname, p);
          applyMeta(p, e, what, false);
          break;
        case 'char':
        case 'block':
        case 'fifo': {
          const fmt = e.type === 'char' ? S_IFCHR : e.type === 'block' ? S_IFBLK : S_IFIFO;
          native().mknod(p, fmt | e.mode, e.devmajor, e.devminor);
          applyMeta(p, e, what, false);
          break;
        }
      }
    }
    await reader.drain();
  } catch (err) {
    stream.destroy();
    throw err;
  }
  // Directories last: writing their contents changed their mtimes.
  const order = [...dirTimes.keys()].sort((a, b) => b.length - a.length);
  for (const rel of order) {
    const t = dirTimes.get(rel)!;
    const p = rel ? path.join(root, rel) : root;
    const st = lstatOrNull(p);
    if (st?.isDirectory()) fs.lutimesSync(p, t.atime, t.mtime);
  }
  return { diffId: 'sha256:' + hash.digest('hex'), size };
}

/** Owner, mode (not for symlinks), xattrs, and times unless deferred (directories). */
function applyMeta(p: string, e: TarEntry, what: string, isDir: boolean): void {
  fs.lchownSync(p, e.uid, e.gid); // before chmod: chown clears setuid/setgid
  if (e.type !== 'symlink') fs.chmodSync(p, e.mode);
  setXattrs(p, e.xattrs, what); // after chown: chown clears security.capability
  if (!isDir) fs.lutimesSync(p, e.atime ?? e.mtime, e.mtime);
}

// ---------------------------------------------------------------------------------------------
// Tar writing

export interface TarHeader {
  name: string;
  type: '0' | '1' | '2' | '3' | '4' | '5' | '6' | 'x';
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number; // whole seconds
  linkname?: string;
  devmajor?: number;
  devminor?: number;
  xattrs?: Map<string, Buffer>;
}

const isAscii = (s: string): boolean => /^[\x01-\x7f]*$/.test(s);

function octal(buf: Buffer, off: number, len: number, v: number): void {
  // len-1 octal digits and a NUL terminator
  buf.write(v.toString(8).padStart(len - 1, '0') + '\0', off, len, 'latin1');
}

function paxRecord(key: string, value: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(` ${key}=`, 'utf8'), value, Buffer.from('\n')]);
  let len = body.length + 1;
  while (String(len).length + body.length !== len) len = String(len).length + body.length;
  return Buffer.concat([Buffer.from(String(len), 'latin1'), body]);
}

/** Splits a name into ustar prefix and name fields, or null when it does not fit. */
function splitUstar(name: string): [string, string] | null {
  if (!isAscii(name)) return null;
  if (name.length <= 100) return ['', name];
  for (let i = name.indexOf('/'); i !== -1; i = name.indexOf('/', i + 1)) {
    if (i <= 155 && name.length - i - 1 <= 100 && name.length - i - 1 > 0) return [name.slice(0, i), name.slice(i + 1)];
  }
  return null;
}

function encodeHeader(h: TarHeader): Buffer[] {
  const pax: Buffer[] = [];
  let split = splitUstar(h.name);
  if (!split) {
    pax.push(paxRecord('path', Buffer.from(h.name, 'utf8')));
    const ascii = h.name.replace(/[^\x01-\x7f]/g, '_');
    split = ['', ascii.slice(Math.max(0, ascii.length - 100))];
  }
  let linkname = h.linkname ?? '';
  if (linkname && (!isAscii(linkname) || linkname.length > 100)) {
    pax.push(paxRecord('linkpath', Buffer.from(linkname, 'utf8')));
    linkname = '';
  }
  const MAX7 = 0o7777777;
  const MAX11 = 0o77777777777;
  let { uid, gid, size, mtime } = h;
  if (uid > MAX7) {
    pax.push(paxRecord('uid', Buffer.from(String(uid))));
    uid = 0;
  }
  if (gid > MAX7) {
    pax.push(paxRecord('gid', Buffer.from(String(gid))));
    gid = 0;
  }
  if (size > MAX11) {
    pax.push(paxRecord('size', Buffer.from(String(size))));
    size = 0;
  }
  if (mtime < 0 || mtime > MAX11) {
    pax.push(paxRecord('mtime', Buffer.from(String(mtime))));
    mtime = 0;
  }
  if (h.xattrs) {
    for (const k of [...h.xattrs.keys()].sort()) pax.push(paxRecord('SCHILY.xattr.' + k, h.xattrs.get(k)!));
  }
  const out: Buffer[] = [];
  if (pax.length) {
    const data = Buffer.concat(pax);
    const base = split[1].split('/').pop() || 'x';
    out.push(
      ...encodeHeader({ name: `PaxHeaders.0/${base}`.slice(0, 100), type: 'x', mode: 0o644, uid: 0, gid: 0, size: data.length, mtime: Math.max(0, Math.min(mtime, MAX11)) }),
      data,
      Buffer.alloc((BLOCK - (data.length % BLOCK)) % BLOCK),
    );
  }
  const b = Buffer.alloc(BLOCK);
  b.write(split[1], 0, 100, 'latin1');
  octal(b, 100, 8, h.mode & 0o7777);
  octal(b, 108, 8, uid);
  octal(b, 116, 8, gid);
  octal(b, 124, 12, size);
  octal(b, 136, 12, mtime);
  b.write(h.type, 156, 1, 'latin1');
  b.write(linkname, 157, 100, 'latin1');
  b.write('ustar\0' + '00', 257, 8, 'latin1');
  octal(b, 329, 8, h.devmajor ?? 0);
  octal(b, 337, 8, h.devminor ?? 0);
  b.write(split[0], 345, 155, 'latin1');
  b.fill(0x20, 148, 156);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += b[i];
  b.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8, 'latin1');
  out.push(b);
  return out;
}

/**
 * Writes a tar stream to `out` with backpressure: POSIX ustar headers, PAX records (binary-exact)
 * where ustar cannot hold a field, xattrs as SCHILY.xattr.* PAX records.
 */
/**
 * Waits for 'drain'; a reader that goes away instead (a client that disconnects from `docker
 * save`) ends the wait with an error, or the writer, its open files and temporary directories
 * would wait forever.
 */
function drained(out: NodeJS.EventEmitter): Promise<void> {
  // It may have gone before we started waiting ('close' already emitted).
  if ((out as { destroyed?: boolean }).destroyed) return Promise.reject(new Error('the reader of the archive went away'));
  return new Promise((resolve, reject) => {
    const done = (err?: Error): void => {
      out.off('drain', onDrain).off('close', onClose).off('error', done);
      if (err) reject(err);
      else resolve();
    };
    const onDrain = (): void => done();
    const onClose = (): void => done(new Error('the reader of the archive went away'));
    out.on('drain', onDrain).on('close', onClose).on('error', done);
  });
}

export class TarWriter {
  constructor(private readonly out: NodeJS.WritableStream) {}

  /** Waits for 'drain' when `out` is full; fails when `out` closes first (a client that went away). */
  private async write(b: Buffer): Promise<void> {
    if ((this.out as { destroyed?: boolean }).destroyed) throw new Error('the reader of the archive went away');
    if (b.length && !this.out.write(b)) await drained(this.out as unknown as NodeJS.EventEmitter);
  }

  /** An entry; `data` (regular files only) must be h.size bytes. */
  async add(h: TarHeader, data?: Buffer): Promise<void> {
    if ((data?.length ?? 0) !== (h.type === '0' ? h.size : 0)) throw new Error(`tar: ${h.name}: data length differs from size`);
    for (const b of encodeHeader(h)) await this.write(b);
    if (data?.length) {
      await this.write(data);
      await this.write(Buffer.alloc((BLOCK - (data.length % BLOCK)) % BLOCK));
    }
  }

  /** A regular file entry whose h.size bytes are read from the file at `file`; `onData` sees them. */
  async addFile(h: TarHeader, file: string, onData?: (b: Buffer) => void): Promise<void> {
    for (const b of encodeHeader(h)) await this.write(b);
    const fd = fs.openSync(file, FS.O_RDONLY | FS.O_NOFOLLOW);
    try {
      let left = h.size;
      while (left > 0) {
        const buf = Buffer.allocUnsafe(Math.min(left, 256 * 1024));
        const n = buf.length <= SYNC_IO_MAX ? fs.readSync(fd, buf, 0, buf.length, null) : (await readAsync(fd, buf, 0, buf.length, null)).bytesRead;
        if (n === 0) throw new Error(`tar: ${file} shrank while being read`);
        const chunk = buf.subarray(0, n);
        onData?.(chunk);
        await this.write(chunk);
        left -= n;
      }
    } finally {
      fs.closeSync(fd);
    }
    await this.write(Buffer.alloc((BLOCK - (h.size % BLOCK)) % BLOCK));
  }

  /** The end-of-archive marker; then ends `out` and waits until it has finished. */
  async finish(): Promise<void> {
    await this.write(Buffer.alloc(2 * BLOCK));
    await new Promise<void>((resolve, reject) => {
      const ee = this.out as unknown as NodeJS.EventEmitter;
      const onError = (err: Error): void => reject(err);
      ee.once('error', onError);
      this.out.end(() => {
        ee.removeListener('error', onError);
        resolve();
      });
    });
  }
}

export function majorOf(rdev: bigint): number {
  return Number(((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn));
}

export function minorOf(rdev: bigint): number {
  return Number((rdev & 0xffn) | ((rdev >> 12n) & ~0xffn));
}

export function readXattrs(p: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const k of native().llistxattr(p)) {
    if (k.startsWith('trusted.overlay.')) continue; // overlayfs' own bookkeeping
    const v = native().lgetxattr(p, k);
    if (v) out.set(k, v);
  }
  return out;
}

const byBytes = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b));

/**
 * Writes a tar of the tree under `dir` (the root itself not included) to `out`, then ends `out`.
 * Entries in byte order of names, each directory before its contents. Overlay upperdir markers are
 * converted to the layer format: a 0/0 character device becomes a `.wh.<name>` whiteout, a directory
 * with trusted.overlay.opaque=y gets a `.wh..wh..opq` entry. Owners, modes, mtimes (whole seconds),
 * xattrs (but overlayfs' trusted.overlay.*) and hard links (second and later names of an inode) are
 * preserved; sockets are skipped, and so is what `skip` (given the relative path) rejects. On
 * failure `out` is left as is: the caller should destroy it.
 */
export async function packDirectory(dir: string, out: NodeJS.WritableStream, skip?: (rel: string) => boolean): Promise<void> {
  const w = new TarWriter(out);
  const root = path.resolve(dir);
  const inodes = new Map<string, string>();
  const emit = (h: TarHeader): Promise<void> => w.add(h);

  const walk = async (absDir: string, relDir: string): Promise<void> => {
    const names = fs.readdirSync(absDir).sort(byBytes);
    for (const name of names) {
      const abs = path.join(absDir, name);
      const rel = relDir ? `${relDir}/${name}` : name;
      if (skip?.(rel)) continue;
      const st: BigIntStats = fs.lstatSync(abs, { bigint: true });
      const base = {
        mode: Number(st.mode & 0o7777n),
        uid: Number(st.uid),
        gid: Number(st.gid),
        mtime: Number(st.mtimeNs / 1_000_000_000n) - (st.mtimeNs < 0n && st.mtimeNs % 1_000_000_000n !== 0n ? 1 : 0),
        size: 0,
      };
      if (st.isCharacterDevice() && st.rdev === 0n) {
        await emit({ ...base, name: relDir ? `${relDir}/${WH_PREFIX}${name}` : WH_PREFIX + name, type: '0', mode: 0o600 });
        continue;
      }
      if (st.isSocket()) continue;
      const xattrs = readXattrs(abs);
      if (st.isDirectory()) {
        await emit({ ...base, name: rel + '/', type: '5', xattrs });
        const opaque = native().lgetxattr(abs, OVERLAY_OPAQUE);
        if (opaque && opaque.length === 1 && opaque[0] === 0x79) {
          await emit({ ...base, name: `${rel}/${WH_OPAQUE}`, type: '0', mode: base.mode & 0o777 });
        }
        await walk(abs, rel);
        continue;
      }
      if (st.nlink > 1n) {
        const key = `${st.dev}:${st.ino}`;
        const first = inodes.get(key);
        if (first !== undefined) {
          await emit({ ...base, name: rel, type: '1', linkname: first });
          continue;
        }
        inodes.set(key, rel);
      }
      if (st.isSymbolicLink()) {
        await emit({ ...base, name: rel, type: '2', linkname: fs.readlinkSync(abs), xattrs });
      } else if (st.isCharacterDevice() || st.isBlockDevice()) {
        await emit({ ...base, name: rel, type: st.isCharacterDevice() ? '3' : '4', devmajor: majorOf(st.rdev), devminor: minorOf(st.rdev), xattrs });
      } else if (st.isFIFO()) {
        await emit({ ...base, name: rel, type: '6', xattrs });
      } else if (st.isFile()) {
        await w.addFile({ ...base, name: rel, type: '0', size: Number(st.size), xattrs }, abs);
      }
    }
  };

  await walk(root, '');
  await w.finish();
}
