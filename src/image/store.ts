/**
 * The image store: content-addressed blobs, layers unpacked once per chain id, images and tags.
 *
 * Lifecycle of a layer: its tar arrives (import, load, later pull), is unpacked into a private
 * temp directory while its uncompressed bytes are hashed (the diff id) and kept as a blob; then
 * the directory is renamed to layers/<chain-hex>/diff and recorded, in one transaction with the
 * image that uses it. A layer already present (same chain id) is never unpacked twice. Layers no
 * image and no container uses are removed by gc().
 */
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { DB } from '../daemon/db';
import { conflict, invalidArgument, notFound } from '../core/errors';
import { chainIds, hexOf, sha256, writeFileAtomic } from '../util/digest';
import { maybeGunzip, tap } from '../util/streams';
import { unpackLayer } from '../snapshot/unpack';
import { formatReference, looksLikeId, parseReference, withDefaultTag, familiarRepository } from './reference';
import type { ImageConfig, ImageRecord, LayerRecord } from './types';

export interface RemoveResult {
  Untagged?: string;
  Deleted?: string;
}

export class ImageStore {
  readonly blobsDir: string;
  readonly layersDir: string;
  private readonly tmpDir: string;

  constructor(
    root: string,
    private readonly db: DB,
  ) {
    this.blobsDir = path.join(root, 'blobs', 'sha256');
    this.layersDir = path.join(root, 'layers');
    this.tmpDir = path.join(root, 'tmp');
    for (const d of [this.blobsDir, path.join(this.layersDir, 'l'), this.tmpDir]) fs.mkdirSync(d, { recursive: true });
    // Leftovers of an interrupted unpack or download: nothing refers to them.
    for (const e of fs.readdirSync(this.tmpDir)) fs.rmSync(path.join(this.tmpDir, e), { recursive: true, force: true });
  }

  // ---- blobs ----

  blobPath(digest: string): string {
    return path.join(this.blobsDir, hexOf(digest));
  }

  hasBlob(digest: string): boolean {
    return fs.existsSync(this.blobPath(digest));
  }

  writeBlob(data: Buffer): string {
    const digest = sha256(data);
    if (!this.hasBlob(digest)) writeFileAtomic(this.blobPath(digest), data);
    return digest;
  }

  makeTempDir(prefix: string): string {
    return fs.mkdtempSync(path.join(this.tmpDir, prefix));
  }

  // ---- layers ----

  getLayer(chainId: string): LayerRecord | undefined {
    const row = this.db.prepare('SELECT * FROM layers WHERE chain_id = ?').get(chainId) as
      | { chain_id: string; diff_id: string; parent: string | null; size: number; link: string }
      | undefined;
    return row && { chainId: row.chain_id, diffId: row.diff_id, parent: row.parent, size: row.size, link: row.link };
  }

  layerDiffDir(chainId: string): string {
    return path.join(this.layersDir, hexOf(chainId), 'diff');
  }

  /** Short lowerdir names, relative to layersDir, top layer first (overlay's order). */
  lowerDirs(chain: string[]): string[] {
    return chain
      .slice()
      .reverse()
      .map((c) => {
        const l = this.getLayer(c);
        if (!l) throw notFound(`layer ${c} is missing from the store`);
        return `l/${l.link}`;
      });
  }

