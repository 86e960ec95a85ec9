/**
 * `berth events`: the daemon's event stream, as docker prints it — one line per event
 * ("<time> <type> <action> <id> (k=v, ...)") or through --format (a Go template; "json").
 * --since/--until take what `docker events` takes (durations, dates, Unix timestamps).
 */
import { StatusError, type CommandSpec } from '../cli';
import { FormatError, parseFormat } from '../output';
import { TemplateError } from '../format/gotemplate';
import { applyTimeRange } from '../timestamps';
import { FILTER_FLAG, filtersJson } from './filters';
import type { Query } from '../../client/engine';
import { lines } from '../../util/streams';

/** One event as the template sees it: Go's events.Message field names; `json` prints the daemon's line. */
export class EventRow {
  Status?: string;
  ID?: string;
  From?: string;
  Type = '';
  Action = '';
  Actor: { ID: string; Attributes: Record<string, string> } = { ID: '', Attributes: {} };
  Scope = '';
  Time = 0;
  TimeNano = 0n;

  constructor(private readonly line: string) {
    const m = JSON.parse(line) as Record<string, any>;
    if (m.status !== undefined) this.Status = m.status as string;
    if (m.id !== undefined) this.ID = m.id as string;
    if (m.from !== undefined) this.From = m.from as string;
    this.Type = (m.Type as string) ?? '';
    this.Action = (m.Action as string) ?? '';
    this.Actor = { ID: (m.Actor?.ID as string) ?? '', Attributes: (m.Actor?.Attributes as Record<string, string>) ?? {} };
    this.Scope = (m.scope as string) ?? '';
    this.Time = (m.time as number) ?? 0;
    // Nanoseconds since 1970 exceed a double's precision: read the digits themselves.
    const nano = /"timeNano":(\d+)/.exec(line);
    this.TimeNano = nano ? BigInt(nano[1]) : BigInt(this.Time) * 1_000_000_000n;
  }

  marshalJSON(): string {
    return this.line;
  }
}

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

/** Go's RFC3339NanoFixed in local time: 2006-01-02T15:04:05.000000000Z07:00. */
export function rfc3339NanoFixed(nanos: bigint): string {
  const ms = Number(nanos / 1_000_000n);
  const d = new Date(ms);
  const frac = String(nanos % 1_000_000_000n).padStart(9, '0');
  const off = -d.getTimezoneOffset();
  const zone = off === 0 ? 'Z' : `${off > 0 ? '+' : '-'}${pad(Math.floor(Math.abs(off) / 60))}:${pad(Math.abs(off) % 60)}`;
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${frac}${zone}`;
}

/** docker's prettyPrintEvent. */
export function prettyEvent(e: EventRow): string {
  let out = e.TimeNano !== 0n ? `${rfc3339NanoFixed(e.TimeNano)} ` : '';
  out += `${e.Type} ${e.Action} ${e.Actor.ID}`;
  const keys = Object.keys(e.Actor.Attributes).sort();
  if (keys.length) out += ` (${keys.map((k) => `${k}=${e.Actor.Attributes[k]}`).join(', ')})`;
  return out + '\n';
}

export const eventsCommand: CommandSpec = {
  name: 'events',
  use: '[OPTIONS]',
  short: 'Get real time events from the server',
  args: { kind: 'none' },
  flags: [
    FILTER_FLAG,
    { name: 'format', type: 'string', description: "Format output using a custom template:\n'json':             Print in JSON format\n'TEMPLATE':         Print output using the given Go template." },
    { name: 'since', type: 'string', description: 'Show all events created since timestamp' },
    { name: 'until', type: 'string', description: 'Stream events until this timestamp' },
  ],
  async run(cli, f) {
    const q: Query = { filters: filtersJson(f.list('filter')) };
    applyTimeRange(f, q);
    const format = f.string('format');
    let render = prettyEvent;
    if (format) {
      let tmpl: ReturnType<typeof parseFormat>;
      try {
        tmpl = parseFormat(format);
      } catch (err) {
        if (err instanceof FormatError) throw new StatusError(64, err.message);
        throw err;
      }
      render = (e) => {
        try {
          return tmpl.execute(e) + '\n';
        } catch (err) {
          if (err instanceof TemplateError) throw new StatusError(1, err.message);
          throw err;
        }
      };
    }
    const res = await cli.engine().stream('GET', '/events', { query: q });
    for await (const line of lines(res)) cli.out(render(new EventRow(line)));
  },
};
