/**
 * Manifests: fetch (by tag or digest, following manifest lists and OCI indexes to one platform),
 * put, and the tags list. Every manifest's bytes are hashed: checked against the digest we asked
 * for, and against the registry's Docker-Content-Digest when it sends one.
 */
import { BerthError, invalidArgument } from '../../core/errors';
import { formatReference, type Reference } from '../../image/reference';
import { repositoryScope } from './auth';
import { fetchBlobBytes } from './blobs';
import { digestMismatch, digestOf, parseDigest, verifyBytes } from './digest';
import { choosePlatform } from './platform';
import { discard, readBody, type Endpoint, type Transport } from './transport';
import { MediaTypes, type Descriptor, type ImageIndex, type ImageManifest, type Platform, type ResolveResult } from './types';

/** Distribution refuses manifests over 4 MiB; so do we. */
export const MAX_MANIFEST_SIZE = 4 * 1024 * 1024;
/** Image configs carry history and env, not data; 32 MiB is far beyond any real one. */
export const MAX_CONFIG_SIZE = 32 * 1024 * 1024;

export const MANIFEST_ACCEPT = [MediaTypes.ociManifest, MediaTypes.ociIndex, MediaTypes.dockerManifest, MediaTypes.dockerManifestList].join(', ');

const INDEX_TYPES = new Set<string>([MediaTypes.ociIndex, MediaTypes.dockerManifestList]);
const MANIFEST_TYPES = new Set<string>([MediaTypes.ociManifest, MediaTypes.dockerManifest]);
const SCHEMA1_TYPES = new Set<string>([MediaTypes.dockerSchema1, MediaTypes.dockerSchema1Signed]);

export function isIndexType(mediaType: string): boolean {
  return INDEX_TYPES.has(mediaType);
}

export interface FetchedManifest {
  bytes: Buffer;
  mediaType: string;
  digest: string;
  json: Record<string, unknown>;
}

function parseJson(bytes: Buffer, what: string): Record<string, unknown> {
  try {
    const j: unknown = JSON.parse(bytes.toString('utf8'));
    if (j && typeof j === 'object' && !Array.isArray(j)) return j as Record<string, unknown>;
  } catch {}
  throw invalidArgument(`${what} is not valid JSON`);
}

/** The media type: the document's own mediaType field (it is covered by the digest), else Content-Type, else its shape. */
export function detectMediaType(contentType: string | undefined, json: Record<string, unknown>): string {
  if (json.schemaVersion === 1) return MediaTypes.dockerSchema1Signed;
  if (typeof json.mediaType === 'string' && json.mediaType) return json.mediaType;
  const ct = (contentType ?? '').split(';')[0].trim().toLowerCase();
  if (INDEX_TYPES.has(ct) || MANIFEST_TYPES.has(ct)) return ct;
  if (Array.isArray(json.manifests)) return MediaTypes.ociIndex;
  if (json.config && Array.isArray(json.layers)) return MediaTypes.ociManifest;
  return ct || 'application/octet-stream';
}

function checkDescriptor(d: unknown, what: string): Descriptor {
  const o = d as Descriptor | undefined;
  if (!o || typeof o !== 'object' || typeof o.digest !== 'string' || typeof o.size !== 'number' || !Number.isSafeInteger(o.size) || o.size < 0) {
    throw invalidArgument(`invalid manifest: bad ${what} descriptor`);
  }
  parseDigest(o.digest);
  if (typeof o.mediaType !== 'string') throw invalidArgument(`invalid manifest: ${what} descriptor without a mediaType`);
  return o;
}

export function checkImageManifest(json: Record<string, unknown>): ImageManifest {
  if (json.schemaVersion !== 2) throw invalidArgument(`unsupported manifest schemaVersion ${String(json.schemaVersion)}`);
  checkDescriptor(json.config, 'config');
  if (!Array.isArray(json.layers)) throw invalidArgument('invalid manifest: no layers');
  json.layers.forEach((l, i) => checkDescriptor(l, `layer ${i}`));
  if (json.subject !== undefined) checkDescriptor(json.subject, 'subject');
  return json as unknown as ImageManifest;
}

function checkIndex(json: Record<string, unknown>): ImageIndex {
  if (json.schemaVersion !== 2 || !Array.isArray(json.manifests)) throw invalidArgument('invalid manifest list: no manifests');
  json.manifests.forEach((m, i) => checkDescriptor(m, `manifest ${i}`));
  return json as unknown as ImageIndex;
}

/**
 * GETs one manifest. `reference` is a tag or a digest; with `expected`, the bytes must match that
 * digest (and size). Schema 1 manifests are refused.
 */
