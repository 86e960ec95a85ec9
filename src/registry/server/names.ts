/**
 * The grammar of the distribution API's path parameters. Everything that becomes part of a file
 * path under the storage root passes one of these checks first: a repository name is made of
 * lowercase components joined by single slashes (no `.`/`..` component, no leading `_`, so it can
 * neither escape the root nor collide with the `_manifests`/`_layers` directories), a tag cannot
 * begin with a dot, a digest is an algorithm and lowercase hex of the algorithm's length.
 */
import { regError } from './errors';

const NAME_RE = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$/;
const TAG_RE = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;
const DIGEST_RE = /^(sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$/;
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Longest repository name (the spec: fewer than 256 characters including slashes). */
export const MAX_NAME_LENGTH = 255;

export type DigestAlgorithm = 'sha256' | 'sha512';

export function isValidName(name: string): boolean {
  return name.length <= MAX_NAME_LENGTH && NAME_RE.test(name);
}

export function isValidTag(tag: string): boolean {
  return TAG_RE.test(tag);
}

export function isValidDigest(digest: string): boolean {
  return DIGEST_RE.test(digest);
}

export function isValidUploadId(id: string): boolean {
  return UUID_RE.test(id);
}

export function checkName(name: string): string {
  if (!isValidName(name)) throw regError('NAME_INVALID', { name });
  return name;
}

export function checkDigest(digest: string): string {
  if (!isValidDigest(digest)) throw regError('DIGEST_INVALID', { digest }, { message: `invalid digest: ${JSON.stringify(digest)}` });
  return digest;
}

export function algorithmOf(digest: string): DigestAlgorithm {
  return digest.slice(0, digest.indexOf(':')) as DigestAlgorithm;
}

export function hexOf(digest: string): string {
  return digest.slice(digest.indexOf(':') + 1);
}

export type Reference = { kind: 'tag'; tag: string } | { kind: 'digest'; digest: string };

/**
 * A manifest reference: a digest when it has a colon, a tag otherwise. An invalid one is
 * DIGEST_INVALID or TAG_INVALID accordingly.
 */
export function parseReference(ref: string): Reference {
  if (ref.includes(':')) return { kind: 'digest', digest: checkDigest(ref) };
  if (!isValidTag(ref)) throw regError('TAG_INVALID', { tag: ref }, { message: `invalid tag: ${JSON.stringify(ref)}` });
  return { kind: 'tag', tag: ref };
}
