import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EscapeFilter, parseDetachKeys } from './detach-keys';

test('parseDetachKeys: docker key names', () => {
  assert.deepEqual([...parseDetachKeys('ctrl-p,ctrl-q')], [16, 17]);
  assert.deepEqual([...parseDetachKeys('a,ctrl-@,ctrl-[,ctrl-_')], [97, 0, 27, 31]);
  assert.throws(() => parseDetachKeys('ctrl-1'), /Invalid detach keys \(ctrl-1\) provided/);
  assert.throws(() => parseDetachKeys('foo'), /Invalid detach keys/);
});

test('EscapeFilter: holds back a partial match and detaches on the full one', () => {
  const f = new EscapeFilter(parseDetachKeys('ctrl-p,ctrl-q'));
  assert.deepEqual(f.push(Buffer.from('ab\x10')), { data: Buffer.from('ab'), detached: false });
  assert.deepEqual(f.push(Buffer.from('x')), { data: Buffer.from('\x10x'), detached: false });
  assert.deepEqual(f.push(Buffer.from('\x10\x10')), { data: Buffer.from('\x10'), detached: false });
  assert.deepEqual(f.push(Buffer.from('\x11rest')), { data: Buffer.alloc(0), detached: true });
});
