/**
 * Issue 3: the registry client against hand-made servers on 127.0.0.1, for what a real registry
 * will not do on request: the Bearer token flow (Distribution's token auth needs certificates),
 * wrong bytes, a connection dropped mid-blob, 503s, redirects to storage, schema 1, pagination.
 */
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { RegistryClient, MediaTypes, type ClientOptions, type Descriptor } from '../../src/registry/client';
import { parseReference } from '../../src/image/reference';

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

interface Fake {
  host: string;
  port: number;
  seen: Seen[];
  close(): Promise<void>;
}

const servers: Fake[] = [];
const clients: RegistryClient[] = [];
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-registry-client-fakes-'));

after(async () => {
  for (const c of clients) c.close();
  for (const s of servers) await s.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

function client(opts: ClientOptions = {}): RegistryClient {
  const c = new RegistryClient(opts);
  clients.push(c);
  return c;
}

/** An HTTP server on 127.0.0.1 that records every request (body read first) and hands it to `handler`. */
async function serve(handler: (req: IncomingMessage, res: ServerResponse, body: Buffer, seen: Seen[]) => void | Promise<void>): Promise<Fake> {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      Promise.resolve(handler(req, res, body, seen)).catch((err: Error) => {
        res.statusCode = 500;
        res.end(err.message);
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  const fake: Fake = {
    host: `127.0.0.1:${port}`,
    port,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  servers.push(fake);
  return fake;
}

const sha256 = (b: Buffer): string => 'sha256:' + crypto.createHash('sha256').update(b).digest('hex');
const descOf = (b: Buffer, mediaType = 'application/vnd.oci.image.layer.v1.tar+gzip'): Descriptor => ({ mediaType, digest: sha256(b), size: b.length });

/** A one-layer image: its config, layer and manifest bytes. */
function image(): { config: Buffer; layer: Buffer; manifest: Buffer } {
  const layer = crypto.randomBytes(256 * 1024);
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [sha256(layer)] } }));
  const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaTypes.ociManifest, config: descOf(config, 'application/vnd.oci.image.config.v1+json'), layers: [descOf(layer)] }));
  return { config, layer, manifest };
}

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const b = Buffer.from(JSON.stringify(body));
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': b.length, ...headers });
  res.end(b);
}

/** Serves an image's manifest (any tag) and blobs; `blob` may override what a blob GET does. */
function registryHandler(img: ReturnType<typeof image>, blob?: (req: IncomingMessage, res: ServerResponse, data: Buffer) => boolean) {
  const blobs = new Map([
    [sha256(img.config), img.config],
    [sha256(img.layer), img.layer],
  ]);
  return (req: IncomingMessage, res: ServerResponse): void => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/v2/') return json(res, 200, {});
    let m = /^\/v2\/(.+)\/manifests\/([^/]+)$/.exec(url.pathname);
    if (m) {
      res.writeHead(200, { 'Content-Type': MediaTypes.ociManifest, 'Content-Length': img.manifest.length, 'Docker-Content-Digest': sha256(img.manifest) });
      return void res.end(req.method === 'HEAD' ? undefined : img.manifest);
    }
    m = /^\/v2\/(.+)\/blobs\/([^/]+)$/.exec(url.pathname);
    const data = m && blobs.get(m[2]);
    if (m && data) {
      if (blob?.(req, res, data)) return;
      res.writeHead(200, { 'Content-Length': data.length, 'Docker-Content-Digest': m[2] });
      return void res.end(data);
    }
    json(res, 404, { errors: [{ code: 'BLOB_UNKNOWN', message: 'blob unknown to registry' }] });
  };
}

