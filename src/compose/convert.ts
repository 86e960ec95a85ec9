/**
 * A compose service to Engine API objects: the container create body (Config + HostConfig +
 * NetworkingConfig), names, the com.docker.compose.* labels and the config hash by which `up`
 * decides whether a container must be recreated.
 */
import crypto from 'node:crypto';
import { parseBytes } from '../util/units';
import { ComposeError } from './errors';
import { isDict } from './normalize';
import { COMPOSE_VERSION, LABEL, type Dict, type Project, type Service } from './model';

/** Go duration ("1m30s", "500ms", "10s") to nanoseconds. */
export function durationNs(v: unknown): number {
  if (typeof v === 'number') return Math.round(v * 1e9);
  const s = String(v);
  const unit: Record<string, number> = { ns: 1, us: 1e3, µs: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };
  let total = 0;
  let rest = s;
  if (s === '0') return 0;
  while (rest) {
    const m = /^(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/.exec(rest);
    if (!m) throw new ComposeError(`invalid duration ${JSON.stringify(s)}`);
    total += Number(m[1]) * unit[m[2]];
    rest = rest.slice(m[0].length);
  }
  return Math.round(total);
}

function bytes(v: unknown): number {
  return typeof v === 'number' ? v : parseBytes(String(v));
}

function bool(v: unknown): boolean {
  if (typeof v === 'string') return ['true', 'yes', 'y', 'on', '1'].includes(v.toLowerCase());
  return Boolean(v);
}

export function imageName(project: Project, s: Service): string {
  return s.image ?? `${project.name}-${s.name}`;
}

export function containerName(project: Project, s: Service, n: number): string {
  return (s.container_name as string | undefined) ?? `${project.name}-${s.name}-${n}`;
}

function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (isDict(v)) {
    const out: Dict = {};
    for (const k of Object.keys(v).sort()) if (v[k] !== undefined) out[k] = canonical(v[k]);
    return out;
  }
  return v;
}

/**
 * The hash of what a container is made from: the service without what does not change the
 * container (build instructions, replica count, profiles). Equal hashes mean `up` keeps it.
 */
export function configHash(s: Service): string {
  const { build: _b, scale: _s, profiles: _p, pull_policy: _pp, ...rest } = s;
  void [_b, _s, _p, _pp];
  const deploy = isDict(rest.deploy) ? { ...rest.deploy, replicas: undefined } : undefined;
  return crypto.createHash('sha256').update(JSON.stringify(canonical({ ...rest, deploy }))).digest('hex');
}

/** Networks of a service by priority (then name), as compose connects them. */
export function serviceNetworkOrder(s: Service): string[] {
  const nets = s.networks ?? {};
  return Object.keys(nets).sort((a, b) => {
    const pa = Number((nets[a] as Dict | null)?.priority ?? 0);
    const pb = Number((nets[b] as Dict | null)?.priority ?? 0);
    return pb - pa || a.localeCompare(b);
  });
}

/** The endpoint settings for one of the service's networks. */
export function endpointConfig(s: Service, key: string): Dict {
  const n = s.networks?.[key] ?? null;
  const ep: Dict = { Aliases: [s.name, ...(n?.aliases ?? [])] };
  if (n?.ipv4_address) ep.IPAMConfig = { IPv4Address: n.ipv4_address };
  return ep;
}

export interface ContainerPlan {
  name: string;
  body: Dict;
  /** Networks (full names) to connect after create, beyond the one in NetworkingConfig. */
  extraNetworks: { name: string; config: Dict }[];
}

export interface PlanOptions {
  number: number;
  oneoff?: boolean;
  /** `run`: replace the command, keep no ports unless --service-ports. */
  command?: string[];
  servicePorts?: boolean;
  name?: string;
  hash?: string;
}

export function composeLabels(p: Project, s: Service, o: PlanOptions): Record<string, string> {
  const deps = Object.entries(s.depends_on ?? {}).map(([k, d]) => `${k}:${d.condition}:${d.restart ?? false}`);
  return {
    ...(s.labels ?? {}),
    [LABEL.project]: p.name,
    [LABEL.service]: s.name,
    [LABEL.number]: String(o.number),
    [LABEL.oneoff]: o.oneoff ? 'True' : 'False',
    [LABEL.hash]: o.hash ?? configHash(s),
    [LABEL.version]: COMPOSE_VERSION,
    [LABEL.workingDir]: p.workingDir,
    [LABEL.configFiles]: p.files.join(','),
    [LABEL.dependsOn]: deps.join(','),
    [LABEL.image]: imageName(p, s),
  };
}

