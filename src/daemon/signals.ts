import os from 'node:os';
import { invalidArgument } from '../core/errors';

/** Signal names (SIGTERM, TERM, term) or numbers → number; throws Docker's message when invalid. */
export function signalNumber(sig: string | number): number {
  if (typeof sig === 'number') return sig;
  const s = sig.trim();
  if (/^\d+$/.test(s)) {
    const n = Number(s);
    if (n < 1 || n > 64) throw invalidArgument(`Invalid signal: ${sig}`);
    return n;
  }
  const name = s.toUpperCase().startsWith('SIG') ? s.toUpperCase() : `SIG${s.toUpperCase()}`;
  const rt = /^SIGRTMIN(?:\+(\d+))?$/.exec(name);
  if (rt) return 34 + Number(rt[1] ?? 0);
  const n = (os.constants.signals as Record<string, number>)[name];
  if (n === undefined) throw invalidArgument(`Invalid signal: ${sig}`);
  return n;
}