  /**
   * Unpacks a layer tar (gzip or plain) on top of `parent`, keeping its uncompressed bytes as a
   * blob named by its diff id. Returns the layer (existing or new). `expectDiffId`, when given,
   * must match or nothing is kept. `keepTar: false` (pulls, which keep the compressed blob instead)
   * skips keeping the uncompressed tar.
   */
  async addLayer(parent: string | null, input: Readable, expectDiffId?: string, opts: { keepTar?: boolean } = {}): Promise<LayerRecord> {
    const keepTar = opts.keepTar ?? true;
    const work = this.makeTempDir('layer-');
    const diffDir = path.join(work, 'diff');
    fs.mkdirSync(diffDir);
    const blobTmp = path.join(work, 'blob');
    const fd = fs.openSync(blobTmp, 'w');
    const hash = crypto.createHash('sha256');
    let size = 0;
    try {
      const plain = await maybeGunzip(input);
      const teed = plain.pipe(
        tap((chunk) => {
          hash.update(chunk);
          if (keepTar) fs.writeSync(fd, chunk);
        }),
      );
      plain.on('error', (e) => teed.destroy(e));
      const res = await unpackLayer(teed, diffDir);
      size = res.size;
      fs.fsyncSync(fd);
    } catch (e) {
      fs.closeSync(fd);
      fs.rmSync(work, { recursive: true, force: true });
      throw e;
    }
    fs.closeSync(fd);
    const diffId = 'sha256:' + hash.digest('hex');
    if (expectDiffId && expectDiffId !== diffId) {
      fs.rmSync(work, { recursive: true, force: true });
      throw invalidArgument(`layer content does not match its diff id: expected ${expectDiffId}, got ${diffId}`);
    }
    const chainId = parent ? sha256(`${parent} ${diffId}`) : diffId;
    const existing = this.getLayer(chainId);
    if (existing) {
      fs.rmSync(work, { recursive: true, force: true });
      return existing;
    }
    if (keepTar && !this.hasBlob(diffId)) fs.renameSync(blobTmp, this.blobPath(diffId));
    const dir = path.join(this.layersDir, hexOf(chainId));
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir);
    fs.renameSync(diffDir, path.join(dir, 'diff'));
    fs.rmSync(work, { recursive: true, force: true });
    const link = randomLink();
    fs.symlinkSync(`../${hexOf(chainId)}/diff`, path.join(this.layersDir, 'l', link));
    const rec: LayerRecord = { chainId, diffId, parent, size, link };
    this.db
      .prepare('INSERT INTO layers(chain_id, diff_id, parent, size, link, created) VALUES (?,?,?,?,?,?)')
      .run(chainId, diffId, parent, size, link, new Date().toISOString());
    return rec;
  }

  /**
   * A file holding the layer's uncompressed tar: its own blob when kept, else a compressed blob
   * (from a pull) decompressed into `tmpDir`.
   */
  async layerTar(diffId: string, tmpDir: string): Promise<string> {
    if (this.hasBlob(diffId)) return this.blobPath(diffId);
    const rows = this.db.prepare('SELECT digest FROM blob_map WHERE diff_id = ?').all(diffId) as { digest: string }[];
    const src = rows.map((r) => this.blobPath(r.digest)).find((p) => fs.existsSync(p));
    if (!src) throw notFound(`layer ${diffId} has no stored content`);
    const out = path.join(tmpDir, hexOf(diffId) + '.tar');
    const plain = await maybeGunzip(fs.createReadStream(src));
    await pipeline(plain, fs.createWriteStream(out));
    return out;
  }

  // ---- images ----

  private rowToImage(row: { id: string; created: string; data: string }): ImageRecord {
    return JSON.parse(row.data) as ImageRecord;
  }

  getImage(id: string): ImageRecord | undefined {
    const row = this.db.prepare('SELECT * FROM images WHERE id = ?').get(id) as { id: string; created: string; data: string } | undefined;
    return row && this.rowToImage(row);
  }

  listImages(): ImageRecord[] {
    return (this.db.prepare('SELECT * FROM images ORDER BY created DESC').all() as { id: string; created: string; data: string }[]).map((r) =>
      this.rowToImage(r),
    );
  }

  tagsOf(id: string): string[] {
    return (this.db.prepare('SELECT name FROM tags WHERE image_id = ? ORDER BY name').all(id) as { name: string }[]).map((r) => r.name);
  }

  allTags(): Map<string, string[]> {
    const m = new Map<string, string[]>();
    for (const r of this.db.prepare('SELECT name, image_id FROM tags ORDER BY name').all() as { name: string; image_id: string }[]) {
      const l = m.get(r.image_id) ?? [];
      l.push(r.name);
      m.set(r.image_id, l);
    }
    return m;
  }

  /**
   * Registers an image whose layers are all present. The config is stored as a blob; the image
   * id is its digest. Tags are fully-qualified names (docker.io/library/busybox:latest).
   */
  registerImage(configBuf: Buffer, tags: string[] = []): ImageRecord {
    let config: ImageConfig;
    try {
      config = JSON.parse(configBuf.toString('utf8')) as ImageConfig;
    } catch {
      throw invalidArgument('image config is not valid JSON');
    }
    if (!config.rootfs || !Array.isArray(config.rootfs.diff_ids)) throw invalidArgument('image config has no rootfs.diff_ids');
    const chain = chainIds(config.rootfs.diff_ids);
    let size = 0;
    for (const c of chain) {
      const l = this.getLayer(c);
      if (!l) throw invalidArgument(`layer ${c} of the image is not in the store`);
      size += l.size;
    }
    const id = this.writeBlob(configBuf);
    const now = new Date().toISOString();
    const existing = this.getImage(id);
    const rec: ImageRecord = existing ?? { id, created: now, config, chainIds: chain, size, repoDigests: [] };
    const tx = this.db.transaction(() => {
      if (!existing) this.db.prepare('INSERT INTO images(id, created, data) VALUES (?,?,?)').run(id, now, JSON.stringify(rec));
      for (const t of tags) this.setTag(t, id);
    });
    tx();
    return this.getImage(id)!;
  }

  private setTag(name: string, id: string): void {
    const now = new Date().toISOString();
    this.db.prepare('INSERT INTO tags(name, image_id, tagged) VALUES (?,?,?) ON CONFLICT(name) DO UPDATE SET image_id = excluded.image_id, tagged = excluded.tagged').run(name, id, now);
    const img = this.getImage(id);
    if (img) {
      img.lastTagTime = now;
      this.db.prepare('UPDATE images SET data = ? WHERE id = ?').run(JSON.stringify(img), id);
    }
  }

  /** Records `repo@digest` (fully qualified) as a digest the image is known by in a registry. */
  addRepoDigest(id: string, repoDigest: string): void {
    const img = this.getImage(id);
    if (!img) return;
    const repo = repoDigest.split('@')[0];
    img.repoDigests = [...img.repoDigests.filter((d) => d.split('@')[0] !== repo), repoDigest];
    this.db.prepare('UPDATE images SET data = ? WHERE id = ?').run(JSON.stringify(img), id);
  }

  /** Tags an image: `ref` like busybox:1 or localhost:5000/x (tag defaults to latest). */
  tag(nameOrId: string, ref: string): void {
    const img = this.resolve(nameOrId);
    const r = withDefaultTag(parseReference(ref));
    if (r.digest) throw invalidArgument('refusing to create a tag with a digest reference');
    this.setTag(formatReference(r), img.id);
  }

  /**
   * Finds an image by name (tag), full id, or unique id prefix, as Docker does.
   * Throws not-found `No such image: <name>`.
   */
  resolve(nameOrId: string): ImageRecord {
    const img = this.tryResolve(nameOrId);
    if (!img) throw notFound(`No such image: ${nameOrId}`);
    return img;
  }

  tryResolve(nameOrId: string): ImageRecord | undefined {
    if (/^sha256:[a-f0-9]{64}$/.test(nameOrId)) return this.getImage(nameOrId);
    let ref;
    try {
      ref = parseReference(nameOrId);
    } catch {
      ref = undefined;
    }
    if (ref && !ref.digest) {
      const row = this.db.prepare('SELECT image_id FROM tags WHERE name = ?').get(formatReference(withDefaultTag(ref))) as { image_id: string } | undefined;
      if (row) return this.getImage(row.image_id);
    }
    if (ref?.digest) {
      const repo = `${ref.domain}/${ref.path}@${ref.digest}`;
      for (const img of this.listImages()) if (img.repoDigests.includes(repo)) return img;
    }
    if (looksLikeId(nameOrId)) {
      const prefix = nameOrId.startsWith('sha256:') ? nameOrId : `sha256:${nameOrId}`;
      const rows = this.db.prepare("SELECT id FROM images WHERE id >= ? AND id < ? || 'g' LIMIT 2").all(prefix, prefix) as { id: string }[];
      if (rows.length === 1) return this.getImage(rows[0].id);
      if (rows.length > 1) throw invalidArgument(`image id prefix ${nameOrId} is ambiguous`);
    }
    return undefined;
  }

  /**
   * docker rmi: untag when given a name and other tags remain; delete when the last reference goes.
   * `users` lists containers using the image (running flag) for the conflict rules.
   */
  remove(nameOrId: string, opts: { force: boolean; users: { id: string; running: boolean }[] }): RemoveResult[] {
    const img = this.resolve(nameOrId);
    const tags = this.tagsOf(img.id);
    const out: RemoveResult[] = [];
    const byName = !looksLikeId(nameOrId) || tags.some((t) => t === formatReference(withDefaultTag(parseReferenceSafe(nameOrId))));
    const shortId = hexOf(img.id).slice(0, 12);
    if (byName && tags.length > 1) {
      const name = formatReference(withDefaultTag(parseReference(nameOrId)));
      this.db.prepare('DELETE FROM tags WHERE name = ?').run(name);
      return [{ Untagged: familiarName(name) }];
    }
    if (!byName && tags.length > 1 && !opts.force) {
      throw conflict(`conflict: unable to delete ${shortId} (must be forced) - image is referenced in multiple repositories`);
    }
    const running = opts.users.find((u) => u.running);
    const stopped = opts.users.find((u) => !u.running);
    if (running) {
      throw conflict(`conflict: unable to delete ${shortId} (cannot be forced) - image is being used by running container ${running.id.slice(0, 12)}`);
    }
    if (stopped && !opts.force) {
      if (byName) {
        throw conflict(`conflict: unable to remove repository reference "${nameOrId}" (must force) - container ${stopped.id.slice(0, 12)} is using its referenced image ${shortId}`);
      }
      throw conflict(`conflict: unable to delete ${shortId} (must be forced) - image is being used by stopped container ${stopped.id.slice(0, 12)}`);
    }
    const tx = this.db.transaction(() => {
      for (const t of tags) {
        this.db.prepare('DELETE FROM tags WHERE name = ?').run(t);
        out.push({ Untagged: familiarName(t) });
      }
      for (const d of img.repoDigests) out.push({ Untagged: familiarName(d) });
      this.db.prepare('DELETE FROM images WHERE id = ?').run(img.id);
      out.push({ Deleted: img.id });
    });
    tx();
    return out;
  }

  /**
   * Removes layers and blobs that no image and no container (`inUseChains`) needs.
   * Returns the number of bytes freed (layer sizes).
   */
  gc(inUseChains: Set<string>): number {
    const keep = new Set<string>(inUseChains);
    const keepBlobs = new Set<string>();
    for (const img of this.listImages()) {
      for (const c of img.chainIds) keep.add(c);
      keepBlobs.add(hexOf(img.id));
    }
    let freed = 0;
    const layers = this.db.prepare('SELECT chain_id, diff_id, size, link FROM layers').all() as { chain_id: string; diff_id: string; size: number; link: string }[];
    const keepDiffs = new Set<string>();
    for (const l of layers) if (keep.has(l.chain_id)) keepDiffs.add(hexOf(l.diff_id));
    for (const l of layers) {
      if (keep.has(l.chain_id)) continue;
      this.db.prepare('DELETE FROM layers WHERE chain_id = ?').run(l.chain_id);
      fs.rmSync(path.join(this.layersDir, 'l', l.link), { force: true });
      fs.rmSync(path.join(this.layersDir, hexOf(l.chain_id)), { recursive: true, force: true });
      freed += l.size;
    }
    for (const r of this.db.prepare('SELECT diff_id, digest FROM blob_map').all() as { diff_id: string; digest: string }[]) {
      if (keepDiffs.has(hexOf(r.diff_id))) keepBlobs.add(hexOf(r.digest));
      else this.db.prepare('DELETE FROM blob_map WHERE diff_id = ? AND digest = ?').run(r.diff_id, r.digest);
    }
    for (const b of fs.readdirSync(this.blobsDir)) {
      if (!keepBlobs.has(b) && !keepDiffs.has(b)) fs.rmSync(path.join(this.blobsDir, b), { force: true });
    }
    return freed;
  }

  /** Every tag of every image, as familiar names. */
  familiarTags(id: string): string[] {
    return this.tagsOf(id).map(familiarName);
  }
}

function parseReferenceSafe(s: string) {
  try {
    return parseReference(s);
  } catch {
    return { domain: '', path: '', tag: undefined, digest: undefined };
  }
}

/** docker.io/library/busybox:latest → busybox:latest */
export function familiarName(full: string): string {
  try {
    const r = parseReference(full);
    let s = familiarRepository(r);
    if (r.tag) s += `:${r.tag}`;
    if (r.digest) s += `@${r.digest}`;
    return s;
  } catch {
    return full;
  }
}

const LINK_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
function randomLink(): string {
  const b = crypto.randomBytes(26);
  let s = '';
  for (const x of b) s += LINK_CHARS[x % LINK_CHARS.length];
  return s;
}

