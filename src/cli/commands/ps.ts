import type { Query } from '../../client/engine';
import type { ContainerSummary } from '../../client/types';
import { FORMAT_HELP, StatusError, type CommandSpec } from '../cli';
import { TemplateError } from '../format/gotemplate';
import { FormatError, parseFormat, renderList } from '../output';
import { CONTAINER_HEADERS, DEFAULT_CONTAINER_TABLE, containerRow, labelHeader } from '../rows';
import { FILTER_FLAG, filtersJson } from './filters';

/** docker's NewContainerFormat. */
export function containerFormat(format: string, quiet: boolean, size: boolean): string {
  if (format === '' || format === 'table') {
    if (quiet) return '{{.ID}}';
    return size ? `${DEFAULT_CONTAINER_TABLE}\t{{.Size}}` : DEFAULT_CONTAINER_TABLE;
  }
  return quiet ? '{{.ID}}' : format;
}

export const psCommand: CommandSpec = {
  name: 'ps',
  use: '[OPTIONS]',
  short: 'List containers',
  args: { kind: 'none' },
  flags: [
    { name: 'all', short: 'a', type: 'bool', description: 'Show all containers (default shows just running)' },
    FILTER_FLAG,
    { name: 'format', type: 'string', description: FORMAT_HELP },
    { name: 'last', short: 'n', type: 'int', default: -1, description: 'Show n last created containers (includes all states)' },
    { name: 'latest', short: 'l', type: 'bool', description: 'Show the latest created container (includes all states)' },
    { name: 'no-trunc', type: 'bool', description: "Don't truncate output" },
    { name: 'quiet', short: 'q', type: 'bool', description: 'Only display container IDs' },
    { name: 'size', short: 's', type: 'bool', description: 'Display total file sizes' },
  ],
  async run(cli, f) {
    const format = f.string('format');
    const quiet = f.bool('quiet');
    if (format && quiet) cli.err('WARNING: Ignoring custom format, because both --format and --quiet are set.\n');
    let size = f.bool('size');
    if (format) {
      let tmpl;
      try {
        tmpl = parseFormat(format, 'failed to parse template');
      } catch (err) {
        if (err instanceof FormatError) throw new StatusError(1, err.message);
        throw err;
      }
      // docker runs the template once on an empty row first: errors show before any request.
      try {
        tmpl.execute(containerRow({ Id: '' }, { trunc: true }));
      } catch (err) {
        if (err instanceof TemplateError) throw new StatusError(1, `failed to execute template: ${err.message}`);
        throw err;
      }
      // Sizes are costly for the daemon: asked for only when the template shows them.
      // ("json" itself is not a template here, as in docker: it asks for no sizes.)
      if (!quiet && !size && !f.has('size') && /\bjson\s+\.\s*}}|\.Size\b/.test(format)) size = true;
    }
    let limit = f.int('last');
    if (f.bool('latest') && limit === -1) limit = 1;
    const q: Query = {
      all: f.bool('all') || undefined,
      limit: limit > 0 ? limit : undefined,
      size: size || undefined,
      filters: filtersJson(f.list('filter')),
    };
    const list = (await cli.engine().get<ContainerSummary[]>('/containers/json', q)) ?? [];
    const trunc = !f.bool('no-trunc');
    const now = Date.now();
    const rows = list.map((c) => containerRow(c, { trunc, now }));
    try {
      cli.out(renderList(containerFormat(format, quiet, size), rows, { ...CONTAINER_HEADERS, Label: labelHeader }));
    } catch (err) {
      if (err instanceof FormatError) throw new StatusError(1, err.message);
      throw err;
    }
  },
};
