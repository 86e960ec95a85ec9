/**
 * HTTP requests per second through a published port, berthd against dockerd (when installed;
 * its default bridge docker0, iptables rules and userland proxy, with its own roots), in one
 * run: busybox httpd in a container published on 127.0.0.1, loaded with wrk (Debian package
 * `wrk`) from the host. Prints the rates and the ratio berthd/dockerd. (Container-to-container
 * throughput is bench/c2c.ts.)
 *
 *   node dist/bench/http.js [seconds=10] [connections=32]
 */
import { spawnSync } from 'node:child_process';
import net from 'node:net';
import http from 'node:http';
import { TestDaemon, busyboxRootfsTar, sleep } from '../test/helpers/daemon';
import { docker, withNetworkedDockerd } from './engines';

const seconds = Number(process.argv[2] ?? 10);
const connections = Number(process.argv[3] ?? 32);
const HTTPD = ['sh', '-c', 'mkdir -p /www && head -c 612 /dev/zero | tr "\\0" x > /www/index.html && exec httpd -f -p 80 -h /www'];

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

async function main(): Promise<void> {
  if (spawnSync('wrk', ['--version']).error) throw new Error('wrk is not installed (scripts/install-deps.sh installs it)');
  const d = new TestDaemon('bench-http');
  await d.start();
  let berth: number;
  try {
    d.importBusybox();
    berth = await measure(d.host);
  } finally {
    await d.cleanup();
  }
  console.log(`berthd : ${berth.toFixed(0)} requests/s (wrk, ${connections} connections, ${seconds} s, 127.0.0.1 through a published port)`);
  const rate = await withNetworkedDockerd(busyboxRootfsTar(), measure);
  if (rate === undefined) return;
  console.log(`dockerd: ${rate.toFixed(0)} requests/s (default bridge, iptables and userland proxy)`);
  console.log(`ratio berthd/dockerd: ${(berth / rate).toFixed(2)}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
