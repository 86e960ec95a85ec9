/**
 * `berth build`'s flags and their translation into the query of POST /build, as docker's legacy
 * client does it (docker/cli cli/command/image/build.go, client/image_build.go); and where the
 * build context and the Dockerfile are (cli/command/image/build/context.go). Synchronous and free
 * of I/O other than looking at paths, so that it can be unit-tested.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Query } from '../../client/engine';
import type { FlagSpec, ParsedFlags } from '../flags';
import { parseNormalizedNamed } from '../reference';
import { parseBytes } from '../../util/units';
import { convertKVStringsToMap } from './container-opts';

/** opts.ValidateEnv's check (the lookup of a bare NAME happens when the command runs). */
export function validateBuildArg(v: string): string | undefined {
  const eq = v.indexOf('=');
  return (eq >= 0 ? v.slice(0, eq) : v) === '' ? `invalid environment variable: ${v}` : undefined;
}

/** opts.ValidateLabel */
export function validateLabel(v: string): string | undefined {
  const eq = v.indexOf('=');
  const key = (eq >= 0 ? v.slice(0, eq) : v).trim();
  if (key === '') return `invalid label '${v}': empty name`;
  if (/[ \t\n\v\f\r]/.test(key)) return `label '${key}' contains whitespaces`;
  return undefined;
}

