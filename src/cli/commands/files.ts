import fs from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { StatusError } from '../cli';

/** Go's os.PathError text for a failed open: "open /x: no such file or directory". */
export function openError(file: string, err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  const why: Record<string, string> = {
    ENOENT: 'no such file or directory',
    EACCES: 'permission denied',
    EISDIR: 'is a directory',
    ENOTDIR: 'not a directory',
    EROFS: 'read-only file system',
  };
  return `open ${file}: ${(e.code && why[e.code]) || e.message}`;
}

/** Refuses to write a tar archive to a terminal (docker save/export without -o). */
export function refuseTerminal(output: string | undefined, out: { isTTY?: boolean }): void {
  if (!output && out.isTTY) throw new StatusError(1, 'cowardly refusing to save to a terminal. Use the -o flag or redirect');
}

/**
 * Streams an archive to the file `output`, or to stdout when it is empty. The file is written next
 * to the target and renamed into place, so a failed transfer leaves no half file. `what` prefixes
 * an open error ("failed to export container: open x: ...").
 */
export async function writeArchive(res: Readable, output: string | undefined, stdout: NodeJS.WritableStream, what = ''): Promise<void> {
  if (!output) {
    await pipeline(res, stdout, { end: false });
    return;
  }
  const abs = path.resolve(output);
  const tmp = path.join(path.dirname(abs), `.berth_temp_${process.pid}_${Date.now()}`);
  try {
    await pipeline(res, fs.createWriteStream(tmp, { mode: 0o600 }));
    fs.renameSync(tmp, abs);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    const code = (err as NodeJS.ErrnoException).code;
    throw new StatusError(1, code ? `${what}${openError(output, err)}` : (err as Error).message);
  }
}
