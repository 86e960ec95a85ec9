/**
 * Volumes: the `local` driver, with Docker's names, options, errors and JSON.
 *
 * A volume is a directory <data-root>/volumes/<name>/_data and a row in the metadata DB (driver,
 * labels, options, creation time, anonymous or named). Which containers use a volume is not
 * kept here: the container records say it (the `references` callback asks them), so a volume is
 * "in use" exactly while some container, running or not, names it, and that survives crashes.
 *
 * Volumes created with mount options (`-o type=tmpfs,device=tmpfs,o=size=10m`,
 * `-o type=none,o=bind,device=/path`) are mounted on their _data directory while a container
 * uses them: mount() and unmount() count references (one per container id), the first mounts,
 * the last unmounts. Those counts live in memory; after a restart of berthd, restore() counts
 * the containers that are still running and sweep() unmounts what nothing holds.
 */
import fs from 'node:fs';
import path from 'node:path';
import { EventEmitter } from 'node:events';
import type { DB } from '../daemon/db';
import { conflict, invalidArgument, notFound, BerthError } from '../core/errors';
import { randomHex } from '../util/digest';
import { native, MNT_DETACH } from '../util/native';
import { matchLabel } from '../image/service';
import { MS, PROPAGATION_TYPES, parseMountOptions } from './mountopts';
import { isMountPoint } from './mountinfo';
import { directorySize } from '../util/dirsize';
import { linearRegExp } from '../util/regex';

/** Docker marks volumes created without a name (API ≥ 1.42 prunes only these by default). */
export const ANONYMOUS_LABEL = 'com.docker.volume.anonymous';
export const VALID_VOLUME_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;
const VALID_OPTS = new Set(['type', 'o', 'device', 'size']);

export interface Volume {
  name: string;
  driver: string;
  /** ISO time */
  created: string;
  anonymous: boolean;
  labels: Record<string, string> | null;
  options: Record<string, string> | null;
}

export interface VolumeCreate {
  name?: string;
  driver?: string;
  options?: Record<string, string> | null;
  labels?: Record<string, string> | null;
}

export interface VolumeServiceOptions {
  /** <data-root>/volumes */
  root: string;
  /** Ids of the containers (running or not) whose mounts name the volume, oldest first. */
  references(name: string): string[];
  /** Names of all volumes some container references. */
  referenced(): Set<string>;
}

/** Go's strconv.ParseBool. */
export function parseGoBool(v: string): boolean | undefined {
  if (['1', 't', 'T', 'true', 'TRUE', 'True'].includes(v)) return true;
  if (['0', 'f', 'F', 'false', 'FALSE', 'False'].includes(v)) return false;
  return undefined;
}

