/**
 * The mount options of `run` and `create`, read as docker's CLI reads them:
 *  -v/--volume  compose's volume syntax (`[SRC:]DST[:OPTS]`); a source starting with `.`, `/` or
 *               `~` is a host path (`./x` made absolute), anything else a volume name; the
 *               result goes into HostConfig.Binds, or Config.Volumes for an anonymous volume;
 *  --mount      CSV `type=bind|volume|tmpfs,source=,target=,readonly,...` → HostConfig.Mounts;
 *  --tmpfs      `/path[:options]` → HostConfig.Tmpfs.
 * Pure: the daemon validates the rest, as dockerd does.
 */
import path from 'node:path';
import { parseBytes } from '../../util/units';

export interface MountSpec {
  Type: string;
  Source?: string;
  Target?: string;
  ReadOnly?: boolean;
  Consistency?: string;
  BindOptions?: { Propagation?: string; NonRecursive?: boolean };
  VolumeOptions?: { NoCopy?: boolean; Labels?: Record<string, string>; DriverConfig?: { Name?: string; Options?: Record<string, string> } };
  TmpfsOptions?: { SizeBytes?: number; Mode?: number };
}

export interface ParsedVolume {
  type: 'bind' | 'volume';
  source: string;
  target: string;
  readOnly: boolean;
}

function isWindowsDrive(buffer: string, char: string): boolean {
  return char === ':' && buffer.length === 1 && /\p{L}/u.test(buffer);
}

/** compose-go's loader.ParseVolume, as the docker CLI uses it for -v. */
export function parseVolumeSpec(spec: string): ParsedVolume {
  const v: ParsedVolume = { type: 'volume', source: '', target: '', readOnly: false };
  if (spec.length === 0) throw new Error('invalid empty volume spec');
  if (spec.length <= 2) return { ...v, target: spec };
  let buffer = '';
  const end = '\0';
  const populate = (char: string): void => {
    if (buffer.length === 0) throw new Error('empty section between colons');
    if (v.source === '' && char === end) {
      v.target = buffer;
      return;
    }
    if (v.source === '') {
      v.source = buffer;
      return;
    }
    if (v.target === '') {
      v.target = buffer;
      return;
    }
    if (char === ':') throw new Error('too many colons');
    for (const o of buffer.split(',')) {
      if (o === 'ro') v.readOnly = true;
      else if (o === 'rw') v.readOnly = false;
      // nocopy, propagation and unknown options are left to the daemon
    }
  };
  for (const char of spec + end) {
    if (isWindowsDrive(buffer, char)) {
      buffer += char;
    } else if (char === ':' || char === end) {
      try {
        populate(char);
      } catch (e) {
        throw new Error(`invalid spec: ${spec}: ${(e as Error).message}`);
      }
      buffer = '';
    } else {
      buffer += char;
    }
  }
  v.type = v.source !== '' && /^[./~]|^\\\\/.test(v.source) ? 'bind' : 'volume';
  return v;
}

/**
 * -v values → Binds (host paths and named volumes; `./rel` made absolute) and Config.Volumes
 * (anonymous volumes), as docker's CLI splits them.
 */
export function volumeOptions(values: readonly string[], cwd = process.cwd()): { binds: string[]; volumes: Record<string, Record<string, never>> } {
  const binds: string[] = [];
  const volumes: Record<string, Record<string, never>> = {};
  const seen = new Set<string>();
  for (const raw of values) {
    if (seen.has(raw)) continue; // docker keeps them in a map
    seen.add(raw);
    const parsed = parseVolumeSpec(raw);
    if (parsed.source === '') {
      volumes[raw] = {};
      continue;
    }
    let bind = raw;
    const colon = raw.indexOf(':');
    if (parsed.type === 'bind' && colon >= 0) {
      let host = raw.slice(0, colon);
      if (!host.startsWith('/') && host.startsWith('.')) host = path.resolve(cwd, host);
      bind = `${host}:${raw.slice(colon + 1)}`;
    }
    binds.push(bind);
  }
  return { binds, volumes };
}

