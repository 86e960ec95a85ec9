/**
 * Go's json.Indent and json.Compact on JSON text: whitespace is rewritten, everything else
 * (number spellings, escapes, key order) is kept byte for byte — which is how `docker inspect`
 * prints what the daemon sent.
 */

function scan(src: string, onToken: (tok: string, isString: boolean) => void): void {
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    if (c === '"') {
      let j = i + 1;
      while (j < src.length && src[j] !== '"') j += src[j] === '\\' ? 2 : 1;
      onToken(src.slice(i, j + 1), true);
      i = j + 1;
    } else if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
    } else if ('{}[],:'.includes(c)) {
      onToken(c, false);
      i++;
    } else {
      let j = i;
      while (j < src.length && !'{}[],:" \t\n\r'.includes(src[j])) j++;
      onToken(src.slice(i, j), false);
      i = j;
    }
  }
}

export function jsonCompact(src: string): string {
  let out = '';
  scan(src, (t) => {
    out += t;
  });
  return out;
}

export function jsonIndent(src: string, indent = '    ', prefix = ''): string {
  const toks: [string, boolean][] = [];
  scan(src, (t, s) => toks.push([t, s]));
  let out = '';
  let depth = 0;
  const nl = (): string => `\n${prefix}${indent.repeat(depth)}`;
  for (let k = 0; k < toks.length; k++) {
    const [t, isStr] = toks[k];
    if (isStr) {
      out += t;
      continue;
    }
    if (t === '{' || t === '[') {
      const next = toks[k + 1]?.[0];
      if ((t === '{' && next === '}') || (t === '[' && next === ']')) {
        out += t + next;
        k++;
        continue;
      }
      depth++;
      out += t + nl();
    } else if (t === '}' || t === ']') {
      depth--;
      out += nl() + t;
    } else if (t === ',') {
      out += ',' + nl();
    } else if (t === ':') {
      out += ': ';
    } else {
      out += t;
    }
  }
  return out;
}
