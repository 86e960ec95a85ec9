import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LogRotator, logFiles, conmonSizeCap } from './rotate';
import { LogFollower, type LogEntry } from './k8sfile';
import { LogEncoder, pumpFiles, tailStart } from './encode';
import { validateLogConfig, rotationOf, detailsPrefix } from './config';

const rec = (n: number, stream = 'stdout', flag = 'F'): string => `2026-11-25T10:00:${String(n % 60).padStart(2, '0')}.${String(n).padStart(9, '0')}+00:00 ${stream} ${flag} line ${n}\n`;

function tmp(): { dir: string; file: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rot-'));
  return { dir, file: path.join(dir, 'container.log') };
}

/** What conmon does on a reopen: a new file renamed over the log path. */
const conmonReopen = (file: string) => (): void => {
  fs.writeFileSync(`${file}.tmp`, '');
  fs.renameSync(`${file}.tmp`, file);
};

test('rotation keeps max-file files, newest in the log, older ones numbered', () => {
  const { dir, file } = tmp();
  try {
    fs.writeFileSync(file, '');
    const r = new LogRotator(file, { maxSize: 40, maxFile: 3 }, conmonReopen(file));
    for (let i = 0; i < 6; i++) {
      fs.appendFileSync(file, rec(i));
      r.check();
    }
    assert.deepEqual(logFiles(file).map((f) => path.basename(f)), ['container.log.2', 'container.log.1', 'container.log']);
    assert.equal(fs.readFileSync(`${file}.1`, 'utf8'), rec(5));
    assert.equal(fs.readFileSync(`${file}.2`, 'utf8'), rec(4));
    assert.equal(fs.readFileSync(file, 'utf8'), '');
  } finally {
    fs.rmSync(dir, { recursive: true });
  }
});

test("the held link keeps the lines of a file that conmon's own size cap replaced", () => {
  const { dir, file } = tmp();
  try {
    fs.writeFileSync(file, rec(1));
    const r = new LogRotator(file, { maxSize: 1000, maxFile: 2 }, conmonReopen(file));
    r.check(); // links the current file
    fs.appendFileSync(file, rec(2));
    conmonReopen(file)(); // conmon's cap: the old file loses its name
    fs.appendFileSync(file, rec(3));
    r.check();
    assert.equal(fs.readFileSync(`${file}.1`, 'utf8'), rec(1) + rec(2));
    assert.equal(fs.readFileSync(file, 'utf8'), rec(3));
  } finally {
    fs.rmSync(dir, { recursive: true });
  }
});

test('max-file=1: the rotated file goes once the writer has reopened', () => {
  const { dir, file } = tmp();
  try {
    fs.writeFileSync(file, rec(1) + rec(2));
    let reopened = false;
    const r = new LogRotator(file, { maxSize: 10, maxFile: 1 }, () => (reopened = true));
    r.check();
    assert.ok(reopened);
    assert.ok(fs.existsSync(`${file}.1`), 'kept until the writer has a new file');
    conmonReopen(file)();
    r.check();
    assert.deepEqual(logFiles(file), [file]);
  } finally {
    fs.rmSync(dir, { recursive: true });
  }
});

test('a follower drains the rotated file before it moves to the new one', () => {
  const { dir, file } = tmp();
  try {
    fs.writeFileSync(file, rec(0));
    const seen: LogEntry[] = [];
    const f = new LogFollower(file, 0, (e) => seen.push(e));
    fs.appendFileSync(file, rec(1));
    fs.renameSync(file, `${file}.1`);
    fs.appendFileSync(`${file}.1`, rec(2)); // the writer has not reopened yet
    f.flush();
    conmonReopen(file)();
    fs.appendFileSync(file, rec(3));
    f.flush();
    f.stop();
    assert.deepEqual(seen.map((e) => e.data.toString()), ['line 0\n', 'line 1\n', 'line 2\n', 'line 3\n']);
  } finally {
    fs.rmSync(dir, { recursive: true });
  }
});

async function encodeAll(files: string[], from: [number, number], enc: LogEncoder): Promise<Buffer> {
  const out: Buffer[] = [];
  const end = await pumpFiles(files, from, enc, (b) => (out.push(b), true));
  if (end.fd !== undefined) fs.closeSync(end.fd);
  return Buffer.concat(out);
}

