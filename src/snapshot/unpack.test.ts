import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import zlib from 'node:zlib';
import * as tar from 'tar-stream';
import { native } from '../util/native';
import { packDirectory, unpackLayer } from './unpack';

let tmp = '';
before(async () => {
  tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'berth-unpack-test-'));
});
after(async () => {
  if (tmp) await fsp.rm(tmp, { recursive: true, force: true });
});

let counter = 0;
async function freshDir(label: string): Promise<string> {
  const d = path.join(tmp, `${label}-${counter++}`);
  await fsp.mkdir(d);
  return d;
}

interface E {
  header: Partial<tar.Header> & { name: string; pax?: Record<string, string> };
  data?: string | Buffer;
}

async function makeTar(entries: E[]): Promise<Buffer> {
  const p = tar.pack();
  const chunks: Buffer[] = [];
  const collected = (async () => {
    for await (const c of p) chunks.push(c as Buffer);
  })();
  for (const e of entries) {
    await new Promise<void>((resolve, reject) => p.entry(e.header, e.data ?? '', (err) => (err ? reject(err) : resolve())));
  }
  p.finalize();
  await collected;
  return Buffer.concat(chunks);
}

/** The bytes as a stream of small, oddly sized chunks (exercises chunk boundaries). */
function streamOf(buf: Buffer, chunk = 777): Readable {
  const parts: Buffer[] = [];
  for (let i = 0; i < buf.length; i += chunk) parts.push(buf.subarray(i, i + chunk));
  return Readable.from(parts);
}

const sha256 = (b: Buffer): string => 'sha256:' + createHash('sha256').update(b).digest('hex');
const T1 = new Date('2021-03-04T05:06:07Z');
const T2 = new Date('2019-01-02T03:04:05Z');

async function exists(p: string): Promise<boolean> {
  return fsp.lstat(p).then(
    () => true,
    () => false,
  );
}

/** A description of every node under dir: type, mode, owner, mtime, content, link target, device, xattrs, hard-link group. */
async function describeTree(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const inodes = new Map<bigint, string>();
  const walk = async (abs: string, rel: string): Promise<void> => {
    for (const name of (await fsp.readdir(abs)).sort()) {
      const p = path.join(abs, name);
      const r = rel ? `${rel}/${name}` : name;
      const st = await fsp.lstat(p, { bigint: true });
      const xattrs = native()
        .llistxattr(p)
        .sort()
        .map((k) => `${k}=${native().lgetxattr(p, k)?.toString('hex')}`)
        .join(',');
      let d = `mode=${st.mode.toString(8)} ${st.uid}:${st.gid} xattrs=[${xattrs}]`;
      d += ` mtime=${st.mtimeNs / 1_000_000_000n}`;
      if (st.isFile()) d += ` content=${createHash('sha256').update(await fsp.readFile(p)).digest('hex')}`;
      if (st.isSymbolicLink()) d += ` -> ${await fsp.readlink(p)}`;
      if (st.isCharacterDevice() || st.isBlockDevice()) d += ` rdev=${st.rdev}`;
      if (!st.isDirectory() && st.nlink > 1n) {
        const first = inodes.get(st.ino);
        if (first) d += ` hardlink-of=${first}`;
        else inodes.set(st.ino, r);
      }
      out[r] = d;
      if (st.isDirectory()) await walk(p, r);
    }
  };
  await walk(dir, '');
  return out;
}

