/**
 * Feeds a byte range of a file to a LineScanner in big chunks of whole lines: read, scan up to
 * the last newline, carry the partial line over to the next read. The same loop runs in worker
 * threads (synchronous reads) and on the main thread (asynchronous ones).
 */
import type { LineScanner } from './line-scanner.js';

export type ReadAt = (
  buf: Buffer,
  offset: number,
  length: number,
  position: number,
) => number | Promise<number>;

export const CHUNK_BYTES = 1 << 20;
/** A line longer than this is scanned in pieces (each piece then counts as a line). */
export const MAX_LINE_BYTES = 64 << 20;

/**
 * Scans [start, end). Without `complete`, a last line lacking its newline is left unread (its
 * writer is still writing it). Returns the offset just after the last byte scanned.
 */
export async function scanRange(
  read: ReadAt,
  start: number,
  end: number,
  complete: boolean,
  scanner: LineScanner,
  chunkBytes = CHUNK_BYTES,
): Promise<number> {
  let buf = scanner.buffer(chunkBytes);
  let carry = 0; // bytes at buf[0, carry) of a line not yet complete
  let base = start; // file offset of buf[0]
  let pos = start; // next read
  while (pos < end) {
    if (carry === buf.length) {
      if (buf.length >= MAX_LINE_BYTES) {
        scanner.scan(buf.subarray(0, carry), base);
        base += carry;
        carry = 0;
      } else {
        buf = scanner.buffer(buf.length * 2, carry);
      }
    }
    const n = await read(buf, carry, Math.min(buf.length - carry, end - pos), pos);
    if (n <= 0) break; // the file shrank under us: stop at what was read
    pos += n;
    const avail = carry + n;
    const last = buf.lastIndexOf(10, avail - 1);
    if (last < 0) {
      carry = avail;
      continue;
    }
    scanner.scan(buf.subarray(0, last + 1), base);
    buf.copy(buf, 0, last + 1, avail);
    base += last + 1;
    carry = avail - (last + 1);
  }
  if (complete && carry > 0) {
    scanner.scan(buf.subarray(0, carry), base);
    base += carry;
  }
  return base;
}
