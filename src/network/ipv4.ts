/**
 * IPv4 addresses and prefixes as unsigned 32-bit numbers: parsing, formatting, containment and
 * overlap. Pure; the IPAM, the firewall rules and the API validation all work on these.
 */
import { invalidArgument } from '../core/errors';

export interface Cidr {
  /** Network address (host bits cleared). */
  base: number;
  bits: number;
}

export function parseIp(s: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s.trim());
  if (!m) return undefined;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return undefined;
  return ((parts[0] << 24) >>> 0) + (parts[1] << 16) + (parts[2] << 8) + parts[3];
}

export function formatIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export function mask(bits: number): number {
  return bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
}

/** "10.1.2.0/24"; with `strict`, host bits must be zero (Docker: "invalid subnet"). */
export function parseCidr(s: string, strict = false): Cidr | undefined {
  const i = s.indexOf('/');
  if (i < 0) return undefined;
  const ip = parseIp(s.slice(0, i));
  const bitsText = s.slice(i + 1);
  if (ip === undefined || !/^\d{1,2}$/.test(bitsText)) return undefined;
  const bits = Number(bitsText);
  if (bits > 32) return undefined;
  const base = (ip & mask(bits)) >>> 0;
  if (strict && base !== ip) return undefined;
  return { base, bits };
}

export function mustCidr(s: string, what = 'subnet'): Cidr {
  const c = parseCidr(s);
  if (!c) throw invalidArgument(`invalid ${what} ${s}: invalid CIDR address: ${s}`);
  return c;
}

export function formatCidr(c: Cidr): string {
  return `${formatIp(c.base)}/${c.bits}`;
}

export function size(c: Cidr): number {
  return 2 ** (32 - c.bits);
}

export function last(c: Cidr): number {
  return c.base + size(c) - 1;
}

export function contains(c: Cidr, ip: number): boolean {
  return ((ip & mask(c.bits)) >>> 0) === c.base;
}

export function overlaps(a: Cidr, b: Cidr): boolean {
  const bits = Math.min(a.bits, b.bits);
  return ((a.base & mask(bits)) >>> 0) === ((b.base & mask(bits)) >>> 0);
}

/** Routes of the host (/proc/net/route): destination prefixes, for choosing free subnets. */
export function parseProcRoutes(text: string): Cidr[] {
  const out: Cidr[] = [];
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 8) continue;
    const dest = littleEndianHex(f[1]);
    const m = littleEndianHex(f[7]);
    if (dest === undefined || m === undefined || m === 0) continue; // the default route overlaps everything
    let bits = 0;
    while (bits < 32 && (m & (0x80000000 >>> bits)) !== 0) bits++;
    out.push({ base: (dest & mask(bits)) >>> 0, bits });
  }
  return out;
}

function littleEndianHex(h: string): number | undefined {
  if (!/^[0-9A-Fa-f]{8}$/.test(h)) return undefined;
  const b = Buffer.from(h, 'hex');
  return b.readUInt32LE(0);
}
