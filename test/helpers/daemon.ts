/**
 * Test harness: a real berthd on a temporary socket, data root and exec root, and a busybox image
 * made from the host's static busybox (never pulled). stop() shuts the daemon down with SIGTERM
 * and checks that nothing it made is left behind: mounts, cgroups, processes.
 */
import { spawn, spawnSync, type ChildProcess, type SpawnSyncReturns } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import http from 'node:http';

export const ROOT = path.resolve(__dirname, '..', '..', '..');
export const BERTHD = path.join(ROOT, 'bin', 'berthd');
export const BERTH = path.join(ROOT, 'bin', 'berth');
export const DOCKER = '/usr/local/bin/docker';

/** Skips (with a reason) unless we are root with runc, conmon and busybox installed. */
export function integrationSkipReason(): string | undefined {
  if (process.getuid?.() !== 0) return 'integration tests need root';
  for (const bin of ['/usr/sbin/runc', '/usr/bin/conmon', '/bin/busybox']) {
    if (!fs.existsSync(bin)) return `${bin} is not installed (scripts/install-deps.sh installs it)`;
  }
  return undefined;
}

let busyboxTar: string | undefined;

/** A rootfs tar of the host's static busybox with its applet links and minimal /etc files. */
export function busyboxRootfsTar(): string {
  if (busyboxTar && fs.existsSync(busyboxTar)) return busyboxTar;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-busybox-'));
  const rootfs = path.join(dir, 'rootfs');
  for (const d of ['bin', 'etc', 'tmp', 'root', 'home/user']) fs.mkdirSync(path.join(rootfs, d), { recursive: true });
  fs.chmodSync(path.join(rootfs, 'tmp'), 0o1777);
  fs.copyFileSync('/bin/busybox', path.join(rootfs, 'bin', 'busybox'));
  fs.chmodSync(path.join(rootfs, 'bin', 'busybox'), 0o755);
  const list = spawnSync('/bin/busybox', ['--list'], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
  for (const a of list) if (a !== 'busybox') fs.symlinkSync('busybox', path.join(rootfs, 'bin', a));
  fs.writeFileSync(path.join(rootfs, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000:user:/home/user:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n');
  fs.writeFileSync(path.join(rootfs, 'etc', 'group'), 'root:x:0:\nuser:x:1000:\nnogroup:x:65534:\n');
  fs.chownSync(path.join(rootfs, 'home/user'), 1000, 1000);
  busyboxTar = path.join(dir, 'busybox.tar');
  process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  const r = spawnSync('tar', ['-C', rootfs, '--numeric-owner', '-cf', busyboxTar, '.']);
  if (r.status !== 0) throw new Error(`tar failed: ${r.stderr}`);
  fs.rmSync(rootfs, { recursive: true, force: true });
  return busyboxTar;
}

export interface RunOptions {
  input?: string | Buffer;
  timeout?: number;
  /** Extra environment (HOME, DOCKER_CONFIG...) for this run only. */
  env?: Record<string, string>;
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export class TestDaemon {
  readonly dir: string;
  readonly socket: string;
  readonly dataRoot: string;
  readonly execRoot: string;
  proc?: ChildProcess;
  log = '';

  /** `launcher`: a command that execs the daemon's argv (e.g. to start it in its own network namespace). */
  constructor(readonly name: string, readonly extraArgs: string[] = [], readonly launcher: string[] = []) {
    this.dir = fs.mkdtempSync(path.join('/tmp', `berth-${name}-`));
    this.socket = path.join(this.dir, 'berth.sock');
    this.dataRoot = path.join(this.dir, 'root');
    this.execRoot = path.join(this.dir, 'exec');
  }

  get host(): string {
    return `unix://${this.socket}`;
  }

  async start(): Promise<void> {
    const cfg = path.join(this.dir, 'daemon.json');
    if (!fs.existsSync(cfg)) fs.writeFileSync(cfg, '{}');
    // No test container resolves names outside the machine: the default bridge's containers get
    // 127.0.0.1 as nameserver and berth's DNS on user networks forwards nothing.
    const netArgs = ['--dns', '127.0.0.1', '--dns-forward=false'];
    const argv = [...this.launcher, process.execPath];
    this.proc = spawn(argv[0], [...argv.slice(1), BERTHD, '-H', this.host, '--data-root', this.dataRoot, '--exec-root', this.execRoot, '--config-file', path.join(this.dir, 'daemon.json'), ...netArgs, ...this.extraArgs], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.proc.stdout!.on('data', (d) => (this.log += d));
    this.proc.stderr!.on('data', (d) => (this.log += d));
    // daemon.json: an empty one keeps the host's /etc/berth/daemon.json out of tests
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      if (this.proc.exitCode !== null) throw new Error(`berthd exited with ${this.proc.exitCode}: ${this.log}`);
      if (await canConnect(this.socket)) return;
      await sleep(50);
    }
    throw new Error(`berthd did not start: ${this.log}`);
  }

  /** SIGTERM and wait for exit. */
  async stop(): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill('SIGTERM');
    await Promise.race([exited, deadline(30_000)]);
  }

  /** kill -9: containers keep running under conmon. */
  async crash(): Promise<void> {
    const p = this.proc;
    if (!p) return;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill('SIGKILL');
    await exited;
  }

  /** The real docker CLI against this daemon; `env` adds to (or overrides) the environment. */
  docker(args: string[], opts: RunOptions = {}): RunResult {
    return run(DOCKER, args, { DOCKER_HOST: this.host, ...opts.env }, opts);
  }

  /** Like docker(), without blocking the event loop (for servers living in the test process). */
  dockerAsync(args: string[], opts: { timeout?: number } = {}): Promise<RunResult> {
    return new Promise((resolve) => {
      const p = spawn(DOCKER, args, { env: { ...process.env, DOCKER_HOST: this.host }, stdio: ['ignore', 'pipe', 'pipe'], timeout: opts.timeout ?? 60_000 });
      let stdout = '';
      let stderr = '';
      p.stdout.on('data', (c) => (stdout += c));
      p.stderr.on('data', (c) => (stderr += c));
      p.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    });
  }

  berth(args: string[], opts: RunOptions = {}): RunResult {
    return run(process.execPath, [BERTH, ...args], { BERTH_HOST: this.host, DOCKER_HOST: '', ...opts.env }, opts);
  }

  /** Imports the busybox image as `busybox` (docker.io/library/busybox:latest). */
  importBusybox(name = 'busybox'): string {
    const r = this.docker(['import', '-c', 'CMD ["sh"]', busyboxRootfsTar(), name]);
    if (r.code !== 0) throw new Error(`import failed: ${r.stderr}`);
    return r.stdout.trim();
  }

  request(method: string, urlPath: string, body?: string | Buffer, headers: Record<string, string> = {}): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }> {
    return new Promise((resolve, reject) => {
      const req = http.request({ socketPath: this.socket, method, path: urlPath, headers: { ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}), ...headers } }, (res) => {
        let data = '';
        res.on('data', (c) => (data += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: data, headers: res.headers }));
      });
      req.on('error', reject);
      // A server that answers early (413) closes while a large body is still being written: the
      // socket's EPIPE can come after the reply, when the request no longer listens on it.
      req.on('socket', (s) => s.on('error', () => undefined));
      if (body !== undefined) req.write(body);
      req.end();
    });
  }

  /** Stops the daemon and checks it left nothing behind; removes its directory. */
  async cleanup(): Promise<string[]> {
    await this.stop();
    const leaks: string[] = [];
    const mounts = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(this.dir));
    for (const m of mounts) {
      leaks.push(`mount: ${m.split(' ')[4]}`);
      spawnSync('umount', ['-l', m.split(' ')[4]]);
    }
    const conmons = spawnSync('pgrep', ['-f', `conmon.*${this.dir}`], { encoding: 'utf8' }).stdout.trim();
    if (conmons) {
      leaks.push(`conmon processes: ${conmons}`);
      spawnSync('pkill', ['-9', '-f', `conmon.*${this.dir}`]);
    }
    fs.rmSync(this.dir, { recursive: true, force: true });
    return leaks;
  }
}

function run(bin: string, args: string[], env: Record<string, string>, opts: RunOptions): RunResult {
  const r: SpawnSyncReturns<string> = spawnSync(bin, args, {
    env: { ...process.env, ...env },
    input: opts.input,
    encoding: 'utf8',
    timeout: opts.timeout ?? 60_000,
  });
  return { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

export function canConnect(sock: string): Promise<boolean> {
  return new Promise((resolve) => {
    const c = net.connect(sock);
    c.on('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.on('error', () => resolve(false));
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** A timeout that does not keep the process alive (for races against an exit). */
export function deadline(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref());
}

export async function waitFor(cond: () => boolean | Promise<boolean>, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await cond()) return;
    await sleep(50);
  }
  throw new Error(`timed out waiting for ${what}`);
}
