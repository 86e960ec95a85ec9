import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkFilters, createdBefore, labelsMatch, parseUntil } from './prune-filters';

test('parseUntil: Unix timestamps, RFC 3339 dates and Go durations back from now', () => {
  const now = Date.parse('2024-05-01T00:00:00Z');
  assert.equal(parseUntil('1700000000', now), 1_700_000_000_000);
  assert.equal(parseUntil('2024-01-02T03:04:05Z', now), Date.parse('2024-01-02T03:04:05Z'));
  assert.equal(parseUntil('24h', now), now - 86_400_000);
  assert.equal(parseUntil('1h30m', now), now - 5_400_000);
  assert.throws(() => parseUntil('yesterday', now), /invalid filter 'until=yesterday'/);
});

test('label and label! filters; unknown filters are refused', () => {
  const labels = { a: '1', b: '2' };
  assert.equal(labelsMatch(labels, { label: ['a'] }), true);
  assert.equal(labelsMatch(labels, { label: ['a=1', 'b=2'] }), true);
  assert.equal(labelsMatch(labels, { label: ['a=2'] }), false);
  assert.equal(labelsMatch(labels, { 'label!': ['b'] }), false);
  assert.equal(labelsMatch(labels, { 'label!': ['c'] }), true);
  assert.throws(() => checkFilters({ name: ['x'] }, ['until', 'label']), /invalid filter 'name'/);
  assert.equal(createdBefore('2020-01-01T00:00:00Z', { until: ['2021-01-01T00:00:00Z'] }), true);
  assert.equal(createdBefore('2022-01-01T00:00:00Z', { until: ['2021-01-01T00:00:00Z'] }), false);
});
