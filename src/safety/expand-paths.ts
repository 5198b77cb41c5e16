/**
 * Turns the `paths:` of a file action (files, directories, globs; relative to the config file)
 * into absolute matches, without following symlinks to directories.
 */
import picomatch from 'picomatch';
import { glob, isDynamicPattern } from 'tinyglobby';
import { isAbsolute, resolve } from 'node:path';

export interface ExpandOptions {
  /** Directory relative patterns resolve against (the config file's directory). */
  readonly baseDir: string;
  /** Match directories too (default: files only). */
  readonly directories?: boolean;
  /** Glob patterns to leave out (matched against the absolute path). */
  readonly ignore?: readonly string[];
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
    const matches = await glob(abs, {
      absolute: true,
      onlyFiles: !opts.directories,
      followSymbolicLinks: false,
      dot: true,
      ignore: opts.ignore ? [...opts.ignore] : undefined,
      expandDirectories: false,
    });
    for (const m of matches) out.add(resolve(m));
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
