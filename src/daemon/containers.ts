/**
 * Containers: records, lifecycle and state, on top of the image store and the OCI runtime.
 *
 * State machine (Docker's): created → running → exited (→ running again on start) → removed.
 * Every change of state is written to the metadata DB before it is reported. A running
 * container is held by its conmon, not by berthd: after a restart of berthd, reconcile() finds
 * each one again (still running, or exited while berthd was away, with conmon's exit code).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EventEmitter } from 'node:events';
import type { DB } from './db';
import { BerthError, conflict, invalidArgument, notFound } from '../core/errors';
import { randomHex, writeFileAtomic } from '../util/digest';
import type { ImageStore } from '../image/store';
import type { ImageRecord } from '../image/types';
import { OciRuntime, StartError } from '../runtime/oci';
import { buildSpec, mergeEnv, DEFAULT_PATH_ENV } from '../runtime/spec/spec';
import { resolveUser } from '../runtime/user';
import { mountOverlay, unmount, isMounted } from '../snapshot/overlay';
import { LogFollower, readLog, type LogEntry } from '../logs/k8sfile';
import { validateLogConfig } from '../logs/config';
import { conmonLogCap, startRotation, type LogRotator } from '../logs/rotate';
import { randomName, VALID_NAME } from './names';
import { signalNumber } from './signals';
import type { VolumeService } from '../volume/local';
import { apiMountPoint, ociMount, ociTmpfsMounts, planMounts, rootfsPropagation, type MountPoint, type OciMount } from '../volume/mounts';
import { checkPropagationSource } from '../volume/mountinfo';
import { copyDirContents, resolveInRoot } from '../volume/copy';
import type { ContainerNetworking } from '../network/manager';
import { StdinHub } from './stdio';
import { RestartTracker, restartPolicyOf } from './restart';
import { mergeHealthcheck, type HealthState } from './health';
import { applyUpdate, specExtras } from './hostconfig';
import { runtimeHooks, type RuntimeHooks } from './runtime-hooks';

export interface ContainerState {
  Status: 'created' | 'running' | 'paused' | 'restarting' | 'removing' | 'exited' | 'dead';
  Running: boolean;
  Paused: boolean;
  Restarting: boolean;
  OOMKilled: boolean;
  Dead: boolean;
  Pid: number;
  ExitCode: number;
  Error: string;
  StartedAt: string;
  FinishedAt: string;
  Health?: HealthState;
}

export interface ContainerRecord {
  Id: string;
  Created: string;
  Path: string;
  Args: string[];
  State: ContainerState;
  Image: string;
  Name: string; // with leading '/'
  RestartCount: number;
  Config: Record<string, any>;
  HostConfig: Record<string, any>;
  /** berth's own bookkeeping (not in Docker's inspect). */
  berth: { chain: string[]; conmonPid: number; runtime: string; mounts?: MountPoint[]; manuallyStopped?: boolean };
}

const ZERO_TIME = '0001-01-01T00:00:00Z';

export interface ContainerPaths {
  dir: string;
  bundle: string;
  rootfs: string;
  upper: string;
  work: string;
  log: string;
  hosts: string;
  hostname: string;
  resolvConf: string;
}

export interface ManagerOptions {
  root: string; // <data-root>/containers
  cgroupParent: string;
  runtimes: Record<string, OciRuntime>;
  defaultRuntime: string;
  dns?: string[];
  volumes: VolumeService;
  /** Networks, endpoints, ports (network/manager.ts); without it containers get an empty namespace. */
  network?: ContainerNetworking;
  /** --init-path / --init of the daemon, cgroup probing, OOM detection (runtime-hooks.ts). */
  hooks?: Partial<RuntimeHooks>;
}

type Waiter = { condition: 'next-exit' | 'not-running' | 'removed'; resolve: (r: { StatusCode: number; Error: { Message: string } | null }) => void };

interface Live {
  follower?: LogFollower;
  rotator?: LogRotator;
  attachers: Set<(e: LogEntry | null) => void>;
  waiters: Waiter[];
}

export class ContainerManager extends EventEmitter {
  private readonly live = new Map<string, Live>();
  private readonly locks = new Map<string, Promise<unknown>>();
  private exitWatchers: fs.FSWatcher[] = [];
  /** Containers' stdin connections to conmon (daemon/stdio.ts). */
  readonly stdin = new StdinHub();
  private poll?: NodeJS.Timeout;
  /** Restart policies' back-off and cancellation (restart.ts). */
  readonly restarts = new RestartTracker();
  private readonly hooks: RuntimeHooks;

  constructor(
    private readonly db: DB,
    private readonly images: ImageStore,
    private readonly opts: ManagerOptions,
  ) {
    super();
    fs.mkdirSync(opts.root, { recursive: true });
    this.hooks = runtimeHooks(opts.hooks);
  }

  // ---- records ----

  private save(c: ContainerRecord): void {
    this.db
      .prepare('INSERT INTO containers(id, name, image_id, data) VALUES (?,?,?,?) ON CONFLICT(id) DO UPDATE SET name = excluded.name, data = excluded.data')
      .run(c.Id, c.Name, c.Image, JSON.stringify(c));
  }

  get(id: string): ContainerRecord | undefined {
    const row = this.db.prepare('SELECT data FROM containers WHERE id = ?').get(id) as { data: string } | undefined;
    return row && (JSON.parse(row.data) as ContainerRecord);
  }

  all(): ContainerRecord[] {
    return (this.db.prepare('SELECT data FROM containers').all() as { data: string }[]).map((r) => JSON.parse(r.data) as ContainerRecord);
  }

  /** By full id, name (with or without '/'), or unique id prefix, as Docker resolves them. */
  resolve(ref: string): ContainerRecord {
    if (!ref) throw notFound('No such container: ');
    const byId = this.get(ref);
    if (byId) return byId;
    const name = ref.startsWith('/') ? ref : `/${ref}`;
    const row = this.db.prepare('SELECT data FROM containers WHERE name = ?').get(name) as { data: string } | undefined;
    if (row) return JSON.parse(row.data) as ContainerRecord;
    if (/^[a-f0-9]+$/.test(ref)) {
      const rows = this.db.prepare("SELECT data FROM containers WHERE id >= ? AND id < ? || 'g' LIMIT 2").all(ref, ref) as { data: string }[];
      if (rows.length === 1) return JSON.parse(rows[0].data) as ContainerRecord;
      if (rows.length > 1) throw invalidArgument(`multiple IDs found with provided prefix: ${ref}`);
    }
    throw notFound(`No such container: ${ref}`);
  }

