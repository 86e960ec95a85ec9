/**
 * Registry authentication (distribution's token spec and RFC 7235):
 *
 *  1. Every request goes out anonymously until the registry answers 401 with `WWW-Authenticate`.
 *  2. `Basic realm=...`: the host's credentials go in every request after that.
 *  3. `Bearer realm=...,service=...,scope=...`: a token comes from the realm — GET with
 *     `service` and `scope=repository:<path>:pull[,push]` (Basic credentials when we have them), or
 *     a POST `grant_type=refresh_token` when the user holds an identity token (OAuth2) — and is
 *     cached per (registry, realm, service, scopes, credentials) until it expires.
 *  4. A 401 for a request that carried a token fetches a fresh one and retries once (transport.ts).
 *
 * Credentials never travel over plain HTTP to another machine: with an http realm or registry
 * that is not loopback, the token is requested anonymously and Basic is not sent.
 */
import crypto from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { BerthError } from '../../core/errors';
import { errorFromResponse } from './errors';
import { mayCarryCredentials } from './hosts';
import type { Credentials } from './types';

export interface Challenge {
  /** Lower case: 'basic', 'bearer'. */
  scheme: string;
  /** Parameter names in lower case. */
  params: Record<string, string>;
}

const TOKEN_CHAR = /[!#$%&'*+.^_`|~0-9A-Za-z-]/;

/** Parses one or more WWW-Authenticate values; quoted values may hold commas and escapes. */
export function parseWWWAuthenticate(header: string | string[] | undefined): Challenge[] {
  if (!header) return [];
  const out: Challenge[] = [];
  for (const s of Array.isArray(header) ? header : [header]) {
    let i = 0;
    let cur: Challenge | undefined;
    const skip = (): void => {
      while (i < s.length && (s[i] === ' ' || s[i] === '\t' || s[i] === ',')) i++;
    };
    while (i < s.length) {
      skip();
      const start = i;
      while (i < s.length && TOKEN_CHAR.test(s[i])) i++;
      const token = s.slice(start, i);
      if (!token) {
        i++;
        continue;
      }
      let j = i;
      while (j < s.length && (s[j] === ' ' || s[j] === '\t')) j++;
      if (cur && s[j] === '=') {
        i = j + 1;
        while (i < s.length && (s[i] === ' ' || s[i] === '\t')) i++;
        let value = '';
        if (s[i] === '"') {
          i++;
          while (i < s.length && s[i] !== '"') {
            if (s[i] === '\\' && i + 1 < s.length) i++;
            value += s[i++];
          }
          i++;
        } else {
          const vs = i;
          while (i < s.length && s[i] !== ',' && s[i] !== ' ' && s[i] !== '\t') i++;
          value = s.slice(vs, i);
        }
        cur.params[token.toLowerCase()] = value;
      } else {
        cur = { scheme: token.toLowerCase(), params: {} };
        out.push(cur);
      }
    }
  }
  return out;
}

/** `repository:<path>:pull` or `...:pull,push`. */
export function repositoryScope(path: string, push = false): string {
  return `repository:${path}:${push ? 'pull,push' : 'pull'}`;
}

export interface HttpAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}
/** The transport's buffered request function, with its retries and TLS settings. */
export type HttpCall = (url: URL, init: { method: string; headers: Record<string, string>; body?: Buffer }) => Promise<HttpAnswer>;

export interface Token {
  token: string;
  refreshToken?: string;
  expiresAt: number;
}

export interface TokenRequest {
  realm: string;
  service?: string;
  scopes: string[];
  creds?: Credentials;
  /** Ask for a refresh token (docker login's offline_token=true). */
  offline?: boolean;
}

export const CLIENT_ID = 'berth';
const MIN_TOKEN_LIFETIME_S = 60;

export function basicHeader(creds: Credentials): string {
  return 'Basic ' + Buffer.from(`${creds.username ?? ''}:${creds.password ?? ''}`).toString('base64');
}

