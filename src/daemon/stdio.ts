/**
 * The interactive half of containers and exec sessions: conmon's attach socket and control FIFO.
 *
 * conmon serves the container's stdin (and a copy of its output) on `<socket-dir>/<id>/attach`,
 * an AF_UNIX SOCK_SEQPACKET socket that libuv cannot wrap; the native seqpacketPump turns it
 * into a stream socket that carries Docker-framed output one way and raw stdin the other
 * (native/berth_native.c). Terminal sizes go through `<bundle>/ctl` as "1 <rows> <cols>\n".
 *
 * A container's stdin has one connection, owned by berthd for the whole run (StdinHub), not
 * one per API client: detaching a client (ctrl-p ctrl-q) must not close the container's stdin,
 * while the end of a client's input must for a StdinOnce container without a TTY (docker's
 * semantics). conmon closes the container's stdin when that connection is shut down for
 * writing, unless it runs with --leave-stdin-open: every other container gets that flag, so
 * that a daemon restart (which drops the connection) leaves their stdin open.
 */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { native } from '../util/native';

/** Connects conmon's attach socket: reads give Docker frames (stdout/stderr), writes go to stdin. */
export function connectAttach(socketDir: string, id: string): net.Socket {
  const fd = native().seqpacketPump(path.join(socketDir, id, 'attach'));
  return new net.Socket({ fd, readable: true, writable: true });
}

const resends = new Map<string, NodeJS.Timeout>();

/**
 * Resizes the terminal conmon holds for the bundle (container or exec session). conmon 2.1.6
 * now and then ends up at the first of two sizes written a few milliseconds apart (measured:
 * 1 in 30 pairs), which the docker CLI's attach does (rows+1 x cols+1, then the real size, to
 * make the shell redraw); so the latest size is written once more when resizes have settled.
 */
export function resizeTerminal(bundle: string, rows: number, cols: number): void {
  writeCtl(bundle, rows, cols);
  clearTimeout(resends.get(bundle));
  const t = setTimeout(() => {
    resends.delete(bundle);
    try {
      writeCtl(bundle, rows, cols);
    } catch {
      /* the session has ended */
    }
  }, 100);
  t.unref();
  resends.set(bundle, t);
}

function writeCtl(bundle: string, rows: number, cols: number): void {
  // Non-blocking: a FIFO whose conmon is gone fails with ENXIO instead of hanging.
  const fd = fs.openSync(path.join(bundle, 'ctl'), fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
  try {
    fs.writeSync(fd, `1 ${rows} ${cols}\n`);
  } finally {
    fs.closeSync(fd);
  }
}

interface Stdin {
  sock?: net.Socket;
  /** Input that arrived before the container's conmon existed (attach precedes start). */
  pending: Buffer[];
  ended: boolean;
}

/** The stdin connection of each running container that has OpenStdin. */
export class StdinHub {
  private readonly map = new Map<string, Stdin>();

  private entry(id: string): Stdin {
    let e = this.map.get(id);
    if (!e) {
      e = { pending: [], ended: false };
      this.map.set(id, e);
    }
    return e;
  }

  /** Called once conmon has created the container (its attach socket exists). */
  open(id: string, socketDir: string): void {
    const e = this.entry(id);
    e.sock?.destroy();
    const sock = connectAttach(socketDir, id);
    sock.on('error', () => undefined);
    // Output is served from the log (LogFollower); this copy is drained so that conmon never blocks.
    sock.resume();
    sock.on('close', () => {
      if (e.sock === sock) e.sock = undefined;
    });
    e.sock = sock;
    for (const b of e.pending) sock.write(b);
    e.pending = [];
    if (e.ended) sock.end();
  }

  write(id: string, data: Buffer): void {
    const e = this.entry(id);
    if (e.ended) return;
    if (e.sock) e.sock.write(data);
    else e.pending.push(data);
  }

  /** End of stdin: the container reads EOF (conmon closes its stdin). */
  end(id: string): void {
    const e = this.entry(id);
    if (e.ended) return;
    e.ended = true;
    e.sock?.end();
  }

  /** The run is over (or the container removed). */
  close(id: string): void {
    this.map.get(id)?.sock?.destroy();
    this.map.delete(id);
  }
}
