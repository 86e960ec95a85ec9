/**
 * Docker's Dockerfile shell lexer (BuildKit frontend/dockerfile/shell), re-implemented: variable
 * substitution with `$VAR`, `${VAR}` and the modifiers `:-` `-` `:+` `+` `:?` `?` `#` `##` `%` `%%`
 * `/` `//`; single quotes (literal), double quotes (only `$`, `"` and the escape character are
 * special), the escape character (backslash, or backtick after `# escape=\``), and splitting into
 * words after substitution, where quoted text stays one word. The parser uses it raw (heredoc
 * names); expand.ts applies it to instructions.
 */
import { SyntaxFault } from './errors';
/** Variables to substitute: a Map, a plain object, or a lookup function. */
export type Env = ReadonlyMap<string, string> | Readonly<Record<string, string | undefined>> | ((name: string) => string | undefined);

export interface LexOptions {
  /** `\` (default) or `` ` ``. */
  escapeChar?: string;
  /** Keep quote characters in the result (they still group words). */
  rawQuotes?: boolean;
  /** Keep escape characters in the result. */
  rawEscapes?: boolean;
  /** Quotes are ordinary characters (heredoc bodies). */
  skipProcessQuotes?: boolean;
  /** Leave references to unset variables as written instead of substituting "". */
  skipUnsetEnv?: boolean;
}

export interface LexResult {
  /** The whole word after substitution, spaces kept. */
  result: string;
  /** The word split at unquoted white space, after substitution. */
  words: string[];
  /** Names looked up and found / not found. */
  matched: Set<string>;
  unmatched: Set<string>;
}

const EOF = '';

/** Go's unicode.IsSpace. */
export function isSpace(ch: string): boolean {
  switch (ch) {
    case ' ':
    case '\t':
    case '\n':
    case '\v':
    case '\f':
    case '\r':
    case '\u0085':
    case '\u00a0':
      return true;
  }
  return ch.length > 0 && ch.charCodeAt(0) > 0xff && /^[\p{Zs}\u2028\u2029]$/u.test(ch);
}

const isLetter = (ch: string): boolean => /^\p{L}$/u.test(ch);
const isDigit = (ch: string): boolean => /^\p{Nd}$/u.test(ch);
const isSpecialParam = (ch: string): boolean => '@*#?-$!0'.includes(ch) && ch !== '';

export function lookupEnv(env: Env, name: string): string | undefined {
  if (typeof env === 'function') return env(name);
  if (env instanceof Map) return env.get(name);
  const rec = env as Readonly<Record<string, string | undefined>>;
  return Object.prototype.hasOwnProperty.call(rec, name) ? rec[name] : undefined;
}

class Words {
  private buf = '';
  private inWord = false;
  readonly words: string[] = [];

  addChar(ch: string): void {
    if (isSpace(ch)) {
      if (this.inWord && this.buf !== '') {
        this.words.push(this.buf);
        this.buf = '';
        this.inWord = false;
      }
    } else {
      this.addRaw(ch);
    }
  }

  addString(s: string): void {
    for (const ch of s) this.addChar(ch);
  }

  addRaw(s: string): void {
    this.buf += s;
    this.inWord = true;
  }

  finish(): string[] {
    if (this.buf !== '') {
      this.words.push(this.buf);
      this.buf = '';
      this.inWord = false;
    }
    return this.words;
  }
}

/** One pass of the lexer over one word; a port of the behaviour, not of the code. */
class Lexer {
  private pos = 0;
  private readonly chars: string[];
  private rawEscapes: boolean;
  readonly matched = new Set<string>();
  readonly unmatched = new Set<string>();

  constructor(
    word: string,
    private readonly env: Env,
    private readonly opts: Required<LexOptions>,
  ) {
    this.chars = Array.from(word);
    this.rawEscapes = opts.rawEscapes;
  }

  private peek(): string {
    return this.pos < this.chars.length ? this.chars[this.pos] : EOF;
  }

  private next(): string {
    return this.pos < this.chars.length ? this.chars[this.pos++] : EOF;
  }

  run(): { result: string; words: string[] } {
    return this.until(EOF, this.rawEscapes);
  }

