/**
 * `by: atime` is only as good as the filesystem's access times. Linux mounts with `relatime` by
 * default (atime is updated at most once a day, or when it is older than mtime) and some hosts
 * use `noatime` (never updated). This reads the mount options of a root so the run can say so.
 */
import { readFile } from 'node:fs/promises';
import { isWithin } from '../../safety/path-guard.js';

const DAY = 86_400_000;

function unescapeMount(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** The mount options of the filesystem holding `path` (Linux), or undefined when unknown. */
export async function mountOptions(
  path: string,
): Promise<{ mountPoint: string; options: string[] } | undefined> {
  const text = await readFile('/proc/self/mountinfo', 'utf8').catch(() => undefined);
  if (!text) return undefined;
  let best: { mountPoint: string; options: string[] } | undefined;
  for (const line of text.split('\n')) {
    const f = line.split(' ');
    if (f.length < 6) continue;
    const mountPoint = unescapeMount(f[4]!);
    if (!isWithin(path, mountPoint)) continue;
    if (!best || mountPoint.length >= best.mountPoint.length)
      best = { mountPoint, options: f[5]!.split(',') };
  }
  return best;
}

/** A warning when access times on `root` cannot support `older_than` (undefined when they can). */
export async function atimeWarning(
  root: string,
  olderThanMs: number | undefined,
): Promise<string | undefined> {
  const m = await mountOptions(root);
  if (!m) return undefined;
  if (m.options.includes('noatime')) {
    return `${root}: ${m.mountPoint} is mounted noatime, so access times are never updated; by: atime sees creation-era times (use by: mtime)`;
  }
  if (m.options.includes('relatime') && olderThanMs !== undefined && olderThanMs < DAY) {
    return `${root}: ${m.mountPoint} is mounted relatime (atime updated at most daily), too coarse for older_than under 1d`;
  }
  return undefined;
}
