/**
 * Networks and container endpoints: the daemon's network service.
 *
 * Lifecycles:
 * - A network (bridge driver) is a row in `networks` and a bridge device with the gateway
 *   address, made at `network create` (and re-made at daemon start), removed at `network rm`
 *   and at a clean daemon shutdown; `bridge` (the default), `host` and `none` always exist.
 * - A container's endpoint configuration on a network (aliases, --ip, MAC) is a row in
 *   `net_endpoints`, from create (or connect) to rm (or disconnect).
 * - While it runs, a container has a sandbox (`net_sandboxes`: its namespace file and published
 *   ports), and each endpoint has state (address lease, interface, endpoint id). setup() makes
 *   them before the runtime starts the process, teardown() removes them when it has exited; the
 *   sandbox row is written first, so a restarted daemon knows what a crash left (reconcile()).
 *
 * Plumbing is the CNI reference plugins'; addresses, NAT, ports, isolation and names are berth's.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import { execFile } from 'node:child_process';
import path from 'node:path';
import type { DB } from '../daemon/db';
import { BerthError, conflict, forbidden, invalidArgument, notFound, notImplemented } from '../core/errors';
import { randomHex } from '../util/digest';
import { resolvConf } from '../daemon/containers';
import { CniRunner, bridgeConf, loopbackConf } from './cni';
import { DnsServer, type DnsBackend, type Upstream } from './dns';
import { Firewall, runCommand, type CommandRunner, type FirewallNetwork, type FirewallPort } from './firewall';
import { Ipam, chooseSubnet, type Pool, type Pool6 } from './ipam';
import { type Cidr, contains, formatCidr, formatIp, overlaps, parseCidr, parseIp, parseProcRoutes } from './ipv4';
import { type Cidr6, contains6, formatCidr6, formatIp6, overlaps6, parseCidr6, parseIp6, parseProcRoutes6, ulaSubnet } from './ipv6';
import {
  addHostsEntries,
  hostsFile,
  loopbackIPv6,
  isLoopback,
  macFromIp,
  matchNetwork,
  nameservers,
  parseExtraHosts,
  publicNetwork,
  removeHostsEntries,
  userNetworkResolvConf,
  validMac,
  type EndpointConfig,
  type EndpointState,
  type HostsSelf,
  type NetworkRecord,
} from './model';
import { type Link, type LinkTarget, linkEnv, linkHost, parseLink } from './links';
import { createNetns, isNetns, removeNetns, setInterfaceIPv6 } from './netns';
import { holdPort, holdPorts, portRequests, type HeldPort, type PortMapping } from './ports';

export interface NetworkOptions {
  execRoot: string;
  /** '' for the default data root, else 8 hex digits derived from it: names chains and bridges. */
  tag: string;
  /** The default bridge's device. */
  bridge: string;
  /** The default bridge's gateway address and prefix (dockerd's --bip), e.g. 10.213.0.1/24. */
  bip?: string;
  ipMasq: boolean;
  /** --host-gateway-ip: `host-gateway` in --add-host (default: the default bridge's gateway). */
  hostGatewayIp?: string;
  /** --ipv6 (and --fixed-cidr-v6): the default bridge is dual-stack. */
  ipv6?: { subnet?: string };
  /** The daemon's --dns: containers' nameservers on the default bridge. */
  dns: string[];
  /** Upstream servers of berth's DNS server ([] = the host's resolv.conf). */
  dnsUpstream: string[];
  dnsForward: boolean;
  /** Where subnets come from: 10.213.0.0/16 in /24s by default. */
  pool?: string;
  cniDir?: string;
  log(level: 'debug' | 'info' | 'warn' | 'error', msg: string): void;
  emit?(action: string, network: NetworkRecord, attrs: Record<string, string>): void;
  run?: CommandRunner;
}

/** The parts of a container record networking reads. */
export interface ContainerView {
  Id: string;
  Name: string;
  State: { Running: boolean; Pid: number };
  Config: Record<string, any>;
  HostConfig: Record<string, any>;
}

export interface ContainerSource {
  get(id: string): ContainerView | undefined;
  resolve(ref: string): ContainerView;
  all(): ContainerView[];
  paths(id: string): { hosts: string; resolvConf: string };
}

/** What the container manager needs to start a container with its network. */
export interface NetSetup {
  netns: 'host' | { path: string };
  hosts: string;
  resolvConf: string;
  /** Environment from legacy links (the container's own variables win over these). */
  env?: string[];
}

/** The container manager's view of this service. */
export interface ContainerNetworking {
  prepareCreate(id: string, body: Record<string, any>, imageConfig: Record<string, any>, config: Record<string, any>, hostConfig: Record<string, any>): void;
  setup(c: ContainerView): Promise<NetSetup>;
  teardown(id: string): Promise<void>;
  forget(id: string): void;
}

interface Sandbox {
  id: string;
  netns: string;
  ports: PortMapping[];
}

