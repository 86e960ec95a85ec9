/**
 * HostConfig's resource and security fields as Docker's daemon validates and records them at
 * create (and at update for the resources): Docker's limits and messages, its defaults for
 * inspect, and the warnings it returns for settings this kernel cannot honour.
 */
import fs from 'node:fs';
import os from 'node:os';
import { conflict, invalidArgument } from '../core/errors';
import { allHostDevices, checkSysctls, hostConfigDevices, ociResources, ociRlimits, parseCpuset, parseDeviceCgroupRule } from '../runtime/spec/resources';
import type { SpecExtras } from '../runtime/spec/extras';
import { MASKED_PATHS, READONLY_PATHS } from '../runtime/spec/spec';
import { idMappings, type Remap } from '../runtime/userns';

/** What the host offers; probed once, overridable in tests. */
export interface HostInfo {
  ncpu: number;
  cpus: number[]; // cpuset.cpus of the root cpuset
  mems: number[];
  blkioWeight: boolean;
  swapAccounting: boolean;
}

let probed: HostInfo | undefined;

export function hostInfo(): HostInfo {
  if (probed) return probed;
  const read = (p: string, dflt: string): string => {
    try {
      return fs.readFileSync(p, 'utf8').trim();
    } catch {
      return dflt;
    }
  };
  const ncpu = os.availableParallelism();
  const exists = (p: string): boolean => fs.existsSync(p);
  probed = {
    ncpu,
    cpus: parseCpuset(read('/sys/fs/cgroup/cpuset/cpuset.cpus', read('/sys/fs/cgroup/cpuset.cpus.effective', `0-${ncpu - 1}`))),
    mems: parseCpuset(read('/sys/fs/cgroup/cpuset/cpuset.mems', read('/sys/fs/cgroup/cpuset.mems.effective', '0'))),
    blkioWeight: exists('/sys/fs/cgroup/blkio/blkio.weight') || exists('/sys/fs/cgroup/blkio/blkio.bfq.weight') || exists('/sys/fs/cgroup/io.weight'),
    swapAccounting: exists('/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes') || exists('/sys/fs/cgroup/memory.swap.max'),
  };
  return probed;
}

export const MIN_MEMORY = 6 * 1024 * 1024;

/** The resource fields of HostConfig with Docker's zero values (what inspect shows when unset). */
export const RESOURCE_DEFAULTS: Record<string, unknown> = {
  CpuShares: 0,
  Memory: 0,
  NanoCpus: 0,
  CgroupParent: '',
  BlkioWeight: 0,
  BlkioWeightDevice: [],
  BlkioDeviceReadBps: [],
  BlkioDeviceWriteBps: [],
  BlkioDeviceReadIOps: [],
  BlkioDeviceWriteIOps: [],
  CpuPeriod: 0,
  CpuQuota: 0,
  CpuRealtimePeriod: 0,
  CpuRealtimeRuntime: 0,
  CpusetCpus: '',
  CpusetMems: '',
  Devices: [],
  DeviceCgroupRules: null,
  DeviceRequests: null,
  MemoryReservation: 0,
  MemorySwap: 0,
  MemorySwappiness: null,
  OomKillDisable: false,
  PidsLimit: null,
  Ulimits: [],
  CpuCount: 0,
  CpuPercent: 0,
  IOMaximumIOps: 0,
  IOMaximumBandwidth: 0,
};

/** The fields POST /containers/{id}/update may change (Docker's container.Resources). */
export const UPDATABLE = [
  'CpuShares',
  'Memory',
  'NanoCpus',
  'BlkioWeight',
  'CpuPeriod',
  'CpuQuota',
  'CpuRealtimePeriod',
  'CpuRealtimeRuntime',
  'CpusetCpus',
  'CpusetMems',
  'MemoryReservation',
  'MemorySwap',
  'PidsLimit',
  'OomKillDisable',
];

function int(hc: Record<string, any>, k: string): number {
  const v = hc[k];
  if (v === undefined || v === null) return 0;
  if (typeof v !== 'number' || !Number.isInteger(v)) throw invalidArgument(`invalid ${k}: must be an integer`);
  return v;
}

/**
 * Validates the resource fields of `hc` (a create body's HostConfig, or a container's HostConfig
 * with an update applied) and returns them normalised, plus Docker's warnings.
 */
