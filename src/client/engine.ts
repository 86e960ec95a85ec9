/**
 * A small typed client for the Docker Engine API, as berthd serves it.
 *
 * One `Engine` per process talks to one daemon endpoint: `unix://PATH` (the default), or
 * `tcp://HOST:PORT` with optional TLS. Every request path is prefixed with the API version
 * (`/v1.41`). Replies come back as:
 *  - parsed JSON (`get`, `post`, `delete`), or
 *  - the raw response stream (`stream`), to be read as JSON-lines progress messages
 *    (`jsonMessages`) or as docker's multiplexed stdout/stderr frames (`Demuxer`), or
 *  - a hijacked socket (`hijack`): the `Upgrade: tcp` dance that `attach` uses, after which the
 *    connection carries the container's raw stdio.
 * A reply outside 2xx becomes an `EngineError` carrying the HTTP status and the daemon's
 * `{"message": ...}`; a daemon that cannot be reached becomes an `EngineConnectError`.
 *
 * The module is imported by every CLI command, so it stays cheap: node:http and node:net only;
 * node:https and node:fs are loaded when a TLS endpoint is actually used.
 */
import http from 'node:http';
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';

export const DEFAULT_HOST = 'unix:///run/berth/berth.sock';
export const API_VERSION = '1.41';

import { EngineError, EngineConnectError } from './errors';
import { AUTH_FIELDS, type AuthConfig, type AuthResponse } from './auth';

export { EngineError, EngineConnectError };

export interface TlsOptions {
  /** Paths to PEM files. */
  ca?: string;
  cert?: string;
  key?: string;
  /** Verify the daemon's certificate (docker's --tlsverify). */
  verify?: boolean;
}

export interface EngineOptions {
  /** unix:///path, tcp://host:port (http or https with tls), or a bare /path. */
  host?: string;
  tls?: TlsOptions;
  apiVersion?: string;
  userAgent?: string;
}

/** Picks the daemon endpoint: -H/--host, then BERTH_HOST, then DOCKER_HOST, then the default socket. */
export function resolveHost(flagHost?: string, env: NodeJS.ProcessEnv = process.env): string {
  return flagHost || env.BERTH_HOST || env.DOCKER_HOST || DEFAULT_HOST;
}

export type QueryValue = string | number | boolean | undefined | null | string[];
export type Query = Record<string, QueryValue>;

export interface RequestOptions {
  query?: Query;
  /** An object is sent as JSON; a Buffer or string as-is; a Readable is piped. */
  body?: unknown;
  headers?: Record<string, string>;
}

interface Endpoint {
  socketPath?: string;
  hostname?: string;
  port?: number;
  secure: boolean;
}

export function parseHost(host: string): Endpoint {
  if (host.startsWith('unix://')) return { socketPath: host.slice('unix://'.length), secure: false };
  if (host.startsWith('/')) return { socketPath: host, secure: false };
  const m = /^(tcp|http|https):\/\/(\[[^\]]+\]|[^:/]*)(?::(\d+))?\/?$/.exec(host);
  if (!m) throw new Error(`unable to parse docker host \`${host}\``);
  const secure = m[1] === 'https';
  const hostname = m[2].replace(/^\[|\]$/g, '') || '127.0.0.1';
  return { hostname, port: m[3] ? Number(m[3]) : secure ? 2376 : 2375, secure };
}

export function encodeQuery(q: Query | undefined): string {
  if (!q) return '';
  const parts: string[] = [];
  for (const [k, v] of Object.entries(q)) {
    if (v === undefined || v === null) continue;
    const vals = Array.isArray(v) ? v : [v === true ? '1' : v === false ? '0' : String(v)];
    for (const one of vals) parts.push(`${encodeURIComponent(k)}=${encodeURIComponent(one)}`);
  }
  return parts.length ? `?${parts.join('&')}` : '';
}

export class Engine {
  readonly host: string;
  readonly apiVersion: string;
  private readonly endpoint: Endpoint;
  private readonly tls: TlsOptions | undefined;
  private readonly userAgent: string;
  private agent: http.Agent | undefined;

