/**
 * Pieces of the Engine API fuzz test: a seeded PRNG, the route list (from the daemon's own
 * Router, so new endpoints are fuzzed without touching the test; the swagger's paths as a
 * cross-check), request mutators, and a raw HTTP client over the UNIX socket that can send what
 * no well-behaved client would (truncated bodies, lying Content-Length, NUL bytes).
 */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

/** mulberry32: small, fast, and the same sequence for the same seed everywhere. */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  next(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)];
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  bytes(n: number): Buffer {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = this.int(256);
    return b;
  }
}

export interface RouteTemplate {
  method: string;
  /** Path with `\u0000` where a name or id goes. */
  template: string;
  source: 'router' | 'swagger';
}

const HOLE = '\u0000';

/** Turns a route regex (`^\/containers\/([^/]+)\/json$`) into a template with holes for groups. */
export function templateOf(re: RegExp): string | undefined {
  const src = re.source.replace(/^\^/, '').replace(/\$$/, '');
  let out = '';
  for (let i = 0; i < src.length; i++) {
    const c = src[i];
    if (c === '\\') {
      out += src[++i];
    } else if (c === '(') {
      let depth = 1;
      let inClass = false;
      for (i++; i < src.length && depth > 0; i++) {
        if (src[i] === '\\') i++;
        else if (inClass) inClass = src[i] !== ']';
        else if (src[i] === '[') inClass = true;
        else if (src[i] === '(') depth++;
        else if (src[i] === ')') depth--;
      }
      i--;
      out += HOLE;
    } else if ('[]*+?|{}.'.includes(c)) {
      return undefined; // not a plain path with groups: covered by the swagger paths instead
    } else out += c;
  }
  return out;
}

/** Every route the daemon registers: each `*Routes(router, daemon)` of dist/src/api/routes, with a stand-in daemon. */
export async function routerRoutes(distRoot: string): Promise<RouteTemplate[]> {
  const { Router } = (await import(path.join(distRoot, 'src/api/server.js'))) as typeof import('../../src/api/server');
  const router = new Router();
  // Registration only reads properties of the daemon (d.containers...) to close over them.
  const anything: unknown = new Proxy(function () {}, {
    get: (_t, k) => (k === 'then' ? undefined : k === Symbol.toPrimitive ? () => '' : k === Symbol.iterator || k === Symbol.asyncIterator ? function* () {} : anything),
    apply: () => anything,
    construct: () => anything as object,
  });
  const dir = path.join(distRoot, 'src/api/routes');
  for (const f of fs.readdirSync(dir).filter((n) => n.endsWith('.js') && !n.endsWith('.test.js'))) {
    const mod = (await import(path.join(dir, f))) as Record<string, unknown>;
    for (const [name, fn] of Object.entries(mod)) {
      if (name.endsWith('Routes') && typeof fn === 'function') (fn as (r: unknown, d: unknown) => void)(router, anything);
    }
  }
  const out: RouteTemplate[] = [];
  for (const r of router.list()) {
    const t = templateOf(r.pattern);
    if (t !== undefined) out.push({ method: r.method, template: t, source: 'router' });
  }
  return out;
}

/** The swagger's paths and methods, `{id}`-style parameters as holes. */
export function swaggerRoutes(file: string): RouteTemplate[] {
  const out: RouteTemplate[] = [];
  let current: string | undefined;
  let inPaths = false;
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    if (/^paths:/.test(line)) inPaths = true;
    else if (/^\S/.test(line)) inPaths = false;
    if (!inPaths) continue;
    const p = /^ {2}(\/\S*):\s*$/.exec(line);
    if (p) current = p[1].replace(/\{[^}]+\}/g, HOLE);
    const m = /^ {4}(get|post|put|delete|head|patch):\s*$/.exec(line);
    if (m && current) out.push({ method: m[1].toUpperCase(), template: current, source: 'swagger' });
  }
  return out;
}

