import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import * as tar from 'tar-stream';
import { contextExcludes, packContext } from './tar';

interface Entry {
  name: string;
  type: string;
  mode: number;
  uid: number;
  gid: number;
  mtime: number;
  linkname?: string | null;
  body: string;
}

async function entries(stream: NodeJS.ReadableStream): Promise<Entry[]> {
  const out: Entry[] = [];
  const ex = tar.extract();
  ex.on('entry', (h, s, next) => {
    const chunks: Buffer[] = [];
    s.on('data', (c: unknown) => chunks.push(c as Buffer));
    s.on('end', () => {
      out.push({
        name: h.name,
        type: String(h.type),
        mode: h.mode ?? -1,
        uid: h.uid ?? -1,
        gid: h.gid ?? -1,
        mtime: Math.floor((h.mtime?.getTime() ?? 0) / 1000),
        linkname: h.linkname,
        body: Buffer.concat(chunks).toString(),
      });
      next();
    });
  });
  await new Promise<void>((resolve, reject) => {
    ex.on('finish', resolve);
    ex.on('error', reject);
    (stream as Readable).on('error', reject);
    (stream as Readable).pipe(ex);
  });
  return out;
}

function tempContext(t: { after: (fn: () => void) => void }, name: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `berth-${name}-`));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function write(dir: string, rel: string, body: string, mode = 0o644): void {
  const p = path.join(dir, rel);
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.writeFileSync(p, body);
  fs.chmodSync(p, mode);
}

test('packContext: ignore rules, build files kept, order, ownership, modes, links', async (t) => {
  const dir = tempContext(t, 'pack-context');
  write(dir, 'Dockerfile', 'FROM scratch\n');
  write(dir, '.dockerignore', 'ignored\n');
  write(dir, 'a.txt', 'hello', 0o640);
  write(dir, 'bin/tool', '#!/bin/sh\n', 0o4755);
  write(dir, 'src/main.go', 'package main\n');
  write(dir, 'src/main_test.go', 'package main\n');
  write(dir, 'node_modules/x/index.js', 'x');
  write(dir, 'logs/app.log', 'noise');
  write(dir, 'logs/keep.log', 'kept');
  write(dir, 'Z.md', 'upper case sorts first');
  fs.symlinkSync('a.txt', path.join(dir, 'link'));
  fs.symlinkSync('/etc/passwd', path.join(dir, 'abs-link'));
  fs.linkSync(path.join(dir, 'a.txt'), path.join(dir, 'z-hard'));
  fs.utimesSync(path.join(dir, 'a.txt'), 1700000000.9, 1700000000.9);
  fs.chmodSync(path.join(dir, 'src'), 0o750);

  const ignore = ['# build files are ignored but still sent', 'Dockerfile', '.dockerignore', 'node_modules', 'logs', '!logs/keep.log', '**/*_test.go'];
  const got = await entries(packContext(dir, { dockerfile: 'Dockerfile', ignore }));

  assert.deepEqual(
    got.map((e) => [e.name, e.type]),
    [
      ['.dockerignore', 'file'],
      ['Dockerfile', 'file'],
      ['Z.md', 'file'],
      ['a.txt', 'file'],
      ['abs-link', 'symlink'],
      ['bin/', 'directory'],
      ['bin/tool', 'file'],
      ['link', 'symlink'],
      ['logs/keep.log', 'file'],
      ['src/', 'directory'],
      ['src/main.go', 'file'],
      ['z-hard', 'link'],
    ],
  );
  const byName = new Map(got.map((e) => [e.name, e]));
  assert.ok(got.every((e) => e.uid === 0 && e.gid === 0), 'uid and gid 0 everywhere');
  assert.equal(byName.get('a.txt')!.mode, 0o640);
  assert.equal(byName.get('a.txt')!.mtime, 1700000000);
  assert.equal(byName.get('a.txt')!.body, 'hello');
  assert.equal(byName.get('bin/tool')!.mode, 0o4755);
  assert.equal(byName.get('src/')!.mode, 0o750);
  assert.equal(byName.get('link')!.linkname, 'a.txt');
  assert.equal(byName.get('abs-link')!.linkname, '/etc/passwd');
  assert.equal(byName.get('z-hard')!.linkname, 'a.txt');
  assert.equal(byName.get('logs/keep.log')!.body, 'kept');
  assert.equal(byName.get('Dockerfile')!.body, 'FROM scratch\n');
});

test('packContext: a Dockerfile inside an ignored directory is still sent, alone', async (t) => {
  const dir = tempContext(t, 'pack-dockerfile-in-ignored');
  write(dir, 'docker/prod.Dockerfile', 'FROM busybox\n');
  write(dir, 'docker/secret.env', 'TOKEN=x');
  write(dir, 'app.js', 'x');
  const got = await entries(packContext(dir, { dockerfile: 'docker/prod.Dockerfile', ignore: ['docker/'] }));
  assert.deepEqual(
    got.map((e) => e.name),
    ['app.js', 'docker/prod.Dockerfile'],
  );
  assert.deepEqual(contextExcludes(['/docker/', '*.md'], './docker/prod.Dockerfile'), ['docker', '*.md', '!docker/prod.Dockerfile']);
  assert.deepEqual(contextExcludes(['*.md'], 'Dockerfile'), ['*.md']);
  assert.deepEqual(contextExcludes(['*'], '../Dockerfile'), ['*', '!.dockerignore']);
});

test('packContext: everything ignored gives an empty archive; bad patterns fail the stream', async (t) => {
  const dir = tempContext(t, 'pack-empty');
  write(dir, 'a', 'a');
  write(dir, 'b/c', 'c');
  assert.deepEqual(await entries(packContext(dir, { dockerfile: 'Dockerfile', ignore: ['*'] })), []);
  await assert.rejects(entries(packContext(dir, { dockerfile: 'Dockerfile', ignore: ['a['] })), /error reading .dockerignore: syntax error in pattern: a\[/);
});

test('packContext: a large file streams through with its exact content', async (t) => {
  const dir = tempContext(t, 'pack-large');
  const big = Buffer.alloc(3 * 1024 * 1024 + 7, 'x');
  big.write('END', big.length - 3);
  fs.writeFileSync(path.join(dir, 'big.bin'), big);
  const got = await entries(packContext(dir, { dockerfile: 'Dockerfile', ignore: [] }));
  assert.equal(got.length, 1);
  assert.equal(got[0].body.length, big.length);
  assert.ok(got[0].body.endsWith('xEND'));
});

test('packContext: an unreadable file fails the stream naming it', { skip: process.getuid?.() === 0 ? 'root can read any file' : false }, async (t) => {
  const dir = tempContext(t, 'pack-unreadable');
  write(dir, 'secret', 's', 0o000);
  await assert.rejects(entries(packContext(dir, { dockerfile: 'Dockerfile', ignore: [] })), /no permission to read from '.*secret'/);
});
