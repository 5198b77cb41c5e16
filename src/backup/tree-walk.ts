/**
 * Collects what a backup will contain: the configured roots and everything below them, without
 * following symlinks (a link is archived as a link, as tar does), skipping excluded paths,
 * caretaker's own state dir, the backup destination and special files.
 */
import { lstatSync, readdirSync, type Stats } from 'node:fs';
import { join } from 'node:path';

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

function typeOf(st: Stats): TreeEntry['type'] | undefined {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'dir';
  if (st.isSymbolicLink()) return 'symlink';
  return undefined;
}

export async function walkTree(opts: WalkOptions): Promise<WalkResult> {
  const entries: TreeEntry[] = [];
  const skipped: { path: string; why: string }[] = [];
  const seen = new Set<string>();
  let bytes = 0;
  let lastYield = performance.now();

  const visit = async (abs: string, st: Stats): Promise<void> => {
    if (seen.has(abs)) return;
    seen.add(abs);
    const type = typeOf(st);
    if (!type) {
      skipped.push({ path: abs, why: 'not a regular file, directory or symlink' });
      return;
    }
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
    if (type !== 'dir') return;
    let names: string[];
    try {
      names = readdirSync(abs);
    } catch (err) {
      skipped.push({ path: abs, why: `cannot list: ${(err as NodeJS.ErrnoException).code ?? String(err)}` });
      return;
    }
    names.sort();
    for (const name of names) {
      const child = join(abs, name);
      if (opts.isSkipped(child) || opts.isExcluded(child)) continue;
      let cst: Stats;
      try {
        cst = lstatSync(child);
      } catch {
        continue; // removed since the listing: nothing to back up
      }
      // Keep a daemon responsive (and abortable) during a walk of a million files.
      if (performance.now() - lastYield > 20) {
        await new Promise((r) => setImmediate(r));
        lastYield = performance.now();
        opts.signal?.throwIfAborted();
      }
      await visit(child, cst);
    }
  };

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
    await visit(root, st);
  }
  return { entries, bytes, skipped };
}
