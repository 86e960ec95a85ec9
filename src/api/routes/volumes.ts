/** /volumes: create, list, inspect, remove, prune (the `local` driver). */
import type { Router } from '../server';
import { boolParam, filtersParam, readJsonObject, sendJson } from '../server';
import { invalidArgument } from '../../core/errors';
import type { Daemon } from '../../daemon/daemon';

function stringMap(v: unknown, field: string): Record<string, string> | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'object' || Array.isArray(v) || Object.values(v).some((x) => typeof x !== 'string')) {
    throw invalidArgument(`${field} must be an object of strings`);
  }
  return v as Record<string, string>;
}

export function volumeRoutes(r: Router, d: Daemon): void {
  const V = d.volumes;

  r.add('GET', /^\/volumes$/, (ctx) => {
    const list = V.list(filtersParam(ctx.query));
    sendJson(ctx, 200, { Volumes: list.map((v) => V.toApi(v)), Warnings: null });
  });

  r.add('POST', /^\/volumes\/create$/, async (ctx) => {
    const body = await readJsonObject(ctx);
    if (body.Name !== undefined && body.Name !== null && typeof body.Name !== 'string') throw invalidArgument('Name must be a string');
    if (body.Driver !== undefined && body.Driver !== null && typeof body.Driver !== 'string') throw invalidArgument('Driver must be a string');
    const v = V.create({
      name: (body.Name as string | undefined) || undefined,
      driver: (body.Driver as string | undefined) || 'local',
      options: stringMap(body.DriverOpts, 'DriverOpts'),
      labels: stringMap(body.Labels, 'Labels'),
    });
    sendJson(ctx, 201, V.toApi(v));
  });

  r.add('POST', /^\/volumes\/prune$/, (ctx) => {
    sendJson(ctx, 200, V.prune(filtersParam(ctx.query), ctx.version));
  });

  r.add('GET', /^\/volumes\/([^/]+)$/, (ctx) => {
    sendJson(ctx, 200, V.toApi(V.get(ctx.params[0])));
  });

  r.add('DELETE', /^\/volumes\/([^/]+)$/, (ctx) => {
    V.remove(ctx.params[0], boolParam(ctx.query, 'force'));
    sendJson(ctx, 204);
  });
}
