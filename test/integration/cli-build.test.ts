/**
 * Issue 4 through `berth build`: the context as the CLI packs it (.dockerignore with exceptions,
 * a Dockerfile outside the context, stdin), build args, -q and --iidfile, a failing RUN, step
 * timings, and `berth builder prune` emptying the cache.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { TestDaemon, integrationSkipReason, DOCKER, type RunResult } from '../helpers/daemon';

const skip = integrationSkipReason();

describe('berth build against berthd', { skip }, () => {
  const d = new TestDaemon('cli-build');
  let ctxRoot = '';
  before(async () => {
    await d.start();
    d.importBusybox();
    ctxRoot = path.join(d.dir, 'contexts');
    fs.mkdirSync(ctxRoot);
  });
  after(async () => {
    assert.deepEqual(await d.cleanup(), []);
  });

  const context = (name: string, files: Record<string, string | Buffer>): string => {
    const dir = path.join(ctxRoot, name);
    for (const [f, content] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
      fs.writeFileSync(path.join(dir, f), content);
    }
    return dir;
  };
  const build = (args: string[], opts: { input?: string | Buffer; env?: Record<string, string> } = {}): RunResult =>
    d.berth(['build', ...args], { timeout: 120_000, ...opts });
  const run = (img: string, ...cmd: string[]): string => {
    const r = d.berth(['run', '--rm', img, ...cmd]);
    assert.equal(r.code, 0, r.stderr);
    return r.stdout;
  };
  const imageId = (img: string): string => d.berth(['inspect', '-f', '{{.Id}}', img]).stdout.trim();

  test('.dockerignore: an ignored big file stays home, a ! exception goes in', () => {
    const dir = context('ignore', {
      Dockerfile: 'FROM busybox\nCOPY . /ctx\n',
      '.dockerignore': '# not needed in the image\nbig.bin\nlogs\n!logs/keep.txt\n',
      'big.bin': Buffer.alloc(8 * 1024 * 1024, 1),
      'logs/keep.txt': 'keep me\n',
      'logs/drop.txt': 'drop me\n',
      'src/app.txt': 'app\n',
    });
    const r = build(['-t', 'ignore:1', dir]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    // the 8 MB file was never sent
    assert.match(r.stdout, /^Sending build context to Docker daemon {2}\d+(\.\d+)?kB\r\r\nStep 1\/2 : FROM busybox\n/);
    assert.match(r.stdout, /Successfully built [0-9a-f]{12}\nSuccessfully tagged ignore:1\n$/);
    const files = run('ignore:1', 'find', '/ctx', '-type', 'f').split('\n').filter(Boolean).sort();
    assert.deepEqual(files, ['/ctx/.dockerignore', '/ctx/Dockerfile', '/ctx/logs/keep.txt', '/ctx/src/app.txt']);
    assert.equal(run('ignore:1', 'cat', '/ctx/logs/keep.txt'), 'keep me\n');
  });

  test('-f: a Dockerfile outside the context, by absolute and by relative path', () => {
    const dir = context('outside/ctx', { 'hello.txt': 'hello from the context\n' });
    const df = path.join(ctxRoot, 'outside', 'Alt.Dockerfile');
    fs.writeFileSync(df, 'FROM busybox\nCOPY hello.txt /hello.txt\nCMD ["cat", "/hello.txt"]\n');
    let r = build(['-f', df, '-t', 'outside:1', dir]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /Step 2\/3 : COPY hello.txt \/hello.txt\n/);
    assert.equal(run('outside:1'), 'hello from the context\n');
    // a Dockerfile inside the context, named relative to it
    fs.mkdirSync(path.join(dir, 'docker'));
    fs.writeFileSync(path.join(dir, 'docker', 'prod.Dockerfile'), 'FROM busybox\nCMD ["echo", "prod"]\n');
    r = build(['-f', 'docker/prod.Dockerfile', '-t', 'inside:1', dir]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(run('inside:1'), 'prod\n');
  });

  test('-f outside the context: `COPY .` leaves the sent Dockerfile out, as docker does', () => {
    const dir = context('outside2/ctx', { 'a.txt': 'a\n' });
    const df = path.join(ctxRoot, 'outside2', 'Dockerfile');
    fs.writeFileSync(df, 'FROM busybox\nCOPY . /ctx\n');
    const r = build(['-f', df, '-t', 'outside:2', dir]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(run('outside:2', 'ls', '-A', '/ctx'), 'a.txt\n');
    // the docker CLI's context for an outside Dockerfile (its tar lacks the end-of-archive blocks)
    const dr = spawnSync(DOCKER, ['build', '-f', df, '-t', 'outside:3', dir], { env: { ...process.env, DOCKER_HOST: d.host, DOCKER_BUILDKIT: '0' }, encoding: 'utf8' });
    assert.equal(dr.status, 0, dr.stdout + dr.stderr);
    assert.equal(run('outside:3', 'ls', '-A', '/ctx'), 'a.txt\n');
  });

  test('--build-arg: a value, a value from the environment, and a name with neither (the ARG default)', () => {
    const dir = context('args', {
      Dockerfile: 'FROM busybox\nARG GREETING\nARG FROM_ENV\nARG BERTH_TEST_UNSET=default\nRUN echo "$GREETING|$FROM_ENV|$BERTH_TEST_UNSET" > /args\n',
    });
    const r = build(['--build-arg', 'GREETING=hello there', '--build-arg', 'FROM_ENV', '--build-arg', 'BERTH_TEST_UNSET', '--label', 'built-by=berth', '-t', 'args:1', dir], {
      env: { FROM_ENV: 'from the environment' },
    });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(run('args:1', 'cat', '/args'), 'hello there|from the environment|default\n');
    assert.equal(d.berth(['inspect', '-f', '{{index .Config.Labels "built-by"}}', 'args:1']).stdout.trim(), 'berth');
  });

  test('-q prints only the image id; --iidfile holds the same id as inspect', () => {
    const dir = context('quiet', { Dockerfile: 'FROM busybox\nRUN echo quiet > /q\n' });
    const iid = path.join(d.dir, 'iid');
    let r = build(['-q', '--iidfile', iid, '-t', 'quiet:1', dir]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const id = imageId('quiet:1');
    assert.match(id, /^sha256:[0-9a-f]{64}$/);
    assert.equal(r.stdout, `${id}\n`);
    assert.equal(r.stderr, '');
    assert.equal(fs.readFileSync(iid, 'utf8'), id);
    fs.rmSync(iid);
    r = build(['--iidfile', iid, '-t', 'quiet:2', dir]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(fs.readFileSync(iid, 'utf8'), imageId('quiet:2'));
  });

  test('a failing RUN: its output shown, the error on stderr, its exit status as docker gives it', () => {
    const dir = context('fail', { Dockerfile: 'FROM busybox\nRUN echo before-failure && exit 3\nRUN echo never\n' });
    const r = build(['-t', 'fail:1', dir]);
    assert.equal(r.code, 3, r.stdout + r.stderr);
    assert.match(r.stdout, /Step 2\/3 : RUN echo before-failure && exit 3\n ---> Running in [0-9a-f]{12}\nbefore-failure\n$/);
    assert.equal(r.stderr, "The command '/bin/sh -c echo before-failure && exit 3' returned a non-zero code: 3\n");
    // the docker CLI exits the same way against the same daemon
    const docker = d.docker(['build', dir], { env: { DOCKER_BUILDKIT: '0' } });
    assert.equal(docker.code, r.code);
    // -q: nothing on stdout, the error still on stderr
    const q = build(['-q', dir]);
    assert.equal(q.code, 3);
    assert.equal(q.stdout, '');
    assert.match(q.stderr, /returned a non-zero code: 3\n$/);
    assert.equal(d.berth(['image', 'inspect', 'fail:1']).code, 1);
  });

  test('stdin: a Dockerfile, and a context tar with -f', () => {
    let r = build(['-t', 'stdin:1', '-'], { input: 'FROM busybox\nCMD ["echo", "from stdin"]\n' });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(run('stdin:1'), 'from stdin\n');
    const dir = context('tarctx', { 'Build.df': 'FROM busybox\nCOPY f.txt /\nCMD ["cat", "/f.txt"]\n', 'f.txt': 'from a tar\n' });
    const tar = path.join(d.dir, 'ctx.tar');
    assert.equal(spawnSync('tar', ['-C', dir, '-cf', tar, '.']).status, 0);
    r = d.berth(['image', 'build', '-f', 'Build.df', '-t', 'stdin:2', '-'], { input: fs.readFileSync(tar) });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(run('stdin:2'), 'from a tar\n');
  });

  test('--progress=tty: each step with its time, the build with its total', () => {
    const dir = context('timed', { Dockerfile: 'FROM busybox\nENV T=1\nRUN sleep 0.3\n' });
    const r = build(['--progress=tty', dir]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const timed = r.stdout.split('\n').filter((l) => /^ ---> [0-9a-f]{12} \(\d+\.\ds\)$/.test(l));
    assert.equal(timed.length, 3, r.stdout);
    const runStep = Number(/ \((\d+\.\d)s\)$/.exec(timed[2])![1]);
    assert.ok(runStep >= 0.3, r.stdout);
    assert.match(r.stdout, /\nBuilt in \d+\.\ds\n$/);
  });

  test('builder prune empties the cache: the next build uses none of it', () => {
    const dir = context('prune', { Dockerfile: 'FROM busybox\nENV A=1\nRUN echo cached > /c\n' });
    let r = build(['-t', 'prune:1', dir]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    r = build(['-t', 'prune:1', dir]);
    assert.equal(r.stdout.match(/ ---> Using cache\n/g)?.length, 2, r.stdout);
    const p = d.berth(['builder', 'prune', '-f']);
    assert.equal(p.code, 0, p.stderr);
    assert.match(p.stdout, /^(Deleted build cache objects:\n(.+\n)+\n)?Total reclaimed space: \d+(\.\d+)?[kMG]?B\n$/);
    r = build(['-t', 'prune:1', dir]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.doesNotMatch(r.stdout, /Using cache/);
    assert.match(r.stdout, /Running in [0-9a-f]{12}\n/);
  });
});
