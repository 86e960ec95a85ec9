/**
 * Typed instructions from parser nodes, with Docker's validation (argument counts, flags and
 * their values, HEALTHCHECK durations, ONBUILD triggers, stage names), and the file split into
 * stages at FROM.
 *
 * Lifecycle: parseDockerfile() parses and validates the whole file up front, so a build fails
 * before any step runs. The values in those instructions are as written: no variable
 * substitution, and ENV/LABEL/ARG values still carry their quotes. The executor, at each step,
 * expands the node in the environment of that point and types it again:
 *
 *   parseInstruction(expandInstruction(instr.node, env, { escapeChar }), { expanded: true })
 *
 * which also runs the checks that depend on substituted values (RUN --mount fields).
 */
import { chompHeredoc, Directive, Heredoc, Node, parse, parseHeredocWord, ParseWarning, withSuggestion } from './parser';
import { DockerfileError, SyntaxFault } from './errors';
import { splitCSV } from './expand';
import { goQuote } from './quote';
import { lex } from './lexer';

interface Base {
  /** First and last line (1-based) of the instruction in the Dockerfile. */
  line: number;
  endLine: number;
  /** The logical line as written (continuations joined). */
  original: string;
  node: Node;
}

export interface KeyValue {
  key: string;
  value: string;
}

export interface FromInstruction extends Base {
  kind: 'from';
  /** Image reference, stage name or `scratch`, before ARG substitution. */
  image: string;
  /** `AS name`, lowercased. */
  name?: string;
  platform?: string;
}

/** A here-document body handed to a command, leading tabs already removed for `<<-`. */
export interface InlineFile {
  name: string;
  data: string;
  chomp: boolean;
  expand: boolean;
}

export type MountType = 'bind' | 'cache' | 'tmpfs' | 'secret' | 'ssh';

export interface Mount {
  type: MountType;
  from?: string;
  source?: string;
  target?: string;
  readOnly: boolean;
  /** tmpfs size in bytes. */
  sizeLimit?: number;
  cacheId?: string;
  sharing?: 'shared' | 'private' | 'locked';
  required: boolean;
  env?: string;
  mode?: number;
  uid?: number;
  gid?: number;
}

interface CommandLine {
  /** Exec form: the array; shell form: one string (to be run with the SHELL). */
  command: string[];
  /** Shell form: prepend the stage's SHELL (default `/bin/sh -c`). */
  shell: boolean;
}

export interface RunInstruction extends Base, CommandLine {
  kind: 'run';
  heredocs: InlineFile[];
  mounts: Mount[];
  network?: 'default' | 'none' | 'host';
  security?: 'sandbox' | 'insecure';
  devices: string[];
}

export interface CmdInstruction extends Base, CommandLine {
  kind: 'cmd';
}

export interface EntrypointInstruction extends Base, CommandLine {
  kind: 'entrypoint';
}

export interface EnvInstruction extends Base {
  kind: 'env';
  pairs: KeyValue[];
}

export interface LabelInstruction extends Base {
  kind: 'label';
  pairs: KeyValue[];
}

export interface MaintainerInstruction extends Base {
  kind: 'maintainer';
  maintainer: string;
}

export interface ExposeInstruction extends Base {
  kind: 'expose';
  /** As written, sorted (Docker sorts them); `80`, `53/udp`, `8000-8010`. */
  ports: string[];
}

/** A COPY/ADD source given inline as a here-document (`COPY <<EOF /dest`). */
export interface HeredocSource {
  /** The file name it gets: the terminator word. */
  path: string;
  data: string;
  /** Unquoted terminator: ${VAR} in the body is substituted (expandInstruction does it). */
  expand: boolean;
}

interface CopyBase extends Base {
  /** Paths in the context (or stage/image for --from), URLs and git addresses for ADD. */
  sources: string[];
  heredocSources: HeredocSource[];
  dest: string;
  chown?: string;
  chmod?: string;
  link: boolean;
  excludes: string[];
}

export interface CopyInstruction extends CopyBase {
  kind: 'copy';
  from?: string;
  parents: boolean;
}

export interface AddInstruction extends CopyBase {
  kind: 'add';
  keepGitDir?: boolean;
  checksum?: string;
  unpack?: boolean;
}

export interface VolumeInstruction extends Base {
  kind: 'volume';
  volumes: string[];
}

export interface UserInstruction extends Base {
  kind: 'user';
  user: string;
}

export interface WorkdirInstruction extends Base {
  kind: 'workdir';
  path: string;
}