  paths(id: string): ContainerPaths {
    const dir = path.join(this.opts.root, id);
    return {
      dir,
      bundle: dir,
      rootfs: path.join(dir, 'merged'),
      upper: path.join(dir, 'upper'),
      work: path.join(dir, 'work'),
      log: path.join(dir, 'container.log'),
      hosts: path.join(dir, 'hosts'),
      hostname: path.join(dir, 'hostname'),
      resolvConf: path.join(dir, 'resolv.conf'),
    };
  }

  /** Serialises lifecycle operations on one container. */
  private withLock<T>(id: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.locks.get(id) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    const tail = next.catch(() => undefined);
    this.locks.set(id, tail);
    void tail.then(() => {
      if (this.locks.get(id) === tail) this.locks.delete(id);
    });
    return next;
  }

  /** Runs `fn` while no lifecycle operation runs on the container (cp, export and commit use its rootfs). */
  exclusive<T>(id: string, fn: () => Promise<T>): Promise<T> {
    return this.withLock(id, fn);
  }

  private liveOf(id: string): Live {
    let l = this.live.get(id);
    if (!l) {
      l = { attachers: new Set(), waiters: [] };
      this.live.set(id, l);
    }
    return l;
  }

  // ---- create ----

  create(name: string | undefined, body: Record<string, any>, image: ImageRecord): { Id: string; Warnings: string[] } {
    if (name !== undefined && name !== '' && !VALID_NAME.test(name)) {
      throw invalidArgument(`Invalid container name (${name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
    }
    const hc = (body.HostConfig ?? {}) as Record<string, any>;
    const ic = image.config.config ?? {};
    const userEntrypoint = body.Entrypoint === undefined || body.Entrypoint === null ? undefined : asList(body.Entrypoint, 'Entrypoint');
    const userCmd = body.Cmd === undefined || body.Cmd === null ? undefined : asList(body.Cmd, 'Cmd');
    const entrypoint = userEntrypoint ?? ic.Entrypoint ?? null;
    // An explicit entrypoint resets the image's CMD, as in Docker.
    const cmd = userCmd ?? (userEntrypoint !== undefined ? null : (ic.Cmd ?? null));
    const argv = [...(entrypoint ?? []), ...(cmd ?? [])];
    if (argv.length === 0) throw invalidArgument('No command specified');
    if (body.Env !== undefined && body.Env !== null && !Array.isArray(body.Env)) throw invalidArgument('Env must be a list of strings');
    const netMode = (hc.NetworkMode as string | undefined) || 'default';
    if (!this.opts.network && !['default', 'bridge', 'none', 'host'].includes(netMode)) {
      throw notFound(`network ${netMode} not found`);
    }
    const runtime = (hc.Runtime as string | undefined) || this.opts.defaultRuntime;
    if (!this.opts.runtimes[runtime]) throw invalidArgument(`unknown or invalid runtime name: ${runtime}`);

    const id = randomHex(32);
    let cname = name ? (name.startsWith('/') ? name : `/${name}`) : '';
    if (cname) {
      const other = this.db.prepare('SELECT id FROM containers WHERE name = ?').get(cname) as { id: string } | undefined;
      if (other) {
        throw conflict(
          `Conflict. The container name "${cname}" is already in use by container "${other.id}". You have to remove (or rename) that container to be able to reuse that name.`,
        );
      }
    } else {
      for (let i = 0; ; i++) {
        cname = `/${randomName(i)}`;
        if (!this.db.prepare('SELECT 1 FROM containers WHERE name = ?').get(cname)) break;
      }
    }
    const labels = { ...(ic.Labels ?? {}), ...((body.Labels as Record<string, string>) ?? {}) };
    const healthcheck = mergeHealthcheck(body.Healthcheck, ic.Healthcheck);
    const restartPolicy = restartPolicyOf(hc);
    const config: Record<string, any> = {
      Hostname: body.Hostname || id.slice(0, 12),
      Domainname: body.Domainname ?? '',
      User: body.User ?? ic.User ?? '',
      AttachStdin: !!body.AttachStdin,
      AttachStdout: !!body.AttachStdout,
      AttachStderr: !!body.AttachStderr,
      Tty: !!body.Tty,
      OpenStdin: !!body.OpenStdin,
      StdinOnce: !!body.StdinOnce,
      Env: mergeEnv(ic.Env ?? [], (body.Env as string[]) ?? []).filter((e) => e !== DEFAULT_PATH_ENV || (ic.Env ?? []).includes(e) || (body.Env ?? []).includes(e)),
      Cmd: cmd,
      ...(healthcheck ? { Healthcheck: healthcheck } : {}),
      Image: body.Image,
      Volumes: mergeVolumes(ic.Volumes, body.Volumes),
      WorkingDir: body.WorkingDir || ic.WorkingDir || '',
      Entrypoint: entrypoint,
      OnBuild: null,
      Labels: labels,
    };
    if (body.StopSignal || ic.StopSignal) config.StopSignal = body.StopSignal || ic.StopSignal;
    if (body.StopTimeout !== undefined && body.StopTimeout !== null) {
      if (typeof body.StopTimeout !== 'number') throw invalidArgument('StopTimeout must be an integer');
      config.StopTimeout = body.StopTimeout;
    }
    if (config.StopSignal) signalNumber(config.StopSignal as string); // validates
    const hostConfig: Record<string, any> = {
      Binds: hc.Binds ?? null,
      VolumeDriver: hc.VolumeDriver ?? '',
      VolumesFrom: hc.VolumesFrom ?? null,
      NetworkMode: netMode,
      PortBindings: hc.PortBindings ?? {},
      RestartPolicy: restartPolicy,
      AutoRemove: !!hc.AutoRemove,
      Runtime: runtime,
      Dns: hc.Dns ?? [],
      DnsOptions: hc.DnsOptions ?? [],
      DnsSearch: hc.DnsSearch ?? [],
      ExtraHosts: hc.ExtraHosts ?? null,
      CapAdd: hc.CapAdd ?? null,
      CapDrop: hc.CapDrop ?? null,
      Privileged: !!hc.Privileged,
      ReadonlyRootfs: !!hc.ReadonlyRootfs,
      SecurityOpt: hc.SecurityOpt ?? null,
      GroupAdd: hc.GroupAdd ?? null,
      ShmSize: hc.ShmSize || 64 * 1024 * 1024,
      LogConfig: validateLogConfig(hc.LogConfig),
      CgroupParent: hc.CgroupParent ?? '',
      // [height, width] of the TTY from the start (the docker CLI sends its terminal's on run -it).
      ConsoleSize: Array.isArray(hc.ConsoleSize) && hc.ConsoleSize.length === 2 && hc.ConsoleSize.every((n: unknown) => Number.isInteger(n) && (n as number) >= 0) ? [hc.ConsoleSize[0], hc.ConsoleSize[1]] : [0, 0],
    };
    if (Array.isArray(hc.Mounts) && hc.Mounts.length) hostConfig.Mounts = hc.Mounts;
    if (hc.Tmpfs && typeof hc.Tmpfs === 'object' && Object.keys(hc.Tmpfs).length) hostConfig.Tmpfs = hc.Tmpfs;
    const warnings = this.hooks.checkCreate(hc, body, hostConfig);
    if (hostConfig.UTSMode === 'host') config.Hostname = os.hostname(); // the host's, as Docker shows it
    const c: ContainerRecord = {
      Id: id,
      Created: new Date().toISOString(),
      Path: argv[0],
      Args: argv.slice(1),
      State: {
        Status: 'created',
        Running: false,
        Paused: false,
        Restarting: false,
        OOMKilled: false,
        Dead: false,
        Pid: 0,
        ExitCode: 0,
        Error: '',
        StartedAt: ZERO_TIME,
        FinishedAt: ZERO_TIME,
      },
      Image: image.id,
      Name: cname,
      RestartCount: 0,
      Config: config,
      HostConfig: hostConfig,
      berth: { chain: image.chainIds, conmonPid: 0, runtime },
    };
    this.opts.network?.prepareCreate(id, body, ic, config, hostConfig);
    const p = this.paths(id);
    fs.mkdirSync(p.dir, { recursive: true });
    fs.mkdirSync(p.upper);
    fs.mkdirSync(p.work);
    fs.mkdirSync(p.rootfs);
    try {
      const mounts = this.createMounts(c, p);
      if (mounts.length) c.berth.mounts = mounts;
    } catch (e) {
      fs.rmSync(p.dir, { recursive: true, force: true });
      this.opts.network?.forget(id);
      throw e;
    }
    this.save(c);
    this.emit('event', { Type: 'container', Action: 'create', id, c });
    return { Id: id, Warnings: warnings };
  }

  // ---- mounts ----

  /**
   * The container's mount points, as Docker's create makes them: named volumes created when
   * missing, one anonymous volume per anonymous mount and Config.Volumes path, and volumes that
   * are still empty seeded from the image (unless nocopy). On failure the anonymous volumes made
   * here are removed again.
   */
  private createMounts(c: ContainerRecord, p: ContainerPaths): MountPoint[] {
    const V = this.opts.volumes;
    const plan = planMounts(c.HostConfig, Object.keys((c.Config.Volumes as Record<string, unknown> | null) ?? {}), {
      volumesFrom: (ref) => this.resolve(ref).berth.mounts ?? [],
      exists: (f) => fs.existsSync(f),
    });
    const made: string[] = [];
    try {
      for (const mp of plan.mounts) {
        if (mp.Type !== 'volume' || mp.Source) continue; // volumes-from: the volume exists
        const v = V.create({ name: mp.Name || undefined, driver: mp.Driver, options: mp.Create?.options, labels: mp.Create?.labels });
        if (!mp.Name) made.push(v.name);
        Object.assign(mp, { Name: v.name, Driver: v.driver, Source: V.dataPath(v.name) });
        delete mp.Create;
      }
      if (plan.anonymous.length === 0 && !plan.mounts.some((m) => m.Type === 'volume' && m.CopyData)) return plan.mounts;
      // The image's content is needed: to refuse a volume over a file, and to seed volumes.
      mountOverlay(this.images.layersDir, this.images.lowerDirs(c.berth.chain), p.upper, p.work, p.rootfs);
      try {
        for (const dest of plan.anonymous) {
          const host = resolveInRoot(p.rootfs, dest);
          if (fs.existsSync(host) && !fs.statSync(host).isDirectory()) throw invalidArgument(`cannot mount volume over existing file, file exists ${host}`);
          const v = V.create({});
          made.push(v.name);
          plan.mounts.push({ Type: 'volume', Name: v.name, Source: V.dataPath(v.name), Destination: dest, Driver: v.driver, Mode: '', RW: true, Propagation: '', CopyData: true, Named: false });
        }
        for (const mp of plan.mounts) if (mp.Type === 'volume' && mp.CopyData) this.seedVolume(c.Id, mp, p.rootfs);
      } finally {
        unmount(p.rootfs);
      }
      return plan.mounts;
    } catch (e) {
      for (const n of made) {
        try {
          V.remove(n);
        } catch {
          /* best effort */
        }
      }
      throw e;
    }
  }

  /** Copies the image's content at the mount's destination into its volume, if that is empty. */
  private seedVolume(id: string, mp: MountPoint, rootfs: string): void {
    const src = resolveInRoot(rootfs, mp.Destination);
    let st: fs.Stats;
    try {
      st = fs.statSync(src);
    } catch {
      return;
    }
    if (!st.isDirectory()) return;
    const ref = `seed-${id}`;
    const data = this.opts.volumes.mount(mp.Name, ref);
    try {
      if (fs.readdirSync(data).length === 0) copyDirContents(src, data);
    } finally {
      this.opts.volumes.unmount(mp.Name, ref);
    }
  }

  /** The OCI mounts of a start: volumes mounted for this run, bind sources made or checked. */
  private setupMounts(c: ContainerRecord): { mounts: OciMount[]; rootfsPropagation?: string } {
    const out: OciMount[] = [];
    const points = c.berth.mounts ?? [];
    for (const mp of points) {
      let m = mp;
      if (mp.Type === 'volume') {
        m = { ...mp, Source: this.opts.volumes.mount(mp.Name, c.Id) };
        this.hooks.ownVolume(c.HostConfig, m.Source);
        const attrs = { container: c.Id, destination: mp.Destination, driver: mp.Driver, propagation: mp.Propagation, 'read/write': String(mp.RW) };
        this.emit('event', { Type: 'volume', Action: 'mount', id: mp.Name, attrs });
      } else if (mp.Type === 'bind') {
        if (mp.CreateSource && !fs.existsSync(mp.Source)) fs.mkdirSync(mp.Source, { recursive: true, mode: 0o755 });
        try {
          checkPropagationSource(mp.Source, mp.Propagation);
        } catch (e) {
          throw invalidArgument((e as Error).message);
        }
      }
      out.push(ociMount(m));
    }
    out.push(...ociTmpfsMounts(c.HostConfig.Tmpfs as Record<string, string> | undefined));
    return { mounts: out, rootfsPropagation: rootfsPropagation(points) };
  }

  /** Ends the container's use of its volumes (unmounting those nothing else holds). */
  private releaseMounts(id: string, events: boolean): void {
    const c = this.get(id);
    for (const mp of c?.berth.mounts ?? []) {
      if (mp.Type !== 'volume') continue;
      this.opts.volumes.unmount(mp.Name, id);
      if (events) this.emit('event', { Type: 'volume', Action: 'unmount', id: mp.Name, attrs: { container: id, driver: mp.Driver } });
    }
  }

  /** The API's `Mounts` of a container (inspect and ps). */
  mountPoints(c: ContainerRecord): Record<string, unknown>[] {
    return (c.berth.mounts ?? []).map(apiMountPoint);
  }

  /** Containers whose mounts name the volume, oldest first. */
  volumeRefs(name: string): string[] {
    const rows = this.db
      .prepare(
        "SELECT c.id FROM containers c, json_each(c.data, '$.berth.mounts') m WHERE json_extract(m.value, '$.Type') = 'volume' AND json_extract(m.value, '$.Name') = ? GROUP BY c.id ORDER BY json_extract(c.data, '$.Created')",
      )
      .all(name) as { id: string }[];
    return rows.map((r) => r.id);
  }

  /** Every volume some container names. */
  referencedVolumes(): Set<string> {
    const rows = this.db
      .prepare("SELECT DISTINCT json_extract(m.value, '$.Name') AS name FROM containers c, json_each(c.data, '$.berth.mounts') m WHERE json_extract(m.value, '$.Type') = 'volume'")
      .all() as { name: string }[];
    return new Set(rows.map((r) => r.name));
  }

  // ---- start ----

  start(ref: string): Promise<void> {
    const c0 = this.resolve(ref);
    return this.withLock(c0.Id, async () => {
      const c = this.get(c0.Id);
      if (!c) throw notFound(`No such container: ${ref}`);
      if (c.State.Paused) throw conflict('cannot start a paused container, try unpause instead');
      if (c.State.Running) throw notModified();
      if (c.State.Status === 'removing') throw conflict(`container ${c.Id} is marked for removal and cannot be started`);
      this.resetRestartPolicy(c);
      await this.startLocked(c);
    });
  }

  private async startLocked(c: ContainerRecord): Promise<void> {
    const p = this.paths(c.Id);
    const rt = this.opts.runtimes[c.berth.runtime] ?? this.opts.runtimes[this.opts.defaultRuntime];
    try {
      if (!isMounted(p.rootfs)) await this.hooks.mountRootfs(c.HostConfig, this.images.layersDir, this.images.lowerDirs(c.berth.chain), p);
      const user = resolveUser(p.rootfs, c.Config.User as string, (c.HostConfig.GroupAdd as string[]) ?? []);
      const cwd = (c.Config.WorkingDir as string) || '/';
      ensureDir(p.rootfs, cwd, ...this.hooks.hostIds(c.HostConfig, user.uid, user.gid));
      const net = this.opts.network ? await this.opts.network.setup(c) : undefined;
      this.writeEtcFiles(c, p, net);
      const userMounts = this.setupMounts(c);
      const extra = [DEFAULT_PATH_ENV, `HOSTNAME=${c.Config.Hostname}`];
      if (c.Config.Tty) extra.push('TERM=xterm');
      const env = mergeEnv(net?.env, c.Config.Env as string[], extra);
      if (!env.some((e) => e.startsWith('HOME='))) env.push(`HOME=${user.home || '/'}`);
      const spec = buildSpec({
        id: c.Id,
        rootfs: p.rootfs,
        args: [c.Path, ...c.Args],
        env,
        cwd,
        uid: user.uid,
        gid: user.gid,
        additionalGids: user.additionalGids,
        hostname: c.Config.Hostname as string,
        tty: !!c.Config.Tty,
        consoleSize: c.HostConfig.ConsoleSize,
        openStdin: !!c.Config.OpenStdin,
        capAdd: c.HostConfig.CapAdd ?? [],
        capDrop: c.HostConfig.CapDrop ?? [],
        privileged: !!c.HostConfig.Privileged,
        readonlyRootfs: !!c.HostConfig.ReadonlyRootfs,
        securityOpt: c.HostConfig.SecurityOpt ?? [],
        etcFiles: { hosts: p.hosts, hostname: p.hostname, resolvConf: p.resolvConf },
        cgroupsPath: this.cgroupsPath(c),
        networkNamespace: net ? net.netns : c.HostConfig.NetworkMode === 'host' ? 'host' : 'new',
        shmSize: c.HostConfig.ShmSize as number,
        mounts: userMounts.mounts,
        rootfsPropagation: userMounts.rootfsPropagation,
        extras: specExtras(c.HostConfig, this.hooks.extrasContext(c, (ref) => this.resolve(ref), (id) => this.paths(id).dir)),
      });
      writeFileAtomic(path.join(p.bundle, 'config.json'), JSON.stringify(spec));
      await rt.delete(c.Id); // stale state of an earlier run
      const live = this.liveOf(c.Id);
      // Follow the log from its current end: attachers see what this run prints.
      let offset = 0;
      try {
        offset = fs.statSync(p.log).size;
      } catch {
        /* first start */
      }
      // Rotation from the start: a log that a former run left over max-size goes first.
      live.rotator?.stop();
      live.rotator = startRotation(p.log, c.HostConfig.LogConfig, path.join(p.bundle, 'ctl'));
      live.follower?.stop();
      live.follower = new LogFollower(p.log, offset, (e) => {
        for (const a of live.attachers) a(e);
      });
      const stdin = !!c.Config.OpenStdin;
      live.follower.idle = () => live.attachers.size === 0;
      const { pid, conmonPid } = await rt.create(c.Id, p.bundle, p.log, { tty: !!c.Config.Tty, stdin, name: c.Name.slice(1), leaveStdinOpen: keepsStdinOpen(c), logSizeMax: conmonLogCap(c.HostConfig.LogConfig) });
      c.berth.conmonPid = conmonPid;
      if (stdin) this.openStdin(c.Id, rt);
      await rt.start(c.Id);
      c.State = { ...c.State, Status: 'running', Running: true, Restarting: false, Pid: pid, ExitCode: 0, Error: '', StartedAt: new Date().toISOString(), FinishedAt: ZERO_TIME, OOMKilled: false };
      this.save(c);
      this.emit('event', { Type: 'container', Action: 'start', id: c.Id, c });
      // The exit may already have happened (short-lived commands).
      this.checkExit(c.Id);
    } catch (e) {
      // As Docker: the error and an exit code are recorded, the run is cleaned up, and an
      // AutoRemove container is removed (the docker CLI's `run --rm` waits for that).
      const msg = e instanceof Error ? e.message : String(e);
      c.State = {
        ...c.State,
        Status: c.State.StartedAt === ZERO_TIME ? 'created' : 'exited',
        Running: false,
        Restarting: false,
        Pid: 0,
        Error: msg,
        ExitCode: e instanceof StartError ? e.exitCode : 128,
      };
      this.save(c);
      await this.cleanupRun(c.Id, rt);
      this.live.get(c.Id)?.follower?.stop();
      this.live.get(c.Id)?.rotator?.stop();
      this.finishAttachers(c.Id);
      this.resolveWaiters(c.Id, c.State.ExitCode, ['next-exit', 'not-running']);
      if (c.HostConfig.AutoRemove) await this.removeLocked(c, { volumes: true });
      if (e instanceof StartError) {
        throw new BerthError(e.kind, `failed to create task for container: failed to create shim task: OCI runtime create failed: ${msg}: unknown`);
      }
      throw e;
    }
  }

  private writeEtcFiles(c: ContainerRecord, p: ContainerPaths, net?: { hosts: string; resolvConf: string }): void {
    const hostname = c.Config.Hostname as string;
    fs.writeFileSync(p.hostname, `${hostname}\n`);
    if (net) {
      fs.writeFileSync(p.hosts, net.hosts);
      fs.writeFileSync(p.resolvConf, net.resolvConf);
      return;
    }
    let hosts = '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n';
    for (const h of (c.HostConfig.ExtraHosts as string[] | null) ?? []) {
      const i = h.indexOf(':');
      if (i > 0) hosts += `${h.slice(i + 1)}\t${h.slice(0, i)}\n`;
    }
    fs.writeFileSync(p.hosts, hosts);
    fs.writeFileSync(p.resolvConf, resolvConf(c.HostConfig.Dns ?? [], c.HostConfig.DnsSearch ?? [], c.HostConfig.DnsOptions ?? [], this.opts.dns));
  }

  // ---- exit handling ----

  /** Watches conmon's exit dirs; an exit file named after a container means it has exited. */
  watchExits(): void {
    for (const rt of new Set(Object.values(this.opts.runtimes))) {
      const w = fs.watch(rt.cfg.exitDir, (_ev, name) => {
        if (name) this.checkExit(String(name));
      });
      w.on('error', () => undefined);
      this.exitWatchers.push(w);
    }
    // Safety net for missed events.
    this.poll = setInterval(() => {
      for (const id of this.live.keys()) this.checkExit(id);
    }, 1000);
    this.poll.unref();
  }

  private checkExit(id: string): void {
    const c = this.get(id);
    if (!c || !c.State.Running) return;
    const rt = this.opts.runtimes[c.berth.runtime];
    if (!rt) return;
    const code = rt.readExit(id);
    if (code === undefined) return;
    void this.withLock(id, () => this.handleExit(id)).catch((e) => this.emit('error-log', e));
  }

  /**
   * Records the exit of the current run. The code is read from conmon's exit file at this point
   * (a queued call can run after a restart, when the file of the earlier run is gone);
   * `fallback` is for callers that know the process is dead without one.
   */
  private async handleExit(id: string, fallback?: number): Promise<void> {
    const c = this.get(id);
    if (!c || !c.State.Running) return;
    const rt = this.opts.runtimes[c.berth.runtime];
    const code = rt?.readExit(id) ?? fallback;
    if (code === undefined) return;
    const live = this.live.get(id);
    live?.follower?.flush();
    live?.follower?.stop();
    live?.rotator?.finish();
    if (live) live.follower = undefined;
    const oom = this.hooks.oomKilled(this.cgroupsPath(c), this.paths(id).bundle);
    // The restart policy decides between exited and restarting (which counts as running, as in Docker).
    const delay = this.restarts.onExit(c, code);
    const restarting = delay !== undefined;
    const execDuration = String(Math.floor((Date.now() - Date.parse(c.State.StartedAt)) / 1000));
    c.State = { ...c.State, Status: restarting ? 'restarting' : 'exited', Running: restarting, Paused: false, Restarting: restarting, Pid: 0, ExitCode: code, FinishedAt: new Date().toISOString(), OOMKilled: oom };
    if (restarting) c.RestartCount++;
    this.save(c);
    if (oom) this.emit('event', { Type: 'container', Action: 'oom', id, c });
    this.releaseMounts(id, true);
    await this.cleanupRun(id, rt);
    this.finishAttachers(id);
    this.emit('event', { Type: 'container', Action: 'die', id, c, attrs: { exitCode: String(code), execDuration } });
    this.resolveWaiters(id, code, ['next-exit', 'not-running']);
    if (restarting) {
      this.restarts.schedule(id, delay, () => this.policyRestart(id));
    } else if (c.HostConfig.AutoRemove) {
      await this.removeLocked(c, { volumes: true });
    }
  }

  /** Connects the container's stdin (daemon/stdio.ts); a failure loses stdin, not the container. */
  private openStdin(id: string, rt: OciRuntime): void {
    try {
      this.stdin.open(id, rt.cfg.socketDir);
    } catch (e) {
      this.emit('error-log', e);
    }
  }

  private async cleanupRun(id: string, rt: OciRuntime | undefined): Promise<void> {
    this.stdin.close(id);
    if (rt) {
      await rt.delete(id);
      fs.rmSync(rt.exitFile(id), { force: true });
      fs.rmSync(path.join(rt.cfg.socketDir, id), { force: true, recursive: true });
    }
    unmount(this.paths(id).rootfs);
    this.hooks.release(this.paths(id).dir);
    this.releaseMounts(id, false);
    await this.opts.network?.teardown(id).catch((e) => this.emit('error-log', e));
  }

  private finishAttachers(id: string): void {
    const live = this.live.get(id);
    if (!live) return;
    for (const a of live.attachers) a(null);
    live.attachers.clear();
  }

  private resolveWaiters(id: string, code: number, conditions: Waiter['condition'][]): void {
    const live = this.live.get(id);
    if (!live) return;
    const keep: Waiter[] = [];
    for (const w of live.waiters) {
      if (conditions.includes(w.condition)) w.resolve({ StatusCode: code, Error: null });
      else keep.push(w);
    }
    live.waiters = keep;
  }

  /** The container's cgroup path (relative to each hierarchy's root). */
  cgroupsPath(c: ContainerRecord): string {
    return `/${c.HostConfig.CgroupParent || this.opts.cgroupParent}/${c.Id}`;
  }

  /**
   * POST /containers/{id}/update: new resource limits (applied to a running container's cgroup
   * at once) and restart policy, recorded in HostConfig.
   */
  updateContainer(ref: string, body: Record<string, any>): Promise<{ Warnings: string[] }> {
    const c0 = this.resolve(ref);
    return this.withLock(c0.Id, async () => {
      const c = this.get(c0.Id);
      if (!c) throw notFound(`No such container: ${ref}`);
      const { hostConfig, warnings } = applyUpdate(c.HostConfig, body);
      if (c.State.Running) await this.hooks.applyResources(this.opts.runtimes[c.berth.runtime], c.Id, this.cgroupsPath(c), hostConfig);
      c.HostConfig = hostConfig;
      this.save(c);
      this.emit('event', { Type: 'container', Action: 'update', id: c.Id, c });
      return { Warnings: warnings };
    });
  }

  // ---- stop / kill / restart ----

  stop(ref: string, opts: { timeout?: number; signal?: string } = {}): Promise<void> {
    const c0 = this.resolve(ref);
    return this.withLock(c0.Id, () => this.stopLocked(c0.Id, opts));
  }

  private async stopLocked(id: string, opts: { timeout?: number; signal?: string }): Promise<void> {
    const c = this.get(id);
    if (!c) return;
    if (!c.State.Running) throw notModified();
    this.stoppedByUser(c, true);
    const rt = this.opts.runtimes[c.berth.runtime];
    const sig = opts.signal || (c.Config.StopSignal as string) || 'SIGTERM';
    const timeout = opts.timeout ?? (c.Config.StopTimeout as number | undefined) ?? 10;
    this.emit('event', { Type: 'container', Action: 'kill', id, c, attrs: { signal: String(signalNumber(sig)) } });
    if (c.State.Restarting) {
      this.endRestarting(c);
      this.emit('event', { Type: 'container', Action: 'stop', id, c });
      return;
    }
    const exited = this.waitExitFile(id, rt);
    await this.signal(c, sig);
    if (timeout < 0 || !(await withTimeout(exited.promise, timeout * 1000))) {
      await this.signal(c, 'SIGKILL');
      if (!(await withTimeout(exited.promise, 10_000))) {
        exited.cancel();
        throw new BerthError('internal', `cannot stop container ${id}: it did not exit after SIGKILL`);
      }
    }
    exited.cancel();
    await this.handleExit(id, 137);
    this.emit('event', { Type: 'container', Action: 'stop', id, c });
  }

  private async signal(c: ContainerRecord, sig: string): Promise<void> {
    const n = signalNumber(sig);
    await this.sendSignal(c, n);
    // A paused container is thawed for its stop signal or SIGKILL, so that it can act on it (Docker's kill).
    if (c.State.Paused && (n === 9 || n === this.stopSignal(c))) {
      await this.opts.runtimes[c.berth.runtime].resume(c.Id).catch((e) => this.emit('error-log', e));
      this.setPaused(c.Id, false);
    }
  }

  private async sendSignal(c: ContainerRecord, n: number): Promise<void> {
    if (c.State.Pid > 0) {
      try {
        process.kill(c.State.Pid, n);
        return;
      } catch (e) {
        if ((e as { code?: string }).code === 'ESRCH') return;
      }
    }
    await this.opts.runtimes[c.berth.runtime].kill(c.Id, String(n));
  }

  private stopSignal(c: ContainerRecord): number {
    return signalNumber((c.Config.StopSignal as string) || 'SIGTERM');
  }

  /**
   * A stop or kill from the user: with the stop signal or SIGKILL, the restart policy is off
   * until the next manual start; `unless-stopped` remembers it (not when berthd shuts down).
   */
  private stoppedByUser(c: ContainerRecord, cancelPolicy: boolean): void {
    if (cancelPolicy) this.restarts.cancel(c.Id);
    if (this.restarts.shuttingDown) return;
    c.berth.manuallyStopped = true;
    this.save(c);
  }

  /** A restarting container that is stopped before its restart: it stays exited. */
  private endRestarting(c: ContainerRecord): void {
    this.restarts.cancel(c.Id);
    c.State = { ...c.State, Status: 'exited', Running: false, Restarting: false };
    this.save(c);
    this.resolveWaiters(c.Id, c.State.ExitCode, ['next-exit', 'not-running']);
  }

  /** The run a restart policy asked for, once its back-off has passed. */
  private policyRestart(id: string): Promise<void> {
    return this.withLock(id, async () => {
      const c = this.get(id);
      if (c?.State.Restarting) await this.startLocked(c);
    }).catch((e: unknown) => {
      this.emit('error-log', e);
    });
  }

  /** A manual start: the policy is active again, with a fresh count and back-off (Docker's ResetRestartManager). */
  private resetRestartPolicy(c: ContainerRecord): void {
    this.restarts.reset(c.Id);
    c.berth.manuallyStopped = false;
    c.RestartCount = 0;
  }

  /**
   * Resolves true once conmon has written the exit file, or the exit has been handled already
   * (outside the lock, the exit watcher may record it and remove the file between two looks).
   */
  private waitExitFile(id: string, rt: OciRuntime): { promise: Promise<boolean>; cancel(): void } {
    let timer: NodeJS.Timeout | undefined;
    const promise = new Promise<boolean>((resolve) => {
      const check = (): void => {
        if (rt.readExit(id) !== undefined || !this.get(id)?.State.Running) resolve(true);
        else timer = setTimeout(check, 20);
      };
      check();
    });
    return { promise, cancel: () => timer && clearTimeout(timer) };
  }

  kill(ref: string, signal = 'SIGKILL'): Promise<void> {
    const c0 = this.resolve(ref);
    const n = signalNumber(signal);
    return this.withLock(c0.Id, async () => {
      const c = this.get(c0.Id);
      if (!c) throw notFound(`No such container: ${ref}`);
      if (!c.State.Running) throw conflict(`Cannot kill container: ${c.Id}: Container ${c.Id} is not running`);
      const ending = n === 9 || n === this.stopSignal(c);
      this.stoppedByUser(c, ending);
      this.emit('event', { Type: 'container', Action: 'kill', id: c.Id, c, attrs: { signal: String(n) } });
      if (c.State.Restarting) {
        if (ending) this.endRestarting(c);
        return false;
      }
      await this.signal(c, String(n));
      return true;
    }).then((signalled) => {
      if (n === 9 && signalled) {
        // Report the exit before answering, as Docker does for SIGKILL.
        const rt = this.opts.runtimes[c0.berth.runtime];
        const w = this.waitExitFile(c0.Id, rt);
        return withTimeout(w.promise, 5000).then(() => {
          w.cancel();
          this.checkExit(c0.Id);
          return this.withLock(c0.Id, async () => undefined);
        });
      }
      return undefined;
    });
  }

  async restart(ref: string, timeout?: number): Promise<void> {
    const c0 = this.resolve(ref);
    await this.withLock(c0.Id, async () => {
      const c = this.get(c0.Id);
      if (!c) throw notFound(`No such container: ${ref}`);
      if (c.State.Running) await this.stopLocked(c.Id, { timeout });
      const fresh = this.get(c0.Id);
      if (!fresh) throw notFound(`No such container: ${ref}`);
      this.resetRestartPolicy(fresh);
      await this.startLocked(fresh);
      this.emit('event', { Type: 'container', Action: 'restart', id: c.Id, c: fresh });
    });
  }

  // ---- pause ----

  /** Freezes the container's processes (the runtime's freezer cgroup). */
  pause(ref: string): Promise<void> {
    const c0 = this.resolve(ref);
    return this.withLock(c0.Id, async () => {
      const c = this.get(c0.Id);
      if (!c) throw notFound(`No such container: ${ref}`);
      if (!c.State.Running) throw conflict(`Container ${c.Id} is not running`);
      if (c.State.Paused) throw conflict(`Container ${c.Id} is already paused`);
      if (c.State.Restarting) throw conflict(`Container ${c.Id} is restarting, wait until the container is running`);
      await this.opts.runtimes[c.berth.runtime].pause(c.Id);
      this.setPaused(c.Id, true);
    });
  }

  unpause(ref: string): Promise<void> {
    const c0 = this.resolve(ref);
    return this.withLock(c0.Id, async () => {
      const c = this.get(c0.Id);
      if (!c) throw notFound(`No such container: ${ref}`);
      if (!c.State.Paused) throw new BerthError('internal', `Container ${c.Id} is not paused`);
      await this.opts.runtimes[c.berth.runtime].resume(c.Id);
      this.setPaused(c.Id, false);
    });
  }

  private setPaused(id: string, paused: boolean): void {
    const c = this.get(id);
    if (!c || c.State.Paused === paused) return;
    c.State = { ...c.State, Status: paused ? 'paused' : 'running', Paused: paused };
    this.save(c);
    this.emit('event', { Type: 'container', Action: paused ? 'pause' : 'unpause', id, c });
  }

  /** Changes a container's record (side modules such as health checks); `fn` returns false to leave it. */
  update(id: string, fn: (c: ContainerRecord) => boolean): ContainerRecord | undefined {
    const c = this.get(id);
    if (!c || !fn(c)) return undefined;
    this.save(c);
    return c;
  }

  // ---- wait ----

  wait(ref: string, condition: string = 'not-running'): Promise<{ StatusCode: number; Error: { Message: string } | null }> {
    const c = this.resolve(ref);
    if (!['not-running', 'next-exit', 'removed'].includes(condition)) throw invalidArgument(`invalid condition: "${condition}"`);
    if (condition === 'not-running' && !c.State.Running) {
      return Promise.resolve({ StatusCode: c.State.ExitCode, Error: null });
    }
    return new Promise((resolve) => this.liveOf(c.Id).waiters.push({ condition: condition as Waiter['condition'], resolve }));
  }

  // ---- remove / rename ----

  remove(ref: string, opts: { force: boolean; volumes: boolean }): Promise<void> {
    const c0 = this.resolve(ref);
    return this.withLock(c0.Id, async () => {
      const c = this.get(c0.Id);
      if (!c) throw notFound(`No such container: ${ref}`);
      if (c.State.Running && !opts.force) {
        throw conflict(`cannot remove container "${c.Name}": container is ${c.State.Status}: stop the container before removing or force remove`);
      }
      this.restarts.cancel(c.Id);
      if (c.State.Restarting) this.endRestarting(c);
      else if (c.State.Running) {
        const rt = this.opts.runtimes[c.berth.runtime];
        const exited = this.waitExitFile(c.Id, rt);
        // dockerd kills a running container before removing it, and says so (kill, die, destroy)
        this.emit('event', { Type: 'container', Action: 'kill', id: c.Id, c, attrs: { signal: '9' } });
        await this.signal(c, 'SIGKILL');
        await withTimeout(exited.promise, 10_000);
        exited.cancel();
        await this.handleExit(c.Id, 137);
        if (!this.get(c.Id)) return; // AutoRemove took it
      }
      await this.removeLocked(this.get(c.Id)!, opts);
    });
  }

  private async removeLocked(c: ContainerRecord, opts: { volumes: boolean }): Promise<void> {
    const p = this.paths(c.Id);
    await this.cleanupRun(c.Id, this.opts.runtimes[c.berth.runtime]);
    this.db.prepare('DELETE FROM containers WHERE id = ?').run(c.Id);
    this.opts.network?.forget(c.Id);
    fs.rmSync(p.dir, { recursive: true, force: true });
    // -v: the container's anonymous volumes go with it; named ones never do, and one that
    // another container still uses (--volumes-from) stays.
    for (const mp of opts.volumes ? (c.berth.mounts ?? []) : []) {
      if (mp.Type !== 'volume' || mp.Named) continue;
      try {
        this.opts.volumes.remove(mp.Name, true);
      } catch (e) {
        if (!(e instanceof BerthError && e.kind === 'conflict')) this.emit('error-log', e);
      }
    }
    this.restarts.forget(c.Id);
    this.emit('event', { Type: 'container', Action: 'destroy', id: c.Id, c });
    this.resolveWaiters(c.Id, c.State.ExitCode, ['removed', 'next-exit', 'not-running']);
    this.live.get(c.Id)?.follower?.stop();
    this.live.get(c.Id)?.rotator?.stop();
    this.live.delete(c.Id);
  }

  rename(ref: string, newName: string): void {
    const c = this.resolve(ref);
    if (!newName) throw invalidArgument('Neither old nor new names may be empty');
    if (!VALID_NAME.test(newName)) throw invalidArgument(`Invalid container name (${newName}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
    const name = newName.startsWith('/') ? newName : `/${newName}`;
    if (name === c.Name) throw invalidArgument(`Renaming a container with the same name as its current name`);
    const other = this.db.prepare('SELECT id FROM containers WHERE name = ?').get(name) as { id: string } | undefined;
    if (other) throw conflict(`Conflict. The container name "${name}" is already in use by container "${other.id}". You have to remove (or rename) that container to be able to reuse that name.`);
    const oldName = c.Name;
    c.Name = name;
    this.save(c);
    this.emit('event', { Type: 'container', Action: 'rename', id: c.Id, c, attrs: { oldName } });
  }

  // ---- output ----

  /** Subscribes to the container's output from now on; the callback gets null at the end. */
  attach(id: string, onEntry: (e: LogEntry | null) => void): () => void {
    const live = this.liveOf(id);
    live.attachers.add(onEntry);
    return () => live.attachers.delete(onEntry);
  }

  logPath(id: string): string {
    return this.paths(id).log;
  }

  readLogs(id: string, opts: { since?: number; until?: number; tail?: number }): { entries: LogEntry[]; offset: number } {
    return readLog(this.paths(id).log, opts);
  }

  isRunning(id: string): boolean {
    return !!this.get(id)?.State.Running;
  }

  // ---- daemon lifecycle ----

  /**
   * After a (re)start of berthd: containers recorded as running are either still running (their
   * conmon holds them: follow their logs again) or exited while berthd was away (record conmon's
   * exit code, clean up, honour AutoRemove). Mounts of stopped containers are released.
   */
  async reconcile(): Promise<void> {
    for (const c of this.all()) {
      const rt = this.opts.runtimes[c.berth.runtime];
      const p = this.paths(c.Id);
      if (c.State.Status === 'removing') {
        await this.removeLocked(c, { volumes: true });
        continue;
      }
      if (!c.State.Running) {
        if (isMounted(p.rootfs)) unmount(p.rootfs);
        continue;
      }
      const code = rt?.readExit(c.Id);
      if (code !== undefined) {
        await this.handleExit(c.Id);
        continue;
      }
      const st = rt ? await rt.state(c.Id) : null;
      if (st && (st.status === 'running' || st.status === 'paused') && st.pid === c.State.Pid) {
        const live = this.liveOf(c.Id);
        let offset = 0;
        try {
          offset = fs.statSync(p.log).size;
        } catch {
          /* no output yet */
        }
        live.follower = new LogFollower(p.log, offset, (e) => {
          for (const a of live.attachers) a(e);
        });
        live.follower.idle = () => live.attachers.size === 0;
        live.rotator = startRotation(p.log, c.HostConfig.LogConfig, path.join(p.bundle, 'ctl'));
        for (const mp of c.berth.mounts ?? []) if (mp.Type === 'volume') this.opts.volumes.restore(mp.Name, c.Id);
        if (c.Config.OpenStdin && keepsStdinOpen(c)) this.openStdin(c.Id, rt);
        continue;
      }
      // Neither running nor an exit code: conmon died with it. Docker reports 255 then.
      c.State = { ...c.State, Status: 'exited', Running: false, Restarting: false, Paused: false, Pid: 0, ExitCode: 255, FinishedAt: new Date().toISOString() };
      this.save(c);
      await this.cleanupRun(c.Id, rt);
      if (c.HostConfig.AutoRemove) await this.removeLocked(c, { volumes: true });
    }
    // Volume mounts held by containers that ended while berthd was away, or by a seeding that
    // a crash interrupted.
    this.opts.volumes.sweep();
  }

  /** Stops every running container (daemon shutdown without live restore). */
  async stopAll(timeoutCap: number): Promise<void> {
    this.restarts.shuttingDown = true;
    await Promise.all(
      this.all()
        .filter((c) => c.State.Running)
        .map((c) => {
          const t = Math.min((c.Config.StopTimeout as number | undefined) ?? 10, timeoutCap);
          return this.stop(c.Id, { timeout: t }).catch(() => undefined);
        }),
    );
  }

  close(): void {
    for (const w of this.exitWatchers) w.close();
    for (const l of this.live.values()) l.rotator?.stop();
    if (this.poll) clearInterval(this.poll);
    this.restarts.close();
    for (const l of this.live.values()) l.follower?.stop();
  }
}

/**
 * Whether conmon keeps the container's stdin open when berthd's connection goes (a daemon
 * restart): all but StdinOnce without a TTY, the one case where the end of a client's input
 * closes it (docker's semantics; daemon/stdio.ts).
 */
function keepsStdinOpen(c: ContainerRecord): boolean {
  return !c.Config.StdinOnce || !!c.Config.Tty;
}

/** Config.Volumes: the image's and the request's, or null when there are none (as Docker). */
function mergeVolumes(image: unknown, user: unknown): Record<string, object> | null {
  const out: Record<string, object> = {};
  for (const v of [image, user]) {
    if (v && typeof v === 'object' && !Array.isArray(v)) for (const k of Object.keys(v)) out[k] = {};
  }
  return Object.keys(out).length ? out : null;
}

function asList(v: unknown, field: string): string[] {
  if (typeof v === 'string') return [v];
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
  throw invalidArgument(`${field} must be a string or a list of strings`);
}

function notModified(): BerthError {
  return new BerthError('not-modified', 'container already in that state');
}

function withTimeout(p: Promise<boolean>, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(false), ms);
    void p.then((v) => {
      clearTimeout(t);
      resolve(v);
    });
  });
}

