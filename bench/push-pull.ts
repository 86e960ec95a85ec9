/**
 * Push and pull of a ~100 MB image (busybox + 4 layers of 25 MB of random data) to a local
 * Distribution registry (Debian's docker-registry on 127.0.0.1), through the docker CLI, against
 * berthd and, when installed, dockerd; each engine gets its own fresh registry. Prints seconds and
 * the ratios berthd/dockerd.
 *
 *   node dist/bench/push-pull.js
 */
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { TestDaemon, DOCKER, busyboxRootfsTar } from '../test/helpers/daemon';
import { withDockerd } from './dockerd';
import { DistributionRegistry } from '../test/helpers/registry';

const LAYERS = 4;
const LAYER_MB = 25;

/** A docker-save archive with the busybox rootfs plus LAYERS random-data layers. */
function makeArchive(dir: string): string {
  const work = fs.mkdtempSync(path.join(dir, 'archive-'));
  const layerFiles = [busyboxRootfsTar()];
  for (let i = 0; i < LAYERS; i++) {
    const root = path.join(work, `l${i}`);
    fs.mkdirSync(path.join(root, 'data'), { recursive: true });
    fs.writeFileSync(path.join(root, 'data', `blob${i}`), crypto.randomBytes(LAYER_MB << 20));
    const tar = path.join(work, `layer${i}.tar`);
    spawnSync('tar', ['-C', root, '--numeric-owner', '-cf', tar, '.']);
    fs.rmSync(root, { recursive: true, force: true });
    layerFiles.push(tar);
  }
  const diffIds = layerFiles.map((f) => 'sha256:' + crypto.createHash('sha256').update(fs.readFileSync(f)).digest('hex'));
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: { Cmd: ['sh'] }, rootfs: { type: 'layers', diff_ids: diffIds }, history: diffIds.map(() => ({ created_by: 'bench' })) }));
  const cfgName = crypto.createHash('sha256').update(config).digest('hex') + '.json';
  fs.writeFileSync(path.join(work, cfgName), config);
  const names = layerFiles.map((f, i) => {
    const n = `layer-${i}.tar`;
    fs.copyFileSync(f, path.join(work, n));
    return n;
  });
  fs.writeFileSync(path.join(work, 'manifest.json'), JSON.stringify([{ Config: cfgName, RepoTags: ['bench/big:latest'], Layers: names }]));
  const out = path.join(dir, 'big.tar');
  spawnSync('tar', ['-C', work, '-cf', out, 'manifest.json', cfgName, ...names]);
  fs.rmSync(work, { recursive: true, force: true });
  return out;
}

function docker(host: string, args: string[]): void {
  const r = spawnSync(DOCKER, args, { env: { ...process.env, DOCKER_HOST: host }, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`docker ${args.join(' ')}: ${r.stderr}`);
}

async function measure(host: string, archive: string, name: string): Promise<{ push: number; pull: number }> {
  const reg = new DistributionRegistry(`bench-${name}`);
  await reg.start();
  try {
    docker(host, ['load', '-i', archive]);
    const ref = `${reg.host}/bench/big:latest`;
    docker(host, ['tag', 'bench/big:latest', ref]);
    let t0 = Date.now();
    docker(host, ['push', ref]);
    const push = (Date.now() - t0) / 1000;
    docker(host, ['rmi', ref, 'bench/big:latest']);
    t0 = Date.now();
    docker(host, ['pull', ref]);
    const pull = (Date.now() - t0) / 1000;
    return { push, pull };
  } finally {
    await reg.cleanup();
  }
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync('/tmp/berth-bench-pp-');
  try {
    const archive = makeArchive(dir);
    console.log(`image: ${LAYERS + 1} layers, ${(fs.statSync(archive).size / 1e6).toFixed(0)} MB`);
    const d = new TestDaemon('bench-pp');
    await d.start();
    let b;
    try {
      b = await measure(d.host, archive, 'berth');
    } finally {
      await d.cleanup();
    }
    console.log(`berthd : push ${b.push.toFixed(2)} s, pull ${b.pull.toFixed(2)} s`);
    const k = await withDockerd((host) => measure(host, archive, 'dockerd'));
    if (!k) return console.log('dockerd: not installed (apt-get install docker.io), no ratio');
    console.log(`dockerd: push ${k.push.toFixed(2)} s, pull ${k.pull.toFixed(2)} s`);
    console.log(`ratio berthd/dockerd: push ${(b.push / k.push).toFixed(2)}, pull ${(b.pull / k.pull).toFixed(2)}`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
