/**
 * The resource and security flags of `run`/`create` (and the subset `update` takes), turned into
 * HostConfig fields as the docker CLI does: sizes in binary units, `--cpus` as nano CPUs,
 * `--security-opt seccomp=<file>` sent as the file's content.
 */
import fs from 'node:fs';
import type { FlagSpec, ParsedFlags } from '../flags';
import { parseBytes } from '../../util/units';

const s = (name: string, description: string, short?: string): FlagSpec => ({ name, short, type: 'string', description });
const l = (name: string, description: string): FlagSpec => ({ name, type: 'list', description });
const b = (name: string, description: string): FlagSpec => ({ name, type: 'bool', description });
const i = (name: string, description: string, short?: string): FlagSpec => ({ name, short, type: 'int', description });

/** The flags `update` shares with `run`. */
export const UPDATE_FLAGS: FlagSpec[] = [
  s('memory', 'Memory limit', 'm'),
  s('memory-swap', 'Swap limit equal to memory plus swap: -1 to enable unlimited swap'),
  s('memory-reservation', 'Memory soft limit'),
  s('cpus', 'Number of CPUs'),
  i('cpu-shares', 'CPU shares (relative weight)', 'c'),
  i('cpu-period', 'Limit CPU CFS (Completely Fair Scheduler) period'),
  i('cpu-quota', 'Limit CPU CFS (Completely Fair Scheduler) quota'),
  s('cpuset-cpus', 'CPUs in which to allow execution (0-3, 0,1)'),
  s('cpuset-mems', 'MEMs in which to allow execution (0-3, 0,1)'),
  i('pids-limit', 'Tune container pids limit (set -1 for unlimited)'),
  i('blkio-weight', 'Block IO (relative weight), between 10 and 1000, or 0 to disable (default 0)'),
];

export const RESOURCE_FLAGS: FlagSpec[] = [
  ...UPDATE_FLAGS,
  { name: 'memory-swappiness', type: 'int', default: -1, description: 'Tune container memory swappiness (0 to 100)' },
  b('oom-kill-disable', 'Disable OOM Killer'),
  l('device-read-bps', 'Limit read rate (bytes per second) from a device'),
  l('device-write-bps', 'Limit write rate (bytes per second) to a device'),
  l('device-read-iops', 'Limit read rate (IO per second) from a device'),
  l('device-write-iops', 'Limit write rate (IO per second) to a device'),
  s('cgroup-parent', 'Optional parent cgroup for the container'),
  s('cgroupns', 'Cgroup namespace to use (host|private)'),
  l('cap-add', 'Add Linux capabilities'),
  l('cap-drop', 'Drop Linux capabilities'),
  b('privileged', 'Give extended privileges to this container'),
  l('security-opt', 'Security Options'),
  b('read-only', "Mount the container's root filesystem as read only"),
  l('group-add', 'Add additional groups to join'),
  l('device', 'Add a host device to the container'),
  l('device-cgroup-rule', 'Add a rule to the cgroup allowed devices list'),
  l('sysctl', 'Sysctl options'),
  l('ulimit', 'Ulimit options'),
  s('shm-size', 'Size of /dev/shm'),
  b('init', 'Run an init inside the container that forwards signals and reaps processes'),
  s('ipc', 'IPC mode to use'),
  s('pid', 'PID namespace to use'),
  s('uts', 'UTS namespace to use'),
];

const bytes = (v: string, flag: string): number => {
  if (v === '-1') return -1;
  try {
    return parseBytes(v);
  } catch (e) {
    throw new Error(`invalid argument "${v}" for "--${flag}" flag: ${(e as Error).message}`);
  }
};

/** opts.NanoCPUs: a decimal number of CPUs → nano CPUs. */
export function nanoCpus(v: string): number {
  if (!/^\d*\.?\d+$/.test(v.trim())) throw new Error(`invalid argument "${v}" for "--cpus" flag: failed to parse ${v} as a rational number`);
  return Math.round(Number(v) * 1e9);
}

/** The HostConfig fields of the flags update takes (only those given). */
export function updateResources(f: ParsedFlags): Record<string, unknown> {
  const hc: Record<string, unknown> = {};
  for (const [flag, key] of [['memory', 'Memory'], ['memory-swap', 'MemorySwap'], ['memory-reservation', 'MemoryReservation']] as const) {
    if (f.string(flag)) hc[key] = bytes(f.string(flag), flag);
  }
  if (f.string('cpus')) hc.NanoCpus = nanoCpus(f.string('cpus'));
  for (const [flag, key] of [['cpu-shares', 'CpuShares'], ['cpu-period', 'CpuPeriod'], ['cpu-quota', 'CpuQuota'], ['pids-limit', 'PidsLimit'], ['blkio-weight', 'BlkioWeight']] as const) {
    if (f.has(flag)) hc[key] = f.int(flag);
  }
  if (f.string('cpuset-cpus')) hc.CpusetCpus = f.string('cpuset-cpus');
  if (f.string('cpuset-mems')) hc.CpusetMems = f.string('cpuset-mems');
  return hc;
}

