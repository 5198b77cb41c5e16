/**
 * `mkdir -p` that always ends. Node's own `mkdir(path, { recursive: true })` (sync and async)
 * spins at 100% CPU forever where a parent exists but cannot hold children: procfs answers ENOENT
 * for `/proc/x`, Node reads that as "the parent is missing", makes the parent (EEXIST), and tries
 * again (`state_dir: /proc/caretaker-state` hung `caretaker list-tasks`). Here an ENOENT after
 * the parent was made is final.
 */
import { mkdirSync, statSync, type Mode } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import { dirname } from 'node:path';

export interface MakeDirOptions {
  readonly mode?: Mode;
}

function notADirectory(path: string): NodeJS.ErrnoException {
  const err: NodeJS.ErrnoException = new Error(`ENOTDIR: not a directory, mkdir '${path}'`);
  err.code = 'ENOTDIR';
  err.path = path;
  err.syscall = 'mkdir';
  return err;
}

/**
 * Creates `path` and any missing parents; a directory already there is fine. Returns the first
 * directory it created (undefined when none), like `mkdir(path, { recursive: true })`.
 */
export function makeDirSync(path: string, opts: MakeDirOptions = {}): string | undefined {
  try {
    mkdirSync(path, opts.mode === undefined ? {} : { mode: opts.mode });
    return path;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') {
      if (!statSync(path).isDirectory()) throw notADirectory(path);
      return undefined;
    }
    const parent = dirname(path);
    if (code !== 'ENOENT' || parent === path) throw err;
    const first = makeDirSync(parent, opts);
    try {
      mkdirSync(path, opts.mode === undefined ? {} : { mode: opts.mode }); // an ENOENT now is final
      return first ?? path;
    } catch (again) {
      if ((again as NodeJS.ErrnoException).code !== 'EEXIST') throw again;
      if (!statSync(path).isDirectory()) throw notADirectory(path);
      return first;
    }
  }
}

/** The async twin of makeDirSync. */
export async function makeDir(path: string, opts: MakeDirOptions = {}): Promise<string | undefined> {
  try {
    await mkdir(path, opts.mode === undefined ? {} : { mode: opts.mode });
    return path;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') {
      if (!(await stat(path)).isDirectory()) throw notADirectory(path);
      return undefined;
    }
    const parent = dirname(path);
    if (code !== 'ENOENT' || parent === path) throw err;
    const first = await makeDir(parent, opts);
    try {
      await mkdir(path, opts.mode === undefined ? {} : { mode: opts.mode });
      return first ?? path;
    } catch (again) {
      if ((again as NodeJS.ErrnoException).code !== 'EEXIST') throw again;
      if (!(await stat(path)).isDirectory()) throw notADirectory(path);
      return first;
    }
  }
}

/** Why a directory could not be made, in words for the one line a user sees. */
export function mkdirFailure(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'EEXIST' || code === 'ENOTDIR') return 'it (or a parent) exists and is not a directory';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'ENOENT') return 'its parent cannot hold directories (a virtual filesystem such as /proc?)';
  if (code === 'ENOSPC') return 'no space left on the device';
  if (code === 'EROFS') return 'the filesystem is read-only';
  return code ?? (err as Error).message;
}
