import http from 'node:http';
import type { Router, Ctx } from '../server';
import { boolParam, filtersParam, intParam, readJsonObject, sendJson } from '../server';
import { afterUpgradeBody, contentType, detachKeys, pipeInput, upgradedWriter, settleTime } from '../hijack';
import { resizeTerminal } from '../../daemon/stdio';
import { invalidArgument, notFound, conflict } from '../../core/errors';
import type { Daemon } from '../../daemon/daemon';
import type { ContainerRecord } from '../../daemon/containers';
import { frame } from '../stream';
import { validateBody, CONTAINER_CREATE } from '../validate';
import { linearRegExp } from '../../util/regex';
import type { LogEntry } from '../../logs/k8sfile';
import { containerStatus } from '../../util/units';
import { matchLabel } from '../../image/service';
import { directorySize } from '../../util/dirsize';
import { serveLogs } from './logs';

const unix = (iso: string): number => Math.floor(new Date(iso).getTime() / 1000);


function imageName(d: Daemon, c: ContainerRecord): string {
  const img = d.store.getImage(c.Image);
  if (!img) return c.Image;
  const cfgName = String(c.Config.Image ?? '');
  // Docker shows the name the container was created with while it still points at the image.
  try {
    const again = d.store.tryResolve(cfgName);
    if (again && again.id === c.Image) return cfgName;
  } catch {
    /* fall through */
  }
  const tags = d.store.familiarTags(c.Image);
  return tags[0] ?? c.Image;
}

export function summary(d: Daemon, c: ContainerRecord, size: boolean): Record<string, unknown> {
  const cmd = [c.Path, ...c.Args].map((a) => (/\s/.test(a) ? JSON.stringify(a).replace(/^"|"$/g, '"') : a)).join(' ');
  const s: Record<string, unknown> = {
    Id: c.Id,
    Names: [c.Name],
    Image: imageName(d, c),
    ImageID: c.Image,
    Command: cmd,
    Created: unix(c.Created),
    Ports: d.network.summaryPorts(c),
    Labels: c.Config.Labels ?? {},
    State: c.State.Status,
    Status: containerStatus({
      status: c.State.Status,
      running: c.State.Running,
      paused: c.State.Paused,
      restarting: c.State.Restarting,
      exitCode: c.State.ExitCode,
      startedAt: c.State.StartedAt,
      finishedAt: c.State.FinishedAt,
      health: c.State.Health?.Status,
    }),
    HostConfig: { NetworkMode: c.HostConfig.NetworkMode },
    NetworkSettings: { Networks: d.network.settings(c).Networks },
    Mounts: d.containers.mountPoints(c),
  };
  if (size) {
    const rw = directorySize(d.containers.paths(c.Id).upper);
    s.SizeRw = rw;
    s.SizeRootFs = rw + (d.store.getImage(c.Image)?.size ?? 0);
  }
  return s;
}

function inspect(d: Daemon, c: ContainerRecord, size: boolean): Record<string, unknown> {
  const p = d.containers.paths(c.Id);
  const lowers = c.berth.chain.map((ch) => d.store.layerDiffDir(ch)).reverse();
  const out: Record<string, unknown> = {
    Id: c.Id,
    Created: c.Created,
    Path: c.Path,
    Args: c.Args,
    State: c.State,
    Image: c.Image,
    ResolvConfPath: p.resolvConf,
    HostnamePath: p.hostname,
    HostsPath: p.hosts,
    LogPath: p.log,
    Name: c.Name,
    RestartCount: c.RestartCount,
    Driver: 'overlay2',
    Platform: 'linux',
    MountLabel: '',
    ProcessLabel: '',
    AppArmorProfile: '',
    ExecIDs: d.exec.idsOf(c.Id),
    HostConfig: c.HostConfig,
    GraphDriver: { Name: 'overlay2', Data: { LowerDir: lowers.join(':'), UpperDir: p.upper, MergedDir: p.rootfs, WorkDir: p.work } },
    Mounts: d.containers.mountPoints(c),
    Config: c.Config,
    NetworkSettings: d.network.settings(c),
  };
  if (size) {
    const rw = directorySize(p.upper);
    out.SizeRw = rw;
    out.SizeRootFs = rw + (d.store.getImage(c.Image)?.size ?? 0);
  }
  return out;
}

