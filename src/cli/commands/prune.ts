import { humanSize } from '../../util/units';
import { StatusError, type CommandSpec } from '../cli';
import { filterQuery, filtersJson, FILTER_FLAG } from './filters';

interface PruneReport {
  ContainersDeleted?: string[] | null;
  SpaceReclaimed?: number;
}

/** Whether to go on: --force, or the user answers y(es) to the warning. */
async function askOrStop(cli: Parameters<CommandSpec['run']>[0], force: boolean, message: string): Promise<boolean> {
  if (force) return true;
  cli.out(`${message}\nAre you sure you want to continue? [y/N] `);
  const answer = ((await cli.lines().readLine()) ?? '').trim().toLowerCase();
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
    if (!(await askOrStop(cli, f.bool('force'), 'WARNING! This will remove all stopped containers.'))) {
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

/** The report lines of one prune, as docker prints them (the list ends with a blank line). */
function section(title: string, items: string[]): string {
  return items.length ? `${title}\n${items.map((i) => `${i}\n`).join('')}\n` : '';
}

interface ImagePruneReport {
  ImagesDeleted?: { Untagged?: string; Deleted?: string }[] | null;
  SpaceReclaimed?: number;
}

async function pruneImages(cli: Parameters<CommandSpec['run']>[0], all: boolean, filters: string[]): Promise<[number, string]> {
  const report = await cli.engine().post<ImagePruneReport>('/images/prune', { filters: filtersJson(filters, [['dangling', String(!all)]]) });
  const lines = (report?.ImagesDeleted ?? []).map((d) => (d.Untagged ? `untagged: ${d.Untagged}` : `deleted: ${d.Deleted ?? ''}`));
  return [report?.SpaceReclaimed ?? 0, section('Deleted Images:', lines)];
}

export const imagePruneCommand: CommandSpec = {
  name: 'prune',
  use: '[OPTIONS]',
  short: 'Remove unused images',
  aliases: [],
  args: { kind: 'none' },
  flags: [
    { name: 'all', short: 'a', type: 'bool', description: 'Remove all unused images, not just dangling ones' },
    { ...FILTER_FLAG, short: undefined, description: 'Provide filter values (e.g. "until=<timestamp>")' },
    { name: 'force', short: 'f', type: 'bool', description: 'Do not prompt for confirmation' },
  ],
  async run(cli, f) {
    const all = f.bool('all');
    const warning = all ? 'WARNING! This will remove all images without at least one container associated to them.' : 'WARNING! This will remove all dangling images.';
    if (!(await askOrStop(cli, f.bool('force'), warning))) return;
    const [space, out] = await pruneImages(cli, all, f.list('filter'));
    cli.out(out);
    cli.println(`Total reclaimed space: ${humanSize(space, 4)}`);
  },
};

export const systemPruneCommand: CommandSpec = {
  name: 'prune',
  use: '[OPTIONS]',
  short: 'Remove unused data',
  aliases: [],
  args: { kind: 'none' },
  flags: [
    { name: 'all', short: 'a', type: 'bool', description: 'Remove all unused images not just dangling ones' },
    { ...FILTER_FLAG, short: undefined, description: 'Provide filter values (e.g. "label=<key>=<value>")' },
    { name: 'force', short: 'f', type: 'bool', description: 'Do not prompt for confirmation' },
    { name: 'volumes', type: 'bool', description: 'Prune anonymous volumes' },
  ],
  async run(cli, f) {
    const all = f.bool('all');
    const volumes = f.bool('volumes');
    const filters = f.list('filter');
    const warnings = ['all stopped containers', 'all networks not used by at least one container'];
    if (volumes) warnings.push('all anonymous volumes not used by at least one container');
    warnings.push(all ? 'all images without at least one container associated to them' : 'all dangling images');
    warnings.push(all ? 'all build cache' : 'unused build cache');
    let message = `WARNING! This will remove:\n${warnings.map((w) => `  - ${w}\n`).join('')}`;
    if (filters.length) message += `\n  Items to be pruned will be filtered with:\n${filters.map((x) => `  - ${x}\n`).join('')}`;
    if (!(await askOrStop(cli, f.bool('force'), message))) return;
    const engine = cli.engine();
    const q = { filters: filtersJson(filters) };
    let total = 0;
    const c = await engine.post<PruneReport>('/containers/prune', q);
    total += c?.SpaceReclaimed ?? 0;
    cli.out(section('Deleted Containers:', c?.ContainersDeleted ?? []));
    const n = await engine.post<{ NetworksDeleted?: string[] | null }>('/networks/prune', q);
    cli.out(section('Deleted Networks:', n?.NetworksDeleted ?? []));
    if (volumes) {
      const v = await engine.post<{ VolumesDeleted?: string[] | null; SpaceReclaimed?: number }>('/volumes/prune', q);
      total += v?.SpaceReclaimed ?? 0;
      cli.out(section('Deleted Volumes:', v?.VolumesDeleted ?? []));
    }
    const [space, out] = await pruneImages(cli, all, filters);
    total += space;
    cli.out(out);
    const b = await engine.post<{ CachesDeleted?: string[] | null; SpaceReclaimed?: number }>('/build/prune', { all: all || undefined, filters: q.filters });
    total += b?.SpaceReclaimed ?? 0;
    cli.out(section('Deleted build cache objects:', b?.CachesDeleted ?? []));
    cli.println(`Total reclaimed space: ${humanSize(total, 4)}`);
  },
};
