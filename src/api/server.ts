/**
 * The Engine API server: HTTP/1.1 on UNIX sockets and TCP with TLS (listeners are made in
 * listen.ts), optional /vX.Y prefix with Docker's version checks, JSON errors
 * `{"message": ...}`, hijacked connections for attach (`Upgrade: tcp`).
 *
 * Hardening against hostile or broken clients: JSON bodies are capped (413) and must keep
 * arriving (408 after an idle gap), headers and URL are capped by the HTTP parser (431), a client
 * that never finishes its headers is cut off, and any failure inside a handler becomes a JSON
 * error rather than a dropped connection. Streamed bodies (image load, import, build context)
 * are not capped: the handlers consume them as streams.
 */
import http from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { BerthError, invalidArgument, notFound } from '../core/errors';
import { errorMessage, httpStatus, HttpError } from './errors';

export const API_VERSION = '1.41';
export const MIN_API_VERSION = '1.24';
/** The largest JSON request body (container create with many env vars is a few KB; 10 MB is ample). */
export const JSON_BODY_LIMIT = 10 << 20;
/** Headers plus request line; Go's default is 1 MB, Node's 16 KB: docker's X-Registry-Config can exceed 16 KB. */
const MAX_HEADER_SIZE = 64 << 10;
/**
 * How long a JSON body may stall between chunks before the request fails with 408. A testing
 * knob (BERTH_API_BODY_TIMEOUT_MS) shortens it; the default is generous for slow links.
 */
export function bodyIdleTimeoutMs(): number {
  const v = Number(process.env.BERTH_API_BODY_TIMEOUT_MS);
  return Number.isFinite(v) && v > 0 ? v : 30_000;
}

export interface Ctx {
  req: http.IncomingMessage;
  /** Also present on an upgrade request, for handlers that answer it with an ordinary response. */
  res?: http.ServerResponse;
  /** The raw socket of a request with `Upgrade:` (attach hijacks it). */
  upgrade?: { socket: Duplex; head: Buffer };
  params: string[];
  query: URLSearchParams;
  version: string;
  path: string;
}

export type Handler = (ctx: Ctx) => Promise<unknown> | unknown;

interface Route {
  method: string;
  re: RegExp;
  handler: Handler;
}

function cmpVersion(a: string, b: string): number {
  const [a1, a2] = a.split('.').map(Number);
  const [b1, b2] = b.split('.').map(Number);
  return a1 - b1 || a2 - b2;
}

export class Router {
  private readonly routes: Route[] = [];

  add(method: string, pattern: RegExp, handler: Handler): void {
    this.routes.push({ method, re: pattern, handler });
  }

  /** Every route as registered (the API fuzz test covers each one). */
  list(): { method: string; pattern: RegExp }[] {
    return this.routes.map((r) => ({ method: r.method, pattern: r.re }));
  }

  match(method: string, path: string): { handler: Handler; params: string[] } | undefined {
    for (const r of this.routes) {
      if (r.method !== method && !(method === 'HEAD' && r.method === 'GET')) continue;
      const m = r.re.exec(path);
      if (m) return { handler: r.handler, params: m.slice(1).map(decodeParam) };
    }
    return undefined;
  }
}

function decodeParam(s: string | undefined): string {
  try {
    return decodeURIComponent(s ?? '');
  } catch {
    throw invalidArgument(`invalid escape in URL path: ${s}`);
  }
}

export function commonHeaders(): Record<string, string> {
  return {
    'Api-Version': API_VERSION,
    'Docker-Experimental': 'false',
    Ostype: 'linux',
    Server: `Docker/${API_VERSION} berth (linux)`,
  };
}

/** What a client may still send after an early reply before it is cut off. */
const LINGER_BYTES = 1 << 20;
const LINGER_MS = 2000;

/**
 * A reply goes out before the request body was read (an error, or a handler that ignores
 * bodies). Closing at once would make the client's next write fail (EPIPE, or a TCP reset that
 * can destroy the reply in flight) before it reads our answer; so the rest of the body is read
 * and discarded, as Go's server does, up to a megabyte or two seconds, then the connection is
 * dropped: a client cannot make the daemon read gigabytes or wait forever.
 */
function lingerOnBody(req: http.IncomingMessage): void {
  let n = 0;
  const drop = (): void => {
    clearTimeout(timer);
    req.socket.destroy();
  };
  const timer = setTimeout(drop, LINGER_MS);
  timer.unref();
  req.on('data', (c: Buffer) => {
    n += c.length;
    if (n > LINGER_BYTES) drop();
  });
  req.on('end', () => clearTimeout(timer));
  req.on('error', () => undefined);
  req.resume();
}

