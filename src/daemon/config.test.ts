import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseDaemonArgs, UsageError, type DaemonConfig } from './config';

function parse(argv: string[], file?: Record<string, unknown>): DaemonConfig {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-config-'));
  try {
    const cfg = path.join(dir, 'daemon.json');
    fs.writeFileSync(cfg, JSON.stringify(file ?? {}));
    const r = parseDaemonArgs(['--config-file', cfg, ...argv]);
    assert.ok(typeof r === 'object');
    return r.config;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

test('TLS settings from flags: --tlsverify implies --tls; --insecure-tcp', () => {
  const c = parse(['-H', 'unix:///tmp/a.sock', '-H', 'tcp://127.0.0.1:2376', '--tlsverify', '--tlscacert', '/c/ca.pem', '--tlscert=/c/cert.pem', '--tlskey', '/c/key.pem']);
  assert.deepEqual(c.hosts, ['unix:///tmp/a.sock', 'tcp://127.0.0.1:2376']);
  assert.equal(c.tls, true);
  assert.equal(c.tlsVerify, true);
  assert.deepEqual([c.tlsCaCert, c.tlsCert, c.tlsKey], ['/c/ca.pem', '/c/cert.pem', '/c/key.pem']);
  assert.equal(c.insecureTcp, false);
  assert.equal(parse(['--insecure-tcp']).insecureTcp, true);
  assert.equal(parse(['--tls=false']).tls, false);
});

test('TLS settings and hosts from daemon.json, dockerd key names; a key given twice is an error', () => {
  const c = parse([], { hosts: ['tcp://127.0.0.1:1'], tlsverify: true, tlscacert: '/f/ca.pem', tlscert: '/f/cert.pem', tlskey: '/f/key.pem' });
  assert.deepEqual(c.hosts, ['tcp://127.0.0.1:1']);
  assert.equal(c.tls && c.tlsVerify, true);
  assert.equal(c.tlsCaCert, '/f/ca.pem');
  assert.throws(() => parse(['--tlsverify'], { tlsverify: true }), (e: Error) => e instanceof UsageError && /specified both as a flag and in the configuration file/.test(e.message));
});

test('certificates default to $DOCKER_CERT_PATH', () => {
  const old = process.env.DOCKER_CERT_PATH;
  process.env.DOCKER_CERT_PATH = '/certs';
  try {
    const c = parse(['--tlsverify']);
    assert.deepEqual([c.tlsCaCert, c.tlsCert, c.tlsKey], ['/certs/ca.pem', '/certs/cert.pem', '/certs/key.pem']);
  } finally {
    if (old === undefined) delete process.env.DOCKER_CERT_PATH;
    else process.env.DOCKER_CERT_PATH = old;
  }
});
