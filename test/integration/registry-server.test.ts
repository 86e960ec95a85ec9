/**
 * Issue 3, "Server": `berth registry serve` driven with raw HTTP on 127.0.0.1 (push: monolithic,
 * chunked, streamed, mount; manifests, tags, catalog, Range, delete, referrers; every error the
 * spec names, checked to change nothing on disk), its htpasswd and token auth, gc, the CLI, and
 * skopeo (Debian) pushing into it and pulling back out. Needs no root; skopeo tests skip without
 * skopeo.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import zlib from 'node:zlib';
import bcrypt from 'bcryptjs';
import * as tar from 'tar-stream';
import { createRegistryServer, type RegistryServer, type RegistryServerOptions } from '../../src/registry/server/server';
import { registryCommand } from '../../src/registry/server/main';
import { gc } from '../../src/registry/server/storage';

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
const OCI_LAYER = 'application/vnd.oci.image.layer.v1.tar+gzip';
const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';

const sha256 = (b: Buffer | string): string => 'sha256:' + crypto.createHash('sha256').update(b).digest('hex');

interface Resp {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  json(): any;
  /** The first error code of a JSON error body. */
  code(): string | undefined;
}

interface ReqOpts {
  headers?: Record<string, string | number>;
  body?: Buffer | string;
  /** Sent with Transfer-Encoding: chunked, one write per piece. */
  chunks?: Buffer[];
}

/** A raw HTTP client: the path goes out exactly as given (no normalisation of `..` or `%2e`). */
class Client {
  constructor(
    readonly port: number,
    readonly auth?: string,
  ) {}

  withAuth(auth: string | undefined): Client {
    return new Client(this.port, auth);
  }

  request(method: string, p: string, o: ReqOpts = {}): Promise<Resp> {
    return new Promise((resolve, reject) => {
      const headers: Record<string, string | number> = { ...(o.headers ?? {}) };
      if (this.auth && headers.Authorization === undefined) headers.Authorization = this.auth;
      if (o.body !== undefined) headers['Content-Length'] = Buffer.byteLength(o.body);
      const req = http.request({ host: '127.0.0.1', port: this.port, method, path: p, headers, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const body = Buffer.concat(chunks);
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body,
            json: () => JSON.parse(body.toString('utf8')),
            code: () => {
              try {
                return (JSON.parse(body.toString('utf8')) as { errors?: { code: string }[] }).errors?.[0]?.code;
              } catch {
                return undefined;
              }
            },
          });
        });
        res.on('error', reject);
      });
      req.on('error', reject);
      if (o.chunks) {
        const pieces = [...o.chunks];
        const next = (): void => {
          const c = pieces.shift();
          if (c === undefined) req.end();
          else req.write(c, () => setTimeout(next, 2));
        };
        next();
      } else {
        req.end(o.body);
      }
    });
  }

  /** Monolithic push in one POST. */
  async pushBlob(name: string, data: Buffer | string): Promise<string> {
    const d = sha256(data);
    const r = await this.request('POST', `/v2/${name}/blobs/uploads/?digest=${d}`, { body: data, headers: { 'Content-Type': 'application/octet-stream' } });
    assert.equal(r.status, 201, r.body.toString());
    return d;
  }

  async putManifest(name: string, ref: string, manifest: unknown, mediaType = OCI_MANIFEST): Promise<Resp> {
    return this.request('PUT', `/v2/${name}/manifests/${ref}`, { body: JSON.stringify(manifest), headers: { 'Content-Type': mediaType } });
  }

  /** Pushes a config, a layer and an image manifest; returns the manifest's digest and parts. */
  async pushImage(name: string, tag: string, seed = tag, extra: Record<string, unknown> = {}): Promise<{ digest: string; config: string; layer: string; body: string }> {
    const layerData = Buffer.from(`layer of ${name}:${seed}`);
    const configData = JSON.stringify({ architecture: 'amd64', os: 'linux', seed });
    const layer = await this.pushBlob(name, layerData);
    const config = await this.pushBlob(name, configData);
    const manifest = {
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: OCI_CONFIG, digest: config, size: Buffer.byteLength(configData) },
      layers: [{ mediaType: OCI_LAYER, digest: layer, size: layerData.length }],
      ...extra,
    };
    const body = JSON.stringify(manifest);
    const r = await this.request('PUT', `/v2/${name}/manifests/${tag}`, { body, headers: { 'Content-Type': OCI_MANIFEST } });
    assert.equal(r.status, 201, r.body.toString());
    return { digest: sha256(body), config, layer, body };
  }
}

/** Every file under dir, relative, with its size: a snapshot to compare before and after. */
function tree(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    if (!fs.existsSync(d)) return;
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.push(`${path.relative(dir, p)} ${fs.statSync(p).size}`);
    }
  };
  walk(dir);
  return out.sort();
}

class TestRegistry {
  readonly dir: string;
  readonly root: string;
  reg!: RegistryServer;
  client!: Client;

