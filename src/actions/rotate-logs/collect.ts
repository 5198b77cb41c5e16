/**
 * Finds the logs a task rotates and what already lies next to them, inside the rules of
 * src/safety: a root is where a path's first glob begins (a plain path's directory); a log must be
 * a regular file reached without a symlink below its root; the state dir is never touched.
 */
import type { Dirent, Stats } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve, sep } from 'node:path';
import { isDynamicPattern } from 'tinyglobby';
import { expandPaths } from '../../safety/expand-paths.js';
import type { PathGuard } from '../../safety/path-guard.js';
import { dateRegexSource, hasDatePlaceholders, LogNames } from './naming.js';
import type { Entry, Listing } from './plan-log.js';
import type { ResolvedRotate } from './schema.js';

export interface Candidate {
  readonly log: string;
  readonly root: string;
  readonly entry: Entry;
}

export interface Collected {
  readonly logs: Candidate[];
  readonly warnings: string[];
  /** Matches left out on purpose (generations of another matched log, our own temp files). */
  readonly ignored: string[];
}

/** The directory where a pattern's first glob segment begins. */
export function rootOf(absPattern: string): string {
  if (!isDynamicPattern(absPattern)) return dirname(absPattern);
  const parts = absPattern.split(sep);
  const fixed: string[] = [];
  for (const p of parts) {
    if (isDynamicPattern(p)) break;
    fixed.push(p);
  }
  return fixed.join(sep) || sep;
}

export function toEntry(path: string, st: Stats): Entry {
  return {
    path,
    ino: st.ino,
    size: st.size,
    mtimeMs: st.mtimeMs,
    isFile: st.isFile(),
    isSymlink: st.isSymbolicLink(),
  };
}

const OURS = /\.caretaker-(tmp|new)$/;

export async function collectLogs(
  opts: ResolvedRotate,
  baseDir: string,
  guard: PathGuard,
): Promise<Collected> {
  const warnings: string[] = [];
  const ignored: string[] = [];
  const found = new Map<string, Candidate>();
  for (const [i, pattern] of opts.paths.entries()) {
    const abs = isAbsolute(pattern) ? pattern : resolve(baseDir, pattern);
    const root = rootOf(abs);
    guard.assertRoot(root, `paths[${i}] (${pattern})`);
    const links: string[] = [];
    const matches = await expandPaths([abs], { baseDir, onLink: (l) => links.push(l) });
    for (const l of links)
      warnings.push(`${l} is a symbolic link: not rotated (links are never followed; name its target)`);
    if (matches.length === 0 && links.length === 0 && !opts.missingok)
      warnings.push(`${pattern}: no log matches`);
    for (const m of matches) {
      if (found.has(m)) continue;
      let st;
      try {
        st = await lstat(m);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        if (!opts.missingok) warnings.push(`${m}: no such log`);
        continue;
      }
      if (OURS.test(m)) {
        ignored.push(m);
        continue;
      }
      if (st.isSymbolicLink()) {
        warnings.push(`${m} is a symbolic link: not rotated (links are never followed)`);
        continue;
      }
      if (!st.isFile()) {
        warnings.push(`${m} is not a regular file: not rotated`);
        continue;
      }
      if (guard.isProtected(m)) {
        warnings.push(`${m} is inside caretaker's state dir: not rotated`);
        continue;
      }
      const real = await guard.realInside(m, root);
      if (!real) {
        warnings.push(`${m} leads outside ${root} through a symbolic link: not rotated`);
        continue;
      }
      // Reached through a linked directory (logs -> /data/logs): rotated where it really is, so
      // every step (olddir, generations, temp files) works in a real directory, never via the link.
      if (found.has(real)) continue;
      found.set(real, { log: real, root, entry: toEntry(real, st) });
    }
  }
  // `logs/*` also matches app.log.1 and app.log-20261124.gz: rotating those would make
  // app.log.1.1 (logrotate's well-known trap). Generations of a matched log are left out.
  const logs = [...found.values()];
  const generation = (name: string) =>
    logs.some((c) => {
      if (c.log === name || dirname(c.log) !== dirname(name)) return false;
      const rest = name.slice(c.log.length);
      return name.startsWith(c.log) && (/^\.\d+(\.gz)?$/.test(rest) || /^[-_.]\d[\d-_]*(\.gz)?$/.test(rest));
    });
  const kept = logs.filter((c) => {
    if (generation(c.log)) {
      ignored.push(c.log);
      return false;
    }
    return true;
  });
  return { logs: kept, warnings, ignored };
}

/** Dated olddirs (archive/%Y/%m): every existing directory the template matches. */
async function olddirsMatching(template: string): Promise<string[]> {
  const parts = template.split(sep);
  let dirs = [parts[0] === '' ? sep : parts[0]!];
  for (const part of parts.slice(1)) {
    if (part === '') continue;
    if (!hasDatePlaceholders(part)) {
      dirs = dirs.map((d) => join(d, part));
      continue;
    }
    const re = new RegExp(`^${dateRegexSource(part)}$`);
    const next: string[] = [];
    for (const d of dirs) {
      let entries: Dirent[];
      try {
        entries = await readdir(d, { withFileTypes: true });
      } catch {
        continue;
      }
      // Only real directories: a link named like a month is not followed.
      for (const e of entries) if (e.isDirectory() && re.test(e.name)) next.push(join(d, e.name));
    }
    dirs = next;
  }
  return dirs;
}

/** The directories a log's generations live in (the current one first). */
export async function generationDirs(log: string, opts: ResolvedRotate, now: number): Promise<string[]> {
  const current = LogNames.olddirFor(log, opts.olddir, now);
  if (opts.olddir === undefined || !hasDatePlaceholders(opts.olddir)) return [current];
  const all = await olddirsMatching(LogNames.olddirTemplate(log, opts.olddir));
  return [current, ...all.filter((d) => d !== current)];
}

/** Everything in those directories whose name starts like the log's generations. */
export async function listGenerations(dirs: readonly string[], stem: string): Promise<Listing> {
  const out = new Map<string, Entry>();
  for (const dir of dirs) {
    let names: string[];
    try {
      names = await readdir(dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw err;
    }
    for (const name of names) {
      if (!name.startsWith(stem)) continue;
      const p = join(dir, name);
      try {
        out.set(p, toEntry(p, await lstat(p)));
      } catch {
        // vanished between readdir and lstat
      }
    }
  }
  return out;
}
