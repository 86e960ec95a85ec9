/**
 * What the registry needs to know about a manifest: its media type, the blobs and manifests it
 * references (checked on push, marked by gc), its subject (the referrers API) and the fields a
 * referrers descriptor copies. Manifests are stored byte for byte as pushed; this only reads them.
 */
import { regError } from './errors';
import { isValidDigest } from './names';

export const MT = {
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerSchema1: 'application/vnd.docker.distribution.manifest.v1+json',
  dockerSchema1Signed: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
} as const;

export const INDEX_TYPES: readonly string[] = [MT.ociIndex, MT.dockerList];
export const IMAGE_TYPES: readonly string[] = [MT.ociManifest, MT.dockerManifest];

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
  urls?: string[];
  platform?: { architecture?: string; os?: string; variant?: string };
}

export interface ParsedManifest {
  mediaType: string;
  kind: 'image' | 'index';
  /** Blobs that must exist in the repository: the config and the layers (foreign layers excepted). */
  blobs: Descriptor[];
  /** Manifests an index refers to, which must exist in the repository. */
  manifests: Descriptor[];
  subject?: Descriptor;
  artifactType?: string;
  configMediaType?: string;
  annotations?: Record<string, string>;
}

/** A Content-Type without its parameters, lowercased; '' when absent. */
export function bareMediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0].trim().toLowerCase();
}

function invalid(reason: string): Error {
  return regError('MANIFEST_INVALID', { reason }, { message: `manifest invalid: ${reason}` });
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function descriptor(v: unknown, where: string): Descriptor {
  if (!isObject(v)) throw invalid(`${where} is not a descriptor`);
  if (typeof v.mediaType !== 'string' || v.mediaType === '') throw invalid(`${where} has no mediaType`);
  if (typeof v.digest !== 'string' || !isValidDigest(v.digest)) throw invalid(`${where} has an invalid digest: ${JSON.stringify(v.digest)}`);
  if (typeof v.size !== 'number' || !Number.isSafeInteger(v.size) || v.size < 0) throw invalid(`${where} has an invalid size`);
  if (v.urls !== undefined && !(Array.isArray(v.urls) && v.urls.every((u) => typeof u === 'string'))) throw invalid(`${where} has invalid urls`);
  if (v.annotations !== undefined && !stringMap(v.annotations)) throw invalid(`${where} has invalid annotations`);
  return v as unknown as Descriptor;
}

function stringMap(v: unknown): v is Record<string, string> {
  return isObject(v) && Object.values(v).every((x) => typeof x === 'string');
}

/**
 * Parses and checks a pushed manifest. The media type is the request's Content-Type, or the
 * manifest's own mediaType field when the Content-Type says nothing (absent, application/json,
 * application/octet-stream), or guessed from the shape; a Content-Type that contradicts the
 * mediaType field is refused, as clients are required to send the same.
 */
export function parseManifest(body: Buffer, contentType: string | undefined): ParsedManifest {
  let doc: unknown;
  try {
    doc = JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw invalid(`not valid JSON: ${(err as Error).message}`);
  }
  if (!isObject(doc)) throw invalid('not a JSON object');
  const ctype = bareMediaType(contentType);
  const generic = ctype === '' || ctype === 'application/json' || ctype === 'application/octet-stream';
  const field = doc.mediaType;
  if (field !== undefined && typeof field !== 'string') throw invalid('mediaType is not a string');
  if (!generic && field !== undefined && field !== ctype) {
    throw invalid(`mediaType ${JSON.stringify(field)} does not match Content-Type ${JSON.stringify(ctype)}`);
  }
  let mediaType = generic ? field : ctype;
  if (mediaType === undefined) mediaType = Array.isArray(doc.manifests) ? MT.ociIndex : MT.ociManifest;
  if (mediaType === MT.dockerSchema1 || mediaType === MT.dockerSchema1Signed) {
    throw invalid('Docker schema 1 manifests are not supported; push with schema 2 or OCI');
  }

  const isIndex = INDEX_TYPES.includes(mediaType) || (!IMAGE_TYPES.includes(mediaType) && Array.isArray(doc.manifests) && doc.layers === undefined);
  const isImage = IMAGE_TYPES.includes(mediaType) || (!isIndex && isObject(doc.config));
  if (!isIndex && !isImage) throw invalid(`unsupported manifest media type ${JSON.stringify(mediaType)}`);
  if (doc.schemaVersion !== 2) throw invalid('schemaVersion must be 2');
  if (doc.artifactType !== undefined && typeof doc.artifactType !== 'string') throw invalid('artifactType is not a string');
  if (doc.annotations !== undefined && !stringMap(doc.annotations)) throw invalid('annotations must map strings to strings');
  const subject = doc.subject === undefined ? undefined : descriptor(doc.subject, 'subject');
  const out: ParsedManifest = {
    mediaType,
    kind: isIndex ? 'index' : 'image',
    blobs: [],
    manifests: [],
    subject,
    artifactType: doc.artifactType as string | undefined,
    annotations: doc.annotations as Record<string, string> | undefined,
  };
  if (isIndex) {
    if (!Array.isArray(doc.manifests)) throw invalid('manifests must be an array');
    doc.manifests.forEach((m, i) => out.manifests.push(descriptor(m, `manifests[${i}]`)));
  } else {
    const config = descriptor(doc.config, 'config');
    out.configMediaType = config.mediaType;
    out.blobs.push(config);
    if (!Array.isArray(doc.layers)) throw invalid('layers must be an array');
    doc.layers.forEach((l, i) => {
      const d = descriptor(l, `layers[${i}]`);
      // Foreign (non-distributable) layers live elsewhere, at their urls.
      if (!(d.urls && d.urls.length > 0)) out.blobs.push(d);
    });
  }
  return out;
}

/**
 * What a stored manifest refers to, for gc: `blobs` (config, layers, an artifact's blobs) and
 * `manifests` (an index's children and the subject), which gc follows in turn. Lenient: a
 * manifest that no longer parses marks what it can and never throws.
 */
export function manifestReferences(body: Buffer): { blobs: string[]; manifests: string[] } {
  const out = { blobs: [] as string[], manifests: [] as string[] };
  let doc: unknown;
  try {
    doc = JSON.parse(body.toString('utf8'));
  } catch {
    return out;
  }
  if (!isObject(doc)) return out;
  const add = (list: string[], d: unknown): void => {
    if (isObject(d) && typeof d.digest === 'string' && isValidDigest(d.digest)) list.push(d.digest);
  };
  add(out.blobs, doc.config);
  for (const l of Array.isArray(doc.layers) ? doc.layers : []) add(out.blobs, l);
  for (const b of Array.isArray(doc.blobs) ? doc.blobs : []) add(out.blobs, b);
  for (const m of Array.isArray(doc.manifests) ? doc.manifests : []) add(out.manifests, m);
  add(out.manifests, doc.subject);
  return out;
}

/** The descriptor of a referrer as the referrers API lists it. */
export function referrerDescriptor(m: ParsedManifest, digest: string, size: number): Descriptor {
  const d: Descriptor = { mediaType: m.mediaType, digest, size };
  const artifactType = m.artifactType || (m.kind === 'image' ? m.configMediaType : undefined);
  if (artifactType) d.artifactType = artifactType;
  if (m.annotations && Object.keys(m.annotations).length > 0) d.annotations = m.annotations;
  return d;
}
