/**
 * HTTP to registries: one Transport per client holds the connection pools, what each registry
 * endpoint speaks (https, or http for insecure ones), its auth challenges, and the token cache.
 *
 * Lifecycle of a request:
 *  1. The endpoint is probed once with `GET /v2/`: HTTPS first; insecure hosts (loopback, or listed
 *     in insecure-registries) fall back to plain HTTP, and skip certificate checks on HTTPS. The
 *     401's `WWW-Authenticate` challenges are kept (auth.ts).
 *  2. The request goes out with the Authorization that the challenges call for.
 *  3. A 401 updates the challenges, drops cached tokens and retries once with a fresh one.
 *  4. Network errors, 5xx and 429 are retried `retries` times with exponential backoff from 200 ms
 *     (Retry-After honoured up to 10 s), when the body can be sent again.
 *  5. GET/HEAD follow redirects (blob storage); Authorization only goes to the registry's own host.
 *  6. Any other non-success answer becomes a RegistryError with docker's wording (errors.ts).
 *
 * Each request and retry is published on the diagnostics channel `berth:registry:request`.
 */
import http, { type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import https from 'node:https';
import { pipeline } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import diagnostics from 'node:diagnostics_channel';
import { BerthError } from '../../core/errors';
import { Authorizer, parseWWWAuthenticate, type Challenge, type HttpAnswer } from './auth';
import { errorFromResponse, networkError } from './errors';
import { InsecureHosts, registryEndpoint } from './hosts';
import type { ClientOptions } from './types';

export const requestChannel = diagnostics.channel('berth:registry:request');

/** Where requests for one registry (or one mirror of it) go. */
export interface Endpoint {
  /** Whose credentials to use: the reference's domain ('docker.io') or the mirror's host. */
  credHost: string;
  /** host[:port] to connect to: 'registry-1.docker.io', '127.0.0.1:5000'. */
  authority: string;
  /** Fixed for mirrors (configured as URLs); probed otherwise. */
  scheme?: 'https:' | 'http:';
  mirror: boolean;
}

interface EndpointState {
  base: string; // 'https://registry-1.docker.io'
  insecure: boolean;
  challenges: Challenge[];
}

export type Body = Buffer | (() => NodeJS.ReadableStream);

export interface RequestSpec {
  method: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** `/v2/...` on the endpoint, or an absolute URL (upload Locations). */
  path: string;
  headers?: Record<string, string>;
  body?: Body;
  /** Token scopes this request needs: repository:<path>:pull[,push]. */
  scopes?: string[];
  /** Retry network errors, 5xx and 429. Default true. */
  retry?: boolean;
  /** Whether a function body can be produced again (for retries). Default true. */
  replayable?: boolean;
  /** Statuses handed back instead of thrown. Default: 2xx. */
  accept?: (status: number) => boolean;
  /** Prefix for error messages, e.g. `manifest for x:y not found: `. Applied to 404s only. */
  notFoundContext?: string;
  signal?: AbortSignal;
}

export interface Response {
  status: number;
  headers: IncomingHttpHeaders;
  /** The final URL, after redirects. */
  url: URL;
  body: IncomingMessage;
}

const MAX_REDIRECTS = 10;
const MAX_ERROR_BODY = 64 * 1024;
const NON_RETRYABLE_CODES = new Set(['ENOTFOUND', 'ABORT_ERR', 'ERR_INVALID_URL', 'ERR_TLS_CERT_ALTNAME_INVALID', 'CERT_HAS_EXPIRED', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY']);

function isRetryableError(err: unknown): boolean {
  if (err instanceof BerthError) return false; // already final (token fetches retry on their own)
  const e = err as { name?: string; code?: string };
  if (e?.name === 'AbortError') return false;
  return !NON_RETRYABLE_CODES.has(e?.code ?? '');
}

function isRetryableStatus(status: number): boolean {
  return status === 429 || status >= 500;
}

/** Reads a body up to `limit` bytes; throws invalid-argument beyond that. */
export async function readBody(res: IncomingMessage, limit: number, what = 'response'): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let len = 0;
  for await (const c of res) {
    len += (c as Buffer).length;
    if (len > limit) {
      res.destroy();
      throw new BerthError('invalid-argument', `${what} is larger than ${limit} bytes`);
    }
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks);
}

/**
 * Discards a body we do not need: short ones (and HEAD answers, which have none whatever their
 * Content-Length says) are read so that the connection can be reused; long ones close it.
 */
export function discard(res: IncomingMessage, method?: string): void {
  const len = Number(res.headers['content-length'] ?? NaN);
  if (method === 'HEAD' || (Number.isFinite(len) && len <= MAX_ERROR_BODY)) res.resume();
  else res.destroy();
}

async function readErrorBody(res: IncomingMessage): Promise<Buffer> {
  try {
    return await readBody(res, MAX_ERROR_BODY);
  } catch {
    return Buffer.alloc(0);
  }
}

export function backoffMs(attempt: number, retryAfter?: string | string[]): number {
  const base = 200 * 2 ** attempt;
  const ra = Array.isArray(retryAfter) ? retryAfter[0] : retryAfter;
  if (ra) {
    const secs = /^\d+$/.test(ra) ? Number(ra) * 1000 : Date.parse(ra) - Date.now();
    if (Number.isFinite(secs) && secs > base) return Math.min(secs, 10_000);
  }
  return base;
}

export class Transport {
  readonly retries: number;
  readonly auth: Authorizer;
  readonly insecure: InsecureHosts;
  private readonly userAgent: string;
  private readonly timeoutMs: number;
  private readonly mirrors: Endpoint[];
  private readonly httpAgent = new http.Agent({ keepAlive: true, maxSockets: 32 });
  private readonly httpsAgent = new https.Agent({ keepAlive: true, maxSockets: 32 });
  private readonly httpsInsecureAgent = new https.Agent({ keepAlive: true, maxSockets: 32, rejectUnauthorized: false });
  private readonly states = new Map<string, Promise<EndpointState>>();

  constructor(private readonly opts: ClientOptions) {
    this.retries = opts.retries ?? 3;
    this.userAgent = opts.userAgent ?? 'berth/0.1.0';
    this.timeoutMs = opts.timeoutMs ?? 60_000;
    this.insecure = new InsecureHosts(opts.insecureRegistries);
    this.auth = new Authorizer((url, init) => this.call(url, init), (host) => opts.credentials?.(host));
    this.mirrors = (opts.mirrors ?? []).map((m) => {
      const u = new URL(/^[a-z]+:\/\//i.test(m) ? m : `https://${m}`);
      if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new BerthError('invalid-argument', `invalid mirror: unsupported scheme "${u.protocol}" in "${m}"`);
      return { credHost: u.host, authority: u.host, scheme: u.protocol, mirror: true };
    });
  }

  /** The registry's own endpoint for a reference domain. */
  endpoint(domain: string): Endpoint {
    return { credHost: domain, authority: registryEndpoint(domain), mirror: false };
  }

  /** Endpoints to try in order: the mirrors first for docker.io pulls, then the registry. */
  endpoints(domain: string, pull: boolean): Endpoint[] {
    const own = this.endpoint(domain);
    return pull && domain === 'docker.io' ? [...this.mirrors, own] : [own];
  }

  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
    this.httpsInsecureAgent.destroy();
  }

  /** Scheme, insecure-ness and challenges of an endpoint; probed once and shared. */
  state(ep: Endpoint, signal?: AbortSignal): Promise<EndpointState> {
    const key = `${ep.scheme ?? ''}//${ep.authority}`;
    let p = this.states.get(key);
    if (!p) {
      p = this.probe(ep, signal);
      this.states.set(key, p);
      p.catch(() => this.states.delete(key));
    }
    return p;
  }

  /** Forgets what we know of an endpoint (after it stopped answering, or a login with new credentials). */
  forget(ep: Endpoint): void {
    this.states.delete(`${ep.scheme ?? ''}//${ep.authority}`);
    this.auth.invalidate(ep.authority);
  }

  private async probe(ep: Endpoint, signal?: AbortSignal): Promise<EndpointState> {
    const insecure = await this.insecure.isInsecure(ep.authority);
    const schemes = ep.scheme ? [ep.scheme] : insecure ? (['https:', 'http:'] as const) : (['https:'] as const);
    let lastErr: unknown;
    let lastUrl = '';
    for (let attempt = 0; ; attempt++) {
      for (const scheme of schemes) {
        const url = new URL(`${scheme}//${ep.authority}/v2/`);
        lastUrl = url.href;
        try {
          const res = await this.sendOnce(url, 'GET', {}, undefined, insecure, signal);
          await readErrorBody(res);
          const challenges = res.statusCode === 401 ? withoutScope(parseWWWAuthenticate(res.headers['www-authenticate'])) : [];
          return { base: `${scheme}//${ep.authority}`, insecure, challenges };
        } catch (err) {
          lastErr = err;
        }
      }
      if (attempt >= this.retries || !isRetryableError(lastErr) || signal?.aborted) break;
      await sleep(backoffMs(attempt), undefined, { signal });
    }
    throw networkError('GET', lastUrl, lastErr);
  }

  /**
   * Sends a request to an endpoint, with auth, retries and redirects as described at the top.
   * Returns accepted answers with their body unread; throws RegistryError for the others.
   */
  async request(ep: Endpoint, spec: RequestSpec): Promise<Response> {
    const state = await this.state(ep, spec.signal);
    const accept = spec.accept ?? ((s: number) => s >= 200 && s < 300);
    const replayable = spec.replayable ?? true;
    let scopes = spec.scopes ?? [];
    let authRetried = false;
    let bodyUsed = false;
    for (let attempt = 0; ; ) {
      if (bodyUsed && typeof spec.body === 'function' && !replayable) {
        throw new BerthError('unavailable', `${spec.method} ${spec.path}: the request failed and its body cannot be sent again`);
      }
      let res: IncomingMessage;
      let url = new URL(spec.path, state.base);
      let authHeader: string | undefined;
      try {
        // Upload Locations may point elsewhere; credentials only go to the registry's own origin.
        if (url.origin === new URL(state.base).origin) authHeader = await this.auth.header(ep.credHost, ep.authority, state.challenges, scopes, url);
        const body = typeof spec.body === 'function' ? spec.body() : spec.body;
        bodyUsed = true;
        res = await this.sendOnce(url, spec.method, this.headers(spec.headers, authHeader), body, state.insecure, spec.signal);
        // Redirects: blob storage elsewhere. Authorization stays with the registry's own origin.
        for (let hops = 0; (spec.method === 'GET' || spec.method === 'HEAD') && [301, 302, 303, 307, 308].includes(res.statusCode ?? 0) && res.headers.location; hops++) {
          if (hops >= MAX_REDIRECTS) throw new BerthError('unavailable', `${spec.method} ${url.href}: stopped after ${MAX_REDIRECTS} redirects`);
          discard(res, spec.method);
          const next = new URL(res.headers.location, url);
          const sameOrigin = next.origin === new URL(state.base).origin;
          url = next;
          const hopInsecure = sameOrigin ? state.insecure : await this.insecure.isInsecure(next.host);
          res = await this.sendOnce(url, spec.method, this.headers(spec.headers, sameOrigin ? authHeader : undefined), undefined, hopInsecure, spec.signal);
        }
      } catch (err) {
        if (spec.retry !== false && attempt < this.retries && isRetryableError(err) && !spec.signal?.aborted) {
          requestChannel.publish({ method: spec.method, url: url.href, error: err, retry: attempt + 1 });
          await sleep(backoffMs(attempt), undefined, { signal: spec.signal });
          attempt++;
          continue;
        }
        throw err instanceof BerthError ? err : spec.signal?.aborted ? abortError(spec.signal) : networkError(spec.method, url, err);
      }
      const status = res.statusCode ?? 0;
      requestChannel.publish({ method: spec.method, url: url.href, status });
      if (status === 401 && !authRetried && !accept(status)) {
        // Unknown or changed challenge, or an expired/insufficient token: fresh token, once.
        const challenges = parseWWWAuthenticate(res.headers['www-authenticate']);
        const canReplay = typeof spec.body !== 'function' || replayable;
        if (challenges.length && canReplay && (authHeader === undefined || authHeader.startsWith('Bearer '))) {
          authRetried = true;
          const bearerScope = challenges.find((c) => c.scheme === 'bearer')?.params.scope;
          if (bearerScope) scopes = [...new Set([...scopes, ...bearerScope.split(' ')])];
          state.challenges = withoutScope(challenges);
          this.auth.invalidate(ep.authority);
          await readErrorBody(res);
          continue;
        }
      }
      if (isRetryableStatus(status) && spec.retry !== false && attempt < this.retries && !accept(status) && (typeof spec.body !== 'function' || replayable)) {
        const wait = backoffMs(attempt, res.headers['retry-after']);
        await readErrorBody(res);
        requestChannel.publish({ method: spec.method, url: url.href, status, retry: attempt + 1 });
        await sleep(wait, undefined, { signal: spec.signal });
        attempt++;
        continue;
      }
      if (accept(status)) return { status, headers: res.headers, url, body: res };
      const errBody = spec.method === 'HEAD' ? Buffer.alloc(0) : await readErrorBody(res);
      // HEAD has no body; a streamed body the server refused would otherwise keep the socket busy.
      if (spec.method === 'HEAD') discard(res, 'HEAD');
      else if (typeof spec.body === 'function') res.destroy();
      throw errorFromResponse(status, errBody, status === 404 ? spec.notFoundContext : undefined);
    }
  }

  /** Buffered request for the token server: retries, TLS settings per host, no auth. */
  async call(url: URL, init: { method: string; headers: Record<string, string>; body?: Buffer }): Promise<HttpAnswer> {
    const insecure = await this.insecure.isInsecure(url.host);
    for (let attempt = 0; ; attempt++) {
      try {
        const res = await this.sendOnce(url, init.method, this.headers(init.headers), init.body, insecure);
        const status = res.statusCode ?? 0;
        if (isRetryableStatus(status) && attempt < this.retries) {
          const wait = backoffMs(attempt, res.headers['retry-after']);
          await readErrorBody(res);
          await sleep(wait);
          continue;
        }
        return { status, headers: res.headers, body: await readBody(res, 1024 * 1024, 'token response') };
      } catch (err) {
        if (err instanceof BerthError) throw err;
        if (attempt < this.retries && isRetryableError(err)) {
          await sleep(backoffMs(attempt));
          continue;
        }
        throw networkError(init.method, `${url.origin}${url.pathname}`, err);
      }
    }
  }

  private headers(extra: Record<string, string> | undefined, authorization?: string): Record<string, string> {
    const h: Record<string, string> = { 'User-Agent': this.userAgent, ...extra };
    if (authorization) h.Authorization = authorization;
    return h;
  }

  /** One HTTP exchange: resolves at the response headers, body unread. */
  private sendOnce(url: URL, method: string, headers: Record<string, string>, body: Buffer | NodeJS.ReadableStream | undefined, insecureTls: boolean, signal?: AbortSignal): Promise<IncomingMessage> {
    return new Promise((resolve, reject) => {
      const isHttps = url.protocol === 'https:';
      const agent = isHttps ? (insecureTls ? this.httpsInsecureAgent : this.httpsAgent) : this.httpAgent;
      const h = { ...headers };
      if (Buffer.isBuffer(body)) h['Content-Length'] = String(body.length);
      else if (!body && method !== 'GET' && method !== 'HEAD') h['Content-Length'] = '0';
      let settled = false;
      const req = (isHttps ? https : http).request(url, { method, headers: h, agent, signal, timeout: this.timeoutMs });
      req.on('response', (res) => {
        settled = true;
        resolve(res);
      });
      req.on('error', (err) => {
        if (!settled) {
          settled = true;
          reject(err);
        }
      });
      req.on('timeout', () => req.destroy(Object.assign(new Error(`no data for ${this.timeoutMs / 1000} s`), { code: 'ETIMEDOUT' })));
      if (Buffer.isBuffer(body)) req.end(body);
      else if (body) pipeline(body, req, () => undefined);
      else req.end();
    });
  }
}

/** Challenges as kept per endpoint: a 401's scope belongs to that one request. */
function withoutScope(challenges: Challenge[]): Challenge[] {
  return challenges.map((c) => {
    const { scope: _scope, ...params } = c.params;
    return { scheme: c.scheme, params };
  });
}

export function abortError(signal: AbortSignal): Error {
  const r: unknown = signal.reason;
  return r instanceof Error ? r : Object.assign(new Error('The operation was aborted'), { name: 'AbortError' });
}
