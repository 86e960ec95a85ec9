/**
 * `--user name|uid[:group|gid]` resolved against the image's /etc/passwd and /etc/group, as
 * Docker does: numeric ids need no entry; names must exist; supplementary groups come from
 * /etc/group membership of the user name.
 */
import fs from 'node:fs';
import path from 'node:path';
import { invalidArgument } from '../core/errors';

export interface ResolvedUser {
  uid: number;
  gid: number;
  additionalGids: number[];
  home: string;
}

interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

export function parsePasswd(text: string): PasswdEntry[] {
  const out: PasswdEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const f = line.split(':');
    if (f.length < 4) continue;
    out.push({ name: f[0], uid: Number(f[2]), gid: Number(f[3]), home: f[5] ?? '/' });
  }
  return out;
}

export function parseGroup(text: string): { name: string; gid: number; members: string[] }[] {
  const out: { name: string; gid: number; members: string[] }[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const f = line.split(':');
    if (f.length < 3) continue;
    out.push({ name: f[0], gid: Number(f[2]), members: (f[3] ?? '').split(',').filter(Boolean) });
  }
  return out;
}

/** Reads a file inside the rootfs without following symlinks out of it (best effort: missing → ''). */
function readInRoot(rootfs: string, rel: string): string {
  const p = path.join(rootfs, rel);
  try {
    const st = fs.lstatSync(p);
    if (!st.isFile()) return '';
    return fs.readFileSync(p, 'utf8');
  } catch {
    return '';
  }
}

export function resolveUser(rootfs: string, spec: string | undefined, groupAdd: string[] = []): ResolvedUser {
  const passwd = parsePasswd(readInRoot(rootfs, 'etc/passwd'));
  const groups = parseGroup(readInRoot(rootfs, 'etc/group'));
  const [u, g] = (spec || '').split(':', 2);
  let uid = 0;
  let gid = 0;
  let home = '/';
  let name: string | undefined;
  if (!u) {
    const root = passwd.find((p) => p.uid === 0);
    name = root?.name ?? 'root';
    home = root?.home ?? '/root';
  } else if (/^\d+$/.test(u)) {
    uid = Number(u);
    const e = passwd.find((p) => p.uid === uid);
    if (e) {
      gid = e.gid;
      home = e.home;
      name = e.name;
    }
  } else {
    const e = passwd.find((p) => p.name === u);
    if (!e) throw invalidArgument(`unable to find user ${u}: no matching entries in passwd file`);
    uid = e.uid;
    gid = e.gid;
    home = e.home;
    name = e.name;
  }
  if (g) {
    if (/^\d+$/.test(g)) gid = Number(g);
    else {
      const e = groups.find((x) => x.name === g);
      if (!e) throw invalidArgument(`unable to find group ${g}: no matching entries in group file`);
      gid = e.gid;
    }
  }
  const additional = new Set<number>();
  if (name && !g) for (const grp of groups) if (grp.members.includes(name) && grp.gid !== gid) additional.add(grp.gid);
  for (const a of groupAdd) {
    if (/^\d+$/.test(a)) additional.add(Number(a));
    else {
      const e = groups.find((x) => x.name === a);
      if (!e) throw invalidArgument(`Unable to find group ${a}: no matching entries in group file`);
      additional.add(e.gid);
    }
  }
  return { uid, gid, additionalGids: [...additional], home };
}