interface EndpointRow {
  containerId: string;
  networkId: string;
  networkName: string;
  seq: number;
  config: EndpointConfig;
  state: EndpointState | null;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS networks(id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS net_endpoints(
  container_id TEXT NOT NULL, network_id TEXT NOT NULL, network_name TEXT NOT NULL, seq INTEGER NOT NULL,
  config TEXT NOT NULL, state TEXT, PRIMARY KEY(container_id, network_id));
CREATE INDEX IF NOT EXISTS net_endpoints_network ON net_endpoints(network_id);
CREATE TABLE IF NOT EXISTS net_sandboxes(container_id TEXT PRIMARY KEY, data TEXT NOT NULL);
`;

const DEFAULT_POOL = '10.213.0.0/16';
const IFNAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,14}$/;

export function netModeOf(c: { HostConfig: Record<string, any> }): string {
  const m = (c.HostConfig.NetworkMode as string | undefined) || 'default';
  return m === 'default' ? 'bridge' : m;
}

function readText(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

function emptyEndpoint(networkId: string): Record<string, unknown> {
  return {
    IPAMConfig: null,
    Links: null,
    Aliases: null,
    NetworkID: networkId,
    EndpointID: '',
    Gateway: '',
    IPAddress: '',
    IPPrefixLen: 0,
    IPv6Gateway: '',
    GlobalIPv6Address: '',
    GlobalIPv6PrefixLen: 0,
    MacAddress: '',
    DriverOpts: null,
  };
}

export class NetworkManager implements ContainerNetworking, DnsBackend {
  readonly ipam: Ipam;
  readonly firewall: Firewall;
  readonly dns: DnsServer;
  private readonly cni: CniRunner;
  private readonly run: CommandRunner;
  private readonly netnsDir: string;
  private readonly pool: Cidr;
  private readonly held = new Map<string, HeldPort[]>();
  private containers!: ContainerSource;
  private upstreamDefault: Upstream[] = [];

  constructor(
    private readonly db: DB,
    private readonly opts: NetworkOptions,
  ) {
    db.exec(SCHEMA);
    this.ipam = new Ipam(db);
    this.cni = new CniRunner(opts.cniDir);
    this.run = opts.run ?? runCommand;
    this.netnsDir = path.join(opts.execRoot, 'netns');
    const pool = parseCidr(opts.pool ?? DEFAULT_POOL);
    if (!pool) throw new Error(`invalid address pool ${opts.pool}`);
    if (opts.hostGatewayIp && parseIp(opts.hostGatewayIp) === undefined && parseIp6(opts.hostGatewayIp) === undefined) throw new Error(`invalid --host-gateway-ip ${opts.hostGatewayIp}`);
    this.pool = pool;
    this.firewall = new Firewall(opts.tag, () => this.firewallState(), this.run);
    this.dns = new DnsServer(this, (m) => opts.log('warn', m));
  }

  attachContainers(src: ContainerSource): void {
    this.containers = src;
  }

  // ---- records ----

  all(): NetworkRecord[] {
    return (this.db.prepare('SELECT data FROM networks ORDER BY name').all() as { data: string }[]).map((r) => JSON.parse(r.data) as NetworkRecord);
  }

  byId(id: string): NetworkRecord | undefined {
    const row = this.db.prepare('SELECT data FROM networks WHERE id = ?').get(id) as { data: string } | undefined;
    return row && (JSON.parse(row.data) as NetworkRecord);
  }

  byName(name: string): NetworkRecord | undefined {
    const row = this.db.prepare('SELECT data FROM networks WHERE name = ?').get(name) as { data: string } | undefined;
    return row && (JSON.parse(row.data) as NetworkRecord);
  }

  /** By name, full id, or unique id prefix, as Docker finds networks. */
  find(ref: string): NetworkRecord {
    const n = this.byName(ref) ?? this.byId(ref);
    if (n) return n;
    if (/^[a-f0-9]+$/.test(ref)) {
      const rows = this.db.prepare("SELECT data FROM networks WHERE id >= ? AND id < ? || 'g' LIMIT 2").all(ref, ref) as { data: string }[];
      if (rows.length === 1) return JSON.parse(rows[0].data) as NetworkRecord;
      if (rows.length > 1) throw invalidArgument(`network ${ref} is ambiguous (${rows.length} matches found based on ID prefix)`);
    }
    throw notFound(`network ${ref} not found`);
  }

  private saveNetwork(n: NetworkRecord): void {
    this.db.prepare('INSERT INTO networks(id, name, data) VALUES (?,?,?) ON CONFLICT(id) DO UPDATE SET name = excluded.name, data = excluded.data').run(n.Id, n.Name, JSON.stringify(n));
  }

  private endpointRows(where: string, arg: string): EndpointRow[] {
    const rows = this.db.prepare(`SELECT container_id, network_id, network_name, seq, config, state FROM net_endpoints WHERE ${where} ORDER BY seq`).all(arg) as {
      container_id: string;
      network_id: string;
      network_name: string;
      seq: number;
      config: string;
      state: string | null;
    }[];
    return rows.map((r) => ({
      containerId: r.container_id,
      networkId: r.network_id,
      networkName: r.network_name,
      seq: r.seq,
      config: JSON.parse(r.config) as EndpointConfig,
      state: r.state ? (JSON.parse(r.state) as EndpointState) : null,
    }));
  }

  endpointsOf(containerId: string): EndpointRow[] {
    return this.endpointRows('container_id = ?', containerId);
  }

  endpointsOn(networkId: string): EndpointRow[] {
    return this.endpointRows('network_id = ?', networkId);
  }

  private insertEndpoint(containerId: string, n: NetworkRecord, config: EndpointConfig): void {
    const seq = ((this.db.prepare('SELECT MAX(seq) AS m FROM net_endpoints WHERE container_id = ?').get(containerId) as { m: number | null }).m ?? -1) + 1;
    this.db.prepare('INSERT INTO net_endpoints(container_id, network_id, network_name, seq, config, state) VALUES (?,?,?,?,?,NULL)').run(containerId, n.Id, n.Name, seq, JSON.stringify(config));
  }

  private setState(containerId: string, networkId: string, st: EndpointState | null): void {
    this.db.prepare('UPDATE net_endpoints SET state = ? WHERE container_id = ? AND network_id = ?').run(st ? JSON.stringify(st) : null, containerId, networkId);
  }

  private sandbox(id: string): Sandbox | undefined {
    const row = this.db.prepare('SELECT data FROM net_sandboxes WHERE container_id = ?').get(id) as { data: string } | undefined;
    return row && (JSON.parse(row.data) as Sandbox);
  }

  private saveSandbox(containerId: string, sb: Sandbox): void {
    this.db.prepare('INSERT INTO net_sandboxes(container_id, data) VALUES (?,?) ON CONFLICT(container_id) DO UPDATE SET data = excluded.data').run(containerId, JSON.stringify(sb));
  }

  private sandboxes(): { containerId: string; sb: Sandbox }[] {
    return (this.db.prepare('SELECT container_id, data FROM net_sandboxes').all() as { container_id: string; data: string }[]).map((r) => ({ containerId: r.container_id, sb: JSON.parse(r.data) as Sandbox }));
  }

  private poolOf(n: NetworkRecord): Pool {
    const subnet = parseCidr(n.berth.subnet ?? '')!;
    return { subnet, gateway: parseIp(n.berth.gateway ?? '') ?? subnet.base + 1, range: n.berth.ipRange ? parseCidr(n.berth.ipRange) : undefined };
  }

  private poolOf6(n: NetworkRecord): Pool6 | undefined {
    const subnet = n.berth.subnet6 ? parseCidr6(n.berth.subnet6) : undefined;
    if (!subnet) return undefined;
    return { subnet, gateway: parseIp6(n.berth.gateway6 ?? '') ?? subnet.base + 1n, range: n.berth.ipRange6 ? parseCidr6(n.berth.ipRange6) : undefined };
  }

  defaultBridge(): NetworkRecord | undefined {
    return this.byName('bridge');
  }

  private isUserBridge(n: NetworkRecord): boolean {
    return n.Driver === 'bridge' && !n.berth.predefined;
  }

  // ---- daemon lifecycle ----

  /** Host routes other than those of `exceptDevice`. */
  private hostRoutes(exceptDevice?: string): Cidr[] {
    const text = readText('/proc/net/route');
    const lines = text.split('\n');
    return parseProcRoutes([lines[0], ...lines.slice(1).filter((l) => l.trim() && l.split(/\s+/)[0] !== exceptDevice)].join('\n'));
  }

  private startIndex(): number {
    return this.opts.tag ? parseInt(this.opts.tag.slice(0, 4), 16) % 2 ** (24 - this.pool.bits) : 0;
  }

  private pickSubnet(exceptDevice?: string): Cidr {
    const taken = [...this.hostRoutes(exceptDevice), ...this.all().flatMap((n) => (n.berth.subnet && n.berth.bridge !== exceptDevice ? [parseCidr(n.berth.subnet)!] : []))];
    const s = chooseSubnet(this.pool, Math.max(24, this.pool.bits), taken, this.startIndex());
    if (!s) throw new BerthError('unavailable', 'could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network');
    return s;
  }

  private baseRecord(name: string, driver: NetworkRecord['Driver'], id = randomHex(32)): NetworkRecord {
    return {
      Name: name,
      Id: id,
      Created: new Date().toISOString(),
      Scope: 'local',
      Driver: driver,
      EnableIPv6: false,
      IPAM: { Driver: 'default', Options: null, Config: [] },
      Internal: false,
      Attachable: false,
      Ingress: false,
      ConfigFrom: { Network: '' },
      ConfigOnly: false,
      Options: {},
      Labels: {},
      berth: { predefined: false },
    };
  }

  /** The predefined networks, bridges of all networks, berth's chains and the DNS listeners. */
  async init(): Promise<void> {
    fs.mkdirSync(this.netnsDir, { recursive: true, mode: 0o711 });
    this.upstreamDefault = this.computeUpstreams();
    for (const [name, driver] of [
      ['host', 'host'],
      ['none', 'null'],
    ] as const) {
      if (!this.byName(name)) this.saveNetwork({ ...this.baseRecord(name, driver), berth: { predefined: true } });
    }
    const old = this.defaultBridge();
    let subnet: Cidr;
    let gateway: number;
    if (this.opts.bip) {
      const c = parseCidr(this.opts.bip);
      const gw = parseIp(this.opts.bip.split('/')[0]);
      if (!c || gw === undefined) throw new Error(`invalid --bip ${this.opts.bip}`);
      subnet = c;
      gateway = gw === c.base ? c.base + 1 : gw;
    } else {
      const prev = old?.berth.subnet ? parseCidr(old.berth.subnet) : undefined;
      const others = this.hostRoutes(old?.berth.bridge ?? this.opts.bridge);
      if (prev && old?.berth.bridge === this.opts.bridge && !others.some((r) => overlaps(r, prev))) {
        subnet = prev;
        gateway = parseIp(old.berth.gateway ?? '') ?? prev.base + 1;
      } else {
        subnet = this.pickSubnet(old?.berth.bridge ?? this.opts.bridge);
        gateway = subnet.base + 1;
      }
    }
    if (old?.berth.bridge && old.berth.bridge !== this.opts.bridge) await this.deleteBridge(old.berth.bridge);
    const v6 = this.opts.ipv6 ? this.ipv6Config({ Subnet: this.opts.ipv6.subnet ?? old?.berth.subnet6 ?? '' }, `bridge/${this.opts.tag}`, old) : undefined;
    const bridge: NetworkRecord = {
      ...this.baseRecord('bridge', 'bridge', old?.Id),
      Created: old?.Created ?? new Date().toISOString(),
      IPAM: { Driver: 'default', Options: null, Config: [{ Subnet: formatCidr(subnet), Gateway: formatIp(gateway) }] },
      Options: {
        'com.docker.network.bridge.default_bridge': 'true',
        'com.docker.network.bridge.enable_icc': 'true',
        'com.docker.network.bridge.enable_ip_masquerade': String(this.opts.ipMasq),
        'com.docker.network.bridge.host_binding_ipv4': '0.0.0.0',
        'com.docker.network.bridge.name': this.opts.bridge,
        'com.docker.network.driver.mtu': '1500',
      },
      berth: { predefined: true, bridge: this.opts.bridge, ownsBridge: old?.berth.bridge === this.opts.bridge ? old.berth.ownsBridge : !fs.existsSync(`/sys/class/net/${this.opts.bridge}`), subnet: formatCidr(subnet), gateway: formatIp(gateway), mtu: 1500, masquerade: this.opts.ipMasq, ...v6 },
    };
    if (v6) {
      bridge.EnableIPv6 = true;
      bridge.IPAM.Config.push({ Subnet: v6.subnet6!, Gateway: v6.gateway6! });
    }
    // A default bridge that loses IPv6 loses its address too.
    if (old?.berth.subnet6 && !v6 && old.berth.bridge) await this.ip([`addr flush dev ${old.berth.bridge} scope global to ${old.berth.subnet6}`]);
    this.saveNetwork(bridge);
    for (const n of this.all()) if (n.Driver === 'bridge') await this.ensureBridge(n);
    await this.firewall.init();
    for (const n of this.all()) if (this.isUserBridge(n)) await this.startDns(n);
  }

  /**
   * After the container manager's reconcile: what a crash left for containers that no longer run
   * is removed (namespaces, leases, endpoint state, ports); running ones get their host ports
   * held again; the chains are rewritten from the database.
   */
  async reconcile(): Promise<void> {
    for (const { containerId, sb } of this.sandboxes()) {
      const c = this.containers.get(containerId);
      if (!c || !c.State.Running) {
        await this.teardown(containerId);
        continue;
      }
      const held: HeldPort[] = [];
      for (const m of sb.ports) {
        try {
          const h = await holdPort(m.proto, m.hostIp, m.hostPort, () => this.relayTarget(containerId, m.containerPort));
          held.push({ mapping: m, close: h.close });
        } catch (e) {
          this.opts.log('warn', `container ${containerId}: cannot hold host port ${m.hostPort}/${m.proto} again: ${(e as Error).message}`);
        }
      }
      this.held.set(containerId, held);
    }
    for (const owner of this.ipam.owners()) {
      if (!this.containers.get(owner)?.State.Running) this.ipam.releaseOwner(owner);
    }
    for (const { container_id: id } of this.db.prepare('SELECT DISTINCT container_id FROM net_endpoints').all() as { container_id: string }[]) {
      const c = this.containers.get(id);
      if (!c) this.db.prepare('DELETE FROM net_endpoints WHERE container_id = ?').run(id);
      else if (!c.State.Running) this.db.prepare('UPDATE net_endpoints SET state = NULL WHERE container_id = ?').run(id);
    }
    const known = new Set(this.sandboxes().map((s) => path.basename(s.sb.netns)));
    for (const f of fs.readdirSync(this.netnsDir)) if (!known.has(f)) removeNetns(path.join(this.netnsDir, f));
    await this.firewall.sync();
  }

  /**
   * Daemon shutdown. Without live restore (`full`), the containers are stopped already: bridges,
   * chains and namespaces go too. With it, only berthd's own sockets close; the rest keeps the
   * running containers connected until the next start.
   */
  async shutdown(full: boolean): Promise<void> {
    for (const h of this.held.values()) for (const p of h) p.close();
    this.held.clear();
    this.dns.closeAll();
    if (!full) return;
    for (const { containerId } of this.sandboxes()) await this.teardown(containerId).catch((e) => this.opts.log('warn', `teardown ${containerId}: ${(e as Error).message}`));
    for (const n of this.all()) if (n.berth.bridge && n.berth.ownsBridge) await this.deleteBridge(n.berth.bridge);
    await this.firewall.remove();
    try {
      fs.rmdirSync(this.netnsDir);
    } catch {
      /* not empty or absent */
    }
  }

  // ---- bridges ----

  private async ip(lines: string[]): Promise<{ code: number; stderr: string }> {
    return this.run('ip', ['-force', '-batch', '-'], lines.join('\n') + '\n');
  }

  private async ensureBridge(n: NetworkRecord): Promise<void> {
    const br = n.berth.bridge!;
    const prefix = parseCidr(n.berth.subnet!)!.bits;
    const addr = `${n.berth.gateway}/${prefix}`;
    if (!fs.existsSync(`/sys/class/net/${br}`)) {
      const r = await this.ip([`link add name ${br} mtu ${n.berth.mtu ?? 1500} type bridge`]);
      if (r.code !== 0 && !fs.existsSync(`/sys/class/net/${br}`)) throw new BerthError('internal', `cannot create bridge ${br}: ${r.stderr.trim()}`);
    }
    const have = await this.runOut('ip', ['-o', '-4', 'addr', 'show', 'dev', br]);
    if (!have.includes(` ${addr} `)) {
      const r = await this.ip([`addr add ${addr} dev ${br}`]);
      if (r.code !== 0 && !/File exists/.test(r.stderr)) throw new BerthError('internal', `cannot set the address of bridge ${br}: ${r.stderr.trim()}`);
    }
    if (n.berth.subnet6) await this.ensureBridge6(n);
    await this.ip([`link set ${br} up`]);
    // Published ports on 127.0.0.1: loopback sources may leave through this bridge (see firewall.ts).
    try {
      fs.writeFileSync(`/proc/sys/net/ipv4/conf/${br}/route_localnet`, '1');
    } catch (e) {
      this.opts.log('warn', `route_localnet on ${br}: ${(e as Error).message}`);
    }
  }

  /** The IPv6 gateway address on the bridge (no duplicate address detection: berth owns the prefix). */
  private async ensureBridge6(n: NetworkRecord): Promise<void> {
    const br = n.berth.bridge!;
    const addr = `${n.berth.gateway6}/${parseCidr6(n.berth.subnet6!)!.bits}`;
    try {
      fs.writeFileSync(`/proc/sys/net/ipv6/conf/${br}/disable_ipv6`, '0');
    } catch (e) {
      throw new BerthError('internal', `cannot enable IPv6 on bridge ${br}: ${(e as Error).message}`);
    }
    const have = await this.runOut('ip', ['-o', '-6', 'addr', 'show', 'dev', br]);
    if (have.includes(` ${addr} `)) return;
    const r = await this.ip([`addr add ${addr} dev ${br} nodad`]);
    if (r.code !== 0 && !/File exists/.test(r.stderr)) throw new BerthError('internal', `cannot set the IPv6 address of bridge ${br}: ${r.stderr.trim()}`);
  }

  private async deleteBridge(br: string): Promise<void> {
    if (!fs.existsSync(`/sys/class/net/${br}`)) return;
    const r = await this.ip([`link del ${br}`]);
    if (r.code !== 0 && fs.existsSync(`/sys/class/net/${br}`)) this.opts.log('warn', `cannot remove bridge ${br}: ${r.stderr.trim()}`);
  }

  private runOut(bin: string, args: string[]): Promise<string> {
    return new Promise((resolve) => {
      execFile(bin, args, { encoding: 'utf8' }, (_e, out) => resolve(out ?? ''));
    });
  }

  private async startDns(n: NetworkRecord): Promise<void> {
    try {
      await this.dns.listen(n.Id, n.berth.gateway!);
    } catch (e) {
      this.opts.log('warn', `DNS for network ${n.Name} on ${n.berth.gateway}:53: ${(e as Error).message}`);
    }
  }

  // ---- firewall state ----

  private firewallState(): { networks: FirewallNetwork[]; ports: FirewallPort[] } {
    const nets = this.all().filter((n) => n.Driver === 'bridge' && n.berth.bridge && n.berth.subnet);
    const byId = new Map(nets.map((n) => [n.Id, n]));
    const networks = nets.map((n) => ({
      bridge: n.berth.bridge!,
      subnet: n.berth.subnet!,
      subnet6: n.berth.subnet6,
      internal: n.Internal,
      masquerade: this.opts.ipMasq && n.berth.masquerade !== false,
      icc: n.Options['com.docker.network.bridge.enable_icc'] !== 'false',
    }));
    const ports: FirewallPort[] = [];
    for (const { containerId, sb } of this.sandboxes()) {
      if (!sb.ports.length) continue;
      const ep = this.endpointsOf(containerId).find((e) => e.state && byId.has(e.networkId));
      if (!ep?.state) continue;
      const bridge = byId.get(ep.networkId)!.berth.bridge!;
      for (const m of sb.ports) ports.push({ proto: m.proto, hostIp: m.hostIp, hostPort: m.hostPort, containerIp: ep.state.IPAddress, containerPort: m.containerPort, bridge });
    }
    return { networks, ports };
  }

  private relayTarget(containerId: string, containerPort: number): { ip: string; port: number } | undefined {
    const ep = this.endpointsOf(containerId).find((e) => e.state);
    return ep?.state ? { ip: ep.state.IPAddress, port: containerPort } : undefined;
  }

  // ---- DNS backend ----

  lookup(networkId: string, name: string, family: 4 | 6 = 4, client?: string): string[] | undefined {
    name = (client && this.linkedName(networkId, client, name)) || name;
    let known = false;
    const out: string[] = [];
    for (const ep of this.endpointsOn(networkId)) {
      if (!ep.state) continue;
      const c = this.containers.get(ep.containerId);
      if (!c) continue;
      const names = [c.Name.slice(1), c.Id.slice(0, 12), ...(ep.config.Aliases ?? [])].map((s) => s.toLowerCase());
      if (!names.includes(name)) continue;
      known = true;
      const ip = family === 4 ? ep.state.IPAddress : ep.state.GlobalIPv6Address;
      if (ip) out.push(ip);
    }
    return known ? out : undefined;
  }

  /**
   * On a user network a link (`--link NAME:ALIAS`, or an endpoint's Links as compose sends
   * them) is a name only its container resolves: the linked container's name under the alias.
   */
  private linkedName(networkId: string, client: string, alias: string): string | undefined {
    const ep = this.endpointsOn(networkId).find((e) => e.state?.IPAddress === client);
    const c = ep && this.containers.get(ep.containerId);
    if (!ep || !c) return undefined;
    for (const s of [...(ep.config.Links ?? []), ...((c.HostConfig.Links as string[] | null) ?? [])]) {
      try {
        const l = parseLink(s);
        if (l.alias.toLowerCase() === alias) return l.name.toLowerCase();
      } catch {
        /* refused at create; nothing to resolve */
      }
    }
    return undefined;
  }

  reverse(networkId: string, ip: string): string | undefined {
    const ep = this.endpointsOn(networkId).find((e) => e.state?.IPAddress === ip || e.state?.GlobalIPv6Address === ip);
    const c = ep && this.containers.get(ep.containerId);
    const n = this.byId(networkId);
    return c && n ? `${c.Name.slice(1)}.${n.Name}` : undefined;
  }

  isMember(networkId: string, client: string): boolean {
    return this.endpointsOn(networkId).some((e) => e.state?.IPAddress === client);
  }

  upstreams(networkId: string, client: string): Upstream[] {
    if (!this.opts.dnsForward) return [];
    const ep = this.endpointsOn(networkId).find((e) => e.state?.IPAddress === client);
    const c = ep && this.containers.get(ep.containerId);
    const own = (c?.HostConfig.Dns as string[] | undefined) ?? [];
    // A container's own --dns servers, except its loopback ones (berthd is not in its namespace).
    if (own.length) return own.filter((s) => !isLoopback(s)).map((s) => parseUpstream(s)).filter((u): u is Upstream => !!u);
    return this.upstreamDefault;
  }

  private computeUpstreams(): Upstream[] {
    const list = this.opts.dnsUpstream.length ? this.opts.dnsUpstream : this.opts.dns.length ? this.opts.dns : nameservers(readText('/etc/resolv.conf'));
    return list.map(parseUpstream).filter((u): u is Upstream => !!u);
  }

  // ---- containers: create ----

  /** Validates the create body's networking, fills Config/HostConfig, stores the endpoint configuration. */
  prepareCreate(id: string, body: Record<string, any>, imageConfig: Record<string, any>, config: Record<string, any>, hostConfig: Record<string, any>): void {
    const mode = netModeOf({ HostConfig: hostConfig });
    const exposed: Record<string, object> = { ...(imageConfig.ExposedPorts ?? {}), ...(body.ExposedPorts ?? {}) };
    for (const k of Object.keys(hostConfig.PortBindings ?? {})) exposed[k.includes('/') ? k : `${k}/tcp`] ??= {};
    if (Object.keys(exposed).length) config.ExposedPorts = exposed;
    if (body.MacAddress) {
      if (!validMac(body.MacAddress)) throw invalidArgument(`invalid MAC address: ${body.MacAddress}`);
      config.MacAddress = body.MacAddress;
    }
    const hc = (body.HostConfig ?? {}) as Record<string, any>;
    hostConfig.PublishAllPorts = !!hc.PublishAllPorts;
    hostConfig.Links = hc.Links?.length ? hc.Links : null;
    for (const l of (hostConfig.Links as string[] | null) ?? []) {
      if (mode === 'host') throw invalidArgument("conflicting options: host type networking can't be used with links. This would result in undefined behavior");
      this.containers.resolve(parseLink(l).name);
    }
    portRequests(hostConfig.PortBindings, exposed, false); // validates
    parseExtraHosts(hostConfig.ExtraHosts, '0.0.0.0'); // validates
    const eps = (body.NetworkingConfig?.EndpointsConfig ?? {}) as Record<string, Partial<EndpointConfig>>;
    const names = Object.keys(eps);
    if (names.length > 1) throw invalidArgument(`Container cannot be connected to network endpoints: ${names.join(', ')}`);
    if (mode === 'host' || mode === 'none') {
      this.find(mode);
      if (mode === 'host' && !body.Hostname) config.Hostname = os.hostname();
      if (Object.keys(hostConfig.PortBindings ?? {}).length && mode === 'host') hostConfig.PortBindings = {};
      return;
    }
    if (mode.startsWith('container:')) {
      const ref = mode.slice('container:'.length);
      const other = this.containers.resolve(ref);
      if (other.Id === id) throw invalidArgument('cannot join own network');
      if (body.Hostname) throw invalidArgument('conflicting options: hostname and the network mode');
      if (Object.keys(hostConfig.PortBindings ?? {}).length || hostConfig.PublishAllPorts) throw invalidArgument('conflicting options: port publishing and the container type network mode');
      if (body.MacAddress) throw invalidArgument('conflicting options: mac-address and the network mode');
      config.Hostname = other.Config.Hostname;
      return;
    }
    const n = this.find(mode);
    if (n.Driver !== 'bridge') throw invalidArgument(`network ${mode} cannot be used as a container's network mode`);
    const cfg = eps[names[0]] ?? eps[mode] ?? {};
    const endpoint = this.endpointConfig(n, cfg, body.MacAddress as string | undefined);
    this.insertEndpoint(id, n, endpoint);
  }

