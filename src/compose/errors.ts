/** A problem with the compose files or the project: printed as-is, exit status 1 (or 15 for validation, as docker compose). */
export class ComposeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ComposeError';
  }
}
