/**
 * `berth build` and `berth builder prune` end to end against a fake Engine API: the request the
 * CLI makes (query, headers, the context tar) and what it prints for the daemon's replies.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough, Readable, Writable } from 'node:stream';
import { execFileSync } from 'node:child_process';
import { TarReader } from '../../snapshot/unpack';
import { main } from '../main';

interface Req {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

let root: string;
let sock: string;
let srv: http.Server;
let requests: Req[] = [];
/** What POST /build answers: JSON messages, or an HTTP error. */
let buildReply: { messages: unknown[] } | { status: number; message: string } = { messages: [] };

before(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-cli-build-'));
  sock = path.join(root, 'sock');
  srv = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const u = new URL(req.url ?? '/', 'http://x');
      const r: Req = { method: req.method ?? '', path: u.pathname.replace(/^\/v[0-9.]+/, ''), query: u.searchParams, headers: req.headers, body: Buffer.concat(chunks) };
      requests.push(r);
      if (r.path === '/build') {
        if ('status' in buildReply) {
          res.writeHead(buildReply.status, { 'Content-Type': 'application/json' });
          res.end(JSON.stringify({ message: buildReply.message }));
          return;
        }
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(buildReply.messages.map((m) => JSON.stringify(m) + '\n').join(''));
      } else if (r.path === '/build/prune') {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ CachesDeleted: ['3 cache entries'], SpaceReclaimed: 2_500_000 }));
      } else {
        res.writeHead(404, { 'Content-Type': 'application/json' });
        res.end('{"message":"page not found"}');
      }
    });
  });
  await new Promise<void>((r) => srv.listen(sock, r));
});

after(async () => {
  srv.closeAllConnections();
  await new Promise<void>((r) => srv.close(() => r()));
  fs.rmSync(root, { recursive: true, force: true });
});

class Capture extends Writable {
  data = '';
  isTTY = false;
  override _write(chunk: Buffer, _enc: string, cb: () => void): void {
    this.data += chunk.toString();
    cb();
  }
}

async function berth(argv: string[], opts: { input?: string | Buffer; env?: Record<string, string>; cwd?: string } = {}) {
  requests = [];
  const out = new Capture();
  const err = new Capture();
  const input = new PassThrough() as PassThrough & { isTTY?: boolean };
  input.end(opts.input ?? '');
  const cwd = process.cwd();
  if (opts.cwd) process.chdir(opts.cwd);
  try {
    const code = await main(argv, { in: input, out, err }, { BERTH_HOST: `unix://${sock}`, DOCKER_CONFIG: path.join(root, 'no-config'), ...opts.env });
    return { code, out: out.data, err: err.data };
  } finally {
    process.chdir(cwd);
  }
}

async function tarEntries(body: Buffer): Promise<Map<string, string>> {
  const r = new TarReader(Readable.from([body])[Symbol.asyncIterator]());
  const out = new Map<string, string>();
  for (let e = await r.next(); e; e = await r.next()) {
    const chunks: Buffer[] = [];
    for await (const c of r.body()) chunks.push(Buffer.from(c));
    out.set(e.name, Buffer.concat(chunks).toString());
  }
  return out;
}

