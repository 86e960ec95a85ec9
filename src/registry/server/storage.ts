/**
 * The registry's filesystem storage.
 *
 * Layout under the root:
 *
 *   blobs/<alg>/<2 hex>/<hex>                               content, by digest (layers, configs, manifests)
 *   repositories/<name>/_layers/<alg>/<hex>                  the blob is in this repository (holds the digest)
 *   repositories/<name>/_manifests/revisions/<alg>/<hex>     the manifest is in this repository ({"mediaType"})
 *   repositories/<name>/_manifests/tags/<tag>                the tag's manifest digest
 *   repositories/<name>/_manifests/referrers/<alg>/<hex>/<alg>-<hex>
 *                                                            a manifest (file name) whose subject is <hex>
 *   uploads/<uuid>/{info.json,data}                          an upload in progress: its repository, its bytes
 *
 * A blob exists for the world once, but is visible in a repository only through that
 * repository's link, as in the Distribution registry: a push links, a mount links, a delete
 * unlinks, and gc removes content that no manifest references.
 *
 * Crash safety: every small file is written to a temporary file in the same directory, fsynced
 * and renamed over its name; blob content only ever enters blobs/ by the rename of a complete,
 * fsynced and digest-verified upload file. A crash leaves at worst a stale upload (purged after a
 * while), a `.tmp-*` file, or a blob no manifest references yet (gc) — never a corrupt blob.
 *
 * Every path is built from a name, tag, digest or upload id that passed the checks in names.ts;
 * `within` checks the result stays under the root all the same.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { regError, RegistryError } from './errors';
import { manifestReferences, parseManifest, referrerDescriptor, type Descriptor, type ParsedManifest } from './manifest';
import { algorithmOf, hexOf, isValidDigest, isValidTag, isValidUploadId, type DigestAlgorithm } from './names';

export interface UploadStatus {
  id: string;
  name: string;
  /** Bytes received so far. */
  size: number;
  startedAt: string;
}

export interface StoredManifest {
  digest: string;
  mediaType: string;
  size: number;
  body: Buffer;
}

export interface ChunkRange {
  start: number;
  end: number;
}

/** Manifests larger than this are never read back into memory by gc or the referrers API. */
const MAX_STORED_MANIFEST = 16 * 1024 * 1024;

function isENOENT(err: unknown): boolean {
  return (err as NodeJS.ErrnoException)?.code === 'ENOENT';
}

export class RegistryStorage {
  readonly root: string;
  /** Running hashes of uploads in progress, so completion need not re-read the data. */
  private readonly hashes = new Map<string, { alg: DigestAlgorithm; hash: crypto.Hash; offset: number }>();
  private readonly locks = new Map<string, Promise<void>>();

  constructor(root: string) {
    this.root = path.resolve(root);
  }

  async init(): Promise<void> {
    for (const d of ['blobs', 'repositories', 'uploads']) await fsp.mkdir(path.join(this.root, d), { recursive: true });
  }

  // ---- paths --------------------------------------------------------------------------------

  private within(...parts: string[]): string {
    const p = path.resolve(this.root, ...parts);
    if (!p.startsWith(this.root + path.sep)) throw new Error(`registry storage: path escapes the root: ${p}`);
    return p;
  }
  blobPath(digest: string): string {
    const hex = hexOf(digest);
    return this.within('blobs', algorithmOf(digest), hex.slice(0, 2), hex);
  }
  private repoDir(name: string): string {
    return this.within('repositories', name);
  }
  private layerLink(name: string, digest: string): string {
    return this.within('repositories', name, '_layers', algorithmOf(digest), hexOf(digest));
  }
  private revisionPath(name: string, digest: string): string {
    return this.within('repositories', name, '_manifests', 'revisions', algorithmOf(digest), hexOf(digest));
  }
  private tagsDir(name: string): string {
    return this.within('repositories', name, '_manifests', 'tags');
  }
  private tagPath(name: string, tag: string): string {
    return this.within('repositories', name, '_manifests', 'tags', tag);
  }
  private referrersDir(name: string, subject: string): string {
    return this.within('repositories', name, '_manifests', 'referrers', algorithmOf(subject), hexOf(subject));
  }
  private uploadDir(id: string): string {
    return this.within('uploads', id);
  }