export interface ArgDefinition {
  key: string;
  /** The default, as written (quotes kept until expanded); absent for `ARG name`. */
  value?: string;
}

export interface ArgInstruction extends Base {
  kind: 'arg';
  args: ArgDefinition[];
}

export interface OnbuildInstruction extends Base {
  kind: 'onbuild';
  /** The trigger as it is stored in the image config (`RUN echo hi`), here-documents appended. */
  expression: string;
}

export interface StopsignalInstruction extends Base {
  kind: 'stopsignal';
  signal: string;
}

export interface HealthcheckInstruction extends Base {
  kind: 'healthcheck';
  /** `NONE`, or Docker's test: ["CMD", ...args] (exec form) or ["CMD-SHELL", "command"]. */
  test: string[] | 'NONE';
  /** Durations in nanoseconds, as the image config has them; present when the flag was given. */
  interval?: number;
  timeout?: number;
  startPeriod?: number;
  startInterval?: number;
  retries?: number;
}

export interface ShellInstruction extends Base {
  kind: 'shell';
  shell: string[];
}

export type Instruction =
  | FromInstruction
  | RunInstruction
  | CmdInstruction
  | EntrypointInstruction
  | EnvInstruction
  | LabelInstruction
  | MaintainerInstruction
  | ExposeInstruction
  | CopyInstruction
  | AddInstruction
  | VolumeInstruction
  | UserInstruction
  | WorkdirInstruction
  | ArgInstruction
  | OnbuildInstruction
  | StopsignalInstruction
  | HealthcheckInstruction
  | ShellInstruction;

export interface Stage {
  /** Position in the file, from 0: what `COPY --from=0` names. */
  index: number;
  /** `AS name`, lowercased. */
  name?: string;
  /** The FROM argument before ARG substitution. */
  image: string;
  platform?: string;
  from: FromInstruction;
  /** The instructions after FROM. */
  instructions: Instruction[];
}

export interface Dockerfile {
  stages: Stage[];
  /** ARGs before the first FROM: usable in FROM lines, and in stages that declare them again. */
  globalArgs: ArgInstruction[];
  directives: Directive[];
  /** The escape character in effect (`# escape=`), for expandInstruction. */
  escape: '\\' | '`';
  warnings: ParseWarning[];
  nodes: Node[];
}

// ---------------------------------------------------------------------------------------------
// Flags

type FlagKind = 'bool' | 'string' | 'strings';

/** Docker's BFlags: declared flags, parsed once; errors with Docker's wording. */
class Flags {
  private readonly kinds = new Map<string, FlagKind>();
  private readonly values = new Map<string, string[]>();

  constructor(private readonly args: readonly string[]) {}

  declare(name: string, kind: FlagKind): this {
    this.kinds.set(name, kind);
    return this;
  }

  parse(): this {
    for (const a of this.args) {
      if (a === '--') return this;
      if (!a.startsWith('--')) throw new SyntaxFault(`arg should start with -- : ${a}`);
      const eq = a.indexOf('=');
      const flagName = eq < 0 ? a : a.slice(0, eq);
      const name = flagName.slice(2);
      const value = eq < 0 ? '' : a.slice(eq + 1);
      const kind = this.kinds.get(name);
      if (!kind) throw new SyntaxFault(withSuggestion(`unknown flag: ${flagName}`, name, [...this.kinds.keys()], true));
      if (this.values.has(name) && kind !== 'strings') throw new SyntaxFault(`duplicate flag specified: ${flagName}`);
      if (kind === 'bool') {
        if (eq >= 0 && value === '') throw new SyntaxFault(`missing a value on flag: ${flagName}`);
        const v = value.toLowerCase();
        if (v !== '' && v !== 'true' && v !== 'false') throw new SyntaxFault(`expecting boolean value for flag ${flagName}, not: ${value}`);
        this.values.set(name, [v === 'false' ? 'false' : 'true']);
      } else {
        if (eq < 0) throw new SyntaxFault(`missing a value on flag: ${flagName}`);
        this.values.set(name, [...(this.values.get(name) ?? []), value]);
      }
    }
    return this;
  }

  used(name: string): boolean {
    return this.values.has(name);
  }

  string(name: string): string | undefined {
    return this.values.get(name)?.[0];
  }

  strings(name: string): string[] {
    return this.values.get(name) ?? [];
  }

  bool(name: string): boolean {
    return this.values.get(name)?.[0] === 'true';
  }

