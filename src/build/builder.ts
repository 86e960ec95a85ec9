/**
 * The Dockerfile executor behind POST /build (the classic builder's API and output stream).
 *
 * A build is a set of stages; each stage is a sequence of states (layers + config + history),
 * one per instruction. Every state has a cache key: the previous key plus the instruction as
 * executed (for COPY/ADD the content, not the mtime, of what is copied). A key found in the cache
 * (SQLite, so it survives restarts) whose layers are all present is reused instead of executing
 * the step. Stages are built on demand from the target back, each at most once; stages that do
 * not depend on each other run at the same time.
 */
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import http from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { DB } from '../daemon/db';
import { BerthError, invalidArgument, notFound } from '../core/errors';
import { chainIds, hexOf, sha256 } from '../util/digest';
import type { ImageStore } from '../image/store';
import type { ContainerConfigPart, HistoryEntry, ImageConfig } from '../image/types';
import { formatReference, parseReference, withDefaultTag } from '../image/reference';
import { unpackLayer } from '../snapshot/unpack';
import { parseUser } from './user-lookup';
import { Sandbox, commitDir } from './sandbox';
import { unmount } from '../snapshot/overlay';
import { createMatcher } from './context/dockerignore';
import { expandWord, parseNodes, type Node } from './frontend';

export type Emit = (m: Record<string, unknown>) => void;

export interface BuildOptions {
  dockerfile: string;
  tags: string[];
  buildArgs: Record<string, string | null>;
  labels: Record<string, string>;
  target?: string;
  noCache: boolean;
  pull: boolean;
  quiet: boolean;
  network: 'default' | 'none' | 'host';
}

export interface BuilderDeps {
  store: ImageStore;
  db: DB;
  workRoot: string;
  runtimePath: string;
  runtimeRoot: string;
  cgroupParent: string;
  /** Pulls an image that is not present (FROM, COPY --from=image). */
  pull: (name: string, emit: Emit) => Promise<void>;
}

interface State {
  diffIds: string[];
  config: ContainerConfigPart;
  history: HistoryEntry[];
  os: string;
  architecture: string;
  key: string;
}

interface Stage {
  index: number;
  name?: string;
  from: Node;
  body: Node[];
}

const DEFAULT_SHELL = ['/bin/sh', '-c'];
const EMPTY_TAR_DIFF = sha256(Buffer.alloc(1024));
const PREDEFINED_ARGS = ['HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy', 'FTP_PROXY', 'ftp_proxy', 'NO_PROXY', 'no_proxy', 'ALL_PROXY', 'all_proxy'];

export class BuildError extends BerthError {
  constructor(
    message: string,
    readonly code = 1,
  ) {
    super('invalid-argument', message);
  }
}

function shortHex(digest: string): string {
  return hexOf(digest).slice(0, 12);
}

/** Go's time.ParseDuration, in nanoseconds (for HEALTHCHECK). */
export function parseDuration(s: string): number {
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g;
  const unit: Record<string, number> = { ns: 1, us: 1e3, µs: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };
  let total = 0;
  let consumed = 0;
  for (const m of s.matchAll(re)) {
    total += Number(m[1]) * unit[m[2]];
    consumed += m[0].length;
  }
  if (!s || consumed !== s.length) throw invalidArgument(`time: invalid duration "${s}"`);
  return Math.round(total);
}

function flagValue(flags: string[], name: string): string | undefined {
  for (const f of flags) {
    if (f === `--${name}`) return 'true';
    if (f.startsWith(`--${name}=`)) return f.slice(name.length + 3);
  }
  return undefined;
}

/** Splits the instruction nodes into stages at each FROM; ARGs before the first FROM are global. */
function splitStages(nodes: Node[]): { globals: Node[]; stages: Stage[] } {
  const globals: Node[] = [];
  const stages: Stage[] = [];
  for (const n of nodes) {
    if (n.cmd === 'from') {
      const asIdx = n.args.findIndex((a) => a.toLowerCase() === 'as');
      const name = asIdx >= 0 ? n.args[asIdx + 1]?.toLowerCase() : undefined;
      stages.push({ index: stages.length, name, from: n, body: [] });
    } else if (!stages.length) {
      if (n.cmd !== 'arg') throw new BuildError(`Dockerfile:${n.startLine}: no build stage in current context`);
      globals.push(n);
    } else stages[stages.length - 1].body.push(n);
  }
  if (!stages.length) throw new BuildError('Dockerfile contains no FROM instruction');
  return { globals, stages };
}

