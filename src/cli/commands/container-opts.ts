/**
 * The options `run` and `create` share, and their translation into the body of
 * POST /containers/create — the same body docker's CLI builds for the same flags.
 */
import type { FlagSpec, ParsedFlags } from '../flags';
import type { ContainerCreateBody } from '../../client/types';
import { NETWORK_FLAGS, applyNetworkOptions } from './network-opts';
import { LOG_FLAGS, applyLogOptions } from './log-opts';
import { parseMountFlag, tmpfsOptions, volumeOptions, type MountSpec } from './volume-opts';
import { LIFE_FLAGS, applyLifeOptions } from './lifecycle-opts';
import { RESOURCE_FLAGS, resourceHostConfig } from './resource-opts';

export const CONTAINER_FLAGS: FlagSpec[] = [
  { name: 'entrypoint', type: 'string', description: 'Overwrite the default ENTRYPOINT of the image' },
  {
    name: 'env',
    short: 'e',
    type: 'list',
    description: 'Set environment variables',
    validate: (v) => (v.split('=')[0] === '' ? `invalid environment variable: ${v}` : undefined),
  },
  { name: 'env-file', type: 'list', description: 'Read in a file of environment variables' },
  { name: 'help', type: 'bool', description: 'Print usage' },
  { name: 'hostname', short: 'h', type: 'string', description: 'Container host name' },
  { name: 'interactive', short: 'i', type: 'bool', description: 'Keep STDIN open even if not attached' },
  { name: 'label', short: 'l', type: 'list', description: 'Set meta data on a container' },
  { name: 'label-file', type: 'list', description: 'Read in a line delimited file of labels' },
  {
    name: 'mount',
    type: 'list',
    valueName: 'mount',
    description: 'Attach a filesystem mount to the container',
    validate: (v) => {
      try {
        parseMountFlag(v);
        return undefined;
      } catch (e) {
        return (e as Error).message;
      }
    },
  },
  { name: 'name', type: 'string', description: 'Assign a name to the container' },
  { name: 'network', type: 'string', valueName: 'network', description: 'Connect a container to a network' },
  { name: 'net', type: 'string', valueName: 'network', description: 'Connect a container to a network', hidden: true },
  {
    name: 'pull',
    type: 'string',
    default: 'missing',
    description: 'Pull image before running ("always", "missing", "never")',
  },
  { name: 'quiet', short: 'q', type: 'bool', description: 'Suppress the pull output' },
  {
    name: 'rm',
    type: 'bool',
    description: 'Automatically remove the container and its associated anonymous volumes when it exits',
  },
  { name: 'stop-signal', type: 'string', description: 'Signal to stop the container' },
  { name: 'stop-timeout', type: 'int', description: 'Timeout (in seconds) to stop a container' },
  { name: 'tmpfs', type: 'list', description: 'Mount a tmpfs directory' },
  { name: 'tty', short: 't', type: 'bool', description: 'Allocate a pseudo-TTY' },
  { name: 'user', short: 'u', type: 'string', description: 'Username or UID (format: <name|uid>[:<group|gid>])' },
  { name: 'volume', short: 'v', type: 'list', description: 'Bind mount a volume' },
  { name: 'volume-driver', type: 'string', description: 'Optional volume driver for the container' },
  { name: 'volumes-from', type: 'list', description: 'Mount volumes from the specified container(s)' },
  { name: 'workdir', short: 'w', type: 'string', description: 'Working directory inside the container' },
  ...LOG_FLAGS,
  ...NETWORK_FLAGS,
  ...LIFE_FLAGS,
  ...RESOURCE_FLAGS,
];

export interface CreateRequest {
  name?: string;
  body: ContainerCreateBody;
  /** `--pull`: always | missing | never */
  pull: string;
  quiet: boolean;
}

export interface OptsEnv {
  /** Reads a file (env-file, label-file); throws Node's errors. */
  readFile(path: string): string;
  /** The CLI's own environment, for `-e NAME` pass-through. */
  env: NodeJS.ProcessEnv;
}

/** An invalid option: `run` and `create` print it with the usage hint and exit 125. */
export class OptionError extends Error {}

/**
 * Builds the create request from the parsed flags; `args` are the positionals (image, then the
 * command). `detach` is run's -d (create behaves as detached).
 */
