/** The filters the prune endpoints share: until (created before) and label / label!. */
import { invalidArgument } from '../../core/errors';

export function checkFilters(f: Record<string, string[]>, allowed: string[]): void {
  for (const k of Object.keys(f)) if (!allowed.includes(k)) throw invalidArgument(`invalid filter '${k}'`);
  if ((f.until?.length ?? 0) > 1) throw invalidArgument('more than one until filter specified');
}

/** Docker's `until`: a Unix timestamp, an RFC 3339 date, or a Go duration back from now. */
export function parseUntil(v: string, now = Date.now()): number {
  if (/^\d+(\.\d+)?$/.test(v)) return Number(v) * 1000;
  const units: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g;
  if (/^-?((\d+(\.\d+)?)(ns|us|µs|ms|s|m|h))+$/.test(v)) {
    let ms = 0;
    for (const m of v.matchAll(re)) ms += Number(m[1]) * units[m[2]];
    return v.startsWith('-') ? now + ms : now - ms;
  }
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw invalidArgument(`invalid filter 'until=${v}'`);
  return t;
}

export function createdBefore(created: string | number, f: Record<string, string[]>): boolean {
  const u = f.until?.[0];
  if (!u) return true;
  const t = typeof created === 'number' ? created * 1000 : new Date(created).getTime();
  return t < parseUntil(u);
}

function hasLabel(labels: Record<string, string>, spec: string): boolean {
  const eq = spec.indexOf('=');
  if (eq < 0) return spec in labels;
  return labels[spec.slice(0, eq)] === spec.slice(eq + 1);
}

/** label=k[=v]: all must match; label!=k[=v]: none may. */
export function labelsMatch(labels: Record<string, string>, f: Record<string, string[]>): boolean {
  if (!(f.label ?? []).every((l) => hasLabel(labels, l))) return false;
  return !(f['label!'] ?? []).some((l) => hasLabel(labels, l));
}
