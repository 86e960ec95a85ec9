/** Go's strconv.Quote, which BuildKit's parse-tree dump and many of Docker's messages use. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (ch === '"' || ch === '\\') {
      out += '\\' + ch;
    } else if (cp === 0x20 || (cp > 0x20 && cp !== 0x7f && /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u.test(ch))) {
      out += ch;
    } else if (ESCAPES[ch] !== undefined) {
      out += ESCAPES[ch];
    } else if (cp < 0x20 || cp === 0x7f) {
      out += '\\x' + cp.toString(16).padStart(2, '0');
    } else if (cp < 0x10000) {
      out += '\\u' + cp.toString(16).padStart(4, '0');
    } else {
      out += '\\U' + cp.toString(16).padStart(8, '0');
    }
  }
  return out + '"';
}

const ESCAPES: Record<string, string> = {
  '\x07': '\\a',
  '\b': '\\b',
  '\f': '\\f',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '\v': '\\v',
};
