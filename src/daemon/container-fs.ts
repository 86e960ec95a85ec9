/**
 * A container's filesystem as its processes see it, from the daemon's side: the overlay rootfs
 * (mounted for the duration when the container is stopped) with the container's volumes, binds,
 * /etc files and (while it runs) tmpfs mounts laid over it. Every path is resolved component by
 * component inside that tree: `..` stops at the root and symlinks (absolute ones relative to the
 * container's root) are followed by this code, never by the kernel, so no path leaves it.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { ContainerRecord, ContainerPaths } from './containers';
import type { ImageStore } from '../image/store';
import type { VolumeService } from '../volume/local';
import { mountOverlay, unmount, isMounted } from '../snapshot/overlay';
import { randomHex } from '../util/digest';
import { walkInRoot } from '../util/root-walk';

interface FsMount {
  /** Container path components of the mount point. */
  dest: string[];
  /** Host path shown at the mount point. */
  source: string;
  rw: boolean;
}

export interface Resolved {
  /** Container path components (clean, inside the root). */
  comps: string[];
  /** Host path of the resource. */
  host: string;
  /** lstat of the host path, null when it does not exist. */
  st: fs.Stats | null;
}

export interface FsDeps {
  store: ImageStore;
  volumes: VolumeService;
}

export class ContainerFs {
  private readonly mounts: FsMount[] = [];
  private readonly ref = `fs-${randomHex(8)}`;
  private mountedRoot = false;
  private heldVolumes: string[] = [];

  private constructor(
    readonly c: ContainerRecord,
    readonly paths: ContainerPaths,
  ) {}

  /** Makes the container's filesystem reachable; close() undoes what this did. */
  static open(c: ContainerRecord, paths: ContainerPaths, deps: FsDeps): ContainerFs {
    const v = new ContainerFs(c, paths);
    try {
      v.setup(deps);
    } catch (e) {
      v.close(deps);
      throw e;
    }
    return v;
  }

  private setup(deps: FsDeps): void {
    const p = this.paths;
    if (!isMounted(p.rootfs)) {
      mountOverlay(deps.store.layersDir, deps.store.lowerDirs(this.c.berth.chain), p.upper, p.work, p.rootfs);
      this.mountedRoot = true;
    }
    const add = (dest: string, source: string, rw: boolean): void => {
      this.mounts.push({ dest: dest.split('/').filter(Boolean), source, rw });
    };
    // The runtime bind-mounts these files over the image's; a running container sees berth's.
    for (const [dest, src] of [
      ['/etc/hosts', p.hosts],
      ['/etc/hostname', p.hostname],
      ['/etc/resolv.conf', p.resolvConf],
    ]) {
      if (fs.existsSync(src)) add(dest, src, true);
    }
    for (const mp of this.c.berth.mounts ?? []) {
      if (mp.Type === 'volume') {
        const src = deps.volumes.mount(mp.Name, this.ref);
        this.heldVolumes.push(mp.Name);
        add(mp.Destination, src, mp.RW);
      } else if (mp.Type === 'bind') {
        add(mp.Destination, mp.Source, mp.RW);
      } else if (mp.Type === 'tmpfs' && this.c.State.Running && this.c.State.Pid > 0) {
        add(mp.Destination, `/proc/${this.c.State.Pid}/root${path.posix.normalize(mp.Destination)}`, true);
      }
    }
    for (const dest of Object.keys((this.c.HostConfig.Tmpfs as Record<string, string> | undefined) ?? {})) {
      if (this.c.State.Running && this.c.State.Pid > 0) add(dest, `/proc/${this.c.State.Pid}/root${path.posix.normalize(dest)}`, true);
    }
    // Longest mount point first: the innermost mount covering a path wins.
    this.mounts.sort((a, b) => b.dest.length - a.dest.length);
  }

  close(deps: FsDeps): void {
    for (const n of this.heldVolumes) deps.volumes.unmount(n, this.ref);
    this.heldVolumes = [];
    if (this.mountedRoot) unmount(this.paths.rootfs);
    this.mountedRoot = false;
  }

  get rootfs(): string {
    return this.paths.rootfs;
  }

  private mountFor(comps: string[]): FsMount | undefined {
    return this.mounts.find((m) => m.dest.length <= comps.length && m.dest.every((c, i) => comps[i] === c));
  }

  /** The host path of clean container path components (no symlink resolution). */
  hostOf(comps: string[]): string {
    const m = this.mountFor(comps);
    if (!m) return path.join(this.paths.rootfs, ...comps);
    return path.join(m.source, ...comps.slice(m.dest.length));
  }

  /** Whether writes at these components land on a read-only mount or rootfs. */
  readOnly(comps: string[]): string | undefined {
    const m = this.mountFor(comps);
    if (m) return m.rw ? undefined : 'mounted volume is marked read-only';
    return this.c.HostConfig.ReadonlyRootfs ? 'container rootfs is marked read-only' : undefined;
  }

  /**
   * Resolves a container path. Symlinks in the directory part are followed inside the root; the
   * last component is followed only when `followLast`. A missing component ends the walk (the
   * rest applies lexically).
   */
  resolve(p: string, followLast: boolean): Resolved {
    const comps = walkInRoot(p, {
      lstat: (c) => fs.lstatSync(this.hostOf(c), { throwIfNoEntry: false }),
      readlink: (c) => fs.readlinkSync(this.hostOf(c)),
      followLast,
      requireDirs: true,
    });
    return this.finish(comps, undefined);
  }

  private finish(comps: string[], st: fs.Stats | null | undefined): Resolved {
    const host = this.hostOf(comps);
    return { comps, host, st: st === undefined ? (fs.lstatSync(host, { throwIfNoEntry: false }) ?? null) : st };
  }
}

/** '/' + components. */
export function containerPath(comps: string[]): string {
  return '/' + comps.join('/');
}
