import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseFlags } from '../flags';
import { CONTAINER_FLAGS, OptionError, buildCreateRequest, parseKeyValueFile, type OptsEnv } from './container-opts';

const files: Record<string, string> = {
  'env.list': '# comment\n\nA=1\n  B=x\nHOMEY\nMISSING\n',
  'labels': 'com.example=1\nflag\n',
  'bad': 'BAD KEY=1\n',
};
const io: OptsEnv = {
  readFile: (p) => {
    if (!(p in files)) {
      const e = new Error('ENOENT') as NodeJS.ErrnoException;
      e.code = 'ENOENT';
      throw e;
    }
    return files[p];
  },
  env: { HOMEY: '/home/x', FOO: 'bar' },
};

function build(argv: string[], detach = false) {
  const f = parseFlags(argv, CONTAINER_FLAGS, { interspersed: false });
  return buildCreateRequest(f, f.args, detach, io);
}

test('the create body docker builds for run flags', () => {
  const r = build(['--name', 'x', '-e', 'A=1', '-e', 'FOO', '-e', 'NOPE', '-l', 'a=b', '-l', 'c', '--stop-timeout', '5', '--stop-signal', 'USR1',
    '-w', '/tmp', '-u', '1:2', '-h', 'host', '--entrypoint', '', '--network', 'none', '--rm', 'busybox', 'ls', '/']);
  assert.equal(r.name, 'x');
  assert.deepEqual(r.body, {
    Hostname: 'host',
    User: '1:2',
    AttachStdin: false,
    AttachStdout: true,
    AttachStderr: true,
    Tty: false,
    OpenStdin: false,
    StdinOnce: false,
    Env: ['A=1', 'FOO=bar', 'NOPE'],
    Cmd: ['ls', '/'],
    Image: 'busybox',
    WorkingDir: '/tmp',
    Entrypoint: [''],
    Labels: { a: 'b', c: '' },
    StopSignal: 'USR1',
    StopTimeout: 5,
    HostConfig: { AutoRemove: true, NetworkMode: 'none', RestartPolicy: { Name: 'no', MaximumRetryCount: 0 } },
  });
});

test('defaults: no command, no env, default network, attach unless detached', () => {
  const r = build(['busybox']);
  assert.equal(r.name, undefined);
  assert.equal(r.body.Cmd, null);
  assert.equal(r.body.Env, null);
  assert.equal(r.body.Entrypoint, null);
  assert.equal(r.body.StopTimeout, undefined);
  assert.equal(r.body.HostConfig?.NetworkMode, 'default');
  assert.equal(r.pull, 'missing');
  const d = build(['-i', '-t', 'busybox'], true);
  assert.equal(d.body.AttachStdout, false);
  assert.equal(d.body.AttachStdin, false);
  assert.equal(d.body.OpenStdin, true);
  assert.equal(d.body.Tty, true);
  const i = build(['-i', 'busybox']);
  assert.equal(i.body.AttachStdin, true);
  assert.equal(i.body.StdinOnce, true);
});

test('env and label files, -e overriding', () => {
  const r = build(['--env-file', 'env.list', '-e', 'A=2', '--label-file', 'labels', '-l', 'flag=on', 'img']);
  assert.deepEqual(r.body.Env, ['A=1', 'B=x', 'HOMEY=/home/x', 'MISSING', 'A=2']);
  assert.deepEqual(r.body.Labels, { 'com.example': '1', flag: 'on' });
});

test('bad option values', () => {
  assert.throws(() => build(['--env-file', 'nope', 'img']), (e: unknown) => e instanceof OptionError && e.message === 'open nope: no such file or directory');
  assert.throws(() => build(['--env-file', 'bad', 'img']), /variable 'BAD KEY' contains whitespaces/);
  assert.throws(() => build(['--pull', 'sometimes', 'img']), /invalid pull option: 'sometimes'/);
  assert.throws(() => parseFlags(['-e', '=x', 'img'], CONTAINER_FLAGS, { interspersed: false }), /invalid environment variable: =x/);
});

test('parseKeyValueFile strips a BOM and CRs', () => {
  const r = parseKeyValueFile('f', { readFile: () => '\ufeffA=1\r\nB=2\r\n', env: {} }, true);
  assert.deepEqual(r, ['A=1', 'B=2']);
});

test('restart policy and health check flags, as docker builds them', () => {
  const parse = (argv: string[]) => buildCreateRequest(parseFlags(argv, CONTAINER_FLAGS), ['busybox'], true, { readFile: () => '', env: {} });
  const r = parse(['--restart', 'on-failure:3', '--health-cmd', 'true', '--health-interval', '1s', '--health-retries', '2']);
  assert.deepEqual(r.body.HostConfig?.['RestartPolicy' as keyof typeof r.body.HostConfig], { Name: 'on-failure', MaximumRetryCount: 3 });
  assert.deepEqual((r.body as Record<string, unknown>).Healthcheck, { Test: ['CMD-SHELL', 'true'], Interval: 1e9, Retries: 2 });
  assert.deepEqual((parse(['--no-healthcheck']).body as Record<string, unknown>).Healthcheck, { Test: ['NONE'] });
  assert.throws(() => parse(['--no-healthcheck', '--health-retries', '1']), /--no-healthcheck conflicts with --health-\* options/);
  assert.throws(() => parse(['--rm', '--restart', 'always']), /conflicting options: cannot specify both --restart and --rm/);
  assert.throws(() => parse(['--restart', ':3']), /no policy provided before colon/);
  assert.throws(() => parse(['--restart', 'always:x']), /maximum retry count must be an integer/);
});
