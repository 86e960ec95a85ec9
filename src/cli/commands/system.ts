/** `berth system df [-v]`: disk use by images, containers, volumes and build cache, as docker prints it. */
import type { ContainerSummary, ImageSummary } from '../../client/types';
import { FORMAT_HELP, StatusError, type CommandSpec } from '../cli';
import { FormatError, renderList } from '../output';
import { CONTAINER_HEADERS, IMAGE_HEADERS, containerRow, imageRows } from '../rows';
import { humanSize } from '../../util/units';

interface VolumeUsage {
  Name: string;
  UsageData?: { Size: number; RefCount: number } | null;
}

interface BuildCacheUsage {
  ID: string;
  Type?: string;
  Size: number;
  CreatedAt?: string;
  LastUsedAt?: string;
  UsageCount?: number;
  InUse?: boolean;
  Shared?: boolean;
}

export interface DiskUsage {
  LayersSize?: number;
  Images?: ImageSummary[] | null;
  Containers?: ContainerSummary[] | null;
  Volumes?: VolumeUsage[] | null;
  BuildCache?: BuildCacheUsage[] | null;
}

const SUMMARY_HEADERS = { Type: 'TYPE', TotalCount: 'TOTAL', Active: 'ACTIVE', Size: 'SIZE', Reclaimable: 'RECLAIMABLE' };
const SUMMARY_TABLE = 'table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}';

/** "1.2MB (50%)": the percentage (integer division, as Go's) only when there is anything at all. */
function reclaimable(bytes: number, total: number): string {
  return total > 0 ? `${humanSize(bytes, 4)} (${Math.trunc((bytes * 100) / total)}%)` : humanSize(bytes, 4);
}

/** The four summary rows of docker's disk-usage formatter. */
export function summaryRows(du: DiskUsage): Record<string, string>[] {
  const images = du.Images ?? [];
  const containers = du.Containers ?? [];
  const volumes = du.Volumes ?? [];
  const cache = du.BuildCache ?? [];
  const layers = du.LayersSize ?? 0;
  let usedByActive = 0;
  for (const i of images) if ((i.Containers ?? 0) > 0 && (i.Size ?? -1) !== -1 && (i.SharedSize ?? -1) !== -1) usedByActive += (i.Size ?? 0) - (i.SharedSize ?? 0);
  const active = (c: ContainerSummary): boolean => c.State === 'running' || c.State === 'paused';
  const cTotal = containers.reduce((n, c) => n + (c.SizeRw ?? 0), 0);
  const cFree = containers.filter((c) => !active(c)).reduce((n, c) => n + (c.SizeRw ?? 0), 0);
  const vSize = (v: VolumeUsage): number => (v.UsageData && v.UsageData.Size !== -1 ? v.UsageData.Size : 0);
  const vTotal = volumes.reduce((n, v) => n + vSize(v), 0);
  const vFree = volumes.filter((v) => (v.UsageData?.RefCount ?? 0) === 0).reduce((n, v) => n + vSize(v), 0);
  const bTotal = cache.filter((b) => !b.Shared).reduce((n, b) => n + b.Size, 0);
  const bFree = cache.filter((b) => !b.Shared && !b.InUse).reduce((n, b) => n + b.Size, 0);
  return [
    { Type: 'Images', TotalCount: String(images.length), Active: String(images.filter((i) => (i.Containers ?? 0) > 0).length), Size: humanSize(layers, 4), Reclaimable: reclaimable(layers - usedByActive, layers) },
    { Type: 'Containers', TotalCount: String(containers.length), Active: String(containers.filter(active).length), Size: humanSize(cTotal, 4), Reclaimable: reclaimable(cFree, cTotal) },
    { Type: 'Local Volumes', TotalCount: String(volumes.length), Active: String(volumes.filter((v) => (v.UsageData?.RefCount ?? 0) > 0).length), Size: humanSize(vTotal, 4), Reclaimable: reclaimable(vFree, vTotal) },
    { Type: 'Build Cache', TotalCount: String(cache.length), Active: String(cache.filter((b) => b.InUse).length), Size: humanSize(bTotal, 4), Reclaimable: humanSize(bFree, 4) },
  ];
}

/** The -v report: one table per kind, as docker's diskUsage template lays them out. */
function verbose(du: DiskUsage): string {
  const now = Date.now();
  const table = (format: string, rows: unknown[], headers: Record<string, string>): string => renderList(format, rows, headers).replace(/\n$/, '');
  const images = (du.Images ?? []).flatMap((i) => imageRows(i, { trunc: true, now, digests: false, needDigest: false }));
  const containers = (du.Containers ?? []).map((c) => Object.assign(containerRow(c, { trunc: true, now }), { Size: humanSize(c.SizeRw ?? 0, 3) }));
  const volumes = (du.Volumes ?? []).map((v) => ({ Name: v.Name, Links: String(v.UsageData?.RefCount ?? 0), Size: humanSize(v.UsageData?.Size ?? 0, 4) }));
  const cache = (du.BuildCache ?? []).map((b) => ({ ID: b.ID.slice(0, 12), CacheType: b.Type ?? '', Size: humanSize(b.Size, 4), CreatedSince: b.CreatedAt ?? '', LastUsedSince: b.LastUsedAt ?? '', UsageCount: String(b.UsageCount ?? 0), Shared: String(!!b.Shared) }));
  const cacheSize = (du.BuildCache ?? []).filter((b) => !b.Shared).reduce((n, b) => n + b.Size, 0);
  return (
    `Images space usage:\n\n${table('table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}\t{{.SharedSize}}\t{{.UniqueSize}}\t{{.Containers}}', images, IMAGE_HEADERS)}\n\n` +
    `Containers space usage:\n\n${table('table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.LocalVolumes}}\t{{.Size}}\t{{.RunningFor}}\t{{.Status}}\t{{.Names}}', containers, CONTAINER_HEADERS)}\n\n` +
    `Local Volumes space usage:\n\n${table('table {{.Name}}\t{{.Links}}\t{{.Size}}', volumes, { Name: 'VOLUME NAME', Links: 'LINKS', Size: 'SIZE' })}\n\n` +
    `Build cache usage: ${humanSize(cacheSize, 4)}\n\n` +
    `${table('table {{.ID}}\t{{.CacheType}}\t{{.Size}}\t{{.CreatedSince}}\t{{.LastUsedSince}}\t{{.UsageCount}}\t{{.Shared}}', cache, { ID: 'CACHE ID', CacheType: 'CACHE TYPE', Size: 'SIZE', CreatedSince: 'CREATED', LastUsedSince: 'LAST USED', UsageCount: 'USAGE', Shared: 'SHARED' })}\n`
  );
}

export const systemDfCommand: CommandSpec = {
  name: 'df',
  use: '[OPTIONS]',
  short: 'Show berth disk usage',
  aliases: [],
  args: { kind: 'none' },
  flags: [
    { name: 'format', type: 'string', description: FORMAT_HELP },
    { name: 'verbose', short: 'v', type: 'bool', description: 'Show detailed information on space usage' },
  ],
  async run(cli, f) {
    const du = (await cli.engine().get<DiskUsage>('/system/df')) ?? {};
    const format = f.string('format');
    try {
      if (f.bool('verbose') && (format === '' || format === 'table')) {
        cli.out(verbose(du));
        return;
      }
      cli.out(renderList(format === '' || format === 'table' ? SUMMARY_TABLE : format, summaryRows(du), SUMMARY_HEADERS));
    } catch (err) {
      if (err instanceof FormatError) throw new StatusError(1, err.message);
      throw err;
    }
  },
};
