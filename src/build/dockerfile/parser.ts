/**
 * Dockerfile → instruction nodes, with the syntax BuildKit's parser accepts: parser directives
 * at the very top (`# syntax=`, `# escape=`, `# check=`), comments (also between continuation
 * lines), line continuations with the escape character, here-documents on RUN/COPY/ADD, exec (JSON)
 * and shell forms, and `--flags` before the arguments. The tree is BuildKit's, flattened: one node
 * per instruction with its arguments as the parser splits them (no variable substitution yet;
 * quotes still in ENV/LABEL/ARG values). printNode() prints a node in BuildKit's golden-file
 * format, which the conformance test compares with the reference corpus.
 *
 * Semantics (argument counts, flag names, stages) are instructions.ts's; substitution is
 * expand.ts's.
 */
import { DockerfileError, SyntaxFault } from './errors';
import { isSpace, lex } from './lexer';
import { goQuote } from './quote';

export interface Heredoc {
  /** The terminator word, quotes removed: `EOF` for `<<"EOF"`. */
  name: string;
  /** The lines up to the terminator, each with its line ending; leading tabs still there (see chomp). */
  content: string;
  /** False when any part of the terminator word was quoted: the body is taken literally. */
  expand: boolean;
  /** `<<-`: leading tabs are to be removed from every line (chompHeredoc does it). */
  chomp: boolean;
  /** The `3` of `3<<EOF`; 0 when absent. */
  fileDescriptor: number;
}

export interface Node {
  /** The instruction, lowercase. */
  cmd: string;
  /**
   * The arguments as split by the parser. ENV and LABEL: triples key, value, separator ("=" for
   * `k=v`, "" for the old `ENV k v`). ONBUILD: the wrapped instruction's word then its arguments.
   * HEALTHCHECK: the type (CMD, NONE) then the command. JSON forms: the array's strings.
   */
  args: string[];
  /** `--name=value` flags before the arguments, quotes and escapes removed. */
  flags: string[];
  /** Exec (JSON array) form. */
  json: boolean;
  /** Here-documents named on the line, in order (on the ONBUILD node for `ONBUILD RUN <<EOF`). */
  heredocs?: Heredoc[];
  /** The logical line: continuation lines joined, comments between them dropped. */
  original: string;
  /** 1-based, inclusive; a here-document's lines belong to its instruction. */
  startLine: number;
  endLine: number;
  /** ONBUILD: the wrapped instruction. */
  next?: Node;
}

export interface Directive {
  name: 'syntax' | 'escape' | 'check';
  value: string;
  line: number;
}

export interface ParseWarning {
  short: string;
  detail: string;
  url: string;
  line: number;
}

export interface ParseResult {
  nodes: Node[];
  directives: Directive[];
  escapeChar: '\\' | '`';
  warnings: ParseWarning[];
}

/** Instruction names, as BuildKit's command package lists them. */
export const INSTRUCTIONS = [
  'add',
  'arg',
  'cmd',
  'copy',
  'entrypoint',
  'env',
  'expose',
  'from',
  'healthcheck',
  'label',
  'maintainer',
  'onbuild',
  'run',
  'shell',
  'stopsignal',
  'user',
  'volume',
  'workdir',
] as const;

const HEREDOC_INSTRUCTIONS = new Set(['add', 'copy', 'run']);

// Go's regexp \s and the parser's reWhitespace
const WS = /[\t\v\f\r ]+/;

const goTrimSpace = (s: string): string => {
  let a = 0;
  let b = s.length;
  while (a < b && isSpace(s[a])) a++;
  while (b > a && isSpace(s[b - 1])) b--;
  return s.slice(a, b);
};
const trimLeft = (s: string): string => {
  let a = 0;
  while (a < s.length && isSpace(s[a])) a++;
  return s.slice(a);
};
const trimNewline = (s: string): string => s.replace(/[\r\n]+$/, '');
const isComment = (line: string): boolean => trimLeft(line).startsWith('#');

