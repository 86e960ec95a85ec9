/**
 * Entry point of the `berth` CLI: global flags, command lookup, help, and exit codes.
 *
 * Start-up cost matters (every command pays it), so this file knows the commands only by name
 * and one-line description; a command's module — and with it the HTTP client — is loaded only
 * when that command runs.
 */
import { FlagError, parseFlags, flagUsages, type FlagSpec, type ParsedFlags } from './flags';
import {
  BIN,
  Cli,
  StatusError,
  checkArgs,
  errorExit,
  flagErrorMessage,
  renderHelp,
  type CommandSpec,
  type GlobalOptions,
  type Streams,
} from './cli';
import { clientVersion } from './pkg';
import type { TlsOptions } from '../client/engine';

type Loader = () => Promise<CommandSpec>;

interface Entry {
  short: string;
  load: Loader;
  /** Name shown in paths when invoked through an alias (`container list` → `container ls`). */
  canonical?: string;
}

const L = {
  version: () => import('./commands/version').then((m) => m.versionCommand),
  info: () => import('./commands/info').then((m) => m.infoCommand),
  run: () => import('./commands/run').then((m) => m.runCommand),
  create: () => import('./commands/create').then((m) => m.createCommand),
  start: () => import('./commands/start').then((m) => m.startCommand),
  exec: () => import('./commands/exec').then((m) => m.execCommand),
  attach: () => import('./commands/attach').then((m) => m.attachCommand),
  stop: () => import('./commands/lifecycle').then((m) => m.stopCommand),
  kill: () => import('./commands/lifecycle').then((m) => m.killCommand),
  restart: () => import('./commands/lifecycle').then((m) => m.restartCommand),
  rm: () => import('./commands/lifecycle').then((m) => m.rmCommand),
  pause: () => import('./commands/lifecycle').then((m) => m.pauseCommand),
  unpause: () => import('./commands/lifecycle').then((m) => m.unpauseCommand),
  events: () => import('./commands/events').then((m) => m.eventsCommand),
  wait: () => import('./commands/wait').then((m) => m.waitCommand),
  update: () => import('./commands/update').then((m) => m.updateCommand),
  rename: () => import('./commands/rename').then((m) => m.renameCommand),
  ps: () => import('./commands/ps').then((m) => m.psCommand),
  logs: () => import('./commands/logs').then((m) => m.logsCommand),
  stats: () => import('./commands/stats').then((m) => m.statsCommand),
  top: () => import('./commands/top').then((m) => m.topCommand),
  inspect: () => import('./commands/inspect').then((m) => m.inspectCommand),
  containerInspect: () => import('./commands/inspect').then((m) => m.containerInspectCommand),
  imageInspect: () => import('./commands/inspect').then((m) => m.imageInspectCommand),
  containerPrune: () => import('./commands/prune').then((m) => m.containerPruneCommand),
  images: () => import('./commands/images').then((m) => m.imagesCommand),
  load: () => import('./commands/load').then((m) => m.loadCommand),
  save: () => import('./commands/save').then((m) => m.saveCommand),
  import: () => import('./commands/import').then((m) => m.importCommand),
  tag: () => import('./commands/tag').then((m) => m.tagCommand),
  rmi: () => import('./commands/rmi').then((m) => m.rmiCommand),
  history: () => import('./commands/history').then((m) => m.historyCommand),
  pull: () => import('./commands/pull').then((m) => m.pullCommand),
  push: () => import('./commands/push').then((m) => m.pushCommand),
  login: () => import('./commands/login').then((m) => m.loginCommand),
  logout: () => import('./commands/logout').then((m) => m.logoutCommand),
  build: () => import('./commands/build').then((m) => m.buildCommand),
  builderPrune: () => import('./commands/build').then((m) => m.builderPruneCommand),
  port: () => import('./commands/network').then((m) => m.portCommand),
  networkCreate: () => import('./commands/network').then((m) => m.networkCreateCommand),
  networkConnect: () => import('./commands/network').then((m) => m.networkConnectCommand),
  networkDisconnect: () => import('./commands/network').then((m) => m.networkDisconnectCommand),
  networkInspect: () => import('./commands/network').then((m) => m.networkInspectCommand),
  networkLs: () => import('./commands/network').then((m) => m.networkLsCommand),
  networkPrune: () => import('./commands/network').then((m) => m.networkPruneCommand),
  networkRm: () => import('./commands/network').then((m) => m.networkRmCommand),
  volumeCreate: () => import('./commands/volume').then((m) => m.volumeCreateCommand),
  volumeInspect: () => import('./commands/volume').then((m) => m.volumeInspectCommand),
  volumeLs: () => import('./commands/volume').then((m) => m.volumeLsCommand),
  volumePrune: () => import('./commands/volume').then((m) => m.volumePruneCommand),
  volumeRm: () => import('./commands/volume').then((m) => m.volumeRmCommand),
  compose: () => import('./commands/compose').then((m) => m.composeCommand),
  cp: () => import('./commands/cp').then((m) => m.cpCommand),
  diff: () => import('./commands/diff').then((m) => m.diffCommand),
  commit: () => import('./commands/commit').then((m) => m.commitCommand),
  export: () => import('./commands/export').then((m) => m.exportCommand),
  imagePrune: () => import('./commands/prune').then((m) => m.imagePruneCommand),
  systemPrune: () => import('./commands/prune').then((m) => m.systemPruneCommand),
  systemDf: () => import('./commands/system').then((m) => m.systemDfCommand),
};

