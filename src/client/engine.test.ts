import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Socket } from 'node:net';
import { Readable, PassThrough } from 'node:stream';
import {
  Demuxer,
  Engine,
  EngineConnectError,
  EngineError,
  demuxTo,
  encodeQuery,
  jsonMessages,
  messageError,
  muxFrame,
  parseHost,
  readAll,
  resolveHost,
} from './engine';

test('host selection: -H, then BERTH_HOST, then DOCKER_HOST, then the default socket', () => {
  assert.equal(resolveHost('unix:///a', { BERTH_HOST: 'unix:///b', DOCKER_HOST: 'unix:///c' }), 'unix:///a');
  assert.equal(resolveHost(undefined, { BERTH_HOST: 'unix:///b', DOCKER_HOST: 'unix:///c' }), 'unix:///b');
  assert.equal(resolveHost(undefined, { DOCKER_HOST: 'unix:///c' }), 'unix:///c');
  assert.equal(resolveHost(undefined, {}), 'unix:///run/berth/berth.sock');
});

test('host parsing', () => {
  assert.deepEqual(parseHost('unix:///run/x.sock'), { socketPath: '/run/x.sock', secure: false });
  assert.deepEqual(parseHost('tcp://127.0.0.1:2375'), { hostname: '127.0.0.1', port: 2375, secure: false });
  assert.deepEqual(parseHost('tcp://[::1]:2376'), { hostname: '::1', port: 2376, secure: false });
  assert.throws(() => parseHost('ftp://x'), /unable to parse/);
});

test('query encoding: booleans as 1, lists repeated, undefined left out', () => {
  assert.equal(encodeQuery({ all: true, size: undefined, names: ['a', 'b:1'], t: 0 }), '?all=1&names=a&names=b%3A1&t=0');
  assert.equal(encodeQuery({}), '');
});

test('Demuxer: frames split across chunks, several frames in one chunk', () => {
  const got: [number, string][] = [];
  const d = new Demuxer((s, b) => got.push([s, b.toString()]));
  const all = Buffer.concat([muxFrame(1, 'hello\n'), muxFrame(2, 'oops\n'), muxFrame(1, '')]);
  for (let i = 0; i < all.length; i += 3) d.push(all.subarray(i, i + 3));
  assert.deepEqual(got, [[1, 'hello\n'], [2, 'oops\n'], [1, '']]);
  assert.equal(d.remaining, 0);
});

test('demuxTo copies stdout and stderr apart; a system error frame rejects', async () => {
  const out = new PassThrough();
  const err = new PassThrough();
  await demuxTo(Readable.from([Buffer.concat([muxFrame(1, 'a'), muxFrame(2, 'b'), muxFrame(1, 'c')])]), out, err);
  out.end();
  err.end();
  assert.equal((await readAll(out)).toString(), 'ac');
  assert.equal((await readAll(err)).toString(), 'b');
  await assert.rejects(demuxTo(Readable.from([muxFrame(3, 'boom')]), new PassThrough(), new PassThrough()), /boom/);
});

test('jsonMessages: split and concatenated documents', async () => {
  const chunks = ['{"stream":"Loaded image: busybox:latest\\n"}\n{"sta', 'tus":"x {}"}{"errorDetail":{"message":"bad"},"error":"bad"}'];
  const msgs = [];
  for await (const m of jsonMessages(Readable.from(chunks))) msgs.push(m);
  assert.equal(msgs.length, 3);
  assert.equal(msgs[0].stream, 'Loaded image: busybox:latest\n');
  assert.equal(msgs[1].status, 'x {}');
  assert.equal(messageError(msgs[2]), 'bad');
});

function tmpSocket(): string {
  return path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'berth-engine-test-')), 'sock');
}

