/**
 * A container's mounts, as Docker's daemon reads them from the create request:
 * `HostConfig.Binds` ("name:/dst:ro", "/host:/dst:ro,rslave"), `HostConfig.Mounts` (typed mount
 * objects), `HostConfig.Tmpfs`, `HostConfig.VolumesFrom` and `Config.Volumes` (anonymous volumes,
 * the image's VOLUMEs among them). Parsing and validation here are pure (moby's linux parser,
 * with its error texts); the container manager turns the result into volumes and OCI mounts.
 *
 * Lifecycle of a mount point: parsed and validated at create, its volume created (named volumes
 * that do not exist yet, and one anonymous volume per anonymous mount) and seeded from the
 * image; stored in the container record; at each start its volume is mounted (local volumes
 * with mount options only) and everything becomes an OCI bind or tmpfs mount; released when the
 * run ends; at remove (-v) the anonymous volumes go with the container.
 */
import path from 'node:path';
import { invalidArgument, type BerthError } from '../core/errors';
import { convertTmpfsOptions, mergeTmpfsOptions, tmpfsMountOptions } from './mountopts';

/** A mount point of a container (moby's volume/mounts.MountPoint, the fields berth keeps). */
export interface MountPoint {
  Type: 'bind' | 'volume' | 'tmpfs';
  /** Volume name; '' for binds and tmpfs. */
  Name: string;
  /** Host path: the bind source or the volume's data directory; '' for tmpfs. */
  Source: string;
  Destination: string;
  /** Volume driver; '' for binds and tmpfs. */
  Driver: string;
  /** The options the user gave (Binds' third field; "z" for local volumes without one). */
  Mode: string;
  RW: boolean;
  Propagation: string;
  /** Copy the image's content at Destination into the volume when it is empty (at create). */
  CopyData: boolean;
  /** The user gave a source (volume name or host path): `rm -v` never removes the volume. */
  Named: boolean;
  /** A bind from Binds: a missing source directory is created at start (--mount refuses). */
  CreateSource?: boolean;
  /** Propagation set by the user rather than defaulted. */
  ExplicitPropagation?: boolean;
  /** tmpfs mount data ("mode=1770,size=1m") from TmpfsOptions. */
  Data?: string;
  /** Driver options and labels for a volume this mount creates (HostConfig.Mounts only). */
  Create?: { options?: Record<string, string> | null; labels?: Record<string, string> | null };
}

/** HostConfig.Mounts entries (Engine API `Mount`). */
export interface MountSpec {
  Type?: string;
  Source?: string;
  Target?: string;
  ReadOnly?: boolean;
  Consistency?: string;
  BindOptions?: { Propagation?: string; NonRecursive?: boolean; CreateMountpoint?: boolean } | null;
  VolumeOptions?: { NoCopy?: boolean; Labels?: Record<string, string> | null; DriverConfig?: { Name?: string; Options?: Record<string, string> | null } | null } | null;
  TmpfsOptions?: { SizeBytes?: number; Mode?: number } | null;
}

const RW_MODES = new Set(['rw', 'ro']);
const LABEL_MODES = new Set(['z', 'Z']);
export const PROPAGATION_MODES = new Set(['private', 'rprivate', 'shared', 'rshared', 'slave', 'rslave']);
const COPY_MODES = new Set(['nocopy']);
const CONSISTENCY_MODES = new Set(['consistent', 'cached', 'delegated', 'default']);
export const DEFAULT_PROPAGATION = 'rprivate';

/** moby's linuxValidMountMode: comma-separated, at most one of each kind. */
export function validMountMode(mode: string): boolean {
  if (mode === '') return true;
  const counts = [0, 0, 0, 0, 0];
  for (const o of mode.split(',')) {
    if (RW_MODES.has(o)) counts[0]++;
    else if (LABEL_MODES.has(o)) counts[1]++;
    else if (PROPAGATION_MODES.has(o)) counts[2]++;
    else if (COPY_MODES.has(o)) counts[3]++;
    else if (CONSISTENCY_MODES.has(o)) counts[4]++;
    else return false;
  }
  return counts.every((n) => n <= 1);
}

