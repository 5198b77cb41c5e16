/**
 * Archive names — `<task>-<UTC timestamp>.tar.gz` (or `.tar` without compression), a `-N`
 * suffix when two runs start in the same second — and the listing of a destination directory.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const NAME = /^(.+)-(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z(?:-(\d+))?\.tar(\.gz)?$/;

export interface ArchiveFile {
  readonly name: string;
  readonly path: string;
  readonly task: string;
  /** The UTC time in the name, in ms. */
  readonly time: number;
  readonly seq: number;
  readonly compressed: boolean;
  readonly size: number;
}

export function utcStamp(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace(/\.\d{3}Z$/, 'Z')
    .replace(/[-:]/g, '');
}

export function archiveName(task: string, time: number, compressed: boolean, seq = 1): string {
  return `${task}-${utcStamp(time)}${seq > 1 ? `-${seq}` : ''}.tar${compressed ? '.gz' : ''}`;
}

export function parseArchiveName(name: string): Omit<ArchiveFile, 'path' | 'size'> | undefined {
  const m = NAME.exec(name);
  if (!m) return undefined;
  const [, task, y, mo, d, h, mi, s, seq, gz] = m;
  const time = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
  if (Number.isNaN(time)) return undefined;
  return { name, task: task!, time, seq: seq ? Number(seq) : 1, compressed: gz !== undefined };
}

/** Finished archives in `dest` (of one task, when given), newest first. Missing dir: none. */
export function listArchiveFiles(dest: string, task?: string): ArchiveFile[] {
  let names: string[];
  try {
    names = readdirSync(dest);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const out: ArchiveFile[] = [];
  for (const name of names) {
    const parsed = parseArchiveName(name);
    if (!parsed || (task !== undefined && parsed.task !== task)) continue;
    const path = join(dest, name);
    try {
      const st = statSync(path);
      if (st.isFile()) out.push({ ...parsed, path, size: st.size });
    } catch {
      // removed while listing
    }
  }
  return out.sort((a, b) => b.time - a.time || b.seq - a.seq);
}
