/**
 * Pure mappings from Engine API JSON to the rows that `ps`, `images` and `history` format: one
 * object per row whose fields are the names docker's Go templates use (`.ID`, `.Image`,
 * `.Label "k"`...), holding the strings docker's CLI computes for them, truncated or not. The
 * keys are in Go's sorted order so that `{{json .}}` prints exactly what docker prints; the
 * `Label` method is a function and therefore left out of JSON.
 *
 * Each mapping also has a header row (the column titles for `table` formats).
 */
import type { ContainerSummary, HistoryItem, ImageSummary, PortSummary } from '../client/types';
import { humanDuration, humanSize } from '../util/units';
import { familiarName, parseNormalizedNamed } from './reference';
import { htmlEscapeJSON } from './output';

export interface RowOptions {
  /** Truncate IDs, commands and such (everything but --no-trunc). */
  trunc: boolean;
  /** "now" in ms since the epoch, for the relative times. */
  now?: number;
}

// ---- helpers docker's formatter package has -------------------------------------------------

/** formatter.TruncateID: drops an algorithm prefix, keeps 12 characters. */
export function truncateID(id: string): string {
  const i = id.indexOf(':');
  if (i >= 0) id = id.slice(i + 1);
  return id.length > 12 ? id.slice(0, 12) : id;
}

/** East Asian wide and fullwidth characters take two columns, as go-runewidth counts them. */
function runeWidth(cp: number): number {
  if (
    (cp >= 0x1100 && cp <= 0x115f) ||
    (cp >= 0x2e80 && cp <= 0xa4cf && cp !== 0x303f) ||
    (cp >= 0xac00 && cp <= 0xd7a3) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0xfe30 && cp <= 0xfe4f) ||
    (cp >= 0xff00 && cp <= 0xff60) ||
    (cp >= 0xffe0 && cp <= 0xffe6) ||
    (cp >= 0x1f300 && cp <= 0x1f64f) ||
    (cp >= 0x20000 && cp <= 0x3fffd)
  ) {
    return 2;
  }
  return 1;
}

/** formatter.Ellipsis: cuts to `max` display columns, the last one an ellipsis. */
export function ellipsis(s: string, max: number): string {
  const chars = Array.from(s);
  const widths = chars.map((c) => runeWidth(c.codePointAt(0) ?? 0));
  const total = widths.reduce((a, b) => a + b, 0);
  if (total <= max) return s;
  if (max <= 0) return '';
  if (max === 1) return '…';
  let w = 0;
  let out = '';
  for (let i = 0; i < chars.length; i++) {
    if (w + widths[i] > max - 1) break;
    w += widths[i];
    out += chars[i];
  }
  return `${out}…`;
}

/** Go's strconv.Quote for the strings a container command holds. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0) ?? 0;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\x07') out += '\\a';
    else if (ch === '\b') out += '\\b';
    else if (ch === '\f') out += '\\f';
    else if (ch === '\v') out += '\\v';
    else if (cp < 0x20 || cp === 0x7f) out += `\\x${cp.toString(16).padStart(2, '0')}`;
    else if (cp >= 0x80 && cp < 0xa0) out += `\\u${cp.toString(16).padStart(4, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

let utcOnly: boolean | undefined;
let zoneFormat: Intl.DateTimeFormat | undefined;

/**
 * The zone abbreviation Go would print for this instant in the local zone. A zone that is UTC
 * all year is "UTC" without asking Intl, whose first use costs ~10 ms of start-up.
 */