/** Levenshtein distance, for "did you mean" hints. */
function distance(a: string, b: string): number {
  const A = Array.from(a);
  const B = Array.from(b);
  let prev = Array.from({ length: B.length + 1 }, (_, j) => j);
  for (let i = 1; i <= A.length; i++) {
    const cur = [i];
    for (let j = 1; j <= B.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (A[i - 1] === B[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[B.length];
}

/** BuildKit's suggestion: the closest option within distance 2, in the case the user typed. */
export function suggest(value: string, options: readonly string[], caseSensitive: boolean): string | undefined {
  const v = caseSensitive ? value : value.toLowerCase();
  let best: string | undefined;
  let min = 3;
  for (const o of options) {
    const opt = caseSensitive ? o : o.toLowerCase();
    if (opt === v) return undefined;
    const d = distance(v, opt);
    if (d < min) {
      min = d;
      best = opt;
    }
  }
  if (best === undefined || caseSensitive) return best;
  if (value === value.toLowerCase()) return best.toLowerCase();
  if (value === value.toUpperCase()) return best.toUpperCase();
  return best;
}

export function withSuggestion(message: string, value: string, options: readonly string[], caseSensitive: boolean): string {
  const s = suggest(value, options, caseSensitive);
  return s ? `${message} (did you mean ${s}?)` : message;
}

// ---------------------------------------------------------------------------------------------
// Splitting a logical line

/** Leading `--flag` words, quotes and escapes removed; the rest of the line after them (or after `--`). */
export function extractFlags(line: string, esc: string): { rest: string; flags: string[] } {
  const SPACES = 0;
  const WORD = 1;
  const QUOTE = 2;
  const flags: string[] = [];
  let phase = SPACES;
  let word = '';
  let quote = '';
  let blankOK = false;
  for (let pos = 0; pos <= line.length; pos++) {
    const atEnd = pos === line.length;
    let ch = atEnd ? '' : line[pos];
    if (phase === SPACES) {
      if (atEnd) break;
      if (isSpace(ch)) continue;
      if (ch !== '-' || line[pos + 1] !== '-') return { rest: line.slice(pos), flags };
      phase = WORD;
    }
    if (atEnd) {
      if (word !== '--' && (blankOK || word !== '')) flags.push(word);
      break;
    }
    if (phase === WORD) {
      if (isSpace(ch)) {
        phase = SPACES;
        if (word === '--') return { rest: line.slice(pos), flags };
        if (blankOK || word !== '') flags.push(word);
        word = '';
        blankOK = false;
        continue;
      }
      if (ch === "'" || ch === '"') {
        quote = ch;
        blankOK = true;
        phase = QUOTE;
        continue;
      }
      if (ch === esc) {
        if (pos + 1 === line.length) continue;
        ch = line[++pos];
      }
      word += ch;
      continue;
    }
    if (ch === quote) {
      phase = WORD;
      continue;
    }
    if (ch === esc) {
      if (pos + 1 === line.length) {
        phase = WORD;
        continue;
      }
      ch = line[++pos];
    }
    word += ch;
  }
  return { rest: '', flags };
}

/**
 * Space-separated words for ENV, LABEL and ARG: quotes group words and stay in them, an escape
 * character stays with the character it escapes (substitution removes both later).
 */
export function parseWords(rest: string, esc: string): string[] {
  const chars = Array.from(rest);
  const words: string[] = [];
  const SPACES = 0;
  const WORD = 1;
  const QUOTE = 2;
  let phase = SPACES;
  let quote = '';
  let blankOK = false;
  let word = '';
  for (let pos = 0; pos <= chars.length; pos++) {
    const atEnd = pos === chars.length;
    let ch = atEnd ? '' : chars[pos];
    if (phase === SPACES) {
      if (atEnd) break;
      if (isSpace(ch)) continue;
      phase = WORD;
    }
    if (atEnd) {
      if (blankOK || word !== '') words.push(word);
      break;
    }
    if (phase === WORD) {
      if (isSpace(ch)) {
        phase = SPACES;
        if (blankOK || word !== '') words.push(word);
        word = '';
        blankOK = false;
        continue;
      }
      if (ch === "'" || ch === '"') {
        quote = ch;
        blankOK = true;
        phase = QUOTE;
      }
      if (ch === esc) {
        if (pos + 1 === chars.length) continue; // an escape at the very end is dropped
        word += ch;
        ch = chars[++pos];
      }
      word += ch;
      continue;
    }
    if (ch === quote) phase = WORD;
    if (ch === esc && quote !== "'") {
      if (pos + 1 === chars.length) {
        phase = WORD;
        continue;
      }
      word += ch;
      ch = chars[++pos];
    }
    word += ch;
  }
  return words;
}

interface Parsed {
  args: string[];
  json: boolean;
  next?: Node;
}

const NONE: Parsed = { args: [], json: false };

function parseJSON(rest: string): string[] | undefined {
  const s = trimLeft(rest);
  if (!s.startsWith('[')) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(s);
  } catch {
    return undefined;
  }
  if (!Array.isArray(v)) return undefined;
  if (!v.every((x) => typeof x === 'string')) throw new SyntaxFault('when using JSON array syntax, arrays must be comprised of strings only');
  return v as string[];
}

/** CMD, ENTRYPOINT, RUN, SHELL: a JSON array of strings, or else the whole text as one argument. */
function maybeJSON(rest: string): Parsed {
  if (rest === '') return NONE;
  const j = parseJSON(rest);
  return j ? { args: j, json: true } : { args: [rest], json: false };
}

/** ADD, COPY, VOLUME: a JSON array of strings, or else the text split at white space. */
function maybeJSONToList(rest: string): Parsed {
  const j = parseJSON(rest);
  return j ? { args: j, json: true } : whitespaceDelimited(rest);
}

function whitespaceDelimited(rest: string): Parsed {
  if (rest === '') return NONE;
  return { args: rest.split(WS), json: false };
}

function nameVal(rest: string, key: string, esc: string): Parsed {
  const words = parseWords(rest, esc);
  if (words.length === 0) return NONE;
  if (!words[0].includes('=')) {
    // the old form, KEY name value: the value is the rest of the line as written
    const m = WS.exec(rest);
    if (!m) throw new SyntaxFault(`${key} must have two arguments`);
    return { args: [rest.slice(0, m.index), rest.slice(m.index + m[0].length), ''], json: false };
  }
  const args: string[] = [];
  for (const w of words) {
    const eq = w.indexOf('=');
    if (eq < 0) throw new SyntaxFault(`Syntax error - can't find = in ${goQuote(w)}. Must be of the form: name=value`);
    args.push(w.slice(0, eq), w.slice(eq + 1), '=');
  }
  return { args, json: false };
}

function healthConfig(rest: string): Parsed {
  let sep = 0;
  while (sep < rest.length && !isSpace(rest[sep])) sep++;
  if (sep === 0) return NONE;
  let next = sep;
  while (next < rest.length && isSpace(rest[next])) next++;
  const cmd = maybeJSON(rest.slice(next));
  return { args: [rest.slice(0, sep), ...cmd.args], json: cmd.json };
}

interface LineContext {
  esc: string;
  file: string;
}

function nodeFromLine(line: string, ctx: LineContext, nested: boolean): Node {
  const trimmed = goTrimSpace(line);
  const m = WS.exec(trimmed);
  const word = m ? trimmed.slice(0, m.index) : trimmed;
  let rest = '';
  let flags: string[] = [];
  if (m) {
    const r = extractFlags(trimmed.slice(m.index + m[0].length), ctx.esc);
    rest = goTrimSpace(r.rest);
    flags = r.flags;
  }
  const cmd = word.toLowerCase();
  let p: Parsed;
  switch (cmd) {
    case 'add':
    case 'copy':
    case 'volume':
      p = maybeJSONToList(rest);
      break;
    case 'arg':
      p = { args: parseWords(rest, ctx.esc), json: false };
      break;
    case 'cmd':
    case 'entrypoint':
    case 'run':
    case 'shell':
      p = maybeJSON(rest);
      break;
    case 'env':
      p = nameVal(rest, 'ENV', ctx.esc);
      break;
    case 'label':
      p = nameVal(rest, 'LABEL', ctx.esc);
      break;
    case 'expose':
    case 'from':
      p = whitespaceDelimited(rest);
      break;
    case 'healthcheck':
      p = healthConfig(rest);
      break;
    case 'maintainer':
    case 'stopsignal':
    case 'user':
    case 'workdir':
      p = rest === '' ? NONE : { args: [rest], json: false };
      break;
    case 'onbuild': {
      if (rest === '') {
        p = NONE;
        break;
      }
      const child = nodeFromLine(rest, ctx, true);
      const childWord = goTrimSpace(rest).split(WS)[0];
      p = { args: [childWord, ...child.args], json: false, next: child };
      break;
    }
    default:
      // BuildKit's parser keeps unknown instructions and its instruction layer rejects them; an
      // unknown ONBUILD trigger only fails when it fires in a later build.
      if (!nested) throw new SyntaxFault(withSuggestion(`unknown instruction: ${word}`, word, INSTRUCTIONS.map((s) => s.toUpperCase()), false));
      p = whitespaceDelimited(rest);
  }
  const node: Node = { cmd, args: p.args, flags, json: p.json, original: line, startLine: 0, endLine: 0 };
  if (p.next) node.next = p.next;
  return node;
}

// ---------------------------------------------------------------------------------------------
// Here-documents

const HEREDOC_RE = /^(\d*)<<(-?)[\t\n\f\r ]*([^<]*)$/;

/**
 * The here-document a word starts (`<<EOF`, `<<-"EOF"`, `3<<'E O F'`), or null when the word is
 * not one. Throws on an unterminated quote in the terminator.
 */
export function parseHeredocWord(word: string): Omit<Heredoc, 'content'> | null {
  const m = HEREDOC_RE.exec(word);
  if (!m || m[3] === '') return null;
  const rest = m[3];
  const plain = lex(rest, new Map(), { skipUnsetEnv: true }).words;
  if (plain.length !== 1) return null;
  const raw = lex(rest, new Map(), { skipUnsetEnv: true, rawQuotes: true }).words;
  if (raw.length !== plain.length) throw new SyntaxFault(`internal lexing of heredoc produced inconsistent results: ${rest}`);
  const quotes = (s: string): number => (s.match(/['"]/g) ?? []).length;
  return {
    name: plain[0],
    expand: quotes(plain[0]) === quotes(raw[0]),
    chomp: m[2] === '-',
    fileDescriptor: m[1] === '' ? 0 : Number(m[1]),
  };
}

/** The here-documents named on a line, in order. */
function heredocsFromLine(line: string): Omit<Heredoc, 'content'>[] {
  let words: string[];
  try {
    words = lex(line, new Map(), { rawQuotes: true, rawEscapes: true, skipUnsetEnv: true }).words;
  } catch {
    words = [];
  }
  const out: Omit<Heredoc, 'content'>[] = [];
  for (const w of words) {
    const h = parseHeredocWord(w);
    if (h) out.push(h);
  }
  return out;
}

/** Removes leading tabs from every line: the body of a `<<-` here-document. */
export function chompHeredoc(content: string): string {
  return content.replace(/^\t+/gm, '');
}

function canContainHeredoc(node: Node): boolean {
  const n = node.cmd === 'onbuild' && node.next ? node.next : node;
  return HEREDOC_INSTRUCTIONS.has(n.cmd) && !n.json;
}

// ---------------------------------------------------------------------------------------------
// The file

/** Lines with their line endings, as Go's scanner with BuildKit's split function gives them. */
function splitLines(text: string): string[] {
  const out: string[] = [];
  let start = 0;
  for (;;) {
    const nl = text.indexOf('\n', start);
    if (nl < 0) {
      if (start < text.length) out.push(text.slice(start));
      return out;
    }
    out.push(text.slice(start, nl + 1));
    start = nl + 1;
  }
}

const DIRECTIVE_RE = /^([a-zA-Z][a-zA-Z0-9]*)[\t\n\f\r ]*=[\t\n\f\r ]*(.+?)[\t\n\f\r ]*$/;
const DIRECTIVES = new Set(['syntax', 'escape', 'check']);

function continuationRegExp(esc: string): RegExp {
  const e = esc === '\\' ? '\\\\' : esc;
  return new RegExp(`([^${e}])${e}[ \\t]*$|^${e}[ \\t]*$`);
}

/**
 * Parses a Dockerfile. Throws DockerfileError (file name, line, Docker's message) for a zero-byte
 * file, a file with no instructions, an unknown instruction, bad directives, non-string JSON
 * arrays, ENV/LABEL without values and unterminated here-documents.
 */
export function parse(text: string | Buffer, fileName = 'Dockerfile'): ParseResult {
  const src = typeof text === 'string' ? text : text.toString('utf8');
  if (src.length === 0) throw new DockerfileError(fileName, 0, `the Dockerfile (${fileName}) cannot be empty`);

  const lines = splitLines(src);
  let li = 0;
  const nextLine = (): string | undefined => (li < lines.length ? lines[li++] : undefined);

  let esc: '\\' | '`' = '\\';
  let contRe = continuationRegExp(esc);
  const directives: Directive[] = [];
  const seen = new Set<string>();
  let directivesDone = false;
  let physical = 0; // lines handed to the directive parser

  const directive = (line: string): void => {
    physical++;
    if (directivesDone) return;
    if (!line.startsWith('#')) {
      directivesDone = true;
      return;
    }
    const m = DIRECTIVE_RE.exec(trimLeft(line.slice(1)));
    const name = m?.[1].toLowerCase();
    if (!m || !name || !DIRECTIVES.has(name)) {
      directivesDone = true;
      return;
    }
    if (seen.has(name)) throw new DockerfileError(fileName, physical, `only one ${name} parser directive can be used`);
    seen.add(name);
    if (name === 'escape') {
      if (m[2] !== '`' && m[2] !== '\\') throw new DockerfileError(fileName, physical, `invalid escape token '${m[2]}' does not match \` or \\`);
      esc = m[2];
      contRe = continuationRegExp(esc);
    }
    directives.push({ name: name as Directive['name'], value: m[2], line: physical });
  };

  /** The line without its ending (and, on an instruction's first line, without leading space); comments become empty. */
  const processLine = (raw: string, stripLeft: boolean): string => {
    let t = trimNewline(raw);
    if (stripLeft) t = trimLeft(t);
    directive(t);
    return isComment(t) ? '' : t;
  };

  const trimContinuation = (line: string): { line: string; end: boolean } => {
    if (contRe.test(line)) return { line: line.replace(contRe, (_m, c: string | undefined) => c ?? ''), end: false };
    return { line, end: true };
  };

  const nodes: Node[] = [];
  const warnings: ParseWarning[] = [];
  let current = 0;
  let first = true;
  for (let raw = nextLine(); raw !== undefined; raw = nextLine()) {
    if (first) {
      raw = raw.replace(/^\uFEFF/, '');
      first = false;
    }
    const t0 = processLine(raw, true);
    current++;
    const startLine = current;
    let { line: part, end } = trimContinuation(t0);
    if (end && part === '') continue;
    let line = part;
    let emptyContinuation = false;
    while (!end) {
      const r = nextLine();
      if (r === undefined) break;
      const t = processLine(r, false);
      current++;
      if (isComment(r)) continue;
      if (trimLeft(trimNewline(t)) === '') {
        emptyContinuation = true;
        continue;
      }
      ({ line: part, end } = trimContinuation(t));
      line += part;
    }

    if (emptyContinuation) {
      warnings.push({
        short: `Empty continuation line found in: ${line}`,
        detail: 'Empty continuation lines will become errors in a future release',
        url: 'https://docs.docker.com/go/dockerfile/rule/no-empty-continuation/',
        line: current,
      });
    }

    let node: Node;
    try {
      node = nodeFromLine(line, { esc, file: fileName }, false);
    } catch (err) {
      if (err instanceof SyntaxFault) throw new DockerfileError(fileName, startLine, err.message, { endLine: current });
      throw err;
    }

    if (canContainHeredoc(node) && line.includes('<<')) {
      let docs: Omit<Heredoc, 'content'>[];
      try {
        docs = heredocsFromLine(line);
      } catch (err) {
        if (err instanceof SyntaxFault) throw new DockerfileError(fileName, startLine, err.message, { endLine: current });
        throw err;
      }
      if (docs.length > 0) {
        node.heredocs = [];
        for (const d of docs) {
          let content = '';
          let terminated = false;
          for (let r = nextLine(); r !== undefined; r = nextLine()) {
            current++;
            let candidate = trimNewline(r);
            if (d.chomp) candidate = candidate.replace(/^\t+/, '');
            if (candidate === d.name) {
              terminated = true;
              break;
            }
            content += r;
          }
          if (!terminated) throw new DockerfileError(fileName, startLine, 'unterminated heredoc', { endLine: current });
          node.heredocs.push({ ...d, content });
        }
      }
    }

    node.startLine = startLine;
    node.endLine = current;
    if (node.next) {
      node.next.startLine = startLine;
      node.next.endLine = current;
    }
    nodes.push(node);
  }

  if (nodes.length === 0) throw new DockerfileError(fileName, 0, 'file with no instructions');
  return { nodes, directives, escapeChar: esc, warnings };
}

/** Just the nodes. */
export function parseNodes(text: string | Buffer, fileName = 'Dockerfile'): Node[] {
  return parse(text, fileName).nodes;
}

// ---------------------------------------------------------------------------------------------
// Printing

function dump(node: Node): string {
  let s = node.cmd;
  if (node.flags.length > 0) s += ` [${node.flags.map(goQuote).join(' ')}]`;
  if (node.cmd === 'onbuild') {
    if (node.next) s += ` (${dump(node.next)})`;
  } else {
    for (const a of node.args) s += ' ' + goQuote(a);
  }
  return s.trim();
}

/**
 * One node in the format of BuildKit's parse-tree dump (its golden files):
 * `(copy ["--from=x"] "a" "b")`, `(env "k" "v" "=")`, `(onbuild (run "echo" "hi"))`.
 */
export function printNode(node: Node): string {
  return `(${dump(node)})`;
}

/** A whole file's nodes, one per line, newline-terminated: the golden `result` file. */
export function printAST(nodes: readonly Node[]): string {
  return nodes.map((n) => printNode(n) + '\n').join('');
}
