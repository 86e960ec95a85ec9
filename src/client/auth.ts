/**
 * Registry credentials as the Engine API carries them: docker's registry.AuthConfig, sent as the
 * body of `POST /auth` and, base64url-encoded, in the `X-Registry-Auth` header of pull and push.
 * No I/O here, so the CLI can encode a header without loading the HTTP client.
 */

export const AUTH_HEADER = 'X-Registry-Auth';

export interface AuthConfig {
  username?: string;
  password?: string;
  /** base64(username:password), as config.json stores it. */
  auth?: string;
  /** Deprecated by docker; kept because config.json files still carry it. */
  email?: string;
  serveraddress?: string;
  /** A refresh token from an earlier login, used instead of the password. */
  identitytoken?: string;
  /** A bearer token for the registry itself. */
  registrytoken?: string;
}

/** The fields in the order Go's encoding/json writes registry.AuthConfig (its struct order). */
export const AUTH_FIELDS = ['username', 'password', 'auth', 'email', 'serveraddress', 'identitytoken', 'registrytoken'] as const;

/** `POST /auth`'s reply (registry.AuthenticateOKBody). */
export interface AuthResponse {
  Status: string;
  IdentityToken?: string;
}

/**
 * JSON.stringify with Go's encoding/json escaping of HTML-significant characters and the two
 * JavaScript line separators, so that bytes match what the docker CLI would send or write.
 */
export function goJson(value: unknown, indent?: string): string {
  return JSON.stringify(value, null, indent).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * registry.EncodeAuthConfig: the JSON of the non-empty fields, base64url with padding (Go's
 * base64.URLEncoding). An empty config encodes as `e30=` (`{}`), which is what the docker CLI
 * sends when it has no credentials for the registry.
 */
export function encodeAuthConfig(ac: AuthConfig): string {
  const o: Record<string, string> = {};
  for (const k of AUTH_FIELDS) {
    const v = ac[k];
    if (v) o[k] = v;
  }
  return Buffer.from(goJson(o), 'utf8').toString('base64').replace(/\+/g, '-').replace(/\//g, '_');
}

/** The inverse of encodeAuthConfig (also accepts unpadded input). */
export function decodeAuthConfig(header: string): AuthConfig {
  if (!header) return {};
  return JSON.parse(Buffer.from(header.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('utf8')) as AuthConfig;
}