function zoneName(d: Date, offsetMin: number): string {
  utcOnly ??= new Date(2025, 0, 1).getTimezoneOffset() === 0 && new Date(2025, 6, 1).getTimezoneOffset() === 0;
  if (utcOnly) return 'UTC';
  let name = '';
  try {
    zoneFormat ??= new Intl.DateTimeFormat('en-US', { timeZoneName: 'short' });
    name = zoneFormat.formatToParts(d).find((p) => p.type === 'timeZoneName')?.value ?? '';
  } catch {}
  if (/^[A-Z]{2,5}$/.test(name) && name !== 'GMT') return name;
  if (offsetMin === 0) return name === 'GMT' ? 'GMT' : 'UTC';
  // Go prints the numeric form for zones without an abbreviation, e.g. "+03".
  const sign = offsetMin < 0 ? '-' : '+';
  const a = Math.abs(offsetMin);
  return a % 60 === 0 ? `${sign}${pad2(Math.floor(a / 60))}` : `${sign}${pad2(Math.floor(a / 60))}${pad2(a % 60)}`;
}

/** Go's time.Unix(sec, 0).String() in the local zone: "2024-01-02 15:04:05 +0100 CET". */
export function goTimeString(unixSeconds: number): string {
  const d = new Date(unixSeconds * 1000);
  const offsetMin = -d.getTimezoneOffset();
  const sign = offsetMin < 0 ? '-' : '+';
  const a = Math.abs(offsetMin);
  const off = `${sign}${pad2(Math.floor(a / 60))}${pad2(a % 60)}`;
  return (
    `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ` +
    `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())} ${off} ${zoneName(d, offsetMin)}`
  );
}

/** Go's time.Unix(sec, 0).Format(time.RFC3339) in the local zone: "2024-01-02T15:04:05+01:00". */
export function goRFC3339(unixSeconds: number): string {
  const d = new Date(unixSeconds * 1000);
  const offsetMin = -d.getTimezoneOffset();
  const a = Math.abs(offsetMin);
  const off = offsetMin === 0 ? 'Z' : `${offsetMin < 0 ? '-' : '+'}${pad2(Math.floor(a / 60))}:${pad2(a % 60)}`;
  return (
    `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())}T` +
    `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}${off}`
  );
}

function ago(unixSeconds: number, now: number): string {
  return `${humanDuration(now - unixSeconds * 1000)} ago`;
}

