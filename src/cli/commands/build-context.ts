/**
 * The build context tar as `berth build` sends it, beyond what packContext makes of a directory:
 *  - stdin (`berth build -`): a tar (possibly compressed) passes as it is; anything else is taken
 *    as a Dockerfile and sent as a one-file context (build.GetContextFromReader);
 *  - a Dockerfile from stdin (`-f -`) or from outside the context directory goes into the tar
 *    under a random name `.dockerfile.<20 hex>`, and that name is appended to the context's
 *    `.dockerignore` (made if there is none) so that the daemon leaves it out of `COPY .`
 *    (build.AddDockerfileToBuildContext);
 *  - the bytes sent are counted for "Sending build context to Docker daemon".
 * The tar is rewritten block by block, as it streams: nothing but `.dockerignore` is held.
 */
import crypto from 'node:crypto';
import { Readable, Transform, type TransformCallback } from 'node:stream';

const BLOCK = 512;

function octal(buf: Buffer, off: number, len: number, v: number): void {
  buf.write(v.toString(8).padStart(len - 1, '0') + '\0', off, len, 'latin1');
}

function setChecksum(h: Buffer): void {
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += h[i];
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8, 'latin1');
}

/** A ustar header for a regular file with a short ASCII name, owned by root. */
export function fileHeader(name: string, size: number, mode: number, mtime: number): Buffer {
  const h = Buffer.alloc(BLOCK);
  h.write(name, 0, 100, 'utf8');
  octal(h, 100, 8, mode);
  octal(h, 108, 8, 0);
  octal(h, 116, 8, 0);
  octal(h, 124, 12, size);
  octal(h, 136, 12, Math.max(0, Math.floor(mtime)));
  h.write('0', 156, 1, 'latin1');
  h.write('ustar\0' + '00', 257, 8, 'latin1');
  setChecksum(h);
  return h;
}

const padding = (size: number): Buffer => Buffer.alloc((BLOCK - (size % BLOCK)) % BLOCK);

/** One regular-file entry: header, data, padding. */
export function fileEntry(name: string, data: Buffer, mode: number, mtime: number): Buffer {
  return Buffer.concat([fileHeader(name, data.length, mode, mtime), data, padding(data.length)]);
}

/** The end-of-archive marker. */
export const END_OF_ARCHIVE = Buffer.alloc(2 * BLOCK);

/** A context holding only `Dockerfile` (what docker makes of a Dockerfile piped to `build -`). */
export function dockerfileOnlyContext(dockerfile: Buffer, now = Date.now()): Buffer {
  return Buffer.concat([fileEntry('Dockerfile', dockerfile, 0o644, now / 1000), END_OF_ARCHIVE]);
}

function checksumOk(h: Buffer): boolean {
  const field = h.toString('latin1', 148, 156).replace(/[\0 ]+$/, '').trim();
  if (!/^[0-7]+$/.test(field)) return false;
  const stored = parseInt(field, 8);
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const c = i >= 148 && i < 156 ? 0x20 : h[i];
    unsigned += c;
    signed += c > 127 ? c - 256 : c;
  }
  return stored === unsigned || stored === signed;
}

/**
 * build.IsArchive on the first bytes of a stream: a compressed stream (gzip, bzip2, xz, zstd) or
 * a well-formed tar header.
 */
export function isArchive(head: Buffer): boolean {
  const starts = (...bytes: number[]): boolean => bytes.every((b, i) => head[i] === b);
  if (starts(0x1f, 0x8b, 0x08) || starts(0x42, 0x5a, 0x68) || starts(0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00) || starts(0x28, 0xb5, 0x2f, 0xfd)) {
    return true;
  }
  if (head.length < BLOCK) return false;
  const h = head.subarray(0, BLOCK);
  if (h.every((b) => b === 0)) return false;
  return checksumOk(h);
}

/**
 * The first `n` bytes of a stream (fewer at its end) and a stream of all of it, those bytes
 * included.
 */
export async function peek(input: NodeJS.ReadableStream, n: number): Promise<{ head: Buffer; stream: Readable }> {
  const it = (input as AsyncIterable<Buffer | string>)[Symbol.asyncIterator]();
  const chunks: Buffer[] = [];
  let have = 0;
  let done = false;
  while (have < n) {
    const r = await it.next();
    if (r.done) {
      done = true;
      break;
    }
    const b = typeof r.value === 'string' ? Buffer.from(r.value) : r.value;
    chunks.push(b);
    have += b.length;
  }
  const head = Buffer.concat(chunks);
  async function* all(): AsyncGenerator<Buffer> {
    if (head.length) yield head;
    while (!done) {
      const r = await it.next();
      if (r.done) break;
      yield typeof r.value === 'string' ? Buffer.from(r.value) : r.value;
    }
  }
  return { head: head.subarray(0, n), stream: Readable.from(all(), { objectMode: false }) };
}

