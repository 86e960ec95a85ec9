/**
 * Authentication for `berth registry serve`: an Apache htpasswd file of bcrypt entries, and
 * bearer tokens issued by the server's own token endpoint.
 *
 * Token flow (Docker's "token authentication", docs/spec/auth/token.md in the Distribution
 * registry): a request without a token gets 401 with
 * `WWW-Authenticate: Bearer realm="<server>/auth/token",service="berth-registry",scope="repository:<name>:pull,push"`;
 * the client asks the realm for a token with those parameters and its Basic credentials; the
 * token lists the granted actions per repository (`access` claim, as in a Distribution JWT) and
 * is an HS256 JWT signed with the server's secret, so only this server can mint one. A request
 * whose token lacks the action gets 401 with `error="insufficient_scope"`.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import bcrypt from 'bcryptjs';
import { isValidName } from './names';

export type Action = 'pull' | 'push' | 'delete';

// ---- htpasswd -------------------------------------------------------------------------------------

const BCRYPT_RE = /^\$2[aby]\$\d{2}\$[./A-Za-z0-9]{53}$/;

/** A well-formed bcrypt hash of nothing anyone knows: compared against for unknown users, so that
 * an unknown user costs as much time as a wrong password. */
const DUMMY_HASH = '$2b$10$04daAp099F8I6J5mkzsY3eqhPHSYLMUI2lo/YhQ7jDwSjFZRpFBnu';

function describeHash(hash: string): string {
  if (hash.startsWith('$apr1$')) return 'an Apache MD5 ($apr1$) hash';
  if (hash.startsWith('{SHA}')) return 'a SHA-1 ({SHA}) hash';
  if (hash.startsWith('$1$')) return 'an MD5-crypt ($1$) hash';
  if (hash.startsWith('$5$') || hash.startsWith('$6$')) return 'a SHA-crypt hash';
  if (hash.startsWith('$2')) return 'a malformed bcrypt hash';
  return 'a crypt or plain-text password';
}

/**
 * Parses an htpasswd file's text: `user:hash` lines, blank lines and `#` comments ignored. Only
 * bcrypt entries (`$2y$`, `$2a$`, `$2b$`, made by `htpasswd -B`) are accepted; anything else is
 * an error naming the file, line and user, so the server refuses to start rather than lock a
 * user out silently.
 */
export function parseHtpasswd(text: string, file = 'htpasswd'): Map<string, string> {
  const users = new Map<string, string>();
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const colon = line.indexOf(':');
    if (colon <= 0) throw new Error(`${file}:${i + 1}: not a "user:hash" line`);
    const user = line.slice(0, colon);
    const hash = line.slice(colon + 1);
    if (!BCRYPT_RE.test(hash)) {
      throw new Error(`${file}:${i + 1}: user ${JSON.stringify(user)} has ${describeHash(hash)}; only bcrypt entries are supported (create them with "htpasswd -B")`);
    }
    users.set(user, hash);
  });
  return users;
}

export class Htpasswd {
  readonly users: Map<string, string>;
  /** Successful checks, so that a client sending Basic credentials on every request pays bcrypt once. */
  private readonly verified = new Map<string, number>();
  private readonly cacheKey = crypto.randomBytes(32);

  constructor(users: Map<string, string>) {
    this.users = users;
  }

  static load(file: string): Htpasswd {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (err) {
      throw new Error(`cannot read htpasswd file ${file}: ${(err as Error).message}`);
    }
    return new Htpasswd(parseHtpasswd(text, file));
  }

  async verify(user: string, password: string): Promise<boolean> {
    const key = crypto.createHmac('sha256', this.cacheKey).update(`${user}\0${password}`).digest('hex');
    const until = this.verified.get(key);
    if (until !== undefined && until > Date.now() && this.users.has(user)) return true;
    const hash = this.users.get(user);
    // bcryptjs knows $2a$ and $2b$; $2y$ (PHP's, and htpasswd's) is the same algorithm.
    const ok = await bcrypt.compare(password, (hash ?? DUMMY_HASH).replace(/^\$2y\$/, '$2b$'));
    if (!ok || hash === undefined) return false;
    if (this.verified.size > 10000) this.verified.clear();
    this.verified.set(key, Date.now() + 5 * 60_000);
    return true;
  }
}