/** Docker's `ps` filters. */
function matches(d: Daemon, c: ContainerRecord, f: Record<string, string[]>, all: ContainerRecord[]): boolean {
  for (const [key, values] of Object.entries(f)) {
    if (!values.length) continue;
    switch (key) {
      case 'id':
        if (!values.some((v) => c.Id.startsWith(v))) return false;
        break;
      case 'name':
        if (!values.some((v) => safeRegex(v).test(c.Name.slice(1)) || safeRegex(v).test(c.Name))) return false;
        break;
      case 'label':
        if (!values.every((v) => matchLabel(c.Config.Labels ?? {}, v))) return false;
        break;
      case 'status': {
        for (const v of values) {
          if (!['created', 'restarting', 'running', 'removing', 'paused', 'exited', 'dead'].includes(v)) {
            throw invalidArgument(`invalid filter 'status=${v}'`);
          }
        }
        if (!values.includes(c.State.Status)) return false;
        break;
      }
      case 'exited':
        if (c.State.Status !== 'exited' || !values.includes(String(c.State.ExitCode))) return false;
        break;
      case 'ancestor': {
        const ok = values.some((v) => {
          const img = d.store.tryResolve(v);
          return (img && img.id === c.Image) || c.Config.Image === v;
        });
        if (!ok) return false;
        break;
      }
      case 'before':
      case 'since': {
        const ref = values[0];
        const other = all.find((o) => o.Id === ref || o.Name === `/${ref}` || o.Name === ref || o.Id.startsWith(ref));
        if (!other) throw notFound(`No such container: ${ref}`);
        const t = new Date(c.Created).getTime();
        const o = new Date(other.Created).getTime();
        if (key === 'before' ? !(t < o) : !(t > o)) return false;
        break;
      }
      case 'volume': {
        // A volume name or a mount destination.
        const mounts = c.berth.mounts ?? [];
        if (!values.some((v) => mounts.some((m) => (m.Name || m.Source) === v || m.Destination === v))) return false;
        break;
      }
      case 'network': {
        const nets = d.network.settings(c).Networks as Record<string, { NetworkID: string }>;
        if (!values.some((v) => Object.entries(nets).some(([name, e]) => name === v || (v.length >= 12 && e.NetworkID.startsWith(v))))) return false;
        break;
      }
      case 'publish':
      case 'expose': {
        const ports = d.network.summaryPorts(c).filter((p) => key === 'expose' || p.PublicPort !== undefined);
        const want = (v: string): boolean => {
          const [p, proto] = v.split('/');
          return ports.some((x) => String(key === 'publish' ? x.PublicPort : x.PrivatePort) === p && (!proto || x.Type === proto));
        };
        if (!values.some(want)) return false;
        break;
      }
      case 'health':
        for (const v of values) if (!['starting', 'healthy', 'unhealthy', 'none'].includes(v)) throw invalidArgument(`Unrecognised filter value for health: ${v}`);
        if (!values.includes(c.State.Health?.Status ?? 'none')) return false;
        break;
      case 'isolation':
      case 'is-task':
        break;
      default:
        throw invalidArgument(`invalid filter '${key}'`);
    }
  }
  return true;
}

