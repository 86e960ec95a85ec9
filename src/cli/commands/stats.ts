/**
 * berth stats: docker's table of CPU %, memory, network and block I/O and pids per container,
 * refreshed every second (or once with --no-stream), with the docker CLI's formulas.
 */
import type { IncomingMessage } from 'node:http';
import type { ContainerSummary } from '../../client/types';
import { FORMAT_HELP, StatusError, errorText, type Cli, type CommandSpec } from '../cli';
import { FormatError, renderList } from '../output';
import { truncateID } from '../rows';
import { bytesSize, formatFloat, humanSize } from '../../util/units';

const DEFAULT_STATS_TABLE = 'table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}';
const STATS_HEADERS = {
  ID: 'CONTAINER ID',
  Container: 'CONTAINER',
  Name: 'NAME',
  CPUPerc: 'CPU %',
  MemUsage: 'MEM USAGE / LIMIT',
  MemPerc: 'MEM %',
  NetIO: 'NET I/O',
  BlockIO: 'BLOCK I/O',
  PIDs: 'PIDS',
};

/** The parts of the API's stats that the table needs. */
export interface StatsSample {
  id?: string;
  name?: string;
  cpu_stats?: { cpu_usage?: { total_usage?: number; percpu_usage?: number[] }; system_cpu_usage?: number; online_cpus?: number };
  precpu_stats?: { cpu_usage?: { total_usage?: number }; system_cpu_usage?: number };
  memory_stats?: { usage?: number; limit?: number; stats?: Record<string, number> };
  networks?: Record<string, { rx_bytes: number; tx_bytes: number }>;
  blkio_stats?: { io_service_bytes_recursive?: { op: string; value: number }[] | null };
  pids_stats?: { current?: number };
  read?: string;
}

export interface StatsRow {
  BlockIO: string;
  CPUPerc: string;
  Container: string;
  ID: string;
  MemPerc: string;
  MemUsage: string;
  Name: string;
  NetIO: string;
  PIDs: string;
}

/** docker's calculateCPUPercentUnix. */
export function cpuPercent(s: StatsSample): number {
  const cpuDelta = (s.cpu_stats?.cpu_usage?.total_usage ?? 0) - (s.precpu_stats?.cpu_usage?.total_usage ?? 0);
  const systemDelta = (s.cpu_stats?.system_cpu_usage ?? 0) - (s.precpu_stats?.system_cpu_usage ?? 0);
  const cpus = s.cpu_stats?.online_cpus || s.cpu_stats?.cpu_usage?.percpu_usage?.length || 0;
  return systemDelta > 0 && cpuDelta > 0 ? (cpuDelta / systemDelta) * cpus * 100 : 0;
}

/** docker's calculateMemUsageUnixNoCache: the page cache that could be dropped is not counted. */
export function memUsage(m: NonNullable<StatsSample['memory_stats']>): number {
  const usage = m.usage ?? 0;
  const st = m.stats ?? {};
  // cgroup v1 names it total_inactive_file, v2 inactive_file.
  const inactive = st.total_inactive_file ?? st.inactive_file;
  return inactive !== undefined && inactive < usage ? usage - inactive : usage;
}

