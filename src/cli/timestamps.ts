/**
 * docker's timetypes.GetTimestamp, which turns `--since`/`--until` values into what the Engine
 * API takes: a relative duration ("42m", "1h30m") becomes now minus it in whole seconds; an
 * RFC 3339 date or date-time (local time when it carries no zone) becomes "seconds.nanoseconds";
 * a Unix timestamp ("1700000000", "1700000000.5") passes through unchanged.
 */
import type { Query } from '../client/engine';
import { StatusError } from './cli';
import { parseGoDuration, type ParsedFlags } from './flags';

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2})(?::(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?)?([zZ]|[+-]\d{2}:\d{2})?$/;

export function getTimestamp(value: string, nowMs: number = Date.now()): string {
  if (value !== '0') {
    const d = parseGoDuration(value);
    if (d !== undefined) return String(Math.floor((nowMs - d / 1e6) / 1000));
  }
  const m = DATE_RE.exec(value);
  if (m) {
    const [, y, mo, da, h, mi, s, frac, zone] = m;
    const fields = [Number(y), Number(mo) - 1, Number(da), Number(h ?? 0), Number(mi ?? 0), Number(s ?? 0)] as const;
    let ms: number;
    if (zone) {
      ms = Date.UTC(...fields);
      if (zone !== 'Z' && zone !== 'z') {
        const sign = zone[0] === '-' ? -1 : 1;
        ms -= sign * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6))) * 60000;
      }
    } else {
      ms = new Date(...fields).getTime();
    }
    const check = new Date(Date.UTC(fields[0], fields[1], fields[2]));
    if (Number.isNaN(ms) || check.getUTCMonth() !== fields[1] || check.getUTCDate() !== fields[2] || fields[3] > 23 || fields[4] > 59 || fields[5] > 59) {
      throw new Error(`parsing time ${JSON.stringify(value)}: value out of range`);
    }
    const nanos = (frac ?? '').padEnd(9, '0');
    return `${Math.floor(ms / 1000)}.${nanos}`;
  }
  if (value.includes('-')) {
    throw new Error(`parsing time ${JSON.stringify(value)}: cannot parse as RFC 3339 date-time`);
  }
  if (/^\d+(\.\d{1,9})?$/.test(value)) return value;
  throw new Error(`failed to parse value as time or duration: ${JSON.stringify(value)}`);
}

/** Sets the query's since/until from --since/--until (logs, events); a bad value exits 1. */
export function applyTimeRange(f: ParsedFlags, q: Query, nowMs: number = Date.now()): void {
  try {
    if (f.string('since')) q.since = getTimestamp(f.string('since'), nowMs);
    if (f.string('until')) q.until = getTimestamp(f.string('until'), nowMs);
  } catch (err) {
    throw new StatusError(1, (err as Error).message);
  }
}
