/**
 * Hijacked connections (`Upgrade: tcp`) as the docker CLI expects them: a 101 answer, then the
 * raw stream (TTY) or Docker frames (no TTY) one way and raw stdin the other. Input of a TTY
 * session is scanned for the detach keys.
 */
import type http from 'node:http';
import type { Duplex } from 'node:stream';
import { commonHeaders } from './server';
import { invalidArgument } from '../core/errors';
import { DEFAULT_DETACH_KEYS, EscapeFilter, parseDetachKeys } from '../util/detach-keys';

export function contentType(tty: boolean): string {
  return tty ? 'application/vnd.docker.raw-stream' : 'application/vnd.docker.multiplexed-stream';
}

/** Answers 101 on an upgraded connection. */
export function upgrade(sock: Duplex, tty: boolean): void {
  const hdrs = { ...commonHeaders(), 'Content-Type': contentType(tty), Connection: 'Upgrade', Upgrade: 'tcp' };
  sock.write(`HTTP/1.1 101 UPGRADED\r\n${Object.entries(hdrs).map(([k, v]) => `${k}: ${v}`).join('\r\n')}\r\n\r\n`);
}

/**
 * How long output written right after the 101 answer is held back. docker-py (and other Python
 * clients on http.client) read the answer through a buffered reader, then read the stream from
 * the raw socket: bytes that arrived together with the headers sit in that buffer and are lost
 * (attach with logs=1, a quick TTY exec). Holding early output back until the client has had time
 * to read the headers alone keeps them; clients that keep their buffer (docker CLI, dockerode) only
 * see the first bytes a little later.
 */
export const UPGRADE_SETTLE_MS = 50;

/**
 * How long to hold back output after the 101 for this client. Only docker-py (and docker-compose
 * 1.x, which uses it) reads the upgrade reply through a buffered reader and then the raw socket,
 * losing bytes that came with the headers; Go clients (the docker CLI), dockerode and berth read
 * the stream correctly and must not pay 50 ms per attach or exec.
 */
export function settleTime(req: http.IncomingMessage): number {
  return /docker-py|docker-sdk-python|python-requests/i.test(req.headers['user-agent'] ?? '') ? UPGRADE_SETTLE_MS : 0;
}

/** Answers 101 and returns a writer for the stream that holds back output for `settleMs`. */
export function upgradedWriter(sock: Duplex, tty: boolean, settleMs: number): { write(b: Buffer): void; end(): void } {
  upgrade(sock, tty);
  if (settleMs <= 0) return { write: (b) => void sock.write(b), end: () => void sock.end() };
  let held: Buffer[] | undefined = [];
  let ending = false;
  setTimeout(() => {
    const q = held ?? [];
    held = undefined;
    for (const b of q) sock.write(b);
    if (ending) sock.end();
  }, settleMs).unref();
  return {
    write: (b) => (held ? held.push(b) : sock.write(b)),
    end: () => (held ? (ending = true) : sock.end()),
  };
}

/** Validates a `detachKeys` value early (400 before the stream starts). */
export function detachKeys(spec: string | null | undefined): Buffer {
  try {
    return parseDetachKeys(spec || DEFAULT_DETACH_KEYS);
  } catch (e) {
    throw invalidArgument((e as Error).message);
  }
}

export interface InputSink {
  write(b: Buffer): void;
  /** The client closed its sending side (or the connection). */
  end(): void;
  /** The detach keys were typed. */
  detach(): void;
}

/** Copies the client's input into the sink; with a TTY, the detach keys end the session. */
export function pipeInput(sock: Duplex, head: Buffer | undefined, tty: boolean, keys: Buffer, sink: InputSink): void {
  const filter = tty ? new EscapeFilter(keys) : undefined;
  let done = false;
  const onData = (b: Buffer): void => {
    if (done) return;
    if (!filter) return sink.write(b);
    const r = filter.push(b);
    if (r.data.length) sink.write(r.data);
    if (r.detached) {
      done = true;
      sink.detach();
    }
  };
  if (head?.length) onData(head);
  sock.on('data', onData);
  // upgradeBody() may have paused it explicitly, and a new 'data' listener does not undo that.
  sock.resume();
  sock.once('end', () => {
    if (!done) sink.end();
    done = true;
  });
  sock.once('close', () => {
    if (!done) sink.end();
    done = true;
  });
}

/**
 * The JSON body of an upgraded request (exec start): Node hands the bytes after the headers
 * to the upgrade handler, body included. Returns the body and what followed it (stdin).
 */
export async function upgradeBody(sock: Duplex, head: Buffer, contentLength: number): Promise<{ body: Record<string, any>; rest: Buffer }> {
  const buf = await upgradeBodyBytes(sock, head, contentLength);
  const text = buf.subarray(0, contentLength).toString('utf8').trim();
  let body: unknown = {};
  if (text) {
    try {
      body = JSON.parse(text);
    } catch (e) {
      throw invalidArgument(`invalid JSON in request body: ${(e as Error).message}`);
    }
  }
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw invalidArgument('request body must be a JSON object');
  return { body: body as Record<string, any>, rest: buf.subarray(contentLength) };
}

/**
 * What follows the body of an upgraded request whose body means nothing (attach): dockerode sends
 * its options as a JSON body there, which dockerd drops; it must not reach the container's stdin.
 */
export async function afterUpgradeBody(sock: Duplex, head: Buffer, contentLength: number): Promise<Buffer> {
  return (await upgradeBodyBytes(sock, head, contentLength)).subarray(contentLength);
}

/** Reads until `contentLength` bytes of body are at hand; returns them with whatever followed. */
async function upgradeBodyBytes(sock: Duplex, head: Buffer, contentLength: number): Promise<Buffer> {
  let buf = head;
  if (buf.length < contentLength) {
    buf = await new Promise<Buffer>((resolve, reject) => {
      const chunks = [buf];
      let len = buf.length;
      const onData = (b: Buffer): void => {
        chunks.push(b);
        len += b.length;
        if (len >= contentLength) {
          sock.off('data', onData);
          sock.off('end', onEnd);
          sock.pause();
          resolve(Buffer.concat(chunks));
        }
      };
      const onEnd = (): void => reject(invalidArgument('request body ended early'));
      sock.on('data', onData);
      sock.once('end', onEnd);
    });
  }
  return buf;
}
