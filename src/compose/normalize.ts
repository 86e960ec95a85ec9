/**
 * Per-file normalisation of services to their long forms (before files are merged, so that merge
 * rules work on one shape), and the merge rules of the Compose Specification.
 */
import os from 'node:os';
import path from 'node:path';
import { ComposeError } from './errors';
import type { DependsOn, Dict, PortConfig, ServiceNetwork, VolumeMount } from './model';

export function isDict(v: unknown): v is Dict {
  return !!v && typeof v === 'object' && !Array.isArray(v);
}

function str(v: unknown): string {
  return v === null || v === undefined ? '' : String(v);
}

/** A list of "K=V" strings or a map to a map; a bare "K" in a list maps to null. */
export function listOrDict(v: unknown, sep = '='): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  if (Array.isArray(v)) {
    for (const item of v) {
      const s = String(item);
      const i = s.indexOf(sep);
      if (i < 0) out[s] = null;
      else out[s.slice(0, i)] = s.slice(i + 1);
    }
  } else if (isDict(v)) {
    for (const [k, val] of Object.entries(v)) out[k] = val === null || val === undefined ? null : String(val);
  }
  return out;
}

/** POSIX-shell-like word splitting (quotes and backslashes), for string `command`/`entrypoint`. */
export function shellSplit(s: string): string[] {
  const words: string[] = [];
  let cur = '';
  let has = false;
  let q: string | undefined;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (q) {
      if (c === q) q = undefined;
      else if (c === '\\' && q === '"' && i + 1 < s.length && '"\\$`'.includes(s[i + 1])) cur += s[++i];
      else cur += c;
    } else if (c === '"' || c === "'") {
      q = c;
      has = true;
    } else if (c === '\\' && i + 1 < s.length) {
      cur += s[++i];
      has = true;
    } else if (/\s/.test(c)) {
      if (has || cur) words.push(cur);
      cur = '';
      has = false;
    } else {
      cur += c;
    }
  }
  if (q) throw new ComposeError(`invalid command line string: unterminated quote in ${JSON.stringify(s)}`);
  if (has || cur) words.push(cur);
  return words;
}

function expandRange(s: string): number[] {
  const m = /^(\d+)(?:-(\d+))?$/.exec(s);
  if (!m) throw new ComposeError(`invalid port ${JSON.stringify(s)}`);
  const a = Number(m[1]);
  const b = m[2] ? Number(m[2]) : a;
  return Array.from({ length: b - a + 1 }, (_, i) => a + i);
}

/** `[[ip:]published:]target[/proto]`, with ranges, to long syntax. */
export function parsePort(v: unknown): PortConfig[] {
  if (typeof v === 'number') return [{ target: v, protocol: 'tcp', mode: 'ingress' }];
  if (isDict(v)) {
    const p: PortConfig = { target: Number(v.target), protocol: str(v.protocol) || 'tcp', mode: str(v.mode) || 'ingress' };
    if (v.published !== undefined && v.published !== null) p.published = String(v.published);
    if (v.host_ip) p.host_ip = String(v.host_ip);
    return [p];
  }
  const spec = String(v);
  const [body, proto = 'tcp'] = spec.split('/');
  let ip: string | undefined;
  let rest = body;
  const bracket = /^\[([^\]]+)\]:(.*)$/.exec(body);
  if (bracket) [, ip, rest] = bracket;
  const parts = rest.split(':');
  if (!bracket && parts.length === 3) ip = parts.shift();
  if (parts.length > 2) throw new ComposeError(`invalid port ${JSON.stringify(spec)}`);
  const targets = expandRange(parts[parts.length - 1]);
  const published = parts.length === 2 && parts[0] !== '' ? parts[0] : undefined;
  const pubs = published && published.includes('-') ? expandRange(published) : undefined;
  if (pubs && pubs.length !== targets.length && targets.length !== 1) throw new ComposeError(`invalid port ${JSON.stringify(spec)}: ranges differ in size`);
  return targets.map((t, i) => {
    const p: PortConfig = { target: t, protocol: proto, mode: 'ingress' };
    if (published) p.published = pubs ? String(targets.length === 1 ? published : pubs[i]) : published;
    if (ip) p.host_ip = ip;
    return p;
  });
}

function resolvePath(base: string, p: string): string {
  if (p === '~' || p.startsWith('~/')) return path.join(os.homedir(), p.slice(1));
  return path.resolve(base, p);
}

/** Short volume syntax `[source:]target[:mode]` to long syntax; relative bind sources resolved against `base`. */
export function parseVolume(v: unknown, base: string): VolumeMount {
  if (isDict(v)) {
    const m = { ...v } as unknown as VolumeMount;
    m.type = (str(v.type) || 'volume') as VolumeMount['type'];
    if (m.type === 'bind' && m.source) m.source = resolvePath(base, m.source);
    return m;
  }
  const parts = String(v).split(':');
  if (parts.length === 1) return { type: 'volume', target: parts[0] };
  const [source, target, mode = ''] = parts;
  const bind = source.startsWith('.') || source.startsWith('/') || source.startsWith('~');
  const m: VolumeMount = bind ? { type: 'bind', source: resolvePath(base, source), target, bind: { create_host_path: true } } : { type: 'volume', source, target, volume: {} };
  const opts = mode.split(',').filter(Boolean);
  if (opts.includes('ro')) m.read_only = true;
  if (bind) {
    const prop = opts.find((o) => /^r?(shared|slave|private)$/.test(o));
    if (prop) m.bind = { ...m.bind, propagation: prop };
  } else if (opts.includes('nocopy')) m.volume = { nocopy: true };
  return m;
}

