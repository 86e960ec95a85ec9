import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseAddr, parseRange } from './server';
import { isValidName, isValidTag, parseReference } from './names';

test('parseRange: single byte ranges, unsatisfiable ones, and ones to ignore', () => {
  assert.deepEqual(parseRange('bytes=0-0', 10), { start: 0, end: 0 });
  assert.deepEqual(parseRange('bytes=3-', 10), { start: 3, end: 9 });
  assert.deepEqual(parseRange('bytes=-4', 10), { start: 6, end: 9 });
  assert.deepEqual(parseRange('bytes=-40', 10), { start: 0, end: 9 });
  assert.deepEqual(parseRange('bytes=8-100', 10), { start: 8, end: 9 });
  assert.equal(parseRange('bytes=10-', 10), 'unsatisfiable');
  assert.equal(parseRange('bytes=5-4', 10), 'unsatisfiable');
  assert.equal(parseRange('bytes=-0', 10), 'unsatisfiable');
  assert.equal(parseRange('bytes=0-1,3-4', 10), undefined);
  assert.equal(parseRange('items=0-1', 10), undefined);
  assert.equal(parseRange(undefined, 10), undefined);
});

test('parseAddr', () => {
  assert.deepEqual(parseAddr('127.0.0.1:5000'), { host: '127.0.0.1', port: 5000 });
  assert.deepEqual(parseAddr('[::1]:0'), { host: '::1', port: 0 });
  assert.deepEqual(parseAddr(':5000'), { host: '', port: 5000 });
  assert.deepEqual(parseAddr('5000'), { host: '127.0.0.1', port: 5000 });
  assert.throws(() => parseAddr('localhost'), /expected HOST:PORT/);
  assert.throws(() => parseAddr('h:99999'), /bad port/);
});

test('names, tags and references', () => {
  for (const n of ['a', 'a/b', 'a-b/c.d/e__f', 'a--b', '0/1']) assert.ok(isValidName(n), n);
  for (const n of ['', 'A', '..', 'a/../b', 'a//b', '/a', 'a/', '_a', 'a_', 'a___b', 'a/.b', '%2e', 'a b', 'x'.repeat(256)]) assert.ok(!isValidName(n), n);
  for (const t of ['latest', 'v1.0', '_x', 'A-b_c.d', 'x'.repeat(128)]) assert.ok(isValidTag(t), t);
  for (const t of ['', '.x', '-x', 'a/b', 'x'.repeat(129), '..']) assert.ok(!isValidTag(t), t);
  assert.deepEqual(parseReference('v1'), { kind: 'tag', tag: 'v1' });
  assert.deepEqual(parseReference(`sha256:${'a'.repeat(64)}`), { kind: 'digest', digest: `sha256:${'a'.repeat(64)}` });
  assert.throws(() => parseReference('sha256:abc'), (e: { code?: string }) => e.code === 'DIGEST_INVALID');
  assert.throws(() => parseReference('..'), (e: { code?: string }) => e.code === 'TAG_INVALID');
});