  optionalBool(name: string): boolean | undefined {
    return this.used(name) ? this.bool(name) : undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// Values

const UNITS: Record<string, number> = {
  ns: 1,
  us: 1e3,
  'µs': 1e3, // U+00B5
  'μs': 1e3, // U+03BC
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9,
};

/** Go's time.ParseDuration, in nanoseconds: `30s`, `1m30s`, `1.5h`, `300ms`, `0`. */
export function parseDuration(s: string): number {
  const invalid = (): SyntaxFault => new SyntaxFault(`time: invalid duration ${goQuote(s)}`);
  let rest = s;
  let neg = false;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    neg = rest[0] === '-';
    rest = rest.slice(1);
  }
  if (rest === '0') return 0;
  if (rest === '') throw invalid();
  let total = 0;
  while (rest !== '') {
    const m = /^(\d*)(?:\.(\d*))?/.exec(rest)!;
    if (m[0] === '' || m[0] === '.' || (m[1] === '' && (m[2] ?? '') === '')) throw invalid();
    rest = rest.slice(m[0].length);
    const u = /^[^\d.]*/.exec(rest)![0];
    if (u === '') throw new SyntaxFault(`time: missing unit in duration ${goQuote(s)}`);
    const unit = UNITS[u];
    if (unit === undefined) throw new SyntaxFault(`time: unknown unit ${goQuote(u)} in duration ${goQuote(s)}`);
    rest = rest.slice(u.length);
    total += Number(m[1] || '0') * unit + (m[2] ? Math.floor(Number('0.' + m[2]) * unit) : 0);
  }
  if (total > 2 ** 63 - 1) throw invalid();
  return neg ? -total : total;
}

function optInterval(flags: Flags, name: string): number | undefined {
  const v = flags.string(name);
  if (v === undefined || v === '') return v === '' ? 0 : undefined;
  const d = parseDuration(v);
  if (d === 0) return 0;
  if (d < 1e6) throw new SyntaxFault(`Interval "${name}" cannot be less than 1ms`);
  return d;
}

/** `64m`, `1g`, `512k`, plain bytes: go-units RAMInBytes. */
export function parseRAMInBytes(s: string): number {
  const m = /^(\d+(?:\.\d+)?) ?([kKmMgGtTpP])?[iI]?[bB]?$/.exec(s);
  if (!m) throw new SyntaxFault(`invalid size: '${s}'`);
  const mult: Record<string, number> = { k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };
  return Math.floor(Number(m[1]) * (m[2] ? mult[m[2].toLowerCase()] : 1));
}

const MOUNT_TYPES: MountType[] = ['bind', 'cache', 'tmpfs', 'secret', 'ssh'];
const SHARING = ['shared', 'private', 'locked'] as const;
const MOUNT_KEYS = ['type', 'from', 'source', 'target', 'readonly', 'id', 'sharing', 'required', 'size', 'mode', 'uid', 'gid', 'src', 'dst', 'destination', 'ro', 'rw', 'readwrite', 'env'];

function parseBool(key: string, v: string): boolean {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(v)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(v)) return false;
  throw new SyntaxFault(`invalid value for ${key}: ${v}`);
}

function parseUint(v: string, radix: number, what: string): number {
  const re = radix === 8 ? /^[0-7]+$/ : /^\d+$/;
  const n = re.test(v) ? parseInt(v, radix) : NaN;
  if (!Number.isFinite(n) || n > 0xffffffff) throw new SyntaxFault(`invalid value ${v} for ${what}`);
  return n;
}

/**
 * One `RUN --mount=` value (CSV of key=value fields), validated as BuildKit does once variables
 * are substituted. With `lenient`, fields whose value still holds a `$` are taken as written
 * and not validated (the static parse, before substitution).
 */
