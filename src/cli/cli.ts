/**
 * The pieces every `berth` command shares: the command description type, the per-invocation
 * context (streams, global options, the lazily created Engine client), docker's help and usage
 * texts, argument-count checks, and the mapping from errors to messages and exit codes.
 *
 * Exit codes follow the docker CLI: 0 success; 1 an ordinary failure (a daemon error for most
 * commands, wrong argument count); 125 a flag error, or any failure of `run` before the
 * container's own process ran; 126/127 from `run` when the command cannot be executed / is
 * not found; otherwise the container's own exit status.
 */
import type { Engine, TlsOptions } from '../client/engine';
import type { ConfigFile } from './dockerconfig';
import type { LineReader } from './prompt';
import { EngineError, EngineConnectError } from '../client/errors';
import { FlagError, flagUsages, type FlagSpec, type ParsedFlags } from './flags';

export const BIN = 'berth';

/** An error that carries the exit status; its message (if any) goes to stderr as-is. */
export class StatusError extends Error {
  readonly status: number;
  constructor(status: number, message = '') {
    super(message);
    this.name = 'StatusError';
    this.status = status;
  }
}

export type ArgRule =
  | { kind: 'none' }
  | { kind: 'exact'; n: number }
  | { kind: 'min'; n: number }
  | { kind: 'max'; n: number }
  | { kind: 'range'; min: number; max: number }
  | { kind: 'any' };

export interface CommandSpec {
  /** Name under which the command is invoked (the last word of its path). */
  name: string;
  /** What follows the name in the usage line, e.g. `[OPTIONS] CONTAINER [CONTAINER...]`. */
  use: string;
  /** One-line description. */
  short: string;
  /** Longer description for --help, when docker has one (login: "Authenticate to a registry.\n..."). */
  long?: string;
  /** Other ways to call it, as full paths without the binary name: `container ls`, `ps`. */
  aliases?: string[];
  flags: FlagSpec[];
  /** false for run/create/exec: flags end at the first positional argument. */
  interspersed?: boolean;
  args: ArgRule;
  run(cli: Cli, flags: ParsedFlags): Promise<number | void>;
}

export interface GlobalOptions {
  host?: string;
  debug: boolean;
  logLevel: string;
  tls?: TlsOptions;
  /** --config: the client configuration directory (default $DOCKER_CONFIG or ~/.docker). */
  config?: string;
}

export interface Streams {
  in: NodeJS.ReadableStream & { isTTY?: boolean; fd?: number; setRawMode?: (mode: boolean) => unknown };
  out: NodeJS.WritableStream & { isTTY?: boolean; columns?: number; rows?: number };
  err: NodeJS.WritableStream & { isTTY?: boolean };
}

/** One invocation of the CLI. */
export class Cli {
  /** The full command path, e.g. `berth container ls`. */
  path = BIN;
  private client: Engine | undefined;
  private config: ConfigFile | undefined;
  private lineReader: LineReader | undefined;

  constructor(
    readonly globals: GlobalOptions,
    readonly streams: Streams,
    readonly env: NodeJS.ProcessEnv = process.env,
  ) {}

  /** The Engine client, created on first use so that help and flag errors never load node:http. */
  engine(): Engine {
    if (!this.client) {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { Engine: EngineClass, resolveHost } = require('../client/engine') as typeof import('../client/engine');
      this.client = new EngineClass({ host: resolveHost(this.globals.host, this.env), tls: this.globals.tls });
    }
    return this.client;
  }

  /** The client configuration (config.json), read on first use; warnings go to stderr. */
  configFile(): ConfigFile {
    if (!this.config) {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { ConfigFile: File, configDir } = require('./dockerconfig') as typeof import('./dockerconfig');
      this.config = File.load(configDir(this.env, this.globals.config), { env: this.env, warn: (m) => this.eprintln(m) });
    }
    return this.config;
  }

  /** stdin as lines, for prompts (one reader per invocation, so no typed-ahead line is lost). */
  lines(): LineReader {
    if (!this.lineReader) {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { LineReader: Reader } = require('./prompt') as typeof import('./prompt');
      this.lineReader = new Reader(this.streams.in);
    }
    return this.lineReader;
  }

  /** Releases the client's kept-alive connections. */
  close(): void {
    this.client?.close();
  }