  constructor(readonly testName: string) {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), `berth-${testName}-`));
    this.root = path.join(this.dir, 'root');
  }

  async start(opts: Partial<RegistryServerOptions> = {}): Promise<void> {
    this.reg = createRegistryServer({ root: this.root, ...opts });
    const { port } = await this.reg.listen('127.0.0.1:0');
    this.client = new Client(port);
  }

  async stop(): Promise<void> {
    await this.reg?.close();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

// ---- push and pull ----------------------------------------------------------------------------

describe('registry server: push and pull', () => {
  const t = new TestRegistry('registry-push-pull');
  let c: Client;
  before(async () => {
    await t.start();
    c = t.client;
  });
  after(() => t.stop());

  test('GET /v2/ answers 200 {} with the API version header', async () => {
    const r = await c.request('GET', '/v2/');
    assert.equal(r.status, 200);
    assert.deepEqual(r.json(), {});
    assert.equal(r.headers['docker-distribution-api-version'], 'registry/2.0');
  });

  test('monolithic push in a single POST, then HEAD and GET', async () => {
    const data = Buffer.from('monolithic blob');
    const d = sha256(data);
    const r = await c.request('POST', `/v2/mono/blobs/uploads/?digest=${d}`, { body: data });
    assert.equal(r.status, 201);
    assert.equal(r.headers.location, `/v2/mono/blobs/${d}`);
    assert.equal(r.headers['docker-content-digest'], d);
    const h = await c.request('HEAD', `/v2/mono/blobs/${d}`);
    assert.equal(h.status, 200);
    assert.equal(h.headers['content-length'], String(data.length));
    assert.equal(h.headers['docker-content-digest'], d);
    const g = await c.request('GET', `/v2/mono/blobs/${d}`);
    assert.equal(g.status, 200);
    assert.deepEqual(g.body, data);
    assert.ok(fs.existsSync(path.join(t.root, 'blobs', 'sha256', d.slice(7, 9), d.slice(7))));
  });

  test('monolithic push: POST then PUT with the whole body', async () => {
    const data = crypto.randomBytes(4096);
    const d = sha256(data);
    const p = await c.request('POST', '/v2/mono/blobs/uploads/');
    assert.equal(p.status, 202);
    assert.match(String(p.headers.location), /^\/v2\/mono\/blobs\/uploads\/[0-9a-f-]{36}$/);
    assert.equal(p.headers.range, '0-0');
    assert.ok(p.headers['docker-upload-uuid']);
    const r = await c.request('PUT', `${p.headers.location}?digest=${d}`, { body: data, headers: { 'Content-Type': 'application/octet-stream' } });
    assert.equal(r.status, 201, r.body.toString());
    assert.equal(r.headers.location, `/v2/mono/blobs/${d}`);
    assert.deepEqual((await c.request('GET', `/v2/mono/blobs/${d}`)).body, data);
    // A POST with ?digest= but no body opens a session like a plain POST.
    const empty = await c.request('POST', `/v2/mono/blobs/uploads/?digest=${sha256('later')}`);
    assert.equal(empty.status, 202);
    assert.equal((await c.request('PUT', `${empty.headers.location}?digest=${sha256('later')}`, { body: 'later' })).status, 201);
  });

  test('chunked push: several PATCHes with Content-Range, status in between, final chunk in the PUT', async () => {
    const data = crypto.randomBytes(10_000);
    const d = sha256(data);
    const p = await c.request('POST', '/v2/chunked/blobs/uploads/', { headers: { 'Content-Length': 0 } });
    assert.equal(p.status, 202);
    let loc = String(p.headers.location);
    const size = 3000;
    let offset = 0;
    for (; offset + size < data.length; offset += size) {
      const chunk = data.subarray(offset, offset + size);
      const r = await c.request('PATCH', loc, { body: chunk, headers: { 'Content-Range': `${offset}-${offset + chunk.length - 1}`, 'Content-Type': 'application/octet-stream' } });
      assert.equal(r.status, 202, r.body.toString());
      assert.equal(r.headers.range, `0-${offset + chunk.length - 1}`);
      loc = String(r.headers.location);
      const s = await c.request('GET', loc);
      assert.equal(s.status, 204);
      assert.equal(s.headers.range, `0-${offset + chunk.length - 1}`);
    }
    const last = data.subarray(offset);
    const r = await c.request('PUT', `${loc}?digest=${d}`, { body: last, headers: { 'Content-Range': `${offset}-${data.length - 1}` } });
    assert.equal(r.status, 201, r.body.toString());
    assert.deepEqual((await c.request('GET', `/v2/chunked/blobs/${d}`)).body, data);
    assert.equal((await c.request('GET', loc)).status, 404, 'the upload is gone once complete');
  });

  test('streamed push: one PATCH without Content-Length or Content-Range, PUT without a body', async () => {
    const pieces = Array.from({ length: 16 }, () => crypto.randomBytes(64 * 1024));
    const data = Buffer.concat(pieces);
    const d = sha256(data);
    const p = await c.request('POST', '/v2/streamed/blobs/uploads/');
    const r = await c.request('PATCH', String(p.headers.location), { chunks: pieces });
    assert.equal(r.status, 202, r.body.toString());
    assert.equal(r.headers.range, `0-${data.length - 1}`);
    const f = await c.request('PUT', `${r.headers.location}?digest=${d}`);
    assert.equal(f.status, 201, f.body.toString());
    const g = await c.request('GET', `/v2/streamed/blobs/${d}`);
    assert.equal(sha256(g.body), d);
  });

  test('cross-repository mount: 201 when the source has the blob, 202 upload otherwise', async () => {
    const d = await c.pushBlob('mount/src', 'mountable');
    assert.equal((await c.request('HEAD', `/v2/mount/dst/blobs/${d}`)).status, 404, 'not visible before the mount');
    const r = await c.request('POST', `/v2/mount/dst/blobs/uploads/?mount=${d}&from=mount/src`);
    assert.equal(r.status, 201);
    assert.equal(r.headers.location, `/v2/mount/dst/blobs/${d}`);
    assert.equal(r.headers['docker-content-digest'], d);
    assert.equal((await c.request('GET', `/v2/mount/dst/blobs/${d}`)).body.toString(), 'mountable');
    const missing = sha256('not pushed anywhere');
    const f = await c.request('POST', `/v2/mount/dst/blobs/uploads/?mount=${missing}&from=mount/src`);
    assert.equal(f.status, 202);
    assert.match(String(f.headers.location), /\/v2\/mount\/dst\/blobs\/uploads\//);
    const other = await c.request('POST', `/v2/mount/dst/blobs/uploads/?mount=${d}&from=mount/nosuch`);
    assert.equal(other.status, 202);
  });

  test('manifests by tag and by digest, with their headers', async () => {
    const img = await c.pushImage('test/img', 'v1');
    const g = await c.request('GET', '/v2/test/img/manifests/v1', { headers: { Accept: `${OCI_MANIFEST}, ${DOCKER_MANIFEST}` } });
    assert.equal(g.status, 200);
    assert.equal(g.headers['content-type'], OCI_MANIFEST);
    assert.equal(g.headers['docker-content-digest'], img.digest);
    assert.equal(g.body.toString(), img.body, 'stored byte for byte');
    const h = await c.request('HEAD', `/v2/test/img/manifests/${img.digest}`);
    assert.equal(h.status, 200);
    assert.equal(h.headers['content-length'], String(Buffer.byteLength(img.body)));
    assert.equal(h.headers['docker-content-digest'], img.digest);
    assert.equal(h.body.length, 0);
    // Push by digest, and a Docker schema 2 manifest keeps its own media type.
    const docker = JSON.stringify({
      schemaVersion: 2,
      mediaType: DOCKER_MANIFEST,
      config: { mediaType: 'application/vnd.docker.container.image.v1+json', digest: img.config, size: 1 },
      layers: [],
    });
    const dd = sha256(docker);
    const p = await c.request('PUT', `/v2/test/img/manifests/${dd}`, { body: docker, headers: { 'Content-Type': DOCKER_MANIFEST } });
    assert.equal(p.status, 201, p.body.toString());
    assert.equal(p.headers.location, `/v2/test/img/manifests/${dd}`);
    assert.equal(p.headers['docker-content-digest'], dd);
    const gd = await c.request('GET', `/v2/test/img/manifests/${dd}`);
    assert.equal(gd.headers['content-type'], DOCKER_MANIFEST);
    // An index of both.
    const index = {
      schemaVersion: 2,
      mediaType: OCI_INDEX,
      manifests: [
        { mediaType: OCI_MANIFEST, digest: img.digest, size: Buffer.byteLength(img.body), platform: { os: 'linux', architecture: 'amd64' } },
        { mediaType: DOCKER_MANIFEST, digest: dd, size: Buffer.byteLength(docker), platform: { os: 'linux', architecture: 'arm64' } },
      ],
    };
    const pi = await c.putManifest('test/img', 'multi', index, OCI_INDEX);
    assert.equal(pi.status, 201, pi.body.toString());
    const gi = await c.request('GET', '/v2/test/img/manifests/multi', { headers: { Accept: `${OCI_INDEX}, ${OCI_MANIFEST}` } });
    assert.equal(gi.headers['content-type'], OCI_INDEX);
    // A client that accepts no index gets the linux/amd64 image, as from the Distribution registry.
    const old = await c.request('GET', '/v2/test/img/manifests/multi', { headers: { Accept: OCI_MANIFEST } });
    assert.equal(old.headers['docker-content-digest'], img.digest);
  });

  test('a manifest pushed by digest with ?tag= gets those tags and OCI-Tag', async () => {
    const img = await c.pushImage('tagq', 'base');
    const r = await c.request('PUT', `/v2/tagq/manifests/${img.digest}?tag=one&tag=two`, { body: img.body, headers: { 'Content-Type': OCI_MANIFEST } });
    assert.equal(r.status, 201);
    assert.equal(r.headers['oci-tag'], 'one, two');
    assert.deepEqual((await c.request('GET', '/v2/tagq/tags/list')).json().tags, ['base', 'one', 'two']);
  });

  test('tags list in ASCII order with n/last pagination and a Link header', async () => {
    const img = await c.pushImage('paged', 'T0');
    const tags = ['T0', 'a1', 'a2', 'b1', 'latest', 'v1.0', 'v1.1', 'z_'];
    for (const tag of tags.slice(1)) assert.equal((await c.request('PUT', `/v2/paged/manifests/${tag}`, { body: img.body, headers: { 'Content-Type': OCI_MANIFEST } })).status, 201);
    const all = await c.request('GET', '/v2/paged/tags/list');
    assert.deepEqual(all.json(), { name: 'paged', tags });
    assert.equal(all.headers.link, undefined);
    const seen: string[] = [];
    let next: string | undefined = '/v2/paged/tags/list?n=3';
    let pages = 0;
    while (next) {
      const r = await c.request('GET', next);
      assert.equal(r.status, 200);
      const page = r.json().tags as string[];
      assert.ok(page.length <= 3);
      seen.push(...page);
      pages++;
      const link = r.headers.link as string | undefined;
      next = link ? /^<([^>]+)>; rel="next"$/.exec(link)?.[1] : undefined;
      if (link) assert.ok(next, link);
    }
    assert.deepEqual(seen, tags);
    assert.equal(pages, 3);
    const afterA2 = await c.request('GET', '/v2/paged/tags/list?n=2&last=a2');
    assert.deepEqual(afterA2.json().tags, ['b1', 'latest']);
    const zero = await c.request('GET', '/v2/paged/tags/list?n=0');
    assert.deepEqual(zero.json().tags, []);
    assert.equal(zero.headers.link, undefined);
    const lastOnly = await c.request('GET', '/v2/paged/tags/list?last=v1.0');
    assert.deepEqual(lastOnly.json().tags, ['v1.1', 'z_']);
  });

  test('catalog lists repositories with n/last pagination', async () => {
    const r = await c.request('GET', '/v2/_catalog');
    assert.equal(r.status, 200);
    const repos = r.json().repositories as string[];
    for (const name of ['paged', 'tagq', 'test/img']) assert.ok(repos.includes(name), `${name} in ${repos.join(',')}`);
    assert.deepEqual([...repos].sort(), repos);
    const p1 = await c.request('GET', '/v2/_catalog?n=1');
    assert.equal(p1.json().repositories.length, 1);
    assert.equal(p1.headers.link, `</v2/_catalog?last=${encodeURIComponent(repos[0])}&n=1>; rel="next"`);
    const p2 = await c.request('GET', `/v2/_catalog?n=100&last=${repos[0]}`);
    assert.deepEqual(p2.json().repositories, repos.slice(1));
    assert.equal(p2.headers.link, undefined);
  });

  test('Range GET of a blob: 206 with Content-Range, 416 when unsatisfiable', async () => {
    const data = Buffer.from('0123456789abcdef');
    const d = await c.pushBlob('ranges', data);
    const cases: [string, number, string | undefined, string | undefined][] = [
      ['bytes=2-5', 206, 'bytes 2-5/16', '2345'],
      ['bytes=10-', 206, 'bytes 10-15/16', 'abcdef'],
      ['bytes=-3', 206, 'bytes 13-15/16', 'def'],
      ['bytes=14-100', 206, 'bytes 14-15/16', 'ef'],
      ['bytes=16-20', 416, 'bytes */16', undefined],
      ['bytes=5-2', 416, 'bytes */16', undefined],
      ['lines=1-2', 200, undefined, data.toString()],
    ];
    for (const [range, status, contentRange, body] of cases) {
      const r = await c.request('GET', `/v2/ranges/blobs/${d}`, { headers: { Range: range } });
      assert.equal(r.status, status, range);
      assert.equal(r.headers['content-range'], contentRange, range);
      if (body !== undefined) assert.equal(r.body.toString(), body, range);
    }
  });

  test('delete: tags, manifests by digest, blobs', async () => {
    const img = await c.pushImage('deletes', 'keep');
    await c.request('PUT', '/v2/deletes/manifests/gone', { body: img.body, headers: { 'Content-Type': OCI_MANIFEST } });
    assert.equal((await c.request('DELETE', '/v2/deletes/manifests/gone')).status, 202);
    assert.equal((await c.request('GET', '/v2/deletes/manifests/gone')).code(), 'MANIFEST_UNKNOWN');
    assert.equal((await c.request('GET', '/v2/deletes/manifests/keep')).status, 200, 'the other tag stays');
    const del = await c.request('DELETE', `/v2/deletes/manifests/${img.digest}`);
    assert.equal(del.status, 202);
    const g = await c.request('GET', `/v2/deletes/manifests/${img.digest}`);
    assert.equal(g.status, 404);
    assert.equal(g.code(), 'MANIFEST_UNKNOWN');
    assert.equal((await c.request('GET', '/v2/deletes/manifests/keep')).status, 404, 'tags of a deleted manifest go with it');
    assert.deepEqual((await c.request('GET', '/v2/deletes/tags/list')).json().tags, []);
    assert.equal((await c.request('DELETE', `/v2/deletes/manifests/${img.digest}`)).code(), 'MANIFEST_UNKNOWN');
    assert.equal((await c.request('DELETE', `/v2/deletes/blobs/${img.layer}`)).status, 202);
    const h = await c.request('HEAD', `/v2/deletes/blobs/${img.layer}`);
    assert.equal(h.status, 404);
    const d2 = await c.request('DELETE', `/v2/deletes/blobs/${img.layer}`);
    assert.equal(d2.status, 404);
    assert.equal(d2.code(), 'BLOB_UNKNOWN');
  });

  test('sha512 blobs: pushed, verified and served under their own digest', async () => {
    const data = Buffer.from('a sha512 blob');
    const d = 'sha512:' + crypto.createHash('sha512').update(data).digest('hex');
    const r = await c.request('POST', `/v2/algos/blobs/uploads/?digest=${d}`, { body: data });
    assert.equal(r.status, 201, r.body.toString());
    const g = await c.request('GET', `/v2/algos/blobs/${d}`);
    assert.deepEqual(g.body, data);
    assert.equal(g.headers['docker-content-digest'], d);
    const bad = await c.request('POST', `/v2/algos/blobs/uploads/?digest=sha512:${'0'.repeat(128)}`, { body: data });
    assert.equal(bad.code(), 'DIGEST_INVALID');
  });

  test('a client that dies mid-upload leaves no blob, and the upload resumes where it stopped', async () => {
    const data = crypto.randomBytes(512 * 1024);
    const d = sha256(data);
    const loc = String((await c.request('POST', '/v2/resume/blobs/uploads/')).headers.location);
    const req = http.request({ host: '127.0.0.1', port: c.port, method: 'PATCH', path: loc, agent: false });
    req.on('error', () => undefined);
    await new Promise<void>((resolve) => req.write(data.subarray(0, 200 * 1024), () => resolve()));
    let size = -1;
    for (let i = 0; i < 100 && size < 200 * 1024; i++) {
      await new Promise((r) => setTimeout(r, 20));
      size = Number(/^0-(\d+)$/.exec(String((await c.request('GET', loc)).headers.range))?.[1] ?? -1) + 1;
    }
    req.destroy();
    await new Promise((r) => setTimeout(r, 100));
    assert.equal((await c.request('HEAD', `/v2/resume/blobs/${d}`)).status, 404);
    assert.ok(!fs.existsSync(path.join(t.root, 'blobs', 'sha256', d.slice(7, 9), d.slice(7))), 'no blob from a broken upload');
    const st = await c.request('GET', loc);
    assert.equal(st.status, 204);
    const have = Number(/^0-(\d+)$/.exec(String(st.headers.range))?.[1]) + 1;
    assert.equal(have, 200 * 1024, 'what arrived is kept');
    const rest = data.subarray(have);
    const p = await c.request('PATCH', loc, { body: rest, headers: { 'Content-Range': `${have}-${data.length - 1}` } });
    assert.equal(p.status, 202, p.body.toString());
    const f = await c.request('PUT', `${loc}?digest=${d}`);
    assert.equal(f.status, 201, f.body.toString());
    assert.equal(sha256((await c.request('GET', `/v2/resume/blobs/${d}`)).body), d);
  });

  test('stale uploads are purged', async () => {
    const loc = String((await c.request('POST', '/v2/stale/blobs/uploads/')).headers.location);
    const id = loc.split('/').pop() as string;
    assert.deepEqual(await t.reg.storage.purgeUploads(3600_000), [], 'a fresh upload stays');
    await new Promise((r) => setTimeout(r, 5));
    assert.ok((await t.reg.storage.purgeUploads(1)).includes(id));
    assert.equal((await c.request('GET', loc)).code(), 'BLOB_UPLOAD_UNKNOWN');
  });

  test('cancel an upload', async () => {
    const p = await c.request('POST', '/v2/cancel/blobs/uploads/');
    await c.request('PATCH', String(p.headers.location), { body: 'partial' });
    const d = await c.request('DELETE', String(p.headers.location));
    assert.equal(d.status, 204);
    const s = await c.request('GET', String(p.headers.location));
    assert.equal(s.status, 404);
    assert.equal(s.code(), 'BLOB_UPLOAD_UNKNOWN');
    assert.ok(!fs.existsSync(path.join(t.root, 'uploads', String(p.headers['docker-upload-uuid']))));
  });

  test('referrers: an index of the manifests whose subject is the digest, artifactType filter', async () => {
    const img = await c.pushImage('refs', 'v1');
    const subject = { mediaType: OCI_MANIFEST, digest: img.digest, size: Buffer.byteLength(img.body) };
    const empty = await c.pushBlob('refs', '{}');
    const artifact = (artifactType: string, note: string): Record<string, unknown> => ({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      artifactType,
      config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: empty, size: 2 },
      layers: [],
      subject,
      annotations: { 'org.example.note': note },
    });
    const sbom = artifact('application/vnd.example.sbom.v1', 'sbom');
    const sig = artifact('application/vnd.example.signature.v1', 'sig');
    // The subject need not exist yet for a referrer to be accepted: push one for a future manifest too.
    const future = sha256('a manifest pushed later');
    const early = { ...artifact('application/vnd.example.sbom.v1', 'early'), subject: { mediaType: OCI_MANIFEST, digest: future, size: 10 } };
    for (const m of [sbom, sig, early]) {
      const body = JSON.stringify(m);
      const r = await c.request('PUT', `/v2/refs/manifests/${sha256(body)}`, { body, headers: { 'Content-Type': OCI_MANIFEST } });
      assert.equal(r.status, 201, r.body.toString());
      assert.equal(r.headers['oci-subject'], (m.subject as { digest: string }).digest);
    }
    const r = await c.request('GET', `/v2/refs/referrers/${img.digest}`);
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-type'], OCI_INDEX);
    const idx = r.json();
    assert.equal(idx.schemaVersion, 2);
    assert.equal(idx.mediaType, OCI_INDEX);
    const byType = new Map((idx.manifests as { artifactType: string; digest: string; size: number; annotations: Record<string, string> }[]).map((d) => [d.artifactType, d]));
    assert.equal(byType.size, 2);
    assert.equal(byType.get('application/vnd.example.sbom.v1')?.digest, sha256(JSON.stringify(sbom)));
    assert.equal(byType.get('application/vnd.example.sbom.v1')?.size, Buffer.byteLength(JSON.stringify(sbom)));
    assert.deepEqual(byType.get('application/vnd.example.signature.v1')?.annotations, { 'org.example.note': 'sig' });
    const f = await c.request('GET', `/v2/refs/referrers/${img.digest}?artifactType=application/vnd.example.signature.v1`);
    assert.equal(f.headers['oci-filters-applied'], 'artifactType');
    assert.deepEqual(f.json().manifests.map((d: { digest: string }) => d.digest), [sha256(JSON.stringify(sig))]);
    // An image manifest without artifactType is listed under its config's media type.
    const plain = { ...sbom, artifactType: undefined, config: { mediaType: OCI_CONFIG, digest: img.config, size: 1 } };
    const pb = JSON.stringify(plain);
    assert.equal((await c.request('PUT', `/v2/refs/manifests/${sha256(pb)}`, { body: pb, headers: { 'Content-Type': OCI_MANIFEST } })).status, 201);
    const all = (await c.request('GET', `/v2/refs/referrers/${img.digest}`)).json().manifests as { digest: string; artifactType: string }[];
    assert.equal(all.find((d) => d.digest === sha256(pb))?.artifactType, OCI_CONFIG);
    const none = await c.request('GET', `/v2/refs/referrers/${sha256('nothing refers to this')}`);
    assert.equal(none.status, 200);
    assert.deepEqual(none.json().manifests, []);
    assert.equal((await c.request('GET', `/v2/refs/referrers/${future}`)).json().manifests.length, 1);
    // Deleting a referrer takes it out of the list.
    assert.equal((await c.request('DELETE', `/v2/refs/manifests/${sha256(JSON.stringify(sig))}`)).status, 202);
    assert.equal((await c.request('GET', `/v2/refs/referrers/${img.digest}`)).json().manifests.length, 2);
  });
});

// ---- bad input ----------------------------------------------------------------------------------

describe('registry server: bad input gets the spec error codes and changes nothing on disk', () => {
  const t = new TestRegistry('registry-bad-input');
  let c: Client;
  let img: { digest: string; config: string; layer: string; body: string };
  let snapshot: string[];
  before(async () => {
    await t.start();
    c = t.client;
    img = await c.pushImage('bad/repo', 'v1');
    snapshot = tree(t.root);
  });
  after(async () => {
    assert.deepEqual(tree(t.root), snapshot, 'the storage is as it was before the bad requests');
    assert.deepEqual(fs.readdirSync(t.dir), ['root'], 'nothing was created beside the root');
    await t.stop();
  });

  const upload = async (): Promise<string> => {
    const p = await c.request('POST', '/v2/bad/repo/blobs/uploads/');
    assert.equal(p.status, 202);
    return String(p.headers.location);
  };

  test('a monolithic push with the wrong digest: 400 DIGEST_INVALID, nothing in blobs/', async () => {
    const wrong = sha256('something else');
    const r = await c.request('POST', `/v2/bad/repo/blobs/uploads/?digest=${wrong}`, { body: 'the real content' });
    assert.equal(r.status, 400);
    assert.equal(r.code(), 'DIGEST_INVALID');
    assert.equal((await c.request('HEAD', `/v2/bad/repo/blobs/${wrong}`)).status, 404);
    assert.equal((await c.request('HEAD', `/v2/bad/repo/blobs/${sha256('the real content')}`)).status, 404);
    assert.deepEqual(tree(t.root), snapshot);
  });

  test('a chunked push closed with the wrong digest: 400 DIGEST_INVALID, the upload discarded', async () => {
    const loc = await upload();
    assert.equal((await c.request('PATCH', loc, { body: 'chunk one', headers: { 'Content-Range': '0-8' } })).status, 202);
    const r = await c.request('PUT', `${loc}?digest=${sha256('not chunk one')}`);
    assert.equal(r.status, 400);
    assert.equal(r.code(), 'DIGEST_INVALID');
    assert.equal((await c.request('GET', loc)).status, 404);
    assert.deepEqual(tree(t.root), snapshot);
  });

  test('a bad or out-of-order Content-Range: 416 with the upload\'s Range, and the upload goes on', async () => {
    const loc = await upload();
    for (const cr of ['abc', '5-9', '0-', '-5', '3-1']) {
      const r = await c.request('PATCH', loc, { body: 'xxxxx', headers: { 'Content-Range': cr } });
      assert.equal(r.status, 416, cr);
      assert.equal(r.code(), 'BLOB_UPLOAD_INVALID', cr);
      assert.equal(r.headers.range, '0-0', cr);
      assert.equal(r.headers.location, loc, cr);
    }
    assert.equal((await c.request('PATCH', loc, { body: 'hello', headers: { 'Content-Range': '0-4' } })).status, 202);
    const again = await c.request('PATCH', loc, { body: 'hello', headers: { 'Content-Range': '0-4' } });
    assert.equal(again.status, 416, 'a chunk sent twice');
    assert.equal(again.headers.range, '0-4');
    const putBad = await c.request('PUT', `${loc}?digest=${sha256('helloworld')}`, { body: 'world', headers: { 'Content-Range': '9-13' } });
    assert.equal(putBad.status, 416, 'final chunk out of order');
    const s = await c.request('GET', loc);
    assert.equal(s.status, 204);
    assert.equal(s.headers.range, '0-4');
    const sizeBad = await c.request('PATCH', loc, { body: 'wor', headers: { 'Content-Range': '5-9' } });
    assert.equal(sizeBad.status, 400);
    assert.equal(sizeBad.code(), 'SIZE_INVALID');
    assert.equal((await c.request('GET', loc)).headers.range, '0-4', 'a short chunk is not kept');
    assert.equal((await c.request('DELETE', loc)).status, 204);
    assert.deepEqual(tree(t.root), snapshot);
  });

  test('unknown uploads: 404 BLOB_UPLOAD_UNKNOWN for every method', async () => {
    const id = crypto.randomUUID();
    const other = await upload();
    const otherId = other.split('/').pop() as string;
    for (const p of [`/v2/bad/repo/blobs/uploads/${id}`, `/v2/other/repo/blobs/uploads/${otherId}`, '/v2/bad/repo/blobs/uploads/..', '/v2/bad/repo/blobs/uploads/%2e%2e%2fx']) {
      for (const m of ['GET', 'PATCH', 'PUT', 'DELETE']) {
        const q = m === 'PUT' ? `?digest=${sha256('x')}` : '';
        const r = await c.request(m, p + q, m === 'PATCH' || m === 'PUT' ? { body: 'x' } : {});
        assert.equal(r.status, 404, `${m} ${p}`);
        assert.equal(r.code(), 'BLOB_UPLOAD_UNKNOWN', `${m} ${p}`);
      }
    }
    assert.equal((await c.request('DELETE', other)).status, 204);
  });

  test('bad digests: 400 DIGEST_INVALID', async () => {
    const bad = ['sha256:xyz', 'sha256:' + 'A'.repeat(64), 'md5:d41d8cd98f00b204e9800998ecf8427e', 'sha256:' + 'a'.repeat(63), 'sha256%3A..%2F..%2Fetc'];
    for (const d of bad) {
      for (const [m, p] of [
        ['GET', `/v2/bad/repo/blobs/${d}`],
        ['DELETE', `/v2/bad/repo/blobs/${d}`],
        ['GET', `/v2/bad/repo/manifests/${d}`],
        ['GET', `/v2/bad/repo/referrers/${d}`],
        ['POST', `/v2/bad/repo/blobs/uploads/?digest=${d}`],
      ]) {
        const r = await c.request(m, p, m === 'POST' ? { body: 'x' } : {});
        assert.equal(r.status, 400, `${m} ${p}`);
        assert.equal(r.code(), 'DIGEST_INVALID', `${m} ${p}`);
      }
    }
    const loc = await upload();
    const noDigest = await c.request('PUT', loc);
    assert.equal(noDigest.code(), 'DIGEST_INVALID');
    const badDigest = await c.request('PUT', `${loc}?digest=sha256:nothex`);
    assert.equal(badDigest.code(), 'DIGEST_INVALID');
    assert.equal((await c.request('DELETE', loc)).status, 204);
  });

  test('manifests: invalid JSON, missing blobs, digest mismatch, bad tags, media type mismatch', async () => {
    const put = (ref: string, body: string, ct = OCI_MANIFEST): Promise<Resp> => c.request('PUT', `/v2/bad/repo/manifests/${ref}`, { body, headers: { 'Content-Type': ct } });
    const good = JSON.parse(img.body) as Record<string, any>;
    let r = await put('x', '{"schemaVersion": 2,');
    assert.equal(r.status, 400);
    assert.equal(r.code(), 'MANIFEST_INVALID');
    r = await put('x', '[1,2,3]');
    assert.equal(r.code(), 'MANIFEST_INVALID');
    r = await put('x', JSON.stringify({ ...good, schemaVersion: 1 }));
    assert.equal(r.code(), 'MANIFEST_INVALID');
    r = await put('x', JSON.stringify({ ...good, config: { mediaType: OCI_CONFIG, digest: 'sha256:bad', size: 1 } }));
    assert.equal(r.code(), 'MANIFEST_INVALID');
    r = await put('x', img.body, DOCKER_MANIFEST);
    assert.equal(r.code(), 'MANIFEST_INVALID', 'Content-Type contradicts mediaType');
    const l1 = sha256('missing layer 1');
    const l2 = sha256('missing layer 2');
    r = await put('x', JSON.stringify({ ...good, layers: [...good.layers, { mediaType: OCI_LAYER, digest: l1, size: 1 }, { mediaType: OCI_LAYER, digest: l2, size: 1 }] }));
    assert.equal(r.status, 400);
    assert.deepEqual(r.json().errors.map((e: { code: string; detail: { digest: string } }) => [e.code, e.detail.digest]), [
      ['MANIFEST_BLOB_UNKNOWN', l1],
      ['MANIFEST_BLOB_UNKNOWN', l2],
    ]);
    const index = { schemaVersion: 2, mediaType: OCI_INDEX, manifests: [{ mediaType: OCI_MANIFEST, digest: sha256('no such manifest'), size: 3 }] };
    r = await put('x', JSON.stringify(index), OCI_INDEX);
    assert.equal(r.code(), 'MANIFEST_BLOB_UNKNOWN');
    r = await put(sha256('other content'), img.body);
    assert.equal(r.status, 400);
    assert.equal(r.code(), 'DIGEST_INVALID');
    for (const tag of ['-bad', '.hidden', '%2e%2e', 'a'.repeat(129), 'no%2Fslash']) {
      r = await put(tag, img.body);
      assert.equal(r.status, 400, tag);
      assert.equal(r.code(), 'TAG_INVALID', tag);
    }
    r = await c.request('PUT', `/v2/bad/repo/manifests/${img.digest}?tag=..`, { body: img.body, headers: { 'Content-Type': OCI_MANIFEST } });
    assert.equal(r.code(), 'TAG_INVALID');
    r = await put('x', JSON.stringify({ schemaVersion: 1, name: 'x', fsLayers: [] }), 'application/vnd.docker.distribution.manifest.v1+prettyjws');
    assert.equal(r.code(), 'MANIFEST_INVALID', 'schema 1');
  });

  test('an oversize manifest: 413 MANIFEST_INVALID', async () => {
    const good = JSON.parse(img.body) as Record<string, unknown>;
    const big = JSON.stringify({ ...good, annotations: { pad: 'x'.repeat(4 * 1024 * 1024) } });
    const r = await c.request('PUT', '/v2/bad/repo/manifests/big', { body: big, headers: { 'Content-Type': OCI_MANIFEST } });
    assert.equal(r.status, 413);
    assert.equal(r.code(), 'MANIFEST_INVALID');
    const chunked = await c.request('PUT', '/v2/bad/repo/manifests/big', { chunks: [Buffer.from(big.slice(0, 3_000_000)), Buffer.from(big.slice(3_000_000))], headers: { 'Content-Type': OCI_MANIFEST } });
    assert.equal(chunked.status, 413, 'also without a Content-Length');
    assert.equal((await c.request('GET', '/v2/bad/repo/manifests/big')).status, 404);
  });

  test('path tricks and bad names: NAME_INVALID or 404, nothing outside the root', async () => {
    const escape = `escape-${crypto.randomBytes(4).toString('hex')}`;
    const paths = [
      '/v2/../../etc/manifests/x',
      `/v2/../../${escape}/manifests/latest`,
      `/v2/../${escape}/blobs/uploads/`,
      `/v2/%2e%2e/%2e%2e/${escape}/manifests/latest`,
      `/v2/%2E%2E%2F${escape}/tags/list`,
      '/v2/bad/../repo/manifests/v1',
      '/v2/Uppercase/manifests/latest',
      '/v2/bad//repo/manifests/v1',
      '/v2/bad%2frepo/manifests/v1',
      '/v2/_hidden/tags/list',
      '/v2/bad/repo/_manifests/blobs/uploads/',
      '/v2/-lead/tags/list',
      `/v2/${'a'.repeat(256)}/tags/list`,
      `/v2/./${escape}/referrers/${img.digest}`,
    ];
    for (const p of paths) {
      for (const m of ['GET', 'PUT', 'POST', 'DELETE']) {
        const r = await c.request(m, p, m === 'PUT' || m === 'POST' ? { body: img.body, headers: { 'Content-Type': OCI_MANIFEST } } : {});
        assert.ok(r.status === 400 || r.status === 404 || r.status === 405, `${m} ${p} → ${r.status}`);
        if (r.status === 400) assert.equal(r.code(), 'NAME_INVALID', `${m} ${p}`);
      }
    }
    assert.equal((await c.request('GET', '/v2/../../etc/manifests/x')).code(), 'NAME_INVALID');
    assert.equal((await c.request('GET', '/v2/Uppercase/manifests/latest')).code(), 'NAME_INVALID');
    for (const dir of [t.dir, path.dirname(t.dir), t.root, path.join(t.root, 'repositories')]) {
      assert.ok(!fs.readdirSync(dir).some((n) => n.startsWith('escape-')), dir);
    }
  });

  test('unknown things: NAME_UNKNOWN, MANIFEST_UNKNOWN, BLOB_UNKNOWN, 404 and 405', async () => {
    const cases: [string, string, number, string | undefined][] = [
      ['GET', '/v2/no/such/repo/tags/list', 404, 'NAME_UNKNOWN'],
      ['GET', '/v2/bad/repo/manifests/nosuchtag', 404, 'MANIFEST_UNKNOWN'],
      ['HEAD', '/v2/bad/repo/manifests/nosuchtag', 404, undefined],
      ['DELETE', '/v2/bad/repo/manifests/nosuchtag', 404, 'MANIFEST_UNKNOWN'],
      ['GET', `/v2/bad/repo/manifests/${sha256('nothing')}`, 404, 'MANIFEST_UNKNOWN'],
      ['GET', `/v2/bad/repo/blobs/${sha256('nothing')}`, 404, 'BLOB_UNKNOWN'],
      ['GET', `/v2/other/repo/blobs/${img.layer}`, 404, 'BLOB_UNKNOWN'],
      ['GET', '/v2/bad/repo/tags/list?n=abc', 400, 'PAGINATION_NUMBER_INVALID'],
      ['GET', '/v3/', 404, 'UNSUPPORTED'],
      ['GET', '/v2/bad/repo/nothing', 404, 'UNSUPPORTED'],
      ['POST', '/v2/bad/repo/tags/list', 405, 'UNSUPPORTED'],
      ['PATCH', '/v2/bad/repo/manifests/v1', 405, 'UNSUPPORTED'],
      ['DELETE', '/v2/', 405, 'UNSUPPORTED'],
      ['GET', '/auth/token', 404, 'UNSUPPORTED'],
    ];
    for (const [m, p, status, code] of cases) {
      const r = await c.request(m, p);
      assert.equal(r.status, status, `${m} ${p}`);
      assert.equal(r.code(), code, `${m} ${p}`);
    }
  });

  test('the server is still healthy and the image intact', async () => {
    const r = await c.request('GET', '/v2/bad/repo/manifests/v1');
    assert.equal(r.status, 200);
    assert.equal(r.body.toString(), img.body);
    assert.equal(sha256((await c.request('GET', `/v2/bad/repo/blobs/${img.layer}`)).body), img.layer);
  });
});

// ---- auth ---------------------------------------------------------------------------------------

function writeHtpasswd(dir: string, entries: Record<string, string>): string {
  const file = path.join(dir, 'htpasswd');
  const lines = Object.entries(entries).map(([u, p]) => `${u}:${bcrypt.hashSync(p, 4).replace(/^\$2b\$/, '$2y$')}`);
  fs.writeFileSync(file, `# users\n${lines.join('\n')}\n`);
  return file;
}

const basic = (user: string, password: string): string => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

describe('registry server: htpasswd Basic auth', () => {
  const t = new TestRegistry('registry-htpasswd');
  let c: Client;
  before(async () => {
    await t.start({ htpasswd: writeHtpasswd(t.dir, { alice: 'wonderland', bob: 'builder' }) });
    c = t.client;
  });
  after(() => t.stop());

  test('no credentials, a wrong password or an unknown user: 401 UNAUTHORIZED with a Basic challenge', async () => {
    for (const auth of [undefined, basic('alice', 'wrong'), basic('mallory', 'wonderland'), 'Basic !!!', 'Bearer abc']) {
      for (const p of ['/v2/', '/v2/private/img/tags/list', '/v2/_catalog']) {
        const r = await c.withAuth(auth).request('GET', p);
        assert.equal(r.status, 401, `${auth} ${p}`);
        assert.equal(r.headers['www-authenticate'], 'Basic realm="berth-registry"');
        assert.equal(r.code(), 'UNAUTHORIZED');
        assert.equal(r.headers['docker-distribution-api-version'], 'registry/2.0');
      }
    }
    const push = await c.withAuth(basic('bob', 'nope')).request('POST', '/v2/private/img/blobs/uploads/?digest=' + sha256('x'), { body: 'x' });
    assert.equal(push.status, 401);
    assert.equal(fs.existsSync(path.join(t.root, 'repositories', 'private')), false);
  });

  test('the right password: push and pull', async () => {
    const a = c.withAuth(basic('alice', 'wonderland'));
    assert.equal((await a.request('GET', '/v2/')).status, 200);
    const img = await a.pushImage('private/img', 'v1');
    const b = c.withAuth(basic('bob', 'builder'));
    assert.equal((await b.request('GET', '/v2/private/img/manifests/v1')).headers['docker-content-digest'], img.digest);
    assert.deepEqual((await b.request('GET', '/v2/_catalog')).json().repositories, ['private/img']);
  });

  test('a file made by Apache\'s htpasswd -B works', { skip: fs.existsSync('/usr/bin/htpasswd') ? undefined : 'htpasswd (apache2-utils) is not installed' }, async () => {
    const file = path.join(t.dir, 'htpasswd-apache');
    const made = await new Promise<number | null>((resolve) => spawn('/usr/bin/htpasswd', ['-B', '-b', '-c', file, 'carol', 'c4rol!'], { stdio: 'ignore' }).on('close', resolve));
    assert.equal(made, 0);
    assert.match(fs.readFileSync(file, 'utf8'), /^carol:\$2y\$/);
    const t2 = new TestRegistry('registry-htpasswd-apache');
    try {
      await t2.start({ htpasswd: file });
      assert.equal((await t2.client.withAuth(basic('carol', 'c4rol!')).request('GET', '/v2/')).status, 200);
      assert.equal((await t2.client.withAuth(basic('carol', 'carol')).request('GET', '/v2/')).status, 401);
    } finally {
      await t2.stop();
    }
  });

  test('an htpasswd file with a non-bcrypt entry is refused at startup', async () => {
    const file = path.join(t.dir, 'htpasswd-md5');
    fs.writeFileSync(file, 'ok:' + bcrypt.hashSync('x', 4) + '\ncarol:$apr1$abcdefgh$0123456789abcdefghijkl\n');
    assert.throws(() => createRegistryServer({ root: path.join(t.dir, 'r2'), htpasswd: file }), /htpasswd-md5:2: user "carol" has an Apache MD5 \(\$apr1\$\) hash; only bcrypt entries are supported/);
    fs.writeFileSync(file, 'dave:{SHA}qvTGHdzF6KLavt4PO0gs2a6pQ00=\n');
    assert.throws(() => createRegistryServer({ root: path.join(t.dir, 'r2'), htpasswd: file }), /SHA-1/);
    assert.throws(() => createRegistryServer({ root: path.join(t.dir, 'r2'), htpasswd: path.join(t.dir, 'nonexistent') }), /cannot read htpasswd file/);
    const err: string[] = [];
    const io = { out: sink([]), err: sink(err) };
    assert.equal(await registryCommand(['serve', '--addr', '127.0.0.1:0', '--root', path.join(t.dir, 'r2'), '--htpasswd', file], io), 1);
    assert.match(err.join(''), /only bcrypt entries are supported/);
  });
});

/** The parameters of a `WWW-Authenticate: Bearer k="v",...` challenge. */
function parseChallenge(header: string | undefined): Record<string, string> {
  if (!header?.startsWith('Bearer ')) assert.fail(`not a Bearer challenge: ${header}`);
  const out: Record<string, string> = {};
  for (const m of header.slice(7).matchAll(/(\w+)="([^"]*)"/g)) out[m[1]] = m[2];
  return out;
}

describe('registry server: bearer token auth', () => {
  const t = new TestRegistry('registry-token');
  let c: Client;
  let port: number;
  before(async () => {
    await t.start({ htpasswd: writeHtpasswd(t.dir, { alice: 'wonderland' }), token: true });
    c = t.client;
    port = c.port;
  });
  after(() => t.stop());

  /** GETs the realm with the challenge's service and scope, as docker does. */
  const fetchToken = async (ch: Record<string, string>, auth?: string, scopes = ch.scope ? [ch.scope] : []): Promise<Resp> => {
    const u = new URL(ch.realm);
    assert.equal(u.host, `127.0.0.1:${port}`);
    const q = new URLSearchParams({ service: ch.service });
    for (const s of scopes) q.append('scope', s);
    return c.withAuth(auth).request('GET', `${u.pathname}?${q}`);
  };

  test('401 → token with Basic credentials → retry with Bearer', async () => {
    const first = await c.request('GET', '/v2/');
    assert.equal(first.status, 401);
    assert.equal(first.headers['www-authenticate'], `Bearer realm="http://127.0.0.1:${port}/auth/token",service="berth-registry"`);
    const pull = await c.request('GET', '/v2/test/img/tags/list');
    assert.equal(parseChallenge(pull.headers['www-authenticate'] as string).scope, 'repository:test/img:pull');
    const push = await c.request('POST', '/v2/test/img/blobs/uploads/');
    assert.equal(push.status, 401);
    const ch = parseChallenge(push.headers['www-authenticate'] as string);
    assert.deepEqual(ch, { realm: `http://127.0.0.1:${port}/auth/token`, service: 'berth-registry', scope: 'repository:test/img:pull,push' });
    assert.equal(push.code(), 'UNAUTHORIZED');

    const tr = await fetchToken(ch, basic('alice', 'wonderland'));
    assert.equal(tr.status, 200, tr.body.toString());
    const tok = tr.json();
    assert.equal(typeof tok.token, 'string');
    assert.equal(tok.access_token, tok.token);
    assert.equal(tok.expires_in, 300);
    assert.ok(Math.abs(Date.parse(tok.issued_at) - Date.now()) < 10_000, tok.issued_at);

    const a = c.withAuth(`Bearer ${tok.token}`);
    assert.equal((await a.request('GET', '/v2/')).status, 200);
    const img = await a.pushImage('test/img', 'v1');
    assert.equal((await a.request('GET', '/v2/test/img/manifests/v1')).headers['docker-content-digest'], img.digest);
  });

  test('the token endpoint refuses wrong or missing credentials', async () => {
    const ch = { realm: `http://127.0.0.1:${port}/auth/token`, service: 'berth-registry', scope: 'repository:test/img:pull' };
    for (const auth of [undefined, basic('alice', 'wrong'), basic('eve', 'wonderland')]) {
      const r = await fetchToken(ch, auth);
      assert.equal(r.status, 401, String(auth));
      assert.equal(r.code(), 'UNAUTHORIZED');
      assert.equal(r.headers['www-authenticate'], 'Basic realm="berth-registry"');
    }
    const post = await c.request('POST', '/auth/token', {
      body: new URLSearchParams({ grant_type: 'password', username: 'alice', password: 'wonderland', service: 'berth-registry', scope: 'repository:test/img:pull' }).toString(),
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    });
    assert.equal(post.status, 200, 'the OAuth2 password grant');
    assert.equal((await c.withAuth(`Bearer ${post.json().token}`).request('GET', '/v2/test/img/tags/list')).status, 200);
  });

  test('scopes are enforced: a pull-only token cannot push, a token for one repository cannot read another', async () => {
    const ch = { realm: `http://127.0.0.1:${port}/auth/token`, service: 'berth-registry' };
    const pullOnly = (await fetchToken(ch, basic('alice', 'wonderland'), ['repository:test/img:pull'])).json().token as string;
    const p = c.withAuth(`Bearer ${pullOnly}`);
    assert.equal((await p.request('GET', '/v2/test/img/manifests/v1')).status, 200);
    const denied = await p.request('POST', '/v2/test/img/blobs/uploads/');
    assert.equal(denied.status, 401);
    assert.equal(denied.code(), 'UNAUTHORIZED');
    const dch = parseChallenge(denied.headers['www-authenticate'] as string);
    assert.equal(dch.scope, 'repository:test/img:pull,push');
    assert.equal(dch.error, 'insufficient_scope');
    const body = JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [] });
    assert.equal((await p.request('PUT', '/v2/test/img/manifests/v2', { body, headers: { 'Content-Type': OCI_INDEX } })).status, 401);
    assert.equal((await p.request('DELETE', '/v2/test/img/manifests/v1')).status, 401);
    assert.equal((await p.request('GET', '/v2/other/img/tags/list')).status, 401);
    assert.equal((await p.request('GET', '/v2/_catalog')).status, 401);
    // Several scopes in one request (space-separated and repeated), the catalog among them.
    const multi = (await fetchToken(ch, basic('alice', 'wonderland'), ['repository:test/img:pull repository:copy/img:pull,push', 'registry:catalog:*'])).json().token as string;
    const m = c.withAuth(`Bearer ${multi}`);
    assert.deepEqual((await m.request('GET', '/v2/_catalog')).json().repositories, ['test/img']);
    const layer = (await m.request('GET', '/v2/test/img/manifests/v1')).json().layers[0].digest as string;
    const mount = await m.request('POST', `/v2/copy/img/blobs/uploads/?mount=${layer}&from=test/img`);
    assert.equal(mount.status, 201, 'mount with pull on the source');
    const noPull = c.withAuth(`Bearer ${(await fetchToken(ch, basic('alice', 'wonderland'), ['repository:copy2/img:pull,push'])).json().token}`);
    const fallback = await noPull.request('POST', `/v2/copy2/img/blobs/uploads/?mount=${layer}&from=test/img`);
    assert.equal(fallback.status, 202, 'no mount without pull on the source: an upload instead');
  });

  test('forged, tampered and Basic credentials are refused at /v2/', async () => {
    const ch = { realm: `http://127.0.0.1:${port}/auth/token`, service: 'berth-registry' };
    const tok = (await fetchToken(ch, basic('alice', 'wonderland'), ['repository:test/img:pull'])).json().token as string;
    const [h, payload, sig] = tok.split('.');
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
    claims.access[0].actions = ['pull', 'push'];
    const tampered = `${h}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${sig}`;
    const other = createRegistryServer({ root: path.join(t.dir, 'other-root'), token: true });
    const foreign = `${h}.${payload}.${crypto.createHmac('sha256', 'guess').update(`${h}.${payload}`).digest('base64url')}`;
    for (const auth of [`Bearer ${tampered}`, `Bearer ${foreign}`, 'Bearer not.a.token', basic('alice', 'wonderland')]) {
      const r = await c.withAuth(auth).request('GET', '/v2/test/img/tags/list');
      assert.equal(r.status, 401, auth);
    }
    await other.close();
  });
});

