/** Filling a (small, test-mounted) filesystem to its last byte. */
import { closeSync, openSync, writeSync } from 'node:fs';

/** Writes a file until the filesystem has no byte left. */
export function fillUp(path: string): void {
  const fd = openSync(path, 'w');
  try {
    for (const size of [65_536, 4096, 1]) {
      const chunk = Buffer.alloc(size, 1);
      for (;;) {
        try {
          writeSync(fd, chunk);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
          break;
        }
      }
    }
  } finally {
    closeSync(fd);
  }
}
