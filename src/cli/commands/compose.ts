/**
 * `berth compose`: the Compose Specification on top of the Engine API. The project is loaded by
 * src/compose/load.ts and driven by src/compose/project.ts; this file parses docker compose's
 * flags, dispatches the subcommands and prints in docker compose's formats.
 */
import crypto from 'node:crypto';
import type { Readable } from 'node:stream';
import type { Socket } from 'node:net';
import { Demuxer, STDERR, demuxTo } from '../../client/engine';
import type { ContainerSummary } from '../../client/types';
import { ComposeError } from '../../compose/errors';
import { configModel, loadProject } from '../../compose/load';
import { COMPOSE_VERSION, LABEL, type Project } from '../../compose/model';
import { configHash, imageName } from '../../compose/convert';
import { ComposeProject, isNotFound, nameOf, numberOf, serviceOf, splitRef } from '../../compose/project';
import { dumpYaml } from '../../compose/yaml';
import { displayablePorts, ellipsis, truncateID } from '../rows';
import { tabwrite } from '../format/table';
import { humanDuration } from '../../util/units';
import { lines } from '../../util/streams';
import { parseFlags, flagUsages, FlagError, type FlagSpec, type ParsedFlags } from '../flags';
import { StatusError, type Cli, type CommandSpec } from '../cli';
import { attach, registerWait } from './attach-io';
import { EventRow, rfc3339NanoFixed } from './events';

const GLOBAL: FlagSpec[] = [
  { name: 'file', short: 'f', type: 'list', description: 'Compose configuration files' },
  { name: 'project-name', short: 'p', type: 'string', description: 'Project name' },
  { name: 'project-directory', type: 'string', description: 'Specify an alternate working directory (default: the path of the, first specified, Compose file)' },
  { name: 'env-file', type: 'list', description: 'Specify an alternate environment file' },
  { name: 'profile', type: 'list', description: 'Specify a profile to enable' },
  { name: 'ansi', type: 'string', default: 'auto', description: 'Control when to print ANSI control characters ("never"|"always"|"auto")' },
  { name: 'progress', type: 'string', default: 'auto', description: 'Set type of progress output (auto, tty, plain, quiet)' },
];

interface Sub {
  short: string;
  use?: string;
  flags: FlagSpec[];
  run(ctx: Ctx, f: ParsedFlags): Promise<number | void>;
}

interface Ctx {
  cli: Cli;
  globals: ParsedFlags;
  load(): Project;
  project(): ComposeProject;
}

const b = (name: string, description: string, short?: string): FlagSpec => ({ name, short, type: 'bool', description });
const s = (name: string, description: string, short?: string, def?: string): FlagSpec => ({ name, short, type: 'string', description, default: def });
const timeoutFlag: FlagSpec = { name: 'timeout', short: 't', type: 'int', default: -1, description: 'Specify a shutdown timeout in seconds' };

function progressPrinter(cli: Cli, quiet: boolean): (kind: string, name: string, status: string) => void {
  if (quiet) return () => undefined;
  return (kind, name, status) => cli.eprintln(kind === 'Warning' ? `WARN[0000] ${status}` : ` ${kind} ${name}  ${status}`);
}

function parseScale(list: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of list) {
    const m = /^([^=]+)=(\d+)$/.exec(s);
    if (!m) throw new StatusError(1, `invalid --scale option ${JSON.stringify(s)}: expected SERVICE=NUM`);
    out[m[1]] = Number(m[2]);
  }
  return out;
}

function timeout(f: ParsedFlags): number | undefined {
  const t = f.int('timeout');
  return t >= 0 ? t : undefined;
}

// ---- logs ----------------------------------------------------------------------------------

const COLORS = [36, 33, 32, 35, 34, 96, 93, 92, 95, 94];

/** "name  | " padded to the widest name, coloured per service when colours are on. */
export function logPrefix(name: string, width: number, color: number | undefined): string {
  const text = `${name.padEnd(width)}  | `;
  return color === undefined ? text : `\x1b[${color}m${text}\x1b[0m`;
}

function colorsOn(ctx: Ctx, noColor: boolean): boolean {
  const ansi = ctx.globals.string('ansi');
  if (noColor || ansi === 'never') return false;
  return ansi === 'always' || !!ctx.cli.streams.out.isTTY;
}

interface LogOptions {
  follow: boolean;
  tail: string;
  timestamps: boolean;
  color: boolean;
  prefix: boolean;
  since?: string;
  until?: string;
  /** Called when a container's stream has ended (attached `up` reports the exit code). */
  onEnd?: (c: ContainerSummary) => Promise<void>;
}

