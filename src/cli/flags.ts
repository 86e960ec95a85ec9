/**
 * A docker-style (spf13/pflag) command-line flag parser, pure and synchronous.
 *
 * What it does as pflag does, because scripts written for the docker CLI depend on it:
 *  - `--name value`, `--name=value`, `-n value`, `-nvalue`, `-n=value`;
 *  - combined short booleans `-dit`, where the last letter may take a value (`-itu root`);
 *  - booleans take no separate argument, but accept `--rm=false` / `-d=0`;
 *  - list flags accumulate every occurrence;
 *  - `--` ends the flags; a lone `-` is a positional argument;
 *  - interspersed mode (the default) lets flags and positionals mix; with `interspersed: false`
 *    (docker's run, create, exec) parsing stops at the first positional and everything after it,
 *    flags included, belongs to the container's command;
 *  - the error messages are pflag's, word for word.
 */

export type FlagType = 'bool' | 'string' | 'list' | 'int' | 'duration';
export type FlagValue = boolean | string | number | string[];

export interface FlagSpec {
  /** Long name, without the leading dashes. */
  name: string;
  /** One-letter alias, without the dash. */
  short?: string;
  type: FlagType;
  /** Default value; for list flags an array. Zero values (false, '', 0, []) are not shown in help. */
  default?: FlagValue;
  description: string;
  /** The word help shows after the flag name (`list`, `filter`, `int`...); defaults from the type. */
  valueName?: string;
  hidden?: boolean;
  /** Checks one value (string and list flags); returns the reason it is invalid, if it is. */
  validate?: (value: string) => string | undefined;
}

export interface ParseOptions {
  /** false: stop at the first positional argument (docker's SetInterspersed(false)). */
  interspersed?: boolean;
  /** Recognise --help (and -h, unless a flag owns it). Default true. */
  help?: boolean;
}

/** A flag the user got wrong; the CLI prints it with the command's usage line and exits 125. */
export class FlagError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FlagError';
  }
}

export class ParsedFlags {
  /** Positional arguments, in order. */
  readonly args: string[] = [];
  /** Names of the flags that appeared on the command line. */
  readonly changed = new Set<string>();
  /** --help was given (or -h where -h means help). */
  help = false;
  /** -h was used for help (docker prints a deprecation notice for it). */
  helpShorthand = false;
  private readonly values = new Map<string, FlagValue>();
  private readonly specs = new Map<string, FlagSpec>();

  constructor(specs: readonly FlagSpec[]) {
    for (const s of specs) {
      this.specs.set(s.name, s);
      this.values.set(s.name, zeroOrDefault(s));
    }
  }

  /** Internal: records a value (lists append). */
  set(spec: FlagSpec, value: FlagValue): void {
    if (spec.type === 'list') {
      // The first occurrence replaces the default, later ones append (pflag's slices).
      const prev = this.changed.has(spec.name) ? (this.values.get(spec.name) as string[]) : [];
      this.values.set(spec.name, [...prev, value as string]);
    } else {
      this.values.set(spec.name, value);
    }
    this.changed.add(spec.name);
  }

  has(name: string): boolean {
    return this.changed.has(name);
  }
  private get(name: string): FlagValue {
    if (!this.specs.has(name)) throw new Error(`flags: no flag named --${name}`);
    return this.values.get(name) as FlagValue;
  }
  bool(name: string): boolean {
    return this.get(name) as boolean;
  }
  string(name: string): string {
    return this.get(name) as string;
  }
  int(name: string): number {
    return this.get(name) as number;
  }
  /** Durations are returned in nanoseconds, like Go's time.Duration. */
  duration(name: string): number {
    return this.get(name) as number;
  }
  list(name: string): string[] {
    return this.get(name) as string[];
  }
}

function zeroOrDefault(s: FlagSpec): FlagValue {
  if (s.default !== undefined) return Array.isArray(s.default) ? [...s.default] : s.default;
  switch (s.type) {
    case 'bool':
      return false;
    case 'string':
      return '';
    case 'list':
      return [];
    case 'int':
    case 'duration':
      return 0;
  }
}

const HELP: FlagSpec = { name: 'help', type: 'bool', description: 'Print usage' };

