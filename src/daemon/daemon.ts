/**
 * berthd's composition root: opens the metadata DB and the stores, builds the runtime drivers and
 * the container manager, reconciles what is on disk with what runs, and serves the Engine API.
 */
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { openDb, type DB } from './db';
import type { DaemonConfig } from './config';
import { ImageStore } from '../image/store';
import { ImageService } from '../image/service';
import { OciRuntime } from '../runtime/oci';
import { ExecManager } from './exec';
import { execRoutes } from '../api/routes/exec';
import { ContainerManager } from './containers';
import { ApiServer, Router } from '../api/server';
import { openListeners } from '../api/listen';
import { systemRoutes } from '../api/routes/system';
import { imageRoutes } from '../api/routes/images';
import { containerRoutes } from '../api/routes/containers';
import { statsRoutes } from '../api/routes/stats';
import { buildRoutes } from '../api/routes/build';
import { containerFsRoutes } from '../api/routes/container-fs';
import { systemDfRoutes } from '../api/routes/system-df';
import { Builder } from '../build/builder';
import { randomHex } from '../util/digest';
import { Distribution, type AuthConfig } from '../image/distribution';
import { RegistryClient } from '../registry/client';
import { VolumeService } from '../volume/local';
import { volumeRoutes } from '../api/routes/volumes';
import { NetworkManager } from '../network/manager';
import { networkRoutes } from '../api/routes/networks';
import { EventBus, makeEvent } from './events';
import { eventRoutes } from '../api/routes/events';
import { HealthMonitor } from './health';
import { startOnBoot } from './restart';
import { execProbe } from './probe';
export type { DaemonEvent } from './events';
import { parseRemap } from '../runtime/userns';


export class Daemon {
  readonly db: DB;
  readonly store: ImageStore;
  readonly images: ImageService;
  readonly containers: ContainerManager;
  readonly exec: ExecManager;
  readonly volumes: VolumeService;
  readonly network: NetworkManager;
  readonly distribution: Distribution;
  readonly builder: Builder;
  readonly runtimes: Record<string, OciRuntime>;
  readonly events = new EventBus();
  readonly health: HealthMonitor;
  readonly id: string;
  private api?: ApiServer;
  private sockets: string[] = [];

  constructor(readonly config: DaemonConfig) {
    for (const d of [config.dataRoot, config.execRoot]) fs.mkdirSync(d, { recursive: true, mode: 0o711 });
    this.db = openDb(path.join(config.dataRoot, 'berth.db'));
    const idRow = this.db.prepare("SELECT value FROM meta WHERE key = 'id'").get() as { value: string } | undefined;
    this.id = idRow?.value ?? randomHex(16);
    if (!idRow) this.db.prepare("INSERT INTO meta(key, value) VALUES ('id', ?)").run(this.id);
    this.store = new ImageStore(config.dataRoot, this.db);
    this.images = new ImageService(this.store);
    this.distribution = new Distribution(
      this.store,
      this.db,
      (auth?: AuthConfig) =>
        new RegistryClient({
          credentials: () => auth,
          insecureRegistries: config.insecureRegistries,
          mirrors: config.registryMirrors,
          userAgent: 'berth/0.1.0',
        }),
      config.dataRoot,
    );
    this.runtimes = {};
    for (const [name, rt] of Object.entries(config.runtimes)) {
      this.runtimes[name] = new OciRuntime({
        name,
        path: rt.path,
        stateRoot: path.join(config.execRoot, name),
        exitDir: path.join(config.execRoot, 'exits'),
        socketDir: path.join(config.execRoot, 'sockets'),
        conmonPath: config.conmonPath,
      });
    }
    this.volumes = new VolumeService(this.db, {
      root: path.join(config.dataRoot, 'volumes'),
      references: (name) => this.containers.volumeRefs(name),
      referenced: () => this.containers.referencedVolumes(),
    });
    this.volumes.on('event', (e: { Action: string; name: string; attrs: Record<string, string> }) => this.emitEvent('volume', e.Action, e.name, e.attrs));
    this.network = new NetworkManager(this.db, {
      execRoot: config.execRoot,
      tag: config.netTag,
      bridge: config.bridge,
      bip: config.bip || undefined,
      hostGatewayIp: config.hostGatewayIp || undefined,
      ipMasq: config.ipMasq,
      ipv6: config.ipv6 ? { subnet: config.fixedCidrV6 || undefined } : undefined,
      dns: config.dns,
      dnsUpstream: config.dnsUpstream,
      dnsForward: config.dnsForward,
      log: (level, msg) => this.log(level, msg),
      emit: (action, n, attrs) => this.emitEvent('network', action, n.Id, { name: n.Name, ...attrs }),
    });
    this.containers = new ContainerManager(this.db, this.store, {
      root: path.join(config.dataRoot, 'containers'),
      cgroupParent: config.cgroupParent,
      runtimes: this.runtimes,
      defaultRuntime: config.defaultRuntime,
      dns: config.dns,
      volumes: this.volumes,
      network: this.network,
      hooks: { initPath: config.initPath, initDefault: config.init, remap: config.usernsRemap ? parseRemap(config.usernsRemap) : undefined },
    });
    this.network.attachContainers(this.containers);
    this.exec = new ExecManager(this.containers, this.runtimes, config.execRoot);
    this.builder = new Builder({
      store: this.store,
      db: this.db,
      workRoot: path.join(config.dataRoot, 'build'),
      runtimePath: config.runtimes[config.defaultRuntime].path,
      runtimeRoot: path.join(config.execRoot, config.defaultRuntime),
      cgroupParent: config.cgroupParent,
      pull: async (name, emit) => {
        await this.distribution.pull(name, {}, emit);
      },
    });
    this.containers.on('event', (e: { Type: string; Action: string; id: string; c?: { Name: string; Config: { Image?: string; Labels?: Record<string, string> } }; attrs?: Record<string, string> }) => {
      const attrs: Record<string, string> = { ...(e.c?.Config.Labels ?? {}), ...(e.attrs ?? {}) };
      if (e.c) {
        attrs.name = e.c.Name.slice(1);
        if (e.c.Config.Image) attrs.image = e.c.Config.Image;
      }
      this.emitEvent(e.Type, e.Action, e.id, attrs);
    });
    this.containers.on('error-log', (e: Error) => this.log('error', e.stack ?? e.message));
    this.health = new HealthMonitor(this.containers, execProbe(this.exec));
  }

