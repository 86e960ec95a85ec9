/**
 * pull, push, login and logout against a fake Engine API: what they send (X-Registry-Auth, the
 * /auth body, the query), what they print, what they write to config.json, and the prompts.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { decodeAuthConfig } from '../client/auth';
import { main } from './main';

interface Req {
  method: string;
  path: string;
  query: URLSearchParams;
  auth: string | undefined;
  body: string;
}

type Handler = (req: Req, res: http.ServerResponse) => void;

let dir = '';
let sock = '';
let srv: http.Server;
let requests: Req[] = [];
let routes: Record<string, Handler> = {};

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-registry-cli-'));
  sock = path.join(dir, 'sock');
  srv = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const u = new URL(req.url ?? '/', 'http://x');
      const r: Req = {
        method: req.method ?? '',
        path: u.pathname.replace(/^\/v[0-9.]+/, ''),
        query: u.searchParams,
        auth: req.headers['x-registry-auth'] as string | undefined,
        body,
      };
      requests.push(r);
      const h = routes[`${r.method} ${r.path}`];
      if (h) h(r, res);
      else json(res, 404, { message: 'page not found' });
    });
  });
  await new Promise<void>((r) => srv.listen(sock, r));
});

after(async () => {
  srv.closeAllConnections();
  await new Promise<void>((r) => srv.close(() => r()));
  fs.rmSync(dir, { recursive: true, force: true });
});

function json(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(body));
}

function stream(res: http.ServerResponse, messages: object[]): void {
  res.writeHead(200, { 'Content-Type': 'application/json' });
  res.end(messages.map((m) => `${JSON.stringify(m)}\r\n`).join(''));
}

class Capture extends Writable {
  data = '';
  isTTY = false;
  override _write(chunk: Buffer, _enc: string, cb: () => void): void {
    this.data += chunk.toString();
    cb();
  }
}

/** A fresh client config directory per test. */
function configDir(name: string, config?: object): string {
  const d = path.join(dir, name);
  fs.mkdirSync(d, { recursive: true });
  if (config) fs.writeFileSync(path.join(d, 'config.json'), JSON.stringify(config));
  return d;
}

async function berth(argv: string[], cfg: string, opts: { input?: string; stdinTTY?: boolean } = {}) {
  requests = [];
  const out = new Capture();
  const err = new Capture();
  const input = new PassThrough() as PassThrough & { isTTY?: boolean };
  input.isTTY = !!opts.stdinTTY;
  input.end(opts.input ?? '');
  const code = await main(argv, { in: input, out, err }, { BERTH_HOST: `unix://${sock}`, DOCKER_CONFIG: cfg, PATH: '' });
  return { code, out: out.data, err: err.data };
}

const b64 = (s: string): string => Buffer.from(s).toString('base64');
const PULL_STREAM = [
  { status: 'Pulling from test/app', id: 'v1' },
  { status: 'Pulling fs layer', progressDetail: {}, id: 'abc' },
  { status: 'Downloading', progressDetail: { current: 5, total: 10 }, progress: '[==>  ]', id: 'abc' },
  { status: 'Pull complete', progressDetail: {}, id: 'abc' },
  { status: 'Digest: sha256:1111' },
  { status: 'Status: Downloaded newer image for reg.example:5000/test/app:v1' },
];

test('pull: X-Registry-Auth from config.json, the query docker sends, docker lines and the reference', async () => {
  const cfg = configDir('pull', { auths: { 'reg.example:5000': { auth: b64('user:pass') } } });
  routes = { 'POST /images/create': (_r, res) => stream(res, PULL_STREAM) };
  let r = await berth(['pull', 'reg.example:5000/test/app:v1'], cfg);
  assert.equal(r.code, 0, r.err);
  assert.equal(
    r.out,
    'v1: Pulling from test/app\nabc: Pulling fs layer\nabc: Pull complete\nDigest: sha256:1111\nStatus: Downloaded newer image for reg.example:5000/test/app:v1\nreg.example:5000/test/app:v1\n',
  );
  const req = requests[0];
  assert.equal(req.query.get('fromImage'), 'reg.example:5000/test/app');
  assert.equal(req.query.get('tag'), 'v1');
  assert.equal(req.query.get('platform'), null);
  assert.deepEqual(decodeAuthConfig(req.auth!), { username: 'user', password: 'pass', serveraddress: 'reg.example:5000' });

  // No credentials for Docker Hub: `{}`, as docker sends; the default tag is announced.
  r = await berth(['image', 'pull', '--platform', 'Linux/ARM64', 'busybox'], cfg);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /^Using default tag: latest\n/);
  assert.match(r.out, /\ndocker\.io\/library\/busybox:latest\n$/);
  assert.equal(requests[0].auth, 'e30=');
  assert.equal(requests[0].query.get('fromImage'), 'docker.io/library/busybox');
  assert.equal(requests[0].query.get('tag'), 'latest');
  assert.equal(requests[0].query.get('platform'), 'linux/arm64');

  // -q: the reference only; -a: no tag.
  r = await berth(['pull', '-q', 'reg.example:5000/test/app@sha256:' + 'a'.repeat(64)], cfg);
  assert.equal(r.out, `reg.example:5000/test/app@sha256:${'a'.repeat(64)}\n`);
  assert.equal(requests[0].query.get('tag'), `sha256:${'a'.repeat(64)}`);
  r = await berth(['pull', '-a', 'reg.example:5000/test/app'], cfg);
  assert.equal(requests[0].query.get('tag'), null);
  assert.match(r.out, /\nreg\.example:5000\/test\/app\n$/);
});

