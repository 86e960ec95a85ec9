/**
 * Container configuration → OCI runtime spec (config.json, runtime-spec 1.0.2), with Docker's
 * defaults: namespaces, mounts, capabilities, seccomp, masked and read-only paths, device rules.
 * Pure: everything it needs comes in as arguments, so it is unit-tested without root.
 */
import { DEFAULT_CAPABILITIES, normalizeCapabilities } from './capabilities';
import { defaultSeccompProfile, parseSeccompProfile, type OciSeccomp } from './seccomp';
import { applyExtras, type SpecExtras } from './extras';

export const DEFAULT_PATH_ENV = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export const MASKED_PATHS = [
  '/proc/asound',
  '/proc/acpi',
  '/proc/interrupts',
  '/proc/kcore',
  '/proc/keys',
  '/proc/latency_stats',
  '/proc/timer_list',
  '/proc/timer_stats',
  '/proc/sched_debug',
  '/proc/scsi',
  '/sys/firmware',
  '/sys/devices/virtual/powercap',
];

export const READONLY_PATHS = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

export interface SpecInput {
  id: string;
  rootfs: string; // absolute path of the mounted rootfs
  args: string[];
  env: string[];
  cwd: string;
  uid: number;
  gid: number;
  additionalGids: number[];
  hostname: string;
  tty: boolean;
  /** HostConfig.ConsoleSize [height, width]: the pty's size from the start (0s: 24x80). */
  consoleSize?: [number, number];
  openStdin: boolean;
  capAdd?: string[];
  capDrop?: string[];
  privileged?: boolean;
  readonlyRootfs?: boolean;
  securityOpt?: string[];
  /** Files berth maintains and bind-mounts: /etc/hosts, /etc/hostname, /etc/resolv.conf. */
  etcFiles: { hosts: string; hostname: string; resolvConf: string };
  cgroupsPath: string;
  networkNamespace: 'new' | 'host' | { path: string };
  shmSize?: number; // bytes
  bounding?: string[]; // host bounding set (tests)
  /** The container's own mounts (volumes, binds, tmpfs); they replace defaults at the same destination. */
  mounts?: OciSpec['mounts'];
  /** linux.rootfsPropagation, for shared or slave bind mounts. */
  rootfsPropagation?: string;
  /** Resources, devices, rlimits, sysctls, namespace modes, --init (extras.ts). */
  extras?: SpecExtras;
}

export interface OciSpec {
  ociVersion: string;
  process: Record<string, unknown>;
  root: { path: string; readonly: boolean };
  hostname: string;
  mounts: { destination: string; type: string; source: string; options?: string[] }[];
  linux: Record<string, unknown>;
  [k: string]: unknown;
}