function context(name: string, files: Record<string, string>): string {
  const dir = path.join(root, name);
  for (const [f, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
    fs.writeFileSync(path.join(dir, f), content);
  }
  return dir;
}

const ID = `sha256:${'ab12'.repeat(16)}`;
const ok = (...lines: string[]) => ({ messages: [...lines.map((stream) => ({ stream })), { aux: { ID } }, { stream: `Successfully built ${ID.slice(7, 19)}\n` }] });

test('flags, the context with .dockerignore applied, and the daemon stream as docker prints it', async () => {
  const dir = context('basic', {
    'sub/Df': 'FROM busybox\n',
    '.dockerignore': 'big.bin\nlogs\n!logs/keep.txt\nsub/Df\n',
    'big.bin': 'x'.repeat(10000),
    'logs/keep.txt': 'keep',
    'logs/drop.txt': 'drop',
    'app.txt': 'app',
  });
  buildReply = ok('Step 1/1 : FROM busybox\n', ' ---> 0123456789ab\n');
  const r = await berth(['build', '-t', 'app:1', '-t', 'app:2', '--build-arg', 'FROM_ENV', '--build-arg', 'X=1', '--label', 'a=b', '-f', 'sub/Df', '--no-cache', '.'], {
    cwd: dir,
    env: { FROM_ENV: 'env-value' },
  });
  assert.equal(r.err, '');
  assert.equal(r.code, 0);
  assert.match(r.out, /^Sending build context to Docker daemon {2}[0-9.]+kB\r\r\nStep 1\/1 : FROM busybox\n ---> 0123456789ab\nSuccessfully built ab12ab12ab12\n$/);
  const req = requests[0];
  assert.equal(req.method, 'POST');
  assert.equal(req.path, '/build');
  assert.deepEqual(req.query.getAll('t'), ['app:1', 'app:2']);
  assert.equal(req.query.get('dockerfile'), 'sub/Df');
  assert.equal(req.query.get('buildargs'), '{"FROM_ENV":"env-value","X":"1"}');
  assert.equal(req.query.get('labels'), '{"a":"b"}');
  assert.equal(req.query.get('nocache'), '1');
  assert.equal(req.query.get('networkmode'), 'default');
  assert.equal(req.query.get('q'), null);
  assert.equal(req.headers['content-type'], 'application/x-tar');
  assert.equal(req.headers['x-registry-config'], 'e30=');
  const files = await tarEntries(req.body);
  assert.deepEqual([...files.keys()].sort(), ['.dockerignore', 'app.txt', 'logs/keep.txt', 'sub/', 'sub/Df']);
  // the size printed is the size sent
  const size = Number(/([0-9.]+)kB/.exec(r.out)![1]) * 1000;
  assert.ok(Math.abs(size - req.body.length) < 10, `${size} vs ${req.body.length}`);
});

test('--progress=tty: step timings and the total', async () => {
  const dir = context('tty', { Dockerfile: 'FROM busybox\n' });
  buildReply = ok('Step 1/1 : FROM busybox\n', ' ---> 0123456789ab\n');
  const r = await berth(['build', '--progress', 'tty', dir]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /\n ---> 0123456789ab \(\d+\.\ds\)\nSuccessfully built ab12ab12ab12\nBuilt in \d+\.\ds\n$/);
  // plain keeps docker's lines even on a terminal
  const p = await berth(['build', '--progress=plain', dir]);
  assert.doesNotMatch(p.out, /\(\d+\.\ds\)|Built in/);
});

test('a build error: the message on stderr, the exit status from its code (a RUN exit status) or 1', async () => {
  const dir = context('fail', { Dockerfile: 'FROM busybox\nRUN exit 3\n' });
  const message = "The command '/bin/sh -c echo out && exit 3' returned a non-zero code: 3";
  buildReply = { messages: [{ stream: 'Step 2/2 : RUN echo out && exit 3\n' }, { stream: ' ---> Running in 0123456789ab\n' }, { stream: 'out\n' }, { errorDetail: { code: 3, message }, error: message }] };
  let r = await berth(['build', dir]);
  assert.equal(r.code, 3);
  assert.match(r.out, /Running in 0123456789ab\nout\n$/);
  assert.equal(r.err, `${message}\n`);
  buildReply = { messages: [{ errorDetail: { message: 'Dockerfile:2: unknown instruction: FOO' }, error: 'Dockerfile:2: unknown instruction: FOO' }] };
  r = await berth(['build', dir]);
  assert.equal(r.code, 1);
  assert.equal(r.err, 'Dockerfile:2: unknown instruction: FOO\n');
  // -q: the output kept back is shown with the error
  buildReply = { messages: [{ stream: 'out\n' }, { errorDetail: { code: 3, message }, error: message }] };
  r = await berth(['build', '-q', dir]);
  assert.equal(r.code, 3);
  assert.equal(r.out, '');
  assert.match(r.err, /^Sending build context to Docker daemon .*\r\r\nout\nThe command/);
  // an HTTP error
  buildReply = { status: 400, message: 'unsupported build platform: windows' };
  r = await berth(['build', '--platform', 'windows', dir]);
  assert.equal(r.code, 1);
  assert.equal(r.err, 'Error response from daemon: unsupported build platform: windows\n');
});

test('-q prints only the image id; --iidfile holds it', async () => {
  const dir = context('quiet', { Dockerfile: 'FROM busybox\n' });
  const iid = path.join(root, 'iid');
  fs.writeFileSync(iid, 'stale');
  buildReply = { messages: [{ aux: { ID } }, { stream: `${ID}\n` }] };
  let r = await berth(['build', '-q', '--iidfile', iid, dir]);
  assert.equal(r.code, 0, r.err);
  assert.equal(r.out, `${ID}\n`);
  assert.equal(requests[0].query.get('q'), '1');
  assert.equal(fs.readFileSync(iid, 'utf8'), ID);
  buildReply = ok('Step 1/1 : FROM busybox\n');
  r = await berth(['build', '--iidfile', iid, dir]);
  assert.equal(fs.readFileSync(iid, 'utf8'), ID);
  // a failed build leaves no stale file
  buildReply = { messages: [{ errorDetail: { message: 'boom' }, error: 'boom' }] };
  r = await berth(['build', '--iidfile', iid, dir]);
  assert.equal(r.code, 1);
  assert.equal(fs.existsSync(iid), false);
});

test('stdin: a Dockerfile, a tar, and -f - with a context directory', async () => {
  buildReply = ok();
  let r = await berth(['build', '-'], { input: 'FROM busybox\nRUN true\n' });
  assert.equal(r.code, 0, r.err);
  assert.equal(requests[0].query.get('dockerfile'), 'Dockerfile');
  assert.deepEqual(Object.fromEntries(await tarEntries(requests[0].body)), { Dockerfile: 'FROM busybox\nRUN true\n' });

  const dir = context('stdin-tar', { 'Custom.df': 'FROM busybox\n', 'a.txt': 'a' });
  const tarBytes = execFileSync('tar', ['-C', dir, '-cf', '-', 'Custom.df', 'a.txt']);
  r = await berth(['build', '-f', 'Custom.df', '-'], { input: tarBytes });
  assert.equal(r.code, 0, r.err);
  assert.equal(requests[0].query.get('dockerfile'), 'Custom.df');
  assert.ok(requests[0].body.equals(tarBytes), 'a tar on stdin is sent as it is');

  r = await berth(['build', '-f', '-', dir], { input: 'FROM busybox\nCOPY a.txt /\n' });
  assert.equal(r.code, 0, r.err);
  const name = requests[0].query.get('dockerfile')!;
  assert.match(name, /^\.dockerfile\.[0-9a-f]{20}$/);
  const files = await tarEntries(requests[0].body);
  assert.equal(files.get(name), 'FROM busybox\nCOPY a.txt /\n');
  assert.equal(files.get('.dockerignore'), `.dockerignore\n${name}\n`);

  r = await berth(['build', '-f', '-', '-'], { input: '' });
  assert.equal(r.code, 1);
  assert.equal(r.err, "invalid argument: can't use stdin for both build context and dockerfile\n");
});

test('a Dockerfile outside the context goes in under a random name', async () => {
  const dir = context('outside/ctx', { 'a.txt': 'a', '.dockerignore': '*.log' });
  fs.writeFileSync(path.join(root, 'outside', 'Alt.Dockerfile'), 'FROM busybox\n');
  buildReply = ok();
  const r = await berth(['build', '-f', '../Alt.Dockerfile', '.'], { cwd: dir });
  assert.equal(r.code, 0, r.err);
  const name = requests[0].query.get('dockerfile')!;
  assert.match(name, /^\.dockerfile\.[0-9a-f]{20}$/);
  const files = await tarEntries(requests[0].body);
  assert.equal(files.get(name), 'FROM busybox\n');
  assert.equal(files.get('.dockerignore'), `*.log\n${name}\n`);
});

test('context errors as docker words them, before anything is sent', async () => {
  let r = await berth(['build', path.join(root, 'nonexistent')]);
  assert.equal(r.code, 1);
  assert.equal(r.err, `unable to prepare context: path "${path.join(root, 'nonexistent')}" not found\n`);
  const dir = context('nodf', { 'a.txt': 'a' });
  r = await berth(['build', dir]);
  assert.equal(r.code, 1);
  assert.equal(r.err, `unable to prepare context: unable to evaluate symlinks in Dockerfile path: lstat ${fs.realpathSync(dir)}/Dockerfile: no such file or directory\n`);
  r = await berth(['build', path.join(dir, 'a.txt')]);
  assert.equal(r.err, `unable to prepare context: context must be a directory: ${fs.realpathSync(dir)}/a.txt\n`);
  r = await berth(['build']);
  assert.equal(r.code, 1);
  assert.match(r.err, /^berth: 'berth build' requires 1 argument\n/);
  r = await berth(['build', '-t', 'UPPER', dir]);
  assert.equal(r.code, 125);
  assert.equal(requests.length, 0);
});

test('help and aliases: build, image build, builder build', async () => {
  for (const argv of [['build', '--help'], ['image', 'build', '--help'], ['builder', 'build', '--help']]) {
    const r = await berth(argv);
    assert.equal(r.code, 0);
    assert.match(r.out, /^Usage: {2}berth (image |builder )?build \[OPTIONS\] PATH \| -\n\nBuild an image from a Dockerfile\n\nAliases:\n {2}berth image build, berth build, berth builder build\n/);
  }
  const r = await berth(['builder', '--help']);
  assert.match(r.out, /build +Build an image from a Dockerfile\n {2}prune +Remove build cache\n/);
});

test('builder prune: the prompt, the query and the report', async () => {
  let r = await berth(['builder', 'prune'], { input: 'n\n' });
  assert.equal(r.code, 0);
  assert.equal(r.out, 'WARNING! This will remove all dangling build cache. Are you sure you want to continue? [y/N] ');
  assert.equal(requests.length, 0);
  r = await berth(['builder', 'prune', '-a'], { input: 'y\n' });
  assert.equal(r.code, 0);
  assert.match(r.out, /^WARNING! This will remove all build cache\. Are you sure you want to continue\? \[y\/N\] Deleted/);
  assert.equal(requests[0].query.get('all'), '1');
  r = await berth(['builder', 'prune', '-f', '--filter', 'until=24h', '--keep-storage', '1g']);
  assert.equal(r.code, 0, r.err);
  assert.equal(r.out, 'Deleted build cache objects:\n3 cache entries\n\nTotal reclaimed space: 2.5MB\n');
  assert.equal(requests[0].method, 'POST');
  assert.equal(requests[0].path, '/build/prune');
  assert.equal(requests[0].query.get('filters'), '{"until":{"24h":true}}');
  assert.equal(requests[0].query.get('keep-storage'), String(1024 ** 3));
  assert.equal(requests[0].query.get('all'), null);
});

test('config.json: proxies become build args, credentials go in X-Registry-Config', async () => {
  const cfgDir = path.join(root, 'docker-config');
  fs.mkdirSync(cfgDir, { recursive: true });
  fs.writeFileSync(
    path.join(cfgDir, 'config.json'),
    JSON.stringify({
      auths: { 'registry.example:5000': { auth: Buffer.from('user:secret').toString('base64') } },
      proxies: { default: { httpProxy: 'http://proxy:3128', noProxy: 'localhost' } },
    }),
  );
  const dir = context('cfg', { Dockerfile: 'FROM busybox\n' });
  buildReply = ok();
  const r = await berth(['build', '--build-arg', 'HTTP_PROXY=mine', dir], { env: { DOCKER_CONFIG: cfgDir } });
  assert.equal(r.code, 0, r.err);
  assert.deepEqual(JSON.parse(requests[0].query.get('buildargs')!), {
    HTTP_PROXY: 'mine',
    http_proxy: 'http://proxy:3128',
    NO_PROXY: 'localhost',
    no_proxy: 'localhost',
  });
  const header = String(requests[0].headers['x-registry-config']);
  assert.deepEqual(JSON.parse(Buffer.from(header.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString()), {
    'registry.example:5000': { username: 'user', password: 'secret', serveraddress: 'registry.example:5000' },
  });
});

test('--compress sends the context gzipped', async () => {
  const dir = context('gz', { Dockerfile: 'FROM busybox\n' });
  buildReply = ok();
  const r = await berth(['build', '--compress', dir]);
  assert.equal(r.code, 0, r.err);
  const body = requests[0].body;
  assert.deepEqual([...body.subarray(0, 2)], [0x1f, 0x8b]);
  const { gunzipSync } = await import('node:zlib');
  assert.deepEqual([...(await tarEntries(gunzipSync(body))).keys()], ['Dockerfile']);
});