describe('Bearer token flow (a token server and a registry that demands its tokens)', () => {
  const USER = 'tok-user';
  const PASS = 'tok-pass';
  const tokens = new Map<string, string[]>();
  const img = image();
  let tokenServer: Fake;
  let registry: Fake;
  let issued = 0;

  const setup = async (): Promise<void> => {
    if (registry) return;
    tokenServer = await serve((req, res, body) => {
      const url = new URL(req.url ?? '/', 'http://x');
      let scopes: string[];
      let refresh: string | undefined;
      if (req.method === 'POST') {
        const form = new URLSearchParams(body.toString());
        if (form.get('grant_type') !== 'refresh_token' || form.get('refresh_token') !== 'refresh-1') return json(res, 401, { details: 'invalid refresh token' });
        scopes = (form.get('scope') ?? '').split(' ').filter(Boolean);
      } else {
        const auth = req.headers.authorization;
        if (auth && auth !== 'Basic ' + Buffer.from(`${USER}:${PASS}`).toString('base64')) return json(res, 401, { details: 'incorrect username or password' });
        // Anonymous callers get no access to private/ repositories.
        scopes = url.searchParams.getAll('scope').filter((s) => auth || !s.startsWith('repository:private/'));
        if (auth && url.searchParams.get('offline_token') === 'true') refresh = 'refresh-1';
      }
      const token = `token-${++issued}`;
      tokens.set(token, scopes);
      json(res, 200, { token, expires_in: 300, issued_at: new Date().toISOString(), ...(refresh ? { refresh_token: refresh } : {}) });
    });
    const serveImage = registryHandler(img);
    registry = await serve((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      const m = /^\/v2\/(.+)\/(manifests|blobs|tags)\//.exec(url.pathname);
      const need = m ? `repository:${m[1]}:pull` : undefined;
      const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
      const granted = token !== undefined ? tokens.get(token) : undefined;
      const ok = granted !== undefined && (need === undefined || granted.some((s) => s === need || s === `${need},push`));
      if (!ok) {
        const scope = need ? `,scope="${need}",error="insufficient_scope"` : '';
        return json(res, 401, { errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] }, { 'WWW-Authenticate': `Bearer realm="http://${tokenServer.host}/token",service="fake, registry"${scope}` });
      }
      serveImage(req, res);
    });
  };

  const tokenGets = (): URL[] => tokenServer.seen.filter((s) => s.method === 'GET').map((s) => new URL(s.url, 'http://x'));

  test('with credentials: one token for the pull scope, asked with Basic auth, reused for the config', async () => {
    await setup();
    const before = tokenGets().length;
    const c = client({ credentials: (h) => (h === registry.host ? { username: USER, password: PASS } : undefined) });
    const r = await c.resolve(parseReference(`${registry.host}/private/app:v1`));
    assert.equal(r.manifestDigest, sha256(img.manifest));
    assert.ok(r.config.equals(img.config));
    const gets = tokenGets().slice(before);
    assert.equal(gets.length, 1);
    assert.deepEqual(gets[0].searchParams.getAll('scope'), ['repository:private/app:pull']);
    assert.equal(gets[0].searchParams.get('service'), 'fake, registry');
    assert.equal(gets[0].searchParams.get('account'), USER);
    const dest = path.join(tmp, 'bearer-layer');
    await c.fetchBlob(parseReference(`${registry.host}/private/app:v1`), descOf(img.layer), dest);
    assert.ok(fs.readFileSync(dest).equals(img.layer));
    assert.equal(tokenGets().length - before, 1, 'the cached token serves the blob too');
  });

  test('a revoked token: 401, a fresh token, one retry', async () => {
    await setup();
    const c = client({ credentials: () => ({ username: USER, password: PASS }) });
    const ref = parseReference(`${registry.host}/private/app:v1`);
    await c.resolve(ref);
    const before = tokenGets().length;
    tokens.clear();
    assert.equal((await c.resolve(ref)).manifestDigest, sha256(img.manifest));
    assert.equal(tokenGets().length - before, 1);
  });

  test('anonymous: a token without access to a private repository → unauthorized', async () => {
    await setup();
    await assert.rejects(client().resolve(parseReference(`${registry.host}/private/app:v1`)), { kind: 'unauthorized', message: 'unauthorized: authentication required' } as object);
    const last = tokenServer.seen[tokenServer.seen.length - 1];
    assert.equal(last.headers.authorization, undefined, 'no credentials were sent');
  });

  test('wrong password: unauthorized with the token server message', async () => {
    await setup();
    const c = client({ credentials: () => ({ username: USER, password: 'wrong' }) });
    await assert.rejects(c.resolve(parseReference(`${registry.host}/private/app:v1`)), { kind: 'unauthorized', message: 'unauthorized: incorrect username or password' } as object);
  });

  test('identity token: the OAuth2 refresh_token grant by POST', async () => {
    await setup();
    const before = tokenServer.seen.length;
    const c = client({ credentials: () => ({ identitytoken: 'refresh-1' }) });
    assert.equal((await c.resolve(parseReference(`${registry.host}/private/app:v1`))).manifestDigest, sha256(img.manifest));
    const posts = tokenServer.seen.slice(before).filter((s) => s.method === 'POST');
    assert.equal(posts.length, 1);
    const form = new URLSearchParams(posts[0].body.toString());
    assert.equal(form.get('grant_type'), 'refresh_token');
    assert.equal(form.get('scope'), 'repository:private/app:pull');
    assert.equal(form.get('service'), 'fake, registry');
  });

  test('login: the token flow with offline_token, the refresh token as IdentityToken; wrong password → unauthorized', async () => {
    await setup();
    const c = client();
    const before = tokenGets().length;
    assert.deepEqual(await c.login(registry.host, { username: USER, password: PASS }), { Status: 'Login Succeeded', IdentityToken: 'refresh-1' });
    const get = tokenGets()[before];
    assert.equal(get.searchParams.get('offline_token'), 'true');
    assert.equal(get.searchParams.get('client_id'), 'berth');
    await assert.rejects(c.login(registry.host, { username: USER, password: 'wrong' }), { kind: 'unauthorized', message: 'unauthorized: incorrect username or password' } as object);
  });
});

