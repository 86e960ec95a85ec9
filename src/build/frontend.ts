/**
 * What the builder needs from the Dockerfile front end (src/build/dockerfile): the instruction
 * nodes in file order, with `<<-` here-documents already chomped, and word expansion with
 * Docker's shell-lexer rules.
 */
import { chompHeredoc, parse, type Node } from './dockerfile/parser';

export type { Heredoc, Node } from './dockerfile/parser';
export { expandWord, expandWords } from './dockerfile/expand';

export function parseNodes(text: string, fileName: string): { nodes: Node[]; escape: string } {
  const r = parse(text, fileName);
  const fix = (n: Node): Node => ({
    ...n,
    heredocs: n.heredocs?.map((h) => ({ ...h, content: h.chomp ? chompHeredoc(h.content) : h.content })),
    next: n.next ? fix(n.next) : undefined,
  });
  return { nodes: r.nodes.map(fix), escape: r.escapeChar };
}
