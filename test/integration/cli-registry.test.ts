/**
 * Issue 3 through the CLIs: `berth` and the real docker CLI, each with its own client config
 * directory, log in to an htpasswd-protected `berth registry serve` (a child process on
 * 127.0.0.1), push, remove, pull back, run, and log out, with berthd in the middle.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { BERTH, TestDaemon, integrationSkipReason, sleep, type RunResult } from '../helpers/daemon';
import { freePort } from '../helpers/registry';

const HTPASSWD = '/usr/bin/htpasswd';
const skip = integrationSkipReason() ?? (fs.existsSync(HTPASSWD) ? undefined : 'htpasswd (apache2-utils) is not installed');

/** A docker-credential-helpers program keeping credentials in the JSON file $FAKE_CREDS_FILE. */
const FAKE_HELPER = `#!${process.execPath}
const fs = require('fs');
const file = process.env.FAKE_CREDS_FILE;
let input = '';
process.stdin.on('data', (c) => (input += c));
process.stdin.on('end', () => {
  const db = fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : {};
  const action = process.argv[2];
  if (action === 'store') {
    const c = JSON.parse(input);
    db[c.ServerURL] = { Username: c.Username, Secret: c.Secret };
  } else if (action === 'get') {
    if (!db[input]) { process.stdout.write('credentials not found in native keychain\\n'); process.exit(1); }
    process.stdout.write(JSON.stringify({ ServerURL: input, ...db[input] }));
    return;
  } else if (action === 'erase') {
    delete db[input];
  } else process.exit(2);
  fs.writeFileSync(file, JSON.stringify(db));
});
`;

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = net.connect(port, '127.0.0.1');
    c.on('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.on('error', () => resolve(false));
  });
}

