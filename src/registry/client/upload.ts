/**
 * Blob uploads (distribution spec, "pushing blobs"):
 *
 *   HEAD blob ── 200 ──▶ 'exists'
 *      │ 404
 *   POST uploads/?mount=<digest>&from=<repo> ── 201 ──▶ 'mounted'   (when mountFrom is given)
 *      │ 202 + Location (or POST uploads/ without mount)
 *   small (≤ chunkSize):  PUT <Location>?digest=<digest> with the whole body        (monolithic)
 *   large:                PATCH <Location> Content-Range: a-b, one per chunk, each answer's
 *                         Location used for the next; or one streamed PATCH (`streamed`)
 *                         then PUT <Location>?digest=<digest> with no body
 *      ▼
 *   201 ──▶ 'uploaded'
 *
 * Our bytes are hashed on the way out; when they do not match the descriptor the upload is
 * cancelled (DELETE) before the final PUT. A failed session is cancelled and the whole upload
 * started again from `open()`, up to `retries` times.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Transform, pipeline } from 'node:stream';
import { BerthError, invalidArgument } from '../../core/errors';
import type { Reference } from '../../image/reference';
import { repositoryScope } from './auth';
import { blobExists } from './blobs';
import { Digester, parseDigest } from './digest';
import { backoffMs, discard, type Endpoint, type Transport } from './transport';
import type { Descriptor, PushBlobOptions } from './types';

export const DEFAULT_CHUNK_SIZE = 8 * 1024 * 1024;
const REPO_PATH = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;

/** Reads a stream as buffers of exactly `size` bytes (the last one shorter). */
export async function* chunks(stream: NodeJS.ReadableStream, size: number): AsyncGenerator<Buffer> {
  let parts: Buffer[] = [];
  let len = 0;
  for await (const c of stream) {
    let b = typeof c === 'string' ? Buffer.from(c) : c;
    while (b.length) {
      const take = Math.min(b.length, size - len);
      parts.push(b.subarray(0, take));
      len += take;
      b = b.subarray(take);
      if (len === size) {
        yield Buffer.concat(parts, len);
        parts = [];
        len = 0;
      }
    }
  }
  if (len) yield Buffer.concat(parts, len);
}

function withDigest(location: string, digest: string): string {
  const u = new URL(location, 'http://placeholder');
  u.searchParams.set('digest', digest);
  return /^[a-z]+:\/\//i.test(location) ? u.href : `${u.pathname}${u.search}`;
}

function location(res: { headers: { location?: string }; url: URL }, what: string): string {
  const loc = res.headers.location;
  if (!loc) throw new BerthError('unavailable', `registry sent no upload Location after ${what}`);
  return new URL(loc, res.url).href;
}

