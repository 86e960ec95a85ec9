/**
 * What `berth build` prints around the daemon's stream:
 *  - "Sending build context to Docker daemon  15.87kB" as docker's legacy client writes it: on a
 *    terminal redrawn in place while the context is sent (at most every 100 ms), otherwise only
 *    the last value; both end with docker's "\r\r\n";
 *  - with step timings (a terminal, or --progress=tty): each ` ---> <id>` line that ends a step
 *    gets the step's elapsed time, ` ---> 1a2b3c4d5e6f (0.4s)`, and a build that succeeded ends
 *    with `Built in 2.3s`. The classic stream does not say which stage a line belongs to, so the
 *    timer stays quiet where it could guess wrong: inside RUN output and while several steps of
 *    parallel stages are open.
 */
import { progressString } from '../jsonmessage';

export interface TextOut {
  write(s: string): unknown;
  isTTY?: boolean;
}

const ACTION = 'Sending build context to Docker daemon';

/** progress.NewProgressReader + streamformatter's raw progress output, for the context upload. */
export class SendProgress {
  private last = 0;
  private drawn = false;
  private finished = false;

  constructor(
    private readonly out: TextOut,
    private readonly tty: boolean,
    private readonly now: () => number = Date.now,
  ) {}

  private line(bytes: number): string {
    const s = progressString({ current: bytes }, 200);
    return `${ACTION} ${s}${s === '' ? '\r\n' : '\r'}`;
  }

  update(bytes: number, done: boolean): void {
    if (this.finished) return;
    if (done) {
      this.finished = true;
      this.out.write(`${this.line(bytes)}\r\n`);
      return;
    }
    if (!this.tty) return;
    const t = this.now();
    if (this.drawn && t - this.last < 100) return;
    this.last = t;
    this.drawn = true;
    this.out.write(this.line(bytes));
  }

  /** Ends a line drawn in place when the upload stopped short (an error). */
  abort(): void {
    if (this.drawn && !this.finished) this.out.write('\n');
    this.finished = true;
  }
}

/** "0.4s", "12.0s", "2m05s" */
export function formatElapsed(ms: number): string {
  if (ms < 60_000) return `${(Math.max(0, ms) / 1000).toFixed(1)}s`;
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}

const STEP = /^Step \d+\/\d+ : /;
const STEP_DONE = /^ ---> ([0-9a-f]{12})$/;
const RUNNING = /^ ---> Running in ([0-9a-f]+)$/;
const REMOVING = /Removing intermediate container ([0-9a-f]+)$/;

/**
 * Adds step timings to the text of a classic build stream, fed in whatever pieces it arrives in.
 * Text passes through at once, except a partial line that may become a ` ---> <id>` line.
 */
export class StepTimer {
  private open: number[] = [];
  private runs = new Set<string>();
  private atLineStart = true;
  private held = '';

  constructor(
    private readonly color: boolean,
    private readonly now: () => number = Date.now,
  ) {}

  private dim(s: string): string {
    return this.color ? `\x1b[2m${s}\x1b[0m` : s;
  }

  private onLine(line: string, atStart: boolean): string {
    if (this.runs.size > 0) {
      const m = REMOVING.exec(line);
      if (m) for (const id of this.runs) if (id.startsWith(m[1]) || m[1].startsWith(id)) this.runs.delete(id);
      return line;
    }
    if (!atStart) return line;
    if (STEP.test(line)) {
      this.open.push(this.now());
      return line;
    }
    const run = RUNNING.exec(line);
    if (run) {
      this.runs.add(run[1]);
      return line;
    }
    if (STEP_DONE.test(line) && this.open.length > 0) {
      if (this.open.length > 1) {
        // Steps of parallel stages interleave: which one ended is not known.
        this.open = [];
        return line;
      }
      const start = this.open.pop()!;
      return `${line} ${this.dim(`(${formatElapsed(this.now() - start)})`)}`;
    }
    return line;
  }

  /** The text to print for the next piece of the stream. */
  feed(s: string): string {
    let text = this.held + s;
    this.held = '';
    let out = '';
    while (text.length > 0) {
      const nl = text.indexOf('\n');
      if (nl < 0) {
        if (this.atLineStart && (' ---> '.startsWith(text) || /^ ---> [0-9a-f]{0,12}$/.test(text))) {
          this.held = text;
        } else {
          out += text;
          this.atLineStart = false;
        }
        break;
      }
      const line = text.slice(0, nl);
      text = text.slice(nl + 1);
      out += `${this.onLine(line, this.atLineStart)}\n`;
      this.atLineStart = true;
    }
    return out;
  }

  /** Whatever is still held back (the stream ended mid-line). */
  flush(): string {
    const s = this.held;
    this.held = '';
    return s;
  }

  /** The closing line of a build that succeeded. */
  total(ms: number): string {
    return `${this.dim(`Built in ${formatElapsed(ms)}`)}\n`;
  }
}
