/**
 * Turns the `paths:` of a file action (files, directories, globs; relative to the config file)
 * into absolute matches, without following symlinks to directories.
 */
import type { Dirent } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { isAbsolute, join, resolve, sep } from 'node:path';
import picomatch from 'picomatch';
import { glob, isDynamicPattern } from 'tinyglobby';

export interface ExpandOptions {
  /** Directory relative patterns resolve against (the config file's directory). */
  readonly baseDir: string;
  /** Match directories too (default: files only). */
  readonly directories?: boolean;
  /**
   * Called with each symbolic link a glob matches: links are never followed nor returned, and a
   * file action should say which ones it left out rather than skip them silently.
   */
  readonly onLink?: (path: string) => void;
}

/**
 * The matches of an absolute glob, crawled from its fixed directory part. Globbing from there
 * (not from the process's working directory, tinyglobby's default) keeps the result the same
 * wherever caretaker was started — a root reached through a linked directory was found from one
 * working directory and not from another.
 */
export async function globFrom(
  absPattern: string,
  o: { onlyFiles: boolean; ignore?: readonly string[] },
): Promise<string[]> {
  const w = walkRoot(absPattern, sep);
  if (w.glob === undefined) return [w.dir];
  const found = await glob(w.glob, {
    cwd: w.dir,
    absolute: true,
    onlyFiles: o.onlyFiles,
    followSymbolicLinks: false,
    dot: true,
    ignore: o.ignore ? [...o.ignore] : undefined,
    expandDirectories: false,
  });
  return found.map((m) => resolve(m));
}

/** Symbolic links below `dir` (never followed) whose path relative to it matches `globPart`. */
export async function linksMatching(dir: string, globPart: string): Promise<string[]> {
  const match = picomatch(globPart, { dot: true });
  const depth = globPart.includes('**') ? Infinity : globPart.split('/').length;
  const out: string[] = [];
  const walk = async (abs: string, rel: string, level: number): Promise<void> => {
    let entries: Dirent[];
    try {
      entries = await readdir(abs, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isSymbolicLink()) {
        if (match(r)) out.push(join(abs, e.name));
      } else if (e.isDirectory() && level + 1 < depth) await walk(join(abs, e.name), r, level + 1);
    }
  };
  await walk(dir, '', 0);
  return out.sort();
}

/** Absolute, sorted, de-duplicated matches. A plain path (no glob) is returned as is. */
export async function expandPaths(patterns: readonly string[], opts: ExpandOptions): Promise<string[]> {
  const out = new Set<string>();
  for (const pattern of patterns) {
    const abs = isAbsolute(pattern) ? pattern : resolve(opts.baseDir, pattern);
    if (!isDynamicPattern(pattern)) {
      out.add(abs);
      continue;
    }
    for (const m of await globFrom(abs, { onlyFiles: !opts.directories })) out.add(m);
    if (opts.onLink) {
      const w = walkRoot(abs, sep);
      for (const l of await linksMatching(w.dir, w.glob!)) opts.onLink(l);
    }
  }
  return [...out].sort();
}

/** Where a walk over one `paths:` entry starts, and what it selects below that directory. */
export interface WalkRoot {
  /** The entry as written in the config. */
  readonly pattern: string;
  /** Absolute directory the walk starts from: the pattern's static part (not yet through symlinks). */
  readonly dir: string;
  /** Glob relative to `dir` (posix separators); undefined when the entry names `dir` itself. */
  readonly glob: string | undefined;
}

/**
 * Splits a `paths:` entry into the directory a streaming walk starts from and the glob it
 * matches below it (`cache/**\/*.tmp` → `cache` + `**\/*.tmp`). Unlike `expandPaths`, nothing is
 * listed here, so a tree of a million files is never held as a list of matches.
 */
export function walkRoot(pattern: string, baseDir: string): WalkRoot {
  const abs = isAbsolute(pattern) ? pattern : resolve(baseDir, pattern);
  if (!isDynamicPattern(pattern)) return { pattern, dir: resolve(abs), glob: undefined };
  const scanned = picomatch.scan(abs);
  // The static base keeps the pattern's escapes (`a\*b`): they name literal characters.
  const dir = resolve(scanned.base.replace(/\\(.)/g, '$1') || '/');
  return { pattern, dir, glob: scanned.glob || undefined };
}