export async function pushBlob(
  t: Transport,
  ep: Endpoint,
  ref: Reference,
  desc: Descriptor,
  open: () => NodeJS.ReadableStream,
  opts: PushBlobOptions = {},
): Promise<'exists' | 'mounted' | 'uploaded'> {
  const { algorithm } = parseDigest(desc.digest);
  if (opts.mountFrom !== undefined && !REPO_PATH.test(opts.mountFrom)) throw invalidArgument(`invalid repository name to mount from: "${opts.mountFrom}"`);
  const chunkSize = opts.chunkSize ?? DEFAULT_CHUNK_SIZE;
  if (!(chunkSize > 0)) throw invalidArgument('chunkSize must be positive');
  const scopes = [repositoryScope(ref.path, true)];
  if (opts.mountFrom && opts.mountFrom !== ref.path) scopes.push(repositoryScope(opts.mountFrom));
  const uploads = `/v2/${ref.path}/blobs/uploads/`;

  if (await blobExists(t, ep, ref, desc.digest, scopes)) return 'exists';

  const progress = (n: number): void => opts.onProgress?.(n, desc.size);
  const mismatch = (dig: Digester): BerthError | undefined => {
    if (dig.bytes !== desc.size) return invalidArgument(`size mismatch for ${desc.digest}: the content has ${dig.bytes} bytes, the descriptor says ${desc.size}`);
    const got = dig.digest();
    if (got !== desc.digest) return invalidArgument(`digest mismatch for ${desc.digest}: got ${got}`);
    return undefined;
  };

  for (let attempt = 0; ; attempt++) {
    let loc: string | undefined;
    try {
      if (opts.mountFrom && opts.mountFrom !== ref.path) {
        const q = new URLSearchParams({ mount: desc.digest, from: opts.mountFrom });
        const res = await t.request(ep, { method: 'POST', path: `${uploads}?${q}`, scopes });
        discard(res.body);
        if (res.status === 201) {
          progress(desc.size);
          return 'mounted';
        }
        loc = location(res, 'POST');
      } else {
        const res = await t.request(ep, { method: 'POST', path: uploads, scopes });
        discard(res.body);
        loc = location(res, 'POST');
      }

      const dig = new Digester(algorithm);
      if (desc.size <= chunkSize) {
        // Monolithic: the whole blob in the final PUT.
        const parts: Buffer[] = [];
        for await (const c of chunks(open(), chunkSize + 1)) {
          dig.update(c);
          parts.push(c);
          if (dig.bytes > chunkSize) break;
        }
        const bad = mismatch(dig);
        if (bad) throw bad;
        const body = Buffer.concat(parts);
        await finish(loc, body);
      } else if (opts.streamed) {
        const counter = new Transform({
          transform(c: Buffer, _enc, cb) {
            dig.update(c);
            progress(dig.bytes);
            cb(null, c);
          },
        });
        const res = await t.request(ep, {
          method: 'PATCH',
          path: loc,
          headers: { 'Content-Type': 'application/octet-stream' },
          body: () => {
            pipeline(open(), counter, () => undefined); // errors reach the request through counter
            return counter;
          },
          replayable: false,
          retry: false,
          scopes,
        });
        discard(res.body);
        loc = location(res, 'PATCH');
        const bad = mismatch(dig);
        if (bad) throw bad;
        await finish(loc);
      } else {
        for await (const c of chunks(open(), chunkSize)) {
          const start = dig.bytes;
          if (start + c.length > desc.size) throw invalidArgument(`size mismatch for ${desc.digest}: the content is larger than the descriptor's ${desc.size} bytes`);
          const res = await t.request(ep, {
            method: 'PATCH',
            path: loc,
            headers: { 'Content-Type': 'application/octet-stream', 'Content-Range': `${start}-${start + c.length - 1}` },
            body: c,
            retry: false,
            scopes,
          });
          discard(res.body);
          loc = location(res, 'PATCH');
          dig.update(c);
          progress(dig.bytes);
        }
        const bad = mismatch(dig);
        if (bad) throw bad;
        await finish(loc);
      }
      progress(desc.size);
      return 'uploaded';
    } catch (err) {
      if (loc) await cancel(loc);
      const retryable = !(err instanceof BerthError) || err.kind === 'unavailable';
      if (!retryable || attempt >= t.retries || (err as Error).name === 'AbortError') throw err;
      await sleep(backoffMs(attempt));
    }
  }

  async function finish(loc: string, body?: Buffer): Promise<void> {
    const res = await t.request(ep, {
      method: 'PUT',
      path: withDigest(loc, desc.digest),
      headers: body ? { 'Content-Type': 'application/octet-stream' } : {},
      body,
      retry: body !== undefined,
      scopes,
    });
    discard(res.body);
    const got = res.headers['docker-content-digest'];
    if (typeof got === 'string' && got && got !== desc.digest) throw invalidArgument(`digest mismatch for ${desc.digest}: the registry stored ${got}`);
  }

  async function cancel(loc: string): Promise<void> {
    try {
      const res = await t.request(ep, { method: 'DELETE', path: loc, scopes, retry: false, accept: () => true });
      discard(res.body);
    } catch {}
  }
}
