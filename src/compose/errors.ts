/**
 * A problem with the compose files or the project, printed as-is. The exit status follows
 * docker compose: 15 for a file that does not parse or validate, 14 for no file, else 1.
 */
export class ComposeError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = 'ComposeError';
  }
}

export const PARSE_FAILURE = 15;
export const FILE_NOT_FOUND = 14;
