/**
 * `berth update`: new resource limits (and restart policy) for one or more containers, through
 * POST /containers/{id}/update, printing each name as docker does.
 */
import { StatusError, errorText, type CommandSpec } from '../cli';
import { UPDATE_FLAGS, updateResources } from './resource-opts';

/** `--restart no|always|unless-stopped|on-failure[:N]` (docker's opts.ParseRestartPolicy). */
export function parseRestartPolicy(v: string): { Name: string; MaximumRetryCount: number } {
  const [name, count, ...rest] = v.split(':');
  if (rest.length || (count !== undefined && name !== 'on-failure')) {
    throw new Error(count !== undefined && name !== 'on-failure' ? `invalid restart policy format: maximum retry count can only be used with 'on-failure'` : `invalid restart policy format: ${v}`);
  }
  if (!['no', 'always', 'unless-stopped', 'on-failure', ''].includes(name)) throw new Error(`invalid restart policy format: unknown policy '${name}'`);
  const n = count === undefined ? 0 : Number(count);
  if (!Number.isInteger(n) || n < 0) throw new Error(`invalid restart policy format: maximum retry count must be an integer`);
  return { Name: name, MaximumRetryCount: n };
}

export const updateCommand: CommandSpec = {
  name: 'update',
  use: 'CONTAINER [CONTAINER...]',
  short: 'Update configuration of one or more containers',
  args: { kind: 'min', n: 1 },
  flags: [...UPDATE_FLAGS, { name: 'restart', type: 'string', description: 'Restart policy to apply when a container exits' }],
  async run(cli, f) {
    let body: Record<string, unknown>;
    try {
      body = updateResources(f);
      if (f.string('restart')) body.RestartPolicy = parseRestartPolicy(f.string('restart'));
    } catch (e) {
      throw new StatusError(125, `${(e as Error).message}\nSee 'berth update --help'.`);
    }
    if (Object.keys(body).length === 0) throw new StatusError(1, 'you must provide one or more flags when using this command');
    const engine = cli.engine();
    const errors: string[] = [];
    for (const name of f.args) {
      try {
        const r = await engine.post<{ Warnings?: string[] | null }>(`/containers/${encodeURIComponent(name)}/update`, undefined, body);
        for (const w of r.Warnings ?? []) cli.eprintln(w);
        cli.println(name);
      } catch (err) {
        errors.push(errorText(err));
      }
    }
    if (errors.length > 0) throw new StatusError(1, errors.join('\n'));
  },
};