  private endpointConfig(n: NetworkRecord, cfg: Partial<EndpointConfig>, mac?: string): EndpointConfig {
    const ip = cfg.IPAMConfig?.IPv4Address;
    const aliases = cfg.Aliases ?? null;
    if (n.berth.predefined) {
      if (ip || cfg.IPAMConfig?.IPv6Address) throw invalidArgument('user specified IP address is supported on user defined networks only');
      if (aliases?.length) throw invalidArgument('network-scoped alias is supported only for containers in user defined networks');
    }
    if (ip) {
      if (!n.berth.userSubnet) throw invalidArgument('user specified IP address is supported only when connecting to networks with user configured subnets');
      const a = parseIp(ip);
      if (a === undefined) throw invalidArgument(`invalid IPv4 address: ${ip}`);
      if (!contains(parseCidr(n.berth.subnet!)!, a)) throw invalidArgument(`no configured subnet or ip-range contain the IP address ${ip}`);
    }
    const ip6 = cfg.IPAMConfig?.IPv6Address;
    if (ip6) {
      const a = parseIp6(ip6);
      if (a === undefined) throw invalidArgument(`invalid IPv6 address: ${ip6}`);
      const subnet6 = n.berth.subnet6 && parseCidr6(n.berth.subnet6);
      if (!subnet6 || !n.berth.userSubnet6) throw invalidArgument('user specified IP address is supported only when connecting to networks with user configured subnets');
      if (!contains6(subnet6, a)) throw invalidArgument(`no configured subnet or ip-range contain the IP address ${ip6}`);
    }
    for (const l of cfg.Links ?? []) parseLink(l); // validates
    const m = cfg.MacAddress || mac || '';
    if (m && !validMac(m)) throw invalidArgument(`invalid MAC address: ${m}`);
    return { IPAMConfig: cfg.IPAMConfig && Object.keys(cfg.IPAMConfig).length ? cfg.IPAMConfig : null, Aliases: aliases, MacAddress: m, Links: cfg.Links ?? null, DriverOpts: cfg.DriverOpts ?? null };
  }

