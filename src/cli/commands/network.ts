/**
 * `berth network create|ls|inspect|rm|prune|connect|disconnect` and `berth port`, with docker's
 * flags, output and exit codes.
 */
import { readAll } from '../../client/engine';
import type { ContainerInspect } from '../../client/types';
import { FORMAT_HELP, INSPECT_FORMAT_HELP, StatusError, errorText, type CommandSpec } from '../cli';
import { FormatError, renderList } from '../output';
import { LabeledRow, labelHeader, truncateID } from '../rows';
import { FILTER_FLAG, filtersJson } from './filters';
import { convertKVStringsToMap } from './container-opts';
import { inspectAll } from './inspect';
import { naturalLess } from './volume';
import { contains, parseCidr, parseIp } from '../../network/ipv4';
import { contains6, parseCidr6, parseIp6 } from '../../network/ipv6';

interface NetworkJson {
  Name: string;
  Id: string;
  Created?: string;
  Scope?: string;
  Driver?: string;
  EnableIPv6?: boolean;
  Internal?: boolean;
  Labels?: Record<string, string> | null;
}

const enc = encodeURIComponent;

/** A `network ls` row (docker's formatter.networkContext). */
export class NetworkRow extends LabeledRow {
  CreatedAt = '';
  Driver = '';
  ID = '';
  IPv6 = '';
  Internal = '';
  Labels = '';
  Name = '';
  Scope = '';
  constructor(n: NetworkJson, trunc: boolean) {
    const labels = n.Labels ?? {};
    super(labels);
    this.CreatedAt = n.Created ? goTime(n.Created) : '';
    this.Driver = n.Driver ?? '';
    this.ID = trunc ? truncateID(n.Id) : n.Id;
    this.IPv6 = String(!!n.EnableIPv6);
    this.Internal = String(!!n.Internal);
    this.Labels = Object.entries(labels)
      .map(([k, v]) => `${k}=${v}`)
      .join(',');
    this.Name = n.Name;
    this.Scope = n.Scope ?? '';
  }
}
Object.defineProperty(NetworkRow, 'name', { value: 'formatter.networkContext' });

/** Go's time.Time.String() for an RFC 3339 time (UTC). */
function goTime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  const frac = d.getUTCMilliseconds() ? `.${p(d.getUTCMilliseconds(), 3).replace(/0+$/, '')}` : '';
  return `${d.getUTCFullYear()}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}${frac} +0000 UTC`;
}

const NETWORK_HEADERS: Record<string, unknown> = {
  ID: 'NETWORK ID',
  Name: 'NAME',
  Driver: 'DRIVER',
  Scope: 'SCOPE',
  IPv6: 'IPV6',
  Internal: 'INTERNAL',
  Labels: 'LABELS',
  CreatedAt: 'CREATED AT',
  Label: labelHeader,
};

export const DEFAULT_NETWORK_TABLE = 'table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}';

export function networkFormat(format: string, quiet: boolean): string {
  if (format === '' || format === 'table') return quiet ? '{{.ID}}' : DEFAULT_NETWORK_TABLE;
  if (format === 'raw') return quiet ? 'network_id: {{.ID}}' : 'network_id: {{.ID}}\nname: {{.Name}}\ndriver: {{.Driver}}\nscope: {{.Scope}}\n';
  return quiet ? '{{.ID}}' : format;
}

function kvMap(values: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const o of values) {
    const eq = o.indexOf('=');
    if (eq < 0) out[o] = '';
    else out[o.slice(0, eq)] = o.slice(eq + 1);
  }
  return out;
}

