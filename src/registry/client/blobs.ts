/**
 * Blob downloads. fetchBlob's lifecycle for one blob:
 *
 *   dest.partial ──(GET, or GET with Range: bytes=<partial size>- when one exists)──▶ appended
 *        │   connection lost: kept, and continued with Range on the next attempt (here, or in a
 *        │   later pull: it survives the process); a server that ignores Range answers 200 and
 *        │   the partial is started over
 *        ▼
 *   size and digest checked ──ok──▶ fsync, renamed to dest
 *        └──mismatch──▶ partial deleted; when it had been resumed from an earlier run, one fresh
 *                        download; otherwise invalid-argument `digest mismatch for <digest>: got <digest>`
 *
 * Nothing is ever written at dest itself before the content is verified.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { BerthError, invalidArgument } from '../../core/errors';
import type { Reference } from '../../image/reference';
import { repositoryScope } from './auth';
import { Digester, digestMismatch, parseDigest, verifyBytes } from './digest';
import { abortError, backoffMs, discard, readBody, type Endpoint, type Transport } from './transport';
import type { Descriptor } from './types';

const WRITE_BATCH = 1024 * 1024;

export function blobPath(ref: Reference, digest: string): string {
  parseDigest(digest);
  return `/v2/${ref.path}/blobs/${digest}`;
}

/** GETs a small blob (a config) into memory, verified. */
export async function fetchBlobBytes(t: Transport, ep: Endpoint, ref: Reference, desc: Descriptor, limit: number, signal?: AbortSignal): Promise<Buffer> {
  if (desc.size > limit) throw invalidArgument(`blob ${desc.digest} is larger than ${limit} bytes`);
  const res = await t.request(ep, { method: 'GET', path: blobPath(ref, desc.digest), scopes: [repositoryScope(ref.path)], signal });
  const bytes = await readBody(res.body, limit, `blob ${desc.digest}`);
  verifyBytes(bytes, desc.digest, desc.size);
  return bytes;
}

/** HEAD /v2/<path>/blobs/<digest>: true on 200, false on 404. */
export async function blobExists(t: Transport, ep: Endpoint, ref: Reference, digest: string, scopes = [repositoryScope(ref.path)]): Promise<boolean> {
  const res = await t.request(ep, { method: 'HEAD', path: blobPath(ref, digest), scopes, accept: (s) => (s >= 200 && s < 300) || s === 404 });
  discard(res.body, 'HEAD');
  return res.status !== 404;
}

/** Marks an error after which the partial file must go: bad content, not a lost connection. */
class BadContent extends BerthError {}

async function hashFile(file: string, dig: Digester): Promise<void> {
  for await (const c of fs.createReadStream(file, { highWaterMark: WRITE_BATCH })) dig.update(c as Buffer);
}

export async function downloadBlob(
  t: Transport,
  ep: Endpoint,
  ref: Reference,
  desc: Descriptor,
  dest: string,
  onProgress?: (cur: number, total: number) => void,
  signal?: AbortSignal,
): Promise<void> {
  const { algorithm } = parseDigest(desc.digest);
  if (!Number.isSafeInteger(desc.size) || desc.size < 0) throw invalidArgument(`invalid size ${desc.size} for blob ${desc.digest}`);
  const partial = `${dest}.partial`;
  let dig = new Digester(algorithm);
  let resumedFromEarlierRun = false;
  try {
    const st = await fsp.stat(partial);
    if (st.size > desc.size) await fsp.rm(partial, { force: true });
    else {
      await hashFile(partial, dig);
      resumedFromEarlierRun = dig.bytes > 0;
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const restart = async (): Promise<void> => {
    await fsp.rm(partial, { force: true });
    dig = new Digester(algorithm);
  };

  for (let attempt = 0; ; ) {
    try {
      if (dig.bytes < desc.size) await transferOnce();
      if (dig.bytes < desc.size) throw Object.assign(new Error(`connection closed after ${dig.bytes} of ${desc.size} bytes`), { code: 'ESHORT' });
      const got = dig.digest();
      if (got !== desc.digest) {
        if (resumedFromEarlierRun) {
          // The earlier run's bytes may be what is wrong: start over once.
          resumedFromEarlierRun = false;
          await restart();
          continue;
        }
        throw new BadContent('invalid-argument', digestMismatch(desc.digest, got).message);
      }
      const fh = await fsp.open(partial, 'a');
      try {
        await fh.datasync();
      } finally {
        await fh.close();
      }
      await fsp.rename(partial, dest);
      return;
    } catch (err) {
      if (signal?.aborted) throw abortError(signal); // the partial stays for a later call
      if (err instanceof BadContent) {
        await restart();
        throw new BerthError(err.kind, err.message);
      }
      const lostConnection = !(err instanceof BerthError) && (err as Error).name !== 'AbortError' && !(err as NodeJS.ErrnoException).syscall?.match(/^(open|write|rename|fsync|fdatasync|close)$/);
      if (lostConnection && attempt < t.retries && !signal?.aborted) {
        await sleep(backoffMs(attempt), undefined, { signal });
        attempt++;
        continue;
      }
      if (lostConnection) throw new BerthError('unavailable', `downloading ${desc.digest}: ${(err as Error).message}`, { cause: err });
      throw err;
    }
  }

  async function transferOnce(): Promise<void> {
    const offset = dig.bytes;
    const res = await t.request(ep, {
      method: 'GET',
      path: blobPath(ref, desc.digest),
      headers: offset > 0 ? { Range: `bytes=${offset}-` } : {},
      scopes: [repositoryScope(ref.path)],
      accept: (s) => s === 200 || s === 206 || s === 416,
      signal,
    });
    if (res.status === 416) {
      // Our partial is not a prefix the server recognises: start over.
      discard(res.body);
      await restart();
      throw Object.assign(new Error('range not satisfiable'), { code: 'ERANGE416' });
    }
    let append = offset > 0;
    if (res.status === 206) {
      const m = /^bytes (\d+)-/.exec(String(res.headers['content-range'] ?? ''));
      if (!m || Number(m[1]) !== offset) {
        discard(res.body);
        await restart();
        throw Object.assign(new Error(`unexpected Content-Range "${String(res.headers['content-range'])}"`), { code: 'EBADRANGE' });
      }
    } else if (append) {
      // 200: the server ignored Range and sends everything.
      await restart();
      append = false;
    }
    onProgress?.(dig.bytes, desc.size);
    const fh = await fsp.open(partial, append ? 'a' : 'w');
    let pending: Buffer[] = [];
    let pendingLen = 0;
    const flush = async (): Promise<void> => {
      if (!pendingLen) return;
      const buf = pending.length === 1 ? pending[0] : Buffer.concat(pending, pendingLen);
      pending = [];
      pendingLen = 0;
      await fh.write(buf);
      dig.update(buf);
    };
    try {
      for await (const chunk of res.body) {
        const c = chunk as Buffer;
        if (dig.bytes + pendingLen + c.length > desc.size) {
          res.body.destroy();
          throw new BadContent('invalid-argument', `size mismatch for ${desc.digest}: the registry sent more than ${desc.size} bytes`);
        }
        pending.push(c);
        pendingLen += c.length;
        onProgress?.(dig.bytes + pendingLen, desc.size);
        if (pendingLen >= WRITE_BATCH) await flush();
      }
    } finally {
      // What arrived before a lost connection is a valid prefix: keep it for the next attempt.
      try {
        await flush();
      } finally {
        await fh.close();
      }
    }
  }
}
