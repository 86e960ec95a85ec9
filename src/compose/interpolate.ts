/**
 * Variable interpolation in compose files, as the Compose Specification defines it:
 * `$VAR`, `${VAR}`, `${VAR:-default}` (unset or empty), `${VAR-default}` (unset),
 * `${VAR:?message}` / `${VAR?message}` (required), `${VAR:+alt}` / `${VAR+alt}`, and `$$` for a
 * literal `$`. Defaults may themselves contain interpolations. Applied to every string value of the
 * parsed YAML (never to keys), before validation, so that the schema sees the final values.
 */
import { ComposeError, PARSE_FAILURE } from './errors';

export type Lookup = (name: string) => string | undefined;

const NAME = /^[A-Za-z_][A-Za-z0-9_]*/;

/** Interpolates one string; `where` names the file and key for error messages. */
export function interpolate(s: string, lookup: Lookup, where = ''): string {
  let out = '';
  let i = 0;
  while (i < s.length) {
    const c = s[i];
    if (c !== '$') {
      out += c;
      i++;
      continue;
    }
    const next = s[i + 1];
    if (next === '$') {
      out += '$';
      i += 2;
    } else if (next === '{') {
      const end = closingBrace(s, i + 2);
      if (end < 0) throw new ComposeError(`${where}invalid interpolation format for "${s}": unterminated \${`, PARSE_FAILURE);
      out += braced(s.slice(i + 2, end), lookup, where, s);
      i = end + 1;
    } else {
      const m = NAME.exec(s.slice(i + 1));
      if (!m) {
        // A lone `$` (before a space, a digit...) stays as it is, as compose does.
        out += '$';
        i++;
        continue;
      }
      out += lookup(m[0]) ?? '';
      i += 1 + m[0].length;
    }
  }
  return out;
}

/** The index of the `}` that closes a `${` whose body starts at `from`, counting nested `${`. */
function closingBrace(s: string, from: number): number {
  let depth = 1;
  for (let j = from; j < s.length; j++) {
    if (s[j] === '$' && s[j + 1] === '{') {
      depth++;
      j++;
    } else if (s[j] === '}') {
      depth--;
      if (depth === 0) return j;
    }
  }
  return -1;
}

function braced(body: string, lookup: Lookup, where: string, whole: string): string {
  const m = NAME.exec(body);
  if (!m) throw new ComposeError(`${where}invalid interpolation format for "${whole}": "\${${body}}"`, PARSE_FAILURE);
  const name = m[0];
  const rest = body.slice(name.length);
  const value = lookup(name);
  if (rest === '') return value ?? '';
  const op = /^(:?[-?+])/.exec(rest);
  if (!op) throw new ComposeError(`${where}invalid interpolation format for "${whole}": "\${${body}}"`, PARSE_FAILURE);
  const colon = op[1].startsWith(':');
  const kind = op[1].slice(-1);
  const arg = rest.slice(op[1].length);
  const missing = value === undefined || (colon && value === '');
  if (kind === '-') return missing ? interpolate(arg, lookup, where) : (value ?? '');
  if (kind === '+') return missing ? '' : interpolate(arg, lookup, where);
  if (missing) {
    const msg = interpolate(arg, lookup, where);
    throw new ComposeError(`${where}required variable ${name} is missing a value${msg ? `: ${msg}` : ''}`, PARSE_FAILURE);
  }
  return value ?? '';
}

/** Interpolates every string in a parsed document; errors name `file` and the key path. */
export function interpolateTree(node: unknown, lookup: Lookup, file: string, path: string[] = []): unknown {
  if (typeof node === 'string') return interpolate(node, lookup, `${file}: ${path.join('.') || '(root)'}: `);
  if (Array.isArray(node)) return node.map((v, i) => interpolateTree(v, lookup, file, [...path, String(i)]));
  if (node && typeof node === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(node)) out[k] = interpolateTree(v, lookup, file, [...path, k]);
    return out;
  }
  return node;
}
