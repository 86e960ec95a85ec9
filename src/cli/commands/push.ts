import type { Query } from '../../client/engine';
import { StatusError, type CommandSpec } from '../cli';
import { displayJsonMessages } from '../jsonmessage';
import { fullName, referenceString, tagNameOnly } from '../reference';
import { printNote, privilegeFunc, registryAuthHeader, withPrivilege } from '../registryauth';
import { contentTrustFlag, discard, isNameOnly, parseRef } from './pull';

interface Platform {
  architecture: string;
  os: string;
  variant?: string;
}

function hostArch(): string {
  const a = process.arch;
  return a === 'x64' ? 'amd64' : a === 'ia32' ? '386' : a;
}

const KNOWN_OS = new Set(['aix', 'android', 'darwin', 'dragonfly', 'freebsd', 'illumos', 'ios', 'js', 'linux', 'netbsd', 'openbsd', 'plan9', 'solaris', 'wasip1', 'windows']);

/** containerd's platforms.Parse and Normalize, for the forms people write: os[/arch[/variant]]. */
export function parsePlatform(spec: string): Platform {
  const bad = (why: string): Error => new Error(`"${spec}": ${why}: invalid argument`);
  const parts = spec.toLowerCase().split('/');
  if (parts.some((p) => !/^[a-z0-9_.-]+$/.test(p))) throw bad('invalid platform component');
  let os = 'linux';
  let arch: string;
  let variant = '';
  if (parts.length === 1) {
    if (KNOWN_OS.has(parts[0])) {
      os = parts[0];
      arch = hostArch();
    } else {
      arch = parts[0];
    }
  } else if (parts.length <= 3) {
    [os, arch, variant = ''] = parts;
    if (os === 'macos') os = 'darwin';
  } else {
    throw bad('cannot parse platform specifier');
  }
  switch (arch) {
    case 'i386':
      arch = '386';
      variant = '';
      break;
    case 'x86_64':
    case 'x86-64':
    case 'amd64':
      arch = 'amd64';
      if (variant === 'v1') variant = '';
      break;
    case 'aarch64':
    case 'arm64':
      arch = 'arm64';
      if (variant === '8' || variant === 'v8' || variant === 'v8.0') variant = '';
      break;
    case 'armhf':
      arch = 'arm';
      variant = 'v7';
      break;
    case 'armel':
      arch = 'arm';
      variant = 'v6';
      break;
    case 'arm':
      if (variant === '' || variant === '7') variant = 'v7';
      else if (variant === '5' || variant === '6' || variant === '8') variant = `v${variant}`;
      break;
  }
  return variant ? { architecture: arch, os, variant } : { architecture: arch, os };
}

export const pushCommand: CommandSpec = {
  name: 'push',
  use: '[OPTIONS] NAME[:TAG]',
  short: 'Upload an image to a registry',
  args: { kind: 'exact', n: 1 },
  flags: [
    { name: 'all-tags', short: 'a', type: 'bool', description: 'Push all tags of an image to the repository' },
    contentTrustFlag('Skip image signing'),
    {
      name: 'platform',
      type: 'string',
      description:
        "Push a platform-specific manifest as a single-platform image to the registry.\nImage index won't be pushed, meaning that other manifests, including attestations won't be preserved.\n'os[/arch[/variant]]': Explicit platform (eg. linux/amd64)",
    },
    { name: 'quiet', short: 'q', type: 'bool', description: 'Suppress verbose output' },
  ],
  async run(cli, f) {
    const all = f.bool('all-tags');
    const quiet = f.bool('quiet');
    let platform: Platform | undefined;
    if (f.string('platform')) {
      try {
        platform = parsePlatform(f.string('platform'));
      } catch (err) {
        cli.err(`Invalid platform ${f.string('platform')}`);
        throw new StatusError(1, (err as Error).message);
      }
      printNote(
        cli.streams.out,
        'Using --platform pushes only the specified platform manifest of a multi-platform image index.\nOther components, like attestations, will not be included.\nTo push the complete multi-platform image, remove the --platform flag.\n',
      );
    }
    let ref = parseRef(f.args[0]);
    if (all && !isNameOnly(ref)) throw new StatusError(1, "tag can't be used with --all-tags/-a");
    if (!all && isNameOnly(ref)) {
      ref = tagNameOnly(ref);
      if (!quiet) cli.println(`Using default tag: ${ref.tag}`);
    }
    if (ref.digest !== undefined) throw new StatusError(1, 'cannot push a digest reference');
    const query: Query = { tag: all ? undefined : ref.tag, platform: platform ? JSON.stringify(platform) : undefined };
    const engine = cli.engine();
    const res = await withPrivilege(
      await registryAuthHeader(cli, ref.domain),
      (auth) => engine.stream('POST', `/images/${fullName(ref)}/push`, { query, headers: { 'X-Registry-Auth': auth } }),
      privilegeFunc(cli, ref.domain, 'push'),
    );
    await displayJsonMessages(res, quiet ? discard : cli.streams.out);
    if (quiet) cli.println(referenceString(ref));
  },
};