export function readWrite(mode: string): boolean {
  return !mode.split(',').includes('ro');
}

function propagationOf(mode: string): string | undefined {
  return mode.split(',').find((o) => PROPAGATION_MODES.has(o));
}

function mountConfigError(type: string | undefined, why: string): BerthError {
  return invalidArgument(`invalid mount config for type ${JSON.stringify(type ?? '')}: ${why}`);
}

function validateTarget(type: string | undefined, target: string | undefined): void {
  if (!target) throw mountConfigError(type, 'field Target must not be empty');
  if (path.posix.normalize(target) === '/' || target === '/') throw mountConfigError(type, "invalid specification: destination can't be '/'");
  if (!target.startsWith('/')) throw mountConfigError(type, `invalid mount path: '${target}' mount path must be absolute`);
}

const clean = (p: string): string => path.posix.normalize(p).replace(/(.)\/+$/, '$1');

/**
 * moby's parseMountSpec: validates one mount and makes its mount point. `bindSourceMustExist`
 * is true for HostConfig.Mounts (Binds create a missing source directory instead).
 */
export function parseMountSpec(m: MountSpec, opts: { bindSourceMustExist: boolean; exists?: (p: string) => boolean }): MountPoint {
  const type = m.Type;
  validateTarget(type, m.Target);
  const target = clean(m.Target!);
  const extra = (field: string): BerthError => mountConfigError(type, `field ${field} must not be specified`);
  const base = { Destination: target, RW: !m.ReadOnly, Mode: '', Name: '', Driver: '', Source: '', Propagation: '', CopyData: false, Named: false };
  switch (type) {
    case 'bind': {
      if (!m.Source) throw mountConfigError(type, 'field Source must not be empty');
      const prop = m.BindOptions?.Propagation;
      if (prop && !PROPAGATION_MODES.has(prop)) throw mountConfigError(type, `invalid propagation mode: ${prop}`);
      if (m.VolumeOptions) throw extra('VolumeOptions');
      if (m.TmpfsOptions) throw extra('TmpfsOptions');
      if (!m.Source.startsWith('/')) throw mountConfigError(type, `invalid mount path: '${m.Source}' mount path must be absolute`);
      const source = clean(m.Source);
      if (opts.bindSourceMustExist && !(opts.exists ?? (() => true))(source)) {
        throw mountConfigError(type, `bind source path does not exist: ${source}`);
      }
      return { ...base, Type: 'bind', Source: source, Propagation: prop || DEFAULT_PROPAGATION, ExplicitPropagation: !!prop, Named: true };
    }
    case 'volume': {
      if (m.BindOptions) throw extra('BindOptions');
      if (m.TmpfsOptions) throw extra('TmpfsOptions');
      const anonymous = !m.Source;
      if (m.ReadOnly && anonymous) throw mountConfigError(type, 'must not set ReadOnly mode when using anonymous volumes');
      const vo = m.VolumeOptions;
      const mp: MountPoint = { ...base, Type: 'volume', Name: m.Source ?? '', Driver: vo?.DriverConfig?.Name ?? '', CopyData: !vo?.NoCopy, Named: !anonymous };
      if (vo && (vo.DriverConfig?.Options || vo.Labels)) mp.Create = { options: vo.DriverConfig?.Options ?? null, labels: vo.Labels ?? null };
      return mp;
    }
    case 'tmpfs': {
      if (m.BindOptions) throw extra('BindOptions');
      if (m.VolumeOptions) throw extra('VolumeOptions');
      if (m.Source) throw extra('Source');
      const data = convertTmpfsOptions(m.TmpfsOptions, !!m.ReadOnly);
      return { ...base, Type: 'tmpfs', Data: data };
    }
    default:
      throw mountConfigError(type, 'mount type unknown');
  }
}

/**
 * moby's ParseMountRaw for one `HostConfig.Binds` entry: `dst`, `src:dst` or `src:dst:mode`.
 * An absolute source is a bind mount, anything else names a volume (whose name the volume
 * driver validates when it is created).
 */
