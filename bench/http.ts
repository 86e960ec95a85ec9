/**
 * Network benchmarks, berthd against dockerd (when installed; its default bridge docker0,
 * iptables rules and userland proxy, with its own roots), in one run:
 * - HTTP requests per second through a published port: busybox httpd in a container published
 *   on 127.0.0.1, loaded with wrk (Debian package `wrk`) from the host;
 * - container-to-container throughput on a user network: 512 MiB through busybox nc, by name.
 * Prints the rates and the ratios berthd/dockerd. dockerd's bridges and DOCKER chains are removed
 * afterwards, and its change to the FORWARD policy undone.
 *
 *   node dist/bench/http.js [seconds=10] [connections=32]
 */
import { spawnSync } from 'node:child_process';
import net from 'node:net';
import http from 'node:http';
import { TestDaemon, DOCKER, busyboxRootfsTar, sleep } from '../test/helpers/daemon';
import { dockerdPath, withDockerd } from './dockerd';

const seconds = Number(process.argv[2] ?? 10);
const connections = Number(process.argv[3] ?? 32);
const HTTPD = ['sh', '-c', 'mkdir -p /www && head -c 612 /dev/zero | tr "\\0" x > /www/index.html && exec httpd -f -p 80 -h /www'];

function docker(host: string, args: string[]): string {
  const r = spawnSync(DOCKER, args, { env: { ...process.env, DOCKER_HOST: host }, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`docker ${args.join(' ')} against ${host}: ${r.stderr}`);
  return r.stdout;
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

async function ready(port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      http
        .get({ host: '127.0.0.1', port, path: '/', timeout: 1000 }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode === 200));
        })
        .on('error', () => resolve(false));
    });
    if (ok) return;
    await sleep(100);
  }
  throw new Error(`nothing answers on 127.0.0.1:${port}`);
}

/** Runs the container on `host`, loads it with wrk, returns requests/second. */
async function measure(host: string): Promise<number> {
  const port = await freePort();
  const id = docker(host, ['run', '-d', '--dns', '127.0.0.1', '-p', `127.0.0.1:${port}:80`, 'busybox', ...HTTPD]).trim();
  try {
    await ready(port);
    // warm-up, then the measured run
    spawnSync('wrk', ['-t2', `-c${connections}`, '-d2s', `http://127.0.0.1:${port}/`], { encoding: 'utf8' });
    const r = spawnSync('wrk', ['-t2', `-c${connections}`, `-d${seconds}s`, `http://127.0.0.1:${port}/`], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`wrk: ${r.stderr || r.error?.message}`);
    const m = /Requests\/sec:\s+([\d.]+)/.exec(r.stdout);
    if (!m) throw new Error(`wrk printed no rate:\n${r.stdout}`);
    const errors = /Non-2xx or 3xx responses: (\d+)|Socket errors: .*/.exec(r.stdout);
    if (errors) console.log(`  (${errors[0].trim()})`);
    return Number(m[1]);
  } finally {
    docker(host, ['rm', '-f', id]);
  }
}

/** MB/s from one container to another on a user network (name resolution included). */
async function measureC2C(host: string): Promise<number> {
  const MB = 512;
  docker(host, ['network', 'create', 'bench-c2c']);
  try {
    docker(host, ['run', '-d', '--name', 'bench-srv', '--network', 'bench-c2c', 'busybox', 'sh', '-c', 'tail -f /dev/null | nc -l -p 5001 | wc -c']);
    await sleep(500);
    const r = spawnSync(DOCKER, ['run', '--rm', '--network', 'bench-c2c', 'busybox', 'sh', '-c', `time sh -c "dd if=/dev/zero bs=65536 count=${MB * 16} 2>/dev/null | nc bench-srv 5001"`], {
      env: { ...process.env, DOCKER_HOST: host },
      encoding: 'utf8',
    });
    const m = /real\s+(\d+)m\s*([\d.]+)s/.exec(r.stderr);
    if (r.status !== 0 || !m) throw new Error(`c2c client failed: ${r.stderr}`);
    await sleep(300);
    const got = Number(docker(host, ['logs', 'bench-srv']).trim());
    if (got !== MB << 20) throw new Error(`c2c: the server received ${got} bytes`);
    return MB / (Number(m[1]) * 60 + Number(m[2]));
  } finally {
    spawnSync(DOCKER, ['rm', '-f', 'bench-srv'], { env: { ...process.env, DOCKER_HOST: host } });
    spawnSync(DOCKER, ['network', 'rm', 'bench-c2c'], { env: { ...process.env, DOCKER_HOST: host } });
  }
}

