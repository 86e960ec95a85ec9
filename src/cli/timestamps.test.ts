import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getTimestamp } from './timestamps';

const NOW = Date.UTC(2025, 0, 10, 12, 0, 0);

test('relative durations count back from now, in whole seconds', () => {
  assert.equal(getTimestamp('10m', NOW), String(NOW / 1000 - 600));
  assert.equal(getTimestamp('1h30m', NOW), String(NOW / 1000 - 5400));
});

test('RFC 3339 dates and times become seconds.nanoseconds', () => {
  assert.equal(getTimestamp('2024-01-01T00:00:00Z', NOW), '1704067200.000000000');
  assert.equal(getTimestamp('2024-01-01T01:00:00+01:00', NOW), '1704067200.000000000');
  assert.equal(getTimestamp('2024-01-01T00:00:00.5Z', NOW), '1704067200.500000000');
  assert.match(getTimestamp('2024-01-01', NOW), /^\d+\.000000000$/);
});

test('Unix timestamps pass through; nonsense is refused', () => {
  assert.equal(getTimestamp('1700000000', NOW), '1700000000');
  assert.equal(getTimestamp('1700000000.123', NOW), '1700000000.123');
  assert.equal(getTimestamp('0', NOW), '0');
  assert.throws(() => getTimestamp('yesterday', NOW), /failed to parse value as time or duration: "yesterday"/);
  assert.throws(() => getTimestamp('2024-13-01', NOW), /parsing time/);
});