async function streamLogs(ctx: Ctx, containers: ContainerSummary[], o: LogOptions): Promise<void> {
  const engine = ctx.cli.engine();
  const width = Math.max(0, ...containers.map((c) => nameOf(c).length));
  const services = [...new Set(containers.map(serviceOf))].sort();
  await Promise.all(
    containers.map(async (c) => {
      const color = o.color ? COLORS[services.indexOf(serviceOf(c)) % COLORS.length] : undefined;
      const prefix = o.prefix ? logPrefix(nameOf(c), width, color) : '';
      const res = await engine.stream('GET', `/containers/${encodeURIComponent(c.Id)}/logs`, {
        query: { stdout: true, stderr: true, follow: o.follow || undefined, tail: o.tail, timestamps: o.timestamps || undefined, since: o.since, until: o.until },
      });
      const partial = ['', ''];
      const emit = (stream: number, data: Buffer): void => {
        const i = stream === STDERR ? 1 : 0;
        const text = partial[i] + data.toString('utf8');
        const lines = text.split('\n');
        partial[i] = lines.pop() ?? '';
        for (const line of lines) (i ? ctx.cli.streams.err : ctx.cli.streams.out).write(`${prefix}${line}\n`);
      };
      const d = new Demuxer(emit);
      await new Promise<void>((resolve, reject) => {
        res.on('data', (chunk: Buffer) => d.push(chunk));
        res.on('end', resolve);
        res.on('error', reject);
      });
      for (const [i, rest] of partial.entries()) if (rest) (i ? ctx.cli.streams.err : ctx.cli.streams.out).write(`${prefix}${rest}\n`);
      await o.onEnd?.(c);
    }),
  );
}

// ---- ps ------------------------------------------------------------------------------------

function created(c: ContainerSummary): string {
  return c.Created ? `${humanDuration(Date.now() - c.Created * 1000)} ago` : '';
}

function psJson(c: ContainerSummary): Record<string, unknown> {
  return {
    ID: c.Id,
    Name: nameOf(c),
    Image: c.Image,
    Command: c.Command,
    Project: c.Labels?.[LABEL.project],
    Service: serviceOf(c),
    Created: c.Created,
    State: c.State,
    Status: c.Status,
    Health: /\((healthy|unhealthy|health: starting)\)/.exec(c.Status ?? '')?.[1] ?? '',
    ExitCode: Number(/Exited \((\d+)\)/.exec(c.Status ?? '')?.[1] ?? 0),
    Publishers: (c.Ports ?? []).map((p) => ({ URL: p.IP ?? '', TargetPort: p.PrivatePort, PublishedPort: p.PublicPort ?? 0, Protocol: p.Type })),
    Labels: c.Labels,
  };
}

// ---- exec / run ----------------------------------------------------------------------------

async function execIn(ctx: Ctx, id: string, cmd: string[], f: ParsedFlags): Promise<number> {
  const engine = ctx.cli.engine();
  const tty = !f.bool('no-TTY') && !!ctx.cli.streams.in.isTTY && !!ctx.cli.streams.out.isTTY;
  const interactive = f.bool('interactive');
  const created = await engine.post<{ Id: string }>(`/containers/${encodeURIComponent(id)}/exec`, undefined, {
    AttachStdin: interactive,
    AttachStdout: true,
    AttachStderr: true,
    Tty: tty,
    Cmd: cmd,
    Env: f.list('env'),
    User: f.string('user') || undefined,
    WorkingDir: f.string('workdir') || undefined,
    Privileged: f.bool('privileged'),
  });
  if (f.bool('detach')) {
    await engine.post(`/exec/${created.Id}/start`, undefined, { Detach: true, Tty: tty });
    return 0;
  }
  const conn = await engine.hijack(`/exec/${created.Id}/start`, undefined, { Detach: false, Tty: tty });
  const input = ctx.cli.streams.in;
  if (interactive) {
    const sock = conn as Socket;
    input.on('data', (chunk: Buffer) => sock.write(chunk));
    input.on('end', () => typeof sock.end === 'function' && sock.end());
    input.resume();
  }
  if (tty) {
    await new Promise<void>((resolve) => {
      conn.on('data', (c: Buffer) => ctx.cli.streams.out.write(c));
      conn.on('end', resolve);
      conn.on('close', resolve);
      conn.on('error', () => resolve());
    });
  } else {
    await demuxTo(conn as Readable, ctx.cli.streams.out, ctx.cli.streams.err);
  }
  if (interactive) input.pause();
  const info = await engine.get<{ ExitCode: number | null }>(`/exec/${created.Id}/json`);
  return info.ExitCode ?? 0;
}

async function serviceContainer(ctx: Ctx, service: string, index: number): Promise<ContainerSummary> {
  const p = ctx.project();
  p.service(service);
  const list = (await p.containers({ services: [service], all: false })).filter((c) => numberOf(c) === index);
  if (!list.length) throw new ComposeError(`service "${service}" is not running`);
  return list[0];
}

// ---- subcommands ---------------------------------------------------------------------------

