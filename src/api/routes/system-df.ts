/**
 * Disk use and its reclaiming: GET /system/df (Docker's DiskUsage: LayersSize, Images with
 * SharedSize and Containers counts, Containers with SizeRw/SizeRootFs, Volumes with UsageData,
 * BuildCache) and POST /images/prune (dangling only by default; `dangling=false` takes every
 * image no container uses).
 */
import type { Router } from '../server';
import { filtersParam, sendJson } from '../server';
import type { Daemon } from '../../daemon/daemon';
import type { ImageRecord } from '../../image/types';
import { directorySize } from '../../util/dirsize';
import { summary as containerSummary } from './containers';
import { checkFilters, createdBefore, labelsMatch } from './prune-filters';

function imageCreated(img: ImageRecord): string {
  return img.config.created ?? img.created;
}

export function diskUsage(d: Daemon, types: Set<string>): Record<string, unknown> {
  const all = types.size === 0;
  const out: Record<string, unknown> = {};
  const containers = d.containers.all();
  if (all || types.has('image')) {
    const images = d.store.listImages();
    // How many images use each layer: a layer used by two or more is shared.
    const users = new Map<string, number>();
    for (const img of images) for (const ch of new Set(img.chainIds)) users.set(ch, (users.get(ch) ?? 0) + 1);
    const layerSize = (ch: string): number => d.store.getLayer(ch)?.size ?? 0;
    let layersSize = 0;
    for (const ch of users.keys()) layersSize += layerSize(ch);
    const tags = d.store.allTags();
    out.LayersSize = layersSize;
    out.Images = images.map((img) => {
      const s = d.images.summary(img, tags.get(img.id) ?? []);
      s.SharedSize = img.chainIds.filter((ch) => (users.get(ch) ?? 0) > 1).reduce((n, ch) => n + layerSize(ch), 0);
      s.Containers = containers.filter((c) => c.Image === img.id).length;
      return s;
    });
  }
  if (all || types.has('container')) out.Containers = containers.map((c) => containerSummary(d, c, true));
  if (all || types.has('volume')) {
    const refs = new Map<string, number>();
    for (const c of containers) for (const mp of c.berth.mounts ?? []) if (mp.Type === 'volume') refs.set(mp.Name, (refs.get(mp.Name) ?? 0) + 1);
    out.Volumes = d.volumes.all().map((v) => ({
      ...d.volumes.toApi(v),
      UsageData: { Size: directorySize(d.volumes.dataPath(v.name)), RefCount: refs.get(v.name) ?? 0 },
    }));
  }
  if (all || types.has('build-cache')) out.BuildCache = [];
  return out;
}

export function systemDfRoutes(r: Router, d: Daemon): void {
  r.add('GET', /^\/system\/df$/, (ctx) => {
    const types = new Set(ctx.query.getAll('type'));
    sendJson(ctx, 200, diskUsage(d, types));
  });

  r.add('POST', /^\/images\/prune$/, (ctx) => {
    const f = filtersParam(ctx.query);
    checkFilters(f, ['dangling', 'until', 'label', 'label!']);
    const danglingOnly = !['false', '0'].includes((f.dangling?.[0] ?? 'true').toLowerCase());
    const used = new Set(d.containers.all().map((c) => c.Image));
    const deleted: Record<string, string>[] = [];
    for (const img of d.store.listImages()) {
      if (used.has(img.id)) continue;
      if (danglingOnly && d.store.tagsOf(img.id).length > 0) continue;
      if (!createdBefore(imageCreated(img), f) || !labelsMatch(img.config.config?.Labels ?? {}, f)) continue;
      let res;
      try {
        res = d.store.remove(img.id, { force: true, users: [] });
      } catch {
        continue; // a container started using it meanwhile
      }
      for (const o of res) {
        deleted.push(o as Record<string, string>);
        if (o.Untagged) d.emitEvent('image', 'untag', img.id, { name: o.Untagged });
        if (o.Deleted) d.emitEvent('image', 'delete', img.id, {});
      }
    }
    const reclaimed = d.gcLayers();
    d.emitEvent('image', 'prune', '', { reclaimed: String(reclaimed) });
    sendJson(ctx, 200, { ImagesDeleted: deleted.length ? deleted : null, SpaceReclaimed: reclaimed });
  });
}
