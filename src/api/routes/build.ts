import type { Router } from '../server';
import { boolParam, filtersParam, sendJson } from '../server';
import { invalidArgument } from '../../core/errors';
import type { Daemon } from '../../daemon/daemon';
import type { BuildOptions } from '../../build/builder';

function jsonParam<T>(q: URLSearchParams, name: string, def: T): T {
  const v = q.get(name);
  if (!v) return def;
  try {
    const parsed = JSON.parse(v) as unknown;
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not an object');
    return parsed as T;
  } catch {
    throw invalidArgument(`invalid ${name} parameter: ${v}`);
  }
}

export function buildRoutes(r: Router, d: Daemon): void {
  r.add('POST', /^\/build$/, async (ctx) => {
    const q = ctx.query;
    if (q.get('remote')) throw invalidArgument('building from a remote context is not supported: send the context as a tar body');
    const platform = q.get('platform');
    if (platform && !/^linux(\/amd64)?$/.test(platform)) throw invalidArgument(`unsupported build platform: ${platform}`);
    const net = q.get('networkmode') || 'default';
    if (!['default', 'bridge', 'none', 'host'].includes(net)) throw invalidArgument(`unsupported network mode for a build: ${net}`);
    const opts: BuildOptions = {
      dockerfile: q.get('dockerfile') || 'Dockerfile',
      tags: q.getAll('t'),
      buildArgs: jsonParam(q, 'buildargs', {}),
      labels: jsonParam(q, 'labels', {}),
      target: q.get('target') || undefined,
      noCache: boolParam(q, 'nocache'),
      pull: boolParam(q, 'pull'),
      quiet: boolParam(q, 'q'),
      network: net === 'host' ? 'host' : net === 'none' ? 'none' : 'default',
    };
    const res = ctx.res!;
    res.writeHead(200, { 'Content-Type': 'application/json' });
    const emit = (m: Record<string, unknown>): void => {
      res.write(JSON.stringify(m) + '\n');
    };
    try {
      const id = await d.builder.build(ctx.req, opts, emit);
      d.emitEvent('image', 'build', id, {});
    } catch (e) {
      const message = (e as Error).message;
      const code = (e as { code?: unknown }).code;
      emit({ errorDetail: { code: typeof code === 'number' ? code : 1, message }, error: message });
    }
    res.end();
  });

  r.add('POST', /^\/build\/prune$/, (ctx) => {
    // The cache is pruned whole: a filter berth cannot apply is refused rather than ignored.
    const filters = Object.keys(filtersParam(ctx.query));
    if (filters.length) throw invalidArgument(`invalid filter '${filters[0]}': berth's build cache is pruned whole`);
    const n = d.builder.pruneCache();
    const freed = d.gcLayers();
    sendJson(ctx, 200, { CachesDeleted: n ? [`${n} cache entries`] : [], SpaceReclaimed: freed });
  });
}
