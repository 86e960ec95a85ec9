import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { StatusError, type CommandSpec } from '../cli';
import { openError } from './files';

export const exportCommand: CommandSpec = {
  name: 'export',
  use: '[OPTIONS] CONTAINER',
  short: "Export a container's filesystem as a tar archive",
  args: { kind: 'exact', n: 1 },
  flags: [{ name: 'output', short: 'o', type: 'string', description: 'Write to a file, instead of STDOUT' }],
  async run(cli, f) {
    const output = f.string('output');
    if (!output && cli.streams.out.isTTY) throw new StatusError(1, 'cowardly refusing to save to a terminal. Use the -o flag or redirect');
    const res = await cli.engine().stream('GET', `/containers/${encodeURIComponent(f.args[0])}/export`);
    if (!output) {
      await pipeline(res, cli.streams.out, { end: false });
      return;
    }
    // Written next to the target and renamed into place: a failed export leaves no half file.
    const abs = path.resolve(output);
    const tmp = path.join(path.dirname(abs), `.berth_temp_${process.pid}_${Date.now()}`);
    try {
      await pipeline(res, fs.createWriteStream(tmp, { mode: 0o600 }));
      fs.renameSync(tmp, abs);
    } catch (err) {
      fs.rmSync(tmp, { force: true });
      const code = (err as NodeJS.ErrnoException).code;
      throw new StatusError(1, code ? `failed to export container: ${openError(output, err)}` : (err as Error).message);
    }
  },
};
