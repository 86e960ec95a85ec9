import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MS, convertTmpfsOptions, mergeTmpfsOptions, parseMountOptions } from './mountopts';

test('mount option strings: flags and data (moby/sys/mount parseOptions)', () => {
  assert.deepEqual(parseMountOptions('size=10m'), { flags: 0, data: 'size=10m' });
  assert.deepEqual(parseMountOptions('bind'), { flags: MS.BIND, data: '' });
  assert.deepEqual(parseMountOptions('ro,bind,nosuid,uid=1000'), { flags: MS.RDONLY | MS.BIND | MS.NOSUID, data: 'uid=1000' });
  assert.deepEqual(parseMountOptions('ro,rw'), { flags: 0, data: '' });
  assert.deepEqual(parseMountOptions('rbind,rshared'), { flags: MS.BIND | MS.REC | MS.SHARED, data: '' });
  assert.deepEqual(parseMountOptions(''), { flags: 0, data: '' });
});

test('tmpfs options: later ones win, one propagation, Docker\'s error', () => {
  assert.deepEqual(mergeTmpfsOptions(['noexec', 'nosuid', 'nodev', 'rprivate', 'exec', 'size=1m', 'size=2m', 'rshared']), ['nosuid', 'nodev', 'exec', 'size=2m', 'rshared']);
  assert.deepEqual(mergeTmpfsOptions(['defaults', 'mode=700']), ['mode=700']);
  assert.throws(() => mergeTmpfsOptions(['foo=bar']), { message: 'Invalid tmpfs option ["foo" "bar"]' });
  assert.throws(() => mergeTmpfsOptions(['foo']), { message: 'Invalid tmpfs option ["foo"]' });
});

test('--mount tmpfs options as mount data (moby ConvertTmpfsOptions)', () => {
  assert.equal(convertTmpfsOptions({ SizeBytes: 1000000, Mode: 0o1770 }, false), 'mode=1770,size=1000000');
  assert.equal(convertTmpfsOptions({ SizeBytes: 64 * 2 ** 20 }, true), 'ro,size=64m');
  assert.equal(convertTmpfsOptions({ SizeBytes: 2 ** 30 }, false), 'size=1g');
  assert.equal(convertTmpfsOptions({ SizeBytes: 3072 }, false), 'size=3k');
  assert.equal(convertTmpfsOptions(undefined, false), '');
});