describe('registry server: TLS', () => {
  const t = new TestRegistry('registry-tls');
  let port: number;
  before(async () => {
    const cert = path.join(t.dir, 'cert.pem');
    const key = path.join(t.dir, 'key.pem');
    const r = await new Promise<number | null>((resolve) => {
      spawn('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' })
        .on('error', () => resolve(-1))
        .on('close', resolve);
    });
    if (r !== 0) return;
    t.reg = createRegistryServer({ root: t.root, tls: { cert, key: fs.readFileSync(key, 'utf8') } });
    port = (await t.reg.listen({ host: '127.0.0.1', port: 0 })).port;
  });
  after(() => t.stop());

  test('serves the API over HTTPS', async (ctx) => {
    if (!port) return ctx.skip('openssl could not make a certificate');
    const get = (p: string): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> =>
      new Promise((resolve, reject) => {
        https
          .get({ host: '127.0.0.1', port, path: p, rejectUnauthorized: false }, (res) => {
            let body = '';
            res.on('data', (d: Buffer) => (body += d.toString()));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
          })
          .on('error', reject);
      });
    const r = await get('/v2/');
    assert.equal(r.status, 200);
    assert.equal(r.headers['docker-distribution-api-version'], 'registry/2.0');
    assert.equal((await get('/v2/x/tags/list')).status, 404);
  });
});

