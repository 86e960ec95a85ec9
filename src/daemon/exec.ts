/**
 * Exec sessions (`docker exec`): a process started in a running container.
 *
 * Each session runs under its own conmon in exec mode (`--exec --exec-process-spec`), as podman
 * does: conmon runs `runc exec --detach [--tty]`, holds the process's stdio (a pty when Tty),
 * serves it on its attach socket (daemon/stdio.ts) and reports the pid, then the exit code, on
 * the sync pipe. With `--exec-attach`, conmon waits until berthd has connected to the attach
 * socket before it runs the process, so that no output is lost. The same attach socket and ctl
 * FIFO code as containers' serve input, output and resizes, and the process is reaped by conmon
 * whatever berthd does.
 *
 * Sessions live in memory only (as dockerd's exec store): they need not survive a daemon
 * restart; sweep() kills the processes a crashed daemon left running. A finished session stays
 * inspectable for a while (the CLI reads its exit code after the stream ends).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type net from 'node:net';
import { conflict, invalidArgument, notFound } from '../core/errors';
import { randomHex } from '../util/digest';
import type { ContainerManager, ContainerRecord } from './containers';
import { mergeEnv } from '../runtime/spec/spec';
import { normalizeCapabilities } from '../runtime/spec/capabilities';
import { resolveUser } from '../runtime/user';
import { runtimeMessage, type OciRuntime } from '../runtime/oci';
import { connectAttach, resizeTerminal } from './stdio';

export interface ExecConfig {
  User: string;
  Privileged: boolean;
  Tty: boolean;
  AttachStdin: boolean;
  AttachStdout: boolean;
  AttachStderr: boolean;
  DetachKeys: string;
  Env: string[];
  WorkingDir: string;
  Cmd: string[];
  ConsoleSize?: [number, number] | null;
}

interface Session {
  id: string;
  containerId: string;
  config: ExecConfig;
  running: boolean;
  started: boolean;
  exitCode: number | null;
  pid: number;
  dir: string;
  finishedAt?: number;
  conmon?: ChildProcess;
  /** runc exec in the foreground (sessions without a TTY). */
  runc?: ChildProcess;
  exited: Promise<number>;
  resolveExit(code: number): void;
}

/** A started session: its output and input (when attached) and its exit code. */
export interface ExecRun {
  /** Subscribes to the output (stream 1 stdout, 2 stderr); onEnd once it is all delivered. Once only. */
  output?(onData: (stream: number, data: Buffer) => void, onEnd: () => void): void;
  /** The process's stdin (AttachStdin); end() closes it. */
  stdin?: { write(b: Buffer): void; end(): void };
  /** Stops copying (the client went away); the process runs on. */
  release(): void;
  exitCode: Promise<number>;
}

/** Finished sessions are dropped after this long (dockerd keeps them about as long). */
const KEEP_FINISHED_MS = 5 * 60_000;

export class ExecManager {
  private readonly sessions = new Map<string, Session>();
  private readonly root: string;

  constructor(
    private readonly containers: ContainerManager,
    private readonly runtimes: Record<string, OciRuntime>,
    execRoot: string,
  ) {
    this.root = path.join(execRoot, 'exec');
    fs.mkdirSync(this.root, { recursive: true });
    containers.on('event', (e: { Action: string; id: string }) => {
      if (e.Action === 'destroy') for (const s of this.sessions.values()) if (s.containerId === e.id) this.sessions.delete(s.id);
    });
  }

  // ---- create / inspect ----

