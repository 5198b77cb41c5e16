/** What a path is when it is not a regular file, in words for a warning; undefined for a file. */
import type { Stats } from 'node:fs';

export function notRegularKind(st: Stats): string | undefined {
  if (st.isFile() || st.isDirectory()) return undefined;
  if (st.isFIFO()) return 'a FIFO';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  if (st.isSocket()) return 'a socket';
  return 'not a file';
}
