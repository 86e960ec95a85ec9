/**
 * Docker's network model as berth stores it: networks (bridge, host, null drivers), the
 * endpoint configuration a container has on each of its networks (kept while it is stopped),
 * and the endpoint state while it runs. Plus the pure pieces built from them: /etc/hosts,
 * a user network's /etc/resolv.conf, MAC addresses, and the `GET /networks` filters.
 */
import { invalidArgument } from '../core/errors';
import { parseIp } from './ipv4';

export interface IpamConfigEntry {
  Subnet?: string;
  IPRange?: string;
  Gateway?: string;
  AuxiliaryAddresses?: Record<string, string>;
}

export interface NetworkRecord {
  Name: string;
  Id: string;
  Created: string;
  Scope: 'local';
  Driver: 'bridge' | 'host' | 'null';
  EnableIPv6: boolean;
  IPAM: { Driver: string; Options: Record<string, string> | null; Config: IpamConfigEntry[] };
  Internal: boolean;
  Attachable: boolean;
  Ingress: boolean;
  ConfigFrom: { Network: string };
  ConfigOnly: boolean;
  Options: Record<string, string>;
  Labels: Record<string, string>;
  /** berth's own (not shown by the API). */
  berth: {
    predefined: boolean;
    /** The bridge device (bridge driver). */
    bridge?: string;
    /** berth made the device (and removes it). */
    ownsBridge?: boolean;
    subnet?: string;
    gateway?: string;
    ipRange?: string;
    /** --subnet given: --ip is allowed. */
    userSubnet?: boolean;
    mtu?: number;
    masquerade?: boolean;
    /** The IPv6 subnet and gateway of a dual-stack network (--ipv6). */
    subnet6?: string;
    gateway6?: string;
    ipRange6?: string;
    /** An IPv6 --subnet given: --ip6 is allowed. */
    userSubnet6?: boolean;
  };
}

/** What a container asked for on one network (EndpointSettings' configuration part). */
export interface EndpointConfig {
  IPAMConfig: { IPv4Address?: string; IPv6Address?: string } | null;
  Aliases: string[] | null;
  MacAddress: string;
  Links: string[] | null;
  DriverOpts: Record<string, string> | null;
}

/** The endpoint while the container runs. */
export interface EndpointState {
  EndpointID: string;
  IPAddress: string;
  IPPrefixLen: number;
  Gateway: string;
  MacAddress: string;
  ifname: string;
  /** On an IPv6 network. */
  GlobalIPv6Address?: string;
  GlobalIPv6PrefixLen?: number;
  IPv6Gateway?: string;
}

/** 02:42 and the four bytes of the address, as Docker did before random MACs. */
export function macFromIp(ip: string): string {
  const n = parseIp(ip) ?? 0;
  const b = [2, 0x42, n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];
  return b.map((x) => x.toString(16).padStart(2, '0')).join(':');
}

export function validMac(mac: string): boolean {
  return /^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$/.test(mac);
}

/** `--add-host` entries: "name:ip" or "name=ip"; `host-gateway` becomes `gateway`. */
export function parseExtraHosts(entries: string[] | null | undefined, gateway: string | undefined): { name: string; ip: string }[] {
  const out: { name: string; ip: string }[] = [];
  for (const e of entries ?? []) {
    const i = e.includes('=') ? e.indexOf('=') : e.indexOf(':');
    if (i <= 0) throw invalidArgument(`invalid extra host: ${e}`);
    const name = e.slice(0, i);
    let ip = e.slice(i + 1).replace(/^\[|\]$/g, '');
    if (ip === 'host-gateway') {
      if (!gateway) throw invalidArgument('unable to derive the IP value for host-gateway');
      ip = gateway;
    }
    out.push({ name, ip });
  }
  return out;
}

const HOSTS_BASE = '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n';

/** What a container's /etc/hosts says about the container itself: its addresses and names. */
export interface HostsSelf {
  ips: string[];
  hostname: string;
  domainname?: string;
}

/**
 * Whether a container's namespace keeps ::1 on lo: IPv6 is on unless the user's --sysctl turns
 * it off for all interfaces or for lo (runc applies those after berth configured the namespace).
 */
export function loopbackIPv6(sysctls: Record<string, string> | undefined): boolean {
  const off = (k: string): boolean => (sysctls?.[k] ?? sysctls?.[k.replace(/\./g, '/')])?.trim() === '1';
  return !off('net.ipv6.conf.all.disable_ipv6') && !off('net.ipv6.conf.lo.disable_ipv6');
}