const allTypes: E[] = [
  { header: { name: 'etc', type: 'directory', mode: 0o755, mtime: T1 } },
  { header: { name: 'etc/hosts', type: 'file', mode: 0o644, mtime: T2 }, data: '127.0.0.1 localhost\n' },
  { header: { name: 'etc/owned', type: 'file', mode: 0o600, uid: 1000, gid: 1000, mtime: T2 }, data: 'mine' },
  { header: { name: 'bin', type: 'directory', mode: 0o755, mtime: T1 } },
  { header: { name: 'bin/su', type: 'file', mode: 0o4755, mtime: T2 }, data: Buffer.alloc(70_000, 7) },
  { header: { name: 'bin/sg', type: 'file', mode: 0o2711, gid: 42, mtime: T2 }, data: 'x' },
  { header: { name: 'bin/su-again', type: 'link', linkname: 'bin/su', mode: 0o4755, mtime: T2 } },
  { header: { name: 'bin/sh', type: 'symlink', linkname: '/bin/busybox', mtime: T2, uid: 1000, gid: 1000 } },
  { header: { name: 'tmp', type: 'directory', mode: 0o1777, mtime: T1 } },
  { header: { name: 'dev', type: 'directory', mode: 0o755, mtime: T1 } },
  { header: { name: 'dev/null', type: 'character-device', mode: 0o666, devmajor: 1, devminor: 3, mtime: T2 } },
  { header: { name: 'dev/loop0', type: 'block-device', mode: 0o660, gid: 6, devmajor: 7, devminor: 0, mtime: T2 } },
  { header: { name: 'dev/pipe', type: 'fifo', mode: 0o620, mtime: T2 } },
  { header: { name: 'xattr', type: 'file', mode: 0o644, mtime: T2, pax: { 'SCHILY.xattr.user.berth': 'hello' } }, data: 'x' },
  // written into etc after etc's entry: etc's mtime must still be T1
  { header: { name: 'etc/late', type: 'file', mode: 0o644, mtime: T2 }, data: 'late' },
  { header: { name: './usr/lib/deep', type: 'file', mode: 0o644, mtime: T2 }, data: 'implicit parents' },
  // ... which later entries describe (directory over directory: metadata updated)
  { header: { name: 'usr/', type: 'directory', mode: 0o755, mtime: T1 } },
  { header: { name: 'usr/lib/', type: 'directory', mode: 0o750, mtime: T1 } },
];

