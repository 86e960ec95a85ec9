import type { Readable } from 'node:stream';
import { demuxTo } from '../../client/engine';
import type { ContainerInspect } from '../../client/types';
import type { Query } from '../../client/engine';
import type { CommandSpec } from '../cli';
import { applyTimeRange } from '../timestamps';

export const logsCommand: CommandSpec = {
  name: 'logs',
  use: '[OPTIONS] CONTAINER',
  short: 'Fetch the logs of a container',
  args: { kind: 'exact', n: 1 },
  flags: [
    { name: 'details', type: 'bool', description: 'Show extra details provided to logs' },
    { name: 'follow', short: 'f', type: 'bool', description: 'Follow log output' },
    {
      name: 'since',
      type: 'string',
      description: 'Show logs since timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)',
    },
    {
      name: 'tail',
      short: 'n',
      type: 'string',
      default: 'all',
      description: 'Number of lines to show from the end of the logs',
    },
    { name: 'timestamps', short: 't', type: 'bool', description: 'Show timestamps' },
    {
      name: 'until',
      type: 'string',
      description: 'Show logs before a timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)',
    },
  ],
  async run(cli, f) {
    const engine = cli.engine();
    const c = await engine.get<ContainerInspect>(`/containers/${encodeURIComponent(f.args[0])}/json`);
    const q: Query = { stdout: true, stderr: true };
    applyTimeRange(f, q);
    if (f.bool('timestamps')) q.timestamps = true;
    if (f.bool('follow')) q.follow = true;
    q.tail = f.string('tail');
    if (f.bool('details')) q.details = true;
    const res = await engine.stream('GET', `/containers/${encodeURIComponent(c.Id)}/logs`, { query: q });
    if (c.Config?.Tty) {
      await new Promise<void>((resolve, reject) => {
        res.on('data', (chunk: Buffer) => cli.streams.out.write(chunk));
        res.on('end', resolve);
        res.on('error', reject);
      });
    } else {
      await demuxTo(res as Readable, cli.streams.out, cli.streams.err);
    }
  },
};
