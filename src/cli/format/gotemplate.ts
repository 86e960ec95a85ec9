// Go's text/template, as the docker CLI runs it for `--format`, so that scripts written for
// `docker ... --format '{{...}}'` give the same bytes with berth. Behaviour follows Go's
// text/template (lexer, parser, exec, builtin functions), fmt's %v printing and docker's
// template functions (cli/templates); error messages keep Go's wording, e.g.
//   template: :1: function "foo" not defined
//   template: :1:8: executing "" at <.State.Health.Status>: nil pointer evaluating interface {}.Status
//
// Data model. JS values stand for Go values: plain objects and Maps are maps (a missing key
// gives <no value>; keys print and range sorted), other class instances are structs (a missing
// field is an error; getters are fields), functions found as fields are methods (called with the
// template's arguments, `this` bound), arrays are slices. `undefined` is Go's invalid value (a
// missing key) and `null` a nil interface: both print as <no value>, but a field of null is an
// error while a field of a missing value is <no value>, as in Go.
//
// Numbers: JS has one number type. Integral numbers print as integers ("5", "1000000"), where
// Go would print a float64 1e6 as "1e+06"; other numbers print as Go's float64 %v (shortest
// digits, with an exponent below 1e-4 and from 1e+06 on: 0.5, 1.2345675e+06).

import { formatFloat } from '../../util/units';

export type TemplateFunc = (...args: any[]) => unknown;
export type FuncMap = Record<string, TemplateFunc>;

/** Parse and execution errors. `output` is what execution wrote before failing (Go keeps partial output too). */
export class TemplateError extends Error {
  readonly output: string;
  constructor(message: string, output = '') {
    super(message);
    this.name = 'TemplateError';
    this.output = output;
  }
}

export interface CompileOptions {
  /** Functions added to (or replacing) the builtins and docker's functions. */
  funcs?: FuncMap;
  /** Template name in messages; docker's is "" (hence "template: :1: ..."). */
  name?: string;
}

export interface ExecuteOptions {
  /** Functions replacing others for this execution, as docker does with its header functions. */
  funcs?: FuncMap;
  /**
   * Go's missingkey option for map keys that are absent: 'default' gives <no value>, 'error'
   * fails with `map has no entry for key "X"`, 'zero' gives "" (the zero value of the string
   * maps docker renders table headers from).
   */
  missingKey?: 'default' | 'zero' | 'error';
}

export interface Template {
  readonly source: string;
  /** Runs the template on data; throws TemplateError (with the partial output) on failure. */
  execute(data: unknown, options?: ExecuteOptions): string;
}

// =============================================================================================
// fmt: Go's %v and printf

interface Flags {
  plus?: boolean;
  minus?: boolean;
  sharp?: boolean;
  space?: boolean;
  zero?: boolean;
  width?: number;
  prec?: number;
}

const noFlags: Flags = {};

function isPlainMap(v: object): boolean {
  if (v instanceof Map) return true;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** Go's name for the type of a value, for messages ("string", "int", "map[string]interface {}"). */
export function goTypeName(v: unknown): string {
  if (v === undefined || v === null) return '<nil>';
  switch (typeof v) {
    case 'string':
      return 'string';
    case 'boolean':
      return 'bool';
    case 'number':
      return Number.isInteger(v) ? 'int' : 'float64';
    case 'bigint':
      return 'int64';
    case 'function':
      return 'func()';
    default:
      break;
  }
  if (Array.isArray(v)) return '[]interface {}';
  if (v instanceof Date) return 'time.Time';
  if (isPlainMap(v as object)) return 'map[string]interface {}';
  const ctor = (v as { constructor?: { name?: string } }).constructor;
  return '*' + (ctor?.name || 'struct {}');
}

function runeCount(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0xd800 || c > 0xdbff) n++;
  }
  return n;
}

function pad(s: string, f: Flags, zeroOk = true): string {
  if (f.width === undefined) return s;
  const n = f.width - runeCount(s);
  if (n <= 0) return s;
  if (f.minus) return s + ' '.repeat(n);
  return (f.zero && zeroOk ? '0' : ' ').repeat(n) + s;
}

/** Pads a number keeping its sign in front of zero padding. */
function padNumber(sign: string, body: string, f: Flags): string {
  if (f.zero && !f.minus && f.width !== undefined) {
    const n = f.width - sign.length - runeCount(body);
    if (n > 0) return sign + '0'.repeat(n) + body;
    return sign + body;
  }
  return pad(sign + body, f, false);
}

const isPrintRe = /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u;

function isPrint(cp: number): boolean {
  if (cp < 0x7f) return cp >= 0x20;
  if (cp >= 0xd800 && cp <= 0xdfff) return false;
  return isPrintRe.test(String.fromCodePoint(cp));
}

function hex(n: number, width: number): string {
  return n.toString(16).padStart(width, '0');
}

/** strconv.Quote (asciiOnly: QuoteToASCII), or a single-quoted rune for quoteRune. */
function goQuote(s: string, q = '"', asciiOnly = false): string {
  let out = q;
  for (const ch of s) {
    let cp = ch.codePointAt(0) as number;
    if (cp >= 0xd800 && cp <= 0xdfff) cp = 0xfffd;
    if (ch === q || ch === '\\') {
      out += '\\' + ch;
      continue;
    }
    if (asciiOnly ? cp < 0x7f && isPrint(cp) : isPrint(cp)) {
      out += String.fromCodePoint(cp);
      continue;
    }
    switch (cp) {
      case 7: out += '\\a'; break;
      case 8: out += '\\b'; break;
      case 12: out += '\\f'; break;
      case 10: out += '\\n'; break;
      case 13: out += '\\r'; break;
      case 9: out += '\\t'; break;
      case 11: out += '\\v'; break;
      default:
        if (cp < 0x20 || cp === 0x7f) out += '\\x' + hex(cp, 2);
        else if (cp < 0x10000) out += '\\u' + hex(cp, 4);
        else out += '\\U' + hex(cp, 8);
    }
  }
  return out + q;
}

function canBackquote(s: string): boolean {
  for (const ch of s) {
    const cp = ch.codePointAt(0) as number;
    if (ch === '`' || cp === 0xfeff) return false;
    if (cp < 0x20 && cp !== 9) return false;
    if (cp === 0x7f) return false;
  }
  return true;
}

