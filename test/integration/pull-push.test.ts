/**
 * Issue 3: pull and push through berthd against Debian's Distribution registry and hand-made
 * registries that misbehave on purpose.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import { TestDaemon, integrationSkipReason } from '../helpers/daemon';
import { DistributionRegistry, DOCKER_REGISTRY, FakeRegistry, layer, sha } from '../helpers/registry';

const skip = integrationSkipReason() ?? (fs.existsSync(DOCKER_REGISTRY) ? undefined : 'docker-registry is not installed');

describe('pull and push with docker-registry', { skip }, () => {
  const d = new TestDaemon('pullpush');
  const reg = new DistributionRegistry('pullpush');
  before(async () => {
    await Promise.all([d.start(), reg.start()]);
    d.importBusybox();
  });
  after(async () => {
    await reg.cleanup();
    assert.deepEqual(await d.cleanup(), []);
  });

  for (const cli of ['docker', 'berth'] as const) {
    test(`${cli}: push, remove, pull back, run: the image id is unchanged`, () => {
      const run = (args: string[]) => (cli === 'docker' ? d.docker(args) : d.berth(args));
      const name = `${reg.host}/test/${cli}:v1`;
      const id = run(['inspect', '-f', '{{.Id}}', 'busybox']).stdout.trim();
      assert.equal(run(['tag', 'busybox', name]).code, 0);
      const push = run(['push', name]);
      assert.equal(push.code, 0, push.stderr);
      assert.match(push.stdout, /v1: digest: sha256:[a-f0-9]{64} size: \d+/);
      const digest = /digest: (sha256:[a-f0-9]{64})/.exec(push.stdout)![1];
      const rmi = run(['rmi', '-f', id]);
      assert.equal(rmi.code, 0, rmi.stderr);
      assert.equal(run(['images', '-q']).stdout.trim(), '');
      const pull = run(['pull', name]);
      assert.equal(pull.code, 0, pull.stderr);
      assert.match(pull.stdout, new RegExp(`Digest: ${digest}`));
      assert.match(pull.stdout, /Status: Downloaded newer image/);
      assert.equal(run(['inspect', '-f', '{{.Id}}', name]).stdout.trim(), id);
      assert.equal(run(['inspect', '-f', '{{index .RepoDigests 0}}', name]).stdout.trim(), `${reg.host}/test/${cli}@${digest}`);
      assert.equal(run(['run', '--rm', name, 'echo', 'pulled']).stdout, 'pulled\n');
      // A pulled image keeps only its compressed layers; save decompresses them.
      const file = `${d.dir}/pulled.tar`;
      assert.equal(run(['save', '-o', file, name]).code, 0);
      assert.equal(run(['rmi', name]).code, 0);
      assert.equal(run(['load', '-i', file]).code, 0);
      assert.equal(run(['inspect', '-f', '{{.Id}}', name]).stdout.trim(), id);
      // A second pull transfers nothing.
      const again = run(['pull', name]);
      assert.match(again.stdout, /Status: Image is up to date/);
      // Pull by digest.
      assert.equal(run(['pull', `${reg.host}/test/${cli}@${digest}`]).code, 0);
      const missing = run(['pull', `${reg.host}/test/nosuch:v1`]);
      assert.notEqual(missing.code, 0);
      assert.match(missing.stderr, /not found|manifest unknown/);
      assert.equal(run(['tag', name, 'busybox']).code, 0);
    });
  }

  test('a multi-platform index pulls the host platform, --platform the other', async () => {
    const dir = d.dir;
    const repo = 'test/multi';
    const put = async (method: string, p: string, body?: Buffer, type?: string): Promise<http.IncomingMessage & { body: string }> =>
      new Promise((resolve, reject) => {
        const req = http.request({ host: '127.0.0.1', port: reg.port, method, path: p, headers: type ? { 'Content-Type': type } : {} }, (res) => {
          let b = '';
          res.on('data', (c) => (b += c));
          res.on('end', () => resolve(Object.assign(res, { body: b })));
        });
        req.on('error', reject);
        req.end(body);
      });
    const pushBlob = async (b: Buffer): Promise<string> => {
      const dg = sha(b);
      const start = await put('POST', `/v2/${repo}/blobs/uploads/`);
      assert.equal(start.statusCode, 202, start.body);
      const loc = new URL(String(start.headers.location), `http://127.0.0.1:${reg.port}`);
      loc.searchParams.set('digest', dg);
      const r = await put('PUT', loc.pathname + loc.search, b, 'application/octet-stream');
      assert.equal(r.statusCode, 201, r.body);
      return dg;
    };
    const manifests: { digest: string; size: number; arch: string }[] = [];
    for (const arch of ['amd64', 'arm64']) {
      const l = layer(dir, `arch-${arch}`, `I am ${arch}\n`);
      const cfg = Buffer.from(JSON.stringify({ architecture: arch, os: 'linux', config: { Cmd: ['sh'] }, rootfs: { type: 'layers', diff_ids: [l.diffId] } }));
      await pushBlob(l.gz);
      await pushBlob(cfg);
      const m = Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha(cfg), size: cfg.length },
          layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: sha(l.gz), size: l.gz.length }],
        }),
      );
      const r = await put('PUT', `/v2/${repo}/manifests/${sha(m)}`, m, 'application/vnd.oci.image.manifest.v1+json');
      assert.equal(r.statusCode, 201, r.body);
      manifests.push({ digest: sha(m), size: m.length, arch });
    }
    const index = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.index.v1+json',
        manifests: manifests.map((m) => ({ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: m.digest, size: m.size, platform: { os: 'linux', architecture: m.arch } })),
      }),
    );
    const r = await put('PUT', `/v2/${repo}/manifests/latest`, index, 'application/vnd.oci.image.index.v1+json');
    assert.equal(r.statusCode, 201, r.body);
    const name = `${reg.host}/${repo}`;
    const p1 = d.docker(['pull', name]);
    assert.equal(p1.code, 0, p1.stderr);
    assert.match(p1.stdout, new RegExp(`Digest: ${sha(index)}`));
    assert.equal(d.docker(['inspect', '-f', '{{.Architecture}}', name]).stdout.trim(), 'amd64');
    const p2 = d.docker(['pull', '--platform', 'linux/arm64', name]);
    assert.equal(p2.code, 0, p2.stderr);
    assert.equal(d.docker(['inspect', '-f', '{{.Architecture}}', name]).stdout.trim(), 'arm64');
    const p3 = d.docker(['pull', '--platform', 'linux/s390x', name]);
    assert.notEqual(p3.code, 0);
    assert.match(p3.stderr, /no matching manifest for linux\/s390x/);
  });
});

describe('pulls from registries that misbehave', { skip: integrationSkipReason() }, () => {
  const d = new TestDaemon('badreg');
  before(async () => {
    await d.start();
  });
  after(async () => {
    assert.deepEqual(await d.cleanup(), []);
  });

  test('a blob with wrong content fails the pull with a digest error and stores nothing', async () => {
    const fake = new FakeRegistry(d.dir, 2);
    await fake.listen();
    try {
      fake.corrupt.add(fake.layerDigests()[1]);
      const r = await d.dockerAsync(['pull', `127.0.0.1:${fake.port}/bad/content:v1`]);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr + r.stdout, /digest/i);
      assert.equal(d.docker(['images', '-q']).stdout.trim(), '');
      const blobs = fs.readdirSync(`${d.dataRoot}/blobs/sha256`);
      assert.ok(!blobs.includes(fake.layerDigests()[1].slice(7)), 'the corrupt blob is not stored');
    } finally {
      await fake.close();
    }
  });

  test('a registry that dies mid-pull: the next pull does not fetch finished layers again', async () => {
    const fake = new FakeRegistry(d.dir, 3);
    await fake.listen();
    const [l0, l1, l2] = fake.layerDigests();
    fake.dropAfter.set(l2, 50_000);
    const name = `127.0.0.1:${fake.port}/flaky/img:v1`;
    const r1 = await d.dockerAsync(['pull', name]);
    assert.notEqual(r1.code, 0, 'the first pull fails');
    await fake.close();
    // "restarted": a new server on the same port, healthy this time
    const again = new FakeRegistry(d.dir, 0);
    again.blobs = fake.blobs;
    again.manifest = fake.manifest;
    again.port = fake.port;
    await again.listen();
    try {
      const r2 = await d.dockerAsync(['pull', name]);
      assert.equal(r2.code, 0, r2.stderr);
      const fetched = again.requests.filter((q) => q.startsWith('GET') && q.includes('/blobs/'));
      assert.ok(!fetched.some((q) => q.includes(l0) || q.includes(l1)), `finished layers fetched again: ${fetched.join(', ')}`);
      assert.ok(fetched.some((q) => q.includes(l2)));
      assert.equal(d.docker(['run', '--rm', name, 'true']).code, 127, 'no shell in this image: the image itself is complete');
    } finally {
      await again.close();
    }
  });
});
