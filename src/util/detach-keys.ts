/**
 * Detach keys (`--detach-keys`, default ctrl-p,ctrl-q): the byte sequence that ends an attach
 * without touching the container. Both berthd (the API's `detachKeys`) and the berth CLI scan
 * TTY input with EscapeFilter, as dockerd and the docker CLI both do.
 */
export const DEFAULT_DETACH_KEYS = 'ctrl-p,ctrl-q';

const CTRL_SPECIAL: Record<string, number> = { '@': 0, '[': 27, '\\': 28, ']': 29, '^': 30, _: 31 };

/** "ctrl-p,ctrl-q" -> [0x10, 0x11]; a single character stands for itself. Throws on bad input. */
export function parseDetachKeys(spec: string): Buffer {
  const out: number[] = [];
  for (const raw of spec.split(',')) {
    const k = raw.trim();
    if (k.length === 1) {
      out.push(k.charCodeAt(0));
      continue;
    }
    const m = /^ctrl-(.)$/i.exec(k);
    if (!m) throw new Error(`Invalid detach keys (${spec}) provided`);
    const ch = m[1].toLowerCase();
    if (ch >= 'a' && ch <= 'z') out.push(ch.charCodeAt(0) - 96);
    else if (ch in CTRL_SPECIAL) out.push(CTRL_SPECIAL[ch]);
    else throw new Error(`Invalid detach keys (${spec}) provided`);
  }
  return Buffer.from(out);
}

/**
 * Passes input through until the detach sequence has been typed. A partial match is held
 * back and released when the next byte breaks it, so that the sequence itself never reaches
 * the container.
 */
export class EscapeFilter {
  private matched = 0;

  constructor(private readonly keys: Buffer) {}

  push(chunk: Buffer): { data: Buffer; detached: boolean } {
    if (this.keys.length === 0) return { data: chunk, detached: false };
    const out: number[] = [];
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i];
      if (b === this.keys[this.matched]) {
        this.matched++;
        if (this.matched === this.keys.length) return { data: Buffer.from(out), detached: true };
        continue;
      }
      // The held-back prefix was ordinary input after all.
      for (let j = 0; j < this.matched; j++) out.push(this.keys[j]);
      this.matched = 0;
      if (b === this.keys[0]) this.matched = 1;
      else out.push(b);
    }
    return { data: Buffer.from(out), detached: false };
  }
}
