/**
 * Issue 3: the registry client against Debian's Distribution registry (`docker-registry`), started
 * here with its own config on 127.0.0.1 (the package's default config listens on every interface).
 * Paths only a hand-made server can show (bearer tokens, wrong bytes, dropped connections, 503s)
 * are in registry-client-fakes.test.ts.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import diagnostics from 'node:diagnostics_channel';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { RegistryClient, MediaTypes, parsePlatform, type ClientOptions, type Descriptor } from '../../src/registry/client';
import { parseReference, type Reference } from '../../src/image/reference';

const REGISTRY_BIN = '/usr/bin/docker-registry';
const skip = fs.existsSync(REGISTRY_BIN) ? undefined : `${REGISTRY_BIN} is not installed (apt-get install docker-registry)`;

// htpasswd -nbB berth-user s3cret-pass (a fixed hash, so the test needs no htpasswd binary).
const USER = 'berth-user';
const PASS = 's3cret-pass';
const HTPASSWD = `${USER}:$2y$05$UZ610SAjzN9Emh1PQK6uzugTUG5hx7v6q.ClpNNFOdoqE3uwa28pq\n`;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** One docker-registry process with its own config, storage and port, all under a temp dir. */
class Distribution {
  readonly dir: string;
  port = 0;
  proc?: ChildProcess;
  log = '';

