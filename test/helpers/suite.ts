import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { TestDaemon } from './daemon';

/**
 * The daemon of a describe() block: started with busybox imported before its tests, cleaned up
 * after them, with the block failing when it left anything behind (mounts, processes, ...).
 */
export function busyboxDaemon(name: string): TestDaemon {
  const d = new TestDaemon(name);
  before(async () => {
    await d.start();
    d.importBusybox();
  });
  after(async () => {
    assert.deepEqual(await d.cleanup(), [], 'the daemon left things behind');
  });
  return d;
}