  // ---- containers: start and exit ----

  async setup(c: ContainerView): Promise<NetSetup> {
    const mode = netModeOf(c);
    const gw = this.opts.hostGatewayIp ?? this.defaultBridge()?.berth.gateway;
    const extra = parseExtraHosts(c.HostConfig.ExtraHosts, gw);
    if (mode === 'host') {
      let hosts = readText('/etc/hosts');
      if (hosts && !hosts.endsWith('\n')) hosts += '\n';
      for (const e of extra) hosts += `${e.ip}\t${e.name}\n`;
      const dnsSet = [c.HostConfig.Dns, c.HostConfig.DnsSearch, c.HostConfig.DnsOptions, this.opts.dns].some((l) => (l as string[] | undefined)?.length);
      const resolv = dnsSet ? resolvConf(c.HostConfig.Dns ?? [], c.HostConfig.DnsSearch ?? [], c.HostConfig.DnsOptions ?? [], this.opts.dns) : readText('/etc/resolv.conf');
      return { netns: 'host', hosts, resolvConf: resolv };
    }
    if (mode.startsWith('container:')) {
      const other = this.containers.resolve(mode.slice('container:'.length));
      if (!other.State.Running) throw conflict(`cannot join network of a non running container: ${other.Id}`);
      const osb = this.sandbox(other.Id);
      const p = this.containers.paths(other.Id);
      const ns: NetSetup['netns'] = osb && isNetns(osb.netns) ? { path: osb.netns } : netModeOf(other) === 'host' ? 'host' : { path: `/proc/${other.State.Pid}/ns/net` };
      return { netns: ns, hosts: readText(p.hosts), resolvConf: readText(p.resolvConf) };
    }
    const eps = mode === 'none' ? [] : this.endpointsOf(c.Id);
    const nets = eps.map((ep) => {
      const n = this.byId(ep.networkId);
      if (!n) throw notFound(`network ${ep.networkName} not found`);
      return n;
    });
    const links = mode === 'bridge' ? this.linkTargets(c) : []; // before anything is made: it may refuse the start
    if (this.sandbox(c.Id)) await this.teardown(c.Id); // what an earlier run left
    const sb: Sandbox = { id: randomHex(32), netns: path.join(this.netnsDir, c.Id), ports: [] };
    this.saveSandbox(c.Id, sb); // first: a crash from here on is undone by reconcile()
    const epIds = eps.map(() => randomHex(32));
    if (eps.length) {
      const reqs = portRequests(c.HostConfig.PortBindings, c.Config.ExposedPorts, !!c.HostConfig.PublishAllPorts);
      if (reqs.length) {
        try {
          const held = await holdPorts(reqs, (cp) => this.relayTarget(c.Id, cp));
          this.held.set(c.Id, held);
          sb.ports = held.map((h) => h.mapping);
          this.saveSandbox(c.Id, sb);
        } catch (e) {
          if (e instanceof BerthError) throw new BerthError(e.kind, `driver failed programming external connectivity on endpoint ${c.Name.slice(1)} (${epIds[0]}): ${e.message}`);
          throw e;
        }
      }
    }
    createNetns(sb.netns);
    const lo = this.cni.exec('ADD', loopbackConf(), { containerId: c.Id, netns: sb.netns, ifname: 'lo' });
    lo.catch(() => undefined); // awaited below; the interfaces are plumbed meanwhile
    let routed = false;
    const states: EndpointState[] = [];
    for (let i = 0; i < eps.length; i++) {
      const wantRoute: boolean = !routed && !nets[i].Internal;
      states.push(await this.plumb(c, nets[i], eps[i], `eth${i}`, sb.netns, wantRoute, epIds[i], i === 0));
      routed ||= wantRoute;
    }
    await lo;
    if (sb.ports.length) await this.firewall.sync();
    extra.push(...links.map(({ link, target }) => linkHost(link, target)));
    const hosts = hostsFile(extra, states.length ? this.hostsSelf(c, states) : undefined, loopbackIPv6(c.HostConfig.Sysctls as Record<string, string> | undefined));
    const userNet = nets.find((n) => this.isUserBridge(n));
    const resolv = userNet
      ? userNetworkResolvConf(userNet.berth.gateway!, c.HostConfig.DnsSearch ?? [], c.HostConfig.DnsOptions ?? [], readText('/etc/resolv.conf'))
      : resolvConf(c.HostConfig.Dns ?? [], c.HostConfig.DnsSearch ?? [], c.HostConfig.DnsOptions ?? [], this.opts.dns);
    return { netns: { path: sb.netns }, hosts, resolvConf: resolv, env: links.flatMap(({ link, target }) => linkEnv(c.Name.slice(1), link, target)) };
  }

