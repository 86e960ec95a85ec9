/**
 * Issue 7, acceptance 6: thousands of malformed and random requests to every endpoint. Every
 * answer must be a 4xx (or a deliberate 501/503 with a JSON message), never a 5xx crash, a
 * dropped connection or a hang; the daemon answers /_ping after every batch and stays alive; and
 * its objects are what they were, apart from those a request was answered 2xx for creating.
 *
 * Reproducible: the seed is printed; BERTH_FUZZ_SEED=<n> replays a run, BERTH_FUZZ_COUNT=<n>
 * changes its length. The daemon runs in its own network namespace (only lo), so whatever a
 * fuzzed pull, push or login tries, nothing leaves the machine.
 *
 * Also here: the JSON body limit (413), streamed bodies above that limit, the idle-body
 * timeout (408) not pinning the daemon, long-lived requests outliving that timeout, header limits.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { TestDaemon, integrationSkipReason, ROOT, waitFor } from '../helpers/daemon';
import { Rng, routerRoutes, swaggerRoutes, swaggerProperties, fillTemplate, rawRequest, type RouteTemplate, type RawReply } from '../helpers/fuzz';

const skip = integrationSkipReason();
const SWAGGER = '/work/shared/reference/engine-api-swagger.yaml';
const BODY_TIMEOUT_MS = 2000;

// Names that must never reach a file path or match anything: traversal, encodings, NULs, junk.
const BAD_NAMES = [
  '..%2Fx', '..%2F..%2Fetc%2Fpasswd', '%2e%2e', '%2e%2e%2f%2e%2e%2froot', '..', '.', '%00', 'x%00y', '%ff', '%fe%ff', '%', '%zz', '%2',
  'a'.repeat(300), 'b'.repeat(5000), '%E2%98%83', '-rf', 'a%20b', 'sha256%3A', 'sha256%3Azz', 'x%3Ay%40z', '%252e%252e', '%3Cscript%3E',
  '%27%20OR%201%3D1%20--', 'nosuchthing', '0'.repeat(64), 'deadbeef', 'UPPER', '*', '%2F', 'fz-img%3A..%2Fx', '%0d%0aX-Injected%3A%201',
];
// The fixtures: only ever named in read-only requests, so fuzzing cannot legitimately change them.
const FIXTURES = ['fz-ctr', 'fz-vol', 'fz-net', 'fz-img'];
const QKEYS = [
  'all', 'limit', 'size', 'filters', 'force', 'v', 't', 'signal', 'name', 'condition', 'tail', 'since', 'until', 'follow', 'stdout',
  'stderr', 'timestamps', 'stream', 'logs', 'fromImage', 'fromSrc', 'repo', 'tag', 'changes', 'message', 'names', 'dockerfile',
  'buildargs', 'labels', 'nocache', 'q', 'platform', 'networkmode', 'remote', 'ps_args', 'detachKeys', 'h', 'w', 'noprune', 'pause',
  'container', 'cachefrom', 'memory', 'shmsize', 'dangling', 'link', 'stdin', 'ps_args',
];
const QVALUES = [
  '1', '0', 'true', 'True', 'FALSE', 'yes', 'no', 'none', '', '-1', '99999999999999999999999', '1e999', '-9223372036854775809', '3.5',
  'NaN', 'abc', '%7B', '%7B%22a%22%3A1%7D', '%7B%22status%22%3A%5B%22bogus%22%5D%7D', '%7B%22label%22%3A%22x%22%7D', '%5B1%2C2%5D',
  'null', 'x'.repeat(8000), '%00', '..%2Fx', 'SIGNOPE', '99999', '%ff', 'next-exit', 'removed', '-', 'http%3A%2F%2F127.0.0.1%3A1%2Fx',
];
const FIELDS = [
  'Image', 'Cmd', 'Entrypoint', 'Env', 'HostConfig', 'Name', 'Driver', 'Labels', 'Config', 'Container', 'EndpointConfig', 'Force',
  'DriverOpts', 'IPAM', 'Options', 'Internal', 'Attachable', 'WorkingDir', 'User', 'ExposedPorts', 'Volumes', 'NetworkingConfig', 'Tty',
  'OpenStdin', 'StopSignal', 'StopTimeout', 'Healthcheck', 'Memory', 'CpuShares', 'Binds', 'PortBindings', 'RestartPolicy', 'Mounts',
  'LogConfig', 'NetworkMode', 'Dns', 'ExtraHosts', 'CapAdd', 'CapDrop', 'Privileged', 'Ulimits', 'Devices', 'Sysctls', 'Tmpfs',
  'ShmSize', 'username', 'password', 'serveraddress', 'EnableIPv6', 'Hostname', 'Domainname', 'AttachStdin', 'Shell', 'Unknown',
  'ReadonlyRootfs', 'SecurityOpt', 'PidMode', 'IpcMode', 'UsernsMode', 'AutoRemove', 'Init', 'OomKillDisable', 'PidsLimit', 'CgroupParent',
];

function randomValue(r: Rng, depth = 0): unknown {
  switch (r.int(depth > 2 ? 9 : 12)) {
    case 0:
      return r.pick(['', 'x', 'fz-img', 'SIGKILL', '1g', '-1g', '/', '../../etc/passwd', 'a:b:c:d', '80/tcp', 'k=v', 'host', 'none', 'container:nosuch']);
    case 1:
      return r.pick([0, -1, 1, 1.5, 2 ** 53 + 1, -(2 ** 63), 1e308, -1e308, 4294967296, 65536]);
    case 2:
      return r.chance(0.5);
    case 3:
      return null;
    case 4:
      return decodeURIComponent(r.pick(BAD_NAMES).replace(/%(?![0-9a-fA-F]{2})/g, '%25').replace(/%(f[ef]|ff)/gi, ''));
    case 5:
      return 'y'.repeat(r.pick([100, 5000, 70000]));
    case 6:
      return r.bytes(r.int(40)).toString('latin1');
    case 7:
      return String(r.int(1e6));
    case 8:
      return r.pick(['\u0000', 'a\u0000b', '\uD800', '💥', '\\', '"']);
    case 9:
    case 10:
      return Array.from({ length: r.int(4) }, () => randomValue(r, depth + 1));
    default:
      return randomObject(r, depth + 1);
  }
}

function randomObject(r: Rng, depth: number): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (let i = r.int(5); i > 0; i--) o[r.chance(0.8) ? r.pick(FIELDS) : `X${r.int(100)}`] = randomValue(r, depth);
  return o;
}

interface Spec {
  method: string;
  path: string;
  body?: Buffer;
  /** Content-Length to announce (a lie for truncated bodies). */
  length?: number;
  halfClose?: boolean;
  /** Sent with `Connection: Upgrade` / `Upgrade: tcp`, as the docker CLI's attach and exec are. */
  upgrade?: boolean;
  raw?: Buffer;
  route: string;
}

