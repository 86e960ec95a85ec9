/**
 * Image operations behind the Engine API's /images endpoints: import, load, save, list, inspect,
 * history, tag, remove. Shapes follow the Engine API reference (ImageSummary, ImageInspect,
 * HistoryResponseItem).
 */
import fs from 'node:fs';
import path from 'node:path';
import { Readable, Writable } from 'node:stream';
import { BerthError, invalidArgument } from '../core/errors';
import { hexOf } from '../util/digest';
import { readImageArchive, writeImageArchive, type SaveImage } from '../image/archive';
import { applyChanges } from './changes';
import { formatReference, parseReference, withDefaultTag } from './reference';
import { ImageStore, familiarName } from './store';
import type { ImageConfig, ImageRecord } from './types';

export type Progress = (msg: Record<string, unknown>) => void;

const unix = (iso?: string): number => (iso ? Math.floor(new Date(iso).getTime() / 1000) : 0);

export class ImageService {
  constructor(readonly store: ImageStore) {}

  /** POST /images/create?fromSrc=-: one layer from a rootfs tar, config from `changes`. */
  async importTar(input: Readable, opts: { repo?: string; tag?: string; changes: string[]; message?: string; platform?: string }): Promise<ImageRecord> {
    let tagRef: string | undefined;
    if (opts.repo) {
      const r = parseReference(opts.repo);
      tagRef = formatReference(withDefaultTag(opts.tag ? { ...r, tag: opts.tag, digest: undefined } : r));
    }
    const layer = await this.store.addLayer(null, input).catch((e: unknown) => {
      throw archiveError(e);
    });
    const now = new Date().toISOString();
    const cfg: ImageConfig = {
      architecture: 'amd64',
      os: 'linux',
      created: now,
      config: applyChanges({}, opts.changes),
      rootfs: { type: 'layers', diff_ids: [layer.diffId] },
      history: [{ created: now, created_by: '', comment: opts.message || 'Imported from -' }],
    };
    return this.store.registerImage(Buffer.from(JSON.stringify(cfg)), tagRef ? [tagRef] : []);
  }

  /** POST /images/load: docker-save or OCI-layout archives. */
  async load(input: Readable, progress: Progress): Promise<ImageRecord[]> {
    const work = this.store.makeTempDir('load-');
    try {
      let images;
      try {
        images = await readImageArchive(input, work);
      } catch (e) {
        throw archiveError(e);
      }
      if (images.length === 0) throw invalidArgument('no images found in the archive');
      const out: ImageRecord[] = [];
      for (const im of images) {
        const configBuf = fs.readFileSync(im.configPath);
        const config = JSON.parse(configBuf.toString('utf8')) as ImageConfig;
        const diffIds = config.rootfs?.diff_ids ?? [];
        if (diffIds.length !== im.layerPaths.length) {
          throw invalidArgument(`invalid archive: the config lists ${diffIds.length} layers, the manifest ${im.layerPaths.length}`);
        }
        let parent: string | null = null;
        for (let i = 0; i < im.layerPaths.length; i++) {
          const layer = await this.store.addLayer(parent, fs.createReadStream(im.layerPaths[i]), diffIds[i]);
          parent = layer.chainId;
        }
        const tags = im.repoTags.map((t) => formatReference(withDefaultTag(parseReference(t))));
        const rec = this.store.registerImage(configBuf, tags);
        if (tags.length) for (const t of tags) progress({ stream: `Loaded image: ${familiarName(t)}\n` });
        else progress({ stream: `Loaded image ID: ${rec.id}\n` });
        out.push(rec);
      }
      return out;
    } finally {
      fs.rmSync(work, { recursive: true, force: true });
    }
  }

  /** GET /images/get: the named images (tags kept when named by tag) as one archive. */
  async save(names: string[], out: Writable): Promise<void> {
    const byId = new Map<string, SaveImage>();
    const work = this.store.makeTempDir('save-');
    try {
      for (const n of names) {
        const img = this.store.resolve(n);
        let entry = byId.get(img.id);
        if (!entry) {
          const config = fs.readFileSync(this.store.blobPath(img.id));
          entry = {
            id: img.id,
            config,
            repoTags: [],
            layers: [],
          };
          for (const d of img.config.rootfs.diff_ids) {
            const p = await this.store.layerTar(d, work);
            entry.layers.push({ diffId: d, path: p, size: fs.statSync(p).size });
          }
          byId.set(img.id, entry);
        }
        const isId = /^(sha256:)?[a-f0-9]{6,64}$/.test(n) && img.id.includes(n.replace(/^sha256:/, ''));
        const tags = isId ? [] : this.tagsNamed(n, img.id);
        for (const t of tags.map(familiarName)) if (!entry.repoTags.includes(t)) entry.repoTags.push(t);
      }
      await writeImageArchive([...byId.values()], out);
    } finally {
      fs.rmSync(work, { recursive: true, force: true });
    }
  }

  /** The tags a `save` argument names: one tag, or every tag of a repository given without one. */
  private tagsNamed(name: string, id: string): string[] {
    try {
      const r = parseReference(name);
      if (!r.tag && !r.digest) {
        const repo = `${r.domain}/${r.path}:`;
        return this.store.tagsOf(id).filter((t) => t.startsWith(repo));
      }
      return [formatReference(withDefaultTag(r))];
    } catch {
      return [];
    }
  }

