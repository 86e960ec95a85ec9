import { readAll } from '../../client/engine';
import { EngineError } from '../../client/errors';
import type { Query } from '../../client/engine';
import { INSPECT_FORMAT_HELP, StatusError, errorText, type Cli, type CommandSpec } from '../cli';
import { compileTemplate, TemplateError, type Template } from '../format/gotemplate';
import { jsonCompact, jsonIndent } from '../jsonindent';

type Kind = 'container' | 'image' | 'network' | 'volume';

const VALID_TYPES = new Set(['config', 'container', 'image', 'network', 'node', 'plugin', 'secret', 'service', 'task', 'volume']);

function inspectPath(kind: Kind, ref: string): string {
  switch (kind) {
    case 'container':
      return `/containers/${encodeURIComponent(ref)}/json`;
    case 'image':
      return `/images/${ref}/json`;
    case 'network':
      return `/networks/${encodeURIComponent(ref)}`;
    case 'volume':
      return `/volumes/${encodeURIComponent(ref)}`;
  }
}

async function fetchRaw(cli: Cli, kind: Kind, ref: string, size: boolean): Promise<string> {
  const q: Query | undefined = kind === 'container' && size ? { size: true } : undefined;
  const res = await cli.engine().stream('GET', inspectPath(kind, ref), { query: q });
  return (await readAll(res)).toString('utf8');
}

function skippable(err: unknown): boolean {
  if (err instanceof EngineError && err.status === 404) return true;
  const m = err instanceof Error ? err.message : '';
  return m.includes('not supported') || m.includes('invalid reference format');
}

/** Fetches each reference and prints them as docker's inspect does; errors come last (exit 1). */
export async function inspectAll(cli: Cli, refs: readonly string[], format: string, get: (ref: string) => Promise<string>): Promise<void> {
  let tmpl: Template | undefined;
  if (format !== '' && format !== 'json') {
    try {
      tmpl = compileTemplate(format);
    } catch (err) {
      if (err instanceof TemplateError) throw new StatusError(64, `template parsing error: ${err.message}`);
      throw err;
    }
  }
  const raws: string[] = [];
  const errors: string[] = [];
  let out = '';
  for (const ref of refs) {
    let raw: string;
    try {
      raw = await get(ref);
    } catch (err) {
      errors.push(errorText(err));
      continue;
    }
    if (!tmpl) {
      raws.push(raw);
      continue;
    }
    try {
      out += `${tmpl.execute(JSON.parse(raw), { missingKey: 'error' })}\n`;
    } catch (err) {
      if (err instanceof TemplateError) errors.push(`template parsing error: ${err.message}`);
      else errors.push(`unable to read inspect data: ${(err as Error).message}`);
    }
  }
  if (tmpl) {
    cli.out(out === '' ? '\n' : out);
  } else if (raws.length === 0) {
    cli.out('[]\n');
  } else {
    const all = `[${raws.join(',')}]`;
    cli.out(`${format === 'json' ? jsonCompact(all) : jsonIndent(all)}\n`);
  }
  if (errors.length > 0) throw new StatusError(1, errors.join('\n'));
}

const FORMAT_FLAG = { name: 'format', short: 'f', type: 'string' as const, description: INSPECT_FORMAT_HELP };

export const inspectCommand: CommandSpec = {
  name: 'inspect',
  use: '[OPTIONS] NAME|ID [NAME|ID...]',
  short: 'Return low-level information on berth objects',
  args: { kind: 'min', n: 1 },
  flags: [
    FORMAT_FLAG,
    { name: 'size', short: 's', type: 'bool', description: 'Display total file sizes if the type is container' },
    { name: 'type', type: 'string', description: 'Only inspect objects of the given type' },
  ],
  async run(cli, f) {
    const type = f.string('type');
    if (type !== '' && !VALID_TYPES.has(type)) {
      const all = [...VALID_TYPES].map((t) => JSON.stringify(t)).join(', ');
      throw new StatusError(1, `unknown type: ${JSON.stringify(type)}: must be one of ${all}`);
    }
    const size = f.bool('size');
    const kinds: Kind[] = (['container', 'image', 'network', 'volume'] as Kind[]).filter((k) => type === '' || k === type);
    await inspectAll(cli, f.args, f.string('format'), async (ref) => {
      for (const kind of kinds) {
        try {
          const raw = await fetchRaw(cli, kind, ref, size);
          if (size && kind !== 'container') cli.eprintln(`WARNING: --size ignored for ${kind}`);
          return raw;
        } catch (err) {
          if (type === '' && skippable(err)) continue;
          throw err;
        }
      }
      throw new Error(`Error: No such object: ${ref}`);
    });
  },
};

export const containerInspectCommand: CommandSpec = {
  name: 'inspect',
  use: '[OPTIONS] CONTAINER [CONTAINER...]',
  short: 'Display detailed information on one or more containers',
  aliases: [],
  args: { kind: 'min', n: 1 },
  flags: [FORMAT_FLAG, { name: 'size', short: 's', type: 'bool', description: 'Display total file sizes' }],
  async run(cli, f) {
    await inspectAll(cli, f.args, f.string('format'), (ref) => fetchRaw(cli, 'container', ref, f.bool('size')));
  },
};

export const imageInspectCommand: CommandSpec = {
  name: 'inspect',
  use: '[OPTIONS] IMAGE [IMAGE...]',
  short: 'Display detailed information on one or more images',
  aliases: [],
  args: { kind: 'min', n: 1 },
  flags: [FORMAT_FLAG],
  async run(cli, f) {
    await inspectAll(cli, f.args, f.string('format'), (ref) => fetchRaw(cli, 'image', ref, false));
  },
};
