import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jsonCompact, jsonIndent } from './jsonindent';

test('indents as Go json.Indent with four spaces, keeping the bytes of values', () => {
  const raw = '[{"Id":"x","N":1.0,"E":{},"A":[],"S":"a, b: {c}","L":[1,2],"U":"\\u003c"}]';
  assert.equal(
    jsonIndent(raw),
    '[\n    {\n        "Id": "x",\n        "N": 1.0,\n        "E": {},\n        "A": [],\n        "S": "a, b: {c}",\n' +
      '        "L": [\n            1,\n            2\n        ],\n        "U": "\\u003c"\n    }\n]',
  );
});

test('compacts', () => {
  assert.equal(jsonCompact('[ {"a" : [ 1, 2 ] ,\n "b":"x y"} ]'), '[{"a":[1,2],"b":"x y"}]');
});
