/** The /networks endpoints of the Engine API (Docker's shapes and status codes). */
import type { Router } from '../server';
import { filtersParam, readJsonObject, sendJson } from '../server';
import { invalidArgument } from '../../core/errors';
import type { Daemon } from '../../daemon/daemon';
import { validateBody, NETWORK_CREATE, NETWORK_CONNECT } from '../validate';

export function networkRoutes(r: Router, d: Daemon): void {
  const N = d.network;

  r.add('GET', /^\/networks$/, (ctx) => {
    const list = N.list(filtersParam(ctx.query));
    sendJson(
      ctx,
      200,
      list.map((n) => ({ ...N.inspect(n), Containers: {} })),
    );
  });

  r.add('POST', /^\/networks\/create$/, async (ctx) => {
    const body = await readJsonObject(ctx);
    validateBody(body, NETWORK_CREATE);
    sendJson(ctx, 201, await N.create(body));
  });

  r.add('POST', /^\/networks\/prune$/, async (ctx) => {
    const deleted = await N.prune(filtersParam(ctx.query));
    sendJson(ctx, 200, { NetworksDeleted: deleted });
  });

  r.add('GET', /^\/networks\/([^/]+)$/, (ctx) => {
    sendJson(ctx, 200, N.inspect(N.find(ctx.params[0])));
  });

  r.add('DELETE', /^\/networks\/([^/]+)$/, async (ctx) => {
    await N.remove(ctx.params[0]);
    sendJson(ctx, 204);
  });

  r.add('POST', /^\/networks\/([^/]+)\/connect$/, async (ctx) => {
    const body = await readJsonObject(ctx);
    validateBody(body, NETWORK_CONNECT);
    if (typeof body.Container !== 'string' || !body.Container) throw invalidArgument('container is required');
    await N.connect(ctx.params[0], body.Container, (body.EndpointConfig as Record<string, any>) ?? {});
    sendJson(ctx, 200);
  });

  r.add('POST', /^\/networks\/([^/]+)\/disconnect$/, async (ctx) => {
    const body = await readJsonObject(ctx);
    validateBody(body, NETWORK_CONNECT);
    if (typeof body.Container !== 'string' || !body.Container) throw invalidArgument('container is required');
    await N.disconnect(ctx.params[0], body.Container, !!body.Force);
    sendJson(ctx, 200);
  });
}