  create(ref: string, body: Record<string, any>): string {
    const c = this.runningContainer(ref);
    const cmd = body.Cmd;
    if (!Array.isArray(cmd) || cmd.length === 0 || !cmd.every((a) => typeof a === 'string')) throw invalidArgument('No exec command specified');
    if (body.Env !== undefined && body.Env !== null && !(Array.isArray(body.Env) && body.Env.every((e: unknown) => typeof e === 'string'))) {
      throw invalidArgument('Env must be a list of strings');
    }
    const cs = body.ConsoleSize;
    const config: ExecConfig = {
      User: typeof body.User === 'string' && body.User ? body.User : String(c.Config.User ?? ''),
      Privileged: !!body.Privileged,
      Tty: !!body.Tty,
      AttachStdin: !!body.AttachStdin,
      AttachStdout: !!body.AttachStdout,
      AttachStderr: !!body.AttachStderr,
      DetachKeys: typeof body.DetachKeys === 'string' ? body.DetachKeys : '',
      Env: (body.Env as string[] | null) ?? [],
      WorkingDir: typeof body.WorkingDir === 'string' ? body.WorkingDir : '',
      Cmd: cmd as string[],
      ConsoleSize: Array.isArray(cs) && cs.length === 2 && cs.every((n) => Number.isInteger(n) && n >= 0) ? [cs[0], cs[1]] : null,
    };
    const id = randomHex(32);
    let resolveExit!: (code: number) => void;
    const exited = new Promise<number>((r) => (resolveExit = r));
    this.sessions.set(id, { id, containerId: c.Id, config, running: false, started: false, exitCode: null, pid: 0, dir: path.join(this.root, id), exited, resolveExit });
    this.containers.emit('event', { Type: 'container', Action: `exec_create: ${cmd.join(' ')}`, id: c.Id, c, attrs: { execID: id } });
    return id;
  }

  get(id: string): Session {
    const s = this.sessions.get(id);
    if (!s) throw notFound(`No such exec instance: ${id}`);
    return s;
  }

  inspect(id: string): Record<string, unknown> {
    const s = this.get(id);
    this.readPid(s);
    const [entrypoint, ...args] = s.config.Cmd;
    return {
      ID: s.id,
      Running: s.running,
      ExitCode: s.exitCode,
      ProcessConfig: { tty: s.config.Tty, entrypoint, arguments: args, privileged: s.config.Privileged, user: s.config.User },
      OpenStdin: s.config.AttachStdin,
      OpenStderr: s.config.AttachStderr,
      OpenStdout: s.config.AttachStdout,
      CanRemove: false,
      ContainerID: s.containerId,
      DetachKeys: s.config.DetachKeys,
      Pid: s.pid,
    };
  }

  /** Sessions of the container that have not ended (dockerd's ExecIDs), or null. */
  idsOf(containerId: string): string[] | null {
    const ids = [...this.sessions.values()].filter((s) => s.containerId === containerId && s.exitCode === null).map((s) => s.id);
    return ids.length ? ids : null;
  }

  resize(id: string, rows: number, cols: number): void {
    const s = this.get(id);
    if (!s.running) throw conflict(`Exec ${id} is not running`);
    if (!s.config.Tty) return;
    try {
      resizeTerminal(s.dir, rows, cols);
    } catch {
      /* the process is exiting */
    }
  }

  // ---- start ----

  /**
   * Starts the session's process; with `attach`, connects its stdio first. Resolves once the
   * process runs (its pid is known); a process that cannot be started rejects with docker's
   * message and leaves exit code 126 (127 for a missing command) in the session.
   */
  async start(id: string, opts: { attach: boolean; tty?: boolean; consoleSize?: [number, number] | null; mergeOutput?: boolean }): Promise<ExecRun> {
    const s = this.get(id);
    if (s.running) throw conflict(`Error: Exec command ${id} is already running`);
    if (s.started) throw conflict(`Error: Exec command ${id} has already run`);
    const c = this.runningContainer(s.containerId);
    s.started = true;
    if (opts.consoleSize) s.config.ConsoleSize = opts.consoleSize;
    const rt = this.runtimes[c.berth.runtime];
    fs.mkdirSync(s.dir, { recursive: true });
    try {
      fs.writeFileSync(path.join(s.dir, 'process.json'), JSON.stringify(this.processSpec(c, s.config)));
    } catch (e) {
      this.finish(s, 126);
      fs.rmSync(s.dir, { recursive: true, force: true });
      throw e;
    }
    this.containers.emit('event', { Type: 'container', Action: `exec_start: ${s.config.Cmd.join(' ')}`, id: c.Id, c, attrs: { execID: id } });
    const attach = opts.attach && (s.config.AttachStdin || s.config.AttachStdout || s.config.AttachStderr);
    try {
      // Without a TTY, runc exec in the foreground is all it takes (and half the latency of
      // conmon + runc exec --detach, measured); a TTY needs conmon to hold the pty.
      if (!s.config.Tty) {
        const run = this.spawnRunc(s, c, rt, !!attach, !!opts.mergeOutput);
        // Detached, the caller is answered once the process exists (docker start semantics).
        if (!attach) await this.pidOrExit(s);
        return run;
      }
      return await this.spawnConmon(s, c, rt, !!attach);
    } catch (e) {
      fs.rmSync(s.dir, { recursive: true, force: true });
      throw e;
    }
  }

