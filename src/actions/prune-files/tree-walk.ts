/**
 * prune-files' view of the walk (src/os/tree-walk.ts): its selection decides which directories
 * are entered and which files are looked at, by name, before any lstat; the files of a
 * directory come in batches with the times and sizes retention needs. Links and special files
 * are counted, never touched; another filesystem mounted inside a root is not entered.
 */
import type { FsPace } from '../../os/fs-pace.js';
import { walkTree as walk, type WalkCounters, type WalkedDir } from '../../os/tree-walk.js';

export { newCounters, sameDirectory, type WalkCounters } from '../../os/tree-walk.js';

export interface FileEntry {
  readonly name: string;
  readonly size: number;
  readonly mtimeMs: number;
  readonly atimeMs: number;
}

/** One directory as the walk holds it while its files are handled. */
export type DirVisit = WalkedDir<{
  /** Every file below this directory is selected (the root, or a directory a glob matched). */
  readonly inScope: boolean;
  /** Entries removed (or that a dry run would remove): equal to `entries` means empty. */
  gone: number;
}>;

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
  await walk<{ readonly inScope: boolean; gone: number }>(
    root,
    {
      signal: hooks.signal,
      pace: hooks.pace,
      batch: hooks.batch,
      include: (dir, name, rel, kind) =>
        kind === 'file' ? hooks.selects(dir, name, rel) : kind === 'dir' && hooks.enter(dir, name, rel).enter,
      enter: (parent, entry, rel) => {
        if (!parent) return { inScope, gone: 0 };
        return { inScope: hooks.enter(parent, entry.name, rel).inScope, gone: 0 };
      },
      onEntries: async (dir, entries) => {
        const files: FileEntry[] = [];
        for (const e of entries) {
          // Replaced by something that is not a regular file since it was listed: left alone.
          if (e.kind !== 'file') continue;
          const s = e.stats;
          files.push({ name: e.name, size: s.size, mtimeMs: s.mtimeMs, atimeMs: s.atimeMs });
        }
        if (files.length > 0) await hooks.onFiles(dir, files);
      },
      onDirDone: (dir) => hooks.onDirFilesDone(dir),
      onSubtreeDone: (dir) => hooks.onSubtreeDone(dir),
      onProblem: (p) =>
        hooks.warn(p.kind === 'mount' ? `${p.message} (name it in paths to prune it)` : p.message),
    },
    counters,
  );
}
