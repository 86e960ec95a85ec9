/**
 * dockerd's `--userns-remap`: containers run in a user namespace whose root is an unprivileged
 * subordinate id of the host (/etc/subuid, /etc/subgid). The image's layers appear with shifted
 * owners through idmapped mounts (Linux 5.12+, overlayfs over idmapped layers 5.19+); the
 * container's own upper dir is owned by the remapped root, so its files carry host ids.
 */
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { native } from '../util/native';
import { invalidArgument } from '../core/errors';

export interface Remap {
  /** The user (and group) name the ranges belong to. */
  user: string;
  group: string;
  uid: number; // host id of the container's uid 0
  gid: number;
  size: number; // ids mapped (the smaller of the two ranges)
}

/** The first range of `name` (or of the numeric id's user) in a subuid/subgid file's text. */
export function subordinateRange(text: string, names: string[]): { start: number; count: number } | undefined {
  for (const line of text.split('\n')) {
    const [n, start, count] = line.trim().split(':');
    if (n && names.includes(n) && /^\d+$/.test(start ?? '') && /^\d+$/.test(count ?? '')) return { start: Number(start), count: Number(count) };
  }
  return undefined;
}

const read = (p: string): string => {
  try {
    return fs.readFileSync(p, 'utf8');
  } catch {
    return '';
  }
};

/**
 * `--userns-remap user[:group]` (names or ids) → the ranges. "default" means a user named
 * "berthremap" (dockerd's is "dockremap"), which must have ranges.
 */
export function parseRemap(spec: string, files: { passwd?: string; group?: string; subuid?: string; subgid?: string } = {}): Remap {
  const [u0, g0] = spec.split(':');
  const user = u0 === 'default' ? 'berthremap' : u0;
  const group = g0 || user;
  const idOf = (text: string, name: string): string | undefined => text.split('\n').find((l) => l.split(':')[0] === name)?.split(':')[2];
  const nameOf = (text: string, id: string): string | undefined => text.split('\n').find((l) => l.split(':')[2] === id)?.split(':')[0];
  const passwd = files.passwd ?? read('/etc/passwd');
  const groups = files.group ?? read('/etc/group');
  const uNames = [user, /^\d+$/.test(user) ? nameOf(passwd, user) : idOf(passwd, user)].filter((x): x is string => !!x);
  const gNames = [group, /^\d+$/.test(group) ? nameOf(groups, group) : idOf(groups, group)].filter((x): x is string => !!x);
  const su = subordinateRange(files.subuid ?? read('/etc/subuid'), uNames);
  const sg = subordinateRange(files.subgid ?? read('/etc/subgid'), gNames);
  if (!su) throw invalidArgument(`can't create ID mappings: no subuid ranges found for user "${user}"`);
  if (!sg) throw invalidArgument(`can't create ID mappings: no subgid ranges found for group "${group}"`);
  return { user, group, uid: su.start, gid: sg.start, size: Math.min(su.count, sg.count) };
}

/** linux.uidMappings / gidMappings of the spec. */
export function idMappings(r: Remap): { uidMappings: object[]; gidMappings: object[] } {
  return { uidMappings: [{ containerID: 0, hostID: r.uid, size: r.size }], gidMappings: [{ containerID: 0, hostID: r.gid, size: r.size }] };
}

/**
 * Runs `fn` with an fd of a user namespace that has the remap's mappings: a short-lived
 * `unshare -U sleep` holds it; its maps are written from here, as root.
 */
export async function withUserns<T>(r: Remap, fn: (fd: number) => T): Promise<T> {
  const child = spawn('unshare', ['-U', 'sleep', '60'], { stdio: 'ignore' });
  try {
    const pid = child.pid;
    if (!pid) throw new Error('cannot start unshare');
    const nsPath = `/proc/${pid}/ns/user`;
    const own = fs.readlinkSync('/proc/self/ns/user');
    // unshare has made its namespace once the link differs from ours.
    for (let i = 0; i < 200 && fs.readlinkSync(nsPath) === own; i++) await new Promise((res) => setTimeout(res, 5));
    fs.writeFileSync(`/proc/${pid}/uid_map`, `0 ${r.uid} ${r.size}\n`);
    fs.writeFileSync(`/proc/${pid}/gid_map`, `0 ${r.gid} ${r.size}\n`);
    const fd = fs.openSync(nsPath, 'r');
    try {
      return fn(fd);
    } finally {
      fs.closeSync(fd);
    }
  } finally {
    child.kill('SIGKILL');
  }
}

/**
 * The rootfs of a remapped container: each lower layer through an idmapped mount under
 * `<dir>/idmap`, the upper and work dirs owned by the remapped root, overlaid at `rootfs`.
 */
export async function mountRemappedRootfs(r: Remap, layersDir: string, lowers: string[], p: { dir: string; upper: string; work: string; rootfs: string }): Promise<void> {
  const idmap = path.join(p.dir, 'idmap');
  fs.mkdirSync(idmap, { recursive: true });
  for (const d of [p.upper, p.work, p.rootfs]) fs.mkdirSync(d, { recursive: true });
  const upperSt = fs.statSync(p.upper);
  if (upperSt.uid !== r.uid) {
    fs.chownSync(p.upper, r.uid, r.gid);
    fs.chownSync(p.work, r.uid, r.gid);
  }
  const targets = lowers.map((_, i) => path.join(idmap, String(i)));
  await withUserns(r, (fd) => {
    lowers.forEach((l, i) => {
      fs.mkdirSync(targets[i], { recursive: true });
      native().idmapMount(fs.realpathSync(path.resolve(layersDir, l)), targets[i], fd);
    });
  });
  native().mount('overlay', p.rootfs, 'overlay', 0, `lowerdir=${targets.join(':')},upperdir=${p.upper},workdir=${p.work}`);
}

/** Unmounts the idmapped layers of a container (after its rootfs). */
export function releaseRemapped(dir: string): void {
  const idmap = path.join(dir, 'idmap');
  let names: string[];
  try {
    names = fs.readdirSync(idmap);
  } catch {
    return;
  }
  for (const n of names) {
    try {
      native().umount2(path.join(idmap, n), 2 /* MNT_DETACH */);
    } catch {
      /* not mounted */
    }
  }
}

/**
 * Lets the remapped root reach the container's directories: every parent of `dir` gets the
 * search bit for others (dockerd makes its remapped root 0711 likewise).
 */
export function allowTraversal(dir: string): void {
  let cur = path.resolve(dir);
  while (cur !== path.dirname(cur)) {
    const st = fs.statSync(cur);
    if ((st.mode & 0o001) === 0) fs.chmodSync(cur, (st.mode & 0o7777) | 0o001);
    cur = path.dirname(cur);
  }
}
