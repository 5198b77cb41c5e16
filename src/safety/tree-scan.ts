/**
 * Walks the paths of a rollback point (files, directories, globs) without following symlinks:
 * a link is recorded as a link. `.git` directories are left out (the git state is recorded on its
 * own, and restoring git's internals file by file would corrupt a repository), and so is the
 * state dir. The same walk at restore time finds what was created after the point.
 */
import type { Stats } from 'node:fs';
import { lstat, readlink, realpath } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve, sep } from 'node:path';
import { isDynamicPattern } from 'tinyglobby';
import { FsPace } from '../os/fs-pace.js';
import { kindOfStats, walkTree, type EntryKind } from '../os/tree-walk.js';
import { globFrom, linksMatching, walkRoot } from './expand-paths.js';
import type { PathGuard } from './path-guard.js';
import { RollbackError } from './rollback-error.js';
import type { PointPattern } from './rollback-manifest.js';

export interface ScannedPath {
  readonly path: string;
  readonly kind: 'file' | 'dir' | 'symlink' | 'absent' | 'other';
  readonly stats?: Stats;
  readonly target?: string;
  /** The pattern's anchor this path was found under. */
  readonly anchor: string;
}

/** The longest leading part of a glob without glob characters: every match lives under it. */
export function globBase(pattern: string): string {
  const parts = pattern.split(sep);
  const fixed: string[] = [];
  for (const part of parts) {
    if (isDynamicPattern(part)) break;
    fixed.push(part);
  }
  return fixed.join(sep) || sep;
}

/**
 * Absolute patterns and the directory each one's matches live under (the anchor), with where that
 * directory really is now: a restore refuses to write where the real location has moved since.
 * Throws UnsafePathError for `/`, the home directory and the state dir.
 */
export async function toPatterns(
  paths: readonly string[],
  baseDir: string,
  guard: PathGuard,
): Promise<PointPattern[]> {
  const out = new Map<string, PointPattern>();
  for (const p of paths) {
    const pattern = isAbsolute(p) ? resolve(p) : resolve(baseDir, p);
    const dynamic = isDynamicPattern(pattern);
    const root = dynamic ? globBase(pattern) : pattern;
    guard.assertRoot(root, `rollback path ${p}`);
    const anchor = dynamic || (await lstatOrUndefined(pattern))?.isDirectory() ? root : dirname(pattern);
    out.set(pattern, { pattern, anchor, realAnchor: await realpathOrNull(anchor) });
  }
  return [...out.values()];
}

async function realpathOrNull(path: string): Promise<string | null> {
  try {
    return await realpath(path);
  } catch {
    return null;
  }
}

async function lstatOrUndefined(path: string): Promise<Stats | undefined> {
  try {
    return await lstat(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw err;
  }
}

/** `join` for a walk's real, normalized directory and a name from its listing, without normalizing. */
function childPath(dir: string, name: string): string {
  return dir.endsWith(sep) ? dir + name : dir + sep + name;
}

/** Everything under the patterns now, keyed by absolute path. */
export async function scanPatterns(
  patterns: readonly PointPattern[],
  guard: PathGuard,
  signal?: AbortSignal,
): Promise<Map<string, ScannedPath>> {
  const found = new Map<string, ScannedPath>();
  const pace = new FsPace();

  const record = async (path: string, kind: EntryKind, stats: Stats, anchor: string): Promise<void> => {
    if (kind === 'symlink') found.set(path, { path, kind, stats, target: await readlink(path), anchor });
    // Sockets, FIFOs and devices cannot be copied; they are listed so a restore leaves them be.
    else found.set(path, { path, kind: kind === 'special' ? 'other' : kind, stats, anchor });
  };

  const visit = async (path: string, anchor: string, explicit: boolean): Promise<void> => {
    signal?.throwIfAborted();
    if (found.has(path) || guard.isProtected(path)) return;
    const stats = await lstatOrUndefined(path);
    if (!stats) {
      if (explicit) found.set(path, { path, kind: 'absent', anchor });
      return;
    }
    if (!stats.isDirectory()) {
      await record(path, kindOfStats(stats), stats, anchor);
      return;
    }
    await walkTree(path, {
      signal,
      pace,
      sorted: true,
      crossMounts: true,
      // Per entry only what must be: its path and whether an earlier pattern found it. A
      // directory the walk is in is not protected (it was let in), so a child of it is only when
      // it is the state dir itself: a directory, or a link to one — never a regular file.
      include: (dir, name, _rel, kind) => {
        if (name === '.git') return false;
        const child = childPath(dir.path, name);
        return !found.has(child) && (kind === 'file' || !guard.isProtected(child));
      },
      enter: (parent, entry) => {
        const dir = parent ? join(parent.path, entry.name) : path;
        if (parent && found.has(dir)) return undefined;
        found.set(dir, { path: dir, kind: 'dir', stats: entry.stats, anchor });
        return {};
      },
      onEntries: async (dir, entries) => {
        for (const e of entries) {
          const child = childPath(dir.path, e.name);
          if (e.kind === 'symlink') await record(child, e.kind, e.stats, anchor);
          else
            found.set(child, {
              path: child,
              kind: e.kind === 'special' ? 'other' : e.kind,
              stats: e.stats,
              anchor,
            });
        }
      },
      onProblem: (p) => {
        // A point that silently missed part of its paths would restore them wrong.
        throw new RollbackError(`cannot take a rollback point: ${p.message}`);
      },
    });
  };

  for (const { pattern, anchor } of patterns) {
    if (!isDynamicPattern(pattern)) {
      await visit(pattern, anchor, true);
      continue;
    }
    const matches = await globFrom(pattern, { onlyFiles: false, ignore: ['**/.git/**', '**/.git'] });
    // The glob leaves links out; a point records them as links (restored as links, never followed).
    const w = walkRoot(pattern, sep);
    const links = await linksMatching(w.dir, w.glob!);
    for (const m of [...new Set([...matches, ...links])].sort()) await visit(m, anchor, false);
  }
  return found;
}