export function parseMount(spec: string, lenient = false): Mount {
  const fields = splitCSV(spec);
  const m: Mount = { type: 'bind', readOnly: false, required: false };
  let roAuto = true;
  for (const field of fields) {
    const eq = field.indexOf('=');
    const key = (eq < 0 ? field : field.slice(0, eq)).toLowerCase();
    const value = eq < 0 ? '' : field.slice(eq + 1);
    if (eq < 0) {
      switch (key) {
        case 'readonly':
        case 'ro':
          m.readOnly = true;
          roAuto = false;
          continue;
        case 'readwrite':
        case 'rw':
          m.readOnly = false;
          roAuto = false;
          continue;
        case 'required':
          if (m.type === 'secret' || m.type === 'ssh') {
            m.required = true;
            continue;
          }
          throw new SyntaxFault(`unexpected key '${key}' for mount type '${m.type}'`);
        default:
          throw new SyntaxFault(`invalid field '${field}' must be a key=value pair`);
      }
    }
    if (key === 'from' && lenient) {
      const i = value.indexOf('$');
      if (i !== -1 && i !== value.length - 1) throw new SyntaxFault(`'${key}' doesn't support variable expansion, define alias stage instead`);
    }
    if (lenient && value.includes('$')) {
      if (key === 'source' || key === 'src') m.source = value;
      else if (key === 'target' || key === 'dst' || key === 'destination') m.target = value;
      else if (key === 'id') m.cacheId = value;
      else if (key === 'env') m.env = value;
      continue;
    }
    switch (key) {
      case 'type': {
        const t = value.toLowerCase() as MountType;
        if (!MOUNT_TYPES.includes(t)) throw new SyntaxFault(withSuggestion(`unsupported mount type ${goQuote(value)}`, value, MOUNT_TYPES, true));
        m.type = t;
        break;
      }
      case 'from':
        m.from = value;
        break;
      case 'source':
      case 'src':
        m.source = value;
        break;
      case 'target':
      case 'dst':
      case 'destination':
        m.target = value;
        break;
      case 'readonly':
      case 'ro':
        m.readOnly = parseBool(key, value);
        roAuto = false;
        break;
      case 'readwrite':
      case 'rw':
        m.readOnly = !parseBool(key, value);
        roAuto = false;
        break;
      case 'required':
        if (m.type !== 'secret' && m.type !== 'ssh') throw new SyntaxFault(`unexpected key '${key}' for mount type '${m.type}'`);
        m.required = parseBool(key, value);
        break;
      case 'size':
        if (m.type !== 'tmpfs') throw new SyntaxFault(`unexpected key '${key}' for mount type '${m.type}'`);
        try {
          m.sizeLimit = parseRAMInBytes(value);
        } catch {
          throw new SyntaxFault(`invalid value for ${key}: ${value}`);
        }
        break;
      case 'id':
        m.cacheId = value;
        break;
      case 'sharing': {
        const s = value.toLowerCase() as (typeof SHARING)[number];
        if (!SHARING.includes(s)) throw new SyntaxFault(withSuggestion(`unsupported sharing value ${goQuote(value)}`, value, SHARING, true));
        m.sharing = s;
        break;
      }
      case 'mode':
        m.mode = parseUint(value, 8, 'mode');
        break;
      case 'uid':
        m.uid = parseUint(value, 10, 'uid');
        break;
      case 'gid':
        m.gid = parseUint(value, 10, 'gid');
        break;
      case 'env':
        m.env = value;
        break;
      default:
        throw new SyntaxFault(withSuggestion(`unexpected key '${key}' in '${field}'`, key, MOUNT_KEYS, true));
    }
  }
  const fileInfo = m.type === 'secret' || m.type === 'ssh' || m.type === 'cache';
  if (!fileInfo) {
    for (const k of ['mode', 'uid', 'gid'] as const) {
      if (m[k] !== undefined) throw new SyntaxFault(`${k} not allowed for "${m.type}" type mounts`);
    }
  }
  if (roAuto) m.readOnly = !(m.type === 'cache' || m.type === 'tmpfs');
  if (m.type === 'secret') {
    if (m.from) throw new SyntaxFault('secret mount should not have a from');
    if (m.sharing) throw new SyntaxFault('secret mount should not define sharing');
    if (!m.source && !m.target && !m.cacheId) throw new SyntaxFault('invalid secret mount. one of source, target required');
    if (m.source && m.cacheId) throw new SyntaxFault("both source and id can't be set");
  }
  if (m.sharing && m.type !== 'cache') throw new SyntaxFault(`invalid cache sharing set for ${m.type} mount`);
  return m;
}

// ---------------------------------------------------------------------------------------------
// Instructions

const atLeastOne = (cmd: string): SyntaxFault => new SyntaxFault(`${cmd} requires at least one argument`);
const exactlyOne = (cmd: string): SyntaxFault => new SyntaxFault(`${cmd} requires exactly one argument`);

function commandLine(node: Node, emptyAsNone: boolean): CommandLine {
  let command: string[];
  if (node.args.length === 0) command = [];
  else command = node.json ? [...node.args] : [node.args.join(' ')];
  if (emptyAsNone && command.length === 0) command = [];
  return { command, shell: !node.json };
}

function keyValues(args: string[], cmd: string): KeyValue[] {
  if (args.length === 0) throw atLeastOne(cmd);
  if (args.length % 3 !== 0) throw new SyntaxFault(`Bad input to ${cmd}, too many arguments`);
  const out: KeyValue[] = [];
  for (let i = 0; i < args.length; i += 3) {
    if (args[i] === '') throw new SyntaxFault(`${cmd} names can not be blank`);
    out.push({ key: args[i], value: args[i + 1] });
  }
  return out;
}

