/** Free space at the destination, and how much a backup is expected to need there. */
import { statfs } from 'node:fs/promises';

export async function freeBytes(dir: string): Promise<number> {
  const s = await statfs(dir);
  return s.bavail * s.bsize;
}

/**
 * Bytes a backup needs at its destination: the staged database copies plus the archive. The
 * archive is estimated from the input size and the ratio (archive bytes / input bytes) the last
 * backups of this task achieved; without history, as if nothing compressed and every entry
 * cost a tar header and padding. Plus a 10% margin.
 */
export function neededBytes(
  input: { bytes: number; entries: number; staged: number },
  ratio: number | undefined,
): number {
  const raw = input.bytes + input.staged;
  const archive =
    ratio !== undefined && Number.isFinite(ratio) && ratio > 0
      ? raw * ratio
      : raw + input.entries * 1024 + 1024 * 1024;
  return Math.ceil(input.staged + archive * 1.1);
}
