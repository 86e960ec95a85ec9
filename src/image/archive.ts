/**
 * Image archives as `docker save` writes them and `docker load` reads them.
 *
 * Read: Docker's manifest.json format (legacy `<id>/layer.tar` + `<hex>.json`, and the Docker 25+
 * layout with `blobs/sha256/<hex>` paths), or a plain OCI image layout (index.json + oci-layout).
 * Write: the Docker 25+ combined layout (OCI layout + manifest.json + repositories), loadable by
 * Docker 20 and later and by OCI tools.
 */
import { createHash } from 'node:crypto';
import { createReadStream, constants as FS, promises as fsp } from 'node:fs';
import path from 'node:path';
import { entryComponents, openDecompressed, resolveDir, TarHeader, TarReader, TarWriter } from '../snapshot/unpack';

export interface ArchiveImage {
  /** sha256:<hex> of the config file */
  configDigest: string;
  configPath: string;
  /** files on disk, gzip or plain tar, bottom layer first */
  layerPaths: string[];
  /** familiar form, e.g. busybox:latest, registry:5000/app:1 */
  repoTags: string[];
}

export interface SaveImage {
  /** sha256:<hex> of config */
  id: string;
  config: Buffer;
  /** bottom first; path is the uncompressed layer tar, whose sha256 is diffId */
  layers: { diffId: string; path: string; size: number }[];
  repoTags: string[];
}

const MT = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
};
const INDEX_TYPES = new Set([MT.ociIndex, MT.dockerList]);
const MANIFEST_TYPES = new Set([MT.ociManifest, MT.dockerManifest]);
const ANN_IMAGE_NAME = 'io.containerd.image.name';
const ANN_REF_NAME = 'org.opencontainers.image.ref.name';

const DIGEST_RE = /^sha256:([0-9a-f]{64})$/;
/** Paths whose name states the sha256 of their content. */
const NAMED_BY_DIGEST_RE = /^(?:blobs\/sha256\/([0-9a-f]{64})|([0-9a-f]{64})\.json)$/;

// ---------------------------------------------------------------------------------------------
// References

interface Tag {
  /** docker.io/library/busybox:latest */
  full: string;
  /** busybox */
  familiarName: string;
  tag: string;
}

const TAG_RE = /^[\w][\w.-]{0,127}$/;
const PATH_COMPONENT_RE = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const DOMAIN_RE = /^(?:localhost|[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[0-9a-fA-F:]+\])(?::\d+)?$/;

/** Parses `name[:tag]` (no digest) as Docker normalises it; null when it is not a valid tagged reference. */
export function parseTag(ref: string): Tag | null {
  if (ref.includes('@')) return null;
  let name = ref;
  let tag = 'latest';
  const colon = ref.lastIndexOf(':');
  if (colon > ref.lastIndexOf('/')) {
    name = ref.slice(0, colon);
    tag = ref.slice(colon + 1);
  }
  if (!TAG_RE.test(tag)) return null;
  let domain = 'docker.io';
  let remainder = name;
  const slash = name.indexOf('/');
  if (slash !== -1) {
    const first = name.slice(0, slash);
    if (first.includes('.') || first.includes(':') || first === 'localhost') {
      domain = first;
      remainder = name.slice(slash + 1);
    }
  }
  if (domain === 'index.docker.io') domain = 'docker.io';
  if (!DOMAIN_RE.test(domain)) return null;
  if (domain === 'docker.io' && !remainder.includes('/')) remainder = 'library/' + remainder;
  if (!remainder || !remainder.split('/').every((c) => PATH_COMPONENT_RE.test(c))) return null;
  let familiarName = `${domain}/${remainder}`;
  if (domain === 'docker.io') {
    familiarName = remainder;
    const rest = remainder.slice('library/'.length);
    if (remainder.startsWith('library/') && !rest.includes('/')) familiarName = rest;
  }
  return { full: `${domain}/${remainder}:${tag}`, familiarName, tag };
}

