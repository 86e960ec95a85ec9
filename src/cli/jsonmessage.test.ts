import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { displayJsonMessages, JsonMessageError } from './jsonmessage';

function sink(tty = false): { write(s: string): boolean; isTTY: boolean; text: string } {
  return {
    isTTY: tty,
    text: '',
    write(s: string) {
      this.text += s;
      return true;
    },
  };
}

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

test('an error message ends the display with that error', async () => {
  const out = sink();
  await assert.rejects(
    displayJsonMessages(Readable.from(['{"stream":"a\\n"}{"errorDetail":{"message":"archive/tar: invalid tar header"},"error":"x"}']), out),
    (e: unknown) => e instanceof JsonMessageError && e.message === 'archive/tar: invalid tar header',
  );
  assert.equal(out.text, 'a\n');
});

test('on a terminal, progress redraws its own line', async () => {
  const out = sink(true);
  await displayJsonMessages(
    Readable.from(['{"status":"Loading layer","id":"abc","progress":"[=>  ]"}{"status":"Loading layer","id":"abc","progress":"[===>]"}']),
    out,
  );
  assert.equal(out.text, '\n\x1b[1A\r\x1b[2K\rabc: Loading layer [=>  ]\r\x1b[1B\x1b[1A\r\x1b[2K\rabc: Loading layer [===>]\r\x1b[1B');
});
