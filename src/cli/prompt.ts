/**
 * Reading what the user types: whole lines from stdin (login's Username/Password prompts), all
 * of stdin (--password-stdin), and the terminal's echo turned off while a password is typed.
 * Echo is switched with stty(1) on the terminal itself, so the kernel still edits the line
 * (backspace, ^U) as it does for docker, which only clears ECHO too.
 */
import { spawnSync } from 'node:child_process';
import { StatusError, type Streams } from './cli';

type Input = Streams['in'];

/** Lines from a stream, read on demand; the stream is paused between reads. */
export class LineReader {
  private buf = '';
  private ended = false;
  private wake: (() => void) | undefined;
  private attached = false;

  constructor(private readonly input: Input) {}

  private attach(): void {
    if (this.attached) return;
    this.attached = true;
    this.input.on('data', (c: Buffer | string) => {
      this.buf += typeof c === 'string' ? c : c.toString('utf8');
      this.wake?.();
    });
    this.input.on('end', () => {
      this.ended = true;
      this.wake?.();
    });
    this.input.on('error', () => {
      this.ended = true;
      this.wake?.();
    });
  }

  /** The next line without its line ending; undefined at the end of the input. */
  async readLine(): Promise<string | undefined> {
    this.attach();
    for (;;) {
      const nl = this.buf.indexOf('\n');
      if (nl >= 0) {
        const line = this.buf.slice(0, nl).replace(/\r$/, '');
        this.buf = this.buf.slice(nl + 1);
        this.input.pause();
        return line;
      }
      if (this.ended) {
        if (this.buf === '') return undefined;
        const rest = this.buf;
        this.buf = '';
        return rest;
      }
      this.input.resume();
      await new Promise<void>((r) => (this.wake = r));
      this.wake = undefined;
    }
  }
}

/** All of the input, as a string. */
export function readAll(input: Input): Promise<string> {
  return new Promise((resolve, reject) => {
    let s = '';
    input.on('data', (c: Buffer | string) => (s += typeof c === 'string' ? c : c.toString('utf8')));
    input.on('end', () => resolve(s));
    input.on('error', reject);
    input.resume();
  });
}

/**
 * Turns the terminal's echo off; returns the function that turns it back on. A no-op for an
 * input that is not a terminal with a file descriptor (tests).
 */
export function disableEcho(input: Input): () => void {
  const fd = input.fd;
  if (!input.isTTY || typeof fd !== 'number') return () => undefined;
  const saved = spawnSync('stty', ['-g'], { stdio: [fd, 'pipe', 'pipe'], encoding: 'utf8' });
  if (saved.status !== 0) throw new Error(`cannot turn off the terminal's echo: ${(saved.stderr || String(saved.error ?? '')).trim()}`);
  spawnSync('stty', ['-echo'], { stdio: [fd, 'ignore', 'ignore'] });
  let restored = false;
  return () => {
    if (restored) return;
    restored = true;
    spawnSync('stty', [saved.stdout.trim()], { stdio: [fd, 'ignore', 'ignore'] });
  };
}

/**
 * prompt.ReadInput: writes `message` to `out`, reads one line, trims it. The end of the input
 * reads as an empty answer. ^C while waiting restores `onInterrupt` (the echo) and exits 130.
 */
export async function readInput(lines: LineReader, out: Streams['out'], message: string, onInterrupt?: () => void): Promise<string> {
  out.write(message);
  let interrupted: ((e: Error) => void) | undefined;
  const onSigint = (): void => {
    onInterrupt?.();
    out.write('\n');
    interrupted?.(new StatusError(130));
  };
  process.once('SIGINT', onSigint);
  try {
    const line = await Promise.race([
      lines.readLine(),
      new Promise<never>((_, reject) => (interrupted = reject)),
    ]);
    return (line ?? '').trim();
  } finally {
    process.off('SIGINT', onSigint);
  }
}
