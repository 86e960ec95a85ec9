/**
 * A container's resource usage in the shape of Docker's stats API (types.StatsJSON): cgroup
 * counters (cgroups-read.ts), the host's CPU time for CPU% and the interfaces of the container's
 * network namespace. A sample carries the previous one as pre* so clients can compute rates.
 */
import fs from 'node:fs';
import { Cgroup, hostMemory, netDev, systemCpu, type BlkioEntry, type CgroupCounters } from './cgroups-read';

const ZERO_TIME = '0001-01-01T00:00:00Z';

export interface CpuStats {
  cpu_usage: { total_usage: number; percpu_usage?: number[]; usage_in_kernelmode: number; usage_in_usermode: number };
  system_cpu_usage?: number;
  online_cpus?: number;
  throttling_data: { periods: number; throttled_periods: number; throttled_time: number };
}

export interface StatsJSON {
  read: string;
  preread: string;
  pids_stats: { current?: number; limit?: number };
  blkio_stats: Record<string, BlkioEntry[] | null>;
  num_procs: number;
  storage_stats: Record<string, never>;
  cpu_stats: CpuStats;
  precpu_stats: CpuStats;
  memory_stats: { usage?: number; max_usage?: number; stats?: Record<string, number>; failcnt?: number; limit?: number };
  name: string;
  id: string;
  networks?: Record<string, ReturnType<typeof netDev>[string]>;
}

export interface StatsTarget {
  id: string;
  name: string; // with the leading '/'
  running: boolean;
  pid: number;
  cgroupsPath?: string;
  hostNetwork: boolean;
}

const emptyCpu = (): CpuStats => ({
  cpu_usage: { total_usage: 0, usage_in_kernelmode: 0, usage_in_usermode: 0 },
  throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 },
});

const BLKIO_KEYS = [
  'io_service_bytes_recursive',
  'io_serviced_recursive',
  'io_queue_recursive',
  'io_service_time_recursive',
  'io_wait_time_recursive',
  'io_merged_recursive',
  'io_time_recursive',
  'sectors_recursive',
];

/** What Docker reports for a container that does not run: zeros, no timestamps. */
export function emptyStats(t: StatsTarget): StatsJSON {
  return {
    read: ZERO_TIME,
    preread: ZERO_TIME,
    pids_stats: {},
    blkio_stats: Object.fromEntries(BLKIO_KEYS.map((k) => [k, null])),
    num_procs: 0,
    storage_stats: {},
    cpu_stats: emptyCpu(),
    precpu_stats: emptyCpu(),
    memory_stats: {},
    name: t.name,
    id: t.id,
  };
}

export interface StatsOptions {
  cgroupRoot?: string;
  procStat?: string;
  meminfo?: string;
  procRoot?: string;
}

/** One sample of a running container; `prev` (the sample before) fills preread/precpu_stats. */
export function sampleStats(t: StatsTarget, prev?: StatsJSON, o: StatsOptions = {}): StatsJSON {
  if (!t.running || !t.cgroupsPath) return emptyStats(t);
  const cg = new Cgroup(t.cgroupsPath, o.cgroupRoot);
  if (!cg.exists()) return emptyStats(t);
  const k = cg.counters();
  const sys = systemCpu(o.procStat);
  const out = emptyStats(t);
  out.read = new Date().toISOString().replace('Z', '000000Z');
  out.cpu_stats = cpuStats(k, sys);
  if (prev && prev.read !== ZERO_TIME) {
    out.preread = prev.read;
    out.precpu_stats = prev.cpu_stats;
  }
  out.memory_stats = memoryStats(k, hostMemory(o.meminfo));
  out.pids_stats = { current: k.pids.current ?? cg.pids().length };
  if (k.pids.limit !== undefined && Number.isFinite(k.pids.limit)) out.pids_stats.limit = k.pids.limit;
  out.blkio_stats.io_service_bytes_recursive = k.blkio.serviceBytes;
  out.blkio_stats.io_serviced_recursive = k.blkio.serviced;
  if (!t.hostNetwork && t.pid > 0) {
    try {
      const nets = netDev(fs.readFileSync(`${o.procRoot ?? '/proc'}/${t.pid}/net/dev`, 'utf8'));
      if (Object.keys(nets).length) out.networks = nets;
    } catch {
      /* the process just exited */
    }
  }
  return out;
}

function cpuStats(k: CgroupCounters, sys: { usage: number; online: number }): CpuStats {
  const cpu: CpuStats = {
    cpu_usage: { total_usage: k.cpu.total, usage_in_kernelmode: k.cpu.kernel, usage_in_usermode: k.cpu.user },
    system_cpu_usage: sys.usage,
    online_cpus: sys.online || k.cpu.percpu?.length || 1,
    throttling_data: k.cpu.throttling,
  };
  // cgroup v2 has no per-CPU counters; Docker leaves the field out then.
  if (k.cpu.percpu?.length) cpu.cpu_usage.percpu_usage = k.cpu.percpu;
  return cpu;
}

function memoryStats(k: CgroupCounters, hostMem: number): StatsJSON['memory_stats'] {
  // An unlimited group reports a huge number (v1) or "max" (v2): Docker shows the host's memory.
  const limit = hostMem > 0 ? Math.min(k.memory.limit, hostMem) : k.memory.limit;
  const m: StatsJSON['memory_stats'] = { usage: k.memory.usage, stats: k.memory.stats, limit: Number.isFinite(limit) ? limit : 0 };
  if (k.version === 1) {
    m.max_usage = k.memory.maxUsage;
    m.failcnt = k.memory.failcnt;
  }
  return m;
}
