import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FrameParser } from './exec';
import { frame } from '../api/stream';

test('FrameParser: frames split across and joined within chunks', () => {
  const got: [number, string][] = [];
  const p = new FrameParser((s, b) => got.push([s, b.toString()]));
  const all = Buffer.concat([frame(1, Buffer.from('out')), frame(2, Buffer.from('err!')), frame(1, Buffer.alloc(0)), frame(1, Buffer.from('x'))]);
  for (let i = 0; i < all.length; i += 5) p.push(all.subarray(i, i + 5));
  assert.deepEqual(got, [
    [1, 'out'],
    [2, 'err!'],
    [1, ''],
    [1, 'x'],
  ]);
});