  /** Reads to the end, or up to (and past) an unquoted `stop`. */
  private until(stop: string, rawEscapes: boolean): { result: string; words: string[] } {
    const saved = this.rawEscapes;
    this.rawEscapes = rawEscapes;
    try {
      let result = '';
      const words = new Words();
      while (this.peek() !== EOF) {
        const ch = this.peek();
        if (stop !== EOF && ch === stop) {
          this.next();
          return { result, words: words.finish() };
        }
        if (ch === '$') {
          const v = this.dollar();
          result += v;
          words.addString(v);
        } else if (ch === '<') {
          const v = this.possibleHeredoc();
          result += v;
          words.addRaw(v);
        } else if (ch === "'" && !this.opts.skipProcessQuotes) {
          const v = this.singleQuoted();
          result += v;
          words.addRaw(v);
        } else if (ch === '"' && !this.opts.skipProcessQuotes) {
          const v = this.doubleQuoted();
          result += v;
          words.addRaw(v);
        } else {
          let c = this.next();
          if (c === this.opts.escapeChar) {
            if (this.rawEscapes) {
              words.addRaw(c);
              result += c;
            }
            c = this.next();
            if (c === EOF) break; // a trailing escape character is dropped
            words.addRaw(c);
          } else {
            words.addChar(c);
          }
          result += c;
        }
      }
      if (stop !== EOF) throw new SyntaxFault(`unexpected end of statement while looking for matching ${stop}`);
      return { result, words: words.finish() };
    } finally {
      this.rawEscapes = saved;
    }
  }

  private singleQuoted(): string {
    let result = '';
    const open = this.next();
    if (this.opts.rawQuotes) result += open;
    for (;;) {
      const ch = this.next();
      if (ch === EOF) throw new SyntaxFault('unexpected end of statement while looking for matching single-quote');
      if (ch === "'") {
        if (this.opts.rawQuotes) result += ch;
        return result;
      }
      result += ch;
    }
  }

  private doubleQuoted(): string {
    let result = '';
    const open = this.next();
    if (this.opts.rawQuotes) result += open;
    for (;;) {
      const p = this.peek();
      if (p === EOF) throw new SyntaxFault('unexpected end of statement while looking for matching double-quote');
      if (p === '"') {
        const ch = this.next();
        if (this.opts.rawQuotes) result += ch;
        return result;
      }
      if (p === '$') {
        result += this.dollar();
        continue;
      }
      let ch = this.next();
      if (ch === this.opts.escapeChar) {
        if (this.rawEscapes) result += ch;
        const after = this.peek();
        if (after === EOF) continue; // then fails as unterminated
        if (after === '"' || after === '$' || after === this.opts.escapeChar) ch = this.next();
      }
      result += ch;
    }
  }

  private possibleHeredoc(): string {
    this.next();
    if (this.peek() !== '<') return '<';
    this.next();
    let space = '';
    while (this.peek() === ' ' || this.peek() === '\t' || this.peek() === '\r') space += this.next();
    return '<<' + space;
  }

  private name(): string {
    let name = '';
    while (this.peek() !== EOF) {
      const ch = this.peek();
      if (name === '' && isDigit(ch)) {
        while (this.peek() !== EOF && isDigit(this.peek())) name += this.next();
        return name;
      }
      if (name === '' && isSpecialParam(ch)) return this.next();
      if (!isLetter(ch) && !isDigit(ch) && ch !== '_') break;
      name += this.next();
    }
    return name;
  }

  private get(name: string): string | undefined {
    const v = lookupEnv(this.env, name);
    if (v === undefined) this.unmatched.add(name);
    else this.matched.add(name);
    return v;
  }

