import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  bytesSize,
  containerStatus,
  formatFloat,
  fromHumanSize,
  humanDuration,
  humanSize,
  parseBytes,
  timeAgo,
} from './units';

test('humanSize: decimal units, 3 significant digits, Go %g quirks', () => {
  const cases: [number, string][] = [
    [0, '0B'],
    [10, '10B'],
    [512, '512B'],
    [999, '999B'],
    [1000, '1kB'],
    [4100, '4.1kB'],
    [1234567, '1.23MB'],
    [1125000, '1.12MB'], // exact tie: Go rounds half to even
    [1135000, '1.14MB'],
    [999999, '1e+03kB'], // as docker prints it
    [1e9, '1GB'],
    [123456789012, '123GB'],
    [72.5e6, '72.5MB'],
  ];
  for (const [n, s] of cases) assert.equal(humanSize(n), s, String(n));
  assert.equal(humanSize(1234567, 4), '1.235MB');
  assert.equal(humanSize(2746000, 4), '2.746MB');
});

test('bytesSize: binary units, 4 significant digits', () => {
  const cases: [number, string][] = [
    [0, '0B'],
    [512, '512B'],
    [1024, '1KiB'],
    [1536, '1.5KiB'],
    [1572864, '1.5MiB'],
    [1073741824, '1GiB'],
    [123456789, '117.7MiB'],
  ];
  for (const [n, s] of cases) assert.equal(bytesSize(n), s, String(n));
});

test('parseBytes: RAMInBytes semantics', () => {
  const cases: [string, number][] = [
    ['32m', 32 * 1024 * 1024],
    ['1g', 1024 ** 3],
    ['512k', 512 * 1024],
    ['100', 100],
    ['0', 0],
    ['1.5GiB', 1.5 * 1024 ** 3],
    ['10MB', 10 * 1024 * 1024],
    ['1kb', 1024],
    ['1 KiB', 1024],
    ['2T', 2 * 1024 ** 4],
    ['64b', 64],
    ['1.5', 1],
  ];
  for (const [s, n] of cases) assert.equal(parseBytes(s), n, s);
  assert.throws(() => parseBytes('abc'), { message: "invalid size: 'abc'" });
  assert.throws(() => parseBytes(''), { message: "invalid size: ''" });
  assert.throws(() => parseBytes('-1'), { message: "invalid size: '-1'" });
  assert.throws(() => parseBytes('1x'), { message: "invalid suffix: 'x'" });
  assert.throws(() => parseBytes('1kk'), { message: "invalid suffix: 'kk'" });
  assert.throws(() => parseBytes('1KiBB'), { message: "invalid suffix: 'KiBB'" });
  assert.equal(fromHumanSize('44kB'), 44000);
});

test('humanDuration: go-units thresholds', () => {
  const s = 1000;
  const m = 60 * s;
  const h = 60 * m;
  const d = 24 * h;
  const cases: [number, string][] = [
    [0, 'Less than a second'],
    [999, 'Less than a second'],
    [1 * s, '1 second'],
    [1999, '1 second'],
    [2 * s, '2 seconds'],
    [59 * s, '59 seconds'],
    [60 * s, 'About a minute'],
    [119 * s, 'About a minute'],
    [2 * m, '2 minutes'],
    [59 * m, '59 minutes'],
    [60 * m, 'About an hour'],
    [89 * m, 'About an hour'],
    [90 * m, '2 hours'],
    [47 * h, '47 hours'],
    [48 * h, '2 days'],
    [13 * d, '13 days'],
    [14 * d, '2 weeks'],
    [59 * d, '8 weeks'],
    [60 * d, '2 months'],
    [729 * d, '24 months'],
    [730 * d, '2 years'],
    [3 * 365 * d, '3 years'],
  ];
  for (const [ms, want] of cases) assert.equal(humanDuration(ms), want, String(ms));
});