/** Parses `ARG a`, `ARG a=b c=d` into [name, default?] pairs. */
function argPairs(n: Node): [string, string | undefined][] {
  return n.args.map((a) => {
    const eq = a.indexOf('=');
    return eq < 0 ? [a, undefined] : [a.slice(0, eq), a.slice(eq + 1)];
  });
}

/** ENV/LABEL nodes carry triples [key, value, separator]. */
function kvPairs(n: Node): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i + 1 < n.args.length; i += 3) out.push([n.args[i], n.args[i + 1]]);
  return out;
}

function envMap(env: string[] = []): Map<string, string> {
  const m = new Map<string, string>();
  for (const e of env) {
    const i = e.indexOf('=');
    if (i > 0) m.set(e.slice(0, i), e.slice(i + 1));
  }
  return m;
}

function setEnv(env: string[] = [], k: string, v: string): string[] {
  const out = env.filter((e) => e.slice(0, e.indexOf('=')) !== k);
  const i = env.findIndex((e) => e.slice(0, e.indexOf('=')) === k);
  if (i >= 0) {
    const copy = [...env];
    copy[i] = `${k}=${v}`;
    return copy;
  }
  return [...out, `${k}=${v}`];
}

/** Simple glob match of one path against a pattern (`*`, `?`, `[...]`, per path component). */
function globToRegex(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const j = pattern.indexOf(']', i);
      if (j < 0) re += '\\[';
      else {
        re += '[' + pattern.slice(i + 1, j).replace(/^!/, '^') + ']';
        i = j;
      }
    } else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

interface Copied {
  rel: string; // path inside the staging dir
  sig: string; // content signature
}

export class Builder {
  constructor(private readonly deps: BuilderDeps) {
    fs.mkdirSync(deps.workRoot, { recursive: true });
    // What a build interrupted by a crash left: sandboxes (maybe still mounted) and contexts.
    for (const e of fs.readdirSync(deps.workRoot)) {
      const p = path.join(deps.workRoot, e);
      unmount(path.join(p, 'merged'));
      fs.rmSync(p, { recursive: true, force: true });
    }
    deps.db.exec('CREATE TABLE IF NOT EXISTS build_cache(key TEXT PRIMARY KEY, state TEXT NOT NULL, created TEXT NOT NULL)');
  }

  /** Removes every cache entry (builder prune); returns how many. */
  pruneCache(): number {
    return this.deps.db.prepare('DELETE FROM build_cache').run().changes;
  }

  /** Chain ids the cache refers to (kept by layer GC while cached). */
  cachedChains(): Set<string> {
    const out = new Set<string>();
    for (const r of this.deps.db.prepare('SELECT state FROM build_cache').all() as { state: string }[]) {
      for (const c of chainIds((JSON.parse(r.state) as State).diffIds)) out.add(c);
    }
    return out;
  }

  async build(context: Readable, opts: BuildOptions, emit: Emit): Promise<string> {
    const work = fs.mkdtempSync(path.join(this.deps.workRoot, 'ctx-'));
    const ctxDir = path.join(work, 'context');
    fs.mkdirSync(ctxDir);
    try {
      await unpackLayer(context, ctxDir);
      const dfPath = path.join(ctxDir, opts.dockerfile || 'Dockerfile');
      if (!dfPath.startsWith(ctxDir + path.sep) || !fs.existsSync(dfPath)) {
        throw new BuildError(`Cannot locate specified Dockerfile: ${opts.dockerfile || 'Dockerfile'}`);
      }
      const text = fs.readFileSync(dfPath, 'utf8');
      removeIgnoredBuildFiles(ctxDir, opts.dockerfile || 'Dockerfile');
      const { nodes, escape } = parseNodes(text, opts.dockerfile || 'Dockerfile');
      return await new Run(this.deps, opts, emit, ctxDir, work, nodes, escape).execute();
    } finally {
      fs.rmSync(work, { recursive: true, force: true });
    }
  }
}

/** One build: its stages, step numbering and output. */
class Run {
  private readonly stages: Stage[];
  private readonly globals: Map<string, string | undefined> = new Map();
  private readonly stageResults = new Map<number, Promise<State>>();
  private step = 0;
  private readonly total: number;
  private readonly usedArgs = new Set<string>();

  constructor(
    private readonly deps: BuilderDeps,
    private readonly opts: BuildOptions,
    private readonly emit: Emit,
    private readonly ctxDir: string,
    private readonly work: string,
    nodes: Node[],
    private readonly escape: string,
  ) {
    const { globals, stages } = splitStages(nodes);
    this.stages = stages;
    for (const g of globals) for (const [k, v] of argPairs(g)) this.globals.set(k, opts.buildArgs[k] ?? v);
    this.total = nodes.length - globals.length;
  }

