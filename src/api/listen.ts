/**
 * berthd's listeners: every -H host becomes one server of the API. UNIX sockets are made 0660 and
 * owned by root and the --group group (when it exists). TCP hosts need mutual TLS (--tlsverify:
 * the client's certificate must chain to --tlscacert), because whoever reaches the API is root on
 * this machine. Without client verification (plain TCP, or --tls alone) a TCP host is refused
 * unless --insecure-tcp is given and the address is a loopback one: dockerd still allows both
 * with a warning; berth keeps them for local testing only.
 */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type https from 'node:https';
import type tls from 'node:tls';
import type { ApiServer } from './server';
import { listenOn } from './server';
import type { DaemonConfig } from '../daemon/config';

export type Listener = { kind: 'unix'; path: string; host: string } | { kind: 'tcp'; address: string; port: number; host: string };

const DEFAULT_UNIX = '/run/berth/berth.sock';

/** Parses one -H value: unix:///path, /path, tcp://[ADDR][:PORT] (port 2376 with TLS, else 2375). */
export function parseListenHost(h: string, useTls: boolean): Listener {
  if (h.startsWith('unix://') || h.startsWith('/')) {
    const p = h.startsWith('unix://') ? h.slice('unix://'.length) : h;
    return { kind: 'unix', path: p || DEFAULT_UNIX, host: h };
  }
  const m = /^tcp:\/\/(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]*)(?::(\d{1,5}))?\/?$/.exec(h);
  if (!m) throw new Error(`invalid host ${JSON.stringify(h)}: use unix:///path or tcp://ADDRESS:PORT`);
  const port = m[2] === undefined ? (useTls ? 2376 : 2375) : Number(m[2]);
  if (port > 65535) throw new Error(`invalid host ${JSON.stringify(h)}: port ${port} is out of range`);
  // dockerd's default TCP address is localhost, never every interface.
  const address = m[1].replace(/^\[|\]$/g, '') || '127.0.0.1';
  return { kind: 'tcp', address, port, host: h };
}

/** 127.0.0.0/8, ::1 (also IPv4-mapped) and the name localhost. */
export function isLoopback(address: string): boolean {
  if (address === 'localhost') return true;
  const v4 = address.replace(/^::ffff:/i, '');
  if (net.isIPv4(v4)) return v4.startsWith('127.');
  return net.isIPv6(address) && /^(0{0,4}:){1,7}0{0,3}1$|^::1$/.test(address);
}

export interface ListenPlan {
  listeners: Listener[];
  /** Options of the TLS servers, when TLS is on and some host is tcp://. */
  tls?: https.ServerOptions;
}

/**
 * Checks the hosts and the TLS settings before the daemon starts, so that a dangerous or broken
 * configuration fails at once with a message that says what to do. Throws Error.
 */
export function planListeners(config: DaemonConfig): ListenPlan {
  const listeners = config.hosts.map((h) => parseListenHost(h, config.tls));
  const tcp = listeners.filter((l) => l.kind === 'tcp');
  for (const l of tcp) {
    if (config.tlsVerify) continue;
    const what = config.tls ? '--tls without --tlsverify (clients are not authenticated)' : 'without TLS';
    if (!config.insecureTcp) {
      throw new Error(
        `refusing to listen on ${l.host} ${what}: anyone who can reach the port gets root on this machine. Use --tlsverify with --tlscacert, --tlscert and --tlskey (mutual TLS); for local testing only, --insecure-tcp allows a loopback address`,
      );
    }
    if (!isLoopback(l.address)) {
      throw new Error(`refusing to listen on ${l.host} ${what}: --insecure-tcp allows only a loopback address (127.0.0.0/8, ::1, localhost); use --tlsverify for any other address`);
    }
  }
  if (!tcp.length || !config.tls) return { listeners };
  const read = (file: string, what: string): Buffer => {
    try {
      return fs.readFileSync(file);
    } catch (e) {
      throw new Error(`could not load the TLS ${what} ${file}: ${(e as Error).message}`);
    }
  };
  const opts: https.ServerOptions = {
    cert: read(config.tlsCert, 'certificate (--tlscert)'),
    key: read(config.tlsKey, 'key (--tlskey)'),
    minVersion: 'TLSv1.2',
  };
  if (config.tlsVerify) {
    opts.ca = read(config.tlsCaCert, 'CA certificate (--tlscacert)');
    opts.requestCert = true;
    opts.rejectUnauthorized = true;
  }
  return { listeners, tls: opts };
}

type Log = (level: 'debug' | 'info' | 'warn' | 'error', msg: string) => void;

/** Opens every listener of the plan; returns the UNIX socket paths (removed at shutdown). */
export async function openListeners(api: ApiServer, config: DaemonConfig, log: Log): Promise<string[]> {
  const plan = planListeners(config);
  const sockets: string[] = [];
  for (const l of plan.listeners) {
    if (l.kind === 'unix') {
      await listenUnix(api, l.path, config.group, log);
      sockets.push(l.path);
      log('info', `API listen on ${l.path}`);
      continue;
    }
    const server = api.createServer(plan.tls);
    server.on('tlsClientError', (err: Error, sock: tls.TLSSocket) => log('debug', `TLS handshake with ${sock.remoteAddress ?? '?'} failed: ${err.message}`));
    await listenOn(server, l.port, l.address);
    if (!config.tlsVerify) log('warn', `API listens on ${l.host} without client certificates (--insecure-tcp): every local user can control berth`);
    log('info', `API listen on ${l.address}:${l.port}${plan.tls ? ' (TLS)' : ''}`);
  }
  return sockets;
}

/** A UNIX socket created 0600 (no window where others could connect), then made 0660 root:group. */
async function listenUnix(api: ApiServer, sock: string, group: string, log: Log): Promise<void> {
  await prepareSocket(sock);
  const server = api.createServer();
  // bind() happens synchronously inside listen(), so the umask covers exactly this socket.
  const old = process.umask(0o177);
  let listening: Promise<void>;
  try {
    listening = listenOn(server, sock);
  } finally {
    process.umask(old);
  }
  await listening;
  const gid = groupId(group);
  if (gid === undefined) log('warn', `could not change group ${sock} to ${group}: group ${group} not found`);
  fs.chownSync(sock, 0, gid ?? 0);
  fs.chmodSync(sock, 0o660);
}

/** Refuses to take over a socket another daemon serves; removes a stale one. */
async function prepareSocket(sock: string): Promise<void> {
  fs.mkdirSync(path.dirname(sock), { recursive: true });
  if (!fs.existsSync(sock)) return;
  const alive = await new Promise<boolean>((resolve) => {
    const c = net.connect(sock);
    c.on('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.on('error', () => resolve(false));
  });
  if (alive) throw new Error(`${sock} is in use by another daemon`);
  fs.rmSync(sock, { force: true });
}

/** The gid of a group in /etc/group; berth creates no group itself. */
export function groupId(name: string): number | undefined {
  try {
    for (const line of fs.readFileSync('/etc/group', 'utf8').split('\n')) {
      const f = line.split(':');
      if (f[0] === name && /^\d+$/.test(f[2] ?? '')) return Number(f[2]);
    }
  } catch {
    /* no group file */
  }
  return undefined;
}
