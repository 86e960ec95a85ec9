/**
 * Registry host names: Docker Hub's endpoint, loopback detection, and which hosts are "insecure"
 * (plain HTTP, or HTTPS without certificate verification, allowed): loopback always, others only
 * when named in insecure-registries by host[:port] or CIDR, as dockerd does.
 */
import net from 'node:net';
import dns from 'node:dns/promises';

export const DOCKER_HUB_ENDPOINT = 'registry-1.docker.io';

/** The host[:port] to connect to for a reference's domain: docker.io → registry-1.docker.io. */
export function registryEndpoint(domain: string): string {
  return domain === 'docker.io' || domain === 'index.docker.io' ? DOCKER_HUB_ENDPOINT : domain;
}

/** Splits host[:port] (IPv6 in brackets) into a bare host and an optional port. */
export function splitHostPort(authority: string): { host: string; port?: string } {
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(authority);
  if (v6) return { host: v6[1], port: v6[2] };
  const i = authority.lastIndexOf(':');
  if (i > 0 && authority.indexOf(':') === i) return { host: authority.slice(0, i), port: authority.slice(i + 1) };
  return { host: authority };
}

/** 127.0.0.0/8, ::1 (also as ::ffff:127.x) and localhost. Takes a bare host (no port, no brackets). */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (net.isIPv4(h)) return h.startsWith('127.');
  if (net.isIPv6(h)) return h === '::1' || /^(0+:){7}0*1$/.test(h) || /^::ffff:127\./.test(h);
  return false;
}

/** Whether credentials may be sent to this URL: over TLS, or to this machine. */
export function mayCarryCredentials(url: URL): boolean {
  return url.protocol === 'https:' || isLoopbackHost(url.hostname);
}

/** Decides insecure-ness of registry hosts for one client; CIDR entries resolve host names once. */
export class InsecureHosts {
  private readonly names = new Set<string>();
  private readonly blocks = new net.BlockList();
  private hasBlocks = false;
  private readonly cache = new Map<string, Promise<boolean>>();

  constructor(entries: string[] = []) {
    for (const raw of entries) {
      const e = raw.trim().replace(/^https?:\/\//, '').replace(/\/+$/, '').toLowerCase();
      const cidr = /^(.+)\/(\d{1,3})$/.exec(e);
      if (cidr && net.isIP(cidr[1])) {
        const type = net.isIPv4(cidr[1]) ? 'ipv4' : 'ipv6';
        this.blocks.addSubnet(cidr[1], Number(cidr[2]), type);
        this.hasBlocks = true;
      } else if (e) {
        this.names.add(e);
      }
    }
  }

  /** `authority` is host[:port] as in a reference or URL. */
  isInsecure(authority: string): Promise<boolean> {
    const key = authority.toLowerCase();
    let p = this.cache.get(key);
    if (!p) {
      p = this.decide(key);
      this.cache.set(key, p);
    }
    return p;
  }

  private async decide(authority: string): Promise<boolean> {
    const { host } = splitHostPort(authority);
    if (isLoopbackHost(host)) return true;
    if (this.names.has(authority)) return true; // exact host[:port], as dockerd matches index names
    if (!this.hasBlocks) return false;
    const check = (ip: string): boolean => this.blocks.check(ip, net.isIPv4(ip) ? 'ipv4' : 'ipv6');
    if (net.isIP(host)) return check(host);
    try {
      const addrs = await dns.lookup(host, { all: true });
      return addrs.some((a) => check(a.address));
    } catch {
      return false;
    }
  }
}
