/**
 * HostConfig → the OCI spec's linux.resources (memory, cpu, pids, blockIO, device rules),
 * linux.devices, process.rlimits and linux.sysctl, as Docker's daemon translates them. runc
 * writes the cgroup files from these, at create and at `runc update`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { invalidArgument } from '../../core/errors';

export interface OciResources {
  memory?: { limit?: number; reservation?: number; swap?: number; disableOOMKiller?: boolean; swappiness?: number };
  cpu?: { shares?: number; quota?: number; period?: number; cpus?: string; mems?: string; realtimePeriod?: number; realtimeRuntime?: number };
  pids?: { limit: number };
  blockIO?: {
    weight?: number;
    throttleReadBpsDevice?: ThrottleDevice[];
    throttleWriteBpsDevice?: ThrottleDevice[];
    throttleReadIOPSDevice?: ThrottleDevice[];
    throttleWriteIOPSDevice?: ThrottleDevice[];
  };
  devices?: DeviceRule[];
}

export interface ThrottleDevice {
  major: number;
  minor: number;
  rate: number;
}

export interface DeviceRule {
  allow: boolean;
  type?: string;
  major?: number;
  minor?: number;
  access?: string;
}

export interface OciDevice {
  path: string;
  type: string;
  major: number;
  minor: number;
  fileMode: number;
  uid: number;
  gid: number;
}

/** "0-2,4" → [0,1,2,4]; throws on anything else. */
export function parseCpuset(s: string): number[] {
  const out = new Set<number>();
  for (const part of s.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) throw new Error(`invalid cpuset ${s}`);
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    if (b < a) throw new Error(`invalid cpuset ${s}`);
    for (let i = a; i <= b; i++) out.add(i);
  }
  return [...out].sort((x, y) => x - y);
}

/** A block or character device's numbers from its rdev. */
export function deviceNumbers(rdev: number): { major: number; minor: number } {
  // glibc's gnu_dev_major/minor on a 64-bit dev_t.
  const major = ((rdev >>> 8) & 0xfff) | (Math.floor(rdev / 2 ** 32) & ~0xfff);
  const minor = (rdev & 0xff) | ((rdev >>> 12) & ~0xff & 0xfffff);
  return { major, minor };
}

type StatFn = (p: string) => fs.Stats;

function throttle(list: { Path: string; Rate: number }[] | undefined, stat: StatFn): ThrottleDevice[] | undefined {
  if (!list?.length) return undefined;
  return list.map((t) => {
    let st: fs.Stats;
    try {
      st = stat(t.Path);
    } catch {
      throw invalidArgument(`error getting device ${t.Path}: no such file or directory`);
    }
    if (!st.isBlockDevice()) throw invalidArgument(`${t.Path} is not a block device`);
    return { ...deviceNumbers(st.rdev), rate: t.Rate };
  });
}

/**
 * The cgroup limits of a HostConfig (validated by daemon/hostconfig.ts). Device rules are not
 * included: see deviceRules().
 */
export function ociResources(hc: Record<string, any>, stat: StatFn = fs.statSync): OciResources {
  const r: OciResources = {};
  const mem: NonNullable<OciResources['memory']> = {};
  if (hc.Memory > 0) mem.limit = hc.Memory;
  if (hc.MemoryReservation > 0) mem.reservation = hc.MemoryReservation;
  if (hc.MemorySwap > 0 || (hc.MemorySwap === -1 && hc.Memory > 0)) mem.swap = hc.MemorySwap;
  if (hc.OomKillDisable) mem.disableOOMKiller = true;
  if (typeof hc.MemorySwappiness === 'number' && hc.MemorySwappiness >= 0) mem.swappiness = hc.MemorySwappiness;
  if (Object.keys(mem).length) r.memory = mem;

  const cpu: NonNullable<OciResources['cpu']> = {};
  if (hc.CpuShares > 0) cpu.shares = hc.CpuShares;
  if (hc.NanoCpus > 0) {
    // Docker: a 100 ms period and the matching quota.
    cpu.period = 100_000;
    cpu.quota = Math.round((hc.NanoCpus * 100_000) / 1e9);
  } else {
    if (hc.CpuPeriod > 0) cpu.period = hc.CpuPeriod;
    if (hc.CpuQuota !== 0 && hc.CpuQuota !== undefined) cpu.quota = hc.CpuQuota;
  }
  if (hc.CpusetCpus) cpu.cpus = hc.CpusetCpus;
  if (hc.CpusetMems) cpu.mems = hc.CpusetMems;
  if (hc.CpuRealtimePeriod > 0) cpu.realtimePeriod = hc.CpuRealtimePeriod;
  if (hc.CpuRealtimeRuntime > 0) cpu.realtimeRuntime = hc.CpuRealtimeRuntime;
  if (Object.keys(cpu).length) r.cpu = cpu;

  if (typeof hc.PidsLimit === 'number' && hc.PidsLimit !== 0) r.pids = { limit: hc.PidsLimit };

  const bio: NonNullable<OciResources['blockIO']> = {};
  if (hc.BlkioWeight > 0) bio.weight = hc.BlkioWeight;
  const set = (k: keyof typeof bio, v: ThrottleDevice[] | undefined): void => {
    if (v) (bio as Record<string, unknown>)[k] = v;
  };
  set('throttleReadBpsDevice', throttle(hc.BlkioDeviceReadBps, stat));
  set('throttleWriteBpsDevice', throttle(hc.BlkioDeviceWriteBps, stat));
  set('throttleReadIOPSDevice', throttle(hc.BlkioDeviceReadIOps, stat));
  set('throttleWriteIOPSDevice', throttle(hc.BlkioDeviceWriteIOps, stat));
  if (Object.keys(bio).length) r.blockIO = bio;
  return r;
}