export function parseFlags(argv: readonly string[], specs: readonly FlagSpec[], opts: ParseOptions = {}): ParsedFlags {
  const interspersed = opts.interspersed ?? true;
  const wantHelp = opts.help ?? true;
  const out = new ParsedFlags(specs);
  const byName = new Map<string, FlagSpec>();
  const byShort = new Map<string, FlagSpec>();
  for (const s of specs) {
    byName.set(s.name, s);
    if (s.short) byShort.set(s.short, s);
  }
  const helpSpec = byName.get('help') ?? (wantHelp ? HELP : undefined);
  if (helpSpec && !byName.has('help')) byName.set('help', helpSpec);
  const helpShort = wantHelp && !byShort.has('h');

  const apply = (spec: FlagSpec, raw: string, display: string): void => {
    if (spec.name === 'help') out.help = parseBool(raw, display);
    else out.set(spec, convert(spec, raw, display));
  };

  let i = 0;
  while (i < argv.length) {
    const a = argv[i++];
    if (a.length < 2 || a[0] !== '-') {
      // Positional (this includes a lone "-").
      if (!interspersed) {
        out.args.push(a, ...argv.slice(i));
        return out;
      }
      out.args.push(a);
      continue;
    }
    if (a === '--') {
      out.args.push(...argv.slice(i));
      return out;
    }
    if (a[1] === '-') {
      // --name, --name=value
      const body = a.slice(2);
      if (body.length === 0 || body[0] === '-' || body[0] === '=') throw new FlagError(`bad flag syntax: ${a}`);
      const eq = body.indexOf('=');
      const name = eq >= 0 ? body.slice(0, eq) : body;
      const spec = byName.get(name);
      if (!spec) throw new FlagError(`unknown flag: --${name}`);
      const display = flagDisplay(spec);
      if (eq >= 0) apply(spec, body.slice(eq + 1), display);
      else if (spec.type === 'bool') apply(spec, 'true', display);
      else if (i < argv.length) apply(spec, argv[i++], display);
      else throw new FlagError(`flag needs an argument: --${name}`);
      continue;
    }
    // -abc, -n5, -n=5, -n 5
    let shorts = a.slice(1);
    while (shorts.length > 0) {
      const c = shorts[0];
      let spec = byShort.get(c);
      if (!spec && c === 'h' && helpShort && helpSpec) {
        spec = helpSpec;
        out.helpShorthand = true;
      }
      if (!spec) throw new FlagError(`unknown shorthand flag: '${c}' in -${shorts}`);
      const display = flagDisplay(spec);
      if (shorts.length > 2 && shorts[1] === '=') {
        apply(spec, shorts.slice(2), display);
        shorts = '';
      } else if (spec.type === 'bool') {
        apply(spec, 'true', display);
        shorts = shorts.slice(1);
      } else if (shorts.length > 1) {
        apply(spec, shorts.slice(1), display);
        shorts = '';
      } else if (i < argv.length) {
        apply(spec, argv[i++], display);
        shorts = '';
      } else {
        throw new FlagError(`flag needs an argument: '${c}' in -${c}`);
      }
    }
  }
  return out;
}

/** pflag names a flag in errors as `-n, --last` or `--name`. */
function flagDisplay(spec: FlagSpec): string {
  return spec.short ? `-${spec.short}, --${spec.name}` : `--${spec.name}`;
}

function invalid(raw: string, display: string, why: string): FlagError {
  return new FlagError(`invalid argument ${goQuote(raw)} for ${goQuote(display)} flag: ${why}`);
}

function parseBool(raw: string, display: string): boolean {
  switch (raw) {
    case '1': case 't': case 'T': case 'true': case 'TRUE': case 'True':
      return true;
    case '0': case 'f': case 'F': case 'false': case 'FALSE': case 'False':
      return false;
  }
  throw invalid(raw, display, `strconv.ParseBool: parsing ${goQuote(raw)}: invalid syntax`);
}

/** strconv.ParseInt(s, 0, 64): decimal, 0x hex, 0o / leading-0 octal, 0b binary, `_` separators. */
export function parseGoInt(raw: string): number | undefined {
  const m = /^([+-]?)(0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|0[0-7_]*|[1-9][0-9_]*)$/.exec(raw);
  if (!m) return undefined;
  let body = m[2];
  if (body.includes('_')) {
    if (/__|_$|^_/.test(body.replace(/^0[xXoObB]/, ''))) return undefined;
    body = body.replace(/_/g, '');
  }
  let n: number;
  if (/^0[xX]/.test(body)) n = parseInt(body.slice(2), 16);
  else if (/^0[oO]/.test(body)) n = parseInt(body.slice(2), 8);
  else if (/^0[bB]/.test(body)) n = parseInt(body.slice(2), 2);
  else if (body.length > 1 && body[0] === '0') n = parseInt(body.slice(1), 8);
  else n = parseInt(body, 10);
  if (!Number.isSafeInteger(n)) return undefined;
  return m[1] === '-' ? -n : n;
}

const DURATION_UNITS: Record<string, number> = {
  ns: 1,
  us: 1e3,
  'µs': 1e3,
  'μs': 1e3,
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9,
};