/** Fields of the bodies that have a schema (from the swagger, where it names them), by route. */
interface BodyShape {
  base: () => Record<string, unknown>;
  /** Paths (dot-separated) a mutation may replace. */
  fields: string[];
}

function bodyShapes(r: Rng): Record<string, BodyShape> {
  const props = (def: string): string[] => (fs.existsSync(SWAGGER) ? swaggerProperties(SWAGGER, def) : []);
  const config = props('ContainerConfig');
  const host = [...props('HostConfig'), ...props('Resources')].map((f) => `HostConfig.${f}`);
  const endpoint = props('EndpointSettings');
  const nested = ['HostConfig.RestartPolicy.Name', 'HostConfig.RestartPolicy.MaximumRetryCount', 'HostConfig.LogConfig.Type', 'HostConfig.LogConfig.Config', 'HostConfig.PortBindings.80/tcp', 'HostConfig.Mounts', 'Healthcheck.Test', 'Healthcheck.Interval', 'HostConfig.Ulimits', 'HostConfig.Devices', 'ExposedPorts.80/tcp', 'Volumes./data'];
  return {
    '/containers/create': {
      base: () => ({ Image: 'fz-img', Cmd: ['true'], HostConfig: { NetworkMode: 'none' }, NetworkingConfig: { EndpointsConfig: {} } }),
      fields: [...config, ...host, ...nested, ...endpoint.map((f) => `NetworkingConfig.EndpointsConfig.none.${f}`), 'NetworkingConfig.EndpointsConfig', 'HostConfig', 'NetworkingConfig'],
    },
    '/networks/create': {
      base: () => ({ Name: `fzn-${r.int(1e6)}`, Internal: true }),
      fields: ['Name', 'Driver', 'Internal', 'Attachable', 'Ingress', 'EnableIPv6', 'CheckDuplicate', 'Scope', 'ConfigOnly', 'ConfigFrom', 'IPAM', 'IPAM.Driver', 'IPAM.Config', 'IPAM.Options', 'Options', 'Labels'],
    },
    '/networks/\u0000/connect': { base: () => ({ Container: 'nosuch' }), fields: ['Container', 'EndpointConfig', ...endpoint.map((f) => `EndpointConfig.${f}`)] },
    '/networks/\u0000/disconnect': { base: () => ({ Container: 'nosuch' }), fields: ['Container', 'Force'] },
    '/volumes/create': { base: () => ({ Name: `fzv-${r.int(1e6)}` }), fields: ['Name', 'Driver', 'DriverOpts', 'Labels', 'DriverOpts.type', 'DriverOpts.device', 'DriverOpts.o', 'ClusterVolumeSpec'] },
    '/auth': { base: () => ({ username: 'u', password: 'p', serveraddress: '127.0.0.1:1' }), fields: [...props('AuthConfig'), 'auth', 'email', 'identitytoken'] },
  };
}