function sourcesAndDest(node: Node, cmd: string): Pick<CopyBase, 'sources' | 'heredocSources' | 'dest'> {
  if (node.args.length < 2) throw new SyntaxFault(`${cmd} requires at least two arguments, but only one was provided. Destination could not be determined`);
  const dest = node.args[node.args.length - 1];
  const heredocWord = (w: string): ReturnType<typeof parseHeredocWord> => {
    try {
      return parseHeredocWord(w);
    } catch {
      return null;
    }
  };
  if (heredocWord(dest)) throw new SyntaxFault(`${cmd} cannot accept a heredoc as a destination`);
  const byName = new Map<string, Heredoc>((node.heredocs ?? []).map((h) => [h.name, h]));
  const sources: string[] = [];
  const heredocSources: HeredocSource[] = [];
  for (const src of node.args.slice(0, -1)) {
    const h = heredocWord(src);
    if (h) {
      const content = byName.get(h.name)?.content ?? '';
      heredocSources.push({ path: h.name, data: h.chomp ? chompHeredoc(content) : content, expand: h.expand });
    } else {
      sources.push(src);
    }
  }
  return { sources, heredocSources, dest };
}

const STAGE_NAME = /^[a-z][a-z0-9-_.]*$/;

export interface ParseInstructionOptions {
  /** The node has been through expandInstruction: run the checks that need final values. */
  expanded?: boolean;
}

