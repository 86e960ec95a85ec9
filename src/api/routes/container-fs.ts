/**
 * A container's filesystem through the API: archive (cp both ways, and the stat of a path),
 * changes (diff), export, commit; and POST /containers/prune.
 */
import type { Router, Ctx } from '../server';
import { boolParam, filtersParam, readJson, sendJson } from '../server';
import { invalidArgument, notFound } from '../../core/errors';
import type { Daemon } from '../../daemon/daemon';
import type { ContainerRecord } from '../../daemon/containers';
import { ContainerFs } from '../../daemon/container-fs';
import { archivePath, encodeStat, extractToPath, statPath } from '../../daemon/archive';
import { containerChanges, runtimePaths } from '../../daemon/changes';
import { commitContainer, lowerDirsOf, mountDestinations } from '../../daemon/commit';
import { packTree } from '../../snapshot/copy-tar';
import { TarWriter } from '../../snapshot/unpack';
import { directorySize } from '../../util/dirsize';
import { checkFilters, createdBefore, labelsMatch } from './prune-filters';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

/** Runs `fn` with the container's filesystem open, serialised with its lifecycle. */
async function withFs<T>(d: Daemon, ref: string, fn: (v: ContainerFs, c: ContainerRecord) => Promise<T>, rootOnly = false): Promise<T> {
  const c0 = d.containers.resolve(ref);
  return d.containers.exclusive(c0.Id, async () => {
    const c = d.containers.get(c0.Id);
    if (!c) throw notFound(`No such container: ${ref}`);
    const rec = rootOnly ? { ...c, berth: { ...c.berth, mounts: [] }, HostConfig: { ...c.HostConfig, Tmpfs: undefined } } : c;
    const deps = { store: d.store, volumes: d.volumes };
    const v = ContainerFs.open(rec, d.containers.paths(c.Id), deps);
    try {
      return await fn(v, c);
    } finally {
      v.close(deps);
    }
  });
}

function pathParam(ctx: Ctx): string {
  const p = ctx.query.get('path');
  if (!p) throw invalidArgument('Path cannot be empty');
  return p;
}

/** On a failure after the headers went out, the client sees a cut connection (a truncated tar). */
async function streamTar(ctx: Ctx, headers: Record<string, string>, write: (res: NodeJS.WritableStream) => Promise<void>): Promise<void> {
  const res = ctx.res!;
  res.writeHead(200, { 'Content-Type': 'application/x-tar', ...headers });
  try {
    await write(res);
  } catch (e) {
    res.destroy(e as Error);
  }
}

const execFileP = promisify(execFile);

/** `runc pause`; returns the resume. A runtime that cannot pause (no freezer) leaves it running. */
async function freeze(d: Daemon, c: ContainerRecord): Promise<(() => Promise<void>) | undefined> {
  const rt = d.runtimes[c.berth.runtime];
  if (!rt) return undefined;
  const args = ['--root', rt.cfg.stateRoot];
  try {
    await execFileP(rt.cfg.path, [...args, 'pause', c.Id]);
  } catch {
    return undefined;
  }
  return async () => {
    await execFileP(rt.cfg.path, [...args, 'resume', c.Id]).catch((e: Error) => d.log('error', `resume ${c.Id} after commit: ${e.message}`));
  };
}

