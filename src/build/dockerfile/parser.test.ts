import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chompHeredoc, extractFlags, parse, parseHeredocWord, parseWords, printAST, printNode } from './parser';
import { DockerfileError } from './errors';

const lines = (text: string): string[] => parse(text).nodes.map(printNode);

function parseError(text: string): DockerfileError {
  try {
    parse(text);
  } catch (err) {
    assert.ok(err instanceof DockerfileError, `not a DockerfileError: ${String(err)}`);
    return err;
  }
  assert.fail('parsed without error');
}

test('directives: syntax, check and escape at the top; the backtick escape continues lines', () => {
  const r = parse('# syntax=docker/dockerfile:1\n#check = skip=all\n# escape=`\nFROM `\n  busybox\nRUN echo a\\b `\n  c\n');
  assert.deepEqual(r.directives, [
    { name: 'syntax', value: 'docker/dockerfile:1', line: 1 },
    { name: 'check', value: 'skip=all', line: 2 },
    { name: 'escape', value: '`', line: 3 },
  ]);
  assert.equal(r.escapeChar, '`');
  assert.deepEqual(r.nodes.map(printNode), ['(from "busybox")', '(run "echo a\\\\b   c")']);
});

test('a directive after a comment, a blank line or an instruction is only a comment', () => {
  for (const text of ['# hello\n# escape=`\nFROM a \\\n b\n', '\n# escape=`\nFROM a \\\n b\n', 'FROM a \\\n b\n# escape=`\n']) {
    const r = parse(text);
    assert.equal(r.escapeChar, '\\');
    assert.deepEqual(r.directives, []);
    assert.equal(printNode(r.nodes[0]), '(from "a" "b")');
  }
});

test('a repeated directive and an invalid escape character are errors on their line', () => {
  assert.equal(parseError('# escape=`\n# escape=\\\nFROM a\n').message, 'dockerfile parse error on line 2: only one escape parser directive can be used');
  assert.equal(parseError('# escape=x\nFROM a\n').message, 'dockerfile parse error on line 1: invalid escape token \'x\' does not match ` or \\');
});

test('comments between continuation lines are dropped; empty continuation lines warn', () => {
  const r = parse('FROM a\nRUN echo one \\\n# a comment\n  two \\\n\n  three\n');
  assert.equal(printNode(r.nodes[1]), '(run "echo one   two   three")');
  assert.equal(r.nodes[1].startLine, 2);
  assert.equal(r.nodes[1].endLine, 6);
  assert.equal(r.warnings.length, 1);
  assert.equal(r.warnings[0].short, 'Empty continuation line found in: RUN echo one   two   three');
});

test('line numbers, CRLF line endings, a byte-order mark and a continuation at end of file', () => {
  const r = parse('\uFEFFFROM a\r\n\r\nRUN x \\\r\n  y\r\nCMD z \\');
  assert.deepEqual(
    r.nodes.map((n) => [printNode(n), n.startLine, n.endLine]),
    [
      ['(from "a")', 1, 1],
      ['(run "x   y")', 3, 4],
      ['(cmd "z")', 5, 5],
    ],
  );
  assert.equal(r.nodes[1].original, 'RUN x   y');
});

test('exec form, and shell form when the JSON is not an array of strings', () => {
  assert.deepEqual(lines('CMD ["a", "b c"]\nCMD [\'a\']\nENTRYPOINT ["x"] y\nRUN []\nSHELL ["/bin/bash", "-c"]\n'), [
    '(cmd "a" "b c")',
    '(cmd "[\'a\']")',
    '(entrypoint "[\\"x\\"] y")',
    '(run)',
    '(shell "/bin/bash" "-c")',
  ]);
  const n = parse('CMD ["a"]\nCMD a').nodes;
  assert.equal(n[0].json, true);
  assert.equal(n[1].json, false);
  assert.equal(parseError('FROM a\nCMD ["a", 1]\n').message, 'dockerfile parse error on line 2: when using JSON array syntax, arrays must be comprised of strings only');
});

