import { StatusError, errorText, type CommandSpec } from '../cli';

export const renameCommand: CommandSpec = {
  name: 'rename',
  use: 'CONTAINER NEW_NAME',
  short: 'Rename a container',
  args: { kind: 'exact', n: 2 },
  flags: [],
  async run(cli, f) {
    const oldName = f.args[0].trim();
    const newName = f.args[1].trim();
    if (oldName === '' || newName === '') throw new StatusError(1, 'Error: Neither old nor new names may be empty');
    try {
      await cli.engine().post(`/containers/${encodeURIComponent(oldName)}/rename`, { name: newName });
    } catch (err) {
      cli.eprintln(errorText(err));
      throw new StatusError(1, `Error: failed to rename container named ${oldName}`);
    }
  },
};
