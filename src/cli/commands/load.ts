import fs from 'node:fs';
import type { Readable } from 'node:stream';
import { StatusError, type CommandSpec } from '../cli';
import { displayJsonMessages } from '../jsonmessage';
import { openError } from './files';

export const loadCommand: CommandSpec = {
  name: 'load',
  use: '[OPTIONS]',
  short: 'Load an image from a tar archive or STDIN',
  args: { kind: 'none' },
  flags: [
    { name: 'input', short: 'i', type: 'string', description: 'Read from tar archive file, instead of STDIN' },
    { name: 'quiet', short: 'q', type: 'bool', description: 'Suppress the load output' },
  ],
  async run(cli, f) {
    const file = f.string('input');
    let input: Readable;
    if (file) {
      let fd: number;
      try {
        fd = fs.openSync(file, 'r');
      } catch (err) {
        throw new StatusError(1, openError(file, err));
      }
      input = fs.createReadStream('', { fd });
    } else {
      if (cli.streams.in.isTTY) throw new StatusError(1, 'requested load from stdin, but stdin is empty');
      input = cli.streams.in as Readable;
    }
    // Progress bars make sense on a terminal only.
    const quiet = f.bool('quiet') || !cli.streams.out.isTTY;
    const res = await cli.engine().stream('POST', '/images/load', {
      query: { quiet },
      body: input,
      headers: { 'Content-Type': 'application/x-tar' },
    });
    if (/application\/json/.test(String(res.headers['content-type'] ?? ''))) {
      await displayJsonMessages(res, cli.streams.out);
    } else {
      await new Promise<void>((resolve, reject) => {
        res.on('data', (c: Buffer) => cli.streams.out.write(c));
        res.on('end', resolve);
        res.on('error', reject);
      });
    }
  },
};
