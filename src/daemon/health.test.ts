import { test } from 'node:test';
import assert from 'node:assert/strict';
import { goDuration, mergeHealthcheck, probeCommand } from './health';

test('the request health check fills its gaps from the image', () => {
  const image = { Test: ['CMD', 'check'], Interval: 5e9, Retries: 4 };
  assert.deepEqual(mergeHealthcheck(undefined, image), image);
  assert.deepEqual(mergeHealthcheck({ Interval: 1e9 }, image), { Test: ['CMD', 'check'], Interval: 1e9, Retries: 4 });
  assert.deepEqual(mergeHealthcheck({ Test: ['NONE'] }, image), { Test: ['NONE'], Interval: 5e9, Retries: 4 });
  assert.equal(mergeHealthcheck(undefined, undefined), undefined);
  assert.throws(() => mergeHealthcheck({ Interval: 10 }, undefined), /Interval in Healthcheck cannot be less than 1ms/);
  assert.throws(() => mergeHealthcheck({ Retries: -1 }, undefined), /Retries in Healthcheck cannot be negative/);
});

test('probe commands and durations', () => {
  assert.deepEqual(probeCommand({ Test: ['CMD-SHELL', 'exit 1'] }), ['/bin/sh', '-c', 'exit 1']);
  assert.deepEqual(probeCommand({ Test: ['CMD', 'a', 'b c'] }), ['a', 'b c']);
  assert.equal(probeCommand({ Test: ['NONE'] }), undefined);
  assert.equal(probeCommand({ Test: [] }), undefined);
  assert.equal(probeCommand(undefined), undefined);
  assert.deepEqual(['500ms', '1s', '1.5s', '30s', '1m0s', '1m30s', '1h0m0s'], [500, 1000, 1500, 30_000, 60_000, 90_000, 3_600_000].map(goDuration));
});
