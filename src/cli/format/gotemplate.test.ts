import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileTemplate, formatValue, sprint, sprintf, sprintln, TemplateError } from './gotemplate';

const run = (src: string, data?: unknown): string => compileTemplate(src).execute(data);
const fails = (src: string, data: unknown, message: string): void => {
  assert.throws(() => run(src, data), (e: unknown) => {
    assert.ok(e instanceof TemplateError);
    assert.equal(e.message, message);
    return true;
  });
};

test('text, fields, dot and $', () => {
  assert.equal(run('plain text'), 'plain text');
  assert.equal(run('{{.State.Status}}', { State: { Status: 'running' } }), 'running');
  assert.equal(run('{{.}}', 'x'), 'x');
  assert.equal(run('{{range .L}}{{$.N}}{{.}} {{end}}', { N: 'n', L: [1, 2] }), 'n1 n2 ');
  assert.equal(run('{{(.A).B}}', { A: { B: 3 } }), '3');
  assert.equal(run('{{$x := .A}}{{$x.B}}', { A: { B: 'v' } }), 'v');
});

test('missing map keys print <no value>, fields of null fail as in Go', () => {
  assert.equal(run('{{.Missing}}', {}), '<no value>');
  assert.equal(run('{{.Missing.Deeper}}', {}), '<no value>');
  assert.equal(run('{{.Nil}}', { Nil: null }), '<no value>');
  fails('{{.State.Health.Status}}', { State: { Health: null } },
    'template: :1:8: executing "" at <.State.Health.Status>: nil pointer evaluating interface {}.Status');
  fails('{{.A.B}}', { A: 'str' }, 'template: :1:4: executing "" at <.A.B>: can\'t evaluate field B in type string');
});

test('missingkey options', () => {
  const t = compileTemplate('[{{.Nope}}]');
  assert.equal(t.execute({}, { missingKey: 'zero' }), '[]');
  assert.throws(() => t.execute({}, { missingKey: 'error' }), /map has no entry for key "Nope"/);
});

test('class instances are structs: getters and methods are fields, unknown fields fail', () => {
  class Ctx {
    constructor(private readonly labels: Record<string, string>) {}
    get Names(): string {
      return 'web';
    }
    Label(name: string): string {
      return this.labels[name] ?? '';
    }
  }
  const c = new Ctx({ tier: 'front' });
  assert.equal(run('{{.Names}} {{.Label "tier"}} [{{.Label "none"}}]', c), 'web front []');
  assert.equal(run('{{"tier" | .Label}}', c), 'front');
  fails('{{.Foo}}', c, 'template: :1:2: executing "" at <.Foo>: can\'t evaluate field Foo in type *Ctx');
  fails('{{.A "x"}}', { A: 'v' }, 'template: :1:2: executing "" at <.A>: A is not a method but has arguments');
});

test('trim markers and comments', () => {
  assert.equal(run('a  {{- "b" -}}  \n c'), 'abc');
  assert.equal(run('{{- 3}}'), '3');
  assert.equal(run('x{{-3}}'), 'x-3');
  assert.equal(run('a {{/* comment */}} b'), 'a  b');
  assert.equal(run('a \n{{- /* comment */ -}}\n b'), 'ab');
  assert.equal(run('{{"x" -}}\n\t y'), 'xy');
});

test('literals', () => {
  assert.equal(run('{{"a\\tb\\u00e9\\x41"}}|{{`raw\\n`}}|{{true}}|{{false}}'), 'a\tbéA|raw\\n|true|false');
  assert.equal(run("{{1.5}} {{1e6}} {{0x1F}} {{0o17}} {{017}} {{0b101}} {{1_000}} {{'a'}} {{-2}}"), '1.5 1000000 31 15 15 5 1000 97 -2');
  assert.equal(run('{{0.00001}} {{1234567.5}}'), '1e-05 1.2345675e+06');
});

