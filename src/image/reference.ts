/**
 * Image references as Docker spells them: [registry[:port]/]path[:tag][@digest].
 * `busybox` is `docker.io/library/busybox:latest`; the familiar form drops the
 * `docker.io/` and `library/` that normalisation added.
 */
import { invalidArgument } from '../core/errors';

export const DEFAULT_REGISTRY = 'docker.io';
export const DEFAULT_TAG = 'latest';

export interface Reference {
  domain: string; // docker.io, localhost:5000
  path: string; // library/busybox
  tag?: string;
  digest?: string; // sha256:<hex>
}

const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$/;
const DOMAIN = /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?))*(?::[0-9]+)?$|^\[[0-9a-fA-F:]+\](?::[0-9]+)?$/;

/** Parses and normalises a reference; throws invalid-argument with Docker's wording. */
export function parseReference(input: string): Reference {
  if (!input) throw invalidArgument('invalid reference format');
  let rest = input;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw invalidArgument(`invalid reference format: ${input}`);
  }
  let tag: string | undefined;
  const lastColon = rest.lastIndexOf(':');
  const lastSlash = rest.lastIndexOf('/');
  if (lastColon > lastSlash) {
    tag = rest.slice(lastColon + 1);
    rest = rest.slice(0, lastColon);
    if (!TAG.test(tag)) throw invalidArgument(`invalid reference format: ${input}`);
  }
  let domain = DEFAULT_REGISTRY;
  let path = rest;
  const slash = rest.indexOf('/');
  if (slash >= 0) {
    const first = rest.slice(0, slash);
    if (first.includes('.') || first.includes(':') || first === 'localhost' || first !== first.toLowerCase()) {
      domain = first;
      path = rest.slice(slash + 1);
    }
  }
  if (domain !== DEFAULT_REGISTRY && !DOMAIN.test(domain)) throw invalidArgument(`invalid reference format: ${input}`);
  if (domain === 'index.docker.io') domain = DEFAULT_REGISTRY;
  if (path !== path.toLowerCase()) {
    throw invalidArgument(`invalid reference format: repository name (${path}) must be lowercase`);
  }
  if (!path || !path.split('/').every((c) => PATH_COMPONENT.test(c))) {
    throw invalidArgument(`invalid reference format: ${input}`);
  }
  if (domain === DEFAULT_REGISTRY && !path.includes('/')) path = `library/${path}`;
  if (domain.length + path.length + 1 > 255) throw invalidArgument('repository name must not be more than 255 characters');
  return { domain, path, tag, digest };
}

/** The repository part, fully qualified: docker.io/library/busybox. */
export function repositoryName(ref: Reference): string {
  return `${ref.domain}/${ref.path}`;
}

/** The short repository name users see: busybox, user/app, localhost:5000/app. */
export function familiarRepository(ref: Reference): string {
  if (ref.domain === DEFAULT_REGISTRY) {
    return ref.path.startsWith('library/') && ref.path.split('/').length === 2 ? ref.path.slice(8) : ref.path;
  }
  return `${ref.domain}/${ref.path}`;
}

/** Full string: docker.io/library/busybox:latest (tag defaulted unless a digest is given). */
export function formatReference(ref: Reference, opts: { familiar?: boolean } = {}): string {
  let s = opts.familiar ? familiarRepository(ref) : repositoryName(ref);
  if (ref.tag) s += `:${ref.tag}`;
  if (ref.digest) s += `@${ref.digest}`;
  return s;
}

/** Adds the default tag when neither a tag nor a digest is present. */
export function withDefaultTag(ref: Reference): Reference {
  return ref.tag || ref.digest ? ref : { ...ref, tag: DEFAULT_TAG };
}

/** Normalised, tagged, familiar string for a name: `busybox` → `busybox:latest`. */
export function familiarTagged(input: string): string {
  return formatReference(withDefaultTag(parseReference(input)), { familiar: true });
}

/** True when the string looks like an image id or id prefix rather than a name. */
export function looksLikeId(s: string): boolean {
  return /^(sha256:)?[a-f0-9]{1,64}$/.test(s);
}
