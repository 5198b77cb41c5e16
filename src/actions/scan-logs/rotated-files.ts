/**
 * Rotated generations of a log, as logrotate and most loggers name them: `app.log.1`,
 * `app.log.2.gz`, `app.log-20261124`, `app.log-2026-11-24.gz`, `app.log.2026-11-24.1`.
 */
import { readdir, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

const ROTATED_SUFFIX = /^[.\-_]\d[\d\-_:.T]*?(?:\.gz)?$/;

export function isRotatedName(name: string, liveName: string): boolean {
  return (
    name.length > liveName.length &&
    name.startsWith(liveName) &&
    ROTATED_SUFFIX.test(name.slice(liveName.length))
  );
}

export function isGzip(path: string): boolean {
  return path.endsWith('.gz');
}

/** Rotated siblings of `live` (absolute paths, unsorted). */
export async function rotatedSiblings(live: string): Promise<string[]> {
  const dir = dirname(live);
  const name = basename(live);
  const names = await readdir(dir).catch(() => [] as string[]);
  return names.filter((n) => isRotatedName(n, name)).map((n) => join(dir, n));
}

/**
 * Where the file that used to be `live` went (same device and inode, renamed by a rotation),
 * among its uncompressed rotated siblings; undefined when it is gone or was compressed.
 */
export async function findRenamed(live: string, dev: bigint, ino: bigint): Promise<string | undefined> {
  for (const p of await rotatedSiblings(live)) {
    if (isGzip(p)) continue;
    const st = await stat(p, { bigint: true }).catch(() => undefined);
    if (st && st.isFile() && st.dev === dev && st.ino === ino) return p;
  }
  return undefined;
}