  constructor(opts: EngineOptions = {}) {
    this.host = opts.host ?? resolveHost();
    this.apiVersion = opts.apiVersion ?? API_VERSION;
    this.endpoint = parseHost(this.host);
    this.tls = opts.tls;
    if (this.tls && !this.endpoint.socketPath) this.endpoint.secure = true;
    this.userAgent = opts.userAgent ?? 'berth-cli';
  }

  path(p: string, query?: Query): string {
    return `/v${this.apiVersion}${p}${encodeQuery(query)}`;
  }

  async get<T = unknown>(p: string, query?: Query): Promise<T> {
    return this.json<T>('GET', p, { query });
  }
  async post<T = unknown>(p: string, query?: Query, body?: unknown): Promise<T> {
    return this.json<T>('POST', p, { query, body });
  }
  async delete<T = unknown>(p: string, query?: Query): Promise<T> {
    return this.json<T>('DELETE', p, { query });
  }
  async head(p: string, query?: Query): Promise<IncomingMessage> {
    const res = await this.stream('HEAD', p, { query });
    res.resume();
    return res;
  }

  /** A request whose reply body is JSON (or empty: undefined). */
  async json<T = unknown>(method: string, p: string, opts: RequestOptions = {}): Promise<T> {
    const res = await this.stream(method, p, opts);
    const buf = await readAll(res);
    if (buf.length === 0) return undefined as T;
    const text = buf.toString('utf8');
    try {
      return JSON.parse(text) as T;
    } catch {
      return text as T;
    }
  }

  /** A request whose reply is returned as a stream once the status is known to be 2xx. */
  stream(method: string, p: string, opts: RequestOptions = {}): Promise<IncomingMessage> {
    return new Promise((resolve, reject) => {
      const req = this.request(method, p, opts);
      req.on('error', (err) => reject(this.connectError(err)));
      req.on('response', (res) => {
        if (res.statusCode !== undefined && res.statusCode >= 200 && res.statusCode < 300) {
          resolve(res);
          return;
        }
        readAll(res).then((b) => reject(errorFromReply(res, b, this.apiVersion, p)), reject);
      });
      sendBody(req, opts.body, reject);
    });
  }

