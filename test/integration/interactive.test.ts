/**
 * Issue 6: interactive containers and exec, through both CLIs against a real berthd.
 * TTY cases run the CLI on a real pseudo-terminal (test/helpers/pty.ts).
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { TestDaemon, integrationSkipReason, type RunResult } from '../helpers/daemon';

const skip = integrationSkipReason();

describe('interactive containers and exec', { skip }, () => {
  const d = new TestDaemon('tty');
  before(async () => {
    await d.start();
    d.importBusybox();
  });
  after(async () => {
    const leaks = await d.cleanup();
    assert.deepEqual(leaks, [], 'the daemon left things behind');
  });

  for (const cli of ['docker', 'berth'] as const) {
    const run = (args: string[], input?: string): RunResult => (cli === 'docker' ? d.docker(args, { input }) : d.berth(args, { input }));

    test(`${cli}: run -i without a TTY passes stdin and its end`, () => {
      const r = run(['run', '-i', '--rm', 'busybox', 'cat'], 'hi\n');
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, 'hi\n');
      const wc = run(['run', '-i', '--rm', 'busybox', 'wc', '-c'], 'x'.repeat(200_000));
      assert.equal(wc.code, 0, wc.stderr);
      assert.equal(wc.stdout.trim(), '200000');
    });
  }
});
