/**
 * Pull and push: the daemon's side of the registry client. Progress is reported as Docker's JSON
 * messages (`status`, `id`, `progressDetail`), so the docker CLI draws its usual bars.
 *
 * Pull: resolve the manifest for the platform, skip layers whose chain is already present, fetch
 * the rest in parallel (bounded by the client), unpack them in order as each arrives, keep the
 * compressed blob for later pushes, then register the image with its tag and repo digest. A layer
 * is recorded as soon as it is unpacked, so a pull that fails half-way keeps what it finished.
 * Push: each layer's compressed blob (made once from the layer tar when the image was imported or
 * loaded), then the config, then a Docker schema 2 manifest under the tag.
 */
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import crypto from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { invalidArgument, notFound } from '../core/errors';
import { chainIds, hexOf } from '../util/digest';
import { tap } from '../util/streams';
import { formatReference, parseReference, withDefaultTag, familiarRepository, type Reference } from './reference';
import type { ImageStore } from './store';
import { familiarName } from './store';
import type { DB } from '../daemon/db';
import { RegistryClient, parsePlatform, type Descriptor, type Platform } from '../registry/client';

export type Progress = (m: Record<string, unknown>) => void;

const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
const DOCKER_CONFIG = 'application/vnd.docker.container.image.v1+json';
const DOCKER_LAYER_GZIP = 'application/vnd.docker.image.rootfs.diff.tar.gzip';

const shortId = (digest: string): string => hexOf(digest).slice(0, 12);

function bar(cur: number, total: number): string {
  if (!total) return '';
  const n = Math.min(50, Math.floor((50 * cur) / total));
  const h = (b: number): string => (b < 1000 ? `${b}B` : b < 1e6 ? `${(b / 1e3).toFixed(1)}kB` : b < 1e9 ? `${(b / 1e6).toFixed(1)}MB` : `${(b / 1e9).toFixed(2)}GB`);
  return `[${'='.repeat(n)}${n < 50 ? '>' : ''}${' '.repeat(Math.max(0, 49 - n))}] ${h(cur)}/${h(total)}`;
}

/** Emits progress for one id at most every 100 ms (and always at the end). */
function throttled(progress: Progress, id: string, status: string): (cur: number, total: number) => void {
  let last = 0;
  return (cur, total) => {
    const now = Date.now();
    if (now - last < 100 && cur < total) return;
    last = now;
    progress({ status, progressDetail: { current: cur, total }, progress: bar(cur, total), id });
  };
}

export class Distribution {
  private readonly downloads: string;

  constructor(
    private readonly store: ImageStore,
    private readonly db: DB,
    private readonly clientFor: (auth?: AuthConfig) => RegistryClient,
    dataRoot: string,
  ) {
    // Partial downloads survive a daemon restart here, so a later pull resumes them.
    this.downloads = path.join(dataRoot, 'downloads');
    fs.mkdirSync(this.downloads, { recursive: true });
  }

  private recordBlob(diffId: string, digest: string, mediaType: string, size: number, repo: string): void {
    this.db.prepare('INSERT OR IGNORE INTO blob_map(diff_id, digest, media_type, size, repo) VALUES (?,?,?,?,?)').run(diffId, digest, mediaType, size, repo);
  }

