/**
 * The OCI runtime (runc or crun) driven through conmon, one conmon per container.
 *
 * Lifecycle: create() spawns conmon, which runs `<runtime> create` and reports the container's
 * pid (or the runtime's error) on a sync pipe, then lives on, detached from berthd, holding the
 * container's stdio, writing its log (k8s-file) and, when the container exits, its exit code to
 * <exitDir>/<id>. start() runs `<runtime> start`. delete() removes the runtime's state and the
 * cgroup. Because conmon does not belong to berthd, containers survive a kill -9 of the daemon.
 */
import { spawn, execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BerthError } from '../core/errors';

export interface RuntimeConfig {
  name: string; // runc | crun
  path: string;
  stateRoot: string; // --root for the runtime, one per daemon
  exitDir: string;
  socketDir: string;
  conmonPath: string;
}

export class StartError extends BerthError {
  readonly exitCode: number;
  constructor(message: string) {
    super('internal', message);
    // Docker's mapping of runtime start failures to exit codes.
    if (/executable file not found|no such file or directory/i.test(message)) this.exitCode = 127;
    else if (/permission denied/i.test(message)) this.exitCode = 126;
    else this.exitCode = 128;
    if (this.exitCode !== 128) (this as { kind: string }).kind = 'invalid-argument';
  }
}

