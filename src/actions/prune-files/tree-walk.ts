/**
 * A streaming, symlink-proof directory walk. Directories are read with `opendir` in small
 * batches, files are `lstat`ed a batch at a time with bounded concurrency, and nothing but the
 * current batch and the stack of directories still to visit is held: a tree of a million files
 * costs memory in proportion to its depth and width, not its size.
 *
 * Links are never followed: a symlink (to a file or a directory, inside or outside the root) is
 * counted and left alone. Every directory is checked, before it is read and before anything in it
 * is removed, to still be the real directory the walk reached (see `sameDirectory`), so a
 * directory swapped for a link mid-walk cannot lead the walk out of its root.
 */
import type { Dirent, Stats } from 'node:fs';
import { lstat } from 'node:fs/promises';
import { join } from 'node:path';
import type { FsPace } from './fs-pace.js';

export interface FileEntry {
  readonly name: string;
  readonly size: number;
  readonly mtimeMs: number;
  readonly atimeMs: number;
}

/** One directory as the walk holds it while its files are handled. */
export interface DirVisit {
  /** Real, absolute path. */
  readonly path: string;
  /** Relative to the root, posix separators; '' for the root itself. */
  readonly rel: string;
  readonly depth: number;
  /** Every file below this directory is selected (the root, or a directory a glob matched). */
  readonly inScope: boolean;
  readonly dev: number;
  readonly ino: number;
  readonly parent: DirVisit | undefined;
  /** Entries the listing held (of any kind), set once the directory has been read. */
  entries: number;
  /** Entries removed (or that a dry run would remove): equal to `entries` means empty. */
  gone: number;
}

export interface WalkCounters {
  dirs: number;
  /** Regular files seen (selected or not). */
  files: number;
  symlinks: number;
  /** Sockets, FIFOs, devices: never touched. */
  special: number;
  /** Directories the walk could not read (permissions, vanished): also reported as warnings. */
  unreadable: number;
  /** Other filesystems mounted inside a root: not entered (like `find -xdev`). */
  mounts: number;
}

export interface WalkHooks {
  readonly signal: AbortSignal;
  /** How lstat calls are made (shared with the removals, which see the same disk). */
  readonly pace: FsPace;
  /** Files lstat'ed concurrently (also the batch size handed to `onFiles`). */
  readonly batch: number;
  /** Enter this subdirectory? Returns whether it is entered and whether all of it is selected. */
  enter(parent: DirVisit, name: string, rel: string): { enter: boolean; inScope: boolean };
  /** Is this file selected? Decided by name before any lstat, so unselected files cost nothing. */
  selects(dir: DirVisit, name: string, rel: string): boolean;
  onFiles(dir: DirVisit, files: readonly FileEntry[]): Promise<void>;
  /** All of the directory's own files were handed over (its subdirectories are still to come). */
  onDirFilesDone(dir: DirVisit): void | Promise<void>;
  /** The directory and everything below it are done (e.g. remove it when empty). */
  onSubtreeDone(dir: DirVisit): Promise<void>;
  warn(message: string): void;
}

export function newCounters(): WalkCounters {
  return { dirs: 0, files: 0, symlinks: 0, special: 0, unreadable: 0, mounts: 0 };
}

/**
 * Is `dir` still the directory the walk entered (same device and inode, reached without any
 * link on the way)? Removal goes by path, so this is checked right before each batch of removals.
 */
export async function sameDirectory(dir: DirVisit, pace: FsPace): Promise<boolean> {
  const r = await pace.lstatReal(dir.path);
  return (
    r !== undefined &&
    r.st.isDirectory() &&
    r.st.dev === dir.dev &&
    r.st.ino === dir.ino &&
    r.real === dir.path
  );
}

function errText(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return e.code ?? e.message;
}

/**
 * Walks `root` (a real, absolute directory path) depth first, directory by directory.
 * `inScope`: is every file below the root selected (no glob narrows it)?
 */
