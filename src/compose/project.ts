/**
 * Compose orchestration over the Engine API: networks, volumes, images (build/pull), containers
 * converged to the model by config hash, startup ordered by depends_on conditions, and teardown.
 * Progress goes to `progress` as docker compose prints it without a TTY (" Container x  Started").
 */
import { Readable } from 'node:stream';
import { jsonMessages, messageError, EngineError, type Engine } from '../client/engine';
import type { ContainerSummary } from '../client/types';
import { packContext } from '../build/context/tar';
import fs from 'node:fs';
import { ComposeError } from './errors';
import { startOrder } from './load';
import { configHash, containerName, containerPlan, imageName } from './convert';
import { COMPOSE_VERSION, LABEL, type DependsOn, type Project, type Service } from './model';
import path from 'node:path';

interface ContainerState {
  Status: string;
  Running: boolean;
  ExitCode: number;
  Health?: { Status: string };
}

export type Progress = (kind: string, name: string, status: string) => void;

export interface UpOptions {
  services?: string[];
  build?: boolean;
  noBuild?: boolean;
  forceRecreate?: boolean;
  noRecreate?: boolean;
  noDeps?: boolean;
  scale?: Record<string, number>;
  wait?: boolean;
  waitTimeout?: number;
  removeOrphans?: boolean;
  noStart?: boolean;
}

const enc = encodeURIComponent;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export function isNotFound(err: unknown): boolean {
  return err instanceof EngineError && err.status === 404;
}

export class ComposeProject {
  constructor(
    readonly engine: Engine,
    readonly project: Project,
    readonly progress: Progress = () => undefined,
  ) {}

  // ---- queries ---------------------------------------------------------------------------

  /** The project's containers (all states); oneoff ones only when asked. */
  async containers(opts: { services?: string[]; oneoff?: boolean; all?: boolean } = {}): Promise<ContainerSummary[]> {
    const label = [`${LABEL.project}=${this.project.name}`];
    if (!opts.oneoff) label.push(`${LABEL.oneoff}=False`);
    const list = await this.engine.get<ContainerSummary[]>('/containers/json', { all: opts.all ?? true, filters: JSON.stringify({ label }) });
    return list
      .filter((c) => !opts.services?.length || opts.services.includes(c.Labels?.[LABEL.service] ?? ''))
      .sort((a, b) => serviceOf(a).localeCompare(serviceOf(b)) || numberOf(a) - numberOf(b));
  }

  service(name: string): Service {
    const s = this.project.services[name];
    if (!s) throw new ComposeError(`no such service: ${name}`);
    return s;
  }

  /** The services named (each must exist), or all of them. */
  selected(names?: string[]): string[] {
    if (!names?.length) return Object.keys(this.project.services);
    for (const n of names) this.service(n);
    return names;
  }

  // ---- networks and volumes --------------------------------------------------------------

  async ensureNetworks(): Promise<void> {
    for (const [key, n] of Object.entries(this.project.networks)) {
      const exists = await this.engine.get(`/networks/${enc(n.name)}`).then(() => true, (e: unknown) => (isNotFound(e) ? false : Promise.reject(e)));
      if (exists) continue;
      if (n.external) throw new ComposeError(`network ${n.name} declared as external, but could not be found`);
      this.progress('Network', n.name, 'Creating');
      const ipam = n.ipam as { driver?: string; config?: { subnet?: string; gateway?: string; ip_range?: string }[] } | undefined;
      await this.engine.post('/networks/create', undefined, {
        Name: n.name,
        Driver: n.driver ?? 'bridge',
        Options: n.driver_opts ?? {},
        Internal: Boolean(n.internal),
        Attachable: Boolean(n.attachable),
        EnableIPv6: Boolean(n.enable_ipv6),
        CheckDuplicate: true,
        IPAM: ipam ? { Driver: ipam.driver ?? 'default', Config: (ipam.config ?? []).map((c) => ({ Subnet: c.subnet, Gateway: c.gateway, IPRange: c.ip_range })) } : undefined,
        Labels: { ...(n.labels ?? {}), [LABEL.project]: this.project.name, [LABEL.network]: key, [LABEL.version]: COMPOSE_VERSION },
      });
      this.progress('Network', n.name, 'Created');
    }
  }