  emitEvent(type: string, action: string, id: string, attrs: Record<string, string>): void {
    this.events.publish(makeEvent(type, action, id, attrs));
  }

  log(level: 'debug' | 'info' | 'warn' | 'error', msg: string): void {
    const order = ['debug', 'info', 'warn', 'error', 'fatal'];
    if (order.indexOf(level) < order.indexOf(this.config.logLevel)) return;
    process.stderr.write(`time="${new Date().toISOString()}" level=${level} msg=${JSON.stringify(msg)}\n`);
  }

  runtimeVersion(): string {
    try {
      const out = execFileSync(this.config.runtimes[this.config.defaultRuntime].path, ['--version'], { encoding: 'utf8' });
      return /version\s+(\S+)/.exec(out)?.[1] ?? '';
    } catch {
      return '';
    }
  }

  /** Layers that neither an image nor a container needs are removed. */
  gcLayers(): number {
    const inUse = new Set<string>();
    for (const c of this.containers.all()) for (const ch of c.berth.chain) inUse.add(ch);
    for (const ch of this.builder.cachedChains()) inUse.add(ch);
    return this.store.gc(inUse);
  }

  async start(): Promise<void> {
    this.claimPidfile();
    await this.network.init();
    await this.containers.reconcile();
    this.exec.sweep();
    await this.network.reconcile();
    this.containers.watchExits();
    this.health.resumeAll();
    await startOnBoot(this.containers);
    const router = new Router();
    containerFsRoutes(router, this);
    systemDfRoutes(router, this);
    systemRoutes(router, this);
    imageRoutes(router, this);
    containerRoutes(router, this);
    statsRoutes(router, this);
    volumeRoutes(router, this);
    networkRoutes(router, this);
    buildRoutes(router, this);
    execRoutes(router, this.exec);
    eventRoutes(router, this);
    this.api = new ApiServer(router);
    this.sockets.push(...(await openListeners(this.api, this.config, (level, msg) => this.log(level, msg))));
  }

  private claimPidfile(): void {
    const pf = this.config.pidfile;
    fs.mkdirSync(path.dirname(pf), { recursive: true });
    try {
      const other = Number(fs.readFileSync(pf, 'utf8').trim());
      if (other && other !== process.pid) {
        try {
          process.kill(other, 0);
          throw new Error(`pid file found, ensure berthd is not running or delete ${pf}`);
        } catch (e) {
          if ((e as { code?: string }).code !== 'ESRCH') throw e;
        }
      }
    } catch (e) {
      if ((e as { code?: string }).code !== 'ENOENT') throw e;
    }
    fs.writeFileSync(pf, String(process.pid));
  }

  async shutdown(): Promise<void> {
    this.log('info', 'Processing signal: shutting down');
    if (this.api) await Promise.race([this.api.close(), new Promise((r) => setTimeout(r, 2000))]);
    this.health.close();
    if (!this.config.liveRestore) await this.containers.stopAll(this.config.shutdownTimeout);
    this.containers.close();
    if (!this.config.liveRestore) this.volumes.sweep(true);
    await this.network.shutdown(!this.config.liveRestore).catch((e) => this.log('error', `network shutdown: ${(e as Error).message}`));
    for (const s of this.sockets) fs.rmSync(s, { force: true });
    fs.rmSync(this.config.pidfile, { force: true });
    if (!this.config.liveRestore) removeCgroupParent(this.config.cgroupParent);
    this.db.close();
  }
}

/** Removes the daemon's parent cgroup in every v1 hierarchy (and v2) when it is empty. */
export function removeCgroupParent(parent: string): void {
  const base = '/sys/fs/cgroup';
  let dirs: string[] = [];
  try {
    dirs = fs.readdirSync(base);
  } catch {
    return;
  }
  const candidates = [path.join(base, parent), ...dirs.map((d) => path.join(base, d, parent))];
  for (const p of candidates) {
    try {
      fs.rmdirSync(p);
    } catch {
      /* absent or busy */
    }
  }
}
