/** Building trees of files with chosen ages for the prune-files tests. */
import { mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export const DAY = 86_400_000;
/** The tests' "now": a fixed instant, so ages are exact. */
export const NOW = Date.UTC(2026, 10, 24, 12, 0, 0);

/** Writes `root/rel` with `bytes` bytes and an mtime (and atime) `ageDays` before NOW. */
export function file(
  root: string,
  rel: string,
  ageDays: number,
  bytes = 100,
  atimeAgeDays = ageDays,
): string {
  const p = join(root, rel);
  mkdirSync(dirname(p), { recursive: true });
  writeFileSync(p, Buffer.alloc(bytes, 0x61));
  utimesSync(p, (NOW - atimeAgeDays * DAY) / 1000, (NOW - ageDays * DAY) / 1000);
  return p;
}
