import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FlagError, flagUsages, parseFlags, parseGoDuration, parseGoInt, type FlagSpec } from './flags';

const RUN: FlagSpec[] = [
  { name: 'detach', short: 'd', type: 'bool', description: 'Run container in background' },
  { name: 'interactive', short: 'i', type: 'bool', description: 'Keep STDIN open' },
  { name: 'tty', short: 't', type: 'bool', description: 'Allocate a pseudo-TTY' },
  { name: 'env', short: 'e', type: 'list', description: 'Set environment variables' },
  { name: 'user', short: 'u', type: 'string', description: 'Username or UID' },
  { name: 'hostname', short: 'h', type: 'string', description: 'Container host name' },
  { name: 'stop-timeout', type: 'int', description: 'Timeout' },
  { name: 'rm', type: 'bool', description: 'Remove' },
  { name: 'sig-proxy', type: 'bool', default: true, description: 'Proxy signals' },
  { name: 'help', type: 'bool', description: 'Print usage' },
];

const PS: FlagSpec[] = [
  { name: 'all', short: 'a', type: 'bool', description: 'Show all containers (default shows just running)' },
  { name: 'last', short: 'n', type: 'int', default: -1, description: 'Show n last created containers (includes all states)' },
  { name: 'filter', short: 'f', type: 'list', valueName: 'filter', description: 'Filter output based on conditions provided' },
  { name: 'quiet', short: 'q', type: 'bool', description: 'Only display container IDs' },
];

const run = (...argv: string[]) => parseFlags(argv, RUN, { interspersed: false });
const ps = (...argv: string[]) => parseFlags(argv, PS);

function throwsFlag(fn: () => unknown, message: string): void {
  assert.throws(fn, (err: unknown) => err instanceof FlagError && err.message === message);
}

test('combined short booleans: -dit', () => {
  const f = run('-dit', 'busybox');
  assert.equal(f.bool('detach'), true);
  assert.equal(f.bool('interactive'), true);
  assert.equal(f.bool('tty'), true);
  assert.deepEqual(f.args, ['busybox']);
});

test('the last letter of a combination may take a value: -itu root, -ituroot', () => {
  assert.equal(run('-itu', 'root', 'img').string('user'), 'root');
  assert.equal(run('-ituroot', 'img').string('user'), 'root');
});

test('values: -e X, -eX, -e=X, --env X, --env=X', () => {
  const f = run('-e', 'A=1', '-eB=2', '-e=C=3', '--env', 'D=4', '--env=E=5', 'img');
  assert.deepEqual(f.list('env'), ['A=1', 'B=2', 'C=3', 'D=4', 'E=5']);
});

test('a value may start with a dash', () => {
  assert.equal(run('--user', '-1', 'img').string('user'), '-1');
});

test('booleans take =false, =0, =true; not a separate argument', () => {
  assert.equal(run('--rm=false', 'img').bool('rm'), false);
  assert.equal(run('--sig-proxy=false', 'img').bool('sig-proxy'), false);
  assert.equal(run('-d=0', 'img').bool('detach'), false);
  const f = run('-d', 'false');
  assert.equal(f.bool('detach'), true);
  assert.deepEqual(f.args, ['false']);
});

test('defaults, and which flags changed', () => {
  const f = run('img');
  assert.equal(f.bool('sig-proxy'), true);
  assert.equal(f.int('stop-timeout'), 0);
  assert.equal(f.has('stop-timeout'), false);
  assert.equal(run('--stop-timeout', '0', 'img').has('stop-timeout'), true);
  assert.equal(ps().int('last'), -1);
});

test('list flags accumulate; repeated strings keep the last', () => {
  const f = ps('-f', 'name=a', '--filter', 'status=exited', '-f', 'label=x');
  assert.deepEqual(f.list('filter'), ['name=a', 'status=exited', 'label=x']);
  assert.equal(run('-u', 'a', '-u', 'b', 'img').string('user'), 'b');
});

test('interspersed off: parsing stops at the image; the rest is the command', () => {
  const f = run('-d', 'busybox', 'ls', '-la', '--rm', '-e', 'X');
  assert.equal(f.bool('detach'), true);
  assert.equal(f.bool('rm'), false);
  assert.deepEqual(f.args, ['busybox', 'ls', '-la', '--rm', '-e', 'X']);
});

test('interspersed on: flags after positionals still count', () => {
  const f = ps('x', '-a', 'y');
  assert.equal(f.bool('all'), true);
  assert.deepEqual(f.args, ['x', 'y']);
});