/** Top-level commands, in the groups docker's help shows. */
export const COMMON: Record<string, Entry> = {
  run: { short: 'Create and run a new container from an image', load: L.run },
  exec: { short: 'Execute a command in a running container', load: L.exec },
  ps: { short: 'List containers', load: L.ps },
  build: { short: 'Build an image from a Dockerfile', load: L.build },
  pull: { short: 'Download an image from a registry', load: L.pull },
  push: { short: 'Upload an image to a registry', load: L.push },
  images: { short: 'List images', load: L.images },
  login: { short: 'Authenticate to a registry', load: L.login },
  logout: { short: 'Log out from a registry', load: L.logout },
  version: { short: 'Show the berth version information', load: L.version },
  info: { short: 'Display system-wide information', load: L.info },
};

export const OTHER: Record<string, Entry> = {
  attach: { short: 'Attach local standard input, output, and error streams to a running container', load: L.attach },
  compose: { short: 'Define and run multi-container applications (Docker Compose)', load: L.compose },
  create: { short: 'Create a new container', load: L.create },
  events: { short: 'Get real time events from the server', load: L.events },
  history: { short: 'Show the history of an image', load: L.history },
  commit: { short: "Create a new image from a container's changes", load: L.commit },
  cp: { short: 'Copy files/folders between a container and the local filesystem', load: L.cp },
  diff: { short: "Inspect changes to files or directories on a container's filesystem", load: L.diff },
  export: { short: "Export a container's filesystem as a tar archive", load: L.export },
  import: { short: 'Import the contents from a tarball to create a filesystem image', load: L.import },
  inspect: { short: 'Return low-level information on berth objects', load: L.inspect },
  kill: { short: 'Kill one or more running containers', load: L.kill },
  load: { short: 'Load an image from a tar archive or STDIN', load: L.load },
  logs: { short: 'Fetch the logs of a container', load: L.logs },
  pause: { short: 'Pause all processes within one or more containers', load: L.pause },
  port: { short: 'List port mappings or a specific mapping for the container', load: L.port },
  rename: { short: 'Rename a container', load: L.rename },
  restart: { short: 'Restart one or more containers', load: L.restart },
  rm: { short: 'Remove one or more containers', load: L.rm },
  rmi: { short: 'Remove one or more images', load: L.rmi },
  save: { short: 'Save one or more images to a tar archive (streamed to STDOUT by default)', load: L.save },
  start: { short: 'Start one or more stopped containers', load: L.start },
  stats: { short: 'Display a live stream of container(s) resource usage statistics', load: L.stats },
  stop: { short: 'Stop one or more running containers', load: L.stop },
  tag: { short: 'Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE', load: L.tag },
  unpause: { short: 'Unpause all processes within one or more containers', load: L.unpause },
  update: { short: 'Update configuration of one or more containers', load: L.update },
  top: { short: 'Display the running processes of a container', load: L.top },
  wait: { short: 'Block until one or more containers stop, then print their exit codes', load: L.wait },
};

