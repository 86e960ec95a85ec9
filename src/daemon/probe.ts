/**
 * Runs a health check's command inside a running container as an exec session (ExecManager),
 * as Docker does: the process gets the container's namespaces, cgroup, user, environment and
 * working directory, the exec_create / exec_start / exec_die events are logged, its output is
 * kept up to MAX_OUTPUT bytes, and it is killed when it outlives the timeout.
 */
import type { ContainerRecord } from './containers';
import type { ExecManager } from './exec';

export interface ProbeResult {
  exitCode: number;
  /** stdout and stderr together, at most MAX_OUTPUT bytes (then "..."). */
  output: string;
  timedOut: boolean;
}

export type ProbeRunner = (c: ContainerRecord, argv: string[], timeoutMs: number) => Promise<ProbeResult>;

/** Docker keeps this much of a probe's output. */
export const MAX_OUTPUT = 4096;

/** A ProbeRunner on the daemon's exec sessions. */
export function execProbe(exec: ExecManager): ProbeRunner {
  return async (c, argv, timeoutMs) => {
    const r = await exec.execInContainer(c.Id, argv, { maxOutput: MAX_OUTPUT, timeoutMs });
    return { exitCode: r.exitCode, output: r.output + (r.truncated ? '...' : ''), timedOut: r.timedOut };
  };
}