test('pull errors: the daemon refuses (prefixed), fails mid-stream (bare), a bad name', async () => {
  const cfg = configDir('pull-errors');
  routes = { 'POST /images/create': (_r, res) => json(res, 404, { message: 'manifest unknown' }) };
  let r = await berth(['pull', 'reg.example:5000/x:v1'], cfg);
  assert.equal(r.code, 1);
  assert.equal(r.err, 'Error response from daemon: manifest unknown\n');
  routes = { 'POST /images/create': (_r, res) => stream(res, [PULL_STREAM[0], { errorDetail: { message: 'unauthorized: authentication required' }, error: 'unauthorized: authentication required' }]) };
  r = await berth(['pull', 'reg.example:5000/x:v1'], cfg);
  assert.equal(r.code, 1);
  assert.equal(r.out, 'v1: Pulling from test/app\n');
  assert.equal(r.err, 'unauthorized: authentication required\n');
  r = await berth(['pull', 'Upper/Case'], cfg);
  assert.equal(r.code, 1);
  assert.equal(r.err, 'invalid reference format: repository name (Case) must be lowercase\n');
  r = await berth(['pull', '-a', 'x:v1'], cfg);
  assert.equal(r.err, "tag can't be used with --all-tags/-a\n");
});

test('pull after a 401 on a terminal: asks for credentials and tries once more', async () => {
  const cfg = configDir('privilege');
  routes = {
    'POST /images/create': (req, res) => {
      if (decodeAuthConfig(req.auth ?? '').password !== 'secret') json(res, 401, { message: 'unauthorized: authentication required' });
      else stream(res, PULL_STREAM.slice(4));
    },
  };
  let r = await berth(['pull', 'reg.example:5000/x:v1'], cfg, { stdinTTY: true, input: 'me\nsecret\n' });
  assert.equal(r.code, 0, r.err);
  assert.equal(r.out, '\nLogin prior to pull:\nUsername: Password: \nDigest: sha256:1111\nStatus: Downloaded newer image for reg.example:5000/test/app:v1\nreg.example:5000/x:v1\n');
  assert.deepEqual(decodeAuthConfig(requests[1].auth!), { username: 'me', password: 'secret', serveraddress: 'reg.example:5000' });
  // Not a terminal: no prompt, the daemon's answer.
  r = await berth(['pull', 'reg.example:5000/x:v1'], cfg, { input: 'me\nsecret\n' });
  assert.equal(r.code, 1);
  assert.equal(r.err, 'Error response from daemon: unauthorized: authentication required\n');
  assert.equal(requests.length, 1);
});

test('push: the name in the path, the tag in the query, credentials in the header; -q', async () => {
  const cfg = configDir('push', { auths: { 'reg.example:5000': { identitytoken: 'refresh' } } });
  const messages = [
    { status: 'The push refers to repository [reg.example:5000/test/app]' },
    { status: 'Preparing', progressDetail: {}, id: 'abc' },
    { status: 'Pushed', progressDetail: {}, id: 'abc' },
    { status: 'v1: digest: sha256:2222 size: 527' },
    { progressDetail: {}, aux: { Tag: 'v1', Digest: 'sha256:2222', Size: 527 } },
  ];
  routes = { 'POST /images/reg.example:5000/test/app/push': (_r, res) => stream(res, messages) };
  let r = await berth(['push', 'reg.example:5000/test/app:v1'], cfg);
  assert.equal(r.code, 0, r.err);
  assert.equal(r.out, 'The push refers to repository [reg.example:5000/test/app]\nabc: Preparing\nabc: Pushed\nv1: digest: sha256:2222 size: 527\n');
  assert.equal(requests[0].query.get('tag'), 'v1');
  assert.deepEqual(decodeAuthConfig(requests[0].auth!), { serveraddress: 'reg.example:5000', identitytoken: 'refresh' });
  r = await berth(['image', 'push', '-q', 'reg.example:5000/test/app'], cfg);
  assert.equal(r.out, 'reg.example:5000/test/app:latest\n');
  r = await berth(['push', `reg.example:5000/test/app@sha256:${'b'.repeat(64)}`], cfg);
  assert.equal(r.code, 1);
  assert.equal(r.err, 'cannot push a digest reference\n');
});