// ---- gc -----------------------------------------------------------------------------------------

function sink(into: string[]): NodeJS.WritableStream {
  return new Writable({
    write(chunk: Buffer, _enc, cb) {
      into.push(chunk.toString());
      cb();
    },
  });
}

describe('registry gc', () => {
  const t = new TestRegistry('registry-gc');
  let c: Client;
  before(async () => {
    await t.start();
    c = t.client;
  });
  after(() => t.stop());

  test('removes unreferenced blobs and keeps referenced ones', async () => {
    const kept = await c.pushImage('gc/app', 'v1', 'kept');
    const child = await c.pushImage('gc/app', 'child', 'child');
    const index = { schemaVersion: 2, mediaType: OCI_INDEX, manifests: [{ mediaType: OCI_MANIFEST, digest: child.digest, size: Buffer.byteLength(child.body) }] };
    assert.equal((await c.putManifest('gc/app', 'idx', index, OCI_INDEX)).status, 201);
    // The child is reachable only through the index once its tag is gone.
    assert.equal((await c.request('DELETE', '/v2/gc/app/manifests/child')).status, 202);
    const dropped = await c.pushImage('gc/app', 'old', 'dropped');
    assert.equal((await c.request('DELETE', `/v2/gc/app/manifests/${dropped.digest}`)).status, 202);
    const orphan = await c.pushBlob('gc/app', 'never referenced');
    const shared = await c.pushBlob('gc/other', 'only in another repo, unreferenced');

    const expected = [dropped.digest, dropped.config, dropped.layer, orphan, shared].sort();
    const dry = await gc(t.root, { dryRun: true });
    assert.deepEqual(dry, expected);
    assert.equal((await c.request('HEAD', `/v2/gc/app/blobs/${orphan}`)).status, 200, 'a dry run removes nothing');

    const out: string[] = [];
    const err: string[] = [];
    assert.equal(await registryCommand(['gc', '--root', t.root], { out: sink(out), err: sink(err) }), 0);
    assert.deepEqual(out.join('').trim().split('\n'), expected);
    assert.match(err.join(''), /removed 5 blobs/);
    for (const d of expected) assert.ok(!fs.existsSync(path.join(t.root, 'blobs', 'sha256', d.slice(7, 9), d.slice(7))), d);
    assert.equal((await c.request('HEAD', `/v2/gc/app/blobs/${orphan}`)).status, 404);
    for (const d of [kept.config, kept.layer, child.config, child.layer]) {
      const r = await c.request('GET', `/v2/gc/app/blobs/${d}`);
      assert.equal(r.status, 200, d);
      assert.equal(sha256(r.body), d);
    }
    assert.equal((await c.request('GET', '/v2/gc/app/manifests/v1')).body.toString(), kept.body);
    assert.equal((await c.request('GET', `/v2/gc/app/manifests/${child.digest}`)).status, 200);
    assert.deepEqual(await gc(t.root), [], 'a second run finds nothing');
  });
});

