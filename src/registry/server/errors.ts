/**
 * The registry's error catalogue: the OCI distribution spec's error codes (plus TAG_INVALID and
 * PAGINATION_NUMBER_INVALID, which the Distribution registry also sends), each with its HTTP
 * status and the spec's message. Every failure the server reports is a RegistryError; the server
 * turns it into `{"errors":[{"code","message","detail"}]}` in one place (server.ts, sendError).
 */

export const ERROR_CODES = {
  BLOB_UNKNOWN: { status: 404, message: 'blob unknown to registry' },
  BLOB_UPLOAD_INVALID: { status: 400, message: 'blob upload invalid' },
  BLOB_UPLOAD_UNKNOWN: { status: 404, message: 'blob upload unknown to registry' },
  DIGEST_INVALID: { status: 400, message: 'provided digest did not match uploaded content' },
  MANIFEST_BLOB_UNKNOWN: { status: 400, message: 'manifest references a manifest or blob unknown to registry' },
  MANIFEST_INVALID: { status: 400, message: 'manifest invalid' },
  MANIFEST_UNKNOWN: { status: 404, message: 'manifest unknown to registry' },
  NAME_INVALID: { status: 400, message: 'invalid repository name' },
  NAME_UNKNOWN: { status: 404, message: 'repository name not known to registry' },
  SIZE_INVALID: { status: 400, message: 'provided length did not match content length' },
  UNAUTHORIZED: { status: 401, message: 'authentication required' },
  DENIED: { status: 403, message: 'requested access to the resource is denied' },
  UNSUPPORTED: { status: 405, message: 'the operation is unsupported' },
  TOOMANYREQUESTS: { status: 429, message: 'too many requests' },
  TAG_INVALID: { status: 400, message: 'manifest tag did not match URI' },
  PAGINATION_NUMBER_INVALID: { status: 400, message: 'invalid number of results requested' },
  UNKNOWN: { status: 500, message: 'unknown error' },
} as const satisfies Record<string, { status: number; message: string }>;

export type RegistryErrorCode = keyof typeof ERROR_CODES;

export interface ErrorOptions {
  /** Overrides the catalogue's status (BLOB_UPLOAD_INVALID is 416 for an out-of-order chunk). */
  status?: number;
  /** Overrides the catalogue's message. */
  message?: string;
  /** Arbitrary JSON the client may use; the spec's "detail". */
  detail?: unknown;
  /** Extra response headers (WWW-Authenticate, Range, Location...). */
  headers?: Record<string, string>;
  /** Further errors reported in the same response (one MANIFEST_BLOB_UNKNOWN per missing blob). */
  others?: RegistryError[];
}

export class RegistryError extends Error {
  readonly code: RegistryErrorCode;
  readonly status: number;
  readonly detail: unknown;
  readonly headers: Record<string, string>;
  readonly others: RegistryError[];
  constructor(code: RegistryErrorCode, opts: ErrorOptions = {}) {
    super(opts.message ?? ERROR_CODES[code].message);
    this.name = 'RegistryError';
    this.code = code;
    this.status = opts.status ?? ERROR_CODES[code].status;
    this.detail = opts.detail;
    this.headers = opts.headers ?? {};
    this.others = opts.others ?? [];
  }

  /** The error's JSON body entry. */
  toJSON(): { code: string; message: string; detail?: unknown } {
    const e: { code: string; message: string; detail?: unknown } = { code: this.code, message: this.message };
    if (this.detail !== undefined) e.detail = this.detail;
    return e;
  }
}

export function regError(code: RegistryErrorCode, detail?: unknown, opts: Omit<ErrorOptions, 'detail'> = {}): RegistryError {
  return new RegistryError(code, { ...opts, detail });
}