  private dollar(): string {
    this.next(); // $
    if (this.peek() !== '{') {
      const name = this.name();
      if (name === '') return '$';
      const v = this.get(name);
      if (v === undefined && this.opts.skipUnsetEnv) return '$' + name;
      return v ?? '';
    }
    this.next(); // {
    const first = this.peek();
    if (first === EOF) throw new SyntaxFault("syntax error: missing '}'");
    if (first === '{' || first === '}' || first === ':') throw new SyntaxFault('syntax error: bad substitution');
    const name = this.name();
    let ch = this.next();
    if (ch === EOF) throw new SyntaxFault("syntax error: missing '}'");
    let mod = ch;

    if (ch === '}') {
      const v = this.get(name);
      if (v === undefined && this.opts.skipUnsetEnv) return '${' + name + '}';
      return v ?? '';
    }

    if (ch === '/') {
      const all = this.peek() === '/';
      if (all) this.next();
      let pattern: string;
      try {
        pattern = this.until('/', true).result;
      } catch (err) {
        if (this.peek() === EOF) throw new SyntaxFault("syntax error: missing '/' in ${}");
        throw err;
      }
      let replacement: string;
      try {
        replacement = this.until('}', true).result;
      } catch (err) {
        if (this.peek() === EOF) throw new SyntaxFault("syntax error: missing '}'");
        throw err;
      }
      const v = this.get(name);
      if (v === undefined && this.opts.skipUnsetEnv) return '${' + name + '/' + pattern + '/' + replacement + '}';
      const value = v ?? '';
      const re = patternRegExp(pattern, true, false, all);
      if (all) return value.replace(re, () => replacement);
      const m = re.exec(value);
      return m ? value.slice(0, m.index) + replacement + value.slice(m.index + m[0].length) : value;
    }

    let nullIsUnset = false;
    if (ch === ':') {
      nullIsUnset = true;
      ch = this.next();
      mod += ch;
    } else if (!'+-?#%'.includes(ch)) {
      throw new SyntaxFault(`unsupported modifier (${mod}) in substitution`);
    }
    const trims = ch === '#' || ch === '%';
    if (nullIsUnset && trims) throw new SyntaxFault(`unsupported modifier (${mod}) in substitution`);
    let word: string;
    try {
      word = this.until('}', trims).result;
    } catch (err) {
      if (this.peek() === EOF) throw new SyntaxFault("syntax error: missing '}'");
      throw err;
    }
    const v = this.get(name);
    if (v === undefined && this.opts.skipUnsetEnv) return '${' + name + mod + word + '}';
    const value = v ?? '';
    const empty = v === undefined || (nullIsUnset && value === '');
    switch (ch) {
      case '-':
        return empty ? word : value;
      case '+':
        return empty ? '' : word;
      case '?':
        if (v === undefined) throw new SyntaxFault(`${name}: ${word || 'is not allowed to be unset'}`);
        if (nullIsUnset && value === '') throw new SyntaxFault(`${name}: ${word || 'is not allowed to be empty'}`);
        return value;
      case '#':
      case '%': {
        let greedy = false;
        if (word.startsWith(ch)) {
          greedy = true;
          word = word.slice(1);
        }
        return ch === '%' ? trimSuffix(word, value, greedy) : trimPrefix(word, value, greedy);
      }
      default:
        throw new SyntaxFault(`unsupported modifier (${mod}) in substitution`);
    }
  }
}

/**
 * A shell pattern (`*`, `?`, `\` escapes of `*` `?` `\`; no bracket expressions) as a RegExp.
 * `greedy` picks the longest `*`, `anchored` matches only at the start.
 */
export function patternRegExp(pattern: string, greedy: boolean, anchored: boolean, global = false): RegExp {
  const chars = Array.from(pattern);
  let out = anchored ? '^' : '';
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i];
    if (ch === '*') {
      out += greedy ? '.*' : '.*?';
    } else if (ch === '?') {
      out += '.';
    } else if (ch === '\\') {
      const nx = chars[i + 1];
      // `}` and `/` are escaped only to get them through ${...}; the escape is not the pattern's
      if (nx === '}' || nx === '/') continue;
      if (nx !== '*' && nx !== '?' && nx !== '\\') {
        throw new SyntaxFault(`invalid pattern (${pattern}) in substitution: invalid escape '\\${nx ?? ''}'`);
      }
      out += '\\' + nx;
      i++;
    } else if ('[]{}.+()|^$/'.includes(ch)) {
      out += '\\' + ch;
    } else {
      out += ch;
    }
  }
  return new RegExp(out, global ? 'gu' : 'u');
}

/** Reverses a pattern keeping each escape before the character it escapes: `a\*c` → `c\*a`. */
export function reversePattern(pattern: string): string {
  const p = Array.from(pattern);
  const out: string[] = new Array<string>(p.length);
  const last = p.length - 1;
  for (let i = 0; i <= last; ) {
    const o = last - i;
    if (p[i] === '\\' && i !== last) {
      out[o - 1] = p[i];
      out[o] = p[i + 1];
      i += 2;
    } else {
      out[o] = p[i];
      i++;
    }
  }
  return out.join('');
}

const reverse = (s: string): string => Array.from(s).reverse().join('');

function trimPrefix(pattern: string, value: string, greedy: boolean): string {
  const m = patternRegExp(pattern, greedy, true).exec(value);
  return m ? value.slice(m.index + m[0].length) : value;
}

function trimSuffix(pattern: string, value: string, greedy: boolean): string {
  // a RegExp finds the leftmost match only: reverse both to find the rightmost one
  return reverse(trimPrefix(reversePattern(pattern), reverse(value), greedy));
}

const DEFAULTS: Required<LexOptions> = {
  escapeChar: '\\',
  rawQuotes: false,
  rawEscapes: false,
  skipProcessQuotes: false,
  skipUnsetEnv: false,
};

/** The lexer with every option; throws SyntaxFault (without a location) on bad syntax. */
export function lex(word: string, env: Env, opts: LexOptions = {}): LexResult {
  const l = new Lexer(word, env, { ...DEFAULTS, ...opts });
  const { result, words } = l.run();
  return { result, words, matched: l.matched, unmatched: l.unmatched };
}

