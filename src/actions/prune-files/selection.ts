/**
 * From `paths` / `include` / `exclude` to the roots a prune walks and the questions the walk asks
 * (enter this directory? select this file?). Entries are grouped by the real directory they start
 * from, so a directory named twice is walked once; a root inside another root is left to its own
 * walk; the state dir and the archive are never entered.
 */
import { lstat, readlink } from 'node:fs/promises';
import { basename, dirname, relative } from 'node:path';
import picomatch from 'picomatch';
import { walkRoot } from '../../safety/expand-paths.js';
import { isWithin, type PathGuard } from '../../safety/path-guard.js';
import type { DirVisit } from './tree-walk.js';

type Match = (rel: string) => boolean;

export interface PruneRoot {
  /** Real, absolute directory the walk starts from. */
  readonly dir: string;
  /** The `paths` entries that start here, as written. */
  readonly patterns: string[];
  /** Undefined: everything below `dir` is selected. Otherwise any of these selects a path. */
  globs: Match[] | undefined;
  /** Deepest directory level a glob can still match below (Infinity with `**` or no glob). */
  maxDepth: number;
}

export interface Selection {
  readonly roots: PruneRoot[];
  /** Entries whose directory does not exist (a warning, not an error: caches come and go). */
  readonly missing: string[];
  /** Entries left out for a reason the user should see. */
  readonly notes: string[];
  enter(root: PruneRoot, parent: DirVisit, name: string, rel: string): { enter: boolean; inScope: boolean };
  selects(root: PruneRoot, dir: DirVisit, name: string, rel: string): boolean;
}

export interface SelectionInput {
  readonly paths: readonly string[];
  readonly include?: readonly string[];
  readonly exclude?: readonly string[];
  readonly baseDir: string;
  readonly guard: PathGuard;
  /** Real path of the archive directory, never entered. */
  readonly archiveDir?: string;
}

const PM = { dot: true } as const;

/** A pattern without a slash matches the file name at any depth, as in .gitignore. */
function nameOrPath(patterns: readonly string[]): Match {
  const ms = patterns.map((p) => picomatch(p, { ...PM, basename: !p.includes('/') }));
  return (rel) => ms.some((m) => m(rel));
}

function globDepth(glob: string): number {
  return glob.includes('**') ? Infinity : glob.split('/').length;
}

export async function buildSelection(input: SelectionInput): Promise<Selection> {
  const byDir = new Map<string, PruneRoot>();
  const missing: string[] = [];
  const notes: string[] = [];
  for (const [i, pattern] of input.paths.entries()) {
    const what = `paths[${i}] (${pattern})`;
    const w = walkRoot(pattern, input.baseDir);
    let start = w.dir;
    let glob: Match | undefined;
    let depth = Infinity;
    const st = await lstat(start).catch(() => undefined);
    if (st?.isSymbolicLink()) {
      // Following it would prune wherever it points (outside the tree); config load refuses it too,
      // this catches a link made since. A link to /, the home or the state dir still fails the run.
      await input.guard.resolveRoot(start, what);
      const to = await readlink(start).catch(() => '?');
      notes.push(
        `${what}: ${start} is a symbolic link (to ${to}); a link named as a root is not followed; skipped`,
      );
      continue;
    }
    if (w.glob !== undefined) {
      glob = picomatch(w.glob, PM);
      depth = globDepth(w.glob);
    } else {
      if (st && !st.isDirectory()) {
        if (!st.isFile()) {
          notes.push(`${what}: not a directory or a regular file; skipped`);
          continue;
        }
        // A single file named as is: its directory is the root and only this name is selected.
        const name = basename(start);
        start = dirname(start);
        glob = (rel) => rel === name;
        depth = 1;
      }
    }
    const dir = await input.guard.resolveRoot(start, what);
    if (dir === undefined) {
      missing.push(pattern);
      continue;
    }
    const root = byDir.get(dir) ?? { dir, patterns: [], globs: [], maxDepth: 0 };
    root.patterns.push(pattern);
    if (glob === undefined || root.globs === undefined) root.globs = undefined;
    else root.globs.push(glob);
    root.maxDepth = Math.max(root.maxDepth, depth);
    byDir.set(dir, root);
  }
  const roots = [...byDir.values()];
  const include = input.include?.length ? nameOrPath(input.include) : undefined;
  const exclude = input.exclude?.length ? nameOrPath(input.exclude) : undefined;
  const otherRoots = (root: PruneRoot) => roots.filter((r) => r !== root && isWithin(r.dir, root.dir));

  const nested = new Map(roots.map((r) => [r, new Set(otherRoots(r).map((o) => o.dir))]));
  return {
    roots,
    missing,
    notes,
    enter(root, parent, name, rel) {
      const path = `${parent.path}/${name}`;
      const no = { enter: false, inScope: false };
      if (input.guard.isProtected(path)) return no;
      if (input.archiveDir !== undefined && isWithin(path, input.archiveDir)) return no;
      if (nested.get(root)!.has(path)) return no;
      if (exclude?.(rel)) return no;
      if (parent.inScope || root.globs === undefined) return { enter: true, inScope: true };
      if (root.globs.some((g) => g(rel))) return { enter: true, inScope: true };
      return { enter: parent.depth + 1 < root.maxDepth, inScope: false };
    },
    selects(root, dir, name, rel) {
      if (!dir.inScope && root.globs !== undefined && !root.globs.some((g) => g(rel))) return false;
      if (include && !include(rel)) return false;
      if (exclude?.(rel)) return false;
      return true;
    },
  };
}

/** Where an archived file of `root` goes: the root's path below the config dir, or its absolute path. */
export function archiveLabel(rootDir: string, baseDir: string): string {
  const rel = relative(baseDir, rootDir);
  if (rel === '') return '';
  if (!rel.startsWith('..') && !rel.startsWith('/')) return rel;
  return rootDir.replace(/^\/+/, '');
}