test('variables: declare, assign, scope', () => {
  assert.equal(run('{{$x := 1}}{{$x = 2}}{{$x}}'), '2');
  assert.equal(run('{{$x := "out"}}{{if true}}{{$x := "in"}}{{$x}}{{end}} {{$x}}'), 'in out');
  assert.equal(run('{{with $v := .A}}{{$v}}{{end}}', { A: 'q' }), 'q');
  fails('{{$x}}', {}, 'template: :1: undefined variable "$x"');
  fails('{{if .}}{{$y := 1}}{{end}}{{$y}}', {}, 'template: :1: undefined variable "$y"');
});

test('if / else if / else, with / else with, truthiness', () => {
  const t = compileTemplate('{{if eq .A 1}}one{{else if eq .A 2}}two{{else}}other{{end}}');
  assert.deepEqual([1, 2, 3].map((A) => t.execute({ A })), ['one', 'two', 'other']);
  assert.equal(run('{{with .A}}{{.}}{{else}}none{{end}}', { A: 'x' }), 'x');
  assert.equal(run('{{with .A}}a{{else with .B}}b={{.}}{{end}}', { B: 'y' }), 'b=y');
  const truth = compileTemplate('{{if .}}T{{else}}F{{end}}');
  const falsy = [false, 0, '', null, undefined, [], {}, new Map()];
  const truthy = [true, 1, -1, 0.5, 'x', [0], { a: undefined }, new (class S {})()];
  assert.deepEqual(falsy.map((v) => truth.execute(v)).join(''), 'FFFFFFFF');
  assert.deepEqual(truthy.map((v) => truth.execute(v)).join(''), 'TTTTTTTT');
});

test('range over arrays, maps, integers; else, break, continue', () => {
  assert.equal(run('{{range $i, $e := .}}{{$i}}={{$e}};{{end}}', ['a', 'b']), '0=a;1=b;');
  assert.equal(run('{{range .}}x{{else}}empty{{end}}', []), 'empty');
  assert.equal(run('{{range .}}x{{else}}empty{{end}}', null), 'empty');
  assert.equal(run('{{range $k, $v := .}}{{$k}}:{{$v}} {{end}}', { b: 2, a: 1, c: 3 }), 'a:1 b:2 c:3 ');
  assert.equal(run('{{range .}}{{.}}{{end}}', new Map([['z', 1], ['y', 2]])), '21');
  assert.equal(run('{{range 3}}{{.}}{{end}}'), '012');
  assert.equal(
    run('{{range $i, $e := .}}{{if eq $i 3}}{{break}}{{end}}{{if eq $i 1}}{{continue}}{{end}}{{$e}}{{end}}', ['a', 'b', 'c', 'd']),
    'ac',
  );
  fails('{{range .}}{{end}}', 'abc', 'template: :1:8: executing "" at <.>: range can\'t iterate over abc');
  fails('{{break}}', {}, 'template: :1: {{break}} outside {{range}}');
});

test('define, template, block', () => {
  assert.equal(run('{{define "T"}}[{{.}}]{{end}}{{template "T" .A}}{{template "T" "x"}}', { A: 1 }), '[1][x]');
  assert.equal(run('{{block "B" .}}<{{.}}>{{end}}', 'v'), '<v>');
  fails('{{template "nope"}}', {}, 'template: :1:11: executing "" at <{{template "nope"}}>: template "nope" not defined');
});

test('pipelines and parenthesised arguments', () => {
  assert.equal(run('{{.A | printf "%s-%s" "x"}}', { A: 'y' }), 'x-y');
  assert.equal(run('{{"abc" | len | printf "%03d"}}'), '003');
  assert.equal(run('{{printf "%s=%d" (lower "K") (len .L)}}', { L: [1, 2] }), 'k=2');
});

