/**
 * What ContainerManager asks of the host for resources and security: create-time validation of
 * HostConfig, the context of a start's spec extras, OOM detection at exit, live updates.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { OciRuntime } from '../runtime/oci';
import { Cgroup, CgroupV2, cgroupVersion } from '../runtime/cgroups';
import { ociResources } from '../runtime/spec/resources';
import { parseSecurityOpts } from '../runtime/spec/spec';
import { parseSeccompProfile } from '../runtime/spec/seccomp';
import { invalidArgument } from '../core/errors';
import { native } from '../util/native';
import { isMounted, mountOverlay, unmount } from '../snapshot/overlay';
import { allowTraversal, mountRemappedRootfs, releaseRemapped, type Remap } from '../runtime/userns';

const MS_NOSUID = 2;
const MS_NODEV = 4;
const MS_NOEXEC = 8;
import { checkHostOptions, checkResources, type ExtrasContext } from './hostconfig';

export const DEFAULT_INIT_PATH = '/usr/bin/tini-static';

export interface RuntimeHooks {
  initPath: string;
  initDefault: boolean;
  cgroupRoot: string;
  /** Validates the request's HostConfig, fills `hostConfig` (the record's) and returns the warnings. */
  checkCreate(hc: Record<string, any>, body: Record<string, any>, hostConfig: Record<string, any>): string[];
  /** `dir(id)`: a container's directory, where a shareable /dev/shm is mounted. */
  extrasContext(
    c: { Id: string; HostConfig: Record<string, any> },
    resolve: (ref: string) => { Id: string; State: { Pid: number; Running: boolean }; HostConfig: Record<string, any> },
    dir: (id: string) => string,
  ): ExtrasContext;
  /** Unmounts what extrasContext and mountRootfs mounted for the container. */
  release(dir: string): void;
  /** --userns-remap's ranges, when the daemon remaps. */
  remap?: Remap;
  /** Mounts the container's rootfs (idmapped layers under --userns-remap). */
  mountRootfs(hc: Record<string, any>, layersDir: string, lowers: string[], p: { dir: string; upper: string; work: string; rootfs: string }): Promise<void>;
  /** Under --userns-remap, gives a volume's root directory to the remapped root (as dockerd makes it). */
  ownVolume(hc: Record<string, any>, dir: string): void;
  /** The host ids of a container's uid and gid (shifted under --userns-remap). */
  hostIds(hc: Record<string, any>, uid: number, gid: number): [number, number];
  /** Whether the OOM killer killed a process of the exited container. */
  oomKilled(cgPath: string, bundle: string): boolean;
  /** Applies the limits of `hc` to the running container. */
  applyResources(rt: OciRuntime, id: string, cgPath: string, hc: Record<string, any>): Promise<void>;
}

function apparmorEnabled(): boolean {
  try {
    return fs.readFileSync('/sys/module/apparmor/parameters/enabled', 'utf8').trim() === 'Y';
  } catch {
    return false;
  }
}