/** formatter.DisplayablePorts: "0.0.0.0:8080->80/tcp, 9000-9001/udp". */
export function displayablePorts(ports: readonly PortSummary[] | null | undefined): string {
  if (!ports || ports.length === 0) return '';
  const sorted = [...ports].sort((i, j) => {
    if (i.PrivatePort !== j.PrivatePort) return i.PrivatePort - j.PrivatePort;
    if ((i.IP ?? '') !== (j.IP ?? '')) return (i.IP ?? '') < (j.IP ?? '') ? -1 : 1;
    if ((i.PublicPort ?? 0) !== (j.PublicPort ?? 0)) return (i.PublicPort ?? 0) - (j.PublicPort ?? 0);
    return i.Type < j.Type ? -1 : i.Type > j.Type ? 1 : 0;
  });
  const groups = new Map<string, { first: number; last: number }>();
  const result: string[] = [];
  const hostMappings: string[] = [];
  const joinHostPort = (ip: string, port: string): string => (ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`);
  const formGroup = (key: string, first: number, last: number): string => {
    const parts = key.split('/');
    let type = parts[0];
    let ip = '';
    if (parts.length > 1) {
      ip = parts[0];
      type = parts[1];
    }
    let group = String(first);
    if (first !== last) group = `${group}-${last}`;
    if (ip) group = `${joinHostPort(ip, group)}->${group}`;
    return `${group}/${type}`;
  };
  for (const p of sorted) {
    const current = p.PrivatePort;
    let key = p.Type;
    if (p.IP) {
      if ((p.PublicPort ?? 0) !== current) {
        hostMappings.push(`${joinHostPort(p.IP, String(p.PublicPort ?? 0))}->${p.PrivatePort}/${p.Type}`);
        continue;
      }
      key = `${p.IP}/${p.Type}`;
    }
    const g = groups.get(key);
    if (!g) {
      groups.set(key, { first: current, last: current });
      continue;
    }
    if (current === g.last + 1) {
      g.last = current;
      continue;
    }
    result.push(formGroup(key, g.first, g.last));
    // Re-inserting keeps Go's order: a key is listed where it was first created.
    groups.set(key, { first: current, last: current });
  }
  for (const [key, g] of groups) result.push(formGroup(key, g.first, g.last));
  result.push(...hostMappings);
  return result.join(', ');
}

/** The column title docker's header context gives `.Label "com.example.some-key"`: "some key". */
export function labelHeader(name: string): string {
  const parts = name.split('.');
  return parts[parts.length - 1].replace(/[-_]/g, ' ');
}

/** A row with labels: docker's `{{.Label "key"}}` method and its HTML-escaped `{{json .}}`. */
export abstract class LabeledRow {
  readonly #labels: Record<string, string>;
  constructor(labels: Record<string, string>) {
    this.#labels = labels;
  }
  Label(name: string): string {
    return this.#labels[name] ?? '';
  }
  marshalJSON(): string {
    return htmlEscapeJSON(JSON.stringify(this));
  }
}

// ---- containers (ps) ------------------------------------------------------------------------

/**
 * A `ps` row. A class, so that the template engine treats it as docker treats its
 * ContainerContext: a struct, where an unknown field is an error rather than "<no value>".
 */
export class ContainerRow extends LabeledRow {
  Command = '';
  CreatedAt = '';
  ID = '';
  Image = '';
  Labels = '';
  LocalVolumes = '';
  Mounts = '';
  Names = '';
  Networks = '';
  Platform: null = null;
  Ports = '';
  RunningFor = '';
  Size = '';
  State = '';
  Status = '';
  constructor(fields: Omit<ContainerRow, 'Label' | 'marshalJSON'>, labels: Record<string, string>) {
    super(labels);
    Object.assign(this, fields);
  }
}
// Named as docker's type, for template errors ("can't evaluate field X in type *formatter.ContainerContext").
Object.defineProperty(ContainerRow, 'name', { value: 'formatter.ContainerContext' });

export const CONTAINER_HEADERS: Record<string, string> = {
  ID: 'CONTAINER ID',
  Names: 'NAMES',
  Image: 'IMAGE',
  Command: 'COMMAND',
  CreatedAt: 'CREATED AT',
  RunningFor: 'CREATED',
  Ports: 'PORTS',
  State: 'STATE',
  Status: 'STATUS',
  Size: 'SIZE',
  Labels: 'LABELS',
  Mounts: 'MOUNTS',
  LocalVolumes: 'LOCAL VOLUMES',
  Networks: 'NETWORKS',
  Platform: 'PLATFORM',
};

export const DEFAULT_CONTAINER_TABLE = 'table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}';

function containerImage(c: ContainerSummary, trunc: boolean): string {
  const image = c.Image ?? '';
  if (image === '') return '<no image>';
  if (!trunc) return image;
  const t = truncateID(c.ImageID ?? '');
  if (t === truncateID(image)) return t;
  try {
    const ref = parseNormalizedNamed(image);
    // Digests are dropped, the tag kept; the name is given in its familiar form.
    return familiarName(ref) + (ref.tag !== undefined ? `:${ref.tag}` : '');
  } catch {
    return image;
  }
}

export function containerRow(c: ContainerSummary, opts: RowOptions): ContainerRow {
  const now = opts.now ?? Date.now();
  const trunc = opts.trunc;
  const labels = c.Labels ?? {};
  const names = (c.Names ?? []).map((n) => n.replace(/^\//, ''));
  let shownNames: string;
  if (trunc) shownNames = names.find((n) => !n.includes('/')) ?? '';
  else shownNames = names.join(',');
  const created = c.Created ?? 0;
  const srw = humanSize(c.SizeRw ?? 0, 3);
  const size = (c.SizeRootFs ?? 0) > 0 ? `${srw} (virtual ${humanSize(c.SizeRootFs ?? 0, 3)})` : srw;
  const mounts = (c.Mounts ?? []).map((m) => {
    const name = m.Name ? m.Name : (m.Source ?? '');
    return trunc ? ellipsis(name, 15) : name;
  });
  const networks = Object.keys(c.NetworkSettings?.Networks ?? {});
  return new ContainerRow({
    Command: goQuote(trunc ? ellipsis(c.Command ?? '', 20) : (c.Command ?? '')),
    CreatedAt: goTimeString(created),
    ID: trunc ? truncateID(c.Id) : c.Id,
    Image: containerImage(c, trunc),
    Labels: Object.entries(labels)
      .map(([k, v]) => `${k}=${v}`)
      .sort()
      .join(','),
    LocalVolumes: String((c.Mounts ?? []).filter((m) => m.Driver === 'local').length),
    Mounts: mounts.join(','),
    Names: shownNames,
    Networks: networks.join(','),
    Platform: null,
    Ports: displayablePorts(c.Ports),
    RunningFor: ago(created, now),
    Size: size,
    State: c.State ?? '',
    Status: c.Status ?? '',
  }, labels);
}

export function containerHeader(): Record<string, unknown> {
  return { ...CONTAINER_HEADERS, Label: labelHeader };
}

// ---- images ---------------------------------------------------------------------------------

/** An `images` row (docker's imageContext). */
export class ImageRow {
  Containers = '';
  CreatedAt = '';
  CreatedSince = '';
  Digest = '';
  ID = '';
  Repository = '';
  SharedSize = '';
  Size = '';
  Tag = '';
  UniqueSize = '';
  VirtualSize = '';
  constructor(fields: Omit<ImageRow, 'marshalJSON'>) {
    Object.assign(this, fields);
  }
  marshalJSON(): string {
    return htmlEscapeJSON(JSON.stringify(this));
  }
}
Object.defineProperty(ImageRow, 'name', { value: 'formatter.imageContext' });

export const IMAGE_HEADERS: Record<string, string> = {
  ID: 'IMAGE ID',
  Repository: 'REPOSITORY',
  Tag: 'TAG',
  Digest: 'DIGEST',
  CreatedSince: 'CREATED',
  CreatedAt: 'CREATED AT',
  Size: 'SIZE',
  Containers: 'CONTAINERS',
  VirtualSize: 'SIZE',
  SharedSize: 'SHARED SIZE',
  UniqueSize: 'UNIQUE SIZE',
};

export const DEFAULT_IMAGE_TABLE =
  'table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{if .CreatedSince }}{{.CreatedSince}}{{else}}N/A{{end}}\t{{.Size}}';
export const DEFAULT_IMAGE_TABLE_WITH_DIGEST =
  'table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{if .CreatedSince }}{{.CreatedSince}}{{else}}N/A{{end}}\t{{.Size}}';

export interface ImageRowOptions extends RowOptions {
  /** --digests: one row per digest, and digest-only references as rows of their own. */
  digests: boolean;
  /** The format mentions {{.Digest}}: digests are looked up (docker's needDigest). */
  needDigest: boolean;
}

function isDangling(img: ImageSummary): boolean {
  const tags = img.RepoTags ?? [];
  const digests = img.RepoDigests ?? [];
  if (tags.length === 0 && digests.length === 0) return true;
  return tags.length === 1 && tags[0] === '<none>:<none>' && digests.length === 1 && digests[0] === '<none>@<none>';
}

/** One image may give several rows: one per repository and tag (and digest with --digests). */
export function imageRows(img: ImageSummary, opts: ImageRowOptions): ImageRow[] {
  const now = opts.now ?? Date.now();
  const created = img.Created ?? 0;
  const size = img.Size ?? 0;
  const shared = img.SharedSize ?? -1;
  const containers = img.Containers ?? -1;
  const make = (repo: string, tag: string, digest: string): ImageRow => new ImageRow({
    Containers: containers === -1 ? 'N/A' : String(containers),
    CreatedAt: goTimeString(created),
    CreatedSince: created === 0 && img.Created === undefined ? '' : ago(created, now),
    Digest: digest,
    ID: opts.trunc ? truncateID(img.Id) : img.Id,
    Repository: repo,
    SharedSize: shared === -1 ? 'N/A' : humanSize(shared, 4),
    Size: humanSize(size, 3),
    Tag: tag,
    UniqueSize: size === -1 || shared === -1 ? 'N/A' : humanSize(size - shared, 4),
    VirtualSize: humanSize(size, 4),
  });
  if (isDangling(img)) return [make('<none>', '<none>', '<none>')];

  const repoTags = new Map<string, string[]>();
  const repoDigests = new Map<string, string[]>();
  for (const s of img.RepoTags ?? []) {
    try {
      const ref = parseNormalizedNamed(s);
      if (ref.tag === undefined || ref.digest !== undefined) continue;
      const name = familiarName(ref);
      repoTags.set(name, [...(repoTags.get(name) ?? []), ref.tag]);
    } catch {}
  }
  for (const s of img.RepoDigests ?? []) {
    try {
      const ref = parseNormalizedNamed(s);
      if (ref.digest === undefined) continue;
      const name = familiarName(ref);
      repoDigests.set(name, [...(repoDigests.get(name) ?? []), ref.digest]);
    } catch {}
  }
  const rows: ImageRow[] = [];
  for (const [repo, tags] of repoTags) {
    let digests = repoDigests.get(repo) ?? [];
    repoDigests.delete(repo);
    if (!opts.needDigest) digests = [];
    for (const tag of tags) {
      if (digests.length === 0) rows.push(make(repo, tag, '<none>'));
      else for (const d of digests) rows.push(make(repo, tag, d));
    }
  }
  for (const [repo, digests] of repoDigests) {
    if (opts.digests) for (const d of digests) rows.push(make(repo, '<none>', d));
    else rows.push(make(repo, '<none>', ''));
  }
  return rows;
}

// ---- history ----------------------------------------------------------------------------------

/** A `history` row (docker's historyContext). */
export class HistoryRow {
  Comment = '';
  CreatedAt = '';
  CreatedBy = '';
  CreatedSince = '';
  ID = '';
  Size = '';
  constructor(fields: Omit<HistoryRow, 'marshalJSON'>) {
    Object.assign(this, fields);
  }
  marshalJSON(): string {
    return htmlEscapeJSON(JSON.stringify(this));
  }
}
Object.defineProperty(HistoryRow, 'name', { value: 'image.historyContext' });

export const HISTORY_HEADERS: Record<string, string> = {
  ID: 'IMAGE',
  CreatedSince: 'CREATED',
  CreatedAt: 'CREATED AT',
  CreatedBy: 'CREATED BY',
  Size: 'SIZE',
  Comment: 'COMMENT',
};

export const DEFAULT_HISTORY_TABLE = 'table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}';
export const NON_HUMAN_HISTORY_TABLE = 'table {{.ID}}\t{{.CreatedAt}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}';

export interface HistoryRowOptions extends RowOptions {
  /** -H/--human (default true): sizes and dates in human-readable form. */
  human: boolean;
}

export function historyRow(h: HistoryItem, opts: HistoryRowOptions): HistoryRow {
  const now = opts.now ?? Date.now();
  const createdAt = goRFC3339(h.Created);
  const createdBy = (h.CreatedBy ?? '').replace(/\t/g, ' ');
  return new HistoryRow({
    Comment: h.Comment ?? '',
    CreatedAt: createdAt,
    CreatedBy: opts.trunc ? ellipsis(createdBy, 45) : createdBy,
    CreatedSince: opts.human ? ago(h.Created, now) : createdAt,
    ID: opts.trunc ? truncateID(h.Id) : h.Id,
    Size: opts.human ? humanSize(h.Size, 3) : String(h.Size),
  });
}