/** What a group that parses its own arguments runs: argv after the group's name → exit status. */
type Passthrough = (argv: string[], io: { out: NodeJS.WritableStream; err: NodeJS.WritableStream }) => Promise<number>;

interface Group {
  short: string;
  commands: Record<string, Entry>;
  /** The whole group is one module with its own parser (`berth registry ...`). */
  passthrough?: () => Promise<Passthrough>;
}

const ls = (e: Entry): Entry => ({ ...e, canonical: 'ls' });
const rm = (e: Entry): Entry => ({ ...e, canonical: 'rm' });

export const MANAGEMENT: Record<string, Group> = {
  container: {
    short: 'Manage containers',
    commands: {
      attach: OTHER.attach,
      create: OTHER.create,
      exec: COMMON.exec,
      inspect: { short: 'Display detailed information on one or more containers', load: L.containerInspect },
      kill: OTHER.kill,
      commit: OTHER.commit,
      cp: OTHER.cp,
      diff: OTHER.diff,
      export: OTHER.export,
      logs: OTHER.logs,
      pause: OTHER.pause,
      port: OTHER.port,
      ls: { short: 'List containers', load: L.ps },
      list: ls({ short: 'List containers', load: L.ps }),
      ps: ls({ short: 'List containers', load: L.ps }),
      prune: { short: 'Remove all stopped containers', load: L.containerPrune },
      rename: OTHER.rename,
      restart: OTHER.restart,
      rm: OTHER.rm,
      update: OTHER.update,
      remove: rm(OTHER.rm),
      run: COMMON.run,
      start: OTHER.start,
      stats: OTHER.stats,
      stop: OTHER.stop,
      unpause: OTHER.unpause,
      top: OTHER.top,
      wait: OTHER.wait,
    },
  },
  image: {
    short: 'Manage images',
    commands: {
      build: COMMON.build,
      history: OTHER.history,
      import: OTHER.import,
      inspect: { short: 'Display detailed information on one or more images', load: L.imageInspect },
      load: OTHER.load,
      ls: { short: 'List images', load: L.images },
      prune: { short: 'Remove unused images', load: L.imagePrune },
      pull: COMMON.pull,
      push: COMMON.push,
      list: ls({ short: 'List images', load: L.images }),
      rm: { short: 'Remove one or more images', load: L.rmi },
      remove: rm({ short: 'Remove one or more images', load: L.rmi }),
      save: OTHER.save,
      tag: OTHER.tag,
    },
  },
  builder: {
    short: 'Manage builds',
    commands: {
      build: COMMON.build,
      prune: { short: 'Remove build cache', load: L.builderPrune },
    },
  },
  volume: {
    short: 'Manage volumes',
    commands: {
      create: { short: 'Create a volume', load: L.volumeCreate },
      inspect: { short: 'Display detailed information on one or more volumes', load: L.volumeInspect },
      ls: { short: 'List volumes', load: L.volumeLs },
      list: ls({ short: 'List volumes', load: L.volumeLs }),
      prune: { short: 'Remove unused local volumes', load: L.volumePrune },
      rm: { short: 'Remove one or more volumes', load: L.volumeRm },
      remove: rm({ short: 'Remove one or more volumes', load: L.volumeRm }),
    },
  },
  network: {
    short: 'Manage networks',
    commands: {
      connect: { short: 'Connect a container to a network', load: L.networkConnect },
      create: { short: 'Create a network', load: L.networkCreate },
      disconnect: { short: 'Disconnect a container from a network', load: L.networkDisconnect },
      inspect: { short: 'Display detailed information on one or more networks', load: L.networkInspect },
      ls: { short: 'List networks', load: L.networkLs },
      list: ls({ short: 'List networks', load: L.networkLs }),
      prune: { short: 'Remove all unused networks', load: L.networkPrune },
      rm: { short: 'Remove one or more networks', load: L.networkRm },
      remove: rm({ short: 'Remove one or more networks', load: L.networkRm }),
    },
  },
  system: {
    short: 'Manage berth',
    commands: {
      df: { short: 'Show berth disk usage', load: L.systemDf },
      info: COMMON.info,
      prune: { short: 'Remove unused data', load: L.systemPrune },
    },
  },
  registry: {
    short: 'Run a private image registry (serve, gc)',
    commands: {},
    passthrough: () => import('../registry/server/main').then((m) => m.registryCommand),
  },
};