function goTime(d: Date): string {
  if (Number.isNaN(d.getTime())) return '0001-01-01 00:00:00 +0000 UTC';
  const iso = d.toISOString(); // YYYY-MM-DDTHH:MM:SS.mmmZ
  let frac = iso.slice(20, 23).replace(/0+$/, '');
  if (frac) frac = '.' + frac;
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}${frac} +0000 UTC`;
}

function hasStringer(v: object): boolean {
  if (v instanceof Date || Array.isArray(v) || isPlainMap(v)) return false;
  const ts = (v as { toString?: unknown }).toString;
  return typeof ts === 'function' && ts !== Object.prototype.toString;
}

function mapEntries(v: object): [string, unknown][] {
  const entries: [string, unknown][] =
    v instanceof Map ? [...v.entries()].map(([k, val]) => [String(k), val]) : Object.entries(v);
  return entries.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

function badVerb(verb: string, arg: unknown): string {
  if (arg === undefined || arg === null) return `%!${verb}(<nil>)`;
  return `%!${verb}(${goTypeName(arg)}=${fmtArg(arg, 'v', noFlags, 0)})`;
}

function fmtInteger(n: bigint, verb: string, f: Flags, arg: unknown): string {
  const neg = n < 0n;
  const abs = neg ? -n : n;
  let digits: string;
  let prefix = '';
  switch (verb) {
    case 'v':
    case 'd':
      digits = abs.toString();
      break;
    case 'b':
      digits = abs.toString(2);
      if (f.sharp) prefix = '0b';
      break;
    case 'o':
    case 'O':
      digits = abs.toString(8);
      if (verb === 'O') prefix = '0o';
      else if (f.sharp) prefix = '0';
      break;
    case 'x':
      digits = abs.toString(16);
      if (f.sharp) prefix = '0x';
      break;
    case 'X':
      digits = abs.toString(16).toUpperCase();
      if (f.sharp) prefix = '0X';
      break;
    case 'c':
      return pad(String.fromCodePoint(Number(n)), f);
    case 'q':
      return pad(goQuote(String.fromCodePoint(Number(n)), "'", f.plus), f);
    case 'U': {
      let s = 'U+' + abs.toString(16).toUpperCase().padStart(4, '0');
      if (f.sharp && isPrint(Number(n))) s += ` '${String.fromCodePoint(Number(n))}'`;
      return pad(s, f);
    }
    default:
      return badVerb(verb, arg);
  }
  if (f.prec !== undefined) {
    if (f.prec === 0 && abs === 0n) digits = '';
    digits = digits.padStart(f.prec, '0');
  }
  const sign = neg ? '-' : f.plus ? '+' : f.space ? ' ' : '';
  if (f.prec === undefined) return padNumber(sign + prefix, digits, f);
  return pad(sign + prefix + digits, f, false);
}

function fmtFloatVerb(x: number, verb: string, f: Flags): string {
  let s: string;
  switch (verb) {
    case 'v':
      s = formatFloat(x, 'g', f.prec ?? -1);
      break;
    case 'e':
    case 'E':
    case 'f':
    case 'F':
      s = formatFloat(x, verb === 'F' ? 'f' : verb, f.prec ?? 6);
      break;
    case 'g':
    case 'G':
      s = formatFloat(x, verb, f.prec ?? -1);
      break;
    default:
      return badVerb(verb, x);
  }
  let sign = '';
  if (s.startsWith('-') || s.startsWith('+')) {
    sign = s[0];
    s = s.slice(1);
  }
  if (s === 'Inf' || s === 'NaN') {
    if (s === 'NaN') sign = f.plus ? '+' : f.space ? ' ' : '';
    else if (sign === '+' && !f.plus) sign = f.space ? ' ' : '+';
    return pad(sign + s, f, false);
  }
  if (!sign) sign = f.plus ? '+' : f.space ? ' ' : '';
  return padNumber(sign, s, f);
}

function fmtString(s: string, verb: string, f: Flags, arg: unknown): string {
  switch (verb) {
    case 'v':
    case 's':
      if (verb === 'v' && f.sharp) return pad(goQuote(s), f);
      if (f.prec !== undefined) s = Array.from(s).slice(0, f.prec).join('');
      return pad(s, f);
    case 'q':
      if (f.prec !== undefined) s = Array.from(s).slice(0, f.prec).join('');
      if (f.sharp && canBackquote(s)) return pad('`' + s + '`', f);
      return pad(goQuote(s, '"', f.plus), f);
    case 'x':
    case 'X': {
      let bytes = Buffer.from(s, 'utf8');
      if (f.prec !== undefined) bytes = bytes.subarray(0, f.prec);
      const parts: string[] = [];
      for (const b of bytes) {
        let h = hex(b, 2);
        if (verb === 'X') h = h.toUpperCase();
        parts.push(h);
      }
      const pre = f.sharp ? (verb === 'X' ? '0X' : '0x') : '';
      const out = f.space ? parts.map((p) => pre + p).join(' ') : pre + parts.join('');
      return pad(out, f);
    }
    default:
      return badVerb(verb, arg);
  }
}

/** Formats one operand as fmt does for verb (v s d q x ...), depth > 0 inside slices and maps. */
function fmtArg(arg: unknown, verb: string, f: Flags, depth: number): string {
  if (arg === undefined || arg === null) {
    if (verb === 'v' || verb === 'T') return pad(f.sharp && depth > 0 ? 'interface {}(nil)' : '<nil>', f);
    return badVerb(verb, arg);
  }
  if (verb === 'T') return pad(goTypeName(arg), f);
  switch (typeof arg) {
    case 'boolean':
      return verb === 'v' || verb === 't' ? pad(String(arg), f) : badVerb(verb, arg);
    case 'bigint':
      return 'eEfFgG'.includes(verb) ? fmtFloatVerb(Number(arg), verb, f) : fmtInteger(arg, verb, f, arg);
    case 'number':
      if (Number.isInteger(arg) && !'eEfFgG'.includes(verb)) return fmtInteger(BigInt(arg), verb, f, arg);
      return fmtFloatVerb(arg, verb, f);
    case 'string':
      return fmtString(arg, verb, f, arg);
    case 'function':
      return verb === 'v' ? pad('<func>', f) : badVerb(verb, arg);
    case 'symbol':
      return pad(String(arg), f);
    default:
      break;
  }
  const obj = arg as object;
  if (obj instanceof Date) return fmtString(goTime(obj), verb === 'v' && !f.sharp ? 's' : verb, f, arg);
  if (hasStringer(obj) && 'vsxXq'.includes(verb) && !(verb === 'v' && f.sharp)) {
    return fmtString(String(obj), verb, f, arg);
  }
  if (ArrayBuffer.isView(obj) && 'sqxX'.includes(verb)) {
    const view = obj as ArrayBufferView;
    const text = Buffer.from(view.buffer, view.byteOffset, view.byteLength).toString('utf8');
    return fmtString(text, verb, f, arg);
  }
  if (Array.isArray(obj) || ArrayBuffer.isView(obj)) {
    const items = Array.isArray(obj) ? obj : Array.from(obj as unknown as ArrayLike<number>);
    if (verb === 'v' && f.sharp) {
      return '[]interface {}{' + items.map((e) => fmtArg(e, verb, f, depth + 1)).join(', ') + '}';
    }
    return '[' + items.map((e) => fmtArg(e, verb, f, depth + 1)).join(' ') + ']';
  }
  const entries = mapEntries(obj);
  if (verb === 'v' && f.sharp) {
    return (
      'map[string]interface {}{' +
      entries.map(([k, v]) => goQuote(k) + ':' + fmtArg(v, verb, f, depth + 1)).join(', ') +
      '}'
    );
  }
  return 'map[' + entries.map(([k, v]) => fmtArg(k, verb, f, depth + 1) + ':' + fmtArg(v, verb, f, depth + 1)).join(' ') + ']';
}

/** fmt.Sprint of one value (%v): "[a b]", "map[a:1 b:2]", "true", "<nil>". */
export function formatValue(v: unknown): string {
  return fmtArg(v, 'v', noFlags, 0);
}

/** fmt.Sprint: spaces between operands when neither side is a string. */
export function sprint(...args: unknown[]): string {
  let out = '';
  let prevString = false;
  args.forEach((arg, i) => {
    const isString = typeof arg === 'string';
    if (i > 0 && !isString && !prevString) out += ' ';
    out += fmtArg(arg, 'v', noFlags, 0);
    prevString = isString;
  });
  return out;
}

/** fmt.Sprintln: operands separated by spaces, then a newline. */
export function sprintln(...args: unknown[]): string {
  return args.map((a) => fmtArg(a, 'v', noFlags, 0)).join(' ') + '\n';
}

/** fmt.Sprintf, with Go's verbs, flags, widths, precisions, [n] indexes and %!v(MISSING)-style errors. */
export function sprintf(format: string, ...args: unknown[]): string {
  let out = '';
  let argNum = 0;
  let reordered = false;
  let i = 0;
  const end = format.length;
  while (i < end) {
    const pct = format.indexOf('%', i);
    if (pct < 0) {
      out += format.slice(i);
      break;
    }
    out += format.slice(i, pct);
    i = pct + 1;
    const f: Flags = {};
    flags: for (; i < end; i++) {
      switch (format[i]) {
        case '#': f.sharp = true; break;
        case '0': f.zero = !f.minus; break;
        case '+': f.plus = true; break;
        case '-': f.minus = true; f.zero = false; break;
        case ' ': f.space = true; break;
        default: break flags;
      }
    }
    let goodArgNum = true;
    let afterIndex = false;
    const argIndex = (): void => {
      if (format[i] !== '[') return;
      reordered = true;
      const close = format.indexOf(']', i);
      const n = close < 0 ? NaN : Number(format.slice(i + 1, close));
      if (close < 0 || !/^\d+$/.test(format.slice(i + 1, close)) || n < 1 || n > args.length) {
        goodArgNum = false;
        i = close < 0 ? end : close + 1;
        return;
      }
      argNum = n - 1;
      i = close + 1;
      afterIndex = true;
    };
    argIndex();
    if (format[i] === '*') {
      i++;
      const w = args[argNum];
      if (argNum < args.length && typeof w === 'number' && Number.isInteger(w)) {
        f.width = Math.abs(w);
        if (w < 0) {
          f.minus = true;
          f.zero = false;
        }
      } else {
        out += '%!(BADWIDTH)';
      }
      argNum++;
      afterIndex = false;
    } else {
      const m = /^\d+/.exec(format.slice(i));
      if (m) {
        f.width = Number(m[0]);
        i += m[0].length;
        if (afterIndex) goodArgNum = false;
      }
    }
    if (format[i] === '.') {
      i++;
      if (afterIndex) goodArgNum = false;
      afterIndex = false;
      argIndex();
      if (format[i] === '*') {
        i++;
        const p = args[argNum];
        if (argNum < args.length && typeof p === 'number' && Number.isInteger(p)) {
          if (p >= 0) f.prec = p;
        } else {
          out += '%!(BADPREC)';
        }
        argNum++;
        afterIndex = false;
      } else {
        const m = /^\d+/.exec(format.slice(i));
        f.prec = m ? Number(m[0]) : 0;
        if (m) i += m[0].length;
      }
    }
    if (!afterIndex) argIndex();
    if (i >= end) {
      out += '%!(NOVERB)';
      break;
    }
    const verb = String.fromCodePoint(format.codePointAt(i) as number);
    i += verb.length;
    if (verb === '%') {
      out += '%';
    } else if (!goodArgNum) {
      out += `%!${verb}(BADINDEX)`;
    } else if (argNum >= args.length) {
      out += `%!${verb}(MISSING)`;
    } else {
      out += fmtArg(args[argNum], verb, f, 0);
      argNum++;
    }
  }
  if (!reordered && argNum < args.length) {
    out +=
      '%!(EXTRA ' +
      args
        .slice(argNum)
        .map((a) => (a === undefined || a === null ? '<nil>' : `${goTypeName(a)}=${formatValue(a)}`))
        .join(', ') +
      ')';
  }
  return out;
}

// =============================================================================================
// Lexer

type TokType =
  | 'error' | 'bool' | 'char' | 'charConst' | 'complex' | 'declare' | 'assign' | 'eof' | 'field'
  | 'ident' | 'leftDelim' | 'leftParen' | 'number' | 'pipe' | 'rawString' | 'rightDelim'
  | 'rightParen' | 'space' | 'string' | 'text' | 'variable'
  // keywords
  | 'dot' | 'block' | 'break' | 'continue' | 'define' | 'else' | 'end' | 'if' | 'range' | 'nil'
  | 'template' | 'with';

const keywords: Record<string, TokType> = {
  block: 'block',
  break: 'break',
  continue: 'continue',
  define: 'define',
  else: 'else',
  end: 'end',
  if: 'if',
  range: 'range',
  nil: 'nil',
  template: 'template',
  with: 'with',
};
const keywordTypes = new Set<TokType>(['dot', ...Object.values(keywords)]);

interface Token {
  type: TokType;
  val: string;
  pos: number;
}

function tokString(t: Token): string {
  if (t.type === 'eof') return 'EOF';
  if (t.type === 'error') return t.val;
  if (keywordTypes.has(t.type)) return `<${t.val}>`;
  const runes = Array.from(t.val);
  if (runes.length > 10) return goQuote(runes.slice(0, 10).join('')) + '...';
  return goQuote(t.val);
}

const isSpaceCh = (c: string | undefined): boolean => c === ' ' || c === '\t' || c === '\r' || c === '\n';
const alnumRe = /^[\p{L}\p{Nd}_]$/u;
const isAlnum = (c: string | undefined): boolean => c !== undefined && (c === '_' || alnumRe.test(c));

function unicodeName(c: string): string {
  const cp = c.codePointAt(0) as number;
  const u = 'U+' + cp.toString(16).toUpperCase().padStart(4, '0');
  return isPrint(cp) ? `${u} '${c}'` : u;
}

function lex(input: string): Token[] {
  const toks: Token[] = [];
  let pos = 0;
  let start = 0;
  let parenDepth = 0;
  const emit = (type: TokType, from = start, to = pos): void => {
    toks.push({ type, val: input.slice(from, to), pos: from });
    start = pos;
  };
  const fail = (msg: string): void => {
    toks.push({ type: 'error', val: msg, pos: start });
  };
  /** Scans a quoted string or character constant up to its closing quote; false (and an error token) if unterminated. */
  const scanQuoted = (quote: string, unterminated: string): boolean => {
    for (;;) {
      const ch = input[pos];
      if (ch === '\\') pos++;
      if (input[pos] === undefined || input[pos] === '\n') {
        fail(unterminated);
        return false;
      }
      pos++;
      if (ch === quote) return true;
    }
  };
  const charAt = (p: number): string | undefined => {
    if (p >= input.length) return undefined;
    return String.fromCodePoint(input.codePointAt(p) as number);
  };
  const leftTrimAt = (p: number): boolean => input[p] === '-' && isSpaceCh(input[p + 1]);
  const rightDelimAt = (p: number): [boolean, boolean] => {
    if (isSpaceCh(input[p]) && input[p + 1] === '-' && input.startsWith('}}', p + 2)) return [true, true];
    if (input.startsWith('}}', p)) return [true, false];
    return [false, false];
  };
  const skipSpaceRun = (p: number): number => {
    while (p < input.length && isSpaceCh(input[p])) p++;
    return p;
  };
  const atTerminator = (p: number): boolean => {
    const c = input[p];
    if (c === undefined || isSpaceCh(c)) return true;
    return '.,|:()}'.includes(c);
  };

  for (;;) {
    // Text up to the next action.
    const x = input.indexOf('{{', pos);
    if (x < 0) {
      pos = input.length;
      if (pos > start) emit('text');
      emit('eof');
      return toks;
    }
    let textEnd = x;
    if (leftTrimAt(x + 2)) {
      while (textEnd > start && isSpaceCh(input[textEnd - 1])) textEnd--;
    }
    if (textEnd > start) toks.push({ type: 'text', val: input.slice(start, textEnd), pos: start });
    pos = x + 2;
    start = x;
    const trim = leftTrimAt(pos);
    const after = trim ? 2 : 0;
    if (input.startsWith('/*', pos + after)) {
      // Comment: {{/* ... */}} with optional trim markers, nothing else in the action.
      pos += after;
      start = pos;
      const close = input.indexOf('*/', pos + 2);
      if (close < 0) {
        fail('unclosed comment');
        return toks;
      }
      pos = close + 2;
      const [delim, trimRight] = rightDelimAt(pos);
      if (!delim) {
        fail('comment ends before closing delimiter');
        return toks;
      }
      pos += (trimRight ? 2 : 0) + 2;
      if (trimRight) pos = skipSpaceRun(pos);
      start = pos;
      continue;
    }
    emit('leftDelim', x, x + 2);
    pos += after;
    start = pos;
    parenDepth = 0;

    // Inside the action.
    for (;;) {
      const [delim, trimRight] = rightDelimAt(pos);
      if (delim) {
        if (parenDepth !== 0) {
          fail('unclosed left paren');
          return toks;
        }
        if (trimRight) pos += 2;
        start = pos;
        pos += 2;
        emit('rightDelim');
        if (trimRight) pos = skipSpaceRun(pos);
        start = pos;
        break;
      }
      const c = charAt(pos);
      if (c === undefined) {
        fail('unclosed action');
        return toks;
      }
      start = pos;
      if (isSpaceCh(c)) {
        let p = pos;
        while (isSpaceCh(input[p])) p++;
        // A space followed by "-}}" belongs to the closing delimiter.
        if (input[p - 1] !== undefined && input[p] === '-' && input.startsWith('}}', p + 1)) {
          p--;
          if (p === pos) continue;
        }
        pos = p;
        emit('space');
        continue;
      }
      pos += c.length;
      switch (c) {
        case '=':
          emit('assign');
          continue;
        case ':':
          if (input[pos] !== '=') {
            fail('expected :=');
            return toks;
          }
          pos++;
          emit('declare');
          continue;
        case '|':
          emit('pipe');
          continue;
        case '"': {
          if (!scanQuoted('"', 'unterminated quoted string')) return toks;
          emit('string');
          continue;
        }
        case '`': {
          const close = input.indexOf('`', pos);
          if (close < 0) {
            fail('unterminated raw quoted string');
            return toks;
          }
          pos = close + 1;
          emit('rawString');
          continue;
        }
        case "'": {
          if (!scanQuoted("'", 'unterminated character constant')) return toks;
          emit('charConst');
          continue;
        }
        case '$':
        case '.': {
          if (c === '.' && input[pos] !== undefined && input[pos] >= '0' && input[pos] <= '9') {
            pos = start;
            break; // a number such as .5
          }
          if (atTerminator(pos)) {
            emit(c === '$' ? 'variable' : 'dot');
            continue;
          }
          let ch = charAt(pos);
          while (isAlnum(ch)) {
            pos += (ch as string).length;
            ch = charAt(pos);
          }
          if (!atTerminator(pos)) {
            fail(`bad character ${unicodeName(ch as string)}`);
            return toks;
          }
          emit(c === '$' ? 'variable' : 'field');
          continue;
        }
        case '(':
          emit('leftParen');
          parenDepth++;
          continue;
        case ')':
          emit('rightParen');
          parenDepth--;
          if (parenDepth < 0) {
            fail('unexpected right paren');
            return toks;
          }
          continue;
        default:
          break;
      }
      if (c === '.' || c === '+' || c === '-' || (c >= '0' && c <= '9')) {
        pos = start;
        if (!scanNumber()) {
          fail(`bad number syntax: ${goQuote(input.slice(start, pos))}`);
          return toks;
        }
        if (input[pos] === '+' || input[pos] === '-') {
          if (!scanNumber() || input[pos - 1] !== 'i') {
            fail(`bad number syntax: ${goQuote(input.slice(start, pos))}`);
            return toks;
          }
          emit('complex');
        } else {
          emit('number');
        }
        continue;
      }
      if (isAlnum(c)) {
        let ch = charAt(pos);
        while (isAlnum(ch)) {
          pos += (ch as string).length;
          ch = charAt(pos);
        }
        if (!atTerminator(pos)) {
          fail(`bad character ${unicodeName(ch as string)}`);
          return toks;
        }
        const word = input.slice(start, pos);
        const kw = keywords[word];
        emit(kw ?? (word === 'true' || word === 'false' ? 'bool' : 'ident'));
        continue;
      }
      const cp = c.codePointAt(0) as number;
      if (cp <= 0x7f && isPrint(cp)) {
        emit('char');
        continue;
      }
      fail(`unrecognized character in action: ${unicodeName(c)}`);
      return toks;
    }
  }

  function scanNumber(): boolean {
    const accept = (valid: string): boolean => {
      if (input[pos] !== undefined && valid.includes(input[pos])) {
        pos++;
        return true;
      }
      return false;
    };
    const acceptRun = (valid: string): void => {
      while (input[pos] !== undefined && valid.includes(input[pos])) pos++;
    };
    accept('+-');
    let digits = '0123456789_';
    if (accept('0')) {
      if (accept('xX')) digits = '0123456789abcdefABCDEF_';
      else if (accept('oO')) digits = '01234567_';
      else if (accept('bB')) digits = '01_';
    }
    acceptRun(digits);
    if (accept('.')) acceptRun(digits);
    if (digits.length === 11 && accept('eE')) {
      accept('+-');
      acceptRun('0123456789_');
    }
    if (digits.length === 23 && accept('pP')) {
      accept('+-');
      acceptRun('0123456789_');
    }
    accept('i');
    if (isAlnum(charAt(pos))) {
      pos += (charAt(pos) as string).length;
      return false;
    }
    return true;
  }
}

