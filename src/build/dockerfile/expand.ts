/**
 * Variable substitution for Dockerfile instructions, with Docker's rules (see lexer.ts for the
 * word-level syntax). Which instructions expand, and how, is Docker's list: ADD COPY ENV EXPOSE
 * FROM LABEL STOPSIGNAL USER VOLUME WORKDIR (and ARG defaults, and RUN --mount values); RUN, CMD,
 * ENTRYPOINT, SHELL, HEALTHCHECK and ONBUILD are left to the shell or to the later build.
 */
import type { Node } from './parser';
import { parseHeredocWord } from './parser';
import { SyntaxFault } from './errors';
import { Env, lex, lookupEnv } from './lexer';

export type { Env, LexOptions, LexResult } from './lexer';
export { lex } from './lexer';

function located(err: unknown, word: string): Error {
  if (err instanceof SyntaxFault) return new SyntaxFault(`failed to process "${word}": ${err.message}`);
  return err as Error;
}

/** Substitutes variables in one word, keeping its spaces (Docker's ProcessWord). */
export function expandWord(word: string, env: Env, escapeChar = '\\'): string {
  try {
    return lex(word, env, { escapeChar }).result;
  } catch (err) {
    throw located(err, word);
  }
}

/** Substitutes variables, then splits at unquoted white space (Docker's ProcessWords). */
export function expandWords(word: string, env: Env, escapeChar = '\\'): string[] {
  try {
    return lex(word, env, { escapeChar }).words;
  } catch (err) {
    throw located(err, word);
  }
}

// ---------------------------------------------------------------------------------------------
// Instructions

export interface ExpandOptions {
  /** The Dockerfile's escape character (ParseResult.escapeChar). */
  escapeChar?: string;
}

function withEnv(base: Env, extra: Map<string, string>): Env {
  if (extra.size === 0) return base;
  return (name: string) => (extra.has(name) ? extra.get(name) : lookupEnv(base, name));
}

/** Splits one CSV record (RFC 4180 quoting), as Docker reads `--mount` values. */
export function splitCSV(s: string): string[] {
  const out: string[] = [];
  let i = 0;
  for (;;) {
    let field = '';
    if (s[i] === '"') {
      i++;
      for (;;) {
        if (i >= s.length) throw new SyntaxFault(`failed to parse csv mounts: extraneous or missing " in quoted-field`);
        if (s[i] === '"') {
          if (s[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        field += s[i++];
      }
      if (i < s.length && s[i] !== ',') throw new SyntaxFault(`failed to parse csv mounts: extraneous or missing " in quoted-field`);
    } else {
      const j = s.indexOf(',', i);
      field = j < 0 ? s.slice(i) : s.slice(i, j);
      if (field.includes('"')) throw new SyntaxFault(`failed to parse csv mounts: bare " in non-quoted-field`);
      i = j < 0 ? s.length : j;
    }
    out.push(field);
    if (i >= s.length) return out;
    i++; // the comma
  }
}

export function joinCSV(fields: string[]): string {
  return fields.map((f) => (/[",\r\n]/.test(f) || f !== f.trim() ? `"${f.replace(/"/g, '""')}"` : f)).join(',');
}

function mapFlag(flags: string[], name: string, fn: (value: string) => string): string[] {
  const prefix = `--${name}=`;
  return flags.map((f) => (f.startsWith(prefix) ? prefix + fn(f.slice(prefix.length)) : f));
}

/**
 * The node with its arguments and flags expanded as Docker does for that instruction, in the
 * environment `env` (for FROM: the global ARGs; otherwise the stage's ENV and ARG values at this
 * point). RUN, CMD, ENTRYPOINT, SHELL, HEALTHCHECK, ONBUILD and MAINTAINER come back unchanged.
 *
 * - ENV, LABEL: keys and values (this also removes their quotes: always expand before use).
 * - ARG: default values, left to right, each seeing the ones before it on the same line.
 * - ADD, COPY: sources and destination, `--chown`, `--chmod`, `--checksum`; heredoc sources are
 *   not paths and stay; bodies of unquoted heredocs are expanded with quotes left alone.
 *   `--from` is never expanded (a variable in it is an error, as in BuildKit).
 * - EXPOSE: each argument expanded and split into words.
 * - FROM: the image and `--platform`; `AS name` stays.
 * - USER, WORKDIR, STOPSIGNAL, VOLUME: each argument.
 * - RUN: the values of `--mount` fields.
 * Throws SyntaxFault with Docker's message on a bad substitution; callers add the location.
 */
export function expandInstruction(node: Node, env: Env, opts: ExpandOptions = {}): Node {
  const esc = opts.escapeChar ?? '\\';
  const word = (w: string, e: Env = env): string => expandWord(w, e, esc);
  const out: Node = { ...node, args: [...node.args], flags: [...node.flags] };
  if (node.heredocs) out.heredocs = node.heredocs.map((h) => ({ ...h }));

  switch (node.cmd) {
    case 'env':
    case 'label':
      for (let i = 0; i + 1 < out.args.length; i += 3) {
        out.args[i] = word(out.args[i]);
        out.args[i + 1] = word(out.args[i + 1]);
      }
      break;
    case 'arg': {
      const seen = new Map<string, string>();
      out.args = out.args.map((a) => {
        const eq = a.indexOf('=');
        if (eq < 0) return a;
        const key = a.slice(0, eq);
        const value = word(a.slice(eq + 1), withEnv(env, seen));
        seen.set(key, value);
        return `${key}=${value}`;
      });
      break;
    }
    case 'add':
    case 'copy': {
      for (const f of out.flags) {
        if (f.startsWith('--from=')) {
          const from = f.slice('--from='.length);
          if (expandWord(from, new Map(), esc) !== from) {
            throw new SyntaxFault('variable expansion is not supported for --from, define a new stage with FROM using ARG from global scope as a workaround');
          }
        }
      }
      for (const name of ['chown', 'chmod', 'checksum']) out.flags = mapFlag(out.flags, name, (v) => word(v));
      out.args = out.args.map((a, i) => (i < out.args.length - 1 && parseHeredocWord(a) ? a : word(a)));
      if (out.heredocs) {
        for (const h of out.heredocs) {
          if (!h.expand) continue;
          try {
            h.content = lex(h.content, env, { skipProcessQuotes: true }).result;
          } catch (err) {
            throw located(err, h.content);
          }
        }
      }
      break;
    }
    case 'expose':
      out.args = out.args.flatMap((a) => expandWords(a, env, esc));
      break;
    case 'from':
      if (out.args.length > 0) out.args[0] = word(out.args[0]);
      out.flags = mapFlag(out.flags, 'platform', (v) => word(v));
      break;
    case 'user':
    case 'workdir':
    case 'stopsignal':
    case 'volume':
      out.args = out.args.map((a) => word(a));
      break;
    case 'run':
      out.flags = mapFlag(out.flags, 'mount', (spec) =>
        joinCSV(
          splitCSV(spec).map((field) => {
            const eq = field.indexOf('=');
            return eq < 0 ? field : field.slice(0, eq + 1) + word(field.slice(eq + 1));
          }),
        ),
      );
      break;
    default:
      break;
  }
  return out;
}
