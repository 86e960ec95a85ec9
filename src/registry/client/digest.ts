/**
 * Content digests as the distribution spec uses them: `sha256:<64 hex>` or `sha512:<128 hex>`.
 * Every byte that comes from a registry is checked against one of these before anyone sees it.
 */
import crypto from 'node:crypto';
import { BerthError, invalidArgument } from '../../core/errors';

const HEX_LENGTH: Record<string, number> = { sha256: 64, sha512: 128 };

export interface ParsedDigest {
  algorithm: 'sha256' | 'sha512';
  hex: string;
}

/** Validates a digest (it ends up in URLs and file names) and splits it. */
export function parseDigest(digest: string): ParsedDigest {
  const m = /^([a-z0-9]+):([a-f0-9]+)$/.exec(digest);
  if (!m || HEX_LENGTH[m[1]] === undefined) throw invalidArgument(`invalid digest "${digest}": only sha256 and sha512 are supported`);
  if (m[2].length !== HEX_LENGTH[m[1]]) throw invalidArgument(`invalid digest "${digest}": wrong length`);
  return { algorithm: m[1] as ParsedDigest['algorithm'], hex: m[2] };
}

export function digestOf(data: Buffer, algorithm: ParsedDigest['algorithm'] = 'sha256'): string {
  return `${algorithm}:${crypto.createHash(algorithm).update(data).digest('hex')}`;
}

export function digestMismatch(expected: string, got: string): BerthError {
  return new BerthError('invalid-argument', `digest mismatch for ${expected}: got ${got}`);
}

/** Throws invalid-argument unless `data` has digest `expected` (and, when given, size `size`). */
export function verifyBytes(data: Buffer, expected: string, size?: number): void {
  const { algorithm } = parseDigest(expected);
  const got = digestOf(data, algorithm);
  if (got !== expected) throw digestMismatch(expected, got);
  if (size !== undefined && size >= 0 && data.length !== size) {
    throw invalidArgument(`size mismatch for ${expected}: expected ${size} bytes, got ${data.length}`);
  }
}

/** An incremental hash that reports in the digest's own algorithm. */
export class Digester {
  private hash: crypto.Hash;
  bytes = 0;
  constructor(readonly algorithm: ParsedDigest['algorithm']) {
    this.hash = crypto.createHash(algorithm);
  }
  update(chunk: Buffer): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
  }
  digest(): string {
    return `${this.algorithm}:${this.hash.digest('hex')}`;
  }
}