  private out(s: string): void {
    if (!this.opts.quiet) this.emit({ stream: s });
  }

  private stageByRef(ref: string, before: number): Stage | undefined {
    const byName = this.stages.find((s) => s.name === ref.toLowerCase() && s.index < before);
    if (byName) return byName;
    if (/^\d+$/.test(ref) && Number(ref) < before) return this.stages[Number(ref)];
    return undefined;
  }

  async execute(): Promise<string> {
    let target = this.stages[this.stages.length - 1];
    if (this.opts.target) {
      const t = this.stages.find((s) => s.name === this.opts.target!.toLowerCase());
      if (!t) throw new BuildError(`failed to reach build target ${this.opts.target} in Dockerfile`);
      target = t;
    }
    const state = await this.buildStage(target);
    const unused = Object.keys(this.opts.buildArgs).filter((k) => !this.usedArgs.has(k) && !PREDEFINED_ARGS.includes(k));
    if (unused.length) this.out(`[Warning] One or more build-args [${unused.join(' ')}] were not consumed\n`);
    const config = this.imageConfig(state);
    if (Object.keys(this.opts.labels).length) config.config = { ...config.config, Labels: { ...(config.config?.Labels ?? {}), ...this.opts.labels } };
    const tags = this.opts.tags.map((t) => formatReference(withDefaultTag(parseReference(t))));
    const img = this.deps.store.registerImage(Buffer.from(JSON.stringify(config)), tags);
    this.emit({ aux: { ID: img.id } });
    this.out(`Successfully built ${shortHex(img.id)}\n`);
    for (const t of this.opts.tags) this.out(`Successfully tagged ${formatReference(withDefaultTag(parseReference(t)), { familiar: true })}\n`);
    if (this.opts.quiet) this.emit({ stream: `${img.id}\n` });
    return img.id;
  }

  private imageConfig(s: State): ImageConfig {
    return {
      architecture: s.architecture,
      os: s.os,
      // The last step's time: a fully cached rebuild gives the same image id.
      created: s.history[s.history.length - 1]?.created ?? new Date(0).toISOString(),
      config: s.config,
      rootfs: { type: 'layers', diff_ids: s.diffIds },
      history: s.history,
    };
  }

  private stateId(s: State): string {
    return sha256(JSON.stringify({ ...this.imageConfig(s), created: undefined }));
  }

  private buildStage(stage: Stage): Promise<State> {
    let p = this.stageResults.get(stage.index);
    if (!p) {
      p = this.runStage(stage);
      this.stageResults.set(stage.index, p);
    }
    return p;
  }

  private header(n: Node): void {
    this.step++;
    this.out(`Step ${this.step}/${this.total} : ${n.original.replace(/\s*\n\s*/g, ' ').trim()}\n`);
  }

  private async runStage(stage: Stage): Promise<State> {
    // Stages this one needs, started together so that independent ones run in parallel.
    const deps = new Map<string, Promise<State>>();
    const fromArg = this.expandGlobal(stage.from.args[0]);
    const fromStage = this.stageByRef(fromArg, stage.index);
    if (fromStage) deps.set(String(fromStage.index), this.buildStage(fromStage));
    for (const n of stage.body) {
      const from = n.cmd === 'copy' || n.cmd === 'add' ? flagValue(n.flags, 'from') : undefined;
      const s = from !== undefined ? this.stageByRef(from, stage.index) : undefined;
      if (s) deps.set(String(s.index), this.buildStage(s));
    }
    await Promise.all(deps.values());

    this.header(stage.from);
    let state: State;
    if (fromStage) state = { ...(await this.buildStage(fromStage)) };
    else state = await this.baseState(fromArg);
    this.out(` ---> ${shortHex(this.stateId(state))}\n`);
    const args = new Map<string, string | undefined>();
    const sc = { cmdSet: false };
    const triggers = state.config.OnBuild ?? [];
    if (triggers.length) {
      this.out(`# Executing ${triggers.length} build trigger${triggers.length > 1 ? 's' : ''}\n`);
      state.config = { ...state.config, OnBuild: null };
      for (const t of triggers) {
        const { nodes } = parseNodes(t, 'ONBUILD');
        for (const n of nodes) state = await this.dispatch(stage, state, n, args, sc, true);
      }
    }
    for (const n of stage.body) {
      this.header(n);
      const before = state.key;
      state = await this.dispatch(stage, state, n, args, sc, false);
      if (n.cmd !== 'run' && n.cmd !== 'copy' && n.cmd !== 'add' && state.key !== before) {
        // Metadata steps: the cache only tells whether this exact step was seen before.
        const hit = this.cached(state.key);
        if (hit) {
          this.out(' ---> Using cache\n');
          state = hit;
        } else this.remember(state);
      }
      this.out(` ---> ${shortHex(this.stateId(state))}\n`);
    }
    return state;
  }