/**
 * The container's /etc/hosts, as Docker writes it: the defaults, extra hosts, then a line for
 * each of its own addresses (one per network and address family, in the order they came).
 */
export function hostsFile(extra: { name: string; ip: string }[], self: HostsSelf | undefined, ipv6 = true): string {
  // Docker 26+ leaves out the IPv6 lines when the container's lo has no ::1
  let s = ipv6 ? HOSTS_BASE : HOSTS_BASE.split('\n')[0] + '\n';
  for (const e of extra) s += `${e.ip}\t${e.name}\n`;
  return self ? addHostsEntries(s, self) : s;
}

/** Appends the container's lines for `self.ips` (a network connected while it runs). */
export function addHostsEntries(text: string, self: HostsSelf): string {
  const names = self.domainname ? `${self.hostname}.${self.domainname} ${self.hostname}` : self.hostname;
  let s = text && !text.endsWith('\n') ? `${text}\n` : text;
  for (const ip of self.ips) s += `${ip}\t${names}\n`;
  return s;
}

/** Drops the lines for `self.ips` with the container's names (a network disconnected); the rest stays as it is. */
export function removeHostsEntries(text: string, self: HostsSelf): string {
  const names = self.domainname ? `${self.hostname}.${self.domainname} ${self.hostname}` : self.hostname;
  const drop = new Set(self.ips.map((ip) => `${ip}\t${names}`));
  return text
    .split('\n')
    .filter((l) => !drop.has(l))
    .join('\n');
}

/** A user network's resolv.conf: berth's DNS server, the host's (or the given) search list, ndots:0. */
export function userNetworkResolvConf(nameserver: string, search: string[], options: string[], hostText: string): string {
  let hostSearch: string[] = [];
  let hostOptions: string[] = [];
  for (const line of hostText.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f[0] === 'search' || f[0] === 'domain') hostSearch = f.slice(1);
    if (f[0] === 'options') hostOptions = f.slice(1);
  }
  const s = search.length ? search : hostSearch;
  let opts = options.length ? options : hostOptions;
  if (!opts.some((o) => o.startsWith('ndots:'))) opts = ['ndots:0', ...opts];
  let out = '';
  if (s.length && !(s.length === 1 && s[0] === '.')) out += `search ${s.join(' ')}\n`;
  out += `nameserver ${nameserver}\n`;
  out += `options ${opts.join(' ')}\n`;
  return out;
}

/** Nameservers of a resolv.conf text. */
export function nameservers(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f[0] === 'nameserver' && f[1]) out.push(f[1]);
  }
  return out;
}

export function isLoopback(ip: string): boolean {
  return /^127\./.test(ip) || ip === '::1' || ip === 'localhost';
}

/** Docker's network filters: driver, id, label, name, scope, type, dangling. */
export function matchNetwork(n: NetworkRecord, filters: Record<string, string[]>, used: (n: NetworkRecord) => boolean): boolean {
  for (const [key, values] of Object.entries(filters)) {
    if (!values.length) continue;
    switch (key) {
      case 'driver':
        if (!values.includes(n.Driver)) return false;
        break;
      case 'id':
        if (!values.some((v) => n.Id.includes(v))) return false;
        break;
      case 'name':
        if (!values.some((v) => n.Name.includes(v))) return false;
        break;
      case 'label':
        for (const v of values) {
          const eq = v.indexOf('=');
          const k = eq >= 0 ? v.slice(0, eq) : v;
          if (!(k in n.Labels)) return false;
          if (eq >= 0 && n.Labels[k] !== v.slice(eq + 1)) return false;
        }
        break;
      case 'scope':
        if (!values.includes(n.Scope)) return false;
        break;
      case 'type': {
        for (const v of values) if (v !== 'custom' && v !== 'builtin') throw invalidArgument(`invalid filter: 'type'='${v}'`);
        const t = n.berth.predefined ? 'builtin' : 'custom';
        if (!values.includes(t)) return false;
        break;
      }
      case 'dangling': {
        const want = values[0] === 'true' || values[0] === '1';
        if (!['true', 'false', '1', '0'].includes(values[0])) throw invalidArgument(`invalid filter 'dangling=${values[0]}'`);
        if (n.berth.predefined) return false;
        if (used(n) === want) return false;
        break;
      }
      case 'until':
        break;
      default:
        throw invalidArgument(`invalid filter '${key}'`);
    }
  }
  return true;
}

/** The API's view of a network (without berth's bookkeeping). */
export function publicNetwork(n: NetworkRecord): Omit<NetworkRecord, 'berth'> {
  const { berth: _b, ...rest } = n;
  return rest;
}
