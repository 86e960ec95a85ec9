import { BerthError } from '../../core/errors';

/**
 * A Dockerfile that cannot be parsed or does not make sense. Carries the file name and the line
 * range of the offending instruction, so that callers can show `Dockerfile:3` and the source lines
 * the way BuildKit does. The message is Docker's: `dockerfile parse error on line 3: unknown
 * instruction: FOO`; `reason` is the part after the location.
 */
export class DockerfileError extends BerthError {
  /** 1-based; 0 when the error concerns the whole file (e.g. an empty Dockerfile). */
  readonly line: number;
  readonly endLine: number;

  constructor(
    readonly file: string,
    line: number,
    readonly reason: string,
    opts: { endLine?: number; bare?: boolean } = {},
  ) {
    super('invalid-argument', opts.bare || line <= 0 ? reason : `dockerfile parse error on line ${line}: ${reason}`);
    this.name = 'DockerfileError';
    this.line = line;
    this.endLine = Math.max(line, opts.endLine ?? line);
  }

  /** `Dockerfile:3: unknown instruction: FOO`, the location-first form BuildKit prints. */
  get located(): string {
    return this.line > 0 ? `${this.file}:${this.line}: ${this.reason}` : `${this.file}: ${this.reason}`;
  }
}

/** An error that still needs its location; the parser and instruction builder add it. */
export class SyntaxFault extends Error {}
