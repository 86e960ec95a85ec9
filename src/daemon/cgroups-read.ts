/**
 * Reading a container's cgroup counters (never writing: limits are set elsewhere), for
 * `stats` and `top`. cgroup v1 has one hierarchy per controller
 * (<root>/<controller>/<cgroupsPath>); cgroup v2 one unified tree (<root>/<cgroupsPath>), where
 * the same figures live in differently named files. Both are reduced to one shape here.
 */
import fs from 'node:fs';
import path from 'node:path';

export const CGROUP_ROOT = '/sys/fs/cgroup';

/** Nanoseconds per USER_HZ tick (cpuacct.stat and /proc/stat count in ticks; Linux uses 100 Hz). */
const NS_PER_TICK = 1e9 / 100;

export interface BlkioEntry {
  major: number;
  minor: number;
  op: string;
  value: number;
}

export interface CgroupCounters {
  version: 1 | 2;
  cpu: {
    total: number; // ns
    percpu?: number[]; // ns, v1 only
    kernel: number; // ns
    user: number; // ns
    throttling: { periods: number; throttled_periods: number; throttled_time: number };
  };
  memory: { usage: number; limit: number; maxUsage?: number; failcnt?: number; stats: Record<string, number> };
  pids: { current?: number; limit?: number };
  blkio: { serviceBytes: BlkioEntry[]; serviced: BlkioEntry[] };
}

export class Cgroup {
  /** @param rel the container's cgroupsPath (as in its OCI spec), e.g. "/berth/<id>" */
  constructor(
    readonly rel: string,
    readonly root: string = CGROUP_ROOT,
    readonly version: 1 | 2 = cgroupVersion(root),
  ) {}

  /** Directory of a controller (v1) or of the unified group (v2). */
  dir(controller: string): string {
    return this.version === 2 ? path.join(this.root, this.rel) : path.join(this.root, controller, this.rel);
  }

  exists(): boolean {
    return fs.existsSync(this.dir(this.version === 2 ? '' : 'pids')) || fs.existsSync(this.dir('memory'));
  }

  private read(controller: string, file: string): string | undefined {
    try {
      return fs.readFileSync(path.join(this.dir(controller), file), 'utf8');
    } catch {
      return undefined;
    }
  }

  private num(controller: string, file: string): number | undefined {
    const t = this.read(controller, file)?.trim();
    if (t === undefined || t === '') return undefined;
    if (t === 'max') return Infinity;
    const n = Number(t);
    return Number.isFinite(n) ? n : undefined;
  }

  /** The pids of every process in the group (all threads' tgids for v1's cgroup.procs too). */
  pids(): number[] {
    const text = this.read(this.version === 2 ? '' : 'pids', 'cgroup.procs') ?? this.read('memory', 'cgroup.procs') ?? '';
    return text
      .split('\n')
      .filter(Boolean)
      .map(Number)
      .filter((n) => Number.isInteger(n));
  }

  counters(): CgroupCounters {
    return this.version === 2 ? this.countersV2() : this.countersV1();
  }

  private countersV1(): CgroupCounters {
    const acct = keyValues(this.read('cpuacct', 'cpuacct.stat'));
    const cpuStat = keyValues(this.read('cpu', 'cpu.stat'));
    const percpu = (this.read('cpuacct', 'cpuacct.usage_percpu') ?? '').trim().split(/\s+/).filter(Boolean).map(Number);
    const stats = keyValues(this.read('memory', 'memory.stat'));
    // The CFQ/BFQ files can exist yet stay empty under another I/O scheduler: the throttle ones count then.
    const blk = (f: string): BlkioEntry[] => {
      for (const name of [`blkio.${f}_recursive`, `blkio.throttle.${f}_recursive`, `blkio.throttle.${f}`]) {
        const e = blkioV1(this.read('blkio', name));
        if (e.length) return e;
      }
      return [];
    };
    const serviceBytes = blk('io_service_bytes');
    const serviced = blk('io_serviced');
    return {
      version: 1,
      cpu: {
        total: this.num('cpuacct', 'cpuacct.usage') ?? 0,
        percpu,
        kernel: (acct.system ?? 0) * NS_PER_TICK,
        user: (acct.user ?? 0) * NS_PER_TICK,
        throttling: { periods: cpuStat.nr_periods ?? 0, throttled_periods: cpuStat.nr_throttled ?? 0, throttled_time: cpuStat.throttled_time ?? 0 },
      },
      memory: {
        usage: this.num('memory', 'memory.usage_in_bytes') ?? 0,
        limit: this.num('memory', 'memory.limit_in_bytes') ?? Infinity,
        maxUsage: this.num('memory', 'memory.max_usage_in_bytes') ?? 0,
        failcnt: this.num('memory', 'memory.failcnt') ?? 0,
        stats,
      },
      pids: { current: this.num('pids', 'pids.current'), limit: this.num('pids', 'pids.max') },
      blkio: { serviceBytes, serviced },
    };
  }

