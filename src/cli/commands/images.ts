import type { ImageSummary } from '../../client/types';
import { FORMAT_HELP, StatusError, type CommandSpec } from '../cli';
import { FormatError, renderList } from '../output';
import { DEFAULT_IMAGE_TABLE, DEFAULT_IMAGE_TABLE_WITH_DIGEST, IMAGE_HEADERS, imageRows } from '../rows';
import { FILTER_FLAG, filtersJson } from './filters';

/** docker's NewImageFormat. */
export function imageFormat(format: string, quiet: boolean, digests: boolean): string {
  if (format === '' || format === 'table') {
    if (quiet) return '{{.ID}}';
    return digests ? DEFAULT_IMAGE_TABLE_WITH_DIGEST : DEFAULT_IMAGE_TABLE;
  }
  if (format.startsWith('table') && digests && !format.includes('{{.Digest}}')) return `${format}\t{{.Digest}}`;
  return format;
}

export const imagesCommand: CommandSpec = {
  name: 'images',
  use: '[OPTIONS] [REPOSITORY[:TAG]]',
  short: 'List images',
  args: { kind: 'max', n: 1 },
  flags: [
    { name: 'all', short: 'a', type: 'bool', description: 'Show all images (default hides intermediate images)' },
    { name: 'digests', type: 'bool', description: 'Show digests' },
    FILTER_FLAG,
    { name: 'format', type: 'string', description: FORMAT_HELP },
    { name: 'no-trunc', type: 'bool', description: "Don't truncate output" },
    { name: 'quiet', short: 'q', type: 'bool', description: 'Only show image IDs' },
  ],
  async run(cli, f) {
    const extra: [string, string][] = f.args.length > 0 ? [['reference', f.args[0]]] : [];
    const list =
      (await cli.engine().get<ImageSummary[]>('/images/json', {
        all: f.bool('all') || undefined,
        filters: filtersJson(f.list('filter'), extra),
      })) ?? [];
    const digests = f.bool('digests');
    const format = imageFormat(f.string('format'), f.bool('quiet'), digests);
    const trunc = !f.bool('no-trunc');
    const now = Date.now();
    const needDigest = digests || format.includes('{{.Digest}}');
    const rows = list.flatMap((img) => imageRows(img, { trunc, now, digests, needDigest }));
    try {
      cli.out(renderList(format, rows, IMAGE_HEADERS));
    } catch (err) {
      if (err instanceof FormatError) throw new StatusError(1, err.message);
      throw err;
    }
  },
};
