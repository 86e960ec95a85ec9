/**
 * GET /containers/{id}/logs with json-file's semantics over berth's k8s-file logs (and their
 * rotated files): stdout/stderr, since/until (unix seconds with fraction, RFC 3339 or a
 * relative duration), tail, timestamps, details, follow across rotations.
 */
import fs from 'node:fs';
import type { Ctx } from '../server';
import { boolParam } from '../server';
import { invalidArgument, notImplemented } from '../../core/errors';
import type { Daemon } from '../../daemon/daemon';
import { LogFollower } from '../../logs/k8sfile';
import { LogEncoder, pumpFiles, tailStart } from '../../logs/encode';
import { logFiles } from '../../logs/rotate';
import { detailsPrefix, readable, type LogConfig } from '../../logs/config';
import { getTimestamp } from '../../cli/timestamps';

/** A since/until value in ms; "" and "0" mean unset. */
export function parseLogTime(v: string | null, nowMs = Date.now()): number | undefined {
  if (v === null || v === '' || v === '0') return undefined;
  let ts: string;
  try {
    ts = getTimestamp(v, nowMs);
  } catch (e) {
    throw invalidArgument((e as Error).message);
  }
  const [sec, frac = '0'] = ts.split('.');
  return Number(sec) * 1000 + Number(`0.${frac}`) * 1000;
}

function parseTail(v: string | null): number | undefined {
  if (v === null || v === '' || v === 'all') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < -1) throw invalidArgument(`invalid value for "tail": ${v}`);
  return n < 0 ? undefined : n;
}

export async function serveLogs(ctx: Ctx, d: Daemon): Promise<void> {
  const M = d.containers;
  const c = M.resolve(ctx.params[0]);
  const q = ctx.query;
  const lc = c.HostConfig.LogConfig as LogConfig | undefined;
  if (!readable(lc)) throw notImplemented('configured logging driver does not support reading');
  const stdout = boolParam(q, 'stdout');
  const stderr = boolParam(q, 'stderr');
  if (!stdout && !stderr) throw invalidArgument('Bad parameters: you must choose at least one stream');
  const tail = parseTail(q.get('tail'));
  const since = parseLogTime(q.get('since'));
  const until = parseLogTime(q.get('until'));
  const tty = !!c.Config.Tty;
  const details = boolParam(q, 'details') ? detailsPrefix(lc, (c.Config.Labels as Record<string, string>) ?? {}, (c.Config.Env as string[]) ?? []) : undefined;
  const enc = new LogEncoder({ stdout, stderr, tty, timestamps: boolParam(q, 'timestamps'), details, since, until });
  const res = ctx.res!;
  res.writeHead(200, { 'Content-Type': tty ? 'application/vnd.docker.raw-stream' : 'application/vnd.docker.multiplexed-stream' });
  let closed = false;
  ctx.req.socket.on('close', () => (closed = true));
  const write = (b: Buffer): boolean | Promise<void> => {
    if (closed || res.write(b)) return true;
    return new Promise((resolve) => {
      const done = (): void => {
        res.off('drain', done);
        ctx.req.socket.off('close', done);
        resolve();
      };
      res.once('drain', done);
      ctx.req.socket.once('close', done);
    });
  };
  const file = M.logPath(c.Id);
  const files = logFiles(file);
  const from: [number, number] = tail === undefined ? [0, 0] : tailStart(files, tail);
  const end = await pumpFiles(files, from, enc, write);
  const follow = boolParam(q, 'follow') && M.isRunning(c.Id) && !enc.done && !closed && (until === undefined || until > Date.now());
  if (!follow) {
    if (end.fd !== undefined) fs.closeSync(end.fd);
    res.end();
    return;
  }
  followLogs(ctx, d, c.Id, file, end, enc, (b) => void write(b), until);
}

function followLogs(ctx: Ctx, d: Daemon, id: string, file: string, at: { fd?: number; offset: number }, enc: LogEncoder, write: (b: Buffer) => void, until?: number): void {
  const res = ctx.res!;
  let done = false;
  let timer: NodeJS.Timeout | undefined;
  const finish = (): void => {
    if (done) return;
    done = true;
    follower.flush();
    stop();
    res.end();
  };
  const stop = (): void => {
    done = true;
    follower.stop();
    unsubscribe();
    if (timer) clearTimeout(timer);
  };
  const follower = new LogFollower(
    file,
    at.fd !== undefined ? at.offset : 0,
    (e) => {
      const b = enc.encodeEntry(e);
      if (b) write(b);
      if (enc.done) finish();
    },
    at.fd,
  );
  const unsubscribe = d.containers.attach(id, (e) => {
    if (e === null) finish();
  });
  // --until in the future: the stream ends then even if nothing more is printed.
  if (until !== undefined) timer = setTimeout(finish, Math.max(0, until - Date.now()));
  ctx.req.socket.on('close', stop);
}