export function parseBind(raw: string, volumeDriver = ''): MountPoint {
  const invalidSpec = (): BerthError => invalidArgument(`invalid volume specification: '${raw}'`);
  const arr = raw.split(':');
  if (arr[0] === '') throw invalidSpec();
  const spec: MountSpec = {};
  let mode = '';
  switch (arr.length) {
    case 1:
      spec.Target = arr[0];
      break;
    case 2:
      if (validMountMode(arr[1])) throw invalidSpec(); // "/foo:rw": a destination with a mode
      [spec.Source, spec.Target] = arr;
      break;
    case 3:
      [spec.Source, spec.Target, mode] = arr;
      break;
    default:
      throw invalidSpec();
  }
  if (!validMountMode(mode)) throw invalidArgument(`invalid mode: ${mode}`);
  spec.Type = spec.Source?.startsWith('/') ? 'bind' : 'volume';
  spec.ReadOnly = !readWrite(mode);
  const modes = mode.split(',');
  const prop = propagationOf(mode);
  if (prop) spec.BindOptions = { Propagation: prop };
  if (modes.includes('nocopy')) spec.VolumeOptions = { NoCopy: true };
  let mp: MountPoint;
  try {
    mp = parseMountSpec(spec, { bindSourceMustExist: false });
  } catch (e) {
    throw invalidArgument(`invalid volume specification: '${raw}': ${(e as Error).message}`);
  }
  if (mp.Type === 'volume') mp.Driver = volumeDriver;
  else mp.CreateSource = true;
  mp.Mode = mode;
  return mp;
}

/** moby's ParseVolumesFrom: `container[:ro|rw]` (no propagation or copy modes). */
export function parseVolumesFrom(spec: string): { container: string; mode: string } {
  if (spec === '') throw invalidArgument('volumes-from specification cannot be an empty string');
  const i = spec.indexOf(':');
  if (i < 0) return { container: spec, mode: 'rw' };
  const mode = spec.slice(i + 1);
  if (!validMountMode(mode) || propagationOf(mode) || mode.split(',').includes('nocopy')) throw invalidArgument(`invalid mode: ${mode}`);
  return { container: spec.slice(0, i), mode };
}

/** Checks a `HostConfig.Tmpfs` destination and its options. */
export function validateTmpfs(dest: string, data: string): void {
  if (!dest.startsWith('/')) throw invalidArgument(`invalid mount path: '${dest}' mount path must be absolute`);
  if (clean(dest) === '/') throw invalidArgument("invalid specification: destination can't be '/'");
  try {
    mergeTmpfsOptions(data === '' ? [] : data.split(','));
  } catch (e) {
    throw invalidArgument((e as Error).message);
  }
}

export function duplicateMountPoint(dest: string): BerthError {
  return invalidArgument(`Duplicate mount point: ${dest}`);
}

/** What the create request asks for, parsed: mount points in order, and the tmpfs map. */
export interface MountPlan {
  mounts: MountPoint[];
  /** Config.Volumes destinations left for anonymous volumes (those not mounted otherwise). */
  anonymous: string[];
}

/**
 * Docker's registerMountPoints without side effects: volumes-from first, then Binds (which
 * replace volumes-from at the same destination), then Mounts, then Config.Volumes for what is
 * still free. Two of Binds, Mounts and Tmpfs on one destination is an error.
 */