const SUBS: Record<string, Sub> = {
  up: {
    short: 'Create and start containers',
    use: '[OPTIONS] [SERVICE...]',
    flags: [
      b('detach', 'Detached mode: Run containers in the background', 'd'),
      b('build', 'Build images before starting containers'),
      b('no-build', "Don't build an image, even if it's policy"),
      b('force-recreate', "Recreate containers even if their configuration and image haven't changed"),
      b('no-recreate', "If containers already exist, don't recreate them"),
      b('no-deps', "Don't start linked services"),
      b('no-start', "Don't start the services after creating them"),
      { name: 'scale', type: 'list', description: 'Scale SERVICE to NUM instances. Overrides the scale setting in the Compose file if present' },
      b('wait', 'Wait for services to be running|healthy. Implies detached mode'),
      { name: 'wait-timeout', type: 'int', default: 0, description: 'Maximum duration in seconds to wait for the project to be running|healthy' },
      b('remove-orphans', 'Remove containers for services not defined in the Compose file'),
      b('quiet-pull', 'Pull without printing progress information'),
      b('abort-on-container-exit', 'Stops all containers if any container was stopped. Incompatible with -d'),
      s('exit-code-from', 'Return the exit code of the selected service container. Implies --abort-on-container-exit'),
      timeoutFlag,
    ],
    async run(ctx, f) {
      const exitCodeFrom = f.string('exit-code-from');
      const abort = f.bool('abort-on-container-exit') || !!exitCodeFrom;
      if (abort && f.bool('detach')) throw new StatusError(1, `--abort-on-container-exit and --detach are incompatible`);
      const p = ctx.project();
      if (exitCodeFrom) p.service(exitCodeFrom);
      const ids = await p.up(
        {
          services: f.args,
          build: f.bool('build'),
          noBuild: f.bool('no-build'),
          forceRecreate: f.bool('force-recreate'),
          noRecreate: f.bool('no-recreate'),
          noDeps: f.bool('no-deps'),
          noStart: f.bool('no-start'),
          scale: parseScale(f.list('scale')),
          wait: f.bool('wait'),
          waitTimeout: f.int('wait-timeout') || undefined,
          removeOrphans: f.bool('remove-orphans'),
        },
        (line) => ctx.cli.eprintln(line),
      );
      if (f.bool('detach') || f.bool('wait') || f.bool('no-start')) return;
      // Attached: follow the logs until every container has stopped; Ctrl-C stops the project.
      const stop = (): void => {
        ctx.cli.eprintln('Gracefully stopping... (press Ctrl+C again to force)');
        void Promise.all((ids as string[]).map((id) => ctx.cli.engine().post(`/containers/${id}/stop`).catch(() => undefined)));
      };
      process.once('SIGINT', stop);
      const containers = (await p.containers()).filter((c) => ids.includes(c.Id));
      ctx.cli.println(`Attaching to ${containers.map(nameOf).join(', ')}`);
      // --abort-on-container-exit: the first container to exit stops the others; the exit code is
      // that container's, or with --exit-code-from the named service's container's.
      let aborting: Promise<number> | undefined;
      const abortAll = async (first: ContainerSummary, code: number): Promise<number> => {
        ctx.cli.println('Aborting on container exit...');
        for (const c of await p.containers()) if (ids.includes(c.Id)) await p.stopContainer(c, timeout(f));
        if (!exitCodeFrom) return code;
        const from = containers.find((c) => serviceOf(c) === exitCodeFrom) ?? first;
        return from.Id === first.Id ? code : (await p.inspectState(from.Id)).ExitCode;
      };
      const onEnd = async (c: ContainerSummary): Promise<void> => {
        let st = await p.inspectState(c.Id).catch(() => undefined);
        if (abort && st?.Running) {
          await ctx.cli.engine().post(`/containers/${encodeURIComponent(c.Id)}/wait`).catch(() => undefined);
          st = await p.inspectState(c.Id).catch(() => undefined);
        }
        if (st && !st.Running) ctx.cli.println(`${nameOf(c)} exited with code ${st.ExitCode}`);
        if (abort && st && !st.Running && !aborting) {
          aborting = abortAll(c, st.ExitCode);
          await aborting;
        }
      };
      await streamLogs(ctx, containers, { follow: true, tail: 'all', timestamps: false, color: colorsOn(ctx, false), prefix: true, onEnd });
      process.off('SIGINT', stop);
      if (aborting) return await aborting;
    },
  },
  down: {
    short: 'Stop and remove containers, networks',
    flags: [b('volumes', 'Remove named volumes declared in the "volumes" section of the Compose file and anonymous volumes attached to containers', 'v'), s('rmi', 'Remove images used by services. "local" remove only images that don\'t have a custom tag ("local"|"all")'), b('remove-orphans', 'Remove containers for services not defined in the Compose file'), timeoutFlag],
    async run(ctx, f) {
      const rmi = f.string('rmi');
      if (rmi && rmi !== 'local' && rmi !== 'all') throw new StatusError(1, `invalid --rmi option ${JSON.stringify(rmi)}`);
      await ctx.project().down({ volumes: f.bool('volumes'), rmi: rmi || undefined, removeOrphans: f.bool('remove-orphans'), timeout: timeout(f) });
    },
  },
  ps: {
    short: 'List containers',
    use: '[OPTIONS] [SERVICE...]',
    flags: [b('all', 'Show all stopped containers (including those created by the run command)', 'a'), b('quiet', 'Only display IDs', 'q'), b('services', 'Display services'), s('format', 'Format the output. Values: [table | json]', undefined, 'table'), { name: 'status', type: 'list', description: 'Filter services by status' }],
    async run(ctx, f) {
      let list = await ctx.project().containers({ services: f.args, all: f.bool('all') || f.list('status').length > 0, oneoff: f.bool('all') });
      if (f.list('status').length) list = list.filter((c) => f.list('status').includes(c.State ?? ''));
      if (f.bool('quiet')) return list.forEach((c) => ctx.cli.println(c.Id));
      if (f.bool('services')) return [...new Set(list.map(serviceOf))].forEach((n) => ctx.cli.println(n));
      if (f.string('format') === 'json') return list.forEach((c) => ctx.cli.println(JSON.stringify(psJson(c))));
      const rows = ['NAME\tIMAGE\tCOMMAND\tSERVICE\tCREATED\tSTATUS\tPORTS'];
      for (const c of list) rows.push([nameOf(c), c.Image ?? '', JSON.stringify(ellipsis(c.Command ?? '', 20)), serviceOf(c), created(c), c.Status ?? '', displayablePorts(c.Ports)].join('\t'));
      ctx.cli.out(tabwrite(`${rows.join('\n')}\n`));
    },
  },
  logs: {
    short: 'View output from containers',
    use: '[OPTIONS] [SERVICE...]',
    flags: [b('follow', 'Follow log output', 'f'), s('tail', 'Number of lines to show from the end of the logs for each container', 'n', 'all'), b('timestamps', 'Show timestamps', 't'), b('no-color', 'Produce monochrome output'), b('no-log-prefix', "Don't print prefix in logs"), s('since', 'Show logs since timestamp'), s('until', 'Show logs before a timestamp')],
    async run(ctx, f) {
      const list = await ctx.project().containers({ services: f.args });
      await streamLogs(ctx, list, { follow: f.bool('follow'), tail: f.string('tail'), timestamps: f.bool('timestamps'), color: colorsOn(ctx, f.bool('no-color')), prefix: !f.bool('no-log-prefix'), since: f.string('since') || undefined, until: f.string('until') || undefined });
    },
  },
  build: {
    short: 'Build or rebuild services',
    use: '[OPTIONS] [SERVICE...]',
    flags: [b('no-cache', 'Do not use cache when building the image'), b('quiet', "Don't print anything to STDOUT", 'q'), b('pull', 'Always attempt to pull a newer version of the image')],
    async run(ctx, f) {
      const p = ctx.project();
      for (const n of p.selected(f.args)) await p.build(p.service(n), (line) => !f.bool('quiet') && ctx.cli.eprintln(line), f.bool('no-cache'));
    },
  },
  pull: {
    short: 'Pull service images',
    use: '[OPTIONS] [SERVICE...]',
    flags: [b('ignore-pull-failures', 'Pull what it can and ignores images with pull failures'), b('quiet', 'Pull without printing progress information', 'q'), b('ignore-buildable', 'Ignore images that can be built')],
    async run(ctx, f) {
      const p = ctx.project();
      for (const n of p.selected(f.args)) {
        const svc = p.service(n);
        if (svc.build && (f.bool('ignore-buildable') || !svc.image)) continue;
        await p.pull(svc, f.bool('ignore-pull-failures'));
      }
    },
  },
  push: {
    short: 'Push service images',
    use: '[OPTIONS] [SERVICE...]',
    flags: [b('ignore-push-failures', 'Push what it can and ignores images with push failures'), b('quiet', 'Push without printing progress information', 'q')],
    async run(ctx, f) {
      const p = ctx.project();
      const { jsonMessages, messageError } = await import('../../client/engine');
      const auth = Buffer.from('{}').toString('base64');
      for (const n of p.selected(f.args)) {
        const svc = p.service(n);
        if (!svc.image) continue;
        const [name, tag] = splitRef(svc.image);
        p.progress('Image', svc.image, 'Pushing');
        try {
          const res = await ctx.cli.engine().stream('POST', `/images/${encodeURIComponent(name)}/push`, { query: { tag }, headers: { 'X-Registry-Auth': auth } });
          for await (const m of jsonMessages(res)) {
            const e = messageError(m);
            if (e) throw new ComposeError(e);
          }
          p.progress('Image', svc.image, 'Pushed');
        } catch (err) {
          if (!f.bool('ignore-push-failures')) throw err;
        }
      }
    },
  },
  exec: {
    short: 'Execute a command in a running container',
    use: '[OPTIONS] SERVICE COMMAND [ARGS...]',
    flags: [b('detach', 'Detached mode: Run command in the background', 'd'), { name: 'env', short: 'e', type: 'list', description: 'Set environment variables' }, { name: 'index', type: 'int', default: 1, description: 'Index of the container if service has multiple replicas' }, b('no-TTY', 'Disable pseudo-TTY allocation. By default `compose exec` allocates a TTY.', 'T'), b('privileged', 'Give extended privileges to the process'), s('user', 'Run the command as this user', 'u'), s('workdir', 'Path to workdir directory for this command', 'w'), { name: 'interactive', short: 'i', type: 'bool', default: true, description: 'Keep STDIN open even if not attached', hidden: true }],
    async run(ctx, f) {
      if (f.args.length < 2) throw new StatusError(1, 'requires at least 2 arguments');
      const c = await serviceContainer(ctx, f.args[0], f.int('index'));
      return execIn(ctx, c.Id, f.args.slice(1), f);
    },
  },
  run: {
    short: 'Run a one-off command on a service',
    use: '[OPTIONS] SERVICE [COMMAND] [ARGS...]',
    flags: [b('detach', 'Run container in background and print container ID', 'd'), b('rm', 'Automatically remove the container when it exits'), b('service-ports', "Run command with all service's ports enabled and mapped to the host"), b('no-deps', "Don't start linked services"), s('name', 'Assign a name to the container'), { name: 'env', short: 'e', type: 'list', description: 'Set environment variables' }, s('user', 'Run as specified username or uid', 'u'), s('workdir', 'Working directory inside the container', 'w'), s('entrypoint', 'Override the entrypoint of the image'), b('no-TTY', 'Disable pseudo-TTY allocation (default: auto-detected)', 'T'), b('build', 'Build image before starting container')],
    async run(ctx, f) {
      if (f.args.length < 1) throw new StatusError(1, 'requires at least 1 argument');
      const p = ctx.project();
      const svc = { ...p.service(f.args[0]) };
      for (const e of f.list('env')) {
        const i = e.indexOf('=');
        svc.environment = { ...(svc.environment ?? {}), [i < 0 ? e : e.slice(0, i)]: i < 0 ? (ctx.cli.env[e] ?? null) : e.slice(i + 1) };
      }
      if (f.string('user')) svc.user = f.string('user');
      if (f.string('workdir')) svc.working_dir = f.string('workdir');
      if (f.has('entrypoint')) svc.entrypoint = f.string('entrypoint') ? [f.string('entrypoint')] : [];
      if (!f.bool('no-deps')) {
        const deps = Object.keys(svc.depends_on ?? {});
        if (deps.length) await p.up({ services: deps }, (line) => ctx.cli.eprintln(line));
        for (const [dep, cond] of Object.entries(svc.depends_on ?? {})) if (p.project.services[dep]) await p.waitCondition(dep, cond);
      }
      await p.ensureImages([svc.name], f.bool('build'), false, (line) => ctx.cli.eprintln(line));
      await p.ensureNetworks();
      await p.ensureVolumes();
      const name = f.string('name') || `${p.project.name}-${svc.name}-run-${crypto.randomBytes(6).toString('hex')}`;
      const cmd = f.args.length > 1 ? f.args.slice(1) : undefined;
      const tty = !f.bool('no-TTY') && !!ctx.cli.streams.in.isTTY;
      svc.tty = tty;
      svc.stdin_open = !f.bool('detach');
      const id = await p.createContainer(svc, 1, configHash(svc), false, { oneoff: true, command: cmd, servicePorts: f.bool('service-ports'), name });
      if (f.bool('detach')) {
        await ctx.cli.engine().post(`/containers/${id}/start`);
        ctx.cli.println(name);
        return;
      }
      const att = await attach(ctx.cli, id, { stdin: !ctx.cli.streams.in.isTTY ? false : true, stdout: true, stderr: true, tty });
      const waiter = await registerWait(ctx.cli, id, 'next-exit');
      await ctx.cli.engine().post(`/containers/${id}/start`);
      await att.done;
      const code = await waiter.status();
      if (f.bool('rm')) await ctx.cli.engine().delete(`/containers/${id}`, { force: true });
      return code;
    },
  },
  start: lifecycle('Start services', 'start', false),
  stop: lifecycle('Stop services', 'stop', true),
  restart: lifecycle('Restart service containers', 'restart', true),
  pause: pauser('Pause services', 'pause'),
  unpause: pauser('Unpause services', 'unpause'),
  kill: {
    short: 'Force stop service containers',
    use: '[OPTIONS] [SERVICE...]',
    flags: [s('signal', 'SIGNAL to send to the container', 's', 'SIGKILL'), b('remove-orphans', 'Remove containers for services not defined in the Compose file')],
    async run(ctx, f) {
      const p = ctx.project();
      for (const c of await p.containers({ services: f.args, all: false })) {
        p.progress('Container', nameOf(c), 'Killing');
        await ctx.cli.engine().post(`/containers/${c.Id}/kill`, { signal: f.string('signal') });
        p.progress('Container', nameOf(c), 'Killed');
      }
    },
  },
  rm: {
    short: 'Removes stopped service containers',
    use: '[OPTIONS] [SERVICE...]',
    flags: [b('force', "Don't ask to confirm removal", 'f'), b('stop', 'Stop the containers, if required, before removing', 's'), b('volumes', 'Remove any anonymous volumes attached to containers', 'v')],
    async run(ctx, f) {
      const p = ctx.project();
      const list = await p.containers({ services: f.args });
      const doomed = list.filter((c) => f.bool('stop') || c.State !== 'running');
      if (!doomed.length) return ctx.cli.eprintln('No stopped containers');
      for (const c of doomed) await p.removeContainer(c, true, false, f.bool('volumes'));
    },
  },
  config: {
    short: 'Parse, resolve and render compose file in canonical format',
    flags: [b('services', 'Print the service names, one per line.'), b('volumes', 'Print the volume names, one per line.'), b('networks', 'Print the network names, one per line.'), b('profiles', 'Print the profile names, one per line.'), b('images', 'Print the image names, one per line.'), b('hash', 'Print the service config hash, one per line.'), b('quiet', 'Only validate the configuration, don\'t print anything', 'q'), s('format', 'Format the output. Values: [yaml | json]', undefined, 'yaml'), s('output', 'Save to file (default to stdout)', 'o')],
    async run(ctx, f) {
      const p = ctx.load();
      const lines = (xs: string[]): void => xs.forEach((x) => ctx.cli.println(x));
      if (f.bool('quiet')) return;
      if (f.bool('services')) return lines(Object.keys(p.services));
      if (f.bool('volumes')) return lines(Object.keys(p.volumes));
      if (f.bool('networks')) return lines(Object.keys(p.networks));
      if (f.bool('images')) return lines(Object.values(p.services).map((sv) => imageName(p, sv)));
      if (f.bool('profiles')) return lines([...new Set([...Object.values(p.services), ...Object.values(p.disabled)].flatMap((sv) => (sv.profiles as string[] | undefined) ?? []))].sort());
      if (f.bool('hash')) return lines(Object.values(p.services).map((sv) => `${sv.name} ${configHash(sv)}`));
      const model = configModel(p);
      const text = f.string('format') === 'json' ? `${JSON.stringify(model, null, 2)}\n` : dumpYaml(model);
      if (f.string('output')) (await import('node:fs')).writeFileSync(f.string('output'), text);
      else ctx.cli.out(text);
    },
  },
  top: {
    short: 'Display the running processes',
    use: '[SERVICES...]',
    flags: [],
    async run(ctx, f) {
      for (const c of await ctx.project().containers({ services: f.args, all: false })) {
        const t = await ctx.cli.engine().get<{ Titles: string[]; Processes: string[][] }>(`/containers/${c.Id}/top`);
        ctx.cli.println(nameOf(c));
        ctx.cli.out(tabwrite(`${[t.Titles, ...t.Processes].map((r) => r.join('\t')).join('\n')}\n`));
        ctx.cli.println();
      }
    },
  },
  port: {
    short: 'Print the public port for a port binding',
    use: '[OPTIONS] SERVICE PRIVATE_PORT',
    flags: [s('protocol', 'tcp or udp', undefined, 'tcp'), { name: 'index', type: 'int', default: 1, description: 'Index of the container if service has multiple replicas' }],
    async run(ctx, f) {
      if (f.args.length !== 2) throw new StatusError(1, 'requires exactly 2 arguments');
      const c = await serviceContainer(ctx, f.args[0], f.int('index'));
      const i = await ctx.cli.engine().get<{ NetworkSettings: { Ports: Record<string, { HostIp: string; HostPort: string }[] | null> } }>(`/containers/${c.Id}/json`);
      const b0 = i.NetworkSettings.Ports?.[`${f.args[1]}/${f.string('protocol')}`]?.[0];
      if (!b0) throw new ComposeError(`no port ${f.args[1]}/${f.string('protocol')} for container ${nameOf(c)}`);
      ctx.cli.println(`${b0.HostIp || '0.0.0.0'}:${b0.HostPort}`);
    },
  },
  images: {
    short: 'List images used by the created containers',
    use: '[OPTIONS] [SERVICE...]',
    flags: [b('quiet', 'Only display IDs', 'q'), s('format', 'Format the output. Values: [table | json]', undefined, 'table')],
    async run(ctx, f) {
      const rows = ['CONTAINER\tREPOSITORY\tTAG\tIMAGE ID\tSIZE'];
      const json: unknown[] = [];
      for (const c of await ctx.project().containers({ services: f.args })) {
        const img = await ctx.cli.engine().get<{ Id: string; RepoTags?: string[]; Size?: number }>(`/images/${encodeURIComponent(c.ImageID ?? c.Image ?? '')}/json`).catch((e: unknown) => (isNotFound(e) ? undefined : Promise.reject(e)));
        if (!img) continue;
        const [repo, tag] = splitRef(c.Image ?? '');
        if (f.bool('quiet')) ctx.cli.println(img.Id);
        json.push({ ID: img.Id, ContainerName: nameOf(c), Repository: repo, Tag: tag ?? '', Size: img.Size ?? 0 });
        const { humanSize } = await import('../../util/units');
        rows.push([nameOf(c), repo, tag ?? '', truncateID(img.Id), humanSize(img.Size ?? 0)].join('\t'));
      }
      if (f.bool('quiet')) return;
      if (f.string('format') === 'json') ctx.cli.println(JSON.stringify(json));
      else ctx.cli.out(tabwrite(`${rows.join('\n')}\n`));
    },
  },
  ls: {
    short: 'List running compose projects',
    flags: [b('all', 'Show all stopped Compose projects', 'a'), b('quiet', 'Only display IDs', 'q'), s('format', 'Format the output. Values: [table | json]', undefined, 'table')],
    async run(ctx, f) {
      const list = await ctx.cli.engine().get<ContainerSummary[]>('/containers/json', { all: true, filters: JSON.stringify({ label: [LABEL.project] }) });
      const projects = new Map<string, { states: Map<string, number>; files: string }>();
      for (const c of list) {
        const name = c.Labels?.[LABEL.project] ?? '';
        const e = projects.get(name) ?? { states: new Map<string, number>(), files: c.Labels?.[LABEL.configFiles] ?? '' };
        e.states.set(c.State ?? '', (e.states.get(c.State ?? '') ?? 0) + 1);
        projects.set(name, e);
      }
      const out = [...projects.entries()]
        .filter(([, e]) => f.bool('all') || e.states.has('running'))
        .sort(([a], [b2]) => a.localeCompare(b2))
        .map(([name, e]) => ({ Name: name, Status: [...e.states.entries()].sort().map(([st, n]) => `${st}(${n})`).join(', '), ConfigFiles: e.files }));
      if (f.bool('quiet')) return out.forEach((o) => ctx.cli.println(o.Name));
      if (f.string('format') === 'json') return ctx.cli.println(JSON.stringify(out));
      ctx.cli.out(tabwrite(`${['NAME\tSTATUS\tCONFIG FILES', ...out.map((o) => `${o.Name}\t${o.Status}\t${o.ConfigFiles}`)].join('\n')}\n`));
    },
  },
  events: {
    short: 'Receive real time events from containers',
    use: '[OPTIONS] [SERVICE...]',
    flags: [b('json', 'Output events as a stream of json objects')],
    async run(ctx, f) {
      const p = ctx.project();
      const filters = JSON.stringify({ type: ['container'], label: [`${LABEL.project}=${p.project.name}`] });
      const res = await ctx.cli.engine().stream('GET', '/events', { query: { filters } });
      for await (const line of lines(res)) {
        const out = composeEvent(line, f.args, f.bool('json'));
        if (out !== undefined) ctx.cli.println(out);
      }
    },
  },
  version: {
    short: 'Show the Docker Compose version information',
    flags: [b('short', 'Shows only Compose\'s version number'), s('format', 'Format the output. Values: [pretty | json]', 'f', 'pretty')],
    async run(ctx, f) {
      if (f.bool('short')) ctx.cli.println(COMPOSE_VERSION);
      else if (f.string('format') === 'json') ctx.cli.println(JSON.stringify({ version: `v${COMPOSE_VERSION}` }));
      else ctx.cli.println(`Docker Compose version v${COMPOSE_VERSION} (berth)`);
    },
  },
};

