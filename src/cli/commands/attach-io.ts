/**
 * The foreground half of `run` and `start -a`, in docker's order: hijack the attach stream,
 * register the wait (the daemon answers the wait's headers at once, so an exit that follows
 * the start cannot be missed), start, copy the container's output until the stream ends, then
 * read the exit status from the wait.
 */
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { demuxTo, readAll, type Engine } from '../../client/engine';
import type { WaitResponse } from '../../client/types';
import type { Cli } from '../cli';

export interface AttachOptions {
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
}

export interface Attached {
  /** Resolves when the container's output stream has ended and been copied out. */
  done: Promise<void>;
  /** Tears the stream down (start failed). */
  close(): void;
}

/** Hijacks /containers/{id}/attach and starts copying; stdin is forwarded when asked for. */
export async function attach(cli: Cli, id: string, o: AttachOptions): Promise<Attached> {
  const engine = cli.engine();
  const conn = await engine.hijack(`/containers/${encodeURIComponent(id)}/attach`, {
    stream: true,
    stdin: o.stdin || undefined,
    stdout: o.stdout || undefined,
    stderr: o.stderr || undefined,
  });
  const { out, err } = cli.streams;
  let restoreRaw: (() => void) | undefined;
  if (o.stdin) {
    const input = cli.streams.in;
    if (o.tty && input.isTTY && input.setRawMode) {
      input.setRawMode(true);
      restoreRaw = () => input.setRawMode?.(false);
    }
    const sock = conn as Socket;
    input.on('data', (chunk: Buffer) => sock.write(chunk));
    input.on('end', () => {
      // Half-close: the container sees EOF on stdin and may still write output.
      if (typeof sock.end === 'function') sock.end();
    });
    input.resume();
  }
  let done: Promise<void>;
  if (o.tty) {
    done = new Promise((resolve, reject) => {
      conn.on('data', (c: Buffer) => out.write(c));
      conn.on('end', () => resolve());
      conn.on('close', () => resolve());
      conn.on('error', (e: NodeJS.ErrnoException) => (e.code === 'ECONNRESET' ? resolve() : reject(e)));
    });
  } else {
    done = demuxTo(conn as Readable, out, o.stderr ? err : out);
  }
  done = done.finally(() => {
    restoreRaw?.();
    if (o.stdin) cli.streams.in.pause();
  });
  return {
    done,
    close: () => {
      (conn as Socket).destroy();
    },
  };
}

/**
 * POST /containers/{id}/wait?condition=..., resolved once the daemon has sent the reply's
 * headers (it does so before it starts waiting); `status` then gives the exit code.
 */
export async function registerWait(cli: Cli, id: string, condition: string): Promise<{ status: () => Promise<number> }> {
  const res: IncomingMessage = await cli.engine().stream('POST', `/containers/${encodeURIComponent(id)}/wait`, {
    query: { condition },
  });
  return {
    status: async () => {
      const buf = await readAll(res);
      let w: WaitResponse;
      try {
        w = JSON.parse(buf.toString('utf8')) as WaitResponse;
      } catch {
        return 125;
      }
      if (w.Error?.Message) {
        // docker logs this through logrus and exits 125.
        cli.eprintln(`Error waiting for container: ${w.Error.Message}`);
        return 125;
      }
      return w.StatusCode;
    },
  };
}

const FORWARDED: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGALRM', 'SIGCONT', 'SIGTSTP', 'SIGTTIN', 'SIGTTOU'];

/** docker's sig-proxy: signals the CLI receives are sent to the container. Returns the undo. */
export function proxySignals(engine: Engine, id: string): () => void {
  const handlers: [NodeJS.Signals, () => void][] = [];
  for (const sig of FORWARDED) {
    const h = (): void => {
      engine.post(`/containers/${encodeURIComponent(id)}/kill`, { signal: sig.slice(3) }).catch(() => undefined);
    };
    try {
      process.on(sig, h);
      handlers.push([sig, h]);
    } catch {}
  }
  return () => {
    for (const [sig, h] of handlers) process.off(sig, h);
  };
}

/** Keeps the container's TTY the size of ours. Returns the undo. */
export function monitorTtySize(cli: Cli, id: string): () => void {
  const out = cli.streams.out;
  if (!out.isTTY) return () => undefined;
  const engine = cli.engine();
  const resize = (): void => {
    if (!out.rows || !out.columns) return;
    engine.post(`/containers/${encodeURIComponent(id)}/resize`, { h: out.rows, w: out.columns }).catch(() => undefined);
  };
  resize();
  process.on('SIGWINCH', resize);
  return () => process.off('SIGWINCH', resize);
}

/** docker's runStartContainerErr: 127 not found, 126 cannot execute, 125 anything else. */
export function startErrorStatus(message: string): number {
  const m = message.replace(/^Error response from daemon: /, '');
  if (/executable file not found|no such file or directory|system cannot find the file specified/.test(m)) return 127;
  if (/permission denied|is a directory/.test(m)) return 126;
  return 125;
}
