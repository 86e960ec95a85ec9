/**
 * `berth cp`: files between a container and the local filesystem (or a tar on stdin/stdout), with
 * docker's rules for where things land (an existing directory receives the source by its name;
 * otherwise the source takes the destination's name) and for symlinks (followed in the source
 * only with -L, always in the destination).
 */
import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { PassThrough } from 'node:stream';
import type { IncomingMessage } from 'node:http';
import { StatusError, type Cli, type CommandSpec } from '../cli';
import { humanSize } from '../../util/units';

const GO_MODE_DIR = 2 ** 31;
const GO_MODE_SYMLINK = 1 << 27;
// Go's ModeType; `>>> 0` keeps bit 31 (ModeDir) unsigned through JavaScript's 32-bit operators.
const GO_MODE_TYPE = (GO_MODE_DIR | GO_MODE_SYMLINK | (1 << 26) | (1 << 25) | (1 << 24) | (1 << 21) | (1 << 19)) >>> 0;

interface PathStat {
  name: string;
  size: number;
  mode: number;
  mtime: string;
  linkTarget: string;
}

interface CopyInfo {
  path: string;
  exists: boolean;
  isDir: boolean;
  rebaseName?: string;
}

/** docker's splitCpArg: `container:path`, or a local path (absolute, or starting with '.'). */
export function splitCpArg(arg: string): { container: string; path: string } {
  if (arg.startsWith('/')) return { container: '', path: arg };
  const i = arg.indexOf(':');
  if (i < 0 || arg.startsWith('.')) return { container: '', path: arg };
  return { container: arg.slice(0, i), path: arg.slice(i + 1) };
}

const specifiesCurrentDir = (p: string): boolean => p === '.' || p.endsWith('/.');
const assertsDirectory = (p: string): boolean => p.endsWith('/') || specifiesCurrentDir(p);

/** archive.SplitPathDirEntry: the parent and the entry ('.' when the path ends in '/.'). */
export function splitPathDirEntry(p: string): [string, string] {
  let cleaned = path.posix.normalize(p).replace(/(.)\/+$/, '$1');
  if (specifiesCurrentDir(p)) cleaned = (cleaned === '/' ? '' : cleaned.replace(/\/\.$/, '')) + '/.';
  if (cleaned === '/') return ['/', '/'];
  return [path.posix.dirname(cleaned), path.posix.basename(cleaned)];
}

/** archive.GetRebaseName: a symlink resolved to `resolved` keeps the name the user gave. */
function getRebaseName(p: string, resolved: string): [string, string | undefined] {
  if (specifiesCurrentDir(p) && !specifiesCurrentDir(resolved)) resolved += '/.';
  if (p.endsWith('/') && !resolved.endsWith('/')) resolved += '/';
  const base = (s: string): string => path.posix.basename(s.replace(/\/+$/, '')) || '/';
  return [resolved, base(p) !== base(resolved) ? base(p) : undefined];
}

/**
 * archive.PrepareArchiveCopy, as a plan: the directory to extract into and the name the source's
 * top entry must take there.
 */
export function prepareCopy(src: CopyInfo, srcBase: string, dst: CopyInfo): { dir: string; name: string } {
  const [dstDir, dstBase] = splitPathDirEntry(dst.path);
  const own = src.rebaseName ?? srcBase;
  if (dst.exists && dst.isDir) return { dir: dst.path, name: own };
  if (dst.exists && src.isDir) throw new StatusError(1, 'cannot copy directory');
  if (!dst.exists && !src.isDir && assertsDirectory(dst.path)) throw new StatusError(1, 'no such directory');
  return { dir: dstDir, name: dstBase };
}

function decodeStat(res: IncomingMessage): PathStat | undefined {
  const h = res.headers['x-docker-container-path-stat'];
  const v = Array.isArray(h) ? h[0] : h;
  if (!v) return undefined;
  return JSON.parse(Buffer.from(v, 'base64').toString('utf8')) as PathStat;
}

async function statContainer(cli: Cli, container: string, p: string): Promise<PathStat | undefined> {
  try {
    const res = await cli.engine().head(`/containers/${encodeURIComponent(container)}/archive`, { path: p });
    return decodeStat(res);
  } catch {
    return undefined;
  }
}

