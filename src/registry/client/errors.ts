/**
 * Registry answers turned into berth's error kinds, worded as docker words them: the distribution
 * spec's JSON error body `{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}`
 * becomes `manifest unknown: manifest unknown`; a 401 without a body `unauthorized: authentication
 * required`; anything unexpected `received unexpected HTTP status: 500 Internal Server Error`.
 */
import http from 'node:http';
import { BerthError, type ErrorKind } from '../../core/errors';

export interface RegistryErrorEntry {
  code: string;
  message: string;
  detail?: unknown;
}

/** A BerthError that remembers the HTTP status and the registry's error codes. */
export class RegistryError extends BerthError {
  constructor(
    kind: ErrorKind,
    message: string,
    readonly status: number,
    readonly errors: RegistryErrorEntry[] = [],
  ) {
    super(kind, message);
  }
  hasCode(code: string): boolean {
    return this.errors.some((e) => e.code === code);
  }
}

export function kindForStatus(status: number): ErrorKind {
  if (status === 401 || status === 403) return 'unauthorized';
  if (status === 404) return 'not-found';
  if (status === 429 || status >= 500) return 'unavailable';
  if (status >= 400) return 'invalid-argument';
  return 'unavailable';
}

/** `MANIFEST_UNKNOWN` → `manifest unknown` (docker's errcode.ErrorCode.Error()). */
function codeWords(code: string): string {
  return code.toLowerCase().replace(/_/g, ' ');
}

export function parseErrorBody(body: Buffer): { entries: RegistryErrorEntry[]; details?: string } {
  let j: unknown;
  try {
    j = JSON.parse(body.toString('utf8'));
  } catch {
    return { entries: [] };
  }
  if (!j || typeof j !== 'object') return { entries: [] };
  const o = j as Record<string, unknown>;
  const entries: RegistryErrorEntry[] = [];
  if (Array.isArray(o.errors)) {
    for (const e of o.errors as unknown[]) {
      if (e && typeof e === 'object') {
        const r = e as Record<string, unknown>;
        entries.push({ code: typeof r.code === 'string' ? r.code : 'UNKNOWN', message: typeof r.message === 'string' ? r.message : '', detail: r.detail });
      }
    }
  }
  // Docker Hub's token server says {"details": "incorrect username or password"}; OAuth2 servers {"error_description": ...}.
  const details = typeof o.details === 'string' ? o.details : typeof o.error_description === 'string' ? o.error_description : typeof o.error === 'string' ? o.error : undefined;
  return { entries, details };
}

/** The error for a non-success answer. `context` prefixes the message, e.g. `manifest for x:y not found: `. */
export function errorFromResponse(status: number, body: Buffer, context = ''): RegistryError {
  const kind = kindForStatus(status);
  const { entries, details } = parseErrorBody(body);
  let msg: string;
  if (entries.length === 1) msg = `${codeWords(entries[0].code)}: ${entries[0].message}`;
  else if (entries.length > 1) msg = `errors: ${entries.map((e) => `${codeWords(e.code)}: ${e.message}`).join('; ')}`;
  else if (status === 401 && details) msg = `unauthorized: ${details}`;
  else if (status === 401) msg = 'unauthorized: authentication required';
  else if (status === 403) msg = details ? `denied: ${details}` : 'denied: requested access to the resource is denied';
  else if (status === 429) msg = 'toomanyrequests: too many requests';
  else msg = `received unexpected HTTP status: ${status} ${http.STATUS_CODES[status] ?? ''}`.trimEnd();
  return new RegistryError(kind, context + msg, status, entries);
}

/** A transport failure (connection refused, reset, TLS, timeout), docker-style: `Get "url": reason`. */
export function networkError(method: string, url: URL | string, err: unknown): BerthError {
  const m = method[0] + method.slice(1).toLowerCase();
  const reason = err instanceof Error ? err.message : String(err);
  return new BerthError('unavailable', `${m} "${String(url)}": ${reason}`, { cause: err });
}