// ---------------------------------------------------------------------------------------------
// Reading

interface Extracted {
  root: string;
  /** relative paths of the regular files written */
  files: Set<string>;
  /** symlinks (target relative to the link's directory, or to the root when absolute) and hard links ('/' + target) */
  links: Map<string, string>;
  /** sha256 hex of files, computed while extracting for digest-named paths, else on demand */
  digests: Map<string, string>;
}

async function extract(input: NodeJS.ReadableStream, root: string): Promise<Extracted> {
  const x: Extracted = { root, files: new Set(), links: new Map(), digests: new Map() };
  const stream = await openDecompressed(input);
  const reader = new TarReader(stream[Symbol.asyncIterator]());
  const known = new Set<string>();
  try {
    for (;;) {
      const e = await reader.next();
      if (!e) break;
      const what = `invalid archive: entry ${JSON.stringify(e.name)}`;
      const comps = entryComponents(e.name, what);
      if (!comps.length) continue;
      for (let i = 1; i < comps.length; i++) {
        if (x.links.has(comps.slice(0, i).join('/'))) throw new Error(`${what}: parent path is a link`);
      }
      const rel = comps.join('/');
      if (e.type === 'dir') {
        resolveDir(root, comps, what, true, known);
        continue;
      }
      if (e.type !== 'file' && e.type !== 'symlink' && e.type !== 'link') continue; // devices etc.: not part of an image archive
      const dir = resolveDir(root, comps.slice(0, -1), what, true, known);
      const abs = path.join(dir, comps[comps.length - 1]);
      x.links.delete(rel);
      if (x.files.delete(rel)) await fsp.rm(abs, { force: true });
      x.digests.delete(rel);
      if (e.type === 'symlink') {
        x.links.set(rel, e.linkname);
        continue;
      }
      if (e.type === 'link') {
        x.links.set(rel, '/' + e.linkname);
        continue;
      }
      const named = NAMED_BY_DIGEST_RE.exec(rel);
      const hash = named ? createHash('sha256') : null;
      const fh = await fsp.open(abs, FS.O_WRONLY | FS.O_CREAT | FS.O_EXCL | FS.O_NOFOLLOW, 0o644);
      try {
        for await (const chunk of reader.body()) {
          hash?.update(chunk);
          let off = 0;
          while (off < chunk.length) off += (await fh.write(chunk, off, chunk.length - off)).bytesWritten;
        }
      } finally {
        await fh.close();
      }
      x.files.add(rel);
      if (named && hash) {
        const actual = hash.digest('hex');
        const expected = named[1] ?? named[2];
        if (actual !== expected) {
          throw new Error(`invalid archive: ${rel} has digest sha256:${actual}, not the sha256:${expected} its name states`);
        }
        x.digests.set(rel, actual);
      }
    }
    await reader.drain();
  } catch (err) {
    stream.destroy();
    throw err;
  }
  return x;
}

class Archive {
  constructor(private readonly x: Extracted) {}

  has(rel: string): boolean {
    return this.x.files.has(rel) || this.x.links.has(rel);
  }

  abs(rel: string): string {
    return path.join(this.x.root, rel);
  }

  /** The relative path of the regular file that `p` names inside the archive, links followed within it. */
  resolve(p: string, what: string): string {
    let comps = entryComponents(p, `invalid archive: ${what}`);
    let hops = 0;
    for (let i = 1; i <= comps.length; i++) {
      const target = this.x.links.get(comps.slice(0, i).join('/'));
      if (target === undefined) continue;
      if (++hops > 40) throw new Error(`invalid archive: ${what} ${JSON.stringify(p)}: too many levels of links`);
      const base = target.startsWith('/') ? '' : comps.slice(0, i - 1).join('/');
      comps = entryComponents(`${base}/${target}`, `invalid archive: ${what} ${JSON.stringify(p)}`).concat(comps.slice(i));
      i = 0;
    }
    const rel = comps.join('/');
    if (!this.x.files.has(rel)) throw new Error(`invalid archive: ${what} ${JSON.stringify(p)} is missing from the archive`);
    return rel;
  }