describe('verification and resumption of downloads', () => {
  test('a blob served with wrong bytes: digest error, nothing left on disk', async () => {
    const img = image();
    const reg = await serve(
      registryHandler(img, (_req, res, data) => {
        const bad = Buffer.from(data);
        bad[100] ^= 0xff;
        res.writeHead(200, { 'Content-Length': bad.length });
        res.end(bad);
        return true;
      }),
    );
    const dest = path.join(tmp, 'wrong-bytes');
    const desc = descOf(img.layer);
    await assert.rejects(client().fetchBlob(parseReference(`${reg.host}/app`), desc, dest), {
      kind: 'invalid-argument',
      message: new RegExp(`^digest mismatch for ${desc.digest}: got sha256:[0-9a-f]{64}$`),
    } as object);
    assert.ok(!fs.existsSync(dest));
    assert.ok(!fs.existsSync(`${dest}.partial`));
    // The config goes through the same check in resolve().
    await assert.rejects(client().resolve(parseReference(`${reg.host}/app`)), { kind: 'invalid-argument', message: /digest mismatch/ } as object);
  });

  test('a manifest that does not match the digest asked for is refused', async () => {
    const img = image();
    const reg = await serve(registryHandler(img));
    await assert.rejects(client().resolve(parseReference(`${reg.host}/app@${sha256(Buffer.from('other'))}`)), { kind: 'invalid-argument', message: /digest mismatch/ } as object);
  });

  /** The first blob GET sends half the bytes and drops the connection; later ones honour Range (or not). */
  function dropOnce(img: ReturnType<typeof image>, honourRange = true, drop = true): Parameters<typeof registryHandler>[1] {
    let dropped = !drop;
    return (req, res, data) => {
      if (!dropped) {
        dropped = true;
        res.writeHead(200, { 'Content-Length': data.length });
        res.write(data.subarray(0, data.length / 2), () => res.socket?.destroy());
        return true;
      }
      const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
      if (m && honourRange) {
        const start = Number(m[1]);
        res.writeHead(206, { 'Content-Length': data.length - start, 'Content-Range': `bytes ${start}-${data.length - 1}/${data.length}` });
        res.end(data.subarray(start));
        return true;
      }
      return false;
    };
  }

  test('a connection dropped mid-blob: resumed with a Range request', async () => {
    const img = image();
    const reg = await serve(registryHandler(img, dropOnce(img)));
    const dest = path.join(tmp, 'resumed');
    let last = 0;
    await client().fetchBlob(parseReference(`${reg.host}/app`), descOf(img.layer), dest, (cur) => (last = cur));
    assert.ok(fs.readFileSync(dest).equals(img.layer));
    assert.ok(!fs.existsSync(`${dest}.partial`));
    assert.equal(last, img.layer.length);
    const ranges = reg.seen.filter((s) => s.url.includes('/blobs/')).map((s) => s.headers.range);
    assert.equal(ranges.length, 2);
    assert.equal(ranges[0], undefined);
    assert.match(ranges[1] ?? '', /^bytes=\d+-$/);
    assert.ok(Number(/\d+/.exec(ranges[1] ?? '')?.[0]) > 0);
  });

  test('a partial download left by an earlier failed pull is continued by the next one', async () => {
    const img = image();
    const reg = await serve(registryHandler(img, dropOnce(img)));
    const dest = path.join(tmp, 'resumed-later');
    const ref = parseReference(`${reg.host}/app`);
    await assert.rejects(client({ retries: 0 }).fetchBlob(ref, descOf(img.layer), dest), { kind: 'unavailable' } as object);
    assert.ok(!fs.existsSync(dest));
    const kept = fs.statSync(`${dest}.partial`).size;
    assert.ok(kept > 0 && kept < img.layer.length);
    await client({ retries: 0 }).fetchBlob(ref, descOf(img.layer), dest);
    assert.ok(fs.readFileSync(dest).equals(img.layer));
    assert.equal(reg.seen.filter((s) => s.url.includes('/blobs/')).pop()?.headers.range, `bytes=${kept}-`);
  });

  test('a server that ignores Range: the download starts over and still verifies', async () => {
    const img = image();
    const reg = await serve(registryHandler(img, dropOnce(img, false)));
    const dest = path.join(tmp, 'range-ignored');
    await client().fetchBlob(parseReference(`${reg.host}/app`), descOf(img.layer), dest);
    assert.ok(fs.readFileSync(dest).equals(img.layer));
  });

  test('a corrupt partial from an earlier run: the mismatch leads to one fresh download', async () => {
    const img = image();
    const reg = await serve(registryHandler(img, dropOnce(img, true, false)));
    const dest = path.join(tmp, 'corrupt-partial');
    fs.writeFileSync(`${dest}.partial`, Buffer.alloc(1000, 0x41)); // not a prefix of the layer
    // The resumed download fails its digest check; the partial goes and one full download follows.
    await client().fetchBlob(parseReference(`${reg.host}/app`), descOf(img.layer), dest);
    assert.ok(fs.readFileSync(dest).equals(img.layer));
    const ranges = reg.seen.filter((s) => s.url.includes('/blobs/')).map((s) => s.headers.range);
    assert.deepEqual(ranges, ['bytes=1000-', undefined]);
  });

  test('at most maxConcurrentDownloads blobs at once; an abort keeps the partial for later', async () => {
    const blobs = Array.from({ length: 5 }, () => crypto.randomBytes(64 * 1024));
    let active = 0;
    let peak = 0;
    let stall = false;
    const reg = await serve((req, res) => {
      if (req.url === '/v2/') return json(res, 200, {});
      const data = blobs.find((b) => req.url?.endsWith(sha256(b)));
      if (!data) return json(res, 404, {});
      active++;
      peak = Math.max(peak, active);
      res.writeHead(200, { 'Content-Length': data.length });
      res.write(data.subarray(0, 1000));
      if (stall) return void res.on('close', () => active--);
      setTimeout(() => {
        res.end(data.subarray(1000));
        active--;
      }, 50);
    });
    const c = client({ maxConcurrentDownloads: 2 });
    const ref = parseReference(`${reg.host}/app`);
    await Promise.all(blobs.map((b, i) => c.fetchBlob(ref, descOf(b), path.join(tmp, `concurrent-${i}`))));
    assert.equal(peak, 2);
    blobs.forEach((b, i) => assert.ok(fs.readFileSync(path.join(tmp, `concurrent-${i}`)).equals(b)));

    stall = true;
    const ac = new AbortController();
    const dest = path.join(tmp, 'aborted');
    const p = c.fetchBlob(ref, descOf(blobs[0]), dest, (cur) => cur >= 1000 && ac.abort(), ac.signal);
    await assert.rejects(p, { name: 'AbortError' });
    assert.ok(!fs.existsSync(dest));
    await new Promise((r) => setTimeout(r, 20));
    assert.ok(fs.existsSync(`${dest}.partial`));
  });

  test('blob GETs follow redirects to storage without the registry credentials', async () => {
    const img = image();
    const storage = await serve((_req, res) => {
      res.writeHead(200, { 'Content-Length': img.layer.length });
      res.end(img.layer);
    });
    const basic = 'Basic ' + Buffer.from('u:p').toString('base64');
    const serveImage = registryHandler(img, (_req, res) => {
      res.writeHead(307, { Location: `http://${storage.host}/bucket/layer?sig=1` });
      res.end();
      return true;
    });
    const reg = await serve((req, res) => {
      if (req.headers.authorization !== basic) return json(res, 401, { errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] }, { 'WWW-Authenticate': 'Basic realm="fake"' });
      serveImage(req, res);
    });
    const dest = path.join(tmp, 'redirected');
    await client({ credentials: () => ({ username: 'u', password: 'p' }) }).fetchBlob(parseReference(`${reg.host}/app`), descOf(img.layer), dest);
    assert.ok(fs.readFileSync(dest).equals(img.layer));
    assert.equal(storage.seen.length, 1);
    assert.equal(storage.seen[0].headers.authorization, undefined);
    assert.equal(storage.seen[0].url, '/bucket/layer?sig=1');
  });
});

