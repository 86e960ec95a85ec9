/**
 * Issue 7, acceptance 5 and the socket half of the API hardening: the UNIX socket is 0660
 * root:<group>; a TCP host speaks mutual TLS that the docker CLI's --tlsverify talks to, and
 * refuses clients without a certificate the CA signed; plain TCP is refused unless it is on
 * loopback with --insecure-tcp.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import tls from 'node:tls';
import { TestDaemon, BERTHD, BERTH, DOCKER, integrationSkipReason, type RunResult } from '../helpers/daemon';
import { makeCerts, freePort, type TestCerts } from '../helpers/certs';

const skip = integrationSkipReason();

/** berthd run in the foreground with an empty daemon.json; for configurations it must refuse. */
function berthdRefuses(dir: string, args: string[]): RunResult {
  const cfg = path.join(dir, 'empty.json');
  fs.writeFileSync(cfg, '{}');
  const r = spawnSync(process.execPath, [BERTHD, '--config-file', cfg, '--data-root', path.join(dir, 'never'), '--exec-root', path.join(dir, 'never-exec'), ...args], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** A TLS connection that sends one request; resolves to the HTTP reply, or the error that ended it. */
function tlsRequest(port: number, opts: tls.ConnectionOptions): Promise<{ reply?: string; error?: string }> {
  return new Promise((resolve) => {
    let data = '';
    const s = tls.connect({ host: '127.0.0.1', port, servername: 'localhost', ...opts }, () => {
      s.write('GET /_ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    });
    s.setTimeout(20_000, () => s.destroy(new Error('timeout')));
    s.on('data', (c) => (data += c));
    s.on('error', (e) => resolve({ reply: data || undefined, error: e.message }));
    s.on('close', () => resolve({ reply: data || undefined }));
  });
}

describe('API listeners: socket permissions, mutual TLS, refusals', { skip }, () => {
  const group = `berthtest${process.pid % 100000}`;
  let gid = -1;
  let certs: TestCerts;
  let port = 0;
  let d: TestDaemon;
  const work = fs.mkdtempSync('/tmp/berth-listen-');
  const dockerConfig = path.join(work, 'docker-config');

  before(async () => {
    fs.mkdirSync(dockerConfig);
    certs = makeCerts(path.join(work, 'certs'));
    // A throwaway group for the socket's owner, removed in after().
    const g = spawnSync('groupadd', [group], { encoding: 'utf8' });
    assert.equal(g.status, 0, g.stderr);
    gid = Number(spawnSync('getent', ['group', group], { encoding: 'utf8' }).stdout.split(':')[2]);
    port = await freePort();
    d = new TestDaemon('listen', ['--group', group, '-H', `tcp://127.0.0.1:${port}`, '--tlsverify', '--tlscacert', certs.ca, '--tlscert', certs.serverCert, '--tlskey', certs.serverKey]);
    await d.start();
    await waitForTcp(port);
    d.importBusybox();
  });

  after(async () => {
    const leaks = d ? await d.cleanup() : [];
    spawnSync('groupdel', [group]);
    fs.rmSync(work, { recursive: true, force: true });
    assert.deepEqual(leaks, []);
  });

  const tcpHost = (): string => `tcp://127.0.0.1:${port}`;
  /** The docker CLI over TCP; DOCKER_CERT_PATH points at an empty directory so only flags count. */
  const dockerTcp = (args: string[], env: Record<string, string> = {}): RunResult => {
    const r = spawnSync(DOCKER, args, {
      env: { ...process.env, DOCKER_HOST: '', DOCKER_CONFIG: dockerConfig, DOCKER_CERT_PATH: path.join(work, 'nocerts'), ...env },
      encoding: 'utf8',
      timeout: 60_000,
    });
    return { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
  };
  const mtls = (): string[] => ['--tlsverify', '--tlscacert', certs.ca, '--tlscert', certs.clientCert, '--tlskey', certs.clientKey, '-H', tcpHost()];

  test('the UNIX socket is 0660, owned by root and the --group group', () => {
    const st = fs.statSync(d.socket);
    assert.equal(st.isSocket(), true);
    assert.equal(st.mode & 0o777, 0o660);
    assert.equal(st.uid, 0);
    assert.equal(st.gid, gid);
  });

  test('docker --tlsverify with a client certificate: version, ps, run over TLS', () => {
    const v = dockerTcp([...mtls(), 'version', '--format', '{{.Server.APIVersion}}']);
    assert.equal(v.code, 0, v.stderr);
    assert.equal(v.stdout.trim(), '1.41');
    const run = dockerTcp([...mtls(), 'run', '--name', 'over-tls', 'busybox', 'echo', 'hello over tls']);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, 'hello over tls\n');
    const ps = dockerTcp([...mtls(), 'ps', '-a', '--format', '{{.Names}} {{.Status}}']);
    assert.equal(ps.code, 0, ps.stderr);
    assert.match(ps.stdout, /^over-tls Exited \(0\)/m);
    // The same daemon still serves its UNIX socket.
    assert.match(d.docker(['ps', '-a', '--format', '{{.Names}}']).stdout, /over-tls/);
    assert.equal(dockerTcp([...mtls(), 'rm', 'over-tls']).code, 0);
  });

  test('docker without a client certificate cannot talk to the daemon', () => {
    const noCert = dockerTcp(['--tls', '--tlscacert', certs.ca, '-H', tcpHost(), 'version', '--format', '{{.Server.APIVersion}}']);
    assert.notEqual(noCert.code, 0);
    assert.doesNotMatch(noCert.stdout, /1\.41/);
    assert.match(noCert.stderr, /certificate|tls|handshake|connection/i);
    const verifyNoCert = dockerTcp(['--tlsverify', '--tlscacert', certs.ca, '-H', tcpHost(), 'ps']);
    assert.notEqual(verifyNoCert.code, 0);
    const rogue = dockerTcp(['--tlsverify', '--tlscacert', certs.ca, '--tlscert', certs.rogueCert, '--tlskey', certs.rogueKey, '-H', tcpHost(), 'ps']);
    assert.notEqual(rogue.code, 0);
    assert.match(rogue.stderr, /certificate|tls|handshake/i);
    const plain = dockerTcp(['-H', tcpHost(), 'ps']);
    assert.notEqual(plain.code, 0);
  });

  test('a raw TLS client without a certificate, or with one from another CA, gets no reply', async () => {
    const ca = fs.readFileSync(certs.ca);
    const withCert = await tlsRequest(port, { ca, cert: fs.readFileSync(certs.clientCert), key: fs.readFileSync(certs.clientKey) });
    assert.match(withCert.reply ?? '', /^HTTP\/1\.1 200 OK[\s\S]*\r\nOK\r\n/);
    const none = await tlsRequest(port, { ca });
    assert.equal(none.reply, undefined);
    assert.match(none.error ?? 'closed', /certificate|alert|closed|ECONNRESET|socket/i);
    const rogue = await tlsRequest(port, { ca, cert: fs.readFileSync(certs.rogueCert), key: fs.readFileSync(certs.rogueKey) });
    assert.equal(rogue.reply, undefined);
    const old = await tlsRequest(port, { ca, cert: fs.readFileSync(certs.clientCert), key: fs.readFileSync(certs.clientKey), maxVersion: 'TLSv1.1', minVersion: 'TLSv1' });
    assert.equal(old.reply, undefined, 'TLS 1.1 must be refused');
    const s = spawnSync('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-CAfile', certs.ca], { input: 'GET /_ping HTTP/1.1\r\nHost: x\r\n\r\n', encoding: 'utf8', timeout: 20_000 });
    assert.doesNotMatch(s.stdout, /HTTP\/1\.1 200/);
  });

  test('plain HTTP to the TLS port gets no API answer', async () => {
    const r = await new Promise<string>((resolve) => {
      const req = http.get({ host: '127.0.0.1', port, path: '/_ping' }, (res) => resolve(`status ${res.statusCode}`));
      req.on('error', (e) => resolve(`error ${e.message}`));
    });
    assert.doesNotMatch(r, /status 200/);
  });

  test('berth CLI: --tlsverify flags, and DOCKER_HOST/DOCKER_TLS_VERIFY/DOCKER_CERT_PATH', () => {
    const berth = (args: string[], env: Record<string, string>): RunResult => {
      const r = spawnSync(process.execPath, [BERTH, ...args], { env: { ...process.env, BERTH_HOST: '', DOCKER_HOST: '', DOCKER_CONFIG: dockerConfig, ...env }, encoding: 'utf8', timeout: 60_000 });
      return { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
    };
    const flags = berth([...mtls(), 'run', '--rm', 'busybox', 'echo', 'berth over tls'], { DOCKER_CERT_PATH: path.join(work, 'nocerts') });
    assert.equal(flags.code, 0, flags.stderr);
    assert.equal(flags.stdout, 'berth over tls\n');
    const certDir = path.join(work, 'certdir');
    fs.mkdirSync(certDir, { recursive: true });
    fs.copyFileSync(certs.ca, path.join(certDir, 'ca.pem'));
    fs.copyFileSync(certs.clientCert, path.join(certDir, 'cert.pem'));
    fs.copyFileSync(certs.clientKey, path.join(certDir, 'key.pem'));
    const env = berth(['ps', '-a', '--format', '{{.Names}}'], { DOCKER_HOST: tcpHost(), DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: certDir });
    assert.equal(env.code, 0, env.stderr);
    const noCert = berth(['--tls', '--tlscacert', certs.ca, '-H', tcpHost(), 'ps'], { DOCKER_CERT_PATH: path.join(work, 'nocerts') });
    assert.notEqual(noCert.code, 0);
    // docker's CLI over the same TLS endpoint agrees with berth's.
    assert.equal(dockerTcp(['ps', '-a', '--format', '{{.Names}}'], { DOCKER_HOST: tcpHost(), DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: certDir }).code, 0);
  });

  test('berthd refuses plain TCP, --tls without verification, and missing certificates (exit 1)', () => {
    const p = String(port + 1);
    const plain = berthdRefuses(work, ['-H', `tcp://127.0.0.1:${p}`]);
    assert.equal(plain.code, 1, plain.stderr);
    assert.match(plain.stderr, /refusing to listen on tcp:\/\/127\.0\.0\.1:\d+ without TLS.*--tlsverify/);
    const wild = berthdRefuses(work, ['-H', `tcp://0.0.0.0:${p}`, '--insecure-tcp']);
    assert.equal(wild.code, 1);
    assert.match(wild.stderr, /--insecure-tcp allows only a loopback address/);
    const serverOnly = berthdRefuses(work, ['-H', `tcp://0.0.0.0:${p}`, '--tls', '--tlscert', certs.serverCert, '--tlskey', certs.serverKey]);
    assert.equal(serverOnly.code, 1);
    assert.match(serverOnly.stderr, /--tls without --tlsverify/);
    const missing = berthdRefuses(work, ['-H', `tcp://127.0.0.1:${p}`, '--tlsverify', '--tlscacert', path.join(work, 'no-ca.pem'), '--tlscert', certs.serverCert, '--tlskey', certs.serverKey]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /could not load the TLS CA certificate \(--tlscacert\)/);
    const bad = berthdRefuses(work, ['-H', 'tcp://127.0.0.1:99999']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /out of range/);
    assert.equal(fs.existsSync(path.join(work, 'never')), false, 'a refused configuration touches no state');
  });

  test('--insecure-tcp on loopback serves plain HTTP; without the berth group the socket keeps root', async () => {
    const p = await freePort();
    const plain = new TestDaemon('listen-insecure', ['--group', `${group}-absent`, '-H', `tcp://127.0.0.1:${p}`, '--insecure-tcp']);
    try {
      await plain.start();
      await waitForTcp(p);
      const r = spawnSync(DOCKER, ['-H', `tcp://127.0.0.1:${p}`, 'version', '--format', '{{.Server.APIVersion}}'], { env: { ...process.env, DOCKER_CONFIG: dockerConfig }, encoding: 'utf8', timeout: 60_000 });
      assert.equal(r.stdout.trim(), '1.41', r.stderr);
      const st = fs.statSync(plain.socket);
      assert.equal(st.mode & 0o777, 0o660);
      assert.equal(st.gid, 0);
      assert.match(plain.log, /could not change group .* group berthtest\d+-absent not found/);
      assert.match(plain.log, /without client certificates \(--insecure-tcp\)/);
    } finally {
      assert.deepEqual(await plain.cleanup(), []);
    }
  });
});

async function waitForTcp(port: number): Promise<void> {
  const net = await import('node:net');
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((resolve) => {
      const c = net.connect(port, '127.0.0.1', () => {
        c.destroy();
        resolve(true);
      });
      c.on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nothing listens on 127.0.0.1:${port}`);
}
