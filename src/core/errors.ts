/**
 * The few kinds of error berth knows. Every failure that can reach a user is one of these,
 * wrapped with context; the API maps kinds to HTTP status in exactly one place
 * (api/errors.ts), the CLI maps them to exit codes.
 */
export type ErrorKind =
  | 'invalid-argument' // 400
  | 'unauthorized' // 401
  | 'forbidden' // 403
  | 'not-found' // 404
  | 'conflict' // 409
  | 'not-modified' // 304
  | 'unavailable' // 503
  | 'not-implemented' // 501
  | 'internal'; // 500

export class BerthError extends Error {
  readonly kind: ErrorKind;
  constructor(kind: ErrorKind, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.kind = kind;
    this.name = 'BerthError';
  }
}

export const invalidArgument = (msg: string): BerthError => new BerthError('invalid-argument', msg);
export const notFound = (msg: string): BerthError => new BerthError('not-found', msg);
export const conflict = (msg: string): BerthError => new BerthError('conflict', msg);
export const notModified = (msg: string): BerthError => new BerthError('not-modified', msg);
export const internal = (msg: string, cause?: unknown): BerthError => new BerthError('internal', msg, { cause });
export const forbidden = (msg: string): BerthError => new BerthError('forbidden', msg);
export const notImplemented = (msg: string): BerthError => new BerthError('not-implemented', msg);

export function errorKind(err: unknown): ErrorKind {
  return err instanceof BerthError ? err.kind : 'internal';
}

export function isKind(err: unknown, kind: ErrorKind): boolean {
  return err instanceof BerthError && err.kind === kind;
}
