import type { WaitResponse } from '../../client/types';
import { StatusError, errorText, type CommandSpec } from '../cli';

export const waitCommand: CommandSpec = {
  name: 'wait',
  use: 'CONTAINER [CONTAINER...]',
  short: 'Block until one or more containers stop, then print their exit codes',
  args: { kind: 'min', n: 1 },
  flags: [],
  async run(cli, f) {
    const engine = cli.engine();
    const errors: string[] = [];
    for (const name of f.args) {
      try {
        const r = await engine.post<WaitResponse>(`/containers/${encodeURIComponent(name)}/wait`);
        cli.println(String(r.StatusCode));
      } catch (err) {
        errors.push(errorText(err));
      }
    }
    if (errors.length > 0) throw new StatusError(1, errors.join('\n'));
  },
};
