/**
 * IPv6 addresses and prefixes as 128-bit BigInts: parsing (incl. `::` and an embedded IPv4
 * tail), the RFC 5952 text form, containment and overlap, host routes from /proc/net/ipv6_route,
 * and the unique local (fd00::/8) /64 a network gets when `--ipv6` comes without a subnet.
 */
import crypto from 'node:crypto';
import { parseIp } from './ipv4';

export interface Cidr6 {
  base: bigint;
  bits: number;
}

const ALL = (1n << 128n) - 1n;

export function parseIp6(s: string): bigint | undefined {
  let text = s.trim().replace(/^\[|\]$/g, '');
  if (!text.includes(':') || /[^0-9a-fA-F:.]/.test(text)) return undefined;
  // An IPv4 tail (::ffff:1.2.3.4) is two groups.
  const v4 = /:(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const n = parseIp(v4[1]);
    if (n === undefined) return undefined;
    text = `${text.slice(0, v4.index)}:${(n >>> 16).toString(16)}:${(n & 0xffff).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const groups = (h: string): string[] | undefined => {
    if (h === '') return [];
    const g = h.split(':');
    return g.every((x) => /^[0-9a-fA-F]{1,4}$/.test(x)) ? g : undefined;
  };
  const head = groups(halves[0]);
  const tail = halves.length === 2 ? groups(halves[1]) : [];
  if (!head || !tail) return undefined;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  let n = 0n;
  for (const g of [...head, ...Array<string>(missing).fill('0'), ...tail]) n = (n << 16n) | BigInt(parseInt(g, 16));
  return n;
}

/** RFC 5952: lower case, no leading zeros, the longest run (>1) of zero groups as `::`. */
export function formatIp6(n: bigint): string {
  const g: number[] = [];
  for (let i = 7; i >= 0; i--) g.push(Number((n >> BigInt(i * 16)) & 0xffffn));
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (a: number[]): string => a.map((x) => x.toString(16)).join(':');
  if (best < 0) return hex(g);
  return `${hex(g.slice(0, best))}::${hex(g.slice(best + bestLen))}`;
}

export function mask6(bits: number): bigint {
  return bits === 0 ? 0n : (ALL << BigInt(128 - bits)) & ALL;
}

export function parseCidr6(s: string): Cidr6 | undefined {
  const i = s.indexOf('/');
  if (i < 0) return undefined;
  const ip = parseIp6(s.slice(0, i));
  const bitsText = s.slice(i + 1);
  if (ip === undefined || !/^\d{1,3}$/.test(bitsText)) return undefined;
  const bits = Number(bitsText);
  if (bits > 128) return undefined;
  return { base: ip & mask6(bits), bits };
}

export function formatCidr6(c: Cidr6): string {
  return `${formatIp6(c.base)}/${c.bits}`;
}

export function last6(c: Cidr6): bigint {
  return c.base | (~mask6(c.bits) & ALL);
}

export function contains6(c: Cidr6, ip: bigint): boolean {
  return (ip & mask6(c.bits)) === c.base;
}

export function overlaps6(a: Cidr6, b: Cidr6): boolean {
  const m = mask6(Math.min(a.bits, b.bits));
  return (a.base & m) === (b.base & m);
}

/** Destination prefixes of the host's IPv6 routes, but for default, link-local and multicast ones. */
export function parseProcRoutes6(text: string, exceptDevice?: string): Cidr6[] {
  const out: Cidr6[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10 || !/^[0-9a-f]{32}$/.test(f[0]) || f[9] === exceptDevice) continue;
    const bits = parseInt(f[1], 16);
    const base = BigInt(`0x${f[0]}`);
    if (bits === 0 || bits === 128 || base >> 118n === 0x3fan || base >> 120n === 0xffn) continue; // ::/0, single addresses, fe80::/10, ff00::/8
    out.push({ base, bits });
  }
  return out;
}

/**
 * A /64 in fd00::/8 for a network that asked for IPv6 without a subnet: the 40-bit global id
 * and the subnet id come from a hash of `seed` (RFC 4193 wants them random; a hash of the
 * network id is as good and stable), the `attempt`-th choice when earlier ones were taken.
 */
export function ulaSubnet(seed: string, attempt = 0): Cidr6 {
  const h = crypto.createHash('sha256').update(`${seed}/${attempt}`).digest();
  let n = 0xfdn;
  for (let i = 0; i < 7; i++) n = (n << 8n) | BigInt(h[i]);
  return { base: n << 64n, bits: 64 };
}