// ---- the CLI ------------------------------------------------------------------------------------

describe('berth registry (CLI)', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-registry-cli-'));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const run = async (args: string[]): Promise<{ code: number; out: string; err: string }> => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await registryCommand(args, { out: sink(out), err: sink(err) });
    return { code, out: out.join(''), err: err.join('') };
  };

  test('help, and bad flags exit 125', async () => {
    const h = await run(['serve', '--help']);
    assert.equal(h.code, 0);
    assert.match(h.out, /^Usage: {2}berth registry serve \[OPTIONS\]\n\nServe the OCI distribution API/);
    assert.match(h.out, /--addr string +Address to listen on, HOST:PORT\n[^-]*\(default\n? +"127\.0\.0\.1:5000"\)/);
    assert.match((await run(['--help'])).out, /Commands:\n {2}gc .*\n {2}serve /);
    assert.match((await run(['gc', '--help'])).out, /--dry-run/);
    for (const args of [['serve', '--nope'], ['serve', '--auth', 'magic'], ['serve', '--tls-cert', 'x'], ['serve', '--addr', 'nowhere'], ['serve', '--auth', 'basic'], ['gc', 'extra'], ['serve', '--token-realm', 'http://x']]) {
      const r = await run(args);
      assert.equal(r.code, 125, args.join(' '));
      assert.match(r.err, /\n\nUsage: {2}berth registry (serve|gc) \[OPTIONS\]\n\nRun 'berth registry (serve|gc) --help' for more information\n$/, r.err);
    }
    assert.equal((await run(['nosuch'])).code, 1);
  });

  test('serve runs until SIGTERM, then exits 0', async () => {
    const main = path.join(__dirname, '..', '..', 'src', 'registry', 'server', 'main.js');
    const root = path.join(dir, 'root');
    const script = `require(${JSON.stringify(main)}).registryCommand(process.argv.slice(1)).then((c) => process.exit(c))`;
    const child = spawn(process.execPath, ['-e', script, 'serve', '--addr', '127.0.0.1:0', '--root', root], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    const port = await new Promise<number>((resolve, reject) => {
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
        const m = /berth registry listening on http:\/\/127\.0\.0\.1:(\d+)\n/.exec(stderr);
        if (m) resolve(Number(m[1]));
      });
      child.on('exit', (code) => reject(new Error(`exited ${code}: ${stderr}`)));
    });
    const c = new Client(port);
    assert.equal((await c.request('GET', '/v2/')).status, 200);
    await c.pushImage('cli/img', 'v1');
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    assert.equal(await exited, 0, stderr);
    assert.ok(fs.existsSync(path.join(root, 'repositories', 'cli', 'img', '_manifests', 'tags', 'v1')));
  });
});

