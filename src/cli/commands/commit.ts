import { StatusError, type CommandSpec } from '../cli';

/** The repository and tag of `REPOSITORY[:TAG]` (the tag is after the last ':' that follows the last '/'). */
export function splitReference(ref: string): { repo: string; tag?: string } {
  if (ref.includes('@')) throw new StatusError(1, 'refusing to create a tag with a digest reference');
  const slash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  if (colon > slash) return { repo: ref.slice(0, colon), tag: ref.slice(colon + 1) };
  return { repo: ref };
}

export const commitCommand: CommandSpec = {
  name: 'commit',
  use: "[OPTIONS] CONTAINER [REPOSITORY[:TAG]]",
  short: "Create a new image from a container's changes",
  args: { kind: 'range', min: 1, max: 2 },
  flags: [
    { name: 'author', short: 'a', type: 'string', description: 'Author (e.g., "John Hannibal Smith <hannibal@a-team.com>")' },
    { name: 'change', short: 'c', type: 'list', description: 'Apply Dockerfile instruction to the created image' },
    { name: 'message', short: 'm', type: 'string', description: 'Commit message' },
    { name: 'pause', short: 'p', type: 'bool', default: true, description: 'Pause container during commit' },
  ],
  async run(cli, f) {
    const ref = f.args[1] ? splitReference(f.args[1]) : undefined;
    const res = await cli.engine().post<{ Id: string }>('/commit', {
      container: f.args[0],
      repo: ref?.repo,
      tag: ref?.tag,
      comment: f.string('message') || undefined,
      author: f.string('author') || undefined,
      changes: f.list('change'),
      pause: f.bool('pause') ? undefined : false,
    });
    cli.println(res.Id);
  },
};