  constructor(
    readonly name: string,
    readonly withAuth = false,
  ) {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), `berth-${name}-`));
  }

  get host(): string {
    return `127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.port = await freePort();
    const lines = [
      'version: 0.1',
      'log:',
      '  level: warn',
      '  accesslog:',
      '    disabled: true',
      'storage:',
      '  filesystem:',
      `    rootdirectory: ${path.join(this.dir, 'data')}`,
      '  delete:',
      '    enabled: true',
      '  maintenance:',
      '    uploadpurging:',
      '      enabled: false',
      'http:',
      `  addr: 127.0.0.1:${this.port}`,
      `  secret: ${crypto.randomBytes(16).toString('hex')}`,
    ];
    if (this.withAuth) {
      fs.writeFileSync(path.join(this.dir, 'htpasswd'), HTPASSWD);
      lines.push('auth:', '  htpasswd:', '    realm: test', `    path: ${path.join(this.dir, 'htpasswd')}`);
    }
    const cfg = path.join(this.dir, 'config.yml');
    fs.writeFileSync(cfg, lines.join('\n') + '\n');
    this.proc = spawn(REGISTRY_BIN, ['serve', cfg], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc.stdout?.on('data', (d: Buffer) => (this.log += d.toString()));
    this.proc.stderr?.on('data', (d: Buffer) => (this.log += d.toString()));
    const deadline = Date.now() + 15_000;
    for (;;) {
      if (this.proc.exitCode !== null) throw new Error(`docker-registry exited: ${this.log}`);
      const up = await new Promise<boolean>((resolve) => {
        const req = http.get({ host: '127.0.0.1', port: this.port, path: '/v2/' }, (res) => {
          res.resume();
          resolve(true);
        });
        req.on('error', () => resolve(false));
      });
      if (up) return;
      if (Date.now() > deadline) throw new Error(`docker-registry did not start: ${this.log}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async stop(): Promise<void> {
    const p = this.proc;
    if (p && p.exitCode === null && p.signalCode === null) {
      const exited = new Promise((r) => p.once('exit', r));
      p.kill('SIGTERM');
      const t = setTimeout(() => p.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    }
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

const LAYER = 'application/vnd.docker.image.rootfs.diff.tar.gzip';

function descOf(data: Buffer, mediaType = LAYER): Descriptor {
  return { mediaType, digest: 'sha256:' + crypto.createHash('sha256').update(data).digest('hex'), size: data.length };
}
const sha256 = (b: Buffer): string => 'sha256:' + crypto.createHash('sha256').update(b).digest('hex');
const open = (b: Buffer) => (): NodeJS.ReadableStream => Readable.from([b]);

/** Pushes a tiny image (config + layers) and its manifest; returns the manifest's descriptor. */
async function pushImage(c: RegistryClient, ref: Reference, arch: string, opts: { variant?: string; oci?: boolean; layers?: Buffer[] } = {}): Promise<{ desc: Descriptor; config: Buffer; bytes: Buffer }> {
  const layers = opts.layers ?? [crypto.randomBytes(1000)];
  const config = Buffer.from(JSON.stringify({ architecture: arch, os: 'linux', ...(opts.variant ? { variant: opts.variant } : {}), rootfs: { type: 'layers', diff_ids: layers.map(sha256) }, config: {} }));
  const configType = opts.oci ? 'application/vnd.oci.image.config.v1+json' : 'application/vnd.docker.container.image.v1+json';
  const layerType = opts.oci ? 'application/vnd.oci.image.layer.v1.tar+gzip' : LAYER;
  await c.pushBlob(ref, descOf(config, configType), open(config));
  for (const l of layers) await c.pushBlob(ref, descOf(l, layerType), open(l));
  const mediaType = opts.oci ? MediaTypes.ociManifest : MediaTypes.dockerManifest;
  const manifest = { schemaVersion: 2, mediaType, config: descOf(config, configType), layers: layers.map((l) => descOf(l, layerType)) };
  const bytes = Buffer.from(JSON.stringify(manifest));
  const digest = await c.putManifest(ref, bytes, mediaType);
  return { desc: { mediaType, digest, size: bytes.length }, config, bytes };
}

describe('registry client against docker-registry', { skip }, () => {
  const reg = new Distribution('registry-client');
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-registry-client-'));
  let c: RegistryClient;
  const ref = (s: string): Reference => parseReference(`${reg.host}/${s}`);

  before(async () => {
    await reg.start();
    c = new RegistryClient({});
  });
  after(async () => {
    c?.close();
    await reg.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  test('push a small blob monolithically; HEAD finds it; a second push says exists', async () => {
    const r = ref('push-small');
    const data = crypto.randomBytes(5000);
    const desc = descOf(data);
    const methods: string[] = [];
    const sub = (m: unknown): void => void methods.push((m as { method: string }).method);
    diagnostics.subscribe('berth:registry:request', sub);
    try {
      assert.equal(await c.blobExists(r, desc.digest), false);
      assert.equal(await c.pushBlob(r, desc, open(data)), 'uploaded');
    } finally {
      diagnostics.unsubscribe('berth:registry:request', sub);
    }
    assert.ok(!methods.includes('PATCH'), `monolithic upload used ${methods.join(' ')}`);
    assert.ok(methods.includes('PUT'));
    assert.equal(await c.blobExists(r, desc.digest), true);
    assert.equal(await c.pushBlob(r, desc, open(data)), 'exists');
  });

  test('push a ~20 MB blob in 8 MiB PATCH chunks and fetch it back verified', async () => {
    const r = ref('push-chunked');
    const data = crypto.randomBytes(20 * 1024 * 1024 + 123);
    const desc = descOf(data);
    const methods: string[] = [];
    const sub = (m: unknown): void => void methods.push((m as { method: string }).method);
    let last = 0;
    diagnostics.subscribe('berth:registry:request', sub);
    try {
      // A stream of many small pieces, as a file read would give.
      const pieces = (): NodeJS.ReadableStream => Readable.from((function* () {
        for (let i = 0; i < data.length; i += 65536) yield data.subarray(i, i + 65536);
      })());
      assert.equal(await c.pushBlob(r, desc, pieces, { onProgress: (cur) => (last = cur) }), 'uploaded');
    } finally {
      diagnostics.unsubscribe('berth:registry:request', sub);
    }
    assert.equal(methods.filter((m) => m === 'PATCH').length, 3);
    assert.equal(last, data.length);
    const dest = path.join(tmp, 'chunked');
    let progress = 0;
    await c.fetchBlob(r, desc, dest, (cur, total) => {
      assert.equal(total, data.length);
      progress = cur;
    });
    assert.equal(progress, data.length);
    assert.ok(fs.readFileSync(dest).equals(data));
    assert.ok(!fs.existsSync(`${dest}.partial`));
  });

  test('push a large blob as one streamed PATCH', async () => {
    const r = ref('push-streamed');
    const data = crypto.randomBytes(3 * 1024 * 1024 + 7);
    const desc = descOf(data);
    assert.equal(await c.pushBlob(r, desc, open(data), { streamed: true, chunkSize: 1024 * 1024 }), 'uploaded');
    const dest = path.join(tmp, 'streamed');
    await c.fetchBlob(r, desc, dest);
    assert.ok(fs.readFileSync(dest).equals(data));
  });

  test('content that does not match its descriptor is refused before the upload completes', async () => {
    const r = ref('push-mismatch');
    const data = crypto.randomBytes(2000);
    const desc = { ...descOf(data), digest: sha256(Buffer.from('something else')) };
    await assert.rejects(c.pushBlob(r, desc, open(data)), { kind: 'invalid-argument', message: /digest mismatch/ } as object);
    assert.equal(await c.blobExists(r, desc.digest), false);
  });

  test('cross-repository mount', async () => {
    const data = crypto.randomBytes(4000);
    const desc = descOf(data);
    assert.equal(await c.pushBlob(ref('mount-src'), desc, open(data)), 'uploaded');
    assert.equal(await c.blobExists(ref('mount-dst'), desc.digest), false);
    assert.equal(await c.pushBlob(ref('mount-dst'), desc, () => assert.fail('a mount reads no content'), { mountFrom: 'mount-src' }), 'mounted');
    assert.equal(await c.blobExists(ref('mount-dst'), desc.digest), true);
  });

  test('put manifests (Docker and OCI) and resolve them by tag and by digest', async () => {
    const r = ref('resolve:v1');
    const img = await pushImage(c, r, 'amd64');
    assert.equal(img.desc.digest, sha256(img.bytes));
    const byTag = await c.resolve(r);
    assert.equal(byTag.manifestDigest, img.desc.digest);
    assert.equal(byTag.mediaType, MediaTypes.dockerManifest);
    assert.ok(byTag.manifestBytes.equals(img.bytes));
    assert.ok(byTag.config.equals(img.config));
    assert.equal(byTag.indexDigest, undefined);
    assert.equal(byTag.manifest.layers.length, 1);
    const byDigest = await c.resolve(parseReference(`${reg.host}/resolve@${img.desc.digest}`));
    assert.equal(byDigest.manifestDigest, img.desc.digest);

    const oci = await pushImage(c, ref('resolve:oci'), 'amd64', { oci: true });
    const r2 = await c.resolve(ref('resolve:oci'));
    assert.equal(r2.mediaType, MediaTypes.ociManifest);
    assert.equal(r2.manifestDigest, oci.desc.digest);
  });

  test('unknown tags and digests are not-found in docker wording', async () => {
    await pushImage(c, ref('missing:v1'), 'amd64');
    await assert.rejects(c.resolve(ref('missing:nope')), {
      kind: 'not-found',
      message: `manifest for ${reg.host}/missing:nope not found: manifest unknown: manifest unknown`,
    } as object);
    const d = sha256(Buffer.from('no such manifest'));
    await assert.rejects(c.resolve(parseReference(`${reg.host}/missing@${d}`)), { kind: 'not-found', message: new RegExp(`manifest for ${reg.host}/missing@${d} not found`) } as object);
  });

  test('an index with linux/amd64 and linux/arm64: the host platform by default, arm64 on request, a clear error otherwise', async () => {
    const amd = await pushImage(c, ref('multi:amd64'), 'amd64');
    const arm = await pushImage(c, ref('multi:arm64'), 'arm64', { variant: 'v8' });
    const index = {
      schemaVersion: 2,
      mediaType: MediaTypes.ociIndex,
      manifests: [
        { ...amd.desc, platform: { os: 'linux', architecture: 'amd64' } },
        { ...arm.desc, platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } },
      ],
    };
    const bytes = Buffer.from(JSON.stringify(index));
    const indexDigest = await c.putManifest(ref('multi:latest'), bytes, MediaTypes.ociIndex);
    assert.equal(indexDigest, sha256(bytes));

    const host = await c.resolve(ref('multi'));
    assert.equal(host.manifestDigest, amd.desc.digest);
    assert.equal(host.indexDigest, indexDigest);
    assert.equal(JSON.parse(host.config.toString()).architecture, 'amd64');

    const other = await c.resolve(ref('multi:latest'), { os: 'linux', architecture: 'arm64' });
    assert.equal(other.manifestDigest, arm.desc.digest);
    assert.equal(JSON.parse(other.config.toString()).architecture, 'arm64');
    assert.equal((await c.resolve(ref('multi'), parsePlatform('linux/arm64/v8'))).manifestDigest, arm.desc.digest);
    assert.equal((await c.resolve(parseReference(`${reg.host}/multi@${indexDigest}`), parsePlatform('linux/arm64'))).indexDigest, indexDigest);

    await assert.rejects(c.resolve(ref('multi'), { os: 'linux', architecture: 's390x' }), {
      kind: 'not-found',
      message: 'no matching manifest for linux/s390x in the manifest list entries (available: linux/amd64, linux/arm64/v8)',
    } as object);
  });

  test('tags list', async () => {
    const img = await pushImage(c, ref('tags:b'), 'amd64');
    for (const t of ['a', 'c']) await c.putManifest(ref(`tags:${t}`), img.bytes, MediaTypes.dockerManifest);
    assert.deepEqual((await c.listTags(ref('tags'))).sort(), ['a', 'b', 'c']);
    await assert.rejects(c.listTags(ref('never-pushed')), { kind: 'not-found' } as object);
  });
});

describe('registry client against docker-registry with htpasswd (Basic auth)', { skip }, () => {
  const reg = new Distribution('registry-client-auth', true);
  const clients: RegistryClient[] = [];
  const client = (opts: ClientOptions): RegistryClient => {
    const c = new RegistryClient(opts);
    clients.push(c);
    return c;
  };
  const creds = (password: string): ClientOptions => ({ credentials: (h) => (h === reg.host ? { username: USER, password } : undefined) });

  before(async () => {
    await reg.start();
  });
  after(async () => {
    for (const c of clients) c.close();
    await reg.stop();
  });

  test('right password: push and pull', async () => {
    const c = client(creds(PASS));
    const r = parseReference(`${reg.host}/auth/app:v1`);
    const img = await pushImage(c, r, 'amd64');
    const got = await c.resolve(r);
    assert.equal(got.manifestDigest, img.desc.digest);
    assert.deepEqual(await c.listTags(r), ['v1']);
  });

  test('no credentials or a wrong password: unauthorized with the registry message', async () => {
    const r = parseReference(`${reg.host}/auth/app:v1`);
    await assert.rejects(client({}).resolve(r), { kind: 'unauthorized', message: 'unauthorized: authentication required' } as object);
    const wrong = client(creds('wrong'));
    await assert.rejects(wrong.resolve(r), { kind: 'unauthorized', message: 'unauthorized: authentication required' } as object);
    const data = Buffer.from('x');
    await assert.rejects(wrong.pushBlob(r, descOf(data), open(data)), { kind: 'unauthorized' } as object);
  });

  test('login: Login Succeeded, or unauthorized', async () => {
    const c = client({});
    assert.deepEqual(await c.login(reg.host, { username: USER, password: PASS }), { Status: 'Login Succeeded' });
    assert.deepEqual(await c.login(`http://${reg.host}/v2/`, { username: USER, password: PASS }), { Status: 'Login Succeeded' });
    await assert.rejects(c.login(reg.host, { username: USER, password: 'nope' }), { kind: 'unauthorized', message: 'unauthorized: authentication required' } as object);
  });
});