test('login: /auth gets the credentials, config.json gets the entry; a 401 is the daemon error', async () => {
  const cfg = configDir('login', { psFormat: 'table {{.ID}}' });
  let body: Record<string, string> = {};
  routes = {
    'POST /auth': (req, res) => {
      body = JSON.parse(req.body) as Record<string, string>;
      if (body.password === 'pass') json(res, 200, { Status: 'Login Succeeded' });
      else json(res, 401, { message: 'login attempt to http://reg.example:5000/v2/ failed with status: 401 Unauthorized' });
    },
  };
  let r = await berth(['login', '-u', 'user', '-p', 'nope', 'reg.example:5000'], cfg);
  assert.equal(r.code, 1);
  assert.equal(
    r.err,
    'WARNING! Using --password via the CLI is insecure. Use --password-stdin.\nError response from daemon: login attempt to http://reg.example:5000/v2/ failed with status: 401 Unauthorized\n',
  );
  assert.deepEqual(JSON.parse(fs.readFileSync(path.join(cfg, 'config.json'), 'utf8')), { psFormat: 'table {{.ID}}' });

  r = await berth(['login', '--username', 'user', '--password-stdin', 'https://reg.example:5000/'], cfg, { input: 'pass\r\n' });
  assert.equal(r.code, 0, r.err);
  assert.equal(r.out, 'Login Succeeded\n');
  assert.deepEqual(body, { username: 'user', password: 'pass', serveraddress: 'reg.example:5000' });
  assert.deepEqual(JSON.parse(fs.readFileSync(path.join(cfg, 'config.json'), 'utf8')), {
    auths: { 'reg.example:5000': { auth: b64('user:pass') } },
    psFormat: 'table {{.ID}}',
  });

  // Stored credentials are tried first when no -u/-p is given.
  r = await berth(['login', 'reg.example:5000'], cfg);
  assert.equal(r.code, 0, r.err);
  assert.match(r.err, /^Authenticating with existing credentials\.\.\. \[Username: user\]\n\n Info -> To login with a different account, run 'berth logout' followed by 'berth login'\n\n\n$/);
  assert.equal(r.out, 'Login Succeeded\n');
});

test('login: flag checks, non-terminals, prompts on a terminal', async () => {
  const cfg = configDir('login-flags');
  routes = { 'POST /auth': (_req, res) => json(res, 200, { Status: 'Login Succeeded', IdentityToken: 'tok' }) };
  let r = await berth(['login', '-p', 'x', '--password-stdin', '-u', 'u'], cfg);
  assert.equal(r.err, 'conflicting options: cannot specify both --password and --password-stdin\n');
  r = await berth(['login', '--password-stdin'], cfg);
  assert.equal(r.err, 'the --password-stdin option requires --username to be set\n');
  r = await berth(['login', '-u', ''], cfg);
  assert.equal(r.err, 'username is empty\n');
  r = await berth(['login', '-u', 'me', 'reg.example'], cfg);
  assert.equal(r.code, 1);
  assert.equal(r.err, 'Error: Cannot perform an interactive login from a non TTY device\n');
  r = await berth(['login', 'a', 'b'], cfg);
  assert.match(r.err, /^berth: 'berth login' requires at most 1 argument/);

  r = await berth(['login', 'reg.example'], cfg, { stdinTTY: true, input: 'me\nsecret\n' });
  assert.equal(r.code, 0, r.err);
  assert.equal(r.out, 'Username: Password: \nLogin Succeeded\n');
  // An identity token from the registry replaces the password.
  assert.deepEqual(JSON.parse(fs.readFileSync(path.join(cfg, 'config.json'), 'utf8')).auths, { 'reg.example': { auth: b64('me:'), identitytoken: 'tok' } });
  r = await berth(['login', 'reg.example'], cfg, { stdinTTY: true, input: '\n\n' });
  assert.equal(r.code, 1);
  assert.equal(r.out, 'Username (me): Password: \n');
  assert.equal(r.err, 'Error: Password Required\n');
});

test('logout removes the entry and the ones older clients wrote with a scheme', async () => {
  const cfg = configDir('logout', {
    auths: { 'reg.example:5000': { auth: b64('a:b') }, 'https://reg.example:5000': { auth: b64('c:d') }, 'other.example': { auth: b64('e:f') } },
  });
  const r = await berth(['logout', 'https://reg.example:5000/v2/'], cfg);
  assert.equal(r.code, 0, r.err);
  assert.equal(r.out, 'Removing login credentials for reg.example:5000\n');
  assert.deepEqual(JSON.parse(fs.readFileSync(path.join(cfg, 'config.json'), 'utf8')).auths, { 'other.example': { auth: b64('e:f') } });
  const none = await berth(['logout'], cfg);
  assert.equal(none.out, 'Removing login credentials for https://index.docker.io/v1/\n');
});
