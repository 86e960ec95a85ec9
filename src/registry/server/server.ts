/**
 * `berth registry serve`: an OCI distribution-spec v1.1 registry over node:http.
 *
 * One handler per endpoint of the spec's table (end-1 … end-14), routed by hand from the raw
 * request path: the path is never normalised or percent-decoded before the repository name is
 * checked, so `/v2/../x` and `%2e%2e` arrive as the invalid names they are (NAME_INVALID) and
 * never reach the filesystem. Every failure is a RegistryError, written as the spec's JSON
 * error body by sendError. Request bodies stream to disk (storage.ts); only manifests, at most
 * maxManifestBytes, are read into memory.
 *
 * Auth, when configured: htpasswd Basic on every /v2/ request, or (with `token`) bearer tokens
 * from the server's own GET/POST /auth/token, which checks Basic credentials against the same
 * htpasswd file (auth.ts). Actions: GET/HEAD need `pull`, DELETE `delete`, other writes `push`;
 * `_catalog` needs `registry:catalog:*`.
 */
import crypto from 'node:crypto';
import diagnostics from 'node:diagnostics_channel';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { pipeline } from 'node:stream/promises';
import { allows, grantScopes, Htpasswd, parseBasic, parseBearer, parseScopes, TokenIssuer, type Action, type TokenClaims, type TokenOptions } from './auth';
import { regError, RegistryError } from './errors';
import { bareMediaType, INDEX_TYPES, MT, parseManifest } from './manifest';
import { algorithmOf, checkDigest, checkName, isValidDigest, isValidName, isValidTag, parseReference } from './names';
import { rangeHeader, RegistryStorage, type ChunkRange, type UploadStatus } from './storage';

export interface RegistryServerOptions {
  /** The storage root (created if missing). */
  root: string;
  /** An htpasswd file of bcrypt entries: Basic auth, or the user database of the token endpoint. */
  htpasswd?: string;
  /**
   * Bearer-token auth with tokens from this server's /auth/token (`true` for the defaults).
   * Without `htpasswd` the token endpoint grants anonymous requests whatever they ask.
   */
  token?: TokenOptions | boolean;
  /** Serve HTTPS: PEM certificate and key, as file paths or the PEM text itself. */
  tls?: { cert: string; key: string };
  /** Largest manifest accepted (413 beyond); default 4 MiB. */
  maxManifestBytes?: number;
  /** Uploads untouched this long are removed (checked at listen and hourly); default 24 h. */
  uploadTtlMs?: number;
  /** Where unexpected (500) errors are reported; default nowhere. */
  log?: (message: string) => void;
}

export interface RegistryServer {
  server: http.Server | https.Server;
  storage: RegistryStorage;
  /** Listens on `host:port` (`[::1]:port`, `:port` for every interface); port 0 picks one. */
  listen(addr?: string | { host?: string; port?: number }): Promise<{ host: string; port: number }>;
  close(): Promise<void>;
}

/** Published for every request when it ends: { method, url, status, durationMs, user }. */
export const requestChannel = diagnostics.channel('berth:registry:request');

export const DEFAULT_MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
const API_VERSION_HEADER = 'Docker-Distribution-API-Version';
const BASIC_REALM = 'berth-registry';
/** A rejected request body up to this size is read and discarded, so the client sees the response. */
const DRAIN_LIMIT = 64 * 1024 * 1024;

type Route =
  | { op: 'manifest'; name: string; arg: string }
  | { op: 'uploads'; name: string }
  | { op: 'upload'; name: string; arg: string }
  | { op: 'blob'; name: string; arg: string }
  | { op: 'tags'; name: string }
  | { op: 'referrers'; name: string; arg: string };

const ROUTES: [RegExp, Route['op']][] = [
  [/^(.+)\/manifests\/([^/]+)$/, 'manifest'],
  [/^(.+)\/blobs\/uploads\/?$/, 'uploads'],
  [/^(.+)\/blobs\/uploads\/([^/]+)$/, 'upload'],
  [/^(.+)\/blobs\/([^/]+)$/, 'blob'],
  [/^(.+)\/tags\/list$/, 'tags'],
  [/^(.+)\/referrers\/([^/]+)$/, 'referrers'],
];

