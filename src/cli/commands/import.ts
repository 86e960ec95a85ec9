import fs from 'node:fs';
import type { Readable } from 'node:stream';
import type { Query } from '../../client/engine';
import { StatusError, type CommandSpec } from '../cli';
import { displayJsonMessages } from '../jsonmessage';
import { parseNormalizedNamed } from '../reference';
import { openError } from './files';

export const importCommand: CommandSpec = {
  name: 'import',
  use: '[OPTIONS] file|URL|- [REPOSITORY[:TAG]]',
  short: 'Import the contents from a tarball to create a filesystem image',
  args: { kind: 'range', min: 1, max: 2 },
  flags: [
    { name: 'change', short: 'c', type: 'list', description: 'Apply Dockerfile instruction to the created image' },
    { name: 'message', short: 'm', type: 'string', description: 'Set commit message for imported image' },
  ],
  async run(cli, f) {
    const [source, ref] = f.args;
    let body: Readable | undefined;
    let fromSrc = '-';
    if (source === '-') {
      body = cli.streams.in as Readable;
    } else if (source.startsWith('http://') || source.startsWith('https://')) {
      fromSrc = source;
    } else {
      let fd: number;
      try {
        fd = fs.openSync(source, 'r');
      } catch (err) {
        throw new StatusError(1, openError(source, err));
      }
      body = fs.createReadStream('', { fd });
    }
    if (ref) {
      try {
        parseNormalizedNamed(ref);
      } catch (err) {
        throw new StatusError(1, (err as Error).message);
      }
    }
    const q: Query = { fromSrc, repo: ref, message: f.string('message') || undefined, changes: f.list('change') };
    const res = await cli.engine().stream('POST', '/images/create', {
      query: q,
      body,
      headers: body ? { 'Content-Type': 'application/x-tar' } : undefined,
    });
    await displayJsonMessages(res, cli.streams.out);
  },
};
