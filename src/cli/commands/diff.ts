import { type CommandSpec } from '../cli';

const KINDS = ['C', 'A', 'D'];

export const diffCommand: CommandSpec = {
  name: 'diff',
  use: 'CONTAINER',
  short: "Inspect changes to files or directories on a container's filesystem",
  args: { kind: 'exact', n: 1 },
  flags: [],
  async run(cli, f) {
    const changes = (await cli.engine().get<{ Path: string; Kind: number }[] | null>(`/containers/${encodeURIComponent(f.args[0])}/changes`)) ?? [];
    for (const c of changes) cli.println(`${KINDS[c.Kind] ?? '?'} ${c.Path}`);
  },
};