async function withServer(
  handler: http.RequestListener,
  fn: (engine: Engine, sock: string) => Promise<void>,
  onUpgrade?: (req: http.IncomingMessage, socket: Socket) => void,
): Promise<void> {
  const sock = tmpSocket();
  const srv = http.createServer(handler);
  if (onUpgrade) srv.on('upgrade', (req, socket) => onUpgrade(req, socket as Socket));
  await new Promise<void>((r) => srv.listen(sock, r));
  const engine = new Engine({ host: `unix://${sock}` });
  try {
    await fn(engine, sock);
  } finally {
    engine.close();
    srv.closeAllConnections();
    await new Promise<void>((r) => srv.close(() => r()));
    fs.rmSync(path.dirname(sock), { recursive: true, force: true });
  }
}

test('requests carry the version prefix, query and JSON body; replies are parsed', async () => {
  const seen: { method?: string; url?: string; body?: string; type?: string }[] = [];
  await withServer(
    (req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        seen.push({ method: req.method, url: req.url, body, type: req.headers['content-type'] });
        res.writeHead(201, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ Id: 'abc', Warnings: [] }));
      });
    },
    async (engine) => {
      const r = await engine.post<{ Id: string }>('/containers/create', { name: 'web' }, { Image: 'busybox' });
      assert.equal(r.Id, 'abc');
      assert.deepEqual(seen[0], { method: 'POST', url: '/v1.41/containers/create?name=web', body: '{"Image":"busybox"}', type: 'application/json' });
    },
  );
});

test("non-2xx replies become EngineError with the daemon's message", async () => {
  await withServer(
    (req, res) => {
      if (req.url?.includes('empty')) {
        res.writeHead(500);
        res.end();
        return;
      }
      res.writeHead(404, { 'Content-Type': 'application/json' });
      res.end('{"message":"No such container: nosuch"}');
    },
    async (engine) => {
      await assert.rejects(engine.get('/containers/nosuch/json'), (e: unknown) => e instanceof EngineError && e.status === 404 && e.message === 'No such container: nosuch');
      await assert.rejects(engine.get('/empty'), (e: unknown) => e instanceof EngineError && e.status === 500 && /Internal Server Error/.test(e.message));
    },
  );
});

test('an unreachable daemon is an EngineConnectError naming the host', async () => {
  const engine = new Engine({ host: 'unix:///nonexistent/berth.sock' });
  await assert.rejects(engine.get('/version'), (e: unknown) => e instanceof EngineConnectError && e.message === 'Cannot connect to the berth daemon at unix:///nonexistent/berth.sock. Is the berth daemon running?');
});

test('hijack: 101 Upgrade, then the raw stream', async () => {
  await withServer(
    (_req, res) => {
      res.writeHead(404, { 'Content-Type': 'application/json' });
      res.end('{"message":"No such container: x"}');
    },
    async (engine) => {
      const conn = await engine.hijack('/containers/abc/attach', { stream: true, stdout: true, stderr: true });
      const out = new PassThrough();
      const err = new PassThrough();
      await demuxTo(conn, out, err);
      out.end();
      err.end();
      assert.equal((await readAll(out)).toString(), 'hello\n');
      assert.equal((await readAll(err)).toString(), 'oops\n');
    },
    (req, socket) => {
      assert.equal(req.headers.upgrade, 'tcp');
      assert.equal(req.url, '/v1.41/containers/abc/attach?stream=1&stdout=1&stderr=1');
      socket.write('HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n');
      socket.write(Buffer.concat([muxFrame(1, 'hello\n'), muxFrame(2, 'oops\n')]));
      socket.end();
    },
  );
});

test('hijack: an error reply instead of an upgrade rejects', async () => {
  await withServer(
    (_req, res) => {
      res.writeHead(404, { 'Content-Type': 'application/json' });
      res.end('{"message":"No such container: x"}');
    },
    async (engine) => {
      await assert.rejects(engine.hijack('/containers/x/attach', { stream: true }), (e: unknown) => e instanceof EngineError && e.status === 404);
    },
    (_req, socket) => {
      socket.end('HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: 34\r\n\r\n{"message":"No such container: x"}');
    },
  );
});