  private expandGlobal(word: string): string {
    const env = new Map<string, string>();
    for (const [k, v] of this.globals) if (v !== undefined) env.set(k, v);
    return expandWord(word, env, this.escape);
  }

  private async baseState(name: string): Promise<State> {
    if (name === 'scratch') return { diffIds: [], config: {}, history: [], os: 'linux', architecture: 'amd64', key: sha256('scratch') };
    let img = this.deps.store.tryResolve(name);
    if (!img || this.opts.pull) {
      await this.deps.pull(name, this.emit);
      img = this.deps.store.tryResolve(name);
    }
    if (!img) throw notFound(`No such image: ${name}`);
    const c = img.config;
    return {
      diffIds: [...c.rootfs.diff_ids],
      config: { ...(c.config ?? {}) },
      history: [...(c.history ?? [])],
      os: c.os,
      architecture: c.architecture,
      key: sha256(`image:${img.id}`),
    };
  }

  /** The environment for expansion in a step: config env, then build args in scope. */
  private scope(state: State, args: Map<string, string | undefined>): Map<string, string> {
    const m = new Map<string, string>();
    for (const [k, v] of args) if (v !== undefined) m.set(k, v);
    for (const [k, v] of envMap(state.config.Env)) m.set(k, v);
    return m;
  }

  private cached(key: string): State | undefined {
    if (this.opts.noCache) return undefined;
    const row = this.deps.db.prepare('SELECT state FROM build_cache WHERE key = ?').get(key) as { state: string } | undefined;
    if (!row) return undefined;
    const s = JSON.parse(row.state) as State;
    for (const c of chainIds(s.diffIds)) if (!this.deps.store.getLayer(c)) return undefined;
    return s;
  }

  private remember(state: State): void {
    this.deps.db.prepare('INSERT OR REPLACE INTO build_cache(key, state, created) VALUES (?,?,?)').run(state.key, JSON.stringify(state), new Date().toISOString());
  }

  /** The state after a step that added a layer; remembered in the cache. */
  private withLayer(state: State, diffId: string, createdBy: string, key: string): State {
    const next: State = {
      ...state,
      diffIds: [...state.diffIds, diffId],
      history: [...state.history, { created: new Date().toISOString(), created_by: createdBy }],
      key,
    };
    this.remember(next);
    return next;
  }

  private meta(state: State, n: Node, change: Partial<ContainerConfigPart>, createdBy: string): State {
    const key = sha256(`${state.key}\n${n.cmd}\n${JSON.stringify(change)}`);
    return {
      ...state,
      config: { ...state.config, ...change },
      history: [...state.history, { created: new Date().toISOString(), created_by: `/bin/sh -c #(nop) ${createdBy}`, empty_layer: true }],
      key,
    };
  }