  /** The running containers `c` links to on the default bridge (Docker refuses to start without them). */
  private linkTargets(c: ContainerView): { link: Link; target: LinkTarget }[] {
    const bridge = this.defaultBridge();
    return ((c.HostConfig.Links as string[] | null) ?? []).map((s) => {
      const link = parseLink(s);
      const child = this.containers.resolve(link.name);
      const ep = bridge && this.endpointsOf(child.Id).find((e) => e.networkId === bridge.Id);
      if (!child.State.Running) throw conflict(`Cannot link to a non running container: ${child.Name} AS /${c.Name.slice(1)}/${link.alias}`);
      if (!ep?.state) throw invalidArgument(`Cannot link to ${child.Name}, as it does not belong to the default network`);
      const target: LinkTarget = { name: child.Name.slice(1), hostname: child.Config.Hostname as string, ip: ep.state.IPAddress, exposed: Object.keys(child.Config.ExposedPorts ?? {}), env: (child.Config.Env as string[]) ?? [] };
      return { link, target };
    });
  }

  /** The container's own lines of /etc/hosts: its addresses on each network (IPv4, then IPv6). */
  private hostsSelf(c: ContainerView, states: EndpointState[]): HostsSelf {
    return { ips: states.flatMap(hostsIps), hostname: c.Config.Hostname as string, domainname: c.Config.Domainname as string };
  }

