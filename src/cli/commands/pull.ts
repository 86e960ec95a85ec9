import type { Query } from '../../client/engine';
import { StatusError, type CommandSpec } from '../cli';
import type { FlagSpec } from '../flags';
import { displayJsonMessages } from '../jsonmessage';
import { ReferenceError, fullName, parseNormalizedNamed, referenceString, tagNameOnly, type Reference } from '../reference';
import { privilegeFunc, registryAuthHeader, withPrivilege } from '../registryauth';

/** Docker's --disable-content-trust: berth verifies no signatures, so it is always "disabled". */
export function contentTrustFlag(description: string): FlagSpec {
  return { name: 'disable-content-trust', type: 'bool', default: true, description };
}

/** reference.ParseNormalizedNamed with its error as the command's (exit 1). */
export function parseRef(s: string): Reference {
  try {
    return parseNormalizedNamed(s);
  } catch (err) {
    if (err instanceof ReferenceError) throw new StatusError(1, err.message);
    throw err;
  }
}

export const isNameOnly = (r: Reference): boolean => r.tag === undefined && r.digest === undefined;

export const discard = { write: (): boolean => true, isTTY: false };

export const pullCommand: CommandSpec = {
  name: 'pull',
  use: '[OPTIONS] NAME[:TAG|@DIGEST]',
  short: 'Download an image from a registry',
  args: { kind: 'exact', n: 1 },
  flags: [
    { name: 'all-tags', short: 'a', type: 'bool', description: 'Download all tagged images in the repository' },
    contentTrustFlag('Skip image verification'),
    { name: 'platform', type: 'string', description: 'Set platform if server is multi-platform capable' },
    { name: 'quiet', short: 'q', type: 'bool', description: 'Suppress verbose output' },
  ],
  async run(cli, f) {
    const all = f.bool('all-tags');
    const quiet = f.bool('quiet');
    let ref = parseRef(f.args[0]);
    if (all && !isNameOnly(ref)) throw new StatusError(1, "tag can't be used with --all-tags/-a");
    if (!all && isNameOnly(ref)) {
      ref = tagNameOnly(ref);
      if (!quiet) cli.println(`Using default tag: ${ref.tag}`);
    }
    // --platform defaults to $DOCKER_DEFAULT_PLATFORM, as docker's AddPlatformFlag does.
    const platform = f.has('platform') ? f.string('platform') : (cli.env.DOCKER_DEFAULT_PLATFORM ?? '');
    const query: Query = {
      fromImage: fullName(ref),
      tag: all ? undefined : (ref.digest ?? ref.tag),
      platform: platform ? platform.toLowerCase() : undefined,
    };
    const engine = cli.engine();
    const res = await withPrivilege(
      await registryAuthHeader(cli, ref.domain),
      (auth) => engine.stream('POST', '/images/create', { query, headers: { 'X-Registry-Auth': auth } }),
      privilegeFunc(cli, ref.domain, 'pull'),
    );
    await displayJsonMessages(res, quiet ? discard : cli.streams.out);
    cli.println(referenceString(ref));
  },
};
