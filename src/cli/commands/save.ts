import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { StatusError, type CommandSpec } from '../cli';
import { openError } from './files';

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
    if (!output && cli.streams.out.isTTY) {
      throw new StatusError(1, 'cowardly refusing to save to a terminal. Use the -o flag or redirect');
    }
    if (output) validateOutputPath(output);
    const res = await cli.engine().stream('GET', '/images/get', { query: { names: f.args } });
    if (!output) {
      await pipeline(res, cli.streams.out, { end: false });
      return;
    }
    // Written next to the target and renamed into place, so a failed save leaves no half file.
    const abs = path.resolve(output);
    const tmp = path.join(path.dirname(abs), `.berth_temp_${process.pid}_${Date.now()}`);
    try {
      await pipeline(res, fs.createWriteStream(tmp, { mode: 0o600 }));
      fs.renameSync(tmp, abs);
    } catch (err) {
      try {
        fs.unlinkSync(tmp);
      } catch {}
      const code = (err as NodeJS.ErrnoException).code;
      throw new StatusError(1, code ? openError(output, err) : (err as Error).message);
    }
  },
};
