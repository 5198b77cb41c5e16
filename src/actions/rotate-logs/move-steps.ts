/**
 * The steps that move names around: shift a generation, move the live log aside (optionally
 * putting a fresh empty one in its place), copytruncate, truncate, delete. Each checks what is on
 * disk first, so that a replay after a crash finishes a half-done step instead of repeating it.
 */
import { constants, type Stats } from 'node:fs';
import { link, lstat, mkdir, open, readFile, rename, rm, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fsyncDir } from '../../os/atomic-write.js';
import { copyTruncate, logStillHoldsCopy, type CopyTruncateResult } from './copy-truncate.js';
import { faultPoint } from '../../os/fault-point.js';
import { newLogNameFor, tempNameFor } from './naming.js';
import type { CreateIds } from './steps.js';

export type MoveOutcome =
  | { readonly status: 'done'; readonly detail?: string; readonly bytes?: number }
  | { readonly status: 'missing' }
  | { readonly status: 'blocked'; readonly why: string };

export async function lstatOrUndefined(p: string): Promise<Stats | undefined> {
  try {
    return await lstat(p);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

async function syncDirs(...paths: string[]): Promise<void> {
  for (const d of new Set(paths.map((p) => dirname(p)))) await fsyncDir(d);
}

const sameFile = (a: Stats, b: Stats) => a.ino === b.ino && a.dev === b.dev;

export async function mkdirStep(path: string, mode: number): Promise<void> {
  await mkdir(path, { recursive: true, mode });
}

export async function deleteStep(path: string, ino: number | undefined): Promise<MoveOutcome> {
  const st = await lstatOrUndefined(path);
  if (!st) return { status: 'missing' };
  if (st.isDirectory()) return { status: 'blocked', why: `${path} is a directory: not deleted` };
  if (ino !== undefined && st.ino !== ino)
    return { status: 'blocked', why: `${path} was replaced since the rotation was planned: not deleted` };
  await unlink(path); // a link is removed itself, never what it points to
  await fsyncDir(dirname(path));
  return { status: 'done', bytes: st.isSymbolicLink() ? 0 : st.size };
}

export async function renameStep(from: string, to: string, replaying: boolean): Promise<MoveOutcome> {
  if (await lstatOrUndefined(to)) {
    return replaying
      ? { status: 'done' }
      : { status: 'blocked', why: `${to} appeared meanwhile: ${from} not moved onto it` };
  }
  if (!(await lstatOrUndefined(from))) return { status: 'missing' };
  await rename(from, to);
  await syncDirs(from, to);
  return { status: 'done' };
}

/** The fresh empty log, made under a hidden name with its final mode and owner first. */
async function makeNewLog(log: string, create: CreateIds): Promise<{ path: string; chownFailed: boolean }> {
  const path = newLogNameFor(log);
  await rm(path, { force: true });
  const fh = await open(
    path,
    constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
    create.mode,
  );
  let chownFailed = false;
  try {
    await fh.chmod(create.mode); // the umask does not get a say
    try {
      await fh.chown(create.uid, create.gid);
    } catch {
      chownFailed = true;
    }
    await fh.sync();
  } finally {
    await fh.close();
  }
  return { path, chownFailed };
}

const LINK_UNSUPPORTED = new Set(['EXDEV', 'EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'EMLINK', 'ENOSYS']);

export async function moveStep(
  log: string,
  to: string,
  create: CreateIds | undefined,
  replaying: boolean,
): Promise<MoveOutcome> {
  const [logSt, toSt] = [await lstatOrUndefined(log), await lstatOrUndefined(to)];
  if (toSt) {
    if (!replaying) return { status: 'blocked', why: `${to} already exists: ${log} not rotated` };
    if (create && logSt && sameFile(logSt, toSt)) {
      // Crashed between the hard link and the rename over: finish the swap.
      const fresh = await makeNewLog(log, create);
      await rename(fresh.path, log);
      await syncDirs(log, to);
    } else if (create && !logSt) {
      const fresh = await makeNewLog(log, create);
      await rename(fresh.path, log);
      await syncDirs(log);
    }
    return { status: 'done' };
  }
  if (!logSt) return { status: 'missing' };
  if (!logSt.isFile()) return { status: 'blocked', why: `${log} is not a regular file: not rotated` };
  const crossDevice = (err: unknown): MoveOutcome | undefined =>
    (err as NodeJS.ErrnoException).code === 'EXDEV'
      ? {
          status: 'blocked',
          why: `${dirname(to)} is on another filesystem than ${log}: a rename cannot move the log there (put olddir on the same filesystem, or use copytruncate)`,
        }
      : undefined;
  if (!create) {
    try {
      await rename(log, to);
    } catch (err) {
      const blocked = crossDevice(err);
      if (blocked) return blocked;
      throw err;
    }
    await syncDirs(log, to);
    return { status: 'done', bytes: logSt.size };
  }
  const fresh = await makeNewLog(log, create);
  const detail = fresh.chownFailed
    ? `could not give the new ${log} to uid ${create.uid} gid ${create.gid} (not root?)`
    : undefined;
  try {
    // The old log gets its rotated name as a second link; then the new file takes the log's
    // name in one rename: at no moment is there no file called `log` (a writer that reopens per
    // line never creates one with the wrong mode).
    await link(log, to);
  } catch (err) {
    if (!LINK_UNSUPPORTED.has((err as NodeJS.ErrnoException).code ?? '')) {
      await rm(fresh.path, { force: true });
      throw err;
    }
    try {
      await rename(log, to);
    } catch (err2) {
      await rm(fresh.path, { force: true });
      const blocked = crossDevice(err2);
      if (blocked) return blocked;
      throw err2;
    }
    await rename(fresh.path, log);
    await syncDirs(log, to);
    return { status: 'done', detail, bytes: logSt.size };
  }
  faultPoint('rotate:step', 'linked, before the new log replaces the old');
  await rename(fresh.path, log);
  await syncDirs(log, to);
  return { status: 'done', detail, bytes: logSt.size };
}

export interface CopyTruncateStepEnv {
  readonly signal: AbortSignal;
  readonly mark: (key: string, value: string) => Promise<void>;
  readonly getMark: (key: string) => string | undefined;
}

export type CopyTruncateOutcome = MoveOutcome & { readonly copy?: CopyTruncateResult };

async function pidFrom(pidfile: string): Promise<number | string> {
  const text = await readFile(pidfile, 'utf8').catch(() => undefined);
  const pid = Number(text?.trim());
  return Number.isInteger(pid) && pid > 0
    ? pid
    : `${pidfile} ${text === undefined ? 'cannot be read' : 'holds no process id'}`;
}

export async function copyTruncateStep(
  log: string,
  to: string,
  env: CopyTruncateStepEnv,
  replaying: boolean,
  pausePidfile?: string,
): Promise<CopyTruncateOutcome> {
  const tmp = tempNameFor(to);
  if (await lstatOrUndefined(to)) {
    return replaying
      ? { status: 'done' }
      : { status: 'blocked', why: `${to} already exists: ${log} not rotated` };
  }
  let resumeFrom: number | undefined;
  const tmpSt = await lstatOrUndefined(tmp);
  if (tmpSt) {
    if (replaying && tmpSt.isFile()) {
      // Was the log truncated before the crash? The journal says so, or the log no longer
      // starts with what was copied.
      const truncated = env.getMark('truncated') === '1' || !logStillHoldsCopy(log, tmp);
      if (truncated) {
        await rename(tmp, to);
        await syncDirs(to);
        return { status: 'done' };
      }
      resumeFrom = tmpSt.size;
    } else {
      await rm(tmp, { force: true });
    }
  }
  const logSt = await lstatOrUndefined(log);
  if (!logSt) return { status: 'missing' };
  if (!logSt.isFile()) return { status: 'blocked', why: `${log} is not a regular file: not rotated` };
  const pid = pausePidfile === undefined ? undefined : await pidFrom(pausePidfile);
  const copy = await copyTruncate(log, tmp, {
    resumeFrom,
    pausePid: typeof pid === 'number' ? pid : undefined,
    signal: env.signal,
    beforeTruncate: () => faultPoint('rotate:step', 'copied, before truncating the log'),
  });
  await env.mark('truncated', '1');
  faultPoint('rotate:step', 'truncated, before the copy gets its name');
  await rename(tmp, to);
  await syncDirs(to);
  const pauseError = typeof pid === 'string' ? pid : copy.pauseError;
  return { status: 'done', copy: pauseError ? { ...copy, pauseError } : copy, bytes: copy.bytesCopied };
}

export async function truncateStep(log: string): Promise<MoveOutcome> {
  let fh;
  try {
    fh = await open(log, constants.O_RDWR | constants.O_NOFOLLOW);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { status: 'missing' };
    throw err;
  }
  try {
    const size = (await fh.stat()).size;
    await fh.truncate(0);
    await fh.sync();
    return { status: 'done', bytes: size };
  } finally {
    await fh.close();
  }
}