/** All of a stream. */
export async function readStream(input: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of input as AsyncIterable<Buffer | string>) chunks.push(typeof c === 'string' ? Buffer.from(c) : c);
  return Buffer.concat(chunks);
}

/** `.dockerfile.` and 20 random hex digits, as stringid.GenerateRandomID()[:20]. */
export function randomDockerfileName(): string {
  return `.dockerfile.${crypto.randomBytes(10).toString('hex')}`;
}

/** A pull-based reader of exact byte counts over a chunk iterator. */
class ByteReader {
  private buf: Buffer = Buffer.alloc(0);
  constructor(private readonly it: AsyncIterator<Buffer | string>) {}

  private async fill(): Promise<boolean> {
    const r = await this.it.next();
    if (r.done) return false;
    const c = typeof r.value === 'string' ? Buffer.from(r.value) : r.value;
    this.buf = this.buf.length ? Buffer.concat([this.buf, c]) : c;
    return true;
  }

  /** Exactly n bytes; fewer only at the end of the stream. */
  async take(n: number): Promise<Buffer> {
    while (this.buf.length < n && (await this.fill()));
    const out = this.buf.subarray(0, Math.min(n, this.buf.length));
    this.buf = this.buf.subarray(out.length);
    return out;
  }

  /** n bytes as they come, without gathering them. */
  async *pass(n: number): AsyncGenerator<Buffer> {
    while (n > 0) {
      if (!this.buf.length && !(await this.fill())) throw new Error('unexpected end of the build context archive');
      const out = this.buf.subarray(0, Math.min(n, this.buf.length));
      this.buf = this.buf.subarray(out.length);
      n -= out.length;
      yield out;
    }
  }
}

function headerName(h: Buffer): string {
  const field = (off: number, len: number): string => {
    const b = h.subarray(off, off + len);
    const nul = b.indexOf(0);
    return b.toString('utf8', 0, nul < 0 ? len : nul);
  };
  const name = field(0, 100);
  const prefix = h.toString('latin1', 257, 263) === 'ustar\0' ? field(345, 155) : '';
  return prefix ? `${prefix}/${name}` : name;
}

function headerSize(h: Buffer): number {
  if (h[124] & 0x80) {
    let v = h[124] & 0x7f;
    for (let i = 125; i < 136; i++) v = v * 256 + h[i];
    return v;
  }
  const s = h.toString('latin1', 124, 136).replace(/\0.*$/s, '').trim();
  return s ? parseInt(s, 8) : 0;
}

/**
 * The context tar with `dockerfile` added as `name` and `name` appended to `.dockerignore`
 * (archive.ReplaceFileTarWrapper as AddDockerfileToBuildContext uses it): the existing
 * `.dockerignore` entry is rewritten in place, the new entries go at the end.
 */
export function addDockerfileToContext(context: NodeJS.ReadableStream, dockerfile: Buffer, name: string, now = Date.now()): Readable {
  const mtime = now / 1000;
  async function* gen(): AsyncGenerator<Buffer> {
    const r = new ByteReader((context as AsyncIterable<Buffer | string>)[Symbol.asyncIterator]());
    let sawIgnore = false;
    let afterExtended = false;
    for (;;) {
      const h = await r.take(BLOCK);
      if (h.length === 0 || h.every((b) => b === 0)) break; // end of archive (the rest is padding)
      if (h.length < BLOCK) throw new Error('unexpected end of the build context archive');
      const type = String.fromCharCode(h[156]);
      const size = headerSize(h);
      const padded = size + ((BLOCK - (size % BLOCK)) % BLOCK);
      const entryName = headerName(h).replace(/^\.\//, '');
      if (entryName === '.dockerignore' && (type === '0' || type === '\0') && !afterExtended && !sawIgnore) {
        sawIgnore = true;
        const data = (await r.take(padded)).subarray(0, size);
        const content = Buffer.concat([data, Buffer.from(`\n${name}\n`)]);
        const nh = Buffer.from(h);
        octal(nh, 124, 12, content.length);
        setChecksum(nh);
        yield Buffer.concat([nh, content, padding(content.length)]);
      } else {
        yield h;
        yield* r.pass(padded);
      }
      // A PAX or GNU long-name header describes the entry after it, whose own name is not its name.
      afterExtended = type === 'x' || type === 'L' || type === 'K';
    }
    if (!sawIgnore) yield fileEntry('.dockerignore', Buffer.from(`.dockerignore\n${name}\n`), 0o600, mtime);
    yield fileEntry(name, dockerfile, 0o600, mtime);
    yield END_OF_ARCHIVE;
  }
  return Readable.from(gen(), { objectMode: false });
}

/** Counts what passes through; `onBytes(total, done)` after each chunk and once at the end. */
export class ByteCounter extends Transform {
  total = 0;
  constructor(private readonly onBytes: (total: number, done: boolean) => void) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.total += chunk.length;
    this.onBytes(this.total, false);
    cb(null, chunk);
  }
  override _flush(cb: TransformCallback): void {
    this.onBytes(this.total, true);
    cb();
  }
}
