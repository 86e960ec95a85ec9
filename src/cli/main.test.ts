/**
 * The CLI end to end against a fake Engine API on a temporary UNIX socket: each test scripts
 * the daemon's replies, runs `main()` in-process and checks stdout, stderr, the exit status and
 * the requests that were made. (Tests against a real berthd live under test/.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import type { Socket } from 'node:net';
import { muxFrame } from '../client/engine';
import { main, COMMON, OTHER, MANAGEMENT } from './main';

interface Req {
  method: string;
  url: string;
  body: string;
}

type Handler = (req: Req, res: http.ServerResponse) => void;

interface Fake {
  host: string;
  requests: Req[];
  close(): Promise<void>;
}

async function fakeDaemon(routes: Record<string, Handler>, upgrade?: (req: Req, socket: Socket) => void): Promise<Fake> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-cli-test-'));
  const sock = path.join(dir, 'sock');
  const requests: Req[] = [];
  const find = (r: Req): Handler | undefined => {
    const p = r.url.replace(/^\/v[0-9.]+/, '').replace(/\?.*$/, '');
    for (const [k, h] of Object.entries(routes)) {
      const [m, re] = k.split(' ');
      if (m === r.method && new RegExp(`^${re}$`).test(p)) return h;
    }
    return undefined;
  };
  const srv = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const r = { method: req.method ?? '', url: req.url ?? '', body };
      requests.push(r);
      const h = find(r);
      if (h) h(r, res);
      else json(res, 404, { message: 'page not found' });
    });
  });
  srv.on('upgrade', (req: http.IncomingMessage, socket: Socket) => {
    const r = { method: req.method ?? '', url: req.url ?? '', body: '' };
    requests.push(r);
    socket.on('error', () => undefined);
    upgrade?.(r, socket);
  });
  await new Promise<void>((r) => srv.listen(sock, r));
  return {
    host: `unix://${sock}`,
    requests,
    close: async () => {
      srv.closeAllConnections();
      await new Promise<void>((r) => srv.close(() => r()));
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

function json(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(body));
}

class Capture extends Writable {
  data = '';
  isTTY = false;
  override _write(chunk: Buffer, _enc: string, cb: () => void): void {
    this.data += chunk.toString();
    cb();
  }
}

async function berth(argv: string[], host = 'unix:///nonexistent.sock', opts: { stdinTTY?: boolean; stdoutTTY?: boolean } = {}) {
  const out = new Capture();
  const err = new Capture();
  out.isTTY = !!opts.stdoutTTY;
  const input = new PassThrough() as PassThrough & { isTTY?: boolean };
  input.isTTY = !!opts.stdinTTY;
  input.end();
  // A client config directory that does not exist: the host's ~/.docker stays out of the tests.
  const code = await main(argv, { in: input, out, err }, { BERTH_HOST: host, DOCKER_CONFIG: path.join(os.tmpdir(), 'berth-cli-test-no-config') });
  return { code, out: out.data, err: err.data };
}

const ID = 'a'.repeat(64);

test('every command loads and describes itself as main.ts lists it', async () => {
  const all: Record<string, { short: string; load: () => Promise<{ short: string }> }> = { ...COMMON, ...OTHER };
  for (const g of Object.values(MANAGEMENT)) for (const [n, e] of Object.entries(g.commands)) all[`x ${n}`] = e;
  for (const [name, e] of Object.entries(all)) {
    const spec = await e.load();
    assert.equal(spec.short, e.short, name);
  }
});

test('help, unknown commands, flag and argument errors', async () => {
  let r = await berth(['--help']);
  assert.equal(r.code, 0);
  assert.match(r.out, /^Usage: {2}berth \[OPTIONS\] COMMAND\n/);
  r = await berth(['ps', '--help']);
  assert.equal(r.code, 0);
  assert.match(r.out, /^Usage: {2}berth ps \[OPTIONS\]\n\nList containers\n\nAliases:\n {2}berth container ls, berth container list, berth container ps, berth ps\n\nOptions:\n/);
  r = await berth(['container', 'list', '--help']);
  assert.match(r.out, /^Usage: {2}berth container ls \[OPTIONS\]\n/);
  r = await berth(['nosuch']);
  assert.equal(r.code, 1);
  assert.equal(r.err, "berth: unknown command: berth nosuch\n\nRun 'berth --help' for more information\n");
  r = await berth(['run', '--foo', 'busybox']);
  assert.equal(r.code, 125);
  assert.equal(r.err, "unknown flag: --foo\n\nUsage:  berth run [OPTIONS] IMAGE [COMMAND] [ARG...]\n\nRun 'berth run --help' for more information\n");
  r = await berth(['stop']);
  assert.equal(r.code, 1);
  assert.equal(r.err, "berth: 'berth stop' requires at least 1 argument\n\nUsage:  berth stop [OPTIONS] CONTAINER [CONTAINER...]\n\nSee 'berth stop --help' for more information\n");
  r = await berth(['rename', 'a']);
  assert.equal(r.code, 1);
  assert.match(r.err, /^berth: 'berth rename' requires 2 arguments\n/);
  r = await berth(['ps', 'x']);
  assert.match(r.err, /^berth: 'berth ps' accepts no arguments\n/);
  r = await berth(['-v']);
  assert.match(r.out, /^berth version /);
  r = await berth(['container']);
  assert.equal(r.code, 0);
  assert.match(r.err, /^Usage: {2}berth container COMMAND\n/);
});

test('a daemon that is not there', async () => {
  const r = await berth(['ps'], 'unix:///nonexistent/berth.sock');
  assert.equal(r.code, 1);
  assert.equal(r.err, 'Cannot connect to the berth daemon at unix:///nonexistent/berth.sock. Is the berth daemon running?\n');
  const run = await berth(['run', 'busybox'], 'unix:///nonexistent/berth.sock');
  assert.equal(run.code, 125);
  assert.match(run.err, /^berth: Cannot connect to the berth daemon at .*\n\nRun 'berth run --help' for more information\n$/);
});

test('run in the foreground: attach, wait, start; output demuxed; exit status from wait', async () => {
  const order: string[] = [];
  const fake = await fakeDaemon(
    {
      'POST /containers/create': (r, res) => {
        order.push('create');
        json(res, 201, { Id: ID, Warnings: [] });
      },
      'POST /containers/[a-f0-9]+/wait': (r, res) => {
        order.push(`wait ${new URL(r.url, 'http://x').searchParams.get('condition')}`);
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.flushHeaders();
        setTimeout(() => res.end('{"StatusCode":3,"Error":null}'), 50);
      },
      'POST /containers/[a-f0-9]+/start': (_r, res) => {
        order.push('start');
        res.writeHead(204);
        res.end();
      },
    },
    (r, socket) => {
      order.push('attach');
      socket.write('HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n');
      setTimeout(() => socket.end(Buffer.concat([muxFrame(1, 'hello\n'), muxFrame(2, 'oops\n')])), 20);
    },
  );
  try {
    const r = await berth(['run', '--rm', '-e', 'A=1', 'busybox', 'sh', '-c', 'exit 3'], fake.host);
    assert.equal(r.code, 3);
    assert.equal(r.out, 'hello\n');
    assert.equal(r.err, 'oops\n');
    assert.deepEqual(order, ['create', 'attach', 'wait removed', 'start']);
    const body = JSON.parse(fake.requests[0].body);
    assert.deepEqual(body.Cmd, ['sh', '-c', 'exit 3']);
    assert.deepEqual(body.Env, ['A=1']);
    assert.equal(body.HostConfig.AutoRemove, true);
    assert.match(fake.requests[1].url, /\/attach\?stream=1&stdout=1&stderr=1$/);
  } finally {
    await fake.close();
  }
});

test('run -d prints the ID; start failures map to 127 and 126', async () => {
  let startError = '';
  const fake = await fakeDaemon({
    'POST /containers/create': (_r, res) => json(res, 201, { Id: ID, Warnings: ['careful'] }),
    'POST /containers/[a-f0-9]+/start': (_r, res) => (startError ? json(res, 400, { message: startError }) : (res.writeHead(204), res.end())),
  });
  try {
    let r = await berth(['run', '-d', '--name', 'web', 'busybox'], fake.host);
    assert.equal(r.code, 0);
    assert.equal(r.out, `${ID}\n`);
    assert.equal(r.err, 'WARNING: careful\n');
    assert.match(fake.requests[0].url, /\/containers\/create\?name=web$/);
    startError = 'failed to create task: exec: "nosuchcmd": executable file not found in $PATH: unknown';
    r = await berth(['run', '-d', 'busybox', 'nosuchcmd'], fake.host);
    assert.equal(r.code, 127);
    assert.equal(r.err, `WARNING: careful\nberth: Error response from daemon: ${startError}\n\nRun 'berth run --help' for more information\n`);
    startError = 'exec: "/etc": permission denied';
    r = await berth(['run', '-d', 'busybox', '/etc'], fake.host);
    assert.equal(r.code, 126);
    startError = 'something else';
    r = await berth(['run', '-d', 'busybox'], fake.host);
    assert.equal(r.code, 125);
  } finally {
    await fake.close();
  }
});

test('run with a missing image says so, tries to pull, and fails with 125', async () => {
  const fake = await fakeDaemon({
    'POST /containers/create': (_r, res) => json(res, 404, { message: 'No such image: busybox:latest' }),
    'POST /images/create': (_r, res) => json(res, 404, { message: 'pull access denied for busybox' }),
  });
  try {
    const r = await berth(['run', '--rm', 'busybox'], fake.host);
    assert.equal(r.code, 125);
    assert.equal(r.err, "Unable to find image 'busybox:latest' locally\nberth: Error response from daemon: pull access denied for busybox\n\nRun 'berth run --help' for more information\n");
    assert.equal(fake.requests[1].url, '/v1.41/images/create?fromImage=docker.io%2Flibrary%2Fbusybox&tag=latest');
    const c = await berth(['create', 'busybox'], fake.host);
    assert.equal(c.code, 1);
    assert.equal(c.err, "Unable to find image 'busybox:latest' locally\nError response from daemon: pull access denied for busybox\n");
  } finally {
    await fake.close();
  }
});

test('ps asks for what the flags say', async () => {
  const fake = await fakeDaemon({ 'GET /containers/json': (_r, res) => json(res, 200, []) });
  try {
    const r = await berth(['ps', '-a', '-n', '3', '-f', 'status=exited', '-f', 'label=a=b'], fake.host);
    assert.equal(r.code, 0);
    assert.equal(r.out, 'CONTAINER ID   IMAGE     COMMAND   CREATED   STATUS    PORTS     NAMES\n');
    const u = new URL(fake.requests[0].url, 'http://x');
    assert.equal(u.searchParams.get('all'), '1');
    assert.equal(u.searchParams.get('limit'), '3');
    assert.deepEqual(JSON.parse(u.searchParams.get('filters') ?? ''), { status: { exited: true }, label: { 'a=b': true } });
    await berth(['ps', '--format', '{{.Size}}'], fake.host);
    assert.equal(new URL(fake.requests[1].url, 'http://x').searchParams.get('size'), '1');
    const bad = await berth(['ps', '-f', 'nonsense'], fake.host);
    assert.equal(bad.code, 125);
    assert.match(bad.err, /^invalid argument "nonsense" for "-f, --filter" flag: bad format of filter \(expected name=value\)/);
  } finally {
    await fake.close();
  }
});

test('stop reports names in order and errors at the end', async () => {
  const fake = await fakeDaemon({
    'POST /containers/(a|c)/stop': (_r, res) => (res.writeHead(204), res.end()),
    'POST /containers/b/stop': (_r, res) => json(res, 404, { message: 'No such container: b' }),
  });
  try {
    const r = await berth(['stop', '-t', '1', 'a', 'b', 'c'], fake.host);
    assert.equal(r.code, 1);
    assert.equal(r.out, 'a\nc\n');
    assert.equal(r.err, 'Error response from daemon: No such container: b\n');
    assert.ok(fake.requests.every((q) => q.url.endsWith('/stop?t=1')));
  } finally {
    await fake.close();
  }
});

test('inspect: indented array, templates, objects that do not exist', async () => {
  const fake = await fakeDaemon({
    'GET /containers/web/json': (_r, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end('{"Id":"x","Name":"/web","State":{"Running":true,"Pid":1.0}}');
    },
    'GET /images/busybox/json': (_r, res) => json(res, 200, { Id: 'sha256:1' }),
  });
  try {
    let r = await berth(['inspect', 'web'], fake.host);
    assert.equal(r.out, '[\n    {\n        "Id": "x",\n        "Name": "/web",\n        "State": {\n            "Running": true,\n            "Pid": 1.0\n        }\n    }\n]\n');
    r = await berth(['inspect', '-f', '{{.Name}} {{.State.Running}}', 'web'], fake.host);
    assert.equal(r.out, '/web true\n');
    // An image has no .Name: with docker's missingkey=error that is an error, reported at the end.
    r = await berth(['inspect', '-f', '{{.Name}}', 'web', 'busybox', 'nosuch'], fake.host);
    assert.equal(r.code, 1);
    assert.equal(r.out, '/web\n');
    assert.equal(
      r.err,
      'template parsing error: template: :1:2: executing "" at <.Name>: map has no entry for key "Name"\nError: No such object: nosuch\n',
    );
    r = await berth(['container', 'inspect', 'nosuch'], fake.host);
    assert.equal(r.out, '[]\n');
    assert.equal(r.err, 'Error response from daemon: page not found\n');
  } finally {
    await fake.close();
  }
});

test('save refuses a terminal; load prints what the daemon says', async () => {
  const fake = await fakeDaemon({
    'POST /images/load': (_r, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end('{"stream":"Loaded image: busybox:latest\\n"}\n');
    },
  });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-cli-load-'));
  try {
    let r = await berth(['save', 'busybox'], fake.host, { stdoutTTY: true });
    assert.equal(r.code, 1);
    assert.equal(r.err, 'cowardly refusing to save to a terminal. Use the -o flag or redirect\n');
    fs.writeFileSync(path.join(dir, 'x.tar'), 'tar bytes');
    r = await berth(['load', '-i', path.join(dir, 'x.tar')], fake.host);
    assert.equal(r.code, 0);
    assert.equal(r.out, 'Loaded image: busybox:latest\n');
    assert.equal(fake.requests[0].body, 'tar bytes');
    assert.equal(fake.requests[0].url, '/v1.41/images/load?quiet=1');
    r = await berth(['load', '-i', '/nonexistent.tar'], fake.host);
    assert.equal(r.err, 'open /nonexistent.tar: no such file or directory\n');
    r = await berth(['load'], fake.host, { stdinTTY: true });
    assert.equal(r.err, 'requested load from stdin, but stdin is empty\n');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
    await fake.close();
  }
});

test('logs demultiplexes unless the container has a TTY', async () => {
  let tty = false;
  const fake = await fakeDaemon({
    'GET /containers/web/json': (_r, res) => json(res, 200, { Id: ID, Config: { Tty: tty } }),
    'GET /containers/[a-f0-9]+/logs': (_r, res) => {
      res.writeHead(200);
      res.end(tty ? 'raw\n' : Buffer.concat([muxFrame(1, 'out\n'), muxFrame(2, 'err\n')]));
    },
  });
  try {
    let r = await berth(['logs', '--tail', '5', '-t', 'web'], fake.host);
    assert.equal(r.out, 'out\n');
    assert.equal(r.err, 'err\n');
    const q = new URL(fake.requests[1].url, 'http://x').searchParams;
    assert.equal(q.get('tail'), '5');
    assert.equal(q.get('timestamps'), '1');
    tty = true;
    r = await berth(['logs', 'web'], fake.host);
    assert.equal(r.out, 'raw\n');
  } finally {
    await fake.close();
  }
});

test('tag normalizes the target as docker does; rmi prints Untagged/Deleted', async () => {
  const fake = await fakeDaemon({
    'POST /images/.*/tag': (_r, res) => (res.writeHead(201), res.end()),
    'DELETE /images/.*': (_r, res) => json(res, 200, [{ Untagged: 'busybox:latest' }, { Deleted: 'sha256:1' }]),
  });
  try {
    let r = await berth(['tag', 'busybox', 'mybox'], fake.host);
    assert.equal(r.code, 0);
    assert.equal(fake.requests[0].url, '/v1.41/images/busybox/tag?repo=docker.io%2Flibrary%2Fmybox&tag=latest');
    r = await berth(['tag', 'busybox', 'B'], fake.host);
    assert.equal(r.err, 'Error parsing reference: "B" is not a valid repository/tag: invalid reference format: repository name (library/B) must be lowercase\n');
    r = await berth(['rmi', '-f', 'busybox'], fake.host);
    assert.equal(r.out, 'Untagged: busybox:latest\nDeleted: sha256:1\n');
    assert.equal(fake.requests.at(-1)?.url, '/v1.41/images/busybox?force=1');
  } finally {
    await fake.close();
  }
});
