/**
 * The Engine API server: HTTP/1.1 on a UNIX socket (or TCP with mutual TLS, later), optional
 * /vX.Y prefix with Docker's version checks, JSON errors `{"message": ...}`, hijacked
 * connections for attach (`Upgrade: tcp`).
 */
import http from 'node:http';
import type { Duplex } from 'node:stream';
import { BerthError, invalidArgument, notFound } from '../core/errors';
import { errorMessage, httpStatus } from './errors';

export const API_VERSION = '1.41';
export const MIN_API_VERSION = '1.24';
const BODY_LIMIT = 16 << 20;

export interface Ctx {
  req: http.IncomingMessage;
  /** Absent for hijacked (upgraded) requests. */
  res?: http.ServerResponse;
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

  match(method: string, path: string): { handler: Handler; params: string[] } | { allowed: boolean } {
    let pathMatched = false;
    for (const r of this.routes) {
      const m = r.re.exec(path);
      if (!m) continue;
      pathMatched = true;
      if (r.method === method || (method === 'HEAD' && r.method === 'GET')) {
        return { handler: r.handler, params: m.slice(1).map((s) => decodeURIComponent(s)) };
      }
    }
    return { allowed: pathMatched };
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

/** Sends a JSON body (or an empty 204/304). */
export function sendJson(ctx: Ctx, status: number, body?: unknown): void {
  const res = ctx.res;
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

/** Reads and parses a JSON request body; an empty body gives `undefined`. */
export async function readJson(ctx: Ctx, limit = BODY_LIMIT): Promise<any> {
  const chunks: Buffer[] = [];
  let len = 0;
  for await (const c of ctx.req) {
    len += (c as Buffer).length;
    if (len > limit) throw new BerthError('invalid-argument', `request body is larger than ${limit} bytes`);
    chunks.push(c as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8').trim();
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

export function boolParam(q: URLSearchParams, name: string, def = false): boolean {
  const v = q.get(name);
  if (v === null) return def;
  return !(v === '' || v === '0' || v.toLowerCase() === 'false');
}

export function intParam(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  if (v === null || v === '') return undefined;
  if (!/^-?\d+$/.test(v)) throw invalidArgument(`invalid value for ${name}: ${v}`);
  return Number(v);
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

export class ApiServer {
  readonly server: http.Server;

  constructor(private readonly router: Router) {
    this.server = http.createServer({ requestTimeout: 0, headersTimeout: 60_000, keepAliveTimeout: 30_000 }, (req, res) => {
      void this.dispatch(req, res, undefined);
    });
    this.server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
      void this.dispatch(req, undefined, { socket, head });
    });
    this.server.on('clientError', (err, socket) => {
      if ((socket as { writable?: boolean }).writable) socket.end('HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\n\r\n{"message":"malformed HTTP request"}\n');
    });
  }

  private async dispatch(req: http.IncomingMessage, res: http.ServerResponse | undefined, upgrade: Ctx['upgrade']): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://berth');
    let path = url.pathname;
    let version = API_VERSION;
    const vm = /^\/v(\d+\.\d+)(\/.*)$/.exec(path);
    if (vm) {
      version = vm[1];
      path = vm[2];
    }
    if (res) for (const [k, v] of Object.entries(commonHeaders())) res.setHeader(k, v);
    const ctx: Ctx = { req, res, upgrade, params: [], query: url.searchParams, version, path };
    try {
      if (vm && cmpVersion(version, API_VERSION) > 0) {
        throw invalidArgument(`client version ${version} is too new. Maximum supported API version is ${API_VERSION}`);
      }
      if (vm && cmpVersion(version, MIN_API_VERSION) < 0) {
        throw invalidArgument(`client version ${version} is too old. Minimum supported API version is ${MIN_API_VERSION}, please upgrade your client to a newer version`);
      }
      const m = this.router.match(req.method ?? 'GET', path);
      if (!('handler' in m)) {
        if (m.allowed) throw new BerthError('invalid-argument', `method ${req.method} not allowed for ${path}`);
        throw notFound(`page not found`);
      }
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
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(socketPath, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}