  /** The OCI process of the session: the container's, with the exec's command, user, env and cwd. */
  private processSpec(c: ContainerRecord, cfg: ExecConfig): Record<string, unknown> {
    const bundle = this.containers.paths(c.Id);
    const spec = JSON.parse(fs.readFileSync(path.join(bundle.bundle, 'config.json'), 'utf8')) as { process: Record<string, any> };
    const base = spec.process;
    const user = resolveUser(bundle.rootfs, cfg.User, (c.HostConfig.GroupAdd as string[]) ?? []);
    const extra = cfg.Tty ? ['TERM=xterm'] : [];
    const env = mergeEnv(base.env as string[], cfg.Env, extra);
    if (cfg.User !== String(c.Config.User ?? '') && !cfg.Env.some((e) => e.startsWith('HOME='))) {
      // HOME follows the exec's user unless the container's env set it explicitly.
      const i = env.findIndex((e) => e.startsWith('HOME='));
      const explicit = ((c.Config.Env as string[]) ?? []).some((e) => e.startsWith('HOME='));
      if (!explicit) {
        if (i >= 0) env[i] = `HOME=${user.home || '/'}`;
        else env.push(`HOME=${user.home || '/'}`);
      }
    }
    const proc: Record<string, any> = {
      ...base,
      terminal: cfg.Tty,
      args: cfg.Cmd,
      env,
      cwd: cfg.WorkingDir || base.cwd || '/',
      user: { uid: user.uid, gid: user.gid, additionalGids: user.additionalGids },
    };
    if (cfg.Tty && cfg.ConsoleSize && cfg.ConsoleSize[0] > 0) proc.consoleSize = { height: cfg.ConsoleSize[0], width: cfg.ConsoleSize[1] };
    else delete proc.consoleSize;
    if (cfg.Privileged && base.capabilities) {
      const all = normalizeCapabilities([], ['ALL'], []);
      proc.capabilities = Object.fromEntries(Object.keys(base.capabilities as object).map((k) => [k, all]));
    }
    return proc;
  }

