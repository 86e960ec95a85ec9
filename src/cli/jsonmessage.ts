/**
 * Prints a daemon progress stream (load, import, pull, push) as docker's jsonmessage package
 * (DisplayJSONMessagesStream) does:
 *  - `stream` text as-is, `status` lines prefixed with their `id`;
 *  - a message with an `id` and a `progressDetail` owns a line: on a terminal that line is
 *    redrawn in place (cursor up to it, erase, write, cursor back down), and the bar is drawn
 *    here from `progressDetail` and the terminal's width, as docker's JSONProgress.String does;
 *  - off a terminal, messages that carry a bar are skipped and the others print one per line;
 *  - any message without such an id resets the set of owned lines;
 *  - the first `errorDetail` (or `error`) ends the display with that error.
 */
import { jsonMessages, messageError, type JsonMessage } from '../client/engine';

export class JsonMessageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JsonMessageError';
  }
}

export interface Out {
  write(s: string): unknown;
  isTTY?: boolean;
  /** Terminal width (tty.WriteStream#columns); 200 when unknown, as in docker. */
  columns?: number;
}

export interface DisplayOptions {
  /** Called for each `aux` message instead of displaying it. */
  onAux?: (aux: unknown) => void;
  /** The current time in ms, for the time-left estimate (tests override it). */
  now?: () => number;
}

type Progress = NonNullable<JsonMessage['progressDetail']> & {
  start?: number;
  hidecounts?: boolean;
  units?: string;
};

/** go-units HumanSize: decimal units, 4 significant digits ("1.235MB", "512B"). */
export function humanSize(size: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB', 'ZB', 'YB'];
  let i = 0;
  while (size >= 1000 && i < units.length - 1) {
    size /= 1000;
    i++;
  }
  return `${String(Number(size.toPrecision(4)))}${units[i]}`;
}

/** Go's time.Duration.String() for whole seconds: "0s", "42s", "3m5s", "1h0m2s". */
function goSeconds(total: number): string {
  if (total === 0) return '0s';
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  if (h > 0) return `${h}h${m}m${s}s`;
  if (m > 0) return `${m}m${s}s`;
  return `${s}s`;
}

/** jsonmessage.JSONProgress.String: "[==>   ]  1.2MB/3.4MB 5s", or "" when there is nothing to show. */
export function progressString(p: Progress, width: number, now: number = Date.now()): string {
  const current = p.current ?? 0;
  const total = p.total ?? 0;
  if (current <= 0 && total <= 0) return '';
  if (total <= 0) return p.units ? `${current} ${p.units}` : humanSize(current).padStart(8);
  const percentage = Math.min(50, Math.trunc(Math.trunc((current / total) * 100) / 2));
  let bar = '';
  if (width > 110) bar = `[${'='.repeat(percentage)}>${' '.repeat(Math.max(0, 50 - percentage))}] `;
  let numbers = '';
  if (p.hidecounts) {
    numbers = '';
  } else if (!p.units) {
    numbers = current > total ? humanSize(current).padStart(8) : `${humanSize(current).padStart(8)}/${humanSize(total)}`;
  } else {
    numbers = current > total ? `${current} ${p.units}` : `${current}/${total} ${p.units}`;
  }
  let left = '';
  if (width > 50 && current > 0 && p.start && p.start > 0 && percentage < 50) {
    const fromStartMs = now - p.start * 1000;
    const perEntry = fromStartMs / current;
    left = ` ${goSeconds(Math.round(((total - current) * perEntry) / 1000))}`;
  }
  return bar + numbers + left;
}

const hasProgress = (m: JsonMessage): boolean => m.progressDetail !== undefined && m.progressDetail !== null;

/**
 * Displays every message of `stream` on `out`; resolves with the `aux` payloads seen (image IDs
 * of a load, the digest of a push) and rejects with JsonMessageError on an error message.
 */
export async function displayJsonMessages(stream: AsyncIterable<Buffer | string>, out: Out, opts: DisplayOptions = {}): Promise<unknown[]> {
  const tty = !!out.isTTY;
  const aux: unknown[] = [];
  let ids = new Map<string, number>();
  for await (const m of jsonMessages(stream)) {
    if (m.aux !== undefined && m.aux !== null) {
      aux.push(m.aux);
      opts.onAux?.(m.aux);
      continue;
    }
    let diff = 0;
    if (m.id && (hasProgress(m) || m.progress)) {
      let line = ids.get(m.id);
      if (line === undefined) {
        // The line count is the map's size: valid only because the map is cleared whenever
        // something else is printed.
        line = ids.size;
        ids.set(m.id, line);
        if (tty) out.write('\n');
      }
      diff = ids.size - line;
      if (tty && diff > 0) out.write(`\x1b[${diff}A`);
    } else {
      ids = new Map();
    }
    const err = messageError(m);
    if (err === undefined) display(m, out, tty, opts.now?.() ?? Date.now());
    if (m.id && tty && diff > 0) out.write(`\x1b[${diff}B`);
    if (err !== undefined) throw new JsonMessageError(err);
  }
  return aux;
}

/** jsonmessage.JSONMessage.Display */
function display(m: JsonMessage & { from?: string }, out: Out, tty: boolean, now: number): void {
  const detail = hasProgress(m) ? (m.progressDetail as Progress) : undefined;
  const width = out.columns && out.columns > 0 ? out.columns : 200;
  let endl = '';
  if (tty && !m.stream && detail) {
    out.write('\x1b[2K\r');
    endl = '\r';
  } else if (detail && progressString(detail, width, now) !== '') {
    // No progress bars off a terminal.
    return;
  }
  let text = '';
  if (m.id) text += `${m.id}: `;
  if (m.from) text += `(from ${m.from}) `;
  if (detail && tty) text += `${m.status ?? ''} ${progressString(detail, width, now)}${endl}`;
  else if (m.progress) text += `${m.status ?? ''} ${m.progress}${endl}`;
  else if (m.stream) text += `${m.stream}${endl}`;
  else text += `${m.status ?? ''}${endl}\n`;
  out.write(text);
}
