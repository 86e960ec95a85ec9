/**
 * `berth volume create|ls|inspect|rm|prune`, with docker's flags, output and exit codes.
 */
import { readAll } from '../../client/engine';
import { FORMAT_HELP, INSPECT_FORMAT_HELP, StatusError, errorText, type CommandSpec } from '../cli';
import { FormatError, renderList } from '../output';
import { LabeledRow, labelHeader } from '../rows';
import { humanSize } from '../../util/units';
import { FILTER_FLAG, filtersJson } from './filters';
import { convertKVStringsToMap } from './container-opts';
import { inspectAll } from './inspect';

interface VolumeJson {
  Name: string;
  Driver: string;
  Mountpoint: string;
  Scope?: string;
  Labels?: Record<string, string> | null;
  UsageData?: { Size: number; RefCount: number } | null;
}

const enc = encodeURIComponent;

/** fvbommel/sortorder.NaturalLess, the order docker's `volume ls` prints names in. */
export function naturalLess(a: string, b: string): boolean {
  const digit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const d1 = digit(a[i]);
    const d2 = digit(b[j]);
    if (d1 !== d2) return d1;
    if (!d1) {
      if (a[i] !== b[j]) return a[i] < b[j];
      i++;
      j++;
      continue;
    }
    while (i < a.length && a[i] === '0') i++;
    while (j < b.length && b[j] === '0') j++;
    const nz1 = i;
    const nz2 = j;
    while (i < a.length && digit(a[i])) i++;
    while (j < b.length && digit(b[j])) j++;
    if (i - nz1 !== j - nz2) return i - nz1 < j - nz2;
    const n1 = a.slice(nz1, i);
    const n2 = b.slice(nz2, j);
    if (n1 !== n2) return n1 < n2;
    if (nz1 !== nz2) return nz1 < nz2;
  }
  return a.length < b.length;
}

/** A `volume ls` row (docker's formatter.volumeContext). */
export class VolumeRow extends LabeledRow {
  Availability = 'N/A';
  Driver = '';
  Group = 'N/A';
  Labels = '';
  Links = 'N/A';
  Mountpoint = '';
  Name = '';
  Scope = '';
  Size = 'N/A';
  Status = 'N/A';
  constructor(v: VolumeJson) {
    const labels = v.Labels ?? {};
    super(labels);
    this.Driver = v.Driver;
    this.Labels = Object.entries(labels)
      .map(([k, x]) => `${k}=${x}`)
      .join(',');
    this.Mountpoint = v.Mountpoint;
    this.Name = v.Name;
    this.Scope = v.Scope ?? '';
    if (v.UsageData) {
      if (v.UsageData.RefCount >= 0) this.Links = String(v.UsageData.RefCount);
      if (v.UsageData.Size >= 0) this.Size = humanSize(v.UsageData.Size);
    }
  }
}
Object.defineProperty(VolumeRow, 'name', { value: 'formatter.volumeContext' });

const VOLUME_HEADERS: Record<string, unknown> = {
  Name: 'VOLUME NAME',
  Driver: 'DRIVER',
  Scope: 'SCOPE',
  Mountpoint: 'MOUNTPOINT',
  Labels: 'LABELS',
  Links: 'LINKS',
  Size: 'SIZE',
  Group: 'GROUP',
  Availability: 'AVAILABILITY',
  Status: 'STATUS',
  Label: labelHeader,
};

export const DEFAULT_VOLUME_TABLE = 'table {{.Driver}}\t{{.Name}}';

/** docker's NewVolumeFormat. */
export function volumeFormat(format: string, quiet: boolean): string {
  if (format === '' || format === 'table') return quiet ? '{{.Name}}' : DEFAULT_VOLUME_TABLE;
  if (format === 'raw') return quiet ? 'name: {{.Name}}' : 'name: {{.Name}}\ndriver: {{.Driver}}\n';
  return format;
}

export const volumeCreateCommand: CommandSpec = {
  name: 'create',
  use: '[OPTIONS] [VOLUME]',
  short: 'Create a volume',
  aliases: [],
  args: { kind: 'max', n: 1 },
  flags: [
    { name: 'driver', short: 'd', type: 'string', default: 'local', description: 'Specify volume driver name' },
    { name: 'label', type: 'list', description: 'Set metadata for a volume' },
    { name: 'name', type: 'string', description: 'Specify volume name', hidden: true },
    { name: 'opt', short: 'o', type: 'list', valueName: 'map', description: 'Set driver specific options (default map[])' },
  ],
  async run(cli, f) {
    let name = f.string('name');
    if (f.args.length > 0) {
      if (name !== '') throw new StatusError(1, 'conflicting options: cannot specify a volume-name through both --name and as a positional arg');
      name = f.args[0];
    }
    const opts: Record<string, string> = {};
    for (const o of f.list('opt')) {
      const eq = o.indexOf('=');
      if (eq < 0) opts[o] = '';
      else opts[o.slice(0, eq)] = o.slice(eq + 1);
    }
    const v = await cli.engine().post<VolumeJson>('/volumes/create', undefined, {
      Driver: f.string('driver'),
      DriverOpts: opts,
      Labels: convertKVStringsToMap(f.list('label')),
      Name: name,
    });
    cli.println(v.Name);
  },
};