  private spawnConmon(s: Session, c: ContainerRecord, rt: OciRuntime, attach: boolean): Promise<ExecRun> {
    const args = [
      '--api-version', '1',
      '-c', c.Id,
      '-u', s.id,
      '-n', `${c.Name.slice(1)}-exec`,
      '-r', rt.cfg.path,
      '-b', s.dir,
      '-p', path.join(s.dir, 'pid'),
      '-P', path.join(s.dir, 'conmon.pid'),
      '--exit-dir', path.join(s.dir, 'exit'),
      '--socket-dir-path', rt.cfg.socketDir,
      '-l', `k8s-file:${path.join(s.dir, 'output.log')}`,
      '--log-level', 'error',
      '--runtime-arg', `--root=${rt.cfg.stateRoot}`,
      '--exec',
      '--exec-process-spec', path.join(s.dir, 'process.json'),
    ];
    if (s.config.Tty) args.push('-t');
    if (attach && s.config.AttachStdin) args.push('-i');
    if (attach) args.push('--exec-attach');
    fs.mkdirSync(path.join(s.dir, 'exit'), { recursive: true });
    const env: NodeJS.ProcessEnv = { ...process.env, _OCI_SYNCPIPE: '3', _OCI_STARTPIPE: '4' };
    if (attach) env._OCI_ATTACHPIPE = '5';
    const child = spawn(rt.cfg.conmonPath, args, { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe', attach ? 'pipe' : 'ignore'], env, detached: true, cwd: s.dir });
    child.unref();
    s.conmon = child;
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const startPipe = child.stdio[4] as net.Socket;
    // conmon blocks on a first message before it forks (and, with --exec-attach, on a second
    // one before it runs the runtime, sent once the attach socket is connected).
    startPipe.write('0');
    return new Promise<ExecRun>((resolve, reject) => {
      let io: net.Socket | undefined;
      let pidKnown = false;
      const fail = (message: string): void => {
        io?.destroy();
        const code = /executable file not found|no such file or directory/i.test(message) ? 127 : 126;
        this.finish(s, code);
        reject(Object.assign(new Error(`OCI runtime exec failed: ${message}: unknown`), { exitCode: code }));
      };
      if (attach) {
        lines((child.stdio as unknown as net.Socket[])[5], () => {
          try {
            io = connectAttach(rt.cfg.socketDir, s.id);
            io.on('error', () => undefined);
          } catch (e) {
            return fail(`cannot attach to the exec session: ${(e as Error).message}`);
          }
          startPipe.end('1');
        });
      } else startPipe.end();
      let ended = false;
      lines(
        child.stdio[3] as net.Socket,
        (msg) => {
          const data = typeof msg.data === 'number' ? msg.data : -1;
          if (!pidKnown) {
            if (data <= 0) return fail(runtimeMessage(msg.message ?? 'exec failed'));
            pidKnown = true;
            s.pid = data;
            s.running = true;
            resolve(socketRun(io, s.config.AttachStdin, s.exited));
            return;
          }
          this.finish(s, data < 0 ? 126 : data);
        },
        () => {
          ended = true;
          if (!pidKnown) fail(stderr.trim() || 'conmon exited before the process started');
          // conmon went away without a final message (killed): the process is gone with it or orphaned.
          else if (s.exitCode === null) this.finish(s, 137);
        },
      );
      child.on('error', (e) => !ended && fail(`cannot run conmon: ${e.message}`));
    });
  }

  /**
   * runc exec in the foreground: the process inherits runc's stdio (our pipes) and runc exits
   * with its status (128+n for a signal). runc's own failure (exit 255) is told apart from a
   * process's 255 by the error in runc's log file. With `merge`, stdout and stderr share one pipe
   * (all of it reported as stdout), so that the output keeps the order it was written in.
   */
  private spawnRunc(s: Session, c: ContainerRecord, rt: OciRuntime, attach: boolean, merge = false): ExecRun {
    const log = path.join(s.dir, 'runc.log');
    const args = ['--root', rt.cfg.stateRoot, '--log', log, '--log-format', 'json', 'exec', '--pid-file', path.join(s.dir, 'pid'), '--process', path.join(s.dir, 'process.json'), c.Id];
    const stdin = attach && s.config.AttachStdin ? 'pipe' : 'ignore';
    const out = attach ? 'pipe' : 'ignore';
    // Node cannot hand one pipe to two fds; the shell's 2>&1 does (runc passes both on to the process).
    const child = merge && attach
      ? spawn('/bin/sh', ['-c', 'exec "$0" "$@" 2>&1', rt.cfg.path, ...args], { stdio: [stdin, out, 'ignore'], cwd: s.dir })
      : spawn(rt.cfg.path, args, { stdio: [stdin, out, out], cwd: s.dir });
    s.runc = child;
    s.running = true;
    child.on('error', () => undefined);
    // runc's own error (the command cannot start) comes on the stdio it shares with the process.
    let startError: string | undefined;
    child.on('close', (code, signal) => {
      let status = code ?? (signal ? 128 + (signalNumberOf(signal) ?? 9) : 126);
      if (status === 255) {
        const err = runcError(readText(log));
        if (err !== undefined) {
          status = /executable file not found|no such file or directory/i.test(err) ? 127 : 126;
          startError = err;
        }
      }
      this.finish(s, status);
    });
    const streams = attach ? [child.stdout!, ...(child.stderr ? [child.stderr] : [])] : undefined;
    return {
      output: streams
        ? (onData, onEnd) => {
            // Output is held until runc has written the pid file (the process started): what came
            // before from a process that could not start is runc's error, which dockerd reports
            // on stdout as "OCI runtime exec failed: ...: unknown" (its exec start stream).
            let held: [number, Buffer][] | undefined = [];
            const release = (): void => {
              const h = held ?? [];
              held = undefined;
              for (const [n, b] of h) onData(n, b);
            };
            const poll = setInterval(() => {
              if (s.exitCode !== null || !this.readPid(s)) return;
              clearInterval(poll);
              release();
            }, 5);
            let open = streams.length;
            const ended = (): void => {
              clearInterval(poll);
              void s.exited.then(() => {
                if (held && startError !== undefined) {
                  held = undefined;
                  onData(1, Buffer.from(`OCI runtime exec failed: ${startError}: unknown\r\n`));
                } else release();
                onEnd();
              });
            };
            streams.forEach((st, i) => {
              st.on('data', (b: Buffer) => {
                if (held && this.readPid(s)) release();
                if (held) held.push([i + 1, b]);
                else onData(i + 1, b);
              });
              st.on('close', () => --open === 0 && ended());
            });
          }
        : undefined,
      stdin: child.stdin ? { write: (b) => child.stdin!.write(b), end: () => child.stdin!.end() } : undefined,
      release: () => {
        child.stdin?.destroy();
        for (const st of streams ?? []) st.resume();
      },
      exitCode: s.exited,
    };
  }

  /** Waits until runc has written the session's pid file or the session has ended. */
  private async pidOrExit(s: Session): Promise<void> {
    const until = Date.now() + 30_000;
    while (s.exitCode === null && !this.readPid(s) && Date.now() < until) await new Promise((r) => setTimeout(r, 5));
  }

  private readPid(s: Session): number {
    if (!s.pid && s.running) s.pid = Number(readText(path.join(s.dir, 'pid'))) || 0;
    return s.pid;
  }

  private finish(s: Session, code: number): void {
    if (s.exitCode !== null) return;
    s.exitCode = code;
    s.running = false;
    s.finishedAt = Date.now();
    s.resolveExit(code);
    fs.rmSync(s.dir, { recursive: true, force: true });
    const c = this.containers.get(s.containerId);
    if (s.started) this.containers.emit('event', { Type: 'container', Action: 'exec_die', id: s.containerId, c, attrs: { execID: s.id, exitCode: String(code) } });
    const t = setTimeout(() => this.sessions.delete(s.id), KEEP_FINISHED_MS);
    t.unref();
  }

  private runningContainer(ref: string): ContainerRecord {
    const c = this.containers.resolve(ref);
    if (c.State.Paused) throw conflict(`Container ${c.Id} is paused, unpause the container before exec`);
    if (c.State.Restarting) throw conflict(`Container ${c.Id} is restarting, wait until the container is running`);
    if (!c.State.Running) throw conflict(`container ${c.Id} is not running`);
    return c;
  }

  /**
   * Processes of sessions a previous berthd left behind (it crashed): their conmon and process
   * are killed, so that nothing runs unowned. The process is recognised by its cgroup, which
   * names the container, so that a recycled pid is never hit.
   */
  sweep(): void {
    const ids = this.containers.all().map((c) => c.Id);
    for (const id of fs.readdirSync(this.root)) {
      if (this.sessions.has(id)) continue;
      const dir = path.join(this.root, id);
      const conmon = Number(readText(path.join(dir, 'conmon.pid')));
      if (conmon && readText(`/proc/${conmon}/cmdline`).includes(id)) killQuietly(conmon);
      const pid = Number(readText(path.join(dir, 'pid')));
      const cgroup = pid ? readText(`/proc/${pid}/cgroup`) : '';
      if (cgroup && ids.some((c) => cgroup.includes(c))) killQuietly(pid);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }

  /**
   * Kills a session's process (SIGKILL); runc (or conmon) too when the process is still not gone
   * 5 s later (it had not started, or the kill missed it), so that the session ends.
   */
  private killProcess(s: Session): void {
    if (s.exitCode !== null) return;
    const pid = this.readPid(s);
    if (pid) killQuietly(pid);
    const t = setTimeout(() => {
      if (s.exitCode === null) (s.runc ?? s.conmon)?.kill('SIGKILL');
    }, 5000);
    t.unref();
  }

  /**
   * Runs a command in a running container as an exec session (with its events) and collects its
   * output, stdout and stderr in the order written, at most `maxOutput` bytes (`truncated` beyond).
   * With `timeoutMs`, the process is killed when it outlives it (`timedOut`). The session is
   * dropped once done: nobody inspects it. For health checks; rejects when the command cannot
   * be started.
   */
  async execInContainer(
    ref: string,
    argv: string[],
    opts: { user?: string; env?: string[]; workingDir?: string; maxOutput?: number; timeoutMs?: number } = {},
  ): Promise<{ exitCode: number; output: string; truncated: boolean; timedOut: boolean }> {
    const id = this.create(ref, { Cmd: argv, User: opts.user, Env: opts.env, WorkingDir: opts.workingDir, AttachStdout: true, AttachStderr: true });
    const s = this.get(id);
    let timedOut = false;
    const timer = opts.timeoutMs === undefined ? undefined : setTimeout(() => {
      timedOut = true;
      this.killProcess(s);
    }, opts.timeoutMs);
    try {
      const run = await this.start(id, { attach: true, mergeOutput: true });
      const max = opts.maxOutput ?? 1 << 20;
      const chunks: Buffer[] = [];
      let size = 0;
      run.stdin?.end();
      if (run.output) {
        const output = run.output;
        await new Promise<void>((resolve) =>
          output((_stream, payload) => {
            if (size < max) chunks.push(payload.subarray(0, max - size));
            size += payload.length;
          }, resolve),
        );
      }
      const exitCode = await run.exitCode;
      return { exitCode, output: Buffer.concat(chunks).toString('utf8'), truncated: size > max, timedOut };
    } finally {
      clearTimeout(timer);
      this.sessions.delete(id);
    }
  }
}

/** Splits Docker frames ([stream, 0, 0, 0, len BE] + payload) out of a byte stream. */
export class FrameParser {
  private buf: Buffer = Buffer.alloc(0);

  constructor(private readonly onFrame: (stream: number, payload: Buffer) => void) {}

  push(chunk: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    while (this.buf.length >= 8) {
      const len = this.buf.readUInt32BE(4);
      if (this.buf.length < 8 + len) break;
      this.onFrame(this.buf[0], this.buf.subarray(8, 8 + len));
      this.buf = this.buf.subarray(8 + len);
    }
  }
}

/** conmon's pipes carry one JSON object per line. */
function lines(sock: net.Socket, onMsg: (m: { data?: number; message?: string }) => void, onEnd?: () => void): void {
  let acc = '';
  sock.on('data', (d: Buffer) => {
    acc += d.toString();
    let nl: number;
    while ((nl = acc.indexOf('\n')) >= 0) {
      const line = acc.slice(0, nl).trim();
      acc = acc.slice(nl + 1);
      if (!line) continue;
      try {
        onMsg(JSON.parse(line) as { data?: number; message?: string });
      } catch {
        onMsg({ data: -1, message: line });
      }
    }
  });
  sock.on('error', () => undefined);
  if (onEnd) sock.on('close', onEnd);
}

function readText(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch {
    return '';
  }
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    /* already gone */
  }
}

/** The run of a conmon session: Docker frames from the attach socket, stdin into it. */
function socketRun(io: net.Socket | undefined, stdin: boolean, exitCode: Promise<number>): ExecRun {
  return {
    output: io
      ? (onData, onEnd) => {
          const parser = new FrameParser(onData);
          io.on('data', (b: Buffer) => parser.push(b));
          io.on('close', onEnd);
        }
      : undefined,
    stdin: io && stdin ? { write: (b) => io.write(b), end: () => io.end() } : undefined,
    release: () => io?.destroy(),
    exitCode,
  };
}

/** The error runc logged (JSON lines), if any. */
function runcError(log: string): string | undefined {
  for (const line of log.split('\n').reverse()) {
    try {
      const e = JSON.parse(line) as { level?: string; msg?: string };
      if (e.level === 'error' || e.level === 'fatal') return e.msg ?? '';
    } catch {
      /* not JSON */
    }
  }
  return undefined;
}

function signalNumberOf(name: string): number | undefined {
  return (os.constants.signals as Record<string, number>)[name];
}
