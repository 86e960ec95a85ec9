import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { Readable } from 'node:stream';
import { TarReader } from '../../snapshot/unpack';
import { packContext } from '../../build/context/tar';
import {
  ByteCounter,
  addDockerfileToContext,
  dockerfileOnlyContext,
  fileEntry,
  END_OF_ARCHIVE,
  isArchive,
  peek,
  randomDockerfileName,
  readStream,
} from './build-context';

async function entries(stream: NodeJS.ReadableStream | Buffer): Promise<Map<string, { mode: number; data: string; type: string }>> {
  const src = Buffer.isBuffer(stream) ? Readable.from([stream]) : stream;
  const r = new TarReader((src as AsyncIterable<Buffer>)[Symbol.asyncIterator]());
  const out = new Map<string, { mode: number; data: string; type: string }>();
  for (let e = await r.next(); e; e = await r.next()) {
    const chunks: Buffer[] = [];
    for await (const c of r.body()) chunks.push(Buffer.from(c));
    out.set(e.name, { mode: e.mode, data: Buffer.concat(chunks).toString(), type: e.type });
  }
  return out;
}

test('a Dockerfile on stdin becomes a one-file context', async () => {
  const tar = dockerfileOnlyContext(Buffer.from('FROM busybox\n'));
  assert.equal(tar.length % 512, 0);
  const e = await entries(tar);
  assert.deepEqual([...e.keys()], ['Dockerfile']);
  assert.equal(e.get('Dockerfile')!.data, 'FROM busybox\n');
  assert.equal(e.get('Dockerfile')!.mode, 0o644);
});

test('isArchive: tar headers and compressed streams are archives, a Dockerfile is not', () => {
  assert.equal(isArchive(dockerfileOnlyContext(Buffer.from('FROM x\n')).subarray(0, 512)), true);
  assert.equal(isArchive(zlib.gzipSync(Buffer.from('x'))), true);
  assert.equal(isArchive(Buffer.from('BZh91AY&SY')), true);
  assert.equal(isArchive(Buffer.from('FROM busybox\nRUN true\n')), false);
  assert.equal(isArchive(Buffer.alloc(512)), false);
  assert.equal(isArchive(Buffer.alloc(512, 'a')), false);
});

test('peek keeps every byte', async () => {
  const parts = [Buffer.from('abc'), Buffer.from('defgh'), Buffer.from('ij')];
  const { head, stream } = await peek(Readable.from(parts), 4);
  assert.equal(head.toString(), 'abcd');
  assert.equal((await readStream(stream)).toString(), 'abcdefghij');
  const short = await peek(Readable.from([Buffer.from('xy')]), 512);
  assert.equal(short.head.toString(), 'xy');
  assert.equal((await readStream(short.stream)).toString(), 'xy');
});

test('a Dockerfile from outside the context: added under its random name, which .dockerignore then lists', async () => {
  const name = randomDockerfileName();
  assert.match(name, /^\.dockerfile\.[0-9a-f]{20}$/);
  // with a .dockerignore: rewritten in place, its mode kept
  const ctx = Buffer.concat([
    fileEntry('.dockerignore', Buffer.from('*.log'), 0o640, 0),
    fileEntry('a.txt', Buffer.alloc(1000, 'a'), 0o644, 0),
    END_OF_ARCHIVE,
  ]);
  const chunks: Buffer[] = [];
  // cut into awkward pieces: the rewriting must not depend on chunk boundaries
  for (let i = 0; i < ctx.length; i += 100) chunks.push(ctx.subarray(i, i + 100));
  let e = await entries(addDockerfileToContext(Readable.from(chunks), Buffer.from('FROM busybox\n'), name));
  assert.deepEqual([...e.keys()], ['.dockerignore', 'a.txt', name]);
  assert.equal(e.get('.dockerignore')!.data, `*.log\n${name}\n`);
  assert.equal(e.get('.dockerignore')!.mode, 0o640);
  assert.equal(e.get('a.txt')!.data, 'a'.repeat(1000));
  assert.equal(e.get(name)!.data, 'FROM busybox\n');
  assert.equal(e.get(name)!.mode, 0o600);
  // without one: a .dockerignore that also names itself, as docker makes it
  e = await entries(addDockerfileToContext(Readable.from([Buffer.concat([fileEntry('a.txt', Buffer.from('a'), 0o644, 0), END_OF_ARCHIVE])]), Buffer.from('FROM x\n'), name));
  assert.deepEqual([...e.keys()], ['a.txt', '.dockerignore', name]);
  assert.equal(e.get('.dockerignore')!.data, `.dockerignore\n${name}\n`);
});

test('addDockerfileToContext over a packed directory (long names, links, subdirectories)', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-build-ctx-'));
  try {
    const long = 'd'.repeat(120);
    fs.mkdirSync(path.join(dir, long, 'sub'), { recursive: true });
    fs.writeFileSync(path.join(dir, long, 'sub', 'f'.repeat(90)), 'deep');
    fs.writeFileSync(path.join(dir, '.dockerignore'), 'ignored\n');
    fs.writeFileSync(path.join(dir, 'ignored'), 'no');
    fs.symlinkSync('ignored', path.join(dir, 'link'));
    const name = randomDockerfileName();
    const e = await entries(addDockerfileToContext(packContext(dir, { dockerfile: '', ignore: ['ignored'] }), Buffer.from('FROM x\n'), name));
    assert.equal(e.get(`${long}/sub/${'f'.repeat(90)}`)!.data, 'deep');
    assert.equal(e.has('ignored'), false);
    assert.equal(e.get('link')!.type, 'symlink');
    assert.equal(e.get('.dockerignore')!.data, `ignored\n\n${name}\n`);
    assert.equal(e.get(name)!.data, 'FROM x\n');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('ByteCounter counts and reports the end once', async () => {
  const seen: [number, boolean][] = [];
  const c = new ByteCounter((n, done) => seen.push([n, done]));
  Readable.from([Buffer.alloc(10), Buffer.alloc(5)]).pipe(c);
  const all = await readStream(c);
  assert.equal(all.length, 15);
  assert.deepEqual(seen, [[10, false], [15, false], [15, true]]);
});
