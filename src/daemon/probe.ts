/**
 * Runs a command inside a running container for health checks, with `runc exec`: the process
 * gets the container's namespaces, cgroup, user, environment and working directory (runc takes
 * them from the bundle's config.json), pipes for its output, and is killed when it outlives the
 * timeout. Behind the ProbeRunner interface so that the daemon's exec (when it exists) can
 * take its place.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ContainerRecord } from './containers';
import type { OciRuntime } from '../runtime/oci';
import { randomHex } from '../util/digest';

export interface ProbeResult {
  exitCode: number;
  /** stdout and stderr together, at most MAX_OUTPUT bytes (then "..."). */
  output: string;
  timedOut: boolean;
}

export type ProbeRunner = (c: ContainerRecord, argv: string[], timeoutMs: number) => Promise<ProbeResult>;

/** Docker keeps this much of a probe's output. */
export const MAX_OUTPUT = 4096;

class LimitedBuffer {
  private readonly parts: Buffer[] = [];
  private size = 0;
  private truncated = false;

  write(b: Buffer): void {
    const keep = Math.min(MAX_OUTPUT - this.size, b.length);
    if (keep > 0) {
      this.parts.push(b.subarray(0, keep));
      this.size += keep;
    }
    if (keep < b.length) this.truncated = true;
  }

  toString(): string {
    return Buffer.concat(this.parts).toString('utf8') + (this.truncated ? '...' : '');
  }
}

/** Reports the exec_create / exec_start / exec_die events Docker logs for each probe. */
export type ExecEvents = (c: ContainerRecord, action: string, attrs: Record<string, string>) => void;

/** A ProbeRunner on the OCI runtime that runs the container. */
export function runtimeProbe(runtimeOf: (c: ContainerRecord) => OciRuntime, events: ExecEvents = () => undefined): ProbeRunner {
  return (c, argv, timeoutMs) =>
    new Promise((resolve) => {
      const rt = runtimeOf(c);
      const execID = randomHex(32);
      events(c, `exec_create: ${argv.join(' ')}`, { execID });
      events(c, `exec_start: ${argv.join(' ')}`, { execID });
      const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-probe-'));
      const pidFile = path.join(tmp, 'pid');
      const out = new LimitedBuffer();
      // One pipe for stdout and stderr (runc hands its own to the process), so the output keeps its order.
      const args = [rt.cfg.path, '--root', rt.cfg.stateRoot, 'exec', '--pid-file', pidFile, c.Id, ...argv];
      const child = spawn('/bin/sh', ['-c', 'exec "$0" "$@" 2>&1', ...args], { stdio: ['ignore', 'pipe', 'ignore'] });
      child.stdout.on('data', (d: Buffer) => out.write(d));
      let timedOut = false;
      let hardKill: NodeJS.Timeout | undefined;
      const timer = setTimeout(() => {
        timedOut = true;
        // The probe process, not runc (which would leave it running in the container).
        try {
          process.kill(Number(fs.readFileSync(pidFile, 'utf8').trim()), 'SIGKILL');
        } catch {
          /* not started yet, or gone */
        }
        hardKill = setTimeout(() => child.kill('SIGKILL'), 5000);
      }, timeoutMs);
      let settled = false;
      const done = (code: number): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (hardKill) clearTimeout(hardKill);
        fs.rmSync(tmp, { recursive: true, force: true });
        events(c, 'exec_die', { execID, exitCode: String(code) });
        resolve({ exitCode: code, output: out.toString(), timedOut });
      };
      child.on('error', (e) => {
        out.write(Buffer.from(e.message));
        done(-1);
      });
      child.on('close', (code, signal) => done(code ?? (signal ? 128 + (os.constants.signals[signal] ?? 0) : -1)));
    });
}
