import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RestartTracker, policyWantsRestart, restartPolicyOf } from './restart';
import type { ContainerRecord } from './containers';

const rec = (Name: string, MaximumRetryCount = 0, extra: Partial<ContainerRecord> = {}): ContainerRecord =>
  ({
    Id: 'c1',
    RestartCount: 0,
    State: { StartedAt: new Date().toISOString() },
    HostConfig: { RestartPolicy: { Name, MaximumRetryCount } },
    berth: { chain: [], conmonPid: 0, runtime: 'runc' },
    ...extra,
  }) as unknown as ContainerRecord;

test('policies decide as Docker does', () => {
  assert.equal(policyWantsRestart(rec('no'), 1), false);
  assert.equal(policyWantsRestart(rec('always'), 0), true);
  assert.equal(policyWantsRestart(rec('on-failure'), 0), false);
  assert.equal(policyWantsRestart(rec('on-failure'), 2), true);
  assert.equal(policyWantsRestart(rec('on-failure', 2, { RestartCount: 2 }), 2), false);
  assert.equal(policyWantsRestart(rec('on-failure', 2, { RestartCount: 1 }), 2), true);
  const stopped = rec('unless-stopped');
  assert.equal(policyWantsRestart(stopped, 0), true);
  stopped.berth.manuallyStopped = true;
  assert.equal(policyWantsRestart(stopped, 0), false);
});

test('back-off doubles from 100 ms, caps at a minute, resets after a 10 s run; cancel and shutdown stop it', () => {
  const t = new RestartTracker();
  const c = rec('always');
  const now = Date.parse(c.State.StartedAt);
  assert.deepEqual([1, 2, 3, 4].map(() => t.onExit(c, 0, now + 1000)), [100, 200, 400, 800]);
  for (let i = 0; i < 20; i++) t.onExit(c, 0, now + 1000);
  assert.equal(t.onExit(c, 0, now + 1000), 60_000);
  assert.equal(t.onExit(c, 0, now + 10_000), 100);
  t.cancel('c1');
  assert.equal(t.onExit(c, 0, now), undefined);
  t.reset('c1');
  assert.equal(t.onExit(c, 0, now), 100);
  t.shuttingDown = true;
  assert.equal(t.onExit(c, 0, now), undefined);
  t.close();
});

test('create-time validation', () => {
  assert.deepEqual(restartPolicyOf({}), { Name: 'no', MaximumRetryCount: 0 });
  assert.deepEqual(restartPolicyOf({ RestartPolicy: { Name: '' } }), { Name: 'no', MaximumRetryCount: 0 });
  assert.deepEqual(restartPolicyOf({ RestartPolicy: { Name: 'on-failure', MaximumRetryCount: 3 } }), { Name: 'on-failure', MaximumRetryCount: 3 });
  assert.throws(() => restartPolicyOf({ RestartPolicy: { Name: 'always', MaximumRetryCount: 1 } }), /can only be used with 'on-failure'$/);
  assert.throws(() => restartPolicyOf({ RestartPolicy: { Name: 'no', MaximumRetryCount: -1 } }), /and cannot be negative/);
  assert.throws(() => restartPolicyOf({ RestartPolicy: { Name: 'on-failure', MaximumRetryCount: -1 } }), /maximum retry count cannot be negative/);
  assert.throws(() => restartPolicyOf({ RestartPolicy: { Name: 'nope' } }), /unknown policy 'nope'/);
  assert.throws(() => restartPolicyOf({ AutoRemove: true, RestartPolicy: { Name: 'always' } }), /can't create 'AutoRemove' container with restart policy/);
});