test('timeAgo', () => {
  const now = Date.parse('2024-06-01T12:00:00Z');
  assert.equal(timeAgo('2024-06-01T11:58:00Z', now), '2 minutes ago');
  assert.equal(timeAgo(new Date(now - 24 * 3600e3), now), '24 hours ago');
  assert.equal(timeAgo(now - 500, now), 'Less than a second ago');
});

test('containerStatus: docker ps STATUS wording', () => {
  const now = Date.parse('2024-06-01T12:00:00Z');
  const ago = (ms: number): string => new Date(now - ms).toISOString();
  const zero = '0001-01-01T00:00:00Z';
  assert.equal(containerStatus({ status: 'created', startedAt: zero, finishedAt: zero }, now), 'Created');
  assert.equal(containerStatus({ status: 'running', running: true, startedAt: ago(5000), finishedAt: zero }, now), 'Up 5 seconds');
  assert.equal(containerStatus({ status: 'running', startedAt: ago(300) }, now), 'Up Less than a second');
  assert.equal(containerStatus({ status: 'running', startedAt: ago(2 * 3600e3) }, now), 'Up 2 hours');
  assert.equal(containerStatus({ status: 'paused', running: true, paused: true, startedAt: ago(5000) }, now), 'Up 5 seconds (Paused)');
  assert.equal(
    containerStatus({ status: 'restarting', running: true, restarting: true, exitCode: 1, startedAt: ago(9000), finishedAt: ago(2000) }, now),
    'Restarting (1) 2 seconds ago',
  );
  assert.equal(containerStatus({ status: 'exited', exitCode: 3, startedAt: ago(600e3), finishedAt: ago(120e3) }, now), 'Exited (3) 2 minutes ago');
  assert.equal(containerStatus({ status: 'exited', exitCode: 0, startedAt: ago(600e3), finishedAt: ago(59e3) }, now), 'Exited (0) 59 seconds ago');
  assert.equal(containerStatus({ status: 'removing', startedAt: ago(600e3), finishedAt: ago(120e3) }, now), 'Removal In Progress');
  assert.equal(containerStatus({ status: 'dead', startedAt: ago(600e3), finishedAt: ago(120e3) }, now), 'Dead');
  assert.equal(containerStatus({ status: 'running', startedAt: ago(180e3), health: 'starting' }, now), 'Up 3 minutes (health: starting)');
  assert.equal(containerStatus({ status: 'running', startedAt: ago(180e3), health: 'healthy' }, now), 'Up 3 minutes (healthy)');
  assert.equal(containerStatus({ status: 'running', startedAt: ago(180e3), health: 'unhealthy' }, now), 'Up 3 minutes (unhealthy)');
  // started but never finished and not running: moby prints nothing.
  assert.equal(containerStatus({ status: 'exited', startedAt: ago(10e3), finishedAt: zero }, now), '');
});

test('formatFloat: Go strconv formats', () => {
  assert.equal(formatFloat(1234567.5, 'g', -1), '1.2345675e+06');
  assert.equal(formatFloat(123456.5, 'g', -1), '123456.5');
  assert.equal(formatFloat(0.0001, 'g', -1), '0.0001');
  assert.equal(formatFloat(0.00001, 'g', -1), '1e-05');
  assert.equal(formatFloat(0.1, 'e', -1), '1e-01');
  assert.equal(formatFloat(123.456, 'f', -1), '123.456');
  assert.equal(formatFloat(1e21, 'f', 2), '1000000000000000000000.00');
  assert.equal(formatFloat(0.125, 'f', 2), '0.12');
  assert.equal(formatFloat(0.375, 'f', 2), '0.38');
  assert.equal(formatFloat(0.009, 'f', 2), '0.01');
  assert.equal(formatFloat(999.9, 'g', 3), '1e+03');
  assert.equal(formatFloat(-2.5, 'e', 3), '-2.500e+00');
  assert.equal(formatFloat(5e-324, 'g', -1), '5e-324');
  assert.equal(formatFloat(Infinity, 'g', -1), '+Inf');
  assert.equal(formatFloat(NaN, 'f', 2), 'NaN');
});