export function planMounts(
  hc: { Binds?: string[] | null; Mounts?: MountSpec[] | null; Tmpfs?: Record<string, string> | null; VolumesFrom?: string[] | null; VolumeDriver?: string },
  configVolumes: readonly string[],
  deps: { volumesFrom(container: string): MountPoint[]; exists(p: string): boolean },
): MountPlan {
  const byDest = new Map<string, MountPoint>();
  const tmpfs = hc.Tmpfs ?? {};
  for (const [dest, data] of Object.entries(tmpfs)) validateTmpfs(dest, data);
  const tmpfsDests = new Set(Object.keys(tmpfs).map(clean));
  for (const spec of hc.VolumesFrom ?? []) {
    const { container, mode } = parseVolumesFrom(spec);
    for (const m of deps.volumesFrom(container)) {
      const cp: MountPoint = { ...m, RW: m.RW && readWrite(mode), Mode: '', CopyData: false };
      delete cp.Create;
      byDest.set(cp.Destination, cp);
    }
  }
  const taken = new Set<string>();
  for (const raw of hc.Binds ?? []) {
    const mp = parseBind(raw, hc.VolumeDriver ?? '');
    if (taken.has(mp.Destination) || tmpfsDests.has(mp.Destination)) throw duplicateMountPoint(mp.Destination);
    if (mp.Type === 'volume' && !mp.Mode) mp.Mode = 'z'; // moby's setBindModeIfNull for local volumes
    taken.add(mp.Destination);
    byDest.set(mp.Destination, mp);
  }
  for (const m of hc.Mounts ?? []) {
    if (!m || typeof m !== 'object') throw invalidArgument('invalid mount config: a mount must be an object');
    const mp = parseMountSpec(m, { bindSourceMustExist: true, exists: deps.exists });
    if (taken.has(mp.Destination) || tmpfsDests.has(mp.Destination)) throw duplicateMountPoint(m.Target ?? '');
    if (mp.Type === 'volume') {
      if (!mp.Driver) mp.Driver = hc.VolumeDriver ?? '';
      mp.Mode = 'z';
    }
    taken.add(mp.Destination);
    byDest.set(mp.Destination, mp);
  }
  const anonymous: string[] = [];
  for (const spec of configVolumes) {
    const dest = clean(path.posix.join('/', spec));
    if (byDest.has(dest) || tmpfsDests.has(dest) || anonymous.includes(dest)) continue;
    anonymous.push(dest);
  }
  return { mounts: [...byDest.values()], anonymous };
}

/** A mount of the OCI runtime spec. */
export interface OciMount {
  destination: string;
  type: string;
  source: string;
  options?: string[];
}

/** The OCI mount of a mount point whose source is resolved (volumes mounted). */
export function ociMount(mp: MountPoint): OciMount {
  if (mp.Type === 'tmpfs') {
    return { destination: mp.Destination, type: 'tmpfs', source: 'tmpfs', options: tmpfsMountOptions(mp.Data ?? '') };
  }
  const opts = ['rbind'];
  if (!mp.RW) opts.push('ro');
  // moby: an empty propagation (volumes) is "private".
  opts.push(mp.Propagation || 'private');
  return { destination: mp.Destination, type: 'bind', source: mp.Source, options: opts };
}

/** The OCI mounts of `HostConfig.Tmpfs`. */
export function ociTmpfsMounts(tmpfs: Record<string, string> | null | undefined): OciMount[] {
  return Object.entries(tmpfs ?? {}).map(([dest, data]) => ({ destination: clean(dest), type: 'tmpfs', source: 'tmpfs', options: tmpfsMountOptions(data) }));
}

/**
 * The rootfs propagation a shared or slave bind needs (moby raises it to "shared" or "rslave";
 * the runtime's default would cut the mount off from the host).
 */
export function rootfsPropagation(mounts: readonly MountPoint[]): string | undefined {
  let out: string | undefined;
  for (const m of mounts) {
    if (m.Type !== 'bind') continue;
    if (m.Propagation === 'shared' || m.Propagation === 'rshared') out = 'shared';
    else if ((m.Propagation === 'slave' || m.Propagation === 'rslave') && out !== 'shared') out = 'rslave';
  }
  return out;
}

/** The Engine API's MountPoint (inspect's and ps's `Mounts`). */
export function apiMountPoint(m: MountPoint): Record<string, unknown> {
  const out: Record<string, unknown> = { Type: m.Type };
  if (m.Name) out.Name = m.Name;
  out.Source = m.Source;
  out.Destination = m.Destination;
  if (m.Driver) out.Driver = m.Driver;
  out.Mode = m.Mode;
  out.RW = m.RW;
  out.Propagation = m.Propagation;
  return out;
}
