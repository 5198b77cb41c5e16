/**
 * Finding the reports a run wrote. Report files from an earlier run often stay behind (a runner
 * that now crashes before writing, a renamed suite), and reading them as this run's would report
 * stale results as current. So the files the globs match are stamped (mtime, size, inode) before
 * the command starts, and afterwards only files that are new or whose stamp changed count. Nothing
 * is deleted: the reports belong to the project.
 */
import { mkdir, stat } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { glob, isDynamicPattern } from 'tinyglobby';

export type Stamps = ReadonlyMap<string, string>;

async function stampOf(path: string): Promise<string | undefined> {
  try {
    const s = await stat(path);
    return `${s.mtimeMs}:${s.size}:${s.ino}`;
  } catch {
    return undefined;
  }
}

export async function matchFiles(cwd: string, patterns: readonly string[]): Promise<string[]> {
  const files = await glob([...patterns], { cwd, absolute: true, onlyFiles: true, dot: true });
  return files.sort();
}

export async function stampFiles(cwd: string, patterns: readonly string[]): Promise<Stamps> {
  const out = new Map<string, string>();
  for (const f of await matchFiles(cwd, patterns)) {
    const s = await stampOf(f);
    if (s !== undefined) out.set(f, s);
  }
  return out;
}

/** Files matching now, split into those this run wrote and those left from before. */
export async function freshFiles(
  cwd: string,
  patterns: readonly string[],
  before: Stamps,
): Promise<{ fresh: string[]; stale: string[] }> {
  const fresh: string[] = [];
  const stale: string[] = [];
  for (const f of await matchFiles(cwd, patterns)) {
    const s = await stampOf(f);
    if (s === undefined) continue;
    (before.get(f) === s ? stale : fresh).push(f);
  }
  return { fresh, stale };
}

/** The directory a pattern's files live under: its segments before the first wildcard. */
export function staticBase(cwd: string, pattern: string): string {
  const abs = isAbsolute(pattern) ? pattern : resolve(cwd, pattern);
  if (!isDynamicPattern(pattern)) return dirname(abs);
  const parts = abs.split('/');
  const i = parts.findIndex((p) => isDynamicPattern(p));
  return parts.slice(0, i).join('/') || '/';
}

/** node's JUnit reporter does not create its destination's directory: make it beforehand. */
export async function ensureBases(cwd: string, patterns: readonly string[]): Promise<string[]> {
  const made: string[] = [];
  for (const p of patterns) {
    const dir = staticBase(cwd, p);
    const created = await mkdir(dir, { recursive: true });
    if (created !== undefined) made.push(dir);
  }
  return made;
}
