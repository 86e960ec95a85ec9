import type { HistoryItem } from '../../client/types';
import { FORMAT_HELP, StatusError, type CommandSpec } from '../cli';
import { FormatError, renderList } from '../output';
import { DEFAULT_HISTORY_TABLE, HISTORY_HEADERS, NON_HUMAN_HISTORY_TABLE, historyRow } from '../rows';

export const historyCommand: CommandSpec = {
  name: 'history',
  use: '[OPTIONS] IMAGE',
  short: 'Show the history of an image',
  args: { kind: 'exact', n: 1 },
  flags: [
    { name: 'format', type: 'string', description: FORMAT_HELP },
    { name: 'human', short: 'H', type: 'bool', default: true, description: 'Print sizes and dates in human readable format' },
    { name: 'no-trunc', type: 'bool', description: "Don't truncate output" },
    { name: 'quiet', short: 'q', type: 'bool', description: 'Only show image IDs' },
  ],
  async run(cli, f) {
    const items = (await cli.engine().get<HistoryItem[]>(`/images/${f.args[0]}/history`)) ?? [];
    const human = f.bool('human');
    let format = f.string('format');
    if (format === '' || format === 'table') {
      if (f.bool('quiet')) format = '{{.ID}}';
      else format = human ? DEFAULT_HISTORY_TABLE : NON_HUMAN_HISTORY_TABLE;
    }
    const trunc = !f.bool('no-trunc');
    const now = Date.now();
    const rows = items.map((h) => historyRow(h, { trunc, now, human }));
    try {
      cli.out(renderList(format, rows, HISTORY_HEADERS));
    } catch (err) {
      if (err instanceof FormatError) throw new StatusError(1, err.message);
      throw err;
    }
  },
};
