/**
 * conmon's k8s-file log format, one record per line:
 *   <RFC3339Nano time> <stdout|stderr> <F|P> <content>
 * F ends a line, P is a partial line that the next record continues. Reading, tailing and
 * following it is how berth serves `docker logs` and `docker attach` output.
 */
import fs from 'node:fs';
import path from 'node:path';
import { logFiles } from './rotate';

export interface LogEntry {
  time: string; // RFC3339Nano in UTC, as Docker prints with --timestamps
  ms: number;
  nanos: number; // nanoseconds within the second
  stream: 'stdout' | 'stderr';
  data: Buffer; // content, with '\n' when the line is complete
}

export function parseLine(line: Buffer): LogEntry | null {
  const s1 = line.indexOf(0x20);
  if (s1 < 0) return null;
  const s2 = line.indexOf(0x20, s1 + 1);
  if (s2 < 0) return null;
  const s3 = line.indexOf(0x20, s2 + 1);
  const tsStr = line.toString('latin1', 0, s1);
  const stream = line.toString('latin1', s1 + 1, s2);
  if (stream !== 'stdout' && stream !== 'stderr') return null;
  const flag = line.toString('latin1', s2 + 1, s3 < 0 ? line.length : s3);
  const content = s3 < 0 ? Buffer.alloc(0) : line.subarray(s3 + 1);
  const ms = Date.parse(tsStr);
  if (Number.isNaN(ms)) return null;
  const frac = /\.(\d+)/.exec(tsStr)?.[1] ?? '0';
  const nanos = Number(frac.padEnd(9, '0').slice(0, 9));
  const iso = new Date(ms).toISOString().slice(0, 19) + '.' + String(nanos).padStart(9, '0') + 'Z';
  return { time: iso, ms, nanos, stream, data: flag === 'P' ? Buffer.from(content) : Buffer.concat([content, Buffer.from('\n')]) };
}

/** Splits complete lines out of `buf`; returns the entries and the unconsumed remainder. */
export function parseChunk(buf: Buffer): { entries: LogEntry[]; rest: Buffer } {
  const entries: LogEntry[] = [];
  let start = 0;
  for (;;) {
    const nl = buf.indexOf(0x0a, start);
    if (nl < 0) break;
    const e = parseLine(buf.subarray(start, nl));
    if (e) entries.push(e);
    start = nl + 1;
  }
  return { entries, rest: buf.subarray(start) };
}

export interface ReadOptions {
  since?: number; // ms, inclusive
  until?: number; // ms, inclusive (as Docker's)
  tail?: number; // last N lines (complete records), -1/undefined = all
}

/** Reads the whole log (and its rotated predecessors .N ... .1, oldest first). */
export function readLog(file: string, opts: ReadOptions = {}): { entries: LogEntry[]; offset: number } {
  let all: LogEntry[] = [];
  let data = Buffer.alloc(0);
  for (const f of logFiles(file)) {
    try {
      data = fs.readFileSync(f);
    } catch {
      data = Buffer.alloc(0);
      continue;
    }
    all = all.concat(parseChunk(data).entries);
  }
  let out = all.filter((e) => (opts.since === undefined || e.ms >= opts.since) && (opts.until === undefined || e.ms <= opts.until));
  if (opts.tail !== undefined && opts.tail >= 0) out = opts.tail === 0 ? [] : out.slice(-opts.tail);
  return { entries: out, offset: data.lastIndexOf(0x0a) + 1 };
}

/**
 * Follows the log from `offset`, calling onEntry for every new record, until stop(). flush()
 * reads whatever is there now (used when the container exits: conmon drains stdio before it
 * writes the exit file, so after the exit everything is in the log). Across a rotation
 * (rotate.ts) it drains the file it holds open before it moves to the one the path names now.
 * `fd`, when given, is the log already open at `offset` (a reader that has just read it hands
 * it over, so a rotation in between loses nothing).
 */
export class LogFollower {
  private offset: number;
  private fd?: number;
  private ino = -1;
  private rest = Buffer.alloc(0);
  private watcher?: fs.FSWatcher;
  private timer?: NodeJS.Timeout;
  private stopped = false;
  /** While this says so, new records are skipped unparsed (nobody listens; a chatty container costs nothing). */
  idle?: () => boolean;

  constructor(
    private readonly file: string,
    offset: number,
    private readonly onEntry: (e: LogEntry) => void,
    fd?: number,
  ) {
    this.offset = offset;
    if (fd !== undefined) {
      this.fd = fd;
      this.ino = fs.fstatSync(fd).ino;
    }
    try {
      this.watcher = fs.watch(path.dirname(file), (_ev, name) => {
        if (!name || name === path.basename(file)) this.flush();
      });
      this.watcher.on('error', () => undefined);
    } catch {
      /* the poll below still works */
    }
    this.timer = setInterval(() => this.flush(), 250);
    this.timer.unref();
    this.flush();
  }

  flush(): void {
    if (this.stopped) return;
    if (this.fd === undefined && !this.open()) return;
    this.drain();
    let st: fs.Stats;
    try {
      st = fs.statSync(this.file);
    } catch {
      return; // rotated away and not yet reopened by conmon: it still writes to ours
    }
    if (st.ino !== this.ino) {
      // The path names a new file, so the writer has left ours: what is in it is complete.
      this.drain();
      this.close();
      this.offset = 0;
      this.rest = Buffer.alloc(0);
      if (this.open()) this.drain();
    } else if (st.size < this.offset) {
      this.offset = 0; // truncated
      this.rest = Buffer.alloc(0);
      this.drain();
    }
  }

  private open(): boolean {
    try {
      this.fd = fs.openSync(this.file, 'r');
      this.ino = fs.fstatSync(this.fd).ino;
      return true;
    } catch {
      return false;
    }
  }

  private close(): void {
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
  }

  private drain(): void {
    const fd = this.fd!;
    const size = fs.fstatSync(fd).size;
    if (this.idle?.() && size > this.offset) this.skipTo(fd, size);
    while (this.offset < size) {
      const buf = Buffer.allocUnsafe(Math.min(size - this.offset, 1 << 20));
      const n = fs.readSync(fd, buf, 0, buf.length, this.offset);
      if (n <= 0) break;
      this.offset += n;
      const { entries, rest } = parseChunk(this.rest.length ? Buffer.concat([this.rest, buf.subarray(0, n)]) : buf.subarray(0, n));
      this.rest = Buffer.from(rest);
      for (const e of entries) this.onEntry(e);
    }
  }

  /** Moves past the complete records before `size` without parsing them. */
  private skipTo(fd: number, size: number): void {
    const n = Math.min(size - this.offset, 64 << 10);
    const buf = Buffer.allocUnsafe(n);
    const got = fs.readSync(fd, buf, 0, n, size - n);
    const nl = buf.subarray(0, got).lastIndexOf(0x0a);
    if (nl < 0) return; // a record longer than the window: parse as usual
    this.offset = size - n + nl + 1;
    this.rest = Buffer.alloc(0);
  }

  stop(): void {
    this.stopped = true;
    this.watcher?.close();
    if (this.timer) clearInterval(this.timer);
    this.close();
  }
}