function healthcheck(h: Dict | undefined): Dict | undefined {
  if (!h) return undefined;
  if (h.disable) return { Test: ['NONE'] };
  const out: Dict = {};
  if (h.test !== undefined) out.Test = h.test;
  if (h.interval !== undefined) out.Interval = durationNs(h.interval);
  if (h.timeout !== undefined) out.Timeout = durationNs(h.timeout);
  if (h.start_period !== undefined) out.StartPeriod = durationNs(h.start_period);
  if (h.start_interval !== undefined) out.StartInterval = durationNs(h.start_interval);
  if (h.retries !== undefined) out.Retries = Number(h.retries);
  return out;
}

function restartPolicy(r: unknown): Dict | undefined {
  if (!r) return undefined;
  const [name, count] = String(r).split(':');
  return name === 'no' ? { Name: '' } : { Name: name, MaximumRetryCount: count ? Number(count) : 0 };
}

function ports(s: Service, include: boolean): { exposed: Dict; bindings: Dict } {
  const exposed: Dict = {};
  const bindings: Record<string, Dict[]> = {};
  for (const e of s.expose ?? []) exposed[e.includes('/') ? e : `${e}/tcp`] = {};
  for (const port of s.ports ?? []) {
    const key = `${port.target}/${port.protocol}`;
    exposed[key] = {};
    if (!include) continue;
    (bindings[key] ??= []).push({ HostIp: port.host_ip ?? '', HostPort: port.published ?? '' });
  }
  return { exposed, bindings };
}

function mounts(p: Project, s: Service): { Mounts: Dict[]; Binds: string[]; Volumes: Dict } {
  const out = { Mounts: [] as Dict[], Binds: [] as string[], Volumes: {} as Dict };
  for (const v of s.volumes ?? []) {
    if (v.type === 'volume' && !v.source) {
      out.Volumes[v.target] = {};
    } else if (v.type === 'volume') {
      const vol = p.volumes[v.source as string];
      out.Mounts.push({ Type: 'volume', Source: vol.name, Target: v.target, ReadOnly: !!v.read_only, VolumeOptions: v.volume?.nocopy ? { NoCopy: true } : undefined });
    } else if (v.type === 'bind' && v.bind?.create_host_path !== false) {
      const mode = [v.read_only ? 'ro' : '', v.bind?.propagation ?? ''].filter(Boolean).join(',');
      out.Binds.push(`${v.source}:${v.target}${mode ? `:${mode}` : ''}`);
    } else if (v.type === 'bind') {
      out.Mounts.push({ Type: 'bind', Source: v.source, Target: v.target, ReadOnly: !!v.read_only, BindOptions: v.bind?.propagation ? { Propagation: v.bind.propagation } : undefined });
    } else {
      const t: Dict = {};
      if (v.tmpfs?.size !== undefined) t.SizeBytes = bytes(v.tmpfs.size);
      if (v.tmpfs?.mode !== undefined) t.Mode = v.tmpfs.mode;
      out.Mounts.push({ Type: 'tmpfs', Target: v.target, ReadOnly: !!v.read_only, TmpfsOptions: Object.keys(t).length ? t : undefined });
    }
  }
  return out;
}

/**
 * Service secrets and configs: file-based ones are bind-mounted read-only, secrets under
 * /run/secrets/, configs at /<name>, unless a target says otherwise (as compose does).
 */
function fileMounts(p: Project, s: Service): Dict[] {
  const out: Dict[] = [];
  for (const kind of ['secrets', 'configs'] as const) {
    for (const ref of (s[kind] as unknown[] | undefined) ?? []) {
      const r = isDict(ref) ? ref : { source: String(ref) };
      const source = String(r.source);
      const def = p[kind][source];
      if (!def) throw new ComposeError(`service "${s.name}" refers to undefined ${kind.slice(0, -1)} ${source}`);
      if (!def.file) throw new ComposeError(`service "${s.name}": ${kind.slice(0, -1)} ${source}: only file-based ${kind} are supported`);
      const target = r.target ? String(r.target) : source;
      const dst = target.startsWith('/') ? target : kind === 'secrets' ? `/run/secrets/${target}` : `/${target}`;
      out.push({ Type: 'bind', Source: def.file, Target: dst, ReadOnly: true });
    }
  }
  return out;
}

function resources(s: Service): Dict {
  const r: Dict = {};
  const lim = ((s.deploy as Dict | undefined)?.resources as Dict | undefined)?.limits as Dict | undefined;
  const res = ((s.deploy as Dict | undefined)?.resources as Dict | undefined)?.reservations as Dict | undefined;
  const mem = lim?.memory ?? s.mem_limit;
  if (mem !== undefined) r.Memory = bytes(mem);
  const cpus = lim?.cpus ?? s.cpus;
  if (cpus !== undefined) r.NanoCpus = Math.round(Number(cpus) * 1e9);
  const pids = lim?.pids ?? s.pids_limit;
  if (pids !== undefined) r.PidsLimit = Number(pids);
  const memRes = res?.memory ?? s.mem_reservation;
  if (memRes !== undefined) r.MemoryReservation = bytes(memRes);
  if (s.shm_size !== undefined) r.ShmSize = bytes(s.shm_size);
  if (s.cpu_shares !== undefined) r.CpuShares = Number(s.cpu_shares);
  return r;
}

