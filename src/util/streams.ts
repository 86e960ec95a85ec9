import { Readable, Transform, PassThrough } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import zlib from 'node:zlib';

/** Reads the first bytes of a stream and returns a stream that decompresses gzip when present. */
export async function maybeGunzip(input: Readable): Promise<Readable> {
  const head = await peek(input, 4);
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return input.pipe(zlib.createGunzip());
  return input;
}

/** Returns the first n bytes (fewer at end of stream) and pushes them back onto the stream. */
export function peek(input: Readable, n: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let len = 0;
    const onReadable = (): void => {
      let c: Buffer | null;
      while (len < n && (c = input.read() as Buffer | null) !== null) {
        chunks.push(c);
        len += c.length;
      }
      if (len >= n) done();
    };
    const done = (): void => {
      input.off('readable', onReadable);
      input.off('end', done);
      input.off('error', reject);
      const buf = Buffer.concat(chunks);
      if (buf.length) input.unshift(buf);
      resolve(buf.subarray(0, n));
    };
    input.on('readable', onReadable);
    input.on('end', done);
    input.on('error', reject);
  });
}

/** A pass-through that also hands every chunk to `sink` (synchronously). */
export function tap(sink: (chunk: Buffer) => void): Transform {
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      try {
        sink(chunk);
        cb(null, chunk);
      } catch (e) {
        cb(e as Error);
      }
    },
  });
}

export async function readAll(input: Readable, limit = Infinity): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let len = 0;
  for await (const c of input) {
    len += (c as Buffer).length;
    if (len > limit) throw new Error(`input larger than ${limit} bytes`);
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks);
}

export { PassThrough };

/**
 * The non-empty lines of a stream of newline-delimited text (JSON message streams such as
 * /events), trimmed; UTF-8 decoded across chunk boundaries. A last line without its newline (a
 * stream cut short) is not a complete message and is dropped.
 */
export async function* lines(input: AsyncIterable<Buffer | string>): AsyncGenerator<string> {
  const decoder = new StringDecoder('utf8');
  let buf = '';
  for await (const chunk of input) {
    buf += typeof chunk === 'string' ? chunk : decoder.write(chunk);
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl).trim();
      buf = buf.slice(nl + 1);
      if (line) yield line;
    }
  }
}