function build(node: Node, opts: ParseInstructionOptions): Instruction {
  const base: Base = { line: node.startLine, endLine: node.endLine, original: node.original, node };
  const flags = new Flags(node.flags);
  const args = node.args;
  switch (node.cmd) {
    case 'from': {
      flags.declare('platform', 'string');
      let name: string | undefined;
      if (args.length === 3 && args[1].toLowerCase() === 'as') {
        name = args[2].toLowerCase();
        if (!STAGE_NAME.test(name)) throw new SyntaxFault(`invalid name for build stage: ${goQuote(args[2])}, name can't start with a number or contain symbols`);
      } else if (args.length !== 1) {
        throw new SyntaxFault('FROM requires either one or three arguments');
      }
      flags.parse();
      const platform = flags.string('platform');
      return { ...base, kind: 'from', image: args[0], ...(name !== undefined && { name }), ...(platform !== undefined && { platform }) };
    }
    case 'run': {
      flags.declare('mount', 'strings').declare('network', 'string').declare('security', 'string').declare('device', 'strings');
      flags.parse();
      const network = flags.string('network');
      if (network !== undefined && !['default', 'none', 'host'].includes(network)) throw new SyntaxFault(`invalid network mode ${goQuote(network)}`);
      const security = flags.string('security');
      if (security !== undefined && !['sandbox', 'insecure'].includes(security)) throw new SyntaxFault(`security ${goQuote(security)} is not valid`);
      const mounts = flags.strings('mount').map((s) => parseMount(s, !opts.expanded));
      const heredocs = (node.heredocs ?? []).map((h) => ({ name: h.name, data: h.chomp ? chompHeredoc(h.content) : h.content, chomp: h.chomp, expand: h.expand }));
      return {
        ...base,
        kind: 'run',
        ...commandLine(node, false),
        heredocs,
        mounts,
        ...(network !== undefined && { network: network as RunInstruction['network'] }),
        ...(security !== undefined && { security: security as RunInstruction['security'] }),
        devices: flags.strings('device'),
      };
    }
    case 'cmd':
      flags.parse();
      return { ...base, kind: 'cmd', ...commandLine(node, false) };
    case 'entrypoint':
      flags.parse();
      return { ...base, kind: 'entrypoint', ...commandLine(node, true) };
    case 'env':
      flags.parse();
      return { ...base, kind: 'env', pairs: keyValues(args, 'ENV') };
    case 'label':
      flags.parse();
      return { ...base, kind: 'label', pairs: keyValues(args, 'LABEL') };
    case 'maintainer':
      if (args.length !== 1) throw exactlyOne('MAINTAINER');
      flags.parse();
      return { ...base, kind: 'maintainer', maintainer: args[0] };
    case 'expose':
      if (args.length === 0) throw atLeastOne('EXPOSE');
      flags.parse();
      return { ...base, kind: 'expose', ports: [...args].sort() };
    case 'add': {
      if (args.length < 2) sourcesAndDest(node, 'ADD');
      flags.declare('chown', 'string').declare('chmod', 'string').declare('link', 'bool').declare('keep-git-dir', 'bool');
      flags.declare('checksum', 'string').declare('unpack', 'bool').declare('exclude', 'strings');
      flags.parse();
      const chown = flags.string('chown');
      const chmod = flags.string('chmod');
      const checksum = flags.string('checksum');
      const keepGitDir = flags.optionalBool('keep-git-dir');
      const unpack = flags.optionalBool('unpack');
      return {
        ...base,
        kind: 'add',
        ...sourcesAndDest(node, 'ADD'),
        ...(chown && { chown }),
        ...(chmod && { chmod }),
        link: flags.bool('link'),
        excludes: flags.strings('exclude'),
        ...(keepGitDir !== undefined && { keepGitDir }),
        ...(checksum && { checksum }),
        ...(unpack !== undefined && { unpack }),
      };
    }
    case 'copy': {
      if (args.length < 2) sourcesAndDest(node, 'COPY');
      flags.declare('chown', 'string').declare('from', 'string').declare('chmod', 'string').declare('link', 'bool');
      flags.declare('exclude', 'strings').declare('parents', 'bool');
      flags.parse();
      const chown = flags.string('chown');
      const chmod = flags.string('chmod');
      const from = flags.string('from');
      if (from && lex(from, new Map()).result !== from) {
        throw new SyntaxFault('variable expansion is not supported for --from, define a new stage with FROM using ARG from global scope as a workaround');
      }
      return {
        ...base,
        kind: 'copy',
        ...sourcesAndDest(node, 'COPY'),
        ...(from && { from }),
        ...(chown && { chown }),
        ...(chmod && { chmod }),
        link: flags.bool('link'),
        parents: flags.bool('parents'),
        excludes: flags.strings('exclude'),
      };
    }
    case 'volume': {
      if (args.length === 0) throw atLeastOne('VOLUME');
      flags.parse();
      const volumes = args.map((v) => v.trim());
      if (volumes.some((v) => v === '')) throw new SyntaxFault('VOLUME specified can not be an empty string');
      return { ...base, kind: 'volume', volumes };
    }
    case 'user':
      if (args.length !== 1) throw exactlyOne('USER');
      flags.parse();
      return { ...base, kind: 'user', user: args[0] };
    case 'workdir':
      if (args.length !== 1) throw exactlyOne('WORKDIR');
      flags.parse();
      return { ...base, kind: 'workdir', path: args[0] };
    case 'arg': {
      if (args.length === 0) throw atLeastOne('ARG');
      const defs: ArgDefinition[] = args.map((a) => {
        const eq = a.indexOf('=');
        if (eq < 0) return { key: a };
        if (eq === 0) throw new SyntaxFault('ARG names can not be blank');
        return { key: a.slice(0, eq), value: a.slice(eq + 1) };
      });
      return { ...base, kind: 'arg', args: defs };
    }
    case 'onbuild': {
      if (args.length === 0) throw atLeastOne('ONBUILD');
      flags.parse();
      const trigger = args[0].trim().toUpperCase();
      if (trigger === 'ONBUILD') throw new SyntaxFault('Chaining ONBUILD via `ONBUILD ONBUILD` isn\'t allowed');
      if (trigger === 'MAINTAINER' || trigger === 'FROM') throw new SyntaxFault(`${trigger} isn't allowed as an ONBUILD trigger`);
      let expression = node.original.replace(/^\s*ONBUILD\s*/i, '');
      for (const h of node.heredocs ?? []) expression += '\n' + h.content + h.name;
      return { ...base, kind: 'onbuild', expression };
    }
    case 'stopsignal':
      // Docker parses no flags here: any given are ignored
      if (args.length !== 1) throw exactlyOne('STOPSIGNAL');
      return { ...base, kind: 'stopsignal', signal: args[0] };
    case 'healthcheck': {
      if (args.length === 0) throw atLeastOne('HEALTHCHECK');
      const type = args[0].toUpperCase();
      const rest = args.slice(1);
      if (type === 'NONE') {
        if (rest.length !== 0) throw new SyntaxFault('HEALTHCHECK NONE takes no arguments');
        return { ...base, kind: 'healthcheck', test: 'NONE' };
      }
      flags.declare('interval', 'string').declare('timeout', 'string').declare('start-period', 'string');
      flags.declare('start-interval', 'string').declare('retries', 'string');
      flags.parse();
      if (type !== 'CMD') throw new SyntaxFault(`Unknown type ${goQuote(type)} in HEALTHCHECK (try CMD)`);
      const cmd = rest.length === 0 ? [] : node.json ? rest : [rest.join(' ')];
      if (cmd.length === 0) throw new SyntaxFault('Missing command after HEALTHCHECK CMD');
      const h: HealthcheckInstruction = { ...base, kind: 'healthcheck', test: [node.json ? 'CMD' : 'CMD-SHELL', ...cmd] };
      const interval = optInterval(flags, 'interval');
      const timeout = optInterval(flags, 'timeout');
      const startPeriod = optInterval(flags, 'start-period');
      const startInterval = optInterval(flags, 'start-interval');
      if (interval !== undefined) h.interval = interval;
      if (timeout !== undefined) h.timeout = timeout;
      if (startPeriod !== undefined) h.startPeriod = startPeriod;
      if (startInterval !== undefined) h.startInterval = startInterval;
      const retries = flags.string('retries');
      if (retries !== undefined && retries !== '') {
        const n = /^[+-]?\d+$/.test(retries) ? Number(retries) : NaN;
        if (!Number.isSafeInteger(n) || n > 2 ** 31 - 1 || n < -(2 ** 31)) {
          throw new SyntaxFault(`strconv.ParseInt: parsing ${goQuote(retries)}: ${Number.isNaN(n) ? 'invalid syntax' : 'value out of range'}`);
        }
        if (n < 0) throw new SyntaxFault(`--retries cannot be negative (${n})`);
        h.retries = n;
      }
      return h;
    }
    case 'shell': {
      flags.parse();
      const { command } = commandLine(node, false);
      if (command.length === 0) throw atLeastOne('SHELL');
      if (!node.json) throw new SyntaxFault('SHELL requires the arguments to be in JSON form');
      return { ...base, kind: 'shell', shell: command };
    }
    default:
      throw new SyntaxFault(withSuggestion(`unknown instruction: ${node.cmd.toUpperCase()}`, node.cmd, INSTRUCTION_NAMES, false));
  }
}