/** `--device-cgroup-rule` ("c 1:3 rwm", "a *:* m", "b 8:* r") as an OCI device rule. */
export function parseDeviceCgroupRule(rule: string): DeviceRule {
  const m = /^([abc]) (\d+|\*):(\d+|\*) ([rwm]{1,3})$/.exec(rule.trim());
  if (!m) throw invalidArgument(`invalid device cgroup format '${rule}'`);
  const out: DeviceRule = { allow: true, type: m[1], access: m[4] };
  if (m[2] !== '*') out.major = Number(m[2]);
  if (m[3] !== '*') out.minor = Number(m[3]);
  return out;
}

/** One host device node as an OCI device at `dest`. */
function ociDevice(host: string, dest: string, st: fs.Stats): OciDevice {
  return { path: dest, type: st.isBlockDevice() ? 'b' : 'c', ...deviceNumbers(st.rdev), fileMode: st.mode & 0o7777, uid: st.uid, gid: st.gid };
}

/**
 * `--device host[:container][:perms]` entries (HostConfig.Devices): the device nodes to create
 * and the cgroup rules that allow them. A directory adds every device below it, as Docker does.
 */
export function hostConfigDevices(
  list: { PathOnHost: string; PathInContainer?: string; CgroupPermissions?: string }[] = [],
): { devices: OciDevice[]; rules: DeviceRule[] } {
  const devices: OciDevice[] = [];
  const rules: DeviceRule[] = [];
  for (const d of list) {
    const perms = d.CgroupPermissions || 'rwm';
    if (!/^[rwm]{1,3}$/.test(perms)) throw invalidArgument(`invalid device mode: ${perms}`);
    let st: fs.Stats;
    try {
      st = fs.statSync(d.PathOnHost);
    } catch {
      throw invalidArgument(`error gathering device information while adding custom device "${d.PathOnHost}": no such file or directory`);
    }
    const found: [string, fs.Stats][] = st.isDirectory() ? walkDevices(d.PathOnHost) : [[d.PathOnHost, st]];
    if (!st.isDirectory() && !st.isBlockDevice() && !st.isCharacterDevice()) throw invalidArgument(`error gathering device information while adding custom device "${d.PathOnHost}": not a device node`);
    const dest = d.PathInContainer || d.PathOnHost;
    for (const [p, s] of found) {
      const dev = ociDevice(p, st.isDirectory() ? path.join(dest, path.relative(d.PathOnHost, p)) : dest, s);
      devices.push(dev);
      rules.push({ allow: true, type: dev.type, major: dev.major, minor: dev.minor, access: perms });
    }
  }
  return { devices, rules };
}

/** Device nodes under a directory (runc's HostDevices skips these directories). */
function walkDevices(dir: string, out: [string, fs.Stats][] = []): [string, fs.Stats][] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return out;
  }
  for (const n of names) {
    const p = path.join(dir, n);
    if (dir === '/dev' && ['pts', 'shm', 'fd', 'mqueue', '.lxc', '.lxd-mounts', '.udev', 'console'].includes(n)) continue;
    let st: fs.Stats;
    try {
      st = fs.lstatSync(p);
    } catch {
      continue;
    }
    if (st.isDirectory()) walkDevices(p, out);
    else if (st.isBlockDevice() || st.isCharacterDevice()) out.push([p, st]);
  }
  return out;
}

/** Every device of the host, for --privileged. */
export function allHostDevices(): OciDevice[] {
  return walkDevices('/dev').map(([p, st]) => ociDevice(p, p, st));
}

/** RLIMIT names Docker accepts for --ulimit. */
const RLIMITS = ['core', 'cpu', 'data', 'fsize', 'locks', 'memlock', 'msgqueue', 'nice', 'nofile', 'nproc', 'rss', 'rtprio', 'rttime', 'sigpending', 'stack', 'as'];

/** HostConfig.Ulimits → process.rlimits. */
export function ociRlimits(list: { Name: string; Soft: number; Hard: number }[] = []): { type: string; soft: number; hard: number }[] {
  return list.map((u) => {
    if (!RLIMITS.includes(u.Name)) throw invalidArgument(`invalid ulimit type: ${u.Name}`);
    if (u.Soft > u.Hard) throw invalidArgument(`ulimit soft limit must be less than or equal to hard limit: ${u.Soft} > ${u.Hard}`);
    return { type: `RLIMIT_${u.Name.toUpperCase()}`, soft: u.Soft, hard: u.Hard };
  });
}

/**
 * Checks `--sysctl` keys: only those the container's own namespaces isolate (IPC: kernel.msg*,
 * kernel.sem, kernel.shm*, fs.mqueue.*; network: net.* unless it shares the host's network).
 */
export function checkSysctls(sysctls: Record<string, string> | undefined, opts: { hostNetwork: boolean; hostIpc: boolean; hostUts: boolean }): void {
  for (const k of Object.keys(sysctls ?? {})) {
    if (/^(kernel\.msg|kernel\.shm|fs\.mqueue\.)/.test(k) || k === 'kernel.sem') {
      if (opts.hostIpc) throw invalidArgument(`sysctl "${k}" not allowed with host IPC namespace`);
      continue;
    }
    if (k.startsWith('net.')) {
      if (opts.hostNetwork) throw invalidArgument(`sysctl "${k}" not allowed in host network namespace`);
      continue;
    }
    if (k === 'kernel.domainname' || k === 'kernel.hostname') {
      if (opts.hostUts) throw invalidArgument(`sysctl "${k}" not allowed with host UTS namespace`);
      continue;
    }
    throw invalidArgument(`sysctl '${k}' is not allowed: it is not in a separate kernel namespace`);
  }
}
