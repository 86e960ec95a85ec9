/**
 * GET /containers/{id}/stats and GET /containers/{id}/top.
 */
import type { Router } from '../server';
import { boolParam, sendJson } from '../server';
import type { Daemon } from '../../daemon/daemon';
import type { ContainerRecord } from '../../daemon/containers';
import { sampleStats, type StatsJSON, type StatsTarget } from '../../daemon/stats';
import { bundleCgroupsPath, Cgroup } from '../../daemon/cgroups-read';
import { topProcesses } from '../../daemon/top';
import { conflict } from '../../core/errors';

const INTERVAL_MS = 1000;

function target(d: Daemon, c: ContainerRecord): StatsTarget {
  return {
    id: c.Id,
    name: c.Name,
    running: c.State.Running,
    pid: c.State.Pid,
    cgroupsPath: c.State.Running ? bundleCgroupsPath(d.containers.paths(c.Id).bundle) : undefined,
    hostNetwork: c.HostConfig.NetworkMode === 'host',
  };
}

export function statsRoutes(r: Router, d: Daemon): void {
  const M = d.containers;

  r.add('GET', /^\/containers\/([^/]+)\/stats$/, async (ctx) => {
    const c0 = M.resolve(ctx.params[0]);
    const stream = boolParam(ctx.query, 'stream', true);
    const oneShot = boolParam(ctx.query, 'one-shot');
    const now = (): StatsTarget => target(d, M.get(c0.Id) ?? c0);
    if (!stream) {
      // As Docker: without one-shot the answer waits for a second sample so that precpu is set.
      let s = sampleStats(now());
      if (!oneShot && now().running) {
        await sleep(INTERVAL_MS);
        s = sampleStats(now(), s);
      }
      sendJson(ctx, 200, s);
      return;
    }
    const res = ctx.res!;
    res.writeHead(200, { 'Content-Type': 'application/json' });
    let prev: StatsJSON | undefined;
    let closed = false;
    ctx.req.socket.on('close', () => (closed = true));
    while (!closed) {
      const c = M.get(c0.Id);
      if (!c) break; // removed: the stream ends, as Docker's does
      prev = sampleStats(target(d, c), prev);
      res.write(JSON.stringify(prev) + '\n');
      await sleep(INTERVAL_MS);
    }
    res.end();
  });

  r.add('GET', /^\/containers\/([^/]+)\/top$/, async (ctx) => {
    const c = M.resolve(ctx.params[0]);
    const cgroupsPath = c.State.Running ? bundleCgroupsPath(M.paths(c.Id).bundle) : undefined;
    if (!c.State.Running || !cgroupsPath) throw conflict(`Container ${c.Id} is not running`);
    const psArgs = ctx.query.get('ps_args') || '-ef';
    sendJson(ctx, 200, await topProcesses(new Cgroup(cgroupsPath).pids(), psArgs));
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
