/**
 * Times `docker run --rm busybox true` through the real docker CLI against berthd and, when
 * dockerd is installed (`apt-get install docker.io`), against dockerd in the same run; prints
 * the median, mean and the ratio berthd/dockerd. Both engines get temporary roots and sockets
 * and the same busybox image, imported from the host's static busybox.
 *
 *   node dist/bench/run-true.js [runs=20] [--network none|default]
 */
import { spawnSync } from 'node:child_process';
import { TestDaemon, busyboxRootfsTar, DOCKER } from '../test/helpers/daemon';
import { withDockerd } from './dockerd';

const runs = Number(process.argv[2] ?? 20);
const netIdx = process.argv.indexOf('--network');
const network = netIdx > 0 ? process.argv[netIdx + 1] : 'none';

function timeRuns(host: string): number[] {
  const out: number[] = [];
  const args = ['run', '--rm', ...(network === 'default' ? [] : ['--network', network]), 'busybox', 'true'];
  // one warm-up run
  spawnSync(DOCKER, args, { env: { ...process.env, DOCKER_HOST: host } });
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(DOCKER, args, { env: { ...process.env, DOCKER_HOST: host }, encoding: 'utf8' });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (r.status !== 0) throw new Error(`run failed against ${host}: ${r.stderr}`);
    out.push(ms);
  }
  return out;
}

function stats(xs: number[]): { median: number; mean: number; min: number } {
  const s = [...xs].sort((a, b) => a - b);
  return { median: s[Math.floor(s.length / 2)], mean: xs.reduce((a, b) => a + b, 0) / xs.length, min: s[0] };
}

async function main(): Promise<void> {
  const d = new TestDaemon('bench');
  await d.start();
  let berth: number[];
  try {
    d.importBusybox();
    berth = timeRuns(d.host);
  } finally {
    await d.cleanup();
  }
  const b = stats(berth);
  console.log(`berthd : median ${b.median.toFixed(1)} ms, mean ${b.mean.toFixed(1)} ms, min ${b.min.toFixed(1)} ms over ${runs} runs (network ${network})`);
  const docker = await withDockerd((host) => {
    const imp = spawnSync(DOCKER, ['import', busyboxRootfsTar(), 'busybox'], { env: { ...process.env, DOCKER_HOST: host }, encoding: 'utf8' });
    if (imp.status !== 0) throw new Error(`import into dockerd failed: ${imp.stderr}`);
    return timeRuns(host);
  });
  if (!docker) {
    console.log('dockerd: not installed (apt-get install docker.io), no ratio');
    return;
  }
  const k = stats(docker);
  console.log(`dockerd: median ${k.median.toFixed(1)} ms, mean ${k.mean.toFixed(1)} ms, min ${k.min.toFixed(1)} ms over ${runs} runs (network ${network})`);
  console.log(`ratio berthd/dockerd (median): ${(b.median / k.median).toFixed(2)}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
