import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { ApiServer, Router, readJson, sendJson, boolParam, intParam } from './server';

/** An in-process API server on 127.0.0.1 with one route that reads its JSON body after `delayMs`. */
async function withServer(fn: (port: number) => Promise<void>, delayMs = 0): Promise<void> {
  const r = new Router();
  r.add('POST', /^\/echo$/, async (ctx) => {
    if (delayMs) await new Promise((res) => setTimeout(res, delayMs));
    sendJson(ctx, 200, { got: await readJson(ctx, 1000) });
  });
  const api = new ApiServer(r);
  const server = api.createServer();
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  try {
    await fn((server.address() as AddressInfo).port);
  } finally {
    await api.close();
  }
}

function post(port: number, body: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/v1.41/echo', headers }, (res) => {
      let data = '';
      res.on('data', (c) => (data += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: data }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

test('readJson: a body the parser finished before the handler read it is still read', async () => {
  await withServer(async (port) => {
    const r = await post(port, '{"a":1}');
    assert.equal(r.status, 200);
    assert.deepEqual(JSON.parse(r.body), { got: { a: 1 } });
  }, 100);
});

test('readJson: over the limit is 413, announced or streamed; unknown path and wrong method are 404', async () => {
  await withServer(async (port) => {
    const big = `{"a":"${'x'.repeat(2000)}"}`;
    const r = await post(port, big);
    assert.equal(r.status, 413);
    assert.match(JSON.parse(r.body).message, /request body is too large: the limit is 1000 bytes/);
    const chunked = await post(port, big, { 'Transfer-Encoding': 'chunked' });
    assert.equal(chunked.status, 413);
    const wrong = await new Promise<number>((resolve) => http.get({ host: '127.0.0.1', port, path: '/echo' }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    }));
    assert.equal(wrong, 404);
  });
});

test('readJson: a body that stops arriving is a 408', async () => {
  process.env.BERTH_API_BODY_TIMEOUT_MS = '200';
  try {
    await withServer(async (port) => {
      const reply = await new Promise<string>((resolve) => {
        const c = net.connect(port, '127.0.0.1', () => c.write('POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 50\r\n\r\n{"a":'));
        let data = '';
        c.on('data', (d) => (data += d));
        c.on('close', () => resolve(data));
      });
      assert.match(reply, /^HTTP\/1\.1 408 /);
      assert.match(reply, /timed out reading the request body/);
    });
  } finally {
    delete process.env.BERTH_API_BODY_TIMEOUT_MS;
  }
});

test('query parameters as dockerd parses them', () => {
  const q = new URLSearchParams('a=1&b=True&c=no&d=none&e=0&f=FALSE&g=&n=-5&big=99999999999999999999&x=1.5');
  assert.deepEqual(['a', 'b', 'c', 'd', 'e', 'f', 'g', 'zz'].map((k) => boolParam(q, k)), [true, true, false, false, false, false, false, false]);
  assert.equal(intParam(q, 'n'), -5);
  assert.equal(intParam(q, 'zz'), undefined);
  assert.throws(() => intParam(q, 'big'), /invalid value for big/);
  assert.throws(() => intParam(q, 'x'), /invalid value for x/);
});