function dependsOn(v: unknown): Record<string, DependsOn> {
  const out: Record<string, DependsOn> = {};
  if (Array.isArray(v)) for (const s of v) out[String(s)] = { condition: 'service_started', required: true };
  else if (isDict(v)) {
    for (const [k, d] of Object.entries(v)) {
      const o = isDict(d) ? d : {};
      const dep: DependsOn = { condition: (str(o.condition) || 'service_started') as DependsOn['condition'], required: o.required !== false };
      if (o.restart !== undefined) dep.restart = Boolean(o.restart);
      out[k] = dep;
    }
  }
  return out;
}

function serviceNetworks(v: unknown): Record<string, ServiceNetwork | null> {
  const out: Record<string, ServiceNetwork | null> = {};
  if (Array.isArray(v)) for (const n of v) out[String(n)] = null;
  else if (isDict(v)) for (const [k, n] of Object.entries(v)) out[k] = isDict(n) ? (n as ServiceNetwork) : null;
  return out;
}

const strList = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : v === undefined || v === null ? [] : [String(v)]);

/** One service of one file to long forms; paths resolved against `base`. */
export function normalizeService(raw: Dict, base: string): Dict {
  const s: Dict = { ...raw };
  if (s.build !== undefined) {
    const b: Dict = typeof s.build === 'string' ? { context: s.build } : { ...(s.build as Dict) };
    b.context = resolvePath(base, str(b.context) || '.');
    if (b.args !== undefined) b.args = listOrDict(b.args);
    if (b.labels !== undefined) b.labels = listOrDict(b.labels);
    s.build = b;
  }
  for (const k of ['command', 'entrypoint']) if (typeof s[k] === 'string') s[k] = shellSplit(s[k] as string);
  for (const k of ['environment', 'labels', 'sysctls', 'annotations']) if (s[k] !== undefined) s[k] = listOrDict(s[k]);
  if (s.env_file !== undefined) {
    const files = Array.isArray(s.env_file) ? s.env_file : [s.env_file];
    s.env_file = files.map((f) => (isDict(f) ? { path: resolvePath(base, str(f.path)), required: f.required !== false } : { path: resolvePath(base, String(f)), required: true }));
  }
  if (s.ports !== undefined) s.ports = (s.ports as unknown[]).flatMap(parsePort);
  if (s.expose !== undefined) s.expose = (s.expose as unknown[]).map(String);
  if (s.volumes !== undefined) s.volumes = (s.volumes as unknown[]).map((v) => parseVolume(v, base));
  for (const k of ['dns', 'dns_search', 'tmpfs']) if (s[k] !== undefined) s[k] = strList(s[k]);
  if (s.networks !== undefined) s.networks = serviceNetworks(s.networks);
  if (s.depends_on !== undefined) s.depends_on = dependsOn(s.depends_on);
  if (s.extra_hosts !== undefined) {
    s.extra_hosts = Array.isArray(s.extra_hosts)
      ? s.extra_hosts.map((h) => String(h).replace(/^([^=:]+)=/, '$1:'))
      : Object.entries(s.extra_hosts as Dict).flatMap(([h, ip]) => strList(ip).map((one) => `${h}:${one}`));
  }
  if (isDict(s.healthcheck) && typeof s.healthcheck.test === 'string') s.healthcheck = { ...s.healthcheck, test: ['CMD-SHELL', s.healthcheck.test] };
  return s;
}

/** Keys whose sequences an override replaces instead of extending. */
const REPLACED = new Set(['command', 'entrypoint', 'healthcheck.test', 'profiles']);

function uniqueConcat(a: unknown[], b: unknown[]): unknown[] {
  const seen = new Set(a.map((x) => JSON.stringify(x)));
  const out = [...a];
  for (const x of b) {
    const k = JSON.stringify(x);
    if (!seen.has(k)) out.push(x);
    seen.add(k);
  }
  return out;
}

/** Merges `over` into `base` by the spec's rules; `key` is the dotted path inside a service. */
export function mergeValues(base: unknown, over: unknown, key = ''): unknown {
  if (over === undefined) return base;
  if (REPLACED.has(key)) return over;
  if (key === 'volumes' && Array.isArray(base) && Array.isArray(over)) {
    const byTarget = new Map<string, unknown>();
    for (const v of [...base, ...over] as VolumeMount[]) byTarget.set(v.target, v);
    return [...byTarget.values()];
  }
  if (Array.isArray(base) && Array.isArray(over)) return uniqueConcat(base, over);
  if (isDict(base) && isDict(over)) {
    const out: Dict = { ...base };
    for (const [k, v] of Object.entries(over)) out[k] = mergeValues(base[k], v, key ? `${key}.${k}` : k);
    return out;
  }
  return over;
}