export function containerFsRoutes(r: Router, d: Daemon): void {
  const statRoute = async (ctx: Ctx): Promise<void> => {
    const ref = ctx.params[0];
    const p = pathParam(ctx);
    await withFs(d, ref, async (v) => {
      const st = statPath(v, p, ref);
      const header = { 'X-Docker-Container-Path-Stat': encodeStat(st) };
      if (ctx.req.method === 'HEAD') {
        ctx.res!.writeHead(200, header);
        ctx.res!.end();
        return;
      }
      await streamTar(ctx, header, (res) => archivePath(v, p, ref, res));
      d.emitEvent('container', 'archive-path', v.c.Id, { path: p });
    });
  };
  r.add('HEAD', /^\/containers\/([^/]+)\/archive$/, statRoute);
  r.add('GET', /^\/containers\/([^/]+)\/archive$/, statRoute);

  r.add('PUT', /^\/containers\/([^/]+)\/archive$/, async (ctx) => {
    const ref = ctx.params[0];
    const p = pathParam(ctx);
    const id = await withFs(d, ref, async (v) => {
      await extractToPath(v, p, ref, ctx.req, { noOverwriteDirNonDir: boolParam(ctx.query, 'noOverwriteDirNonDir'), copyUIDGID: boolParam(ctx.query, 'copyUIDGID') });
      return v.c.Id;
    });
    d.emitEvent('container', 'extract-to-dir', id, { path: p });
    sendJson(ctx, 200);
  });

  r.add('GET', /^\/containers\/([^/]+)\/changes$/, (ctx) => {
    const c = d.containers.resolve(ctx.params[0]);
    const changes = containerChanges(d.containers.paths(c.Id).upper, lowerDirsOf(d.store, c), runtimePaths(mountDestinations(c)));
    sendJson(ctx, 200, changes.length ? changes : null);
  });

  r.add('GET', /^\/containers\/([^/]+)\/export$/, async (ctx) => {
    await withFs(
      d,
      ctx.params[0],
      (v) =>
        streamTar(ctx, {}, async (res) => {
          const w = new TarWriter(res);
          await packTree(w, '', (rel) => path.join(v.rootfs, ...rel), { skipTop: true });
          await w.finish();
        }),
      true,
    );
    d.emitEvent('container', 'export', d.containers.resolve(ctx.params[0]).Id, {});
  });

  r.add('POST', /^\/commit$/, async (ctx) => {
    const q = ctx.query;
    const ref = q.get('container') ?? '';
    const body = (await readJson(ctx)) as Record<string, any> | null | undefined;
    const c0 = d.containers.resolve(ref);
    const img = await d.containers.exclusive(c0.Id, async () => {
      const c = d.containers.get(c0.Id) ?? c0;
      // As Docker (pause=true by default): the processes are frozen while the layer is packed.
      const frozen = boolParam(q, 'pause', true) && c.State.Running && !c.State.Paused ? await freeze(d, c) : undefined;
      try {
        return await commitContainer(d.store, c, d.containers.paths(c.Id).upper, d.store.getImage(c.Image), {
          repo: q.get('repo') || undefined,
          tag: q.get('tag') || undefined,
          comment: q.get('comment') || undefined,
          author: q.get('author') || undefined,
          changes: q.getAll('changes').filter((x) => x !== ''),
          config: body ?? null,
        });
      } finally {
        await frozen?.();
      }
    });
    d.emitEvent('container', 'commit', c0.Id, { comment: q.get('comment') ?? '', imageID: img.id, imageRef: d.store.familiarTags(img.id)[0] ?? '' });
    sendJson(ctx, 201, { Id: img.id });
  });

  r.add('POST', /^\/containers\/prune$/, async (ctx) => {
    const f = filtersParam(ctx.query);
    checkFilters(f, ['until', 'label', 'label!']);
    const deleted: string[] = [];
    let reclaimed = 0;
    for (const c of d.containers.all()) {
      if (c.State.Running || c.State.Paused || c.State.Restarting) continue;
      if (!createdBefore(c.Created, f) || !labelsMatch((c.Config.Labels as Record<string, string>) ?? {}, f)) continue;
      const size = directorySize(d.containers.paths(c.Id).upper);
      try {
        await d.containers.remove(c.Id, { force: false, volumes: false });
      } catch {
        continue; // started meanwhile, or being removed already
      }
      deleted.push(c.Id);
      reclaimed += size;
    }
    d.emitEvent('container', 'prune', '', { reclaimed: String(reclaimed) });
    sendJson(ctx, 200, { ContainersDeleted: deleted.length ? deleted : null, SpaceReclaimed: reclaimed });
  });
}