  private countersV2(): CgroupCounters {
    const cpuStat = keyValues(this.read('', 'cpu.stat'));
    const io = ioStatV2(this.read('', 'io.stat'));
    return {
      version: 2,
      cpu: {
        total: (cpuStat.usage_usec ?? 0) * 1000,
        kernel: (cpuStat.system_usec ?? 0) * 1000,
        user: (cpuStat.user_usec ?? 0) * 1000,
        throttling: { periods: cpuStat.nr_periods ?? 0, throttled_periods: cpuStat.nr_throttled ?? 0, throttled_time: (cpuStat.throttled_usec ?? 0) * 1000 },
      },
      memory: {
        usage: this.num('', 'memory.current') ?? 0,
        limit: this.num('', 'memory.max') ?? Infinity,
        stats: keyValues(this.read('', 'memory.stat')),
      },
      pids: { current: this.num('', 'pids.current'), limit: this.num('', 'pids.max') },
      blkio: io,
    };
  }
}

/** 2 when the unified hierarchy is mounted at the root, else 1 (legacy or hybrid). */
export function cgroupVersion(root: string = CGROUP_ROOT): 1 | 2 {
  return fs.existsSync(path.join(root, 'cgroup.controllers')) ? 2 : 1;
}

/** The cgroupsPath of the OCI spec a container was started with, if its bundle has one. */
export function bundleCgroupsPath(bundle: string): string | undefined {
  try {
    const spec = JSON.parse(fs.readFileSync(path.join(bundle, 'config.json'), 'utf8')) as { linux?: { cgroupsPath?: string } };
    return spec.linux?.cgroupsPath || undefined;
  } catch {
    return undefined;
  }
}

/** "key value" lines (memory.stat, cpu.stat, cpuacct.stat). */
export function keyValues(text: string | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of (text ?? '').split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined && Number.isFinite(Number(v))) out[k] = Number(v);
  }
  return out;
}

/** v1 blkio files: "8:0 Read 4096" lines and a final "Total N". */
export function blkioV1(text: string | undefined): BlkioEntry[] {
  const out: BlkioEntry[] = [];
  for (const line of (text ?? '').split('\n')) {
    const m = /^(\d+):(\d+)\s+(\S+)\s+(\d+)$/.exec(line.trim());
    if (m) out.push({ major: Number(m[1]), minor: Number(m[2]), op: m[3], value: Number(m[4]) });
  }
  return out;
}

/** v2 io.stat: "8:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=0 dios=0" per device. */
export function ioStatV2(text: string | undefined): { serviceBytes: BlkioEntry[]; serviced: BlkioEntry[] } {
  const serviceBytes: BlkioEntry[] = [];
  const serviced: BlkioEntry[] = [];
  for (const line of (text ?? '').split('\n')) {
    const [dev, ...kvs] = line.trim().split(/\s+/);
    const m = /^(\d+):(\d+)$/.exec(dev ?? '');
    if (!m) continue;
    const kv = Object.fromEntries(kvs.map((s) => s.split('=')).map(([k, v]) => [k, Number(v)]));
    const major = Number(m[1]);
    const minor = Number(m[2]);
    serviceBytes.push({ major, minor, op: 'read', value: kv.rbytes ?? 0 }, { major, minor, op: 'write', value: kv.wbytes ?? 0 });
    serviced.push({ major, minor, op: 'read', value: kv.rios ?? 0 }, { major, minor, op: 'write', value: kv.wios ?? 0 });
  }
  return { serviceBytes, serviced };
}

/** The host's CPU time (ns) and number of CPUs, from /proc/stat, as Docker's system_cpu_usage. */
export function systemCpu(procStat = '/proc/stat'): { usage: number; online: number } {
  const text = fs.readFileSync(procStat, 'utf8');
  let usage = 0;
  let online = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('cpu ')) {
      // user nice system idle iowait irq softirq: the fields Docker sums.
      usage = line.trim().split(/\s+/).slice(1, 8).map(Number).reduce((a, b) => a + b, 0) * NS_PER_TICK;
    } else if (/^cpu\d+ /.test(line)) online++;
  }
  return { usage, online };
}

/** MemTotal from /proc/meminfo in bytes: the ceiling Docker reports for an unlimited container. */
export function hostMemory(meminfo = '/proc/meminfo'): number {
  try {
    const m = /^MemTotal:\s+(\d+) kB/m.exec(fs.readFileSync(meminfo, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

export interface NetDevStats {
  rx_bytes: number;
  rx_packets: number;
  rx_errors: number;
  rx_dropped: number;
  tx_bytes: number;
  tx_packets: number;
  tx_errors: number;
  tx_dropped: number;
}

/** /proc/<pid>/net/dev: the interfaces of that process's network namespace, loopback left out. */
export function netDev(text: string): Record<string, NetDevStats> {
  const out: Record<string, NetDevStats> = {};
  for (const line of text.split('\n').slice(2)) {
    const i = line.indexOf(':');
    if (i < 0) continue;
    const name = line.slice(0, i).trim();
    if (name === 'lo') continue;
    const f = line.slice(i + 1).trim().split(/\s+/).map(Number);
    out[name] = {
      rx_bytes: f[0],
      rx_packets: f[1],
      rx_errors: f[2],
      rx_dropped: f[3],
      tx_bytes: f[8],
      tx_packets: f[9],
      tx_errors: f[10],
      tx_dropped: f[11],
    };
  }
  return out;
}
