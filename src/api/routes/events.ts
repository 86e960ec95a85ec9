/**
 * GET /events: buffered events in [since, until], then live ones. A past `until` ends the
 * reply after the buffered part; a future one ends the stream when it comes.
 */
import type { Router } from '../server';
import { filtersParam } from '../server';
import { invalidArgument } from '../../core/errors';
import type { Daemon } from '../../daemon/daemon';
import { eventJSON, eventMatches } from '../../daemon/events';

/** Docker's timestamps: "seconds[.fraction]" since the epoch, in nanoseconds; '' is none. */
export function parseEventTime(v: string | null): bigint | undefined {
  if (v === null || v === '') return undefined;
  const m = /^(-?\d+)(?:\.(\d+))?$/.exec(v);
  if (!m) throw invalidArgument(`invalid timestamp: ${JSON.stringify(v)}`);
  const frac = (m[2] ?? '').slice(0, 9).padEnd(9, '0');
  return BigInt(m[1]) * 1_000_000_000n + BigInt(frac);
}

export function eventRoutes(r: Router, d: Daemon): void {
  r.add('GET', /^\/events$/, (ctx) => {
    const since = parseEventTime(ctx.query.get('since'));
    const until = parseEventTime(ctx.query.get('until'));
    if (since !== undefined && until !== undefined && until < since) {
      throw invalidArgument(`\`since\` time (${ctx.query.get('since')}) cannot be after \`until\` time (${ctx.query.get('until')})`);
    }
    const filters = filtersParam(ctx.query);
    const res = ctx.res!;
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.flushHeaders();
    const now = BigInt(Date.now()) * 1_000_000n;
    const onlyPast = until !== undefined && until < now;
    const sub = d.events.subscribe(since, until, (e) => eventMatches(filters, e), (e) => res.write(eventJSON(e) + '\n'));
    for (const e of sub.buffered) res.write(eventJSON(e) + '\n');
    let timer: NodeJS.Timeout | undefined;
    let finished = false;
    const finish = (): void => {
      if (finished) return;
      finished = true;
      sub.cancel();
      if (timer) clearTimeout(timer);
      res.end();
    };
    if (onlyPast) return finish();
    if (until !== undefined) timer = setTimeout(finish, Number((until - now) / 1_000_000n) + 1);
    // The client went away (or the reply ended): no more events for it.
    res.on('close', finish);
  });
}