  /**
   * Changes a running container's /etc/hosts in place: the file is bind-mounted into the
   * container, so it keeps its inode (no rename) and the container sees the change at once.
   */
  private editHosts(c: ContainerView, edit: (text: string) => string): void {
    const file = this.containers.paths(c.Id).hosts;
    try {
      fs.writeFileSync(file, edit(fs.readFileSync(file, 'utf8')));
    } catch (e) {
      this.opts.log('warn', `container ${c.Id}: cannot update /etc/hosts: ${(e as Error).message}`);
    }
  }

  /** Leases addresses and plugs the container into the network's bridge as `ifname`. */
  private async plumb(c: ContainerView, n: NetworkRecord, ep: EndpointRow, ifname: string, netns: string, defaultRoute: boolean, endpointId: string, primary: boolean): Promise<EndpointState> {
    const pool = this.poolOf(n);
    const ip = this.ipam.allocate(n.Id, pool, c.Id, ep.config.IPAMConfig?.IPv4Address || undefined);
    const mac = ep.config.MacAddress || (primary ? (c.Config.MacAddress as string | undefined) : undefined) || macFromIp(ip);
    const st: EndpointState = { EndpointID: endpointId, IPAddress: ip, IPPrefixLen: pool.subnet.bits, Gateway: n.berth.gateway!, MacAddress: mac, ifname };
    const pool6 = this.poolOf6(n);
    if (pool6) {
      st.GlobalIPv6Address = this.ipam.allocate6(n.Id, pool6, c.Id, ep.config.IPAMConfig?.IPv6Address || undefined);
      st.GlobalIPv6PrefixLen = pool6.subnet.bits;
      st.IPv6Gateway = n.berth.gateway6;
    }
    this.setState(c.Id, n.Id, st);
    await this.cni.exec('ADD', this.cniConf(n, st, defaultRoute), { containerId: c.Id, netns, ifname });
    // IPv6 on the interface only when its network has it (Docker 26+: no fe80:: on IPv4-only networks)
    if (!pool6) setInterfaceIPv6(netns, ifname, false);
    this.opts.emit?.('connect', n, { container: c.Id, type: 'bridge' });
    return st;
  }

  private cniConf(n: NetworkRecord, st: EndpointState, defaultRoute: boolean): Record<string, unknown> {
    const v6 = st.GlobalIPv6Address ? { address: `${st.GlobalIPv6Address}/${st.GlobalIPv6PrefixLen}`, gateway: st.IPv6Gateway! } : undefined;
    return bridgeConf({ network: n.Name, bridge: n.berth.bridge!, mtu: n.berth.mtu ?? 1500, address: `${st.IPAddress}/${st.IPPrefixLen}`, gateway: st.Gateway, v6, mac: st.MacAddress, defaultRoute });
  }

  private async unplumb(containerId: string, ep: EndpointRow, netns: string | undefined, live = true): Promise<void> {
    const n = this.byId(ep.networkId);
    if (live && ep.state && n?.berth.bridge && netns && isNetns(netns)) {
      const conf = this.cniConf(n, ep.state, false);
      await this.cni.exec('DEL', conf, { containerId, netns, ifname: ep.state.ifname }).catch((e) => this.opts.log('warn', `CNI DEL ${containerId} ${ep.state?.ifname}: ${(e as Error).message}`));
    }
    this.setState(containerId, ep.networkId, null);
    this.ipam.release(ep.networkId, containerId);
    if (n) this.opts.emit?.('disconnect', n, { container: containerId, type: 'bridge' });
  }

  /** Undoes setup(): ports, interfaces, leases, the namespace. Idempotent. */
  async teardown(id: string): Promise<void> {
    for (const h of this.held.get(id) ?? []) h.close();
    this.held.delete(id);
    const sb = this.sandbox(id);
    // Without a process in it the namespace dies with its mount, and its veths with it; the
    // plugin's DEL (~40 ms each) is needed only while containers that joined it still run.
    const live = this.joinedBy(id);
    for (const ep of this.endpointsOf(id)) if (ep.state) await this.unplumb(id, ep, sb?.netns, live);
    this.ipam.releaseOwner(id);
    if (!sb) return;
    removeNetns(sb.netns);
    this.db.prepare('DELETE FROM net_sandboxes WHERE container_id = ?').run(id);
    if (sb.ports.length) await this.firewall.sync();
  }

  /** Does a running container share this container's namespace (`--network container:`)? */
  private joinedBy(id: string): boolean {
    return this.containers.all().some((c) => {
      const m = netModeOf(c);
      if (!c.State.Running || !m.startsWith('container:')) return false;
      try {
        return this.containers.resolve(m.slice('container:'.length)).Id === id;
      } catch {
        return false;
      }
    });
  }

  /** The container is removed: its endpoint configuration goes. */
  forget(id: string): void {
    this.db.prepare('DELETE FROM net_endpoints WHERE container_id = ?').run(id);
    this.ipam.releaseOwner(id);
  }

  // ---- containers: inspect ----

  /** NetworkSettings of `GET /containers/{id}/json`. */
  settings(c: ContainerView): Record<string, unknown> {
    const mode = netModeOf(c);
    const sb = c.State.Running ? this.sandbox(c.Id) : undefined;
    const networks: Record<string, Record<string, unknown>> = {};
    if (mode === 'host' || mode === 'none') {
      const n = this.byName(mode);
      networks[mode] = emptyEndpoint(n?.Id ?? '');
      if (c.State.Running && n) networks[mode].EndpointID = hexOf(c.Id, n.Id);
    } else if (!mode.startsWith('container:')) {
      for (const ep of this.endpointsOf(c.Id)) {
        const n = this.byId(ep.networkId);
        const e = emptyEndpoint(ep.networkId);
        e.IPAMConfig = ep.config.IPAMConfig;
        e.Aliases = n && this.isUserBridge(n) ? [...(ep.config.Aliases ?? []), c.Id.slice(0, 12)] : ep.config.Aliases;
        e.DriverOpts = ep.config.DriverOpts;
        if (ep.state && c.State.Running) {
          e.EndpointID = ep.state.EndpointID;
          e.Gateway = ep.state.Gateway;
          e.IPAddress = ep.state.IPAddress;
          e.IPPrefixLen = ep.state.IPPrefixLen;
          e.MacAddress = ep.state.MacAddress;
          e.GlobalIPv6Address = ep.state.GlobalIPv6Address ?? '';
          e.GlobalIPv6PrefixLen = ep.state.GlobalIPv6PrefixLen ?? 0;
          e.IPv6Gateway = ep.state.IPv6Gateway ?? '';
        }
        networks[n?.Name ?? ep.networkName] = e;
      }
    }
    const ports: Record<string, { HostIp: string; HostPort: string }[] | null> = {};
    if (sb) {
      for (const k of Object.keys(c.Config.ExposedPorts ?? {})) ports[k.includes('/') ? k : `${k}/tcp`] = null;
      for (const m of sb.ports) (ports[`${m.containerPort}/${m.proto}`] ??= []).push({ HostIp: m.hostIp || '0.0.0.0', HostPort: String(m.hostPort) });
    }
    const br = networks.bridge;
    return {
      Bridge: '',
      SandboxID: sb?.id ?? '',
      HairpinMode: false,
      LinkLocalIPv6Address: '',
      LinkLocalIPv6PrefixLen: 0,
      Ports: ports,
      SandboxKey: sb?.netns ?? '',
      SecondaryIPAddresses: null,
      SecondaryIPv6Addresses: null,
      EndpointID: (br?.EndpointID as string) ?? '',
      Gateway: (br?.Gateway as string) ?? '',
      GlobalIPv6Address: (br?.GlobalIPv6Address as string) ?? '',
      GlobalIPv6PrefixLen: (br?.GlobalIPv6PrefixLen as number) ?? 0,
      IPAddress: (br?.IPAddress as string) ?? '',
      IPPrefixLen: (br?.IPPrefixLen as number) ?? 0,
      IPv6Gateway: (br?.IPv6Gateway as string) ?? '',
      MacAddress: (br?.MacAddress as string) ?? '',
      Networks: networks,
    };
  }