describe('berth and docker: login, push, pull and run through berth registry serve', { skip }, () => {
  const d = new TestDaemon('cli-registry');
  let tmp = '';
  let port = 0;
  let host = '';
  let reg: ChildProcess | undefined;
  let regLog = '';

  before(async () => {
    await d.start();
    d.importBusybox();
    tmp = fs.mkdtempSync(path.join('/tmp', 'berth-cli-registry-'));
    const htpasswd = path.join(tmp, 'htpasswd');
    const ht = spawnSync(HTPASSWD, ['-nbB', 'user', 'pass'], { encoding: 'utf8' });
    assert.equal(ht.status, 0, ht.stderr);
    fs.writeFileSync(htpasswd, ht.stdout);
    port = await freePort();
    host = `127.0.0.1:${port}`;
    // A child process: the CLIs run through spawnSync, which would block a server in this process.
    reg = spawn(process.execPath, [BERTH, 'registry', 'serve', '--addr', host, '--root', path.join(tmp, 'registry'), '--htpasswd', htpasswd], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    reg.stdout!.on('data', (c) => (regLog += c));
    reg.stderr!.on('data', (c) => (regLog += c));
    const deadline = Date.now() + 10_000;
    while (!(await canConnect(port))) {
      if (reg.exitCode !== null || Date.now() > deadline) throw new Error(`berth registry serve did not start: ${regLog}`);
      await sleep(50);
    }
  });

  after(async () => {
    const p = reg;
    if (p && p.exitCode === null && p.signalCode === null) {
      const exited = new Promise((r) => p.once('exit', r));
      p.kill('SIGTERM');
      await Promise.race([exited, sleep(5000)]);
      if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
    }
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
    assert.deepEqual(await d.cleanup(), []);
  });

  /** Runs one CLI with its own DOCKER_CONFIG (and HOME, so nothing falls back to the real one). */
  function cliWith(cli: 'berth' | 'docker', configDir: string, extraEnv: Record<string, string> = {}) {
    return (args: string[], input?: string): RunResult =>
      d[cli](args, { input, env: { DOCKER_CONFIG: configDir, HOME: path.join(tmp, `home-${cli}`), ...extraEnv } });
  }

  const readConfig = (dir: string): { auths?: Record<string, Record<string, string>>; [k: string]: unknown } =>
    JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));

  for (const cli of ['berth', 'docker'] as const) {
    test(`${cli}: wrong password, login, push, rmi, pull, run, logout`, () => {
      const configDir = path.join(tmp, `${cli}-config`);
      const run = cliWith(cli, configDir);
      const name = `${host}/test/${cli}-bb:v1`;
      const id = run(['inspect', '-f', '{{.Id}}', 'busybox']).stdout.trim();
      assert.match(id, /^sha256:/);
      assert.equal(run(['tag', 'busybox', name]).code, 0);

      let r = run(['push', name]);
      assert.equal(r.code, 1, 'push without login');
      assert.match(r.stderr, /unauthorized/);

      r = run(['login', '-u', 'user', '-p', 'wrong', host]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /^WARNING! Using --password via the CLI is insecure\. Use --password-stdin\.\n/);
      assert.match(r.stderr, /Error response from daemon: .*unauthorized/);
      assert.ok(!fs.existsSync(path.join(configDir, 'config.json')), 'a failed login stores nothing');

      r = run(['login', '-u', 'user', '--password-stdin', host], 'pass\n');
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, 'Login Succeeded\n');
      assert.match(r.stderr, /WARNING! Your credentials are stored unencrypted in '.*config\.json'/);
      assert.deepEqual(readConfig(configDir), { auths: { [host]: { auth: Buffer.from('user:pass').toString('base64') } } });
      assert.equal(fs.statSync(path.join(configDir, 'config.json')).mode & 0o777, 0o600);

      r = run(['push', name]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`^The push refers to repository \\[${host}/test/${cli}-bb\\]\n`));
      assert.match(r.stdout, /\nv1: digest: sha256:[a-f0-9]{64} size: \d+\n$/);
      const digest = /digest: (sha256:[a-f0-9]{64})/.exec(r.stdout)![1];

      // Gone locally (both names of the image), then back from the registry.
      assert.equal(run(['rmi', name, 'busybox']).code, 0);
      assert.notEqual(run(['image', 'inspect', name]).code, 0);
      r = run(['pull', name]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`^v1: Pulling from test/${cli}-bb\n`));
      assert.match(r.stdout, / Pull complete\n/);
      assert.ok(r.stdout.endsWith(`Digest: ${digest}\nStatus: Downloaded newer image for ${name}\n${name}\n`), r.stdout);
      assert.equal(run(['inspect', '-f', '{{.Id}}', name]).stdout.trim(), id);
      r = run(['run', '--rm', name, 'echo', 'pulled']);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, 'pulled\n');

      // run's own pull carries the credentials too.
      assert.equal(run(['tag', name, 'busybox']).code, 0);
      assert.equal(run(['rmi', name]).code, 0);
      r = run(['run', '--rm', name, 'echo', 'pulled by run']);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, 'pulled by run\n');
      assert.match(r.stderr, new RegExp(`^Unable to find image '${name}' locally\n`));

      r = run(['logout', host]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, `Removing login credentials for ${host}\n`);
      assert.deepEqual(readConfig(configDir), { auths: {} });

      r = run(['push', name]);
      assert.equal(r.code, 1, 'push after logout');
      assert.match(r.stderr, /unauthorized/);
      r = run(['login', host]);
      assert.equal(r.code, 1);
      assert.equal(r.stderr, 'Error: Cannot perform an interactive login from a non TTY device\n');
      assert.equal(run(['rmi', name]).code, 0);
    });
  }

  test('berth pull and push -q print only the reference', () => {
    const configDir = path.join(tmp, 'quiet-config');
    const run = cliWith('berth', configDir);
    assert.equal(run(['login', '-u', 'user', '-p', 'pass', host]).code, 0);
    const name = `${host}/test/quiet`;
    assert.equal(run(['tag', 'busybox', `${name}:v1`]).code, 0);
    let r = run(['push', '-q', `${name}:v1`]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `${name}:v1\n`);
    r = run(['image', 'pull', '-q', `${name}:v1`]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `${name}:v1\n`);
    r = run(['pull', name]);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, 'Using default tag: latest\n');
    assert.match(r.stderr, /^Error response from daemon: .*not found/);
    r = run(['pull', '-a', `${name}:v1`]);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, "tag can't be used with --all-tags/-a\n");
    assert.equal(run(['rmi', `${name}:v1`]).code, 0);
  });

  test('a credential helper shared by both CLIs: docker logs in, berth pushes and logs out', () => {
    const bin = path.join(tmp, 'bin');
    fs.mkdirSync(bin, { recursive: true });
    fs.writeFileSync(path.join(bin, 'docker-credential-fake'), FAKE_HELPER, { mode: 0o755 });
    const configDir = path.join(tmp, 'helper-config');
    fs.mkdirSync(configDir);
    fs.writeFileSync(path.join(configDir, 'config.json'), JSON.stringify({ credsStore: 'fake', psFormat: 'table {{.ID}}' }));
    const env = { PATH: `${bin}:${process.env.PATH}`, FAKE_CREDS_FILE: path.join(tmp, 'creds.json') };
    const docker = cliWith('docker', configDir, env);
    const berth = cliWith('berth', configDir, env);

    let r = docker(['login', '-u', 'user', '--password-stdin', host], 'pass');
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(readConfig(configDir), { auths: { [host]: {} }, credsStore: 'fake', psFormat: 'table {{.ID}}' });
    assert.deepEqual(JSON.parse(fs.readFileSync(env.FAKE_CREDS_FILE, 'utf8')), { [host]: { Username: 'user', Secret: 'pass' } });

    const name = `${host}/test/helper:v1`;
    assert.equal(berth(['tag', 'busybox', name]).code, 0);
    r = berth(['push', name]);
    assert.equal(r.code, 0, r.stderr);

    r = berth(['logout', host]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(fs.readFileSync(env.FAKE_CREDS_FILE, 'utf8')), {});
    assert.deepEqual(readConfig(configDir), { auths: {}, credsStore: 'fake', psFormat: 'table {{.ID}}' });
    r = berth(['push', name]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /unauthorized/);

    // berth logs in through the helper; docker finds the credentials there.
    r = berth(['login', '-u', 'user', '--password-stdin', host], 'pass\n');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '', 'no unencrypted-credentials warning with a helper');
    r = docker(['push', name]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(berth(['rmi', name]).code, 0);
  });
});
