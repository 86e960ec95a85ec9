/**
 * Type checks for JSON request bodies, as dockerd's Go decoding does them: a field of a known
 * name (matched case-insensitively, as encoding/json does) must have its Go type's JSON shape;
 * null is every type's zero value; unknown fields are ignored. A mismatch is a 400 with Go's
 * wording ("json: cannot unmarshal string into Go struct field HostConfig.Memory of type
 * int64"), before any handler code can trip over a number where it expects a list.
 *
 * The schemas follow the Engine API's definitions (ContainerConfig, HostConfig with Resources,
 * NetworkingConfig, NetworkCreateRequest, AuthConfig); fields berth ignores are listed too, so
 * that no shape of input reaches code that assumes another.
 */
import { invalidArgument } from '../core/errors';

export type Schema =
  | 'string'
  | 'bool'
  | 'int64'
  | 'uint16'
  | 'uint64'
  | 'any'
  /** Docker's StrSlice: a string or a list of strings. */
  | 'strslice'
  | { obj: Record<string, Schema>; name: string }
  | { arr: Schema }
  | { map: Schema };

const S: Schema = 'string';
const B: Schema = 'bool';
const I: Schema = 'int64';
const strings: Schema = { arr: S };
const strMap: Schema = { map: S };
const obj = (name: string, fields: Record<string, Schema>): Schema => ({ obj: fields, name });

const healthcheck = obj('HealthConfig', { Test: strings, Interval: I, Timeout: I, StartPeriod: I, StartInterval: I, Retries: I });
const endpointSettings = obj('EndpointSettings', {
  IPAMConfig: obj('EndpointIPAMConfig', { IPv4Address: S, IPv6Address: S, LinkLocalIPs: strings }),
  Links: strings,
  Aliases: strings,
  MacAddress: S,
  DriverOpts: strMap,
  NetworkID: S,
  EndpointID: S,
  Gateway: S,
  IPAddress: S,
  IPPrefixLen: I,
  IPv6Gateway: S,
  GlobalIPv6Address: S,
  GlobalIPv6PrefixLen: I,
  DNSNames: strings,
});
const weightDevice = obj('WeightDevice', { Path: S, Weight: 'uint16' });
const throttleDevice = obj('ThrottleDevice', { Path: S, Rate: 'uint64' });
const mount = obj('Mount', {
  Target: S,
  Source: S,
  Type: S,
  ReadOnly: B,
  Consistency: S,
  BindOptions: obj('BindOptions', { Propagation: S, NonRecursive: B, CreateMountpoint: B, ReadOnlyNonRecursive: B, ReadOnlyForceRecursive: B }),
  VolumeOptions: obj('VolumeOptions', { NoCopy: B, Labels: strMap, Subpath: S, DriverConfig: obj('Driver', { Name: S, Options: strMap }) }),
  TmpfsOptions: obj('TmpfsOptions', { SizeBytes: I, Mode: 'uint64', Options: { arr: strings } }),
});

const hostConfig = obj('HostConfig', {
  // Resources
  CpuShares: I,
  Memory: I,
  CgroupParent: S,
  BlkioWeight: 'uint16',
  BlkioWeightDevice: { arr: weightDevice },
  BlkioDeviceReadBps: { arr: throttleDevice },
  BlkioDeviceWriteBps: { arr: throttleDevice },
  BlkioDeviceReadIOps: { arr: throttleDevice },
  BlkioDeviceWriteIOps: { arr: throttleDevice },
  CpuPeriod: I,
  CpuQuota: I,
  CpuRealtimePeriod: I,
  CpuRealtimeRuntime: I,
  CpusetCpus: S,
  CpusetMems: S,
  Devices: { arr: obj('DeviceMapping', { PathOnHost: S, PathInContainer: S, CgroupPermissions: S }) },
  DeviceCgroupRules: strings,
  DeviceRequests: { arr: obj('DeviceRequest', { Driver: S, Count: I, DeviceIDs: strings, Capabilities: { arr: strings }, Options: strMap }) },
  KernelMemory: I,
  KernelMemoryTCP: I,
  MemoryReservation: I,
  MemorySwap: I,
  MemorySwappiness: I,
  NanoCpus: I,
  OomKillDisable: B,
  Init: B,
  PidsLimit: I,
  Ulimits: { arr: obj('Ulimit', { Name: S, Soft: I, Hard: I }) },
  CpuCount: I,
  CpuPercent: I,
  IOMaximumIOps: 'uint64',
  IOMaximumBandwidth: 'uint64',
  // HostConfig proper
  Binds: strings,
  ContainerIDFile: S,
  LogConfig: obj('LogConfig', { Type: S, Config: strMap }),
  NetworkMode: S,
  PortBindings: { map: { arr: obj('PortBinding', { HostIp: S, HostPort: S }) } },
  RestartPolicy: obj('RestartPolicy', { Name: S, MaximumRetryCount: I }),
  AutoRemove: B,
  VolumeDriver: S,
  VolumesFrom: strings,
  Mounts: { arr: mount },
  ConsoleSize: { arr: 'uint64' },
  Annotations: strMap,
  CapAdd: 'strslice',
  CapDrop: 'strslice',
  CgroupnsMode: S,
  Dns: strings,
  DnsOptions: strings,
  DnsSearch: strings,
  ExtraHosts: strings,
  GroupAdd: strings,
  IpcMode: S,
  Cgroup: S,
  Links: strings,
  OomScoreAdj: I,
  PidMode: S,
  Privileged: B,
  PublishAllPorts: B,
  ReadonlyRootfs: B,
  SecurityOpt: strings,
  StorageOpt: strMap,
  Tmpfs: strMap,
  UTSMode: S,
  UsernsMode: S,
  ShmSize: I,
  Sysctls: strMap,
  Runtime: S,
  Isolation: S,
  MaskedPaths: strings,
  ReadonlyPaths: strings,
});

