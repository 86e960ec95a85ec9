import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { goFileMode, rebaseName } from './copy-tar';

test('rebaseName: the first component is renamed; the root prefixes every name; others are skipped', () => {
  assert.equal(rebaseName('tree', 'tree', 'new'), 'new');
  assert.equal(rebaseName('tree/', 'tree', 'new'), 'new/');
  assert.equal(rebaseName('tree/a/b', 'tree', 'new'), 'new/a/b');
  assert.equal(rebaseName('./a', '.', 'new'), 'new/a');
  assert.equal(rebaseName('treex/a', 'tree', 'new'), null);
  assert.equal(rebaseName('/', '/', 'out'), 'out/');
  assert.equal(rebaseName('/bin/sh', '/', 'out'), 'out/bin/sh');
});

test("goFileMode: Go's os.FileMode bits for the stat header", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-gomode-'));
  try {
    fs.chmodSync(dir, 0o1755);
    assert.equal(goFileMode(fs.lstatSync(dir)), (2 ** 31 + (1 << 20) + 0o755) >>> 0);
    fs.writeFileSync(path.join(dir, 'f'), '');
    fs.chmodSync(path.join(dir, 'f'), 0o4750);
    assert.equal(goFileMode(fs.lstatSync(path.join(dir, 'f'))), (1 << 23) + 0o750);
    fs.symlinkSync('f', path.join(dir, 'l'));
    assert.equal(goFileMode(fs.lstatSync(path.join(dir, 'l'))), (1 << 27) + 0o777);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