function iptablesLines(table: string): string[] {
  return spawnSync('iptables-save', ['-t', table], { encoding: 'utf8' }).stdout.split('\n');
}

/** Removes what dockerd added to iptables (rules mentioning docker, DOCKER* chains) and its FORWARD policy. */
let bridgesBefore: Set<string> | undefined;
let rulesBefore = new Set<string>();

function cleanDockerRules(forwardPolicy: string): void {
  for (const table of ['filter', 'nat']) {
    const lines = iptablesLines(table);
    for (const l of lines) {
      if (!l.startsWith('-A ') || rulesBefore.has(`${table} ${l}`)) continue;
      const chain = l.split(' ')[1];
      if (!/^(INPUT|FORWARD|OUTPUT|PREROUTING|POSTROUTING)$/.test(chain)) continue; // DOCKER* chains are flushed below
      if (/DOCKER|docker0|br-[0-9a-f]{12}/.test(l)) spawnSync('sh', ['-c', `iptables -w -t ${table} ${l.replace(/^-A /, '-D ')}`]);
    }
    const chains = lines.filter((l) => /^:DOCKER/.test(l)).map((l) => l.slice(1).split(' ')[0]);
    for (const c of chains) spawnSync('iptables', ['-w', '-t', table, '-F', c]);
    for (const c of chains) spawnSync('iptables', ['-w', '-t', table, '-X', c]);
  }
  spawnSync('iptables', ['-w', '-P', 'FORWARD', forwardPolicy]);
  spawnSync('ip', ['link', 'del', 'docker0']);
  for (const l of spawnSync('ip', ['-o', 'link'], { encoding: 'utf8' }).stdout.split('\n')) {
    const name = l.split(':')[1]?.trim();
    if (name && bridgesBefore && !bridgesBefore.has(name) && /^br-[0-9a-f]{12}$/.test(name)) spawnSync('ip', ['link', 'del', name]);
  }
}

async function main(): Promise<void> {
  if (spawnSync('wrk', ['--version']).error) throw new Error('wrk is not installed (scripts/install-deps.sh installs it)');
  const d = new TestDaemon('bench-http');
  await d.start();
  let berth: number;
  let berthC2C: number;
  try {
    d.importBusybox();
    berth = await measure(d.host);
    berthC2C = await measureC2C(d.host);
  } finally {
    await d.cleanup();
  }
  console.log(`berthd : ${berth.toFixed(0)} requests/s (wrk, ${connections} connections, ${seconds} s, 127.0.0.1 through a published port)`);
  console.log(`berthd : ${berthC2C.toFixed(0)} MB/s container to container on a user network (busybox nc)`);
  if (!dockerdPath()) {
    console.log('dockerd: not installed (apt-get install docker.io), no ratio');
    return;
  }
  if (spawnSync('ip', ['link', 'show', 'docker0']).status === 0) {
    console.log('dockerd: docker0 exists already (another dockerd?), not measured');
    return;
  }
  const policy = /^:FORWARD (\w+)/m.exec(iptablesLines('filter').join('\n'))?.[1] ?? 'ACCEPT';
  rulesBefore = new Set(['filter', 'nat'].flatMap((t) => iptablesLines(t).map((l) => `${t} ${l}`)));
  bridgesBefore = new Set(spawnSync('ip', ['-o', 'link'], { encoding: 'utf8' }).stdout.split('\n').map((l) => l.split(':')[1]?.trim() ?? ''));
  let rates: [number, number] | undefined;
  try {
    rates = await withDockerd(
      async (host) => {
        docker(host, ['import', busyboxRootfsTar(), 'busybox']);
        return [await measure(host), await measureC2C(host)] as [number, number];
      },
      ['--iptables=true', '--ip-masq=true'],
    );
  } finally {
    cleanDockerRules(policy);
  }
  if (rates === undefined) return;
  console.log(`dockerd: ${rates[0].toFixed(0)} requests/s (default bridge, iptables and userland proxy)`);
  console.log(`dockerd: ${rates[1].toFixed(0)} MB/s container to container on a user network`);
  console.log(`ratio berthd/dockerd: HTTP ${(berth / rates[0]).toFixed(2)}, container to container ${(berthC2C / rates[1]).toFixed(2)}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
