/**
 * `docker cp` on the daemon's side: the stat of a container path (the X-Docker-Container-Path-Stat
 * header), a tar of it, and the extraction of a tar into a container directory, over a
 * ContainerFs (so volumes and binds are honoured and no path leaves the container's root).
 */
import { forbidden, invalidArgument, notFound } from '../core/errors';
import { TarWriter } from '../snapshot/unpack';
import { extractTree, goFileMode, packTree } from '../snapshot/copy-tar';
import { resolveUser } from '../runtime/user';
import { containerPath, type ContainerFs, type Resolved } from './container-fs';
import fs from 'node:fs';

export interface PathStat {
  name: string;
  size: number;
  mode: number;
  mtime: string;
  linkTarget: string;
}

/** The path as the container sees it: absolute, trailing '/' and '/.' kept (they mean "follow"). */
function absolute(p: string): string {
  return p.startsWith('/') ? p : `/${p}`;
}

/** filepath.Base of the requested path: the name the archive's entries get ('/' for the root). */
function baseName(p: string): string {
  const parts = p.split('/').filter(Boolean);
  return parts.length ? parts[parts.length - 1] : '/';
}

/** Resolves a container path; a missing one (or one through a non-directory) is Docker's 404. */
function resolveExisting(v: ContainerFs, p: string, ref: string, followLast: boolean): Resolved {
  let r: Resolved;
  try {
    r = v.resolve(absolute(p), followLast);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOTDIR') throw notFound(`Could not find the file ${p} in container ${ref}`);
    throw e;
  }
  if (!r.st) throw notFound(`Could not find the file ${p} in container ${ref}`);
  return r;
}

/**
 * Docker's ResolvePath: the directory part is resolved (symlinks followed inside the root), the
 * last component is not, unless the path ends in '/' or '/.'.
 */
function resolveSource(v: ContainerFs, p: string, ref: string): Resolved {
  const abs = absolute(p);
  return resolveExisting(v, p, ref, /\/\.?$/.test(abs) && abs !== '/');
}

export function statPath(v: ContainerFs, p: string, ref: string): PathStat {
  const r = resolveSource(v, p, ref);
  const st = r.st!;
  let linkTarget = '';
  if (st.isSymbolicLink()) linkTarget = containerPath(v.resolve(containerPath(r.comps), true).comps);
  const name = baseName(p);
  return { name, size: st.size, mode: goFileMode(st), mtime: st.mtime.toISOString(), linkTarget };
}

export function encodeStat(s: PathStat): string {
  return Buffer.from(JSON.stringify(s)).toString('base64');
}

/** A tar of the path, its entries named after the requested path's last component. */
export async function archivePath(v: ContainerFs, p: string, ref: string, out: NodeJS.WritableStream): Promise<void> {
  const r = resolveSource(v, p, ref);
  const w = new TarWriter(out);
  await packTree(w, baseName(absolute(p)), (rel) => v.hostOf([...r.comps, ...rel]));
  await w.finish();
}

export interface ExtractOptions {
  noOverwriteDirNonDir: boolean;
  copyUIDGID: boolean;
}

/** Checks the extraction point (Docker's order: exists, is a directory, is writable). */
export function extractionPoint(v: ContainerFs, p: string, ref: string): Resolved {
  const r = resolveExisting(v, p, ref, true);
  if (!fs.statSync(r.host).isDirectory()) throw invalidArgument('extraction point is not a directory');
  const ro = v.readOnly(r.comps);
  if (ro) throw forbidden(ro);
  return r;
}

/** Extracts a tar below the container directory `p` (which must exist). */
export async function extractToPath(v: ContainerFs, p: string, ref: string, input: NodeJS.ReadableStream, opts: ExtractOptions): Promise<void> {
  const dest = extractionPoint(v, p, ref);
  let owner: { uid: number; gid: number } | undefined;
  // -a: files belong to the container's user (when it has one), as Docker's tarCopyOptions.
  if (opts.copyUIDGID && v.c.Config.User) {
    const u = resolveUser(v.rootfs, v.c.Config.User as string);
    owner = { uid: u.uid, gid: u.gid };
  }
  // Resolved afresh for every entry (no cache): an earlier entry may have replaced a directory
  // with a symlink, which must then be followed inside the root, never by the host's kernel.
  const ensureDir = (comps: string[], what: string): string => {
    const r = v.resolve(containerPath(comps), true);
    if (!r.st) {
      const parent = ensureDir(r.comps.slice(0, -1), what);
      const host = `${parent}/${r.comps[r.comps.length - 1]}`;
      fs.mkdirSync(host, { mode: 0o755 });
      fs.chownSync(host, owner?.uid ?? 0, owner?.gid ?? 0);
      return host;
    }
    if (!fs.statSync(r.host).isDirectory()) throw invalidArgument(`${what}: ${containerPath(r.comps)} is not a directory`);
    return r.host;
  };
  try {
    await extractTree(
      input,
      {
        dir: (comps, what) => ensureDir([...dest.comps, ...comps], what),
        check: (comps) => {
          const ro = v.readOnly([...dest.comps, ...comps]);
          if (ro) throw forbidden(ro);
        },
      },
      { owner, noOverwriteDirNonDir: opts.noOverwriteDirNonDir, showAs: (comps) => containerPath([...dest.comps, ...comps]) },
    );
  } catch (e) {
    if ((e as { overwrite?: boolean }).overwrite || /^tar: |archive entry|escapes the destination/.test((e as Error).message)) throw invalidArgument((e as Error).message);
    throw e;
  }
}