test('flags: quotes and escapes removed, -- ends them, every instruction may carry them', () => {
  assert.deepEqual(extractFlags('--from=build --chown="a b" -- --x y', '\\'), { rest: ' --x y', flags: ['--from=build', '--chown=a b'] });
  assert.deepEqual(extractFlags('--link a', '\\'), { rest: 'a', flags: ['--link'] });
  assert.deepEqual(lines('COPY --from=x --link a b\nRUN --mount=type=cache,target=/c --network=none make\nADD --checksum=sha256:abc --exclude=*.md . /\n'), [
    '(copy ["--from=x" "--link"] "a" "b")',
    '(run ["--mount=type=cache,target=/c" "--network=none"] "make")',
    '(add ["--checksum=sha256:abc" "--exclude=*.md"] "." "/")',
  ]);
});

test('ENV and LABEL in both forms keep quotes and escapes for substitution', () => {
  assert.deepEqual(lines('ENV A b c\nENV A=1 B="two words" C=a\\ b\nLABEL "k"="v" x=\'y z\'\n'), [
    '(env "A" "b c" "")',
    '(env "A" "1" "=" "B" "\\"two words\\"" "=" "C" "a\\\\ b" "=")',
    '(label "\\"k\\"" "\\"v\\"" "=" "x" "\'y z\'" "=")',
  ]);
  assert.deepEqual(parseWords('a "b c" d\\ e', '\\'), ['a', '"b c"', 'd\\ e']);
  assert.equal(parseError('FROM a\nENV A\n').message, 'dockerfile parse error on line 2: ENV must have two arguments');
  assert.equal(parseError('FROM a\nLABEL a=b c\n').message, 'dockerfile parse error on line 2: Syntax error - can\'t find = in "c". Must be of the form: name=value');
});

test('ARG, FROM, EXPOSE, VOLUME, USER, WORKDIR, STOPSIGNAL, MAINTAINER split as Docker does', () => {
  assert.deepEqual(lines('ARG a b="1 2" c=\nFROM img AS b\nEXPOSE 80  443/tcp\nVOLUME /a /b\nVOLUME ["/c d"]\nUSER u:g\nWORKDIR /a b\nSTOPSIGNAL SIGTERM\nMAINTAINER Jo <jo@x>\n'), [
    '(arg "a" "b=\\"1 2\\"" "c=")',
    '(from "img" "AS" "b")',
    '(expose "80" "443/tcp")',
    '(volume "/a" "/b")',
    '(volume "/c d")',
    '(user "u:g")',
    '(workdir "/a b")',
    '(stopsignal "SIGTERM")',
    '(maintainer "Jo <jo@x>")',
  ]);
});

test('ONBUILD wraps an instruction; HEALTHCHECK keeps its type apart', () => {
  const r = parse('ONBUILD COPY --chown=1 a b\nONBUILD RUN ["x"]\nHEALTHCHECK --interval=5s CMD ["curl", "-f"]\nHEALTHCHECK NONE\nHEALTHCHECK\n');
  assert.deepEqual(r.nodes.map(printNode), [
    '(onbuild (copy ["--chown=1"] "a" "b"))',
    '(onbuild (run "x"))',
    '(healthcheck ["--interval=5s"] "CMD" "curl" "-f")',
    '(healthcheck "NONE")',
    '(healthcheck)',
  ]);
  assert.deepEqual(r.nodes[0].args, ['COPY', 'a', 'b']);
  assert.equal(r.nodes[0].next?.cmd, 'copy');
  assert.deepEqual(r.nodes[0].next?.flags, ['--chown=1']);
  assert.equal(r.nodes[2].json, true);
});

