/** Unit tests for the registry client's pure parts: challenges, platforms, hosts, chunking. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { parseWWWAuthenticate } from './auth';
import { InsecureHosts, isLoopbackHost, mayCarryCredentials, registryEndpoint, splitHostPort } from './hosts';
import { choosePlatform, parsePlatform } from './platform';
import { loginHost } from './index';
import { chunks } from './upload';
import { errorFromResponse } from './errors';
import { Transport } from './transport';
import { parseDigest } from './digest';
import type { Descriptor, Platform } from './types';

test('parseWWWAuthenticate: quoted values with commas, escapes, several challenges', () => {
  assert.deepEqual(parseWWWAuthenticate('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull,push"'), [
    { scheme: 'bearer', params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/busybox:pull,push' } },
  ]);
  assert.deepEqual(parseWWWAuthenticate('Basic realm="a \\"quoted\\", realm", charset="UTF-8", Bearer realm=http://x/token , service=svc'), [
    { scheme: 'basic', params: { realm: 'a "quoted", realm', charset: 'UTF-8' } },
    { scheme: 'bearer', params: { realm: 'http://x/token', service: 'svc' } },
  ]);
  assert.deepEqual(parseWWWAuthenticate(['Basic realm=test', 'Bearer realm="r"']).map((c) => c.scheme), ['basic', 'bearer']);
  assert.deepEqual(parseWWWAuthenticate(''), []);
});

const idx = (...ps: Platform[]): { manifests: Descriptor[] } => ({
  manifests: ps.map((platform, i) => ({ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: `sha256:${String(i).repeat(64)}`, size: 1, platform })),
});

test('choosePlatform: exact os/arch, arm64 v8 default, arm v7 and older variants', () => {
  const index = idx(
    { os: 'unknown', architecture: 'unknown' },
    { os: 'linux', architecture: 'amd64' },
    { os: 'linux', architecture: 'arm64', variant: 'v8' },
    { os: 'linux', architecture: 'arm', variant: 'v6' },
    { os: 'linux', architecture: 'arm', variant: 'v7' },
  );
  assert.equal(choosePlatform(index, { os: 'linux', architecture: 'amd64' }).platform?.architecture, 'amd64');
  assert.equal(choosePlatform(index, { os: 'linux', architecture: 'arm64' }).platform?.variant, 'v8');
  assert.equal(choosePlatform(index, parsePlatform('linux/aarch64')).platform?.variant, 'v8');
  assert.equal(choosePlatform(index, { os: 'linux', architecture: 'arm' }).platform?.variant, 'v7');
  assert.equal(choosePlatform(index, { os: 'linux', architecture: 'arm', variant: 'v6' }).platform?.variant, 'v6');
  assert.equal(choosePlatform(idx({ os: 'linux', architecture: 'arm', variant: 'v5' }), { os: 'linux', architecture: 'arm', variant: 'v7' }).platform?.variant, 'v5');
  assert.equal(choosePlatform(idx({ os: 'linux', architecture: 'arm64' }), { os: 'linux', architecture: 'arm64', variant: 'v8' }).platform?.architecture, 'arm64');
  assert.throws(
    () => choosePlatform(index, { os: 'linux', architecture: 's390x' }),
    (e: Error & { kind?: string }) =>
      e.kind === 'not-found' && e.message === 'no matching manifest for linux/s390x in the manifest list entries (available: linux/amd64, linux/arm64/v8, linux/arm/v6, linux/arm/v7)',
  );
  assert.throws(() => choosePlatform(idx({ os: 'windows', architecture: 'amd64' }), { os: 'linux', architecture: 'amd64' }), /no matching manifest for linux\/amd64 in the manifest list entries/);
});

test('parsePlatform', () => {
  assert.deepEqual(parsePlatform('linux/arm64/v8'), { os: 'linux', architecture: 'arm64', variant: 'v8' });
  assert.deepEqual(parsePlatform('linux/amd64'), { os: 'linux', architecture: 'amd64' });
  assert.deepEqual(parsePlatform('linux/x86_64'), { os: 'linux', architecture: 'amd64' });
  assert.deepEqual(parsePlatform('arm64'), { os: 'linux', architecture: 'arm64' });
  assert.deepEqual(parsePlatform('linux/armhf'), { os: 'linux', architecture: 'arm', variant: 'v7' });
  assert.throws(() => parsePlatform('linux/amd64/v2/extra'), { kind: 'invalid-argument' } as object);
  assert.throws(() => parsePlatform('linux/../etc'), { kind: 'invalid-argument' } as object);
});

test('hosts: Docker Hub endpoint, loopback, insecure registries, credentials only over TLS or loopback', async () => {
  assert.equal(registryEndpoint('docker.io'), 'registry-1.docker.io');
  assert.equal(registryEndpoint('127.0.0.1:5000'), '127.0.0.1:5000');
  assert.deepEqual(splitHostPort('[::1]:5000'), { host: '::1', port: '5000' });
  assert.deepEqual(splitHostPort('::1'), { host: '::1' });
  for (const h of ['127.0.0.1', '127.9.8.7', '::1', '[::1]', 'localhost', 'LOCALHOST']) assert.ok(isLoopbackHost(h), h);
  for (const h of ['10.0.0.1', '128.0.0.1', 'example.com', '::2']) assert.ok(!isLoopbackHost(h), h);
  const ins = new InsecureHosts(['myreg:5000', '10.1.0.0/16', 'fd00::/8']);
  assert.equal(await ins.isInsecure('127.0.0.1:5000'), true);
  assert.equal(await ins.isInsecure('localhost:5000'), true);
  assert.equal(await ins.isInsecure('[::1]:5000'), true);
  assert.equal(await ins.isInsecure('myreg:5000'), true);
  assert.equal(await ins.isInsecure('myreg:5001'), false);
  assert.equal(await ins.isInsecure('10.1.2.3:443'), true);
  assert.equal(await ins.isInsecure('10.2.0.1'), false);
  assert.equal(await ins.isInsecure('[fd00::5]:5000'), true);
  assert.equal(mayCarryCredentials(new URL('http://127.0.0.1:5000/v2/')), true);
  assert.equal(mayCarryCredentials(new URL('http://10.1.2.3:5000/v2/')), false);
  assert.equal(mayCarryCredentials(new URL('https://10.1.2.3:5000/v2/')), true);
});

test('loginHost: docker login server addresses', () => {
  assert.equal(loginHost('https://index.docker.io/v1/'), 'docker.io');
  assert.equal(loginHost(''), 'docker.io');
  assert.equal(loginHost('127.0.0.1:5000'), '127.0.0.1:5000');
  assert.equal(loginHost('http://Registry.Example:443/v2/'), 'registry.example:443');
});

test('chunks: exact sizes across stream boundaries', async () => {
  const src = Readable.from([Buffer.from('abc'), Buffer.from('defgh'), Buffer.from('i')]);
  const out: string[] = [];
  for await (const c of chunks(src, 4)) out.push(c.toString());
  assert.deepEqual(out, ['abcd', 'efgh', 'i']);
});

test('errors: docker wording for registry error bodies', () => {
  const body = Buffer.from(JSON.stringify({ errors: [{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown', detail: { Tag: 'x' } }] }));
  const e = errorFromResponse(404, body, 'manifest for r:x not found: ');
  assert.equal(e.kind, 'not-found');
  assert.equal(e.message, 'manifest for r:x not found: manifest unknown: manifest unknown');
  assert.equal(errorFromResponse(401, Buffer.alloc(0)).message, 'unauthorized: authentication required');
  assert.equal(errorFromResponse(401, Buffer.from('{"details":"incorrect username or password"}')).message, 'unauthorized: incorrect username or password');
  assert.equal(errorFromResponse(403, Buffer.alloc(0)).kind, 'unauthorized');
  assert.equal(errorFromResponse(502, Buffer.alloc(0)).message, 'received unexpected HTTP status: 502 Bad Gateway');
  assert.equal(errorFromResponse(502, Buffer.alloc(0)).kind, 'unavailable');
});

test('parseDigest: sha256 and sha512 only, exact lengths, no path tricks', () => {
  assert.equal(parseDigest(`sha256:${'a'.repeat(64)}`).algorithm, 'sha256');
  assert.equal(parseDigest(`sha512:${'b'.repeat(128)}`).algorithm, 'sha512');
  for (const d of [`sha256:${'a'.repeat(63)}`, `md5:${'a'.repeat(32)}`, `sha256:../${'a'.repeat(61)}`, `sha256:${'A'.repeat(64)}`]) {
    assert.throws(() => parseDigest(d), { kind: 'invalid-argument' } as object, d);
  }
});

test('endpoints: docker.io pulls try the mirrors first; pushes and other registries never use them', () => {
  const t = new Transport({ mirrors: ['https://mirror.example', 'http://127.0.0.1:5001/'] });
  try {
    assert.deepEqual(
      t.endpoints('docker.io', true).map((e) => `${e.scheme ?? 'probe'}//${e.authority}:${e.credHost}`),
      ['https://mirror.example:mirror.example', 'http://127.0.0.1:5001:127.0.0.1:5001', 'probe//registry-1.docker.io:docker.io'],
    );
    assert.deepEqual(t.endpoints('docker.io', false).map((e) => e.authority), ['registry-1.docker.io']);
    assert.deepEqual(t.endpoints('quay.io', true).map((e) => e.authority), ['quay.io']);
  } finally {
    t.close();
  }
  assert.throws(() => new Transport({ mirrors: ['ftp://x'] }), { kind: 'invalid-argument' } as object);
});
