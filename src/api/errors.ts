/** The one place where error kinds become HTTP status codes. */
import { BerthError, type ErrorKind } from '../core/errors';

const STATUS: Record<ErrorKind, number> = {
  'invalid-argument': 400,
  unauthorized: 401,
  forbidden: 403,
  'not-found': 404,
  conflict: 409,
  'not-modified': 304,
  unavailable: 503,
  'not-implemented': 501,
  internal: 500,
};

/**
 * An error whose HTTP status is not one of the kinds' (413 body too large, 408 body timeout). Its
 * kind stays 'invalid-argument', so anything that looks only at kinds treats it as bad input.
 */
export class HttpError extends BerthError {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super('invalid-argument', message);
  }
}

export function httpStatus(err: unknown): number {
  if (err instanceof HttpError) return err.status;
  if (err instanceof BerthError) return STATUS[err.kind];
  const code = (err as { code?: string } | undefined)?.code;
  if (code === 'ENOENT') return 404;
  return 500;
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