/** Creates the working directory inside the rootfs (owned by the user), refusing symlinks out. */
function ensureDir(rootfs: string, dir: string, uid: number, gid: number): void {
  const parts = dir.split('/').filter(Boolean);
  let cur = rootfs;
  for (const part of parts) {
    cur = path.join(cur, part);
    let st: fs.Stats | undefined;
    try {
      st = fs.lstatSync(cur);
    } catch {
      fs.mkdirSync(cur, { mode: 0o755 });
      fs.chownSync(cur, uid, gid);
      continue;
    }
    if (st.isSymbolicLink()) return; // the runtime resolves it inside the container
    if (!st.isDirectory()) throw invalidArgument(`working directory ${dir} is not a directory`);
  }
}

/** /etc/resolv.conf for a container: explicit DNS settings, else the host's minus loopback servers. */
export function resolvConf(dns: string[], search: string[], options: string[], daemonDns?: string[], hostText?: string): string {
  let servers = dns.length ? dns : (daemonDns ?? []);
  let hostSearch: string[] = [];
  let hostOptions: string[] = [];
  if (!servers.length) {
    let text = hostText;
    if (text === undefined) {
      try {
        text = fs.readFileSync('/etc/resolv.conf', 'utf8');
      } catch {
        text = '';
      }
    }
    for (const line of text.split('\n')) {
      const f = line.trim().split(/\s+/);
      if (f[0] === 'nameserver' && f[1] && !/^127\.|^::1$/.test(f[1])) servers.push(f[1]);
      if (f[0] === 'search') hostSearch = f.slice(1);
      if (f[0] === 'options') hostOptions = f.slice(1);
    }
    servers = servers.slice();
    if (!servers.length) servers = ['8.8.8.8', '8.8.4.4'];
  }
  let out = '';
  const s = search.length ? search : hostSearch;
  if (s.length && !(s.length === 1 && s[0] === '.')) out += `search ${s.join(' ')}\n`;
  for (const n of servers) out += `nameserver ${n}\n`;
  const o = options.length ? options : hostOptions;
  if (o.length) out += `options ${o.join(' ')}\n`;
  return out;
}