/** archive.CopyInfoDestinationPath: symlinks at the destination are followed (a broken one names the target). */
function localDestination(p: string): CopyInfo {
  let cur = p;
  let st = fs.lstatSync(cur, { throwIfNoEntry: false });
  for (let n = 0; st?.isSymbolicLink(); n++) {
    if (n > 10) throw new StatusError(1, `too many symlinks in ${p}`);
    const target = fs.readlinkSync(cur);
    cur = target.startsWith('/') ? target : path.join(splitPathDirEntry(cur)[0], target);
    st = fs.lstatSync(cur, { throwIfNoEntry: false });
  }
  if (st) return { path: cur, exists: true, isDir: st.isDirectory() };
  const parent = splitPathDirEntry(cur)[0];
  const pst = fs.statSync(parent, { throwIfNoEntry: false });
  if (!pst) throw new StatusError(1, `stat ${parent}: no such file or directory`);
  if (!pst.isDirectory()) throw new StatusError(1, 'not a directory');
  return { path: cur, exists: false, isDir: false };
}

/** archive.CopyInfoSourcePath: the local source, symlinks resolved (the last one only with -L). */
function localSource(p: string, follow: boolean): CopyInfo {
  let resolved: string;
  let rebaseName: string | undefined;
  try {
    if (follow) {
      [resolved, rebaseName] = getRebaseName(p, fs.realpathSync(p));
    } else {
      const dir = p.endsWith('/') ? p : path.dirname(p);
      const base = p.endsWith('/') ? '' : path.basename(p);
      resolved = path.join(fs.realpathSync(dir || '.'), base);
      if (p.endsWith('/') && path.basename(p) !== path.basename(resolved)) rebaseName = path.basename(p);
    }
  } catch {
    throw new StatusError(1, `lstat ${p}: no such file or directory`);
  }
  const st = fs.lstatSync(resolved, { throwIfNoEntry: false });
  if (!st) throw new StatusError(1, `lstat ${p}: no such file or directory`);
  return { path: specifiesCurrentDir(p) ? `${resolved}/.` : resolved, exists: true, isDir: st.isDirectory(), rebaseName };
}

function reportCopied(cli: Cli, quiet: boolean, bytes: number, dest: string): void {
  if (quiet || !cli.streams.err.isTTY) return;
  cli.eprintln(`Successfully copied ${humanSize(bytes)} to ${dest}`);
}

async function copyFromContainer(cli: Cli, container: string, srcPath: string, dstPath: string, o: { follow: boolean; quiet: boolean }): Promise<void> {
  let requested = srcPath;
  let rebaseName: string | undefined;
  if (o.follow) {
    const st = await statContainer(cli, container, srcPath);
    if (st && (st.mode & GO_MODE_SYMLINK) !== 0) {
      const target = st.linkTarget.startsWith('/') ? st.linkTarget : path.posix.join(splitPathDirEntry(srcPath)[0], st.linkTarget);
      [requested, rebaseName] = getRebaseName(srcPath, target);
    }
  }
  if (dstPath !== '-') validateOutputPath(dstPath);
  const res = await cli.engine().stream('GET', `/containers/${encodeURIComponent(container)}/archive`, { query: { path: requested } });
  if (dstPath === '-') {
    await pipeline(res, cli.streams.out, { end: false });
    return;
  }
  const stat = decodeStat(res);
  const srcBase = splitPathDirEntry(requested)[1];
  const src: CopyInfo = { path: requested, exists: true, isDir: ((stat?.mode ?? 0) & GO_MODE_DIR) !== 0, rebaseName };
  let plan;
  try {
    plan = prepareCopy(src, srcBase, localDestination(dstPath));
  } catch (e) {
    res.destroy();
    throw e;
  }
  let bytes = 0;
  const { extractTree } = await import('../../snapshot/copy-tar');
  const { resolveDir } = await import('../../snapshot/unpack');
  try {
    await extractTree(
      res,
      { dir: (comps, what) => resolveDir(plan.dir, comps, what, true) },
      { noLchown: true, noOverwriteDirNonDir: true, rebase: srcBase === plan.name ? undefined : [srcBase, plan.name], onBytes: (b) => (bytes += b.length) },
    );
  } catch (e) {
    throw new StatusError(1, (e as Error).message);
  }
  reportCopied(cli, o.quiet, bytes, dstPath);
}