function ulimits(u: unknown): Dict[] | undefined {
  if (!isDict(u)) return undefined;
  return Object.entries(u).map(([Name, v]) => (isDict(v) ? { Name, Soft: Number(v.soft), Hard: Number(v.hard) } : { Name, Soft: Number(v), Hard: Number(v) }));
}

function networkMode(p: Project, s: Service): string {
  const mode = s.network_mode;
  if (mode) {
    // `service:NAME` means the first container of that service.
    const m = /^service:(.+)$/.exec(mode);
    if (m) {
      const other = p.services[m[1]];
      if (!other) throw new ComposeError(`service "${s.name}": network_mode refers to undefined service ${m[1]}`);
      return `container:${containerName(p, other, 1)}`;
    }
    return mode;
  }
  const first = serviceNetworkOrder(s)[0];
  return first ? p.networks[first].name : 'none';
}

/** Everything `POST /containers/create` needs for replica `o.number` of `s`. */
export function containerPlan(p: Project, s: Service, o: PlanOptions): ContainerPlan {
  const env = Object.entries(s.environment ?? {}).map(([k, v]) => (v === null ? k : `${k}=${v}`));
  const pt = ports(s, !o.oneoff || !!o.servicePorts);
  const m = mounts(p, s);
  const tmpfs: Dict = {};
  for (const t of (s.tmpfs as string[] | undefined) ?? []) {
    const [dst, ...opts] = t.split(':');
    tmpfs[dst] = opts.join(':');
  }
  const logging = s.logging as Dict | undefined;
  const hostConfig: Dict = {
    NetworkMode: networkMode(p, s),
    PortBindings: pt.bindings,
    Binds: m.Binds,
    Mounts: [...m.Mounts, ...fileMounts(p, s)],
    Tmpfs: Object.keys(tmpfs).length ? tmpfs : undefined,
    RestartPolicy: o.oneoff ? undefined : restartPolicy(s.restart),
    Privileged: s.privileged !== undefined ? bool(s.privileged) : undefined,
    ReadonlyRootfs: s.read_only !== undefined ? bool(s.read_only) : undefined,
    CapAdd: s.cap_add,
    CapDrop: s.cap_drop,
    Dns: s.dns,
    DnsSearch: s.dns_search,
    DnsOptions: s.dns_opt,
    ExtraHosts: s.extra_hosts,
    Init: s.init !== undefined ? bool(s.init) : undefined,
    Ulimits: ulimits(s.ulimits),
    Sysctls: s.sysctls,
    SecurityOpt: s.security_opt,
    GroupAdd: s.group_add,
    PidMode: s.pid,
    IpcMode: s.ipc,
    LogConfig: logging ? { Type: logging.driver ?? '', Config: logging.options ?? {} } : undefined,
    ...resources(s),
  };
  const order = s.network_mode ? [] : serviceNetworkOrder(s);
  const endpoints: Dict = {};
  if (order[0]) endpoints[p.networks[order[0]].name] = endpointConfig(s, order[0]);
  const body: Dict = {
    Image: imageName(p, s),
    Cmd: o.command ?? s.command ?? undefined,
    Entrypoint: s.entrypoint ?? undefined,
    Env: env,
    Labels: composeLabels(p, s, o),
    Hostname: s.hostname,
    Domainname: s.domainname,
    User: s.user,
    WorkingDir: s.working_dir,
    Tty: s.tty !== undefined ? bool(s.tty) : undefined,
    OpenStdin: s.stdin_open !== undefined ? bool(s.stdin_open) : undefined,
    AttachStdin: false,
    AttachStdout: false,
    AttachStderr: false,
    ExposedPorts: pt.exposed,
    Volumes: m.Volumes,
    StopSignal: s.stop_signal,
    StopTimeout: s.stop_grace_period !== undefined ? Math.ceil(durationNs(s.stop_grace_period) / 1e9) : undefined,
    Healthcheck: healthcheck(s.healthcheck),
    HostConfig: hostConfig,
    NetworkingConfig: { EndpointsConfig: endpoints },
  };
  return {
    name: o.name ?? containerName(p, s, o.number),
    body: JSON.parse(JSON.stringify(body)) as Dict,
    extraNetworks: order.slice(1).map((k) => ({ name: p.networks[k].name, config: endpointConfig(s, k) })),
  };
}
