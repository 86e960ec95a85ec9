/**
 * A container's cgroup, read (OOM kills, current limits) and, on cgroup v2, written directly
 * for `update`. Both layouts: v1 (one hierarchy per controller, /sys/fs/cgroup/<ctrl>/<path>)
 * and v2 (one unified tree, /sys/fs/cgroup/<path>). `root` is a parameter so the v2 code runs
 * in unit tests over a fake tree.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { OciResources } from './spec/resources';

export type CgroupVersion = 1 | 2;

/** v2 when the root is itself a cgroup2 mount (unified mode), else v1 (hybrid counts as v1). */
export function cgroupVersion(root = '/sys/fs/cgroup'): CgroupVersion {
  return fs.existsSync(path.join(root, 'cgroup.controllers')) ? 2 : 1;
}

/** The limits as read back from the cgroup files (-1 = unlimited). */
export interface CgroupLimits {
  memory: number;
  memorySwap: number; // memory + swap
  memoryReservation: number;
  cpuQuota: number;
  cpuPeriod: number;
  cpuShares: number; // v2: cpu.weight converted back
  pids: number;
  cpus: string;
}

const MAX_V1 = 0x7ffffffffffff000; // v1 "unlimited" (PAGE_COUNTER_MAX * page size, rounded)

function readText(p: string): string | undefined {
  try {
    return fs.readFileSync(p, 'utf8');
  } catch {
    return undefined;
  }
}

function readNum(p: string): number {
  const t = readText(p)?.trim();
  if (t === undefined || t === '' || t === 'max') return -1;
  const n = Number(t);
  return n >= MAX_V1 ? -1 : n;
}

/** "key value" lines (memory.events, memory.oom_control, memory.stat). */
export function parseKeyed(text: string | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of (text ?? '').split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined) out[k] = Number(v);
  }
  return out;
}

/** Docker's (runc's) mapping of cpu.shares [2..262144] to cpu.weight [1..10000]. */
export function sharesToWeight(shares: number): number {
  if (shares === 0) return 0;
  return Math.round(1 + ((shares - 2) * 9999) / 262142);
}

export function weightToShares(weight: number): number {
  return Math.round(2 + ((weight - 1) * 262142) / 9999);
}

export abstract class Cgroup {
  constructor(
    readonly root: string,
    readonly cgPath: string, // e.g. /berth/<id>
  ) {}
  abstract readonly version: CgroupVersion;
  /** How many times the kernel's OOM killer killed a process of this cgroup. */
  abstract oomKills(): number;
  abstract limits(): CgroupLimits;
  /** CPU time used, in nanoseconds. */
  abstract cpuUsageNs(): number;

  static open(cgPath: string, root = '/sys/fs/cgroup'): Cgroup {
    return cgroupVersion(root) === 2 ? new CgroupV2(root, cgPath) : new CgroupV1(root, cgPath);
  }
}

export class CgroupV1 extends Cgroup {
  readonly version = 1 as const;
  private f(ctrl: string, file: string): string {
    return path.join(this.root, ctrl, this.cgPath, file);
  }
  oomKills(): number {
    // memory.oom_control has "oom_kill N" since Linux 4.13.
    return parseKeyed(readText(this.f('memory', 'memory.oom_control'))).oom_kill ?? 0;
  }
  limits(): CgroupLimits {
    return {
      memory: readNum(this.f('memory', 'memory.limit_in_bytes')),
      memorySwap: readNum(this.f('memory', 'memory.memsw.limit_in_bytes')),
      memoryReservation: readNum(this.f('memory', 'memory.soft_limit_in_bytes')),
      cpuQuota: readNum(this.f('cpu', 'cpu.cfs_quota_us')),
      cpuPeriod: readNum(this.f('cpu', 'cpu.cfs_period_us')),
      cpuShares: readNum(this.f('cpu', 'cpu.shares')),
      pids: readNum(this.f('pids', 'pids.max')),
      cpus: (readText(this.f('cpuset', 'cpuset.cpus')) ?? '').trim(),
    };
  }
  cpuUsageNs(): number {
    return readNum(this.f('cpuacct', 'cpuacct.usage'));
  }
}