test('%v printing of values', () => {
  assert.equal(run('{{.}}', [1, 'a', { b: 2, a: [true, null] }]), '[1 a map[a:[true <nil>] b:2]]');
  assert.equal(run('{{.}}', { z: 1, a: { y: 'x' } }), 'map[a:map[y:x] z:1]');
  assert.equal(run('{{.}}', 1e21), '1000000000000000000000');
  assert.equal(run('{{.}}', -0.25), '-0.25');
  assert.equal(run('{{.}}', 1e-7), '1e-07');
  assert.equal(run('{{.}}', new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 120))), '2024-01-02 03:04:05.12 +0000 UTC');
  assert.equal(formatValue(new Map([['k', [1, 2]]])), 'map[k:[1 2]]');
  assert.equal(formatValue(null), '<nil>');
  assert.equal(formatValue(true), 'true');
});

test('builtins: and or not len index slice', () => {
  assert.equal(run('{{and 1 0 "x"}} {{and 1 "x"}} {{or 0 "" "y"}} {{or 0 ""}} {{not 0}} {{not "a"}}'), '0 x y  true false');
  // and/or stop evaluating at the deciding argument.
  assert.equal(run('{{or .A (index .L 5)}}', { A: 'set', L: [] }), 'set');
  assert.equal(run('{{len "héllo"}} {{len .L}} {{len .M}}', { L: [1, 2], M: { a: 1 } }), '6 2 1');
  assert.equal(run('{{index .L 1}} {{index .N 1 0}} {{index .M "k"}} {{index .M "z"}} {{index "abc" 1}}',
    { L: [5, 6], N: [[1], [2, 3]], M: { k: 'v' } }), '6 2 v <no value> 98');
  assert.equal(run('{{slice .L 1}} {{slice .L 1 2}} {{slice "abcdef" 1 3}} {{slice "abc"}}', { L: [1, 2, 3] }), '[2 3] [2] bc abc');
  fails('{{index .L 5}}', { L: [1] }, 'template: :1:2: executing "" at <index .L 5>: error calling index: index out of range: 5');
  fails('{{len 3}}', {}, 'template: :1:2: executing "" at <len 3>: error calling len: len of type int');
  fails('{{len}}', {}, 'template: :1:2: executing "" at <len>: wrong number of args for len: want 1 got 0');
});

test('builtins: comparisons', () => {
  assert.equal(run('{{eq 1 1}} {{eq "a" "b" "a"}} {{ne 1 2}} {{lt 1 2}} {{le 2 2}} {{gt "b" "a"}} {{ge 1 2}}'), 'true true true true true true false');
  assert.equal(run('{{eq .A nil}} {{eq .B "x"}}', { A: null }), 'true false');
  fails('{{eq "a" 1}}', {}, 'template: :1:2: executing "" at <eq "a" 1>: error calling eq: incompatible types for comparison: string and int');
  fails('{{lt true false}}', {}, 'template: :1:2: executing "" at <lt true false>: error calling lt: invalid type for comparison');
});

test('builtins: print printf println html js urlquery', () => {
  assert.equal(run('{{print 1 2 "a" 3 .M}}|{{println 1 "a"}}|'), '1 2a3 <nil>|1 a\n|');
  assert.equal(run('{{html "<a href=\'x\'>&\\"" }}'), '&lt;a href=&#39;x&#39;&gt;&amp;&#34;');
  assert.equal(run('{{js "a\'b\\"<>&=\\n"}}'), 'a\\\'b\\"\\u003C\\u003E\\u0026\\u003D\\u000A');
  assert.equal(run('{{urlquery "a b&c/d~é"}}'), 'a+b%26c%2Fd~%C3%A9');
  assert.equal(run('{{html .Missing}}'), '&lt;no value&gt;');
});