/** build's validateTag: reference.ParseNormalizedNamed. */
export function validateTag(v: string): string | undefined {
  try {
    parseNormalizedNamed(v);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

export const PROGRESS_MODES = ['auto', 'plain', 'tty'] as const;
export type ProgressMode = (typeof PROGRESS_MODES)[number];

export const BUILD_FLAGS: FlagSpec[] = [
  { name: 'build-arg', type: 'list', description: 'Set build-time variables', validate: validateBuildArg },
  { name: 'compress', type: 'bool', description: 'Compress the build context using gzip' },
  { name: 'disable-content-trust', type: 'bool', default: true, description: 'Skip image verification' },
  { name: 'file', short: 'f', type: 'string', description: 'Name of the Dockerfile (Default is "PATH/Dockerfile")' },
  { name: 'force-rm', type: 'bool', description: 'Always remove intermediate containers' },
  { name: 'iidfile', type: 'string', description: 'Write the image ID to the file' },
  { name: 'label', type: 'list', description: 'Set metadata for an image', validate: validateLabel },
  {
    name: 'network',
    type: 'string',
    default: 'default',
    description: 'Set the networking mode for the RUN instructions during build',
  },
  { name: 'no-cache', type: 'bool', description: 'Do not use cache when building the image' },
  { name: 'platform', type: 'string', description: 'Set platform if server is multi-platform capable' },
  {
    name: 'progress',
    type: 'string',
    default: 'auto',
    description: 'Set type of progress output ("auto", "plain", "tty"): "plain" keeps docker\'s lines, "tty" adds step timings',
    validate: (v) => ((PROGRESS_MODES as readonly string[]).includes(v) ? undefined : 'must be one of "auto", "plain", "tty"'),
  },
  { name: 'pull', type: 'bool', description: 'Always attempt to pull a newer version of the image' },
  { name: 'quiet', short: 'q', type: 'bool', description: 'Suppress the build output and print image ID on success' },
  { name: 'rm', type: 'bool', default: true, description: 'Remove intermediate containers after a successful build' },
  { name: 'tag', short: 't', type: 'list', description: 'Name and optionally a tag in the "name:tag" format', validate: validateTag },
  { name: 'target', type: 'string', description: 'Set the target build stage to build.' },
];

export const BUILDER_PRUNE_FLAGS: FlagSpec[] = [
  { name: 'all', short: 'a', type: 'bool', description: 'Remove all unused build cache, not just dangling ones' },
  {
    name: 'filter',
    type: 'list',
    valueName: 'filter',
    description: 'Provide filter values (e.g. "until=24h")',
    validate: (v) => (v === '' || v.includes('=') ? undefined : 'bad format of filter (expected name=value)'),
  },
  { name: 'force', short: 'f', type: 'bool', description: 'Do not prompt for confirmation' },
  {
    name: 'keep-storage',
    type: 'string',
    valueName: 'bytes',
    description: 'Amount of disk space to keep for cache',
    validate: (v) => {
      try {
        parseBytes(v);
        return undefined;
      } catch (err) {
        return (err as Error).message;
      }
    },
  },
];

/**
 * --build-arg values to the `buildargs` map: `k=v` is v, a bare `k` takes the CLI's own
 * environment value when there is one and is null (JSON) otherwise — ValidateEnv and then
 * ConvertKVStringsToMapWithNil. Later values win.
 */
export function buildArgsMap(values: readonly string[], env: NodeJS.ProcessEnv): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  for (const v of values) {
    const eq = v.indexOf('=');
    if (eq >= 0) out[v.slice(0, eq)] = v.slice(eq + 1);
    else out[v] = env[v] !== undefined ? env[v]! : null;
  }
  return out;
}

/**
 * configfile.ParseProxyConfig: the proxies of config.json become build args (both spellings)
 * unless the user set them.
 */
export function withProxyArgs(args: Record<string, string | null>, proxies: Record<string, string>): Record<string, string | null> {
  const out = { ...args };
  const permitted: [string, string][] = [
    ['HTTP_PROXY', 'httpProxy'],
    ['HTTPS_PROXY', 'httpsProxy'],
    ['NO_PROXY', 'noProxy'],
    ['FTP_PROXY', 'ftpProxy'],
    ['ALL_PROXY', 'allProxy'],
  ];
  for (const [k, field] of permitted) {
    const v = proxies[field];
    if (!v) continue;
    if (!(k in out)) out[k] = v;
    if (!(k.toLowerCase() in out)) out[k.toLowerCase()] = v;
  }
  return out;
}

/** --label values: ConvertKVStringsToMap (a bare key is ""). */
export const labelsMap = convertKVStringsToMap;

export interface BuildRequest {
  tags: string[];
  quiet: boolean;
  noCache: boolean;
  rm: boolean;
  forceRm: boolean;
  pull: boolean;
  network: string;
  /** The Dockerfile's name inside the context tar, '' for the daemon's default. */
  dockerfile: string;
  buildArgs: Record<string, string | null>;
  labels: Record<string, string>;
  target: string;
  platform: string;
}

/** The request options from the flags (without the Dockerfile, which depends on the context). */
export function buildRequest(f: ParsedFlags, env: NodeJS.ProcessEnv, proxies: Record<string, string> = {}): BuildRequest {
  // --platform defaults to $DOCKER_DEFAULT_PLATFORM, as docker's AddPlatformFlag does.
  const platform = f.has('platform') ? f.string('platform') : (env.DOCKER_DEFAULT_PLATFORM ?? '');
  return {
    tags: f.list('tag'),
    quiet: f.bool('quiet'),
    noCache: f.bool('no-cache'),
    rm: f.bool('rm'),
    forceRm: f.bool('force-rm'),
    pull: f.bool('pull'),
    network: f.string('network'),
    dockerfile: '',
    buildArgs: withProxyArgs(buildArgsMap(f.list('build-arg'), env), proxies),
    labels: labelsMap(f.list('label')),
    target: f.string('target'),
    platform,
  };
}

/** client.imageBuildOptionsToQuery for what berth sends. */
export function buildQuery(r: BuildRequest): Query {
  return {
    t: r.tags.length ? r.tags : undefined,
    q: r.quiet || undefined,
    nocache: r.noCache || undefined,
    // The daemon's default is to remove; only opting out is sent.
    rm: r.rm ? undefined : false,
    forcerm: r.forceRm || undefined,
    pull: r.pull || undefined,
    networkmode: r.network || undefined,
    dockerfile: r.dockerfile,
    buildargs: JSON.stringify(r.buildArgs),
    labels: JSON.stringify(r.labels),
    target: r.target || undefined,
    platform: r.platform ? r.platform.toLowerCase() : undefined,
    version: '1',
  };
}

// ---- where things are ---------------------------------------------------------------------

export type ContextType = 'stdin' | 'local' | 'git' | 'url';

const isURL = (s: string): boolean => s.startsWith('http://') || s.startsWith('https://');

/** urlutil.IsGitURL */
export function isGitURL(s: string): boolean {
  if (isURL(s) && /\.git(?:#.+)?$/.test(s)) return true;
  return ['git://', 'github.com/', 'git@'].some((p) => s.startsWith(p));
}

/** build.DetectContextType: `-`, an existing path, a git repository, a URL. */
export function detectContextType(arg: string): ContextType {
  if (arg === '-') return 'stdin';
  if (fs.existsSync(arg)) return 'local';
  if (isGitURL(arg)) return 'git';
  if (isURL(arg)) return 'url';
  throw new Error(`unable to prepare context: path ${JSON.stringify(arg)} not found`);
}

/** The message of Go's EvalSymlinks for a path that is not there: the first missing prefix. */
function evalSymlinksError(abs: string, err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (e.code === 'ENOENT' || e.code === 'ENOTDIR') {
    const parts = abs.split('/');
    for (let i = 2; i <= parts.length; i++) {
      const prefix = parts.slice(0, i).join('/') || '/';
      try {
        fs.lstatSync(prefix);
      } catch (pe) {
        const why = (pe as NodeJS.ErrnoException).code === 'ENOTDIR' ? 'not a directory' : 'no such file or directory';
        return `lstat ${prefix}: ${why}`;
      }
    }
  }
  if (e.code === 'EACCES') return `lstat ${abs}: permission denied`;
  return e.message;
}

/** build.ResolveAndValidateContextPath: the context directory, absolute, symlinks resolved. */
export function resolveContextDir(arg: string, cwd: string = process.cwd()): string {
  const abs = path.resolve(cwd, arg);
  let real: string;
  try {
    real = fs.realpathSync(abs);
  } catch (err) {
    throw new Error(`unable to evaluate symlinks in context path: ${evalSymlinksError(abs, err)}`);
  }
  if (!fs.statSync(real).isDirectory()) throw new Error(`context must be a directory: ${real}`);
  return real;
}

const lexists = (p: string): boolean => {
  try {
    fs.lstatSync(p);
    return true;
  } catch {
    return false;
  }
};

/**
 * getDockerfileRelPath: the Dockerfile's path relative to the context directory `ctx` (which
 * starts with `../` when it lies outside). `-f` is relative to the current directory, as in
 * docker; berth also accepts it relative to the context when only that path exists (the old
 * docker behaviour people still type). Without `-f`: PATH/Dockerfile, else PATH/dockerfile.
 * `-f -` stays `-`.
 */
export function resolveDockerfile(ctx: string, file: string, cwd: string = process.cwd()): string {
  if (file === '-') return '-';
  let abs: string;
  if (file === '') {
    abs = path.join(ctx, 'Dockerfile');
    if (!lexists(abs) && lexists(path.join(ctx, 'dockerfile'))) abs = path.join(ctx, 'dockerfile');
  } else {
    abs = path.resolve(cwd, file);
    if (!path.isAbsolute(file) && !lexists(abs) && lexists(path.join(ctx, file))) abs = path.join(ctx, file);
  }
  let real: string;
  try {
    real = fs.realpathSync(abs);
  } catch (err) {
    throw new Error(`unable to evaluate symlinks in Dockerfile path: ${evalSymlinksError(abs, err)}`);
  }
  return path.relative(ctx, real);
}

/** Whether a Dockerfile path relative to the context lies outside of it. */
export function outsideContext(rel: string): boolean {
  return rel === '..' || rel.startsWith('../') || path.isAbsolute(rel);
}