  async digestOf(rel: string): Promise<string> {
    let d = this.x.digests.get(rel);
    if (d === undefined) {
      const hash = createHash('sha256');
      for await (const chunk of createReadStream(this.abs(rel))) hash.update(chunk as Buffer);
      d = hash.digest('hex');
      this.x.digests.set(rel, d);
    }
    return d;
  }

  /** Resolves `p` and checks the digest its name states, if it states one. */
  async file(p: string, what: string): Promise<string> {
    const rel = this.resolve(p, what);
    const named = NAMED_BY_DIGEST_RE.exec(entryComponents(p, what).join('/'));
    if (named) {
      const expected = named[1] ?? named[2];
      const actual = await this.digestOf(rel);
      if (actual !== expected) throw new Error(`invalid archive: ${what} ${p} has digest sha256:${actual}, not the sha256:${expected} its name states`);
    }
    return rel;
  }

  async json(rel: string, what: string): Promise<unknown> {
    const text = await fsp.readFile(this.abs(rel), 'utf8');
    try {
      return JSON.parse(text);
    } catch (err) {
      throw new Error(`invalid archive: ${what} is not valid JSON: ${(err as Error).message}`);
    }
  }

  /** The blob with this digest, verified (and its size, when given). */
  async blob(digest: unknown, size: unknown, what: string): Promise<string> {
    const m = typeof digest === 'string' ? DIGEST_RE.exec(digest) : null;
    if (!m) throw new Error(`invalid archive: ${what} has an invalid or unsupported digest ${JSON.stringify(digest)}`);
    const rel = this.resolve(`blobs/sha256/${m[1]}`, what);
    const actual = await this.digestOf(rel);
    if (actual !== m[1]) throw new Error(`invalid archive: ${what} blob ${digest} has digest sha256:${actual}`);
    if (typeof size === 'number') {
      const st = await fsp.stat(this.abs(rel));
      if (st.size !== size) throw new Error(`invalid archive: ${what} blob ${digest} is ${st.size} bytes, not ${size}`);
    }
    return rel;
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

async function checkConfig(a: Archive, rel: string, layers: number, what: string): Promise<void> {
  const cfg = await a.json(rel, what);
  if (!isObject(cfg)) throw new Error(`invalid archive: ${what} is not a JSON object`);
  const rootfs = cfg.rootfs;
  if (isObject(rootfs) && Array.isArray(rootfs.diff_ids) && rootfs.diff_ids.length !== layers) {
    throw new Error(`invalid archive: ${what} lists ${rootfs.diff_ids.length} layers, the manifest ${layers}`);
  }
}

function addImage(out: ArchiveImage[], img: ArchiveImage): void {
  const same = out.find((o) => o.configDigest === img.configDigest && o.layerPaths.join('\0') === img.layerPaths.join('\0'));
  if (!same) {
    out.push(img);
    return;
  }
  for (const t of img.repoTags) if (!same.repoTags.includes(t)) same.repoTags.push(t);
}

async function readDockerManifest(a: Archive): Promise<ArchiveImage[]> {
  const manifest = await a.json(a.resolve('manifest.json', 'manifest.json'), 'manifest.json');
  if (!Array.isArray(manifest)) throw new Error('invalid archive: manifest.json is not a JSON array');
  const out: ArchiveImage[] = [];
  for (const [i, item] of manifest.entries()) {
    const what = `manifest.json entry ${i}`;
    if (!isObject(item) || typeof item.Config !== 'string') throw new Error(`invalid archive: ${what} has no Config`);
    const layers = item.Layers ?? [];
    if (!Array.isArray(layers) || !layers.every((l) => typeof l === 'string')) throw new Error(`invalid archive: ${what} has invalid Layers`);
    const tags = item.RepoTags ?? [];
    if (!Array.isArray(tags) || !tags.every((t) => typeof t === 'string')) throw new Error(`invalid archive: ${what} has invalid RepoTags`);
    const configRel = await a.file(item.Config, `${what} config`);
    await checkConfig(a, configRel, layers.length, `config ${item.Config}`);
    const layerPaths: string[] = [];
    for (const l of layers as string[]) layerPaths.push(a.abs(await a.file(l, `${what} layer`)));
    const repoTags: string[] = [];
    for (const t of tags as string[]) {
      const p = parseTag(t);
      if (!p) throw new Error(`invalid archive: ${what} has an invalid tag ${JSON.stringify(t)}`);
      const f = `${p.familiarName}:${p.tag}`;
      if (!repoTags.includes(f)) repoTags.push(f);
    }
    addImage(out, { configDigest: 'sha256:' + (await a.digestOf(configRel)), configPath: a.abs(configRel), layerPaths, repoTags });
  }
  return out;
}

const HOST_ARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };

function tagsFromAnnotations(ann: unknown): string[] {
  if (!isObject(ann)) return [];
  const name = typeof ann[ANN_IMAGE_NAME] === 'string' ? (ann[ANN_IMAGE_NAME] as string) : '';
  const ref = typeof ann[ANN_REF_NAME] === 'string' ? (ann[ANN_REF_NAME] as string) : '';
  let candidate = '';
  if (name) {
    // a name without a tag takes the ref name as its tag
    const hasTag = name.lastIndexOf(':') > name.lastIndexOf('/');
    candidate = !hasTag && !name.includes('@') && TAG_RE.test(ref) ? `${name}:${ref}` : name;
  } else if (ref && /[:/]/.test(ref)) {
    candidate = ref; // a full reference (podman, skopeo); a bare tag names no repository
  }
  const p = candidate ? parseTag(candidate) : null;
  return p ? [`${p.familiarName}:${p.tag}`] : [];
}

async function readOciLayout(a: Archive): Promise<ArchiveImage[]> {
  const layout = await a.json(a.resolve('oci-layout', 'oci-layout'), 'oci-layout');
  if (!isObject(layout) || typeof layout.imageLayoutVersion !== 'string') throw new Error('invalid archive: oci-layout has no imageLayoutVersion');
  const index = await a.json(a.resolve('index.json', 'index.json'), 'index.json');
  if (!isObject(index) || !Array.isArray(index.manifests)) throw new Error('invalid archive: index.json has no manifests');
  const out: ArchiveImage[] = [];
  const arch = HOST_ARCH[process.arch] ?? process.arch;

  const visit = async (desc: unknown, tags: string[], depth: number): Promise<void> => {
    if (!isObject(desc)) throw new Error('invalid archive: invalid descriptor in an index');
    if (depth > 4) throw new Error('invalid archive: indexes nested too deeply');
    const what = `manifest ${String(desc.digest)}`;
    const rel = await a.blob(desc.digest, desc.size, what);
    const doc = await a.json(rel, what);
    if (!isObject(doc)) throw new Error(`invalid archive: ${what} is not a JSON object`);
    const mt = (typeof desc.mediaType === 'string' && desc.mediaType) || (typeof doc.mediaType === 'string' && doc.mediaType) || (Array.isArray(doc.manifests) ? MT.ociIndex : MT.ociManifest);
    if (INDEX_TYPES.has(mt)) {
      if (!Array.isArray(doc.manifests)) throw new Error(`invalid archive: index ${String(desc.digest)} has no manifests`);
      const candidates = doc.manifests.filter((m: unknown) => {
        if (!isObject(m)) return false;
        if (isObject(m.annotations) && m.annotations['vnd.docker.reference.type'] === 'attestation-manifest') return false;
        return !(isObject(m.platform) && m.platform.os === 'unknown');
      });
      const matching = candidates.filter((m: Record<string, unknown>) => isObject(m.platform) && m.platform.os === 'linux' && m.platform.architecture === arch);
      const chosen = matching[0] ?? (candidates.length === 1 ? candidates[0] : undefined);
      if (!chosen) {
        const have = candidates.map((m: Record<string, unknown>) => (isObject(m.platform) ? `${String(m.platform.os)}/${String(m.platform.architecture)}` : '?')).join(', ');
        throw new Error(`invalid archive: index ${String(desc.digest)} has no linux/${arch} image (has: ${have || 'none'})`);
      }
      await visit(chosen, tags, depth + 1);
      return;
    }
    if (!MANIFEST_TYPES.has(mt)) throw new Error(`invalid archive: ${what} has unsupported media type ${mt}`);
    if (!isObject(doc.config) || !Array.isArray(doc.layers)) throw new Error(`invalid archive: ${what} lacks config or layers`);
    const configRel = await a.blob(doc.config.digest, doc.config.size, `config of ${what}`);
    await checkConfig(a, configRel, doc.layers.length, `config ${String(doc.config.digest)}`);
    const layerPaths: string[] = [];
    for (const l of doc.layers) {
      if (!isObject(l)) throw new Error(`invalid archive: ${what} has an invalid layer descriptor`);
      layerPaths.push(a.abs(await a.blob(l.digest, l.size, `layer of ${what}`)));
    }
    addImage(out, { configDigest: 'sha256:' + (await a.digestOf(configRel)), configPath: a.abs(configRel), layerPaths, repoTags: [...tags] });
  };

  for (const desc of index.manifests) await visit(desc, tagsFromAnnotations(isObject(desc) ? desc.annotations : undefined), 0);
  return out;
}

/**
 * Extracts an image archive (a tar, possibly gzip-compressed as a whole) into `workDir` and
 * describes the images in it. Only regular files and directories are written; links inside the
 * archive are followed within it when resolving the paths the manifests name. Throws on malformed
 * archives (missing manifest or files, bad JSON, digest mismatches).
 */
export async function readImageArchive(input: NodeJS.ReadableStream, workDir: string): Promise<ArchiveImage[]> {
  const root = path.resolve(workDir);
  await fsp.mkdir(root, { recursive: true });
  const a = new Archive(await extract(input, root));
  if (a.has('manifest.json')) return readDockerManifest(a);
  if (a.has('index.json') && a.has('oci-layout')) return readOciLayout(a);
  throw new Error('invalid archive: it contains neither manifest.json nor an OCI image layout (index.json, oci-layout)');
}

// ---------------------------------------------------------------------------------------------
// Writing

const EPOCH = 0;

function hexOf(digest: string, what: string): string {
  const m = DIGEST_RE.exec(digest);
  if (!m) throw new Error(`${what}: invalid digest ${JSON.stringify(digest)}`);
  return m[1];
}

/**
 * Writes `images` to `out` in the format of `docker save` (Docker 25+): an OCI image layout
 * (oci-layout, index.json, blobs/sha256/*) plus manifest.json and repositories for older loaders.
 * Layers are written uncompressed, once each however many images share them, streamed from disk
 * and checked against their diff ids (the file's own size is used, not `size`). Images listed twice
 * (same id) are merged. Ends `out` on success; on failure after writing has begun, `out` is left
 * as is and the caller should destroy it (argument errors are thrown before anything is written).
 */
export async function writeImageArchive(images: SaveImage[], out: NodeJS.WritableStream): Promise<void> {
  type Blob = { data: Buffer } | { path: string; size: number; diffId: string };
  const blobs = new Map<string, Blob>();
  const manifestJson: { Config: string; RepoTags: string[]; Layers: string[] }[] = [];
  const repositories: Record<string, Record<string, string>> = {};
  const descriptors: Record<string, unknown>[] = [];

  // the same image asked for under several names: one entry, all the tags
  const unique = new Map<string, SaveImage>();
  for (const img of images) {
    const seen = unique.get(img.id);
    if (seen) unique.set(img.id, { ...seen, repoTags: [...seen.repoTags, ...img.repoTags] });
    else unique.set(img.id, img);
  }

  for (const img of unique.values()) {
    const configHex = hexOf(img.id, 'image id');
    const actual = createHash('sha256').update(img.config).digest('hex');
    if (actual !== configHex) throw new Error(`image ${img.id}: config has digest sha256:${actual}`);
    blobs.set(configHex, { data: img.config });
    const layerDescs: { mediaType: string; digest: string; size: number }[] = [];
    for (const l of img.layers) {
      const hex = hexOf(l.diffId, `image ${img.id} layer`);
      let b = blobs.get(hex);
      if (!b) {
        const st = await fsp.stat(l.path);
        if (!st.isFile()) throw new Error(`layer ${l.diffId}: ${l.path} is not a regular file`);
        b = { path: l.path, size: st.size, diffId: l.diffId };
        blobs.set(hex, b);
      }
      layerDescs.push({ mediaType: MT.ociLayer, digest: l.diffId, size: 'data' in b ? b.data.length : b.size });
    }
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MT.ociManifest,
        config: { mediaType: MT.ociConfig, digest: img.id, size: img.config.length },
        layers: layerDescs,
      }),
    );
    const manifestHex = createHash('sha256').update(manifest).digest('hex');
    blobs.set(manifestHex, { data: manifest });
    const desc = { mediaType: MT.ociManifest, digest: 'sha256:' + manifestHex, size: manifest.length };

    const repoTags: string[] = [];
    for (const t of img.repoTags) {
      const p = parseTag(t);
      if (!p) throw new Error(`image ${img.id}: invalid tag ${JSON.stringify(t)}`);
      const familiar = `${p.familiarName}:${p.tag}`;
      if (repoTags.includes(familiar)) continue;
      repoTags.push(familiar);
      descriptors.push({ ...desc, annotations: { [ANN_IMAGE_NAME]: p.full, [ANN_REF_NAME]: p.tag } });
      if (img.layers.length) {
        repositories[p.familiarName] ??= {};
        repositories[p.familiarName][p.tag] = hexOf(img.layers[img.layers.length - 1].diffId, 'layer');
      }
    }
    if (!repoTags.length) descriptors.push(desc);
    manifestJson.push({
      Config: `blobs/sha256/${configHex}`,
      RepoTags: repoTags,
      Layers: img.layers.map((l) => `blobs/sha256/${hexOf(l.diffId, 'layer')}`),
    });
  }

  const index = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MT.ociIndex, manifests: descriptors }));
  const w = new TarWriter(out);
  const meta = { uid: 0, gid: 0, mtime: EPOCH };
  const file = (name: string, data: Buffer): Promise<void> => w.add({ ...meta, name, type: '0', mode: 0o644, size: data.length }, data);
  await w.add({ ...meta, name: 'blobs/', type: '5', mode: 0o755, size: 0 });
  await w.add({ ...meta, name: 'blobs/sha256/', type: '5', mode: 0o755, size: 0 });
  for (const hex of [...blobs.keys()].sort()) {
    const b = blobs.get(hex)!;
    const name = `blobs/sha256/${hex}`;
    if ('data' in b) {
      await file(name, b.data);
      continue;
    }
    const hash = createHash('sha256');
    const h: TarHeader = { ...meta, name, type: '0', mode: 0o644, size: b.size };
    await w.addFile(h, b.path, (c) => hash.update(c));
    const got = hash.digest('hex');
    if (got !== hex) throw new Error(`layer ${b.diffId}: ${b.path} has digest sha256:${got}`);
  }
  await file('index.json', index);
  await file('manifest.json', Buffer.from(JSON.stringify(manifestJson) + '\n'));
  await file('oci-layout', Buffer.from('{"imageLayoutVersion": "1.0.0"}'));
  if (Object.keys(repositories).length) await file('repositories', Buffer.from(JSON.stringify(repositories) + '\n'));
  await w.finish();
}
