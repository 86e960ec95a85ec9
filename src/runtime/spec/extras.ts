/**
 * The parts of the OCI spec that come from HostConfig's resource and namespace options: cgroup
 * limits, extra devices, rlimits, sysctls, the IPC/PID/UTS/cgroup namespace modes and --init.
 * buildSpec() applies them last, over Docker's defaults.
 */
import type { OciSpec } from './spec';
import type { DeviceRule, OciDevice, OciResources } from './resources';

/** Where --init's binary appears in the container, as in Docker. */
export const INIT_PATH = '/sbin/docker-init';

export type NsMode = 'private' | 'host' | { path: string };

export interface SpecExtras {
  resources?: OciResources;
  devices?: OciDevice[];
  deviceRules?: DeviceRule[];
  rlimits?: { type: string; soft: number; hard: number }[];
  sysctl?: Record<string, string>;
  /** 'none': a private namespace without /dev/shm; `shm`: the /dev/shm to bind (host or donor). */
  ipc?: NsMode | 'none';
  ipcShm?: string;
  pid?: NsMode;
  uts?: 'private' | 'host';
  cgroupns?: 'private' | 'host';
  /** HostConfig's lists, when set (else Docker's defaults stay). */
  maskedPaths?: string[];
  readonlyPaths?: string[];
  /** A user namespace with these mappings (--userns-remap). */
  idMappings?: { uidMappings: object[]; gidMappings: object[] };
  /** Host path of the init binary (--init). */
  init?: string;
}

function setNamespace(ns: { type: string; path?: string }[], type: string, mode: NsMode | undefined): void {
  if (mode === undefined || mode === 'private') return;
  const i = ns.findIndex((n) => n.type === type);
  if (mode === 'host') {
    if (i >= 0) ns.splice(i, 1);
  } else if (i >= 0) ns[i] = { type, path: mode.path };
  else ns.push({ type, path: mode.path });
}

export function applyExtras(spec: OciSpec, x: SpecExtras): void {
  const linux = spec.linux as Record<string, any>;
  const ns = linux.namespaces as { type: string; path?: string }[];
  setNamespace(ns, 'ipc', x.ipc === 'none' ? 'private' : x.ipc);
  setNamespace(ns, 'pid', x.pid);
  if (x.uts === 'host') {
    setNamespace(ns, 'uts', 'host');
    delete (spec as Partial<OciSpec>).hostname; // runc cannot set a hostname without its own UTS namespace
  }
  if (x.cgroupns === 'private') ns.push({ type: 'cgroup' });
  if (x.idMappings) {
    ns.push({ type: 'user' });
    Object.assign(linux, x.idMappings);
    // sysfs can only be mounted by the owner of the network namespace, and berth makes that
    // before the user namespace: bind the host's, read-only (what Docker does for host networking).
    const sys = spec.mounts.findIndex((m) => m.type === 'sysfs');
    if (sys >= 0) spec.mounts[sys] = { destination: '/sys', type: 'bind', source: '/sys', options: ['rbind', 'nosuid', 'noexec', 'nodev', 'ro'] };
  }

  const shm = spec.mounts.findIndex((m) => m.destination === '/dev/shm' && m.source === 'shm');
  if (shm >= 0 && x.ipc === 'none') spec.mounts.splice(shm, 1);
  else if (shm >= 0 && x.ipcShm) spec.mounts[shm] = { destination: '/dev/shm', type: 'bind', source: x.ipcShm, options: ['rbind', 'rprivate'] };

  const res = (linux.resources ?? {}) as Record<string, unknown>;
  Object.assign(res, x.resources ?? {});
  if (x.deviceRules?.length) res.devices = [...((res.devices as DeviceRule[]) ?? []), ...x.deviceRules];
  linux.resources = res;
  if (x.devices?.length) linux.devices = x.devices;
  if (x.sysctl && Object.keys(x.sysctl).length) linux.sysctl = x.sysctl;
  if (x.rlimits?.length) spec.process.rlimits = x.rlimits;
  if (x.maskedPaths) linux.maskedPaths = x.maskedPaths;
  if (x.readonlyPaths) linux.readonlyPaths = x.readonlyPaths;

  if (x.init) {
    spec.process.args = [INIT_PATH, '--', ...(spec.process.args as string[])];
    spec.mounts.push({ destination: INIT_PATH, type: 'bind', source: x.init, options: ['rbind', 'ro', 'rprivate'] });
  }
}
