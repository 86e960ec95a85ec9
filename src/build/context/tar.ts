/**
 * The build context as the docker CLI sends it to /build: a tar of the context directory with the
 * .dockerignore rules applied (docker/cli image/build.go → moby archive.TarWithOptions):
 *
 * - entries in lexical (byte) order, each directory before its contents, the root not included,
 *   directory names with a trailing `/`;
 * - regular files, directories, symlinks (never followed), fifos and devices; sockets skipped;
 *   a second name of a hard-linked file as a hard link to the first;
 * - permission bits with setuid/setgid/sticky, mtime in whole seconds, uid and gid 0 for every
 *   entry (the CLI passes ChownOpts{0,0}), no user or group names;
 * - the Dockerfile and .dockerignore are sent even when .dockerignore names them (the daemon needs
 *   them; it leaves them out of COPY . itself), as the CLI's TrimBuildFilesFromExcludes does;
 * - an ignored directory is not read at all unless an exception could re-include something in it.
 *
 * The stream is produced as it is read (backpressure), so a large context is never held in memory.
 */
import fs from 'node:fs';
import type { BigIntStats } from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { TarWriter, TarHeader } from '../../snapshot/unpack';
import { createMatcher, cleanPath, parseDockerignore } from './dockerignore';

export interface PackContextOptions {
  /** The Dockerfile's path relative to the context (`Dockerfile`, `docker/prod.Dockerfile`). */
  dockerfile: string;
  /** The .dockerignore lines (raw or parsed); [] when there is none. */
  ignore: readonly string[];
}

const byBytes = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b));

function majorOf(rdev: bigint): number {
  return Number(((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn));
}

function minorOf(rdev: bigint): number {
  return Number((rdev & 0xffn) | ((rdev >> 12n) & ~0xffn));
}

/** The exclude patterns the CLI really uses: the file's, plus exceptions keeping the build files. */
export function contextExcludes(ignore: readonly string[], dockerfile: string): string[] {
  const patterns = parseDockerignore(ignore);
  const matcher = createMatcher(patterns);
  if (matcher.ignores('.dockerignore')) patterns.push('!.dockerignore');
  const df = cleanPath(dockerfile);
  if (df !== '.' && !df.startsWith('../') && !df.startsWith('/') && matcher.ignores(df)) patterns.push('!' + df);
  return patterns;
}

/**
 * A tar stream of the context directory `dir` (see the module comment). Errors (an unreadable
 * file, a malformed .dockerignore pattern) destroy the stream with a message naming the path.
 */
export function packContext(dir: string, opts: PackContextOptions): NodeJS.ReadableStream {
  const out = new PassThrough({ highWaterMark: 1 << 20 });
  let matcher: ReturnType<typeof createMatcher>;
  try {
    matcher = createMatcher(contextExcludes(opts.ignore, opts.dockerfile));
  } catch (err) {
    process.nextTick(() => out.destroy(new Error(`error reading .dockerignore: ${(err as Error).message}`)));
    return out;
  }
  const root = path.resolve(dir);
  const w = new TarWriter(out);
  const inodes = new Map<string, string>();

  const walk = async (absDir: string, relDir: string): Promise<void> => {
    let names: string[];
    try {
      names = fs.readdirSync(absDir);
    } catch (err) {
      throw contextError(err, absDir);
    }
    names.sort(byBytes);
    for (const name of names) {
      if (out.destroyed) return; // the reader went away
      const abs = path.join(absDir, name);
      const rel = relDir ? `${relDir}/${name}` : name;
      let st: BigIntStats;
      try {
        st = fs.lstatSync(abs, { bigint: true });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue; // gone since readdir
        throw contextError(err, abs);
      }
      const isDir = st.isDirectory();
      if (matcher.ignores(rel, isDir)) {
        if (isDir && matcher.mayContainIncluded(rel)) await walk(abs, rel);
        continue;
      }
      if (st.isSocket()) continue;
      const base = {
        mode: Number(st.mode & 0o7777n),
        uid: 0,
        gid: 0,
        mtime: Number(st.mtimeNs / 1_000_000_000n) - (st.mtimeNs < 0n && st.mtimeNs % 1_000_000_000n !== 0n ? 1 : 0),
        size: 0,
      };
      if (isDir) {
        await w.add({ ...base, name: rel + '/', type: '5' });
        await walk(abs, rel);
        continue;
      }
      if (st.nlink > 1n) {
        const key = `${st.dev}:${st.ino}`;
        const first = inodes.get(key);
        if (first !== undefined) {
          await w.add({ ...base, name: rel, type: '1', linkname: first });
          continue;
        }
        inodes.set(key, rel);
      }
      let h: TarHeader;
      if (st.isSymbolicLink()) {
        h = { ...base, name: rel, type: '2', linkname: fs.readlinkSync(abs) };
      } else if (st.isCharacterDevice() || st.isBlockDevice()) {
        h = { ...base, name: rel, type: st.isCharacterDevice() ? '3' : '4', devmajor: majorOf(st.rdev), devminor: minorOf(st.rdev) };
      } else if (st.isFIFO()) {
        h = { ...base, name: rel, type: '6' };
      } else {
        try {
          await w.addFile({ ...base, name: rel, type: '0', size: Number(st.size) }, abs);
        } catch (err) {
          throw contextError(err, abs);
        }
        continue;
      }
      await w.add(h);
    }
  };

  void (async () => {
    try {
      await walk(root, '');
      await w.finish();
    } catch (err) {
      out.destroy(err as Error);
    }
  })();
  return out;
}

function contextError(err: unknown, p: string): Error {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'EACCES' || code === 'EPERM') return new Error(`error checking context: no permission to read from '${p}'`);
  if (code === 'ENOENT') return new Error(`error checking context: can't stat '${p}'`);
  return err instanceof Error ? err : new Error(String(err));
}
