import { test } from 'node:test';
import assert from 'node:assert/strict';
import { interpolate, interpolateTree } from './interpolate';
import { ComposeError } from './errors';

const env: Record<string, string> = { SET: 'value', EMPTY: '', PORT: '8080' };
const look = (n: string): string | undefined => env[n];

test('interpolate: plain, braced, defaults, alternatives and $$', () => {
  const cases: [string, string][] = [
    ['$SET', 'value'],
    ['${SET}', 'value'],
    ['pre-${SET}-post', 'pre-value-post'],
    ['$SET.x', 'value.x'],
    ['${UNSET}', ''],
    ['${UNSET:-dflt}', 'dflt'],
    ['${UNSET-dflt}', 'dflt'],
    ['${EMPTY:-dflt}', 'dflt'],
    ['${EMPTY-dflt}', ''],
    ['${SET:-dflt}', 'value'],
    ['${SET:+alt}', 'alt'],
    ['${EMPTY:+alt}', ''],
    ['${EMPTY+alt}', 'alt'],
    ['${UNSET:-${PORT}}', '8080'],
    ['${UNSET:-${ALSO_UNSET:-deep}}', 'deep'],
    ['$$SET', '$SET'],
    ['$${SET}', '${SET}'],
    ['cost: 5$', 'cost: 5$'],
    ['${EMPTY?x}', ''],
  ];
  for (const [input, want] of cases) assert.equal(interpolate(input, look), want, input);
});

test('interpolate: required variables fail with the message', () => {
  assert.throws(() => interpolate('${UNSET:?please set it}', look, 'f.yaml: services.web.image: '), (e: Error) => e instanceof ComposeError && e.message === 'f.yaml: services.web.image: required variable UNSET is missing a value: please set it');
  assert.throws(() => interpolate('${EMPTY:?}', look), /required variable EMPTY is missing a value$/);
  assert.throws(() => interpolate('${UNSET?}', look), /required variable UNSET/);
  assert.throws(() => interpolate('${UNCLOSED', look), /unterminated/);
  assert.throws(() => interpolate('${1BAD}', look), /invalid interpolation format/);
});

test('interpolateTree: strings anywhere, keys untouched, errors name file and key path', () => {
  const doc = { services: { web: { image: 'busybox:${TAG:-latest}', ports: ['${PORT}:80'], '${SET}': 1, n: 3 } } };
  assert.deepEqual(interpolateTree(doc, look, 'c.yaml'), { services: { web: { image: 'busybox:latest', ports: ['8080:80'], '${SET}': 1, n: 3 } } });
  assert.throws(() => interpolateTree({ services: { db: { environment: ['A=${NOPE:?}'] } } }, look, 'c.yaml'), /^ComposeError: c\.yaml: services\.db\.environment\.0: required variable NOPE/);
});