function safeRegex(s: string): RegExp {
  try {
    return linearRegExp(s);
  } catch {
    return new RegExp(s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  }
}

/** Writes log entries in Docker's format: framed unless the container has a TTY. */
function entryWriter(tty: boolean, timestamps: boolean, write: (b: Buffer) => void, streams: { stdout: boolean; stderr: boolean }) {
  return (e: LogEntry): void => {
    if (e.stream === 'stdout' && !streams.stdout) return;
    if (e.stream === 'stderr' && !streams.stderr) return;
    const payload = timestamps ? Buffer.concat([Buffer.from(e.time + ' '), e.data]) : e.data;
    write(tty ? payload : frame(e.stream === 'stdout' ? 1 : 2, payload));
  };
}

export function containerRoutes(r: Router, d: Daemon): void {
  const M = d.containers;

  r.add('GET', /^\/containers\/json$/, (ctx) => {
    const q = ctx.query;
    const all = boolParam(q, 'all');
    const limit = intParam(q, 'limit') ?? -1;
    const f = filtersParam(q);
    const every = M.all().sort((a, b) => (a.Created < b.Created ? 1 : a.Created > b.Created ? -1 : 0));
    let list = every.filter((c) => matches(d, c, f, every));
    if (!all && limit <= 0 && !f.status && !f.exited) list = list.filter((c) => c.State.Running || c.State.Status === 'paused' || c.State.Restarting);
    if (limit > 0) list = list.slice(0, limit);
    sendJson(ctx, 200, list.map((c) => summary(d, c, boolParam(q, 'size'))));
  });

  r.add('POST', /^\/containers\/create$/, async (ctx) => {
    const body = await readJsonObject(ctx);
    validateBody(body, CONTAINER_CREATE);
    if (typeof body.Image !== 'string' || !body.Image) throw invalidArgument('Config cannot be empty in order to create a container');
    const image = d.store.resolve(body.Image);
    const name = ctx.query.get('name') ?? undefined;
    const out = M.create(name, body, image);
    sendJson(ctx, 201, out);
  });

  r.add('GET', /^\/containers\/([^/]+)\/json$/, (ctx) => {
    sendJson(ctx, 200, inspect(d, M.resolve(ctx.params[0]), boolParam(ctx.query, 'size')));
  });

  r.add('POST', /^\/containers\/([^/]+)\/start$/, async (ctx) => {
    await M.start(ctx.params[0]);
    sendJson(ctx, 204);
  });

  r.add('POST', /^\/containers\/([^/]+)\/stop$/, async (ctx) => {
    await M.stop(ctx.params[0], { timeout: intParam(ctx.query, 't'), signal: ctx.query.get('signal') ?? undefined });
    sendJson(ctx, 204);
  });

  r.add('POST', /^\/containers\/([^/]+)\/restart$/, async (ctx) => {
    await M.restart(ctx.params[0], intParam(ctx.query, 't'));
    sendJson(ctx, 204);
  });

  r.add('POST', /^\/containers\/([^/]+)\/kill$/, async (ctx) => {
    await M.kill(ctx.params[0], ctx.query.get('signal') || 'SIGKILL');
    sendJson(ctx, 204);
  });

  for (const action of ['pause', 'unpause'] as const) {
    r.add('POST', new RegExp(`^/containers/([^/]+)/${action}$`), async (ctx) => {
      await M[action](ctx.params[0]);
      sendJson(ctx, 204);
    });
  }

  r.add('POST', /^\/containers\/([^/]+)\/rename$/, (ctx) => {
    M.rename(ctx.params[0], ctx.query.get('name') ?? '');
    sendJson(ctx, 204);
  });

  r.add('POST', /^\/containers\/([^/]+)\/wait$/, async (ctx) => {
    const condition = ctx.query.get('condition') || 'not-running';
    const p = M.wait(ctx.params[0], condition);
    // Headers go out at once: clients (the docker CLI) wait for them before they start the container.
    const res = ctx.res!;
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.flushHeaders();
    const result = await p;
    res.end(JSON.stringify(result) + '\n');
  });

  r.add('POST', /^\/containers\/([^/]+)\/update$/, async (ctx) => {
    sendJson(ctx, 200, await M.updateContainer(ctx.params[0], await readJsonObject(ctx)));
  });

  r.add('DELETE', /^\/containers\/([^/]+)$/, async (ctx) => {
    await M.remove(ctx.params[0], { force: boolParam(ctx.query, 'force'), volumes: boolParam(ctx.query, 'v') });
    sendJson(ctx, 204);
  });

  r.add('GET', /^\/containers\/([^/]+)\/logs$/, (ctx) => serveLogs(ctx, d));

  const attach = async (ctx: Ctx): Promise<void> => {
    const c = M.resolve(ctx.params[0]);
    const q = ctx.query;
    const streams = { stdout: boolParam(q, 'stdout'), stderr: boolParam(q, 'stderr') };
    const stream = boolParam(q, 'stream');
    const logs = boolParam(q, 'logs');
    const tty = !!c.Config.Tty;
    if (c.State.Status === 'removing') throw conflict(`container ${c.Id} is being removed`);
    let write: (b: Buffer) => void;
    let end: () => void;
    const keys = detachKeys(q.get('detachKeys'));
    let unsubscribe = (): void => undefined;
    if (ctx.upgrade) {
      const sock = ctx.upgrade.socket;
      const head = await afterUpgradeBody(sock, ctx.upgrade.head, Number(ctx.req.headers['content-length'] ?? 0));
      ({ write, end } = upgradedWriter(sock, tty, settleTime(ctx.req)));
      sock.on('error', () => undefined);
      if (boolParam(q, 'stdin') && c.Config.OpenStdin) {
        pipeInput(sock, head, tty, keys, {
          write: (b) => M.stdin.write(c.Id, b),
          // docker closes the container's stdin at the client's EOF only for StdinOnce without a TTY.
          end: () => c.Config.StdinOnce && !tty && M.stdin.end(c.Id),
          detach: () => {
            unsubscribe();
            sock.end();
          },
        });
      } else {
        sock.on('data', () => undefined);
        sock.resume(); // afterUpgradeBody may have paused it
      }
    } else {
      const res = ctx.res as http.ServerResponse;
      res.writeHead(200, { 'Content-Type': contentType(tty) });
      res.flushHeaders();
      write = (b) => res.write(b);
      end = () => res.end();
    }
    const w = entryWriter(tty, false, write, streams);
    const replayed = logs ? M.readLogs(c.Id, {}).entries : [];
    for (const e of replayed) w(e);
    M.emit('event', { Type: 'container', Action: 'attach', id: c.Id, c }); // as dockerd, after the log replay
    if (!stream) return end();
    // The daemon's log follower may lag behind the file just replayed: skip what was sent already.
    let last = replayed.at(-1);
    unsubscribe = M.attach(c.Id, (e) => {
      if (e === null) {
        unsubscribe();
        end();
      } else if (!last || e.ms > last.ms || (e.ms === last.ms && e.nanos > last.nanos)) {
        last = undefined;
        w(e);
      }
    });
    const sock = ctx.upgrade?.socket ?? ctx.req.socket;
    sock.on('close', unsubscribe);
  };
  r.add('POST', /^\/containers\/([^/]+)\/attach$/, attach);

  r.add('POST', /^\/containers\/([^/]+)\/resize$/, (ctx) => {
    const c = M.resolve(ctx.params[0]);
    const h = intParam(ctx.query, 'h') ?? 0;
    const w = intParam(ctx.query, 'w') ?? 0;
    if (!c.State.Running) throw conflict(`Container ${c.Id} is not running`);
    if (c.Config.Tty) {
      try {
        resizeTerminal(M.paths(c.Id).bundle, h, w);
      } catch {
        /* the container is exiting: nothing left to resize */
      }
    }
    sendJson(ctx, 200);
  });
}
