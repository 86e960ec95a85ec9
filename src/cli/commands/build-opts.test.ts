import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FlagError, parseFlags } from '../flags';
import {
  BUILD_FLAGS,
  BUILDER_PRUNE_FLAGS,
  buildArgsMap,
  buildQuery,
  buildRequest,
  detectContextType,
  isGitURL,
  labelsMap,
  outsideContext,
  resolveContextDir,
  resolveDockerfile,
  withProxyArgs,
} from './build-opts';

const flags = (...argv: string[]) => parseFlags(argv, BUILD_FLAGS);

test('--build-arg: k=v as given, a bare k from the environment, else null; later values win', () => {
  assert.deepEqual(buildArgsMap(['A=1', 'B', 'C', 'D=x=y', 'A=2', 'E='], { B: 'from-env', PATH: '/bin' }), {
    A: '2',
    B: 'from-env',
    C: null,
    D: 'x=y',
    E: '',
  });
  // what is sent: null stays null in JSON, as docker's map[string]*string
  const q = buildQuery(buildRequest(flags('--build-arg', 'B', '--build-arg', 'C', '.'), { B: 'b' }));
  assert.equal(q.buildargs, '{"B":"b","C":null}');
});

test('config.json proxies become build args unless the user set them', () => {
  assert.deepEqual(withProxyArgs({ HTTP_PROXY: 'mine' }, { httpProxy: 'http://p:3128', noProxy: 'localhost' }), {
    HTTP_PROXY: 'mine',
    http_proxy: 'http://p:3128',
    NO_PROXY: 'localhost',
    no_proxy: 'localhost',
  });
  assert.deepEqual(withProxyArgs({}, {}), {});
});

test('--label: k=v, a bare k is the empty string; bad labels are flag errors', () => {
  assert.deepEqual(labelsMap(['a=1', 'b', 'c=x=y']), { a: '1', b: '', c: 'x=y' });
  assert.throws(() => flags('--label', 'a b=1', '.'), (e: Error) => e instanceof FlagError && e.message === `invalid argument "a b=1" for "--label" flag: label 'a b' contains whitespaces`);
  assert.throws(() => flags('--label', '=1', '.'), /invalid label '=1': empty name/);
});

test('tags, build args and progress are checked as flags, as docker does', () => {
  assert.throws(
    () => flags('-t', 'Bad', '.'),
    (e: Error) => e instanceof FlagError && e.message === 'invalid argument "Bad" for "-t, --tag" flag: invalid reference format: repository name (library/Bad) must be lowercase',
  );
  assert.throws(() => flags('--build-arg', '=x', '.'), /invalid environment variable: =x/);
  assert.throws(() => flags('--progress', 'fancy', '.'), /invalid argument "fancy" for "--progress" flag/);
  for (const p of ['auto', 'plain', 'tty']) assert.equal(flags('--progress', p, '.').string('progress'), p);
  assert.throws(() => parseFlags(['--keep-storage', '12q'], BUILDER_PRUNE_FLAGS), /invalid argument "12q" for "--keep-storage" flag/);
});

test('flags to the /build query', () => {
  const f = flags(
    '-t', 'app:1', '--tag', 'registry.example/app:latest', '--label', 'k=v', '--target', 'prod', '--no-cache', '--pull', '-q',
    '--network', 'host', '--platform', 'Linux/AMD64', '--rm=false', '--force-rm', '.',
  );
  const r = buildRequest(f, {});
  r.dockerfile = 'sub/Dockerfile';
  assert.deepEqual(buildQuery(r), {
    t: ['app:1', 'registry.example/app:latest'],
    q: true,
    nocache: true,
    rm: false,
    forcerm: true,
    pull: true,
    networkmode: 'host',
    dockerfile: 'sub/Dockerfile',
    buildargs: '{}',
    labels: '{"k":"v"}',
    target: 'prod',
    platform: 'linux/amd64',
    version: '1',
  });
  // defaults: only what docker always sends
  const d = buildQuery(buildRequest(flags('.'), {}));
  assert.deepEqual(
    Object.fromEntries(Object.entries(d).filter(([, v]) => v !== undefined)),
    { networkmode: 'default', dockerfile: '', buildargs: '{}', labels: '{}', version: '1' },
  );
  // --platform defaults to $DOCKER_DEFAULT_PLATFORM
  assert.equal(buildQuery(buildRequest(flags('.'), { DOCKER_DEFAULT_PLATFORM: 'linux/amd64' })).platform, 'linux/amd64');
});

