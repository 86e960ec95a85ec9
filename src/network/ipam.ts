/**
 * berth's IPAM: subnets for networks and addresses for endpoints.
 *
 * Subnets come from a pool (10.213.0.0/16 in /24s unless configured), skipping every prefix the
 * host already routes and every subnet of the daemon's own networks. A daemon with a non-default
 * data root starts its search at an offset derived from it, so that daemons started together do
 * not race for the same prefix.
 *
 * Addresses are leases in SQLite (net_leases: network, address → container), taken in a
 * transaction; a container's leases are released when its endpoint goes away (stop, disconnect,
 * rm) and by the crash recovery of a restarted daemon for containers that are no longer running.
 */
import type { DB } from '../daemon/db';
import { BerthError, conflict, invalidArgument } from '../core/errors';
import { type Cidr, contains, formatIp, last, overlaps, parseIp } from './ipv4';
import { type Cidr6, contains6, formatIp6, last6, parseIp6 } from './ipv6';

export const LEASES_SCHEMA = `
CREATE TABLE IF NOT EXISTS net_leases(
  network_id TEXT NOT NULL, ip TEXT NOT NULL, container_id TEXT NOT NULL, PRIMARY KEY(network_id, ip));
CREATE INDEX IF NOT EXISTS net_leases_container ON net_leases(container_id);
`;

export interface Pool {
  subnet: Cidr;
  gateway: number;
  /** Where dynamic addresses come from (--ip-range); the whole subnet when absent. */
  range?: Cidr;
}

export interface Pool6 {
  subnet: Cidr6;
  gateway: bigint;
  range?: Cidr6;
}

/** How far the search for a free IPv6 address goes before it gives up (a /64 never fills). */
const V6_SEARCH = 65_536;

/** The first /`bits` in `pool` (from `start`, wrapping) that overlaps nothing in `taken`. */
export function chooseSubnet(pool: Cidr, bits: number, taken: Cidr[], start = 0): Cidr | undefined {
  const count = 2 ** (bits - pool.bits);
  for (let i = 0; i < count; i++) {
    const idx = (start + i) % count;
    const cand: Cidr = { base: pool.base + idx * 2 ** (32 - bits), bits };
    if (!taken.some((t) => overlaps(t, cand))) return cand;
  }
  return undefined;
}

export class Ipam {
  constructor(private readonly db: DB) {
    db.exec(LEASES_SCHEMA);
  }

  /**
   * Leases an address of `pool` on `networkId` to `owner`: the requested one (must be free and in
   * the subnet), else the lowest free one in the range. Network, broadcast and gateway addresses
   * are never given out.
   */
  allocate(networkId: string, pool: Pool, owner: string, requested?: string): string {
    return this.db.transaction(() => {
      const used = new Set((this.db.prepare('SELECT ip FROM net_leases WHERE network_id = ?').all(networkId) as { ip: string }[]).map((r) => r.ip));
      const reserved = (n: number): boolean => n === pool.subnet.base || n === last(pool.subnet) || n === pool.gateway;
      if (requested) {
        const n = parseIp(requested);
        if (n === undefined) throw invalidArgument(`invalid IPv4 address: ${requested}`);
        if (!contains(pool.subnet, n)) throw invalidArgument(`invalid address ${requested}: it does not belong to any of this network's subnets`);
        if (reserved(n) || used.has(requested)) throw conflict(`Address already in use`);
        this.db.prepare('INSERT INTO net_leases(network_id, ip, container_id) VALUES (?,?,?)').run(networkId, requested, owner);
        return requested;
      }
      const r = pool.range ?? pool.subnet;
      for (let n = r.base; n <= last(r); n++) {
        if (reserved(n)) continue;
        const ip = formatIp(n);
        if (used.has(ip)) continue;
        this.db.prepare('INSERT INTO net_leases(network_id, ip, container_id) VALUES (?,?,?)').run(networkId, ip, owner);
        return ip;
      }
      throw new BerthError('unavailable', `no available IPv4 addresses on this network's address pools`);
    })();
  }

  /**
   * The IPv6 counterpart of allocate(): the requested address, else the lowest free one of the
   * range after the subnet-router anycast address (the prefix itself) and the gateway.
   */
  allocate6(networkId: string, pool: Pool6, owner: string, requested?: string): string {
    return this.db.transaction(() => {
      const used = new Set((this.db.prepare('SELECT ip FROM net_leases WHERE network_id = ?').all(networkId) as { ip: string }[]).map((r) => r.ip));
      const reserved = (n: bigint): boolean => n === pool.subnet.base || n === pool.gateway;
      const insert = (ip: string): string => {
        this.db.prepare('INSERT INTO net_leases(network_id, ip, container_id) VALUES (?,?,?)').run(networkId, ip, owner);
        return ip;
      };
      if (requested) {
        const n = parseIp6(requested);
        if (n === undefined) throw invalidArgument(`invalid IPv6 address: ${requested}`);
        if (!contains6(pool.subnet, n)) throw invalidArgument(`invalid address ${requested}: it does not belong to any of this network's subnets`);
        const ip = formatIp6(n);
        if (reserved(n) || used.has(ip)) throw conflict(`Address already in use`);
        return insert(ip);
      }
      const r = pool.range ?? pool.subnet;
      const end = last6(r);
      for (let n = r.base, i = 0; n <= end && i < V6_SEARCH; n++, i++) {
        const ip = formatIp6(n);
        if (!reserved(n) && !used.has(ip)) return insert(ip);
      }
      throw new BerthError('unavailable', `no available IPv6 addresses on this network's address pools`);
    })();
  }

  release(networkId: string, owner: string): void {
    this.db.prepare('DELETE FROM net_leases WHERE network_id = ? AND container_id = ?').run(networkId, owner);
  }

  releaseOwner(owner: string): void {
    this.db.prepare('DELETE FROM net_leases WHERE container_id = ?').run(owner);
  }

  releaseNetwork(networkId: string): void {
    this.db.prepare('DELETE FROM net_leases WHERE network_id = ?').run(networkId);
  }

  owners(): string[] {
    return (this.db.prepare('SELECT DISTINCT container_id FROM net_leases').all() as { container_id: string }[]).map((r) => r.container_id);
  }

  leases(networkId: string): { ip: string; owner: string }[] {
    return (this.db.prepare('SELECT ip, container_id FROM net_leases WHERE network_id = ? ORDER BY ip').all(networkId) as { ip: string; container_id: string }[]).map((r) => ({ ip: r.ip, owner: r.container_id }));
  }
}