const HIDDEN_ALIASES = new Set(['list', 'ps', 'remove']);

export const GLOBAL_FLAGS: FlagSpec[] = [
  { name: 'config', type: 'string', description: 'Location of client config files (default $DOCKER_CONFIG, else ~/.docker)' },
  { name: 'debug', short: 'D', type: 'bool', description: 'Enable debug mode' },
  { name: 'host', short: 'H', type: 'list', description: 'Daemon socket to connect to' },
  {
    name: 'log-level',
    short: 'l',
    type: 'string',
    default: 'info',
    description: 'Set the logging level ("debug", "info", "warn", "error", "fatal")',
  },
  { name: 'tls', type: 'bool', description: 'Use TLS; implied by --tlsverify' },
  { name: 'tlscacert', type: 'string', description: 'Trust certs signed only by this CA' },
  { name: 'tlscert', type: 'string', description: 'Path to TLS certificate file' },
  { name: 'tlskey', type: 'string', description: 'Path to TLS key file' },
  { name: 'tlsverify', type: 'bool', description: 'Use TLS and verify the remote' },
  { name: 'version', short: 'v', type: 'bool', description: 'Print version information and quit' },
];

function listing(cmds: Record<string, Entry | Group>, skipAliases: boolean, sort = true): string {
  const names = Object.keys(cmds).filter((n) => !(skipAliases && HIDDEN_ALIASES.has(n)));
  if (sort) names.sort();
  const width = Math.max(11, ...names.map((n) => n.length + 1));
  return names.map((n) => `  ${n.padEnd(width)} ${cmds[n].short}\n`).join('');
}

export function rootHelp(): string {
  return (
    `Usage:  ${BIN} [OPTIONS] COMMAND\n\n` +
    'A self-sufficient runtime for containers\n\n' +
    `Common Commands:\n${listing(COMMON, false, false)}\n` +
    `Management Commands:\n${listing(MANAGEMENT, false)}\n` +
    `Commands:\n${listing(OTHER, false)}\n` +
    `Global Options:\n${flagUsages(GLOBAL_FLAGS)}\n` +
    `Run '${BIN} COMMAND --help' for more information on a command.\n`
  );
}

export function groupHelp(name: string): string {
  const g = MANAGEMENT[name];
  return (
    `Usage:  ${BIN} ${name} COMMAND\n\n${g.short}\n\n` +
    `Commands:\n${listing(g.commands, true)}\n` +
    `Run '${BIN} ${name} COMMAND --help' for more information on a command.\n`
  );
}