test('context types: -, a path, git and URLs, else not found', () => {
  assert.equal(detectContextType('-'), 'stdin');
  assert.equal(detectContextType(os.tmpdir()), 'local');
  assert.equal(detectContextType('https://example.com/repo.git#main'), 'git');
  assert.equal(detectContextType('github.com/x/y'), 'git');
  assert.equal(detectContextType('https://example.com/ctx.tar.gz'), 'url');
  assert.throws(() => detectContextType('/nonexistent/ctx'), { message: 'unable to prepare context: path "/nonexistent/ctx" not found' });
  assert.equal(isGitURL('git@github.com:x/y.git'), true);
  assert.equal(isGitURL('http://example.com/x'), false);
});

test('-f: relative to the current directory, else inside the context; outside files are found; errors as docker words them', () => {
  const root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'berth-build-opts-')));
  try {
    const ctx = path.join(root, 'ctx');
    fs.mkdirSync(path.join(ctx, 'docker'), { recursive: true });
    fs.writeFileSync(path.join(ctx, 'Dockerfile'), 'FROM scratch\n');
    fs.writeFileSync(path.join(ctx, 'docker', 'prod.Dockerfile'), 'FROM scratch\n');
    fs.writeFileSync(path.join(root, 'Outside'), 'FROM scratch\n');
    fs.symlinkSync('docker/prod.Dockerfile', path.join(ctx, 'link.Dockerfile'));

    assert.equal(resolveContextDir('ctx', root), ctx);
    assert.throws(() => resolveContextDir('Outside', root), { message: `context must be a directory: ${root}/Outside` });
    assert.equal(resolveDockerfile(ctx, ''), 'Dockerfile');
    assert.equal(resolveDockerfile(ctx, '-'), '-');
    // relative to the cwd (docker) ...
    assert.equal(resolveDockerfile(ctx, 'ctx/docker/prod.Dockerfile', root), 'docker/prod.Dockerfile');
    // ... or, when only that exists, to the context
    assert.equal(resolveDockerfile(ctx, 'docker/prod.Dockerfile', root), 'docker/prod.Dockerfile');
    assert.equal(resolveDockerfile(ctx, path.join(root, 'Outside'), '/'), '../Outside');
    assert.equal(resolveDockerfile(ctx, 'Outside', root), '../Outside');
    assert.equal(outsideContext('../Outside'), true);
    assert.equal(outsideContext('..foo/Dockerfile'), false);
    // symlinks are resolved, as EvalSymlinks does
    assert.equal(resolveDockerfile(ctx, 'link.Dockerfile', ctx), 'docker/prod.Dockerfile');
    assert.throws(() => resolveDockerfile(ctx, '/nonexist/Dockerfile', root), {
      message: 'unable to evaluate symlinks in Dockerfile path: lstat /nonexist: no such file or directory',
    });
    fs.rmSync(path.join(ctx, 'Dockerfile'));
    assert.throws(() => resolveDockerfile(ctx, '', root), {
      message: `unable to evaluate symlinks in Dockerfile path: lstat ${ctx}/Dockerfile: no such file or directory`,
    });
    // a lower-case dockerfile is taken when there is no Dockerfile
    fs.writeFileSync(path.join(ctx, 'dockerfile'), 'FROM scratch\n');
    assert.equal(resolveDockerfile(ctx, ''), 'dockerfile');
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});