const INSTRUCTION_NAMES = ['ADD', 'ARG', 'CMD', 'COPY', 'ENTRYPOINT', 'ENV', 'EXPOSE', 'FROM', 'HEALTHCHECK', 'LABEL', 'MAINTAINER', 'ONBUILD', 'RUN', 'SHELL', 'STOPSIGNAL', 'USER', 'VOLUME', 'WORKDIR'];

/**
 * The typed instruction for a node. Throws DockerfileError naming the file and line (`fileName`,
 * default "Dockerfile") with Docker's message.
 */
export function parseInstruction(node: Node, opts: ParseInstructionOptions & { fileName?: string } = {}): Instruction {
  try {
    return build(node, opts);
  } catch (err) {
    if (err instanceof SyntaxFault) throw new DockerfileError(opts.fileName ?? 'Dockerfile', node.startLine, err.message, { endLine: node.endLine });
    throw err;
  }
}

/**
 * Parses and checks a whole Dockerfile: nodes, typed instructions, stages split at FROM, the
 * global ARGs before the first FROM. Nothing is substituted yet (see the module comment).
 */
export function parseDockerfile(text: string | Buffer, fileName = 'Dockerfile'): Dockerfile {
  const parsed = parse(text, fileName);
  const stages: Stage[] = [];
  const globalArgs: ArgInstruction[] = [];
  for (const node of parsed.nodes) {
    const instr = parseInstruction(node, { fileName });
    if (instr.kind === 'from') {
      if (instr.name !== undefined && stages.some((s) => s.name === instr.name)) {
        throw new DockerfileError(fileName, node.startLine, `${instr.name} stage name already used`, { endLine: node.endLine });
      }
      stages.push({
        index: stages.length,
        ...(instr.name !== undefined && { name: instr.name }),
        image: instr.image,
        ...(instr.platform !== undefined && { platform: instr.platform }),
        from: instr,
        instructions: [],
      });
    } else if (stages.length === 0) {
      if (instr.kind !== 'arg') throw new DockerfileError(fileName, node.startLine, 'no build stage in current context', { endLine: node.endLine });
      globalArgs.push(instr);
    } else {
      stages[stages.length - 1].instructions.push(instr);
    }
  }
  return { stages, globalArgs, directives: parsed.directives, escape: parsed.escapeChar, warnings: parsed.warnings, nodes: parsed.nodes };
}

