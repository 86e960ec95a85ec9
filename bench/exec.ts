/**
 * Times `docker exec c true` through the real docker CLI against berthd and, when dockerd is
 * installed, against dockerd in the same run (alternating, so that both see the same machine
 * load); prints medians and the ratio berthd/dockerd. Each engine runs one long-lived busybox
 * container (imported from the host's static busybox) and execs into it.
 *
 *   node dist/bench/exec.js [runs=30]
 */
import { spawnSync } from 'node:child_process';
import { TestDaemon, busyboxRootfsTar, DOCKER } from '../test/helpers/daemon';
import { withDockerd } from './dockerd';

const runs = Number(process.argv[2] ?? 30);

function docker(host: string, args: string[]): string {
  const r = spawnSync(DOCKER, args, { env: { ...process.env, DOCKER_HOST: host }, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`docker ${args.join(' ')} failed against ${host}: ${r.stderr}`);
  return r.stdout;
}

/** One long-lived container per engine; the engines' execs alternate, so that both see the same load. */
function timeExecs(hosts: string[]): number[][] {
  for (const h of hosts) docker(h, ['run', '-d', '--name', 'bench-exec', '--network', 'none', 'busybox', 'sleep', '600']);
  try {
    for (const h of hosts) docker(h, ['exec', 'bench-exec', 'true']); // warm-up
    const out: number[][] = hosts.map(() => []);
    for (let i = 0; i < runs; i++) {
      hosts.forEach((h, j) => {
        const t0 = process.hrtime.bigint();
        docker(h, ['exec', 'bench-exec', 'true']);
        out[j].push(Number(process.hrtime.bigint() - t0) / 1e6);
      });
    }
    return out;
  } finally {
    for (const h of hosts) docker(h, ['rm', '-f', 'bench-exec']);
  }
}

function stats(xs: number[]): { median: number; mean: number; min: number } {
  const s = [...xs].sort((a, b) => a - b);
  return { median: s[Math.floor(s.length / 2)], mean: xs.reduce((a, b) => a + b, 0) / xs.length, min: s[0] };
}

const line = (who: string, x: ReturnType<typeof stats>): string =>
  `${who}: median ${x.median.toFixed(1)} ms, mean ${x.mean.toFixed(1)} ms, min ${x.min.toFixed(1)} ms over ${runs} execs`;

async function main(): Promise<void> {
  const d = new TestDaemon('bench-exec');
  await d.start();
  try {
    d.importBusybox();
    const both = await withDockerd((host) => {
      docker(host, ['import', busyboxRootfsTar(), 'busybox']);
      return timeExecs([d.host, host]);
    });
    const b = stats(both ? both[0] : timeExecs([d.host])[0]);
    console.log(line('berthd ', b));
    if (!both) {
      console.log('dockerd: not installed (apt-get install docker.io), no ratio');
      return;
    }
    const k = stats(both[1]);
    console.log(line('dockerd', k));
    console.log(`ratio berthd/dockerd (median): ${(b.median / k.median).toFixed(2)}`);
  } finally {
    await d.cleanup();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