export function checkResources(hc: Record<string, any>, host: HostInfo = hostInfo()): { fields: Record<string, unknown>; warnings: string[] } {
  const warnings: string[] = [];
  const f: Record<string, any> = {};
  for (const [k, dflt] of Object.entries(RESOURCE_DEFAULTS)) f[k] = hc[k] ?? (Array.isArray(dflt) ? [] : dflt);
  for (const k of ['CpuShares', 'Memory', 'NanoCpus', 'BlkioWeight', 'CpuPeriod', 'CpuQuota', 'MemoryReservation', 'MemorySwap']) f[k] = int(hc, k);

  // Memory (moby daemon_unix.go verifyPlatformContainerResources).
  if (f.Memory !== 0 && f.Memory < MIN_MEMORY) throw invalidArgument('Minimum memory limit allowed is 6MB');
  if (f.MemorySwap > 0 && f.Memory === 0) throw invalidArgument('You should always set the Memory limit when using Memoryswap limit, see usage');
  if (f.Memory > 0 && f.MemorySwap > 0 && f.MemorySwap < f.Memory) throw invalidArgument('Minimum memoryswap limit should be larger than memory limit, see usage');
  if (f.Memory > 0 && f.MemorySwap === 0) f.MemorySwap = host.swapAccounting ? f.Memory * 2 : 0;
  if (f.MemorySwap !== 0 && !host.swapAccounting) {
    warnings.push('Your kernel does not support swap limit capabilities or the cgroup is not mounted. Memory limited without swap.');
    f.MemorySwap = -1;
  }
  if (f.MemoryReservation !== 0 && f.MemoryReservation < MIN_MEMORY) throw invalidArgument('Minimum memory reservation allowed is 6MB');
  if (f.Memory > 0 && f.MemoryReservation > 0 && f.Memory < f.MemoryReservation) {
    throw invalidArgument('Minimum memory limit can not be less than memory reservation limit, see usage');
  }
  if (f.MemorySwappiness !== null && f.MemorySwappiness !== -1) {
    const s = f.MemorySwappiness as number;
    if (typeof s !== 'number' || s < 0 || s > 100) throw invalidArgument(`Invalid value: ${String(s)}, valid memory swappiness range is 0-100`);
  }
  f.OomKillDisable = !!f.OomKillDisable;
  if (f.OomKillDisable && f.Memory === 0) {
    warnings.push('OOM killer is disabled for the container, but no memory limit is set, this can result in the system running out of resources.');
  }

  // CPU.
  if (f.NanoCpus > 0 && f.CpuPeriod > 0) throw invalidArgument('Conflicting options: Nano CPUs and CPU Period cannot both be set');
  if (f.NanoCpus > 0 && f.CpuQuota > 0) throw invalidArgument('Conflicting options: Nano CPUs and CPU Quota cannot both be set');
  if (f.NanoCpus < 0 || f.NanoCpus > host.ncpu * 1e9) {
    throw invalidArgument(`Range of CPUs is from 0.01 to ${host.ncpu}.00, as there are only ${host.ncpu} CPUs available`);
  }
  if (f.CpuPeriod !== 0 && (f.CpuPeriod < 1000 || f.CpuPeriod > 1_000_000)) {
    throw invalidArgument('CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)');
  }
  if (f.CpuQuota > 0 && f.CpuQuota < 1000) throw invalidArgument('CPU cfs quota can not be less than 1ms (i.e. 1000)');
  if (f.CpuShares < 0) throw invalidArgument('invalid CPU shares: must not be negative');
  checkCpuset(f.CpusetCpus as string, host.cpus, 'cpus', 'CPUs');
  checkCpuset(f.CpusetMems as string, host.mems, 'mems', 'Memory nodes');

  // Pids: zero or negative means unlimited; Docker records that as null or the value given.
  if (f.PidsLimit !== null && (typeof f.PidsLimit !== 'number' || !Number.isInteger(f.PidsLimit))) throw invalidArgument('invalid PidsLimit: must be an integer');
  if (typeof f.PidsLimit === 'number' && f.PidsLimit <= 0) f.PidsLimit = f.PidsLimit === 0 ? null : f.PidsLimit;

  // Block I/O.
  if (f.BlkioWeight > 0 && (f.BlkioWeight < 10 || f.BlkioWeight > 1000)) throw invalidArgument('Range of blkio weight is from 10 to 1000');
  if (!host.blkioWeight) {
    if (f.BlkioWeight > 0) warnings.push('Your kernel does not support Block I/O weight or the cgroup is not mounted. Weight discarded.');
    if ((f.BlkioWeightDevice as unknown[]).length) warnings.push('Your kernel does not support Block I/O weight_device or the cgroup is not mounted. Weight-device discarded.');
    f.BlkioWeight = 0;
    f.BlkioWeightDevice = [];
  }
  for (const k of ['BlkioDeviceReadBps', 'BlkioDeviceWriteBps', 'BlkioDeviceReadIOps', 'BlkioDeviceWriteIOps']) {
    if (!Array.isArray(f[k])) throw invalidArgument(`${k} must be a list`);
    for (const t of f[k] as { Path?: unknown; Rate?: unknown }[]) {
      if (typeof t?.Path !== 'string' || typeof t.Rate !== 'number' || t.Rate < 0) throw invalidArgument(`invalid ${k} entry: ${JSON.stringify(t)}`);
    }
  }
  return { fields: f, warnings };
}