/** A valid body with one to three fields replaced by random values: wrong types, huge numbers, bad names. */
function structuredBody(r: Rng, shape: BodyShape): Record<string, unknown> {
  const body = shape.base();
  for (let n = 1 + r.int(3); n > 0; n--) {
    const parts = r.pick(shape.fields).split('.');
    let o = body;
    for (const k of parts.slice(0, -1)) {
      if (!o[k] || typeof o[k] !== 'object' || Array.isArray(o[k])) o[k] = {};
      o = o[k] as Record<string, unknown>;
    }
    o[parts[parts.length - 1]] = randomValue(r);
  }
  return body;
}

let SHAPES: Record<string, BodyShape> | undefined;

function randomBody(r: Rng, route: RouteTemplate): Pick<Spec, 'body' | 'length' | 'halfClose'> {
  const kind = r.int(20);
  if (kind < 3) return {};
  SHAPES ??= bodyShapes(r);
  const shape = SHAPES[route.template];
  if (shape && kind >= 12) return { body: Buffer.from(JSON.stringify(structuredBody(r, shape))) };
  if (kind < 7) {
    const bad = r.pick(['{', '{"Image": "fz-img",', '[1,2]', '"str"', '123', 'null', 'true', '{"a":}', '{"a" 1}', '{"Image":"fz-img"}}', '\u0000', '[' .repeat(5000), '{"a":'.repeat(3000)]);
    return { body: Buffer.from(bad) };
  }
  if (kind < 8) return { body: r.bytes(r.int(3000)) };
  const obj = randomObject(r, 0);
  if (route.template.endsWith('/containers/create') && r.chance(0.6)) obj.Image = 'fz-img';
  const text = Buffer.from(JSON.stringify(obj));
  if (kind < 11) {
    // Truncated: announce the whole length, send part, close our side.
    return { body: text.subarray(0, r.int(text.length)), length: text.length, halfClose: true };
  }
  if (kind === 11 && r.chance(0.2)) return { body: Buffer.from('{'), length: 11 << 20, halfClose: true }; // announced 11 MB
  return { body: text };
}