export function statsRow(container: string, s: StatsSample | undefined, trunc: boolean): StatsRow {
  const id = s?.id ?? '';
  const row: StatsRow = {
    BlockIO: '-- / --',
    CPUPerc: '--',
    Container: container,
    ID: trunc ? truncateID(id) : id,
    MemPerc: '--',
    MemUsage: '-- / --',
    Name: (s?.name ?? '').replace(/^\//, '') || '--',
    NetIO: '-- / --',
    PIDs: '--',
  };
  if (!s) return row;
  const mem = memUsage(s.memory_stats ?? {});
  const limit = s.memory_stats?.limit ?? 0;
  let rx = 0;
  let tx = 0;
  for (const n of Object.values(s.networks ?? {})) {
    rx += n.rx_bytes;
    tx += n.tx_bytes;
  }
  let rd = 0;
  let wr = 0;
  for (const e of s.blkio_stats?.io_service_bytes_recursive ?? []) {
    if (/^r/i.test(e.op)) rd += e.value;
    else if (/^w/i.test(e.op)) wr += e.value;
  }
  row.CPUPerc = `${formatFloat(cpuPercent(s), 'f', 2)}%`;
  row.MemUsage = `${bytesSize(mem)} / ${bytesSize(limit)}`;
  row.MemPerc = `${formatFloat(limit ? (mem / limit) * 100 : 0, 'f', 2)}%`;
  row.NetIO = `${humanSize(rx)} / ${humanSize(tx)}`;
  row.BlockIO = `${humanSize(rd)} / ${humanSize(wr)}`;
  row.PIDs = String(s.pids_stats?.current ?? 0);
  return row;
}

interface Watched {
  ref: string;
  sample?: StatsSample;
  error?: string;
  res?: IncomingMessage;
}

export const statsCommand: CommandSpec = {
  name: 'stats',
  use: '[OPTIONS] [CONTAINER...]',
  short: 'Display a live stream of container(s) resource usage statistics',
  args: { kind: 'any' },
  flags: [
    { name: 'all', short: 'a', type: 'bool', description: 'Show all containers (default shows just running)' },
    { name: 'format', type: 'string', description: FORMAT_HELP },
    { name: 'no-stream', type: 'bool', description: 'Disable streaming stats and only pull the first result' },
    { name: 'no-trunc', type: 'bool', description: "Don't truncate output" },
  ],
  async run(cli, f) {
    const format = f.string('format') || 'table';
    const trunc = !f.bool('no-trunc');
    const noStream = f.bool('no-stream');
    const named = f.args.length > 0;
    const render = (list: Watched[]): string => {
      try {
        return renderList(format === 'table' ? DEFAULT_STATS_TABLE : format, list.map((w) => statsRow(w.ref, w.sample, trunc)), STATS_HEADERS);
      } catch (err) {
        if (err instanceof FormatError) throw new StatusError(1, err.message);
        throw err;
      }
    };
    const refs = async (): Promise<string[]> =>
      named ? f.args : ((await cli.engine().get<ContainerSummary[]>('/containers/json', { all: f.bool('all') || undefined })) ?? []).map((c) => c.Id);
    if (noStream) {
      const list = await Promise.all((await refs()).map((ref) => oneShot(cli, ref)));
      const errors = list.filter((w) => w.error).map((w) => w.error!);
      if (named && errors.length) throw new StatusError(1, errors.join('\n'));
      cli.out(render(list));
      return;
    }
    await streamLoop(cli, refs, render, !named);
  },
};

async function oneShot(cli: Cli, ref: string): Promise<Watched> {
  try {
    const sample = await cli.engine().get<StatsSample>(`/containers/${encodeURIComponent(ref)}/stats`, { stream: false });
    return { ref, sample };
  } catch (err) {
    return { ref, error: errorText(err) };
  }
}

/** Keeps one stats stream per container and redraws the table every second until interrupted. */
async function streamLoop(cli: Cli, refs: () => Promise<string[]>, render: (l: Watched[]) => string, follow: boolean): Promise<never> {
  const watched = new Map<string, Watched>();
  const subscribe = (ref: string): void => {
    const w: Watched = { ref };
    watched.set(ref, w);
    cli
      .engine()
      .stream('GET', `/containers/${encodeURIComponent(ref)}/stats`, { query: { stream: true } })
      .then((res) => {
        w.res = res;
        let buf = '';
        res.on('data', (d: Buffer) => {
          buf += d.toString();
          let nl;
          while ((nl = buf.indexOf('\n')) >= 0) {
            w.sample = JSON.parse(buf.slice(0, nl)) as StatsSample;
            buf = buf.slice(nl + 1);
          }
        });
        res.on('end', () => watched.delete(ref));
      })
      .catch((err) => {
        w.error = errorText(err);
        if (!follow) return;
        watched.delete(ref);
      });
  };
  for (;;) {
    const now = await refs().catch(() => [...watched.keys()]);
    for (const ref of now) if (!watched.has(ref)) subscribe(ref);
    if (follow) {
      for (const [ref, w] of watched) {
        if (!now.includes(ref)) {
          w.res?.destroy();
          watched.delete(ref);
        }
      }
    }
    await new Promise((r) => setTimeout(r, 1000));
    const list = [...watched.values()];
    if (!follow && list.length && list.every((w) => w.error)) throw new StatusError(1, list.map((w) => w.error).join('\n'));
    // As docker: home, each line cleared to its end, the rest of the screen cleared.
    const lines = render(list).split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    cli.out(`\x1b[H${lines.map((l) => `${l}\x1b[K\n`).join('')}\x1b[J`);
  }
}