/** The stage a `--from`/FROM reference names: a stage name (any case) or index, among those before `before`. */
export function findStage(stages: readonly Stage[], ref: string, before = stages.length): Stage | undefined {
  const lower = ref.toLowerCase();
  const named = stages.slice(0, before).find((s) => s.name === lower);
  if (named) return named;
  if (/^\d+$/.test(ref)) {
    const i = Number(ref);
    if (i < before) return stages[i];
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Predefined ARGs

/** Usable with --build-arg without an ARG line; left out of history and cache keys unless declared. */
export const PROXY_ARGS = ['HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy', 'FTP_PROXY', 'ftp_proxy', 'NO_PROXY', 'no_proxy', 'ALL_PROXY', 'all_proxy'] as const;

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

/** The platform this process runs on, in OCI terms. */
export function hostPlatform(): Platform {
  const arch: Record<string, Platform> = {
    x64: { os: 'linux', architecture: 'amd64' },
    arm64: { os: 'linux', architecture: 'arm64' },
    arm: { os: 'linux', architecture: 'arm', variant: 'v7' },
    ia32: { os: 'linux', architecture: '386' },
    ppc64: { os: 'linux', architecture: 'ppc64le' },
    s390x: { os: 'linux', architecture: 's390x' },
    riscv64: { os: 'linux', architecture: 'riscv64' },
    loong64: { os: 'linux', architecture: 'loong64' },
  };
  return arch[process.arch] ?? { os: 'linux', architecture: process.arch };
}

export const formatPlatform = (p: Platform): string => [p.os, p.architecture, p.variant].filter(Boolean).join('/');

/** `linux/amd64`, `linux/arm/v7`, `linux/arm64/v8` (→ arm64), with the common aliases normalized. */
export function parsePlatform(s: string): Platform {
  const parts = s.toLowerCase().split('/');
  if (parts.length > 3 || parts.some((p) => p === '')) throw new SyntaxFault(`"${s}": unknown operating system or architecture: invalid argument`);
  let [os, architecture, variant] = parts.length === 1 ? ['linux', parts[0], undefined] : parts;
  const aliases: Record<string, string> = { x86_64: 'amd64', 'x86-64': 'amd64', aarch64: 'arm64', i386: '386', armhf: 'arm', armel: 'arm' };
  if (s.toLowerCase().endsWith('armel') && !variant) variant = 'v6';
  architecture = aliases[architecture!] ?? architecture!;
  if (architecture === 'arm64' && variant === 'v8') variant = undefined;
  if (architecture === 'arm' && !variant) variant = 'v7';
  os = os!;
  return variant ? { os, architecture, variant } : { os, architecture };
}

/**
 * BuildKit's automatic platform ARGs, defined in the global scope (a stage sees one only after
 * `ARG NAME`): BUILDPLATFORM, BUILDOS, BUILDARCH, BUILDVARIANT, TARGETPLATFORM, TARGETOS,
 * TARGETARCH, TARGETVARIANT, and TARGETSTAGE (the --target stage, or "default").
 */
export function platformArgs(target: Platform = hostPlatform(), build: Platform = hostPlatform(), targetStage = ''): Map<string, string> {
  return new Map([
    ['BUILDPLATFORM', formatPlatform(build)],
    ['BUILDOS', build.os],
    ['BUILDARCH', build.architecture],
    ['BUILDVARIANT', build.variant ?? ''],
    ['TARGETPLATFORM', formatPlatform(target)],
    ['TARGETOS', target.os],
    ['TARGETARCH', target.architecture],
    ['TARGETVARIANT', target.variant ?? ''],
    ['TARGETSTAGE', targetStage || 'default'],
  ]);
}

/**
 * A RUN's command line once here-documents are applied, as BuildKit does it: `RUN <<EOF` runs
 * the body with the shell (or, when the body starts with `#!`, as a script file: `script`);
 * otherwise the bodies are appended to the command for the shell to read as here-documents.
 */
export function runCommandLine(run: RunInstruction): { command: string[]; shell: boolean; script?: InlineFile } {
  if (run.heredocs.length === 0) return { command: run.command, shell: run.shell };
  if (run.command.length !== 1 || !run.shell) throw new SyntaxFault(`parsing produced an invalid run command: [${run.command.join(' ')}]`);
  let h: ReturnType<typeof parseHeredocWord> = null;
  try {
    h = parseHeredocWord(run.command[0]);
  } catch {
    h = null;
  }
  if (h) {
    const file = run.heredocs[0];
    if (file.data.startsWith('#!')) return { command: [], shell: false, script: file };
    return { command: [file.data], shell: true };
  }
  let cmd = run.command[0];
  for (const f of run.node.heredocs ?? []) cmd += '\n' + f.content + f.name;
  return { command: [cmd], shell: true };
}
