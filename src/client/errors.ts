/**
 * The client's error classes, in a module of their own so that code which only needs to
 * recognise them (the CLI's error printing) does not load node:http.
 */

/** A non-2xx reply from the daemon; `message` is the daemon's `{"message": ...}`. */
export class EngineError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.name = 'EngineError';
    this.status = status;
  }
}

/** The daemon could not be reached at all. */
export class EngineConnectError extends Error {
  readonly host: string;
  readonly code: string | undefined;
  constructor(host: string, cause: NodeJS.ErrnoException) {
    super(`Cannot connect to the berth daemon at ${host}. Is the berth daemon running?`, { cause });
    this.name = 'EngineConnectError';
    this.host = host;
    this.code = cause.code;
  }
}

