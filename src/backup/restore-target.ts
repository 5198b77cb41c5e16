/**
 * The directory a restore writes into (`--to DIR`): checked before anything is read or
 * downloaded, and created one level at a time. Node's `mkdirSync(dir, { recursive: true })`
 * loops forever under /proc (mkdir there says ENOENT for a parent that exists), and its other
 * failures (EPERM under /sys, ENOTDIR below a file) surfaced as internal errors; each is now one
 * line naming --to.
 */
import { accessSync, constants, mkdirSync, statSync, type Stats } from 'node:fs';
import { dirname, resolve } from 'node:path';

export class RestoreTargetError extends Error {
  override name = 'RestoreTargetError';
}

const WHY: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'the file system does not allow it',
  EROFS: 'the file system is read-only',
  ENOTDIR: 'a part of the path is not a directory',
  ENOENT: 'the file system does not allow it',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'the disk quota is used up',
};

/** The path's stats, or undefined where nothing is (also below a file: ENOTDIR). */
function statOf(p: string): Stats | undefined {
  try {
    return statSync(p);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw err;
  }
}

function cannot(to: string, err: unknown): RestoreTargetError {
  const code = (err as NodeJS.ErrnoException).code ?? '';
  return new RestoreTargetError(
    `--to ${to}: cannot create the directory to restore into (${WHY[code] ?? (err as Error).message}${code ? `, ${code}` : ''})`,
  );
}

/**
 * Refuses a target that cannot be a directory we write into, without writing anything: the
 * first existing path on the way up must be a directory we may write to (the target itself, or
 * the parent its missing levels go into).
 */
export function checkRestoreTarget(to: string): void {
  const abs = resolve(to);
  for (let p = abs; ; p = dirname(p)) {
    const st = statOf(p);
    if (st === undefined) {
      if (p === dirname(p)) return;
      continue;
    }
    if (!st.isDirectory())
      throw new RestoreTargetError(
        p === abs ? `--to ${to}: is not a directory` : `--to ${to}: ${p} is not a directory`,
      );
    try {
      accessSync(p, constants.W_OK | constants.X_OK);
    } catch (err) {
      throw cannot(to, err);
    }
    return;
  }
}

/** Creates the target and its missing parents, top down, one mkdir each (see the header). */
export function makeRestoreTarget(to: string, root: string): void {
  const missing: string[] = [];
  for (let p = root; statOf(p) === undefined; p = dirname(p)) {
    if (p === dirname(p)) break;
    missing.push(p);
  }
  for (const dir of missing.reverse()) {
    try {
      mkdirSync(dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw cannot(to, err);
    }
  }
  const st = statOf(root);
  if (!st?.isDirectory()) throw new RestoreTargetError(`--to ${to}: is not a directory`);
}