/** Go's encoding/csv reading one record (quotes, doubled quotes), enough for --mount. */
export function parseCsvRecord(line: string): string[] {
  const out: string[] = [];
  let i = 0;
  for (;;) {
    let field = '';
    if (line[i] === '"') {
      i++;
      for (;;) {
        if (i >= line.length) throw new Error(`parse error on line 1, column ${i + 1}: extraneous or missing " in quoted-field`);
        if (line[i] === '"') {
          if (line[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        field += line[i++];
      }
      if (i < line.length && line[i] !== ',') throw new Error(`parse error on line 1, column ${i + 1}: extraneous or missing " in quoted-field`);
    } else {
      while (i < line.length && line[i] !== ',') {
        if (line[i] === '"') throw new Error(`parse error on line 1, column ${i + 1}: bare " in non-quoted-field`);
        field += line[i++];
      }
    }
    out.push(field);
    if (i >= line.length) return out;
    i++; // the comma
  }
}

function parseGoBool(v: string): boolean | undefined {
  if (['1', 't', 'T', 'true', 'TRUE', 'True'].includes(v)) return true;
  if (['0', 'f', 'F', 'false', 'FALSE', 'False'].includes(v)) return false;
  return undefined;
}

/** docker's opts.MountOpt.Set: one --mount value; throws with docker's messages. */
export function parseMountFlag(value: string, cwd = process.cwd()): MountSpec {
  const fields = parseCsvRecord(value);
  const m: MountSpec = { Type: 'volume' };
  const volumeOptions = (): NonNullable<MountSpec['VolumeOptions']> => {
    m.VolumeOptions ??= { Labels: {} };
    m.VolumeOptions.DriverConfig ??= {};
    return m.VolumeOptions;
  };
  const bindOptions = (): NonNullable<MountSpec['BindOptions']> => (m.BindOptions ??= {});
  const tmpfsOptions = (): NonNullable<MountSpec['TmpfsOptions']> => (m.TmpfsOptions ??= {});
  const setOnMap = (target: Record<string, string>, v: string): void => {
    const eq = v.indexOf('=');
    const k = eq >= 0 ? v.slice(0, eq) : v;
    if (k !== '') target[k] = eq >= 0 ? v.slice(eq + 1) : '';
  };
  const bool = (key: string, val: string, msg = `invalid value for ${key}: ${val}`): boolean => {
    const b = parseGoBool(val);
    if (b === undefined) throw new Error(msg);
    return b;
  };
  for (const field of fields) {
    const eq = field.indexOf('=');
    const key = (eq >= 0 ? field.slice(0, eq) : field).toLowerCase();
    const val = eq >= 0 ? field.slice(eq + 1) : '';
    if (eq < 0) {
      switch (key) {
        case 'readonly':
        case 'ro':
          m.ReadOnly = true;
          continue;
        case 'volume-nocopy':
          volumeOptions().NoCopy = true;
          continue;
        case 'bind-nonrecursive':
          bindOptions().NonRecursive = true;
          continue;
        default:
          throw new Error(`invalid field '${field}' must be a key=value pair`);
      }
    }
    switch (key) {
      case 'type':
        m.Type = val.toLowerCase();
        break;
      case 'source':
      case 'src':
        m.Source = val;
        if (val === '.' || val.startsWith('./')) m.Source = path.resolve(cwd, val);
        break;
      case 'target':
      case 'dst':
      case 'destination':
        m.Target = val;
        break;
      case 'readonly':
      case 'ro':
        m.ReadOnly = bool(key, val);
        break;
      case 'consistency':
        m.Consistency = val.toLowerCase();
        break;
      case 'bind-propagation':
        bindOptions().Propagation = val.toLowerCase();
        break;
      case 'bind-nonrecursive':
        bindOptions().NonRecursive = bool(key, val);
        break;
      case 'volume-nocopy':
        volumeOptions().NoCopy = bool(key, val, `invalid value for volume-nocopy: ${val}`);
        break;
      case 'volume-label':
        setOnMap(volumeOptions().Labels!, val);
        break;
      case 'volume-driver':
        volumeOptions().DriverConfig!.Name = val;
        break;
      case 'volume-opt': {
        const dc = volumeOptions().DriverConfig!;
        dc.Options ??= {};
        setOnMap(dc.Options, val);
        break;
      }
      case 'tmpfs-size': {
        try {
          tmpfsOptions().SizeBytes = parseBytes(val);
        } catch {
          throw new Error(`invalid value for ${key}: ${val}`);
        }
        break;
      }
      case 'tmpfs-mode': {
        if (!/^[0-7]+$/.test(val) || parseInt(val, 8) > 0xffffffff) throw new Error(`invalid value for ${key}: ${val}`);
        tmpfsOptions().Mode = parseInt(val, 8);
        break;
      }
      default:
        throw new Error(`unexpected key '${key}' in '${field}'`);
    }
  }
  if (m.Type === '') throw new Error('type is required');
  if (!m.Target) throw new Error('target is required');
  if (m.VolumeOptions && m.Type !== 'volume') throw new Error(`cannot mix 'volume-*' options with mount type '${m.Type}'`);
  if (m.BindOptions && m.Type !== 'bind') throw new Error(`cannot mix 'bind-*' options with mount type '${m.Type}'`);
  if (m.TmpfsOptions && m.Type !== 'tmpfs') throw new Error(`cannot mix 'tmpfs-*' options with mount type '${m.Type}'`);
  // Empty label maps are not sent (docker's omitempty).
  if (m.VolumeOptions?.Labels && Object.keys(m.VolumeOptions.Labels).length === 0) delete m.VolumeOptions.Labels;
  return m;
}

/** --tmpfs values: `/path[:options]` → HostConfig.Tmpfs. */
export function tmpfsOptions(values: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const t of values) {
    const i = t.indexOf(':');
    if (i < 0) out[t] = '';
    else out[t.slice(0, i)] = t.slice(i + 1);
  }
  return out;
}