  out(s: string): void {
    this.streams.out.write(s);
  }
  err(s: string): void {
    this.streams.err.write(s);
  }
  /** A line to stdout. */
  println(s = ''): void {
    this.streams.out.write(`${s}\n`);
  }
  /** A line to stderr. */
  eprintln(s = ''): void {
    this.streams.err.write(`${s}\n`);
  }
}

// ---- usage and help -------------------------------------------------------------------------

export function usageLine(path: string, spec: Pick<CommandSpec, 'use'>): string {
  return spec.use ? `${path} ${spec.use}` : path;
}

/** `berth <cmd> --help`, laid out as cobra does for the docker CLI. */
export function renderHelp(path: string, spec: CommandSpec, cols = 79): string {
  let s = `Usage:  ${usageLine(path, spec)}\n\n${spec.long ?? spec.short}\n`;
  if (spec.aliases && spec.aliases.length > 0) {
    s += `\nAliases:\n  ${spec.aliases.map((a) => `${BIN} ${a}`).join(', ')}\n`;
  }
  const visible = spec.flags.filter((f) => !f.hidden);
  if (visible.length > 0) {
    s += `\nOptions:\n${flagUsages(visible, cols).replace(/\s+$/, '')}\n`;
  }
  return s;
}

/** Checks the number of positional arguments as docker's cli.NoArgs/ExactArgs/... do. */
export function checkArgs(path: string, spec: CommandSpec, args: readonly string[]): void {
  const r = spec.args;
  const n = args.length;
  const plural = (k: number): string => (k === 1 ? 'argument' : 'arguments');
  const tail = (verb: 'Run' | 'See'): string =>
    `\n\nUsage:  ${usageLine(path, spec)}\n\n${verb} '${path} --help' for more information`;
  let msg: string | undefined;
  switch (r.kind) {
    case 'none':
      if (n > 0) msg = `${BIN}: '${path}' accepts no arguments${tail('Run')}`;
      break;
    case 'exact':
      if (n !== r.n) msg = `${BIN}: '${path}' requires ${r.n} ${plural(r.n)}${tail('Run')}`;
      break;
    case 'min':
      if (n < r.n) msg = `${BIN}: '${path}' requires at least ${r.n} ${plural(r.n)}${tail('See')}`;
      break;
    case 'max':
      if (n > r.n) msg = `${BIN}: '${path}' requires at most ${r.n} ${plural(r.n)}${tail('Run')}`;
      break;
    case 'range':
      if (n < r.min || n > r.max) {
        msg = `${BIN}: '${path}' requires at least ${r.min} and at most ${r.max} ${plural(r.max)}${tail('Run')}`;
      }
      break;
    case 'any':
      break;
  }
  if (msg !== undefined) throw new StatusError(1, msg);
}

/** A flag error as docker prints it: message, usage line, pointer to --help; exit 125. */
export function flagErrorMessage(path: string, spec: Pick<CommandSpec, 'use'>, err: FlagError): string {
  return `${err.message}\n\nUsage:  ${usageLine(path, spec)}\n\nRun '${path} --help' for more information`;
}

// ---- errors -----------------------------------------------------------------------------------

/** The text docker's CLI prints for an error (without the `berth:` prefix some commands add). */
export function errorText(err: unknown): string {
  if (err instanceof EngineError) return `Error response from daemon: ${err.message}`;
  if (err instanceof EngineConnectError) return err.message;
  if (err instanceof Error) return err.message;
  return String(err);
}

/** Maps an error to [message, exit status] for the top level. */
export function errorExit(err: unknown): [string, number] {
  if (err instanceof StatusError) return [err.message, err.status];
  if (err instanceof FlagError) return [err.message, 125];
  return [errorText(err), 1];
}

/** Joins several per-object failures into one exit-1 error (stop a b c, rm a b...). */
export function collectErrors(errors: string[]): void {
  if (errors.length > 0) throw new StatusError(1, errors.join('\n'));
}

// ---- shared flag help texts ---------------------------------------------------------------------

export const FORMAT_HELP = `Format output using a custom template:
'table':            Print output in table format with column headers (default)
'table TEMPLATE':   Print output in table format using the given Go template
'json':             Print in JSON format
'TEMPLATE':         Print output using the given Go template.
Refer to https://docs.docker.com/go/formatting/ for more information about formatting output with templates`;

export const INSPECT_FORMAT_HELP = `Format output using a custom template:
'json':             Print in JSON format
'TEMPLATE':         Print output using the given Go template.
Refer to https://docs.docker.com/go/formatting/ for more information about formatting output with templates`;
