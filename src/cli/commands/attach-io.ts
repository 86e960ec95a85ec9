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
import { DEFAULT_DETACH_KEYS, EscapeFilter, parseDetachKeys } from '../../util/detach-keys';

export interface AttachOptions {
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
  /** --detach-keys (default ctrl-p,ctrl-q); scanned in TTY input, as the docker CLI does. */
  detachKeys?: string;
}

export interface Attached {
  /** Resolves when the output stream has ended and been copied out (or the user detached). */
  done: Promise<void>;
  /** True once the detach keys were typed. */
  detached(): boolean;
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
    detachKeys: o.detachKeys || undefined,
  });
  return streamHijacked(cli, conn, o);
}

/**
 * Copies a hijacked connection (attach or exec start): output to our stdout/stderr (raw with a
 * TTY, demultiplexed without), our stdin to it. With a TTY on our side, the terminal is put in
 * raw mode for the duration and always restored.
 */
export function streamHijacked(cli: Cli, conn: Socket | Readable, o: AttachOptions): Attached {
  const { out, err } = cli.streams;
  const sock = conn as Socket;
  let restoreRaw: (() => void) | undefined;
  let detached = false;
  let detach: (() => void) | undefined;
  const input = cli.streams.in;
  const onInput = (chunk: Buffer): void => {
    if (filter) {
      const r = filter.push(chunk);
      if (r.data.length) sock.write(r.data);
      if (r.detached) detach?.();
      return;
    }
    sock.write(chunk);
  };
  // Half-close: the container sees EOF on stdin and may still write output.
  const onEnd = (): void => {
    if (!detached && typeof sock.end === 'function') sock.end();
  };
  let filter: EscapeFilter | undefined;
  if (o.stdin) {
    if (o.tty) filter = new EscapeFilter(parseDetachKeys(o.detachKeys || DEFAULT_DETACH_KEYS));
    if (o.tty && input.isTTY && input.setRawMode) {
      input.setRawMode(true);
      restoreRaw = () => input.setRawMode?.(false);
      makeRaw(input.fd ?? 0);
    }
    input.on('data', onInput);
    input.on('end', onEnd);
    input.resume();
  }
  let done: Promise<void>;
  if (o.tty) {
    done = new Promise((resolve, reject) => {
      detach = () => {
        detached = true;
        sock.destroy();
        resolve();
      };
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
    if (o.stdin) {
      input.off('data', onInput);
      input.off('end', onEnd);
      input.pause();
    }
  });
  return {
    done,
    detached: () => detached,
    close: () => {
      sock.destroy();
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

/** Keeps the container's (or exec session's) TTY the size of ours. Returns the undo. */
export function monitorTtySize(cli: Cli, id: string, kind: 'containers' | 'exec' = 'containers'): () => void {
  const out = cli.streams.out;
  if (!out.isTTY) return () => undefined;
  const engine = cli.engine();
  const resize = (): void => {
    // Node updates rows/columns on SIGWINCH itself; read the size afresh in case it has not yet.
    const [w, h] = (out as NodeJS.WriteStream).getWindowSize?.() ?? [out.columns, out.rows];
    if (!h || !w) return;
    engine.post(`/${kind}/${encodeURIComponent(id)}/resize`, { h, w }).catch(() => undefined);
  };
  resize();
  process.on('SIGWINCH', resize);
  return () => process.off('SIGWINCH', resize);
}

/**
 * Waits for an attached session's output to end while its TTY follows ours (with a TTY), then
 * undoes the resize monitor and `unproxy` (the signal proxy), whether it ended well or not.
 */
export async function followAttached(
  cli: Cli,
  id: string,
  attached: Attached,
  o: { tty: boolean; kind?: 'containers' | 'exec'; unproxy?: () => void },
): Promise<void> {
  const unresize = o.tty ? monitorTtySize(cli, id, o.kind) : () => undefined;
  try {
    await attached.done;
  } finally {
    o.unproxy?.();
    unresize();
  }
}

/** docker's runStartContainerErr: 127 not found, 126 cannot execute, 125 anything else. */
export function startErrorStatus(message: string): number {
  const m = message.replace(/^Error response from daemon: /, '');
  if (/executable file not found|no such file or directory|system cannot find the file specified/.test(m)) return 127;
  if (/permission denied|is a directory/.test(m)) return 126;
  return 125;
}

/**
 * Completes libuv's raw mode (which keeps output processing) to docker's: without it, the
 * container's "\r\n" reaches the screen as "\r\r\n". libuv restores the original settings.
 */
function makeRaw(fd: number): void {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded only for TTY sessions
    (require('../../util/native') as typeof import('../../util/native')).native().ttyMakeRaw(fd);
  } catch {
    /* libuv's raw mode alone still works, with doubled carriage returns */
  }
}