  private async dispatch(stage: Stage, state: State, n: Node, args: Map<string, string | undefined>, sc: { cmdSet: boolean }, trigger: boolean): Promise<State> {
    const where = `Dockerfile:${n.startLine}`;
    const x = (w: string): string => expandWord(w, this.scope(state, args), this.escape);
    const shell = state.config.Shell ?? DEFAULT_SHELL;
    const cmdLine = (): string[] => (n.json ? n.args : [...shell, n.args.join(' ')]);
    switch (n.cmd) {
      case 'env': {
        let env = state.config.Env ?? [];
        const shown: string[] = [];
        for (const [k, v] of kvPairs(n)) {
          const val = x(v);
          env = setEnv(env, x(k), val);
          shown.push(`${x(k)}=${val}`);
        }
        return this.meta(state, n, { Env: env }, ` ENV ${shown.join(' ')}`);
      }
      case 'label': {
        const labels = { ...(state.config.Labels ?? {}) };
        const shown: string[] = [];
        for (const [k, v] of kvPairs(n)) {
          labels[x(k)] = x(v);
          shown.push(`${x(k)}=${x(v)}`);
        }
        return this.meta(state, n, { Labels: labels }, ` LABEL ${shown.join(' ')}`);
      }
      case 'maintainer':
        return { ...this.meta(state, n, {}, ` MAINTAINER ${n.args.join(' ')}`) };
      case 'arg': {
        for (const [k, def] of argPairs(n)) {
          const provided = Object.prototype.hasOwnProperty.call(this.opts.buildArgs, k) ? this.opts.buildArgs[k] : undefined;
          this.usedArgs.add(k);
          const v = provided ?? (def !== undefined ? x(def) : this.globals.get(k));
          args.set(k, v ?? undefined);
        }
        const key = sha256(`${state.key}\nARG ${JSON.stringify([...args])}`);
        return { ...state, key, history: [...state.history, { created: new Date().toISOString(), created_by: `/bin/sh -c #(nop)  ARG ${n.args.join(' ')}`, empty_layer: true }] };
      }
      case 'cmd':
        sc.cmdSet = true;
        return this.meta(state, n, { Cmd: cmdLine() }, ` CMD ${JSON.stringify(cmdLine())}`);
      case 'entrypoint': {
        const change: Partial<ContainerConfigPart> = { Entrypoint: cmdLine() };
        if (!sc.cmdSet) change.Cmd = null;
        return this.meta(state, n, change, ` ENTRYPOINT ${JSON.stringify(cmdLine())}`);
      }
      case 'expose': {
        const ports = { ...(state.config.ExposedPorts ?? {}) };
        for (const p of n.args.map(x)) {
          if (!/^\d+(-\d+)?(\/(tcp|udp|sctp))?$/.test(p)) throw new BuildError(`${where}: invalid containerPort: ${p}`);
          ports[p.includes('/') ? p : `${p}/tcp`] = {};
        }
        return this.meta(state, n, { ExposedPorts: ports }, ` EXPOSE ${n.args.map(x).join(' ')}`);
      }
      case 'volume': {
        const vols = { ...(state.config.Volumes ?? {}) };
        for (const v of n.args.map(x)) {
          if (!v) throw new BuildError(`${where}: VOLUME specified can not be an empty string`);
          vols[v] = {};
        }
        return this.meta(state, n, { Volumes: vols }, ` VOLUME [${n.args.map(x).join(' ')}]`);
      }
      case 'user':
        return this.meta(state, n, { User: x(n.args[0] ?? '') }, ` USER ${x(n.args[0] ?? '')}`);
      case 'stopsignal':
        return this.meta(state, n, { StopSignal: x(n.args[0] ?? '') }, ` STOPSIGNAL ${x(n.args[0] ?? '')}`);
      case 'shell':
        if (!n.json) throw new BuildError(`${where}: SHELL requires the arguments to be in JSON form`);
        return this.meta(state, n, { Shell: n.args }, ` SHELL ${JSON.stringify(n.args)}`);
      case 'onbuild': {
        const inner = n.original.replace(/^\s*onbuild\s+/i, '').trim();
        return this.meta(state, n, { OnBuild: [...(state.config.OnBuild ?? []), inner] }, ` ONBUILD ${inner}`);
      }
      case 'healthcheck': {
        const kind = (n.args[0] ?? '').toUpperCase();
        if (kind === 'NONE') return this.meta(state, n, { Healthcheck: { Test: ['NONE'] } }, ' HEALTHCHECK NONE');
        if (kind !== 'CMD') throw new BuildError(`${where}: Unknown type "${n.args[0]}" in HEALTHCHECK (try CMD)`);
        const rest = n.args.slice(1);
        const test = n.json ? ['CMD', ...rest] : ['CMD-SHELL', rest.join(' ')];
        const hc: Record<string, unknown> = { Test: test };
        for (const [flag, field] of [['interval', 'Interval'], ['timeout', 'Timeout'], ['start-period', 'StartPeriod'], ['start-interval', 'StartInterval']] as const) {
          const v = flagValue(n.flags, flag);
          if (v !== undefined) hc[field] = parseDuration(v);
        }
        const retries = flagValue(n.flags, 'retries');
        if (retries !== undefined) {
          if (!/^\d+$/.test(retries) || Number(retries) < 1) throw new BuildError(`${where}: --retries must be at least 1`);
          hc.Retries = Number(retries);
        }
        return this.meta(state, n, { Healthcheck: hc }, ` HEALTHCHECK &{${JSON.stringify(test)}}`);
      }
      case 'workdir': {
        let dir = x(n.args[0] ?? '');
        if (!dir) throw new BuildError(`${where}: WORKDIR requires exactly one argument`);
        if (!dir.startsWith('/')) dir = path.posix.join(state.config.WorkingDir || '/', dir);
        return this.meta(state, n, { WorkingDir: dir }, `WORKDIR ${dir}`);
      }
      case 'run':
        return this.run(stage, state, n, args, trigger);
      case 'copy':
      case 'add':
        return this.copy(stage, state, n, args);
      default:
        throw new BuildError(`${where}: unknown instruction: ${n.cmd.toUpperCase()}`);
    }
  }