const DEFAULT_DEVICE_RULES = [
  { allow: false, access: 'rwm' },
  { allow: true, type: 'c', major: 1, minor: 5, access: 'rwm' }, // /dev/zero
  { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' }, // /dev/null
  { allow: true, type: 'c', major: 1, minor: 9, access: 'rwm' }, // /dev/urandom
  { allow: true, type: 'c', major: 1, minor: 8, access: 'rwm' }, // /dev/random
  { allow: true, type: 'c', major: 5, minor: 0, access: 'rwm' }, // /dev/tty
  { allow: true, type: 'c', major: 5, minor: 1, access: 'rwm' }, // /dev/console
  { allow: false, type: 'c', major: 10, minor: 229, access: 'rwm' }, // /dev/fuse
  { allow: true, type: 'c', major: 1, minor: 7, access: 'rwm' }, // /dev/full
  { allow: true, type: 'c', major: 5, minor: 2, access: 'rwm' }, // /dev/ptmx
  { allow: true, type: 'c', major: 136, access: 'rwm' }, // /dev/pts/*
  { allow: true, type: 'c', major: 10, minor: 200, access: 'rwm' }, // /dev/net/tun
  { allow: true, type: 'c', access: 'm' },
  { allow: true, type: 'b', access: 'm' },
];

/** `--security-opt` values: seccomp=unconfined|<json>, no-new-privileges[:true|false], systempaths=unconfined. */
export function parseSecurityOpts(opts: string[] = []): { seccomp?: string; noNewPrivileges: boolean; systemPathsUnconfined: boolean } {
  const out = { seccomp: undefined as string | undefined, noNewPrivileges: false, systemPathsUnconfined: false };
  for (const o of opts) {
    const [k, ...rest] = o.includes('=') ? o.split('=') : o.split(':');
    const v = rest.join(o.includes('=') ? '=' : ':');
    if (k === 'seccomp') out.seccomp = v;
    else if (k === 'no-new-privileges') out.noNewPrivileges = v === '' || v === 'true';
    else if (k === 'systempaths') out.systemPathsUnconfined = v === 'unconfined';
    else if (k === 'label' || k === 'apparmor') continue;
    else throw new Error(`Invalid --security-opt: "${o}"`);
  }
  return out;
}

export function buildSpec(inp: SpecInput): OciSpec {
  const sec = parseSecurityOpts(inp.securityOpt);
  const caps = inp.privileged
    ? normalizeCapabilities([], ['ALL'], [], inp.bounding)
    : normalizeCapabilities(DEFAULT_CAPABILITIES, inp.capAdd ?? [], inp.capDrop ?? [], inp.bounding);
  let seccomp: OciSeccomp | undefined;
  if (!inp.privileged && sec.seccomp !== 'unconfined') {
    seccomp = sec.seccomp ? parseSeccompProfile(sec.seccomp, caps) : defaultSeccompProfile({ capabilities: caps });
  }
  const ns: { type: string; path?: string }[] = [{ type: 'pid' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }];
  if (inp.networkNamespace === 'new') ns.push({ type: 'network' });
  else if (typeof inp.networkNamespace === 'object') ns.push({ type: 'network', path: inp.networkNamespace.path });

  const shm = inp.shmSize ?? 64 * 1024 * 1024;
  const mounts: OciSpec['mounts'] = [
    { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', inp.privileged ? 'rw' : 'ro'] },
    { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'relatime', inp.privileged ? 'rw' : 'ro'] },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', `size=${shm}`] },
    { destination: '/etc/resolv.conf', type: 'bind', source: inp.etcFiles.resolvConf, options: ['rbind', 'rprivate'] },
    { destination: '/etc/hostname', type: 'bind', source: inp.etcFiles.hostname, options: ['rbind', 'rprivate'] },
    { destination: '/etc/hosts', type: 'bind', source: inp.etcFiles.hosts, options: ['rbind', 'rprivate'] },
  ];

  if (inp.mounts?.length) {
    // As Docker: user mounts replace defaults on the same path (a mount on /dev, everything
    // under it), and go in by depth so that a parent is mounted before its children.
    const user = new Set(inp.mounts.map((m) => m.destination));
    const kept = mounts.filter((m) => !user.has(m.destination) && !(user.has('/dev') && m.destination.startsWith('/dev/')));
    const depth = (d: string): number => d.split('/').filter(Boolean).length;
    mounts.splice(0, mounts.length, ...kept, ...[...inp.mounts].sort((a, b) => depth(a.destination) - depth(b.destination)));
  }

  const unconfinedPaths = inp.privileged || sec.systemPathsUnconfined;
  const process: Record<string, unknown> = {
    terminal: inp.tty,
    user: { uid: inp.uid, gid: inp.gid, additionalGids: inp.additionalGids.length ? inp.additionalGids : undefined },
    args: inp.args,
    env: inp.env,
    cwd: inp.cwd || '/',
    capabilities: { bounding: caps, effective: caps, permitted: caps },
    noNewPrivileges: sec.noNewPrivileges,
  };
  if (inp.tty) {
    const [height, width] = inp.consoleSize ?? [0, 0];
    process.consoleSize = height > 0 && width > 0 ? { height, width } : { height: 24, width: 80 };
  }

  const linux: Record<string, unknown> = {
    namespaces: ns,
    cgroupsPath: inp.cgroupsPath,
    resources: { devices: inp.privileged ? [{ allow: true, access: 'rwm' }] : DEFAULT_DEVICE_RULES },
    maskedPaths: unconfinedPaths ? [] : MASKED_PATHS,
    readonlyPaths: unconfinedPaths ? [] : READONLY_PATHS,
  };
  if (seccomp) linux.seccomp = seccomp;
  if (inp.rootfsPropagation) linux.rootfsPropagation = inp.rootfsPropagation;

  const spec: OciSpec = {
    ociVersion: '1.0.2',
    process,
    root: { path: inp.rootfs, readonly: !!inp.readonlyRootfs },
    hostname: inp.hostname,
    mounts,
    linux,
  };
  if (inp.extras) applyExtras(spec, inp.extras);
  return spec;
}

/** Docker's env merge: image env, then container env overriding by key; PATH defaulted. */
export function mergeEnv(imageEnv: string[] = [], containerEnv: string[] = [], extra: string[] = []): string[] {
  const out: string[] = [];
  const idx = new Map<string, number>();
  const put = (e: string): void => {
    const k = e.includes('=') ? e.slice(0, e.indexOf('=')) : e;
    const i = idx.get(k);
    if (i === undefined) {
      idx.set(k, out.length);
      out.push(e);
    } else out[i] = e;
  };
  for (const e of extra) put(e);
  for (const e of imageEnv) put(e);
  for (const e of containerEnv) put(e);
  if (!idx.has('PATH')) out.unshift(DEFAULT_PATH_ENV);
  return out;
}
