import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseListenHost, isLoopback, planListeners } from './listen';
import type { DaemonConfig } from '../daemon/config';

test('parseListenHost: unix and tcp forms, dockerd defaults', () => {
  assert.deepEqual(parseListenHost('unix:///run/x.sock', false), { kind: 'unix', path: '/run/x.sock', host: 'unix:///run/x.sock' });
  assert.deepEqual(parseListenHost('/run/y.sock', false), { kind: 'unix', path: '/run/y.sock', host: '/run/y.sock' });
  assert.equal((parseListenHost('unix://', false) as { path: string }).path, '/run/berth/berth.sock');
  assert.deepEqual(parseListenHost('tcp://127.0.0.1:2377', true), { kind: 'tcp', address: '127.0.0.1', port: 2377, host: 'tcp://127.0.0.1:2377' });
  assert.equal((parseListenHost('tcp://:2377', true) as { address: string }).address, '127.0.0.1');
  assert.equal((parseListenHost('tcp://10.0.0.1', true) as { port: number }).port, 2376);
  assert.equal((parseListenHost('tcp://10.0.0.1', false) as { port: number }).port, 2375);
  assert.equal((parseListenHost('tcp://[::1]:9', false) as { address: string }).address, '::1');
  assert.throws(() => parseListenHost('tcp://1.2.3.4:70000', true), /out of range/);
  assert.throws(() => parseListenHost('fd://', true), /invalid host/);
  assert.throws(() => parseListenHost('tcp://a b:1', true), /invalid host/);
});

test('isLoopback', () => {
  for (const a of ['127.0.0.1', '127.9.9.9', '::1', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.1', 'localhost']) assert.equal(isLoopback(a), true, a);
  for (const a of ['0.0.0.0', '10.0.0.1', '::', '128.0.0.1', 'example.com', '::ffff:10.0.0.1']) assert.equal(isLoopback(a), false, a);
});

test('planListeners: TCP needs --tlsverify, or --insecure-tcp on loopback', () => {
  const cfg = (over: Partial<DaemonConfig>): DaemonConfig => ({ hosts: ['unix:///tmp/x.sock'], tls: false, tlsVerify: false, tlsCaCert: '/nonexistent/ca.pem', tlsCert: '/nonexistent/cert.pem', tlsKey: '/nonexistent/key.pem', insecureTcp: false, ...over }) as DaemonConfig;
  assert.equal(planListeners(cfg({})).listeners.length, 1);
  assert.throws(() => planListeners(cfg({ hosts: ['tcp://127.0.0.1:1'] })), /refusing to listen on tcp:\/\/127\.0\.0\.1:1 without TLS/);
  assert.throws(() => planListeners(cfg({ hosts: ['tcp://0.0.0.0:1'], insecureTcp: true })), /only a loopback address/);
  assert.throws(() => planListeners(cfg({ hosts: ['tcp://0.0.0.0:1'], tls: true })), /--tls without --tlsverify/);
  assert.equal(planListeners(cfg({ hosts: ['tcp://127.0.0.1:1'], insecureTcp: true })).tls, undefined);
  assert.throws(() => planListeners(cfg({ hosts: ['tcp://0.0.0.0:1'], tls: true, tlsVerify: true })), /could not load the TLS certificate \(--tlscert\) \/nonexistent\/cert\.pem/);
});