function matchRoute(rest: string): Route | undefined {
  for (const [re, op] of ROUTES) {
    const m = re.exec(rest);
    if (m) return { op, name: m[1], arg: m[2] } as Route;
  }
  return undefined;
}

/** Percent-decodes a path segment that names a tag, digest or upload; never a repository name. */
function decodeSegment(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

function pem(value: string): string {
  return value.includes('-----BEGIN') ? value : fs.readFileSync(value, 'utf8');
}

interface Ctx {
  req: http.IncomingMessage;
  res: http.ServerResponse;
  method: string;
  path: string;
  query: URLSearchParams;
  /** Who made the request, once authenticated. */
  user?: string;
  claims?: TokenClaims;
}

export function createRegistryServer(opts: RegistryServerOptions): RegistryServer {
  const storage = new RegistryStorage(opts.root);
  for (const d of ['blobs', 'repositories', 'uploads']) fs.mkdirSync(`${storage.root}/${d}`, { recursive: true });
  const htpasswd = opts.htpasswd ? Htpasswd.load(opts.htpasswd) : undefined;
  const tokens = opts.token ? new TokenIssuer(opts.token === true ? {} : opts.token) : undefined;
  const maxManifest = opts.maxManifestBytes ?? DEFAULT_MAX_MANIFEST_BYTES;
  const uploadTtl = opts.uploadTtlMs ?? 24 * 3600_000;
  const log = opts.log ?? ((): void => undefined);
  const scheme = opts.tls ? 'https' : 'http';

  // ---- responses ------------------------------------------------------------------------------

  const sendJSON = (ctx: Ctx, status: number, body: unknown, headers: Record<string, string> = {}): void => {
    const data = Buffer.from(JSON.stringify(body));
    ctx.res.statusCode = status;
    for (const [k, v] of Object.entries(headers)) ctx.res.setHeader(k, v);
    if (!ctx.res.hasHeader('Content-Type')) ctx.res.setHeader('Content-Type', 'application/json; charset=utf-8');
    ctx.res.setHeader('Content-Length', data.length);
    ctx.res.end(ctx.method === 'HEAD' ? undefined : data);
  };

  const sendEmpty = (ctx: Ctx, status: number, headers: Record<string, string | number> = {}): void => {
    ctx.res.statusCode = status;
    for (const [k, v] of Object.entries(headers)) ctx.res.setHeader(k, v);
    ctx.res.setHeader('Content-Length', 0);
    ctx.res.end();
  };

  /** Discards what is left of the request body, or closes the connection when that is too much. */
  const drain = (ctx: Ctx): void => {
    if (ctx.req.complete || ctx.req.destroyed) return;
    const declared = Number(ctx.req.headers['content-length'] ?? NaN);
    if (Number.isFinite(declared) && declared <= DRAIN_LIMIT) ctx.req.resume();
    else ctx.res.setHeader('Connection', 'close');
  };

  const sendError = (ctx: Ctx, err: RegistryError): void => {
    if (ctx.res.headersSent) {
      ctx.res.destroy();
      return;
    }
    drain(ctx);
    sendJSON(ctx, err.status, { errors: [err, ...err.others].map((e) => e.toJSON()) }, err.headers);
  };

  const uploadHeaders = (name: string, st: UploadStatus): Record<string, string> => ({
    Location: `/v2/${name}/blobs/uploads/${st.id}`,
    Range: rangeHeader(st.size),
    'Docker-Upload-UUID': st.id,
  });

  const blobCreated = (ctx: Ctx, name: string, digest: string): void =>
    sendEmpty(ctx, 201, { Location: `/v2/${name}/blobs/${digest}`, 'Docker-Content-Digest': digest });

  // ---- auth -------------------------------------------------------------------------------------

  /** The token endpoint as the client reached this server (its Host header, quotes and all stripped). */
  const realmOf = (ctx: Ctx): string => {
    if (tokens?.realm) return tokens.realm;
    const host = (ctx.req.headers.host ?? '').replace(/[^A-Za-z0-9.:[\]-]/g, '');
    const a = server.address() as AddressInfo | null;
    return `${scheme}://${host || (a ? `${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}` : '127.0.0.1')}/auth/token`;
  };

  type Resource = { type: 'repository' | 'registry'; name: string; action: Action | '*' };

  const challenge = (ctx: Ctx, resource?: Resource, insufficient = false): RegistryError => {
    let header: string;
    // A push needs pull too (blob existence checks, mounts): ask for both, as the Distribution registry does.
    const actions = resource?.action === 'push' ? 'pull,push' : resource?.action;
    if (tokens) {
      header = `Bearer realm="${realmOf(ctx)}",service="${tokens.service}"`;
      if (resource) header += `,scope="${resource.type}:${resource.name}:${actions}"`;
      if (insufficient) header += ',error="insufficient_scope"';
    } else {
      header = `Basic realm="${BASIC_REALM}"`;
    }
    const detail = resource ? [{ Type: resource.type, Name: resource.name, Action: actions }] : undefined;
    return regError('UNAUTHORIZED', detail, { headers: { 'WWW-Authenticate': header } });
  };

  /**
   * Checks the request's credentials when auth is on, and that they allow `action` on the
   * resource (a repository name, or the catalog). Throws the 401 with the challenge a client needs.
   */
  const authorize = async (ctx: Ctx, resource?: Resource): Promise<void> => {
    if (!htpasswd && !tokens) return;
    const auth = ctx.req.headers.authorization;
    if (tokens) {
      const raw = parseBearer(auth);
      const claims = raw ? tokens.verify(raw) : undefined;
      if (!claims) throw challenge(ctx, resource);
      ctx.claims = claims;
      ctx.user = claims.sub;
      if (resource && !allows(claims, resource.type, resource.name, resource.action)) throw challenge(ctx, resource, true);
      return;
    }
    const basic = parseBasic(auth);
    if (!basic || !htpasswd || !(await htpasswd.verify(basic.user, basic.password))) throw challenge(ctx, resource);
    ctx.user = basic.user;
  };

  /** May the caller read repository `name`? (For cross-repository mounts, which need pull on the source.) */
  const mayPull = (ctx: Ctx, name: string): boolean => !tokens || (ctx.claims !== undefined && allows(ctx.claims, 'repository', name, 'pull'));

  const actionOf = (method: string): Action => (method === 'GET' || method === 'HEAD' ? 'pull' : method === 'DELETE' ? 'delete' : 'push');

  // ---- the token endpoint -------------------------------------------------------------------------

  const tokenEndpoint = async (ctx: Ctx): Promise<void> => {
    if (!tokens) throw regError('UNSUPPORTED', undefined, { status: 404 });
    let creds = parseBasic(ctx.req.headers.authorization);
    let scopes = ctx.query.getAll('scope');
    if (ctx.method === 'POST') {
      // OAuth2 password grant (docker's `--password-stdin` logins with identity tokens use POST).
      const tooBig = (): RegistryError => regError('UNSUPPORTED', undefined, { status: 413, message: 'request body too large' });
      const form = new URLSearchParams((await readBody(ctx.req, 64 * 1024, tooBig)).toString('utf8'));
      if (form.get('grant_type') !== 'password') {
        throw regError('UNSUPPORTED', { grant_type: form.get('grant_type') }, { status: 400, message: 'only the password grant is supported' });
      }
      creds = { user: form.get('username') ?? '', password: form.get('password') ?? '' };
      scopes = [...scopes, ...form.getAll('scope')];
    } else if (ctx.method !== 'GET') {
      throw regError('UNSUPPORTED', { method: ctx.method });
    }
    let subject = '';
    if (htpasswd) {
      const basicChallenge = { 'WWW-Authenticate': `Basic realm="${BASIC_REALM}"` };
      if (!creds) throw regError('UNAUTHORIZED', undefined, { headers: basicChallenge });
      if (!(await htpasswd.verify(creds.user, creds.password))) {
        throw regError('UNAUTHORIZED', undefined, { message: 'incorrect username or password', headers: basicChallenge });
      }
      subject = creds.user;
    }
    ctx.user = subject || undefined;
    const t = tokens.issue(subject, grantScopes(parseScopes(scopes)));
    sendJSON(ctx, 200, { token: t.token, access_token: t.token, expires_in: t.expiresIn, issued_at: t.issuedAt }, { 'Cache-Control': 'no-store' });
  };

  // ---- manifests --------------------------------------------------------------------------------

  const getManifest = async (ctx: Ctx, name: string, arg: string): Promise<void> => {
    const ref = parseReference(decodeSegment(arg));
    const digest = ref.kind === 'tag' ? await storage.resolveTag(name, ref.tag) : ref.digest;
    let m = digest ? await storage.getManifest(name, digest) : undefined;
    if (!m) throw regError('MANIFEST_UNKNOWN', ref.kind === 'tag' ? { tag: ref.tag } : { digest: ref.digest });
    if (ref.kind === 'tag' && INDEX_TYPES.includes(m.mediaType) && !acceptsIndex(ctx.req.headers.accept)) {
      // A client that takes no index gets the linux/amd64 image, as the Distribution registry does.
      try {
        const child = parseManifest(m.body, m.mediaType).manifests.find((d) => d.platform?.os === 'linux' && d.platform?.architecture === 'amd64');
        const cm = child ? await storage.getManifest(name, child.digest) : undefined;
        if (cm) m = cm;
      } catch {
        // Serve the index as it is.
      }
    }
    const etag = `"${m.digest}"`;
    const headers = { 'Content-Type': m.mediaType, 'Docker-Content-Digest': m.digest, ETag: etag };
    if (ctx.req.headers['if-none-match'] === etag) return sendEmpty(ctx, 304, headers);
    ctx.res.statusCode = 200;
    for (const [k, v] of Object.entries(headers)) ctx.res.setHeader(k, v);
    ctx.res.setHeader('Content-Length', m.size);
    ctx.res.end(ctx.method === 'HEAD' ? undefined : m.body);
  };

  const putManifest = async (ctx: Ctx, name: string, arg: string): Promise<void> => {
    const ref = parseReference(decodeSegment(arg));
    const extraTags = ctx.query.getAll('tag');
    for (const t of extraTags) if (!isValidTag(t)) throw regError('TAG_INVALID', { tag: t }, { message: `invalid tag: ${JSON.stringify(t)}` });
    const tooBig = (): RegistryError =>
      regError('MANIFEST_INVALID', { limit: maxManifest }, { status: 413, message: `manifest invalid: larger than the ${maxManifest} bytes this registry accepts` });
    const body = await readBody(ctx.req, maxManifest, tooBig);
    const parsed = parseManifest(body, ctx.req.headers['content-type']);
    const alg = ref.kind === 'digest' ? algorithmOf(ref.digest) : 'sha256';
    const digest = `${alg}:${crypto.createHash(alg).update(body).digest('hex')}`;
    if (ref.kind === 'digest' && ref.digest !== digest) throw regError('DIGEST_INVALID', { expected: ref.digest, actual: digest });
    const tags = [...new Set([...(ref.kind === 'tag' ? [ref.tag] : []), ...extraTags])];
    await storage.putManifest(name, body, parsed, digest, tags);
    const headers: Record<string, string> = { Location: `/v2/${name}/manifests/${digest}`, 'Docker-Content-Digest': digest };
    if (parsed.subject) headers['OCI-Subject'] = parsed.subject.digest;
    if (extraTags.length > 0) headers['OCI-Tag'] = extraTags.join(', ');
    sendEmpty(ctx, 201, headers);
  };

  const deleteManifest = async (ctx: Ctx, name: string, arg: string): Promise<void> => {
    const ref = parseReference(decodeSegment(arg));
    if (ref.kind === 'digest') await storage.deleteManifest(name, ref.digest);
    else await storage.deleteTag(name, ref.tag);
    sendEmpty(ctx, 202);
  };

  // ---- blobs ------------------------------------------------------------------------------------

  const getBlob = async (ctx: Ctx, name: string, arg: string): Promise<void> => {
    const digest = checkDigest(decodeSegment(arg));
    if ((await storage.repoBlobSize(name, digest)) === undefined) throw regError('BLOB_UNKNOWN', { digest });
    let fh: fsp.FileHandle;
    try {
      fh = await fsp.open(storage.blobPath(digest), 'r');
    } catch {
      throw regError('BLOB_UNKNOWN', { digest });
    }
    try {
      const size = (await fh.stat()).size;
      const headers: Record<string, string | number> = {
        'Content-Type': 'application/octet-stream',
        'Docker-Content-Digest': digest,
        ETag: `"${digest}"`,
        'Accept-Ranges': 'bytes',
        'Cache-Control': 'max-age=31536000',
      };
      const range = ctx.method === 'GET' ? parseRange(ctx.req.headers.range, size) : undefined;
      if (range === 'unsatisfiable') return sendEmpty(ctx, 416, { 'Content-Range': `bytes */${size}` });
      const start = range?.start ?? 0;
      const end = range?.end ?? size - 1;
      ctx.res.statusCode = range ? 206 : 200;
      for (const [k, v] of Object.entries(headers)) ctx.res.setHeader(k, v);
      if (range) ctx.res.setHeader('Content-Range', `bytes ${start}-${end}/${size}`);
      ctx.res.setHeader('Content-Length', end - start + 1);
      if (ctx.method === 'HEAD' || size === 0) {
        ctx.res.end();
        return;
      }
      const stream = fh.createReadStream({ start, end, autoClose: false });
      await pipeline(stream, ctx.res);
    } finally {
      await fh.close();
    }
  };

  const deleteBlob = async (ctx: Ctx, name: string, arg: string): Promise<void> => {
    const digest = checkDigest(decodeSegment(arg));
    if (!(await storage.unlinkBlob(name, digest))) throw regError('BLOB_UNKNOWN', { digest });
    sendEmpty(ctx, 202);
  };

  // ---- uploads ----------------------------------------------------------------------------------

  const contentLengthOf = (ctx: Ctx): number | undefined => {
    const v = ctx.req.headers['content-length'];
    if (v === undefined) return undefined;
    if (!/^\d+$/.test(v)) throw regError('SIZE_INVALID', { contentLength: v });
    return Number(v);
  };

  const hasBody = (ctx: Ctx): boolean => ctx.req.headers['transfer-encoding'] !== undefined || (contentLengthOf(ctx) ?? 0) > 0;

  const startUpload = async (ctx: Ctx, name: string): Promise<void> => {
    const mount = ctx.query.get('mount');
    const from = ctx.query.get('from');
    if (mount !== null && from !== null && isValidDigest(mount) && isValidName(from) && mayPull(ctx, from)) {
      if ((await storage.mountBlob(name, from, mount)) !== undefined) {
        drain(ctx);
        return blobCreated(ctx, name, mount);
      }
    }
    const algParam = ctx.query.get('digest-algorithm');
    if (algParam !== null && algParam !== 'sha256' && algParam !== 'sha512') {
      throw regError('DIGEST_INVALID', { algorithm: algParam }, { message: `unsupported digest algorithm ${JSON.stringify(algParam)}` });
    }
    const digestParam = ctx.query.get('digest');
    if (digestParam !== null && mount === null) checkDigest(digestParam);
    if (digestParam !== null && mount === null && hasBody(ctx)) {
      // Monolithic upload in a single POST. (Without a body it opens an upload session, as a
      // registry that does not take single-POST uploads would.)
      const digest = digestParam;
      const cl = contentLengthOf(ctx);
      const st = await storage.startUpload(name);
      try {
        await storage.completeUpload(name, st.id, digest, ctx.req, undefined, cl);
      } catch (err) {
        await storage.cancelUpload(name, st.id).catch(() => undefined);
        throw err;
      }
      return blobCreated(ctx, name, digest);
    }
    drain(ctx);
    const st = await storage.startUpload(name);
    sendEmpty(ctx, 202, uploadHeaders(name, st));
  };

  const withUploadHeaders = async (name: string, id: string, fn: () => Promise<void>): Promise<void> => {
    try {
      await fn();
    } catch (err) {
      // An out-of-order chunk tells the client where the upload stands and where it lives.
      if (err instanceof RegistryError && err.status === 416) {
        err.headers.Location = `/v2/${name}/blobs/uploads/${id}`;
        err.headers['Docker-Upload-UUID'] = id;
      }
      throw err;
    }
  };

  const contentRangeOf = async (ctx: Ctx, name: string, id: string): Promise<ChunkRange | undefined> => {
    const raw = ctx.req.headers['content-range'];
    if (raw === undefined) return undefined;
    const m = /^(?:bytes[ =])?(\d+)-(\d+)(?:\/(?:\d+|\*))?$/.exec(raw.trim());
    if (!m) {
      const st = await storage.uploadStatus(name, id);
      throw regError('BLOB_UPLOAD_INVALID', { contentRange: raw }, {
        status: 416,
        message: `invalid Content-Range ${JSON.stringify(raw)}`,
        headers: { Range: rangeHeader(st.size) },
      });
    }
    return { start: Number(m[1]), end: Number(m[2]) };
  };

  const patchUpload = async (ctx: Ctx, name: string, id: string): Promise<void> => {
    await storage.uploadStatus(name, id);
    await withUploadHeaders(name, id, async () => {
      const range = await contentRangeOf(ctx, name, id);
      const st = await storage.appendUpload(name, id, ctx.req, range, contentLengthOf(ctx));
      sendEmpty(ctx, 202, uploadHeaders(name, st));
    });
  };

  const putUpload = async (ctx: Ctx, name: string, id: string): Promise<void> => {
    await storage.uploadStatus(name, id);
    const digestParam = ctx.query.get('digest');
    if (digestParam === null) throw regError('DIGEST_INVALID', { reason: 'digest missing' }, { message: 'the digest query parameter is required' });
    const digest = checkDigest(digestParam);
    await withUploadHeaders(name, id, async () => {
      const range = await contentRangeOf(ctx, name, id);
      const body = range || hasBody(ctx) ? ctx.req : undefined;
      await storage.completeUpload(name, id, digest, body, range, contentLengthOf(ctx));
      drain(ctx);
      blobCreated(ctx, name, digest);
    });
  };

  // ---- listings ---------------------------------------------------------------------------------

  /** The n/last pagination of tags/list and _catalog, with the Link header of the next page. */
  const paginate = (ctx: Ctx, all: string[], base: string): { items: string[]; headers: Record<string, string> } => {
    const nRaw = ctx.query.get('n');
    const last = ctx.query.get('last');
    let n: number | undefined;
    if (nRaw !== null && nRaw !== '') {
      if (!/^\d+$/.test(nRaw)) throw regError('PAGINATION_NUMBER_INVALID', { n: nRaw });
      n = Number(nRaw);
    }
    let items = last ? all.filter((x) => x > last) : all;
    const headers: Record<string, string> = {};
    if (n !== undefined) {
      const more = items.length > n;
      items = items.slice(0, n);
      if (more && n > 0) headers.Link = `<${base}?last=${encodeURIComponent(items[items.length - 1])}&n=${n}>; rel="next"`;
    }
    return { items, headers };
  };

  const listTags = async (ctx: Ctx, name: string): Promise<void> => {
    const tags = await storage.listTags(name);
    if (!tags) throw regError('NAME_UNKNOWN', { name });
    const page = paginate(ctx, tags, `/v2/${name}/tags/list`);
    sendJSON(ctx, 200, { name, tags: page.items }, page.headers);
  };

  const catalog = async (ctx: Ctx): Promise<void> => {
    const page = paginate(ctx, await storage.listRepositories(), '/v2/_catalog');
    sendJSON(ctx, 200, { repositories: page.items }, page.headers);
  };

  const referrers = async (ctx: Ctx, name: string, arg: string): Promise<void> => {
    const subject = checkDigest(decodeSegment(arg));
    let manifests = await storage.referrers(name, subject);
    const artifactType = ctx.query.get('artifactType');
    const headers: Record<string, string> = { 'Content-Type': MT.ociIndex };
    if (artifactType) {
      manifests = manifests.filter((d) => d.artifactType === artifactType);
      headers['OCI-Filters-Applied'] = 'artifactType';
    }
    sendJSON(ctx, 200, { schemaVersion: 2, mediaType: MT.ociIndex, manifests }, headers);
  };

  // ---- dispatch ---------------------------------------------------------------------------------

  const notFound = (): RegistryError => regError('UNSUPPORTED', undefined, { status: 404, message: '404 page not found' });
  const notAllowed = (ctx: Ctx): RegistryError => regError('UNSUPPORTED', { method: ctx.method }, { status: 405, message: `method ${ctx.method} not allowed here` });

  const dispatch = async (ctx: Ctx): Promise<void> => {
    ctx.res.setHeader(API_VERSION_HEADER, 'registry/2.0');
    if (ctx.path === '/auth/token') return tokenEndpoint(ctx);
    if (ctx.path === '/v2' || ctx.path === '/v2/') {
      if (ctx.method !== 'GET' && ctx.method !== 'HEAD') throw notAllowed(ctx);
      await authorize(ctx);
      return sendJSON(ctx, 200, {});
    }
    if (!ctx.path.startsWith('/v2/')) throw notFound();
    const rest = ctx.path.slice(4);
    if (rest === '_catalog') {
      if (ctx.method !== 'GET') throw notAllowed(ctx);
      await authorize(ctx, { type: 'registry', name: 'catalog', action: '*' });
      return catalog(ctx);
    }
    const route = matchRoute(rest);
    if (!route) throw notFound();
    const name = checkName(route.name);
    const m = ctx.method;
    await authorize(ctx, { type: 'repository', name, action: actionOf(m) });
    switch (route.op) {
      case 'manifest':
        if (m === 'GET' || m === 'HEAD') return getManifest(ctx, name, route.arg);
        if (m === 'PUT') return putManifest(ctx, name, route.arg);
        if (m === 'DELETE') return deleteManifest(ctx, name, route.arg);
        break;
      case 'blob':
        if (m === 'GET' || m === 'HEAD') return getBlob(ctx, name, route.arg);
        if (m === 'DELETE') return deleteBlob(ctx, name, route.arg);
        break;
      case 'uploads':
        if (m === 'POST') return startUpload(ctx, name);
        break;
      case 'upload': {
        const id = decodeSegment(route.arg);
        if (m === 'GET' || m === 'HEAD') {
          const st = await storage.uploadStatus(name, id);
          return sendEmpty(ctx, 204, uploadHeaders(name, st));
        }
        if (m === 'PATCH') return patchUpload(ctx, name, id);
        if (m === 'PUT') return putUpload(ctx, name, id);
        if (m === 'DELETE') {
          await storage.cancelUpload(name, id);
          return sendEmpty(ctx, 204, { 'Docker-Upload-UUID': id });
        }
        break;
      }
      case 'tags':
        if (m === 'GET') return listTags(ctx, name);
        break;
      case 'referrers':
        if (m === 'GET') return referrers(ctx, name, route.arg);
        break;
    }
    throw notAllowed(ctx);
  };

  const handler = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const started = process.hrtime.bigint();
    const raw = req.url ?? '/';
    const q = raw.indexOf('?');
    const ctx: Ctx = {
      req,
      res,
      method: (req.method ?? 'GET').toUpperCase(),
      path: q >= 0 ? raw.slice(0, q) : raw,
      query: new URLSearchParams(q >= 0 ? raw.slice(q + 1) : ''),
    };
    res.on('finish', () => {
      if (requestChannel.hasSubscribers) {
        requestChannel.publish({
          method: ctx.method,
          url: raw,
          status: res.statusCode,
          durationMs: Number(process.hrtime.bigint() - started) / 1e6,
          user: ctx.user,
        });
      }
    });
    dispatch(ctx).catch((err: unknown) => {
      if (err instanceof RegistryError) return sendError(ctx, err);
      if (isClientGone(err, req)) {
        res.destroy();
        return;
      }
      log(`registry: ${ctx.method} ${raw}: ${(err as Error)?.stack ?? String(err)}`);
      sendError(ctx, regError('UNKNOWN', undefined, { message: (err as Error)?.message ?? String(err) }));
    });
  };

  const server = opts.tls
    ? https.createServer({ cert: pem(opts.tls.cert), key: pem(opts.tls.key) }, handler)
    : http.createServer(handler);
  // Blob uploads may take as long as they take; a stalled header still times out.
  server.requestTimeout = 0;
  server.headersTimeout = 60_000;

  let purgeTimer: NodeJS.Timeout | undefined;
  const purge = (): void => {
    storage.purgeUploads(uploadTtl).catch((err: unknown) => log(`registry: purging stale uploads: ${String(err)}`));
  };

  return {
    server,
    storage,
    async listen(addr = '127.0.0.1:0') {
      const { host, port } = typeof addr === 'string' ? parseAddr(addr) : { host: addr.host ?? '127.0.0.1', port: addr.port ?? 0 };
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host || undefined, () => {
          server.off('error', reject);
          resolve();
        });
      });
      purge();
      purgeTimer = setInterval(purge, 3600_000);
      purgeTimer.unref();
      const a = server.address() as AddressInfo;
      return { host: a.address, port: a.port };
    },
    async close() {
      if (purgeTimer) clearInterval(purgeTimer);
      await new Promise<void>((resolve) => {
        if (!server.listening) return resolve();
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

/** `host:port`, `[v6]:port`, `:port` (every interface) or a bare port. */
export function parseAddr(addr: string): { host: string; port: number } {
  let host: string;
  let portStr: string;
  const v6 = /^\[([^\]]+)\]:(\d+)$/.exec(addr);
  if (v6) {
    host = v6[1];
    portStr = v6[2];
  } else if (/^\d+$/.test(addr)) {
    host = '127.0.0.1';
    portStr = addr;
  } else {
    const i = addr.lastIndexOf(':');
    if (i < 0) throw new Error(`invalid address ${JSON.stringify(addr)}: expected HOST:PORT`);
    host = addr.slice(0, i);
    portStr = addr.slice(i + 1);
  }
  const port = Number(portStr);
  if (!/^\d+$/.test(portStr) || port > 65535) throw new Error(`invalid address ${JSON.stringify(addr)}: bad port`);
  return { host, port };
}

/** Whether a single Accept header lets the client take an index or manifest list. */
function acceptsIndex(accept: string | undefined): boolean {
  if (!accept) return true;
  const types = accept.split(',').map((t) => bareMediaType(t));
  return types.length === 0 || types.some((t) => t === '*/*' || t === '' || INDEX_TYPES.includes(t));
}

/** A single `bytes=` range of a blob of `size` bytes (RFC 9110 §14); undefined to send it all. */
export function parseRange(header: string | undefined, size: number): { start: number; end: number } | 'unsatisfiable' | undefined {
  if (!header) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  if (m[1] === '') {
    const n = Number(m[2]);
    if (n === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(m[1]);
  if (m[2] !== '' && Number(m[2]) < start) return 'unsatisfiable';
  if (start >= size) return 'unsatisfiable';
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  return { start, end };
}

/**
 * Reads a request body of at most `limit` bytes; a larger one is the `tooBig` error (for a
 * manifest 413 MANIFEST_INVALID, what the Distribution registry answers), its rest discarded up
 * to a point past which the connection is closed.
 */
async function readBody(req: http.IncomingMessage, limit: number, tooBig: () => RegistryError): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (Number.isFinite(declared) && declared > limit) throw tooBig();
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of req) {
    total += (chunk as Buffer).length;
    if (total <= limit) chunks.push(chunk as Buffer);
    else if (total > limit + DRAIN_LIMIT) {
      req.destroy();
      break;
    }
  }
  if (total > limit) throw tooBig();
  return Buffer.concat(chunks);
}

function isClientGone(err: unknown, req: http.IncomingMessage): boolean {
  const code = (err as NodeJS.ErrnoException)?.code;
  return req.socket.destroyed || code === 'ECONNRESET' || code === 'EPIPE' || code === 'ERR_STREAM_PREMATURE_CLOSE';
}
