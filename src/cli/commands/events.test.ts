import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventRow, prettyEvent, rfc3339NanoFixed } from './events';

test('docker prints events as <time> <type> <action> <id> (sorted attributes)', () => {
  const line = '{"status":"die","id":"abc","from":"busybox","Type":"container","Action":"die","Actor":{"ID":"abc","Attributes":{"name":"x","exitCode":"3"}},"scope":"local","time":1700000000,"timeNano":1700000000123456789}';
  const e = new EventRow(line);
  assert.equal(e.TimeNano, 1700000000123456789n);
  assert.equal(e.marshalJSON(), line);
  const tz = process.env.TZ;
  process.env.TZ = 'UTC';
  try {
    assert.equal(rfc3339NanoFixed(e.TimeNano), '2023-11-14T22:13:20.123456789Z');
    assert.equal(prettyEvent(e), '2023-11-14T22:13:20.123456789Z container die abc (exitCode=3, name=x)\n');
  } finally {
    if (tz === undefined) delete process.env.TZ;
    else process.env.TZ = tz;
  }
});
