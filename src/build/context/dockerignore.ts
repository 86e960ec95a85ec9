/**
 * `.dockerignore` with Docker's rules (moby/patternmatcher and its ignorefile reader, as the
 * docker CLI applies them to a build context):
 *
 * - a line starting with `#` is a comment; blank lines are skipped; patterns are trimmed, cleaned
 *   like Go's filepath.Clean (`a/./b/../c` → `a/c`, trailing `/` dropped) and a leading `/` is
 *   removed, so `/foo` and `foo` are the same;
 * - `*` and `?` do not cross `/`, `[a-z]` classes, `\` escapes, `**` matches any number of
 *   directories (also none); a pattern that matches a directory also matches everything under it;
 * - `!pattern` is an exception that re-includes; patterns are read in order and the last one that
 *   matches a path decides.
 *
 * The walker asks `ignores(path)` for every entry and, for an ignored directory,
 * `mayContainIncluded(dir)`: only when no exception could re-include something below it may it
 * skip the directory without reading it.
 */

/** Go's path.Clean for slash-separated paths. */
export function cleanPath(p: string): string {
  if (p === '') return '.';
  const rooted = p.startsWith('/');
  const out: string[] = [];
  for (const seg of p.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      if (out.length > 0 && out[out.length - 1] !== '..') out.pop();
      else if (!rooted) out.push('..');
      continue;
    }
    out.push(seg);
  }
  const joined = out.join('/');
  if (rooted) return '/' + joined;
  return joined === '' ? '.' : joined;
}

/**
 * The patterns of a .dockerignore file, as Docker's ignorefile.ReadAll gives them: comments and
 * blank lines dropped, each pattern trimmed, cleaned, without a leading `/`, `!` kept in front.
 */
export function parseDockerignore(text: string | Buffer | readonly string[]): string[] {
  const lines = Array.isArray(text) ? (text as readonly string[]) : (typeof text === 'string' ? text : (text as Buffer).toString('utf8')).split('\n');
  const out: string[] = [];
  lines.forEach((raw, i) => {
    let line = i === 0 ? raw.replace(/^\uFEFF/, '') : raw;
    if (line.startsWith('#')) return;
    line = line.trim();
    if (line === '') return;
    const invert = line.startsWith('!');
    if (invert) line = line.slice(1).trim();
    if (line !== '') {
      line = cleanPath(line);
      if (line.length > 1 && line.startsWith('/')) line = line.slice(1);
    }
    out.push(invert ? '!' + line : line);
  });
  return out;
}

type MatchType = 'exact' | 'prefix' | 'suffix' | 'regexp';

export interface Pattern {
  /** The cleaned pattern, without its `!`. */
  readonly text: string;
  readonly exclusion: boolean;
}

const REGEXP_SPECIAL = new Set(['^', '$', '\\', '.', '*', '+', '?', '(', ')', '[', ']', '{', '}', '|', '/']);

class CompiledPattern implements Pattern {
  readonly type: MatchType;
  private readonly re?: RegExp;
  readonly segments: string[];

  constructor(
    readonly text: string,
    readonly exclusion: boolean,
  ) {
    validate(text);
    this.segments = text.split('/');
    const c = compile(text);
    this.type = c.type;
    this.re = c.re;
  }

  match(path: string): boolean {
    switch (this.type) {
      case 'exact':
        return path === this.text;
      case 'prefix':
        return path.startsWith(this.text.slice(0, -2));
      case 'suffix': {
        const suffix = this.text.slice(2);
        return path.endsWith(suffix) || (suffix.startsWith('/') && path === suffix.slice(1));
      }
      case 'regexp':
        return this.re!.test(path);
    }
  }
}

/** Go's filepath.Match syntax check: well-formed `[...]` classes and no dangling `\`. */
function validate(pattern: string): void {
  const bad = (): Error => new Error(`syntax error in pattern: ${pattern}`);
  const chars = Array.from(pattern);
  let i = 0;
  const esc = (): void => {
    if (i >= chars.length || chars[i] === '-' || chars[i] === ']') throw bad();
    if (chars[i] === '\\') {
      i++;
      if (i >= chars.length) throw bad();
    }
    i++;
  };
  while (i < chars.length) {
    const ch = chars[i];
    if (ch === '\\') {
      i += 2;
      if (i > chars.length) throw bad();
    } else if (ch === '[') {
      i++;
      if (chars[i] === '^') i++;
      let n = 0;
      for (;;) {
        if (i >= chars.length) throw bad();
        if (chars[i] === ']' && n > 0) {
          i++;
          break;
        }
        esc();
        if (chars[i] === '-') {
          i++;
          esc();
        }
        n++;
      }
    } else {
      i++;
    }
  }
}

