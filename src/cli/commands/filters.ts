import type { FlagSpec } from '../flags';
import type { Query } from '../../client/engine';

/** docker's FilterOpt: `name=value`, repeatable; names are lower-cased, both sides trimmed. */
export const FILTER_FLAG: FlagSpec = {
  name: 'filter',
  short: 'f',
  type: 'list',
  valueName: 'filter',
  description: 'Filter output based on conditions provided',
  validate: (v) => (v === '' || v.includes('=') ? undefined : 'bad format of filter (expected name=value)'),
};

/** The `filters` query parameter: {"name":{"value":true}}, or nothing when no filter is set. */
export function filtersJson(values: readonly string[], extra: [string, string][] = []): string | undefined {
  const out: Record<string, Record<string, boolean>> = {};
  const add = (k: string, v: string): void => {
    (out[k] ??= {})[v] = true;
  };
  for (const raw of values) {
    if (raw === '') continue;
    const eq = raw.indexOf('=');
    add(raw.slice(0, eq).trim().toLowerCase(), raw.slice(eq + 1).trim());
  }
  for (const [k, v] of extra) add(k, v);
  return Object.keys(out).length > 0 ? JSON.stringify(out) : undefined;
}

export function filterQuery(values: readonly string[]): Query {
  return { filters: filtersJson(values) };
}