  /**
   * Hijacks the connection: POSTs with `Connection: Upgrade` / `Upgrade: tcp`, expects
   * `101 Switching Protocols` and returns the raw socket (with any bytes that arrived with the
   * reply head pushed back onto it). A daemon that answers with a plain reply (an error, or an
   * old-style 200 with the stream in the body) is handled too.
   */
  hijack(p: string, query?: Query, body?: unknown): Promise<Socket | Readable> {
    return new Promise((resolve, reject) => {
      // A JSON body goes with a Content-Length: the daemon reads it out of the upgraded stream.
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const sized: Record<string, string> = payload === undefined ? {} : { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(payload)) };
      const req = this.request('POST', p, {
        query,
        body: payload,
        headers: { Connection: 'Upgrade', Upgrade: 'tcp', ...sized },
      });
      req.on('error', (err) => reject(this.connectError(err)));
      req.on('upgrade', (_res, socket, head) => {
        if (head && head.length > 0) socket.unshift(head);
        resolve(socket);
      });
      req.on('response', (res) => {
        if (res.statusCode === 200) {
          resolve(res);
          return;
        }
        readAll(res).then((b) => reject(errorFromReply(res, b, this.apiVersion, p)), reject);
      });
      sendBody(req, payload, reject);
    });
  }

  /** POST /auth: the daemon checks the credentials with the registry (docker's RegistryLogin). */
  async registryLogin(auth: AuthConfig): Promise<AuthResponse> {
    const body: Record<string, string> = {};
    for (const k of AUTH_FIELDS) if (auth[k]) body[k] = auth[k];
    return (await this.post<AuthResponse | undefined>('/auth', undefined, body)) ?? { Status: '' };
  }

  /** Releases kept-alive connections, so that the process can exit on its own. */
  close(): void {
    this.agent?.destroy();
    this.agent = undefined;
  }

  private request(method: string, p: string, opts: RequestOptions): http.ClientRequest {
    const headers: Record<string, string> = { 'User-Agent': this.userAgent, ...(opts.headers ?? {}) };
    const body = opts.body;
    if (body !== undefined && !Buffer.isBuffer(body) && typeof body !== 'string' && !isReadable(body)) {
      headers['Content-Type'] = 'application/json';
    }
    const e = this.endpoint;
    const common: http.RequestOptions = {
      method,
      path: this.path(p, opts.query),
      headers,
    };
    if (e.socketPath) {
      common.socketPath = e.socketPath;
      common.host = 'localhost';
    } else {
      common.hostname = e.hostname;
      common.port = e.port;
    }
    if (e.secure) {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const https = require('node:https') as typeof import('node:https');
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const fs = require('node:fs') as typeof import('node:fs');
      const t = this.tls ?? {};
      return https.request({
        ...common,
        ca: t.ca ? fs.readFileSync(t.ca) : undefined,
        cert: t.cert ? fs.readFileSync(t.cert) : undefined,
        key: t.key ? fs.readFileSync(t.key) : undefined,
        rejectUnauthorized: t.verify !== false,
      });
    }
    if (!this.agent) this.agent = new http.Agent({ keepAlive: true });
    return http.request({ ...common, agent: opts.headers?.Upgrade ? false : this.agent });
  }

  private connectError(err: Error): Error {
    const code = (err as NodeJS.ErrnoException).code;
    const unreachable = ['ENOENT', 'ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ENOTSOCK'];
    if (code === 'EACCES' || code === 'EPERM') {
      return new Error(
        `permission denied while trying to connect to the berth daemon socket at ${this.host}: ${err.message}`,
        { cause: err },
      );
    }
    if (code && unreachable.includes(code)) return new EngineConnectError(this.host, err as NodeJS.ErrnoException);
    return err;
  }
}

function isReadable(x: unknown): x is Readable {
  return typeof x === 'object' && x !== null && typeof (x as Readable).pipe === 'function' && typeof (x as Readable).on === 'function';
}

function sendBody(req: http.ClientRequest, body: unknown, reject: (e: Error) => void): void {
  if (body === undefined) {
    req.end();
  } else if (Buffer.isBuffer(body) || typeof body === 'string') {
    req.end(body);
  } else if (isReadable(body)) {
    body.on('error', (err) => {
      req.destroy(err);
      reject(err);
    });
    body.pipe(req);
  } else {
    req.end(JSON.stringify(body));
  }
}

export function readAll(stream: Readable): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', reject);
  });
}

function errorFromReply(res: IncomingMessage, body: Buffer, version: string, p: string): EngineError {
  const status = res.statusCode ?? 0;
  const text = body.toString('utf8').trim();
  let message = text;
  try {
    const parsed = JSON.parse(text) as { message?: unknown };
    if (parsed && typeof parsed.message === 'string') message = parsed.message;
  } catch {}
  if (!message) {
    message = `request returned ${http.STATUS_CODES[status] ?? status} for API route and version ${p}/v${version}, check if the server supports the requested API version`;
  }
  return new EngineError(status, message);
}

// ---- JSON-lines progress messages ---------------------------------------------------------

/** One message of a load/import/pull/build progress stream (docker's jsonmessage). */
export interface JsonMessage {
  stream?: string;
  status?: string;
  id?: string;
  progress?: string;
  progressDetail?: { current?: number; total?: number };
  error?: string;
  errorDetail?: { code?: number; message?: string };
  aux?: unknown;
}

