// docker's `--format` handling for list commands (cli/command/formatter): "table ..." formats
// with a header row aligned by a tabwriter, "json" prints one JSON object per row, anything else
// is a Go template run once per row. The tabwriter is Go's text/tabwriter (elastic tabstops) as
// docker's fork of it runs: cell widths in terminal columns, East Asian wide characters count 2.

import { compileTemplate, goJSON, headerFuncs, TemplateError, type Template } from './gotemplate';

export interface TabWriterOptions {
  /** minimal cell width, padding included */
  minWidth: number;
  /** width of a tab character, used when padChar is '\t' */
  tabWidth: number;
  /** added to the widest cell of a column */
  padding: number;
  padChar: string;
  /** right-align cell contents (tabwriter.AlignRight) */
  alignRight?: boolean;
  /** print '|' between columns (tabwriter.Debug) */
  debug?: boolean;
}

/** docker's settings: tabwriter.NewWriter(out, 10, 1, 3, ' ', 0). */
export const DOCKER_TABWRITER: TabWriterOptions = { minWidth: 10, tabWidth: 1, padding: 3, padChar: ' ' };

// Wide (2-column) code point ranges: CJK, Hangul, Hiragana/Katakana, full-width forms, emoji.
const wideRanges: [number, number][] = [
  [0x1100, 0x115f], [0x231a, 0x231b], [0x2329, 0x232a], [0x23e9, 0x23ec], [0x23f0, 0x23f0],
  [0x23f3, 0x23f3], [0x25fd, 0x25fe], [0x2614, 0x2615], [0x2648, 0x2653], [0x267f, 0x267f],
  [0x2693, 0x2693], [0x26a1, 0x26a1], [0x26aa, 0x26ab], [0x26bd, 0x26be], [0x26c4, 0x26c5],
  [0x26ce, 0x26ce], [0x26d4, 0x26d4], [0x26ea, 0x26ea], [0x26f2, 0x26f3], [0x26f5, 0x26f5],
  [0x26fa, 0x26fa], [0x26fd, 0x26fd], [0x2705, 0x2705], [0x270a, 0x270b], [0x2728, 0x2728],
  [0x274c, 0x274c], [0x274e, 0x274e], [0x2753, 0x2755], [0x2757, 0x2757], [0x2795, 0x2797],
  [0x27b0, 0x27b0], [0x27bf, 0x27bf], [0x2b1b, 0x2b1c], [0x2b50, 0x2b50], [0x2b55, 0x2b55],
  [0x2e80, 0x303e], [0x3041, 0x33ff], [0x3400, 0x4dbf], [0x4e00, 0x9fff], [0xa000, 0xa4cf],
  [0xa960, 0xa97f], [0xac00, 0xd7a3], [0xf900, 0xfaff], [0xfe10, 0xfe19], [0xfe30, 0xfe6f],
  [0xff00, 0xff60], [0xffe0, 0xffe6], [0x16fe0, 0x16fe4], [0x17000, 0x18cff], [0x1b000, 0x1b2ff],
  [0x1f004, 0x1f004], [0x1f0cf, 0x1f0cf], [0x1f18e, 0x1f18e], [0x1f191, 0x1f19a], [0x1f200, 0x1f251],
  [0x1f300, 0x1f64f], [0x1f680, 0x1f6ff], [0x1f7e0, 0x1f7eb], [0x1f90c, 0x1f9ff], [0x1fa70, 0x1faff],
  [0x20000, 0x3fffd],
];

const zeroWidthRe = /^[\p{Mn}\p{Me}\p{Cf}]$/u;

function runeWidth(cp: number): number {
  if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0)) return 0;
  if (cp < 0x300) return 1;
  let lo = 0;
  let hi = wideRanges.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const [a, b] = wideRanges[mid];
    if (cp < a) hi = mid - 1;
    else if (cp > b) lo = mid + 1;
    else return 2;
  }
  return zeroWidthRe.test(String.fromCodePoint(cp)) ? 0 : 1;
}

/** Terminal columns taken by s (go-runewidth's StringWidth, as docker's tabwriter measures cells). */
export function displayWidth(s: string): number {
  if (/^[\x20-\x7e]*$/.test(s)) return s.length;
  let w = 0;
  for (const ch of s) w += runeWidth(ch.codePointAt(0) as number);
  return w;
}

interface Cell {
  text: string;
  width: number;
  /** terminated by '\t' (as opposed to '\v' or the end of the line) */
  htab: boolean;
}

/**
 * Aligns tab-terminated cells into columns, as Go's tabwriter: cells are terminated (not
 * separated) by '\t'; a column is a run of consecutive lines that have a cell at that index;
 * its width is the widest cell plus padding, at least minWidth; the last cell of a line does
 * not belong to a column and is never padded. A line without any tab ends all columns.
 */
export function tabwrite(text: string, opts: TabWriterOptions = DOCKER_TABWRITER): string {
  const out: string[] = [];
  let lines: Cell[][] = [[]];
  let cellStart = 0;
  const addCell = (end: number, htab: boolean): number => {
    const t = text.slice(cellStart, end);
    const line = lines[lines.length - 1];
    line.push({ text: t, width: displayWidth(t), htab });
    return line.length;
  };
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch !== '\t' && ch !== '\v' && ch !== '\n' && ch !== '\f') continue;
    const ncells = addCell(i, ch === '\t');
    cellStart = i + 1;
    if (ch === '\n' || ch === '\f') {
      lines.push([]);
      // A line with a single cell cannot affect the lines after it: flush.
      if (ch === '\f' || ncells === 1) {
        flushLines(lines, opts, out);
        lines = [[]];
      }
    }
  }
  if (cellStart < text.length) addCell(text.length, false);
  flushLines(lines, opts, out);
  return out.join('');
}