/** command.ValidateOutputPath: the parent directory must exist. */
function validateOutputPath(p: string): void {
  const dir = path.dirname(path.normalize(p));
  if (dir !== '.' && !fs.existsSync(dir)) throw new StatusError(1, `invalid output path: directory ${JSON.stringify(dir)} does not exist`);
}

async function copyToContainer(cli: Cli, srcPath: string, container: string, dstPath: string, o: { follow: boolean; quiet: boolean; archive: boolean }): Promise<void> {
  const dst: CopyInfo = { path: dstPath, exists: false, isDir: false };
  let st = await statContainer(cli, container, dstPath);
  if (st && (st.mode & GO_MODE_SYMLINK) !== 0) {
    dst.path = st.linkTarget.startsWith('/') ? st.linkTarget : path.posix.join(splitPathDirEntry(dstPath)[0], st.linkTarget);
    st = await statContainer(cli, container, dst.path);
  }
  if (st) {
    const type = (st.mode & GO_MODE_TYPE) >>> 0;
    if (type !== 0 && type !== GO_MODE_DIR) throw new StatusError(1, `destination "${container}:${dstPath}" must be a directory or a regular file`);
    dst.exists = true;
    dst.isDir = (st.mode & GO_MODE_DIR) !== 0;
  }
  const put = (dir: string, body: NodeJS.ReadableStream): Promise<unknown> =>
    cli.engine().json('PUT', `/containers/${encodeURIComponent(container)}/archive`, {
      query: { path: dir, noOverwriteDirNonDir: true, copyUIDGID: o.archive || undefined },
      body,
      headers: { 'Content-Type': 'application/x-tar' },
    });
  if (srcPath === '-') {
    if (!dst.isDir) throw new StatusError(1, `destination "${container}:${dstPath}" must be a directory`);
    await put(dst.path, cli.streams.in);
    return;
  }
  const src = localSource(srcPath, o.follow);
  const plan = prepareCopy(src, splitPathDirEntry(src.path)[1], dst);
  const { packTree } = await import('../../snapshot/copy-tar');
  const { TarWriter } = await import('../../snapshot/unpack');
  const body = new PassThrough();
  let bytes = 0;
  const w = new TarWriter(body);
  // Without -a the files belong to root in the container (docker cp's documented behaviour).
  const packing = packTree(w, plan.name, (rel) => path.join(src.path, ...rel), { owner: o.archive ? undefined : { uid: 0, gid: 0 } })
    .then(() => w.finish())
    .catch((e: Error) => body.destroy(e));
  body.on('data', (c: Buffer) => (bytes += c.length));
  await Promise.all([put(plan.dir, body), packing]);
  reportCopied(cli, o.quiet, bytes, `${container}:${dstPath}`);
}

export const cpCommand: CommandSpec = {
  name: 'cp',
  use: '[OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n\tberth cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH',
  short: 'Copy files/folders between a container and the local filesystem',
  args: { kind: 'exact', n: 2 },
  flags: [
    { name: 'archive', short: 'a', type: 'bool', description: 'Archive mode (copy all uid/gid information)' },
    { name: 'follow-link', short: 'L', type: 'bool', description: 'Always follow symbol link in SRC_PATH' },
    { name: 'quiet', short: 'q', type: 'bool', description: 'Suppress progress output during copy. Progress output is automatically suppressed if no terminal is attached' },
  ],
  async run(cli, f) {
    const [srcArg, dstArg] = f.args;
    if (srcArg === '') throw new StatusError(1, 'source can not be empty');
    if (dstArg === '') throw new StatusError(1, 'destination can not be empty');
    const src = splitCpArg(srcArg);
    const dst = splitCpArg(dstArg);
    const o = { follow: f.bool('follow-link'), quiet: f.bool('quiet'), archive: f.bool('archive') };
    if (src.container && dst.container) throw new StatusError(1, 'copying between containers is not supported');
    if (src.container) return copyFromContainer(cli, src.container, src.path, dst.path, o);
    if (dst.container) return copyToContainer(cli, src.path, dst.container, dst.path, o);
    throw new StatusError(1, 'must specify at least one container source');
  },
};