function checkCpuset(value: string, available: number[], what: string, noun: string): void {
  if (!value) return;
  let req: number[];
  try {
    req = parseCpuset(value);
  } catch {
    throw invalidArgument(`Invalid value ${value} for cpuset ${what}`);
  }
  if (req.some((c) => !available.includes(c))) {
    throw invalidArgument(`Requested ${noun} are not available - requested ${value}, available: ${formatCpuset(available)}`);
  }
}

function formatCpuset(list: number[]): string {
  const out: string[] = [];
  for (let i = 0; i < list.length; ) {
    let j = i;
    while (j + 1 < list.length && list[j + 1] === list[j] + 1) j++;
    out.push(i === j ? String(list[i]) : `${list[i]}-${list[j]}`);
    i = j + 1;
  }
  return out.join(',');
}

/**
 * Applies an update body (Resources plus RestartPolicy) to a container's HostConfig and
 * validates the result; returns the new HostConfig and the warnings.
 */
export function applyUpdate(current: Record<string, any>, body: Record<string, any>, host: HostInfo = hostInfo()): { hostConfig: Record<string, any>; warnings: string[] } {
  const next: Record<string, any> = { ...current };
  // As Docker: zero values mean "unchanged" (the docker CLI sends every field), except the
  // pids limit, where 0 or less means "unlimited".
  for (const k of UPDATABLE) {
    const v = body[k];
    if (v === undefined || v === null || v === 0 || v === '') continue;
    if (k === 'OomKillDisable' && v === false) continue;
    next[k] = v;
  }
  if (typeof body.PidsLimit === 'number' && body.PidsLimit <= 0) next.PidsLimit = -1;
  // As Docker: a new memory limit above the recorded swap limit needs a new swap limit too.
  if (body.Memory > 0 && !body.MemorySwap && current.MemorySwap > 0 && body.Memory > current.MemorySwap) {
    throw invalidArgument('Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time');
  }
  if (body.Memory > 0 && !body.MemorySwap && current.MemorySwap > 0 && current.Memory > 0 && current.MemorySwap === current.Memory * 2) {
    next.MemorySwap = 0; // keep "twice the limit"
  }
  if (body.NanoCpus > 0) {
    next.CpuPeriod = 0;
    next.CpuQuota = 0;
  } else if (body.CpuPeriod > 0 || body.CpuQuota > 0) next.NanoCpus = 0;
  if (body.RestartPolicy && typeof body.RestartPolicy === 'object') {
    const name = (body.RestartPolicy.Name as string | undefined) ?? '';
    if (!['', 'no', 'always', 'unless-stopped', 'on-failure'].includes(name)) {
      throw invalidArgument(`invalid restart policy: unknown policy '${name}'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'`);
    }
    if (name && current.AutoRemove && name !== 'no') throw invalidArgument('Restart policy cannot be updated because AutoRemove is enabled for the container');
    next.RestartPolicy = { Name: name, MaximumRetryCount: body.RestartPolicy.MaximumRetryCount ?? 0 };
  }
  const { fields, warnings } = checkResources(next, host);
  return { hostConfig: { ...next, ...fields }, warnings };
}

/**
 * The namespace, device, ulimit, sysctl and init fields of a create body's HostConfig,
 * validated, with Docker's defaults for inspect. `hostname` is the request's Config.Hostname.
 */