/** POST /containers/create: ContainerConfig with HostConfig and NetworkingConfig. */
export const CONTAINER_CREATE: Schema = obj('ContainerConfigWrapper', {
  Hostname: S,
  Domainname: S,
  User: S,
  AttachStdin: B,
  AttachStdout: B,
  AttachStderr: B,
  ExposedPorts: { map: 'any' },
  Tty: B,
  OpenStdin: B,
  StdinOnce: B,
  Env: strings,
  Cmd: 'strslice',
  Healthcheck: healthcheck,
  ArgsEscaped: B,
  Image: S,
  Volumes: { map: 'any' },
  WorkingDir: S,
  Entrypoint: 'strslice',
  NetworkDisabled: B,
  MacAddress: S,
  OnBuild: strings,
  Labels: strMap,
  StopSignal: S,
  StopTimeout: I,
  Shell: 'strslice',
  HostConfig: hostConfig,
  NetworkingConfig: obj('NetworkingConfig', { EndpointsConfig: { map: endpointSettings } }),
});

/** POST /networks/create. */
export const NETWORK_CREATE: Schema = obj('CreateRequest', {
  Name: S,
  CheckDuplicate: B,
  Driver: S,
  Scope: S,
  Internal: B,
  Attachable: B,
  Ingress: B,
  ConfigOnly: B,
  ConfigFrom: obj('ConfigReference', { Network: S }),
  EnableIPv4: B,
  EnableIPv6: B,
  IPAM: obj('IPAM', { Driver: S, Options: strMap, Config: { arr: obj('IPAMConfig', { Subnet: S, IPRange: S, Gateway: S, AuxiliaryAddresses: strMap }) } }),
  Options: strMap,
  Labels: strMap,
});

/** POST /networks/{id}/connect and disconnect. */
export const NETWORK_CONNECT: Schema = obj('NetworkConnect', { Container: S, EndpointConfig: endpointSettings, Force: B });

/** POST /auth. */
export const AUTH_CONFIG: Schema = obj('AuthConfig', { username: S, password: S, auth: S, email: S, serveraddress: S, identitytoken: S, registrytoken: S });

function jsonType(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return `number ${v}`;
  return typeof v; // string, object
}

function goType(s: Schema): string {
  if (typeof s === 'string') return s === 'bool' ? 'bool' : s === 'strslice' ? 'strslice.StrSlice' : s === 'any' ? 'interface {}' : s;
  if ('obj' in s) return `container.${s.name}`;
  if ('arr' in s) return `[]${goType(s.arr)}`;
  return `map[string]${goType(s.map)}`;
}

function zeroValue(s: Schema): unknown {
  if (s === 'string' || s === 'strslice') return '';
  if (s === 'bool') return false;
  if (s === 'int64' || s === 'uint16' || s === 'uint64') return 0;
  if (s === 'any') return null;
  return 'arr' in s ? [] : {};
}

function isInt(v: unknown, min: number, max: number): boolean {
  return typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;
}

/** A reason the value does not fit the schema, or undefined. `where` names the field as Go does. */
function check(v: unknown, s: Schema, where: string): string | undefined {
  if (v === null || s === 'any') return undefined;
  const bad = (): string => `json: cannot unmarshal ${jsonType(v)} into Go struct field ${where} of type ${goType(s)}`;
  switch (s) {
    case 'string':
      return typeof v === 'string' ? undefined : bad();
    case 'bool':
      return typeof v === 'boolean' ? undefined : bad();
    case 'int64':
      return isInt(v, -(2 ** 63), 2 ** 63) ? undefined : bad();
    case 'uint64':
      return isInt(v, 0, 2 ** 64) ? undefined : bad();
    case 'uint16':
      return isInt(v, 0, 65535) ? undefined : bad();
    case 'strslice':
      if (typeof v === 'string') return undefined;
      return Array.isArray(v) && v.every((x) => typeof x === 'string') ? undefined : bad();
  }
  if ('arr' in s) {
    if (!Array.isArray(v)) return bad();
    for (let i = 0; i < v.length; i++) {
      // Go decodes a null element as its type's zero value; handlers then see "" rather than null.
      if (v[i] === null) v[i] = zeroValue(s.arr);
      const r = check(v[i], s.arr, where);
      if (r) return r;
    }
    return undefined;
  }
  if (typeof v !== 'object' || Array.isArray(v)) return bad();
  if ('map' in s) {
    for (const x of Object.values(v as Record<string, unknown>)) {
      const r = check(x, s.map, where);
      if (r) return r;
    }
    return undefined;
  }
  const byLower = new Map(Object.entries(s.obj).map(([k, t]) => [k.toLowerCase(), [k, t] as const]));
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    const f = byLower.get(k.toLowerCase());
    if (!f) continue;
    const r = check(x, f[1], where ? `${where}.${f[0]}` : f[0]);
    if (r) return r;
  }
  return undefined;
}

/** Throws a 400 when a known field of the body has the wrong JSON type; null list elements become zero values. */
export function validateBody(body: Record<string, unknown>, schema: Schema): void {
  const r = check(body, schema, '');
  if (r) throw invalidArgument(r);
}
