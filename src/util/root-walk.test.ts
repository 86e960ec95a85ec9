import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { walkInRoot } from './root-walk';

test('walkInRoot follows symlinks inside the root and never leaves it', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'root-walk-'));
  try {
    fs.mkdirSync(path.join(root, 'etc/sub'), { recursive: true });
    fs.writeFileSync(path.join(root, 'etc/file'), '');
    fs.symlinkSync('/etc/sub', path.join(root, 'abs'));
    fs.symlinkSync('../../..', path.join(root, 'etc/sub/up'));
    fs.symlinkSync('loop', path.join(root, 'loop'));
    const o = (followLast: boolean, requireDirs = false) => ({
      lstat: (c: string[]) => {
        try {
          return fs.lstatSync(path.join(root, ...c));
        } catch {
          return undefined;
        }
      },
      readlink: (c: string[]) => fs.readlinkSync(path.join(root, ...c)),
      followLast,
      requireDirs,
    });
    assert.deepEqual(walkInRoot('/abs/x', o(false)), ['etc', 'sub', 'x']);
    assert.deepEqual(walkInRoot('/abs', o(false)), ['abs']);
    assert.deepEqual(walkInRoot('/abs', o(true)), ['etc', 'sub']);
    assert.deepEqual(walkInRoot('/etc/sub/up/../../x', o(true)), ['x']);
    assert.deepEqual(walkInRoot('/missing/../../a/./b', o(true)), ['a', 'b']);
    assert.deepEqual(walkInRoot('/etc/file/x', o(true)), ['etc', 'file', 'x']);
    assert.throws(() => walkInRoot('/etc/file/x', o(true, true)), { code: 'ENOTDIR' });
    assert.throws(() => walkInRoot('/loop', o(true)), /too many levels of symbolic links/);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});
