/**
 * The common tar header written without the general encoder: a short ASCII path, small numbers,
 * no extension header needed. Byte for byte what the `tar` package's `Header.encode` writes for
 * the same entry (a test holds it to that); `encodePlainUstar` returns false for anything else,
 * and the caller falls back to `Header` and `Pax`. On a backup of 100,000 small files the general
 * encoder was a visible share of the main thread's time.
 */

const MAX8 = 0o7777777;
const MAX12 = 0o77777777777;

/** node-tar's number format: zero-padded octal, a space, a NUL (or all digits and a NUL). */
function putOctal(buf: Buffer, off: number, size: number, n: number): void {
  const digits = Math.floor(n).toString(8);
  const text = digits.length === size - 1 ? `${digits}\0` : `${digits.padStart(size - 2, '0')} \0`;
  buf.write(text, off, size, 'ascii');
}

function isShortAscii(s: string, max: number): boolean {
  if (s.length >= max) return false;
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return false;
  return true;
}

export interface PlainHeader {
  /** With the trailing slash for directories. */
  readonly path: string;
  /** '0' file, '5' directory, '2' symlink. */
  readonly typeflag: '0' | '5' | '2';
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly size: number;
  readonly mtimeMs: number;
  readonly linkpath: string;
}

/** Encodes into `buf[off..off+512)` (which must be zeroed) and returns true, or returns false. */
export function encodePlainUstar(buf: Buffer, off: number, h: PlainHeader): boolean {
  const mtime = Math.floor(h.mtimeMs / 1000);
  if (
    !isShortAscii(h.path, 100) ||
    !isShortAscii(h.linkpath, 100) ||
    h.mode > MAX8 ||
    h.uid > MAX8 ||
    h.gid > MAX8 ||
    h.uid < 0 ||
    h.gid < 0 ||
    h.size > MAX12 ||
    mtime < 0 ||
    mtime > MAX12
  )
    return false;
  buf.write(h.path, off, 100, 'ascii');
  putOctal(buf, off + 100, 8, h.mode);
  putOctal(buf, off + 108, 8, h.uid);
  putOctal(buf, off + 116, 8, h.gid);
  putOctal(buf, off + 124, 12, h.size);
  putOctal(buf, off + 136, 12, mtime);
  buf[off + 156] = h.typeflag.charCodeAt(0);
  if (h.linkpath) buf.write(h.linkpath, off + 157, 100, 'ascii');
  buf.write('ustar\u000000', off + 257, 8, 'ascii');
  putOctal(buf, off + 329, 8, 0); // devmajor
  putOctal(buf, off + 337, 8, 0); // devminor
  let sum = 8 * 0x20;
  for (let i = off; i < off + 148; i++) sum += buf[i]!;
  for (let i = off + 156; i < off + 512; i++) sum += buf[i]!;
  putOctal(buf, off + 148, 8, sum);
  return true;
}
