/**
 * Issue 2, acceptance 4 and 5: containers outlive a kill -9 of berthd; two daemons side by side.
 */
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { TestDaemon, integrationSkipReason, sleep, waitFor } from '../helpers/daemon';

const skip = integrationSkipReason();

describe('live restore after kill -9 of berthd', { skip }, () => {
  const d = new TestDaemon('restore');
  after(async () => {
    assert.deepEqual(await d.cleanup(), []);
  });

  test('running containers survive, an exit while down is recorded, logs still work', async () => {
    await d.start();
    d.importBusybox();
    for (const n of ['keep-a', 'keep-b']) {
      assert.equal(d.docker(['run', '-d', '--name', n, 'busybox', 'sh', '-c', `echo hello-${n}; sleep 1000`]).code, 0);
    }
    assert.equal(d.docker(['run', '-d', '--name', 'dies', 'busybox', 'sh', '-c', 'echo before; sleep 2; echo after; exit 7']).code, 0);
    const pids = Object.fromEntries(['keep-a', 'keep-b'].map((n) => [n, d.docker(['inspect', '-f', '{{.State.Pid}}', n]).stdout.trim()]));
    await d.crash();
    // 'dies' exits while berthd is down; conmon records its exit code.
    await sleep(3000);
    await d.start();
    for (const n of ['keep-a', 'keep-b']) {
      assert.equal(d.docker(['inspect', '-f', '{{.State.Status}} {{.State.Pid}}', n]).stdout.trim(), `running ${pids[n]}`);
      assert.equal(d.docker(['logs', n]).stdout, `hello-${n}\n`);
    }
    assert.equal(d.docker(['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', 'dies']).stdout.trim(), 'exited 7');
    assert.equal(d.docker(['logs', 'dies']).stdout, 'before\nafter\n');
    // The restarted daemon still sees exits of the containers it found again.
    assert.equal(d.docker(['kill', 'keep-a']).code, 0);
    await waitFor(() => d.docker(['inspect', '-f', '{{.State.Status}}', 'keep-a']).stdout.trim() === 'exited', 5000, 'keep-a to exit');
    assert.equal(d.docker(['inspect', '-f', '{{.State.ExitCode}}', 'keep-a']).stdout.trim(), '137');
    assert.equal(d.docker(['rm', '-f', 'keep-a', 'keep-b', 'dies']).code, 0);
  });
});

describe('two daemons side by side', { skip }, () => {
  const a = new TestDaemon('side-a');
  const b = new TestDaemon('side-b');
  after(async () => {
    assert.deepEqual(await a.cleanup(), []);
    assert.deepEqual(await b.cleanup(), []);
  });

  test('each sees only its own images and containers; stopping one leaves the other running', async () => {
    await Promise.all([a.start(), b.start()]);
    a.importBusybox('only-a');
    b.importBusybox('only-b');
    assert.equal(a.docker(['run', '-d', '--name', 'same-name', 'only-a', 'sleep', '100']).code, 0);
    assert.equal(b.docker(['run', '-d', '--name', 'same-name', 'only-b', 'sleep', '100']).code, 0);
    assert.equal(a.docker(['images', '--format', '{{.Repository}}']).stdout.trim(), 'only-a');
    assert.equal(b.docker(['images', '--format', '{{.Repository}}']).stdout.trim(), 'only-b');
    const idA = a.docker(['inspect', '-f', '{{.Id}}', 'same-name']).stdout.trim();
    const idB = b.docker(['inspect', '-f', '{{.Id}}', 'same-name']).stdout.trim();
    assert.notEqual(idA, idB);
    assert.equal(a.docker(['ps', '-q', '--no-trunc']).stdout.trim(), idA);
    // Per-daemon cgroup parents.
    const cgA = fs.readdirSync('/sys/fs/cgroup/pids').filter((n) => n.startsWith('berth-') && fs.existsSync(`/sys/fs/cgroup/pids/${n}/${idA}`));
    const cgB = fs.readdirSync('/sys/fs/cgroup/pids').filter((n) => n.startsWith('berth-') && fs.existsSync(`/sys/fs/cgroup/pids/${n}/${idB}`));
    assert.equal(cgA.length, 1);
    assert.equal(cgB.length, 1);
    assert.notEqual(cgA[0], cgB[0]);
    await a.stop();
    assert.equal(b.docker(['inspect', '-f', '{{.State.Running}}', 'same-name']).stdout.trim(), 'true');
    assert.equal(b.docker(['rm', '-f', 'same-name']).code, 0);
    assert.ok(!fs.existsSync(`/sys/fs/cgroup/pids/${cgA[0]}`), 'the stopped daemon removed its cgroup parent');
  });
});