  /** `Ports` of `GET /containers/json`. */
  summaryPorts(c: ContainerView): { IP?: string; PrivatePort: number; PublicPort?: number; Type: string }[] {
    const out: { IP?: string; PrivatePort: number; PublicPort?: number; Type: string }[] = [];
    const sb = c.State.Running ? this.sandbox(c.Id) : undefined;
    const published = new Set<string>();
    for (const m of sb?.ports ?? []) {
      published.add(`${m.containerPort}/${m.proto}`);
      out.push({ IP: m.hostIp || '0.0.0.0', PrivatePort: m.containerPort, PublicPort: m.hostPort, Type: m.proto });
    }
    for (const k of Object.keys(c.Config.ExposedPorts ?? {})) {
      const [p, proto = 'tcp'] = k.split('/');
      if (!published.has(`${p}/${proto}`)) out.push({ PrivatePort: Number(p), Type: proto });
    }
    return out;
  }

  // ---- the /networks API ----

  private isUsed(n: NetworkRecord): boolean {
    return this.endpointsOn(n.Id).some((e) => this.containers.get(e.containerId));
  }

  list(filters: Record<string, string[]>): NetworkRecord[] {
    return this.all().filter((n) => matchNetwork(n, filters, (x) => this.isUsed(x)));
  }

  /** `GET /networks/{id}` (and the list's entries): Docker's fields with `Containers`. */
  inspect(n: NetworkRecord): Record<string, unknown> {
    const containers: Record<string, unknown> = {};
    for (const ep of this.endpointsOn(n.Id)) {
      if (!ep.state) continue;
      const c = this.containers.get(ep.containerId);
      if (!c?.State.Running) continue;
      containers[c.Id] = { Name: c.Name.slice(1), EndpointID: ep.state.EndpointID, MacAddress: ep.state.MacAddress, IPv4Address: `${ep.state.IPAddress}/${ep.state.IPPrefixLen}`, IPv6Address: ep.state.GlobalIPv6Address ? `${ep.state.GlobalIPv6Address}/${ep.state.GlobalIPv6PrefixLen}` : '' };
    }
    if (n.Driver !== 'bridge') {
      for (const c of this.containers.all()) {
        if (c.State.Running && netModeOf(c) === n.Name) containers[c.Id] = { Name: c.Name.slice(1), EndpointID: hexOf(c.Id, n.Id), MacAddress: '', IPv4Address: '', IPv6Address: '' };
      }
    }
    return { ...publicNetwork(n), Containers: containers };
  }