test('here-documents: several on a line, <<- tab stripping, quoted names, file descriptors', () => {
  const r = parse(
    'FROM a\n' +
      'COPY <<one <<-"two" /dest/\n' +
      'first $X\n' +
      'one\n' +
      '\tsecond\n' +
      '\t\ttwo\n' +
      "RUN 3<<'EOF' cat <&3\n" +
      'literal $X\n' +
      'EOF\n' +
      'RUN ["<<EOF"]\n' +
      'RUN echo "<<NOT"\n',
  );
  assert.deepEqual(r.nodes[1].heredocs, [
    { name: 'one', content: 'first $X\n', expand: true, chomp: false, fileDescriptor: 0 },
    { name: 'two', content: '\tsecond\n', expand: false, chomp: true, fileDescriptor: 0 },
  ]);
  assert.deepEqual([r.nodes[1].startLine, r.nodes[1].endLine], [2, 6]);
  assert.deepEqual(r.nodes[2].heredocs, [{ name: 'EOF', content: 'literal $X\n', expand: false, chomp: false, fileDescriptor: 3 }]);
  assert.equal(r.nodes[3].heredocs, undefined);
  assert.equal(r.nodes[4].heredocs, undefined);
  assert.equal(printNode(r.nodes[1]), '(copy "<<one" "<<-\\"two\\"" "/dest/")');
  assert.equal(chompHeredoc('\tsecond\n\t\tthird\n'), 'second\nthird\n');
});

test('here-documents: ONBUILD carries them; an unterminated one is an error', () => {
  const r = parse('FROM a\nONBUILD RUN <<EOF\necho hi\nEOF\n');
  assert.deepEqual(r.nodes[1].heredocs?.map((h) => [h.name, h.content]), [['EOF', 'echo hi\n']]);
  assert.equal(parseError('FROM a\nRUN <<EOF\necho\n').message, 'dockerfile parse error on line 2: unterminated heredoc');
});

test('parseHeredocWord: what counts as a here-document word', () => {
  assert.deepEqual(parseHeredocWord('<<EOF'), { name: 'EOF', expand: true, chomp: false, fileDescriptor: 0 });
  assert.deepEqual(parseHeredocWord('<<-\'E O\''), { name: 'E O', expand: false, chomp: true, fileDescriptor: 0 });
  assert.deepEqual(parseHeredocWord('<<EO"F"'), { name: 'EOF', expand: false, chomp: false, fileDescriptor: 0 });
  for (const w of ['', 'EOF', '<<', '<<-', '<EOF', '<<<EOF', '<<EOF sh']) assert.equal(parseHeredocWord(w), null, w);
  assert.throws(() => parseHeredocWord("<<'EOF"));
});

test('unknown instructions are errors with a suggestion; empty files are errors', () => {
  const e = parseError('FROM a\nRUNN x\n');
  assert.equal(e.message, 'dockerfile parse error on line 2: unknown instruction: RUNN (did you mean RUN?)');
  assert.equal(e.located, 'Dockerfile:2: unknown instruction: RUNN (did you mean RUN?)');
  assert.equal(e.line, 2);
  assert.equal(e.kind, 'invalid-argument');
  assert.equal(parseError('FROM a\nfoo bar\n').reason, 'unknown instruction: foo (did you mean from?)');
  assert.equal(parseError('FROM a\nBOGUS x\n').reason, 'unknown instruction: BOGUS');
  assert.equal(parseError('').message, 'the Dockerfile (Dockerfile) cannot be empty');
  assert.equal(parseError('# only\n\n   \n').message, 'file with no instructions');
  try {
    parse('', 'build/Dockerfile.prod');
    assert.fail('no error');
  } catch (err) {
    assert.equal((err as Error).message, 'the Dockerfile (build/Dockerfile.prod) cannot be empty');
  }
});

test('printAST prints one line per instruction with Go quoting', () => {
  assert.equal(printAST(parse('FROM a\nCMD ["\\u0000 \\t ☥"]\n').nodes), '(from "a")\n(cmd "\\x00 \\t ☥")\n');
});
