/**
 * What the builder needs from the Dockerfile front end (src/build/dockerfile): the instruction
 * nodes in file order, and word expansion with Docker's shell-lexer rules.
 */
export interface Heredoc {
  name: string;
  content: string;
  expand: boolean;
  chomp?: boolean;
}

export interface Node {
  cmd: string; // lowercase instruction
  args: string[];
  flags: string[];
  json: boolean;
  heredocs?: Heredoc[];
  original: string;
  startLine: number;
  endLine: number;
  next?: Node; // ONBUILD's wrapped instruction
}

export { parseNodes, expandWord, expandWords } from './frontend-impl';