export function checkHostOptions(hc: Record<string, any>, hostname: string | undefined, cgroupV2: boolean): Record<string, unknown> {
  const mode = (k: string, allowed: string[], dflt: string): string => {
    const v = (hc[k] as string | undefined) || dflt;
    if (typeof v !== 'string' || !(allowed.includes(v) || (allowed.includes('container:') && v.startsWith('container:') && v.length > 10))) {
      throw invalidArgument(`invalid ${k.replace(/Mode$/, '').toUpperCase()} mode: ${String(v)}`);
    }
    return v;
  };
  const ipc = mode('IpcMode', ['private', 'shareable', 'host', 'none', 'container:'], 'private');
  const pid = mode('PidMode', ['', 'host', 'container:'], '');
  const uts = mode('UTSMode', ['', 'host'], '');
  const cgroupns = mode('CgroupnsMode', ['host', 'private'], cgroupV2 ? 'private' : 'host');
  if (uts === 'host' && hostname) throw invalidArgument('Conflicting options: hostname and the UTS mode');
  const devices = (hc.Devices ?? []) as { PathOnHost?: unknown }[];
  if (!Array.isArray(devices) || devices.some((d) => typeof d?.PathOnHost !== 'string')) throw invalidArgument('Devices must be a list of {PathOnHost, PathInContainer, CgroupPermissions}');
  const rules = (hc.DeviceCgroupRules ?? null) as string[] | null;
  for (const r of rules ?? []) parseDeviceCgroupRule(r);
  const ulimits = (hc.Ulimits ?? []) as { Name: string; Soft: number; Hard: number }[];
  ociRlimits(ulimits);
  const sysctls = hc.Sysctls as Record<string, string> | undefined;
  checkSysctls(sysctls, { hostNetwork: hc.NetworkMode === 'host', hostIpc: ipc === 'host', hostUts: uts === 'host' });
  const out: Record<string, unknown> = {
    Devices: devices,
    DeviceCgroupRules: rules,
    Ulimits: ulimits,
    IpcMode: ipc,
    PidMode: pid,
    UTSMode: uts,
    CgroupnsMode: cgroupns,
    Init: typeof hc.Init === 'boolean' ? hc.Init : null,
  };
  if (sysctls && Object.keys(sysctls).length) out.Sysctls = sysctls;
  // The docker CLI turns `--security-opt systempaths=unconfined` into empty lists; Docker
  // records the defaults otherwise (none for a privileged container).
  if (Array.isArray(hc.MaskedPaths)) out.MaskedPaths = hc.MaskedPaths;
  else if (!hc.Privileged) out.MaskedPaths = MASKED_PATHS;
  if (Array.isArray(hc.ReadonlyPaths)) out.ReadonlyPaths = hc.ReadonlyPaths;
  else if (!hc.Privileged) out.ReadonlyPaths = READONLY_PATHS;
  return out;
}

/** What building a container's spec extras needs from the daemon. */
export interface ExtrasContext {
  /** The init binary of --init (the daemon's --init-path). */
  initPath: string;
  /** The daemon's --init: a default for containers that do not say. */
  initDefault: boolean;
  /** A running container's pid and IpcMode, by reference (for container:<id> modes). */
  peer(ref: string): { id: string; pid: number; ipcMode: string; running: boolean; shm: string };
  /** Mounts the host-side /dev/shm of a shareable-IPC container; returns its path. */
  shareShm(): string;
  /** The cgroup v1/v2 root's version. */
  cgroupV2: boolean;
  /** --userns-remap's ranges, unless the container opted out (UsernsMode host). */
  remap?: Remap;
}

/** HostConfig → the spec extras of one start. */
export function specExtras(hc: Record<string, any>, ctx: ExtrasContext): SpecExtras {
  const x: SpecExtras = { resources: ociResources(hc), rlimits: ociRlimits(hc.Ulimits ?? []), sysctl: hc.Sysctls };
  const dev = hostConfigDevices(hc.Devices ?? []);
  x.devices = hc.Privileged ? allHostDevices() : dev.devices;
  x.deviceRules = [...dev.rules, ...((hc.DeviceCgroupRules as string[] | null) ?? []).map(parseDeviceCgroupRule)];
  const peer = (mode: string, what: string): { path: string; ipcMode: string; shm: string } => {
    const p = ctx.peer(mode.slice('container:'.length));
    if (!p.running) throw conflict(`cannot join ${what} of a non running container: ${p.id}`);
    return { path: `/proc/${p.pid}/ns/${what === 'IPC' ? 'ipc' : 'pid'}`, ipcMode: p.ipcMode, shm: p.shm };
  };
  const ipc = (hc.IpcMode as string) || 'private';
  if (ipc === 'host') {
    x.ipc = 'host';
    x.ipcShm = '/dev/shm';
  } else if (ipc === 'none') x.ipc = 'none';
  else if (ipc === 'shareable') x.ipcShm = ctx.shareShm();
  else if (ipc.startsWith('container:')) {
    const p = peer(ipc, 'IPC');
    if (p.ipcMode !== 'shareable') throw invalidArgument(`non-shareable IPC (hint: use IpcMode:shareable for the donor container)`);
    x.ipc = { path: p.path };
    x.ipcShm = p.shm;
  }
  const pid = (hc.PidMode as string) || '';
  if (pid === 'host') x.pid = 'host';
  else if (pid.startsWith('container:')) x.pid = { path: peer(pid, 'PID').path };
  if (hc.UTSMode === 'host') x.uts = 'host';
  x.cgroupns = hc.CgroupnsMode === 'private' ? 'private' : 'host';
  if (ctx.remap) x.idMappings = idMappings(ctx.remap);
  if (!hc.Privileged) {
    if (Array.isArray(hc.MaskedPaths)) x.maskedPaths = hc.MaskedPaths;
    if (Array.isArray(hc.ReadonlyPaths)) x.readonlyPaths = hc.ReadonlyPaths;
  }
  if (hc.Init ?? ctx.initDefault) {
    if (!fs.existsSync(ctx.initPath)) throw invalidArgument(`docker-init binary not found: ${ctx.initPath}`);
    x.init = ctx.initPath;
  }
  return x;
}
