/**
 * Exec endpoints: POST /containers/{id}/exec, POST /exec/{id}/start (hijacked or plain,
 * detached or attached), POST /exec/{id}/resize, GET /exec/{id}/json.
 */
import type { Duplex } from 'node:stream';
import type { Router, Ctx } from '../server';
import { intParam, readJsonObject, sendJson } from '../server';
import { contentType, detachKeys, pipeInput, upgradeBody, upgradedWriter, settleTime } from '../hijack';
import { frame } from '../stream';
import { BerthError } from '../../core/errors';
import type { ExecManager, ExecRun } from '../../daemon/exec';

export function execRoutes(r: Router, X: ExecManager): void {
  r.add('POST', /^\/containers\/([^/]+)\/exec$/, async (ctx) => {
    const body = await readJsonObject(ctx);
    sendJson(ctx, 201, { Id: X.create(ctx.params[0], body) });
  });

  r.add('GET', /^\/exec\/([^/]+)\/json$/, (ctx) => {
    sendJson(ctx, 200, X.inspect(ctx.params[0]));
  });

  r.add('POST', /^\/exec\/([^/]+)\/resize$/, (ctx) => {
    X.resize(ctx.params[0], intParam(ctx.query, 'h') ?? 0, intParam(ctx.query, 'w') ?? 0);
    sendJson(ctx, 200);
  });

  r.add('POST', /^\/exec\/([^/]+)\/start$/, async (ctx) => {
    const id = ctx.params[0];
    let body: Record<string, any>;
    let rest: Buffer = Buffer.alloc(0);
    if (ctx.upgrade) {
      ({ body, rest } = await upgradeBody(ctx.upgrade.socket, ctx.upgrade.head, Number(ctx.req.headers['content-length'] ?? 0)));
    } else body = await readJsonObject(ctx);
    const s = X.get(id);
    const tty = s.config.Tty;
    const keys = detachKeys(s.config.DetachKeys || undefined);
    const consoleSize = Array.isArray(body.ConsoleSize) && body.ConsoleSize.length === 2 ? (body.ConsoleSize as [number, number]) : null;
    if (body.Detach) {
      await X.start(id, { attach: false, consoleSize });
      sendJson(ctx, 200);
      return;
    }
    let run: ExecRun | undefined;
    let failure: string | undefined;
    try {
      run = await X.start(id, { attach: true, consoleSize });
    } catch (e) {
      if (e instanceof BerthError || !(e as { exitCode?: number }).exitCode) throw e;
      // dockerd reports a process that could not start inside the stream; its exit code is in the session.
      failure = `${(e as Error).message}\r\n`;
    }
    const out = openStream(ctx, tty);
    if (failure !== undefined || !run) {
      out.write(tty ? Buffer.from(failure ?? '') : frame(1, Buffer.from(failure ?? '')));
      out.end();
      return;
    }
    serveSession(out, run, tty, s.config, ctx.upgrade ? { sock: ctx.upgrade.socket, rest, keys } : undefined);
  });
}

interface Out {
  write(b: Buffer): void;
  end(): void;
  sock: Duplex;
}

function openStream(ctx: Ctx, tty: boolean): Out {
  if (ctx.upgrade) {
    const sock = ctx.upgrade.socket;
    sock.on('error', () => undefined);
    return { ...upgradedWriter(sock, tty, settleTime(ctx.req)), sock };
  }
  const res = ctx.res!;
  res.writeHead(200, { 'Content-Type': contentType(tty) });
  res.flushHeaders();
  return { write: (b) => res.write(b), end: () => res.end(), sock: ctx.req.socket };
}

/** Copies the session's output to the client (and the client's input to it) until it exits. */
function serveSession(
  out: Out,
  run: ExecRun,
  tty: boolean,
  cfg: { AttachStdin: boolean; AttachStdout: boolean; AttachStderr: boolean },
  input: { sock: Duplex; rest: Buffer; keys: Buffer } | undefined,
): void {
  let detached = false;
  const outputDone = new Promise<void>((resolve) => {
    if (!run.output) return resolve();
    run.output((stream, payload) => {
      if (detached) return;
      if ((stream === 1 && !cfg.AttachStdout) || (stream === 2 && !cfg.AttachStderr)) return;
      out.write(tty ? payload : frame(stream === 2 ? 2 : 1, payload));
    }, resolve);
  });
  const stdin = run.stdin;
  if (stdin && input && cfg.AttachStdin) {
    pipeInput(input.sock, input.rest, tty, input.keys, {
      write: (b) => stdin.write(b),
      end: () => stdin.end(),
      detach: () => {
        detached = true;
        out.end();
      },
    });
  } else if (input) input.sock.resume();
  out.sock.on('close', () => {
    // The client is gone: stop copying (the process runs on, as with dockerd).
    if (!detached) run.release();
  });
  void Promise.all([outputDone, run.exitCode]).then(() => {
    if (!detached) out.end();
  });
}