/** docker's consolidateIpam: each gateway and ip-range goes with the subnet that contains it. */
export function ipamConfig(subnets: readonly string[], ranges: readonly string[], gateways: readonly string[]): Record<string, string>[] {
  if (subnets.length === 0 && (ranges.length || gateways.length)) throw new StatusError(1, 'every ip-range or gateway must have a corresponding subnet');
  const cfg = subnets.map((s) => ({ Subnet: s }) as Record<string, string>);
  const inSubnet = (ip: string, subnet: string): boolean => {
    const addr = ip.split('/')[0];
    const v4 = parseCidr(subnet);
    const n4 = parseIp(addr);
    if (v4 && n4 !== undefined) return contains(v4, n4);
    const v6 = parseCidr6(subnet);
    const n6 = parseIp6(addr);
    return !!v6 && n6 !== undefined && contains6(v6, n6);
  };
  for (const [list, key] of [
    [ranges, 'IPRange'],
    [gateways, 'Gateway'],
  ] as const) {
    for (const v of list) {
      const c = cfg.find((x) => inSubnet(v, x.Subnet));
      if (!c) throw new StatusError(1, `no matching subnet for ${key === 'IPRange' ? 'range' : 'gateway'} ${v}`);
      if (c[key]) throw new StatusError(1, `cannot configure multiple ${key === 'IPRange' ? 'ranges' : 'gateways'} (${c[key]}, ${v}) on the same subnet (${c.Subnet})`);
      c[key] = v;
    }
  }
  return cfg;
}

export const networkCreateCommand: CommandSpec = {
  name: 'create',
  use: '[OPTIONS] NETWORK',
  short: 'Create a network',
  aliases: [],
  args: { kind: 'exact', n: 1 },
  flags: [
    { name: 'attachable', type: 'bool', description: 'Enable manual container attachment' },
    { name: 'aux-address', type: 'list', valueName: 'map', description: 'Auxiliary IPv4 or IPv6 addresses used by Network driver (default map[])' },
    { name: 'driver', short: 'd', type: 'string', default: 'bridge', description: 'Driver to manage the Network' },
    { name: 'gateway', type: 'list', valueName: 'strings', description: 'IPv4 or IPv6 Gateway for the master subnet' },
    { name: 'internal', type: 'bool', description: 'Restrict external access to the network' },
    { name: 'ip-range', type: 'list', valueName: 'strings', description: 'Allocate container ip from a sub-range' },
    { name: 'ipam-driver', type: 'string', default: 'default', description: 'IP Address Management Driver' },
    { name: 'ipam-opt', type: 'list', valueName: 'map', description: 'Set IPAM driver specific options (default map[])' },
    { name: 'ipv6', type: 'bool', description: 'Enable IPv6 networking' },
    { name: 'label', type: 'list', description: 'Set metadata on a network' },
    { name: 'opt', short: 'o', type: 'list', valueName: 'map', description: 'Set driver specific options (default map[])' },
    { name: 'scope', type: 'string', description: "Control the network's scope" },
    { name: 'subnet', type: 'list', valueName: 'strings', description: 'Subnet in CIDR format that represents a network segment' },
  ],
  async run(cli, f) {
    const res = await cli.engine().post<{ Id: string; Warning?: string }>('/networks/create', undefined, {
      Name: f.args[0],
      CheckDuplicate: true,
      Driver: f.string('driver'),
      Scope: f.string('scope'),
      EnableIPv6: f.bool('ipv6'),
      IPAM: { Driver: f.string('ipam-driver'), Config: ipamConfig(f.list('subnet'), f.list('ip-range'), f.list('gateway')), Options: kvMap(f.list('ipam-opt')) },
      Internal: f.bool('internal'),
      Attachable: f.bool('attachable'),
      Options: kvMap(f.list('opt')),
      Labels: convertKVStringsToMap(f.list('label')),
    });
    if (res.Warning) cli.eprintln(res.Warning);
    cli.println(res.Id);
  },
};