  async pull(name: string, opts: { platform?: string; auth?: AuthConfig }, progress: Progress): Promise<string> {
    const ref0 = parseReference(name);
    const ref: Reference = ref0.digest ? ref0 : withDefaultTag(ref0);
    const repo = `${ref.domain}/${ref.path}`;
    const tagOrDigest = ref.digest ?? ref.tag!;
    const platform: Platform | undefined = opts.platform ? parsePlatform(opts.platform) : undefined;
    const client = this.clientFor(opts.auth);
    try {
      const res = await client.resolve(ref, platform);
      progress({ status: `Pulling from ${ref.path}`, id: tagOrDigest });
      const config = JSON.parse(res.config.toString('utf8')) as { rootfs?: { diff_ids?: string[] } };
      const diffIds = config.rootfs?.diff_ids ?? [];
      const layers = res.manifest.layers.filter((l) => !/nondistributable|foreign/.test(l.mediaType) || !l.urls);
      if (diffIds.length !== layers.length) throw invalidArgument(`image config lists ${diffIds.length} layers but the manifest has ${layers.length}`);
      const chain = chainIds(diffIds);
      const pulledDigest = ref.digest ?? res.indexDigest ?? res.manifestDigest;
      const existingImage = this.store.getImage('sha256:' + crypto.createHash('sha256').update(res.config).digest('hex'));

      // Start every missing download (the client bounds concurrency), then unpack in order.
      const files: (Promise<string> | null)[] = layers.map((l, i) => {
        const id = shortId(l.digest);
        if (this.store.getLayer(chain[i])) {
          if (!existingImage) progress({ status: 'Already exists', progressDetail: {}, id });
          return null;
        }
        progress({ status: 'Pulling fs layer', progressDetail: {}, id });
        return this.download(client, ref, l, progress);
      });
      // Unhandled rejections of later downloads are reported through the loop below.
      for (const f of files) f?.catch(() => undefined);
      let parent: string | null = null;
      for (let i = 0; i < layers.length; i++) {
        const f = files[i];
        if (f) {
          const file = await f;
          const id = shortId(layers[i].digest);
          const size = layers[i].size;
          let cur = 0;
          const tick = throttled(progress, id, 'Extracting');
          const raw = fs.createReadStream(file);
          const input = raw.pipe(
            tap((c) => {
              cur += c.length;
              tick(cur, size);
            }),
          );
          raw.on('error', (e) => input.destroy(e));
          const layer = await this.store.addLayer(parent, input, diffIds[i], { keepTar: false });
          const blobPath = this.store.blobPath(layers[i].digest);
          if (!fs.existsSync(blobPath)) fs.renameSync(file, blobPath);
          else fs.rmSync(file, { force: true });
          this.recordBlob(diffIds[i], layers[i].digest, layers[i].mediaType, layers[i].size, repo);
          progress({ status: 'Pull complete', progressDetail: {}, id });
          parent = layer.chainId;
        } else parent = chain[i];
      }
      const tag = ref.digest ? [] : [formatReference(ref)];
      const img = this.store.registerImage(res.config, tag);
      this.store.addRepoDigest(img.id, `${repo}@${pulledDigest}`);
      progress({ status: `Digest: ${pulledDigest}` });
      const shown = familiarName(formatReference(ref));
      const upToDate = existingImage && files.every((f) => f === null);
      progress({ status: `Status: ${upToDate ? 'Image is up to date' : 'Downloaded newer image'} for ${shown}` });
      return img.id;
    } finally {
      client.close();
    }
  }

  private async download(client: RegistryClient, ref: Reference, desc: Descriptor, progress: Progress): Promise<string> {
    const id = shortId(desc.digest);
    const dest = path.join(this.downloads, hexOf(desc.digest));
    if (fs.existsSync(dest)) return dest; // finished earlier, not yet unpacked
    progress({ status: 'Waiting', progressDetail: {}, id });
    await client.fetchBlob(ref, desc, dest, throttled(progress, id, 'Downloading'));
    progress({ status: 'Verifying Checksum', progressDetail: {}, id });
    progress({ status: 'Download complete', progressDetail: {}, id });
    return dest;
  }

  /** The compressed blob for a layer, made (gzip) and remembered the first time it is needed. */
  private async layerBlob(diffId: string, repo: string): Promise<{ desc: Descriptor; mountFrom?: string }> {
    const rows = this.db.prepare('SELECT digest, media_type, size, repo FROM blob_map WHERE diff_id = ?').all(diffId) as { digest: string; media_type: string; size: number; repo: string }[];
    const usable = rows.filter((r) => this.store.hasBlob(r.digest));
    const pick = usable.find((r) => r.repo === repo) ?? usable[0];
    if (pick) {
      const sameRegistry = usable.find((r) => r.repo !== repo && r.repo.split('/')[0] === repo.split('/')[0]);
      return { desc: { mediaType: pick.media_type, digest: pick.digest, size: pick.size }, mountFrom: sameRegistry?.repo.split('/').slice(1).join('/') };
    }
    const src = this.store.blobPath(diffId);
    if (!fs.existsSync(src)) throw notFound(`layer ${diffId} has no stored content to push`);
    // (a pulled layer always has a compressed blob, found above)
    const tmp = path.join(this.downloads, `gzip-${hexOf(diffId)}-${process.pid}`);
    const hash = crypto.createHash('sha256');
    let size = 0;
    const gz = zlib.createGzip({ level: 6 });
    gz.on('data', (c: Buffer) => {
      hash.update(c);
      size += c.length;
    });
    await pipeline(fs.createReadStream(src), gz, fs.createWriteStream(tmp));
    const digest = 'sha256:' + hash.digest('hex');
    fs.renameSync(tmp, this.store.blobPath(digest));
    this.recordBlob(diffId, digest, DOCKER_LAYER_GZIP, size, '');
    return { desc: { mediaType: DOCKER_LAYER_GZIP, digest, size } };
  }