// =============================================================================================
// Parse tree

interface FieldNode { type: 'field'; pos: number; idents: string[] }
interface VariableNode { type: 'variable'; pos: number; idents: string[] }
interface DotNode { type: 'dot'; pos: number }
interface NilNode { type: 'nil'; pos: number }
interface BoolNode { type: 'bool'; pos: number; value: boolean }
interface NumberNode { type: 'number'; pos: number; text: string; value: number }
interface StringNode { type: 'string'; pos: number; quoted: string; value: string }
interface IdentifierNode { type: 'identifier'; pos: number; name: string }
interface ChainNode { type: 'chain'; pos: number; node: ArgNode; fields: string[] }
interface PipeNode { type: 'pipe'; pos: number; decl: VariableNode[]; isAssign: boolean; cmds: CommandNode[] }
interface CommandNode { type: 'command'; pos: number; args: ArgNode[] }

type ArgNode =
  | FieldNode | VariableNode | DotNode | NilNode | BoolNode | NumberNode | StringNode
  | IdentifierNode | ChainNode | PipeNode;

interface TextNode { type: 'text'; pos: number; text: string }
interface ActionNode { type: 'action'; pos: number; pipe: PipeNode }
interface ListNode { type: 'list'; pos: number; nodes: Node[] }
interface BranchNode { type: 'if' | 'with' | 'range'; pos: number; pipe: PipeNode; list: ListNode; elseList?: ListNode }
interface TemplateCallNode { type: 'template'; pos: number; name: string; pipe?: PipeNode }
interface LoopControlNode { type: 'break' | 'continue'; pos: number }

