import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { displayJsonMessages, humanSize, JsonMessageError, progressString } from './jsonmessage';

function sink(tty = false, columns?: number): { write(s: string): boolean; isTTY: boolean; columns?: number; text: string } {
  return {
    isTTY: tty,
    columns,
    text: '',
    write(s: string) {
      this.text += s;
      return true;
    },
  };
}

const lines = (...m: object[]): Readable => Readable.from(m.map((x) => `${JSON.stringify(x)}\r\n`));

test('off a terminal: streams as-is, statuses as lines, no progress bars', async () => {
  const out = sink();
  const aux = await displayJsonMessages(
    Readable.from([
      '{"status":"Loading layer","id":"abc","progressDetail":{"current":1,"total":2},"progress":"[=>  ]"}\n',
      '{"stream":"Loaded image: busybox:latest\\n"}\n',
      '{"status":"sha256:1234"}\n',
      '{"aux":{"ID":"sha256:1234"}}\n',
    ]),
    out,
  );
  assert.equal(out.text, 'Loaded image: busybox:latest\nsha256:1234\n');
  assert.deepEqual(aux, [{ ID: 'sha256:1234' }]);
});

test('a pull off a terminal prints what docker prints', async () => {
  const out = sink();
  await displayJsonMessages(
    lines(
      { status: 'Pulling from test/bb', id: 'v1' },
      { status: 'Pulling fs layer', progressDetail: {}, id: 'aaa' },
      { status: 'Downloading', progressDetail: { current: 10, total: 20 }, progress: '[==>  ]', id: 'aaa' },
      { status: 'Download complete', progressDetail: {}, id: 'aaa' },
      { status: 'Pull complete', progressDetail: {}, id: 'aaa' },
      { status: 'Digest: sha256:abc' },
      { status: 'Status: Downloaded newer image for 127.0.0.1:5000/test/bb:v1' },
    ),
    out,
  );
  assert.equal(
    out.text,
    'v1: Pulling from test/bb\naaa: Pulling fs layer\naaa: Download complete\naaa: Pull complete\nDigest: sha256:abc\nStatus: Downloaded newer image for 127.0.0.1:5000/test/bb:v1\n',
  );
});

test('an error message ends the display with that error', async () => {
  const out = sink();
  await assert.rejects(
    displayJsonMessages(Readable.from(['{"stream":"a\\n"}{"errorDetail":{"message":"archive/tar: invalid tar header"},"error":"x"}']), out),
    (e: unknown) => e instanceof JsonMessageError && e.message === 'archive/tar: invalid tar header',
  );
  assert.equal(out.text, 'a\n');
});

test('on a terminal, each layer owns a line that is redrawn in place', async () => {
  const out = sink(true, 80);
  await displayJsonMessages(
    lines(
      { status: 'Preparing', progressDetail: {}, id: 'aaa' },
      { status: 'Preparing', progressDetail: {}, id: 'bbb' },
      { status: 'Pushing', progressDetail: { current: 1500, total: 3000 }, id: 'aaa' },
      { status: 'Pushed', progressDetail: {}, id: 'bbb' },
      { status: 'v1: digest: sha256:abc size: 527' },
    ),
    out,
  );
  assert.equal(
    out.text,
    '\n\x1b[1A\x1b[2K\raaa: Preparing \r\x1b[1B' +
      '\n\x1b[1A\x1b[2K\rbbb: Preparing \r\x1b[1B' +
      '\x1b[2A\x1b[2K\raaa: Pushing    1.5kB/3kB\r\x1b[2B' +
      '\x1b[1A\x1b[2K\rbbb: Pushed \r\x1b[1B' +
      'v1: digest: sha256:abc size: 527\n',
  );
});

test('the deprecated progress string is used only without progressDetail', async () => {
  const out = sink(true);
  await displayJsonMessages(lines({ status: 'Loading layer', id: 'abc', progress: '[=>  ]' }), out);
  assert.equal(out.text, '\n\x1b[1Aabc: Loading layer [=>  ]\x1b[1B');
});

test('progress bars: width, units, wonky totals, time left', () => {
  assert.equal(humanSize(0), '0B');
  assert.equal(humanSize(999), '999B');
  assert.equal(humanSize(1234567), '1.235MB');
  assert.equal(humanSize(2_000_000_000), '2GB');
  assert.equal(progressString({}, 200), '');
  assert.equal(progressString({ current: 512 }, 200), '    512B');
  assert.equal(progressString({ current: 5, units: 'items' }, 200), '5 items');
  assert.equal(progressString({ current: 50, total: 100 }, 80), '     50B/100B');
  assert.equal(progressString({ current: 50, total: 100 }, 120), `[${'='.repeat(25)}>${' '.repeat(25)}]      50B/100B`);
  assert.equal(progressString({ current: 150, total: 100 }, 80), '    150B');
  assert.equal(progressString({ current: 1, total: 4, units: 'layers' }, 80), '1/4 layers');
  assert.equal(progressString({ current: 1, total: 4, hidecounts: true }, 80), '');
  // 10 s for the first quarter: 30 s to go.
  assert.equal(progressString({ current: 25, total: 100, start: 1000 }, 80, 1_010_000), '     25B/100B 30s');
});