  async ensureVolumes(): Promise<void> {
    for (const [key, v] of Object.entries(this.project.volumes)) {
      const exists = await this.engine.get(`/volumes/${enc(v.name)}`).then(() => true, (e: unknown) => (isNotFound(e) ? false : Promise.reject(e)));
      if (exists) continue;
      if (v.external) throw new ComposeError(`external volume "${v.name}" not found`);
      this.progress('Volume', `"${v.name}"`, 'Creating');
      await this.engine.post('/volumes/create', undefined, {
        Name: v.name,
        Driver: v.driver ?? 'local',
        DriverOpts: v.driver_opts ?? {},
        Labels: { ...(v.labels ?? {}), [LABEL.project]: this.project.name, [LABEL.volume]: key, [LABEL.version]: COMPOSE_VERSION },
      });
      this.progress('Volume', `"${v.name}"`, 'Created');
    }
  }

  // ---- images ----------------------------------------------------------------------------

  async imageId(ref: string): Promise<string | undefined> {
    try {
      return (await this.engine.get<{ Id: string }>(`/images/${enc(ref)}/json`)).Id;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /** Builds the image of a service from its build section. */
  async build(s: Service, out: (line: string) => void, noCache = false): Promise<void> {
    const b = s.build;
    if (!b) return;
    const tag = imageName(this.project, s);
    const dockerfile = b.dockerfile ?? 'Dockerfile';
    const ignoreFile = path.join(b.context, '.dockerignore');
    const ignore = fs.existsSync(ignoreFile) ? fs.readFileSync(ignoreFile, 'utf8').split('\n') : [];
    const tar = packContext(b.context, { dockerfile: path.isAbsolute(dockerfile) ? path.relative(b.context, dockerfile) : dockerfile, ignore });
    this.progress('Service', s.name, 'Building');
    const labels = { ...(b.labels ?? {}), [LABEL.project]: this.project.name, [LABEL.service]: s.name, [LABEL.version]: COMPOSE_VERSION };
    const args: Record<string, string> = {};
    for (const [k, v] of Object.entries(b.args ?? {})) {
      const val = v ?? this.project.environment[k];
      if (val !== undefined) args[k] = val;
    }
    const res = await this.engine.stream('POST', '/build', {
      query: { t: tag, dockerfile, target: b.target, buildargs: JSON.stringify(args), labels: JSON.stringify(labels), nocache: noCache || undefined, rm: true },
      body: tar as Readable,
      headers: { 'Content-Type': 'application/x-tar' },
    });
    for await (const m of jsonMessages(res)) {
      const e = messageError(m);
      if (e) throw new ComposeError(`failed to build service "${s.name}": ${e}`);
      if (m.stream) for (const line of m.stream.split('\n')) if (line.trim()) out(`#${s.name} ${line}`);
    }
    this.progress('Service', s.name, 'Built');
  }

  async pull(s: Service, ignoreFailures = false): Promise<void> {
    const ref = imageName(this.project, s);
    this.progress('Image', ref, 'Pulling');
    const [name, tag] = splitRef(ref);
    try {
      const res = await this.engine.stream('POST', '/images/create', { query: { fromImage: name, tag } });
      for await (const m of jsonMessages(res)) {
        const e = messageError(m);
        if (e) throw new ComposeError(e);
      }
    } catch (err) {
      if (ignoreFailures) return;
      this.progress('Image', ref, 'Error');
      throw err instanceof ComposeError ? err : new ComposeError(`Error response from daemon: ${(err as Error).message}`);
    }
    this.progress('Image', ref, 'Pulled');
  }

  /** Makes sure every service's image is there: built (if it has build and none, or `force`), else pulled. */
  async ensureImages(names: string[], force: boolean, noBuild: boolean, out: (line: string) => void): Promise<void> {
    for (const n of names) {
      const s = this.service(n);
      const have = await this.imageId(imageName(this.project, s));
      const policy = (s.pull_policy as string | undefined) ?? 'missing';
      if (s.build && !noBuild && (force || !have || policy === 'build')) await this.build(s, out);
      else if (policy === 'always' && !s.build) await this.pull(s);
      else if (!have) {
        if (policy === 'never') throw new ComposeError(`service "${n}": image ${imageName(this.project, s)} not found and pull_policy is never`);
        if (s.build) throw new ComposeError(`service "${n}" has no image ${imageName(this.project, s)} and --no-build was given`);
        await this.pull(s);
      }
    }
  }

  // ---- up --------------------------------------------------------------------------------

  async up(o: UpOptions, out: (line: string) => void): Promise<string[]> {
    const wanted = this.selected(o.services);
    const names = o.noDeps ? wanted : startOrder(this.project.services, wanted);
    await this.ensureImages(names, !!o.build, !!o.noBuild, out);
    await this.ensureNetworks();
    await this.ensureVolumes();
    if (o.removeOrphans) await this.removeOrphans();
    else await this.warnOrphans();
    const done = new Map<string, Promise<string[]>>();
    const converge = (n: string): Promise<string[]> => {
      let p = done.get(n);
      if (!p) {
        p = (async () => {
          const s = this.service(n);
          if (!o.noDeps) await this.waitDependencies(s, names, converge);
          return this.converge(s, o);
        })();
        done.set(n, p);
      }
      return p;
    };
    const ids = (await Promise.all(names.map(converge))).flat();
    if (o.wait) await this.waitReady(ids, o.waitTimeout);
    return ids;
  }

  private async warnOrphans(): Promise<void> {
    const orphans = await this.orphans();
    if (orphans.length) {
      this.progress('Warning', '', `Found orphan containers (${orphans.map(nameOf).join(', ')}) for this project. If you removed or renamed this service in your compose file, you can run this command with the --remove-orphans flag to clean it up.`);
    }
  }

  async orphans(): Promise<ContainerSummary[]> {
    const known = new Set([...Object.keys(this.project.services), ...Object.keys(this.project.disabled)]);
    return (await this.containers()).filter((c) => !known.has(serviceOf(c)));
  }

  async removeOrphans(): Promise<void> {
    for (const c of await this.orphans()) await this.removeContainer(c, true);
  }

  /** Waits until each dependency of `s` meets its condition (the dependency is converged first). */
  private async waitDependencies(s: Service, inPlan: string[], converge: (n: string) => Promise<string[]>): Promise<void> {
    for (const [dep, d] of Object.entries(s.depends_on ?? {})) {
      if (!this.project.services[dep]) continue;
      if (inPlan.includes(dep)) await converge(dep);
      await this.waitCondition(dep, d);
    }
  }

  /** Waits until the containers of `dep` meet the condition (started: at once). */
  async waitCondition(dep: string, d: DependsOn): Promise<void> {
    if (d.condition === 'service_started') return;
    const containers = await this.containers({ services: [dep] });
    for (const c of containers) {
      const name = nameOf(c);
      this.progress('Container', name, 'Waiting');
      for (;;) {
        const st = await this.inspectState(c.Id);
        if (d.condition === 'service_healthy') {
          if (!st.hasHealthcheck) {
            if (!d.required) break;
            throw new ComposeError(`dependency failed to start: container ${name} has no healthcheck configured`);
          }
          // A check that has not run yet may have no Health in the state: still starting.
          if (st.Health?.Status === 'healthy') {
            this.progress('Container', name, 'Healthy');
            break;
          }
          if (st.Health?.Status === 'unhealthy') throw new ComposeError(`dependency failed to start: container ${name} is unhealthy`);
          if (!st.Running) throw new ComposeError(`dependency failed to start: container ${name} exited (${st.ExitCode})`);
        } else if (!st.Running && st.Status !== 'created') {
          if (st.ExitCode !== 0) throw new ComposeError(`service "${dep}" didn't complete successfully: exit ${st.ExitCode}`);
          this.progress('Container', name, 'Exited');
          break;
        }
        await sleep(250);
      }
    }
  }

  /** The state, and whether the container has a health check (its own or its image's) as docker compose decides it. */
  async inspectState(id: string): Promise<ContainerState & { hasHealthcheck: boolean }> {
    const i = await this.engine.get<{ State: ContainerState; Config?: { Healthcheck?: { Test?: string[] | null } | null } }>(`/containers/${enc(id)}/json`);
    const test = i.Config?.Healthcheck?.Test;
    return { ...i.State, hasHealthcheck: !!test && test.length > 0 && test[0] !== 'NONE' };
  }

  /** Brings the containers of one service to the model: keeps, starts, recreates, creates or removes. */
  private async converge(s: Service, o: UpOptions): Promise<string[]> {
    const scale = o.scale?.[s.name] ?? s.scale ?? 1;
    const hash = configHash(s);
    const image = await this.imageId(imageName(this.project, s));
    const existing = await this.containers({ services: [s.name] });
    const ids: string[] = [];
    const byNumber = new Map(existing.map((c) => [numberOf(c), c]));
    for (const c of existing) if (numberOf(c) > scale) await this.removeContainer(c, true);
    for (let n = 1; n <= scale; n++) {
      const c = byNumber.get(n);
      const stale = c && (o.forceRecreate || c.Labels?.[LABEL.hash] !== hash || (image !== undefined && c.ImageID !== image));
      if (c && (!stale || o.noRecreate)) {
        if (c.State !== 'running' && !o.noStart) {
          await this.startContainer(nameOf(c), c.Id);
        } else this.progress('Container', nameOf(c), 'Running');
        ids.push(c.Id);
        continue;
      }
      if (c) {
        this.progress('Container', nameOf(c), 'Recreate');
        await this.removeContainer(c, false, true);
      }
      const id = await this.createContainer(s, n, hash, !!c);
      if (!o.noStart) await this.startContainer(containerName(this.project, s, n), id);
      ids.push(id);
    }
    return ids;
  }

  async createContainer(s: Service, n: number, hash: string, recreated: boolean, extra: { oneoff?: boolean; command?: string[]; servicePorts?: boolean; name?: string } = {}): Promise<string> {
    const plan = containerPlan(this.project, s, { number: n, hash, ...extra });
    if (!recreated) this.progress('Container', plan.name, 'Creating');
    const r = await this.engine.post<{ Id: string }>('/containers/create', { name: plan.name }, plan.body);
    for (const net of plan.extraNetworks) await this.engine.post(`/networks/${enc(net.name)}/connect`, undefined, { Container: r.Id, EndpointConfig: net.config });
    this.progress('Container', plan.name, recreated ? 'Recreated' : 'Created');
    return r.Id;
  }

  async startContainer(name: string, id: string): Promise<void> {
    this.progress('Container', name, 'Starting');
    await this.engine.post(`/containers/${enc(id)}/start`);
    this.progress('Container', name, 'Started');
  }

  async stopContainer(c: ContainerSummary, timeout?: number): Promise<void> {
    if (c.State !== 'running' && c.State !== 'restarting' && c.State !== 'paused') return;
    this.progress('Container', nameOf(c), 'Stopping');
    await this.stopById(c.Id, timeout);
    this.progress('Container', nameOf(c), 'Stopped');
  }

  /** POST stop; a container that stopped meanwhile (304) or is gone (404) is fine. */
  private async stopById(id: string, timeout?: number): Promise<void> {
    try {
      await this.engine.post(`/containers/${enc(id)}/stop`, { t: timeout });
    } catch (err) {
      if (!(err instanceof EngineError && (err.status === 304 || err.status === 404))) throw err;
    }
  }

  async removeContainer(c: ContainerSummary, report: boolean, quietStop = false, volumes = false): Promise<void> {
    if (!quietStop) await this.stopContainer(c);
    else if (c.State === 'running') await this.stopById(c.Id);
    if (report) this.progress('Container', nameOf(c), 'Removing');
    try {
      await this.engine.delete(`/containers/${enc(c.Id)}`, { force: true, v: volumes || undefined });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    if (report) this.progress('Container', nameOf(c), 'Removed');
  }

  /** --wait: every container running, and healthy when it has a health check. */
  private async waitReady(ids: string[], timeoutSec?: number): Promise<void> {
    const end = timeoutSec ? Date.now() + timeoutSec * 1000 : Infinity;
    for (const id of ids) {
      for (;;) {
        const st = await this.inspectState(id);
        if (st.Health?.Status === 'unhealthy') throw new ComposeError(`container ${id.slice(0, 12)} is unhealthy`);
        if (!st.Running && st.Status !== 'created' && st.Status !== 'restarting') throw new ComposeError(`container ${id.slice(0, 12)} exited (${st.ExitCode})`);
        if (st.Running && (!st.hasHealthcheck || st.Health?.Status === 'healthy')) break;
        if (Date.now() > end) throw new ComposeError('timeout waiting for the project to be ready');
        await sleep(250);
      }
    }
  }

  // ---- down ------------------------------------------------------------------------------

  async down(o: { volumes?: boolean; rmi?: string; removeOrphans?: boolean; timeout?: number }): Promise<void> {
    const all = await this.containers({ oneoff: true });
    const known = new Set([...Object.keys(this.project.services), ...Object.keys(this.project.disabled)]);
    const order = startOrder(this.project.services).reverse();
    const rank = (c: ContainerSummary): number => {
      const i = order.indexOf(serviceOf(c));
      return i < 0 ? -1 : i;
    };
    const noModel = this.project.files.length === 0;
    const doomed = all.filter((c) => noModel || known.has(serviceOf(c)) || o.removeOrphans || c.Labels?.[LABEL.oneoff] === 'True').sort((a, b) => rank(a) - rank(b));
    // Dependents stop first; containers of one service stop together.
    for (const c of doomed) await this.stopContainer(c, o.timeout);
    for (const c of doomed) await this.removeContainer(c, true, true, o.volumes);
    // The model's networks and volumes, and whatever else carries the project's label (a
    // network renamed in the file since, or no file at all with -p).
    const label = JSON.stringify({ label: [`${LABEL.project}=${this.project.name}`] });
    const labelled = (await this.engine.get<{ Name: string }[]>('/networks', { filters: label })).map((n) => n.Name);
    const networks = new Set([...Object.values(this.project.networks).filter((n) => !n.external).map((n) => n.name), ...labelled]);
    for (const n of networks) await this.removeObject('Network', `/networks/${enc(n)}`, n);
    if (o.volumes) {
      const found = (await this.engine.get<{ Volumes: { Name: string }[] | null }>('/volumes', { filters: label })).Volumes ?? [];
      const volumes = new Set([...Object.values(this.project.volumes).filter((v) => !v.external).map((v) => v.name), ...found.map((v) => v.Name)]);
      for (const v of volumes) await this.removeObject('Volume', `/volumes/${enc(v)}`, v);
    }
    if (o.rmi) {
      for (const s of Object.values(this.project.services)) {
        if (o.rmi === 'local' && s.image) continue;
        await this.removeObject('Image', `/images/${enc(imageName(this.project, s))}`, imageName(this.project, s));
      }
    }
  }

  private async removeObject(kind: string, apiPath: string, name: string): Promise<void> {
    try {
      await this.engine.get(apiPath.startsWith('/images/') ? `${apiPath}/json` : apiPath);
    } catch (err) {
      if (isNotFound(err)) return;
      throw err;
    }
    this.progress(kind, name, 'Removing');
    try {
      await this.engine.delete(apiPath);
    } catch (err) {
      if (!isNotFound(err)) {
        this.progress(kind, name, `Error: ${(err as Error).message}`);
        return;
      }
    }
    this.progress(kind, name, 'Removed');
  }
}

export function serviceOf(c: ContainerSummary): string {
  return c.Labels?.[LABEL.service] ?? '';
}

export function numberOf(c: ContainerSummary): number {
  return Number(c.Labels?.[LABEL.number] ?? 0);
}

export function nameOf(c: ContainerSummary): string {
  return (c.Names?.[0] ?? c.Id).replace(/^\//, '');
}

/** "name:tag" / "name@digest" / "name" to the fromImage/tag pair. */
export function splitRef(ref: string): [string, string | undefined] {
  if (ref.includes('@')) return [ref, undefined];
  const slash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  if (colon > slash) return [ref.slice(0, colon), ref.slice(colon + 1)];
  return [ref, 'latest'];
}