function run(bin: string, args: string[], timeoutMs = 30_000): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(bin, args, { timeout: timeoutMs, maxBuffer: 4 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

/** runc prints `time=... level=error msg="..."`; keep the message. */
export function runtimeMessage(stderr: string): string {
  const m = /msg="((?:[^"\\]|\\.)*)"/.exec(stderr);
  return (m ? m[1].replace(/\\"/g, '"') : stderr).trim();
}

export class OciRuntime {
  constructor(readonly cfg: RuntimeConfig) {
    for (const d of [cfg.stateRoot, cfg.exitDir, cfg.socketDir]) fs.mkdirSync(d, { recursive: true });
  }

  private runtimeArgs(): string[] {
    return ['--root', this.cfg.stateRoot];
  }

  exitFile(id: string): string {
    return path.join(this.cfg.exitDir, id);
  }

  /** Spawns conmon and waits until the runtime has created the container; returns its pid. */
  create(id: string, bundle: string, logPath: string, opts: { tty: boolean; stdin: boolean; name: string; leaveStdinOpen?: boolean; logSizeMax?: number }): Promise<{ pid: number; conmonPid: number }> {
    fs.rmSync(this.exitFile(id), { force: true });
    fs.rmSync(path.join(bundle, 'oom'), { force: true }); // conmon's OOM marker of an earlier run
    const conmonPidFile = path.join(bundle, 'conmon.pid');
    const args = [
      '--api-version', '1',
      '-c', id,
      '-u', id,
      '-n', opts.name,
      '-r', this.cfg.path,
      '-b', bundle,
      '-p', path.join(bundle, 'pidfile'),
      '-P', conmonPidFile,
      '--exit-dir', this.cfg.exitDir,
      '--socket-dir-path', this.cfg.socketDir,
      '-l', `k8s-file:${logPath}`,
      '--log-level', 'error',
      '--runtime-arg', `--root=${this.cfg.stateRoot}`,
    ];
    // Only a hard cap for when berthd is away: berth rotates the log itself (logs/rotate.ts).
    if (opts.logSizeMax) args.push('--log-size-max', String(opts.logSizeMax));
    if (opts.tty) args.push('-t');
    if (opts.stdin) args.push('-i');
    if (opts.stdin && opts.leaveStdinOpen) args.push('--leave-stdin-open');
    return new Promise((resolve, reject) => {
      const child = spawn(this.cfg.conmonPath, args, {
        stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
        env: { ...process.env, _OCI_SYNCPIPE: '3' },
        detached: true,
        cwd: bundle,
      });
      child.unref();
      let sync = '';
      let stderr = '';
      let settled = false;
      const sp = child.stdio[3] as NodeJS.ReadableStream & { destroy(): void };
      const finish = (err: Error | null, pid?: number): void => {
        if (settled) return;
        settled = true;
        sp.destroy();
        (child.stderr as NodeJS.ReadableStream & { destroy(): void }).destroy();
        if (err) return reject(err);
        let conmonPid = 0;
        try {
          conmonPid = Number(fs.readFileSync(conmonPidFile, 'utf8').trim());
        } catch {
          /* conmon writes it before it reports; absent only on failure */
        }
        resolve({ pid: pid!, conmonPid });
      };
      child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
      sp.on('data', (d: Buffer) => {
        sync += d.toString();
        const nl = sync.indexOf('\n');
        if (nl < 0) return;
        let msg: { data?: number; message?: string };
        try {
          msg = JSON.parse(sync.slice(0, nl)) as { data?: number; message?: string };
        } catch {
          return finish(new StartError(`conmon: unexpected sync message: ${sync}`));
        }
        if (typeof msg.data === 'number' && msg.data > 0) finish(null, msg.data);
        else finish(new StartError(runtimeMessage(msg.message ?? `${this.cfg.name} create failed`)));
      });
      sp.on('end', () => finish(new StartError(`conmon exited before the container was created: ${stderr.trim() || sync.trim()}`)));
      child.on('error', (e) => finish(new StartError(`cannot run conmon: ${e.message}`)));
    });
  }

  async start(id: string): Promise<void> {
    const r = await run(this.cfg.path, [...this.runtimeArgs(), 'start', id]);
    if (r.code !== 0) throw new StartError(runtimeMessage(r.stderr));
  }

  async kill(id: string, signal: string, all = false): Promise<void> {
    const r = await run(this.cfg.path, [...this.runtimeArgs(), 'kill', ...(all ? ['--all'] : []), id, signal]);
    if (r.code !== 0 && !/not running|does not exist|process already finished/.test(r.stderr)) {
      throw new BerthError('internal', `${this.cfg.name} kill: ${runtimeMessage(r.stderr)}`);
    }
  }

  /** Freezes (pause) or thaws (resume) the container's processes. */
  async pause(id: string): Promise<void> {
    const r = await run(this.cfg.path, [...this.runtimeArgs(), 'pause', id]);
    if (r.code !== 0) throw new BerthError('internal', `Cannot pause container ${id}: ${runtimeMessage(r.stderr)}`);
  }

  async resume(id: string): Promise<void> {
    const r = await run(this.cfg.path, [...this.runtimeArgs(), 'resume', id]);
    if (r.code !== 0) throw new BerthError('internal', `Cannot unpause container ${id}: ${runtimeMessage(r.stderr)}`);
  }

  /** `runc update`: new cgroup limits (an OCI linux.resources object) for a running container. */
  async update(id: string, resources: object): Promise<void> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-update-'));
    try {
      const file = path.join(dir, 'resources.json');
      fs.writeFileSync(file, JSON.stringify(resources));
      const r = await run(this.cfg.path, [...this.runtimeArgs(), 'update', '--resources', file, id]);
      if (r.code !== 0) throw new BerthError('internal', `Cannot update container ${id}: ${runtimeMessage(r.stderr)}`);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }

  async delete(id: string): Promise<void> {
    await run(this.cfg.path, [...this.runtimeArgs(), 'delete', '--force', id]);
  }

  async state(id: string): Promise<{ status: string; pid: number } | null> {
    const r = await run(this.cfg.path, [...this.runtimeArgs(), 'state', id]);
    if (r.code !== 0) return null;
    try {
      const s = JSON.parse(r.stdout) as { status: string; pid: number };
      return { status: s.status, pid: s.pid };
    } catch {
      return null;
    }
  }

  /** The exit code conmon recorded, or undefined while the container runs. */
  readExit(id: string): number | undefined {
    try {
      const t = fs.readFileSync(this.exitFile(id), 'utf8').trim();
      return t === '' ? undefined : Number(t);
    } catch {
      return undefined;
    }
  }
}
