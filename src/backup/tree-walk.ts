/**
 * Collects what a backup will contain: the configured roots and everything below them, without
 * following symlinks (a link is archived as a link, as tar does), skipping excluded paths,
 * caretaker's own state dir, the backup destination and special files.
 */
import { lstatSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { FsPace } from '../os/fs-pace.js';
import { kindOfStats, walkTree as walk, type EntryKind } from '../os/tree-walk.js';

export interface TreeEntry {
  readonly abs: string;
  /** The path inside the archive: the absolute path without its leading `/` (as tar stores it). */
  readonly path: string;
  readonly type: 'file' | 'dir' | 'symlink';
  readonly size: number;
  readonly mode: number;
  readonly mtimeMs: number;
  readonly uid: number;
  readonly gid: number;
}

export interface WalkOptions {
  readonly roots: readonly string[];
  /** True for paths the user excluded (a directory's content goes with it). */
  readonly isExcluded: (abs: string) => boolean;
  /** True for paths that must never be archived by the walk (state dir, dest, databases). */
  readonly isSkipped: (abs: string) => boolean;
  readonly signal?: AbortSignal;
}

export interface WalkResult {
  readonly entries: TreeEntry[];
  /** Bytes of regular-file data. */
  readonly bytes: number;
  /** Paths left out with the reason (sockets, unreadable directories, excluded roots). */
  readonly skipped: { path: string; why: string }[];
}

export class MissingRootError extends Error {
  override name = 'MissingRootError';
}

export function archivePathOf(abs: string): string {
  return abs.replace(/^\/+/, '');
}

/**
 * Lists the roots (src/os/tree-walk.ts does the walking: no link followed, each directory checked
 * before it is read) in name order, directory by directory, each directory's own entries before
 * its subdirectories; a path is archived once even when roots overlap. Other filesystems mounted
 * inside a root are archived too, as tar does.
 */
export async function walkTree(opts: WalkOptions): Promise<WalkResult> {
  const entries: TreeEntry[] = [];
  const skipped: { path: string; why: string }[] = [];
  const seen = new Set<string>();
  let bytes = 0;

  const record = (abs: string, st: Stats, type: TreeEntry['type']): void => {
    entries.push({
      abs,
      path: archivePathOf(abs),
      type,
      size: type === 'file' ? st.size : 0,
      mode: st.mode & 0o7777,
      mtimeMs: st.mtimeMs,
      uid: st.uid,
      gid: st.gid,
    });
    if (type === 'file') bytes += st.size;
  };
  const recordEntry = (abs: string, kind: EntryKind, st: Stats): void => {
    if (seen.has(abs)) return;
    seen.add(abs);
    if (kind === 'special') skipped.push({ path: abs, why: 'not a regular file, directory or symlink' });
    else record(abs, st, kind);
  };
  const pace = new FsPace();

  for (const root of opts.roots) {
    if (opts.isSkipped(root)) continue;
    if (opts.isExcluded(root)) {
      skipped.push({ path: root, why: 'excluded' });
      continue;
    }
    let st: Stats;
    try {
      st = lstatSync(root);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new MissingRootError(
        `${root}: ${code === 'ENOENT' ? 'does not exist' : `cannot read (${code})`}`,
      );
    }
    // tar and restic do the same, but an operator who listed a link usually wanted its content.
    if (st.isSymbolicLink())
      skipped.push({
        path: root,
        why: 'is a symlink: archived as a link, its target is not backed up (list the target)',
      });
    if (!st.isDirectory()) {
      recordEntry(root, kindOfStats(st), st);
      continue;
    }
    await walk(root, {
      signal: opts.signal,
      pace,
      sorted: true,
      crossMounts: true,
      include: (dir, name) => {
        const abs = join(dir.path, name);
        return !opts.isSkipped(abs) && !opts.isExcluded(abs);
      },
      enter: (parent, entry) => {
        const abs = parent ? join(parent.path, entry.name) : root;
        if (seen.has(abs)) return undefined;
        seen.add(abs);
        record(abs, entry.stats, 'dir');
        return {};
      },
      onEntries: (dir, list) => {
        for (const e of list) recordEntry(join(dir.path, e.name), e.kind, e.stats);
      },
      onProblem: (p) => {
        skipped.push({
          path: p.path,
          why:
            p.kind === 'unreadable'
              ? `cannot list: ${p.code}`
              : 'changed while the walk reached it (replaced by a link?)',
        });
      },
    });
  }
  return { entries, bytes, skipped };
}
