/**
 * berth's registry client: pull and push against any OCI distribution registry (Docker Hub,
 * Distribution, berth's own), as the daemon's pull/push and /auth endpoints use it.
 *
 * One RegistryClient per daemon (or per request when credentials differ per request): it keeps
 * connection pools, the endpoints' schemes and auth challenges, and bearer tokens. close() frees
 * the sockets.
 *
 *   const c = new RegistryClient({ credentials: (host) => auths[host], insecureRegistries, mirrors });
 *   const { manifest, config } = await c.resolve(parseReference('busybox'));
 *   for (const l of manifest.layers) await c.fetchBlob(ref, l, `${dir}/${hex(l.digest)}`, onProgress);
 *
 * Errors are BerthErrors: unauthorized (401/403, bad credentials), not-found (unknown manifest
 * or blob, no manifest for the platform), invalid-argument (digest mismatch, schema 1, bad
 * input), unavailable (network errors and 5xx after the retries).
 */
import path from 'node:path';
import { BerthError, invalidArgument, isKind } from '../../core/errors';
import type { Reference } from '../../image/reference';
import { basicHeader, fetchToken } from './auth';
import { blobExists, downloadBlob } from './blobs';
import { errorFromResponse } from './errors';
import { mayCarryCredentials } from './hosts';
import { listTags, putManifest, resolveManifest } from './manifests';
import { hostPlatform } from './platform';
import { Transport, type Endpoint } from './transport';
import { pushBlob } from './upload';
import type { AuthResponse, ClientOptions, Credentials, Descriptor, Platform, PushBlobOptions, ResolveResult } from './types';

export * from './types';
export { registryEndpoint, isLoopbackHost, InsecureHosts } from './hosts';
export { choosePlatform, parsePlatform, formatPlatform, hostPlatform, normalizePlatform } from './platform';
export { parseWWWAuthenticate, repositoryScope, type Challenge } from './auth';
export { RegistryError } from './errors';
export { MANIFEST_ACCEPT, isIndexType } from './manifests';
export { parseDigest, digestOf } from './digest';
export { requestChannel } from './transport';
export { DEFAULT_CHUNK_SIZE } from './upload';

/** How long a mirror that failed to answer is skipped. */
const MIRROR_PAUSE_MS = 60_000;

/** A counting semaphore whose waiters can give up. */
class Semaphore {
  private queue: (() => void)[] = [];
  constructor(private free: number) {}
  async acquire(signal?: AbortSignal): Promise<() => void> {
    if (this.free > 0) this.free--;
    else {
      await new Promise<void>((resolve, reject) => {
        const go = (): void => {
          signal?.removeEventListener('abort', abort);
          resolve();
        };
        const abort = (): void => {
          this.queue = this.queue.filter((f) => f !== go);
          reject(signal?.reason instanceof Error ? signal.reason : Object.assign(new Error('The operation was aborted'), { name: 'AbortError' }));
        };
        if (signal?.aborted) return abort();
        signal?.addEventListener('abort', abort, { once: true });
        this.queue.push(go);
      });
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.queue.shift();
      if (next) next();
      else this.free++;
    };
  }
}