/** Fetches a token from a Bearer realm. Throws unauthorized with the token server's message. */
export async function fetchToken(call: HttpCall, req: TokenRequest): Promise<Token> {
  let realm: URL;
  try {
    realm = new URL(req.realm);
  } catch {
    throw new BerthError('unauthorized', `invalid token realm "${req.realm}"`);
  }
  if (realm.protocol !== 'https:' && realm.protocol !== 'http:') throw new BerthError('unauthorized', `invalid token realm "${req.realm}"`);
  const creds = req.creds && mayCarryCredentials(realm) ? req.creds : undefined;
  const started = Date.now();
  let ans: HttpAnswer | undefined;
  if (creds?.identitytoken) {
    const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: creds.identitytoken, client_id: CLIENT_ID });
    if (req.service) form.set('service', req.service);
    if (req.scopes.length) form.set('scope', req.scopes.join(' '));
    if (req.offline) form.set('access_type', 'offline');
    ans = await call(realm, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded; charset=utf-8' }, body: Buffer.from(form.toString()) });
    // Token servers without the OAuth2 endpoint answer 404/405: fall back to GET when we can.
    if ((ans.status === 404 || ans.status === 405) && creds.username && creds.password) ans = undefined;
  }
  if (!ans) {
    const url = new URL(realm);
    if (req.service) url.searchParams.set('service', req.service);
    for (const s of req.scopes) url.searchParams.append('scope', s);
    const headers: Record<string, string> = {};
    if (creds?.username && creds.password !== undefined) {
      url.searchParams.set('account', creds.username);
      headers.Authorization = basicHeader(creds);
    }
    if (req.offline) {
      url.searchParams.set('offline_token', 'true');
      url.searchParams.set('client_id', CLIENT_ID);
    }
    ans = await call(url, { method: 'GET', headers });
  }
  if (ans.status !== 200) {
    const e = errorFromResponse(ans.status, ans.body);
    throw ans.status === 401 || ans.status === 403 ? e : new BerthError(e.kind, `getting a token from ${realm.origin}${realm.pathname}: ${e.message}`);
  }
  let j: Record<string, unknown>;
  try {
    j = JSON.parse(ans.body.toString('utf8')) as Record<string, unknown>;
  } catch {
    throw new BerthError('unauthorized', `token server ${realm.origin} sent an invalid answer`);
  }
  const token = typeof j.token === 'string' && j.token ? j.token : typeof j.access_token === 'string' ? j.access_token : '';
  if (!token) throw new BerthError('unauthorized', 'authorization server did not include a token in the response');
  const expiresIn = typeof j.expires_in === 'number' && j.expires_in >= MIN_TOKEN_LIFETIME_S ? j.expires_in : MIN_TOKEN_LIFETIME_S;
  const issued = typeof j.issued_at === 'string' ? Date.parse(j.issued_at) : NaN;
  // Trust the server's issue time only when our clock roughly agrees with it.
  const base = Number.isFinite(issued) && Math.abs(issued - started) < 60_000 ? issued : started;
  return { token, refreshToken: typeof j.refresh_token === 'string' && j.refresh_token ? j.refresh_token : undefined, expiresAt: base + expiresIn * 1000 };
}

/** What identifies a set of credentials in a cache key, without keeping the secret itself. */
function fingerprint(creds: Credentials | undefined): string {
  if (!creds) return 'anonymous';
  return crypto.createHash('sha256').update(JSON.stringify([creds.username, creds.password, creds.identitytoken, creds.registrytoken])).digest('hex').slice(0, 16);
}

/**
 * Chooses the Authorization header for a request, fetching and caching bearer tokens. Concurrent
 * requests for the same token share one fetch.
 */
export class Authorizer {
  private readonly tokens = new Map<string, Token>();
  private readonly inflight = new Map<string, Promise<Token>>();

  constructor(
    private readonly call: HttpCall,
    private readonly credentials: (host: string) => Credentials | undefined,
  ) {}

  /**
   * `credHost` names the credentials ('docker.io'); `authority` is where the request goes;
   * `url` the request's URL (credentials only over TLS or to loopback).
   */
  async header(credHost: string, authority: string, challenges: Challenge[], scopes: string[], url: URL): Promise<string | undefined> {
    const creds = mayCarryCredentials(url) ? this.credentials(credHost) : undefined;
    if (creds?.registrytoken) return `Bearer ${creds.registrytoken}`;
    const bearer = challenges.find((c) => c.scheme === 'bearer' && c.params.realm);
    if (bearer) {
      const all = [...new Set(scopes)].sort();
      const key = this.key(authority, bearer, all, creds);
      const cached = this.tokens.get(key);
      if (cached && cached.expiresAt - 5_000 > Date.now()) return `Bearer ${cached.token}`;
      let p = this.inflight.get(key);
      if (!p) {
        p = fetchToken(this.call, { realm: bearer.params.realm, service: bearer.params.service, scopes: all, creds }).finally(() => this.inflight.delete(key));
        this.inflight.set(key, p);
      }
      const t = await p;
      this.tokens.set(key, t);
      return `Bearer ${t.token}`;
    }
    if (challenges.some((c) => c.scheme === 'basic') && creds?.username) return basicHeader(creds);
    return undefined;
  }

  /** Forgets the tokens for a registry, so that the next request fetches a fresh one. */
  invalidate(authority: string): void {
    for (const k of this.tokens.keys()) if (k.startsWith(`${authority}\n`)) this.tokens.delete(k);
  }

  private key(authority: string, c: Challenge, scopes: string[], creds: Credentials | undefined): string {
    return [authority, c.params.realm, c.params.service ?? '', scopes.join(' '), fingerprint(creds)].join('\n');
  }
}
