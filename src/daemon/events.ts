/**
 * The daemon's event bus: every event is kept in a ring of the last EVENTS_LIMIT (Docker keeps
 * 256) for `since` queries and handed to the live subscribers of GET /events.
 *
 * Messages have Docker's shape, including the legacy `status`/`id`/`from` fields that Docker
 * fills for container and image events. `timeNano` is exact (a bigint) and serialised by hand,
 * because nanoseconds since 1970 do not fit a double.
 */
import { EventEmitter } from 'node:events';

export const EVENTS_LIMIT = 256;

export interface DaemonEvent {
  status?: string;
  id?: string;
  from?: string;
  Type: string;
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
  scope: 'local';
  time: number;
  timeNano: bigint;
}

/** Docker's field order, with timeNano as an exact integer. */
export function eventJSON(e: DaemonEvent): string {
  const { timeNano, ...rest } = e;
  return `${JSON.stringify(rest).slice(0, -1)},"timeNano":${timeNano.toString()}}`;
}

/** Nanoseconds since the epoch: the wall clock's milliseconds plus the monotonic clock's finer part. */
let lastNano = 0n;
function nowNano(): bigint {
  const ms = BigInt(Date.now());
  const sub = process.hrtime.bigint() % 1_000_000n;
  let t = ms * 1_000_000n + sub;
  // Strictly increasing, so `since` = an event's own time never skips a later one.
  if (t <= lastNano) t = lastNano + 1n;
  lastNano = t;
  return t;
}

export function makeEvent(type: string, action: string, id: string, attrs: Record<string, string>): DaemonEvent {
  const t = nowNano();
  const legacy: Partial<DaemonEvent> = {};
  if (type === 'container' || type === 'image') {
    legacy.status = action;
    legacy.id = id;
    if (type === 'container' && attrs.image) legacy.from = attrs.image;
  }
  return { ...legacy, Type: type, Action: action, Actor: { ID: id, Attributes: attrs }, scope: 'local', time: Number(t / 1_000_000_000n), timeNano: t };
}

export class EventBus extends EventEmitter {
  private readonly ring: DaemonEvent[] = [];

  constructor(private readonly limit = EVENTS_LIMIT) {
    super();
    this.setMaxListeners(0);
  }

  publish(e: DaemonEvent): void {
    this.ring.push(e);
    if (this.ring.length > this.limit) this.ring.shift();
    this.emit('event', e);
  }

  /**
   * Buffered events in [since, until] that pass `include` (Docker returns none unless a since or
   * an until is given), then live ones through `onEvent` until the returned function is called.
   */
  subscribe(since: bigint | undefined, until: bigint | undefined, include: (e: DaemonEvent) => boolean, onEvent: (e: DaemonEvent) => void): { buffered: DaemonEvent[]; cancel: () => void } {
    const buffered: DaemonEvent[] = [];
    if (since !== undefined || until !== undefined) {
      for (const e of this.ring) {
        if (since !== undefined && e.timeNano < since) continue;
        if (until !== undefined && e.timeNano > until) continue;
        if (include(e)) buffered.push(e);
      }
    }
    const listener = (e: DaemonEvent): void => {
      if (include(e)) onEvent(e);
    };
    this.on('event', listener);
    return { buffered, cancel: () => this.off('event', listener) };
  }
}

// ---- filters (Docker's daemon/events/filter.go semantics) ----

type Filters = Record<string, string[]>;

const exact = (f: Filters, key: string, v: string): boolean => !f[key]?.length || f[key].includes(v);
const fuzzy = (f: Filters, key: string, v: string): boolean => exact(f, key, v) || f[key].some((p) => v.startsWith(p));

/** An image reference without its tag or digest, familiar form (docker.io/library/ dropped). */
function stripTag(ref: string): string {
  let r = ref.replace(/@.*$/, '');
  const slash = r.lastIndexOf('/');
  const colon = r.lastIndexOf(':');
  if (colon > slash) r = r.slice(0, colon);
  return r.replace(/^docker\.io\/(library\/)?/, '');
}

/** `label=k` or `label=k=v`: every one must match the event's attributes. */
function labelsMatch(values: string[], attrs: Record<string, string>): boolean {
  return values.every((v) => {
    const eq = v.indexOf('=');
    if (eq < 0) return Object.prototype.hasOwnProperty.call(attrs, v);
    return attrs[v.slice(0, eq)] === v.slice(eq + 1);
  });
}

/** Whether the event passes the `filters` of GET /events. */
export function eventMatches(f: Filters, e: DaemonEvent): boolean {
  const attrs = e.Actor.Attributes;
  const name = attrs.name ?? '';
  const byName = (type: string): boolean => fuzzy(f, type, e.Actor.ID) || fuzzy(f, type, name);
  // A bare health_status / exec_create / exec_start matches the actions that carry a suffix.
  const prefixed = (f.event ?? []).some((v) => ['health_status', 'exec_create', 'exec_start'].includes(v));
  if (!(prefixed ? fuzzy(f, 'event', e.Action) : exact(f, 'event', e.Action))) return false;
  if (!exact(f, 'type', e.Type) || !exact(f, 'scope', e.scope)) return false;
  for (const t of ['daemon', 'container', 'plugin', 'volume', 'network', 'service', 'node', 'secret', 'config']) if (!byName(t)) return false;
  const imageName = (e.Type === 'image' ? attrs.name : attrs.image) ?? '';
  if (f.image?.length && ![e.Actor.ID, imageName, stripTag(e.Actor.ID), stripTag(imageName)].some((v) => f.image.includes(v))) return false;
  if (f.label?.length && !labelsMatch(f.label, attrs)) return false;
  return true;
}