test('-- ends the flags; a lone - is an argument', () => {
  const f = ps('-a', '--', '-q', 'x');
  assert.equal(f.bool('quiet'), false);
  assert.deepEqual(f.args, ['-q', 'x']);
  assert.deepEqual(ps('-', '-a').args, ['-']);
  assert.deepEqual(run('--', '-img', 'x').args, ['-img', 'x']);
});

test('unknown flags, with pflag wording', () => {
  throwsFlag(() => run('--foo', 'img'), 'unknown flag: --foo');
  throwsFlag(() => run('--foo=1', 'img'), 'unknown flag: --foo');
  throwsFlag(() => ps('-ax'), "unknown shorthand flag: 'x' in -x");
  throwsFlag(() => ps('-z'), "unknown shorthand flag: 'z' in -z");
});

test('missing and invalid values', () => {
  throwsFlag(() => ps('-n'), "flag needs an argument: 'n' in -n");
  throwsFlag(() => ps('--last'), 'flag needs an argument: --last');
  throwsFlag(() => ps('-n', 'x'), 'invalid argument "x" for "-n, --last" flag: strconv.ParseInt: parsing "x": invalid syntax');
  throwsFlag(() => ps('--all=3'), 'invalid argument "3" for "-a, --all" flag: strconv.ParseBool: parsing "3": invalid syntax');
  throwsFlag(() => run('--stop-timeout=1.5', 'img'), 'invalid argument "1.5" for "--stop-timeout" flag: strconv.ParseInt: parsing "1.5": invalid syntax');
  throwsFlag(() => ps('---x'), 'bad flag syntax: ---x');
});

test('validators reject a value as an invalid argument', () => {
  const spec: FlagSpec[] = [
    { name: 'filter', short: 'f', type: 'list', description: '', validate: (v) => (v.includes('=') ? undefined : 'bad format of filter (expected name=value)') },
  ];
  throwsFlag(() => parseFlags(['-f', 'x'], spec), 'invalid argument "x" for "-f, --filter" flag: bad format of filter (expected name=value)');
  assert.deepEqual(parseFlags(['-f', 'a=b'], spec).list('filter'), ['a=b']);
});

test('--help everywhere; -h is help unless a flag owns it', () => {
  assert.equal(ps('--help').help, true);
  const h = ps('-h');
  assert.equal(h.help, true);
  assert.equal(h.helpShorthand, true);
  const f = run('-h', 'myhost', 'img');
  assert.equal(f.help, false);
  assert.equal(f.string('hostname'), 'myhost');
  assert.equal(run('--help').help, true);
  throwsFlag(() => parseFlags(['--help'], PS, { help: false }), 'unknown flag: --help');
});

test('Go integers and durations', () => {
  assert.equal(parseGoInt('10'), 10);
  assert.equal(parseGoInt('-3'), -3);
  assert.equal(parseGoInt('0x1f'), 31);
  assert.equal(parseGoInt('010'), 8);
  assert.equal(parseGoInt('1_000'), 1000);
  assert.equal(parseGoInt('1.5'), undefined);
  assert.equal(parseGoInt(''), undefined);
  assert.equal(parseGoDuration('1h30m'), 5400e9);
  assert.equal(parseGoDuration('300ms'), 300e6);
  assert.equal(parseGoDuration('1.5s'), 1.5e9);
  assert.equal(parseGoDuration('0'), 0);
  assert.equal(parseGoDuration('10'), undefined);
  assert.equal(parseGoDuration('-2m'), -120e9);
});

test('duration flags parse to nanoseconds', () => {
  const spec: FlagSpec[] = [{ name: 'interval', type: 'duration', description: '' }];
  assert.equal(parseFlags(['--interval', '2s'], spec).duration('interval'), 2e9);
  throwsFlag(() => parseFlags(['--interval', 'x'], spec), 'invalid argument "x" for "--interval" flag: time: invalid duration "x"');
});

test("help's Options block is laid out as pflag's FlagUsagesWrapped", () => {
  const got = flagUsages(PS, 79);
  assert.equal(
    got,
    [
      '  -a, --all             Show all containers (default shows just running)',
      '  -f, --filter filter   Filter output based on conditions provided',
      '  -n, --last int        Show n last created containers (includes all',
      '                        states) (default -1)',
      '  -q, --quiet           Only display container IDs',
      '',
    ].join('\n'),
  );
});
