/**
 * Loading a compose project: file discovery, .env / --env-file, interpolation, per-file schema
 * validation, `include`, `extends`, merging of several -f files, profiles, the project name, and
 * the checks that need the whole model (undefined networks/volumes/services, depends_on cycles).
 */
import fs from 'node:fs';
import path from 'node:path';
import { ComposeError, FILE_NOT_FOUND, PARSE_FAILURE } from './errors';
import { interpolate, interpolateTree, type Lookup } from './interpolate';
import { parseYaml } from './yaml';
import { formatSchemaError, validateCompose } from './schema';
import { isDict, listOrDict, mergeValues, normalizeService } from './normalize';
import type { Dict, Project, Service, TopLevelResource } from './model';

export interface LoadOptions {
  files?: string[];
  projectName?: string;
  projectDirectory?: string;
  envFiles?: string[];
  profiles?: string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

export const DEFAULT_FILES = ['compose.yaml', 'compose.yml', 'docker-compose.yml', 'docker-compose.yaml'];

/** compose.yaml and friends in `dir` or the nearest parent that has one. */
export function discoverFile(dir: string): string {
  for (let d = path.resolve(dir); ; d = path.dirname(d)) {
    for (const f of DEFAULT_FILES) if (fs.existsSync(path.join(d, f))) return path.join(d, f);
    if (path.dirname(d) === d) break;
  }
  throw new ComposeError('no configuration file provided: not found', FILE_NOT_FOUND);
}

/** A .env file: KEY=VALUE lines, `export` prefixes, # comments, single/double quotes. */
export function parseDotenv(text: string, lookup: Lookup = () => undefined): Record<string, string> {
  const out: Record<string, string> = {};
  const look: Lookup = (n) => out[n] ?? lookup(n);
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*(?:=\s*(.*))?$/.exec(line);
    if (!m) throw new ComposeError(`unexpected character in variable name: ${JSON.stringify(line)}`);
    let v = m[2] ?? '';
    if (v.startsWith("'")) v = v.slice(1, v.lastIndexOf("'") > 0 ? v.lastIndexOf("'") : undefined);
    else if (v.startsWith('"')) {
      v = v.slice(1, v.lastIndexOf('"') > 0 ? v.lastIndexOf('"') : undefined).replace(/\\n/g, '\n').replace(/\\(["\\])/g, '$1');
      v = interpolate(v, look);
    } else {
      v = interpolate(v.replace(/\s+#.*$/, ''), look);
    }
    out[m[1]] = v;
  }
  return out;
}

function readText(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new ComposeError(`${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (err as Error).message}`);
  }
}

/** The interpolation environment: .env (or --env-file) under the process environment. */
function projectEnv(opts: LoadOptions, projectDir: string): Record<string, string> {
  const env = opts.env ?? process.env;
  const envFiles = opts.envFiles?.length ? opts.envFiles.map((f) => path.resolve(opts.cwd ?? process.cwd(), f)) : [path.join(projectDir, '.env')];
  const out: Record<string, string> = {};
  for (const f of envFiles) {
    if (!fs.existsSync(f)) {
      if (opts.envFiles?.length) throw new ComposeError(`couldn't find env file: ${f}`);
      continue;
    }
    Object.assign(out, parseDotenv(readText(f), (n) => out[n] ?? env[n]));
  }
  for (const [k, v] of Object.entries(env)) if (v !== undefined) out[k] = v;
  return out;
}

/** Reads, interpolates and validates one file; relative paths are resolved against `base`. */
function readFile(file: string, lookup: Lookup, base: string): Dict {
  const doc = parseYaml(readText(file), file);
  if (doc === null || doc === undefined) throw new ComposeError(`${file}: empty compose file`, PARSE_FAILURE);
  if (!isDict(doc)) throw new ComposeError(`validating ${file}: (root) must be a mapping`, PARSE_FAILURE);
  const model = interpolateTree(doc, lookup, file) as Dict;
  const errors = validateCompose(model);
  if (errors.length) throw new ComposeError(errors.map((e) => formatSchemaError(file, e)).join('\n'), PARSE_FAILURE);
  const services: Dict = {};
  for (const [name, svc] of Object.entries((model.services as Dict | undefined) ?? {})) services[name] = normalizeService((svc ?? {}) as Dict, base);
  return { ...model, services };
}

/** Resolves `extends` of every service in `model` (which came from `file`). */
function resolveExtends(model: Dict, file: string, lookup: Lookup, chain: string[] = []): void {
  const services = model.services as Record<string, Dict>;
  const resolveOne = (name: string, seen: string[]): Dict => {
    const svc = services[name];
    if (!svc) throw new ComposeError(`${file}: cannot extend service "${name}": service not found`);
    const ext = svc.extends;
    if (ext === undefined) return svc;
    const key = `${file}#${name}`;
    if (seen.includes(key)) throw new ComposeError(`${file}: services.${name}.extends: circular reference: ${[...seen, key].join(' -> ')}`);
    const spec = typeof ext === 'string' ? { service: ext } : (ext as Dict);
    let base: Dict;
    if (spec.file) {
      const other = path.resolve(path.dirname(file), String(spec.file));
      const otherModel = readFile(other, lookup, path.dirname(other));
      resolveExtends(otherModel, other, lookup, [...seen, key]);
      base = (otherModel.services as Record<string, Dict>)[String(spec.service)];
      if (!base) throw new ComposeError(`${file}: services.${name}.extends: service "${String(spec.service)}" not found in ${other}`);
    } else {
      base = resolveOne(String(spec.service), [...seen, key]);
    }
    const { extends: _drop, ...own } = svc;
    void _drop;
    const { depends_on: _d, ...inherited } = base;
    void _d;
    const merged = mergeValues(inherited, own) as Dict;
    services[name] = merged;
    return merged;
  };
  for (const name of Object.keys(services)) resolveOne(name, chain);
}

/** Loads one file with its includes and extends resolved. */
function loadFile(file: string, lookup: Lookup, base: string, seen: string[]): Dict {
  if (seen.includes(file)) throw new ComposeError(`include cycle: ${[...seen, file].join(' -> ')}`);
  const model = readFile(file, lookup, base);
  resolveExtends(model, file, lookup);
  for (const inc of (model.include as unknown[] | undefined) ?? []) {
    const spec = isDict(inc) ? inc : { path: inc };
    const paths = (Array.isArray(spec.path) ? spec.path : [spec.path]).map((p) => path.resolve(base, String(p)));
    const incDir = spec.project_directory ? path.resolve(base, String(spec.project_directory)) : path.dirname(paths[0]);
    let sub: Dict = {};
    for (const p of paths) sub = mergeModels(sub, loadFile(p, lookup, incDir, [...seen, file]));
    for (const section of ['services', 'networks', 'volumes']) {
      const mine = (model[section] ?? {}) as Dict;
      for (const [k, v] of Object.entries((sub[section] ?? {}) as Dict)) {
        if (k in mine) throw new ComposeError(`${file}: include: ${section}.${k} from ${paths.join(', ')} conflicts with a definition in ${file}`);
        mine[k] = v;
      }
      model[section] = mine;
    }
  }
  delete model.include;
  return model;
}

function mergeModels(a: Dict, b: Dict): Dict {
  const out: Dict = { ...a, ...b };
  for (const section of ['services', 'networks', 'volumes', 'secrets', 'configs']) {
    const merged: Dict = { ...((a[section] ?? {}) as Dict) };
    for (const [k, v] of Object.entries((b[section] ?? {}) as Dict)) merged[k] = k in merged ? mergeValues(merged[k], v) : v;
    if (a[section] !== undefined || b[section] !== undefined) out[section] = merged;
  }
  return out;
}

const NAME_RE = /^[a-z0-9][a-z0-9_-]*$/;

export function normalizeProjectName(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9_-]/g, '').replace(/^[_-]+/, '');
}

function projectName(opts: LoadOptions, model: Dict, dir: string, env: Record<string, string>): string {
  const explicit = opts.projectName || env.COMPOSE_PROJECT_NAME || (typeof model.name === 'string' ? model.name : '');
  if (explicit) {
    if (!NAME_RE.test(explicit)) throw new ComposeError(`invalid project name ${JSON.stringify(explicit)}: must consist only of lowercase alphanumeric characters, hyphens, and underscores as well as start with a letter or number`);
    return explicit;
  }
  const n = normalizeProjectName(path.basename(dir));
  if (!n) throw new ComposeError(`project name must not be empty`);
  return n;
}

/** Loads the project the options describe. */
export function loadProject(opts: LoadOptions = {}): Project {
  const cwd = opts.cwd ?? process.cwd();
  const env = opts.env ?? process.env;
  let files = opts.files?.length ? opts.files : env.COMPOSE_FILE ? env.COMPOSE_FILE.split(path.delimiter) : [];
  if (!files.length) {
    try {
      files = [discoverFile(opts.projectDirectory ? path.resolve(cwd, opts.projectDirectory) : cwd)];
    } catch (err) {
      // `-p NAME down|ps|logs|...` without a file works on what carries the project's labels.
      const name = opts.projectName || env.COMPOSE_PROJECT_NAME;
      if (!name) throw err;
      return emptyProject(name, path.resolve(cwd, opts.projectDirectory ?? '.'));
    }
  }
  files = files.map((f) => path.resolve(cwd, f));
  const projectDir = path.resolve(cwd, opts.projectDirectory ?? path.dirname(files[0]));
  const environment = projectEnv(opts, projectDir);
  const lookup: Lookup = (n) => environment[n];
  let model: Dict = {};
  for (const f of files) model = mergeModels(model, loadFile(f, lookup, projectDir, []));
  const name = projectName(opts, model, projectDir, environment);
  return finalize(model, name, projectDir, files, environment, opts.profiles ?? listFromEnv(env.COMPOSE_PROFILES));
}

function emptyProject(name: string, workingDir: string): Project {
  if (!NAME_RE.test(name)) throw new ComposeError(`invalid project name ${JSON.stringify(name)}`);
  return { name, workingDir, files: [], services: {}, networks: {}, volumes: {}, disabled: {}, environment: {}, secrets: {}, configs: {} };
}

function listFromEnv(v: string | undefined): string[] {
  return v ? v.split(',').map((s) => s.trim()).filter(Boolean) : [];
}

function topLevel(section: Dict | undefined, project: string): Record<string, TopLevelResource> {
  const out: Record<string, TopLevelResource> = {};
  for (const [key, raw] of Object.entries(section ?? {})) {
    const r: Dict = isDict(raw) ? { ...raw } : {};
    if (isDict(r.external)) {
      if (r.external.name) r.name = r.external.name;
      r.external = true;
    }
    if (r.labels !== undefined) r.labels = listOrDict(r.labels);
    r.name = r.name ? String(r.name) : r.external ? key : `${project}_${key}`;
    out[key] = r as TopLevelResource;
  }
  return out;
}

/** Folds env_file into environment (environment wins) and resolves bare names from the shell. */
function resolveEnvironment(s: Dict, env: Record<string, string>): void {
  const fromFiles: Record<string, string> = {};
  for (const f of (s.env_file as { path: string; required: boolean }[] | undefined) ?? []) {
    if (!fs.existsSync(f.path)) {
      if (f.required) throw new ComposeError(`env file ${f.path} not found`);
      continue;
    }
    Object.assign(fromFiles, parseDotenv(readText(f.path), (n) => fromFiles[n] ?? env[n]));
  }
  delete s.env_file;
  const merged: Record<string, string | null> = { ...fromFiles, ...((s.environment as Record<string, string | null> | undefined) ?? {}) };
  for (const [k, v] of Object.entries(merged)) {
    if (v !== null) continue;
    if (env[k] !== undefined) merged[k] = env[k];
    else delete merged[k];
  }
  if (Object.keys(merged).length || s.environment !== undefined) s.environment = merged;
}

function finalize(model: Dict, name: string, workingDir: string, files: string[], env: Record<string, string>, profiles: string[]): Project {
  const networks = topLevel(model.networks as Dict | undefined, name);
  const volumes = topLevel(model.volumes as Dict | undefined, name);
  const services: Record<string, Service> = {};
  const disabled: Record<string, Service> = {};
  const all = profiles.includes('*');
  for (const [sname, raw] of Object.entries((model.services ?? {}) as Record<string, Dict>)) {
    const s = { ...raw, name: sname } as Dict;
    resolveEnvironment(s, env);
    if (!s.network_mode && !s.networks) s.networks = { default: null };
    implicitDependencies(s);
    const deploy = s.deploy as Dict | undefined;
    if (s.scale === undefined && deploy && typeof deploy.replicas === 'number') s.scale = deploy.replicas;
    const sp = (s.profiles as string[] | undefined) ?? [];
    if (sp.length && !all && !sp.some((p) => profiles.includes(p))) disabled[sname] = s as Service;
    else services[sname] = s as Service;
  }
  const usesDefault = Object.values(services).some((s) => s.networks && 'default' in s.networks);
  if (usesDefault && !networks.default) networks.default = { name: `${name}_default` };
  checkReferences(services, networks, volumes, files[0]);
  checkCycles(services, files[0]);
  const used = new Set(Object.values(services).flatMap((s) => Object.keys(s.networks ?? {})));
  for (const k of Object.keys(networks)) if (k === 'default' && !used.has(k)) delete networks[k];
  const fileBased = (section: unknown): Record<string, Dict> => {
    const out: Record<string, Dict> = {};
    for (const [k, v] of Object.entries((section ?? {}) as Record<string, Dict>)) out[k] = v.file ? { ...v, file: path.resolve(workingDir, String(v.file)) } : { ...v };
    return out;
  };
  return { name, workingDir, files, services, networks, volumes, disabled, environment: env, secrets: fileBased(model.secrets), configs: fileBased(model.configs) };
}

/** `network_mode: service:x` and `volumes_from: [x]` make x start first, as compose does. */
function implicitDependencies(s: Dict): void {
  const deps = { ...((s.depends_on ?? {}) as Record<string, unknown>) };
  const add = (n: string): void => {
    if (!(n in deps)) deps[n] = { condition: 'service_started', required: true };
  };
  const mode = typeof s.network_mode === 'string' ? /^service:(.+)$/.exec(s.network_mode) : null;
  if (mode) add(mode[1]);
  for (const v of (s.volumes_from as string[] | undefined) ?? []) if (!v.startsWith('container:')) add(v.split(':')[0]);
  if (Object.keys(deps).length) s.depends_on = deps;
}

function checkReferences(services: Record<string, Service>, networks: Dict, volumes: Dict, file: string): void {
  for (const s of Object.values(services)) {
    for (const n of Object.keys(s.networks ?? {})) {
      if (!(n in networks)) throw new ComposeError(`${file}: services.${s.name}.networks: service "${s.name}" refers to undefined network ${n}: invalid compose project`, PARSE_FAILURE);
    }
    for (const v of s.volumes ?? []) {
      if (v.type === 'volume' && v.source && !(v.source in volumes)) throw new ComposeError(`${file}: services.${s.name}.volumes: service "${s.name}" refers to undefined volume ${v.source}: invalid compose project`, PARSE_FAILURE);
    }
    if ((s.scale ?? 1) > 1 && s.container_name) throw new ComposeError(`${file}: services.${s.name}: service "${s.name}" has container_name set and cannot be scaled`, PARSE_FAILURE);
    for (const [dep, d] of Object.entries(s.depends_on ?? {})) {
      if (!(dep in services) && d.required) throw new ComposeError(`${file}: services.${s.name}.depends_on: service "${s.name}" depends on undefined service "${dep}": invalid compose project`, PARSE_FAILURE);
    }
  }
}

/** Rejects a dependency cycle, naming it. */
function checkCycles(services: Record<string, Service>, file: string): void {
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (n: string, trail: string[]): void => {
    if (state.get(n) === 'done' || !services[n]) return;
    if (state.get(n) === 'visiting') {
      const cycle = [...trail.slice(trail.indexOf(n)), n];
      throw new ComposeError(`${file}: services.${n}.depends_on: dependency cycle detected: ${cycle.join(' -> ')}`, PARSE_FAILURE);
    }
    state.set(n, 'visiting');
    for (const d of Object.keys(services[n].depends_on ?? {})) visit(d, [...trail, n]);
    state.set(n, 'done');
  };
  for (const n of Object.keys(services)) visit(n, []);
}

/** Services in an order where each comes after everything it depends on (stable by name). */
export function startOrder(services: Record<string, Service>, only?: string[]): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  const visit = (n: string): void => {
    if (seen.has(n) || !services[n]) return;
    seen.add(n);
    for (const d of Object.keys(services[n].depends_on ?? {}).sort()) visit(d);
    out.push(n);
  };
  for (const n of (only ?? Object.keys(services)).slice().sort()) visit(n);
  return out;
}

/** The model as `config` prints it. */
export function configModel(p: Project): Dict {
  const services: Dict = {};
  for (const k of Object.keys(p.services).sort()) {
    const { name: _n, ...rest } = p.services[k];
    void _n;
    services[k] = sortKeys(rest);
  }
  const out: Dict = { name: p.name, services };
  if (Object.keys(p.networks).length) out.networks = sortKeys(p.networks);
  if (Object.keys(p.volumes).length) out.volumes = sortKeys(p.volumes);
  if (Object.keys(p.secrets).length) out.secrets = sortKeys(p.secrets);
  if (Object.keys(p.configs).length) out.configs = sortKeys(p.configs);
  return out;
}

function sortKeys(v: unknown): Dict {
  const d = v as Dict;
  const out: Dict = {};
  for (const k of Object.keys(d).sort()) out[k] = isDict(d[k]) ? sortKeys(d[k]) : d[k];
  return out;
}