function randomSpec(r: Rng, routes: RouteTemplate[]): Spec {
  if (r.chance(0.02)) return { method: '?', path: '?', raw: r.chance(0.5) ? r.bytes(r.int(500)) : Buffer.from(`GET /${'%'.repeat(r.int(50))} HTTP/1.1\r\nHost: ${'\u0000'}\r\n\r\n`, 'latin1'), route: 'garbage' };
  const route = r.pick(routes);
  let method = route.method;
  if (r.chance(0.12)) method = r.pick(['GET', 'POST', 'PUT', 'DELETE', 'HEAD', 'PATCH', 'OPTIONS']);
  const readOnly = method === 'GET' || method === 'HEAD';
  const name = (): string => (readOnly && r.chance(0.3) ? r.pick(FIXTURES) : r.pick(BAD_NAMES));
  const prefix = r.pick(['/v1.41', '/v1.41', '/v1.41', '/v1.41', '', '/v1.24', '/v9.99', '/v0.1', '/vX', '/v1.41/v1.41']);
  const q: string[] = [];
  for (let i = r.int(4); i > 0; i--) q.push(`${r.pick(QKEYS)}=${r.pick(QVALUES)}`);
  // Forced parameters replace any random one of the same key: a handler reads the first value
  // of a repeated key (as Go's Form.Get does), so a random `filters=` before the bad one made
  // a real, unfiltered prune of the fixtures.
  const force = (key: string, value: string): void => {
    for (let i = q.length - 1; i >= 0; i--) if (q[i].startsWith(`${key}=`)) q.splice(i, 1);
    q.unshift(`${key}=${value}`);
  };
  // Prune with a filter it must reject: a prune that ignores it would remove the fixtures (and fail the state check).
  if (/prune$/.test(route.template)) force('filters', '%7Bbad');
  // A pull must never find a valid reference to fetch.
  if (route.template.endsWith('/images/create')) force('fromImage', r.pick(['..%2Fx', 'x%2FUPPER', '%00', 'a%3A%3Ab', '-x']));
  const p = `${prefix}${fillTemplate(route.template, name)}${q.length ? '?' + q.join('&') : ''}`;
  return { method, path: p, route: `${route.method} ${route.template.replace(/\u0000/g, '{}')}`, upgrade: r.chance(0.06), ...(readOnly && r.chance(0.7) ? {} : randomBody(r, route)) };
}

/** Whether a reply is an acceptable answer to malformed input; a reason if not. */
function judge(s: Spec, rep: RawReply): string | undefined {
  if (rep.timedOut) return 'no reply within 30 s (hang)';
  if (rep.status === undefined) {
    // Only a request we cut short may go unanswered (the server saw a broken request and closed).
    return s.halfClose || s.raw ? undefined : `connection closed without a reply${rep.error ? ` (${rep.error})` : ''}`;
  }
  if (rep.status >= 500 && rep.status !== 501 && rep.status !== 503) return `status ${rep.status}: ${rep.body.slice(0, 300)}`;
  if (rep.status >= 400 && s.method !== 'HEAD' && rep.body) {
    try {
      const m = (JSON.parse(rep.body) as { message?: unknown }).message;
      if (typeof m !== 'string' || !m) return `status ${rep.status} without a JSON message: ${rep.body.slice(0, 200)}`;
    } catch {
      return `status ${rep.status} with a non-JSON body: ${rep.body.slice(0, 200)}`;
    }
  }
  return undefined;
}

function send(socket: string, s: Spec): Promise<RawReply> {
  if (s.raw) return rawRequest(socket, '', s.raw, { timeoutMs: 30_000, halfClose: true });
  const len = s.length ?? s.body?.length ?? 0;
  const head = `${s.method} ${s.path} HTTP/1.1\r\nHost: berth\r\nUser-Agent: berth-fuzz\r\n${s.body ? `Content-Type: application/json\r\nContent-Length: ${len}\r\n` : ''}${s.upgrade ? 'Connection: Upgrade\r\nUpgrade: tcp' : 'Connection: close'}\r\n\r\n`;
  return rawRequest(socket, head, s.body, { timeoutMs: 30_000, halfClose: s.halfClose, isHead: s.method === 'HEAD' });
}

/** Relative paths under `dir`, `depth` levels deep. */
function tree(dir: string, depth: number, rel = ''): string[] {
  if (depth === 0) return [];
  let entries: fs.Dirent[] = [];
  try {
    entries = fs.readdirSync(path.join(dir, rel), { withFileTypes: true });
  } catch {
    return [];
  }
  return entries.flatMap((e) => {
    const p = path.join(rel, e.name);
    return [p, ...(e.isDirectory() ? tree(dir, depth - 1, p) : [])];
  });
}

