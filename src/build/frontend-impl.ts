/** Binds the builder's front-end interface (frontend.ts) to the Dockerfile parser and lexer. */
import { parse } from './dockerfile/parser';
import { chompHeredoc } from './dockerfile/parser';
import { expandWord as lexExpandWord, expandWords as lexExpandWords } from './dockerfile/expand';
import type { Node } from './frontend';

export function parseNodes(text: string, fileName: string): { nodes: Node[]; escape: string } {
  const r = parse(text, fileName);
  const fix = (n: Node): Node => ({
    ...n,
    heredocs: n.heredocs?.map((h) => ({ ...h, content: h.chomp ? chompHeredoc(h.content) : h.content })),
    next: n.next ? fix(n.next) : undefined,
  });
  return { nodes: (r.nodes as Node[]).map(fix), escape: r.escapeChar };
}

export function expandWord(word: string, env: ReadonlyMap<string, string>, escape: string): string {
  return lexExpandWord(word, env, escape);
}

export function expandWords(word: string, env: ReadonlyMap<string, string>, escape: string): string[] {
  return lexExpandWords(word, env, escape);
}
