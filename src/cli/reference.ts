/**
 * Image references as the docker CLI reads them (distribution/reference's grammar): enough to
 * normalize what the user typed (`busybox` → `docker.io/library/busybox:latest`), to print the
 * familiar form back, and to refuse malformed names with docker's messages. The daemon does its
 * own parsing; the CLI needs this only where docker's CLI does it client-side (run's pull, tag,
 * import).
 */

const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?`;
const PATH_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*';
const NAME = `(?:${DOMAIN}/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*`;
const TAG = '[\\w][\\w.-]{0,127}';
const DIGEST = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}';
const REFERENCE_RE = new RegExp(`^(${NAME})(?::(${TAG}))?(?:@(${DIGEST}))?$`);
const ANCHORED_ID = /^[a-f0-9]{64}$/;

export const DEFAULT_DOMAIN = 'docker.io';
const LEGACY_DOMAIN = 'index.docker.io';
const OFFICIAL_PREFIX = 'library/';

export interface Reference {
  /** Registry host, e.g. docker.io or localhost:5000. */
  domain: string;
  /** Repository path within the registry, e.g. library/busybox. */
  path: string;
  tag?: string;
  digest?: string;
}

export class ReferenceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReferenceError';
  }
}

/** reference.ParseNormalizedNamed: the user's string → a fully qualified reference. */
export function parseNormalizedNamed(s: string): Reference {
  if (ANCHORED_ID.test(s)) {
    throw new ReferenceError(`invalid repository name (${s}), cannot specify 64-byte hexadecimal strings`);
  }
  const [domain, remainder] = splitDomain(s);
  let remote = remainder;
  let suffix = '';
  const at = remainder.search(/[:@]/);
  if (at >= 0) {
    remote = remainder.slice(0, at);
    suffix = remainder.slice(at);
  }
  if (remote.toLowerCase() !== remote) {
    throw new ReferenceError(`invalid reference format: repository name (${remote}) must be lowercase`);
  }
  const full = `${domain}/${remote}${suffix}`;
  const m = REFERENCE_RE.exec(full);
  if (!m) {
    if (s === '') throw new ReferenceError('repository name must have at least one component');
    throw new ReferenceError('invalid reference format');
  }
  if (m[1].length > 255) throw new ReferenceError('repository name must not be more than 255 characters');
  const slash = m[1].indexOf('/');
  return { domain: m[1].slice(0, slash), path: m[1].slice(slash + 1), tag: m[2], digest: m[3] };
}

function splitDomain(name: string): [string, string] {
  const i = name.indexOf('/');
  let domain: string;
  let remainder: string;
  if (i === -1 || (!/[.:]/.test(name.slice(0, i)) && name.slice(0, i) !== 'localhost' && name.slice(0, i).toLowerCase() === name.slice(0, i))) {
    domain = DEFAULT_DOMAIN;
    remainder = name;
  } else {
    domain = name.slice(0, i);
    remainder = name.slice(i + 1);
  }
  if (domain === LEGACY_DOMAIN) domain = DEFAULT_DOMAIN;
  if (domain === DEFAULT_DOMAIN && !remainder.includes('/')) remainder = OFFICIAL_PREFIX + remainder;
  return [domain, remainder];
}

/** reference.TagNameOnly: adds `latest` when there is neither tag nor digest. */
export function tagNameOnly(r: Reference): Reference {
  return r.tag === undefined && r.digest === undefined ? { ...r, tag: 'latest' } : r;
}

/** The full repository name, e.g. docker.io/library/busybox. */
export function fullName(r: Reference): string {
  return `${r.domain}/${r.path}`;
}

/** reference.FamiliarName: busybox, user/app, localhost:5000/app. */
export function familiarName(r: Reference): string {
  if (r.domain !== DEFAULT_DOMAIN) return `${r.domain}/${r.path}`;
  return r.path.startsWith(OFFICIAL_PREFIX) && r.path.indexOf('/', OFFICIAL_PREFIX.length) === -1
    ? r.path.slice(OFFICIAL_PREFIX.length)
    : r.path;
}

/** reference.FamiliarString: familiar name with tag and digest. */
export function familiarString(r: Reference): string {
  return familiarName(r) + (r.tag !== undefined ? `:${r.tag}` : '') + (r.digest !== undefined ? `@${r.digest}` : '');
}

/** The full string: docker.io/library/busybox:latest. */
export function referenceString(r: Reference): string {
  return fullName(r) + (r.tag !== undefined ? `:${r.tag}` : '') + (r.digest !== undefined ? `@${r.digest}` : '');
}

/** True for a string that can only be an image ID (or an ID prefix with sha256:). */
export function looksLikeDigestId(s: string): boolean {
  return /^sha256:[a-f0-9]{1,64}$/.test(s) || ANCHORED_ID.test(s);
}
