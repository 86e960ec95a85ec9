/**
 * berth's DNS server for user-defined networks. It listens on each such network's gateway
 * address, port 53 (UDP and TCP), and containers on the network get that address as their
 * nameserver. (Docker runs its resolver at 127.0.0.11 inside each container's namespace behind a
 * DNAT; one listener per network on the bridge is the simpler equivalent: no per-container
 * socket, no rule in the container's namespace.)
 *
 * A query is answered for the network it arrived on only, and only from an address of that
 * network: A, AAAA (on dual-stack networks) and PTR records for the names, aliases and short
 * ids of the containers attached to it; AAAA for a container without an IPv6 address is an empty
 * answer. Every other name is relayed to the upstream servers the backend gives for that client
 * (none: REFUSED).
 */
import dgram from 'node:dgram';
import net from 'node:net';
import * as dnsPacket from 'dns-packet';
import { formatIp6 } from './ipv6';

export interface Upstream {
  host: string;
  port: number;
}

export interface DnsBackend {
  /**
   * Addresses of the family for `name` (lower case, no trailing dot) as `client` sees the network
   * (its links add names of its own); undefined: not one of its names.
   */
  lookup(networkId: string, name: string, family: 4 | 6, client: string): string[] | undefined;
  /** The name for an address on the network (PTR). */
  reverse(networkId: string, ip: string): string | undefined;
  /** Is `client` an address of the network (else the query is refused)? */
  isMember(networkId: string, client: string): boolean;
  /** Where names that are not the network's go for this client; [] means nowhere. */
  upstreams(networkId: string, client: string): Upstream[];
}

const RCODE = { NOERROR: 0, SERVFAIL: 2, NXDOMAIN: 3, REFUSED: 5 } as const;
const TTL = 600;
const UPSTREAM_TIMEOUT_MS = 2000;

function reply(q: dnsPacket.DecodedPacket, rcode: number, answers: dnsPacket.Answer[] = []): Buffer {
  return dnsPacket.encode({
    type: 'response',
    id: q.id,
    flags: (q.flag_rd ? dnsPacket.RECURSION_DESIRED : 0) | dnsPacket.RECURSION_AVAILABLE | rcode,
    questions: q.questions,
    answers,
  });
}

function ptrToIp(name: string): string | undefined {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\.in-addr\.arpa$/.exec(name);
  if (m) return `${m[4]}.${m[3]}.${m[2]}.${m[1]}`;
  // 32 nibbles, least significant first
  const m6 = /^((?:[0-9a-f]\.){32})ip6\.arpa$/.exec(name);
  if (!m6) return undefined;
  const hex = m6[1].split('.').slice(0, 32).reverse().join('');
  return formatIp6(BigInt(`0x${hex}`));
}

/** Sends `query` to each upstream in turn over UDP; the first answer wins. */
export function forwardUdp(query: Buffer, upstreams: Upstream[], timeoutMs = UPSTREAM_TIMEOUT_MS): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    let i = 0;
    const tryNext = (): void => {
      if (i >= upstreams.length) return resolve(undefined);
      const u = upstreams[i++];
      const s = dgram.createSocket(net.isIPv6(u.host) ? 'udp6' : 'udp4');
      let done = false;
      const finish = (b?: Buffer): void => {
        if (done) return;
        done = true;
        clearTimeout(t);
        s.close();
        if (b) resolve(b);
        else tryNext();
      };
      const t = setTimeout(() => finish(), timeoutMs);
      s.on('error', () => finish());
      s.on('message', (m) => finish(m));
      s.send(query, u.port, u.host, (err) => err && finish());
    };
    tryNext();
  });
}

interface Listener {
  udp: dgram.Socket;
  tcp: net.Server;
  conns: Set<net.Socket>;
}

export class DnsServer {
  private readonly listeners = new Map<string, Listener>();

  constructor(
    private readonly backend: DnsBackend,
    private readonly log: (msg: string) => void = () => undefined,
  ) {}

