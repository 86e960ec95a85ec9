/**
 * The parser against BuildKit's golden corpus (../shared/conformance/dockerfile): every
 * testfiles/<case>/Dockerfile must print exactly as its `result`, every testfiles-negative case
 * must fail. The corpus lives outside the repository; without it the test is skipped.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { parse, printAST } from './parser';
import { DockerfileError } from './errors';

function corpusDir(): string | undefined {
  const candidates = [
    process.env.BERTH_SHARED ? path.join(process.env.BERTH_SHARED, 'conformance') : undefined,
    // dist/src/build/dockerfile → the repository's parent, where shared/ sits beside it
    path.resolve(__dirname, '../../../../..', 'shared/conformance'),
    path.resolve(process.cwd(), '..', 'shared/conformance'),
  ];
  for (const c of candidates) {
    if (c && fs.existsSync(path.join(c, 'dockerfile', 'testfiles'))) return path.join(c, 'dockerfile');
  }
  return undefined;
}

const dir = corpusDir();
const cases = (sub: string): string[] => (dir && fs.existsSync(path.join(dir, sub)) ? fs.readdirSync(path.join(dir, sub)).sort() : []);

if (!dir) {
  test('Dockerfile parser conformance corpus', { skip: 'shared/conformance/dockerfile not found (set BERTH_SHARED to the shared directory)' }, () => {});
} else {
  test('the conformance corpus has cases', () => {
    assert.ok(cases('testfiles').length > 0);
    assert.ok(cases('testfiles-negative').length > 0);
  });

  for (const name of cases('testfiles')) {
    test(`conformance: ${name} prints as BuildKit's parse tree`, () => {
      const dockerfile = fs.readFileSync(path.join(dir, 'testfiles', name, 'Dockerfile'));
      const expected = fs.readFileSync(path.join(dir, 'testfiles', name, 'result'), 'utf8');
      assert.equal(printAST(parse(dockerfile).nodes), expected);
    });
  }

  for (const name of cases('testfiles-negative')) {
    test(`conformance: negative ${name} is rejected`, () => {
      const dockerfile = fs.readFileSync(path.join(dir, 'testfiles-negative', name, 'Dockerfile'));
      assert.throws(() => parse(dockerfile), DockerfileError);
    });
  }
}
