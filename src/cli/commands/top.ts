/**
 * berth top CONTAINER [ps OPTIONS]: the container's processes as the host's ps shows them.
 */
import { type CommandSpec } from '../cli';
import { tabwrite } from '../format/table';

export const topCommand: CommandSpec = {
  name: 'top',
  use: 'CONTAINER [ps OPTIONS]',
  short: 'Display the running processes of a container',
  args: { kind: 'min', n: 1 },
  // Everything after the container belongs to ps, dashes included.
  interspersed: false,
  flags: [],
  async run(cli, f) {
    const [ref, ...psArgs] = f.args;
    const q = psArgs.length ? { ps_args: psArgs.join(' ') } : undefined;
    const r = await cli.engine().get<{ Titles: string[]; Processes: string[][] | null }>(`/containers/${encodeURIComponent(ref)}/top`, q);
    const lines = [r.Titles, ...(r.Processes ?? [])].map((row) => `${row.join('\t')}\n`).join('');
    // docker: tabwriter.NewWriter(out, 20, 1, 3, ' ', 0)
    cli.out(tabwrite(lines, { minWidth: 20, tabWidth: 1, padding: 3, padChar: ' ' }));
  },
};