export function fillTemplate(t: string, fill: () => string): string {
  return t.split(HOLE).reduce((acc, part, i) => (i === 0 ? part : acc + fill() + part), '');
}

export interface RawReply {
  status?: number;
  headers: Record<string, string>;
  body: string;
  /** Set when no status line arrived in time. */
  timedOut?: boolean;
  error?: string;
}

/**
 * Sends raw bytes on a new connection and reads the reply head, then the body of a
 * Content-Length reply (an error's JSON). A streamed 2xx reply is cut after its head: only
 * its status matters here, and long-lived streams (logs -f, events) must not hold the test.
 */
export function rawRequest(socket: string, head: string, body: Buffer | undefined, opts: { halfClose?: boolean; timeoutMs: number; isHead?: boolean }): Promise<RawReply> {
  return new Promise((resolve) => {
    const c = net.connect(socket);
    let buf = Buffer.alloc(0);
    let done = false;
    const finish = (r: RawReply): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      c.destroy();
      resolve(r);
    };
    const timer = setTimeout(() => finish({ headers: {}, body: buf.toString('latin1'), timedOut: true }), opts.timeoutMs);
    c.on('connect', () => {
      // One write: a server that answers on the head alone must not race our body into EPIPE.
      c.write(body?.length ? Buffer.concat([Buffer.from(head, 'latin1'), body]) : head);
      if (opts.halfClose) c.end();
    });
    const parse = (ended: boolean): void => {
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const lines = buf.subarray(0, end).toString('latin1').split('\r\n');
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(lines[0])?.[1]);
      const headers: Record<string, string> = {};
      for (const l of lines.slice(1)) {
        const i = l.indexOf(':');
        if (i > 0) headers[l.slice(0, i).toLowerCase()] = l.slice(i + 1).trim();
      }
      const rest = buf.subarray(end + 4);
      const len = headers['content-length'] !== undefined ? Number(headers['content-length']) : undefined;
      if (status < 400 || opts.isHead || status === 101 || len === 0) return finish({ status, headers, body: '' });
      if (len !== undefined && rest.length >= len) return finish({ status, headers, body: rest.subarray(0, len).toString('utf8') });
      if (ended) finish({ status, headers, body: rest.toString('utf8'), error });
    };
    c.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      parse(false);
    });
    // An error (EPIPE: the server answered early and closed while we were still sending) is
    // not the end: the reply may already be buffered, so the verdict waits for 'close'.
    let error: string | undefined;
    c.on('error', (e) => (error = e.message));
    c.on('close', () => {
      parse(true);
      if (!done) finish({ headers: {}, body: buf.toString('latin1'), error });
    });
  });
}

/**
 * The property names of a swagger definition (its own and those of inline allOf parts), read
 * from the YAML by indentation: enough for the fuzzer to aim mutations at fields that exist.
 */
export function swaggerProperties(file: string, definition: string): string[] {
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  const start = lines.findIndex((l) => l === `  ${definition}:`);
  if (start < 0) return [];
  let end = start + 1;
  while (end < lines.length && !/^ {0,2}\S/.test(lines[end])) end++;
  const block = lines.slice(start + 1, end);
  const indent = (l: string): number => l.length - l.trimStart().length;
  const propLines = block.filter((l) => /^\s+properties:\s*$/.test(l));
  if (!propLines.length) return [];
  const min = Math.min(...propLines.map(indent));
  const out: string[] = [];
  let collecting = false;
  for (const l of block) {
    if (!l.trim()) continue;
    const n = indent(l);
    if (n === min && /^\s+properties:\s*$/.test(l)) collecting = true;
    else if (n <= min) collecting = false;
    else if (collecting && n === min + 2) {
      const m = /^\s+([A-Za-z][A-Za-z0-9]*):/.exec(l);
      if (m) out.push(m[1]);
    }
  }
  return out;
}
