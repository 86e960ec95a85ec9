import type { CommandSpec } from '../cli';
import { refuseTerminal, writeArchive } from './files';

export const exportCommand: CommandSpec = {
  name: 'export',
  use: '[OPTIONS] CONTAINER',
  short: "Export a container's filesystem as a tar archive",
  args: { kind: 'exact', n: 1 },
  flags: [{ name: 'output', short: 'o', type: 'string', description: 'Write to a file, instead of STDOUT' }],
  async run(cli, f) {
    const output = f.string('output');
    refuseTerminal(output, cli.streams.out);
    const res = await cli.engine().stream('GET', `/containers/${encodeURIComponent(f.args[0])}/export`);
    await writeArchive(res, output, cli.streams.out, 'failed to export container: ');
  },
};