test('docker functions: json join split title lower upper pad truncate', () => {
  assert.equal(run('{{json .}}', { a: [1, 'x<&>'], b: null, c: { d: true } }), '{"a":[1,"x<&>"],"b":null,"c":{"d":true}}');
  assert.equal(run('{{json .Missing}} {{json "s"}} {{json 1.5}}', {}), 'null "s" 1.5');
  assert.equal(run('{{json .}}', new Map([['k', 'v']])), '{"k":"v"}');
  assert.equal(run('{{json .}}', 'a\u2028b\n'), '"a\\u2028b\\n"');
  assert.equal(run('{{join .N ", "}}|{{join .M ","}}|{{join .Nil ","}}|{{join .Mixed "-"}}', {
    N: ['a', 'b'], M: { b: 'y', a: 'x' }, Mixed: [1, 'a', [2, 3]],
  }), 'a, b|x,y||1-a-[2 3]');
  assert.equal(run('{{split "a,b,c" ","}} {{len (split "abc" "")}}'), '[a b c] 3');
  assert.equal(run('{{title "hello world-foo_bar"}} {{lower "ÀBC"}} {{upper "abc"}}'), 'Hello World-Foo_bar àbc ABC');
  assert.equal(run('[{{pad "x" 1 2}}][{{pad "" 3 3}}] {{truncate "abcdef" 3}} {{truncate "ab" 3}} {{truncate "abc" 3}}'), '[ x  ][] abc ab abc');
  fails('{{upper 3}}', {}, 'template: :1:2: executing "" at <upper 3>: wrong type for value; expected string; got int');
  fails('{{join "abc" ","}}', {}, 'template: :1:2: executing "" at <join "abc" ",">: error calling join: expected slice, got string');
});

test('functions given at compile and execute time', () => {
  const t = compileTemplate('{{shout .}} {{upper .}}', { funcs: { shout: (s: string) => s + '!' } });
  assert.equal(t.execute('hi'), 'hi! HI');
  assert.equal(t.execute('hi', { funcs: { upper: (s: unknown) => s } }), 'hi! hi');
  assert.throws(() => compileTemplate('{{shout .}}'), /function "shout" not defined/);
});

test('parse errors have Go messages', () => {
  const cases: [string, string][] = [
    ['{{foo}}', 'template: :1: function "foo" not defined'],
    ['{{InvalidFunction}}', 'template: :1: function "InvalidFunction" not defined'],
    ['{{if}}', 'template: :1: missing value for if'],
    ['{{}}', 'template: :1: missing value for command'],
    ['{{range .}}', 'template: :1: unexpected EOF'],
    ['{{end}}', 'template: :1: unexpected {{end}}'],
    ['{{else}}', 'template: :1: unexpected {{else}}'],
    ['{{.A', 'template: :1: unclosed action'],
    ['{{.A}', 'template: :1: unexpected "}" in operand'],
    ['{{"abc}}', 'template: :1: unterminated quoted string'],
    ['{{(.A}}', 'template: :1: unclosed left paren'],
    ['{{.A@}}', "template: :1: bad character U+0040 '@'"],
    ['{{.A | 3}}', 'template: :1: non executable command in pipeline stage 2'],
    ['{{/* x', 'template: :1: unclosed comment'],
    ['{{/* x */ .A}}', 'template: :1: comment ends before closing delimiter'],
    ['{{"\\q"}}', 'template: :1: invalid syntax'],
    ['line1\n{{if .}}\n{{foo}}', 'template: :3: function "foo" not defined'],
  ];
  for (const [src, msg] of cases) {
    assert.throws(() => compileTemplate(src), (e: unknown) => e instanceof TemplateError && e.message === msg, src);
  }
});

test('execution errors carry line:column, context and the partial output', () => {
  fails('{{nil}}', {}, 'template: :1:2: executing "" at <nil>: nil is not a command');
  fails('{{3 4}}', {}, 'template: :1:2: executing "" at <3>: can\'t give argument to non-function 3');
  // the position is that of the chained field (.Y), as Go reports it
  fails('a\nbc {{.X.Y}}', { X: 1 }, 'template: :2:7: executing "" at <.X.Y>: can\'t evaluate field Y in type int');
  try {
    run('before {{index .L 9}} after', { L: [] });
    assert.fail('expected an error');
  } catch (e) {
    assert.ok(e instanceof TemplateError);
    assert.equal(e.output, 'before ');
  }
  const named = compileTemplate('{{define "T"}}{{.X.Y}}{{end}}{{template "T" .}}');
  assert.throws(() => named.execute({ X: 1 }), /executing "T" at <\.X\.Y>/);
});

