import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expandInstruction, expandWord, expandWords, joinCSV, lex, splitCSV } from './expand';
import { patternRegExp, reversePattern } from './lexer';
import { parse, printNode } from './parser';

const ENV = new Map([
  ['PWD', '/home'],
  ['SHELL', 'bash'],
  ['KOREAN', '한국어'],
  ['NULL', ''],
]);

// [input, expected result or null for an error] — Docker's ProcessWord behaviour
const WORDS: [string, string | null][] = [
  ['hello', 'hello'],
  ["he'll'o", 'hello'],
  ["he'llo", null],
  ["he\\'llo", "he'llo"],
  ["he\\\\'llo", null],
  ['abc\\tdef', 'abctdef'],
  ['"abc\\tdef"', 'abc\\tdef'],
  ['"abc\\\\tdef"', 'abc\\tdef'],
  ["'abc\\tdef'", 'abc\\tdef'],
  ['hello\\', 'hello'],
  ['hello\\\\', 'hello\\'],
  ['"hello', null],
  ['"hello\\"', null],
  ["'hello\\'", 'hello\\'],
  ['"\'\'"', "''"],
  ['$.', '$.'],
  ['he$1x', 'hex'],
  ['he$.x', 'he$.x'],
  ['he$pwd.', 'he.'],
  ['he$PWD', 'he/home'],
  ['he\\$PWD', 'he$PWD'],
  ['he\\\\$PWD', 'he\\/home'],
  ['"he\\$PWD"', 'he$PWD'],
  ['\\${}', '${}'],
  ['${}', null],
  ['he${.}', null],
  ['he${hi}xx', 'hexx'],
  ['he${PWD}', 'he/home'],
  ['he${XXX:-000}xx', 'he000xx'],
  ['he${PWD:-000}xx', 'he/homexx'],
  ['he${XXX:-${PWD:-yyy}}xx', 'he/homexx'],
  ['he${XXX:-${YYY:-yyy}}xx', 'heyyyxx'],
  ['he${XXX:YYY}', null],
  ['he${XXX?}', null],
  ['he${PWD?}', 'he/home'],
  ['he${NULL?}', 'he'],
  ['he${NULL:?}', null],
  ['he${NULL-x}', 'he'],
  ['he${NULL:-x}', 'hex'],
  ['he${NULL+x}', 'hex'],
  ['he${NULL:+x}', 'he'],
  ['he${PWD:+${SHELL}}xx', 'hebashxx'],
  ['he${XXX:+000}xx', 'hexx'],
  ["'he${XX}'", 'he${XX}'],
  ['"he\'$PWD\'"', "he'/home'"],
  ['he${PWD', null],
  ['he${PWD:=000}xx', null],
  ['he${PWD:+${PWD}:}xx', 'he/home:xx'],
  ['he${XXX:-\\$PWD:}xx', 'he$PWD:xx'],
  ['he${XXX:-\\${PWD}z}xx', 'he${PWDz}xx'],
  ['안녕$KOREAN', '안녕한국어'],
  ["안'녕'하세요", '안녕하세요'],
  ['${aaa}}', '}'],
  ['${aaa:-bbb {foo}', 'bbb {foo'],
  ['${1:-bbb}', 'bbb'],
  ['$999aaa', 'aaa'],
  ['${@:-bbb}aaa', 'bbbaaa'],
  ['$@@@', '@@'],
  ['${:}', null],
];

test('expandWord follows Docker\'s shell lexer', () => {
  for (const [input, expected] of WORDS) {
    if (expected === null) assert.throws(() => expandWord(input, ENV), Error, input);
    else assert.equal(expandWord(input, ENV), expected, input);
  }
});