type Node = TextNode | ActionNode | ListNode | BranchNode | TemplateCallNode | LoopControlNode;

/** {{end}} and {{else}} while parsing; `chained` is the "if"/"with" of {{else if}}/{{else with}}. */
type Terminator = { type: 'end'; pos: number } | { type: 'else'; pos: number; chained?: 'if' | 'with' };

type AnyNode = Node | ArgNode | CommandNode;

function nodeString(n: AnyNode): string {
  switch (n.type) {
    case 'field':
      return n.idents.map((id) => '.' + id).join('');
    case 'variable':
      return n.idents.join('.');
    case 'dot':
      return '.';
    case 'nil':
      return 'nil';
    case 'bool':
      return String(n.value);
    case 'number':
      return n.text;
    case 'string':
      return n.quoted;
    case 'identifier':
      return n.name;
    case 'chain':
      return (n.node.type === 'pipe' ? `(${nodeString(n.node)})` : nodeString(n.node)) + n.fields.map((f) => '.' + f).join('');
    case 'pipe': {
      let s = '';
      if (n.decl.length > 0) s = n.decl.map((d) => nodeString(d)).join(', ') + (n.isAssign ? ' = ' : ' := ');
      return s + n.cmds.map((c) => nodeString(c)).join(' | ');
    }
    case 'command':
      return n.args.map((a) => (a.type === 'pipe' ? `(${nodeString(a)})` : nodeString(a))).join(' ');
    case 'text':
      return goQuote(n.text);
    case 'action':
      return `{{${nodeString(n.pipe)}}}`;
    case 'list':
      return n.nodes.map((x) => nodeString(x)).join('');
    case 'if':
    case 'with':
    case 'range':
      return (
        `{{${n.type} ${nodeString(n.pipe)}}}${nodeString(n.list)}` +
        (n.elseList ? `{{else}}${nodeString(n.elseList)}` : '') +
        '{{end}}'
      );
    case 'template':
      return `{{template ${goQuote(n.name)}${n.pipe ? ' ' + nodeString(n.pipe) : ''}}}`;
    case 'break':
    case 'continue':
      return `{{${n.type}}}`;
  }
}

/** strconv.Unquote for "..." and `...` literals; throws "invalid syntax". */
function unquote(quoted: string): string {
  if (quoted.startsWith('`')) return quoted.slice(1, -1).replace(/\r/g, '');
  return unescapeGo(quoted.slice(1, -1), '"');
}