export const networkLsCommand: CommandSpec = {
  name: 'ls',
  use: '[OPTIONS]',
  short: 'List networks',
  aliases: ['network ls', 'network list'],
  args: { kind: 'none' },
  flags: [
    { ...FILTER_FLAG, description: 'Provide filter values (e.g. "driver=bridge")' },
    { name: 'format', type: 'string', description: FORMAT_HELP },
    { name: 'no-trunc', type: 'bool', description: 'Do not truncate the output' },
    { name: 'quiet', short: 'q', type: 'bool', description: 'Only display network IDs' },
  ],
  async run(cli, f) {
    const list = (await cli.engine().get<NetworkJson[]>('/networks', { filters: filtersJson(f.list('filter')) })) ?? [];
    list.sort((a, b) => (naturalLess(a.Name, b.Name) ? -1 : naturalLess(b.Name, a.Name) ? 1 : 0));
    const trunc = !f.bool('no-trunc');
    try {
      cli.out(renderList(networkFormat(f.string('format'), f.bool('quiet')), list.map((n) => new NetworkRow(n, trunc)), NETWORK_HEADERS));
    } catch (err) {
      if (err instanceof FormatError) throw new StatusError(1, err.message);
      throw err;
    }
  },
};

export const networkInspectCommand: CommandSpec = {
  name: 'inspect',
  use: '[OPTIONS] NETWORK [NETWORK...]',
  short: 'Display detailed information on one or more networks',
  aliases: [],
  args: { kind: 'min', n: 1 },
  flags: [
    { name: 'format', short: 'f', type: 'string', description: INSPECT_FORMAT_HELP },
    { name: 'verbose', short: 'v', type: 'bool', description: 'Verbose output for diagnostics' },
  ],
  async run(cli, f) {
    await inspectAll(cli, f.args, f.string('format'), async (ref) => {
      const res = await cli.engine().stream('GET', `/networks/${enc(ref)}`);
      return (await readAll(res)).toString('utf8');
    });
  },
};

export const networkRmCommand: CommandSpec = {
  name: 'rm',
  use: 'NETWORK [NETWORK...]',
  short: 'Remove one or more networks',
  aliases: ['network rm', 'network remove'],
  args: { kind: 'min', n: 1 },
  flags: [{ name: 'force', short: 'f', type: 'bool', description: 'Do not error if the network does not exist' }],
  async run(cli, f) {
    const engine = cli.engine();
    const errors: string[] = [];
    for (const name of f.args) {
      try {
        await engine.delete(`/networks/${enc(name)}`);
        cli.println(name);
      } catch (err) {
        if (f.bool('force') && /not found/.test(errorText(err))) continue;
        errors.push(errorText(err));
      }
    }
    if (errors.length > 0) throw new StatusError(1, errors.join('\n'));
  },
};

export const networkPruneCommand: CommandSpec = {
  name: 'prune',
  use: '[OPTIONS]',
  short: 'Remove all unused networks',
  aliases: [],
  args: { kind: 'none' },
  flags: [
    { ...FILTER_FLAG, short: undefined, description: 'Provide filter values (e.g. "until=<timestamp>")' },
    { name: 'force', short: 'f', type: 'bool', description: 'Do not prompt for confirmation' },
  ],
  async run(cli, f) {
    if (!f.bool('force')) {
      cli.out('WARNING! This will remove all custom networks not used by at least one container.\nAre you sure you want to continue? [y/N] ');
      const answer = ((await cli.lines().readLine()) ?? '').trim();
      if (answer !== 'y' && answer !== 'Y') return;
    }
    const report = await cli.engine().post<{ NetworksDeleted?: string[] | null }>('/networks/prune', { filters: filtersJson(f.list('filter')) });
    const deleted = report?.NetworksDeleted ?? [];
    // docker prints the list with Fprintln: a blank line ends it
    if (deleted.length > 0) cli.out(`Deleted Networks:\n${deleted.map((n) => `${n}\n`).join('')}\n`);
  },
};

