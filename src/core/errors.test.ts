import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BerthError, errorKind, notFound, isKind } from './errors';

test('error kinds survive wrapping and unknown errors are internal', () => {
  const e = notFound('No such container: x');
  assert.ok(e instanceof BerthError);
  assert.equal(errorKind(e), 'not-found');
  assert.equal(errorKind(new Error('boom')), 'internal');
  assert.ok(isKind(e, 'not-found'));
  assert.ok(!isKind(e, 'conflict'));
});