function unescapeGo(body: string, quote: string): string {
  let out = '';
  for (let i = 0; i < body.length; ) {
    const c = body[i];
    if (c !== '\\') {
      if (c === quote) throw new Error('invalid syntax');
      out += c;
      i++;
      continue;
    }
    const e = body[i + 1];
    i += 2;
    const simple: Record<string, string> = { a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\' };
    if (e in simple) {
      out += simple[e];
    } else if (e === quote) {
      out += e;
    } else if (e === 'x' || e === 'u' || e === 'U') {
      const n = e === 'x' ? 2 : e === 'u' ? 4 : 8;
      const h = body.slice(i, i + n);
      if (h.length !== n || !/^[0-9a-fA-F]+$/.test(h)) throw new Error('invalid syntax');
      const cp = parseInt(h, 16);
      if (cp > 0x10ffff || (e !== 'x' && cp >= 0xd800 && cp <= 0xdfff)) throw new Error('invalid syntax');
      // \x escapes are bytes in Go; as text, bytes below 0x80 are the same characters.
      out += String.fromCodePoint(cp);
      i += n;
    } else if (e !== undefined && e >= '0' && e <= '7') {
      const o = body.slice(i - 1, i + 2);
      if (!/^[0-7]{3}$/.test(o) || parseInt(o, 8) > 255) throw new Error('invalid syntax');
      out += String.fromCharCode(parseInt(o, 8));
      i += 2;
    } else {
      throw new Error('invalid syntax');
    }
  }
  return out;
}

function parseNumber(text: string): number | undefined {
  if (text.startsWith("'")) {
    const body = text.slice(1, -1);
    const s = unescapeGo(body, "'");
    const chars = Array.from(s);
    if (chars.length !== 1) return undefined;
    return chars[0].codePointAt(0);
  }
  if (/^[+-]?(0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|0[0-7_]*|[1-9][0-9_]*)$/.test(text)) {
    const neg = text.startsWith('-');
    let t = text.replace(/^[+-]/, '');
    if (/(^_|_$|__)/.test(t.replace(/^0[xXoObB]/, ''))) return undefined;
    t = t.replace(/_/g, '');
    let v: bigint;
    if (/^0[oO]/.test(t)) v = BigInt('0o' + t.slice(2));
    else if (/^0[0-7]+$/.test(t)) v = BigInt('0o' + t.slice(1));
    else v = BigInt(t);
    return Number(neg ? -v : v);
  }
  if (/^[+-]?(\d[\d_]*\.?[\d_]*|\.\d[\d_]*)([eE][+-]?\d[\d_]*)?$/.test(text) && !/(__|_\.|\._|_$|_[eE]|[eE][+-]?_)/.test(text)) {
    return Number(text.replace(/_/g, ''));
  }
  return undefined;
}

class ParseError extends Error {}

class Parser {
  private i = 0;
  private vars: string[] = ['$'];
  private rangeDepth = 0;
  private errPos = 0;
  readonly templates = new Map<string, ListNode>();

  constructor(
    private readonly src: string,
    private readonly toks: Token[],
    private readonly name: string,
    private readonly hasFunction: (name: string) => boolean,
  ) {}

  private fail(msg: string): never {
    const line = 1 + countNewlines(this.src, this.errPos);
    throw new ParseError(`template: ${this.name}:${line}: ${msg}`);
  }

  private see(t: Token): Token {
    this.errPos = t.pos;
    if (t.type === 'error') this.fail(t.val);
    return t;
  }

  private next(): Token {
    return this.see(this.toks[this.i++]);
  }

  private peek(): Token {
    return this.see(this.toks[this.i]);
  }

  private nextNonSpace(): Token {
    let t = this.next();
    while (t.type === 'space') t = this.next();
    return t;
  }

  private peekNonSpace(): Token {
    const t = this.nextNonSpace();
    this.i--;
    return t;
  }

  private unexpected(t: Token, context: string): never {
    this.fail(`unexpected ${tokString(t)} in ${context}`);
  }

  private expect(type: TokType, context: string): Token {
    const t = this.nextNonSpace();
    if (t.type !== type) this.unexpected(t, context);
    return t;
  }

  parse(): ListNode {
    const root: ListNode = { type: 'list', pos: this.toks[0].pos, nodes: [] };
    while (this.peek().type !== 'eof') {
      if (this.peek().type === 'leftDelim') {
        const save = this.i;
        this.next();
        if (this.nextNonSpace().type === 'define') {
          this.parseDefinition();
          continue;
        }
        this.i = save;
      }
      const n = this.textOrAction();
      if (n.type === 'end' || n.type === 'else') this.fail(`unexpected {{${n.type}}}`);
      root.nodes.push(n);
    }
    return root;
  }

  private addTemplate(name: string, list: ListNode): void {
    const prev = this.templates.get(name);
    if (prev && !isEmptyList(prev) && !isEmptyList(list)) this.fail(`template: multiple definition of template ${goQuote(name)}`);
    if (!prev || isEmptyList(prev)) this.templates.set(name, list);
  }

  private withFreshScope<T>(fn: () => T): T {
    const vars = this.vars;
    const depth = this.rangeDepth;
    this.vars = ['$'];
    this.rangeDepth = 0;
    try {
      return fn();
    } finally {
      this.vars = vars;
      this.rangeDepth = depth;
    }
  }

  private parseDefinition(): void {
    const context = 'define clause';
    const t = this.nextNonSpace();
    if (t.type !== 'string' && t.type !== 'rawString') this.unexpected(t, context);
    const name = this.unquoteTok(t);
    this.expect('rightDelim', context);
    this.withFreshScope(() => {
      const [list, end] = this.itemList();
      if (end.type !== 'end') this.fail(`unexpected {{${end.type}}} in ${context}`);
      this.addTemplate(name, list);
    });
  }

  private unquoteTok(t: Token): string {
    try {
      return unquote(t.val);
    } catch (e) {
      this.fail((e as Error).message);
    }
  }

  private itemList(): [ListNode, Terminator] {
    const list: ListNode = { type: 'list', pos: this.peekNonSpace().pos, nodes: [] };
    while (this.peekNonSpace().type !== 'eof') {
      const n = this.textOrAction();
      if (n.type === 'end' || n.type === 'else') return [list, n];
      list.nodes.push(n);
    }
    this.fail('unexpected EOF');
  }

  private textOrAction(): Node | Terminator {
    const t = this.nextNonSpace();
    if (t.type === 'text') return { type: 'text', pos: t.pos, text: t.val };
    if (t.type === 'leftDelim') return this.action();
    this.unexpected(t, 'input');
  }

  private action(): Node | Terminator {
    const t = this.nextNonSpace();
    switch (t.type) {
      case 'block':
        return this.blockControl();
      case 'break':
      case 'continue':
        return this.loopControl(t);
      case 'else': {
        const p = this.peekNonSpace();
        if (p.type === 'if' || p.type === 'with') return { type: 'else', pos: p.pos, chained: p.type };
        return { type: 'else', pos: this.expect('rightDelim', 'else').pos };
      }
      case 'end':
        return { type: 'end', pos: this.expect('rightDelim', 'end').pos };
      case 'if':
      case 'range':
      case 'with':
        return this.parseControl(t.type);
      case 'template':
        return this.templateControl();
      default:
        break;
    }
    this.i--;
    const pos = this.peek().pos;
    return { type: 'action', pos, pipe: this.pipeline('command') };
  }

  private loopControl(t: Token): LoopControlNode {
    const kind = t.type as 'break' | 'continue';
    const n = this.nextNonSpace();
    if (n.type !== 'rightDelim') this.unexpected(n, `{{${kind}}}`);
    if (this.rangeDepth === 0) this.fail(`{{${kind}}} outside {{range}}`);
    return { type: kind, pos: t.pos };
  }

  private parseControl(kind: 'if' | 'range' | 'with'): BranchNode {
    const mark = this.vars.length;
    try {
      const pipe = this.pipeline(kind);
      if (kind === 'range') this.rangeDepth++;
      const [list, next] = this.itemList();
      if (kind === 'range') this.rangeDepth--;
      let elseList: ListNode | undefined;
      if (next.type === 'else') {
        if (next.chained && next.chained === kind) {
          // {{else if x}} is {{else}}{{if x}}...{{end}}{{end}} with one {{end}}; likewise with.
          this.nextNonSpace();
          elseList = { type: 'list', pos: next.pos, nodes: [this.parseControl(kind)] };
        } else {
          const [els, end] = this.itemList();
          if (end.type !== 'end') this.fail(`expected end; found {{${end.type}}}`);
          elseList = els;
        }
      }
      return { type: kind, pos: pipe.pos, pipe, list, elseList };
    } finally {
      this.vars.length = mark;
    }
  }

  private templateName(context: string): [Token, string] {
    const t = this.nextNonSpace();
    if (t.type !== 'string' && t.type !== 'rawString') this.unexpected(t, context);
    return [t, this.unquoteTok(t)];
  }

  private templateControl(): TemplateCallNode {
    const [t, name] = this.templateName('template clause');
    let pipe: PipeNode | undefined;
    const save = this.i;
    if (this.nextNonSpace().type !== 'rightDelim') {
      this.i = save;
      pipe = this.pipeline('template clause');
    }
    return { type: 'template', pos: t.pos, name, pipe };
  }

  private blockControl(): TemplateCallNode {
    const context = 'block clause';
    const [t, name] = this.templateName(context);
    const pipe = this.pipeline(context);
    this.withFreshScope(() => {
      const [list, end] = this.itemList();
      if (end.type !== 'end') this.fail(`unexpected {{${end.type}}} in ${context}`);
      this.addTemplate(name, list);
    });
    return { type: 'template', pos: t.pos, name, pipe };
  }

  private pipeline(context: string): PipeNode {
    const pipe: PipeNode = { type: 'pipe', pos: this.peekNonSpace().pos, decl: [], isAssign: false, cmds: [] };
    for (;;) {
      const save = this.i;
      const v = this.peekNonSpace();
      if (v.type !== 'variable') break;
      this.nextNonSpace();
      const n = this.peekNonSpace();
      if (n.type === 'assign' || n.type === 'declare') {
        pipe.isAssign = n.type === 'assign';
        this.nextNonSpace();
        pipe.decl.push({ type: 'variable', pos: v.pos, idents: [v.val] });
        this.vars.push(v.val);
        break;
      }
      if (n.type === 'char' && n.val === ',') {
        this.nextNonSpace();
        pipe.decl.push({ type: 'variable', pos: v.pos, idents: [v.val] });
        this.vars.push(v.val);
        if (context === 'range' && pipe.decl.length < 2) {
          const p = this.peekNonSpace().type;
          if (p === 'variable' || p === 'rightDelim' || p === 'rightParen') continue;
          this.fail('range can only initialize variables');
        }
        this.fail(`too many declarations in ${context}`);
      }
      this.i = save;
      break;
    }
    for (;;) {
      const t = this.nextNonSpace();
      switch (t.type) {
        case 'rightDelim':
        case 'rightParen':
          this.checkPipeline(pipe, context);
          if (t.type === 'rightParen') this.i--;
          return pipe;
        case 'bool':
        case 'charConst':
        case 'complex':
        case 'dot':
        case 'field':
        case 'ident':
        case 'number':
        case 'nil':
        case 'rawString':
        case 'string':
        case 'variable':
        case 'leftParen':
          this.i--;
          pipe.cmds.push(this.command());
          break;
        default:
          this.unexpected(t, context);
      }
    }
  }

  private checkPipeline(pipe: PipeNode, context: string): void {
    if (pipe.cmds.length === 0) this.fail(`missing value for ${context}`);
    pipe.cmds.slice(1).forEach((c, i) => {
      const k = c.args[0].type;
      if (k === 'bool' || k === 'dot' || k === 'nil' || k === 'number' || k === 'string') {
        this.fail(`non executable command in pipeline stage ${i + 2}`);
      }
    });
  }

  private command(): CommandNode {
    const cmd: CommandNode = { type: 'command', pos: this.peekNonSpace().pos, args: [] };
    for (;;) {
      this.peekNonSpace();
      const operand = this.operand();
      if (operand) cmd.args.push(operand);
      const t = this.next();
      if (t.type === 'space') continue;
      if (t.type === 'rightDelim' || t.type === 'rightParen') this.i--;
      else if (t.type !== 'pipe') this.fail(`unexpected ${tokString(t)} in operand`);
      break;
    }
    if (cmd.args.length === 0) this.fail('empty command');
    return cmd;
  }

  private operand(): ArgNode | undefined {
    const node = this.term();
    if (!node || this.peek().type !== 'field') return node;
    const pos = this.peek().pos;
    const fields: string[] = [];
    while (this.peek().type === 'field') fields.push(this.next().val.slice(1));
    switch (node.type) {
      case 'field':
        return { type: 'field', pos, idents: [...node.idents, ...fields] };
      case 'variable':
        return { type: 'variable', pos, idents: [...node.idents, ...fields] };
      case 'bool':
      case 'string':
      case 'number':
      case 'nil':
      case 'dot':
        this.fail(`unexpected . after term ${goQuote(nodeString(node))}`);
      // falls through (unreachable)
      default:
        return { type: 'chain', pos, node, fields };
    }
  }

  private term(): ArgNode | undefined {
    const t = this.nextNonSpace();
    switch (t.type) {
      case 'ident':
        if (!this.hasFunction(t.val)) this.fail(`function ${goQuote(t.val)} not defined`);
        return { type: 'identifier', pos: t.pos, name: t.val };
      case 'dot':
        return { type: 'dot', pos: t.pos };
      case 'nil':
        return { type: 'nil', pos: t.pos };
      case 'variable':
        if (!this.vars.includes(t.val)) this.fail(`undefined variable ${goQuote(t.val)}`);
        return { type: 'variable', pos: t.pos, idents: [t.val] };
      case 'field':
        return { type: 'field', pos: t.pos, idents: [t.val.slice(1)] };
      case 'bool':
        return { type: 'bool', pos: t.pos, value: t.val === 'true' };
      case 'charConst':
      case 'number': {
        let value: number | undefined;
        try {
          value = parseNumber(t.val);
        } catch {
          value = undefined;
        }
        if (value === undefined) {
          this.fail(t.type === 'charConst' ? `malformed character constant: ${t.val}` : `illegal number syntax: ${goQuote(t.val)}`);
        }
        return { type: 'number', pos: t.pos, text: t.val, value };
      }
      case 'complex':
        this.fail(`complex numbers are not supported: ${goQuote(t.val)}`);
      // falls through (unreachable)
      case 'leftParen': {
        const pipe = this.pipeline('parenthesized pipeline');
        const close = this.next();
        if (close.type !== 'rightParen') this.fail(`unclosed right paren: unexpected ${tokString(close)}`);
        return pipe;
      }
      case 'string':
      case 'rawString':
        return { type: 'string', pos: t.pos, quoted: t.val, value: this.unquoteTok(t) };
      default:
        this.i--;
        return undefined;
    }
  }
}

function countNewlines(s: string, end: number): number {
  let n = 0;
  for (let i = s.indexOf('\n'); i >= 0 && i < end; i = s.indexOf('\n', i + 1)) n++;
  return n;
}

function isEmptyList(list: ListNode): boolean {
  return list.nodes.every((n) => n.type === 'text' && n.text.trim() === '');
}

// =============================================================================================
// Functions

/** Error from checking a function's argument types: reported without "error calling f:". */
class ArgTypeError extends Error {}

function wantString(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v === undefined || v === null) throw new ArgTypeError('invalid value; expected string');
  throw new ArgTypeError(`wrong type for value; expected string; got ${goTypeName(v)}`);
}

function wantInt(v: unknown): number {
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (typeof v === 'bigint') return Number(v);
  if (v === undefined || v === null) throw new ArgTypeError('invalid value; expected int');
  throw new ArgTypeError(`wrong type for value; expected int; got ${goTypeName(v)}`);
}