describe('unpackLayer', () => {
  it('extracts every entry type exactly', async () => {
    const bytes = await makeTar(allTypes);
    const dest = await freshDir('types');
    const r = await unpackLayer(streamOf(bytes), dest);
    assert.equal(r.diffId, sha256(bytes));
    assert.equal(r.size, 20 + 4 + 70_000 + 1 + 1 + 4 + 16);

    const st = async (p: string) => fsp.lstat(path.join(dest, p));
    assert.equal(await fsp.readFile(path.join(dest, 'etc/hosts'), 'utf8'), '127.0.0.1 localhost\n');
    assert.equal((await st('etc')).mtimeMs, T1.getTime());
    assert.equal((await st('etc/hosts')).mtimeMs, T2.getTime());
    const owned = await st('etc/owned');
    assert.equal(owned.uid, 1000);
    assert.equal(owned.gid, 1000);
    assert.equal(owned.mode & 0o7777, 0o600);
    const su = await st('bin/su');
    assert.equal(su.mode & 0o7777, 0o4755);
    assert.equal(su.size, 70_000);
    const sg = await st('bin/sg');
    assert.equal(sg.mode & 0o7777, 0o2711);
    assert.equal(sg.gid, 42);
    const again = await st('bin/su-again');
    assert.equal(again.ino, su.ino);
    assert.equal(su.nlink, 2);
    const sh = await st('bin/sh');
    assert.ok(sh.isSymbolicLink());
    assert.equal(await fsp.readlink(path.join(dest, 'bin/sh')), '/bin/busybox');
    assert.equal(sh.uid, 1000);
    assert.equal(sh.mtimeMs, T2.getTime());
    assert.equal((await st('tmp')).mode & 0o7777, 0o1777);
    const nul = await st('dev/null');
    assert.ok(nul.isCharacterDevice());
    assert.equal(nul.rdev, (1 << 8) | 3);
    assert.equal(nul.mode & 0o7777, 0o666);
    const loop = await st('dev/loop0');
    assert.ok(loop.isBlockDevice());
    assert.equal(loop.rdev, 7 << 8);
    assert.equal(loop.gid, 6);
    const fifo = await st('dev/pipe');
    assert.ok(fifo.isFIFO());
    assert.equal(fifo.mode & 0o7777, 0o620);
    assert.equal(native().lgetxattr(path.join(dest, 'xattr'), 'user.berth')?.toString(), 'hello');
    assert.equal(await fsp.readFile(path.join(dest, 'usr/lib/deep'), 'utf8'), 'implicit parents');
    assert.equal((await st('usr/lib')).mode & 0o7777, 0o750);
    assert.equal((await st('usr/lib')).mtimeMs, T1.getTime());
  });

  it('reads gzip layers, and the diff id is that of the uncompressed tar', async () => {
    const bytes = await makeTar(allTypes);
    const plain = await freshDir('plain');
    const gz = await freshDir('gz');
    const a = await unpackLayer(streamOf(bytes), plain);
    const b = await unpackLayer(streamOf(zlib.gzipSync(bytes), 1000), gz);
    assert.equal(b.diffId, sha256(bytes));
    assert.deepEqual(b, a);
    assert.deepEqual(await describeTree(gz), await describeTree(plain));
    for (const chunk of [1, 511, 513, 1 << 20]) {
      const d = await freshDir(`chunks-${chunk}`);
      assert.deepEqual(await unpackLayer(streamOf(bytes, chunk), d), a);
      assert.deepEqual(await describeTree(d), await describeTree(plain));
    }
  });

  it('hashes bytes after the end-of-archive marker too', async () => {
    const bytes = Buffer.concat([await makeTar([{ header: { name: 'a', type: 'file' }, data: 'a' }]), Buffer.alloc(8192)]);
    const r = await unpackLayer(streamOf(bytes), await freshDir('padded'));
    assert.equal(r.diffId, sha256(bytes));
  });

  it('refuses zstd layers clearly', async () => {
    const zstd = Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0, 0, 0, 0]);
    await assert.rejects(unpackLayer(streamOf(zstd), await freshDir('zstd')), /zstd layers are not supported yet/);
  });

  it('converts whiteouts and opaque directories to the overlayfs form', async () => {
    const bytes = await makeTar([
      { header: { name: 'etc', type: 'directory', mode: 0o755 } },
      { header: { name: 'etc/.wh.gone', type: 'file', mode: 0o600 } },
      { header: { name: 'var/lib/.wh..wh..opq', type: 'file', mode: 0o600 } },
      { header: { name: '.wh.toplevel', type: 'file', mode: 0o600 } },
      { header: { name: '.wh..wh.plnk', type: 'directory' } },
      { header: { name: '.wh..wh.plnk/123.456', type: 'file' }, data: 'aufs' },
    ]);
    const dest = await freshDir('whiteout');
    await unpackLayer(streamOf(bytes), dest);
    for (const p of ['etc/gone', 'toplevel']) {
      const st = await fsp.lstat(path.join(dest, p), { bigint: true });
      assert.ok(st.isCharacterDevice(), `${p} is a character device`);
      assert.equal(st.rdev, 0n);
      assert.equal(st.uid, 0n);
    }
    assert.equal(await exists(path.join(dest, 'etc/.wh.gone')), false);
    assert.equal(await exists(path.join(dest, '.wh.toplevel')), false);
    assert.equal(await exists(path.join(dest, '.wh..wh.plnk')), false);
    assert.equal(await exists(path.join(dest, 'var/lib/.wh..wh..opq')), false);
    assert.equal(native().lgetxattr(path.join(dest, 'var/lib'), 'trusted.overlay.opaque')?.toString(), 'y');
    assert.equal(native().lgetxattr(path.join(dest, 'var'), 'trusted.overlay.opaque'), null);
  });

  it('refuses to follow a symlink created by an earlier entry', async () => {
    const outside = await freshDir('outside');
    const bytes = await makeTar([
      { header: { name: 'a', type: 'symlink', linkname: outside } },
      { header: { name: 'a/passwd', type: 'file' }, data: 'root::0:0::/:/bin/sh\n' },
    ]);
    const dest = await freshDir('symlink-attack');
    await assert.rejects(unpackLayer(streamOf(bytes), dest), /"a\/passwd".*symbolic link/);
    assert.deepEqual(await fsp.readdir(outside), []);

    const rel = await makeTar([
      { header: { name: 'up', type: 'symlink', linkname: '../../..' } },
      { header: { name: 'up/x/y', type: 'file' }, data: 'x' },
    ]);
    await assert.rejects(unpackLayer(streamOf(rel), await freshDir('symlink-attack2')), /symbolic link/);

    // a directory replaced by a symlink within the layer, then written through
    const swapped = await makeTar([
      { header: { name: 'd', type: 'directory' } },
      { header: { name: 'd/ok', type: 'file' }, data: 'ok' },
      { header: { name: 'd', type: 'symlink', linkname: outside } },
      { header: { name: 'd/passwd', type: 'file' }, data: 'evil' },
    ]);
    await assert.rejects(unpackLayer(streamOf(swapped), await freshDir('symlink-attack3')), /"d\/passwd".*symbolic link/);
    assert.deepEqual(await fsp.readdir(outside), []);
  });

  it('refuses ../ escapes and keeps absolute paths inside', async () => {
    const outside = await freshDir('outside');
    const dest = await freshDir('dotdot');
    const name = path.relative(dest, path.join(outside, 'evil')); // ../outside-N/evil
    const bytes = await makeTar([{ header: { name, type: 'file' }, data: 'evil' }]);
    await assert.rejects(unpackLayer(streamOf(bytes), dest), /escapes the destination/);
    assert.deepEqual(await fsp.readdir(outside), []);

    const deep = await makeTar([{ header: { name: 'a/../../evil', type: 'file' }, data: 'evil' }]);
    await assert.rejects(unpackLayer(streamOf(deep), await freshDir('dotdot2')), /escapes the destination/);
    assert.equal(await exists(path.join(tmp, 'evil')), false);

    const link = await makeTar([{ header: { name: 'pw', type: 'link', linkname: '../../../../etc/passwd' } }]);
    await assert.rejects(unpackLayer(streamOf(link), await freshDir('dotdot3')), /escapes the destination/);

    const abs = await makeTar([
      { header: { name: '/abs/file', type: 'file' }, data: 'inside' },
      { header: { name: 'a/./b/../c', type: 'file' }, data: 'cleaned' },
    ]);
    const d = await freshDir('abs');
    await unpackLayer(streamOf(abs), d);
    assert.equal(await fsp.readFile(path.join(d, 'abs/file'), 'utf8'), 'inside');
    assert.equal(await fsp.readFile(path.join(d, 'a/c'), 'utf8'), 'cleaned');
  });

  it('replaces what an earlier entry wrote, but merges directory over directory', async () => {
    const bytes = await makeTar([
      { header: { name: 'x', type: 'directory', mode: 0o700 } },
      { header: { name: 'x/keep', type: 'file' }, data: 'keep' },
      { header: { name: 'x', type: 'directory', mode: 0o751, uid: 5, mtime: T1 } },
      { header: { name: 'f', type: 'file' }, data: 'first' },
      { header: { name: 'f', type: 'file' }, data: 'second' },
      { header: { name: 'd', type: 'directory' } },
      { header: { name: 'd/child', type: 'file' }, data: 'gone' },
      { header: { name: 'd', type: 'file' }, data: 'now a file' },
      { header: { name: 'l', type: 'symlink', linkname: 'f' } },
      { header: { name: 'l', type: 'directory', mode: 0o755 } },
    ]);
    const dest = await freshDir('replace');
    await unpackLayer(streamOf(bytes), dest);
    assert.equal(await fsp.readFile(path.join(dest, 'x/keep'), 'utf8'), 'keep');
    const x = await fsp.lstat(path.join(dest, 'x'));
    assert.equal(x.mode & 0o7777, 0o751);
    assert.equal(x.uid, 5);
    assert.equal(x.mtimeMs, T1.getTime());
    assert.equal(await fsp.readFile(path.join(dest, 'f'), 'utf8'), 'second');
    assert.equal(await fsp.readFile(path.join(dest, 'd'), 'utf8'), 'now a file');
    assert.ok((await fsp.lstat(path.join(dest, 'l'))).isDirectory());
    assert.equal(await fsp.readFile(path.join(dest, 'f'), 'utf8'), 'second');
  });

  it('reads GNU tar output: long names, PAX, binary capability xattrs, record padding', async () => {
    const src = await freshDir('gnu-src');
    const long = 'a'.repeat(60) + '/' + 'b'.repeat(70) + '/' + 'c'.repeat(110);
    await fsp.mkdir(path.join(src, path.dirname(long)), { recursive: true });
    await fsp.writeFile(path.join(src, long), 'long');
    await fsp.symlink('t'.repeat(150), path.join(src, 'longlink'));
    await fsp.writeFile(path.join(src, 'ping'), 'ping');
    // VFS_CAP_REVISION_2 with cap_setuid (bit 7: byte 0x80) and cap_net_raw: bytes that are not UTF-8
    const cap = Buffer.from('0100000280200000000000000000000000000000', 'hex');
    native().lsetxattr(path.join(src, 'ping'), 'security.capability', cap);
    for (const format of ['gnu', 'posix']) {
      const file = path.join(tmp, `gnu-${format}.tar`);
      const xattrs = format === 'posix' ? ['--xattrs', '--xattrs-include=*'] : []; // GNU format has no xattrs
      execFileSync('tar', [...xattrs, `--format=${format}`, '-C', src, '-cf', file, '.']);
      const bytes = await fsp.readFile(file);
      const dest = await freshDir(`gnu-${format}`);
      const r = await unpackLayer(streamOf(bytes, 4096), dest);
      assert.equal(r.diffId, sha256(bytes));
      assert.equal(await fsp.readFile(path.join(dest, long), 'utf8'), 'long');
      assert.equal(await fsp.readlink(path.join(dest, 'longlink')), 't'.repeat(150));
      if (format === 'posix') {
        assert.deepEqual(native().lgetxattr(path.join(dest, 'ping'), 'security.capability'), cap);
        assert.deepEqual(await describeTree(dest), await describeTree(src));
      }
    }
  });
});

