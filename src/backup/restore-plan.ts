/**
 * Decides, before a single byte is written, whether a restore is safe: every path relative and
 * free of `..`, no entry below a symlink (in the archive or already on disk) — the restore never
 * writes through a link, which is what tar-slip needs — and nothing overwritten without --force.
 * A link is data: one pointing outside the target (`/etc/hostname`, `../shared`) is restored as
 * the link it was, never followed; it is refused only when later entries would be written through
 * it. Any refusal refuses the whole restore.
 */
import { lstatSync, readlinkSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import picomatch from 'picomatch';
import type { ManifestEntry } from './manifest.js';
import { MANIFEST_NAME } from './manifest.js';

export interface Refusal {
  readonly path: string;
  readonly why: string;
}

export class RestoreRefusedError extends Error {
  override name = 'RestoreRefusedError';
  constructor(
    message: string,
    readonly refusals: readonly Refusal[],
  ) {
    super(message);
  }
}

export interface PlannedEntry extends ManifestEntry {
  /** Absolute destination. */
  readonly dest: string;
  /** An existing file or link will be replaced (--force). */
  readonly replaces: boolean;
}

export interface RestorePlan {
  /** The real path of the target directory (it may not exist yet). */
  readonly root: string;
  /** Entries to restore, keyed by archive path. */
  readonly entries: ReadonlyMap<string, PlannedEntry>;
  /** Links left out by --skip-external-links. */
  readonly skipped: readonly Refusal[];
  /** Links restored as links although they point outside the target (never followed). */
  readonly externalLinks: readonly { readonly path: string; readonly target: string }[];
}

export interface PlanOptions {
  /** Real path of the target directory. */
  readonly root: string;
  readonly only?: string;
  readonly force: boolean;
  readonly skipExternalLinks?: boolean;
}

/** Why an archive path may never be written, or undefined when it is a plain relative path. */
export function unsafePathReason(path: string): string | undefined {
  if (path === '' || path === '.') return 'empty path';
  if (path.includes('\0')) return 'path contains a NUL byte';
  if (path.startsWith('/')) return 'absolute path';
  // Checked on the whole string (no split) because it runs for every entry of every restore.
  const wrapped = `/${path}/`;
  if (wrapped.includes('/../')) return 'path contains ..';
  if (wrapped.includes('//') || wrapped.includes('/./'))
    return 'path is not normalized (empty or . component)';
  return undefined;
}

function ancestors(path: string): string[] {
  const parts = path.split('/');
  const out: string[] = [];
  for (let i = 1; i < parts.length; i++) out.push(parts.slice(0, i).join('/'));
  return out;
}

/**
 * Does `target`, a link at `linkPath`, resolve outside the root? Resolved component by
 * component through the archive's own links and the links already on disk (a lexical check
 * alone is fooled by `a -> .` followed by `a/x/../..`).
 */
export function linkEscapes(
  linkPath: string,
  target: string,
  lookup: (rel: string) => string | undefined,
): boolean {
  if (target.startsWith('/')) return true;
  const stack = linkPath.split('/').slice(0, -1);
  const pending = target.split('/');
  let hops = 0;
  while (pending.length > 0) {
    const c = pending.shift()!;
    if (c === '' || c === '.') continue;
    if (c === '..') {
      if (stack.length === 0) return true;
      stack.pop();
      continue;
    }
    stack.push(c);
    const next = lookup(stack.join('/'));
    if (next === undefined) continue;
    if (++hops > 40 || next.startsWith('/')) return true; // a loop, or absolute: not provably inside
    stack.pop();
    pending.unshift(...next.split('/'));
  }
  return false;
}

function lstatOrUndefined(p: string): Stats | undefined {
  try {
    return lstatSync(p);
  } catch {
    return undefined;
  }
}

export function planRestore(manifest: readonly ManifestEntry[], o: PlanOptions): RestorePlan {
  const refusals: Refusal[] = [];
  const skipped: Refusal[] = [];
  const byPath = new Map<string, ManifestEntry>();
  for (const e of manifest) {
    const why = unsafePathReason(e.path);
    if (why) refusals.push({ path: e.path, why });
    else if (e.path === MANIFEST_NAME)
      refusals.push({ path: e.path, why: 'an entry may not be named like the manifest' });
    else if (byPath.has(e.path)) refusals.push({ path: e.path, why: 'appears twice in the manifest' });
    else byPath.set(e.path, e);
  }

  // Selection: entries matching --only, or inside a directory that matches, plus their parents.
  let selected = [...byPath.values()];
  if (o.only !== undefined) {
    const match = picomatch(o.only, { dot: true });
    const hit = (p: string) => match(p) || ancestors(p).some((a) => match(a));
    const chosen = new Set(selected.filter((e) => hit(e.path)).map((e) => e.path));
    for (const p of [...chosen]) for (const a of ancestors(p)) if (byPath.has(a)) chosen.add(a);
    selected = selected.filter((e) => chosen.has(e.path));
    if (selected.length === 0)
      throw new RestoreRefusedError(`--only ${o.only} matches nothing in the archive`, []);
  }

  const links = new Map(manifest.filter((e) => e.type === 'symlink').map((e) => [e.path, e.target ?? '']));
  const lookup = (rel: string): string | undefined => {
    if (links.has(rel)) return links.get(rel);
    if (byPath.has(rel)) return undefined;
    const st = lstatOrUndefined(join(o.root, rel));
    return st?.isSymbolicLink() ? readlinkSync(join(o.root, rel)) : undefined;
  };

  // What is on disk already, from the top: never write through a link, never merge into a file.
  // Memoized per directory, so a restore of 100,000 files costs one lstat per directory.
  const dirState = new Map<string, string>(); // 'dir' | 'missing' | why it blocks
  const diskDir = (rel: string): string => {
    const known = dirState.get(rel);
    if (known !== undefined) return known;
    const slash = rel.lastIndexOf('/');
    const parent = slash < 0 ? 'dir' : diskDir(rel.slice(0, slash));
    let state: string;
    if (parent !== 'dir') state = parent;
    else {
      const st = lstatOrUndefined(`${o.root}/${rel}`);
      if (!st) state = 'missing';
      else if (st.isSymbolicLink()) state = `${rel} is a symlink on disk; refusing to restore through it`;
      else if (!st.isDirectory()) state = `${rel} exists on disk and is not a directory`;
      else state = 'dir';
    }
    dirState.set(rel, state);
    return state;
  };
  const linkAbove = (path: string): string | undefined => {
    if (links.size === 0) return undefined;
    for (let i = path.indexOf('/'); i >= 0; i = path.indexOf('/', i + 1)) {
      const a = path.slice(0, i);
      if (links.has(a)) return a;
    }
    return undefined;
  };

  // Links that selected entries lie below: restoring those entries would write through them.
  const linkedThrough = new Set<string>();
  for (const e of selected) {
    const through = linkAbove(e.path);
    if (through) linkedThrough.add(through);
  }
  const externalLinks: { path: string; target: string }[] = [];
  const entries = new Map<string, PlannedEntry>();
  for (const e of selected) {
    const through = linkAbove(e.path);
    if (through) {
      refusals.push({ path: e.path, why: `lies below the symlink ${through} in the archive` });
      continue;
    }
    if (e.type === 'symlink' && linkEscapes(e.path, e.target ?? '', lookup)) {
      if (linkedThrough.has(e.path)) {
        refusals.push({
          path: e.path,
          why: `symlink to ${e.target} points outside the target directory, and entries below it would be written through it`,
        });
        continue;
      }
      if (o.skipExternalLinks) {
        skipped.push({ path: e.path, why: `symlink to ${e.target} points outside the target directory` });
        continue;
      }
      externalLinks.push({ path: e.path, target: e.target ?? '' });
    }
    const slash = e.path.lastIndexOf('/');
    const parent = slash < 0 ? 'dir' : diskDir(e.path.slice(0, slash));
    if (parent !== 'dir' && parent !== 'missing') {
      refusals.push({ path: e.path, why: parent });
      continue;
    }
    const dest = `${o.root}/${e.path}`;
    const existing = parent === 'missing' ? undefined : lstatOrUndefined(dest);
    let replaces = false;
    if (existing) {
      if (e.type === 'dir') {
        if (!existing.isDirectory())
          refusals.push({ path: e.path, why: 'exists on disk and is not a directory' });
      } else if (existing.isDirectory())
        refusals.push({ path: e.path, why: 'exists on disk as a directory' });
      else if (!o.force) refusals.push({ path: e.path, why: 'exists (use --force to overwrite)' });
      else replaces = true;
    }
    if (e.type === 'dir' && existing?.isDirectory()) dirState.set(e.path, 'dir');
    else if (e.type === 'dir' && !existing) dirState.set(e.path, 'missing');
    entries.set(e.path, { ...e, dest, replaces });
  }
  if (refusals.length > 0) {
    const shown = refusals.slice(0, 5).map((r) => `${r.path}: ${r.why}`);
    if (refusals.length > 5) shown.push(`… and ${refusals.length - 5} more`);
    throw new RestoreRefusedError(
      `refusing to restore; nothing was written:\n  ${shown.join('\n  ')}`,
      refusals,
    );
  }
  return { root: o.root, entries, skipped, externalLinks };
}
