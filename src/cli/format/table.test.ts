import { test } from 'node:test';
import assert from 'node:assert/strict';
import { displayWidth, formatRows, formatTable, tabwrite, templateString, type TabWriterOptions } from './table';

const dots = (minWidth: number, padding: number, extra: Partial<TabWriterOptions> = {}): TabWriterOptions => ({
  minWidth,
  tabWidth: 0,
  padding,
  padChar: '.',
  ...extra,
});

test('tabwriter: cells are tab-terminated; the last cell of a line is not aligned', () => {
  assert.equal(tabwrite('*\t*', dots(8, 1)), '*.......*');
  assert.equal(tabwrite('*\t*\t', dots(8, 1)), '*.......*');
  assert.equal(tabwrite('e) foo\tbar\t\n', dots(8, 1)), 'e) foo..bar.....\n');
  assert.equal(tabwrite('\t\n', dots(8, 1)), '........\n');
  assert.equal(tabwrite('\t', dots(8, 1)), '');
  assert.equal(tabwrite('a\nb\nc', dots(8, 1)), 'a\nb\nc');
  assert.equal(tabwrite('\n\n\n', dots(8, 1)), '\n\n\n');
  assert.equal(tabwrite('', dots(8, 1)), '');
});

test('tabwriter: column width is the widest cell plus padding, at least minwidth', () => {
  assert.equal(tabwrite('1\t2\t3\t4\n11\t222\t3333\t44444\n', dots(1, 0)), '1.2..3...4\n11222333344444\n');
  assert.equal(tabwrite('1\t2\t3\t4\n', dots(5, 0)), '1....2....3....4\n');
  assert.equal(tabwrite('1\t2\t3\t4\t\n', dots(5, 0)), '1....2....3....4....\n');
});

test('tabwriter: a column is a block of consecutive lines; a line without tabs ends it', () => {
  const src =
    '4444\t333\t22\t1\t333\n' +
    '999999999\t22\n' +
    '7\t22\n' +
    '\t\t\t88888888\n' +
    '\n' +
    '666666\t666666\t666666\t4444\n' +
    '1\t1\t999999999\t0000000000\n';
  const want =
    '4444........333...22...1...333\n' +
    '999999999...22\n' +
    '7...........22\n' +
    '....................88888888\n' +
    '\n' +
    '666666...666666...666666......4444\n' +
    '1........1........999999999...0000000000\n';
  assert.equal(tabwrite(src, dots(4, 3)), want);
  // \f ends every column like a blank line does.
  assert.equal(tabwrite('1\t2\t3\t4\f11\t222\t3333\t44444\n', dots(1, 0)), '1234\n11222333344444\n');
});

test('tabwriter: wide characters count two columns, combining marks none', () => {
  assert.equal(
    tabwrite('本\tb\tc\naa\t本本本\tcccc\tddddd\naaa\tbbbb\n', dots(8, 1)),
    '本......b.......c\naa......本本本..cccc....ddddd\naaa.....bbbb\n',
  );
  assert.equal(displayWidth('héllo'), 5);
  assert.equal(displayWidth('e\u0301'), 1);
  assert.equal(displayWidth('日本'), 4);
});

test('tabwriter: right alignment, tab padding, debug bars', () => {
  const src = '.0\t.3\t2.4\t-5.1\t\n23.0\t12345678.9\t2.4\t-989.4\t\n.0\t1.2\t44.4\t-13.3\t\t';
  assert.equal(
    tabwrite(src, { minWidth: 1, tabWidth: 0, padding: 2, padChar: ' ', alignRight: true }),
    '    .0          .3   2.4    -5.1\n  23.0  12345678.9   2.4  -989.4\n    .0         1.2  44.4   -13.3',
  );
  assert.equal(
    tabwrite('4444\t333\t22\n999999999\t22\n7\t22\n', { minWidth: 8, tabWidth: 8, padding: 1, padChar: '\t' }),
    '4444\t\t333\t22\n999999999\t22\n7\t\t22\n',
  );
  assert.equal(tabwrite('a\tb\tc\n', { ...dots(4, 1), debug: true }), 'a...|b...|c\n');
});

test('tabwriter with docker settings (minwidth 10, padding 3)', () => {
  assert.equal(
    tabwrite('NAME\tDRIVER\tSCOPE\nbridge\tbridge\tlocal\nmy-long-network-name\tbridge\tlocal\n'),
    'NAME                   DRIVER    SCOPE\n' +
      'bridge                 bridge    local\n' +
      'my-long-network-name   bridge    local\n',
  );
});

const psHeaders = {
  ID: 'CONTAINER ID',
  Image: 'IMAGE',
  Command: 'COMMAND',
  RunningFor: 'CREATED',
  Status: 'STATUS',
  Ports: 'PORTS',
  Names: 'NAMES',
  Size: 'SIZE',
  Labels: 'LABELS',
  Label: 'LABEL',
};
const psRows = [
  { ID: 'containerID1', Image: 'ubuntu', Command: '""', RunningFor: '24 hours ago', Status: '', Ports: '', Names: 'foobar_baz', Size: '0B', Labels: ['a=1'] },
  { ID: 'containerID2', Image: 'ubuntu', Command: '""', RunningFor: '24 hours ago', Status: '', Ports: '', Names: 'foobar_bar', Size: '0B', Labels: [] },
];
const psDefault = 'table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}';

