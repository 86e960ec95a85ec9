/**
 * Published ports: the container's HostConfig.PortBindings (and PublishAllPorts over its exposed
 * ports) turned into concrete host ports, and each host port held by berthd while the container
 * runs. Holding the port is how a taken port is detected — by another process or another
 * container ("port is already allocated", as Docker says) — and keeps others from binding it
 * while the DNAT rules own it. Traffic goes through the DNAT rules; a connection that reaches
 * the held socket anyway (a path the rules do not cover) is relayed to the container.
 */
import net from 'node:net';
import dgram from 'node:dgram';
import { BerthError, invalidArgument } from '../core/errors';

export interface PortRequest {
  proto: 'tcp' | 'udp';
  containerPort: number;
  hostIp: string;
  /** 0: any free port; a range lets berth choose within it. */
  hostPortStart: number;
  hostPortEnd: number;
}

export interface PortMapping {
  proto: 'tcp' | 'udp';
  containerPort: number;
  hostIp: string;
  hostPort: number;
}

function parsePortKey(key: string): { port: number; proto: 'tcp' | 'udp' } {
  const [p, proto = 'tcp'] = key.split('/');
  const port = Number(p);
  if (!/^\d+$/.test(p) || port < 1 || port > 65535) throw invalidArgument(`invalid port specification: "${key}"`);
  if (proto !== 'tcp' && proto !== 'udp') throw invalidArgument(`invalid proto: ${proto}`);
  return { port, proto };
}

/** The requests of one container, in a stable order. */
export function portRequests(bindings: Record<string, { HostIp?: string; HostPort?: string }[] | null> | null | undefined, exposed: Record<string, unknown> | null | undefined, publishAll: boolean): PortRequest[] {
  const out: PortRequest[] = [];
  const seen = new Set<string>();
  for (const [key, list] of Object.entries(bindings ?? {})) {
    const { port, proto } = parsePortKey(key);
    seen.add(`${port}/${proto}`);
    for (const b of list ?? [{}]) {
      const hp = (b?.HostPort ?? '').trim();
      let start = 0;
      let end = 0;
      if (hp) {
        const m = /^(\d+)(?:-(\d+))?$/.exec(hp);
        if (!m) throw invalidArgument(`invalid hostPort: ${hp}`);
        start = Number(m[1]);
        end = m[2] ? Number(m[2]) : start;
        if (start > 65535 || end > 65535 || end < start) throw invalidArgument(`invalid hostPort: ${hp}`);
      }
      out.push({ proto, containerPort: port, hostIp: (b?.HostIp ?? '').trim(), hostPortStart: start, hostPortEnd: end });
    }
  }
  if (publishAll) {
    for (const key of Object.keys(exposed ?? {})) {
      const { port, proto } = parsePortKey(key);
      if (seen.has(`${port}/${proto}`)) continue;
      out.push({ proto, containerPort: port, hostIp: '', hostPortStart: 0, hostPortEnd: 0 });
    }
  }
  return out.sort((a, b) => a.containerPort - b.containerPort || a.proto.localeCompare(b.proto));
}

export interface HeldPort {
  mapping: PortMapping;
  close(): void;
}

export function allocatedError(hostIp: string, port: number): BerthError {
  return new BerthError('internal', `Bind for ${hostIp || '0.0.0.0'}:${port} failed: port is already allocated`);
}

/** Binds the host port (port 0: the kernel picks one in its ephemeral range, 32768-60999 by default). */
export function holdPort(proto: 'tcp' | 'udp', hostIp: string, port: number, relay: () => { ip: string; port: number } | undefined): Promise<HeldPort & { port: number }> {
  const address = hostIp || '0.0.0.0';
  if (proto === 'udp') {
    return new Promise((resolve, reject) => {
      const s = dgram.createSocket({ type: 'udp4' });
      s.once('error', (e: NodeJS.ErrnoException) => {
        s.close();
        reject(e.code === 'EADDRINUSE' ? allocatedError(hostIp, port) : e);
      });
      s.bind({ address, port, exclusive: true }, () => {
        s.removeAllListeners('error');
        s.on('error', () => undefined);
        s.unref();
        const p = s.address().port;
        resolve({ port: p, mapping: { proto, containerPort: 0, hostIp, hostPort: p }, close: () => s.close() });
      });
    });
  }
  return new Promise((resolve, reject) => {
    const conns = new Set<net.Socket>();
    const server = net.createServer((c) => {
      const to = relay();
      if (!to) return c.destroy();
      const up = net.connect(to.port, to.ip);
      conns.add(c).add(up);
      const done = (): void => {
        c.destroy();
        up.destroy();
        conns.delete(c);
        conns.delete(up);
      };
      c.on('error', done).on('close', done);
      up.on('error', done).on('close', done);
      c.pipe(up).pipe(c);
    });
    server.once('error', (e: NodeJS.ErrnoException) => reject(e.code === 'EADDRINUSE' ? allocatedError(hostIp, port) : e));
    server.listen({ host: address, port, exclusive: true, backlog: 128 }, () => {
      server.removeAllListeners('error');
      server.on('error', () => undefined);
      server.unref();
      const p = (server.address() as net.AddressInfo).port;
      resolve({
        port: p,
        mapping: { proto, containerPort: 0, hostIp, hostPort: p },
        close: () => {
          server.close();
          for (const s of conns) s.destroy();
        },
      });
    });
  });
}

/**
 * Holds every requested port; on any failure releases those already held and throws.
 * `relay` gives the container's address for connections that reach a held socket.
 */
export async function holdPorts(reqs: PortRequest[], relay: (containerPort: number) => { ip: string; port: number } | undefined): Promise<HeldPort[]> {
  const held: HeldPort[] = [];
  try {
    for (const r of reqs) {
      const rel = (): { ip: string; port: number } | undefined => relay(r.containerPort);
      let got: (HeldPort & { port: number }) | undefined;
      if (r.hostPortStart === 0) {
        got = await holdPort(r.proto, r.hostIp, 0, rel);
      } else {
        let last: unknown;
        for (let p = r.hostPortStart; p <= r.hostPortEnd && !got; p++) {
          try {
            got = await holdPort(r.proto, r.hostIp, p, rel);
          } catch (e) {
            last = e;
          }
        }
        if (!got) throw last;
      }
      held.push({ mapping: { proto: r.proto, containerPort: r.containerPort, hostIp: r.hostIp, hostPort: got.port }, close: got.close });
    }
    return held;
  } catch (e) {
    for (const h of held) h.close();
    throw e;
  }
}
