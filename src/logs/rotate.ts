/**
 * Log rotation by berth, for `--log-opt max-size=... max-file=...`.
 *
 * conmon writes the log; its own --log-size-max does not rotate: past the size it renames a new
 * empty file over the log, and the lines in the old one are gone. So berth rotates: once the
 * log reaches max-size it shifts container.log.N-1 → .N ..., renames container.log to .1 and
 * asks conmon through its ctl FIFO to reopen its log path (a new file; conmon 2.1 ignores
 * SIGUSR1). conmon keeps writing
 * into the renamed file until it reopens, so no line is lost, and readers that hold the old file
 * open drain it before they move to the new one (k8sfile.ts LogFollower).
 *
 * conmon's --log-size-max stays as a hard cap for when berthd is not there to rotate. Because
 * conmon counts bytes over all files (a reopen does not reset its count), its cap also fires while
 * berthd runs; a hard link (".<log>.hold") to the current file keeps those lines: when the log
 * path names a new file that berth did not ask for, the held one becomes .1.
 */
import fs from 'node:fs';
import path from 'node:path';
import { rotationOf, type LogConfig, type Rotation } from './config';

/** The log and its rotated predecessors, oldest first (container.log.N ... .1, container.log). */
export function logFiles(file: string): string[] {
  const base = path.basename(file);
  let names: string[];
  try {
    names = fs.readdirSync(path.dirname(file));
  } catch {
    return [file];
  }
  const rotated = names
    .map((n) => (n.startsWith(`${base}.`) ? Number(n.slice(base.length + 1)) : NaN))
    .filter((n) => Number.isInteger(n) && n > 0)
    .sort((a, b) => b - a)
    .map((n) => `${file}.${n}`);
  return [...rotated, file];
}

/**
 * conmon's hard cap for a rotation: a full set of files, at least 16 MiB. conmon counts bytes
 * over all the files it writes, so the cap also fires while berthd rotates; the held link keeps
 * one such file, and a large cap makes two of them between two checks (the only way to lose
 * lines) take a writer of more than 80 MB/s.
 */
export function conmonSizeCap(rot: Rotation): number {
  return rot.maxSize > 0 ? Math.max(rot.maxSize * rot.maxFile, 16 << 20) : 0;
}

export class LogRotator {
  private readonly hold: string;
  private timer?: NodeJS.Timeout;
  private watcher?: fs.FSWatcher;
  private pending?: NodeJS.Timeout;

  /** @param reopen asks the writer (conmon) to reopen the log path */
  constructor(
    private readonly file: string,
    private readonly rot: Rotation,
    private readonly reopen: () => void,
  ) {
    this.hold = path.join(path.dirname(file), `.${path.basename(file)}.hold`);
  }

  start(): this {
    if (this.rot.maxSize <= 0) return this;
    try {
      this.watcher = fs.watch(path.dirname(this.file), (_ev, name) => {
        // A busy writer makes an event per write: one check per 20 ms is enough.
        if ((!name || String(name) === path.basename(this.file)) && !this.pending) {
          this.pending = setTimeout(() => {
            this.pending = undefined;
            this.check();
          }, 20);
        }
      });
      this.watcher.on('error', () => undefined);
    } catch {
      /* the poll below still works */
    }
    this.timer = setInterval(() => this.check(), 200);
    this.timer.unref();
    this.check();
    return this;
  }

  stop(): void {
    this.watcher?.close();
    if (this.timer) clearInterval(this.timer);
    if (this.pending) clearTimeout(this.pending);
    this.timer = undefined;
    this.pending = undefined;
    this.watcher = undefined;
  }

  /** A last check (the writer has gone: what a burst left over max-size is rotated now), then stop. */
  finish(): void {
    this.stop();
    this.check();
  }

  /** Rotates when the log has reached max-size; keeps what conmon's own cap replaced. */
  check(): void {
    let st: fs.Stats;
    try {
      st = fs.statSync(this.file);
    } catch {
      return; // renamed by us, conmon has not reopened yet
    }
    if (this.rot.maxFile === 1) fs.rmSync(`${this.file}.1`, { force: true }); // the writer has moved on
    let held: fs.Stats | undefined;
    try {
      held = fs.statSync(this.hold);
    } catch {
      held = undefined;
    }
    if (held && held.ino !== st.ino) {
      this.shift();
      this.moveTo1(this.hold);
      held = undefined;
    }
    if (!held) {
      try {
        fs.linkSync(this.file, this.hold);
      } catch {
        /* raced with a rename: the next check links */
      }
    }
    if (st.size >= this.rot.maxSize) {
      this.shift();
      this.moveTo1(this.file);
      fs.rmSync(this.hold, { force: true });
      this.reopen();
    }
  }

  /** Makes room for a new .1: the oldest file goes, the others move up by one. */
  private shift(): void {
    const keep = this.rot.maxFile - 1; // rotated files to keep
    for (const f of logFiles(this.file).slice(0, -1)) {
      const n = Number(f.slice(this.file.length + 1));
      if (n >= keep) fs.rmSync(f, { force: true });
    }
    for (let n = keep - 1; n >= 1; n--) {
      try {
        fs.renameSync(`${this.file}.${n}`, `${this.file}.${n + 1}`);
      } catch {
        /* absent */
      }
    }
  }

  private moveTo1(from: string): void {
    try {
      fs.renameSync(from, `${this.file}.1`);
    } catch {
      /* gone already */
    }
  }
}

/**
 * The running rotator for a container's log (none when its LogConfig never rotates). `ctl` is
 * conmon's control FIFO in the bundle: the message "2 0 0" makes conmon reopen its log path.
 */
export function startRotation(file: string, lc: LogConfig | undefined, ctl: string): LogRotator | undefined {
  const rot = rotationOf(normalized(lc));
  if (rot.maxSize <= 0) return undefined;
  return new LogRotator(file, rot, () => {
    let fd: number | undefined;
    try {
      // Non-blocking: with conmon gone there is no reader and the open fails instead of hanging.
      fd = fs.openSync(ctl, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
      fs.writeSync(fd, '2 0 0\n');
    } catch {
      /* conmon has gone with its container */
    } finally {
      if (fd !== undefined) fs.closeSync(fd);
    }
  }).start();
}

/** conmon's --log-size-max for a container's LogConfig (0: none). */
export function conmonLogCap(lc: LogConfig | undefined): number {
  return conmonSizeCap(rotationOf(normalized(lc)));
}

function normalized(lc: LogConfig | undefined): LogConfig {
  return { Type: lc?.Type || 'json-file', Config: lc?.Config ?? {} };
}
