import type { Router, Ctx } from '../server';
import { boolParam, filtersParam, sendJson } from '../server';
import { invalidArgument, notImplemented } from '../../core/errors';
import type { Daemon } from '../../daemon/daemon';
import { decodeRegistryAuth } from '../../image/distribution';
import { familiarTagged } from '../../image/reference';

function header(ctx: Ctx, name: string): string | undefined {
  const v = ctx.req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/**
 * A JSON-message stream whose 200 goes out with the first message: an error before any progress
 * is still a plain HTTP error with the right status, as in Docker.
 */
function lazyJsonStream(ctx: Ctx): ((m: Record<string, unknown>) => void) & { end(): void } {
  const res = ctx.res!;
  const send = ((m: Record<string, unknown>) => {
    if (!res.headersSent) res.writeHead(200, { 'Content-Type': 'application/json' });
    res.write(JSON.stringify(m) + '\n');
  }) as ((m: Record<string, unknown>) => void) & { end(): void };
  send.end = () => {
    if (!res.headersSent) res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end();
  };
  return send;
}

function startJsonStream(ctx: Ctx): (m: Record<string, unknown>) => void {
  const res = ctx.res!;
  res.writeHead(200, { 'Content-Type': 'application/json' });
  return (m) => res.write(JSON.stringify(m) + '\n');
}

export function imageRoutes(r: Router, d: Daemon): void {
  r.add('GET', /^\/images\/json$/, (ctx) => {
    sendJson(ctx, 200, d.images.list({ all: boolParam(ctx.query, 'all'), filters: filtersParam(ctx.query) }));
  });

  r.add('POST', /^\/images\/create$/, async (ctx) => {
    const q = ctx.query;
    const fromSrc = q.get('fromSrc');
    const fromImage = q.get('fromImage');
    if (fromSrc !== null) {
      if (fromSrc !== '-') throw notImplemented('importing from a URL is not supported: send the archive in the request body (fromSrc=-)');
      const changes = q.getAll('changes');
      const img = await d.images.importTar(ctx.req, { repo: q.get('repo') ?? undefined, tag: q.get('tag') ?? undefined, changes, message: q.get('message') ?? undefined });
      const send = startJsonStream(ctx);
      send({ status: img.id });
      ctx.res!.end();
      d.emitEvent('image', 'import', img.id, {});
      return;
    }
    if (fromImage !== null) {
      const tag = q.get('tag');
      const name = tag ? (tag.startsWith('sha256:') ? `${fromImage}@${tag}` : `${fromImage}:${tag}`) : fromImage;
      const auth = decodeRegistryAuth(header(ctx, 'x-registry-auth'));
      const send = lazyJsonStream(ctx);
      await d.distribution.pull(name, { platform: q.get('platform') || undefined, auth }, send);
      d.emitEvent('image', 'pull', familiarTagged(name), { name: familiarTagged(name) });
      send.end();
      return;
    }
    throw invalidArgument('either fromSrc or fromImage must be given');
  });

  r.add('POST', /^\/images\/(.+)\/push$/, async (ctx) => {
    const auth = decodeRegistryAuth(header(ctx, 'x-registry-auth'));
    const send = lazyJsonStream(ctx);
    await d.distribution.push(ctx.params[0], { tag: ctx.query.get('tag') || undefined, auth }, send);
    const pushed = familiarTagged(ctx.query.get('tag') ? `${ctx.params[0]}:${ctx.query.get('tag')}` : ctx.params[0]);
    d.emitEvent('image', 'push', pushed, { name: pushed });
    send.end();
  });

  r.add('POST', /^\/images\/load$/, async (ctx) => {
    const res = ctx.res!;
    let started = false;
    const send = (m: Record<string, unknown>): void => {
      if (!started) {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        started = true;
      }
      res.write(JSON.stringify(m) + '\n');
    };
    const imgs = await d.images.load(ctx.req, send);
    for (const i of imgs) d.emitEvent('image', 'load', i.id, {});
    if (!started) res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end();
  });

  r.add('GET', /^\/images\/get$/, async (ctx) => {
    const names = ctx.query.getAll('names');
    if (!names.length) throw invalidArgument('no image names given');
    await save(ctx, d, names);
  });

  r.add('GET', /^\/images\/(.+)\/get$/, async (ctx) => save(ctx, d, [ctx.params[0]]));

  r.add('GET', /^\/images\/(.+)\/json$/, (ctx) => {
    sendJson(ctx, 200, d.images.inspect(d.store.resolve(ctx.params[0])));
  });

  r.add('GET', /^\/images\/(.+)\/history$/, (ctx) => {
    sendJson(ctx, 200, d.images.history(d.store.resolve(ctx.params[0])));
  });

  r.add('POST', /^\/images\/(.+)\/tag$/, (ctx) => {
    const repo = ctx.query.get('repo');
    if (!repo) throw invalidArgument('repository name must have at least one component');
    const tag = ctx.query.get('tag');
    const img = d.store.resolve(ctx.params[0]);
    d.store.tag(img.id, tag ? `${repo}:${tag}` : repo);
    d.emitEvent('image', 'tag', img.id, { name: familiarTagged(tag ? `${repo}:${tag}` : repo) });
    sendJson(ctx, 201, undefined);
  });

  r.add('DELETE', /^\/images\/(.+)$/, (ctx) => {
    const img = d.store.resolve(ctx.params[0]);
    const users = d.containers
      .all()
      .filter((c) => c.Image === img.id)
      .map((c) => ({ id: c.Id, running: c.State.Running }));
    const out = d.store.remove(ctx.params[0], { force: boolParam(ctx.query, 'force'), users });
    d.gcLayers();
    for (const o of out) {
      if (o.Untagged) d.emitEvent('image', 'untag', img.id, { name: o.Untagged });
      if (o.Deleted) d.emitEvent('image', 'delete', img.id, {});
    }
    sendJson(ctx, 200, out);
  });
}

async function save(ctx: Ctx, d: Daemon, names: string[]): Promise<void> {
  for (const n of names) d.store.resolve(n); // 404 before any byte is sent
  const res = ctx.res!;
  res.writeHead(200, { 'Content-Type': 'application/x-tar' });
  await d.images.save(names, res);
  res.end();
  for (const n of names) d.emitEvent('image', 'save', d.store.resolve(n).id, { name: n });
}