export class CgroupV2 extends Cgroup {
  readonly version = 2 as const;
  private f(file: string): string {
    return path.join(this.root, this.cgPath, file);
  }
  oomKills(): number {
    return parseKeyed(readText(this.f('memory.events'))).oom_kill ?? 0;
  }
  limits(): CgroupLimits {
    const [quota, period] = (readText(this.f('cpu.max')) ?? 'max 100000').trim().split(/\s+/);
    const mem = readNum(this.f('memory.max'));
    const swap = readNum(this.f('memory.swap.max'));
    const weight = readNum(this.f('cpu.weight'));
    return {
      memory: mem,
      memorySwap: mem === -1 || swap === -1 ? -1 : mem + swap,
      memoryReservation: readNum(this.f('memory.low')),
      cpuQuota: quota === 'max' ? -1 : Number(quota),
      cpuPeriod: Number(period ?? 100000),
      cpuShares: weight === -1 ? -1 : weightToShares(weight),
      pids: readNum(this.f('pids.max')),
      cpus: (readText(this.f('cpuset.cpus')) ?? '').trim(),
    };
  }
  cpuUsageNs(): number {
    return (parseKeyed(readText(this.f('cpu.stat'))).usage_usec ?? 0) * 1000;
  }
  /** Writes the resources into the cgroup's files (what `runc update` does on v2). */
  apply(r: OciResources): void {
    for (const [file, value] of Object.entries(v2Files(r))) fs.writeFileSync(this.f(file), value);
  }
}

/**
 * OCI resources → cgroup v2 file contents (runc's fs2 conventions): memory.swap.max holds
 * swap only (OCI's swap is memory+swap), cpu.max is "quota period", shares become a weight.
 */
export function v2Files(r: OciResources): Record<string, string> {
  const out: Record<string, string> = {};
  const lim = (n: number | undefined): string | undefined => (n === undefined ? undefined : n < 0 ? 'max' : String(n));
  const m = r.memory;
  if (m) {
    if (m.limit !== undefined) out['memory.max'] = lim(m.limit)!;
    if (m.reservation !== undefined) out['memory.low'] = lim(m.reservation)!;
    if (m.swap !== undefined) {
      if (m.swap < 0) out['memory.swap.max'] = 'max';
      else if (m.limit !== undefined && m.limit > 0) out['memory.swap.max'] = String(Math.max(0, m.swap - m.limit));
    }
  }
  const c = r.cpu;
  if (c) {
    if (c.shares) out['cpu.weight'] = String(sharesToWeight(c.shares));
    if (c.quota !== undefined || c.period !== undefined) out['cpu.max'] = `${c.quota === undefined || c.quota < 0 ? 'max' : c.quota} ${c.period ?? 100000}`;
    if (c.cpus) out['cpuset.cpus'] = c.cpus;
    if (c.mems) out['cpuset.mems'] = c.mems;
  }
  if (r.pids) out['pids.max'] = r.pids.limit <= 0 ? 'max' : String(r.pids.limit);
  if (r.blockIO?.weight) out['io.weight'] = `default ${r.blockIO.weight}`;
  const io: string[] = [];
  const b = r.blockIO;
  for (const [list, key] of [
    [b?.throttleReadBpsDevice, 'rbps'],
    [b?.throttleWriteBpsDevice, 'wbps'],
    [b?.throttleReadIOPSDevice, 'riops'],
    [b?.throttleWriteIOPSDevice, 'wiops'],
  ] as const) {
    for (const t of list ?? []) io.push(`${t.major}:${t.minor} ${key}=${t.rate}`);
  }
  if (io.length) out['io.max'] = io.join('\n');
  return out;
}