export async function walkTree(
  root: string,
  inScope: boolean,
  hooks: WalkHooks,
  counters: WalkCounters,
): Promise<void> {
  let st: Stats;
  try {
    st = await lstat(root);
  } catch (err) {
    hooks.warn(`${root}: cannot read (${errText(err)})`);
    counters.unreadable++;
    return;
  }
  if (!st.isDirectory()) return;
  await walkDir(
    {
      path: root,
      rel: '',
      depth: 0,
      inScope,
      dev: st.dev,
      ino: st.ino,
      parent: undefined,
      entries: 0,
      gone: 0,
    },
    hooks,
    counters,
  );
}

async function walkDir(dir: DirVisit, hooks: WalkHooks, counters: WalkCounters): Promise<void> {
  hooks.signal.throwIfAborted();
  counters.dirs++;
  const subdirs: { name: string; rel: string; inScope: boolean }[] = [];
  let pending: string[] = [];
  const flush = async () => {
    if (pending.length === 0) return;
    const names = pending;
    pending = [];
    const stats = await hooks.pace.lstatMany(names.map((n) => join(dir.path, n)));
    const files: FileEntry[] = [];
    for (let i = 0; i < names.length; i++) {
      const s = stats[i];
      // Vanished since it was listed, or replaced by something that is not a regular file.
      if (!s || !s.isFile()) continue;
      files.push({ name: names[i]!, size: s.size, mtimeMs: s.mtimeMs, atimeMs: s.atimeMs });
    }
    if (files.length > 0) await hooks.onFiles(dir, files);
    hooks.signal.throwIfAborted();
  };

  try {
    if (!(await sameDirectory(dir, hooks.pace))) {
      hooks.warn(`${dir.path}: changed while the walk reached it (replaced by a link?); skipped`);
      counters.unreadable++;
      return;
    }
    for await (const d of hooks.pace.entries(dir.path)) {
      dir.entries++;
      const kind = d.isFile() ? 'file' : await kindOf(dir.path, d);
      const rel = dir.rel === '' ? d.name : `${dir.rel}/${d.name}`;
      if (kind === 'dir') {
        const e = hooks.enter(dir, d.name, rel);
        if (e.enter) subdirs.push({ name: d.name, rel, inScope: e.inScope });
      } else if (kind === 'file') {
        counters.files++;
        if (hooks.selects(dir, d.name, rel)) {
          pending.push(d.name);
          if (pending.length >= hooks.batch) await flush();
        }
      } else if (kind === 'link') counters.symlinks++;
      else if (kind === 'special') counters.special++;
    }
    await flush();
  } catch (err) {
    if (hooks.signal.aborted) throw err;
    hooks.warn(`${dir.path}: cannot read (${errText(err)})`);
    counters.unreadable++;
    return;
  }
  await hooks.onDirFilesDone(dir);

  for (const sub of subdirs) {
    const path = join(dir.path, sub.name);
    const [s] = await hooks.pace.lstatMany([path]);
    if (!s) continue; // vanished
    if (s.isSymbolicLink()) {
      counters.symlinks++;
      continue;
    }
    if (!s.isDirectory()) continue;
    if (s.dev !== dir.dev) {
      // Another filesystem mounted here (a volume, a bind mount): pruning it was not asked for.
      counters.mounts++;
      hooks.warn(`${path}: another filesystem is mounted here; not entered (name it in paths to prune it)`);
      continue;
    }
    const visit: DirVisit = {
      path,
      rel: sub.rel,
      depth: dir.depth + 1,
      inScope: sub.inScope,
      dev: s.dev,
      ino: s.ino,
      parent: dir,
      entries: 0,
      gone: 0,
    };
    await walkDir(visit, hooks, counters);
  }
  await hooks.onSubtreeDone(dir);
}

type Kind = 'dir' | 'file' | 'link' | 'special' | 'gone';

async function kindOf(dir: string, d: Dirent): Promise<Kind> {
  if (d.isFile()) return 'file';
  if (d.isDirectory()) return 'dir';
  if (d.isSymbolicLink()) return 'link';
  if (d.isFIFO() || d.isSocket() || d.isBlockDevice() || d.isCharacterDevice()) return 'special';
  // Some filesystems do not report the type in the listing (DT_UNKNOWN): ask.
  const s = await lstat(join(dir, d.name)).catch(() => undefined);
  if (!s) return 'gone';
  if (s.isSymbolicLink()) return 'link';
  if (s.isDirectory()) return 'dir';
  if (s.isFile()) return 'file';
  return 'special';
}