  async push(name: string, opts: { tag?: string; auth?: AuthConfig }, progress: Progress): Promise<void> {
    const ref0 = parseReference(name);
    if (ref0.digest) throw invalidArgument('cannot push a digest reference');
    const repo = `${ref0.domain}/${ref0.path}`;
    let tags: string[];
    if (opts.tag || ref0.tag) tags = [formatReference({ ...ref0, tag: opts.tag || ref0.tag })];
    else tags = [...this.store.allTags().values()].flat().filter((t) => t.startsWith(`${repo}:`));
    if (!tags.length) throw notFound(`An image does not exist locally with the tag: ${familiarRepository(ref0)}`);
    for (const t of tags) if (!this.store.tryResolve(t)) throw notFound(`An image does not exist locally with the tag: ${familiarName(t)}`);
    progress({ status: `The push refers to repository [${ref0.domain === 'docker.io' ? 'docker.io/' : ''}${familiarRepository(ref0)}]` });
    const client = this.clientFor(opts.auth);
    try {
      for (const t of tags) {
        const ref = parseReference(t);
        const img = this.store.resolve(t);
        const diffIds = img.config.rootfs.diff_ids;
        // Layers pushed for the first time are compressed in parallel (zlib runs off the main thread).
        const blobs = await Promise.all(diffIds.map((d) => this.layerBlob(d, repo)));
        for (const b of [...blobs].reverse()) progress({ status: 'Preparing', progressDetail: {}, id: shortId(b.desc.digest) });
        await Promise.all(
          [...blobs].reverse().map(async (b, i) => {
            const id = shortId(b.desc.digest);
            const result = await client.pushBlob(ref, b.desc, () => fs.createReadStream(this.store.blobPath(b.desc.digest)), {
              mountFrom: b.mountFrom,
              streamed: true,
              onProgress: throttled(progress, id, 'Pushing'),
            });
            if (result === 'exists') progress({ status: 'Layer already exists', progressDetail: {}, id });
            else if (result === 'mounted') progress({ status: `Mounted from ${b.mountFrom}`, progressDetail: {}, id });
            else progress({ status: 'Pushed', progressDetail: {}, id });
            this.recordBlob(diffIds[diffIds.length - 1 - i], b.desc.digest, b.desc.mediaType, b.desc.size, repo);
          }),
        );
        const configBytes = fs.readFileSync(this.store.blobPath(img.id));
        await client.pushBlob(ref, { mediaType: DOCKER_CONFIG, digest: img.id, size: configBytes.length }, () => fs.createReadStream(this.store.blobPath(img.id)));
        const manifest = {
          schemaVersion: 2,
          mediaType: DOCKER_MANIFEST,
          config: { mediaType: DOCKER_CONFIG, size: configBytes.length, digest: img.id },
          layers: blobs.map((b) => ({ mediaType: b.desc.mediaType, size: b.desc.size, digest: b.desc.digest })),
        };
        const body = Buffer.from(JSON.stringify(manifest, null, 3));
        const digest = await client.putManifest(ref, body, DOCKER_MANIFEST);
        this.store.addRepoDigest(img.id, `${repo}@${digest}`);
        progress({ status: `${ref.tag}: digest: ${digest} size: ${body.length}` });
        progress({ progressDetail: {}, aux: { Tag: ref.tag, Digest: digest, Size: body.length } });
      }
    } finally {
      client.close();
    }
  }

  async login(auth: AuthConfig): Promise<{ Status: string; IdentityToken?: string }> {
    const client = this.clientFor(auth);
    try {
      return await client.login(auth.serveraddress || 'docker.io', auth);
    } finally {
      client.close();
    }
  }
}

export interface AuthConfig {
  username?: string;
  password?: string;
  email?: string;
  serveraddress?: string;
  identitytoken?: string;
  registrytoken?: string;
  auth?: string;
}

/** The X-Registry-Auth header: base64url (or base64) JSON AuthConfig; empty or `{}` means none. */
export function decodeRegistryAuth(header: string | undefined): AuthConfig | undefined {
  if (!header) return undefined;
  try {
    const json = Buffer.from(header.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('utf8');
    const v = JSON.parse(json) as AuthConfig;
    if (v.auth && !v.username) {
      const [u, ...p] = Buffer.from(v.auth, 'base64').toString('utf8').split(':');
      v.username = u;
      v.password = p.join(':');
    }
    return v.username || v.identitytoken || v.registrytoken ? v : undefined;
  } catch {
    throw invalidArgument('invalid X-Registry-Auth header: not base64-encoded JSON');
  }
}