  /** ImageSummary for GET /images/json. */
  summary(img: ImageRecord, tags: string[]): Record<string, unknown> {
    return {
      Id: img.id,
      ParentId: '',
      RepoTags: tags.map(familiarName),
      RepoDigests: img.repoDigests.map(familiarName),
      Created: unix(img.config.created ?? img.created),
      Size: img.size,
      SharedSize: -1,
      VirtualSize: img.size,
      Labels: img.config.config?.Labels ?? {},
      Containers: -1,
    };
  }

  list(opts: { all?: boolean; filters?: Record<string, string[]> } = {}): Record<string, unknown>[] {
    const tags = this.store.allTags();
    const f = opts.filters ?? {};
    const out: Record<string, unknown>[] = [];
    for (const img of this.store.listImages()) {
      const t = tags.get(img.id) ?? [];
      if (f.dangling?.length) {
        const want = f.dangling[0] === 'true' || f.dangling[0] === '1';
        if (want !== (t.length === 0)) continue;
      }
      if (f.reference?.length) {
        const fam = t.map(familiarName);
        if (!f.reference.some((pat) => fam.some((n) => matchReference(pat, n)))) continue;
      }
      if (f.label?.length) {
        const labels = img.config.config?.Labels ?? {};
        if (!f.label.every((l) => matchLabel(labels, l))) continue;
      }
      out.push(this.summary(img, t));
    }
    return out;
  }

  /** ImageInspect for GET /images/{name}/json. */
  inspect(img: ImageRecord): Record<string, unknown> {
    const c = img.config;
    const layersDirs = img.chainIds.map((ch) => this.store.layerDiffDir(ch)).reverse();
    return {
      Id: img.id,
      RepoTags: this.store.familiarTags(img.id),
      RepoDigests: img.repoDigests.map(familiarName),
      Parent: '',
      Comment: c.history?.[c.history.length - 1]?.comment ?? '',
      Created: c.created ?? img.created,
      Container: '',
      ContainerConfig: emptyContainerConfig(),
      DockerVersion: '',
      Author: c.author ?? '',
      Config: { ...emptyContainerConfig(), ...(c.config ?? {}) },
      Architecture: c.architecture,
      Variant: c.variant,
      Os: c.os,
      Size: img.size,
      VirtualSize: img.size,
      GraphDriver: {
        Name: 'overlay2',
        Data: { LowerDir: layersDirs.slice(1).join(':') || undefined, UpperDir: layersDirs[0], MergedDir: undefined, WorkDir: undefined },
      },
      RootFS: { Type: 'layers', Layers: c.rootfs.diff_ids },
      Metadata: { LastTagTime: img.lastTagTime ?? '0001-01-01T00:00:00Z' },
    };
  }

  /** HistoryResponseItem[] for GET /images/{name}/history, newest first. */
  history(img: ImageRecord): Record<string, unknown>[] {
    const hist = img.config.history?.length ? img.config.history : img.config.rootfs.diff_ids.map(() => ({}) as Record<string, never>);
    const out: Record<string, unknown>[] = [];
    let layerIdx = 0;
    for (const h of hist as { created?: string; created_by?: string; comment?: string; empty_layer?: boolean }[]) {
      let size = 0;
      if (!h.empty_layer) {
        const chain = img.chainIds[layerIdx++];
        size = chain ? (this.store.getLayer(chain)?.size ?? 0) : 0;
      }
      out.push({ Id: '<missing>', Created: unix(h.created), CreatedBy: h.created_by ?? '', Tags: null, Size: size, Comment: h.comment ?? '' });
    }
    out.reverse();
    if (out.length) {
      out[0].Id = img.id;
      out[0].Tags = this.store.familiarTags(img.id);
    }
    return out;
  }

  /** Paths for docker inspect's GraphDriver of a layer directory (for tests and tooling). */
  layerPath(chainId: string): string {
    return path.join(this.store.layersDir, hexOf(chainId));
  }
}

function emptyContainerConfig(): Record<string, unknown> {
  return {
    Hostname: '',
    Domainname: '',
    User: '',
    AttachStdin: false,
    AttachStdout: false,
    AttachStderr: false,
    Tty: false,
    OpenStdin: false,
    StdinOnce: false,
    Env: null,
    Cmd: null,
    Image: '',
    Volumes: null,
    WorkingDir: '',
    Entrypoint: null,
    OnBuild: null,
    Labels: null,
  };
}

/** Docker's reference filter: a glob over the familiar name, with or without the tag. */
export function matchReference(pattern: string, name: string): boolean {
  const re = new RegExp('^' + pattern.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('[^/]*') + '$');
  if (re.test(name)) return true;
  const repo = name.replace(/:[^:/]+$/, '');
  return re.test(repo);
}

export function matchLabel(labels: Record<string, string>, filter: string): boolean {
  const eq = filter.indexOf('=');
  if (eq < 0) return filter in labels;
  return labels[filter.slice(0, eq)] === filter.slice(eq + 1);
}

/** A malformed archive (bad tar, bad gzip) is the client's error (400); a failing disk (errno) is ours. */
function archiveError(e: unknown): unknown {
  const code = (e as { code?: unknown }).code;
  if (e instanceof BerthError || (typeof code === 'string' && /^E[A-Z]+$/.test(code))) return e;
  return invalidArgument(`invalid image archive: ${(e as Error).message}`);
}
