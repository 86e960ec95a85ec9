/**
 * Issue 6: events, restart policies, health checks and pause/unpause, through the docker CLI
 * and berth against a real berthd.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { TestDaemon, DOCKER, integrationSkipReason, sleep, waitFor, type RunResult } from '../helpers/daemon';

const skip = integrationSkipReason();

/** A Unix timestamp with nanoseconds, as `--since`/`--until` take it. */
const stamp = (ms = Date.now()): string => `${Math.floor(ms / 1000)}.${String(ms % 1000).padStart(3, '0')}000000`;

describe('events, restart policies, health checks, pause', { skip }, () => {
  const d = new TestDaemon('life');
  before(async () => {
    await d.start();
    d.importBusybox();
  });
  after(async () => {
    assert.deepEqual(await d.cleanup(), []);
  });

  const ok = (r: RunResult): string => {
    assert.equal(r.code, 0, r.stderr);
    return r.stdout;
  };
  const inspect = (name: string, fmt: string): string => d.docker(['inspect', '-f', fmt, name]).stdout.trim();

  for (const cli of ['docker', 'berth'] as const) {
    const run = (args: string[]): RunResult => (cli === 'docker' ? d.docker(args) : d.berth(args));

    test(`${cli}: events of a container's life, filtered, within since/until`, () => {
      const name = `ev-${cli}`;
      const since = stamp();
      const r0 = run(['run', '--name', name, '-l', 'tier=web', 'busybox', 'sh', '-c', 'exit 3']);
      assert.equal(r0.code, 3, r0.stderr);
      const id = inspect(name, '{{.Id}}');
      ok(run(['rm', name]));
      const until = stamp(Date.now() + 5);
      const all = ok(run(['events', '--since', since, '--until', until, '--filter', `container=${name}`]));
      const actions = all.trim().split('\n').map((l) => l.split(' ')[2]);
      assert.deepEqual(
        actions.filter((a) => ['create', 'start', 'die', 'destroy'].includes(a)),
        ['create', 'start', 'die', 'destroy'],
        all,
      );
      assert.ok(all.trim().split('\n').every((l) => l.includes(` container `) && l.includes(id)), all);
      const die = ok(run(['events', '--since', since, '--until', until, '--filter', `container=${name}`, '--filter', 'event=die']));
      assert.match(die, new RegExp(`^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{9}(Z|[+-]\\d\\d:\\d\\d) container die ${id} \\(execDuration=\\d+, exitCode=3, image=busybox, name=${name}, tier=web\\)\\n$`));
      // By id prefix and label too; and nothing of other types with a container filter.
      const byId = ok(run(['events', '--since', since, '--until', until, '--filter', `container=${id.slice(0, 12)}`, '--filter', 'label=tier=web', '--filter', 'event=destroy']));
      assert.equal(byId.trim().split('\n').length, 1, byId);
      const json = ok(run(['events', '--since', since, '--until', until, '--filter', `container=${name}`, '--filter', 'event=start', '--format', '{{json .}}']));
      const m = JSON.parse(json) as Record<string, any>;
      assert.equal(m.status, 'start');
      assert.equal(m.id, id);
      assert.equal(m.from, 'busybox');
      assert.equal(m.Type, 'container');
      assert.equal(m.Action, 'start');
      assert.deepEqual(m.Actor, { ID: id, Attributes: { image: 'busybox', name, tier: 'web' } });
      assert.equal(m.scope, 'local');
      assert.equal(m.time, Math.floor(Number(/"timeNano":(\d+)/.exec(json)![1].slice(0, -9))));
      const tmpl = ok(run(['events', '--since', since, '--until', until, '--filter', `container=${name}`, '--filter', 'event=die', '--format', '{{.Type}}/{{.Action}}/{{.Actor.Attributes.exitCode}}/{{.Status}}']));
      assert.equal(tmpl, 'container/die/3/die\n');
    });
  }

  test('an until in the future ends the live stream then; image, volume and network events', async () => {
    const p = d.dockerAsync(['events', '--until', stamp(Date.now() + 4000), '--format', '{{.Type}} {{.Action}} {{.Actor.Attributes.name}}']);
    await sleep(500);
    ok(d.docker(['tag', 'busybox', 'evimg:1']));
    ok(d.docker(['rmi', 'evimg:1']));
    ok(d.docker(['volume', 'create', 'evvol']));
    ok(d.docker(['volume', 'rm', 'evvol']));
    ok(d.docker(['network', 'create', 'evnet']));
    ok(d.docker(['network', 'rm', 'evnet']));
    const t0 = Date.now();
    const r = await p;
    assert.equal(r.code, 0, r.stderr);
    assert.ok(Date.now() - t0 < 6000, 'the stream ended at until');
    for (const line of ['image tag evimg:1', 'image untag evimg:1', 'volume create ', 'volume destroy ', 'network create evnet', 'network destroy evnet']) {
      assert.ok(r.stdout.includes(line), `${line} in:\n${r.stdout}`);
    }
    // The API: type filter, bad timestamps, since after until.
    const since = Math.floor(t0 / 1000) - 10;
    const res = await d.request('GET', `/events?since=${since}&until=${since + 20}&filters=${encodeURIComponent(JSON.stringify({ type: ['network'] }))}`);
    assert.equal(res.status, 200);
    const lines = res.body.trim().split('\n').map((l) => JSON.parse(l) as { Type: string; status?: string });
    assert.ok(lines.length >= 2 && lines.every((l) => l.Type === 'network' && l.status === undefined), res.body);
    assert.equal((await d.request('GET', '/events?since=yesterday')).status, 400);
    assert.equal((await d.request('GET', `/events?since=${since + 5}&until=${since}`)).status, 400);
  });

  test('on-failure:3 restarts three times, then stays exited', async () => {
    const since = stamp();
    const id = ok(d.docker(['run', '-d', '--name', 'of3', '--restart', 'on-failure:3', 'busybox', 'sh', '-c', 'exit 1'])).trim();
    await waitFor(() => inspect('of3', '{{.State.Status}} {{.RestartCount}}') === 'exited 3', 30_000, 'three restarts');
    await sleep(2000);
    assert.equal(inspect('of3', '{{.State.Status}} {{.RestartCount}} {{.State.ExitCode}} {{.HostConfig.RestartPolicy.Name}} {{.HostConfig.RestartPolicy.MaximumRetryCount}}'), 'exited 3 1 on-failure 3');
    const ev = ok(d.docker(['events', '--since', since, '--until', stamp(), '--filter', `container=${id}`, '--format', '{{.Action}}']));
    assert.equal(ev.split('\n').filter((a) => a === 'die').length, 4, ev);
    assert.equal(ev.split('\n').filter((a) => a === 'start').length, 4, ev);
    // A manual start resets the count (and the policy applies again).
    ok(d.docker(['start', 'of3']));
    await waitFor(() => inspect('of3', '{{.State.Status}} {{.RestartCount}}') === 'exited 3', 30_000, 'three more restarts');
    ok(d.docker(['rm', 'of3']));
  });

  test('restarting: back-off visible as State.Restarting; stop ends it; stop disables always', async () => {
    ok(d.docker(['run', '-d', '--name', 'flap', '--restart', 'always', 'busybox', 'sh', '-c', 'exit 2']));
    // Delays double from 100 ms: after a few exits the container waits long enough to be seen.
    await waitFor(() => inspect('flap', '{{.State.Status}} {{.State.Restarting}} {{.State.Running}}') === 'restarting true true', 30_000, 'restarting');
    assert.match(ok(d.docker(['ps', '--filter', 'name=flap', '--format', '{{.Status}}'])), /^Restarting \(2\) .* ago\n$/);
    ok(d.docker(['stop', 'flap']));
    assert.equal(inspect('flap', '{{.State.Status}} {{.State.Restarting}} {{.State.Running}}'), 'exited false false');
    const n = inspect('flap', '{{.RestartCount}}');
    await sleep(3000);
    assert.equal(inspect('flap', '{{.State.Status}} {{.RestartCount}}'), `exited ${n}`);
    ok(d.docker(['rm', 'flap']));
    // A running `always` container stopped by the user stays stopped.
    ok(d.docker(['run', '-d', '--name', 'alw-stop', '--restart', 'always', 'busybox', 'sleep', '1000']));
    ok(d.docker(['stop', '-t', '1', 'alw-stop']));
    await sleep(1500);
    assert.equal(inspect('alw-stop', '{{.State.Status}}'), 'exited');
    // An exit of its own (not a stop) is restarted.
    ok(d.docker(['run', '-d', '--name', 'alw-exit', '--restart', 'always', 'busybox', 'sh', '-c', 'sleep 1; exit 0']));
    await waitFor(() => Number(inspect('alw-exit', '{{.RestartCount}}')) >= 1, 15_000, 'a restart after exit 0');
    ok(d.docker(['rm', '-f', 'alw-stop', 'alw-exit']));
  });

  test('restart policies are validated as Docker does', async () => {
    const rr = d.docker(['run', '--rm', '--restart', 'always', 'busybox', 'true']);
    assert.equal(rr.code, 125);
    assert.match(rr.stderr, /conflicting options: cannot specify both --restart and --rm/);
    const br = d.berth(['run', '--rm', '--restart', 'always', 'busybox', 'true']);
    assert.equal(br.code, 125);
    assert.match(br.stderr, /conflicting options: cannot specify both --restart and --rm/);
    const create = (hc: object) => d.request('POST', '/containers/create', JSON.stringify({ Image: 'busybox', Cmd: ['true'], HostConfig: hc }));
    let r = await create({ AutoRemove: true, RestartPolicy: { Name: 'always' } });
    assert.equal(r.status, 400);
    assert.match(r.body, /can't create 'AutoRemove' container with restart policy/);
    r = await create({ RestartPolicy: { Name: 'always', MaximumRetryCount: 3 } });
    assert.equal(r.status, 400);
    assert.match(r.body, /maximum retry count can only be used with 'on-failure'/);
    r = await create({ RestartPolicy: { Name: 'sometimes' } });
    assert.equal(r.status, 400);
    assert.match(r.body, /unknown policy 'sometimes'/);
    r = await create({ RestartPolicy: { Name: 'on-failure', MaximumRetryCount: -1 } });
    assert.equal(r.status, 400);
    r = await create({ RestartPolicy: { Name: '' } });
    assert.equal(r.status, 201);
    const id = (JSON.parse(r.body) as { Id: string }).Id;
    assert.equal(inspect(id, '{{json .HostConfig.RestartPolicy}}'), '{"Name":"no","MaximumRetryCount":0}');
    ok(d.docker(['rm', id]));
  });

  test('health checks: unhealthy, healthy, starting, timeouts; in ps, inspect and events', async () => {
    const since = stamp();
    ok(d.docker(['run', '-d', '--name', 'unh', '--health-cmd', 'false', '--health-interval', '1s', '--health-retries', '2', 'busybox', 'sleep', '1000']));
    ok(d.berth(['run', '-d', '--name', 'hok', '--health-cmd', 'echo ok; echo err >&2', '--health-interval', '1s', 'busybox', 'sleep', '1000']));
    ok(d.docker(['run', '-d', '--name', 'hslow', '--health-cmd', 'true', '--health-interval', '60s', 'busybox', 'sleep', '1000']));
    ok(d.docker(['run', '-d', '--name', 'htime', '--health-cmd', 'sleep 5', '--health-timeout', '500ms', '--health-interval', '1s', '--health-retries', '1', 'busybox', 'sleep', '1000']));
    await waitFor(() => inspect('unh', '{{.State.Health.Status}}') === 'unhealthy', 20_000, 'unhealthy');
    await waitFor(() => inspect('hok', '{{.State.Health.Status}}') === 'healthy', 20_000, 'healthy');
    await waitFor(() => inspect('htime', '{{.State.Health.Status}}') === 'unhealthy', 20_000, 'unhealthy by timeout');
    const unh = JSON.parse(inspect('unh', '{{json .State.Health}}')) as { Status: string; FailingStreak: number; Log: { ExitCode: number; Output: string; Start: string; End: string }[] };
    assert.ok(unh.FailingStreak >= 2);
    assert.ok(unh.Log.length >= 2 && unh.Log.length <= 5);
    assert.ok(unh.Log.every((l) => l.ExitCode === 1 && !Number.isNaN(Date.parse(l.Start)) && Date.parse(l.End) >= Date.parse(l.Start)));
    const hok = JSON.parse(inspect('hok', '{{json .State.Health}}')) as typeof unh;
    assert.equal(hok.FailingStreak, 0);
    assert.equal(hok.Log[0].ExitCode, 0);
    // stdout and stderr reach the probe through two pipes (as in dockerd): their order may vary
    assert.ok(['ok\nerr\n', 'err\nok\n'].includes(hok.Log[0].Output), hok.Log[0].Output);
    const ht = JSON.parse(inspect('htime', '{{json .State.Health}}')) as typeof unh;
    assert.equal(ht.Log[0].ExitCode, -1);
    assert.equal(ht.Log[0].Output, 'Health check exceeded timeout (500ms)');
    assert.equal(inspect('hok', '{{json .Config.Healthcheck}}'), '{"Test":["CMD-SHELL","echo ok; echo err >&2"],"Interval":1000000000}');
    // ps: the status suffix and the health filter, with both CLIs.
    for (const run of [d.docker.bind(d), d.berth.bind(d)]) {
      const ps = ok(run(['ps', '--format', '{{.Names}} {{.Status}}']));
      assert.match(ps, /^unh Up .* \(unhealthy\)$/m);
      assert.match(ps, /^hok Up .* \(healthy\)$/m);
      assert.match(ps, /^hslow Up .* \(health: starting\)$/m);
      assert.equal(ok(run(['ps', '--filter', 'health=healthy', '--format', '{{.Names}}'])), 'hok\n');
    }
    const ev = ok(d.docker(['events', '--since', since, '--until', stamp(), '--filter', 'event=health_status', '--format', '{{.Actor.Attributes.name}} {{.Action}}']));
    assert.ok(ev.includes('unh health_status: unhealthy\n'), ev);
    assert.ok(ev.includes('hok health_status: healthy\n'), ev);
    // Each probe is an exec, with Docker's exec events.
    const ex = ok(d.docker(['events', '--since', since, '--until', stamp(), '--filter', 'container=unh', '--filter', 'event=exec_start', '--filter', 'event=exec_die', '--format', '{{.Action}} {{.Actor.Attributes.exitCode}}']));
    assert.match(ex, /^exec_start: \/bin\/sh -c false <no value>\nexec_die 1\n/, ex);
    // Failures within the start period do not count while the container is still starting.
    ok(d.docker(['run', '-d', '--name', 'hsp', '--health-cmd', 'false', '--health-interval', '1s', '--health-retries', '1', '--health-start-period', '6s', 'busybox', 'sleep', '1000']));
    await sleep(2500);
    assert.equal(inspect('hsp', '{{.State.Health.Status}} {{.State.Health.FailingStreak}}'), 'starting 0');
    await waitFor(() => inspect('hsp', '{{.State.Health.Status}}') === 'unhealthy', 20_000, 'unhealthy after the start period');
    ok(d.docker(['rm', '-f', 'hsp']));
    // A container without a health check has no Health; --no-healthcheck gives Test NONE.
    ok(d.docker(['run', '-d', '--name', 'hnone', '--no-healthcheck', 'busybox', 'sleep', '1000']));
    assert.equal(inspect('hnone', '{{json .State.Health}}'), 'null');
    assert.equal(inspect('hnone', '{{json .Config.Healthcheck}}'), '{"Test":["NONE"]}');
    ok(d.docker(['rm', '-f', 'unh', 'hok', 'hslow', 'htime', 'hnone']));
  });

  test('an image HEALTHCHECK is used, and the request overrides parts of it', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-hc-'));
    fs.writeFileSync(path.join(dir, 'Dockerfile'), 'FROM busybox\nHEALTHCHECK --interval=1s --retries=1 CMD ["sh", "-c", "test -e /tmp/ok"]\nCMD ["sleep", "1000"]\n');
    const b = spawnSync(DOCKER, ['build', '-q', '-t', 'hcimg', dir], { env: { ...process.env, DOCKER_HOST: d.host, DOCKER_BUILDKIT: '0' }, encoding: 'utf8', timeout: 120_000 });
    fs.rmSync(dir, { recursive: true, force: true });
    assert.equal(b.status, 0, b.stderr);
    ok(d.docker(['run', '-d', '--name', 'himg', 'hcimg']));
    await waitFor(() => inspect('himg', '{{.State.Health.Status}}') === 'unhealthy', 20_000, 'image check fails');
    ok(d.docker(['run', '-d', '--name', 'himg2', '--health-cmd', 'true', 'hcimg']));
    assert.equal(inspect('himg2', '{{json .Config.Healthcheck}}'), '{"Test":["CMD-SHELL","true"],"Interval":1000000000,"Retries":1}');
    await waitFor(() => inspect('himg2', '{{.State.Health.Status}}') === 'healthy', 20_000, 'overridden check passes');
    ok(d.docker(['rm', '-f', 'himg', 'himg2']));
    ok(d.docker(['rmi', 'hcimg']));
  });

  for (const cli of ['docker', 'berth'] as const) {
    test(`${cli}: pause freezes the processes, unpause lets them go on`, async () => {
      const run = (args: string[]): RunResult => (cli === 'docker' ? d.docker(args) : d.berth(args));
      const name = `counter-${cli}`;
      const since = stamp();
      ok(run(['run', '-d', '--name', name, 'busybox', 'sh', '-c', 'i=0; while true; do echo $i; i=$((i+1)); sleep 0.1; done']));
      const lines = (): number => d.docker(['logs', name]).stdout.split('\n').length;
      await waitFor(() => lines() > 3, 10_000, 'output');
      assert.equal(ok(run(['pause', name])), `${name}\n`);
      assert.equal(inspect(name, '{{.State.Status}} {{.State.Paused}} {{.State.Running}}'), 'paused true true');
      assert.match(ok(run(['ps', '--filter', `name=${name}`, '--format', '{{.Status}}'])), /^Up .* \(Paused\)\n$/);
      await sleep(300);
      const frozen = lines();
      await sleep(1500);
      assert.equal(lines(), frozen, 'no output while paused');
      const again = run(['pause', name]);
      assert.equal(again.code, 1);
      assert.match(again.stderr, /is already paused/);
      ok(run(['unpause', name]));
      assert.equal(inspect(name, '{{.State.Status}} {{.State.Paused}}'), 'running false');
      await waitFor(() => lines() > frozen + 3, 10_000, 'output after unpause');
      const notPaused = run(['unpause', name]);
      assert.equal(notPaused.code, 1);
      assert.match(notPaused.stderr, /is not paused/);
      // A paused container can be stopped (Docker thaws it for the signal); rm without -f refuses it.
      ok(run(['pause', name]));
      const rm = run(['rm', name]);
      assert.equal(rm.code, 1);
      assert.match(rm.stderr, /container is paused/);
      ok(run(['stop', '-t', '1', name]));
      assert.equal(inspect(name, '{{.State.Status}} {{.State.Paused}} {{.State.ExitCode}}'), 'exited false 137');
      const stopped = run(['pause', name]);
      assert.equal(stopped.code, 1);
      assert.match(stopped.stderr, /is not running/);
      const ev = ok(run(['events', '--since', since, '--until', stamp(), '--filter', `container=${name}`, '--format', '{{.Action}}']));
      assert.deepEqual(
        ev.trim().split('\n').filter((a) => ['pause', 'unpause', 'die'].includes(a)),
        ['pause', 'unpause', 'pause', 'unpause', 'die'],
      );
      ok(run(['rm', name]));
    });
  }

  test('kill of a paused container works', async () => {
    ok(d.docker(['run', '-d', '--name', 'pk', 'busybox', 'sleep', '1000']));
    ok(d.docker(['pause', 'pk']));
    ok(d.docker(['kill', 'pk']));
    await waitFor(() => inspect('pk', '{{.State.Status}}') === 'exited', 10_000, 'killed');
    assert.equal(inspect('pk', '{{.State.ExitCode}} {{.State.Paused}}'), '137 false');
    ok(d.docker(['rm', 'pk']));
    // start of a paused container is refused; rm -f takes it.
    ok(d.docker(['run', '-d', '--name', 'pk2', 'busybox', 'sleep', '1000']));
    ok(d.docker(['pause', 'pk2']));
    const st = await d.request('POST', '/containers/pk2/start');
    assert.equal(st.status, 409);
    assert.match(st.body, /cannot start a paused container, try unpause instead/);
    ok(d.docker(['rm', '-f', 'pk2']));
    assert.equal(d.docker(['inspect', 'pk2']).code, 1);
  });

  test('after a daemon restart: always comes back, unless-stopped only if not stopped by the user', async () => {
    ok(d.docker(['run', '-d', '--name', 'b-always', '--stop-timeout', '1', '--restart', 'always', 'busybox', 'sleep', '1000']));
    ok(d.docker(['run', '-d', '--name', 'b-us', '--stop-timeout', '1', '--restart', 'unless-stopped', 'busybox', 'sleep', '1000']));
    ok(d.docker(['run', '-d', '--name', 'b-us-stopped', '--stop-timeout', '1', '--restart', 'unless-stopped', 'busybox', 'sleep', '1000']));
    ok(d.docker(['run', '-d', '--name', 'b-no', '--stop-timeout', '1', 'busybox', 'sleep', '1000']));
    ok(d.docker(['run', '-d', '--name', 'b-health', '--stop-timeout', '1', '--restart', 'always', '--health-cmd', 'true', '--health-interval', '1s', 'busybox', 'sleep', '1000']));
    ok(d.docker(['stop', '-t', '1', 'b-us-stopped']));
    const pid = inspect('b-always', '{{.State.Pid}}');
    await d.stop();
    await d.start();
    assert.equal(inspect('b-always', '{{.State.Status}}'), 'running');
    assert.notEqual(inspect('b-always', '{{.State.Pid}}'), pid);
    assert.equal(inspect('b-us', '{{.State.Status}}'), 'running');
    assert.equal(inspect('b-us-stopped', '{{.State.Status}}'), 'exited');
    assert.equal(inspect('b-no', '{{.State.Status}}'), 'exited');
    await waitFor(() => inspect('b-health', '{{.State.Health.Status}}') === 'healthy', 20_000, 'health probed after the daemon restart');
    // Stopped by the user, `unless-stopped` stays down across another daemon restart.
    ok(d.docker(['stop', '-t', '1', 'b-us']));
    await d.stop();
    await d.start();
    assert.equal(inspect('b-us', '{{.State.Status}}'), 'exited');
    assert.equal(inspect('b-always', '{{.State.Status}}'), 'running');
    ok(d.docker(['rm', '-f', 'b-always', 'b-us', 'b-us-stopped', 'b-no', 'b-health']));
  });
});