/** Sends a JSON body (or an empty 204/304). */
export function sendJson(ctx: Ctx, status: number, body?: unknown): void {
  const res = ctx.res;
  if (res && !res.headersSent && !ctx.req.complete) lingerOnBody(ctx.req);
  if (!res) {
    const sock = ctx.upgrade!.socket;
    const payload = body === undefined ? '' : JSON.stringify(body) + '\n';
    sock.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(payload)}\r\n\r\n${payload}`);
    return;
  }
  if (res.headersSent) {
    if (body !== undefined) res.end(JSON.stringify(body) + '\n');
    else res.end();
    return;
  }
  if (body === undefined || status === 204 || status === 304) {
    res.writeHead(status);
    res.end();
    return;
  }
  const payload = JSON.stringify(body) + '\n';
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload) });
  res.end(payload);
}

export function sendError(ctx: Ctx, err: unknown): void {
  let status = httpStatus(err);
  const message = errorMessage(err);
  if (status === 304) return sendJson(ctx, 304);
  if (status >= 500 && !(err instanceof BerthError)) process.stderr.write(`berthd: ${ctx.req.method} ${ctx.path}: ${(err as Error)?.stack ?? message}\n`);
  if (ctx.res?.headersSent) {
    // Streaming already began: report in-band as Docker's JSON-message streams do, then end.
    ctx.res.end(JSON.stringify({ errorDetail: { message }, error: message }) + '\n');
    return;
  }
  if (status < 400 && status !== 304) status = 500;
  sendJson(ctx, status, { message });
}

function tooLarge(limit: number): HttpError {
  return new HttpError(413, `request body is too large: the limit is ${limit} bytes`);
}

/**
 * Reads a whole (small) request body: at most `limit` bytes (413 beyond, also when
 * Content-Length announces more), and no gap longer than bodyIdleTimeoutMs() between chunks
 * (408), so a client that stops sending cannot hold the handler forever.
 */
export function readBody(ctx: Ctx, limit = JSON_BODY_LIMIT): Promise<Buffer> {
  const req = ctx.req;
  const declared = Number(req.headers['content-length']);
  if (declared > limit) return Promise.reject(tooLarge(limit));
  // Already read to the end (by someone else): nothing left. (`complete` is not enough: a body
  // the parser has finished may still sit unread in the stream.)
  if (req.readableEnded) return Promise.resolve(Buffer.alloc(0));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let len = 0;
    let timer: NodeJS.Timeout | undefined;
    const idle = bodyIdleTimeoutMs();
    const settle = (e?: Error): void => {
      clearTimeout(timer);
      req.off('data', onData).off('end', onEnd).off('error', settle).off('close', onClose);
      if (e) {
        req.pause();
        reject(e);
      } else resolve(Buffer.concat(chunks, len));
    };
    const arm = (): void => {
      clearTimeout(timer);
      timer = setTimeout(() => settle(new HttpError(408, `timed out reading the request body: nothing arrived for ${idle / 1000} s`)), idle);
    };
    const onData = (c: Buffer): void => {
      len += c.length;
      if (len > limit) return settle(tooLarge(limit));
      chunks.push(c);
      arm();
    };
    const onEnd = (): void => settle();
    const onClose = (): void => settle(new HttpError(400, 'the client closed the connection before the request body ended'));
    req.on('data', onData).on('end', onEnd).on('error', settle).on('close', onClose);
    arm();
  });
}

/** Reads and parses a JSON request body; an empty body gives `undefined`. */
export async function readJson(ctx: Ctx, limit = JSON_BODY_LIMIT): Promise<any> {
  const text = (await readBody(ctx, limit)).toString('utf8').trim();
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch (e) {
    throw invalidArgument(`invalid JSON in request body: ${(e as Error).message}`);
  }
}

export async function readJsonObject(ctx: Ctx): Promise<Record<string, any>> {
  const v = await readJson(ctx);
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw invalidArgument('request body must be a JSON object');
  return v as Record<string, any>;
}

/** A boolean query parameter read as dockerd does: "", 0, no, false and none (any case) are false. */
export function boolParam(q: URLSearchParams, name: string, def = false): boolean {
  const v = q.get(name);
  if (v === null) return def;
  return !['', '0', 'no', 'false', 'none'].includes(v.trim().toLowerCase());
}

/** An integer query parameter; anything but a decimal integer that fits is a 400, as strconv.Atoi. */
export function intParam(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  if (v === null || v === '') return undefined;
  const n = Number(v);
  if (!/^[-+]?\d+$/.test(v) || !Number.isSafeInteger(n)) throw invalidArgument(`invalid value for ${name}: ${v}`);
  return n;
}

/** Docker's `filters` query parameter: {"key": ["v"]} or the old {"key": {"v": true}}. */
export function filtersParam(q: URLSearchParams): Record<string, string[]> {
  const raw = q.get('filters');
  if (!raw) return {};
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    throw invalidArgument(`invalid filter: ${raw}`);
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw invalidArgument(`invalid filter: ${raw}`);
  const out: Record<string, string[]> = {};
  for (const [k, val] of Object.entries(v as Record<string, unknown>)) {
    if (Array.isArray(val)) out[k] = val.map(String);
    else if (val && typeof val === 'object') out[k] = Object.keys(val);
    else throw invalidArgument(`invalid filter: ${raw}`);
  }
  return out;
}

/** The reply to a request the HTTP parser rejected, before any handler saw it. */
function clientErrorReply(err: NodeJS.ErrnoException): string {
  const [status, message] =
    err.code === 'HPE_HEADER_OVERFLOW' ? [431, 'request headers too large'] : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? [408, 'timed out reading the request headers'] : [400, 'malformed HTTP request'];
  const body = JSON.stringify({ message }) + '\n';
  return `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`;
}

export class ApiServer {
  /** The plain HTTP server (UNIX sockets); TLS listeners get their own from createServer. */
  readonly server: http.Server;
  private readonly servers: http.Server[] = [];

  constructor(private readonly router: Router) {
    this.server = this.createServer();
  }

  /** An HTTP server (HTTPS with `tls`) that dispatches to this API's router. */
  createServer(tls?: https.ServerOptions): http.Server {
    // headersTimeout bounds a client that trickles its headers; requestTimeout stays off because
    // image load and build bodies may legitimately take long (readBody bounds JSON bodies).
    const opts: http.ServerOptions = { requestTimeout: 0, headersTimeout: 60_000, keepAliveTimeout: 30_000, maxHeaderSize: MAX_HEADER_SIZE };
    const onRequest = (req: http.IncomingMessage, res: http.ServerResponse): void => void this.dispatch(req, res, undefined);
    // allowHalfOpen: the docker CLI half-closes a hijacked attach connection when it has no stdin
    // to send (a TLS close_notify); the container's output must still flow back (plain HTTP
    // servers allow half-open sockets already).
    const server: http.Server = tls ? https.createServer({ ...opts, allowHalfOpen: true, ...tls }, onRequest) : http.createServer(opts, onRequest);
    server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
      // Any request may carry `Upgrade:`; only hijacking handlers (attach) take the raw socket.
      // The others answer through an ordinary response on it, which closes the connection.
      const res = new http.ServerResponse(req);
      res.shouldKeepAlive = false;
      res.assignSocket(socket as Socket);
      res.on('finish', () => {
        res.detachSocket(socket as Socket);
        socket.end();
      });
      socket.on('error', () => undefined);
      void this.dispatch(req, res, { socket, head });
    });
    server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
      if ((socket as { writable?: boolean }).writable) socket.end(clientErrorReply(err));
      else socket.destroy();
    });
    this.servers.push(server);
    return server;
  }

  private async dispatch(req: http.IncomingMessage, res: http.ServerResponse | undefined, upgrade: Ctx['upgrade']): Promise<void> {
    if (res) for (const [k, v] of Object.entries(commonHeaders())) res.setHeader(k, v);
    const ctx: Ctx = { req, res, upgrade, params: [], query: new URLSearchParams(), version: API_VERSION, path: '/' };
    try {
      let url: URL;
      try {
        url = new URL(req.url ?? '/', 'http://berth');
      } catch {
        throw invalidArgument(`invalid request URL: ${req.url}`);
      }
      ctx.query = url.searchParams;
      let path = url.pathname;
      const vm = /^\/v(\d+\.\d+)(\/.*)$/.exec(path);
      if (vm) {
        ctx.version = vm[1];
        path = vm[2];
      }
      ctx.path = path;
      const version = ctx.version;
      if (vm && cmpVersion(version, API_VERSION) > 0) {
        throw invalidArgument(`client version ${version} is too new. Maximum supported API version is ${API_VERSION}`);
      }
      if (vm && cmpVersion(version, MIN_API_VERSION) < 0) {
        throw invalidArgument(`client version ${version} is too old. Minimum supported API version is ${MIN_API_VERSION}, please upgrade your client to a newer version`);
      }
      // dockerd answers an unknown path and a known path with the wrong method alike: 404.
      const m = this.router.match(req.method ?? 'GET', path);
      if (!m) throw notFound('page not found');
      ctx.params = m.params;
      await m.handler(ctx);
    } catch (e) {
      try {
        sendError(ctx, e);
      } catch {
        res?.destroy();
        upgrade?.socket.destroy();
      }
    }
  }

  listen(socketPath: string): Promise<void> {
    return listenOn(this.server, socketPath);
  }

  close(): Promise<void> {
    return Promise.all(
      this.servers.map(
        (s) =>
          new Promise<void>((resolve) => {
            if (!s.listening) return resolve();
            s.close(() => resolve());
            s.closeAllConnections();
          }),
      ),
    ).then(() => undefined);
  }
}

/** server.listen as a promise: a UNIX socket path, or a TCP port and address. */
export function listenOn(server: http.Server, pathOrPort: string | number, host?: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    const done = (): void => {
      server.off('error', reject);
      resolve();
    };
    if (typeof pathOrPort === 'number') server.listen(pathOrPort, host, done);
    else server.listen(pathOrPort, done);
  });
}