describe('retries and odd answers', () => {
  test('503 twice, then the manifest: retried with backoff', async () => {
    const img = image();
    const serveImage = registryHandler(img);
    let failures = 2;
    const reg = await serve((req, res) => {
      if (req.url?.includes('/manifests/') && failures-- > 0) return json(res, 503, { errors: [{ code: 'UNAVAILABLE', message: 'try later' }] });
      serveImage(req, res);
    });
    const started = Date.now();
    assert.equal((await client().resolve(parseReference(`${reg.host}/app:v1`))).manifestDigest, sha256(img.manifest));
    assert.equal(reg.seen.filter((s) => s.url.includes('/manifests/')).length, 3);
    assert.ok(Date.now() - started >= 600, 'backoff of 200 ms, then 400 ms');
  });

  test('503 for good: unavailable after the configured retries', async () => {
    const reg = await serve((req, res) => {
      if (req.url === '/v2/') return json(res, 200, {});
      res.writeHead(503);
      res.end();
    });
    await assert.rejects(client({ retries: 1 }).resolve(parseReference(`${reg.host}/app:v1`)), { kind: 'unavailable', message: 'received unexpected HTTP status: 503 Service Unavailable' } as object);
    assert.equal(reg.seen.filter((s) => s.url.includes('/manifests/')).length, 2);
  });

  test('nothing listening: unavailable, naming the URL', async () => {
    const gone = await serve(() => undefined);
    await gone.close();
    await assert.rejects(client({ retries: 0 }).resolve(parseReference(`${gone.host}/app:v1`)), { kind: 'unavailable', message: new RegExp(`^Get "http://${gone.host}/v2/": connect ECONNREFUSED`) } as object);
  });

  test('schema 1 manifests are refused clearly; the Accept header names all four v2/OCI types', async () => {
    const reg = await serve((req, res) => {
      if (req.url === '/v2/') return json(res, 200, {});
      json(res, 200, { schemaVersion: 1, name: 'app', tag: 'old', fsLayers: [] }, { 'Content-Type': MediaTypes.dockerSchema1Signed });
    });
    await assert.rejects(client().resolve(parseReference(`${reg.host}/app:old`)), { kind: 'invalid-argument', message: /schema 1 is not supported/ } as object);
    const accept = String(reg.seen.find((s) => s.url.includes('/manifests/'))?.headers.accept);
    for (const t of [MediaTypes.dockerManifest, MediaTypes.dockerManifestList, MediaTypes.ociManifest, MediaTypes.ociIndex]) assert.ok(accept.includes(t), t);
  });

  test('tags list follows Link pagination', async () => {
    const reg = await serve((req, res) => {
      if (req.url === '/v2/') return json(res, 200, {});
      if (req.url === '/v2/app/tags/list') return json(res, 200, { name: 'app', tags: ['a', 'b'] }, { Link: '</v2/app/tags/list?last=b&n=2>; rel="next"' });
      json(res, 200, { name: 'app', tags: ['c'] });
    });
    assert.deepEqual(await client().listTags(parseReference(`${reg.host}/app`)), ['a', 'b', 'c']);
  });

  test('putManifest checks the registry Docker-Content-Digest', async () => {
    const reg = await serve((req, res) => {
      if (req.url === '/v2/') return json(res, 200, {});
      res.writeHead(201, { 'Docker-Content-Digest': sha256(Buffer.from('not the body')) });
      res.end();
    });
    await assert.rejects(client().putManifest(parseReference(`${reg.host}/app:v1`), image().manifest, MediaTypes.ociManifest), { kind: 'invalid-argument', message: /digest mismatch/ } as object);
  });
});
