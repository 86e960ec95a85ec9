/**
 * Issue 6 follow-up: HostConfig.ConsoleSize (create) and the exec start body's ConsoleSize size
 * the TTY from the start, with no client attached to resize it; an exec whose command cannot
 * start is reported as dockerd reports it (on the exec's stdout stream).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { integrationSkipReason, DOCKER, BERTH } from '../helpers/daemon';
import { busyboxDaemon } from '../helpers/suite';
import { Pty } from '../helpers/pty';

const skip = integrationSkipReason();
const json = { 'Content-Type': 'application/json' };

describe('console size and exec start errors', { skip }, () => {
  const d = busyboxDaemon('consize');

  test('create with Tty and HostConfig.ConsoleSize: the container starts on a terminal of that size', async () => {
    const body = { Image: 'busybox', Tty: true, OpenStdin: true, Cmd: ['sh', '-c', 'stty size; sleep 1'], HostConfig: { ConsoleSize: [33, 111] } };
    const cr = await d.request('POST', '/containers/create?name=cs', JSON.stringify(body), json);
    assert.equal(cr.status, 201, cr.body);
    assert.deepEqual(JSON.parse(d.docker(['inspect', '-f', '{{json .HostConfig.ConsoleSize}}', 'cs']).stdout), [33, 111]);
    const st = await d.request('POST', '/containers/cs/start');
    assert.equal(st.status, 204, st.body);
    assert.equal(d.docker(['wait', 'cs']).stdout.trim(), '0');
    assert.equal(d.docker(['logs', 'cs']).stdout.trim(), '33 111');
    // Without ConsoleSize: runc's default, 24x80 (never 0 0).
    const plain = d.docker(['run', '-t', '--name', 'cs0', 'busybox', 'stty', 'size']);
    assert.equal(plain.code, 0, plain.stderr);
    assert.equal(d.docker(['logs', 'cs0']).stdout.trim(), '24 80');
    assert.deepEqual(JSON.parse(d.docker(['inspect', '-f', '{{json .HostConfig.ConsoleSize}}', 'cs0']).stdout), [0, 0]);
    assert.equal(d.docker(['rm', '-f', 'cs', 'cs0']).code, 0);
  });

  for (const cli of ['docker', 'berth'] as const) {
    test(`${cli} run -it on a terminal: the create carries the terminal's size as HostConfig.ConsoleSize`, async () => {
      const args = ['run', '-it', '--name', `csr-${cli}`, 'busybox', 'stty', 'size'];
      const t =
        cli === 'docker'
          ? new Pty([DOCKER, ...args], { rows: 27, cols: 93, env: { DOCKER_HOST: d.host } })
          : new Pty([process.execPath, BERTH, ...args], { rows: 27, cols: 93, env: { BERTH_HOST: d.host, DOCKER_HOST: '' } });
      try {
        await t.expect(/27 93\r\n/);
        assert.equal(await t.wait(), 0, t.output);
      } finally {
        t.kill();
      }
      assert.deepEqual(JSON.parse(d.docker(['inspect', '-f', '{{json .HostConfig.ConsoleSize}}', `csr-${cli}`]).stdout), [27, 93]);
      assert.equal(d.docker(['rm', '-f', `csr-${cli}`]).code, 0);
    });
  }

  test('exec start with Tty and ConsoleSize: the exec process starts on a terminal of that size', async () => {
    assert.equal(d.docker(['run', '-d', '--name', 'csx', 'busybox', 'sleep', '300']).code, 0);
    const cr = await d.request('POST', '/containers/csx/exec', JSON.stringify({ Tty: true, Cmd: ['sh', '-c', 'stty size > /tmp/size'] }), json);
    assert.equal(cr.status, 201, cr.body);
    const id = JSON.parse(cr.body).Id as string;
    const st = await d.request('POST', `/exec/${id}/start`, JSON.stringify({ Detach: true, Tty: true, ConsoleSize: [41, 97] }), json);
    assert.equal(st.status, 200, st.body);
    let size = '';
    for (let i = 0; i < 100 && size !== '41 97'; i++) {
      await new Promise((r) => setTimeout(r, 100));
      size = d.docker(['exec', 'csx', 'cat', '/tmp/size']).stdout.trim();
    }
    assert.equal(size, '41 97');
    assert.equal(d.docker(['rm', '-f', 'csx']).code, 0);
  });

  test('docker exec of a command that cannot start: 127/126 and dockerd\'s "OCI runtime exec failed" on stdout', () => {
    assert.equal(d.docker(['run', '-d', '--name', 'nope', 'busybox', 'sleep', '300']).code, 0);
    const nf = d.docker(['exec', 'nope', 'nope']);
    assert.equal(nf.code, 127, nf.stdout + nf.stderr);
    assert.match(nf.stdout, /^OCI runtime exec failed: exec failed: .*exec: "nope": executable file not found in \$PATH: unknown\r?\n$/);
    assert.equal(nf.stderr, '', 'runc\'s raw error leaked to stderr');
    const nx = d.docker(['exec', 'nope', '/etc/passwd']);
    assert.equal(nx.code, 126, nx.stdout + nx.stderr);
    assert.match(nx.stdout, /^OCI runtime exec failed: exec failed: .*permission denied: unknown\r?\n$/);
    assert.equal(nx.stderr, '');
    // A command that starts keeps its streams, even when it writes at once.
    const ok = d.docker(['exec', 'nope', 'sh', '-c', 'echo err >&2; echo out']);
    assert.deepEqual([ok.code, ok.stdout, ok.stderr], [0, 'out\n', 'err\n']);
    assert.equal(d.docker(['rm', '-f', 'nope']).code, 0);
  });
});
