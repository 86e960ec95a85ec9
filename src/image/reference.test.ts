import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseReference, formatReference, familiarTagged, withDefaultTag } from './reference';

test('short names normalise to docker.io/library with latest', () => {
  const r = withDefaultTag(parseReference('busybox'));
  assert.equal(formatReference(r), 'docker.io/library/busybox:latest');
  assert.equal(formatReference(r, { familiar: true }), 'busybox:latest');
});

test('registries with ports, localhost, nested paths, digests', () => {
  assert.deepEqual(parseReference('localhost:5000/a/b:v1'), { domain: 'localhost:5000', path: 'a/b', tag: 'v1', digest: undefined });
  assert.deepEqual(parseReference('user/app'), { domain: 'docker.io', path: 'user/app', tag: undefined, digest: undefined });
  const d = 'sha256:' + 'a'.repeat(64);
  assert.equal(parseReference(`busybox@${d}`).digest, d);
  assert.equal(familiarTagged('127.0.0.1:5000/x'), '127.0.0.1:5000/x:latest');
  assert.equal(familiarTagged('docker.io/library/alpine:3'), 'alpine:3');
});

test('invalid references are refused with docker wording', () => {
  assert.throws(() => parseReference('Busybox'), /must be lowercase/);
  assert.throws(() => parseReference('a:b:c'), /invalid reference format/);
  assert.throws(() => parseReference(''), /invalid reference format/);
  assert.throws(() => parseReference('a@sha256:zz'), /invalid reference format/);
});