/** Formats buffered lines; every line but the last (the one still open) ends with '\n'. */
function flushLines(lines: Cell[][], opts: TabWriterOptions, out: string[]): void {
  const padding = (textWidth: number, cellWidth: number): string => {
    if (opts.padChar === '\t') {
      if (opts.tabWidth === 0) return '';
      const cw = Math.ceil(cellWidth / opts.tabWidth) * opts.tabWidth;
      return '\t'.repeat(Math.ceil((cw - textWidth) / opts.tabWidth));
    }
    return opts.padChar.repeat(Math.max(cellWidth - textWidth, 0));
  };

  const writeLines = (from: number, to: number, widths: number[]): void => {
    for (let i = from; i < to; i++) {
      lines[i].forEach((c, j) => {
        if (j > 0 && opts.debug) out.push('|');
        const w = j < widths.length ? widths[j] : undefined;
        if (c.text === '') {
          if (w !== undefined) out.push(padding(c.width, w));
        } else if (opts.alignRight && opts.padChar !== '\t') {
          if (w !== undefined) out.push(padding(c.width, w));
          out.push(c.text);
        } else {
          out.push(c.text);
          if (w !== undefined) out.push(padding(c.width, w));
        }
      });
      if (i + 1 < lines.length) out.push('\n');
    }
  };

  // Column `widths.length` of lines [line0, line1): find each block of consecutive lines having
  // a cell in that column, size it, and format the columns to its right within the block.
  const format = (line0: number, line1: number, widths: number[]): void => {
    const column = widths.length;
    let printed = line0;
    let l = line0;
    while (l < line1) {
      if (column >= lines[l].length - 1) {
        l++;
        continue;
      }
      writeLines(printed, l, widths);
      let width = opts.minWidth;
      let end = l;
      for (; end < line1 && column < lines[end].length - 1; end++) {
        width = Math.max(width, lines[end][column].width + opts.padding);
      }
      format(l, end, [...widths, width]);
      printed = end;
      l = end;
    }
    writeLines(printed, line1, widths);
  };

  format(0, lines.length, []);
}

/** True for docker's table formats ("table", "table {{.ID}}\t{{.Names}}"). */
export function isTableFormat(format: string): boolean {
  return format.startsWith('table');
}

/**
 * The template text of a --format value, as docker prepares it: without the "table" prefix,
 * spaces trimmed at both ends, and the two-character sequences \t and \n (as typed in a shell
 * without $'...') turned into a tab and a newline. "json" becomes {{json .}}.
 */
export function templateString(format: string): string {
  if (format === 'table') return '';
  if (format === 'json') return '{{json .}}';
  let out = isTableFormat(format) ? format.slice('table'.length) : format;
  out = out.replace(/^ +| +$/g, '');
  return out.replace(/\\[tn]/g, (m) => (m === '\\t' ? '\t' : '\n'));
}

function parsingError(e: unknown): Error {
  const msg = e instanceof Error ? e.message : String(e);
  return new Error(`template parsing error: ${msg}`);
}

function compile(format: string): Template {
  try {
    return compileTemplate(templateString(format));
  } catch (e) {
    throw parsingError(e);
  }
}

/**
 * Formats rows as docker does with --format. With a "table ..." format the template's output is
 * aligned by docker's tabwriter (columns separated by \t in the template) under a header row:
 * the same template run on `headers` (field name -> title, e.g. ID -> "CONTAINER ID"), with
 * docker's header functions, so {{upper .Name}} heads its column with the title unchanged; the
 * header is printed even when there are no rows. Any other format prints each row's output
 * followed by "\n", without header. Errors are thrown as docker words them:
 * "template parsing error: template: :1: ...".
 */
export function formatTable(rows: readonly object[], template: string, headers: Record<string, string>): string {
  const tmpl = compile(template);
  let body = '';
  for (const row of rows) {
    try {
      body += tmpl.execute(row) + '\n';
    } catch (e) {
      throw parsingError(e);
    }
  }
  if (!isTableFormat(template)) return body;
  // Header titles are offered as methods, so that {{.Label "com.example"}} heads its column too.
  const headerData: Record<string, () => string> = {};
  for (const [k, v] of Object.entries(headers)) headerData[k] = () => v;
  let header: string;
  try {
    header = tmpl.execute(headerData, { funcs: headerFuncs, missingKey: 'zero' });
  } catch (e) {
    // docker ignores header errors and prints what was rendered.
    header = e instanceof TemplateError ? e.output : '';
  }
  return tabwrite(header + '\n' + body);
}

/**
 * A list command's output for its --format flag: undefined, "" or "table" use defaultTable
 * (e.g. "table {{.ID}}\t{{.Image}}"); "json" prints each row as one line of JSON with its keys
 * sorted (docker marshals its row contexts as maps); anything else goes to formatTable. Rows are
 * plain objects or class instances (see gotemplate.ts for how each is seen by templates).
 */
export function formatRows(
  format: string | undefined,
  defaultTable: string,
  rows: readonly object[],
  headers: Record<string, string>,
): string {
  if (format === undefined || format === '' || format === 'table') format = defaultTable;
  if (format === 'json') return rows.map((r) => goJSON(r, true) + '\n').join('');
  return formatTable(rows, format, headers);
}