/** Go's truth: false, 0, "", nil, empty slices and maps are false; structs are true. */
export function isTrue(v: unknown): boolean {
  if (v === undefined || v === null) return false;
  switch (typeof v) {
    case 'boolean':
      return v;
    case 'number':
      return v !== 0;
    case 'bigint':
      return v !== 0n;
    case 'string':
      return v.length > 0;
    case 'object':
      if (Array.isArray(v)) return v.length > 0;
      if (v instanceof Map) return v.size > 0;
      if (isPlainMap(v)) return Object.keys(v).length > 0;
      return true;
    default:
      return true;
  }
}

type Kind = 'bool' | 'number' | 'string' | 'invalid';

function basicKind(v: unknown): Kind {
  switch (typeof v) {
    case 'boolean':
      return 'bool';
    case 'number':
    case 'bigint':
      return 'number';
    case 'string':
      return 'string';
    default:
      return 'invalid';
  }
}

function eq(a: unknown, ...bs: unknown[]): boolean {
  if (bs.length === 0) throw new Error('missing argument for comparison');
  const k1 = basicKind(a);
  for (const b of bs) {
    const k2 = basicKind(b);
    let truth: boolean;
    if (k1 !== k2) {
      if (a !== undefined && a !== null && b !== undefined && b !== null) {
        throw new Error(`incompatible types for comparison: ${goTypeName(a)} and ${goTypeName(b)}`);
      }
      truth = false;
    } else if (k1 === 'number') {
      truth = Number(a) === Number(b);
    } else if (k1 !== 'invalid') {
      truth = a === b;
    } else {
      const aNil = a === undefined || a === null;
      const bNil = b === undefined || b === null;
      if (aNil || bNil) truth = aNil === bNil;
      else if (typeof b === 'object' || typeof b === 'function') throw new Error(`non-comparable type ${formatValue(b)}: ${goTypeName(b)}`);
      else truth = a === b;
    }
    if (truth) return true;
  }
  return false;
}

function lt(a: unknown, b: unknown): boolean {
  const k1 = basicKind(a);
  const k2 = basicKind(b);
  if (k1 === 'invalid' || k2 === 'invalid') throw new Error('invalid type for comparison');
  if (k1 !== k2) throw new Error(`incompatible types for comparison: ${goTypeName(a)} and ${goTypeName(b)}`);
  if (k1 === 'bool') throw new Error('invalid type for comparison');
  if (k1 === 'number') return Number(a) < Number(b);
  return (a as string) < (b as string);
}

function le(a: unknown, b: unknown): boolean {
  return lt(a, b) || eq(a, b);
}

function indexArg(v: unknown, cap: number): number {
  if (v === undefined || v === null) throw new Error('cannot index slice/array with nil');
  if (!(typeof v === 'number' && Number.isInteger(v)) && typeof v !== 'bigint') {
    throw new Error(`cannot index slice/array with type ${goTypeName(v)}`);
  }
  const x = Number(v);
  if (x < 0 || x > cap) throw new Error(`index out of range: ${x}`);
  return x;
}

function index(item: unknown, ...indexes: unknown[]): unknown {
  if (item === undefined || item === null) throw new Error('index of untyped nil');
  for (const ix of indexes) {
    if (item === undefined || item === null) throw new Error('index of nil pointer');
    if (typeof item === 'string' || Array.isArray(item)) {
      const len = typeof item === 'string' ? Buffer.byteLength(item) : item.length;
      const x = indexArg(ix, len);
      if (x === len) throw new Error(`index out of range: ${x}`);
      item = typeof item === 'string' ? Buffer.from(item)[x] : item[x];
    } else if (typeof item === 'object' && (isPlainMap(item as object))) {
      if (typeof ix !== 'string') {
        throw new Error(`value has type ${goTypeName(ix)}; should be string`);
      }
      item = item instanceof Map ? item.get(ix) : Object.prototype.hasOwnProperty.call(item, ix) ? (item as Record<string, unknown>)[ix] : undefined;
      if (item === undefined) item = null;
    } else {
      throw new Error(`can't index item of type ${goTypeName(item)}`);
    }
  }
  return item;
}

function slice(item: unknown, ...indexes: unknown[]): unknown {
  if (item === undefined || item === null) throw new Error('slice of untyped nil');
  if (indexes.length > 3) throw new Error(`too many slice indexes: ${indexes.length}`);
  let len: number;
  if (typeof item === 'string') {
    if (indexes.length === 3) throw new Error('cannot 3-index slice a string');
    len = Buffer.byteLength(item);
  } else if (Array.isArray(item)) {
    len = item.length;
  } else {
    throw new Error(`can't slice item of type ${goTypeName(item)}`);
  }
  const idx = [0, len, len];
  indexes.forEach((ix, i) => {
    idx[i] = indexArg(ix, len);
  });
  if (idx[0] > idx[1]) throw new Error(`invalid slice index: ${idx[0]} > ${idx[1]}`);
  if (indexes.length === 3 && idx[1] > idx[2]) throw new Error(`invalid slice index: ${idx[1]} > ${idx[2]}`);
  if (typeof item === 'string') return Buffer.from(item).subarray(idx[0], idx[1]).toString('utf8');
  return item.slice(idx[0], idx[1]);
}

function length(item: unknown): number {
  if (item === undefined || item === null) throw new Error('len of nil pointer');
  if (typeof item === 'string') return Buffer.byteLength(item);
  if (Array.isArray(item)) return item.length;
  if (item instanceof Map) return item.size;
  if (typeof item === 'object' && isPlainMap(item)) return Object.keys(item).length;
  throw new Error(`len of type ${goTypeName(item)}`);
}

/** The text of html/js/urlquery's arguments (text/template's evalArgs). */
function evalArgs(args: unknown[]): string {
  if (args.length === 1 && typeof args[0] === 'string') return args[0];
  return sprint(...args.map((a) => (a === undefined || a === null ? '<no value>' : a)));
}

function htmlEscape(s: string): string {
  return s.replace(/[\0"'&<>]/g, (c) => {
    switch (c) {
      case '\0': return '\uFFFD';
      case '"': return '&#34;';
      case "'": return '&#39;';
      case '&': return '&amp;';
      case '<': return '&lt;';
      default: return '&gt;';
    }
  });
}

function jsEscape(s: string): string {
  let out = '';
  for (const ch of s) {
    const cp = ch.codePointAt(0) as number;
    switch (ch) {
      case '\\': out += '\\\\'; continue;
      case "'": out += "\\'"; continue;
      case '"': out += '\\"'; continue;
      case '<': out += '\\u003C'; continue;
      case '>': out += '\\u003E'; continue;
      case '&': out += '\\u0026'; continue;
      case '=': out += '\\u003D'; continue;
      default: break;
    }
    if (cp < 0x20) out += '\\u00' + hex(cp, 2).toUpperCase();
    else if (cp < 0x80 || isPrint(cp)) out += ch;
    else out += '\\u' + hex(cp, 4).toUpperCase();
  }
  return out;
}

function urlQueryEscape(s: string): string {
  let out = '';
  for (const b of Buffer.from(s, 'utf8')) {
    const c = String.fromCharCode(b);
    if (/[A-Za-z0-9\-_.~]/.test(c)) out += c;
    else if (c === ' ') out += '+';
    else out += '%' + hex(b, 2).toUpperCase();
  }
  return out;
}

const exported = /^\p{Lu}/u;

/**
 * The fields encoding/json would marshal: every key of a map; for a struct (class instance),
 * its exported (capitalised) own fields and getters.
 */
function jsonFields(v: object): [string, unknown][] {
  if (v instanceof Map) return [...v.entries()].map(([k, x]) => [String(k), x]);
  if (isPlainMap(v)) return Object.entries(v);
  const out = new Map<string, unknown>();
  for (const [k, x] of Object.entries(v)) if (exported.test(k)) out.set(k, x);
  for (let p = Object.getPrototypeOf(v); p && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
    for (const [k, d] of Object.entries(Object.getOwnPropertyDescriptors(p))) {
      if (d.get && exported.test(k) && !out.has(k)) out.set(k, (v as Record<string, unknown>)[k]);
    }
  }
  return [...out];
}

function toJSONValue(v: unknown, sortKeys = false): unknown {
  if (v === undefined || v === null) return null;
  if (typeof v === 'bigint') return Number(v);
  if (Array.isArray(v)) return v.map((x) => toJSONValue(x));
  if (typeof v === 'object' && typeof (v as { toJSON?: unknown }).toJSON !== 'function') {
    const fields = jsonFields(v).filter(([, x]) => typeof x !== 'function' && x !== undefined);
    if (sortKeys) fields.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    const out: Record<string, unknown> = {};
    for (const [k, x] of fields) out[k] = toJSONValue(x);
    return out;
  }
  return v;
}

/**
 * Go's encoding/json without HTML escaping, compact (docker's `json` function). Object keys keep
 * their order unless sortKeys (docker marshals its list rows as maps, hence sorted).
 */
export function goJSON(v: unknown, sortKeys = false): string {
  const s = JSON.stringify(toJSONValue(v, sortKeys)) ?? 'null';
  return s.replace(/[\u2028\u2029]/g, (c) => (c === '\u2028' ? '\\u2028' : '\\u2029'));
}

/** strings.Title: upper-cases the first letter of each word. */
function title(s: string): string {
  let prev = ' ';
  let out = '';
  for (const ch of s) {
    out += isSeparator(prev) ? ch.toUpperCase() : ch;
    prev = ch;
  }
  return out;
}