/** Aliases docker lists for each command ("Aliases:" in help). */
const ALIASES: Record<string, string[]> = {
  run: ['container run', 'run'],
  create: ['container create', 'create'],
  start: ['container start', 'start'],
  stop: ['container stop', 'stop'],
  kill: ['container kill', 'kill'],
  restart: ['container restart', 'restart'],
  rm: ['container rm', 'container remove', 'rm'],
  wait: ['container wait', 'wait'],
  rename: ['container rename', 'rename'],
  ps: ['container ls', 'container list', 'container ps', 'ps'],
  logs: ['container logs', 'logs'],
  info: ['system info', 'info'],
  images: ['image ls', 'image list', 'images'],
  load: ['image load', 'load'],
  save: ['image save', 'save'],
  import: ['image import', 'import'],
  tag: ['image tag', 'tag'],
  rmi: ['image rm', 'image remove', 'rmi'],
  history: ['image history', 'history'],
  pull: ['image pull', 'pull'],
  push: ['image push', 'push'],
  build: ['image build', 'build', 'builder build'],
  cp: ['container cp', 'cp'],
  diff: ['container diff', 'diff'],
  commit: ['container commit', 'commit'],
  export: ['container export', 'export'],
};

export function aliasesFor(spec: CommandSpec): string[] | undefined {
  return spec.aliases ?? ALIASES[spec.name];
}


function globalOptions(f: ParsedFlags, env: NodeJS.ProcessEnv): GlobalOptions {
  const hosts = f.list('host');
  if (hosts.length > 1) throw new StatusError(1, 'Failed to initialize: unable to resolve berth endpoint: Specify only one -H');
  const opts: GlobalOptions = {
    host: hosts[0],
    debug: f.bool('debug'),
    logLevel: f.string('log-level'),
    config: f.string('config') || undefined,
  };
  const verify = f.bool('tlsverify') || (!f.has('tlsverify') && !!env.DOCKER_TLS_VERIFY);
  if (f.bool('tls') || (!f.has('tls') && !!env.DOCKER_TLS) || verify) opts.tls = tlsOptions(f, env, verify);
  if (!['debug', 'info', 'warn', 'error', 'fatal', 'panic', 'trace'].includes(opts.logLevel)) {
    throw new StatusError(1, `Unable to parse logging level: ${opts.logLevel}`);
  }
  return opts;
}

/**
 * The docker CLI's TLS files: flags, else $DOCKER_CERT_PATH (or ~/.docker)/{ca,cert,key}.pem; a
 * default client certificate or key that does not exist is left out rather than an error.
 */
function tlsOptions(f: ParsedFlags, env: NodeJS.ProcessEnv, verify: boolean): TlsOptions {
  const certDir = env.DOCKER_CERT_PATH || `${env.HOME ?? ''}/.docker`;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const fs = require('node:fs') as typeof import('node:fs');
  const file = (flag: string, name: string): string | undefined => f.string(flag) || (fs.existsSync(`${certDir}/${name}`) ? `${certDir}/${name}` : undefined);
  return { ca: verify ? f.string('tlscacert') || `${certDir}/ca.pem` : file('tlscacert', 'ca.pem'), cert: file('tlscert', 'cert.pem'), key: file('tlskey', 'key.pem'), verify };
}

function spec(loaded: CommandSpec): CommandSpec {
  return { ...loaded, aliases: aliasesFor(loaded) };
}