test('pattern modifiers: # ## % %% / //', () => {
  const env = { s: 'foobarbaz', p: '/usr/local/bin/tool.tar.gz' };
  assert.equal(expandWord('${s#f*b}', env), 'arbaz');
  assert.equal(expandWord('${s##f*b}', env), 'az');
  assert.equal(expandWord('${s%b*}', env), 'foobar');
  assert.equal(expandWord('${s%%b*}', env), 'foo');
  assert.equal(expandWord('${s/ba/fo}', env), 'fooforbaz');
  assert.equal(expandWord('${s//ba/fo}', env), 'fooforfoz');
  assert.equal(expandWord('${p##*/}', env), 'tool.tar.gz');
  assert.equal(expandWord('${p%.*}', env), '/usr/local/bin/tool.tar');
  assert.equal(expandWord('${p%%.*}', env), '/usr/local/bin/tool');
  assert.equal(expandWord('${p//\\//_}', env), '_usr_local_bin_tool.tar.gz');
  assert.equal(expandWord('${s/o?/X}', env), 'fXbarbaz');
  assert.equal(expandWord('${s#\\*}', { s: '*x' }), 'x');
  assert.equal(expandWord('${unset#x}', env), '');
  assert.throws(() => expandWord('${s:#x}', env), /unsupported modifier \(:#\) in substitution/);
  assert.throws(() => expandWord('${s/x}', env), /missing '\/' in \$\{\}/);
});

test('pattern helpers', () => {
  assert.equal(patternRegExp('(()[]{\\}^$.\\*\\?|\\\\', true, true).source, '^\\(\\(\\)\\[\\]\\{\\}\\^\\$\\.\\*\\?\\|\\\\');
  assert.throws(() => patternRegExp('\\x', true, true), /invalid escape/);
  assert.equal(reversePattern('a\\*c'), 'c\\*a');
  assert.equal(reversePattern('ab\\'), '\\ba');
});

test('${VAR:?msg} and ${VAR?msg} fail with the message', () => {
  assert.throws(() => expandWord('${VAR:?message here$ARG}', { VAR: '', ARG: 'x' }), { message: 'failed to process "${VAR:?message here$ARG}": VAR: message herex' });
  assert.throws(() => expandWord('${VAR?}', {}), /VAR: is not allowed to be unset/);
  assert.throws(() => expandWord('${VAR:?}', { VAR: '' }), /VAR: is not allowed to be empty/);
  assert.equal(expandWord('${VAR?boom}', { VAR: '' }), '');
});

test('the backtick escape character', () => {
  assert.equal(expandWord('C:\\dir`$X', { X: 'y' }, '`'), 'C:\\dir$X');
  assert.equal(expandWord('"a`"b"', {}, '`'), 'a"b');
  assert.deepEqual(expandWords('a` b c', {}, '`'), ['a b', 'c']);
});

test('expandWords splits after substitution; quotes keep words together', () => {
  const env = new Map([
    ['space', 'abc  def'],
    ['leading', '  ab c'],
    ['trailing', 'ab c   '],
  ]);
  const cases: [string, string[]][] = [
    ['hello${space}bye', ['helloabc', 'defbye']],
    ['hello"${space}"bye', ['helloabc  defbye']],
    ['hello "${space}"bye', ['hello', 'abc  defbye']],
    ['hello${leading}def', ['hello', 'ab', 'cdef']],
    ['hello"${leading}" def', ['hello  ab c', 'def']],
    ['hello${trailing}d', ['helloab', 'c', 'd']],
    ['hel"lo${trailing}"', ['helloab c   ']],
    ['hello there     ', ['hello', 'there']],
    ['hello\\ there', ['hello there']],
    ['hello\\" there', ['hello"', 'there']],
    ["hello'$there'", ['hello$there']],
    ['a "" b', ['a', 'b']],
  ];
  for (const [input, expected] of cases) assert.deepEqual(expandWords(input, env), expected, input);
  assert.throws(() => expandWords('hello" there', env));
});

test('lex reports which variables were found and which were not', () => {
  const r = lex('${FOO:-aaa} ${BAR:-bbb} ${BAZ:-ccc}', { FOO: 'xxx', BAR: '' });
  assert.equal(r.result, 'xxx bbb ccc');
  assert.deepEqual([...r.matched].sort(), ['BAR', 'FOO']);
  assert.deepEqual([...r.unmatched], ['BAZ']);
  assert.equal(lex('$A ${B:-x} <<EOF', {}, { skipUnsetEnv: true }).result, '$A ${B:-x} <<EOF');
  assert.equal(expandWord('x', (n) => (n === 'x' ? 'no' : undefined)), 'x');
  assert.equal(expandWord('$constructor', {}), '');
});

function node(text: string, i = 0): ReturnType<typeof parse>['nodes'][number] {
  return parse(text).nodes[i];
}

test('expandInstruction: ENV and LABEL keys and values, quotes removed, old env', () => {
  const env = { A: '1' };
  assert.equal(printNode(expandInstruction(node('ENV A=2 B="$A two" C=\'$A\' D=a\\ b'), env)), '(env "A" "2" "=" "B" "1 two" "=" "C" "$A" "=" "D" "a b" "=")');
  assert.equal(printNode(expandInstruction(node('ENV K the value "$A"'), env)), '(env "K" "the value 1" "")');
  assert.equal(printNode(expandInstruction(node('LABEL "com.x.$A"="v $A"'), env)), '(label "com.x.1" "v 1" "=")');
});

test('expandInstruction: ARG defaults see the ARGs before them on the line', () => {
  assert.deepEqual(expandInstruction(node('ARG a=1 b=${a}2 c d="$X"'), { X: 'x' }).args, ['a=1', 'b=12', 'c', 'd=x']);
});

test('expandInstruction: COPY/ADD paths and flags, not --from, not heredoc names', () => {
  const env = { D: '/app', U: 'www', M: '644', F: 'a b.txt' };
  const copy = expandInstruction(node('COPY --from=build --chown=$U:$U --chmod=$M --exclude=$D "$F" ${D}/'), env);
  assert.deepEqual(copy.flags, ['--from=build', '--chown=www:www', '--chmod=644', '--exclude=$D']);
  assert.deepEqual(copy.args, ['a b.txt', '/app/']);
  assert.throws(() => expandInstruction(node('COPY --from=$STAGE a b'), env), /variable expansion is not supported for --from/);

  const add = expandInstruction(node('ADD --checksum=$M x $D'), env);
  assert.deepEqual([add.flags, add.args], [['--checksum=644'], ['x', '/app']]);

  const h = parse('FROM a\nCOPY <<"EOF" <<T $D/\nraw $D "q"\nEOF\ncooked $D "q" \\$D\nT\n').nodes[1];
  const e = expandInstruction(h, env);
  assert.deepEqual(e.args, ['<<"EOF"', '<<T', '/app/']);
  assert.deepEqual(e.heredocs?.map((x) => x.content), ['raw $D "q"\n', 'cooked /app "q" $D\n']);
  assert.equal(h.heredocs?.[1].content, 'cooked $D "q" \\$D\n', 'the input node is not changed');
});

test('expandInstruction: EXPOSE splits, FROM expands image and platform, the rest as single words', () => {
  assert.deepEqual(expandInstruction(node('EXPOSE $P 53/udp'), { P: '80 443' }).args, ['80', '443', '53/udp']);
  const from = expandInstruction(node('FROM --platform=$BUILDPLATFORM ${IMG:-busybox}:$V AS b'), { BUILDPLATFORM: 'linux/amd64', V: '1' });
  assert.deepEqual([from.flags, from.args], [['--platform=linux/amd64'], ['busybox:1', 'AS', 'b']]);
  const env = { H: '/home/u', S: 'SIGINT' };
  assert.deepEqual(expandInstruction(node('WORKDIR $H/src'), env).args, ['/home/u/src']);
  assert.deepEqual(expandInstruction(node('USER ${U:-1000}:$G'), env).args, ['1000:']);
  assert.deepEqual(expandInstruction(node('STOPSIGNAL $S'), env).args, ['SIGINT']);
  assert.deepEqual(expandInstruction(node('VOLUME ["$H/data", "/x"]'), env).args, ['/home/u/data', '/x']);
});

test('expandInstruction: RUN, CMD, ENTRYPOINT, HEALTHCHECK, ONBUILD are left to the shell', () => {
  const env = { A: '1' };
  for (const text of ['RUN echo $A', 'CMD ["echo", "$A"]', 'ENTRYPOINT echo $A', 'HEALTHCHECK CMD echo $A', 'ONBUILD COPY $A /', 'SHELL ["sh", "$A"]', 'MAINTAINER $A']) {
    const n = node(text);
    assert.deepEqual(expandInstruction(n, env), n, text);
  }
  const run = expandInstruction(node('RUN --mount=type=cache,id=$A,\\"target=/c,d\\" --network=$A echo $A'), env);
  assert.deepEqual(run.flags, ['--mount=type=cache,id=1,"target=/c,d"', '--network=$A']);
  assert.deepEqual(run.args, ['echo $A']);
});

test('CSV helpers read and write --mount values', () => {
  assert.deepEqual(splitCSV('type=bind,"target=/a,b",ro'), ['type=bind', 'target=/a,b', 'ro']);
  assert.deepEqual(splitCSV('a,"say ""hi""",'), ['a', 'say "hi"', '']);
  assert.throws(() => splitCSV('a"b'));
  assert.equal(joinCSV(['type=bind', 'target=/a,b', 'x"y']), 'type=bind,"target=/a,b","x""y"');
});
