import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dumpYaml, parseYaml } from './yaml';

test('parseYaml: anchors, merge keys, block scalars, YAML 1.2 booleans; errors name file and line', () => {
  const doc = parseYaml('x-common: &common\n  image: busybox\n  restart: "no"\nservices:\n  a:\n    <<: *common\n    command: |\n      echo one\n      echo two\n    labels: {on: yes}\n', 'c.yaml') as Record<string, any>;
  assert.deepEqual(doc.services.a, { image: 'busybox', restart: 'no', command: 'echo one\necho two\n', labels: { on: 'yes' } });
  assert.throws(() => parseYaml('a: [1\nb: 2\n', 'c.yaml'), /^ComposeError: c\.yaml: yaml: .*\(line \d+, column \d+\)$/);
  assert.deepEqual(parseYaml(dumpYaml({ s: 'yes', n: '8080', e: '' }), 'x'), { s: 'yes', n: '8080', e: '' });
});
