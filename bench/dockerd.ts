/**
 * A throwaway dockerd (from `apt-get install docker.io`) for side-by-side benchmarks: its own
 * data root, exec root, socket and containerd namespace; stopped and removed afterwards, with
 * the empty cgroup parent it leaves behind.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { canConnect, deadline, sleep } from '../test/helpers/daemon';

export function dockerdPath(): string | undefined {
  return ['/usr/sbin/dockerd', '/usr/bin/dockerd'].find((p) => fs.existsSync(p));
}

/** Runs fn with the host (unix://...) of a fresh dockerd; undefined when dockerd is not installed. */
export async function withDockerd<T>(fn: (host: string) => T | Promise<T>, extraArgs: string[] = ['--bridge', 'none', '--iptables=false', '--ip-masq=false']): Promise<T | undefined> {
  const dockerd = dockerdPath();
  if (!dockerd) return undefined;
  const dir = fs.mkdtempSync('/tmp/berth-bench-dockerd-');
  const sock = path.join(dir, 'docker.sock');
  const proc: ChildProcess = spawn(
    dockerd,
    ['-H', `unix://${sock}`, '--data-root', path.join(dir, 'root'), '--exec-root', path.join(dir, 'exec'), '--pidfile', path.join(dir, 'docker.pid'), '--containerd-namespace', 'berthbench', '--containerd-plugins-namespace', 'berthbench-plugins', ...extraArgs],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  proc.stderr!.on('data', (d) => (log += d));
  try {
    const until = Date.now() + 60_000;
    while (!(await canConnect(sock))) {
      if (proc.exitCode !== null || Date.now() > until) throw new Error(`dockerd did not start: ${log.slice(-2000)}`);
      await sleep(200);
    }
    return await fn(`unix://${sock}`);
  } finally {
    const exited = new Promise((r) => proc.once('exit', r));
    proc.kill('SIGTERM');
    await Promise.race([exited, deadline(20_000)]);
    spawnSync('umount', ['-R', '-l', dir]);
    fs.rmSync(dir, { recursive: true, force: true });
    for (const c of fs.readdirSync('/sys/fs/cgroup')) {
      try {
        fs.rmdirSync(path.join('/sys/fs/cgroup', c, 'docker'));
      } catch {
        /* absent or in use by another engine */
      }
    }
  }
}