function lifecycle(short: string, action: 'start' | 'stop' | 'restart', hasTimeout: boolean): Sub {
  const past: Record<string, [string, string]> = { start: ['Starting', 'Started'], stop: ['Stopping', 'Stopped'], restart: ['Restarting', 'Started'] };
  return {
    short,
    use: '[SERVICE...]',
    flags: hasTimeout ? [timeoutFlag] : [],
    async run(ctx, f) {
      const p = ctx.project();
      let list = await p.containers({ services: f.args });
      if (action === 'start') list = list.filter((c) => c.State !== 'running');
      if (action === 'stop') list = list.filter((c) => c.State === 'running');
      if (action === 'start' && !list.length && !(await p.containers({ services: f.args })).length) throw new ComposeError('service(s) not found: no containers to start');
      for (const c of list) {
        p.progress('Container', nameOf(c), past[action][0]);
        await ctx.cli.engine().post(`/containers/${c.Id}/${action}`, hasTimeout ? { t: timeout(f) } : undefined);
        p.progress('Container', nameOf(c), past[action][1]);
      }
    },
  };
}

/**
 * One daemon event line as docker compose prints it: "<local time, microseconds> container
 * <action> <id> (k=v, ...)" or a JSON object; the compose labels are left out of the
 * attributes, events of other services (when some are named) and other types are skipped.
 */