export const volumeLsCommand: CommandSpec = {
  name: 'ls',
  use: '[OPTIONS]',
  short: 'List volumes',
  aliases: ['volume ls', 'volume list'],
  args: { kind: 'none' },
  flags: [
    { ...FILTER_FLAG, description: 'Provide filter values (e.g. "dangling=true")' },
    { name: 'format', type: 'string', description: FORMAT_HELP },
    { name: 'quiet', short: 'q', type: 'bool', description: 'Only display volume names' },
  ],
  async run(cli, f) {
    const res = await cli.engine().get<{ Volumes?: VolumeJson[] | null }>('/volumes', { filters: filtersJson(f.list('filter')) });
    const list = [...(res?.Volumes ?? [])].sort((a, b) => (naturalLess(a.Name, b.Name) ? -1 : naturalLess(b.Name, a.Name) ? 1 : 0));
    try {
      cli.out(renderList(volumeFormat(f.string('format'), f.bool('quiet')), list.map((v) => new VolumeRow(v)), VOLUME_HEADERS));
    } catch (err) {
      if (err instanceof FormatError) throw new StatusError(1, err.message);
      throw err;
    }
  },
};

export const volumeInspectCommand: CommandSpec = {
  name: 'inspect',
  use: '[OPTIONS] VOLUME [VOLUME...]',
  short: 'Display detailed information on one or more volumes',
  aliases: [],
  args: { kind: 'min', n: 1 },
  flags: [{ name: 'format', short: 'f', type: 'string', description: INSPECT_FORMAT_HELP }],
  async run(cli, f) {
    await inspectAll(cli, f.args, f.string('format'), async (ref) => {
      const res = await cli.engine().stream('GET', `/volumes/${enc(ref)}`);
      return (await readAll(res)).toString('utf8');
    });
  },
};

export const volumeRmCommand: CommandSpec = {
  name: 'rm',
  use: '[OPTIONS] VOLUME [VOLUME...]',
  short: 'Remove one or more volumes',
  long: 'Remove one or more volumes. You cannot remove a volume that is in use by a container.',
  aliases: ['volume rm', 'volume remove'],
  args: { kind: 'min', n: 1 },
  flags: [{ name: 'force', short: 'f', type: 'bool', description: 'Force the removal of one or more volumes' }],
  async run(cli, f) {
    const engine = cli.engine();
    const errors: string[] = [];
    for (const name of f.args) {
      try {
        await engine.delete(`/volumes/${enc(name)}`, { force: f.bool('force') || undefined });
        cli.println(name);
      } catch (err) {
        errors.push(errorText(err));
      }
    }
    if (errors.length > 0) throw new StatusError(1, errors.join('\n'));
  },
};

const UNUSED_WARNING = 'WARNING! This will remove anonymous local volumes not used by at least one container.\nAre you sure you want to continue?';
const ALL_WARNING = 'WARNING! This will remove all local volumes not used by at least one container.\nAre you sure you want to continue?';

export const volumePruneCommand: CommandSpec = {
  name: 'prune',
  use: '[OPTIONS]',
  short: 'Remove unused local volumes',
  aliases: [],
  args: { kind: 'none' },
  flags: [
    { name: 'all', short: 'a', type: 'bool', description: 'Remove all unused volumes, not just anonymous ones' },
    { ...FILTER_FLAG, short: undefined, description: 'Provide filter values (e.g. "label=<label>")' },
    { name: 'force', short: 'f', type: 'bool', description: 'Do not prompt for confirmation' },
  ],
  async run(cli, f) {
    const filters = f.list('filter');
    const engine = cli.engine();
    let warning = UNUSED_WARNING;
    const extra: [string, string][] = [];
    if (f.bool('all')) {
      if (filters.some((x) => x.split('=')[0].trim().toLowerCase() === 'all')) {
        throw new StatusError(1, 'conflicting options: cannot specify both --all and --filter all=1');
      }
      extra.push(['all', 'true']);
      warning = ALL_WARNING;
    }
    // Before API 1.42 the daemon prunes named volumes too.
    if (apiBefore(engine.apiVersion, '1.42')) warning = ALL_WARNING;
    if (!f.bool('force')) {
      cli.out(`${warning} [y/N] `);
      const answer = ((await cli.lines().readLine()) ?? '').trim();
      if (answer !== 'y' && answer !== 'Y') return;
    }
    const report = await engine.post<{ VolumesDeleted?: string[] | null; SpaceReclaimed?: number }>('/volumes/prune', { filters: filtersJson(filters, extra) });
    const deleted = report?.VolumesDeleted ?? [];
    if (deleted.length > 0) cli.out(`Deleted Volumes:\n${deleted.map((n) => `${n}\n`).join('')}\n`);
    cli.println(`Total reclaimed space: ${humanSize(report?.SpaceReclaimed ?? 0, 4)}`);
  },
};

function apiBefore(a: string, b: string): boolean {
  const [a1, a2] = a.split('.').map(Number);
  const [b1, b2] = b.split('.').map(Number);
  return a1 < b1 || (a1 === b1 && a2 < b2);
}
