/**
 * `top`: the host's ps with the caller's options, reduced to the rows of the container's own
 * processes (those in its cgroup), as Docker's ContainerTop.
 */
import { execFile } from 'node:child_process';
import { BerthError, invalidArgument } from '../core/errors';

export interface TopResult {
  Titles: string[];
  Processes: string[][];
}

export function topProcesses(pids: number[], psArgs: string): Promise<TopResult> {
  const args = psArgs.split(/\s+/).filter(Boolean);
  return new Promise((resolve, reject) => {
    execFile('ps', args, { maxBuffer: 64 << 20, env: { ...process.env, LC_ALL: 'C' } }, (err, stdout, stderr) => {
      if (err) return reject(new BerthError('internal', `Error running ps: ${String(stderr).trim() || err.message}`));
      try {
        resolve(parsePs(String(stdout), new Set(pids)));
      } catch (e) {
        reject(e);
      }
    });
  });
}

/** Keeps the rows whose PID column names one of `pids`; the last column keeps its spaces. */
export function parsePs(out: string, pids: Set<number>): TopResult {
  const lines = out.split('\n').filter((l) => l.trim() !== '');
  const Titles = (lines[0] ?? '').trim().split(/\s+/);
  const pidIndex = Titles.indexOf('PID');
  if (pidIndex < 0) throw invalidArgument("Couldn't find PID field in ps output");
  const Processes: string[][] = [];
  for (const line of lines.slice(1)) {
    const fields = splitFields(line, Titles.length);
    if (pids.has(Number(fields[pidIndex]))) Processes.push(fields);
  }
  return { Titles, Processes };
}

function splitFields(line: string, n: number): string[] {
  const out: string[] = [];
  let rest = line.trim();
  while (out.length < n - 1 && rest) {
    const m = /^(\S+)\s*/.exec(rest)!;
    out.push(m[1]);
    rest = rest.slice(m[0].length);
  }
  if (rest) out.push(rest);
  return out;
}