test('docker ps default table', () => {
  assert.equal(
    formatRows(undefined, psDefault + '\t{{.Size}}', psRows, psHeaders),
    'CONTAINER ID   IMAGE     COMMAND   CREATED        STATUS    PORTS     NAMES        SIZE\n' +
      'containerID1   ubuntu    ""        24 hours ago                       foobar_baz   0B\n' +
      'containerID2   ubuntu    ""        24 hours ago                       foobar_bar   0B\n',
  );
  assert.equal(
    formatRows('table', psDefault, psRows, psHeaders),
    'CONTAINER ID   IMAGE     COMMAND   CREATED        STATUS    PORTS     NAMES\n' +
      'containerID1   ubuntu    ""        24 hours ago                       foobar_baz\n' +
      'containerID2   ubuntu    ""        24 hours ago                       foobar_bar\n',
  );
});

test('table header only when there are no rows', () => {
  assert.equal(
    formatRows(undefined, psDefault, [], psHeaders),
    'CONTAINER ID   IMAGE     COMMAND   CREATED   STATUS    PORTS     NAMES\n',
  );
});

test('custom table formats: one column, \\t typed as two characters, header functions', () => {
  assert.equal(formatRows('table {{.Image}}', psDefault, psRows, psHeaders), 'IMAGE\nubuntu\nubuntu\n');
  assert.equal(
    formatTable(psRows, 'table {{.ID}}\\t{{upper .Names}}\\t{{json .Labels}}', psHeaders),
    'CONTAINER ID   NAMES        LABELS\n' + 'containerID1   FOOBAR_BAZ   ["a=1"]\n' + 'containerID2   FOOBAR_BAR   []\n',
  );
  // pad is not a header function: the header is padded like the cells.
  assert.equal(formatTable(psRows.slice(0, 1), 'table {{pad .Image 1 1}}|', psHeaders), ' IMAGE |\n ubuntu |\n');
  // a field without a header gives an empty title; a method-style field gives its title.
  const row = { Image: 'ubuntu', Label: (k: string) => (k === 'x' ? 'lx' : '') };
  assert.equal(
    formatTable([row], 'table {{.Nope}}\t{{.Label "x"}}\t{{.Image}}', psHeaders),
    '             LABEL     IMAGE\n<no value>   lx        ubuntu\n',
  );
});

test('non-table formats: one line per row, no header', () => {
  assert.equal(formatRows('{{.ID}}\\t{{.Names}}', psDefault, psRows, psHeaders), 'containerID1\tfoobar_baz\ncontainerID2\tfoobar_bar\n');
  assert.equal(formatRows('{{.ID}}: {{.Image}}', psDefault, psRows, psHeaders), 'containerID1: ubuntu\ncontainerID2: ubuntu\n');
  assert.equal(formatRows('{{.ID}}', psDefault, [], psHeaders), '');
});

test('json format: one object per line, keys sorted', () => {
  assert.equal(
    formatRows('json', psDefault, [{ Names: 'web', ID: 'abc', Labels: 'a=1' }], psHeaders),
    '{"ID":"abc","Labels":"a=1","Names":"web"}\n',
  );
  assert.equal(formatRows('{{json .}}', psDefault, [{ b: 1, a: 2 }], psHeaders), '{"b":1,"a":2}\n');
});

test('class instances as rows: getters are fields, json marshals exported fields', () => {
  class Row {
    constructor(private readonly c: { id: string; names: string[] }) {}
    get ID(): string {
      return this.c.id;
    }
    get Names(): string {
      return this.c.names.join(',');
    }
    Label(name: string): string {
      return name === 'tier' ? 'front' : '';
    }
  }
  const rows = [new Row({ id: 'abc', names: ['web', 'w2'] })];
  assert.equal(formatRows('json', psDefault, rows, psHeaders), '{"ID":"abc","Names":"web,w2"}\n');
  assert.equal(formatRows('table {{.ID}}\t{{.Names}}\t{{.Label "tier"}}', psDefault, rows, psHeaders),
    'CONTAINER ID   NAMES     LABEL\nabc            web,w2    front\n');
});

test('errors are worded as docker words them', () => {
  assert.throws(() => formatRows('{{InvalidFunction}}', psDefault, psRows, psHeaders), {
    message: 'template parsing error: template: :1: function "InvalidFunction" not defined',
  });
  assert.throws(() => formatRows('{{nil}}', psDefault, psRows, psHeaders), {
    message: 'template parsing error: template: :1:2: executing "" at <nil>: nil is not a command',
  });
});

test('templateString prepares --format values as docker does', () => {
  assert.equal(templateString('table {{.ID}}\\t{{.Names}}  '), '{{.ID}}\t{{.Names}}');
  assert.equal(templateString('  {{.ID}}\\n'), '{{.ID}}\n');
  assert.equal(templateString('json'), '{{json .}}');
  assert.equal(templateString('table'), '');
});