export async function fetchManifest(t: Transport, ep: Endpoint, ref: Reference, reference: string, expected?: { digest: string; size?: number }, signal?: AbortSignal): Promise<FetchedManifest> {
  const named = reference.includes(':') ? { ...ref, tag: undefined, digest: reference } : { ...ref, tag: reference, digest: undefined };
  const res = await t.request(ep, {
    method: 'GET',
    path: `/v2/${ref.path}/manifests/${reference}`,
    headers: { Accept: MANIFEST_ACCEPT },
    scopes: [repositoryScope(ref.path)],
    notFoundContext: `manifest for ${formatReference(named, { familiar: true })} not found: `,
    signal,
  });
  const bytes = await readBody(res.body, MAX_MANIFEST_SIZE, 'manifest');
  let digest: string;
  if (expected) {
    verifyBytes(bytes, expected.digest, expected.size);
    digest = expected.digest;
  } else {
    digest = digestOf(bytes);
  }
  const header = res.headers['docker-content-digest'];
  if (typeof header === 'string' && header) {
    let algorithm: 'sha256' | 'sha512' | undefined;
    try {
      algorithm = parseDigest(header).algorithm;
    } catch {}
    if (algorithm) {
      const got = digestOf(bytes, algorithm);
      if (got !== header) throw digestMismatch(header, got);
    }
  }
  const ct = res.headers['content-type'];
  if (SCHEMA1_TYPES.has((ct ?? '').split(';')[0].trim().toLowerCase())) throw schema1Error(named);
  const json = parseJson(bytes, 'manifest');
  const mediaType = detectMediaType(ct, json);
  if (SCHEMA1_TYPES.has(mediaType)) throw schema1Error(named);
  return { bytes, mediaType, digest, json };
}

function schema1Error(ref: Reference): BerthError {
  return invalidArgument(
    `${formatReference(ref, { familiar: true })}: Docker Image manifest version 2, schema 1 is not supported; push the image again with a current client to convert it to schema 2 or OCI`,
  );
}

/** Tag or digest to resolve; `latest` when the reference has neither. */
export function manifestReference(ref: Reference): string {
  return ref.digest ?? ref.tag ?? 'latest';
}

/** resolve(): manifest (through an index when there is one) and its config, all verified. */
export async function resolveManifest(t: Transport, ep: Endpoint, ref: Reference, platform: Platform, signal?: AbortSignal): Promise<ResolveResult> {
  const top = await fetchManifest(t, ep, ref, manifestReference(ref), ref.digest ? { digest: ref.digest } : undefined, signal);
  let chosen = top;
  let indexDigest: string | undefined;
  if (isIndexType(top.mediaType)) {
    const index = checkIndex(top.json);
    const desc = choosePlatform(index, platform);
    if (isIndexType(desc.mediaType)) throw invalidArgument(`${formatReference(ref, { familiar: true })}: nested manifest lists are not supported`);
    chosen = await fetchManifest(t, ep, ref, desc.digest, { digest: desc.digest, size: desc.size }, signal);
    if (isIndexType(chosen.mediaType)) throw invalidArgument(`${formatReference(ref, { familiar: true })}: nested manifest lists are not supported`);
    indexDigest = top.digest;
  }
  if (!MANIFEST_TYPES.has(chosen.mediaType)) {
    throw invalidArgument(`${formatReference(ref, { familiar: true })}: unsupported manifest media type ${chosen.mediaType}`);
  }
  const manifest = checkImageManifest(chosen.json);
  const config = await fetchBlobBytes(t, ep, ref, manifest.config, MAX_CONFIG_SIZE, signal);
  return { manifest, manifestDigest: chosen.digest, manifestBytes: chosen.bytes, mediaType: chosen.mediaType, indexDigest, config };
}

/** PUT a manifest under the reference's tag (or digest); returns its digest, checked against the registry's. */
export async function putManifest(t: Transport, ep: Endpoint, ref: Reference, body: Buffer, mediaType: string): Promise<string> {
  if (body.length > MAX_MANIFEST_SIZE) throw invalidArgument(`manifest is larger than ${MAX_MANIFEST_SIZE} bytes`);
  if (ref.digest) verifyBytes(body, ref.digest);
  const res = await t.request(ep, {
    method: 'PUT',
    path: `/v2/${ref.path}/manifests/${manifestReference(ref)}`,
    headers: { 'Content-Type': mediaType },
    body,
    scopes: [repositoryScope(ref.path, true)],
  });
  discard(res.body);
  const header = res.headers['docker-content-digest'];
  const computed = ref.digest ?? digestOf(body);
  if (typeof header === 'string' && header) {
    const { algorithm } = parseDigest(header);
    const got = digestOf(body, algorithm);
    if (got !== header) throw digestMismatch(got, header);
    return header;
  }
  return computed;
}

/** All tags of a repository, following `Link: <...>; rel="next"` pagination. */
export async function listTags(t: Transport, ep: Endpoint, ref: Reference): Promise<string[]> {
  const tags: string[] = [];
  let path: string | undefined = `/v2/${ref.path}/tags/list`;
  for (let page = 0; path && page < 10_000; page++) {
    const res = await t.request(ep, { method: 'GET', path, headers: { Accept: 'application/json' }, scopes: [repositoryScope(ref.path)] });
    const j = parseJson(await readBody(res.body, 16 * 1024 * 1024, 'tags list'), 'tags list');
    if (Array.isArray(j.tags)) for (const tag of j.tags) if (typeof tag === 'string') tags.push(tag);
    const link = res.headers.link;
    const next = typeof link === 'string' ? /<([^>]+)>\s*;\s*rel="?next"?/.exec(link) : null;
    path = next ? new URL(next[1], res.url).href : undefined;
  }
  return tags;
}