  // ---- small atomic writes --------------------------------------------------------------------

  /** Writes a small file: temporary file in the same directory, fsync, rename, fsync the directory. */
  private async atomicWrite(file: string, data: string | Buffer): Promise<void> {
    const dir = path.dirname(file);
    await fsp.mkdir(dir, { recursive: true });
    const tmp = path.join(dir, `.tmp-${crypto.randomBytes(6).toString('hex')}`);
    const fh = await fsp.open(tmp, 'wx', 0o644);
    try {
      await fh.writeFile(data);
      await fh.sync();
    } catch (err) {
      await fh.close();
      await fsp.rm(tmp, { force: true });
      throw err;
    }
    await fh.close();
    try {
      await fsp.rename(tmp, file);
    } catch (err) {
      await fsp.rm(tmp, { force: true });
      throw err;
    }
    await syncDir(dir);
  }

  private async exists(p: string): Promise<boolean> {
    try {
      await fsp.stat(p);
      return true;
    } catch (err) {
      if (isENOENT(err) || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return false;
      throw err;
    }
  }

  /** Serialises the operations on one key (an upload id). */
  private async withLock<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.locks.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((r) => (release = r));
    const tail = prev.then(() => mine);
    this.locks.set(key, tail);
    await prev;
    try {
      return await fn();
    } finally {
      release();
      if (this.locks.get(key) === tail) this.locks.delete(key);
    }
  }

  // ---- blobs --------------------------------------------------------------------------------

  /** The size of a blob in the store, if it is there. */
  async blobSize(digest: string): Promise<number | undefined> {
    try {
      return (await fsp.stat(this.blobPath(digest))).size;
    } catch (err) {
      if (isENOENT(err)) return undefined;
      throw err;
    }
  }

  /**
   * The size of a blob as repository `name` sees it: linked into it (a layer or config pushed or
   * mounted there, or one of its manifests) and present in the store.
   */
  async repoBlobSize(name: string, digest: string): Promise<number | undefined> {
    if (!(await this.exists(this.layerLink(name, digest))) && !(await this.exists(this.revisionPath(name, digest)))) return undefined;
    return this.blobSize(digest);
  }

  async linkBlob(name: string, digest: string): Promise<void> {
    const link = this.layerLink(name, digest);
    if (!(await this.exists(link))) await this.atomicWrite(link, digest);
  }

  /** Removes a blob from a repository (its content stays until gc); false when it was not there. */
  async unlinkBlob(name: string, digest: string): Promise<boolean> {
    const link = this.layerLink(name, digest);
    if (!(await this.exists(link)) || (await this.blobSize(digest)) === undefined) return false;
    await fsp.rm(link, { force: true });
    return true;
  }

  /** Links a blob of repository `from` into `name`; its size, or undefined when `from` lacks it. */
  async mountBlob(name: string, from: string, digest: string): Promise<number | undefined> {
    const size = await this.repoBlobSize(from, digest);
    if (size === undefined) return undefined;
    await this.linkBlob(name, digest);
    return size;
  }

  // ---- uploads ------------------------------------------------------------------------------

  async startUpload(name: string): Promise<UploadStatus> {
    const id = crypto.randomUUID();
    const dir = this.uploadDir(id);
    await fsp.mkdir(dir, { recursive: true });
    const startedAt = new Date().toISOString();
    await fsp.writeFile(path.join(dir, 'data'), '');
    await this.atomicWrite(path.join(dir, 'info.json'), JSON.stringify({ name, startedAt }));
    return { id, name, size: 0, startedAt };
  }

  /** An upload of repository `name`; BLOB_UPLOAD_UNKNOWN when there is none with that id there. */
  async uploadStatus(name: string, id: string): Promise<UploadStatus> {
    const unknown = (): RegistryError => regError('BLOB_UPLOAD_UNKNOWN', { upload: id });
    if (!isValidUploadId(id)) throw unknown();
    const dir = this.uploadDir(id);
    let info: { name?: unknown; startedAt?: unknown };
    let size: number;
    try {
      info = JSON.parse(await fsp.readFile(path.join(dir, 'info.json'), 'utf8')) as typeof info;
      size = (await fsp.stat(path.join(dir, 'data'))).size;
    } catch (err) {
      if (isENOENT(err) || err instanceof SyntaxError) throw unknown();
      throw err;
    }
    if (info.name !== name) throw unknown();
    return { id, name, size, startedAt: String(info.startedAt) };
  }