function isSeparator(ch: string): boolean {
  const cp = ch.codePointAt(0) as number;
  if (cp <= 0x7f) return !/[0-9A-Za-z_]/.test(ch);
  if (/[\p{L}\p{Nd}]/u.test(ch)) return false;
  return /\s/u.test(ch);
}

function join(elems: unknown, sep: unknown): string {
  const s = wantString(sep);
  if (elems === undefined || elems === null) return '';
  if (Array.isArray(elems)) return elems.map((e) => sprint(e)).join(s);
  if (typeof elems === 'object' && isPlainMap(elems)) {
    const vals = (elems instanceof Map ? [...elems.values()] : Object.values(elems)).map((e) => sprint(e));
    return vals.sort().join(s);
  }
  throw new Error(`expected slice, got ${goTypeName(elems)}`);
}

interface FuncDef {
  fn: (...args: unknown[]) => unknown;
  /** fixed arity, or minimum when variadic */
  arity?: number;
  variadic?: boolean;
}

const def = (fn: (...args: any[]) => unknown, arity?: number, variadic = false): FuncDef => ({ fn, arity, variadic });

const builtins: Record<string, FuncDef> = {
  // and/or evaluate their arguments lazily; see Exec.evalFunction.
  and: def(() => undefined, 1, true),
  or: def(() => undefined, 1, true),
  not: def((a: unknown) => !isTrue(a), 1),
  len: def(length, 1),
  index: def(index, 1, true),
  slice: def(slice, 1, true),
  print: def(sprint, 0, true),
  printf: def((format: unknown, ...args: unknown[]) => sprintf(wantString(format), ...args), 1, true),
  println: def(sprintln, 0, true),
  eq: def(eq, 1, true),
  ne: def((a: unknown, b: unknown) => !eq(a, b), 2),
  lt: def(lt, 2),
  le: def(le, 2),
  gt: def((a: unknown, b: unknown) => !le(a, b), 2),
  ge: def((a: unknown, b: unknown) => !lt(a, b), 2),
  html: def((...a: unknown[]) => htmlEscape(evalArgs(a)), 0, true),
  js: def((...a: unknown[]) => jsEscape(evalArgs(a)), 0, true),
  urlquery: def((...a: unknown[]) => urlQueryEscape(evalArgs(a)), 0, true),
};

const dockerDefs: Record<string, FuncDef> = {
  json: def((v: unknown) => goJSON(v), 1),
  split: def((s: unknown, sep: unknown) => {
    const str = wantString(s);
    const by = wantString(sep);
    return by === '' ? Array.from(str) : str.split(by);
  }, 2),
  join: def(join, 2),
  title: def((s: unknown) => title(wantString(s)), 1),
  lower: def((s: unknown) => wantString(s).toLowerCase(), 1),
  upper: def((s: unknown) => wantString(s).toUpperCase(), 1),
  pad: def((s: unknown, left: unknown, right: unknown) => {
    const str = wantString(s);
    const l = wantInt(left);
    const r = wantInt(right);
    if (str === '') return str;
    if (l < 0 || r < 0) throw new Error('strings: negative Repeat count');
    return ' '.repeat(l) + str + ' '.repeat(r);
  }, 3),
  truncate: def((s: unknown, n: unknown) => {
    const runes = Array.from(wantString(s));
    const len = wantInt(n);
    if (runes.length < len) return runes.join('');
    if (len < 0) throw new Error(`slice bounds out of range [:${len}]`);
    return runes.slice(0, len).join('');
  }, 2),
};

const identity = (v: unknown): unknown => v;

/**
 * docker's HeaderFunctions: while rendering a table's header row, these replace the functions of
 * the same name so that `{{json .Labels}}` or `{{upper .Name}}` print the column's title as is.
 * (`pad` is not replaced: the header keeps the column's padding.)
 */
export const headerFuncs: FuncMap = {
  json: identity,
  split: identity,
  join: identity,
  title: identity,
  lower: identity,
  upper: identity,
  truncate: identity,
};

/** docker's template functions (cli/templates): json split join title lower upper pad truncate. */
export const dockerFuncs: FuncMap = Object.fromEntries(Object.entries(dockerDefs).map(([k, d]) => [k, d.fn]));

// =============================================================================================
// Execution

const MISSING: unique symbol = Symbol('missing');
type Final = unknown;

class BreakSignal {}
class ContinueSignal {}
const BREAK = new BreakSignal();
const CONTINUE = new ContinueSignal();

const MAX_DEPTH = 1000;

class Exec {
  private out: string[] = [];
  private vars: { name: string; value: unknown }[];
  private node: AnyNode | undefined;
  private tmplName: string;
  private depth = 0;

  constructor(
    private readonly src: string,
    private readonly parseName: string,
    private readonly templates: Map<string, ListNode>,
    private readonly lookupFunc: (name: string) => FuncDef | undefined,
    private readonly missingKey: 'default' | 'zero' | 'error',
    data: unknown,
  ) {
    this.vars = [{ name: '$', value: data }];
    this.tmplName = parseName;
  }

  run(root: ListNode, data: unknown): string {
    try {
      this.walk(data, root);
    } catch (e) {
      if (e instanceof TemplateError) throw new TemplateError(e.message, this.out.join(''));
      throw e;
    }
    return this.out.join('');
  }

  private at(n: AnyNode): void {
    this.node = n;
  }

  private fail(msg: string): never {
    const n = this.node;
    if (!n) throw new TemplateError(`template: ${this.tmplName}: ${msg}`);
    const before = this.src.slice(0, n.pos);
    const nl = before.lastIndexOf('\n');
    const col = Buffer.byteLength(before.slice(nl + 1));
    const line = 1 + countNewlines(this.src, n.pos);
    throw new TemplateError(
      `template: ${this.parseName}:${line}:${col}: executing ${goQuote(this.tmplName)} at <${nodeString(n)}>: ${msg}`,
    );
  }

  private varValue(name: string): unknown {
    for (let i = this.vars.length - 1; i >= 0; i--) if (this.vars[i].name === name) return this.vars[i].value;
    this.fail(`undefined variable: ${name}`);
  }

  private setVar(name: string, value: unknown): void {
    for (let i = this.vars.length - 1; i >= 0; i--) {
      if (this.vars[i].name === name) {
        this.vars[i].value = value;
        return;
      }
    }
    this.fail(`undefined variable: ${name}`);
  }

  private walk(dot: unknown, node: Node): void {
    this.at(node);
    switch (node.type) {
      case 'text':
        this.out.push(node.text);
        return;
      case 'action': {
        const v = this.evalPipeline(dot, node.pipe);
        if (node.pipe.decl.length === 0) this.printValue(node, v);
        return;
      }
      case 'list':
        for (const n of node.nodes) this.walk(dot, n);
        return;
      case 'if':
      case 'with': {
        const mark = this.vars.length;
        try {
          const v = this.evalPipeline(dot, node.pipe);
          if (isTrue(v)) this.walk(node.type === 'with' ? v : dot, node.list);
          else if (node.elseList) this.walk(dot, node.elseList);
        } finally {
          this.vars.length = mark;
        }
        return;
      }
      case 'range':
        this.walkRange(dot, node);
        return;
      case 'template':
        this.walkTemplate(dot, node);
        return;
      case 'break':
        throw BREAK;
      case 'continue':
        throw CONTINUE;
    }
  }

  private printValue(node: AnyNode, v: unknown): void {
    this.at(node);
    if (v === undefined || v === null) this.out.push('<no value>');
    else if (typeof v === 'string') this.out.push(v);
    else this.out.push(formatValue(v));
  }

  private walkRange(dot: unknown, r: BranchNode): void {
    this.at(r);
    const outer = this.vars.length;
    try {
      const val = this.evalPipeline(dot, r.pipe);
      const mark = this.vars.length;
      const decl = r.pipe.decl;
      const one = (key: unknown, elem: unknown): void => {
        if (decl.length > 0) {
          if (r.pipe.isAssign) this.setVar(decl[0].idents[0], decl.length > 1 ? key : elem);
          else this.vars[this.vars.length - 1].value = elem;
        }
        if (decl.length > 1) {
          if (r.pipe.isAssign) this.setVar(decl[1].idents[0], elem);
          else this.vars[this.vars.length - 2].value = key;
        }
        try {
          this.walk(elem, r.list);
        } catch (e) {
          if (e !== CONTINUE) throw e;
        } finally {
          this.vars.length = mark;
        }
      };
      let ran = false;
      try {
        if (Array.isArray(val)) {
          val.forEach((elem, i) => {
            ran = true;
            one(i, elem);
          });
        } else if (typeof val === 'number' || typeof val === 'bigint') {
          if (typeof val === 'number' && !Number.isInteger(val)) this.fail(`range can't iterate over ${formatValue(val)}`);
          if (decl.length > 1) this.fail(`can't use ${formatValue(val)} to iterate over more than one variable`);
          for (let i = 0; i < Number(val); i++) {
            ran = true;
            one(i, i);
          }
        } else if (val !== undefined && val !== null && typeof val === 'object' && !(val instanceof Date)) {
          for (const [k, v] of mapEntries(val)) {
            ran = true;
            one(k, v);
          }
        } else if (val !== undefined && val !== null) {
          this.fail(`range can't iterate over ${formatValue(val)}`);
        }
      } catch (e) {
        if (e !== BREAK) throw e;
      }
      if (!ran && r.elseList) this.walk(dot, r.elseList);
    } finally {
      this.vars.length = outer;
    }
  }

