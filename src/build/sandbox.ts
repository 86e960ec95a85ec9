/**
 * The filesystem and process side of a build step: an overlay of the parent's layers (plus an init
 * layer holding the mount points a runtime needs, so they never end up in a commit) with a fresh
 * upper dir; RUN runs there with runc directly (a build step needs no conmon: berthd waits for it);
 * commit() turns the upper dir into a layer.
 */
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { PassThrough } from 'node:stream';
import type { ImageStore } from '../image/store';
import type { LayerRecord } from '../image/types';
import { mountOverlay, unmount } from '../snapshot/overlay';
import { packDirectory } from '../snapshot/unpack';
import { buildSpec } from '../runtime/spec/spec';
import { resolveUser } from '../runtime/user';
import { randomHex, writeFileAtomic } from '../util/digest';

export interface RunOptions {
  args: string[];
  env: string[];
  cwd: string;
  user: string;
  network: 'none' | 'host' | 'default';
  runtimePath: string;
  runtimeRoot: string;
  cgroupParent: string;
  onOutput: (stream: 'stdout' | 'stderr', data: Buffer) => void;
}

/** Creates (once) the init layer: empty mount points for /proc, /sys, /dev and the /etc files. */
export function ensureInitLayer(layersDir: string): string {
  const dir = path.join(layersDir, 'init', 'diff');
  if (fs.existsSync(path.join(dir, '.complete'))) return dir;
  fs.mkdirSync(dir, { recursive: true });
  for (const d of ['proc', 'sys', 'dev', 'dev/pts', 'dev/shm', 'dev/mqueue', 'etc']) fs.mkdirSync(path.join(dir, d), { recursive: true });
  for (const f of ['etc/hosts', 'etc/hostname', 'etc/resolv.conf']) fs.writeFileSync(path.join(dir, f), '');
  fs.writeFileSync(path.join(dir, '.complete'), '');
  return dir;
}

/** Packs a directory (overlay whiteouts included) into a layer on top of `chain`. */
export async function commitDir(store: ImageStore, dir: string, chain: string[]): Promise<LayerRecord> {
  const pass = new PassThrough();
  const packing = packDirectory(dir, pass).catch((e: Error) => pass.destroy(e));
  const layer = await store.addLayer(chain.length ? chain[chain.length - 1] : null, pass);
  await packing;
  return layer;
}

export class Sandbox {
  readonly id = randomHex(32);
  readonly dir: string;
  readonly upper: string;
  readonly rootfs: string;
  private mounted = false;

  constructor(
    private readonly store: ImageStore,
    workRoot: string,
    private readonly chain: string[],
  ) {
    this.dir = path.join(workRoot, this.id);
    this.upper = path.join(this.dir, 'upper');
    this.rootfs = path.join(this.dir, 'merged');
  }

  mount(): void {
    const init = ensureInitLayer(this.store.layersDir);
    const lowers = [path.relative(this.store.layersDir, init), ...this.store.lowerDirs(this.chain)];
    mountOverlay(this.store.layersDir, lowers, this.upper, path.join(this.dir, 'work'), this.rootfs);
    this.mounted = true;
  }

  /** Runs a command in the sandbox; resolves with its exit code. */
  run(o: RunOptions): Promise<number> {
    if (!this.mounted) this.mount();
    const user = resolveUser(this.rootfs, o.user);
    const etc = path.join(this.dir, 'etc');
    fs.mkdirSync(etc, { recursive: true });
    const hostname = this.id.slice(0, 12);
    fs.writeFileSync(path.join(etc, 'hostname'), `${hostname}\n`);
    fs.writeFileSync(path.join(etc, 'hosts'), `127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n`);
    let resolv = '';
    try {
      resolv = o.network === 'host' ? fs.readFileSync('/etc/resolv.conf', 'utf8') : 'nameserver 127.0.0.1\n';
    } catch {
      /* none */
    }
    fs.writeFileSync(path.join(etc, 'resolv.conf'), resolv);
    const cwd = o.cwd || '/';
    fs.mkdirSync(path.join(this.rootfs, cwd), { recursive: true });
    const spec = buildSpec({
      id: this.id,
      rootfs: this.rootfs,
      args: o.args,
      env: o.env,
      cwd,
      uid: user.uid,
      gid: user.gid,
      additionalGids: user.additionalGids,
      hostname,
      tty: false,
      openStdin: false,
      etcFiles: { hosts: path.join(etc, 'hosts'), hostname: path.join(etc, 'hostname'), resolvConf: path.join(etc, 'resolv.conf') },
      cgroupsPath: `/${o.cgroupParent}/build-${this.id}`,
      networkNamespace: o.network === 'host' ? 'host' : 'new',
    });
    writeFileAtomic(path.join(this.dir, 'config.json'), JSON.stringify(spec));
    return new Promise((resolve, reject) => {
      const p = spawn(o.runtimePath, ['--root', o.runtimeRoot, 'run', '--bundle', this.dir, `build-${this.id}`], { stdio: ['ignore', 'pipe', 'pipe'] });
      p.stdout.on('data', (d: Buffer) => o.onOutput('stdout', d));
      let err = '';
      p.stderr.on('data', (d: Buffer) => {
        err += d.toString();
        o.onOutput('stderr', d);
      });
      p.on('error', reject);
      p.on('close', (code, signal) => {
        if (code === null) return resolve(128 + (signal ? 9 : 0));
        // runc's own failures (exec not found...) come on stderr as `level=error msg=...`.
        if (code !== 0 && /level=error/.test(err) && /exec:|no such file|permission denied/.test(err)) return resolve(code === 1 ? 127 : code);
        resolve(code);
      });
    });
  }

  /** Turns what changed (the upper dir) into a layer on top of the parent chain. */
  async commit(): Promise<LayerRecord> {
    if (this.mounted) {
      unmount(this.rootfs);
      this.mounted = false;
    }
    return commitDir(this.store, this.upper, this.chain);
  }

  cleanup(): void {
    if (this.mounted) unmount(this.rootfs);
    this.mounted = false;
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
