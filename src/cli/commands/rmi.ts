import type { ImageDeleteItem } from '../../client/types';
import { StatusError, errorText, type CommandSpec } from '../cli';

export const rmiCommand: CommandSpec = {
  name: 'rmi',
  use: '[OPTIONS] IMAGE [IMAGE...]',
  short: 'Remove one or more images',
  args: { kind: 'min', n: 1 },
  flags: [
    { name: 'force', short: 'f', type: 'bool', description: 'Force removal of the image' },
    { name: 'no-prune', type: 'bool', description: 'Do not delete untagged parents' },
  ],
  async run(cli, f) {
    const engine = cli.engine();
    const q = { force: f.bool('force') || undefined, noprune: f.bool('no-prune') || undefined };
    const errors: string[] = [];
    for (const name of f.args) {
      try {
        const items = await engine.delete<ImageDeleteItem[]>(`/images/${name}`, q);
        for (const d of items ?? []) {
          if (d.Deleted) cli.println(`Deleted: ${d.Deleted}`);
          else cli.println(`Untagged: ${d.Untagged ?? ''}`);
        }
      } catch (err) {
        errors.push(errorText(err));
      }
    }
    if (errors.length > 0) throw new StatusError(1, errors.join('\n'));
  },
};