  /** The response to a query from `client` on the network, or upstreams to relay it to. */
  answer(networkId: string, client: string, query: Buffer): Buffer | { forward: Upstream[]; refuse: Buffer } | undefined {
    let q: dnsPacket.DecodedPacket;
    try {
      q = dnsPacket.decode(query);
    } catch {
      return undefined; // not DNS: no answer at all
    }
    if (q.type === 'response') return undefined;
    if (!this.backend.isMember(networkId, client) || !q.questions || q.questions.length !== 1) return reply(q, RCODE.REFUSED);
    const question = q.questions[0];
    const name = question.name.toLowerCase().replace(/\.$/, '');
    if (question.type === 'A' || question.type === 'AAAA' || (question.type as string) === 'ANY') {
      const types: ('A' | 'AAAA')[] = question.type === 'A' ? ['A'] : question.type === 'AAAA' ? ['AAAA'] : ['A', 'AAAA'];
      let known = false;
      const answers: dnsPacket.Answer[] = [];
      for (const type of types) {
        const ips = this.backend.lookup(networkId, name, type === 'A' ? 4 : 6, client);
        if (!ips) continue;
        known = true;
        for (const ip of ips) answers.push({ type, name: question.name, ttl: TTL, class: 'IN', data: ip } as dnsPacket.Answer);
      }
      if (known) return reply(q, RCODE.NOERROR, answers);
    } else if (question.type === 'PTR') {
      const ip = ptrToIp(name);
      const host = ip && this.backend.reverse(networkId, ip);
      if (host) return reply(q, RCODE.NOERROR, [{ type: 'PTR', name: question.name, ttl: TTL, class: 'IN', data: host } as dnsPacket.Answer]);
    }
    const ups = this.backend.upstreams(networkId, client);
    if (!ups.length) return reply(q, RCODE.REFUSED);
    return { forward: ups, refuse: reply(q, RCODE.SERVFAIL) };
  }

  private async respond(networkId: string, client: string, query: Buffer): Promise<Buffer | undefined> {
    const a = this.answer(networkId, client, query);
    if (!a || Buffer.isBuffer(a)) return a;
    return (await forwardUdp(query, a.forward)) ?? a.refuse;
  }

  /** Serves the network on address:port (UDP and TCP). */
  async listen(networkId: string, address: string, port = 53): Promise<void> {
    this.close(networkId);
    const udp = dgram.createSocket({ type: 'udp4', reuseAddr: true });
    await new Promise<void>((resolve, reject) => {
      udp.once('error', reject);
      udp.bind({ address, port }, () => {
        udp.off('error', reject);
        resolve();
      });
    });
    udp.on('error', (e) => this.log(`dns ${address}: ${e.message}`));
    udp.on('message', (msg, rinfo) => {
      void this.respond(networkId, rinfo.address, msg).then((r) => {
        if (r) udp.send(r, rinfo.port, rinfo.address, () => undefined);
      });
    });
    const conns = new Set<net.Socket>();
    const tcp = net.createServer((c) => {
      conns.add(c);
      c.on('close', () => conns.delete(c));
      c.on('error', () => c.destroy());
      c.setTimeout(10_000, () => c.destroy());
      let buf = Buffer.alloc(0);
      c.on('data', (d) => {
        buf = Buffer.concat([buf, d]);
        while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
          const len = buf.readUInt16BE(0);
          const msg = buf.subarray(2, 2 + len);
          buf = buf.subarray(2 + len);
          void this.respond(networkId, c.remoteAddress?.replace(/^::ffff:/, '') ?? '', msg).then((r) => {
            if (!r || c.destroyed) return;
            const head = Buffer.alloc(2);
            head.writeUInt16BE(r.length);
            c.write(Buffer.concat([head, r]));
          });
        }
      });
    });
    try {
      await new Promise<void>((resolve, reject) => {
        tcp.once('error', reject);
        tcp.listen({ host: address, port }, () => {
          tcp.off('error', reject);
          resolve();
        });
      });
    } catch (e) {
      udp.close();
      throw e;
    }
    tcp.on('error', (e) => this.log(`dns ${address}: ${e.message}`));
    udp.unref();
    tcp.unref();
    this.listeners.set(networkId, { udp, tcp, conns });
  }

  close(networkId: string): void {
    const l = this.listeners.get(networkId);
    if (!l) return;
    this.listeners.delete(networkId);
    try {
      l.udp.close();
    } catch {
      /* already closed */
    }
    l.tcp.close();
    for (const c of l.conns) c.destroy();
  }

  closeAll(): void {
    for (const id of [...this.listeners.keys()]) this.close(id);
  }
}
