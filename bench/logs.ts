/**
 * Times `docker logs c > /dev/null` through the real docker CLI for a container that printed
 * 50 MB (100-byte lines), against berthd and, when dockerd is installed, against dockerd in the
 * same run; prints the medians and the ratio berthd/dockerd.
 *
 *   node dist/bench/logs.js [runs=5] [megabytes=50]
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { TestDaemon, busyboxRootfsTar, DOCKER } from '../test/helpers/daemon';
import { withDockerd } from './dockerd';

const runs = Number(process.argv[2] ?? 5);
const mb = Number(process.argv[3] ?? 50);
const bytes = mb * 1024 * 1024;

function docker(host: string, args: string[]): string {
  const r = spawnSync(DOCKER, args, { env: { ...process.env, DOCKER_HOST: host }, encoding: 'utf8', maxBuffer: 1 << 30 });
  if (r.status !== 0) throw new Error(`docker ${args.join(' ')} against ${host}: ${r.stderr}`);
  return r.stdout;
}

/** Makes the container, checks its log holds everything once, then times `logs` into /dev/null. */
function timeLogs(host: string): number[] {
  docker(host, ['run', '--name', 'chatty', '--network', 'none', 'busybox', 'sh', '-c', `yes "$(printf %099d 0)" | head -c ${bytes}`]);
  const got = spawnSync(DOCKER, ['logs', 'chatty'], { env: { ...process.env, DOCKER_HOST: host }, maxBuffer: 1 << 30 });
  if (got.stdout.length !== bytes) throw new Error(`logs gave ${got.stdout.length} bytes, expected ${bytes}`);
  const devnull = fs.openSync('/dev/null', 'w');
  const out: number[] = [];
  try {
    for (let i = 0; i < runs; i++) {
      const t0 = process.hrtime.bigint();
      const r = spawnSync(DOCKER, ['logs', 'chatty'], { env: { ...process.env, DOCKER_HOST: host }, stdio: ['ignore', devnull, 'pipe'] });
      out.push(Number(process.hrtime.bigint() - t0) / 1e6);
      if (r.status !== 0) throw new Error(`logs failed: ${r.stderr}`);
    }
  } finally {
    fs.closeSync(devnull);
  }
  docker(host, ['rm', 'chatty']);
  return out;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  const d = new TestDaemon('bench-logs');
  await d.start();
  let berth: number[];
  try {
    d.importBusybox();
    berth = timeLogs(d.host);
  } finally {
    await d.cleanup();
  }
  console.log(`berthd : median ${median(berth).toFixed(0)} ms (${berth.map((x) => x.toFixed(0)).join(' ')}) for ${mb} MB`);
  const dockerd = await withDockerd((host) => {
    docker(host, ['import', busyboxRootfsTar(), 'busybox']);
    return timeLogs(host);
  });
  if (!dockerd) {
    console.log('dockerd: not installed, no ratio');
    return;
  }
  console.log(`dockerd: median ${median(dockerd).toFixed(0)} ms (${dockerd.map((x) => x.toFixed(0)).join(' ')}) for ${mb} MB`);
  console.log(`ratio berthd/dockerd (median): ${(median(berth) / median(dockerd)).toFixed(2)}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