/** Go's time.Format(time.RFC3339) in the local zone. */
export function rfc3339(iso: string): string {
  const d = new Date(iso);
  const off = -d.getTimezoneOffset();
  const base = new Date(d.getTime() + off * 60_000).toISOString().slice(0, 19);
  if (off === 0) return `${base}Z`;
  const a = Math.abs(off);
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${base}${off > 0 ? '+' : '-'}${pad(Math.floor(a / 60))}:${pad(a % 60)}`;
}

function cmpVersion(a: string, b: string): number {
  const [a1, a2] = a.split('.').map(Number);
  const [b1, b2] = b.split('.').map(Number);
  return a1 - b1 || a2 - b2;
}


/** A map as Go's encoding/json writes it: keys sorted. */
function sortedMap(m: Record<string, string> | null): Record<string, string> | null {
  return m && Object.fromEntries(Object.entries(m).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** Go's error text for an errno (strerror, lower-cased as Go's syscall.Errno strings are). */
function errnoText(e: unknown): string {
  const m = /^[a-z0-9]+ [^:]*: (.*)$/.exec((e as Error).message ?? '');
  const s = m ? m[1] : String((e as Error).message ?? e);
  return s.charAt(0).toLowerCase() + s.slice(1);
}

export class VolumeService extends EventEmitter {
  /** Containers holding each mounted volume (volumes with mount options only). */
  private readonly active = new Map<string, Set<string>>();

  constructor(
    private readonly db: DB,
    private readonly opts: VolumeServiceOptions,
  ) {
    super();
    fs.mkdirSync(opts.root, { recursive: true, mode: 0o701 });
  }

  dataPath(name: string): string {
    return path.join(this.opts.root, name, '_data');
  }

  // ---- records ----

  private row(name: string): Volume | undefined {
    const r = this.db.prepare('SELECT * FROM volumes WHERE name = ?').get(name) as
      | { name: string; driver: string; created: string; anonymous: number; labels: string | null; options: string | null }
      | undefined;
    if (!r) return undefined;
    return {
      name: r.name,
      driver: r.driver,
      created: r.created,
      anonymous: !!r.anonymous,
      labels: r.labels === null ? null : (JSON.parse(r.labels) as Record<string, string>),
      options: r.options === null ? null : (JSON.parse(r.options) as Record<string, string>),
    };
  }

  tryGet(name: string): Volume | undefined {
    return this.row(name);
  }

  get(name: string): Volume {
    const v = this.row(name);
    if (!v) throw notFound(`get ${name}: no such volume`);
    return v;
  }

  all(): Volume[] {
    return (this.db.prepare('SELECT name FROM volumes ORDER BY name').all() as { name: string }[]).map((r) => this.row(r.name)!);
  }

  /** The Engine API's Volume. */
  toApi(v: Volume): Record<string, unknown> {
    return {
      CreatedAt: rfc3339(v.created),
      Driver: v.driver,
      Labels: sortedMap(v.labels),
      Mountpoint: this.dataPath(v.name),
      Name: v.name,
      Options: sortedMap(v.options),
      Scope: 'local',
    };
  }

  // ---- create / remove ----

  /**
   * Creates a volume, or returns the one of that name (Docker does not compare options). Without
   * a name it is anonymous: a random 64-hex name and the anonymous label.
   */
  create(req: VolumeCreate): Volume {
    const anonymous = !req.name;
    const name = req.name || randomHex(32);
    const driver = req.driver || 'local';
    const fail = (e: BerthError): BerthError => new BerthError(e.kind, `create ${name}: ${e.message}`);
    if (driver !== 'local') throw fail(notFound(`error looking up volume plugin ${driver}: plugin ${JSON.stringify(driver)} not found`));
    const existing = this.row(name);
    if (existing) return existing;
    if (name.length === 1) throw fail(invalidArgument('volume name is too short, names should be at least two alphanumeric characters'));
    // The name is a directory name: beyond NAME_MAX the filesystem would refuse it (ENAMETOOLONG).
    if (name.length > 255) throw fail(invalidArgument('volume name is too long: at most 255 characters'));
    if (!VALID_VOLUME_NAME.test(name)) {
      throw fail(
        invalidArgument(
          `${JSON.stringify(name)} includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path`,
        ),
      );
    }
    const options = req.options && Object.keys(req.options).length ? { ...req.options } : null;
    if (options) {
      try {
        validateOptions(options);
      } catch (e) {
        throw fail(e as BerthError);
      }
    }
    let labels = req.labels && Object.keys(req.labels).length ? { ...req.labels } : null;
    if (anonymous) labels = { ...(labels ?? {}), [ANONYMOUS_LABEL]: '' };
    const data = this.dataPath(name);
    fs.mkdirSync(data, { recursive: true, mode: 0o755 });
    const v: Volume = { name, driver, created: new Date().toISOString(), anonymous, labels, options };
    this.db
      .prepare('INSERT INTO volumes(name, driver, created, anonymous, labels, options) VALUES (?,?,?,?,?,?)')
      .run(name, driver, v.created, anonymous ? 1 : 0, labels && JSON.stringify(labels), options && JSON.stringify(options));
    this.emit('event', { Action: 'create', name, attrs: { driver } });
    return v;
  }

  /** Removes a volume no container references; `force` makes a missing one no error. */
  remove(name: string, force = false): void {
    const v = this.row(name);
    if (!v) {
      if (force) return;
      throw notFound(`get ${name}: no such volume`);
    }
    const refs = this.opts.references(name);
    if (refs.length > 0) throw conflict(`remove ${name}: volume is in use - [${refs.join(', ')}]`);
    this.destroy(v);
  }

  private destroy(v: Volume): void {
    const data = this.dataPath(v.name);
    this.active.delete(v.name);
    // Never rm -rf through a mount: a bind-type volume would take the host's files with it.
    if (isMountPoint(data)) {
      try {
        native().umount2(data, MNT_DETACH);
      } catch (e) {
        throw new BerthError('internal', `remove ${v.name}: error while unmounting volume '${data}': ${errnoText(e)}`);
      }
    }
    if (isMountPoint(data)) throw new BerthError('internal', `remove ${v.name}: volume is still mounted on ${data}`);
    fs.rmSync(path.dirname(data), { recursive: true, force: true });
    this.db.prepare('DELETE FROM volumes WHERE name = ?').run(v.name);
    this.emit('event', { Action: 'destroy', name: v.name, attrs: { driver: v.driver } });
  }

  // ---- list / prune ----

  /** GET /volumes filters: dangling, name (regexp), driver, label. */
  list(filters: Record<string, string[]>): Volume[] {
    for (const k of Object.keys(filters)) if (!['dangling', 'name', 'driver', 'label'].includes(k)) throw invalidArgument(`invalid filter '${k}'`);
    let dangling: boolean | undefined;
    if (filters.dangling?.length) {
      const vals = filters.dangling.map((x) => (x === 'true' || x === '1' ? true : x === 'false' || x === '0' ? false : undefined));
      if (vals.some((x) => x === undefined)) throw invalidArgument(`invalid filter 'dangling=[${filters.dangling.join(' ')}]'`);
      dangling = vals[0];
    }
    const names = filters.name?.map((n) => {
      try {
        return linearRegExp(n);
      } catch {
        throw invalidArgument(`invalid filter 'name=${n}'`);
      }
    });
    const used = dangling === undefined ? undefined : this.opts.referenced();
    return this.all().filter((v) => {
      if (filters.driver?.length && !filters.driver.includes(v.driver)) return false;
      if (names?.length && !names.some((re) => re.test(v.name))) return false;
      if (filters.label?.length && !filters.label.every((l) => matchLabel(v.labels ?? {}, l))) return false;
      if (used && used.has(v.name) === dangling) return false;
      return true;
    });
  }

  /**
   * Removes unused local volumes without mount options. Before API 1.42 all of them; from 1.42
   * only anonymous ones unless the filter says all=true. `label` and `label!` filters narrow it.
   */
  prune(filters: Record<string, string[]>, apiVersion: string): { VolumesDeleted: string[]; SpaceReclaimed: number } {
    for (const k of Object.keys(filters)) if (!['label', 'label!', 'all'].includes(k)) throw invalidArgument(`invalid filter '${k}'`);
    let all = cmpVersion(apiVersion, '1.42') < 0;
    const allVals = filters.all ?? [];
    if (allVals.length > 1) throw invalidArgument(`invalid filter 'all=[${allVals.join(' ')}]': only one value is expected`);
    if (allVals.length === 1) {
      const b = parseGoBool(allVals[0]);
      if (b === undefined) throw invalidArgument(`invalid filter 'all': strconv.ParseBool: parsing ${JSON.stringify(allVals[0])}: invalid syntax`);
      all = all || b;
    }
    const used = this.opts.referenced();
    const report = { VolumesDeleted: [] as string[], SpaceReclaimed: 0 };
    for (const v of this.all()) {
      if (v.driver !== 'local' || used.has(v.name) || v.options) continue;
      const labels = v.labels ?? {};
      if (!all && !(ANONYMOUS_LABEL in labels)) continue;
      if (filters.label && !filters.label.every((l) => matchLabel(labels, l))) continue;
      if (filters['label!'] && filters['label!'].some((l) => matchLabel(labels, l))) continue;
      const size = directorySize(this.dataPath(v.name));
      try {
        this.destroy(v);
      } catch {
        continue;
      }
      report.VolumesDeleted.push(v.name);
      report.SpaceReclaimed += size;
    }
    this.emit('event', { Action: 'prune', name: '', attrs: { reclaimed: String(report.SpaceReclaimed) } });
    return report;
  }

  // ---- mounts ----

  /**
   * Makes the volume's data available to container `ref` and returns its host path. A volume
   * with mount options is mounted by its first user.
   */
  mount(name: string, ref: string): string {
    const v = this.get(name);
    const data = this.dataPath(name);
    if (!v.options || !(v.options.type || v.options.device)) return data;
    let refs = this.active.get(name);
    if (!refs) {
      refs = new Set();
      if (!isMountPoint(data)) {
        fs.mkdirSync(data, { recursive: true, mode: 0o755 });
        try {
          mountLocal(v.options, data);
        } catch (e) {
          throw new BerthError('internal', `error while mounting volume '${data}': failed to mount local volume: ${(e as Error).message}`);
        }
      }
      this.active.set(name, refs);
    }
    refs.add(ref);
    return data;
  }

  /** Releases `ref`'s use of the volume; the last user's release unmounts it. */
  unmount(name: string, ref: string): void {
    const refs = this.active.get(name);
    if (!refs || !refs.delete(ref) || refs.size > 0) return;
    this.active.delete(name);
    const data = this.dataPath(name);
    if (isMountPoint(data)) {
      try {
        native().umount2(data, MNT_DETACH);
      } catch {
        /* gone already */
      }
    }
  }

  /** After a restart of berthd: `ref`, still running, holds the (still mounted) volume. */
  restore(name: string, ref: string): void {
    const v = this.tryGet(name);
    if (!v?.options) return;
    const refs = this.active.get(name) ?? new Set<string>();
    refs.add(ref);
    this.active.set(name, refs);
  }

  /** Unmounts every volume mount nothing holds (crash leftovers); `all` unmounts held ones too. */
  sweep(all = false): void {
    for (const v of this.all()) {
      if (!v.options) continue;
      if (!all && this.active.get(v.name)?.size) continue;
      this.active.delete(v.name);
      const data = this.dataPath(v.name);
      if (isMountPoint(data)) {
        try {
          native().umount2(data, MNT_DETACH);
        } catch {
          /* gone already */
        }
      }
    }
  }
}

/** The local driver's option checks (moby's validateOpts), with its messages. */
export function validateOptions(opts: Record<string, string>): void {
  for (const k of Object.keys(opts)) if (!VALID_OPTS.has(k)) throw invalidArgument(`invalid option: ${JSON.stringify(k)}`);
  if ('size' in opts) throw invalidArgument('quota size requested but no quota support');
  const required: [string, string[]][] = [
    ['device', ['type']],
    ['type', ['device']],
    ['o', ['device', 'type']],
  ];
  for (const [opt, reqs] of required) {
    if (!(opt in opts)) continue;
    for (const r of reqs) if (!(r in opts)) throw invalidArgument(`missing required option: ${JSON.stringify(r)}`);
  }
}

/** moby/sys/mount.Mount(device, target, type, o) with its error texts. */
function mountLocal(o: Record<string, string>, target: string): void {
  const device = o.device ?? '';
  const type = o.type ?? '';
  if (!device) throw new Error('missing device in volume options');
  const { flags, data } = parseMountOptions(o.o ?? '');
  const oflags = flags & ~PROPAGATION_TYPES;
  const describe = (op: string, source: string, fl: number, d: string, e: unknown): Error => {
    let s = `${op} ${source ? `${source}:${target}` : target}`;
    if (fl) s += `, flags: 0x${fl.toString(16)}`;
    if (d) s += `, data: ${d}`;
    return new Error(`${s}: ${errnoText(e)}`);
  };
  try {
    native().mount(device, target, type, oflags, data || null);
  } catch (e) {
    throw describe('mount', device, oflags, data, e);
  }
  const pflags = flags & (PROPAGATION_TYPES | MS.REC | MS.SILENT);
  try {
    if (flags & PROPAGATION_TYPES) {
      try {
        native().mount(null, target, null, pflags, null);
      } catch (e) {
        throw describe('remount', '', pflags, '', e);
      }
    }
    if ((oflags & (MS.BIND | MS.RDONLY)) === (MS.BIND | MS.RDONLY)) {
      try {
        native().mount(null, target, null, oflags | MS.REMOUNT, null);
      } catch (e) {
        throw describe('remount-ro', '', oflags | MS.REMOUNT, '', e);
      }
    }
  } catch (e) {
    native().umount2(target, MNT_DETACH);
    throw e;
  }
}
