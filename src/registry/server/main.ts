/**
 * `berth registry serve` and `berth registry gc`. registryCommand takes the arguments after
 * `registry` and returns the exit status: 0, 1 for a failure at run time (unreadable htpasswd,
 * address in use), 125 for a flag error (docker's convention).
 */
import fs from 'node:fs';
import { FlagError, flagUsages, parseFlags, type FlagSpec, type ParsedFlags } from '../../cli/flags';
import type { TokenOptions } from './auth';
import { createRegistryServer, parseAddr, requestChannel } from './server';
import { gc } from './storage';

export interface RegistryIO {
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream;
}

interface Sub {
  name: string;
  use: string;
  short: string;
  flags: FlagSpec[];
  run(f: ParsedFlags, io: RegistryIO): Promise<number>;
}

const DEFAULT_ROOT = '/var/lib/berth/registry';

const SERVE: Sub = {
  name: 'serve',
  use: '[OPTIONS]',
  short: 'Serve the OCI distribution API from a directory',
  flags: [
    { name: 'addr', type: 'string', default: '127.0.0.1:5000', description: 'Address to listen on, HOST:PORT (":PORT" for every interface)' },
    { name: 'root', type: 'string', default: DEFAULT_ROOT, description: 'Directory to store blobs, manifests and uploads in' },
    { name: 'htpasswd', type: 'string', description: 'htpasswd file of bcrypt entries ("htpasswd -B"); turns on Basic auth' },
    { name: 'auth', type: 'string', valueName: 'string', description: 'Authentication: "basic" (the default with --htpasswd) or "token" (bearer tokens from /auth/token)' },
    { name: 'token-realm', type: 'string', description: 'Token endpoint URL announced to clients (default: this server\'s /auth/token)' },
    { name: 'token-service', type: 'string', default: 'berth-registry', description: 'Service name in token challenges' },
    { name: 'token-secret-file', type: 'string', description: 'File holding the key tokens are signed with (default: random, tokens die with the server)' },
    { name: 'tls-cert', type: 'string', description: 'TLS certificate (PEM); serve HTTPS' },
    { name: 'tls-key', type: 'string', description: 'TLS private key (PEM)' },
    { name: 'debug', short: 'D', type: 'bool', description: 'Log every request to stderr' },
  ],
  async run(f, io) {
    const auth = f.string('auth');
    if (auth !== '' && auth !== 'basic' && auth !== 'token') {
      throw new FlagError(`invalid argument ${JSON.stringify(auth)} for "--auth" flag: must be "basic" or "token"`);
    }
    const htpasswd = f.string('htpasswd');
    if (auth === 'basic' && !htpasswd) throw new FlagError('--auth basic needs --htpasswd FILE');
    if (f.has('tls-cert') !== f.has('tls-key')) throw new FlagError('--tls-cert and --tls-key go together');
    for (const flag of ['token-realm', 'token-service', 'token-secret-file']) {
      if (f.has(flag) && auth !== 'token') throw new FlagError(`--${flag} needs --auth token`);
    }
    try {
      parseAddr(f.string('addr'));
    } catch (err) {
      throw new FlagError(`invalid argument ${JSON.stringify(f.string('addr'))} for "--addr" flag: ${(err as Error).message}`);
    }
    let token: TokenOptions | undefined;
    if (auth === 'token') {
      token = { service: f.string('token-service') };
      if (f.string('token-realm')) token.realm = f.string('token-realm');
      if (f.string('token-secret-file')) token.secret = fs.readFileSync(f.string('token-secret-file'));
      if (!htpasswd) io.err.write('WARNING: --auth token without --htpasswd: anyone can get a token for anything\n');
    }
    const reg = createRegistryServer({
      root: f.string('root'),
      htpasswd: htpasswd || undefined,
      token,
      tls: f.has('tls-cert') ? { cert: f.string('tls-cert'), key: f.string('tls-key') } : undefined,
      log: (m) => io.err.write(`${m}\n`),
    });
    const onRequest = (msg: unknown): void => {
      const r = msg as { method: string; url: string; status: number; durationMs: number; user?: string };
      io.err.write(`${new Date().toISOString()} ${r.method} ${r.url} ${r.status} ${r.durationMs.toFixed(1)}ms${r.user ? ` user=${r.user}` : ''}\n`);
    };
    if (f.bool('debug')) requestChannel.subscribe(onRequest);
    try {
      const { host, port } = await reg.listen(f.string('addr'));
      const shown = host.includes(':') ? `[${host}]` : host;
      io.err.write(`berth registry listening on ${f.has('tls-cert') ? 'https' : 'http'}://${shown}:${port}\n`);
      await new Promise<void>((resolve) => {
        const stop = (): void => {
          process.off('SIGTERM', stop);
          process.off('SIGINT', stop);
          resolve();
        };
        process.on('SIGTERM', stop);
        process.on('SIGINT', stop);
      });
    } finally {
      if (f.bool('debug')) requestChannel.unsubscribe(onRequest);
      await reg.close();
    }
    return 0;
  },
};

const GC: Sub = {
  name: 'gc',
  use: '[OPTIONS]',
  short: 'Remove blobs that no manifest references',
  flags: [
    { name: 'root', type: 'string', default: DEFAULT_ROOT, description: 'Registry storage directory' },
    { name: 'dry-run', type: 'bool', description: 'Only print what would be removed' },
  ],
  async run(f, io) {
    const root = f.string('root');
    if (!fs.existsSync(root)) throw new Error(`${root}: no such directory`);
    const removed = await gc(root, { dryRun: f.bool('dry-run') });
    for (const d of removed) io.out.write(`${d}\n`);
    io.err.write(`${f.bool('dry-run') ? 'would remove' : 'removed'} ${removed.length} blob${removed.length === 1 ? '' : 's'}\n`);
    return 0;
  },
};

const SUBS = [GC, SERVE];

function subHelp(s: Sub): string {
  return `Usage:  berth registry ${s.name} ${s.use}\n\n${s.short}\n\nOptions:\n${flagUsages(s.flags).replace(/\s+$/, '')}\n`;
}

function registryHelp(): string {
  const width = Math.max(...SUBS.map((s) => s.name.length)) + 3;
  const cmds = SUBS.map((s) => `  ${s.name.padEnd(width)}${s.short}`).join('\n');
  return `Usage:  berth registry COMMAND\n\nRun and maintain a private registry (OCI distribution API)\n\nCommands:\n${cmds}\n\nRun 'berth registry COMMAND --help' for more information on a command.\n`;
}

/** `berth registry ARGS...`; argv is what follows `registry`. */
export async function registryCommand(argv: string[], io: RegistryIO = { out: process.stdout, err: process.stderr }): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.out.write(registryHelp());
    return 0;
  }
  const sub = SUBS.find((s) => s.name === name);
  if (!sub) {
    io.err.write(`berth: 'registry ${name}' is not a berth command.\nSee 'berth registry --help'\n`);
    return 1;
  }
  const path = `berth registry ${sub.name}`;
  const usage = `\n\nUsage:  ${path} ${sub.use}\n\nRun '${path} --help' for more information\n`;
  try {
    const f = parseFlags(rest, sub.flags);
    if (f.help) {
      io.out.write(subHelp(sub));
      return 0;
    }
    if (f.args.length > 0) throw new FlagError(`"${path}" accepts no arguments`);
    return await sub.run(f, io);
  } catch (err) {
    if (err instanceof FlagError) {
      io.err.write(`${err.message}${usage}`);
      return 125;
    }
    io.err.write(`${path}: ${(err as Error).message ?? String(err)}\n`);
    return 1;
  }
}
