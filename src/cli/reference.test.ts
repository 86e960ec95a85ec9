import { test } from 'node:test';
import assert from 'node:assert/strict';
import { familiarName, familiarString, fullName, parseNormalizedNamed, referenceString, tagNameOnly } from './reference';

test('normalizes docker hub names', () => {
  const r = parseNormalizedNamed('busybox');
  assert.deepEqual(r, { domain: 'docker.io', path: 'library/busybox', tag: undefined, digest: undefined });
  assert.equal(referenceString(tagNameOnly(r)), 'docker.io/library/busybox:latest');
  assert.equal(familiarString(tagNameOnly(r)), 'busybox:latest');
  assert.equal(fullName(parseNormalizedNamed('user/app:1')), 'docker.io/user/app');
  assert.equal(familiarName(parseNormalizedNamed('index.docker.io/library/alpine')), 'alpine');
});

test('registries, ports, digests', () => {
  const r = parseNormalizedNamed('localhost:5000/x/y:2');
  assert.equal(r.domain, 'localhost:5000');
  assert.equal(r.path, 'x/y');
  assert.equal(r.tag, '2');
  assert.equal(familiarName(r), 'localhost:5000/x/y');
  const d = parseNormalizedNamed('alpine@sha256:' + '0'.repeat(64));
  assert.equal(d.digest, 'sha256:' + '0'.repeat(64));
  assert.equal(tagNameOnly(d).tag, undefined);
  assert.equal(parseNormalizedNamed('localhost/app').domain, 'localhost');
});

test('rejects what docker rejects, with its messages', () => {
  assert.throws(() => parseNormalizedNamed('Foo'), /invalid reference format: repository name \(library\/Foo\) must be lowercase/);
  assert.throws(() => parseNormalizedNamed('a'.repeat(64).replace(/a/g, 'f')), /cannot specify 64-byte hexadecimal strings/);
  assert.throws(() => parseNormalizedNamed('bad name'), /invalid reference format/);
  assert.throws(() => parseNormalizedNamed('x:'), /invalid reference format/);
});
