import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseChunk, parseLine } from './k8sfile';

test('parses full and partial records into docker log entries', () => {
  const e = parseLine(Buffer.from('2026-11-25T12:44:02.574641095+00:00 stdout F hello'))!;
  assert.equal(e.stream, 'stdout');
  assert.equal(e.data.toString(), 'hello\n');
  assert.equal(e.time, '2026-11-25T12:44:02.574641095Z');
  const p = parseLine(Buffer.from('2026-11-25T13:44:02.5+01:00 stderr P abc'))!;
  assert.equal(p.data.toString(), 'abc');
  assert.equal(p.time, '2026-11-25T12:44:02.500000000Z');
  assert.equal(parseLine(Buffer.from('garbage')), null);
});

test('parseChunk keeps an incomplete last line for the next read', () => {
  const { entries, rest } = parseChunk(Buffer.from('2026-01-01T00:00:00Z stdout F a\n2026-01-01T00:00:01Z stdout F b\n2026-01-01T00:00:0'));
  assert.deepEqual(entries.map((e) => e.data.toString()), ['a\n', 'b\n']);
  assert.equal(rest.toString(), '2026-01-01T00:00:0');
});