export function composeEvent(line: string, services: string[], json: boolean): string | undefined {
  const e = new EventRow(line);
  if (e.Type !== 'container') return undefined;
  const service = e.Actor.Attributes[LABEL.service] ?? '';
  if (services.length && !services.includes(service)) return undefined;
  const attributes: Record<string, string> = {};
  for (const k of Object.keys(e.Actor.Attributes).sort()) if (!k.startsWith('com.docker.compose.')) attributes[k] = e.Actor.Attributes[k];
  // RFC3339NanoFixed "2006-01-02T15:04:05.000000000+01:00" in local time.
  const fixed = rfc3339NanoFixed(e.TimeNano);
  if (json) {
    // Go's time.Time JSON: RFC3339Nano, trailing zeros of the fraction dropped.
    const time = fixed.replace(/\.(\d{9})/, (_m, frac: string) => (frac.replace(/0+$/, '') ? `.${frac.replace(/0+$/, '')}` : ''));
    return JSON.stringify({ action: e.Action, attributes, id: e.Actor.ID, service, time, type: 'container' });
  }
  const when = `${fixed.slice(0, 10)} ${fixed.slice(11, 26)}`;
  const attrs = Object.entries(attributes).map(([k, v]) => `${k}=${v}`);
  return `${when} container ${e.Action} ${e.Actor.ID}${attrs.length ? ` (${attrs.join(', ')})` : ''}`;
}