// ---- skopeo -------------------------------------------------------------------------------------

const SKOPEO = ['/usr/bin/skopeo', '/usr/local/bin/skopeo'].find((p) => fs.existsSync(p));

/** A one-layer OCI image layout written by hand: a gzipped tar of one file, its config and manifest. */
async function makeOciLayout(dir: string): Promise<{ manifestDigest: string; blobs: string[] }> {
  const pack = tar.pack();
  pack.entry({ name: 'hello.txt', mode: 0o644, mtime: new Date(0) }, 'hello from berth registry\n');
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack) chunks.push(c as Buffer);
  const layerTar = Buffer.concat(chunks);
  const layer = zlib.gzipSync(layerTar);
  const config = Buffer.from(JSON.stringify({
    architecture: 'amd64',
    os: 'linux',
    created: '2024-01-01T00:00:00Z',
    config: { Cmd: ['/bin/sh'] },
    rootfs: { type: 'layers', diff_ids: [sha256(layerTar)] },
    history: [{ created: '2024-01-01T00:00:00Z', created_by: 'berth registry test' }],
  }));
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: { mediaType: OCI_CONFIG, digest: sha256(config), size: config.length },
    layers: [{ mediaType: OCI_LAYER, digest: sha256(layer), size: layer.length }],
  }));
  fs.mkdirSync(path.join(dir, 'blobs', 'sha256'), { recursive: true });
  for (const b of [layer, config, manifest]) fs.writeFileSync(path.join(dir, 'blobs', 'sha256', sha256(b).slice(7)), b);
  fs.writeFileSync(path.join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  fs.writeFileSync(path.join(dir, 'index.json'), JSON.stringify({
    schemaVersion: 2,
    manifests: [{ mediaType: OCI_MANIFEST, digest: sha256(manifest), size: manifest.length, annotations: { 'org.opencontainers.image.ref.name': '1' } }],
  }));
  return { manifestDigest: sha256(manifest), blobs: [layer, config, manifest].map(sha256).sort() };
}