/** The user and password of an `Authorization: Basic` header. */
export function parseBasic(header: string | undefined): { user: string; password: string } | undefined {
  if (!header) return undefined;
  const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (!m) return undefined;
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

export function parseBearer(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const m = /^Bearer\s+([A-Za-z0-9._~+/=-]+)\s*$/i.exec(header);
  return m ? m[1] : undefined;
}

// ---- scopes and tokens ------------------------------------------------------------------------------

export interface AccessEntry {
  type: string;
  name: string;
  actions: string[];
}

/**
 * Scopes as clients send them: `scope` parameters, each one or more space-separated
 * `type[(class)]:name:action,action` (the name may itself contain colons).
 */
export function parseScopes(values: readonly string[]): AccessEntry[] {
  const out: AccessEntry[] = [];
  for (const v of values) {
    for (const s of v.split(' ')) {
      if (s === '') continue;
      const first = s.indexOf(':');
      const last = s.lastIndexOf(':');
      if (first <= 0 || last === first) continue;
      const type = s.slice(0, first).replace(/\(.*\)$/, '');
      out.push({ type, name: s.slice(first + 1, last), actions: s.slice(last + 1).split(',').filter(Boolean) });
    }
  }
  return out;
}

/** What the token endpoint grants a user who proved who they are: what they asked for, within reason. */
export function grantScopes(requested: readonly AccessEntry[]): AccessEntry[] {
  const out: AccessEntry[] = [];
  for (const r of requested) {
    if (r.type === 'repository' && isValidName(r.name)) {
      const actions = r.actions.filter((a) => ['pull', 'push', 'delete', '*'].includes(a));
      if (actions.length > 0) out.push({ type: r.type, name: r.name, actions: [...new Set(actions)] });
    } else if (r.type === 'registry' && r.name === 'catalog' && r.actions.includes('*')) {
      out.push({ type: 'registry', name: 'catalog', actions: ['*'] });
    }
  }
  return out;
}

export interface TokenOptions {
  /** The token endpoint's URL in challenges; default `<scheme>://<Host header>/auth/token`. */
  realm?: string;
  /** The service name in challenges and tokens (the JWT audience); default `berth-registry`. */
  service?: string;
  /** The HMAC-SHA256 key tokens are signed with; default random per server (tokens then die with it). */
  secret?: string | Buffer;
  /** Token lifetime in seconds; default 300. */
  expiresIn?: number;
}

export interface TokenClaims {
  iss: string;
  sub: string;
  aud: string;
  exp: number;
  nbf: number;
  iat: number;
  jti: string;
  access: AccessEntry[];
}

const b64url = (b: Buffer | string): string => Buffer.from(b).toString('base64url');

export class TokenIssuer {
  readonly service: string;
  readonly realm: string | undefined;
  readonly expiresIn: number;
  private readonly secret: Buffer;

  constructor(opts: TokenOptions = {}) {
    this.service = opts.service ?? 'berth-registry';
    this.realm = opts.realm;
    this.expiresIn = opts.expiresIn ?? 300;
    this.secret = opts.secret === undefined ? crypto.randomBytes(32) : Buffer.from(opts.secret);
  }

  issue(subject: string, access: AccessEntry[], now = Date.now()): { token: string; expiresIn: number; issuedAt: string } {
    const iat = Math.floor(now / 1000);
    const claims: TokenClaims = {
      iss: this.service,
      sub: subject,
      aud: this.service,
      exp: iat + this.expiresIn,
      nbf: iat - 1,
      iat,
      jti: crypto.randomBytes(16).toString('hex'),
      access,
    };
    const signingInput = `${b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }))}.${b64url(JSON.stringify(claims))}`;
    const sig = crypto.createHmac('sha256', this.secret).update(signingInput).digest();
    return { token: `${signingInput}.${b64url(sig)}`, expiresIn: this.expiresIn, issuedAt: new Date(iat * 1000).toISOString() };
  }

  /** The claims of a token this issuer signed and that is valid now; undefined otherwise. */
  verify(token: string, now = Date.now()): TokenClaims | undefined {
    const parts = token.split('.');
    if (parts.length !== 3) return undefined;
    const expected = crypto.createHmac('sha256', this.secret).update(`${parts[0]}.${parts[1]}`).digest();
    let sig: Buffer;
    try {
      sig = Buffer.from(parts[2], 'base64url');
    } catch {
      return undefined;
    }
    if (sig.length !== expected.length || !crypto.timingSafeEqual(sig, expected)) return undefined;
    let claims: TokenClaims;
    try {
      const header = JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8')) as { alg?: string };
      if (header.alg !== 'HS256') return undefined;
      claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as TokenClaims;
    } catch {
      return undefined;
    }
    const t = Math.floor(now / 1000);
    if (claims.aud !== this.service || typeof claims.exp !== 'number' || claims.exp < t || (claims.nbf ?? 0) > t + 1) return undefined;
    if (!Array.isArray(claims.access)) return undefined;
    return claims;
  }
}

/** Whether a token's claims allow `action` on the resource. `*` allows everything. */
export function allows(claims: TokenClaims, type: string, name: string, action: string): boolean {
  return claims.access.some((a) => a.type === type && a.name === name && Array.isArray(a.actions) && (a.actions.includes(action) || a.actions.includes('*')));
}
