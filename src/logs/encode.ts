/**
 * `logs` output straight from the k8s-file bytes: records are cut out of 1 MiB reads and
 * written as Docker's frames (or raw for a TTY) into one buffer per read, without an object per
 * line. This is the path `docker logs` of a large log takes; following uses LogFollower.
 *
 * Record: "<time> <stdout|stderr> <F|P> <content>\n" (k8sfile.ts).
 */
import fs from 'node:fs';
import type { LogEntry } from './k8sfile';

export interface EncodeOptions {
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
  timestamps: boolean;
  /** `--details`: the attributes ("k=v,...", maybe empty) put before each line. */
  details?: string;
  since?: number; // ms, inclusive
  until?: number; // ms, inclusive
}

const CHUNK = 1 << 20;
const TS_LEN = 30; // "2006-01-02T15:04:05.000000000Z"

export class LogEncoder {
  /** Set once a record after `until` was seen: nothing later can match. */
  done = false;
  private readonly details?: Buffer;
  private secKey = '';
  private secMs = 0;

  constructor(private readonly o: EncodeOptions) {
    if (o.details !== undefined) this.details = Buffer.from(`${o.details} `);
  }

  /** Encodes the complete records of buf[start, end) (end just after a '\n'). */
  encode(buf: Buffer, start = 0, end = buf.length): Buffer {
    const extra = 9 + TS_LEN + 1 + (this.details?.length ?? 0); // per record, beyond its own bytes
    const out = Buffer.allocUnsafe(end - start + Math.ceil((end - start) / 30 + 1) * extra);
    let pos = 0;
    let i = start;
    while (i < end && !this.done) {
      let nl = buf.indexOf(0x0a, i);
      if (nl < 0 || nl >= end) nl = end;
      pos = this.record(buf, i, nl, out, pos);
      i = nl + 1;
    }
    return out.subarray(0, pos);
  }

  /** One parsed entry (the follow path). */
  encodeEntry(e: LogEntry): Buffer | null {
    if (this.done || !this.wanted(e.stream === 'stdout' ? 1 : 2)) return null;
    if (this.o.since !== undefined && e.ms < this.o.since) return null;
    if (this.o.until !== undefined && e.ms > this.o.until) {
      this.done = true;
      return null;
    }
    const parts: Buffer[] = [];
    if (this.o.timestamps) parts.push(Buffer.from(`${e.time} `));
    if (this.details) parts.push(this.details);
    parts.push(e.data);
    return this.framed(e.stream === 'stdout' ? 1 : 2, Buffer.concat(parts));
  }

  private wanted(stream: 1 | 2): boolean {
    return stream === 1 ? this.o.stdout : this.o.stderr;
  }

  private framed(stream: 1 | 2, payload: Buffer): Buffer {
    if (this.o.tty) return payload;
    const h = Buffer.alloc(8);
    h[0] = stream;
    h.writeUInt32BE(payload.length, 4);
    return Buffer.concat([h, payload]);
  }

  private record(buf: Buffer, i: number, nl: number, out: Buffer, pos: number): number {
    const s1 = buf.indexOf(0x20, i);
    if (s1 < 0 || s1 + 9 > nl) return pos;
    // "stdout" and "stderr" differ in their 4th letter.
    const stream: 1 | 2 = buf[s1 + 4] === 0x6f ? 1 : 2;
    const flag = buf[s1 + 8];
    if (buf[s1 + 7] !== 0x20 || (flag !== 0x46 && flag !== 0x50)) return pos; // not "F"/"P"
    const content = s1 + 10 > nl ? nl : s1 + 10;
    if (this.o.since !== undefined || this.o.until !== undefined) {
      const ms = this.timeMs(buf, i, s1);
      if (this.o.since !== undefined && ms < this.o.since) return pos;
      if (this.o.until !== undefined && ms > this.o.until) {
        this.done = true;
        return pos;
      }
    }
    if (!this.wanted(stream)) return pos;
    const head = pos;
    if (!this.o.tty) pos += 8;
    if (this.o.timestamps) {
      pos += this.writeTime(buf, i, s1, out, pos);
      out[pos++] = 0x20;
    }
    if (this.details) pos += this.details.copy(out, pos);
    pos += buf.copy(out, pos, content, nl);
    if (flag === 0x46) out[pos++] = 0x0a; // F ends the line; P continues in the next record
    if (!this.o.tty) {
      out[head] = stream;
      out[head + 1] = out[head + 2] = out[head + 3] = 0;
      out.writeUInt32BE(pos - head - 8, head + 4);
    }
    return pos;
  }

