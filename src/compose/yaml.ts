/**
 * YAML for compose files. js-yaml (already in node_modules, YAML 1.2 core schema like compose-go's
 * yaml.v3: `yes` stays a string; anchors, aliases and `<<` merge keys work) does the parsing; this
 * wrapper keeps the rest of src/compose independent of it and turns its errors into ComposeErrors
 * that name the file and line.
 */
import { ComposeError, PARSE_FAILURE } from './errors';

interface JsYaml {
  load(text: string, opts?: { filename?: string; json?: boolean }): unknown;
  dump(obj: unknown, opts?: { lineWidth?: number; noRefs?: boolean; sortKeys?: boolean; quotingType?: string }): string;
}

// eslint-disable-next-line @typescript-eslint/no-require-imports
const yaml = require('js-yaml') as JsYaml;

/** Parses one YAML document. */
export function parseYaml(text: string, file: string): unknown {
  try {
    return yaml.load(text, { filename: file });
  } catch (err) {
    const e = err as { reason?: string; mark?: { line: number; column: number } };
    const at = e.mark ? ` (line ${e.mark.line + 1}, column ${e.mark.column + 1})` : '';
    throw new ComposeError(`${file}: yaml: ${e.reason ?? (err as Error).message}${at}`, PARSE_FAILURE);
  }
}

/** Serialises the normalised model (`config`). */
export function dumpYaml(obj: unknown): string {
  return yaml.dump(obj, { lineWidth: -1, noRefs: true, quotingType: '"' });
}