  private async run(_stage: Stage, state: State, n: Node, args: Map<string, string | undefined>, _trigger: boolean): Promise<State> {
    const shell = state.config.Shell ?? DEFAULT_SHELL;
    let argv: string[];
    if (n.heredocs?.length && !n.json) {
      const doc = n.heredocs[0];
      const before = n.args.join(' ').replace(/<<-?\s*["']?\w+["']?/, '').trim();
      argv = before ? [...shell, `${before} <<'${doc.name}'\n${doc.content}${doc.name}`] : [...shell, doc.content];
    } else argv = n.json ? n.args : [...shell, n.args.join(' ')];
    // Build args are in the command's environment but not in the image (Docker's rules).
    const argEnv: string[] = [];
    for (const [k, v] of args) if (v !== undefined && !envMap(state.config.Env).has(k)) argEnv.push(`${k}=${v}`);
    const createdBy = (argEnv.length ? `|${argEnv.length} ${argEnv.join(' ')} ` : '') + (n.json ? argv.join(' ') : argv.join(' '));
    const key = sha256(`${state.key}\nRUN ${JSON.stringify(argv)}\n${JSON.stringify(argEnv)}\n${this.opts.network}`);
    const hit = this.cached(key);
    if (hit) {
      this.out(' ---> Using cache\n');
      return hit;
    }
    const sb = new Sandbox(this.deps.store, this.deps.workRoot, chainIds(state.diffIds));
    this.out(` ---> Running in ${sb.id.slice(0, 12)}\n`);
    try {
      const env = [...(state.config.Env ?? []), ...argEnv];
      if (!env.some((e) => e.startsWith('PATH='))) env.unshift('PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin');
      const code = await sb.run({
        args: argv,
        env,
        cwd: state.config.WorkingDir || '/',
        user: state.config.User ?? '',
        network: this.opts.network,
        runtimePath: this.deps.runtimePath,
        runtimeRoot: this.deps.runtimeRoot,
        cgroupParent: this.deps.cgroupParent,
        onOutput: (_s, d) => this.out(d.toString()),
      });
      if (code !== 0) throw new BuildError(`The command '${argv.join(' ')}' returned a non-zero code: ${code}`, code);
      const layer = await sb.commit();
      this.out(`Removing intermediate container ${sb.id.slice(0, 12)}\n`);
      return this.withLayer(state, layer.diffId, createdBy, key);
    } finally {
      sb.cleanup();
    }
  }

  /** COPY and ADD: files are staged in a directory shaped like the destination, then committed. */
  private async copy(stage: Stage, state: State, n: Node, args: Map<string, string | undefined>): Promise<State> {
    const where = `Dockerfile:${n.startLine}`;
    const x = (w: string): string => expandWord(w, this.scope(state, args), this.escape);
    const isAdd = n.cmd === 'add';
    const words = n.args.map(x);
    if (words.length < 2 && !n.heredocs?.length) throw new BuildError(`${where}: ${n.cmd.toUpperCase()} requires at least two arguments`);
    let dest = words[words.length - 1];
    const sources = words.slice(0, -1);
    const destIsDir = dest.endsWith('/') || sources.length > 1 || dest === '.';
    if (!dest.startsWith('/')) dest = path.posix.join(state.config.WorkingDir || '/', dest) + (dest.endsWith('/') ? '/' : '');
    const from = flagValue(n.flags, 'from');
    const chown = flagValue(n.flags, 'chown');
    const chmod = flagValue(n.flags, 'chmod');
    if (chmod !== undefined && !/^[0-7]{3,4}$/.test(chmod)) throw new BuildError(`${where}: invalid chmod parameter: ${chmod}`);
    let owner = { uid: 0, gid: 0 };
    if (chown) owner = parseUser(chown, this.deps.store, chainIds(state.diffIds));

    const staging = fs.mkdtempSync(path.join(this.work, 'stage-'));
    let srcRoot = this.ctxDir;
    let fromSandbox: Sandbox | undefined;
    try {
      if (from !== undefined) {
        const s = this.stageByRef(from, stage.index);
        let chain: string[];
        if (s) chain = chainIds((await this.buildStage(s)).diffIds);
        else {
          let img = this.deps.store.tryResolve(from);
          if (!img) {
            await this.deps.pull(from, this.emit);
            img = this.deps.store.tryResolve(from);
          }
          if (!img) throw notFound(`${where}: COPY --from: No such image or build stage: ${from}`);
          chain = img.chainIds;
        }
        fromSandbox = new Sandbox(this.deps.store, this.deps.workRoot, chain);
        fromSandbox.mount();
        srcRoot = fromSandbox.rootfs;
      }
      const put = (rel: string): string => {
        const target = path.join(staging, rel);
        fs.mkdirSync(path.dirname(target), { recursive: true });
        return target;
      };
      // Two passes: signatures first (no copying, so a cache hit costs only hashing), then, on a
      // miss, the staging copy.
      const gather = async (write: boolean): Promise<Copied[]> => {
        const copied: Copied[] = [];
        for (const h of n.heredocs ?? []) {
          const target = destIsDir || sources.length ? path.posix.join(dest, h.name) : dest;
          const content = h.expand ? x(h.content) : h.content;
          if (write) fs.writeFileSync(put(target), content, { mode: 0o644 });
          copied.push({ rel: target, sig: sha256(content) });
        }
        for (const src of sources) {
          if (isAdd && /^https?:\/\//.test(src)) {
            const name = decodeURIComponent(new URL(src).pathname.split('/').pop() || 'download');
            const target = destIsDir ? path.posix.join(dest, name) : dest;
            const file = put(target);
            if (!fs.existsSync(file)) await download(src, file);
            fs.chmodSync(file, 0o600);
            copied.push({ rel: target, sig: sha256(fs.readFileSync(file)) });
            continue;
          }
          const matches = this.matchSources(srcRoot, src, from !== undefined);
          if (!matches.length) {
            throw new BuildError(`${where}: ${n.cmd.toUpperCase()} failed: file not found in build context or excluded by .dockerignore: stat ${src}: file does not exist`);
          }
          for (const m of matches) {
            const abs = path.join(srcRoot, m);
            const st = fs.lstatSync(abs);
            if (isAdd && st.isFile() && isArchive(abs)) {
              if (write) await unpackLayer(fs.createReadStream(abs), path.dirname(put(path.posix.join(dest, '.keep'))));
              copied.push({ rel: `${dest}<-${m}`, sig: write ? '' : fileHash(abs) });
              continue;
            }
            const target = st.isDirectory() || !(destIsDir || matches.length > 1) ? dest : path.posix.join(dest, path.basename(m));
            this.copyTree(abs, target, staging, copied, st.isDirectory(), write);
          }
        }
        return copied;
      };
      const copied = await gather(false);
      const contentSig = sha256(copied.map((c) => `${c.rel}:${c.sig}`).sort().join('\n'));
      const createdBy = `/bin/sh -c #(nop) ${n.cmd.toUpperCase()} ${copied.length === 1 ? 'file' : 'multi'}:${hexOf(contentSig)} in ${dest} `;
      const key = sha256(`${state.key}\n${n.cmd} ${JSON.stringify({ dest, chown, chmod, from })}\n${contentSig}`);
      const hit = this.cached(key);
      if (hit) {
        this.out(' ---> Using cache\n');
        return hit;
      }
      const staged = await gather(true);
      if (fromSandbox) {
        fromSandbox.cleanup();
        fromSandbox = undefined;
      }
      // ownership and mode of everything staged
      for (const c of staged) {
        const p = path.join(staging, c.rel.split('<-')[0]);
        if (!fs.existsSync(p)) continue;
        applyOwnership(p, owner, chmod ? parseInt(chmod, 8) : undefined, staging);
      }
      const layer = await commitDir(this.deps.store, staging, chainIds(state.diffIds));
      return this.withLayer(state, layer.diffId, createdBy, key);
    } finally {
      fromSandbox?.cleanup();
      fs.rmSync(staging, { recursive: true, force: true });
    }
  }

  /** Resolves a COPY source (with wildcards) to paths relative to root that exist. */
  private matchSources(root: string, src: string, fromImage: boolean): string[] {
    const clean = path.posix.normalize('/' + src).slice(1) || '.';
    if (clean.startsWith('..')) throw new BuildError(`forbidden path outside the build context: ${src}`);
    if (!/[*?[]/.test(clean)) {
      const abs = path.join(root, clean);
      if (!fromImage) {
        const real = fs.existsSync(abs) ? fs.realpathSync(abs) : abs;
        if (!real.startsWith(fs.realpathSync(root))) throw new BuildError(`forbidden path outside the build context: ${src}`);
      }
      return fs.existsSync(abs) ? [clean] : [];
    }
    const parts = clean.split('/');
    let cur = [''];
    for (const part of parts) {
      const next: string[] = [];
      const re = globToRegex(part);
      for (const c of cur) {
        const dir = path.join(root, c);
        let entries: string[] = [];
        try {
          entries = fs.readdirSync(dir);
        } catch {
          continue;
        }
        for (const e of entries.sort()) if (re.test(e)) next.push(c ? `${c}/${e}` : e);
      }
      cur = next;
    }
    return cur;
  }

  /**
   * Records the signature (`write` false: mode and content hash) of a file or a directory's
   * contents, or copies it into staging at `dest` (`write` true).
   */
  private copyTree(abs: string, dest: string, staging: string, copied: Copied[], contentsOf: boolean, write: boolean): void {
    const st = fs.lstatSync(abs);
    const target = path.join(staging, dest);
    if (st.isDirectory()) {
      if (write) {
        fs.mkdirSync(target, { recursive: true });
        if (!contentsOf || dest !== '/') fs.chmodSync(target, st.mode & 0o7777);
      }
      copied.push({ rel: dest, sig: `dir:${(st.mode & 0o7777).toString(8)}` });
      for (const e of fs.readdirSync(abs).sort()) this.copyTree(path.join(abs, e), path.posix.join(dest, e), staging, copied, false, write);
      if (write) fs.utimesSync(target, st.atime, st.mtime);
      return;
    }
    if (write) fs.mkdirSync(path.dirname(target), { recursive: true });
    if (st.isSymbolicLink()) {
      const link = fs.readlinkSync(abs);
      if (write) {
        fs.rmSync(target, { force: true });
        fs.symlinkSync(link, target);
      }
      copied.push({ rel: dest, sig: `link:${link}` });
    } else if (st.isFile()) {
      if (write) {
        fs.copyFileSync(abs, target);
        fs.chmodSync(target, st.mode & 0o7777);
        fs.utimesSync(target, st.atime, st.mtime);
        copied.push({ rel: dest, sig: '' });
      } else copied.push({ rel: dest, sig: `${(st.mode & 0o7777).toString(8)}:${fileHash(abs)}` });
    }
  }
}

/**
 * As Docker's daemon does: the Dockerfile and .dockerignore are always sent, but when
 * .dockerignore names them they must not be visible to COPY/ADD.
 */
function removeIgnoredBuildFiles(ctxDir: string, dockerfile: string): void {
  const ignoreFile = path.join(ctxDir, '.dockerignore');
  if (!fs.existsSync(ignoreFile)) return;
  const matcher = createMatcher(fs.readFileSync(ignoreFile, 'utf8').split('\n'));
  for (const rel of [path.posix.normalize(dockerfile), '.dockerignore']) {
    if (matcher.ignores(rel, false)) fs.rmSync(path.join(ctxDir, rel), { force: true });
  }
}

function fileHash(file: string): string {
  const h = crypto.createHash('sha256');
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    for (;;) {
      const n = fs.readSync(fd, buf, 0, buf.length, null);
      if (n <= 0) break;
      h.update(buf.subarray(0, n));
    }
  } finally {
    fs.closeSync(fd);
  }
  return h.digest('hex');
}

function applyOwnership(p: string, owner: { uid: number; gid: number }, mode: number | undefined, staging: string): void {
  const st = fs.lstatSync(p);
  fs.lchownSync(p, owner.uid, owner.gid);
  if (mode !== undefined && !st.isSymbolicLink()) fs.chmodSync(p, mode);
  if (st.isDirectory()) for (const e of fs.readdirSync(p)) applyOwnership(path.join(p, e), owner, mode, staging);
}

function isArchive(file: string): boolean {
  const fd = fs.openSync(file, 'r');
  const head = Buffer.alloc(512);
  const n = fs.readSync(fd, head, 0, 512, 0);
  fs.closeSync(fd);
  if (n >= 2 && head[0] === 0x1f && head[1] === 0x8b) return true;
  return n >= 262 && head.toString('latin1', 257, 262) === 'ustar';
}

function download(url: string, file: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    if (u.protocol !== 'http:') return reject(new BuildError(`ADD: only http:// URLs are supported here: ${url}`));
    http
      .get(u, (res) => {
        if ((res.statusCode ?? 0) >= 400) {
          res.resume();
          return reject(new BuildError(`ADD failed: ${url}: HTTP ${res.statusCode}`));
        }
        pipeline(res, fs.createWriteStream(file)).then(resolve, reject);
      })
      .on('error', reject);
  });
}

export { EMPTY_TAR_DIFF, Readable };