/** `--device host[:container][:perms]` (docker's parseDevice). */
export function parseDevice(v: string): { PathOnHost: string; PathInContainer: string; CgroupPermissions: string } {
  const parts = v.split(':');
  const mode = (m: string): boolean => /^[rwm]{1,3}$/.test(m);
  const src = parts[0];
  let [dst, perms] = ['', 'rwm'];
  if (parts.length === 3) [dst, perms] = [parts[1], parts[2]];
  else if (parts.length === 2) {
    if (mode(parts[1])) perms = parts[1];
    else dst = parts[1];
  } else if (parts.length > 3) throw new Error(`invalid device specification: ${v}`);
  if (!mode(perms)) throw new Error(`invalid device mode: ${perms}`);
  return { PathOnHost: src, PathInContainer: dst || src, CgroupPermissions: perms };
}

function throttle(list: string[], iops: boolean, flag: string): { Path: string; Rate: number }[] {
  return list.map((v) => {
    const at = v.lastIndexOf(':');
    if (at <= 0) throw new Error(`invalid argument "${v}" for "--${flag}" flag: bad format: ${v}`);
    if (!v.startsWith('/dev/')) throw new Error(`invalid argument "${v}" for "--${flag}" flag: bad format for device path: ${v}`);
    const rate = v.slice(at + 1);
    const n = iops ? Number(rate) : bytes(rate, flag);
    if (!Number.isInteger(n) || n < 0) throw new Error(`invalid argument "${v}" for "--${flag}" flag: invalid rate: ${rate}`);
    return { Path: v.slice(0, at), Rate: n };
  });
}

/** `--ulimit name=soft[:hard]`. */
export function parseUlimit(v: string): { Name: string; Soft: number; Hard: number } {
  const m = /^([a-z]+)=(-?\d+)(?::(-?\d+))?$/.exec(v);
  if (!m) throw new Error(`invalid argument "${v}" for "--ulimit" flag: invalid ulimit argument: ${v}`);
  const soft = Number(m[2]);
  return { Name: m[1], Soft: soft, Hard: m[3] === undefined ? soft : Number(m[3]) };
}

/** `--security-opt`: seccomp=<file> becomes the file's JSON; systempaths=unconfined empties the path lists. */
function securityOpts(list: string[], hc: Record<string, unknown>): string[] {
  const out: string[] = [];
  for (const o of list) {
    const [k, ...rest] = o.split('=');
    const v = rest.join('=');
    if (k === 'seccomp' && v && v !== 'unconfined') {
      let text: string;
      try {
        text = fs.readFileSync(v, 'utf8');
      } catch (e) {
        throw new Error(`opening seccomp profile (${v}) failed: ${(e as Error).message}`);
      }
      out.push(`seccomp=${text}`);
    } else if (k === 'systempaths' && v === 'unconfined') {
      hc.MaskedPaths = [];
      hc.ReadonlyPaths = [];
    } else out.push(o);
  }
  return out;
}

/** The HostConfig fields of the resource and security flags of run/create (only those given). */
export function resourceHostConfig(f: ParsedFlags): Record<string, unknown> {
  const hc = updateResources(f);
  if (f.has('memory-swappiness') && f.int('memory-swappiness') !== -1) hc.MemorySwappiness = f.int('memory-swappiness');
  if (f.bool('oom-kill-disable')) hc.OomKillDisable = true;
  for (const [flag, key, iops] of [
    ['device-read-bps', 'BlkioDeviceReadBps', false],
    ['device-write-bps', 'BlkioDeviceWriteBps', false],
    ['device-read-iops', 'BlkioDeviceReadIOps', true],
    ['device-write-iops', 'BlkioDeviceWriteIOps', true],
  ] as const) {
    if (f.list(flag).length) hc[key] = throttle(f.list(flag), iops, flag);
  }
  const str: [string, string][] = [['cgroup-parent', 'CgroupParent'], ['cgroupns', 'CgroupnsMode'], ['ipc', 'IpcMode'], ['pid', 'PidMode'], ['uts', 'UTSMode']];
  for (const [flag, key] of str) if (f.string(flag)) hc[key] = f.string(flag);
  const lists: [string, string][] = [['cap-add', 'CapAdd'], ['cap-drop', 'CapDrop'], ['group-add', 'GroupAdd'], ['device-cgroup-rule', 'DeviceCgroupRules']];
  for (const [flag, key] of lists) if (f.list(flag).length) hc[key] = f.list(flag);
  if (f.bool('privileged')) hc.Privileged = true;
  if (f.bool('read-only')) hc.ReadonlyRootfs = true;
  if (f.has('init')) hc.Init = f.bool('init');
  if (f.list('security-opt').length) hc.SecurityOpt = securityOpts(f.list('security-opt'), hc);
  if (f.list('device').length) hc.Devices = f.list('device').map(parseDevice);
  if (f.list('ulimit').length) hc.Ulimits = f.list('ulimit').map(parseUlimit);
  if (f.list('sysctl').length) {
    const m: Record<string, string> = {};
    for (const kv of f.list('sysctl')) {
      const eq = kv.indexOf('=');
      if (eq <= 0) throw new Error(`invalid argument "${kv}" for "--sysctl" flag: sysctl '${kv}' is not allowed`);
      m[kv.slice(0, eq)] = kv.slice(eq + 1);
    }
    hc.Sysctls = m;
  }
  if (f.string('shm-size')) hc.ShmSize = bytes(f.string('shm-size'), 'shm-size');
  return hc;
}