  private walkTemplate(dot: unknown, t: TemplateCallNode): void {
    this.at(t);
    const tmpl = this.templates.get(t.name);
    if (!tmpl) this.fail(`template ${goQuote(t.name)} not defined`);
    if (this.depth >= MAX_DEPTH) this.fail(`exceeded maximum template depth (${MAX_DEPTH})`);
    const newDot = this.evalPipeline(dot, t.pipe);
    const vars = this.vars;
    const name = this.tmplName;
    this.vars = [{ name: '$', value: newDot }];
    this.tmplName = t.name;
    this.depth++;
    try {
      this.walk(newDot, tmpl);
    } finally {
      this.depth--;
      this.vars = vars;
      this.tmplName = name;
    }
  }

  private evalPipeline(dot: unknown, pipe: PipeNode | undefined): unknown {
    if (!pipe) return undefined;
    this.at(pipe);
    let value: unknown = MISSING;
    for (const cmd of pipe.cmds) {
      value = this.evalCommand(dot, cmd, value);
      // A nil interface becomes Go's invalid value, as text/template does after each command.
      if (value === null) value = undefined;
    }
    for (const v of pipe.decl) {
      if (pipe.isAssign) this.setVar(v.idents[0], value);
      else this.vars.push({ name: v.idents[0], value });
    }
    return value;
  }

  private notAFunction(args: ArgNode[], final: Final): void {
    if (args.length > 1 || final !== MISSING) this.fail(`can't give argument to non-function ${nodeString(args[0])}`);
  }

  private evalCommand(dot: unknown, cmd: CommandNode, final: Final): unknown {
    const first = cmd.args[0];
    switch (first.type) {
      case 'field':
        this.at(first);
        return this.evalFieldChain(dot, dot, first, first.idents, cmd.args, final);
      case 'chain':
        return this.evalChain(dot, first, cmd.args, final);
      case 'identifier':
        return this.evalFunction(dot, first, cmd, cmd.args, final);
      case 'pipe':
        this.notAFunction(cmd.args, final);
        return this.evalPipeline(dot, first);
      case 'variable':
        return this.evalVariable(dot, first, cmd.args, final);
      default:
        break;
    }
    this.at(first);
    this.notAFunction(cmd.args, final);
    switch (first.type) {
      case 'bool':
        return first.value;
      case 'dot':
        return dot;
      case 'nil':
        this.fail('nil is not a command');
      // falls through (unreachable)
      case 'number':
        return first.value;
      case 'string':
        return first.value;
    }
  }

  private evalChain(dot: unknown, chain: ChainNode, args: ArgNode[], final: Final): unknown {
    this.at(chain);
    if (chain.node.type === 'nil') this.fail(`indirection through explicit nil in ${nodeString(chain)}`);
    const receiver = this.evalArg(dot, chain.node);
    return this.evalFieldChain(dot, receiver, chain, chain.fields, args, final);
  }

  private evalVariable(dot: unknown, v: VariableNode, args: ArgNode[], final: Final): unknown {
    this.at(v);
    const value = this.varValue(v.idents[0]);
    if (v.idents.length === 1) {
      this.notAFunction(args, final);
      return value;
    }
    return this.evalFieldChain(dot, value, v, v.idents.slice(1), args, final);
  }

  private evalFieldChain(dot: unknown, receiver: unknown, node: AnyNode, idents: string[], args: ArgNode[], final: Final): unknown {
    const n = idents.length;
    for (let i = 0; i < n - 1; i++) receiver = this.evalField(dot, idents[i], node, [], MISSING, receiver);
    return this.evalField(dot, idents[n - 1], node, args, final, receiver);
  }

  private evalField(dot: unknown, name: string, node: AnyNode, args: ArgNode[], final: Final, receiver: unknown): unknown {
    if (receiver === undefined) {
      if (this.missingKey === 'error') this.fail(`nil data; no entry for key ${goQuote(name)}`);
      return undefined;
    }
    if (receiver === null) this.fail(`nil pointer evaluating interface {}.${name}`);
    const hasArgs = args.length > 1 || final !== MISSING;
    if (typeof receiver === 'object' && !Array.isArray(receiver)) {
      const obj = receiver as object;
      const found = lookupField(obj, name);
      if (found && typeof found.value === 'function') {
        const method = found.value as (...a: unknown[]) => unknown;
        return this.evalCall(dot, (...a: unknown[]) => method.apply(obj, a), undefined, node, name, args, final);
      }
      if (isPlainMap(obj)) {
        if (hasArgs) this.fail(`${name} is not a method but has arguments`);
        if (found) return found.value;
        if (this.missingKey === 'error') this.fail(`map has no entry for key ${goQuote(name)}`);
        return this.missingKey === 'zero' ? '' : undefined;
      }
      if (found) {
        if (hasArgs) this.fail(`${name} has arguments but cannot be invoked as function`);
        return found.value;
      }
    }
    this.fail(`can't evaluate field ${name} in type ${goTypeName(receiver)}`);
  }

  private evalFunction(dot: unknown, ident: IdentifierNode, cmd: AnyNode, args: ArgNode[], final: Final): unknown {
    this.at(ident);
    const name = ident.name;
    const fd = this.lookupFunc(name);
    if (!fd) this.fail(`${goQuote(name)} is not a defined function`);
    if ((name === 'and' || name === 'or') && fd === builtins[name]) {
      const numIn = args.length - 1 + (final !== MISSING ? 1 : 0);
      if (numIn < 1) this.fail(`wrong number of args for ${name}: want at least 1 got ${numIn}`);
      let v: unknown;
      for (const a of args.slice(1)) {
        v = this.evalArg(dot, a);
        if (isTrue(v) === (name === 'or')) return v;
      }
      if (final !== MISSING) v = final;
      return v;
    }
    return this.evalCall(dot, fd.fn, fd, cmd, name, args, final);
  }

  private evalCall(
    dot: unknown,
    fn: (...a: unknown[]) => unknown,
    fd: FuncDef | undefined,
    node: AnyNode,
    name: string,
    args: ArgNode[],
    final: Final,
  ): unknown {
    const actual = args.slice(1);
    const numIn = actual.length + (final !== MISSING ? 1 : 0);
    if (fd?.arity !== undefined) {
      if (fd.variadic && numIn < fd.arity) this.fail(`wrong number of args for ${name}: want at least ${fd.arity} got ${numIn}`);
      if (!fd.variadic && numIn !== fd.arity) this.fail(`wrong number of args for ${name}: want ${fd.arity} got ${numIn}`);
    }
    const argv = actual.map((a) => this.evalArg(dot, a));
    if (final !== MISSING) argv.push(final);
    try {
      const result = fn(...argv);
      return result;
    } catch (e) {
      if (e instanceof TemplateError) throw e;
      this.at(node);
      if (e instanceof ArgTypeError) this.fail(e.message);
      this.fail(`error calling ${name}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  private evalArg(dot: unknown, n: ArgNode): unknown {
    this.at(n);
    switch (n.type) {
      case 'dot':
        return dot;
      case 'nil':
        return null;
      case 'field':
        return this.evalFieldChain(dot, dot, n, n.idents, [n], MISSING);
      case 'variable':
        return this.evalVariable(dot, n, [n], MISSING);
      case 'pipe':
        return this.evalPipeline(dot, n);
      case 'identifier':
        return this.evalFunction(dot, n, n, [n], MISSING);
      case 'chain':
        return this.evalChain(dot, n, [n], MISSING);
      case 'bool':
        return n.value;
      case 'number':
        return n.value;
      case 'string':
        return n.value;
    }
  }
}

/** A field of an object: own or inherited (getters, methods), never from Object.prototype. */
function lookupField(obj: object, name: string): { value: unknown } | undefined {
  if (obj instanceof Map) return obj.has(name) ? { value: obj.get(name) } : undefined;
  if (name === 'constructor' || name === '__proto__') return undefined;
  for (let p: object | null = obj; p && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
    if (Object.prototype.hasOwnProperty.call(p, name)) return { value: (obj as Record<string, unknown>)[name] };
  }
  return undefined;
}

// =============================================================================================
// API

const builtinAndDocker: Record<string, FuncDef> = { ...builtins, ...dockerDefs };

/**
 * Parses a Go template. Throws TemplateError on syntax errors, with Go's message
 * ("template: :1: unexpected EOF"). The result can be executed any number of times.
 */
export function compileTemplate(src: string, options: CompileOptions = {}): Template {
  const name = options.name ?? '';
  const userFuncs = options.funcs ?? {};
  const known = (n: string): boolean => Object.prototype.hasOwnProperty.call(userFuncs, n) || Object.prototype.hasOwnProperty.call(builtinAndDocker, n);
  const parser = new Parser(src, lex(src), name, known);
  let root: ListNode;
  try {
    root = parser.parse();
  } catch (e) {
    if (e instanceof ParseError) throw new TemplateError(e.message);
    throw e;
  }
  const templates = parser.templates;
  if (!templates.has(name) || isEmptyList(templates.get(name) as ListNode)) templates.set(name, root);
  const main = templates.get(name) as ListNode;
  return {
    source: src,
    execute(data: unknown, opts: ExecuteOptions = {}): string {
      const over = opts.funcs ?? {};
      const lookup = (n: string): FuncDef | undefined => {
        if (Object.prototype.hasOwnProperty.call(over, n)) return { fn: over[n] };
        if (Object.prototype.hasOwnProperty.call(userFuncs, n)) return { fn: userFuncs[n] };
        return Object.prototype.hasOwnProperty.call(builtinAndDocker, n) ? builtinAndDocker[n] : undefined;
      };
      return new Exec(src, name, templates, lookup, opts.missingKey ?? 'default', data).run(main, data);
    },
  };
}

/** compileTemplate(src).execute(data) in one call. */
export function renderTemplate(src: string, data: unknown, options?: ExecuteOptions): string {
  return compileTemplate(src).execute(data, options);
}
