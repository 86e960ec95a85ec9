import { StatusError, type CommandSpec } from '../cli';
import { fullName, looksLikeDigestId, parseNormalizedNamed, tagNameOnly } from '../reference';

export const tagCommand: CommandSpec = {
  name: 'tag',
  use: 'SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]',
  short: 'Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE',
  args: { kind: 'exact', n: 2 },
  flags: [],
  async run(cli, f) {
    const [source, target] = f.args;
    if (!looksLikeDigestId(source)) {
      try {
        parseNormalizedNamed(source);
      } catch (err) {
        throw new StatusError(1, `Error parsing reference: ${JSON.stringify(source)} is not a valid repository/tag: ${(err as Error).message}`);
      }
    }
    let ref;
    try {
      ref = parseNormalizedNamed(target);
    } catch (err) {
      throw new StatusError(1, `Error parsing reference: ${JSON.stringify(target)} is not a valid repository/tag: ${(err as Error).message}`);
    }
    if (ref.digest !== undefined) throw new StatusError(1, 'refusing to create a tag with a digest reference');
    ref = tagNameOnly(ref);
    await cli.engine().post(`/images/${source}/tag`, { repo: fullName(ref), tag: ref.tag });
  },
};
