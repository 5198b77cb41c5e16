/**
 * Atomic file replacement: write a temp file in the same directory, fsync it, rename it over the
 * target, fsync the directory. A crash at any point leaves either the old file or the new one,
 * never a half-written mix. Every write has an async form and a sync form named apart
 * (`writeFileAtomic` / `writeFileAtomicSync`, `fsyncDir` / `fsyncDirSync`).
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, constants, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { copyFile, chmod, lchown, open, rename, rm, utimes } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { makeDirSync } from './make-dir.js';

/** A temp name next to `target`, hidden, unlikely to collide with anything a user keeps. */
export function tempPathFor(target: string): string {
  return join(dirname(target), `.${basename(target)}.caretaker-${randomBytes(6).toString('hex')}.tmp`);
}

async function fsyncPath(path: string, flags = 'r'): Promise<void> {
  const fh = await open(path, flags);
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** fsync a directory so that a rename inside it survives a power loss. Best effort on odd filesystems. */
export async function fsyncDir(dir: string): Promise<void> {
  try {
    await fsyncPath(dir);
  } catch {
    // Some filesystems (and platforms) refuse fsync on a directory; the rename is still atomic.
  }
}

/** The synchronous twin of fsyncDir. */
export function fsyncDirSync(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // Some filesystems refuse fsync on a directory (EINVAL); the rename is still atomic there.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

export interface WriteOptions {
  readonly mode?: number;
}

/** Replaces `target` with `data` atomically. */
export async function writeFileAtomic(
  target: string,
  data: string | Uint8Array,
  opts: WriteOptions = {},
): Promise<void> {
  const tmp = tempPathFor(target);
  try {
    const fh = await open(tmp, 'wx', opts.mode ?? 0o644);
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    if (opts.mode !== undefined) await chmod(tmp, opts.mode); // the umask may have narrowed it
    await rename(tmp, target);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  await fsyncDir(dirname(target));
}

export interface CopyOptions {
  readonly mode: number;
  readonly mtimeMs: number;
  readonly atimeMs?: number;
  readonly uid?: number;
  readonly gid?: number;
}

/**
 * Copies `source` over `target` atomically and gives the result the recorded mode, owner (when
 * running as root) and times, so that a restored file is indistinguishable from the original.
 */
export async function copyFileAtomic(source: string, target: string, meta: CopyOptions): Promise<void> {
  const tmp = tempPathFor(target);
  try {
    // FICLONE: a reflink on filesystems that support it (btrfs, xfs), a plain copy elsewhere.
    await copyFile(source, tmp, constants.COPYFILE_EXCL | constants.COPYFILE_FICLONE);
    await fsyncPath(tmp); // before chmod: a mode of 0o000 would stop us opening it again
    if (process.getuid?.() === 0 && meta.uid !== undefined && meta.gid !== undefined) {
      await lchown(tmp, meta.uid, meta.gid);
    }
    await chmod(tmp, meta.mode & 0o7777); // after chown, which clears setuid bits
    await utimes(tmp, (meta.atimeMs ?? meta.mtimeMs) / 1000, meta.mtimeMs / 1000);
    await rename(tmp, target);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  await fsyncDir(dirname(target));
}

/**
 * The synchronous twin of writeFileAtomic, for code that must not yield (a heartbeat written from
 * a timer, a report written as a run finishes, a backup's sidecar written between two archive
 * steps). Creates the directory when it is missing.
 */
export function writeFileAtomicSync(
  target: string,
  data: string | Uint8Array,
  opts: WriteOptions = {},
): void {
  const dir = dirname(target);
  makeDirSync(dir);
  const tmp = tempPathFor(target);
  try {
    const fd = openSync(tmp, 'wx', opts.mode ?? 0o644);
    try {
      writeSync(fd, typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    if (opts.mode !== undefined) chmodSync(tmp, opts.mode);
    renameSync(tmp, target);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
  fsyncDirSync(dir);
}
