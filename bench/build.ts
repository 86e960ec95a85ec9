/**
 * Builds of a context with 1000 small files and one 20 MB file through `DOCKER_BUILDKIT=0 docker
 * build`: uncached, fully cached, and with one file changed, against berthd and (when installed)
 * dockerd's legacy builder in the same run. Prints seconds and ratios berthd/dockerd.
 *
 *   node dist/bench/build.js
 */
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { TestDaemon, DOCKER, busyboxRootfsTar } from '../test/helpers/daemon';
import { withDockerd } from './dockerd';

function makeContext(dir: string): string {
  const ctx = path.join(dir, 'ctx');
  for (let i = 0; i < 1000; i++) {
    const sub = path.join(ctx, 'src', `d${i % 20}`);
    fs.mkdirSync(sub, { recursive: true });
    fs.writeFileSync(path.join(sub, `f${i}.txt`), `file ${i}\n${crypto.randomBytes(200).toString('hex')}\n`);
  }
  fs.writeFileSync(path.join(ctx, 'big.bin'), crypto.randomBytes(20 << 20));
  fs.writeFileSync(path.join(ctx, 'Dockerfile'), 'FROM busybox\nCOPY big.bin /big.bin\nCOPY src /app/src\nRUN ls /app/src | wc -l > /count\nCMD ["cat", "/count"]\n');
  return ctx;
}

function build(host: string, ctx: string): number {
  const t0 = Date.now();
  const r = spawnSync(DOCKER, ['build', '-q', '-t', 'bench/build', ctx], { env: { ...process.env, DOCKER_HOST: host, DOCKER_BUILDKIT: '0' }, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`build failed: ${r.stderr}`);
  return (Date.now() - t0) / 1000;
}

function series(host: string, ctx: string): { uncached: number; cached: number; changed: number } {
  const imp = spawnSync(DOCKER, ['import', busyboxRootfsTar(), 'busybox'], { env: { ...process.env, DOCKER_HOST: host } });
  if (imp.status !== 0) throw new Error(`import failed: ${imp.stderr}`);
  const uncached = build(host, ctx);
  const cached = build(host, ctx);
  fs.appendFileSync(path.join(ctx, 'src', 'd7', 'f7.txt'), 'changed\n');
  const changed = build(host, ctx);
  return { uncached, cached, changed };
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync('/tmp/berth-bench-build-');
  try {
    const ctxB = makeContext(path.join(dir, 'b'));
    const d = new TestDaemon('bench-build');
    await d.start();
    let b;
    try {
      b = series(d.host, ctxB);
    } finally {
      await d.cleanup();
    }
    console.log(`berthd : uncached ${b.uncached.toFixed(2)} s, cached ${b.cached.toFixed(2)} s, one file changed ${b.changed.toFixed(2)} s`);
    const ctxD = makeContext(path.join(dir, 'd'));
    const k = await withDockerd((host) => series(host, ctxD));
    if (!k) return console.log('dockerd: not installed (apt-get install docker.io), no ratio');
    console.log(`dockerd: uncached ${k.uncached.toFixed(2)} s, cached ${k.cached.toFixed(2)} s, one file changed ${k.changed.toFixed(2)} s`);
    console.log(`ratio berthd/dockerd: uncached ${(b.uncached / k.uncached).toFixed(2)}, cached ${(b.cached / k.cached).toFixed(2)}, changed ${(b.changed / k.changed).toFixed(2)}`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