describe('packDirectory', () => {
  it('round-trips a tree through unpackLayer, whiteouts and opaque directories included', async () => {
    const src = await freshDir('pack-src');
    await unpackLayer(streamOf(await makeTar(allTypes)), src);
    // upperdir-style markers and a binary xattr
    native().mknod(path.join(src, 'etc/removed'), 0o020000, 0, 0);
    await fsp.mkdir(path.join(src, 'opaque'));
    await fsp.writeFile(path.join(src, 'opaque/new'), 'new');
    native().lsetxattr(path.join(src, 'opaque'), 'trusted.overlay.opaque', Buffer.from('y'));
    native().lsetxattr(path.join(src, 'bin/su'), 'security.capability', Buffer.from('0100000280200000000000000000000000000000', 'hex'));
    await fsp.utimes(path.join(src, 'opaque/new'), T2, T2);
    await fsp.utimes(path.join(src, 'opaque'), T1, T1);
    await fsp.utimes(path.join(src, 'etc'), T1, T1);

    const out = new PassThrough();
    const chunks: Buffer[] = [];
    out.on('data', (c: Buffer) => chunks.push(c));
    await packDirectory(src, out);
    const bytes = Buffer.concat(chunks);

    // the tar itself: sorted, whiteout markers in layer form, hard link as a Link entry
    const names: string[] = [];
    const types: Record<string, string> = {};
    const ex = tar.extract();
    const listed = (async () => {
      for await (const e of ex) {
        names.push(e.header.name);
        types[e.header.name] = `${e.header.type}${e.header.linkname ? ' ' + e.header.linkname : ''}`;
        e.resume();
      }
    })();
    Readable.from([bytes]).pipe(ex);
    await listed;
    assert.ok(names.indexOf('bin/') < names.indexOf('bin/sg') && names.indexOf('bin/sg') < names.indexOf('bin/sh'));
    assert.equal(types['etc/.wh.removed'], 'file');
    assert.equal(types['opaque/.wh..wh..opq'], 'file');
    assert.equal(types['bin/su-again'], 'link bin/su');
    assert.ok(!names.includes('etc/removed'));

    const dest = await freshDir('pack-dest');
    const r = await unpackLayer(streamOf(bytes), dest);
    assert.equal(r.diffId, sha256(bytes));
    assert.deepEqual(await describeTree(dest), await describeTree(src));
  });
});
