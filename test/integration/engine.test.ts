/**
 * Issue 2, acceptance 1-3: the real docker CLI and berth against a real berthd.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { TestDaemon, integrationSkipReason, busyboxRootfsTar, sleep, type RunResult } from '../helpers/daemon';

const skip = integrationSkipReason();

describe('engine core through both CLIs', { skip }, () => {
  const d = new TestDaemon('engine');
  before(async () => {
    await d.start();
  });
  after(async () => {
    const leaks = await d.cleanup();
    assert.deepEqual(leaks, [], 'the daemon left things behind');
  });

  for (const cli of ['docker', 'berth'] as const) {
    const run = (args: string[], input?: string): RunResult => (cli === 'docker' ? d.docker(args, { input }) : d.berth(args, { input }));

    describe(`with the ${cli} CLI`, () => {
      test(`${cli}: import a busybox rootfs and run it`, () => {
        const imp = run(['import', '-c', 'CMD ["sh"]', busyboxRootfsTar(), `bb-${cli}`]);
        assert.equal(imp.code, 0, imp.stderr);
        assert.match(imp.stdout.trim(), /^sha256:[a-f0-9]{64}$/);
        const r = run(['run', '--rm', `bb-${cli}`, 'echo', 'hello']);
        assert.equal(r.code, 0, r.stderr);
        assert.equal(r.stdout, 'hello\n');
      });

      test(`${cli}: exit codes: the container's own, 127 for a missing command, 126 for a non-executable`, () => {
        assert.equal(run(['run', '--rm', `bb-${cli}`, 'sh', '-c', 'exit 3']).code, 3);
        const nf = run(['run', '--rm', `bb-${cli}`, 'nosuchcmd']);
        assert.equal(nf.code, 127, nf.stderr);
        assert.match(nf.stderr, /executable file not found/);
        const ne = run(['run', '--rm', `bb-${cli}`, '/etc/passwd']);
        assert.equal(ne.code, 126, ne.stderr);
        const noimg = run(['run', '--rm', 'no-such-image-here', 'true']);
        assert.equal(noimg.code, 125);
      });

      test(`${cli}: PID 1, own process list, hostname = short id`, () => {
        const r = run(['run', '--name', `ns-${cli}`, `bb-${cli}`, 'sh', '-c', 'echo $$; ps -o pid,comm | tail -n +2 | wc -l; hostname']);
        assert.equal(r.code, 0, r.stderr);
        const [pid, nprocs, hostname] = r.stdout.trim().split('\n').map((s) => s.trim());
        assert.equal(pid, '1');
        // sh and ps (and the pipeline's helpers), never the host's hundreds of processes
        assert.ok(Number(nprocs) <= 4, `container sees ${nprocs} processes`);
        const id = run(['inspect', '-f', '{{.Id}}', `ns-${cli}`]).stdout.trim();
        assert.equal(hostname, id.slice(0, 12));
        assert.equal(run(['rm', `ns-${cli}`]).code, 0);
      });

      test(`${cli}: stop -t 1 ends a container that ignores SIGTERM with 137`, () => {
        const name = `stubborn-${cli}`;
        assert.equal(run(['run', '-d', '--name', name, `bb-${cli}`, 'sh', '-c', 'trap "" TERM; while true; do sleep 0.1; done']).code, 0);
        const t0 = Date.now();
        const s = run(['stop', '-t', '1', name]);
        const took = Date.now() - t0;
        assert.equal(s.code, 0, s.stderr);
        assert.ok(took >= 900 && took < 5000, `stop took ${took} ms`);
        assert.equal(run(['inspect', '-f', '{{.State.ExitCode}} {{.State.Status}}', name]).stdout.trim(), '137 exited');
        assert.equal(run(['rm', name]).code, 0);
      });

      test(`${cli}: kill -s USR1 delivers the signal; rm -f removes a running container`, async () => {
        const name = `usr1-${cli}`;
        assert.equal(run(['run', '-d', '--name', name, `bb-${cli}`, 'sh', '-c', 'trap "echo got-usr1" USR1; echo ready; while true; do sleep 0.1; done']).code, 0);
        for (let i = 0; i < 50 && !run(['logs', name]).stdout.includes('ready'); i++) await sleep(100);
        assert.equal(run(['kill', '-s', 'USR1', name]).code, 0);
        let logs = '';
        for (let i = 0; i < 50 && !(logs = run(['logs', name]).stdout).includes('got-usr1'); i++) await sleep(100);
        assert.match(logs, /got-usr1/);
        assert.equal(run(['inspect', '-f', '{{.State.Running}}', name]).stdout.trim(), 'true');
        const rm = run(['rm', '-f', name]);
        assert.equal(rm.code, 0, rm.stderr);
        assert.notEqual(run(['inspect', name]).code, 0);
      });

      test(`${cli}: ps -a status wording matches docker's`, () => {
        const p = cli;
        assert.equal(run(['create', '--name', `st-created-${p}`, `bb-${cli}`, 'true']).code, 0);
        assert.equal(run(['run', '--name', `st-exited-${p}`, `bb-${cli}`, 'sh', '-c', 'exit 3']).code, 3);
        assert.equal(run(['run', '-d', '--name', `st-up-${p}`, `bb-${cli}`, 'sleep', '60']).code, 0);
        const r = run(['ps', '-a', '--filter', `name=st-.*-${p}`, '--format', '{{.Names}} {{.Status}}']);
        assert.equal(r.code, 0, r.stderr);
        const lines = Object.fromEntries(r.stdout.trim().split('\n').map((l) => [l.split(' ')[0], l.slice(l.indexOf(' ') + 1)]));
        assert.equal(lines[`st-created-${p}`], 'Created');
        assert.match(lines[`st-exited-${p}`], /^Exited \(3\) (Less than a second|\d+ seconds?) ago$/);
        assert.match(lines[`st-up-${p}`], /^Up (Less than a second|\d+ seconds?)$/);
        assert.equal(run(['rm', '-f', `st-created-${p}`, `st-exited-${p}`, `st-up-${p}`]).code, 0);
      });

      test(`${cli}: logs --tail, --timestamps, --since, -f until exit; wait, restart, rename`, async () => {
        const name = `logs-${cli}`;
        assert.equal(run(['run', '-d', '--name', name, `bb-${cli}`, 'sh', '-c', 'for i in 1 2 3; do echo line$i; done; echo oops >&2; sleep 1; echo last']).code, 0);
        const f = run(['logs', '-f', name]);
        assert.equal(f.code, 0, f.stderr);
        assert.equal(f.stdout, 'line1\nline2\nline3\nlast\n');
        assert.equal(f.stderr, 'oops\n');
        assert.equal(run(['logs', '--tail', '2', name]).stdout, 'last\n');
        const ts = run(['logs', '-t', '--tail', '1', name]).stdout;
        assert.match(ts, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z last\n$/);
        assert.equal(run(['logs', '--since', '2100-01-01T00:00:00Z', name]).stdout, '');
        assert.equal(run(['wait', name]).stdout.trim(), '0');
        const started = run(['inspect', '-f', '{{.State.StartedAt}}', name]).stdout.trim();
        assert.equal(run(['restart', '-t', '1', name]).code, 0);
        assert.notEqual(run(['inspect', '-f', '{{.State.StartedAt}}', name]).stdout.trim(), started);
        assert.equal(run(['rename', name, `${name}-renamed`]).code, 0);
        assert.equal(run(['inspect', '-f', '{{.Name}}', `${name}-renamed`]).stdout.trim(), `/${name}-renamed`);
        assert.equal(run(['rm', '-f', `${name}-renamed`]).code, 0);
      });

      test(`${cli}: save, rmi, load gives back the same image id; history lists the layer`, () => {
        const img = `bb-${cli}`;
        const id = run(['inspect', '-f', '{{.Id}}', img]).stdout.trim();
        assert.match(id, /^sha256:/);
        const file = path.join(d.dir, `save-${cli}.tar`);
        const s = run(['save', '-o', file, img]);
        assert.equal(s.code, 0, s.stderr);
        assert.ok(fs.statSync(file).size > 1_000_000);
        const rmi = run(['rmi', img]);
        assert.equal(rmi.code, 0, rmi.stderr);
        assert.notEqual(run(['inspect', '--type', 'image', img]).code, 0);
        const l = run(['load', '-i', file]);
        assert.equal(l.code, 0, l.stderr);
        assert.match(l.stdout, new RegExp(`Loaded image: ${img}:latest`));
        assert.equal(run(['inspect', '-f', '{{.Id}}', img]).stdout.trim(), id);
        const h = run(['history', '--no-trunc', '--format', '{{.ID}} {{.Size}} {{.Comment}}', img]);
        assert.equal(h.code, 0, h.stderr);
        assert.match(h.stdout, new RegExp(`^${id} \\S+MB Imported from -$`, 'm'));
        const r = run(['run', '--rm', img, 'echo', 'after-load']);
        assert.equal(r.stdout, 'after-load\n');
      });
    });
  }
});