/** Go's time.ParseDuration, in nanoseconds: "300ms", "-1.5h", "2h45m", "0". */
export function parseGoDuration(raw: string): number | undefined {
  let s = raw;
  let sign = 1;
  if (s[0] === '-' || s[0] === '+') {
    if (s[0] === '-') sign = -1;
    s = s.slice(1);
  }
  if (s === '0') return 0;
  if (s === '') return undefined;
  let total = 0;
  const re = /^([0-9]*(?:\.[0-9]*)?)(ns|us|µs|μs|ms|s|m|h)/;
  while (s.length > 0) {
    const m = re.exec(s);
    if (!m || m[1] === '' || m[1] === '.') return undefined;
    total += parseFloat(m[1]) * DURATION_UNITS[m[2]];
    s = s.slice(m[0].length);
  }
  return sign * Math.round(total);
}

function convert(spec: FlagSpec, raw: string, display: string): FlagValue {
  switch (spec.type) {
    case 'bool':
      return parseBool(raw, display);
    case 'string':
    case 'list': {
      const why = spec.validate?.(raw);
      if (why !== undefined) throw invalid(raw, display, why);
      return raw;
    }
    case 'int': {
      const n = parseGoInt(raw);
      if (n === undefined) throw invalid(raw, display, `strconv.ParseInt: parsing ${goQuote(raw)}: invalid syntax`);
      return n;
    }
    case 'duration': {
      const d = parseGoDuration(raw);
      if (d === undefined) throw invalid(raw, display, `time: invalid duration ${goQuote(raw)}`);
      return d;
    }
  }
}

/** Go's %q for the plain strings that appear in flag errors. */
export function goQuote(s: string): string {
  return JSON.stringify(s);
}

// ---- help ---------------------------------------------------------------------------------

function valueName(spec: FlagSpec): string {
  if (spec.valueName !== undefined) return spec.valueName;
  return spec.type === 'bool' ? '' : spec.type;
}

function isZeroDefault(spec: FlagSpec): boolean {
  const d = spec.default;
  return d === undefined || d === false || d === '' || d === 0 || (Array.isArray(d) && d.length === 0);
}

function formatDefault(spec: FlagSpec): string {
  const d = spec.default;
  if (spec.type === 'string') return ` (default ${goQuote(String(d))})`;
  if (spec.type === 'duration') return ` (default ${formatGoDuration(d as number)})`;
  if (Array.isArray(d)) return ` (default [${d.join(',')}])`;
  return ` (default ${String(d)})`;
}

function formatGoDuration(ns: number): string {
  if (ns === 0) return '0s';
  const s = ns / 1e9;
  if (s % 3600 === 0) return `${s / 3600}h0m0s`;
  if (s % 60 === 0) return `${Math.floor(s / 3600) ? `${Math.floor(s / 3600)}h` : ''}${Math.floor((s % 3600) / 60)}m0s`;
  return `${s}s`;
}

/**
 * The "Options:" block of a command's help, as pflag's FlagUsagesWrapped(cols) prints it: the
 * names column as wide as the widest entry, descriptions wrapped to `cols`.
 */
export function flagUsages(specs: readonly FlagSpec[], cols = 79): string {
  const lines: string[] = [];
  let maxlen = 0;
  const sorted = specs.filter((s) => !s.hidden).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const s of sorted) {
    let line = s.short ? `  -${s.short}, --${s.name}` : `      --${s.name}`;
    const v = valueName(s);
    if (v) line += ` ${v}`;
    line += '\x00';
    if (line.length > maxlen) maxlen = line.length;
    line += s.description;
    if (!isZeroDefault(s)) line += formatDefault(s);
    lines.push(line);
  }
  let out = '';
  for (const line of lines) {
    const sidx = line.indexOf('\x00');
    const spacing = ' '.repeat(maxlen - sidx);
    out += `${line.slice(0, sidx)} ${spacing} ${wrap(maxlen + 2, cols, line.slice(sidx + 1))}\n`;
  }
  return out;
}

function wrap(indent: number, width: number, s: string): string {
  let i = indent;
  let w = width - i;
  let r = '';
  if (w < 24) {
    i = 16;
    w = width - i;
    r += '\n' + ' '.repeat(i);
  }
  if (w < 24) return s.replace(/\n/g, r);
  const slop = 5;
  w -= slop;
  const [first, afterFirst] = wrapN(w, slop, s);
  let rest = afterFirst;
  r += first.replace(/\n/g, '\n' + ' '.repeat(i));
  while (rest !== '') {
    let t: string;
    [t, rest] = wrapN(w, slop, rest);
    r += '\n' + ' '.repeat(i) + t.replace(/\n/g, '\n' + ' '.repeat(i));
  }
  return r;
}

function wrapN(i: number, slop: number, s: string): [string, string] {
  if (i + slop > s.length) return [s, ''];
  const head = s.slice(0, i);
  const w = Math.max(head.lastIndexOf(' '), head.lastIndexOf('\t'), head.lastIndexOf('\n'));
  if (w <= 0) return [s, ''];
  const nl = head.lastIndexOf('\n');
  if (nl > 0 && nl < w) return [s.slice(0, nl), s.slice(nl + 1)];
  return [s.slice(0, w), s.slice(w + 1)];
}
