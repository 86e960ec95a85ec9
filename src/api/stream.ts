/**
 * Docker's stream framing for non-TTY output: an 8-byte header [stream, 0, 0, 0, size (uint32 BE)]
 * before each payload; stream 1 = stdout, 2 = stderr (0 = stdin).
 */
export function frame(stream: 0 | 1 | 2, payload: Buffer): Buffer {
  const h = Buffer.alloc(8);
  h[0] = stream;
  h.writeUInt32BE(payload.length, 4);
  return Buffer.concat([h, payload]);
}