/** pause / unpause: the running (resp. paused) containers of the services, as docker compose reports them. */
function pauser(short: string, action: 'pause' | 'unpause'): Sub {
  return {
    short,
    use: '[SERVICE...]',
    flags: [],
    async run(ctx, f) {
      const p = ctx.project();
      const want = action === 'pause' ? 'running' : 'paused';
      for (const c of (await p.containers({ services: f.args })).filter((x) => x.State === want)) {
        await ctx.cli.engine().post(`/containers/${encodeURIComponent(c.Id)}/${action}`);
        p.progress('Container', nameOf(c), action === 'pause' ? 'Paused' : 'Unpaused');
      }
    },
  };
}

function commandList(): string {
  const names = Object.keys(SUBS).sort();
  const w = Math.max(...names.map((n) => n.length)) + 2;
  return names.map((n) => `  ${n.padEnd(w)}${SUBS[n].short}\n`).join('');
}

function help(): string {
  return `Usage:  berth compose [OPTIONS] COMMAND\n\nDefine and run multi-container applications with Docker\n\nOptions:\n${flagUsages(GLOBAL)}\nCommands:\n${commandList()}\nRun 'berth compose COMMAND --help' for more information on a command.\n`;
}

export const composeCommand: CommandSpec = {
  name: 'compose',
  use: '[OPTIONS] COMMAND',
  short: 'Define and run multi-container applications (Docker Compose)',
  get long(): string {
    return `Define and run multi-container applications with Docker\n\nCommands:\n${commandList().replace(/\n$/, '')}`;
  },
  flags: GLOBAL,
  interspersed: false,
  args: { kind: 'any' },
  async run(cli, globals) {
    const [name, ...rest] = globals.args;
    if (!name) {
      cli.out(help());
      return 0;
    }
    const sub = SUBS[name];
    if (!sub) throw new StatusError(1, `unknown docker command: "compose ${name}"`);
    let f: ParsedFlags;
    try {
      f = parseFlags(rest, sub.flags, { interspersed: !['exec', 'run'].includes(name) });
    } catch (err) {
      if (err instanceof FlagError) throw new StatusError(1, err.message);
      throw err;
    }
    if (f.help) {
      cli.out(`Usage:  berth compose ${name} ${sub.use ?? '[OPTIONS]'}\n\n${sub.short}\n\nOptions:\n${flagUsages(sub.flags)}`);
      return 0;
    }
    let project: Project | undefined;
    let cp: ComposeProject | undefined;
    const ctx: Ctx = {
      cli,
      globals,
      load: () =>
        (project ??= loadProject({
          files: globals.list('file'),
          projectName: globals.string('project-name') || undefined,
          projectDirectory: globals.string('project-directory') || undefined,
          envFiles: globals.list('env-file'),
          profiles: globals.list('profile').length ? globals.list('profile') : undefined,
          env: cli.env,
        })),
      project: () => (cp ??= new ComposeProject(cli.engine(), ctx.load(), progressPrinter(cli, globals.string('progress') === 'quiet'))),
    };
    try {
      return await sub.run(ctx, f);
    } catch (err) {
      if (err instanceof ComposeError) throw new StatusError(err.exitCode, err.message);
      throw err;
    }
  },
};
