import fs from 'node:fs';
import path from 'node:path';
import { StatusError, type CommandSpec } from '../cli';
import { refuseTerminal, writeArchive } from './files';

/** command.ValidateOutputPath: the directory the file goes into must exist. */
function validateOutputPath(p: string): void {
  const dir = path.dirname(path.normalize(p));
  if (dir !== '.' && !fs.existsSync(dir)) {
    throw new StatusError(1, `failed to save image: invalid output path: directory ${JSON.stringify(dir)} does not exist`);
  }
}

export const saveCommand: CommandSpec = {
  name: 'save',
  use: '[OPTIONS] IMAGE [IMAGE...]',
  short: 'Save one or more images to a tar archive (streamed to STDOUT by default)',
  args: { kind: 'min', n: 1 },
  flags: [{ name: 'output', short: 'o', type: 'string', description: 'Write to a file, instead of STDOUT' }],
  async run(cli, f) {
    const output = f.string('output');
    refuseTerminal(output, cli.streams.out);
    if (output) validateOutputPath(output);
    const res = await cli.engine().stream('GET', '/images/get', { query: { names: f.args } });
    await writeArchive(res, output, cli.streams.out);
  },
};
