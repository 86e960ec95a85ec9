import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cleanPath, createMatcher, parseDockerignore } from './dockerignore';

test('parseDockerignore: comments, blank lines, trimming, cleaning, leading slash, exceptions', () => {
  const text = '\uFEFF# comment\n\n  node_modules/  \n/build\n./a/../b/./c/\n! /keep/me \n  # not a comment\n*.log\r\n/\n';
  assert.deepEqual(parseDockerignore(text), ['node_modules', 'build', 'b/c', '!keep/me', '# not a comment', '*.log', '/']);
  assert.deepEqual(parseDockerignore(Buffer.from('a\n!b\n')), ['a', '!b']);
});

test('cleanPath is Go\'s path.Clean', () => {
  const cases: [string, string][] = [
    ['', '.'],
    ['a/b/', 'a/b'],
    ['a//b', 'a/b'],
    ['./a', 'a'],
    ['a/./b/../c', 'a/c'],
    ['../a', '../a'],
    ['/../a', '/a'],
    ['a/../..', '..'],
    ['/', '/'],
  ];
  for (const [input, out] of cases) assert.equal(cleanPath(input), out, input);
});

test('patterns match like Docker\'s patternmatcher', () => {
  const cases: [string, string, boolean][] = [
    ['*', 'fileutils.go', true],
    ['*.go', 'fileutils.go', true],
    ['*.go', 'dir/fileutils.go', false],
    ['**', 'dir/file', true],
    ['**/', 'file', true],
    ['dir/**', 'dir/dir2/file', true],
    ['abc/**', 'abc', false],
    ['**/dir', 'dir/file', true],
    ['**/dir2/*', 'dir/dir2/file', true],
    ['**file', 'dir/dir/file', true],
    ['**/file*.txt', 'dir/dir/file.txt', true],
    ['**/**/*.txt2', 'dir/dir/file.txt', false],
    ['**/*.txt', 'file.txt', true],
    ['a**/*.txt', 'a/dir/dir/file.txt', true],
    ['a/*.txt', 'a/dir/file.txt', false],
    ['a[b-d]e', 'ace', true],
    ['a[b-d]e', 'aae', false],
    ['a[^b-d]e', 'aze', true],
    ['.*', '.foo', true],
    ['.*', 'foo', false],
    ['abc.def', 'abcZdef', false],
    ['abc?def', 'abcZdef', true],
    ['a\\\\', 'a\\', true],
    ['a\\*b', 'a*b', true],
    ['a\\*b', 'axb', false],
    ['**/.foo', 'bar.foo', false],
    ['a(b)c/def', 'a(b)c/def', true],
    ['a.|)$(}+{bc', 'a.|)$(}+{bc', true],
    ['dist/*.whl', 'dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl', true],
    ['docs', 'docs/sub/README.md', true],
    ['/docs/', 'docs/x', true],
    ['foo**', 'foobar/x', true],
    ['?', 'é', true],
  ];
  for (const [pattern, path, want] of cases) assert.equal(createMatcher([pattern]).ignores(path), want, `${pattern} vs ${path}`);
});

test('exceptions: the last matching pattern wins, parents count', () => {
  const m = createMatcher(['docs', '!docs/README.md', '*.md', '!keep.md', 'build/', '!build/out/', 'build/out/tmp']);
  assert.equal(m.ignores('docs/a.txt'), true);
  assert.equal(m.ignores('docs/README.md'), false);
  assert.equal(m.ignores('x.md'), true);
  assert.equal(m.ignores('keep.md'), false);
  assert.equal(m.ignores('build/obj/a.o'), true);
  assert.equal(m.ignores('build/out/bin/app'), false);
  assert.equal(m.ignores('build/out/tmp/x'), true);
  assert.equal(m.ignores('src/main.go'), false);
  assert.equal(m.ignores('.'), false);
  assert.equal(m.ignores('./docs/'), true);
  assert.equal(createMatcher(['!x', '*']).ignores('x'), true, 'an earlier exception is overridden');
  assert.equal(createMatcher(['**', '!util/docker/web']).ignores('util/docker/web/foo'), false);
  assert.equal(createMatcher(['**', '!util/docker/web', 'util/docker/web/foo']).ignores('util/docker/web/foo'), true);
  assert.equal(m.hasExceptions, true);
  assert.deepEqual(
    m.patterns.slice(0, 2).map((p) => [p.text, p.exclusion]),
    [
      ['docs', false],
      ['docs/README.md', true],
    ],
  );
});

test('mayContainIncluded: a directory can be skipped only when no exception reaches into it', () => {
  const m = createMatcher(['vendor', 'docs', '!docs/README.md', 'out', '!out/*/keep', 'tmp', '!*.md']);
  assert.equal(m.mayContainIncluded('vendor'), false);
  assert.equal(m.mayContainIncluded('docs'), true);
  assert.equal(m.mayContainIncluded('docs/sub'), false);
  assert.equal(m.mayContainIncluded('out'), true);
  assert.equal(m.mayContainIncluded('out/x'), true);
  assert.equal(m.mayContainIncluded('out/x/keep/z'), true, 'out/x/keep is re-included, so everything below it');
  assert.equal(m.mayContainIncluded('out/x/y'), false);
  assert.equal(m.mayContainIncluded('tmp'), false, '*.md does not cross into tmp/');
  const deep = createMatcher(['vendor', '!**/*.keep']);
  assert.equal(deep.mayContainIncluded('vendor/a/b'), true, '** may match anything');
  assert.equal(deep.ignores('vendor/a/b/x.keep'), false);
  assert.equal(createMatcher(['tmp', '!*.md']).mayContainIncluded('tmp'), false);
  assert.equal(createMatcher(['a/b']).mayContainIncluded('a/b'), false);
});

test('malformed patterns are refused', () => {
  assert.throws(() => createMatcher(['[']), /syntax error in pattern/);
  assert.throws(() => createMatcher(['a[]b']), /syntax error in pattern/);
  assert.throws(() => createMatcher(['a[b-']), /syntax error in pattern/);
  assert.throws(() => createMatcher(['!']), /illegal exclusion pattern: "!"/);
  assert.doesNotThrow(() => createMatcher(['a[!b]', 'a[\\]]']));
});
