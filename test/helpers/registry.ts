/**
 * Debian's Distribution registry (docker-registry) for tests: its own config on 127.0.0.1 and a
 * free port (its packaged config listens on every interface), a temporary storage root.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import http from 'node:http';
import zlib from 'node:zlib';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { deadline, sleep } from './daemon';

export const DOCKER_REGISTRY = '/usr/bin/docker-registry';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

export class DistributionRegistry {
  proc?: ChildProcess;
  port = 0;
  dir: string;
  log = '';

  constructor(readonly name: string, readonly htpasswd?: string) {
    this.dir = fs.mkdtempSync(path.join('/tmp', `berth-registry-${name}-`));
  }

  get host(): string {
    return `127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    if (!this.port) this.port = await freePort();
    const auth = this.htpasswd ? `auth:\n  htpasswd:\n    realm: berth-test\n    path: ${this.htpasswd}\n` : '';
    const cfg = path.join(this.dir, 'config.yml');
    fs.writeFileSync(
      cfg,
      `version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: ${path.join(this.dir, 'data')}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:${this.port}\n${auth}`,
    );
    this.proc = spawn(DOCKER_REGISTRY, ['serve', cfg], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc.stdout!.on('data', (d) => (this.log += d));
    this.proc.stderr!.on('data', (d) => (this.log += d));
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      if (this.proc.exitCode !== null) throw new Error(`docker-registry exited: ${this.log}`);
      const ok = await new Promise<boolean>((r) => {
        const c = net.connect(this.port, '127.0.0.1');
        c.on('connect', () => {
          c.destroy();
          r(true);
        });
        c.on('error', () => r(false));
      });
      if (ok) return;
      await sleep(50);
    }
    throw new Error(`docker-registry did not start: ${this.log}`);
  }

  async stop(): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill('SIGTERM');
    await Promise.race([exited, deadline(5000)]);
    if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  }

  async cleanup(): Promise<void> {
    await this.stop();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

export const sha = (b: Buffer): string => 'sha256:' + crypto.createHash('sha256').update(b).digest('hex');

/** A one-file layer tar (gzip) made with GNU tar. */
export function layer(dir: string, name: string, content: string | Buffer): { gz: Buffer; diffId: string } {
  const root = fs.mkdtempSync(`${dir}/layer-`);
  fs.writeFileSync(`${root}/${name}`, content);
  const tar = spawnSync('tar', ['-C', root, '--numeric-owner', '--owner=0', '--group=0', '--mtime=2020-01-01', '-cf', '-', name]).stdout;
  fs.rmSync(root, { recursive: true, force: true });
  return { gz: zlib.gzipSync(tar), diffId: sha(tar) };
}


/**
 * A registry in the test itself that serves one image and can be told to lie about a blob or to
 * drop the connection in the middle of one, and records which blobs were asked for.
 */
export class FakeRegistry {
  server: http.Server;
  port = 0;
  blobs = new Map<string, Buffer>();
  manifest!: Buffer;
  corrupt = new Set<string>();
  dropAfter = new Map<string, number>(); // digest → bytes sent before the connection is cut
  requests: string[] = [];

  constructor(readonly dir: string, layers: number) {
    const diffIds: string[] = [];
    const descs = [];
    for (let i = 0; i < layers; i++) {
      const l = layer(dir, `file${i}`, crypto.randomBytes(200_000));
      this.blobs.set(sha(l.gz), l.gz);
      diffIds.push(l.diffId);
      descs.push({ mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', digest: sha(l.gz), size: l.gz.length });
    }
    const cfg = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: { Cmd: ['sh'] }, rootfs: { type: 'layers', diff_ids: diffIds } }));
    this.blobs.set(sha(cfg), cfg);
    this.manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
        config: { mediaType: 'application/vnd.docker.container.image.v1+json', digest: sha(cfg), size: cfg.length },
        layers: descs,
      }),
    );
    this.server = http.createServer((req, res) => {
      this.requests.push(`${req.method} ${req.url}`);
      const url = req.url ?? '';
      if (url === '/v2/') return res.writeHead(200, { 'Docker-Distribution-API-Version': 'registry/2.0' }).end('{}');
      if (/\/manifests\//.test(url)) {
        res.writeHead(200, { 'Content-Type': 'application/vnd.docker.distribution.manifest.v2+json', 'Docker-Content-Digest': sha(this.manifest), 'Content-Length': this.manifest.length });
        return res.end(req.method === 'HEAD' ? undefined : this.manifest);
      }
      const m = /\/blobs\/(sha256:[a-f0-9]+)/.exec(url);
      const blob = m && this.blobs.get(m[1]);
      if (!m || !blob) return res.writeHead(404).end('{"errors":[{"code":"BLOB_UNKNOWN","message":"blob unknown"}]}');
      let body = blob;
      if (this.corrupt.has(m[1])) body = Buffer.from(blob).fill(0x41, 100, 200);
      const cut = this.dropAfter.get(m[1]);
      if (cut !== undefined) {
        res.writeHead(200, { 'Content-Length': body.length });
        res.write(body.subarray(0, cut));
        setTimeout(() => res.destroy(), 50);
        return;
      }
      res.writeHead(200, { 'Content-Length': body.length });
      res.end(req.method === 'HEAD' ? undefined : body);
    });
  }

  layerDigests(): string[] {
    return (JSON.parse(this.manifest.toString()) as { layers: { digest: string }[] }).layers.map((l) => l.digest);
  }

  async listen(): Promise<void> {
    this.port = this.port || (await freePort());
    await new Promise<void>((r) => this.server.listen(this.port, '127.0.0.1', () => r()));
  }

  close(): Promise<void> {
    return new Promise((r) => {
      this.server.close(() => r());
      this.server.closeAllConnections();
    });
  }
}

