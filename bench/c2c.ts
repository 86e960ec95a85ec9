/**
 * Container-to-container throughput on a user-defined network, berthd against dockerd (when
 * installed; its default networking, with its own roots) in one run. Both engines run at once
 * and the rounds alternate between them, so that load from elsewhere on the machine falls on
 * both alike; the median of each engine's rounds is reported.
 *
 * One round on one engine, through the docker CLI, the same for both: a busybox server
 * `nc -l | wc -c` and a client piping 500 MiB from /dev/zero through `nc SERVER-NAME`, timed
 * inside the client container (name lookup and connect included, container start-up not); the
 * server's byte count is checked. Besides the rate, the client's CPU time (user + sys of dd and
 * nc, which includes the kernel's work on the path through the veths, the bridge and netfilter
 * done in the sender's context) is reported: unlike the rate, it hardly depends on what else
 * the machine is doing. With other work on the machine the rounds spread widely; the best
 * round of each engine (highest rate, least CPU) is printed too: it shows the path's own cost.
 *
 *   node dist/bench/c2c.js [rounds=5] [MiB=500]
 */
import { TestDaemon, busyboxRootfsTar, sleep } from '../test/helpers/daemon';
import { docker, dockerOut, dockerQuiet, withNetworkedDockerd } from './engines';

const rounds = Number(process.argv[2] ?? 5);
const MIB = Number(process.argv[3] ?? 500);
const NET = 'bench-c2c';

interface Sample {
  rate: number;
  cpu: number;
}

const seconds = (m: RegExpExecArray | null): number => (m ? Number(m[1]) * 60 + Number(m[2]) : NaN);

/** One transfer: MiB/s and the client's CPU seconds. */
async function round(host: string): Promise<Sample> {
  dockerQuiet(host, ['rm', '-f', 'bench-srv', 'bench-cli']);
  // `tail -f` keeps the server's stdin open: busybox nc stops when its stdin ends
  docker(host, ['run', '-d', '--name', 'bench-srv', '--network', NET, 'busybox', 'sh', '-c', 'tail -f /dev/null | nc -l -p 5001 | wc -c']);
  try {
    await sleep(1000);
    // detached, then logs: the timing is read from the finished container's log
    const script = `time sh -c "dd if=/dev/zero bs=65536 count=${MIB * 16} 2>/dev/null | nc bench-srv 5001"`;
    docker(host, ['run', '-d', '--name', 'bench-cli', '--network', NET, 'busybox', 'sh', '-c', script]);
    docker(host, ['wait', 'bench-cli']);
    const logs = dockerOut(host, ['logs', 'bench-cli']);
    const out = logs.stdout + logs.stderr; // `time` reports on stderr
    const real = seconds(/real\s+(\d+)m\s*([\d.]+)s/.exec(out));
    const cpu = seconds(/user\s+(\d+)m\s*([\d.]+)s/.exec(out)) + seconds(/sys\s+(\d+)m\s*([\d.]+)s/.exec(out));
    if (Number.isNaN(real) || Number.isNaN(cpu)) throw new Error(`c2c client printed no time: ${out}`);
    for (let i = 0; i < 50 && !docker(host, ['logs', 'bench-srv']).trim(); i++) await sleep(100);
    const got = Number(docker(host, ['logs', 'bench-srv']).trim());
    if (got !== MIB * 1024 * 1024) throw new Error(`c2c: the server received ${got} bytes`);
    return { rate: MIB / real, cpu };
  } finally {
    dockerQuiet(host, ['rm', '-f', 'bench-srv', 'bench-cli']);
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

async function main(): Promise<void> {
  const d = new TestDaemon('bench-c2c');
  await d.start();
  const berth: Sample[] = [];
  const dockerd: Sample[] = [];
  try {
    d.importBusybox();
    docker(d.host, ['network', 'create', NET]);
    const done = await withNetworkedDockerd(busyboxRootfsTar(), async (host) => {
      docker(host, ['network', 'create', NET]);
      try {
        for (let i = 0; i < rounds; i++) {
          // alternate which engine goes first
          const order: [string, Sample[]][] = i % 2 ? [[host, dockerd], [d.host, berth]] : [[d.host, berth], [host, dockerd]];
          for (const [h, list] of order) list.push(await round(h));
          console.log(`round ${i + 1}: berthd ${berth[i].rate.toFixed(0)} MiB/s (${berth[i].cpu.toFixed(2)} s CPU), dockerd ${dockerd[i].rate.toFixed(0)} MiB/s (${dockerd[i].cpu.toFixed(2)} s CPU)`);
        }
      } finally {
        dockerQuiet(host, ['network', 'rm', NET]);
      }
      return true;
    });
    if (!done) for (let i = 0; i < rounds; i++) berth.push(await round(d.host));
    dockerQuiet(d.host, ['network', 'rm', NET]);
  } finally {
    await d.cleanup();
  }
  const summary = (xs: Sample[]): string =>
    `${median(xs.map((x) => x.rate)).toFixed(0)} MiB/s median of ${xs.length} (${xs.map((x) => x.rate.toFixed(0)).join(', ')}); client CPU ${median(xs.map((x) => x.cpu)).toFixed(2)} s; best ${Math.max(...xs.map((x) => x.rate)).toFixed(0)} MiB/s, ${Math.min(...xs.map((x) => x.cpu)).toFixed(2)} s CPU`;
  console.log(`berthd : ${summary(berth)} (${MIB} MiB container to container on a user network, busybox nc)`);
  if (!dockerd.length) return;
  console.log(`dockerd: ${summary(dockerd)}`);
  const ratio = (f: (x: Sample) => number): string => (median(berth.map(f)) / median(dockerd.map(f))).toFixed(2);
  const best = (f: (x: Sample) => number, pick: (...v: number[]) => number): string => (pick(...berth.map(f)) / pick(...dockerd.map(f))).toFixed(2);
  console.log(`ratio berthd/dockerd: throughput ${ratio((x) => x.rate)}, client CPU per byte ${ratio((x) => x.cpu)} (lower is better); best rounds: throughput ${best((x) => x.rate, Math.max)}, CPU ${best((x) => x.cpu, Math.min)}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
