/**
 * Regression: the docker CLI sends a build context whose last entry has no padding and no
 * end-of-archive blocks (its tar for `build -f <outside Dockerfile>`); dockerd accepts it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { spawnSync } from 'node:child_process';
import { unpackLayer } from './unpack';

function tarOf(content: string): Buffer {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-tar-src-'));
  fs.writeFileSync(path.join(dir, 'last.txt'), content);
  const out = spawnSync('tar', ['-C', dir, '--numeric-owner', '-cf', '-', 'last.txt']).stdout;
  fs.rmSync(dir, { recursive: true, force: true });
  return out;
}

test('an archive that ends right after the last entry data is accepted', async () => {
  const content = 'x'.repeat(47);
  const cut = tarOf(content).subarray(0, 512 + 47);
  const dest = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-tar-dst-'));
  try {
    await unpackLayer(Readable.from([cut]), dest);
    assert.equal(fs.readFileSync(path.join(dest, 'last.txt'), 'utf8'), content);
  } finally {
    fs.rmSync(dest, { recursive: true, force: true });
  }
});

test('an archive cut inside an entry data is still refused', async () => {
  const cut = tarOf('y'.repeat(300)).subarray(0, 512 + 100);
  const dest = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-tar-dst-'));
  try {
    await assert.rejects(unpackLayer(Readable.from([cut]), dest), /unexpected end of archive/);
  } finally {
    fs.rmSync(dest, { recursive: true, force: true });
  }
});