export function runtimeHooks(o: Partial<RuntimeHooks> = {}): RuntimeHooks {
  const cgroupRoot = o.cgroupRoot ?? '/sys/fs/cgroup';
  const v2 = cgroupVersion(cgroupRoot) === 2;
  const remapOf = (hc: Record<string, any>): Remap | undefined => (o.remap && hc.UsernsMode !== 'host' ? o.remap : undefined);
  const hooks: RuntimeHooks = {
    initPath: o.initPath || DEFAULT_INIT_PATH,
    initDefault: !!o.initDefault,
    cgroupRoot,
    checkCreate(hc, body, hostConfig) {
      const { fields, warnings } = checkResources(hc);
      if (hc.UsernsMode !== undefined && hc.UsernsMode !== '' && hc.UsernsMode !== 'host') throw invalidArgument(`invalid USER mode: ${String(hc.UsernsMode)}`);
      if (o.remap && hc.Privileged && hc.UsernsMode !== 'host') {
        throw invalidArgument('privileged mode is incompatible with user namespaces.  You must run the container in the host namespace when running privileged mode');
      }
      hostConfig.UsernsMode = (hc.UsernsMode as string | undefined) ?? '';
      Object.assign(hostConfig, fields, checkHostOptions({ ...hc, NetworkMode: hostConfig.NetworkMode }, body.Hostname as string | undefined, v2));
      let sec: ReturnType<typeof parseSecurityOpts>;
      try {
        sec = parseSecurityOpts((hc.SecurityOpt as string[] | null) ?? []);
      } catch (e) {
        throw invalidArgument((e as Error).message);
      }
      if (sec.seccomp && sec.seccomp !== 'unconfined') parseSeccompProfile(sec.seccomp, []);
      const aa = ((hc.SecurityOpt as string[] | null) ?? []).find((s) => /^apparmor[=:]/.test(s));
      if (aa && !apparmorEnabled()) warnings.push(`AppArmor is not enabled on this host: security option "${aa}" ignored`);
      return warnings;
    },
    extrasContext(c, resolve, dir) {
      return {
        shareShm() {
          const shm = path.join(dir(c.Id), 'shm');
          fs.mkdirSync(shm, { recursive: true });
          if (!isMounted(shm)) native().mount('shm', shm, 'tmpfs', MS_NOSUID | MS_NODEV | MS_NOEXEC, `mode=1777,size=${Number(c.HostConfig.ShmSize) || 64 << 20}`);
          return shm;
        },
        initPath: hooks.initPath,
        initDefault: hooks.initDefault,
        remap: remapOf(c.HostConfig),
        cgroupV2: v2,
        peer(ref) {
          const p = resolve(ref);
          return { id: p.Id, pid: p.State.Pid, running: p.State.Running, ipcMode: (p.HostConfig.IpcMode as string) || 'private', shm: path.join(dir(p.Id), 'shm') };
        },
      };
    },
    release(d) {
      unmount(path.join(d, 'shm'));
      releaseRemapped(d);
    },
    remap: o.remap,
    async mountRootfs(hc, layersDir, lowers, p) {
      const r = remapOf(hc);
      if (!r) return mountOverlay(layersDir, lowers, p.upper, p.work, p.rootfs);
      allowTraversal(p.dir);
      await mountRemappedRootfs(r, layersDir, lowers, p);
    },
    ownVolume(hc, dir) {
      const r = remapOf(hc);
      if (!r) return;
      const st = fs.statSync(dir);
      if (st.uid < r.uid || st.uid >= r.uid + r.size) shiftOwnership(dir, r);
    },
    hostIds(hc, uid, gid) {
      const r = remapOf(hc);
      return r ? [uid + r.uid, gid + r.gid] : [uid, gid];
    },
    oomKilled(cgPath, bundle) {
      // conmon creates "oom" in its working directory (the bundle) when it sees the OOM event;
      // the cgroup's own counter covers a conmon that missed it.
      if (fs.existsSync(path.join(bundle, 'oom'))) return true;
      return Cgroup.open(cgPath, cgroupRoot).oomKills() > 0;
    },
    async applyResources(rt, id, cgPath, hc) {
      const r = ociResources(hc);
      if (v2) new CgroupV2(cgroupRoot, cgPath).apply(r);
      else await rt.update(id, r);
    },
  };
  return hooks;
}

/**
 * Shifts the owners of a tree (a volume's content, seeded from the image as the host's ids) into
 * the remapped range, so that the container sees them as in the image.
 */
function shiftOwnership(dir: string, r: Remap): void {
  const shift = (p: string, st: fs.Stats): void => {
    if (st.uid < r.size && st.gid < r.size) fs.lchownSync(p, st.uid + r.uid, st.gid + r.gid);
  };
  shift(dir, fs.lstatSync(dir));
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) shiftOwnership(p, r);
    else shift(p, fs.lstatSync(p));
  }
}