  /** The record's time in ms (fractional); whole seconds are parsed once per second. */
  private timeMs(buf: Buffer, i: number, s1: number): number {
    const ts = buf.toString('latin1', i, s1);
    const dot = ts.indexOf('.');
    const zoneAt = ts.search(/[Zz+-](\d\d:\d\d)?$/);
    const key = (dot > 0 ? ts.slice(0, dot) : ts.slice(0, zoneAt)) + ts.slice(zoneAt);
    if (key !== this.secKey) {
      this.secKey = key;
      this.secMs = Date.parse(key);
    }
    const frac = dot > 0 ? Number(`0.${ts.slice(dot + 1, zoneAt)}`) : 0;
    return this.secMs + frac * 1000;
  }

  /** RFC3339 with 9 fraction digits in UTC, as Docker prints with --timestamps. */
  private writeTime(buf: Buffer, i: number, s1: number, out: Buffer, pos: number): number {
    // conmon writes local time with nanoseconds: in UTC the text can be copied as it is.
    if (s1 - i === 35 && buf.toString('latin1', s1 - 6, s1) === '+00:00') {
      buf.copy(out, pos, i, i + 29);
      out[pos + 29] = 0x5a; // Z
      return TS_LEN;
    }
    const ts = buf.toString('latin1', i, s1);
    const ms = Date.parse(ts);
    const frac = (/\.(\d+)/.exec(ts)?.[1] ?? '').padEnd(9, '0').slice(0, 9);
    return out.write(`${new Date(ms).toISOString().slice(0, 19)}.${frac}Z`, pos, 'latin1');
  }
}

/** Where the last `n` records of the log files start: [file index, byte offset]. */
export function tailStart(files: string[], n: number): [number, number] {
  let need = n;
  for (let f = files.length - 1; f >= 0; f--) {
    const { offset, found } = tailOffset(files[f], need);
    if (found === need && offset >= 0) return [f, offset];
    need -= found;
  }
  return [0, 0];
}

/** Offset of the last `need` complete records of one file, or how many it has if fewer. */
function tailOffset(file: string, need: number): { offset: number; found: number } {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch {
    return { offset: -1, found: 0 };
  }
  try {
    let pos = fs.fstatSync(fd).size;
    let newlines = 0;
    const buf = Buffer.allocUnsafe(CHUNK);
    while (pos > 0) {
      const start = Math.max(0, pos - CHUNK);
      const n = fs.readSync(fd, buf, 0, pos - start, start);
      let i = n;
      while (i > 0 && (i = buf.lastIndexOf(0x0a, i - 1)) >= 0) {
        // The first newline from the end closes the last record; the need+1st opens ours.
        if (++newlines === need + 1) return { offset: start + i + 1, found: need };
      }
      pos = start;
    }
    return { offset: 0, found: newlines };
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Streams the files from [file index, offset] to their ends through the encoder. Resolves with
 * the last file still open and the offset reached in it (after its last complete record), so
 * that a follower can continue exactly there.
 */
export async function pumpFiles(
  files: string[],
  from: [number, number],
  enc: LogEncoder,
  write: (b: Buffer) => boolean | Promise<void>,
): Promise<{ fd?: number; offset: number }> {
  const buf = Buffer.allocUnsafe(CHUNK);
  let result: { fd?: number; offset: number } = { offset: 0 };
  for (let f = from[0]; f < files.length; f++) {
    let fd: number;
    try {
      fd = fs.openSync(files[f], 'r');
    } catch {
      continue;
    }
    let offset = f === from[0] ? from[1] : 0;
    let carry = 0; // bytes of an incomplete record at the start of buf
    for (;;) {
      const n = fs.readSync(fd, buf, carry, CHUNK - carry, offset + carry);
      if (n <= 0) break;
      const end = buf.lastIndexOf(0x0a, carry + n - 1) + 1;
      if (end === 0) {
        if (carry + n === CHUNK) throw new Error(`log record longer than ${CHUNK} bytes in ${files[f]}`);
        carry += n;
        continue;
      }
      if (!enc.done) {
        const out = enc.encode(buf, 0, end);
        if (out.length) {
          const w = write(out);
          if (w instanceof Promise) await w;
        }
      }
      buf.copy(buf, 0, end, carry + n);
      offset += end;
      carry = carry + n - end;
    }
    if (f === files.length - 1) result = { fd, offset };
    else fs.closeSync(fd);
  }
  return result;
}