export function buildCreateRequest(f: ParsedFlags, args: readonly string[], detach: boolean, io: OptsEnv): CreateRequest {
  const image = args[0];
  const cmd = args.slice(1);
  const pull = f.string('pull');
  if (!['always', 'missing', 'never', ''].includes(pull)) {
    throw new OptionError(`invalid pull option: '${pull}': must be one of "always", "missing" or "never"`);
  }
  const env = readKVEnvStrings(f.list('env-file'), f.list('env'), io);
  const labels = convertKVStringsToMap(readKVStrings(f.list('label-file'), f.list('label'), io));
  const interactive = f.bool('interactive');

  const body: ContainerCreateBody = {
    Hostname: f.string('hostname'),
    User: f.string('user'),
    AttachStdin: !detach && interactive,
    AttachStdout: !detach,
    AttachStderr: !detach,
    Tty: f.bool('tty'),
    OpenStdin: interactive,
    StdinOnce: !detach && interactive,
    Env: env.length > 0 ? env : null,
    Cmd: cmd.length > 0 ? cmd : null,
    Image: image,
    WorkingDir: f.string('workdir'),
    Entrypoint: f.has('entrypoint') ? [f.string('entrypoint')] : null,
    Labels: labels,
  };
  if (f.string('stop-signal')) body.StopSignal = f.string('stop-signal');
  if (f.has('stop-timeout')) body.StopTimeout = f.int('stop-timeout');
  const network = f.string('network') || f.string('net') || 'default';
  body.HostConfig = { AutoRemove: f.bool('rm'), NetworkMode: network, ...mountHostConfig(f, body) };
  try {
    Object.assign(body.HostConfig, resourceHostConfig(f));
  } catch (e) {
    throw new OptionError((e as Error).message);
  }
  try {
    applyLogOptions(f, body);
    applyNetworkOptions(f, body, network);
    applyLifeOptions(f, body);
  } catch (e) {
    throw new OptionError((e as Error).message);
  }
  const name = f.string('name');
  return { name: name || undefined, body, pull, quiet: f.bool('quiet') };
}

/**
 * -v, --mount, --tmpfs, --volumes-from and --volume-driver as HostConfig fields (only those
 * given); anonymous -v volumes go into the body's Volumes.
 */
function mountHostConfig(f: ParsedFlags, body: ContainerCreateBody): Record<string, unknown> {
  const hc: { Binds?: string[]; Mounts?: MountSpec[]; Tmpfs?: Record<string, string>; VolumesFrom?: string[]; VolumeDriver?: string } = {};
  let v: ReturnType<typeof volumeOptions>;
  try {
    v = volumeOptions(f.list('volume'));
  } catch (e) {
    throw new OptionError((e as Error).message);
  }
  if (v.binds.length) hc.Binds = v.binds;
  if (Object.keys(v.volumes).length) Object.assign(body, { Volumes: v.volumes });
  if (f.list('mount').length) hc.Mounts = f.list('mount').map((m) => parseMountFlag(m));
  if (f.list('tmpfs').length) hc.Tmpfs = tmpfsOptions(f.list('tmpfs'));
  if (f.list('volumes-from').length) hc.VolumesFrom = f.list('volumes-from');
  if (f.string('volume-driver')) hc.VolumeDriver = f.string('volume-driver');
  return hc;
}

/** opts.ValidateEnv: `NAME` without `=` takes the CLI's own value when it has one. */
export function validateEnv(val: string, env: NodeJS.ProcessEnv): string {
  const eq = val.indexOf('=');
  const k = eq >= 0 ? val.slice(0, eq) : val;
  if (k === '') throw new OptionError(`invalid environment variable: ${val}`);
  if (eq >= 0) return val;
  const v = env[k];
  return v !== undefined ? `${k}=${v}` : val;
}

/** Env files first, then -e values (which may override). */
export function readKVEnvStrings(files: readonly string[], override: readonly string[], io: OptsEnv): string[] {
  const out: string[] = [];
  for (const file of files) out.push(...parseKeyValueFile(file, io, true));
  for (const v of override) out.push(validateEnv(v, io.env));
  return out;
}

function readKVStrings(files: readonly string[], override: readonly string[], io: OptsEnv): string[] {
  const out: string[] = [];
  for (const file of files) out.push(...parseKeyValueFile(file, io, false));
  out.push(...override);
  return out;
}

/** docker's opts.parseKeyValueFile: one VAR=value per line, `#` comments, no whitespace in names. */
export function parseKeyValueFile(file: string, io: OptsEnv, lookupEnv: boolean): string[] {
  let text: string;
  try {
    text = io.readFile(file);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why = e.code === 'ENOENT' ? 'no such file or directory' : e.code === 'EACCES' ? 'permission denied' : e.message;
    throw new OptionError(`open ${file}: ${why}`);
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const out: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '').replace(/^\s+/, '');
    if (line.length === 0 || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    const variable = (eq >= 0 ? line.slice(0, eq) : line).replace(/^[ \t\n\v\f\r]+/, '');
    if (/[ \t\n\v\f\r]/.test(variable)) throw new OptionError(`variable '${variable}' contains whitespaces`);
    if (variable.length === 0) throw new OptionError(`no variable name on line '${line}'`);
    if (eq >= 0) {
      out.push(`${variable}=${line.slice(eq + 1)}`);
    } else {
      const v = lookupEnv ? io.env[line] : undefined;
      out.push(v !== undefined ? `${variable.trim()}=${v}` : variable);
    }
  }
  return out;
}

/** `k=v` strings to a map; a bare `k` maps to "". */
export function convertKVStringsToMap(values: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values) {
    const eq = v.indexOf('=');
    if (eq >= 0) out[v.slice(0, eq)] = v.slice(eq + 1);
    else out[v] = '';
  }
  return out;
}