describe('Engine API fuzzing and request limits', { skip }, () => {
  // Own network namespace with only lo: a fuzzed pull/push/login cannot reach anything outside.
  const d = new TestDaemon('fuzz', [], ['unshare', '--net', '--', 'env', `BERTH_API_BODY_TIMEOUT_MS=${BODY_TIMEOUT_MS}`, 'sh', '-c', 'ip link set lo up && exec "$0" "$@"']);
  const api = async (method: string, p: string, body?: unknown): Promise<{ status: number; json: any }> => {
    const r = await d.request(method, p, body === undefined ? undefined : JSON.stringify(body));
    return { status: r.status, json: r.body ? JSON.parse(r.body) : undefined };
  };

  before(async () => {
    await d.start();
    d.importBusybox('fz-img');
    const ok = (args: string[]): void => {
      const r = d.docker(args);
      assert.equal(r.code, 0, `docker ${args.join(' ')}: ${r.stderr}`);
    };
    ok(['run', '--name', 'fz-ctr', 'fz-img', 'true']);
    ok(['volume', 'create', 'fz-vol']);
    ok(['network', 'create', 'fz-net']);
  });
  after(async () => {
    assert.deepEqual(await d.cleanup(), []);
  });

  /** Everything a fuzzed request could change, in a comparable form. */
  const snapshot = async (): Promise<{ ids: Record<string, string[]>; fixtures: unknown[] }> => {
    const imgs = (await api('GET', '/images/json?all=1')).json as { Id: string; RepoTags: string[] }[];
    const ctrs = (await api('GET', '/containers/json?all=1')).json as { Id: string }[];
    const vols = (await api('GET', '/volumes')).json as { Volumes: { Name: string }[] };
    const nets = (await api('GET', '/networks')).json as { Id: string }[];
    const fixtures = [];
    for (const p of ['/containers/fz-ctr/json', '/images/fz-img/json', '/volumes/fz-vol', '/networks/fz-net']) fixtures.push((await api('GET', p)).json);
    return {
      ids: {
        images: imgs.map((i) => `${i.Id} ${[...(i.RepoTags ?? [])].sort().join(',')}`).sort(),
        containers: ctrs.map((c) => c.Id).sort(),
        volumes: vols.Volumes.map((v) => v.Name).sort(),
        networks: nets.map((n) => n.Id).sort(),
      },
      fixtures,
    };
  };

  test('thousands of malformed requests: only clean 4xx answers, the daemon stays up, state unchanged', { timeout: 600_000 }, async () => {
    const seed = Number(process.env.BERTH_FUZZ_SEED) || (Date.now() ^ (process.pid << 8)) >>> 0;
    const total = Number(process.env.BERTH_FUZZ_COUNT) || 3200;
    process.stdout.write(`# fuzz seed ${seed} (replay: BERTH_FUZZ_SEED=${seed}), ${total} requests\n`);
    const r = new Rng(seed);
    const fromRouter = await routerRoutes(path.join(ROOT, 'dist'));
    const fromSwagger = fs.existsSync(SWAGGER) ? swaggerRoutes(SWAGGER) : [];
    assert.ok(fromRouter.length >= 30, `only ${fromRouter.length} routes found in the router`);
    const served = new Set(fromRouter.map((x) => `${x.method} ${x.template}`));
    const unserved = fromSwagger.filter((x) => !served.has(`${x.method} ${x.template}`));
    process.stdout.write(`# ${fromRouter.length} router routes, ${fromSwagger.length} swagger routes (${unserved.length} not served: fuzzed for clean 404s)\n`);
    // Routes with a JSON body schema get more of the traffic: that is where handlers dig deepest.
    SHAPES = bodyShapes(r);
    const shaped = fromRouter.filter((x) => x.method === 'POST' && SHAPES![x.template]);
    const routes = [...fromRouter, ...fromRouter, ...unserved, ...Array.from({ length: 8 }, () => shaped).flat()];

    const before = await snapshot();
    const filesBefore = tree(d.dir, 3);
    const failures: string[] = [];
    const created: string[] = [];
    const statuses: Record<string, number> = {};
    const covered = new Set<string>();
    const batch = 160;
    const started = Date.now();
    for (let sent = 0; sent < total; sent += batch) {
      const specs = Array.from({ length: Math.min(batch, total - sent) }, () => randomSpec(r, routes));
      // Eight at a time: concurrency finds races, and the run stays short on two cores.
      let next = 0;
      await Promise.all(
        Array.from({ length: 8 }, async () => {
          while (next < specs.length) {
            const s = specs[next++];
            const rep = await send(d.socket, s);
            const why = judge(s, rep);
            statuses[rep.status ?? 'none'] = (statuses[rep.status ?? 'none'] ?? 0) + 1;
            if (process.env.BERTH_FUZZ_VERBOSE) process.stdout.write(`# ${rep.status} ${s.route} ${s.method} ${s.path.slice(0, 120)} ${rep.body.slice(0, 150).replace(/\n/g, ' ')}\n`);
            if (rep.status !== undefined && rep.status < 400) covered.add(s.route);
            if (why) failures.push(`${s.method} ${s.path.slice(0, 200)} body=${JSON.stringify(s.body?.subarray(0, 200).toString('latin1') ?? null)}: ${why}`);
            if (rep.status !== undefined && rep.status < 300 && s.method === 'POST') created.push(s.path);
          }
        }),
      );
      const ping = await d.request('GET', '/_ping');
      assert.equal(ping.body, 'OK', `/_ping after ${sent + specs.length} requests`);
      assert.equal(d.proc!.exitCode, null, 'berthd exited');
      assert.deepEqual(failures.slice(0, 15), [], `seed ${seed}: ${failures.length} bad answers in the first ${sent + specs.length} requests`);
    }
    process.stdout.write(`# ${total} requests in ${((Date.now() - started) / 1000).toFixed(1)} s; statuses ${JSON.stringify(statuses)}; ${created.length} POSTs accepted\n`);

    // Containers that accepted creates made go first, with their anonymous volumes: what is left
    // must be the fixtures plus what accepted volume/network/image creates made.
    const mid = await snapshot();
    for (const id of mid.ids.containers.filter((x) => !before.ids.containers.includes(x))) assert.equal((await api('DELETE', `/containers/${id}?force=1&v=1`)).status, 204);
    const after = await snapshot();
    assert.deepEqual(after.fixtures, before.fixtures, 'a fixture changed');
    // Anything new must come from an accepted create (its id is then listed in the reply): find
    // each new object and check that some accepted POST could have made it.
    const creators: Record<string, RegExp> = { containers: /\/containers\/create/, volumes: /\/volumes\/create/, networks: /\/networks\/create/, images: /\/images\/(create|load)|\/build|\/commit/ };
    for (const kind of Object.keys(before.ids)) {
      const gone = before.ids[kind].filter((x) => !after.ids[kind].includes(x));
      assert.deepEqual(gone, [], `${kind} removed or changed by the fuzzer`);
      const added = after.ids[kind].filter((x) => !before.ids[kind].includes(x));
      if (added.length) assert.ok(created.some((p) => creators[kind].test(p)), `${kind} appeared without an accepted create: ${added.join(' ')}`);
    }
    // Remove what accepted creates made, so that cleanup() finds the daemon as the test set it up.
    for (const v of after.ids.volumes.filter((x) => !before.ids.volumes.includes(x))) await api('DELETE', `/volumes/${v}`);
    for (const n of after.ids.networks.filter((x) => !before.ids.networks.includes(x))) await api('DELETE', `/networks/${n}`);
    // No name made a path outside its place: with the accepted objects gone, the daemon's
    // directories hold what they held (three levels down: containers/<id>, volumes/<name>...).
    // (Requests the fuzzer hung up on may still be cleaning up their temporary files.)
    const appeared = (): string[] => tree(d.dir, 3).filter((f) => !filesBefore.includes(f));
    await waitFor(() => appeared().length === 0, 20_000, 'temporary files to go').catch(() => undefined);
    assert.deepEqual(appeared(), [], 'files appeared');
  });

  test('a JSON body over 10 MB is refused with 413; a streamed body over it is not capped', async () => {
    const declared = await rawRequest(d.socket, `POST /v1.41/containers/create HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${11 << 20}\r\n\r\n`, Buffer.from('{"Image":'), { timeoutMs: 30_000 });
    assert.equal(declared.status, 413);
    assert.match(JSON.parse(declared.body).message, /request body is too large: the limit is 10485760 bytes/);
    // Chunked, so the daemon only learns the size while reading.
    const big = JSON.stringify({ Image: 'fz-img', Env: Array.from({ length: 120_000 }, (_, i) => `VARIABLE_${i}=${'v'.repeat(80)}`) });
    assert.ok(big.length > 10 << 20);
    const r = await d.request('POST', '/v1.41/containers/create', big, { 'Transfer-Encoding': 'chunked' }).catch((e: Error) => ({ status: 0, body: e.message, headers: {} }));
    assert.equal(r.status, 413, r.body.slice(0, 200));
    // A 12 MB import body streams into the image store.
    const dir = fs.mkdtempSync(path.join(d.dir, 'big-'));
    fs.writeFileSync(path.join(dir, 'blob'), Buffer.alloc(12 << 20, 7));
    const tar = path.join(d.dir, 'big.tar');
    assert.equal(spawnSync('tar', ['-C', dir, '-cf', tar, 'blob']).status, 0);
    const imp = d.docker(['import', tar, 'fz-big']);
    assert.equal(imp.code, 0, imp.stderr);
    assert.equal(d.docker(['rmi', 'fz-big']).code, 0);
  });

  test('a body that stops arriving gets 408 and does not pin the daemon; long-lived requests stay open', { timeout: 120_000 }, async () => {
    const t0 = Date.now();
    const stalled = rawRequest(d.socket, 'POST /v1.41/volumes/create HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n', Buffer.from('{"Name":'), { timeoutMs: 60_000 });
    // Meanwhile the daemon serves others at once.
    for (let i = 0; i < 5; i++) assert.equal((await d.request('GET', '/_ping')).body, 'OK');
    const rep = await stalled;
    assert.equal(rep.status, 408, rep.body);
    assert.match(JSON.parse(rep.body).message, /timed out reading the request body/);
    assert.ok(Date.now() - t0 >= BODY_TIMEOUT_MS - 100);
    // A client that trickles its headers holds only its own connection.
    const slow = net.connect(d.socket);
    slow.write('GET /v1.41/info HTTP/1.1\r\nHo');
    assert.equal((await d.request('GET', '/_ping')).body, 'OK');
    slow.destroy();
    // wait on a container that runs longer than the body timeout still answers when it exits.
    assert.equal(d.docker(['run', '-d', '--name', 'fz-sleeper', 'fz-img', 'sleep', String((BODY_TIMEOUT_MS / 1000) * 2)]).code, 0);
    const w = await api('POST', '/v1.41/containers/fz-sleeper/wait');
    assert.equal(w.status, 200);
    assert.equal(w.json.StatusCode, 0);
    assert.equal(d.docker(['rm', 'fz-sleeper']).code, 0);
  });

  test('a backtracking-bomb name filter is answered at once (linear-time regex, as Go RE2)', { timeout: 120_000 }, async () => {
    const name = `${'a'.repeat(60)}-x`;
    assert.equal(d.docker(['create', '--name', name, 'fz-img', 'true']).code, 0);
    assert.equal(d.docker(['volume', 'create', name]).code, 0);
    const bomb = encodeURIComponent(JSON.stringify({ name: ['^(a+)+$'] }));
    const t0 = Date.now();
    const [ps, vols, ping] = await Promise.all([api('GET', `/containers/json?all=1&filters=${bomb}`), api('GET', `/volumes?filters=${bomb}`), d.request('GET', '/_ping')]);
    assert.ok(Date.now() - t0 < 10_000, `took ${Date.now() - t0} ms`);
    assert.equal(ps.status, 200);
    assert.deepEqual(ps.json, []);
    assert.equal(vols.status, 200);
    assert.deepEqual(vols.json.Volumes, []);
    assert.equal(ping.body, 'OK');
    // Ordinary patterns still match as regular expressions.
    const some = await api('GET', `/containers/json?all=1&filters=${encodeURIComponent(JSON.stringify({ name: ['^a{60}-x$'] }))}`);
    assert.equal(some.json.length, 1);
    assert.equal(d.docker(['rm', name]).code, 0);
    assert.equal(d.docker(['volume', 'rm', name]).code, 0);
  });

  test('oversized headers get 431; unknown paths and wrong methods get 404 page not found', async () => {
    const big = await rawRequest(d.socket, `GET /v1.41/info HTTP/1.1\r\nHost: x\r\nX-Big: ${'h'.repeat(100_000)}\r\n\r\n`, undefined, { timeoutMs: 30_000 });
    assert.equal(big.status, 431);
    const longUrl = await rawRequest(d.socket, `GET /v1.41/containers/${'u'.repeat(100_000)}/json HTTP/1.1\r\nHost: x\r\n\r\n`, undefined, { timeoutMs: 30_000 });
    assert.equal(longUrl.status, 431);
    for (const [m, p] of [['GET', '/v1.41/nope'], ['PUT', '/v1.41/containers/json'], ['DELETE', '/_ping']]) {
      const r = await d.request(m, p);
      assert.equal(r.status, 404, `${m} ${p}`);
      assert.equal(JSON.parse(r.body).message, 'page not found');
    }
    assert.equal((await d.request('GET', '/_ping')).body, 'OK');
  });
});