test('sprintf: verbs, flags, widths, precision', () => {
  assert.equal(sprintf('%-10s|%10s|%5d|%-5d|%05d|%+d|% d', 'ab', 'cd', 42, 42, -42, 5, 5), 'ab        |        cd|   42|42   |-0042|+5| 5');
  assert.equal(sprintf('%.2f|%8.3f|%08.3f|%e|%E|%g|%.3g|%G', 3.14159, 3.14159, -3.14159, 1234.5678, 0.000123, 0.000012345, 1.125, 1e21),
    '3.14|   3.142|-003.142|1.234568e+03|1.230000E-04|1.2345e-05|1.12|1E+21');
  assert.equal(sprintf('%.0f %.0f %.1f %.2f', 2.5, 3.5, 0.25, 1.005), '2 4 0.2 1.00');
  assert.equal(sprintf('%v|%v|%v|%v|%v', 1.5, 100000000, 1e-5, null, [1, 'a']), '1.5|100000000|1e-05|<nil>|[1 a]');
  assert.equal(sprintf('%q|%q|%#q|%q|%+q', 'hi\n"x"', ['a', 'b'], 'raw', 97, 'é'), '"hi\\n\\"x\\""|["a" "b"]|`raw`|\'a\'|"\\u00e9"');
  assert.equal(sprintf('%x|%X|%#x|%x|% x|%o|%#o|%b|%c|%U', 255, 255, 255, 'hi', 'hi', 8, 8, 5, 0x263a, 0x263a), 'ff|FF|0xff|6869|68 69|10|010|101|☺|U+263A');
  assert.equal(sprintf('%t|%v|%5t', true, false, true), 'true|false| true');
  assert.equal(sprintf('%.3s|%5.1s|%-4s|', 'abcdef', 'xyz', 'é'), 'abc|    x|é   |');
  assert.equal(sprintf('%T %T %T %T %T', 1, 1.5, 's', [1], { a: 1 }), 'int float64 string []interface {} map[string]interface {}');
  assert.equal(sprintf('%[2]s %[1]s %s', 'a', 'b'), 'b a b');
  assert.equal(sprintf('%*d|%-*d|%.*f', 4, 7, 3, 7, 1, 3.14159), '   7|7  |3.1');
  assert.equal(sprintf('%*d', 'x', 7), '%!(BADWIDTH)7');
  assert.equal(sprintf('%d%%', 50), '50%');
  assert.equal(sprintf('%#v', { a: [1, 'x'], b: null }), 'map[string]interface {}{"a":[]interface {}{1, "x"}, "b":interface {}(nil)}');
});

test('sprintf: bad verbs, missing and extra arguments', () => {
  assert.equal(sprintf('%s %d'), '%!s(MISSING) %!d(MISSING)');
  assert.equal(sprintf('%d|%s|%d|%t', 'x', 5, 1.5, 'y'), '%!d(string=x)|%!s(int=5)|%!d(float64=1.5)|%!t(string=y)');
  assert.equal(sprintf('%d', null), '%!d(<nil>)');
  assert.equal(sprintf('x', 1, 'a'), 'x%!(EXTRA int=1, string=a)');
  assert.equal(sprintf('%'), '%!(NOVERB)');
  assert.equal(sprintf('%[3]d', 1), '%!d(BADINDEX)');
  assert.equal(sprintf('%d', [1, 'a']), '[1 %!d(string=a)]');
});

test('sprint and sprintln spacing', () => {
  assert.equal(sprint('a', 'b', 1, 2, 'c'), 'ab1 2c');
  assert.equal(sprint(1, null, [1]), '1 <nil> [1]');
  assert.equal(sprintln('a', 1, 'b'), 'a 1 b\n');
});