  /**
   * Appends a request body to an upload. With a range, the chunk must start where the upload
   * ends (else 416 BLOB_UPLOAD_INVALID, nothing read) and be exactly as long as it says (else
   * SIZE_INVALID, and the upload is cut back to where it was). A body that breaks off midway is
   * kept, so that the client can ask where it stands and resume.
   */
  async appendUpload(name: string, id: string, body: Readable, range?: ChunkRange, contentLength?: number): Promise<UploadStatus> {
    return this.withLock(id, () => this.appendLocked(name, id, body, range, contentLength));
  }

  private async appendLocked(name: string, id: string, body: Readable, range?: ChunkRange, contentLength?: number): Promise<UploadStatus> {
    const st = await this.uploadStatus(name, id);
    let expected: number | undefined;
    if (range) {
      if (range.start !== st.size || range.end < range.start) {
        throw regError(
          'BLOB_UPLOAD_INVALID',
          { reason: `chunk ${range.start}-${range.end} does not continue the upload at offset ${st.size}` },
          { status: 416, message: 'requested range not satisfiable', headers: { Range: rangeHeader(st.size) } },
        );
      }
      expected = range.end - range.start + 1;
      if (contentLength !== undefined && contentLength !== expected) {
        throw regError('SIZE_INVALID', { contentRange: `${range.start}-${range.end}`, contentLength });
      }
    }
    let cached = this.hashes.get(id);
    if (cached && cached.offset !== st.size) {
      this.hashes.delete(id);
      cached = undefined;
    }
    if (!cached && st.size === 0) {
      cached = { alg: 'sha256', hash: crypto.createHash('sha256'), offset: 0 };
      this.hashes.set(id, cached);
    }
    const hash = cached?.hash;
    let received = 0;
    const counter = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        received += chunk.length;
        hash?.update(chunk);
        cb(null, chunk);
      },
    });
    const data = path.join(this.uploadDir(id), 'data');
    try {
      await pipeline(body, counter, fs.createWriteStream(data, { flags: 'a' }));
    } catch (err) {
      this.hashes.delete(id);
      throw err;
    }
    if (expected !== undefined && received !== expected) {
      this.hashes.delete(id);
      await fsp.truncate(data, st.size);
      throw regError('SIZE_INVALID', { expected, received });
    }
    if (cached) cached.offset = st.size + received;
    return { ...st, size: st.size + received };
  }

  /**
   * Closes an upload: appends the final chunk if any, checks the whole content against
   * `digest`, and moves it into the store, linked into the repository. On a digest mismatch the
   * upload is discarded and nothing is stored (DIGEST_INVALID).
   */
  async completeUpload(
    name: string,
    id: string,
    digest: string,
    body?: Readable,
    range?: ChunkRange,
    contentLength?: number,
  ): Promise<{ digest: string; size: number }> {
    return this.withLock(id, async () => {
      if (body) await this.appendLocked(name, id, body, range, contentLength);
      const st = await this.uploadStatus(name, id);
      const dir = this.uploadDir(id);
      const data = path.join(dir, 'data');
      const alg = algorithmOf(digest);
      const cached = this.hashes.get(id);
      let actual: string;
      if (cached && cached.alg === alg && cached.offset === st.size) {
        actual = `${alg}:${cached.hash.copy().digest('hex')}`;
      } else {
        actual = await hashFile(data, alg);
      }
      if (actual !== digest) {
        await this.discardUpload(id);
        throw regError('DIGEST_INVALID', { expected: digest, actual });
      }
      const target = this.blobPath(digest);
      if ((await this.blobSize(digest)) === undefined) {
        const fh = await fsp.open(data, 'r');
        try {
          await fh.sync();
        } finally {
          await fh.close();
        }
        await fsp.mkdir(path.dirname(target), { recursive: true });
        await fsp.rename(data, target);
        await syncDir(path.dirname(target));
      }
      await this.linkBlob(name, digest);
      await this.discardUpload(id);
      return { digest, size: st.size };
    });
  }

  async cancelUpload(name: string, id: string): Promise<void> {
    await this.withLock(id, async () => {
      await this.uploadStatus(name, id);
      await this.discardUpload(id);
    });
  }

  private async discardUpload(id: string): Promise<void> {
    this.hashes.delete(id);
    await fsp.rm(this.uploadDir(id), { recursive: true, force: true });
  }

  /** Removes uploads untouched for longer than maxAgeMs; returns their ids. */
  async purgeUploads(maxAgeMs: number): Promise<string[]> {
    const removed: string[] = [];
    let entries: string[];
    try {
      entries = await fsp.readdir(this.within('uploads'));
    } catch (err) {
      if (isENOENT(err)) return removed;
      throw err;
    }
    const now = Date.now();
    for (const id of entries) {
      if (!isValidUploadId(id) || this.locks.has(id)) continue;
      const dir = this.uploadDir(id);
      let mtime: number;
      try {
        mtime = (await fsp.stat(path.join(dir, 'data'))).mtimeMs;
      } catch {
        mtime = (await fsp.stat(dir).catch(() => ({ mtimeMs: now }))).mtimeMs;
      }
      if (now - mtime > maxAgeMs) {
        await this.discardUpload(id);
        removed.push(id);
      }
    }
    return removed;
  }

  // ---- manifests ----------------------------------------------------------------------------

  /**
   * Stores a manifest (byte for byte) under its digest and the given tags, after checking that
   * every blob and child manifest it references is in the repository (MANIFEST_BLOB_UNKNOWN,
   * one error per missing digest). A subject need not exist (the spec requires accepting it).
   */
  async putManifest(name: string, body: Buffer, m: ParsedManifest, digest: string, tags: string[]): Promise<void> {
    const missing: string[] = [];
    for (const b of m.blobs) if ((await this.repoBlobSize(name, b.digest)) === undefined) missing.push(b.digest);
    for (const c of m.manifests) if (!(await this.exists(this.revisionPath(name, c.digest)))) missing.push(c.digest);
    if (missing.length > 0) {
      const errs = [...new Set(missing)].map((d) => regError('MANIFEST_BLOB_UNKNOWN', { digest: d }));
      throw new RegistryError('MANIFEST_BLOB_UNKNOWN', { detail: errs[0].detail, others: errs.slice(1) });
    }
    if ((await this.blobSize(digest)) === undefined) await this.atomicWrite(this.blobPath(digest), body);
    await this.atomicWrite(this.revisionPath(name, digest), JSON.stringify({ mediaType: m.mediaType }));
    if (m.subject) {
      await this.atomicWrite(path.join(this.referrersDir(name, m.subject.digest), digest.replace(':', '-')), '');
    }
    for (const tag of tags) await this.atomicWrite(this.tagPath(name, tag), digest);
  }

  async resolveTag(name: string, tag: string): Promise<string | undefined> {
    try {
      const d = (await fsp.readFile(this.tagPath(name, tag), 'utf8')).trim();
      return isValidDigest(d) ? d : undefined;
    } catch (err) {
      if (isENOENT(err)) return undefined;
      throw err;
    }
  }

  /** A manifest of the repository by digest; undefined when it has none such. */
  async getManifest(name: string, digest: string): Promise<StoredManifest | undefined> {
    let mediaType: string;
    try {
      const rev = JSON.parse(await fsp.readFile(this.revisionPath(name, digest), 'utf8')) as { mediaType?: unknown };
      mediaType = typeof rev.mediaType === 'string' ? rev.mediaType : 'application/vnd.oci.image.manifest.v1+json';
    } catch (err) {
      if (isENOENT(err) || err instanceof SyntaxError) return undefined;
      throw err;
    }
    const size = await this.blobSize(digest);
    if (size === undefined || size > MAX_STORED_MANIFEST) return undefined;
    try {
      const body = await fsp.readFile(this.blobPath(digest));
      return { digest, mediaType, size: body.length, body };
    } catch (err) {
      if (isENOENT(err)) return undefined;
      throw err;
    }
  }

  /** Deletes a manifest, every tag pointing to it and its referrers entry. */
  async deleteManifest(name: string, digest: string): Promise<void> {
    const m = await this.getManifest(name, digest);
    if (!m && !(await this.exists(this.revisionPath(name, digest)))) throw regError('MANIFEST_UNKNOWN', { digest });
    if (m) {
      try {
        const parsed = parseManifest(m.body, m.mediaType);
        if (parsed.subject) {
          await fsp.rm(path.join(this.referrersDir(name, parsed.subject.digest), digest.replace(':', '-')), { force: true });
        }
      } catch {
        // A manifest that does not parse had no subject entry either.
      }
    }
    for (const tag of await this.tagNames(name)) {
      if ((await this.resolveTag(name, tag)) === digest) await fsp.rm(this.tagPath(name, tag), { force: true });
    }
    await fsp.rm(this.revisionPath(name, digest), { force: true });
  }

  async deleteTag(name: string, tag: string): Promise<void> {
    try {
      await fsp.unlink(this.tagPath(name, tag));
    } catch (err) {
      if (isENOENT(err) || (err as NodeJS.ErrnoException).code === 'ENOTDIR') throw regError('MANIFEST_UNKNOWN', { tag });
      throw err;
    }
  }

  async repositoryExists(name: string): Promise<boolean> {
    const dir = this.repoDir(name);
    return (await this.exists(path.join(dir, '_manifests'))) || (await this.exists(path.join(dir, '_layers')));
  }

  private async tagNames(name: string): Promise<string[]> {
    try {
      return (await fsp.readdir(this.tagsDir(name))).filter(isValidTag);
    } catch (err) {
      if (isENOENT(err) || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return [];
      throw err;
    }
  }

  /** The repository's tags in ASCII order; undefined when the repository does not exist. */
  async listTags(name: string): Promise<string[] | undefined> {
    if (!(await this.repositoryExists(name))) return undefined;
    return (await this.tagNames(name)).sort(asciiCompare);
  }

  /** Every repository that has manifests (or, with `withBlobsOnly`, blobs), in ASCII order. */
  async listRepositories(withBlobsOnly = false): Promise<string[]> {
    const out: string[] = [];
    const walk = async (rel: string): Promise<void> => {
      let entries: fs.Dirent[];
      try {
        entries = await fsp.readdir(rel ? this.within('repositories', rel) : this.within('repositories'), { withFileTypes: true });
      } catch (err) {
        if (isENOENT(err)) return;
        throw err;
      }
      const names = new Set(entries.filter((e) => e.isDirectory()).map((e) => e.name));
      if (rel && (names.has('_manifests') || (withBlobsOnly && names.has('_layers')))) out.push(rel);
      for (const n of [...names].sort()) {
        if (n.startsWith('_') || n.startsWith('.')) continue;
        await walk(rel ? `${rel}/${n}` : n);
      }
    };
    await walk('');
    return out.sort(asciiCompare);
  }

  /** Digests of the repository's manifests (its revisions). */
  async listManifests(name: string): Promise<string[]> {
    return this.listDigests(this.within('repositories', name, '_manifests', 'revisions'));
  }

  /** Digests of the blobs linked into the repository. */
  async listLinkedBlobs(name: string): Promise<string[]> {
    return this.listDigests(this.within('repositories', name, '_layers'));
  }

  private async listDigests(dir: string): Promise<string[]> {
    const out: string[] = [];
    for (const alg of ['sha256', 'sha512']) {
      let entries: string[];
      try {
        entries = await fsp.readdir(path.join(dir, alg));
      } catch (err) {
        if (isENOENT(err)) continue;
        throw err;
      }
      for (const hex of entries) if (isValidDigest(`${alg}:${hex}`)) out.push(`${alg}:${hex}`);
    }
    return out;
  }

  /** Descriptors of the repository's manifests whose subject is `subject`. */
  async referrers(name: string, subject: string): Promise<Descriptor[]> {
    let entries: string[];
    try {
      entries = await fsp.readdir(this.referrersDir(name, subject));
    } catch (err) {
      if (isENOENT(err) || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return [];
      throw err;
    }
    const out: Descriptor[] = [];
    for (const e of entries.sort()) {
      const digest = e.replace('-', ':');
      if (!isValidDigest(digest)) continue;
      const m = await this.getManifest(name, digest);
      if (!m) continue;
      try {
        const parsed = parseManifest(m.body, m.mediaType);
        if (parsed.subject?.digest === subject) out.push(referrerDescriptor(parsed, digest, m.size));
      } catch {
        // Not a manifest we can describe; leave it out.
      }
    }
    return out;
  }

  // ---- garbage collection -------------------------------------------------------------------

  /**
   * Mark and sweep: marks every manifest of every repository (revisions and tags), what they
   * reference (config, layers, blobs) and, following index children and subjects, the manifests
   * those reference in turn; removes every other blob from the store and the repository links
   * left pointing at nothing. Returns the removed digests, sorted. Run it while no push is in
   * progress: a blob uploaded but not yet referenced by a manifest is unreferenced.
   */
  async gc(opts: { dryRun?: boolean } = {}): Promise<string[]> {
    const marked = new Set<string>();
    const visited = new Set<string>();
    const markManifest = async (digest: string): Promise<void> => {
      marked.add(digest);
      if (visited.has(digest)) return;
      visited.add(digest);
      const size = await this.blobSize(digest);
      if (size === undefined || size > MAX_STORED_MANIFEST) return;
      const refs = manifestReferences(await fsp.readFile(this.blobPath(digest)));
      for (const b of refs.blobs) marked.add(b);
      for (const m of refs.manifests) await markManifest(m);
    };
    const repos = await this.listRepositories(true);
    for (const repo of repos) {
      for (const d of await this.listManifests(repo)) await markManifest(d);
      for (const tag of await this.tagNames(repo)) {
        const d = await this.resolveTag(repo, tag);
        if (d) await markManifest(d);
      }
    }
    const removed: string[] = [];
    for (const alg of ['sha256', 'sha512']) {
      const algDir = this.within('blobs', alg);
      let prefixes: string[];
      try {
        prefixes = await fsp.readdir(algDir);
      } catch (err) {
        if (isENOENT(err)) continue;
        throw err;
      }
      for (const prefix of prefixes.sort()) {
        let files: string[];
        try {
          files = await fsp.readdir(path.join(algDir, prefix));
        } catch {
          continue;
        }
        for (const hex of files.sort()) {
          const digest = `${alg}:${hex}`;
          if (!isValidDigest(digest) || hex.slice(0, 2) !== prefix || marked.has(digest)) continue;
          removed.push(digest);
          if (!opts.dryRun) await fsp.rm(path.join(algDir, prefix, hex), { force: true });
        }
      }
    }
    if (!opts.dryRun) {
      const gone = new Set(removed);
      for (const repo of repos) {
        for (const d of await this.listLinkedBlobs(repo)) {
          if (gone.has(d) || (await this.blobSize(d)) === undefined) await fsp.rm(this.layerLink(repo, d), { force: true });
        }
      }
    }
    return removed.sort();
  }
}

/** Removes the blobs no manifest under `root` references; see RegistryStorage.gc. */
export async function gc(root: string, opts: { dryRun?: boolean } = {}): Promise<string[]> {
  return new RegistryStorage(root).gc(opts);
}

/** The `Range` header of an upload of `size` bytes: `0-<last byte>` (`0-0` when empty, as the Distribution registry says). */
export function rangeHeader(size: number): string {
  return `0-${size > 0 ? size - 1 : 0}`;
}

function asciiCompare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

async function hashFile(file: string, alg: DigestAlgorithm): Promise<string> {
  const h = crypto.createHash(alg);
  for await (const chunk of fs.createReadStream(file)) h.update(chunk as Buffer);
  return `${alg}:${h.digest('hex')}`;
}

async function syncDir(dir: string): Promise<void> {
  try {
    const fh = await fsp.open(dir, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch {
    // Some filesystems refuse fsync on directories; the rename itself is still atomic.
  }
}
