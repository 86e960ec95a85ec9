/**
 * Issue 6: interactive containers and exec, through both CLIs against a real berthd.
 * TTY cases run the CLI on a real pseudo-terminal (test/helpers/pty.ts).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { integrationSkipReason, DOCKER, BERTH, type RunResult } from '../helpers/daemon';
import { busyboxDaemon } from '../helpers/suite';
import { Pty } from '../helpers/pty';

const skip = integrationSkipReason();

/**
 * Polls `stty size` in the shell until it shows rows x cols: a resize travels CLI -> berthd ->
 * conmon, and the docker CLI's attach briefly sets rows+1 x cols+1 to make the shell redraw.
 */
async function sizeIs(t: Pty, rows: number, cols: number): Promise<void> {
  let last = '';
  for (let i = 0; i < 40; i++) {
    last = (await t.run('stty size', /(\d+ \d+)\r\n/))[1];
    if (last === `${rows} ${cols}`) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  assert.fail(`stty size shows ${last}, not ${rows} ${cols}`);
}

describe('interactive containers and exec', { skip }, () => {
  const d = busyboxDaemon('tty');

  for (const cli of ['docker', 'berth'] as const) {
    const run = (args: string[], input?: string): RunResult => (cli === 'docker' ? d.docker(args, { input }) : d.berth(args, { input }));

    /** The CLI on a real terminal of rows x cols. */
    const onPty = (args: string[], rows = 24, cols = 80): Pty =>
      cli === 'docker'
        ? new Pty([DOCKER, ...args], { rows, cols, env: { DOCKER_HOST: d.host } })
        : new Pty([process.execPath, BERTH, ...args], { rows, cols, env: { BERTH_HOST: d.host, DOCKER_HOST: '' } });

    test(`${cli}: run -it on a pty: commands, stty size, resize, detach, attach, exit code, terminal restored`, async () => {
      const name = `it-${cli}`;
      const t = onPty(['run', '-it', '--name', name, 'busybox', 'sh'], 24, 80);
      try {
        await t.prompt();
        await sizeIs(t, 24, 80);
        await t.run('echo $((6*7))', /42\r\n/);
        t.resize(30, 100);
        // The resize travels CLI -> berthd -> conmon; poll until the shell sees it.
        await sizeIs(t, 30, 100);
        await t.prompt();
        t.write('\x10\x11');
        assert.equal(await t.wait(), 0, t.output);
      } finally {
        t.kill();
      }
      assert.deepEqual(t.finalAttrs, t.initialAttrs, 'the terminal settings were not restored');
      assert.equal(run(['inspect', '-f', '{{.State.Running}}', name]).stdout.trim(), 'true', 'detaching stopped the container');

      const a = onPty(['attach', name], 40, 120);
      try {
        a.write('\r');
        await a.prompt();
        await sizeIs(a, 40, 120);
        await a.prompt();
        a.write('exit 4\r');
        assert.equal(await a.wait(), 4, a.output);
      } finally {
        a.kill();
      }
      assert.deepEqual(a.finalAttrs, a.initialAttrs, 'the terminal settings were not restored');
      assert.equal(run(['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', name]).stdout.trim(), 'exited 4');

      // start -ai: the same container again, on a terminal.
      const s = onPty(['start', '-ai', name]);
      try {
        await s.prompt();
        await s.run('echo again', /again\r\n/);
        await s.prompt();
        s.write('exit 5\r');
        assert.equal(await s.wait(), 5, s.output);
      } finally {
        s.kill();
      }
      assert.deepEqual(s.finalAttrs, s.initialAttrs);
      assert.equal(run(['rm', name]).code, 0);
    });

    test(`${cli}: exec -it on a pty`, async () => {
      const name = `exit-${cli}`;
      assert.equal(run(['run', '-d', '--name', name, 'busybox', 'sleep', '300']).code, 0);
      const t = onPty(['exec', '-it', name, 'sh'], 33, 91);
      try {
        await t.prompt();
        await sizeIs(t, 33, 91);
        await t.run('tty', /\/dev\/pts\/\d+\r\n/);
        t.resize(20, 60);
        await sizeIs(t, 20, 60);
        await t.prompt();
        t.write('exit 3\r');
        assert.equal(await t.wait(), 3, t.output);
      } finally {
        t.kill();
      }
      assert.deepEqual(t.finalAttrs, t.initialAttrs, 'the terminal settings were not restored');
      assert.equal(run(['rm', '-f', name]).code, 0);
    });

    test(`${cli}: run -i without a TTY passes stdin and its end`, () => {
      const r = run(['run', '-i', '--rm', 'busybox', 'cat'], 'hi\n');
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, 'hi\n');
      const wc = run(['run', '-i', '--rm', 'busybox', 'wc', '-c'], 'x'.repeat(200_000));
      assert.equal(wc.code, 0, wc.stderr);
      assert.equal(wc.stdout.trim(), '200000');
    });

    test(`${cli}: exec: output, exit codes, -u -w -e -d, --env-file, exec JSON, stopped container`, () => {
      const name = `ex-${cli}`;
      assert.equal(run(['run', '-d', '--name', name, 'busybox', 'sleep', '300']).code, 0);
      const out = run(['exec', name, 'sh', '-c', 'echo out; echo err >&2']);
      assert.equal(out.code, 0, out.stderr);
      assert.equal(out.stdout, 'out\n');
      assert.equal(out.stderr, 'err\n');
      assert.equal(run(['exec', name, 'sh', '-c', 'exit 7']).code, 7);
      const nf = run(['exec', name, 'nosuchcmd']);
      assert.equal(nf.code, 127, nf.stderr + nf.stdout);
      assert.match(nf.stdout + nf.stderr, /executable file not found/);
      assert.equal(run(['exec', name, '/etc/passwd']).code, 126);
      const u = run(['exec', '-u', '1000', name, 'id', '-u']);
      assert.equal(u.stdout.trim(), '1000', u.stderr);
      const w = run(['exec', '-w', '/tmp', '-e', 'FOO=bar', name, 'sh', '-c', 'pwd; echo $FOO']);
      assert.equal(w.stdout, '/tmp\nbar\n', w.stderr);
      const capEff = (args: string[]): bigint => BigInt('0x' + (/CapEff:\s*([0-9a-f]+)/.exec(run(['exec', ...args, name, 'cat', '/proc/self/status']).stdout)?.[1] ?? '0'));
      const plain = capEff([]);
      const priv = capEff(['--privileged']);
      assert.ok(plain > 0n && (priv & plain) === plain && priv > plain, `--privileged: CapEff ${priv.toString(16)} vs ${plain.toString(16)}`);
      const envFile = `${d.dir}/env-${cli}`;
      fs.writeFileSync(envFile, 'A=1\n# comment\nB=two\n');
      const ef = run(['exec', '--env-file', envFile, name, 'sh', '-c', 'echo $A$B']);
      assert.equal(ef.stdout, '1two\n', ef.stderr);
      const det = run(['exec', '-d', name, 'sh', '-c', 'echo detached > /tmp/d']);
      assert.equal(det.code, 0, det.stderr);
      assert.equal(det.stdout, '');
      let seen = '';
      for (let i = 0; i < 50 && seen !== 'detached'; i++) seen = run(['exec', name, 'cat', '/tmp/d']).stdout.trim();
      assert.equal(seen, 'detached');
      const ids = run(['inspect', '-f', '{{json .ExecIDs}}', name]);
      assert.equal(ids.stdout.trim(), 'null', ids.stderr);
      const input = run(['exec', '-i', name, 'cat'], 'piped\n');
      assert.equal(input.stdout, 'piped\n', input.stderr);
      assert.equal(run(['stop', '-t', '0', name]).code, 0);
      const stopped = run(['exec', name, 'true']);
      assert.notEqual(stopped.code, 0);
      assert.match(stopped.stderr, new RegExp(`Error response from daemon: container [0-9a-f]{64} is not running`));
      assert.equal(run(['rm', name]).code, 0);
    });
  }

  test('kill -9 of berthd: a -dit container keeps its stdin, exec processes left running are killed', async () => {
    assert.equal(d.docker(['run', '-dit', '--name', 'keep', 'busybox', 'sh']).code, 0);
    assert.equal(d.docker(['exec', '-d', 'keep', 'sleep', '1234']).code, 0);
    assert.match(d.docker(['exec', 'keep', 'ps', '-o', 'args']).stdout, /sleep 1234/);
    await d.crash();
    await d.start();
    assert.doesNotMatch(d.docker(['exec', 'keep', 'ps', '-o', 'args']).stdout, /sleep 1234/, 'an exec process outlived the daemon that started it');
    const a = new Pty([DOCKER, 'attach', 'keep'], { env: { DOCKER_HOST: d.host } });
    try {
      a.write('\r');
      await a.prompt();
      await a.run('echo still-$((40+2))', /still-42\r\n/);
      await a.prompt();
      a.write('\x10\x11');
      // docker attach reports a detach as an error ("read escape sequence"), exit status 1.
      assert.equal(await a.wait(), 1, a.output);
      assert.match(a.output, /read escape sequence/);
    } finally {
      a.kill();
    }
    const b = new Pty([process.execPath, BERTH, 'attach', 'keep'], { env: { BERTH_HOST: d.host, DOCKER_HOST: '' } });
    try {
      b.write('\r');
      await b.prompt();
      await b.run('echo berth-$((40+3))', /berth-43\r\n/);
      await b.prompt();
      b.write('\x10\x11');
      assert.equal(await b.wait(), 1, b.output);
      assert.match(b.output, /read escape sequence/);
    } finally {
      b.kill();
    }
    assert.deepEqual(b.finalAttrs, b.initialAttrs, 'the terminal settings were not restored');
    assert.equal(d.docker(['inspect', '-f', '{{.State.Running}}', 'keep']).stdout.trim(), 'true');
    assert.equal(d.docker(['rm', '-f', 'keep']).code, 0);
  });

  test('exec API: inspect JSON (ExitCode, Running, Pid, ProcessConfig), ExecIDs while running, 404/409', async () => {
    assert.equal(d.docker(['run', '-d', '--name', 'exapi', 'busybox', 'sleep', '300']).code, 0);
    const cr = await d.request('POST', '/containers/exapi/exec', JSON.stringify({ Cmd: ['sleep', '2'], User: '1000', Privileged: false }), { 'Content-Type': 'application/json' });
    assert.equal(cr.status, 201, cr.body);
    const id = JSON.parse(cr.body).Id as string;
    const created = JSON.parse((await d.request('GET', `/exec/${id}/json`)).body);
    assert.deepEqual(
      { Running: created.Running, ExitCode: created.ExitCode, Pid: created.Pid, ProcessConfig: created.ProcessConfig },
      { Running: false, ExitCode: null, Pid: 0, ProcessConfig: { tty: false, entrypoint: 'sleep', arguments: ['2'], privileged: false, user: '1000' } },
    );
    const st = await d.request('POST', `/exec/${id}/start`, JSON.stringify({ Detach: true }), { 'Content-Type': 'application/json' });
    assert.equal(st.status, 200, st.body);
    const running = JSON.parse((await d.request('GET', `/exec/${id}/json`)).body);
    assert.equal(running.Running, true);
    assert.ok(running.Pid > 0);
    assert.deepEqual(JSON.parse(d.docker(['inspect', '-f', '{{json .ExecIDs}}', 'exapi']).stdout), [id]);
    const again = await d.request('POST', `/exec/${id}/start`, JSON.stringify({ Detach: true }), { 'Content-Type': 'application/json' });
    assert.equal(again.status, 409);
    let done = running;
    for (let i = 0; i < 100 && done.Running; i++) {
      await new Promise((r) => setTimeout(r, 100));
      done = JSON.parse((await d.request('GET', `/exec/${id}/json`)).body);
    }
    assert.equal(done.Running, false);
    assert.equal(done.ExitCode, 0);
    assert.equal((await d.request('GET', '/exec/nosuch/json')).status, 404);
    const empty = await d.request('POST', '/containers/exapi/exec', JSON.stringify({ Cmd: [] }), { 'Content-Type': 'application/json' });
    assert.equal(empty.status, 400);
    assert.equal(d.docker(['rm', '-f', 'exapi']).code, 0);
  });
});
