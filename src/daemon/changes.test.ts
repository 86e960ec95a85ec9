import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { containerChanges, isPureArtifact, runtimePaths } from './changes';
import { native } from '../util/native';

const root = process.getuid?.() === 0;

test('containerChanges: whiteouts, opaque dirs, parents, unchanged copies and runtime mount points', { skip: !root && 'needs root (mknod, trusted xattrs)' }, () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-changes-'));
  try {
    const lower = path.join(tmp, 'lower');
    const upper = path.join(tmp, 'upper');
    for (const d of ['etc', 'bin', 'opq/old', 'same']) fs.mkdirSync(path.join(lower, d), { recursive: true });
    fs.writeFileSync(path.join(lower, 'etc/passwd'), 'root\n');
    fs.writeFileSync(path.join(lower, 'bin/ls'), 'ls');
    fs.mkdirSync(upper);
    // a new file, a changed one, a deleted one (whiteout), an opaque dir, an unchanged dir copy
    fs.writeFileSync(path.join(upper, 'added'), 'x');
    fs.mkdirSync(path.join(upper, 'etc'));
    fs.writeFileSync(path.join(upper, 'etc/passwd'), 'root\nx\n');
    fs.writeFileSync(path.join(upper, 'etc/hosts'), ''); // the runtime's bind-mount target
    fs.mkdirSync(path.join(upper, 'bin'));
    native().mknod(path.join(upper, 'bin/ls'), 0o020000, 0, 0);
    fs.mkdirSync(path.join(upper, 'opq'));
    native().lsetxattr(path.join(upper, 'opq'), 'trusted.overlay.opaque', Buffer.from('y'));
    fs.writeFileSync(path.join(upper, 'opq/new'), 'n');
    fs.mkdirSync(path.join(upper, 'same'));
    // whole seconds: the same time on both sides, as a copy-up keeps it
    for (const dir of [lower, upper]) fs.utimesSync(path.join(dir, 'same'), 1_700_000_000, 1_700_000_000);
    fs.mkdirSync(path.join(upper, 'proc'));
    const runtime = runtimePaths(['/data']);
    const got = containerChanges(upper, [lower], runtime).map((c) => `${'CAD'[c.Kind]} ${c.Path}`);
    assert.deepEqual(got, ['A /added', 'C /bin', 'D /bin/ls', 'C /etc/passwd', 'D /opq', 'A /opq/new']);
    assert.equal(isPureArtifact(upper, '/proc', runtime, [lower]), true);
    assert.equal(isPureArtifact(upper, '/etc', runtime, [lower]), false, '/etc holds a real change');
    assert.equal(isPureArtifact(upper, '/etc/hosts', runtime, [lower]), true);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});
