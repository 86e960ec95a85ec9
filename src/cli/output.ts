/**
 * docker's formatter.Context.Write for list commands: `--format` is "table" (the command's
 * default columns), "table TEMPLATE" (a header row, then the rows, aligned by a tabwriter with
 * minwidth 10 and padding 3), "json" (`{{json .}}` per row), or a bare Go template (one line per
 * row). `\t` and `\n` typed literally in the format become a tab and a newline.
 */
import { compileTemplate, goJSON, headerFuncs, TemplateError, type Template } from './format/gotemplate';
import { tabwrite, DOCKER_TABWRITER } from './format/table';

export function isTableFormat(format: string): boolean {
  return format.startsWith('table');
}

/** The template text that is executed for `format` (docker's preFormat). */
export function finalFormat(format: string): string {
  let f = format;
  if (isTableFormat(f)) f = f.slice('table'.length);
  else if (f === 'json') f = '{{json .}}';
  f = f.replace(/^ +| +$/g, '');
  return f.replace(/\\t/g, '\t').replace(/\\n/g, '\n');
}

export class FormatError extends Error {}

/** Something that marshals itself as docker's row contexts do (json.Marshal, HTML-escaped). */
interface Marshaler {
  marshalJSON(): string;
}

function isMarshaler(v: unknown): v is Marshaler {
  return typeof v === 'object' && v !== null && typeof (v as Marshaler).marshalJSON === 'function';
}

/** docker's `json` function, except that row contexts marshal themselves. */
const rowJSON = (v: unknown): string => (isMarshaler(v) ? v.marshalJSON() : goJSON(v));

/** Go's json.Marshal escapes <, > and & (and U+2028/9) in strings; JSON.stringify does not. */
export function htmlEscapeJSON(s: string): string {
  return s.replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Parses the format; errors carry docker's "template parsing error: ..." wording. */
export function parseFormat(format: string, prefix = 'template parsing error'): Template {
  try {
    return compileTemplate(finalFormat(format), { funcs: { json: rowJSON } });
  } catch (err) {
    if (err instanceof TemplateError) throw new FormatError(`${prefix}: ${err.message}`);
    throw err;
  }
}

/**
 * Renders `rows` with `format`; `header` maps each field to its column title (and may hold a
 * `Label` function for `.Label "key"`). Returns the text to print.
 */
export function renderList(format: string, rows: readonly unknown[], header: Record<string, unknown>): string {
  const tmpl = parseFormat(format);
  let body = '';
  for (const row of rows) {
    try {
      body += tmpl.execute(row) + '\n';
    } catch (err) {
      if (err instanceof TemplateError) throw new FormatError(`template parsing error: ${err.message}`);
      throw err;
    }
  }
  if (!isTableFormat(format)) return body;
  let head = '';
  try {
    head = tmpl.execute(header, { funcs: headerFuncs, missingKey: 'zero' });
  } catch {
    // docker ignores errors in the header row.
  }
  return tabwrite(`${head}\n${body}`, DOCKER_TABWRITER);
}