/** docker login's server address → registry host: `https://index.docker.io/v1/` → docker.io. */
export function loginHost(serverAddress: string): string {
  let s = serverAddress.trim().replace(/^[a-z]+:\/\//i, '');
  s = s.split('/')[0].toLowerCase();
  if (!s || s === 'index.docker.io' || s === 'registry-1.docker.io' || s === 'docker.io' || s === 'registry.hub.docker.com') return 'docker.io';
  // Only a host[:port] can become a URL; anything else is the caller's mistake, not ours.
  if (!/^([a-z0-9]([a-z0-9.-]*[a-z0-9])?|\[[0-9a-f:.]+\])(:\d{1,5})?$/.test(s)) throw invalidArgument(`invalid registry address ${JSON.stringify(serverAddress)}`);
  return s;
}

export class RegistryClient {
  private readonly t: Transport;
  private readonly downloads: Semaphore;
  private readonly inflight = new Map<string, Promise<void>>();
  private readonly mirrorPausedUntil = new Map<string, number>();

  constructor(opts: ClientOptions = {}) {
    this.t = new Transport(opts);
    this.downloads = new Semaphore(Math.max(1, opts.maxConcurrentDownloads ?? 3));
  }

  /**
   * Resolves a reference (tag or digest; `latest` without either) to the image manifest for
   * `platform` (default: this host's), following a manifest list or OCI index. The manifest's bytes
   * are hashed (and must match when pulled by digest); the config is fetched and verified.
   */
  resolve(ref: Reference, platform: Platform = hostPlatform(), signal?: AbortSignal): Promise<ResolveResult> {
    return this.viaEndpoints(ref, (ep) => resolveManifest(this.t, ep, ref, platform, signal), signal);
  }

  /**
   * Downloads a blob to `dest`, verifying size and digest; on failure nothing is at dest. A partial
   * download is kept at `dest.partial` and continued with a Range request, here on a retry or by a
   * later call. At most maxConcurrentDownloads run at once; concurrent calls for the same dest
   * share one download (the later caller's onProgress is not called).
   */
  fetchBlob(ref: Reference, desc: Descriptor, dest: string, onProgress?: (cur: number, total: number) => void, signal?: AbortSignal): Promise<void> {
    const key = path.resolve(dest);
    const running = this.inflight.get(key);
    if (running) return running;
    const p = (async () => {
      const release = await this.downloads.acquire(signal);
      try {
        await this.viaEndpoints(ref, (ep) => downloadBlob(this.t, ep, ref, desc, dest, onProgress, signal), signal);
      } finally {
        release();
      }
    })().finally(() => this.inflight.delete(key));
    this.inflight.set(key, p);
    return p;
  }

  /** HEAD: whether the repository has the blob. */
  blobExists(ref: Reference, digest: string): Promise<boolean> {
    return blobExists(this.t, this.t.endpoint(ref.domain), ref, digest);
  }

  /**
   * Uploads a blob unless the registry has it: HEAD, then a cross-repository mount when
   * `mountFrom` is given, then a monolithic PUT (≤ chunkSize) or PATCH chunks / one streamed PATCH.
   * `open()` must return a fresh stream of the blob's bytes each time (uploads restart on failure).
   */
  pushBlob(ref: Reference, desc: Descriptor, open: () => NodeJS.ReadableStream, opts?: PushBlobOptions): Promise<'exists' | 'mounted' | 'uploaded'> {
    return pushBlob(this.t, this.t.endpoint(ref.domain), ref, desc, open, opts);
  }

  /** PUTs a manifest under ref's tag (or digest); returns its digest, checked against the registry's Docker-Content-Digest. */
  putManifest(ref: Reference, body: Buffer, mediaType: string): Promise<string> {
    return putManifest(this.t, this.t.endpoint(ref.domain), ref, body, mediaType);
  }

  listTags(ref: Reference): Promise<string[]> {
    return listTags(this.t, this.t.endpoint(ref.domain), ref);
  }

  /**
   * POST /auth: checks credentials against the registry's /v2/ (Basic, or the token flow asking for
   * a refresh token). Returns docker's AuthResponse; IdentityToken is the refresh token when the
   * token server gave one. Throws unauthorized with the registry's message on bad credentials.
   */
  async login(serverAddress: string, creds: Credentials): Promise<AuthResponse> {
    const host = loginHost(serverAddress);
    const ep = this.t.endpoint(host);
    this.t.forget(ep);
    const state = await this.t.state(ep);
    const ok: AuthResponse = { Status: 'Login Succeeded' };
    if (state.challenges.length === 0) return ok;
    const v2 = new URL('/v2/', state.base);
    if (!mayCarryCredentials(v2)) throw invalidArgument(`refusing to send credentials to ${host} over plain HTTP`);
    let authorization: string;
    let identityToken: string | undefined;
    const bearer = state.challenges.find((c) => c.scheme === 'bearer' && c.params.realm);
    if (creds.registrytoken) {
      authorization = `Bearer ${creds.registrytoken}`;
    } else if (bearer) {
      const tok = await fetchToken((u, i) => this.t.call(u, i), { realm: bearer.params.realm, service: bearer.params.service, scopes: [], creds, offline: true });
      authorization = `Bearer ${tok.token}`;
      identityToken = tok.refreshToken;
    } else if (state.challenges.some((c) => c.scheme === 'basic')) {
      if (!creds.username) throw new BerthError('unauthorized', 'unauthorized: a username is required');
      authorization = basicHeader(creds);
    } else {
      throw new BerthError('unauthorized', `unsupported authentication scheme "${state.challenges[0].scheme}"`);
    }
    const ans = await this.t.call(v2, { method: 'GET', headers: { Authorization: authorization } });
    if (ans.status !== 200) throw errorFromResponse(ans.status, ans.body);
    return identityToken ? { ...ok, IdentityToken: identityToken } : ok;
  }

  /** Frees pooled connections. Requests in flight are not affected. */
  close(): void {
    this.t.close();
  }

  /** Tries the docker.io mirrors first (skipping ones that failed lately), then the registry itself. */
  private async viaEndpoints<T>(ref: Reference, fn: (ep: Endpoint) => Promise<T>, signal?: AbortSignal): Promise<T> {
    const now = Date.now();
    const eps = this.t.endpoints(ref.domain, true).filter((ep) => !ep.mirror || (this.mirrorPausedUntil.get(ep.authority) ?? 0) <= now);
    for (const ep of eps) {
      try {
        return await fn(ep);
      } catch (err) {
        if (!ep.mirror || signal?.aborted) throw err;
        if (isKind(err, 'unavailable')) this.mirrorPausedUntil.set(ep.authority, Date.now() + MIRROR_PAUSE_MS);
      }
    }
    throw new BerthError('internal', 'no registry endpoint to try'); // not reached: the registry itself is always last
  }
}