/** Splits a stream of JSON documents (newline-separated, or simply concatenated) into messages. */
export async function* jsonMessages(stream: AsyncIterable<Buffer | string>): AsyncGenerator<JsonMessage> {
  let buf = '';
  for await (const chunk of stream) {
    buf += typeof chunk === 'string' ? chunk : chunk.toString('utf8');
    let obj: JsonMessage | undefined;
    while ((obj = takeJson()) !== undefined) yield obj;
  }
  const rest = buf.trim();
  if (rest) yield JSON.parse(rest) as JsonMessage;

  function takeJson(): JsonMessage | undefined {
    // Each message is one JSON object; find its end by depth counting outside strings.
    let i = 0;
    while (i < buf.length && /\s/.test(buf[i])) i++;
    if (i >= buf.length) {
      buf = '';
      return undefined;
    }
    let depth = 0;
    let inStr = false;
    for (let j = i; j < buf.length; j++) {
      const c = buf[j];
      if (inStr) {
        if (c === '\\') j++;
        else if (c === '"') inStr = false;
      } else if (c === '"') inStr = true;
      else if (c === '{' || c === '[') depth++;
      else if (c === '}' || c === ']') {
        depth--;
        if (depth === 0) {
          const text = buf.slice(i, j + 1);
          buf = buf.slice(j + 1);
          return JSON.parse(text) as JsonMessage;
        }
      }
    }
    return undefined;
  }
}

/** The error a progress message carries, if any (errorDetail wins over error, as in docker). */
export function messageError(m: JsonMessage): string | undefined {
  if (m.errorDetail?.message) return m.errorDetail.message;
  if (m.error) return m.error;
  return undefined;
}

// ---- multiplexed stdout/stderr ------------------------------------------------------------

export const STDIN = 0;
export const STDOUT = 1;
export const STDERR = 2;
export const SYSTEMERR = 3;

/**
 * Splits docker's multiplexed stream (attach and logs without a TTY) into frames. Each frame is an
 * 8-byte header [stream, 0, 0, 0, size uint32 big-endian] followed by `size` bytes. Feed it
 * chunks with `push`; frames come out through `onFrame` whole, however the chunks were cut.
 */
export class Demuxer {
  private pending: Buffer = Buffer.alloc(0);
  constructor(private readonly onFrame: (stream: number, data: Buffer) => void) {}

  push(chunk: Buffer): void {
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    let off = 0;
    while (this.pending.length - off >= 8) {
      const size = this.pending.readUInt32BE(off + 4);
      if (this.pending.length - off - 8 < size) break;
      const stream = this.pending[off];
      this.onFrame(stream, this.pending.subarray(off + 8, off + 8 + size));
      off += 8 + size;
    }
    this.pending = off === this.pending.length ? Buffer.alloc(0) : this.pending.subarray(off);
  }

  /** Bytes left over that do not yet make a whole frame. */
  get remaining(): number {
    return this.pending.length;
  }
}

/** Encodes one frame, the inverse of Demuxer (for tests and fakes). */
export function muxFrame(stream: number, data: Buffer | string): Buffer {
  const b = typeof data === 'string' ? Buffer.from(data) : data;
  const h = Buffer.alloc(8);
  h[0] = stream;
  h.writeUInt32BE(b.length, 4);
  return Buffer.concat([h, b]);
}

/**
 * Copies a multiplexed stream to two writables, resolving when it ends. A SYSTEMERR frame (the
 * daemon's own error in the middle of a stream) rejects with its text.
 */
export function demuxTo(src: Readable, stdout: NodeJS.WritableStream, stderr: NodeJS.WritableStream): Promise<void> {
  return new Promise((resolve, reject) => {
    let sysErr: string | undefined;
    const d = new Demuxer((stream, data) => {
      if (stream === STDERR) stderr.write(data);
      else if (stream === SYSTEMERR) sysErr = (sysErr ?? '') + data.toString('utf8');
      else stdout.write(data);
    });
    src.on('data', (c: Buffer) => d.push(c));
    src.on('end', () => (sysErr ? reject(new Error(sysErr)) : resolve()));
    src.on('close', () => (sysErr ? reject(new Error(sysErr)) : resolve()));
    src.on('error', (err) => {
      // A reset at the end of a hijacked stream is an ordinary end.
      if ((err as NodeJS.ErrnoException).code === 'ECONNRESET') resolve();
      else reject(err);
    });
  });
}