  async create(body: Record<string, any>): Promise<{ Id: string; Warning: string }> {
    const name = body.Name;
    if (typeof name !== 'string' || !name) throw invalidArgument('network name is required');
    if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(name)) throw invalidArgument(`invalid network name "${name}"`);
    if (this.byName(name)) throw conflict(`network with name ${name} already exists`);
    const driver = (body.Driver as string) || 'bridge';
    if (driver === 'host' || driver === 'null') throw forbidden(`only one instance of "${driver}" network is allowed`);
    if (driver !== 'bridge') throw notFound(`plugin "${driver}" not found`);
    const all = ((body.IPAM?.Config as Record<string, string>[] | null) ?? []).filter((c) => c && Object.keys(c).length);
    const isV6 = (c: Record<string, string>): boolean => [c.Subnet, c.Gateway, c.IPRange].some((x) => x?.includes(':'));
    const cfgs = all.filter((c) => !isV6(c));
    const cfgs6 = all.filter(isV6);
    if (cfgs6.length && !body.EnableIPv6) throw invalidArgument('IPv6 subnet provided without --ipv6');
    if (cfgs.length > 1) throw notImplemented('networks with several IPv4 subnets are not supported by berth yet');
    if (cfgs6.length > 1) throw notImplemented('networks with several IPv6 subnets are not supported by berth yet');
    const cfg = cfgs[0] ?? {};
    const options = (body.Options ?? {}) as Record<string, string>;
    const id = randomHex(32);
    const v6 = body.EnableIPv6 ? this.ipv6Config(cfgs6[0] ?? {}, id) : undefined;
    let subnet: Cidr;
    if (cfg.Subnet) {
      const s = parseCidr(cfg.Subnet);
      if (!s) throw invalidArgument(`invalid subnet ${cfg.Subnet}: invalid CIDR address: ${cfg.Subnet}`);
      subnet = s;
      if (this.all().some((n) => n.berth.subnet && overlaps(parseCidr(n.berth.subnet)!, s))) throw forbidden('Pool overlaps with other one on this address space');
    } else {
      if (cfg.Gateway || cfg.IPRange) throw invalidArgument('IP range and gateway need a subnet (--subnet)');
      subnet = this.pickSubnet();
    }
    let gateway = subnet.base + 1;
    if (cfg.Gateway) {
      const g = parseIp(cfg.Gateway);
      if (g === undefined || !contains(subnet, g)) throw invalidArgument(`no matching subnet for gateway ${cfg.Gateway}`);
      gateway = g;
    }
    let ipRange: Cidr | undefined;
    if (cfg.IPRange) {
      ipRange = parseCidr(cfg.IPRange);
      if (!ipRange || !contains(subnet, ipRange.base) || ipRange.bits < subnet.bits) throw invalidArgument(`no matching subnet for range ${cfg.IPRange}`);
    }
    const bridge = options['com.docker.network.bridge.name'] || `br-${id.slice(0, 12)}`;
    if (!IFNAME_RE.test(bridge)) throw invalidArgument(`invalid bridge name ${bridge}: at most 15 characters of [a-zA-Z0-9_.-]`);
    if (this.all().some((n) => n.berth.bridge === bridge)) throw conflict(`bridge ${bridge} is used by another network`);
    const ownsBridge = !fs.existsSync(`/sys/class/net/${bridge}`);
    const mtu = Number(options['com.docker.network.driver.mtu'] ?? 1500);
    if (!Number.isInteger(mtu) || mtu < 68 || mtu > 65535) throw invalidArgument(`invalid MTU ${options['com.docker.network.driver.mtu']}`);
    const ipamEntry: Record<string, string> = { Subnet: formatCidr(subnet), Gateway: formatIp(gateway) };
    if (ipRange) ipamEntry.IPRange = formatCidr(ipRange);
    const ipamEntries = [ipamEntry];
    if (v6) ipamEntries.push({ Subnet: v6.subnet6!, Gateway: v6.gateway6!, ...(v6.ipRange6 ? { IPRange: v6.ipRange6 } : {}) });
    const n: NetworkRecord = {
      ...this.baseRecord(name, 'bridge', id),
      EnableIPv6: !!v6,
      IPAM: { Driver: (body.IPAM?.Driver as string) || 'default', Options: (body.IPAM?.Options as Record<string, string>) ?? {}, Config: ipamEntries },
      Internal: !!body.Internal,
      Attachable: !!body.Attachable,
      Options: options,
      Labels: (body.Labels as Record<string, string>) ?? {},
      berth: {
        predefined: false,
        bridge,
        ownsBridge,
        subnet: formatCidr(subnet),
        gateway: formatIp(gateway),
        ipRange: ipRange && formatCidr(ipRange),
        userSubnet: !!cfg.Subnet,
        mtu,
        masquerade: options['com.docker.network.bridge.enable_ip_masquerade'] !== 'false',
        ...v6,
      },
    };
    this.saveNetwork(n);
    try {
      await this.ensureBridge(n);
      await this.startDns(n);
      await this.firewall.sync();
    } catch (e) {
      this.dns.close(n.Id);
      this.db.prepare('DELETE FROM networks WHERE id = ?').run(n.Id);
      if (ownsBridge) await this.deleteBridge(bridge);
      await this.firewall.sync().catch(() => undefined);
      throw e;
    }
    this.opts.emit?.('create', n, { type: 'bridge' });
    return { Id: n.Id, Warning: '' };
  }

  /**
   * A dual-stack network's IPv6 subnet, gateway and range: the given ones (checked against the
   * daemon's other networks and the host's routes), else a free /64 of fd00::/8.
   */
  private ipv6Config(cfg: Record<string, string>, id: string, self?: NetworkRecord): Pick<NetworkRecord['berth'], 'subnet6' | 'gateway6' | 'ipRange6' | 'userSubnet6'> {
    // (`self`: the network being re-made; its own bridge's route and record do not count)
    const others = this.all().filter((n) => n.Id !== self?.Id);
    const taken = [...parseProcRoutes6(readText('/proc/net/ipv6_route'), self?.berth.bridge), ...others.flatMap((n) => (n.berth.subnet6 ? [parseCidr6(n.berth.subnet6)!] : []))];
    let subnet: Cidr6 | undefined;
    if (cfg.Subnet) {
      subnet = parseCidr6(cfg.Subnet);
      if (!subnet) throw invalidArgument(`invalid subnet ${cfg.Subnet}: invalid CIDR address: ${cfg.Subnet}`);
      if (subnet.bits > 126) throw invalidArgument(`invalid subnet ${cfg.Subnet}: the prefix is too long for containers' addresses`);
      const s = subnet;
      if (taken.some((t) => overlaps6(t, s))) throw forbidden('Pool overlaps with other one on this address space');
    } else {
      if (cfg.Gateway || cfg.IPRange) throw invalidArgument('IP range and gateway need a subnet (--subnet)');
      for (let i = 0; i < 16 && !subnet; i++) {
        const cand = ulaSubnet(id, i);
        if (!taken.some((t) => overlaps6(t, cand))) subnet = cand;
      }
      if (!subnet) throw new BerthError('unavailable', 'could not find an available, non-overlapping IPv6 address pool');
    }
    let gateway = subnet.base + 1n;
    if (cfg.Gateway) {
      const g = parseIp6(cfg.Gateway);
      if (g === undefined || !contains6(subnet, g)) throw invalidArgument(`no matching subnet for gateway ${cfg.Gateway}`);
      gateway = g;
    }
    let ipRange6: string | undefined;
    if (cfg.IPRange) {
      const r = parseCidr6(cfg.IPRange);
      if (!r || !contains6(subnet, r.base) || r.bits < subnet.bits) throw invalidArgument(`no matching subnet for range ${cfg.IPRange}`);
      ipRange6 = formatCidr6(r);
    }
    return { subnet6: formatCidr6(subnet), gateway6: formatIp6(gateway), ipRange6, userSubnet6: !!cfg.Subnet };
  }

  async remove(ref: string): Promise<void> {
    const n = this.find(ref);
    if (n.berth.predefined) throw forbidden(`${n.Name} is a pre-defined network and cannot be removed`);
    const active = this.endpointsOn(n.Id).filter((e) => e.state && this.containers.get(e.containerId)?.State.Running);
    if (active.length) throw conflict(`error while removing network: network ${n.Name} id ${n.Id} has active endpoints`);
    this.dns.close(n.Id);
    this.db.prepare('DELETE FROM networks WHERE id = ?').run(n.Id);
    this.ipam.releaseNetwork(n.Id);
    if (n.berth.bridge && n.berth.ownsBridge) await this.deleteBridge(n.berth.bridge);
    await this.firewall.sync();
    this.opts.emit?.('destroy', n, { type: 'bridge' });
  }

  async prune(filters: Record<string, string[]>): Promise<string[]> {
    const until = filters.until?.[0];
    const untilMs = until ? parseUntil(until) : undefined;
    const labelFilters = { label: filters.label ?? [] };
    const deleted: string[] = [];
    for (const n of this.all()) {
      if (n.berth.predefined || this.isUsed(n)) continue;
      if (untilMs !== undefined && new Date(n.Created).getTime() >= untilMs) continue;
      if (!matchNetwork(n, labelFilters, () => false)) continue;
      if (filters['label!']?.some((v) => matchNetwork(n, { label: [v] }, () => false))) continue;
      try {
        await this.remove(n.Id);
        deleted.push(n.Name);
      } catch (e) {
        this.opts.log('warn', `prune ${n.Name}: ${(e as Error).message}`);
      }
    }
    return deleted;
  }

  async connect(netRef: string, containerRef: string, cfg: Partial<EndpointConfig>): Promise<void> {
    const n = this.find(netRef);
    const c = this.containers.resolve(containerRef);
    const mode = netModeOf(c);
    if (n.Driver !== 'bridge') throw forbidden(`container cannot be disconnected from host network or connected to host network`);
    if (mode === 'host') throw forbidden('container cannot be disconnected from host network or connected to host network');
    if (mode === 'none') throw forbidden('container cannot be connected to multiple networks with one of the networks in private (none) mode');
    if (mode.startsWith('container:')) throw forbidden('container sharing network namespace with another container or host cannot be connected to any other network');
    if (this.endpointsOf(c.Id).some((e) => e.networkId === n.Id)) throw forbidden(`endpoint with name ${c.Name.slice(1)} already exists in network ${n.Name}`);
    const config = this.endpointConfig(n, cfg ?? {});
    this.insertEndpoint(c.Id, n, config);
    if (c.State.Running) {
      const sb = this.sandbox(c.Id);
      const row = this.endpointsOf(c.Id).find((e) => e.networkId === n.Id)!;
      try {
        if (!sb || !isNetns(sb.netns)) throw new BerthError('internal', `container ${c.Id} has no network namespace`);
        const active = this.endpointsOf(c.Id).filter((e) => e.state);
        const used = new Set(active.map((e) => e.state!.ifname));
        let k = 0;
        while (used.has(`eth${k}`)) k++;
        const routed = active.some((e) => !this.byId(e.networkId)?.Internal);
        const st = await this.plumb(c, n, row, `eth${k}`, sb.netns, !routed && !n.Internal, randomHex(32), active.length === 0);
        this.editHosts(c, (text) => addHostsEntries(text, this.hostsSelf(c, [st])));
      } catch (e) {
        await this.unplumb(c.Id, row, sb?.netns);
        this.db.prepare('DELETE FROM net_endpoints WHERE container_id = ? AND network_id = ?').run(c.Id, n.Id);
        throw e;
      }
    } else {
      this.opts.emit?.('connect', n, { container: c.Id, type: 'bridge' });
    }
  }

  async disconnect(netRef: string, containerRef: string, _force: boolean): Promise<void> {
    const n = this.find(netRef);
    const c = this.containers.resolve(containerRef);
    const mode = netModeOf(c);
    if (mode === 'host' && n.Name === 'host') throw forbidden('container cannot be disconnected from host network or connected to host network');
    const row = this.endpointsOf(c.Id).find((e) => e.networkId === n.Id);
    if (!row) throw forbidden(`container ${c.Id} is not connected to network ${n.Name}`);
    const sb = this.sandbox(c.Id);
    if (row.state) {
      await this.unplumb(c.Id, row, sb?.netns);
      const st = row.state;
      this.editHosts(c, (text) => removeHostsEntries(text, this.hostsSelf(c, [st])));
    }
    this.db.prepare('DELETE FROM net_endpoints WHERE container_id = ? AND network_id = ?').run(c.Id, n.Id);
    if (sb?.ports.length) await this.firewall.sync();
    if (!row.state) this.opts.emit?.('disconnect', n, { container: c.Id, type: 'bridge' });
  }
}

function hostsIps(st: EndpointState): string[] {
  return st.GlobalIPv6Address ? [st.IPAddress, st.GlobalIPv6Address] : [st.IPAddress];
}

function parseUpstream(s: string): Upstream | undefined {
  const m = /^(\d+\.\d+\.\d+\.\d+)(?::(\d+))?$/.exec(s.trim());
  if (!m) return undefined;
  return { host: m[1], port: m[2] ? Number(m[2]) : 53 };
}

function parseUntil(v: string): number {
  if (/^\d+(\.\d+)?$/.test(v)) return Number(v) * 1000;
  const d = /^(\d+)(s|m|h)$/.exec(v);
  if (d) return Date.now() - Number(d[1]) * { s: 1000, m: 60_000, h: 3_600_000 }[d[2] as 's' | 'm' | 'h'];
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw invalidArgument(`invalid filter 'until=${v}'`);
  return t;
}

/** A stable endpoint id for host/none endpoints (they have no state of their own). */
function hexOf(a: string, b: string): string {
  return crypto.createHash('sha256').update(`${a}/${b}`).digest('hex');
}
