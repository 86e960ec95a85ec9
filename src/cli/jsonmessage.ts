/**
 * Prints a daemon progress stream (load, import, pull) as docker's jsonmessage package does:
 * `stream` text as-is, `status` lines prefixed with their `id`, progress bars only on a terminal
 * (redrawn in place per id), and the first `error`/`errorDetail` ends the display with that error.
 */
import { jsonMessages, messageError, type JsonMessage } from '../client/engine';

export class JsonMessageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JsonMessageError';
  }
}

interface Out {
  write(s: string): unknown;
  isTTY?: boolean;
}

/** What the progress bar reads; "" when there is none (docker's JSONProgress.String). */
function progressText(m: JsonMessage): string {
  if (m.progress) return m.progress;
  const d = m.progressDetail;
  const current = d?.current ?? 0;
  const total = d?.total ?? 0;
  if (current <= 0 && total <= 0) return '';
  return total > 0 ? `${current}/${total}` : `${current}`;
}

/**
 * Displays every message of `stream` on `out`; resolves with the `aux` payloads seen (image IDs
 * of a load, for example) and rejects with JsonMessageError on an error message.
 */
export async function displayJsonMessages(stream: AsyncIterable<Buffer | string>, out: Out): Promise<unknown[]> {
  const tty = !!out.isTTY;
  const aux: unknown[] = [];
  // On a terminal each id with progress owns a line; its later messages move the cursor up to
  // redraw it, then back down.
  let ids = new Map<string, number>();
  for await (const m of jsonMessages(stream)) {
    const err = messageError(m);
    if (err !== undefined) throw new JsonMessageError(err);
    if (m.aux !== undefined) {
      aux.push(m.aux);
      continue;
    }
    const hasProgress = m.progress !== undefined || m.progressDetail !== undefined;
    let diff = 0;
    if (m.id && hasProgress) {
      let line = ids.get(m.id);
      if (line === undefined) {
        line = ids.size;
        ids.set(m.id, line);
        if (tty) out.write('\n');
      }
      diff = ids.size - line;
      if (tty && diff > 0) out.write(`\x1b[${diff}A`);
    } else {
      ids = new Map();
    }
    display(m, out, tty);
    if (m.id && tty && diff > 0) out.write(`\x1b[${diff}B`);
  }
  return aux;
}

/** jsonmessage.JSONMessage.Display */
function display(m: JsonMessage, out: Out, tty: boolean): void {
  const progress = progressText(m);
  let endl = '';
  if (tty && m.stream === undefined && (m.progress !== undefined || m.progressDetail !== undefined)) {
    out.write('\r\x1b[2K');
    endl = '\r';
    out.write(endl);
  } else if (progress !== '') {
    // No progress bars off a terminal.
    return;
  }
  let text = '';
  if (m.id) text += `${m.id}: `;
  if (progress !== '' && tty) text += `${m.status ?? ''} ${progress}${endl}`;
  else if (m.stream !== undefined) text += `${m.stream}${endl}`;
  else text += `${m.status ?? ''}${endl}\n`;
  out.write(text);
}
