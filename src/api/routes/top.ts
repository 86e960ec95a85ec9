/**
 * GET /containers/{id}/top: the container's processes, as dockerd lists them: `ps` on the host
 * (with the caller's ps_args, default -ef), rows kept when their PID is in the container's cgroup.
 */
import fs from 'node:fs';
import { execFile } from 'node:child_process';
import type { Router } from '../server';
import { sendJson } from '../server';
import { conflict, invalidArgument } from '../../core/errors';
import type { Daemon } from '../../daemon/daemon';

/** The PIDs in the cgroup of process `pid` (cgroup v1 `pids` controller, else the v2 path). */
export function cgroupPids(pid: number): Set<number> {
  const lines = fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n');
  const v1 = lines.find((l) => /^\d+:pids:/.test(l));
  const v2 = lines.find((l) => l.startsWith('0::'));
  const file = v1 ? `/sys/fs/cgroup/pids${v1.split(':')[2]}/cgroup.procs` : `/sys/fs/cgroup${(v2 ?? '0::/').slice(3)}/cgroup.procs`;
  return new Set(fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).map(Number));
}

/** Keeps the header and the rows of `ps` output whose PID column is in `pids`. */
export function filterPs(output: string, pids: Set<number>): { Titles: string[]; Processes: string[][] } {
  const lines = output.split('\n').filter((l) => l.trim());
  const titles = (lines.shift() ?? '').trim().split(/\s+/);
  const pidCol = titles.indexOf('PID');
  if (pidCol < 0) throw invalidArgument(`Couldn't find PID field in ps output`);
  const processes: string[][] = [];
  for (const line of lines) {
    const fields = line.trim().split(/\s+/);
    // The last column (the command) may contain spaces: everything after the other titles.
    const row = [...fields.slice(0, titles.length - 1), fields.slice(titles.length - 1).join(' ')];
    if (pids.has(Number(row[pidCol]))) processes.push(row);
  }
  return { Titles: titles, Processes: processes };
}

export function topRoutes(r: Router, d: Daemon): void {
  r.add('GET', /^\/containers\/([^/]+)\/top$/, async (ctx) => {
    const c = d.containers.resolve(ctx.params[0]);
    if (!c.State.Running || c.State.Pid <= 0) throw conflict(`Container ${c.Id} is not running`);
    const pids = cgroupPids(c.State.Pid);
    const args = (ctx.query.get('ps_args') || '-ef').split(/\s+/).filter(Boolean);
    const out = await new Promise<string>((resolve, reject) => {
      execFile('ps', args, { maxBuffer: 64 << 20 }, (err, stdout, stderr) => (err ? reject(invalidArgument(`ps: ${stderr || err.message}`)) : resolve(stdout)));
    });
    sendJson(ctx, 200, filterPs(out, pids));
  });
}