export const networkConnectCommand: CommandSpec = {
  name: 'connect',
  use: '[OPTIONS] NETWORK CONTAINER',
  short: 'Connect a container to a network',
  aliases: [],
  args: { kind: 'exact', n: 2 },
  flags: [
    { name: 'alias', type: 'list', valueName: 'strings', description: 'Add network-scoped alias for the container' },
    { name: 'driver-opt', type: 'list', valueName: 'strings', description: 'driver options for the network' },
    { name: 'ip', type: 'string', description: 'IPv4 address (e.g., "172.30.100.104")' },
    { name: 'ip6', type: 'string', description: 'IPv6 address (e.g., "2001:db8::33")' },
    { name: 'link', type: 'list', description: 'Add link to another container' },
    { name: 'link-local-ip', type: 'list', valueName: 'strings', description: 'Add a link-local address for the container' },
  ],
  async run(cli, f) {
    const ipam: Record<string, string> = {};
    if (f.string('ip')) ipam.IPv4Address = f.string('ip');
    if (f.string('ip6')) ipam.IPv6Address = f.string('ip6');
    await cli.engine().post(`/networks/${enc(f.args[0])}/connect`, undefined, {
      Container: f.args[1],
      EndpointConfig: {
        IPAMConfig: Object.keys(ipam).length ? ipam : undefined,
        Links: f.list('link').length ? f.list('link') : undefined,
        Aliases: f.list('alias').length ? f.list('alias') : undefined,
        DriverOpts: f.list('driver-opt').length ? kvMap(f.list('driver-opt')) : undefined,
      },
    });
  },
};

export const networkDisconnectCommand: CommandSpec = {
  name: 'disconnect',
  use: '[OPTIONS] NETWORK CONTAINER',
  short: 'Disconnect a container from a network',
  aliases: [],
  args: { kind: 'exact', n: 2 },
  flags: [{ name: 'force', short: 'f', type: 'bool', description: 'Force the container to disconnect from a network' }],
  async run(cli, f) {
    await cli.engine().post(`/networks/${enc(f.args[0])}/disconnect`, undefined, { Container: f.args[1], Force: f.bool('force') });
  },
};

/** `berth port CONTAINER [PRIVATE_PORT[/PROTO]]`. */
export const portCommand: CommandSpec = {
  name: 'port',
  use: 'CONTAINER [PRIVATE_PORT[/PROTO]]',
  short: 'List port mappings or a specific mapping for the container',
  aliases: ['container port', 'port'],
  args: { kind: 'range', min: 1, max: 2 },
  flags: [],
  async run(cli, f) {
    const c = await cli.engine().get<ContainerInspect & { NetworkSettings?: { Ports?: Record<string, { HostIp: string; HostPort: string }[] | null> } }>(`/containers/${enc(f.args[0])}/json`);
    const ports = c.NetworkSettings?.Ports ?? {};
    const hostPort = (b: { HostIp: string; HostPort: string }): string => (b.HostIp.includes(':') ? `[${b.HostIp}]:${b.HostPort}` : `${b.HostIp}:${b.HostPort}`);
    if (f.args.length === 2) {
      const [port, rawProto = 'tcp'] = f.args[1].split('/');
      const proto = rawProto.toLowerCase();
      if (!/^\d+$/.test(port)) throw new StatusError(1, `Error: invalid port (${f.args[1]})`);
      const key = `${port}/${proto}`;
      const b = ports[key];
      if (!b || b.length === 0) throw new StatusError(1, `Error: No public port '${key}' published for ${f.args[0]}`);
      for (const x of b) cli.println(hostPort(x));
      return;
    }
    const lines: string[] = [];
    for (const [k, list] of Object.entries(ports)) for (const b of list ?? []) lines.push(`${k} -> ${hostPort(b)}`);
    lines.sort((a, b) => (naturalLess(a, b) ? -1 : naturalLess(b, a) ? 1 : 0));
    for (const l of lines) cli.println(l);
  },
};