/** The pattern as patternmatcher compiles it: a plain comparison where it can, a RegExp otherwise. */
function compile(pattern: string): { type: MatchType; re?: RegExp } {
  const chars = Array.from(pattern);
  let re = '^';
  let type: MatchType = 'exact';
  let inClass = false;
  for (let pos = 0, iter = 0; pos < chars.length; iter++) {
    const ch = chars[pos++];
    if (ch === '*') {
      if (chars[pos] === '*') {
        pos++;
        if (chars[pos] === '/') pos++; // `**/` is `**`
        if (pos >= chars.length) {
          // trailing `**`, like .gitignore: everything
          if (type === 'exact') type = 'prefix';
          else {
            re += '.*';
            type = 'regexp';
          }
        } else {
          re += '(.*/)?'; // any number of directories, also none
          type = 'regexp';
        }
        if (iter === 0) type = 'suffix';
      } else {
        re += '[^/]*';
        type = 'regexp';
      }
    } else if (ch === '?') {
      re += '[^/]';
      type = 'regexp';
    } else if ('.+()|{}$'.includes(ch)) {
      re += '\\' + ch;
    } else if (ch === '\\') {
      if (pos < chars.length) {
        const nx = chars[pos++];
        if (REGEXP_SPECIAL.has(nx) || (nx === '-' && inClass)) re += '\\' + nx;
        else re += nx;
        type = 'regexp';
      } else {
        re += '\\\\';
      }
    } else if (ch === '[' || ch === ']') {
      inClass = ch === '[';
      re += ch;
      type = 'regexp';
    } else {
      re += ch;
    }
  }
  if (type !== 'regexp') return { type };
  return { type, re: new RegExp(re + '$', 'u') };
}

export interface IgnoreMatcher {
  /** The cleaned patterns, in order. */
  readonly patterns: readonly Pattern[];
  /** Whether any `!` exception is present. */
  readonly hasExceptions: boolean;
  /**
   * Whether the context path (slash-separated, relative to the context root) is left out. A path
   * is left out when the last pattern matching it, or one of its parent directories, is not an
   * exception. `isDir` is accepted for walkers' convenience; Docker's rules do not depend on it.
   */
  ignores(relPath: string, isDir?: boolean): boolean;
  /**
   * For an ignored directory: whether some exception could still re-include a path below it, so
   * that the walker must read it. False means the whole subtree can be skipped.
   */
  mayContainIncluded(dirRelPath: string): boolean;
}

function normalizeRel(p: string): string {
  const c = cleanPath(p);
  return c.startsWith('/') ? c.slice(1) || '.' : c;
}

/** One glob segment (no `/`, no `**`) against one path segment. */
function segmentMatches(seg: string, name: string): boolean {
  const c = compile(seg);
  return c.type === 'exact' ? seg === name : c.re!.test(name);
}

/**
 * A matcher for .dockerignore lines (raw file lines or already-parsed patterns). Throws on a
 * malformed pattern (`[a-`, a lone `!`), as Docker does.
 */
export function createMatcher(lines: readonly string[]): IgnoreMatcher {
  const patterns: CompiledPattern[] = [];
  for (const p of parseDockerignore(lines)) {
    if (p === '!') throw new Error('illegal exclusion pattern: "!"');
    const exclusion = p.startsWith('!');
    patterns.push(new CompiledPattern(exclusion ? p.slice(1) : p, exclusion));
  }
  const hasExceptions = patterns.some((p) => p.exclusion);

  const ignores = (relPath: string): boolean => {
    const file = normalizeRel(relPath);
    if (file === '.') return false;
    const slash = file.lastIndexOf('/');
    const parents = slash < 0 ? [] : file.slice(0, slash).split('/');
    let matched = false;
    for (const p of patterns) {
      // only an exception can change an ignored path, only a plain pattern a kept one
      if (p.exclusion !== matched) continue;
      let m = p.match(file);
      for (let i = 1; !m && i <= parents.length; i++) m = p.match(parents.slice(0, i).join('/'));
      if (m) matched = !p.exclusion;
    }
    return matched;
  };

  const mayContainIncluded = (dirRelPath: string): boolean => {
    if (!hasExceptions) return false;
    const dir = normalizeRel(dirRelPath);
    const dirSegs = dir === '.' ? [] : dir.split('/');
    return patterns.some((p) => {
      if (!p.exclusion) return false;
      const segs = p.segments;
      for (let i = 0; ; i++) {
        if (i >= dirSegs.length) return true; // the exception can name something below dir
        if (i >= segs.length) return true; // it names dir or a parent: everything below is re-included
        if (segs[i].includes('**')) return true; // could be anything: look inside
        if (!segmentMatches(segs[i], dirSegs[i])) return false;
      }
    });
  };

  return { patterns, hasExceptions, ignores, mayContainIncluded };
}