test('encoder: frames, partial records, timestamps, details, since/until, tail across files', async () => {
  const { dir, file } = tmp();
  try {
    fs.writeFileSync(`${file}.1`, rec(1) + rec(2, 'stderr'));
    fs.writeFileSync(file, rec(3, 'stdout', 'P') + rec(4) + '2026-11-25T10:00:05.0+00:00 stdout F incomple');
    const files = logFiles(file);
    const base = { stdout: true, stderr: true, tty: true, timestamps: false };
    assert.equal((await encodeAll(files, [0, 0], new LogEncoder(base))).toString(), 'line 1\nline 2\nline 3line 4\n');
    const framed = await encodeAll(files, [0, 0], new LogEncoder({ ...base, tty: false, stdout: false }));
    assert.deepEqual([...framed], [2, 0, 0, 0, 0, 0, 0, 7, ...Buffer.from('line 2\n')]);
    const ts = await encodeAll(files, [0, 0], new LogEncoder({ ...base, timestamps: true, details: 'a=b' }));
    assert.equal(ts.toString().split('\n')[0], '2026-11-25T10:00:01.000000001Z a=b line 1');
    const t2 = Date.parse('2026-11-25T10:00:02.000000002Z');
    const win = await encodeAll(files, [0, 0], new LogEncoder({ ...base, since: t2, until: Date.parse('2026-11-25T10:00:03.5Z') }));
    assert.equal(win.toString(), 'line 2\nline 3');
    assert.equal((await encodeAll(files, tailStart(files, 2), new LogEncoder(base))).toString(), 'line 3line 4\n');
    assert.equal((await encodeAll(files, tailStart(files, 3), new LogEncoder(base))).toString(), 'line 2\nline 3line 4\n');
    assert.equal((await encodeAll(files, tailStart(files, 0), new LogEncoder(base))).toString(), '');
    assert.equal((await encodeAll(files, tailStart(files, 99), new LogEncoder(base))).toString(), 'line 1\nline 2\nline 3line 4\n');
  } finally {
    fs.rmSync(dir, { recursive: true });
  }
});

test('LogConfig validation and rotation settings', () => {
  assert.deepEqual(validateLogConfig(undefined), { Type: 'json-file', Config: {} });
  assert.deepEqual(validateLogConfig({ Type: '', Config: null }), { Type: 'json-file', Config: {} });
  assert.deepEqual(rotationOf(validateLogConfig({ Type: 'json-file', Config: { 'max-size': '10k', 'max-file': '3' } })), { maxSize: 10240, maxFile: 3 });
  assert.deepEqual(rotationOf(validateLogConfig({ Type: 'local' })), { maxSize: 20 << 20, maxFile: 5 });
  assert.throws(() => validateLogConfig({ Type: 'syslogx' }), /no log driver named 'syslogx'/);
  assert.throws(() => validateLogConfig({ Type: 'json-file', Config: { 'max-size': '1q' } }), /invalid suffix/);
  assert.throws(() => validateLogConfig({ Type: 'json-file', Config: { 'max-file': '2' } }), /max-file can only be used with max-size/);
  assert.throws(() => validateLogConfig({ Type: 'none', Config: { 'max-size': '1m' } }), /unknown log opt 'max-size' for none log driver/);
  assert.throws(() => validateLogConfig({ Type: 'local', Config: { labels: 'a' } }), /unknown log opt 'labels' for local/);
  assert.equal(conmonSizeCap({ maxSize: 10240, maxFile: 3 }), 16 << 20);
  assert.equal(conmonSizeCap({ maxSize: 10 << 20, maxFile: 3 }), 30 << 20);
  assert.equal(conmonSizeCap({ maxSize: 0, maxFile: 1 }), 0);
  const lc = { Type: 'json-file', Config: { labels: 'b,a', 'env-regex': '^X' } };
  assert.equal(detailsPrefix(lc, { a: '1', b: '2', c: '3' }, ['X1=y', 'XY=z=w', 'Z=0']), 'X1=y,XY=z=w,a=1,b=2');
  assert.equal(detailsPrefix(undefined, { a: '1' }, []), '');
});