/** Runs the CLI on `argv` (without node and script); resolves to the exit status. */
export async function main(argv: string[], streams: Streams, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let gf: ParsedFlags;
  try {
    gf = parseFlags(argv, GLOBAL_FLAGS, { interspersed: false });
  } catch (err) {
    if (err instanceof FlagError) {
      streams.err.write(`${err.message}\n\nUsage:  ${BIN} [OPTIONS] COMMAND [ARG...]\n\nRun '${BIN} --help' for more information\n`);
      return 125;
    }
    throw err;
  }
  if (gf.bool('version')) {
    streams.out.write(`berth version ${clientVersion()}\n`);
    return 0;
  }
  if (gf.help) {
    streams.out.write(rootHelp());
    return 0;
  }
  const args = gf.args;
  if (args.length === 0) {
    streams.err.write(rootHelp());
    return 0;
  }

  let globals: GlobalOptions;
  try {
    globals = globalOptions(gf, env);
  } catch (err) {
    const [msg, code] = errorExit(err);
    streams.err.write(`${msg}\n`);
    return code;
  }
  const cli = new Cli(globals, streams, env);

  // `berth help [COMMAND [SUB]]`
  let words = args;
  let forceHelp = false;
  if (words[0] === 'help') {
    words = words.slice(1);
    forceHelp = true;
    if (words.length === 0) {
      streams.out.write(rootHelp());
      return 0;
    }
  }

  const group = MANAGEMENT[words[0]];
  if (group?.passthrough) {
    const run = await group.passthrough();
    return run(forceHelp ? [...words.slice(1), '--help'] : words.slice(1), { out: streams.out, err: streams.err });
  }

  const resolved = resolve(words);
  if ('error' in resolved) {
    if (resolved.groupHelp !== undefined) {
      const toStdout = forceHelp || words.slice(1).some((w) => w === '--help');
      (toStdout ? streams.out : streams.err).write(groupHelp(resolved.groupHelp));
      return 0;
    }
    if (forceHelp) {
      streams.err.write(`unknown help topic: ${words.join(' ')}\n`);
      return 1;
    }
    streams.err.write(`${resolved.error}\n`);
    return 1;
  }
  const { entry, path, rest } = resolved;
  cli.path = path;
  const cmd = spec(await entry.load());

  if (forceHelp) {
    streams.out.write(renderHelp(path, cmd));
    return 0;
  }
  let flags: ParsedFlags;
  try {
    flags = parseFlags(rest, cmd.flags, { interspersed: cmd.interspersed ?? true });
  } catch (err) {
    if (err instanceof FlagError) {
      streams.err.write(`${flagErrorMessage(path, cmd, err)}\n`);
      return 125;
    }
    throw err;
  }
  if (flags.help) {
    if (flags.helpShorthand) streams.out.write('Flag shorthand -h has been deprecated, use --help\n');
    streams.out.write(renderHelp(path, cmd));
    return 0;
  }
  try {
    checkArgs(path, cmd, flags.args);
    const code = await cmd.run(cli, flags);
    return code ?? 0;
  } catch (err) {
    const [msg, code] = errorExit(err);
    if (msg) streams.err.write(`${msg}\n`);
    if (globals.debug && !(err instanceof StatusError) && err instanceof Error && err.stack) {
      streams.err.write(`${err.stack}\n`);
    }
    return code;
  } finally {
    cli.close();
  }
}

type Resolved = { entry: Entry; path: string; rest: string[] } | { error: string; groupHelp?: string };

function resolve(words: string[]): Resolved {
  const name = words[0];
  const group = MANAGEMENT[name];
  if (group) {
    const sub = words[1];
    if (sub === undefined || sub.startsWith('-')) {
      // `berth container`, `berth container --help`
      return { error: '', groupHelp: name };
    }
    const entry = group.commands[sub];
    if (!entry) {
      return {
        error: `${BIN}: unknown command: ${BIN} ${name} ${sub}\n\nUsage:  ${BIN} ${name}\n\nRun '${BIN} ${name} --help' for more information`,
      };
    }
    return { entry, path: `${BIN} ${name} ${entry.canonical ?? sub}`, rest: words.slice(2) };
  }
  const entry = COMMON[name] ?? OTHER[name];
  if (!entry) {
    return { error: `${BIN}: unknown command: ${BIN} ${name}\n\nRun '${BIN} --help' for more information` };
  }
  return { entry, path: `${BIN} ${name}`, rest: words.slice(1) };
}

// bin/berth requires this file; tests import it (and call main) without running it.
if (require.main === module || /[\\/]berth$/.test(require.main?.filename ?? '')) {
  // A reader that went away (`berth save img | head -c1`) ends us quietly, as SIGPIPE ends docker.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') process.exit(141);
      throw err;
    });
  }
  main(process.argv.slice(2), { in: process.stdin, out: process.stdout, err: process.stderr }).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(1);
    },
  );
}
