import { humanSize } from '../../util/units';
import { StatusError, type CommandSpec } from '../cli';
import { filterQuery, FILTER_FLAG } from './filters';

interface PruneReport {
  ContainersDeleted?: string[] | null;
  SpaceReclaimed?: number;
}

async function confirm(cli: Parameters<CommandSpec['run']>[0], message: string): Promise<boolean> {
  cli.out(`${message}\nAre you sure you want to continue? [y/N] `);
  const input = cli.streams.in;
  const line = await new Promise<string>((resolve) => {
    let buf = '';
    const onData = (c: Buffer): void => {
      buf += c.toString('utf8');
      const nl = buf.indexOf('\n');
      if (nl >= 0) {
        input.off('data', onData);
        input.pause();
        resolve(buf.slice(0, nl));
      }
    };
    input.on('data', onData);
    input.once('end', () => resolve(buf));
    input.resume();
  });
  const answer = line.trim().toLowerCase();
  return answer === 'y' || answer === 'yes';
}

export const containerPruneCommand: CommandSpec = {
  name: 'prune',
  use: '[OPTIONS]',
  short: 'Remove all stopped containers',
  args: { kind: 'none' },
  flags: [
    { ...FILTER_FLAG, short: undefined, description: 'Provide filter values (e.g. "until=<timestamp>")' },
    { name: 'force', short: 'f', type: 'bool', description: 'Do not prompt for confirmation' },
  ],
  async run(cli, f) {
    if (!f.bool('force') && !(await confirm(cli, 'WARNING! This will remove all stopped containers.'))) {
      throw new StatusError(1, '');
    }
    const report = await cli.engine().post<PruneReport>('/containers/prune', filterQuery(f.list('filter')));
    const deleted = report?.ContainersDeleted ?? [];
    if (deleted.length > 0) {
      cli.println('Deleted Containers:');
      for (const id of deleted) cli.println(id);
      cli.println();
    }
    cli.println(`Total reclaimed space: ${humanSize(report?.SpaceReclaimed ?? 0, 4)}`);
  },
};