/** Runs skopeo without blocking this process, which serves the registry it talks to. */
function skopeo(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(SKOPEO as string, ['--insecure-policy', ...args], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

describe('skopeo against berth registry serve', { skip: SKOPEO ? undefined : 'skopeo is not installed (apt-get install skopeo)' }, () => {
  for (const mode of ['anonymous', 'htpasswd', 'token'] as const) {
    test(`copy in, inspect, list tags, copy out identical, delete (${mode})`, async () => {
      const t = new TestRegistry(`registry-skopeo-${mode}`);
      try {
        const opts: Partial<RegistryServerOptions> = {};
        if (mode !== 'anonymous') opts.htpasswd = writeHtpasswd(t.dir, { skopeo: 's3cret' });
        if (mode === 'token') opts.token = true;
        await t.start(opts);
        const creds = mode === 'anonymous' ? [] : ['--creds', 'skopeo:s3cret'];
        const ref = `docker://127.0.0.1:${t.client.port}/test/img:1`;
        const layout = path.join(t.dir, 'layout');
        const img = await makeOciLayout(layout);

        if (mode !== 'anonymous') {
          const denied = await skopeo(['copy', '--dest-tls-verify=false', '--dest-creds', 'skopeo:wrong', `oci:${layout}`, ref]);
          assert.notEqual(denied.code, 0);
          assert.match(denied.stderr, /unauthorized|authentication required|401/i, denied.stderr);
        }
        const push = await skopeo(['copy', '--dest-tls-verify=false', ...(mode === 'anonymous' ? [] : ['--dest-creds', 'skopeo:s3cret']), `oci:${layout}`, ref]);
        assert.equal(push.code, 0, push.stderr);

        const inspect = await skopeo(['inspect', '--tls-verify=false', ...creds, ref]);
        assert.equal(inspect.code, 0, inspect.stderr);
        assert.equal(JSON.parse(inspect.stdout).Digest, img.manifestDigest);
        const raw = await skopeo(['inspect', '--raw', '--tls-verify=false', ...creds, ref]);
        assert.equal(sha256(raw.stdout), img.manifestDigest);
        const tags = await skopeo(['list-tags', '--tls-verify=false', ...creds, `docker://127.0.0.1:${t.client.port}/test/img`]);
        assert.equal(tags.code, 0, tags.stderr);
        assert.deepEqual(JSON.parse(tags.stdout).Tags, ['1']);

        const out = path.join(t.dir, 'out');
        const pull = await skopeo(['copy', '--src-tls-verify=false', ...(mode === 'anonymous' ? [] : ['--src-creds', 'skopeo:s3cret']), ref, `oci:${out}:1`]);
        assert.equal(pull.code, 0, pull.stderr);
        const outBlobs = fs.readdirSync(path.join(out, 'blobs', 'sha256')).map((h) => `sha256:${h}`).sort();
        assert.deepEqual(outBlobs, img.blobs);
        for (const d of img.blobs) {
          assert.deepEqual(fs.readFileSync(path.join(out, 'blobs', 'sha256', d.slice(7))), fs.readFileSync(path.join(layout, 'blobs', 'sha256', d.slice(7))), d);
        }

        // Docker schema 2, as copies from the Distribution registry arrive.
        const v2ref = `docker://127.0.0.1:${t.client.port}/test/img:v2s2`;
        const v2 = await skopeo(['copy', '--format', 'v2s2', '--dest-tls-verify=false', ...(mode === 'anonymous' ? [] : ['--dest-creds', 'skopeo:s3cret']), `oci:${layout}`, v2ref]);
        assert.equal(v2.code, 0, v2.stderr);
        const v2raw = await skopeo(['inspect', '--raw', '--tls-verify=false', ...creds, v2ref]);
        assert.equal(JSON.parse(v2raw.stdout).mediaType, DOCKER_MANIFEST);
        const v2i = await skopeo(['inspect', '--tls-verify=false', ...creds, v2ref]);
        assert.equal(JSON.parse(v2i.stdout).Digest, sha256(v2raw.stdout));

        const del = await skopeo(['delete', '--tls-verify=false', ...creds, ref]);
        assert.equal(del.code, 0, del.stderr);
        const gone = await skopeo(['inspect', '--tls-verify=false', ...creds, ref]);
        assert.notEqual(gone.code, 0);
      } finally {
        await t.stop();
      }
    });
  }
});
